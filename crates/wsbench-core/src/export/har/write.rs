//! HAR 1.2 (<http://www.softwareishard.com/blog/har-12-spec/>) with the WebSocket
//! extension Chrome DevTools introduced in Chrome 76 and Playwright and mitmproxy
//! follow: the upgrade request is one entry with `"_resourceType": "websocket"` and
//! `"_webSocketMessages": [{type, time, opcode, data}]`.
//!
//! Followed, field by field:
//! - Chrome DevTools `front_end/models/har/Log.ts` (`Entry.build`): each message is
//!   `{type: frame.type, time: frame.time, opcode: frame.opCode, data: frame.text}`,
//!   where `core/sdk/NetworkRequest.ts` (`addProtocolFrame`) sets `type` to `"send"`
//!   or `"receive"`, `time` to the wall time in seconds since the epoch (a float),
//!   and `text` to the DevTools protocol's `payloadData`, which is the UTF-8 text for
//!   opcode 1 and base64 for any other opcode. `startedDateTime` is `Date.toJSON()`
//!   (milliseconds, `Z`); `timings` are milliseconds, -1 for a phase that did not
//!   happen, `ssl` included in `connect`.
//! - mitmproxy `addons/savehar.py`: the same four fields, text as text, binary as
//!   base64, `time` in seconds.
//! - wsbench's own addition: `_compressedLen` on a message that went compressed
//!   (permessage-deflate) holds its size on the wire; `data` is the inflated message.
//!   It is read back.
//! - wsbench's own addition, in Socket.IO mode: `_socketio` on a message holds the
//!   decoded packet (the `socketio` field of an NDJSON record); it is read back.
//!
//! The entry is written as it goes: everything but the messages is serialized
//! first, then one message per line, so a million frames never sit in memory.

use base64::Engine as _;
use serde::Serialize;

use crate::connection::{Handshake, Header};
use crate::error::{Error, Result};
use crate::export::{json_err, time, LogWriter, SessionMeta};
use crate::frame::{Direction, Frame, Opcode};
use crate::socketio::Decoded;

#[derive(Default)]
pub(crate) struct HarWriter {
    any: bool,
}

#[derive(Serialize)]
struct Log<'a> {
    log: LogBody<'a>,
}

#[derive(Serialize)]
struct LogBody<'a> {
    version: &'static str,
    creator: Creator,
    pages: [(); 0],
    entries: [Entry<'a>; 1],
}

#[derive(Serialize)]
struct Creator {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    started_date_time: String,
    time: f64,
    request: Request<'a>,
    response: Response<'a>,
    cache: Empty,
    timings: Timings,
    #[serde(rename = "serverIPAddress", skip_serializing_if = "Option::is_none")]
    server_ip_address: Option<String>,
    comment: &'a str,
    #[serde(rename = "_resourceType")]
    resource_type: &'static str,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct NameValue {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    method: &'a str,
    url: &'a str,
    http_version: &'a str,
    headers: Vec<NameValue>,
    query_string: Vec<NameValue>,
    cookies: Vec<NameValue>,
    headers_size: i64,
    body_size: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Response<'a> {
    status: u16,
    status_text: &'a str,
    http_version: &'a str,
    headers: Vec<NameValue>,
    cookies: Vec<NameValue>,
    content: Content,
    #[serde(rename = "redirectURL")]
    redirect_url: &'static str,
    headers_size: i64,
    body_size: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Content {
    size: i64,
    mime_type: &'static str,
}

#[derive(Serialize)]
struct Timings {
    blocked: f64,
    dns: f64,
    connect: f64,
    ssl: f64,
    send: f64,
    wait: f64,
    receive: f64,
}

fn name_values(h: &[Header]) -> Vec<NameValue> {
    h.iter()
        .map(|h| NameValue {
            name: h.name.clone(),
            value: h.value.clone(),
        })
        .collect()
}

/// `a=1; b=2` from every header named `name` (values already redacted become
/// nothing: `[redacted]` has no `=`).
fn cookies(h: &[Header], name: &str, set_cookie: bool) -> Vec<NameValue> {
    let mut out = Vec::new();
    for h in h.iter().filter(|h| h.name.eq_ignore_ascii_case(name)) {
        let pairs: Vec<&str> = if set_cookie {
            h.value.split(';').take(1).collect()
        } else {
            h.value.split(';').collect()
        };
        for p in pairs {
            if let Some((n, v)) = p.split_once('=') {
                out.push(NameValue {
                    name: n.trim().to_owned(),
                    value: v.trim().to_owned(),
                });
            }
        }
    }
    out
}

/// `name=value` pairs of a URL's query, percent-decoded.
fn query_string(url: &str) -> Vec<NameValue> {
    let q = url
        .split('#')
        .next()
        .unwrap_or("")
        .split_once('?')
        .map_or("", |(_, q)| q);
    if q.is_empty() {
        return Vec::new();
    }
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            NameValue {
                name: dec(n),
                value: dec(v),
            }
        })
        .collect()
}

