//! Command-line arguments of every subcommand, and the connect arguments as an
//! engine config.

use std::time::Duration;

use wsbench_core::config::{Compression, KeyValue, ProxySetting};
use wsbench_core::{ConnectConfig, Error};

#[derive(clap::Args)]
pub struct ConnectArgs {
    /// ws:// or wss:// URL (with --socketio also http:// or https://)
    pub url: String,
    /// Socket.IO mode: talk to a Socket.IO server over the WebSocket transport (no
    /// long-polling). Received events print as `["event", ...args]`, acks as
    /// `{"ack": ID, "args": [...]}`; stdin lines `["event", ...args]` are emitted
    #[arg(long)]
    pub socketio: bool,
    /// The Socket.IO server's major version: 4 (or 3) speak Engine.IO 4, 2 speaks Engine.IO 3
    #[arg(long, value_name = "4|3|2", default_value_t = 4, requires = "socketio")]
    pub sio_version: u8,
    /// The Socket.IO handshake path
    #[arg(long, value_name = "P", requires = "socketio")]
    pub path: Option<String>,
    /// Join this namespace (repeatable; default `/`); --emit goes to the first one
    #[arg(long = "namespace", value_name = "NS", requires = "socketio")]
    pub namespaces: Vec<String>,
    /// Auth payload (a JSON object) sent when joining the namespaces
    #[arg(long, value_name = "JSON", requires = "socketio")]
    pub auth: Option<String>,
    /// Emit EVENT once the namespace is connected (repeatable, in order); JSON is the
    /// argument list if it is an array, else the one argument
    #[arg(long, num_args = 2, value_names = ["EVENT", "JSON"], requires = "socketio")]
    pub emit: Vec<String>,
    /// Ask for an ack on every emit (printed as `{"ack": ID, "args": [...]}`)
    #[arg(long, requires = "socketio")]
    pub ack: bool,
    /// Handshake header, `Name: value` (repeatable)
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Offer this subprotocol (repeatable, in order of preference)
    #[arg(long = "subprotocol", value_name = "P")]
    pub subprotocols: Vec<String>,
    /// Send this text message once connected (repeatable, in order)
    #[arg(long = "send", value_name = "TEXT")]
    pub send: Vec<String>,
    /// Send the --send messages every MS milliseconds (not just once) until the
    /// connection ends; {{$counter}} in them is the round (1, 2, 3, …). Stdin is not read
    #[arg(long, value_name = "MS", requires = "send")]
    pub send_every: Option<u64>,
    /// Send every received data message back with the same opcode until the server closes
    #[arg(long)]
    pub echo: bool,
    /// Exit (closing cleanly) after N received data messages
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Give up after SECS seconds: close and exit with status 3
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Print one JSON object per frame (both directions, control frames included)
    #[arg(long)]
    pub ndjson: bool,
    /// Print binary messages as their bytes, with nothing added (text messages still
    /// print one per line)
    #[arg(long, conflicts_with_all = ["ndjson", "socketio"])]
    pub raw: bool,
    /// Send this Origin header
    #[arg(long)]
    pub origin: Option<String>,
    /// Trust this extra CA certificate (PEM)
    #[arg(long, value_name = "FILE")]
    pub ca: Option<std::path::PathBuf>,
    /// Accept any TLS certificate (insecure)
    #[arg(long, short = 'k')]
    pub insecure: bool,
    /// Go through this proxy: http://, socks5:// or socks5h:// (DNS at the proxy),
    /// user:password@ allowed. Without it, HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and
    /// NO_PROXY apply as in curl
    #[arg(long, value_name = "URL", conflicts_with = "no_proxy")]
    pub proxy: Option<String>,
    /// Connect directly, ignoring the proxy environment variables
    #[arg(long)]
    pub no_proxy: bool,
    /// Do not offer permessage-deflate (offered by default)
    #[arg(long)]
    pub no_deflate: bool,
    /// permessage-deflate: compress with a window of at most 2^BITS bytes (8-15),
    /// offered as client_max_window_bits=BITS
    #[arg(long, value_name = "BITS", conflicts_with = "no_deflate")]
    pub client_max_window_bits: Option<u8>,
    /// permessage-deflate: ask the server to compress with a window of at most 2^BITS bytes (8-15)
    #[arg(long, value_name = "BITS", conflicts_with = "no_deflate")]
    pub server_max_window_bits: Option<u8>,
    /// permessage-deflate: compress each message on its own (no shared context)
    #[arg(long, conflicts_with = "no_deflate")]
    pub client_no_context_takeover: bool,
    /// permessage-deflate: ask the server to compress each message on its own
    #[arg(long, conflicts_with = "no_deflate")]
    pub server_no_context_takeover: bool,
    /// Largest message accepted, in bytes
    #[arg(long, value_name = "BYTES")]
    pub max_message_size: Option<usize>,
    /// Send a keepalive ping every SECS seconds while connected
    #[arg(long, value_name = "SECS")]
    pub ping_every: Option<f64>,
    /// Declare the connection dead (exit 1, "no answer from the server for SECS s") when
    /// nothing arrives for SECS seconds; pair it with --ping-every
    #[arg(long, value_name = "SECS")]
    pub dead_after: Option<f64>,
    /// When the session ends (also after a failure or timeout), write its whole log
    /// to FILE; the format follows the extension: .ndjson, .json, .har, .csv, .txt
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Write Authorization, Cookie and other credentials into --out as they are
    /// (they are replaced with [redacted] by default)
    #[arg(long, requires = "out")]
    pub include_secrets: bool,
}

