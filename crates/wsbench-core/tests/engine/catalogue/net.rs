//! Network rows: URLs, name resolution, refused and reset connections, peers that stall,
//! rejected upgrades, TLS failures and protocol violations by the server.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use wsbench_core::{ConnState, ConnectConfig, Direction, LocalServer, Opcode, Outgoing, ServerConfig, SessionManager};

use super::{check, Seen};
use crate::support::*;

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;
/// A raw server's behaviour for one accepted socket.
type Script = fn(TcpStream) -> BoxFut<()>;

/// How a row reaches its input.
pub enum Input {
    /// The URL as typed; no server.
    Url(&'static str),
    /// A raw TCP server (no upgrade done) at `ws://{addr}/`.
    Raw(Script),
    /// A raw server that completes the upgrade, then runs the script on the socket.
    Upgraded(Script),
    /// A plain HTTP server answering the upgrade with this status line and body.
    Http(&'static str, &'static str),
    /// Anything else: builds the config and the servers to keep alive.
    Custom(fn() -> BoxFut<Prepared>),
}

/// After the connection opens: wait for its end, or disconnect first.
#[derive(Clone, Copy, PartialEq)]
pub enum Then {
    Wait,
    Disconnect,
    /// Socket.IO: once `/` is joined, emit an event with an argument of this many
    /// bytes; the row's outcome is the send's error (then the tab is disconnected).
    Emit(usize),
}

pub struct Row {
    pub name: &'static str,
    pub input: Input,
    /// Settings changed for this row (small limits or timeouts).
    pub tweak: fn(&mut ConnectConfig),
    pub then: Then,
    pub kind: &'static str,
    pub message: &'static str,
    /// Socket.IO: a logged frame's decoded view must carry this error (a bad packet
    /// is shown on its frame, and the connection goes on).
    pub note: Option<&'static str>,
}

pub struct Prepared {
    pub config: ConnectConfig,
    pub vars: Vec<(&'static str, String)>,
    pub keep: Vec<Box<dyn Any + Send>>,
}

fn none(_: &mut ConnectConfig) {}
fn small_limits(c: &mut ConnectConfig) {
    c.limits.max_message_size = 1000;
    c.limits.max_frame_size = 1000;
}
fn no_deflate(c: &mut ConnectConfig) {
    c.compression.enabled = false;
}
fn short_handshake(c: &mut ConnectConfig) {
    c.timeouts.handshake_ms = 300;
}

fn row(name: &'static str, input: Input, kind: &'static str, message: &'static str) -> Row {
    Row {
        name,
        input,
        tweak: none,
        then: Then::Wait,
        kind,
        message,
        note: None,
    }
}

fn tweaked(
    name: &'static str,
    input: Input,
    tweak: fn(&mut ConnectConfig),
    kind: &'static str,
    message: &'static str,
) -> Row {
    Row {
        tweak,
        ..row(name, input, kind, message)
    }
}

/// The table. One line per row.
pub fn rows() -> Vec<Row> {
    use Input::*;
    const PROTOCOL: &str = "Closed 1002 by Client";
    vec![
        // --- URLs, refused before anything is dialled
        row("empty URL", Url(""), "InvalidUrl", "invalid URL \"\": the URL is empty"),
        row("blank URL", Url("   "), "InvalidUrl", "invalid URL \"   \": the URL is empty"),
        row("no scheme", Url("localhost:8080/x"), "InvalidUrl", "invalid URL \"localhost:8080/x\": missing scheme; did you mean \"ws://localhost:8080/x\" (or wss:// for TLS)?"),
        row("http scheme", Url("http://example.test/x"), "InvalidUrl", "invalid URL \"http://example.test/x\": http:// is not a WebSocket scheme; use \"ws://example.test/x\""),
        row("https scheme", Url("https://example.test/"), "InvalidUrl", "invalid URL \"https://example.test/\": https:// is not a WebSocket scheme; use \"wss://example.test/\""),
        row("other scheme", Url("ftp://example.test/"), "InvalidUrl", "invalid URL \"ftp://example.test/\": unsupported scheme \"ftp\"; use ws:// or wss://"),
        row("no host", Url("ws://"), "InvalidUrl", "invalid URL \"ws://\": empty host"),
        row("no host, a path", Url("ws:///chat"), "InvalidUrl", "invalid URL \"ws:///chat\": the URL has no host"),
        row("space in host", Url("ws://exa mple.test/"), "InvalidUrl", "invalid URL \"ws://exa mple.test/\": invalid international domain name"),
        row("credentials in URL", Url("ws://user:pw@example.test/"), "InvalidUrl", "invalid URL \"ws://user:pw@example.test/\": credentials in the URL are not sent; use the Basic auth setting instead"),
        row("port 65536", Url("ws://127.0.0.1:65536/"), "InvalidUrl", "invalid URL \"ws://127.0.0.1:65536/\": invalid port number"),
        row("port 99999999", Url("ws://127.0.0.1:99999999/"), "InvalidUrl", "invalid URL \"ws://127.0.0.1:99999999/\": invalid port number"),
        row("negative port", Url("ws://127.0.0.1:-1/"), "InvalidUrl", "invalid URL \"ws://127.0.0.1:-1/\": invalid port number"),
        row("IPv4 octet over 255", Url("ws://256.0.0.1/"), "InvalidUrl", "invalid URL \"ws://256.0.0.1/\": invalid IPv4 address"),
        row("unclosed IPv6 literal", Url("ws://[::1/"), "InvalidUrl", "invalid URL \"ws://[::1/\": invalid IPv6 address"),
        row("bad IPv6 literal", Url("ws://[::g]/"), "InvalidUrl", "invalid URL \"ws://[::g]/\": invalid IPv6 address"),
        row("invalid punycode host", Url("ws://xn--a.invalid/"), "InvalidUrl", "invalid URL \"ws://xn--a.invalid/\": invalid international domain name"),
        // --- resolving and dialling
        row("DNS failure", Url("ws://nothing.invalid/"), "Dns", "could not resolve host \"nothing.invalid\": *"),
        row("IDN host (punycode on the wire)", Url("ws://bücher.invalid/"), "Dns", "could not resolve host \"xn--bcher-kva.invalid\": *"),
        row("refused", Custom(refused_v4), "Refused", "connection refused by 127.0.0.1:{port}"),
        row("refused, IPv6 literal", Custom(refused_v6), "Refused", "connection refused by [::1]:{port}"),
        // --- the upgrade exchange
        row("reset mid-handshake", Raw(reset_after_request), "Io", "I/O error: during the WebSocket handshake: *"),
        row("EOF before the response", Raw(eof_after_request), "Handshake", "WebSocket handshake failed: *"),
        row("not HTTP at all", Raw(ssh_banner), "Handshake", "WebSocket handshake failed: *"),
        tweaked("server never answers the upgrade", Raw(silent), short_handshake, "Timeout", "WebSocket handshake timed out after 300 ms"),
        row("101 with a wrong accept key", Raw(wrong_accept), "Handshake", "WebSocket handshake failed: *"),
        row("301 with a body", Http("301 Moved Permanently", "moved to /v2"), "HttpStatus", "server rejected the WebSocket upgrade with HTTP 301 Moved Permanently | body: moved to /v2"),
        row("401 with a body", Http("401 Unauthorized", "token expired"), "HttpStatus", "server rejected the WebSocket upgrade with HTTP 401 Unauthorized | body: token expired"),
        row("403 with a body", Http("403 Forbidden", "origin not allowed"), "HttpStatus", "server rejected the WebSocket upgrade with HTTP 403 Forbidden | body: origin not allowed"),
        row("404 with a body", Http("404 Not Found", "no route"), "HttpStatus", "server rejected the WebSocket upgrade with HTTP 404 Not Found | body: no route"),
        row("500 with a body", Http("500 Internal Server Error", "stack trace here"), "HttpStatus", "server rejected the WebSocket upgrade with HTTP 500 Internal Server Error | body: stack trace here"),
        row("503 with a body", Http("503 Service Unavailable", "try later"), "HttpStatus", "server rejected the WebSocket upgrade with HTTP 503 Service Unavailable | body: try later"),
        row("200 instead of 101", Http("200 OK", "<html>hello</html>"), "HttpStatus", "server rejected the WebSocket upgrade with HTTP 200 OK | body: <html>hello</html>"),
        // --- TLS
        row("TLS: untrusted certificate", Custom(tls_untrusted), "Tls", "TLS handshake with \"localhost\" failed: the certificate is not signed by a trusted CA (subject CN=rcgen self signed cert, issued by CN=wsbench test CA cat-untrusted): add its CA file (--ca), or accept invalid certificates"),
        row("TLS: wrong host name", Custom(tls_wrong_host), "Tls", "TLS handshake with \"127.0.0.1\" failed: the certificate is not valid for the host name \"127.0.0.1\": it holds DNS:localhost (subject CN=rcgen self signed cert, issued by CN=wsbench test CA cat-wrong-host)"),
        row("TLS to a plain server", Custom(tls_to_plain), "Tls", "TLS handshake with \"localhost\" failed: *"),
        // --- after the upgrade: the server breaks the protocol
        tweaked("oversized frame", Upgraded(oversized_frame), small_limits, "Closed 1009 by Client", "message of 2000 bytes exceeds the limit of 1000 bytes"),
        tweaked("oversized message in fragments", Upgraded(oversized_message), small_limits, "Closed 1009 by Client", "message of 1500 bytes exceeds the limit of 1000 bytes"),
        row("invalid UTF-8 text", Upgraded(invalid_utf8), "Closed 1007 by Client", "text message is not valid UTF-8"),
        row("close code 999", Upgraded(close_999), "Closed 1002 by Server", "Protocol violation"),
        row("close code 1005 on the wire", Upgraded(close_1005), "Closed 1002 by Server", "Protocol violation"),
        row("close frame of one byte", Upgraded(close_one_byte), PROTOCOL, "protocol error: Invalid close sequence"),
        row("fragmented ping", Upgraded(fragmented_ping), PROTOCOL, "protocol error: Fragmented control frame"),
        row("ping over 125 bytes", Upgraded(long_ping), PROTOCOL, "protocol error: Control frame too big (payload must be 125 bytes or less)"),
        row("reserved opcode", Upgraded(reserved_opcode), PROTOCOL, "protocol error: Encountered invalid opcode: 3"),
        row("RSV1 without an extension", Upgraded(rsv1), PROTOCOL, "protocol error: Reserved bits are non-zero"),
        // --- permessage-deflate
        tweaked("deflate answered but not offered", Raw(deflate_answer), no_deflate, "Handshake", "WebSocket handshake failed: the server accepted the extension \"permessage-deflate\", which was not offered (RFC 6455 §9.1)"),
        row("deflate answer with a 16-bit window", Raw(deflate_bad_bits), "Handshake", "WebSocket handshake failed: the server's permessage-deflate answer is invalid: server_max_window_bits=16 is not a window size from 8 to 15 (RFC 7692 §7.1.2)"),
        row("compressed data that does not inflate", Raw(deflate_garbage), "Closed 1007 by Client", "a compressed message from the server does not inflate: *"),
        row("masked server frame", Upgraded(masked), PROTOCOL, "protocol error: Received a masked frame from server"),
        row("continuation with nothing to continue", Upgraded(stray_continuation), PROTOCOL, "protocol error: Continue frame but nothing to continue"),
        row("reset mid-message", Upgraded(reset_mid_message), "Closed 1006 by Server", "connection lost: *"),
        row("server floods 5000 pings", Upgraded(ping_flood), "Closed 1000 by Server", "flood over"),
        Row {
            then: Then::Disconnect,
            ..row("half-open peer (no FIN, no data) on disconnect", Upgraded(half_open), "Closed 1000 by Client", "bye (no close reply from the peer)")
        },
        tweaked("half-open peer, keepalive timeout", Upgraded(half_open), dead_after_1s, "Closed 1006 by Server", "no answer from the server for 1 s (keepalive timeout)"),
        // --- proxies: which hop failed, with the proxy's status and body
        row("proxy refused", Custom(proxy_refused), "Proxy", "proxy http://127.0.0.1:{port} (the connection's setting): could not reach the proxy: connection refused by 127.0.0.1:{port}"),
        row("proxy 407 with a body", Custom(proxy_407), "Proxy", "*requires credentials (HTTP 407*proxy login needed*"),
        row("target unreachable through an HTTP proxy", Custom(proxy_502), "Proxy", "*is unreachable through the proxy (HTTP 502 Bad Gateway)*cannot reach the target*"),
        row("target unreachable through SOCKS5", Custom(socks_unreachable), "Proxy", "*is unreachable through the proxy: connection refused by the target*"),
        row("bad SOCKS reply", Custom(socks_garbage), "Proxy", "proxy socks5://127.0.0.1:* (the connection's setting): the proxy does not speak SOCKS5 (is it an HTTP proxy? then use http://)"),
        row("proxy closes mid-CONNECT", Custom(proxy_closes), "Proxy", "proxy http://127.0.0.1:* (the connection's setting): the proxy closed the connection (reading the CONNECT answer)"),
        // --- Socket.IO: the raw frame stays, its decoded view says what is wrong
        Row {
            note: Some("bad JSON data: EOF while parsing a value at line 1 column 20 (Socket.IO packet, byte 21 of the frame)"),
            ..row("Socket.IO: malformed packet", Custom(sio_malformed), "Closed 1000 by Server", "done")
        },
        Row {
            note: Some("Invalid namespace"),
            ..row("Socket.IO: unknown namespace (CONNECT_ERROR)", Custom(sio_bad_namespace), "Closed 1000 by Server", "done")
        },
        row("Socket.IO: wrong Engine.IO version", Custom(sio_eio3), "Closed 1006 by Server", "the server speaks Engine.IO 3 (a Socket.IO v2 server): choose Socket.IO version 2"),
        Row {
            then: Then::Emit(200),
            ..row("Socket.IO: emit over the server's maxPayload", Custom(sio_small_max_payload), "InvalidPayload", "invalid Socket.IO payload: the packet is 212 bytes, over the server's maxPayload of 100 bytes (from its open packet); the server would drop the connection, so it was not sent")
        },
    ]
}

fn dead_after_1s(c: &mut ConnectConfig) {
    c.keepalive.ping_interval_ms = 200;
    c.keepalive.dead_after_ms = 1_000;
}

// --- proxies and Socket.IO servers ----------------------------------------------------

fn via_proxy(
    target: String,
    proxy: String,
    vars: Vec<(&'static str, String)>,
    keep: Vec<Box<dyn Any + Send>>,
) -> Prepared {
    let mut config = ConnectConfig::new(target);
    config.proxy = wsbench_core::config::ProxySetting::Url { url: proxy };
    Prepared { config, vars, keep }
}
fn proxy_refused() -> BoxFut<Prepared> {
    Box::pin(async {
        let port = closed_port().await;
        via_proxy(
            "ws://127.0.0.1:9/".into(),
            format!("http://127.0.0.1:{port}"),
            vec![("port", port.to_string())],
            Vec::new(),
        )
    })
}
fn proxy_407() -> BoxFut<Prepared> {
    Box::pin(async {
        let p = crate::proxy_support::http_proxy(Some(("u", "pw"))).await;
        via_proxy(
            "ws://127.0.0.1:9/".into(),
            format!("http://{}", p.addr),
            Vec::new(),
            vec![Box::new(p)],
        )
    })
}
fn proxy_502() -> BoxFut<Prepared> {
    Box::pin(async {
        let p = crate::proxy_support::http_proxy(None).await;
        let port = closed_port().await;
        via_proxy(
            format!("ws://127.0.0.1:{port}/"),
            format!("http://{}", p.addr),
            Vec::new(),
            vec![Box::new(p)],
        )
    })
}
fn socks_unreachable() -> BoxFut<Prepared> {
    Box::pin(async {
        let p = crate::proxy_support::socks5_proxy(None).await;
        let port = closed_port().await;
        via_proxy(
            format!("ws://127.0.0.1:{port}/"),
            format!("socks5://{}", p.addr),
            Vec::new(),
            vec![Box::new(p)],
        )
    })
}
/// A raw "proxy" running `script` on each accepted socket.
async fn raw_proxy(script: Script, scheme: &str) -> Prepared {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            tokio::spawn(script(tcp));
        }
    });
    via_proxy(
        "ws://127.0.0.1:9/".into(),
        format!("{scheme}://{addr}"),
        Vec::new(),
        Vec::new(),
    )
}
fn socks_garbage() -> BoxFut<Prepared> {
    fn script(mut tcp: TcpStream) -> BoxFut<()> {
        Box::pin(async move {
            let mut hello = [0u8; 3];
            let _ = tcp.read_exact(&mut hello).await;
            let _ = tcp.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
            drain(tcp).await;
        })
    }
    Box::pin(raw_proxy(script, "socks5"))
}
fn proxy_closes() -> BoxFut<Prepared> {
    fn script(mut tcp: TcpStream) -> BoxFut<()> {
        Box::pin(async move {
            read_request(&mut tcp).await;
            let _ = tcp.write_all(b"HTTP/1.1 200 Conn").await;
            let _ = tcp.shutdown().await;
        })
    }
    Box::pin(raw_proxy(script, "http"))
}