/// Bytes of a header block: the first line, `Name: value` lines, the blank line.
fn headers_size(first_line: &str, h: &[Header]) -> i64 {
    (first_line.len() + 2 + h.iter().map(|h| h.name.len() + 2 + h.value.len() + 2).sum::<usize>() + 2) as i64
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Without a recorded handshake: the headers the config would send.
fn config_headers(meta: &SessionMeta) -> Vec<Header> {
    let c = &meta.config;
    let mut v: Vec<Header> = c
        .headers
        .iter()
        .filter(|h| h.enabled)
        .map(|h| Header {
            name: h.name.clone(),
            value: h.value.clone(),
        })
        .collect();
    if let Some(o) = &c.origin {
        v.push(Header {
            name: "Origin".into(),
            value: o.clone(),
        });
    }
    if !c.subprotocols.is_empty() {
        v.push(Header {
            name: "Sec-WebSocket-Protocol".into(),
            value: c.subprotocols.join(", "),
        });
    }
    v
}

/// The upgrade request: as recorded, else as the config would send it.
fn request<'a>(hs: Option<&'a Handshake>, url: &'a str, config_headers: &'a [Header]) -> Request<'a> {
    let headers = hs.map_or(config_headers, |h| h.request_headers.as_slice());
    let (method, http_version) = match hs.map(|h| h.request_line.split(' ').collect::<Vec<_>>()) {
        Some(p) if p.len() == 3 => (p[0], p[2]),
        _ => ("GET", "HTTP/1.1"),
    };
    Request {
        method,
        url,
        http_version,
        headers: name_values(headers),
        query_string: query_string(url),
        cookies: cookies(headers, "cookie", false),
        headers_size: hs.map_or(-1, |h| headers_size(&h.request_line, &h.request_headers)),
        body_size: 0,
    }
}

/// The upgrade response: as recorded; without a handshake, `101` when frames were
/// exchanged (the upgrade succeeded, only its details are unknown), else `0`.
fn response<'a>(hs: Option<&'a Handshake>, meta: &SessionMeta) -> Response<'a> {
    let (status, status_text, http_version, headers, headers_size) = match hs {
        Some(h) => {
            let mut p = h.status_line.splitn(3, ' ');
            let version = p.next().unwrap_or("HTTP/1.1");
            let _code = p.next();
            let text = p.next().unwrap_or("");
            (
                h.status,
                text,
                version,
                h.response_headers.as_slice(),
                headers_size(&h.status_line, &h.response_headers),
            )
        }
        None if meta.selection.count > 0 => (101, "Switching Protocols", "HTTP/1.1", &[][..], -1),
        None => (0, "", "HTTP/1.1", &[][..], -1),
    };
    Response {
        status,
        status_text,
        http_version,
        headers: name_values(headers),
        cookies: cookies(headers, "set-cookie", true),
        content: Content {
            size: 0,
            mime_type: "x-unknown",
        },
        redirect_url: "",
        headers_size,
        body_size: 0,
    }
}

/// The handshake's phases in HAR's milliseconds (`-1`: did not happen; `connect`
/// includes `ssl`).
fn timings(hs: Option<&Handshake>) -> Timings {
    match hs.map(|h| h.timings) {
        Some(t) => Timings {
            blocked: -1.0,
            dns: ms(t.dns_us),
            connect: ms(t.tcp_us + t.tls_us),
            ssl: if t.tls_us > 0 { ms(t.tls_us) } else { -1.0 },
            send: 0.0,
            wait: ms(t.upgrade_us),
            receive: 0.0,
        },
        None => Timings {
            blocked: -1.0,
            dns: -1.0,
            connect: -1.0,
            ssl: -1.0,
            send: 0.0,
            wait: 0.0,
            receive: 0.0,
        },
    }
}

