//! From a [`Target`] to an open WebSocket: resolve, connect, TLS and upgrade, timing
//! each step and recording what went over the wire.
//!
//! The transport is built in steps (`transport`): resolve, TCP, then TLS. A proxy
//! tunnel (HTTP CONNECT, SOCKS5) is one more step between TCP and TLS; TLS still
//! names the target host.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::error::{ProtocolError, SubProtocolError};
use tokio_tungstenite::tungstenite::handshake::client::{generate_key, Request, Response};
use tokio_tungstenite::tungstenite::http::Uri;
use tokio_tungstenite::WebSocketStream;

use super::deflate::{self, DeflateCtx, Inflate};
use super::tls;
use super::tunnel;
use super::wire::{TapContext, WireTap};
use crate::error::{Error, Result};
use crate::handshake::{Handshake, Header, HttpFailure, ProxyInfo, Timings, TlsInfo};

pub use super::target::{parse_url, percent_encode, prepare, Target};

/// TCP or TLS over TCP.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// The socket the actor owns: tungstenite over the inflate layer over the wire tap
/// over the transport.
pub type Socket = WebSocketStream<Inflate<WireTap<Stream>>>;

fn us(d: Duration) -> u64 {
    d.as_micros() as u64
}

/// Resolve, connect, TLS and upgrade. `tap` sees every byte written; `deflate` reads
/// the server's permessage-deflate answer and inflates what it compresses.
pub(crate) async fn dial(
    target: &Target,
    tap: Arc<TapContext>,
    deflate: Arc<DeflateCtx>,
) -> Result<(Socket, Handshake)> {
    let t0 = Instant::now();
    let mut timings = Timings::default();
    let Transport {
        stream,
        tls,
        proxy,
        addr,
    } = tokio::time::timeout(target.connect_timeout, transport(target, t0, &mut timings))
        .await
        .map_err(|_| Error::Timeout {
            stage: if target.proxy.is_some() {
                "connect (through the proxy)"
            } else {
                "connect"
            },
            ms: target.connect_timeout.as_millis() as u64,
        })??;

    let upgrade = UpgradeRequest::new(target)?;
    let t3 = Instant::now();
    let handshake = tokio_tungstenite::client_async_with_config(
        upgrade.request,
        Inflate::new(WireTap::new(stream, tap.clone()), deflate.clone()),
        Some(target.ws_config),
    );
    let (ws, response) = tokio::time::timeout(target.handshake_timeout, handshake)
        .await
        .map_err(|_| Error::Timeout {
            stage: "WebSocket handshake",
            ms: target.handshake_timeout.as_millis() as u64,
        })?
        .map_err(|e| handshake_error(e, target, &tap))?;
    timings.upgrade_us = us(t3.elapsed());
    timings.total_us = us(t0.elapsed());
    // Record what really went out (tungstenite orders and spells some headers its
    // own way); what we built is the fallback.
    let sent = parse_request(&tap.sent_request()).unwrap_or((upgrade.line, upgrade.headers));
    let mut handshake = recorded(target, addr, sent, &response, tls, timings);
    handshake.proxy = proxy;
    handshake.deflate = deflate.negotiated().map_err(Error::Handshake)?;
    Ok((ws, handshake))
}

/// What the transport step hands on: the stream, TLS and proxy details, the address.
struct Transport {
    stream: Stream,
    tls: Option<TlsInfo>,
    proxy: Option<ProxyInfo>,
    addr: SocketAddr,
}

/// Resolve, connect TCP (each address in turn; the proxy's, if there is one), open
/// the proxy tunnel and, for wss://, TLS (inside the tunnel, for the target host).
async fn transport(target: &Target, t0: Instant, timings: &mut Timings) -> Result<Transport> {
    let (host, port) = match &target.proxy {
        Some(p) => (p.host.as_str(), p.port),
        None => (target.host.as_str(), target.port),
    };
    let on_proxy = |e: Error| match &target.proxy {
        Some(p) => Error::Proxy {
            proxy: p.describe(),
            reason: format!("could not reach the proxy: {e}"),
            http: None,
        },
        None => e,
    };
    let addrs = resolve(host, port).await.map_err(on_proxy)?;
    timings.dns_us = us(t0.elapsed());
    let t1 = Instant::now();
    let (mut tcp, addr) = connect_tcp(target, &addrs).await.map_err(on_proxy)?;
    let _ = tcp.set_nodelay(true);
    timings.tcp_us = us(t1.elapsed());
    let proxy = match &target.proxy {
        Some(p) => Some(tunnel::open(&mut tcp, p, &target.host, target.port).await?),
        None => None,
    };
    let Some(cfg) = &target.tls else {
        return Ok(Transport {
            stream: Stream::Plain(tcp),
            tls: None,
            proxy,
            addr,
        });
    };
    let t2 = Instant::now();
    let (tls, info) = tls::handshake(target, cfg, tcp).await?;
    timings.tls_us = us(t2.elapsed());
    Ok(Transport {
        stream: Stream::Tls(Box::new(tls)),
        tls: Some(info),
        proxy,
        addr,
    })
}