const OPEN4: &str = r#"0{"sid":"cat","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

/// A Socket.IO "server": upgrades, then for each step either sends a text frame or
/// (an empty step) waits for a frame from the client; then closes with 1000 "done".
async fn sio_server(steps: &'static [&'static str], socketio: wsbench_core::config::SocketIoConfig) -> Prepared {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = l.accept().await {
            tokio::spawn(async move {
                let Some(req) = read_request(&mut tcp).await else {
                    return;
                };
                let key = header_of(&req, "sec-websocket-key").unwrap_or_default();
                let resp = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                    derive_accept_key(key.as_bytes())
                );
                let _ = tcp.write_all(resp.as_bytes()).await;
                for step in steps {
                    if step.is_empty() {
                        let mut buf = [0u8; 1024];
                        let _ = tcp.read(&mut buf).await;
                    } else {
                        let _ = tcp.write_all(&server_frame(0x1, step.as_bytes())).await;
                    }
                }
                let _ = tcp
                    .write_all(&server_frame(0x8, &[&1000u16.to_be_bytes()[..], b"done"].concat()))
                    .await;
                drain(tcp).await;
            });
        }
    });
    let mut config = ConnectConfig::new(format!("ws://{addr}/"));
    config.socketio = Some(socketio);
    Prepared {
        config,
        vars: Vec::new(),
        keep: Vec::new(),
    }
}
fn sio_malformed() -> BoxFut<Prepared> {
    Box::pin(sio_server(
        &[OPEN4, "", "40", r#"42["chat",{"unclosed":"#],
        Default::default(),
    ))
}
fn sio_bad_namespace() -> BoxFut<Prepared> {
    let cfg = wsbench_core::config::SocketIoConfig {
        namespaces: vec![wsbench_core::config::SioNamespace {
            name: "/nope".into(),
            auth: None,
        }],
        ..Default::default()
    };
    Box::pin(sio_server(
        &[OPEN4, "", r#"44/nope,{"message":"Invalid namespace"}"#],
        cfg,
    ))
}
fn sio_eio3() -> BoxFut<Prepared> {
    Box::pin(sio_server(
        &[
            r#"0{"sid":"old","upgrades":[],"pingInterval":25000,"pingTimeout":5000}"#,
            "",
        ],
        Default::default(),
    ))
}
fn sio_small_max_payload() -> BoxFut<Prepared> {
    Box::pin(sio_server(
        &[
            r#"0{"sid":"cat","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":100}"#,
            "",
            "40",
            "",
            "",
        ],
        Default::default(),
    ))
}

// --- servers -----------------------------------------------------------------------

async fn raw_server(script: Script, upgrade: bool) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                if upgrade {
                    let Some(req) = read_request(&mut tcp).await else {
                        return;
                    };
                    let key = header_of(&req, "sec-websocket-key").unwrap_or_default();
                    let resp = format!(
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                        derive_accept_key(key.as_bytes())
                    );
                    if tcp.write_all(resp.as_bytes()).await.is_err() {
                        return;
                    }
                    // A first message, so every row proves what was logged stays logged.
                    let _ = tcp.write_all(&server_frame(0x1, b"hello")).await;
                }
                script(tcp).await;
            });
        }
    });
    addr
}