/// The entry's `time`: the sum of the phases that happened, to the microsecond.
fn total_ms(t: &Timings) -> f64 {
    let total = [t.dns, t.connect, t.send, t.wait, t.receive]
        .iter()
        .filter(|t| **t > 0.0)
        .sum::<f64>();
    (total * 1000.0).round() / 1000.0
}

/// The server's IP without the port: `127.0.0.1:9000` -> `127.0.0.1`, `[::1]:9000` -> `::1`.
fn server_ip(hs: Option<&Handshake>) -> Option<String> {
    hs.filter(|h| !h.remote_addr.is_empty()).map(|h| {
        let a = &h.remote_addr;
        let host = match a.rfind(':') {
            Some(i) if !a.ends_with(']') => &a[..i],
            _ => a.as_str(),
        };
        host.trim_start_matches('[').trim_end_matches(']').to_owned()
    })
}

impl LogWriter for HarWriter {
    fn begin(&mut self, out: &mut Vec<u8>, meta: &SessionMeta) -> Result<()> {
        let hs = meta.handshake.as_ref();
        let started_us = meta.started_at_us.unwrap_or(meta.exported_at_us);
        let url = hs.map_or(meta.url.as_str(), |h| h.url.as_str());
        let config_headers = config_headers(meta);
        let timings = timings(hs);
        let entry = Entry {
            started_date_time: time::iso_ms(started_us),
            time: total_ms(&timings),
            request: request(hs, url, &config_headers),
            response: response(hs, meta),
            cache: Empty {},
            timings,
            server_ip_address: server_ip(hs),
            comment: &meta.name,
            resource_type: "websocket",
        };
        let har = Log {
            log: LogBody {
                version: "1.2",
                creator: Creator {
                    name: "wsbench",
                    version: env!("CARGO_PKG_VERSION"),
                },
                pages: [],
                entries: [entry],
            },
        };
        let doc = serde_json::to_vec(&har).map_err(json_err)?;
        // `...,"_resourceType":"websocket"}]}}` -> `...,"_resourceType":"websocket","_webSocketMessages":[`
        let open = doc
            .strip_suffix(b"}]}}")
            .ok_or_else(|| Error::Io("the HAR entry did not serialize as expected".into()))?;
        out.extend_from_slice(open);
        out.extend_from_slice(b",\"_webSocketMessages\":[");
        Ok(())
    }

    fn frame(&mut self, out: &mut Vec<u8>, f: &Frame) -> Result<()> {
        self.frame_decoded(out, f, None)
    }

    /// A message, with wsbench's decoded Socket.IO view as `_socketio` (HAR allows
    /// custom fields that start with `_`; other readers ignore it).
    fn frame_decoded(&mut self, out: &mut Vec<u8>, f: &Frame, decoded: Option<&Decoded>) -> Result<()> {
        out.extend_from_slice(if self.any { b",\n" } else { b"\n" });
        self.any = true;
        out.extend_from_slice(match f.direction {
            Direction::Out => b"{\"type\":\"send\",\"time\":",
            Direction::In => b"{\"type\":\"receive\",\"time\":",
        });
        out.extend_from_slice(time::seconds(f.at_us).as_bytes());
        let opcode: &[u8] = match f.opcode {
            Opcode::Text => b",\"opcode\":1,\"data\":",
            Opcode::Binary => b",\"opcode\":2,\"data\":",
            Opcode::Close => b",\"opcode\":8,\"data\":",
            Opcode::Ping => b",\"opcode\":9,\"data\":",
            Opcode::Pong => b",\"opcode\":10,\"data\":",
        };
        out.extend_from_slice(opcode);
        if f.opcode == Opcode::Text {
            serde_json::to_writer(&mut *out, &String::from_utf8_lossy(&f.payload)).map_err(json_err)?;
        } else {
            out.push(b'"');
            out.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(&f.payload).as_bytes());
            out.push(b'"');
        }
        if f.compressed_len > 0 {
            out.extend_from_slice(format!(",\"_compressedLen\":{}", f.compressed_len).as_bytes());
        }
        if let Some(d) = decoded {
            out.extend_from_slice(b",\"_socketio\":");
            serde_json::to_writer(&mut *out, d).map_err(json_err)?;
        }
        out.push(b'}');
        Ok(())
    }

    fn end(&mut self, out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(if self.any { b"\n]}]}}\n" } else { b"]}]}}\n" });
        Ok(())
    }
}