async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    let dns = |reason: String| Error::Dns {
        host: host.to_owned(),
        reason,
    };
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| dns(e.to_string()))?
        .collect();
    if addrs.is_empty() {
        return Err(dns("no address found".into()));
    }
    Ok(addrs)
}

/// The first address that accepts. Each gets its share of the timeout, so one that
/// never answers (a broken IPv6 route, say) leaves time for the next.
async fn connect_tcp(target: &Target, addrs: &[SocketAddr]) -> Result<(TcpStream, SocketAddr)> {
    let per_address = (target.connect_timeout / addrs.len().max(1) as u32).max(Duration::from_millis(500));
    let mut last = None;
    for addr in addrs {
        match tokio::time::timeout(per_address, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => return Ok((s, *addr)),
            Ok(Err(e)) => last = Some((e, *addr)),
            Err(_) => {
                let msg = format!("no answer within {} ms", per_address.as_millis());
                last = Some((io::Error::new(io::ErrorKind::TimedOut, msg), *addr))
            }
        }
    }
    Err(match last {
        Some((e, addr)) if e.kind() == io::ErrorKind::ConnectionRefused => Error::Refused { addr: addr.to_string() },
        Some((e, addr)) => Error::Connect {
            addr: addr.to_string(),
            reason: e.to_string(),
        },
        None => Error::Dns {
            host: target.host.clone(),
            reason: "no address found".into(),
        },
    })
}

/// The upgrade request, and how we expect it to look on the wire.
struct UpgradeRequest {
    request: Request,
    line: String,
    headers: Vec<Header>,
}