async fn read_request(tcp: &mut TcpStream) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    Some(String::from_utf8_lossy(&got).into_owned())
}

fn header_of(req: &str, name: &str) -> Option<String> {
    req.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

/// Drain what the client sends until it hangs up (so our frames are read, not reset).
async fn drain(mut tcp: TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(n) = tcp.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

async fn send_then_drain(mut tcp: TcpStream, bytes: Vec<u8>) {
    let _ = tcp.write_all(&bytes).await;
    drain(tcp).await;
}

fn reset_after_request(mut tcp: TcpStream) -> BoxFut<()> {
    Box::pin(async move {
        read_request(&mut tcp).await;
        let _ = tcp.set_zero_linger();
    })
}
fn eof_after_request(mut tcp: TcpStream) -> BoxFut<()> {
    Box::pin(async move {
        read_request(&mut tcp).await;
        let _ = tcp.shutdown().await;
    })
}
fn ssh_banner(mut tcp: TcpStream) -> BoxFut<()> {
    Box::pin(async move {
        read_request(&mut tcp).await;
        let _ = tcp.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
        drain(tcp).await;
    })
}
fn silent(tcp: TcpStream) -> BoxFut<()> {
    Box::pin(async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        drop(tcp);
    })
}
fn wrong_accept(mut tcp: TcpStream) -> BoxFut<()> {
    Box::pin(async move {
        read_request(&mut tcp).await;
        let resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n";
        let _ = tcp.write_all(resp.as_bytes()).await;
        drain(tcp).await;
    })
}
fn oversized_frame(tcp: TcpStream) -> BoxFut<()> {
    Box::pin(send_then_drain(tcp, server_frame(0x2, &[7; 2000])))
}
fn oversized_message(tcp: TcpStream) -> BoxFut<()> {
    let mut b = Vec::new();
    for (i, op) in [0x2u8, 0x0, 0x0].into_iter().enumerate() {
        let mut f = server_frame(op, &[7; 500]);
        if i < 2 {
            f[0] &= 0x7f; // not the final fragment
        }
        b.extend(f);
    }
    Box::pin(send_then_drain(tcp, b))
}
fn invalid_utf8(tcp: TcpStream) -> BoxFut<()> {
    Box::pin(send_then_drain(tcp, server_frame(0x1, &[0x68, 0x69, 0xff, 0xfe])))
}
fn close_999(tcp: TcpStream) -> BoxFut<()> {
    Box::pin(send_then_drain(tcp, server_frame(0x8, &[0x03, 0xe7])))
}
fn close_1005(tcp: TcpStream) -> BoxFut<()> {
    Box::pin(send_then_drain(tcp, server_frame(0x8, &1005u16.to_be_bytes())))
}
fn close_one_byte(tcp: TcpStream) -> BoxFut<()> {
    Box::pin(send_then_drain(tcp, server_frame(0x8, &[0x03])))
}
fn fragmented_ping(tcp: TcpStream) -> BoxFut<()> {
    let mut f = server_frame(0x9, b"frag");
    f[0] &= 0x7f;
    Box::pin(send_then_drain(tcp, f))
}
fn long_ping(tcp: TcpStream) -> BoxFut<()> {
    Box::pin(send_then_drain(tcp, server_frame(0x9, &[1; 126])))
}
fn reserved_opcode(tcp: TcpStream) -> BoxFut<()> {
    Box::pin(send_then_drain(tcp, server_frame(0x3, b"?")))
}
fn rsv1(tcp: TcpStream) -> BoxFut<()> {
    let mut f = server_frame(0x1, b"compressed?");
    f[0] |= 0x40;
    Box::pin(send_then_drain(tcp, f))
}
/// Complete the upgrade answering `extensions` as Sec-WebSocket-Extensions.
async fn upgrade_with(tcp: &mut TcpStream, extensions: &str) -> bool {
    let Some(req) = read_request(tcp).await else {
        return false;
    };
    let key = header_of(&req, "sec-websocket-key").unwrap_or_default();
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: {extensions}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    tcp.write_all(resp.as_bytes()).await.is_ok()
}
fn deflate_answer(mut tcp: TcpStream) -> BoxFut<()> {
    Box::pin(async move {
        if upgrade_with(&mut tcp, "permessage-deflate").await {
            drain(tcp).await;
        }
    })
}
fn deflate_bad_bits(mut tcp: TcpStream) -> BoxFut<()> {
    Box::pin(async move {
        if upgrade_with(&mut tcp, "permessage-deflate; server_max_window_bits=16").await {
            drain(tcp).await;
        }
    })
}
fn deflate_garbage(mut tcp: TcpStream) -> BoxFut<()> {
    Box::pin(async move {
        if upgrade_with(&mut tcp, "permessage-deflate").await {
            let _ = tcp.write_all(&server_frame(0x1, b"hello")).await;
            // RSV1 with bytes that are no DEFLATE stream (block type 3 is reserved).
            let mut f = server_frame(0x1, &[0xff, 0xff, 0xff, 0xff]);
            f[0] |= 0x40;
            send_then_drain(tcp, f).await;
        }
    })
}
fn masked(tcp: TcpStream) -> BoxFut<()> {
    Box::pin(send_then_drain(tcp, vec![0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2]))
}
fn stray_continuation(tcp: TcpStream) -> BoxFut<()> {
    Box::pin(send_then_drain(tcp, server_frame(0x0, b"orphan")))
}
fn reset_mid_message(mut tcp: TcpStream) -> BoxFut<()> {
    Box::pin(async move {
        let mut f = server_frame(0x2, &[9; 100]);
        f.truncate(12);
        let _ = tcp.write_all(&f).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = tcp.set_zero_linger();
    })
}
fn ping_flood(mut tcp: TcpStream) -> BoxFut<()> {
    Box::pin(async move {
        let mut b = Vec::new();
        for i in 0..5000u32 {
            b.extend(server_frame(0x9, &i.to_be_bytes()));
        }
        b.extend(server_frame(0x8, &[&1000u16.to_be_bytes()[..], b"flood over"].concat()));
        let _ = tcp.write_all(&b).await;
        drain(tcp).await;
    })
}
fn half_open(tcp: TcpStream) -> BoxFut<()> {
    Box::pin(async move {
        tokio::time::sleep(Duration::from_secs(20)).await;
        drop(tcp);
    })
}

fn refused_v4() -> BoxFut<Prepared> {
    Box::pin(async {
        let port = closed_port().await;
        prepared(format!("ws://127.0.0.1:{port}/"), vec![("port", port.to_string())])
    })
}
fn refused_v6() -> BoxFut<Prepared> {
    Box::pin(async {
        let l = TcpListener::bind("[::1]:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        prepared(format!("ws://[::1]:{port}/"), vec![("port", port.to_string())])
    })
}
fn prepared(url: String, vars: Vec<(&'static str, String)>) -> Prepared {
    Prepared {
        config: ConnectConfig::new(url),
        vars,
        keep: Vec::new(),
    }
}
fn tls_untrusted() -> BoxFut<Prepared> {
    Box::pin(async {
        let p = crate::tls::pki("cat-untrusted");
        let server = crate::tls::tls_server(&p, false).await;
        let mut config = ConnectConfig::new(format!("wss://localhost:{}/", server.addr().port()));
        config.tls.system_roots = false;
        Prepared {
            config,
            vars: Vec::new(),
            keep: vec![Box::new(server)],
        }
    })
}
fn tls_wrong_host() -> BoxFut<Prepared> {
    Box::pin(async {
        let p = crate::tls::pki("cat-wrong-host");
        let server = crate::tls::tls_server(&p, false).await;
        let ca = p.dir.join("ca.pem");
        std::fs::write(&ca, &p.ca_pem).unwrap();
        let mut config = ConnectConfig::new(format!("wss://127.0.0.1:{}/", server.addr().port()));
        config.tls.ca_file = Some(ca);
        Prepared {
            config,
            vars: Vec::new(),
            keep: vec![Box::new(server)],
        }
    })
}
fn tls_to_plain() -> BoxFut<Prepared> {
    Box::pin(async {
        let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
        let config = ConnectConfig::new(format!("wss://localhost:{}/", server.addr().port()));
        Prepared {
            config,
            vars: Vec::new(),
            keep: vec![Box::new(server)],
        }
    })
}

// --- the runner --------------------------------------------------------------------

async fn prepare(r: &Row) -> Prepared {
    let addr_vars = |addr: std::net::SocketAddr| vec![("addr", addr.to_string()), ("port", addr.port().to_string())];
    let mut p = match r.input {
        Input::Url(u) => prepared(u.to_owned(), Vec::new()),
        Input::Raw(s) | Input::Upgraded(s) => {
            let addr = raw_server(s, matches!(r.input, Input::Upgraded(_))).await;
            prepared(format!("ws://{addr}/"), addr_vars(addr))
        }
        Input::Http(status, body) => {
            let addr = http_answer(status, body).await;
            prepared(format!("ws://{addr}/"), addr_vars(addr))
        }
        Input::Custom(f) => f().await,
    };
    p.config.timeouts.connect_ms = 5_000;
    (r.tweak)(&mut p.config);
    p
}

fn seen_of(state: ConnState) -> Seen {
    match state {
        ConnState::Failed { error } => {
            let body = error.http.map(|h| format!(" | body: {}", h.body)).unwrap_or_default();
            Seen {
                kind: format!("{:?}", error.kind),
                message: format!("{}{body}", error.message),
            }
        }
        ConnState::Closed {
            code,
            reason,
            initiated_by,
            ..
        } => Seen {
            kind: format!("Closed {code} by {initiated_by:?}"),
            message: reason,
        },
        other => Seen {
            kind: format!("{other:?}"),
            message: String::new(),
        },
    }
}

/// Run one row on the shared manager; return its outcome and, for rows that opened,
/// whether the first message logged before the failure is still in the log.
async fn run_row(m: &SessionManager, r: &Row) -> (Seen, Vec<(&'static str, String)>, Option<String>) {
    let p = prepare(r).await;
    let id = m.create(r.name, p.config.clone());
    if let Err(e) = m.connect(id) {
        let seen = Seen {
            kind: format!("{:?}", e.kind()),
            message: e.to_string(),
        };
        return (seen, p.vars, None);
    }
    let s = m.get(id).unwrap();
    if r.then == Then::Disconnect {
        wait_open(&s).await;
        wait_frame(&s, "hello", |f| f.direction == Direction::In).await;
        m.disconnect(id, 1000, "bye").unwrap();
    }
    if let Then::Emit(n) = r.then {
        wait_open(&s).await;
        wait_frame(&s, "the CONNECT answer", |f| {
            f.direction == Direction::In && f.payload.as_ref() == b"40"
        })
        .await;
        let big = serde_json::Value::String("x".repeat(n));
        let cmd = wsbench_core::socketio::SioCommand::emit("/", "big", vec![big], false);
        let seen = match m.send(id, Outgoing::SocketIo(cmd)).await {
            Ok(seq) => Seen {
                kind: "sent".into(),
                message: format!("frame {seq}"),
            },
            Err(e) => Seen {
                kind: format!("{:?}", e.kind()),
                message: e.to_string(),
            },
        };
        m.disconnect(id, 1000, "bye").unwrap();
        wait_end(&s).await;
        drop(p.keep);
        return (seen, p.vars, None);
    }
    let end = wait_end(&s).await;
    let mut lost = None;
    if matches!(r.input, Input::Upgraded(_)) {
        let log = s.log().page(0, usize::MAX);
        let hello = log
            .iter()
            .any(|f| f.direction == Direction::In && f.opcode == Opcode::Text && f.payload.as_ref() == b"hello");
        if !hello {
            lost = Some(format!("{}: the message logged before the failure is gone", r.name));
        }
    }
    if let Some(want) = r.note {
        let shown = s
            .log()
            .page(0, usize::MAX)
            .iter()
            .filter_map(|f| s.decoded(f.seq).and_then(|d| d.error.clone()))
            .collect::<Vec<_>>();
        if !shown.iter().any(|e| super::glob(want, e)) {
            lost = Some(format!("{}: no decoded error {want:?} in {shown:?}", r.name));
        }
    }
    drop(p.keep);
    (seen_of(end), p.vars, lost)
}

/// After a row: the same manager still connects to the echo server and round-trips.
async fn still_works(m: &SessionManager, echo: &str, name: &str) -> Option<String> {
    let id = m.create("probe", ConnectConfig::new(echo));
    m.connect(id).ok()?;
    let s = m.get(id).unwrap();
    wait_open(&s).await;
    let text = format!("alive after {name}");
    m.send(id, Outgoing::Text(text.clone())).await.ok()?;
    wait_frame(&s, "echo", |f| {
        f.direction == Direction::In && f.payload.as_ref() == text.as_bytes()
    })
    .await;
    m.disconnect(id, 1000, "").ok()?;
    wait_end(&s).await;
    let _ = m.remove(id);
    None
}

/// Run every row (concurrently, on one manager); returns the row count and mismatches.
pub async fn run() -> (usize, Vec<String>) {
    let echo = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let (m, _) = manager();
    // A witness connection with a few messages logged before the rows start.
    let witness = m.create("witness", ConnectConfig::new(echo.url()));
    m.connect(witness).unwrap();
    let ws = m.get(witness).unwrap();
    wait_open(&ws).await;
    for i in 0..3 {
        m.send(witness, Outgoing::Text(format!("witness {i}"))).await.unwrap();
    }
    wait_frame(&ws, "last echo", |f| {
        f.direction == Direction::In && f.payload.as_ref() == b"witness 2"
    })
    .await;
    let before = ws.log().page(0, usize::MAX);

    let rows = rows();
    let m2 = Arc::clone(&m);
    let url = echo.url();
    let results = join_all(rows.iter().map(|r| {
        let m = Arc::clone(&m2);
        let url = url.clone();
        async move {
            let (seen, vars, lost) = run_row(&m, r).await;
            let mut bad: Vec<String> = check(r.name, &seen, r.kind, r.message, &vars).into_iter().collect();
            bad.extend(lost);
            bad.extend(still_works(&m, &url, r.name).await);
            bad
        }
    }))
    .await;
    let mut bad: Vec<String> = results.into_iter().flatten().collect();
    let after = ws.log().page(0, usize::MAX);
    if !ws.state().is_open() || after.len() < before.len() || after[..before.len()] != before[..] {
        bad.push(format!(
            "witness: state {:?}, {} frames before, {} after",
            ws.state(),
            before.len(),
            after.len()
        ));
    }
    (rows.len(), bad)
}