#[derive(clap::Args)]
pub struct ConvertArgs {
    /// The log to read
    pub input: std::path::PathBuf,
    /// The file to write; its extension picks the format
    pub output: std::path::PathBuf,
    /// Which WebSocket connection of a HAR holding several (1 is the first)
    #[arg(long, value_name = "N")]
    pub connection: Option<usize>,
    /// Keep Authorization, Cookie and other credentials (redacted by default)
    #[arg(long)]
    pub include_secrets: bool,
}

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Echo every message back to its sender (default)
    #[arg(long, conflicts_with = "broadcast")]
    pub echo: bool,
    /// Send every message to every connected client
    #[arg(long, conflicts_with = "socketio")]
    pub broadcast: bool,
    /// A Socket.IO v4 server (WebSocket transport, any path and namespace): every event
    /// goes to the clients joined to its namespace, the sender included; ack requests
    /// are answered with the event's arguments
    #[arg(long, conflicts_with = "echo")]
    pub socketio: bool,
}

/// Seconds as typed (`5`, `0.5`) in milliseconds; anything else is a usage error.
fn secs_ms(setting: &str, t: f64) -> Result<u64, Error> {
    if Duration::try_from_secs_f64(t).is_err() {
        return Err(Error::InvalidTimeout {
            setting: setting.into(),
            value: t.to_string(),
            reason: "not a number of seconds (e.g. 5 or 0.5)".into(),
        });
    }
    Ok((t * 1000.0).min(u64::MAX as f64) as u64)
}

/// Without --out, what the log keeps of frames already printed.
const PRINTED_FRAMES_KEPT: usize = 64;
const PRINTED_BYTES_KEPT: usize = 64 * 1024;

/// The engine config the connect arguments describe; a bad argument is a usage error.
pub fn build_config(a: &ConnectArgs) -> Result<ConnectConfig, Error> {
    let mut c = ConnectConfig::new(a.url.clone());
    for h in &a.headers {
        let (n, v) = h.split_once(':').ok_or_else(|| Error::InvalidHeader {
            name: h.clone(),
            reason: "not in the form 'Name: value'".into(),
        })?;
        c.headers.push(KeyValue::new(n.trim(), v.trim()));
    }
    c.subprotocols = a.subprotocols.clone();
    if a.socketio {
        c.socketio = Some(crate::sio::config(a)?);
    }
    c.origin = a.origin.clone();
    c.tls.ca_file = a.ca.clone();
    c.tls.accept_invalid_certs = a.insecure;
    if let Some(p) = &a.proxy {
        c.proxy = ProxySetting::Url { url: p.clone() };
    } else if a.no_proxy {
        c.proxy = ProxySetting::None;
    }
    c.compression = Compression {
        enabled: !a.no_deflate,
        client_max_window_bits: a.client_max_window_bits,
        server_max_window_bits: a.server_max_window_bits,
        client_no_context_takeover: a.client_no_context_takeover,
        server_no_context_takeover: a.server_no_context_takeover,
    };
    if let Some(m) = a.max_message_size {
        c.limits.max_message_size = m;
        c.limits.max_frame_size = c.limits.max_frame_size.min(m);
    }
    if let Some(t) = a.ping_every {
        c.keepalive.ping_interval_ms = secs_ms("--ping-every", t)?.max(1);
    }
    if let Some(t) = a.dead_after {
        c.keepalive.dead_after_ms = secs_ms("--dead-after", t)?.max(1);
    }
    if let Some(t) = a.timeout {
        if Duration::try_from_secs_f64(t).is_err() {
            return Err(Error::InvalidTimeout {
                setting: "--timeout".into(),
                value: t.to_string(),
                reason: "not a number of seconds (e.g. 5 or 0.5)".into(),
            });
        }
        let ms = (t * 1000.0).min(u64::MAX as f64) as u64;
        c.timeouts.connect_ms = c.timeouts.connect_ms.min(ms.max(1));
        c.timeouts.handshake_ms = c.timeouts.handshake_ms.min(ms.max(1));
    }
    // The CLI prints as it goes: the log only needs what is not printed yet (the
    // printer's read gate keeps that, see `connect`) unless the whole log is written
    // to --out at the end (then the app's caps).
    if a.out.is_none() {
        c.log.max_frames = PRINTED_FRAMES_KEPT;
        c.log.max_bytes = PRINTED_BYTES_KEPT;
    }
    Ok(c)
}