impl UpgradeRequest {
    fn new(target: &Target) -> Result<Self> {
        let key = generate_key();
        let uri: Uri = target.url.as_str().parse().map_err(|e| Error::InvalidUrl {
            url: target.url.to_string(),
            reason: format!("{e}"),
        })?;
        let required = [
            ("Host", target.host_header.as_str()),
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", key.as_str()),
        ];
        let mut builder = Request::builder().method("GET").uri(uri);
        for (n, v) in required {
            builder = builder.header(n, v);
        }
        let offer = target.compression.as_ref().map(deflate::offer);
        let extension = offer.iter().map(|o| ("Sec-WebSocket-Extensions", o.as_str()));
        for (n, v) in extension.clone() {
            builder = builder.header(n, v);
        }
        for (n, v) in &target.extra_headers {
            builder = builder.header(n, v);
        }
        let request = builder.body(()).map_err(|e| Error::Handshake(e.to_string()))?;
        let path = match target.url.query() {
            Some(q) => format!("{}?{q}", target.url.path()),
            None => target.url.path().to_owned(),
        };
        let mut headers: Vec<Header> = required
            .into_iter()
            .chain(extension)
            .map(|(n, v)| Header {
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect();
        headers.extend(target.extra_headers.iter().map(|(n, v)| Header {
            name: n.to_string(),
            value: String::from_utf8_lossy(v.as_bytes()).into_owned(),
        }));
        Ok(Self {
            request,
            line: format!("GET {path} HTTP/1.1"),
            headers,
        })
    }
}

/// The handshake record of a connection that opened.
fn recorded(
    target: &Target,
    addr: SocketAddr,
    (request_line, request_headers): (String, Vec<Header>),
    response: &Response,
    tls: Option<TlsInfo>,
    timings: Timings,
) -> Handshake {
    let find = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let status = response.status();
    Handshake {
        url: target.url.to_string(),
        remote_addr: addr.to_string(),
        request_line,
        request_headers,
        status_line: format!(
            "HTTP/1.1 {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        ),
        status: status.as_u16(),
        response_headers: header_list(response.headers()),
        subprotocol: find("sec-websocket-protocol"),
        extensions: find("sec-websocket-extensions"),
        tls,
        timings,
        deflate: None,
        proxy: None,
    }
}

/// A non-101 answer; a redirect's `Location` is kept, and offered as a WebSocket URL.
fn http_failure(resp: &tokio_tungstenite::tungstenite::http::Response<Option<Vec<u8>>>, target: &Target) -> Error {
    const MAX: usize = 1024;
    let body = resp.body().as_deref().unwrap_or_default();
    let cut = &body[..body.len().min(MAX)];
    let location = resp
        .status()
        .is_redirection()
        .then(|| resp.headers().get("location"))
        .flatten()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let redirect = location.as_deref().and_then(|l| {
        let mut u = target.url.join(l).ok()?;
        let scheme = match u.scheme() {
            "http" | "ws" => "ws",
            "https" | "wss" => "wss",
            _ => return None,
        };
        u.set_scheme(scheme).ok()?;
        Some(u.to_string())
    });
    Error::HttpStatus(Box::new(HttpFailure {
        status: resp.status().as_u16(),
        reason: resp.status().canonical_reason().unwrap_or("").to_owned(),
        headers: header_list(resp.headers()),
        body: String::from_utf8_lossy(cut).into_owned(),
        body_truncated: body.len() > MAX,
        location,
        redirect,
    }))
}

fn swap_scheme(url: &url::Url, scheme: &str) -> String {
    let s = url.as_str();
    match s.split_once("://") {
        Some((_, rest)) => format!("{scheme}://{rest}"),
        None => s.to_owned(),
    }
}

/// Split a written HTTP request into its request line and headers.
fn parse_request(bytes: &[u8]) -> Option<(String, Vec<Header>)> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let text = std::str::from_utf8(&bytes[..end]).ok()?;
    let mut lines = text.split("\r\n");
    let line = lines.next()?.to_owned();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':')?;
            Some(Header {
                name: n.to_owned(),
                value: v.trim().to_owned(),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some((line, headers))
}

fn header_list(h: &tokio_tungstenite::tungstenite::http::HeaderMap) -> Vec<Header> {
    h.iter()
        .map(|(n, v)| Header {
            name: n.to_string(),
            value: String::from_utf8_lossy(v.as_bytes()).into_owned(),
        })
        .collect()
}

/// For ws://: a hint when the server's first bytes were a TLS record, or when it
/// closed without a word (what a TLS port does with a plain HTTP request).
fn plain_at_tls_hint(target: &Target, tap: &TapContext) -> Option<String> {
    if target.tls.is_some() {
        return None;
    }
    match tap.first_read().as_slice() {
        [0x15 | 0x16, 0x03, ..] => Some(format!(
            "the server answered with TLS: this port expects wss://; use \"{}\"",
            swap_scheme(&target.url, "wss")
        )),
        [] => Some(
            "the server closed the connection without answering the upgrade (if this port serves TLS, use wss://)"
                .into(),
        ),
        _ => None,
    }
}

fn handshake_error(e: tokio_tungstenite::tungstenite::Error, target: &Target, tap: &TapContext) -> Error {
    use tokio_tungstenite::tungstenite::Error as WsError;
    let ws_at_tls = || plain_at_tls_hint(target, tap);
    match e {
        WsError::Http(resp) => http_failure(&resp, target),
        WsError::Io(e) => match (&target.tls, e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())) {
            (Some(client), Some(_)) => tls::failure(target, client, &e),
            _ => match ws_at_tls() {
                Some(hint) => Error::Io(format!("during the WebSocket handshake: {e}; {hint}")),
                None => Error::Io(format!("during the WebSocket handshake: {e}")),
            },
        },
        WsError::Protocol(ProtocolError::HandshakeIncomplete | ProtocolError::HttparseError(_))
        | WsError::HttpFormat(_) => match ws_at_tls() {
            Some(hint) => Error::Handshake(hint),
            None => Error::Handshake(e.to_string()),
        },
        WsError::Protocol(ProtocolError::SecWebSocketSubProtocolError(e)) => Error::Handshake(match e {
            SubProtocolError::NoSubProtocol => {
                "the server accepted none of the offered subprotocols (its answer has no Sec-WebSocket-Protocol header)"
                    .into()
            }
            SubProtocolError::InvalidSubProtocol => "the server chose a subprotocol that was not offered".into(),
            SubProtocolError::ServerSentSubProtocolNoneRequested => {
                "the server chose a subprotocol although none was offered".into()
            }
        }),
        WsError::Protocol(p) => Error::Handshake(p.to_string()),
        other => Error::Handshake(other.to_string()),
    }
}
