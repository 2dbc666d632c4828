//! A tunnel through a proxy to the target, over a connected TCP stream: HTTP CONNECT
//! (Basic auth) or SOCKS5 (RFC 1928, username/password per RFC 1929), the target's
//! name resolved here (socks5://) or by the proxy (socks5h://). Exactly the proxy's
//! answer is read, so the stream then carries the target's bytes alone.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use base64::Engine as _;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::proxy::{Proxy, ProxyKind};
use crate::error::{Error, Result};
use crate::handshake::{Header, HttpFailure, ProxyInfo};

const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 1024;

/// Open the tunnel to `host:port` and record the exchange.
pub(super) async fn open<S>(io: &mut S, proxy: &Proxy, host: &str, port: u16) -> Result<ProxyInfo>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let t0 = Instant::now();
    let mut log = Vec::new();
    let r = match proxy.kind {
        ProxyKind::Http => http_connect(io, proxy, host, port, &mut log).await,
        ProxyKind::Socks5 | ProxyKind::Socks5h => socks5(io, proxy, host, port, &mut log).await,
    };
    r.map(|()| ProxyInfo {
        url: proxy.url(),
        kind: proxy.kind.label().to_owned(),
        source: proxy.source.clone(),
        exchange: log,
        tunnel_us: t0.elapsed().as_micros() as u64,
    })
}

fn failed(proxy: &Proxy, reason: impl Into<String>) -> Error {
    Error::Proxy {
        proxy: proxy.describe(),
        reason: reason.into(),
        http: None,
    }
}

fn io_failed<'a>(proxy: &'a Proxy, step: &str) -> impl Fn(std::io::Error) -> Error + 'a {
    let step = step.to_owned();
    move |e| {
        let what = if e.kind() == std::io::ErrorKind::UnexpectedEof {
            "the proxy closed the connection".to_owned()
        } else {
            e.to_string()
        };
        failed(proxy, format!("{what} ({step})"))
    }
}

fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

async fn http_connect<S>(io: &mut S, proxy: &Proxy, host: &str, port: u16, log: &mut Vec<String>) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let target = authority(host, port);
    let mut req = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    log.push(format!("> CONNECT {target} HTTP/1.1"));
    log.push(format!("> Host: {target}"));
    if let Some((user, pass)) = &proxy.auth {
        let cred = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        req.push_str(&format!("Proxy-Authorization: Basic {cred}\r\n"));
        log.push("> Proxy-Authorization: Basic [redacted]".to_owned());
    }
    req.push_str("\r\n");
    io.write_all(req.as_bytes())
        .await
        .map_err(io_failed(proxy, "sending CONNECT"))?;
    let head = read_head(io).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => failed(
            proxy,
            "the proxy did not answer CONNECT with HTTP (is it a SOCKS proxy? then use socks5://)",
        ),
        _ => io_failed(proxy, "reading the CONNECT answer")(e),
    })?;
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let status_line = lines.next().unwrap_or_default().to_owned();
    log.push(format!("< {status_line}"));
    let headers: Vec<Header> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| Header {
            name: n.trim().to_owned(),
            value: v.trim().to_owned(),
        })
        .collect();
    log.extend(headers.iter().map(|h| format!("< {}: {}", h.name, h.value)));
    let mut parts = status_line.splitn(3, ' ');
    let (version, code) = (
        parts.next().unwrap_or(""),
        parts.next().and_then(|c| c.parse::<u16>().ok()),
    );
    let reason = parts.next().unwrap_or("").to_owned();
    let Some(status) = code.filter(|_| version.starts_with("HTTP/")) else {
        return Err(failed(
            proxy,
            format!(
                "the proxy did not answer CONNECT with HTTP (is it a SOCKS proxy? then use socks5://): {status_line:?}"
            ),
        ));
    };
    if (200..300).contains(&status) {
        return Ok(());
    }
    let length = headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| h.value.parse::<usize>().ok());
    let body = read_body(io, length).await;
    let why = match status {
        407 if proxy.auth.is_some() => {
            "the proxy refused the credentials (HTTP 407 Proxy Authentication Required)".to_owned()
        }
        407 => "the proxy requires credentials (HTTP 407 Proxy Authentication Required): put user:password@ in the proxy URL".to_owned(),
        502..=504 => format!("the target {target} is unreachable through the proxy (HTTP {status} {reason})"),
        _ => format!("the proxy refused the tunnel to {target} (HTTP {status} {reason})"),
    };
    let body_text = String::from_utf8_lossy(&body[..body.len().min(MAX_BODY)]).into_owned();
    let shown = body_text.trim();
    Err(Error::Proxy {
        proxy: proxy.describe(),
        reason: if shown.is_empty() {
            why
        } else {
            format!("{why}: {:?}", shown.chars().take(200).collect::<String>())
        },
        http: Some(Box::new(HttpFailure {
            status,
            reason,
            headers,
            body: body_text,
            body_truncated: body.len() > MAX_BODY,
            location: None,
            redirect: None,
        })),
    })
}

/// The answer's head, byte by byte up to the blank line: nothing of the tunnel is
/// consumed.
async fn read_head<S: AsyncRead + Unpin>(io: &mut S) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(256);
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > MAX_HEAD {
            return Err(std::io::Error::other("the answer's head is over 16 KiB"));
        }
        head.push(io.read_u8().await?);
        if head.len() == 1 && head[0] != b'H' {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "not HTTP"));
        }
    }
    Ok(head)
}

/// Up to 1 KiB of a refusal's body, briefly: the connection is dropped after it.
async fn read_body<S: AsyncRead + Unpin>(io: &mut S, length: Option<usize>) -> Vec<u8> {
    let want = length.unwrap_or(MAX_BODY + 1).min(MAX_BODY + 1);
    let mut body = Vec::new();
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        let mut buf = [0u8; 512];
        while body.len() < want {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => body.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    body.truncate(want);
    body
}

async fn socks5<S>(io: &mut S, proxy: &Proxy, host: &str, port: u16, log: &mut Vec<String>) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let methods: &[u8] = if proxy.auth.is_some() { &[0x00, 0x02] } else { &[0x00] };
    let mut hello = vec![5, methods.len() as u8];
    hello.extend_from_slice(methods);
    log.push(format!(
        "> hello: SOCKS5, methods {}",
        if proxy.auth.is_some() {
            "no authentication, username/password"
        } else {
            "no authentication"
        }
    ));
    io.write_all(&hello).await.map_err(io_failed(proxy, "SOCKS5 hello"))?;
    let mut choice = [0u8; 2];
    io.read_exact(&mut choice)
        .await
        .map_err(io_failed(proxy, "SOCKS5 hello"))?;
    if choice[0] != 5 {
        return Err(failed(
            proxy,
            "the proxy does not speak SOCKS5 (is it an HTTP proxy? then use http://)",
        ));
    }
    match choice[1] {
        0x00 => log.push("< method: no authentication".into()),
        0x02 => {
            log.push("< method: username/password".into());
            socks5_auth(io, proxy, log).await?;
        }
        0xFF if proxy.auth.is_none() => {
            log.push("< no acceptable method".into());
            return Err(failed(
                proxy,
                "the proxy requires credentials: put user:password@ in the proxy URL",
            ));
        }
        m => {
            log.push(format!("< method {m:#04x}"));
            return Err(failed(
                proxy,
                format!("the proxy accepts none of the offered authentication methods (it chose {m:#04x})"),
            ));
        }
    }
    socks5_connect(io, proxy, host, port, log).await
}

async fn socks5_auth<S>(io: &mut S, proxy: &Proxy, log: &mut Vec<String>) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some((user, pass)) = &proxy.auth else {
        return Err(failed(
            proxy,
            "the proxy requires credentials: put user:password@ in the proxy URL",
        ));
    };
    if user.len() > 255 || pass.len() > 255 {
        return Err(failed(proxy, "a SOCKS5 username or password is at most 255 bytes"));
    }
    let mut msg = vec![1, user.len() as u8];
    msg.extend_from_slice(user.as_bytes());
    msg.push(pass.len() as u8);
    msg.extend_from_slice(pass.as_bytes());
    log.push(format!("> username {user:?}, password [redacted]"));
    io.write_all(&msg).await.map_err(io_failed(proxy, "SOCKS5 login"))?;
    let mut status = [0u8; 2];
    io.read_exact(&mut status)
        .await
        .map_err(io_failed(proxy, "SOCKS5 login"))?;
    if status[1] != 0 {
        log.push("< login refused".into());
        return Err(failed(proxy, "the proxy refused the username and password"));
    }
    log.push("< login accepted".into());
    Ok(())
}

async fn socks5_connect<S>(io: &mut S, proxy: &Proxy, host: &str, port: u16, log: &mut Vec<String>) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut req = vec![5, 1, 0];
    let ip: Option<IpAddr> = match (host.parse::<IpAddr>(), proxy.kind) {
        (Ok(ip), _) => Some(ip),
        (Err(_), ProxyKind::Socks5h) => None,
        (Err(_), _) => Some(resolve_here(proxy, host, port).await?),
    };
    match ip {
        Some(IpAddr::V4(a)) => {
            req.push(1);
            req.extend_from_slice(&a.octets());
        }
        Some(IpAddr::V6(a)) => {
            req.push(4);
            req.extend_from_slice(&a.octets());
        }
        None => {
            if host.len() > 255 {
                return Err(failed(proxy, "the host name is over 255 bytes"));
            }
            req.push(3);
            req.push(host.len() as u8);
            req.extend_from_slice(host.as_bytes());
        }
    }
    req.extend_from_slice(&port.to_be_bytes());
    log.push(match ip {
        Some(ip) if ip.to_string() != host => {
            format!("> CONNECT {} ({host} resolved here)", authority(&ip.to_string(), port))
        }
        Some(_) => format!("> CONNECT {}", authority(host, port)),
        None => format!("> CONNECT {} (name resolved by the proxy)", authority(host, port)),
    });
    io.write_all(&req).await.map_err(io_failed(proxy, "SOCKS5 CONNECT"))?;
    let mut head = [0u8; 4];
    io.read_exact(&mut head)
        .await
        .map_err(io_failed(proxy, "SOCKS5 CONNECT"))?;
    let skip = match head[3] {
        1 => 4 + 2,
        4 => 16 + 2,
        3 => io.read_u8().await.map_err(io_failed(proxy, "SOCKS5 CONNECT"))? as usize + 2,
        _ => 0,
    };
    let mut bound = vec![0u8; skip];
    io.read_exact(&mut bound)
        .await
        .map_err(io_failed(proxy, "SOCKS5 CONNECT"))?;
    if head[1] == 0 {
        log.push("< succeeded".into());
        return Ok(());
    }
    let why = socks5_reply(head[1]);
    log.push(format!("< {why}"));
    let target = authority(host, port);
    Err(failed(
        proxy,
        match head[1] {
            3..=6 => format!("the target {target} is unreachable through the proxy: {why}"),
            _ => format!("the proxy refused the tunnel to {target}: {why}"),
        },
    ))
}

async fn resolve_here(proxy: &Proxy, host: &str, port: u16) -> Result<IpAddr> {
    let addr = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| Error::Dns {
            host: host.to_owned(),
            reason: format!("{e} (socks5:// resolves names here; socks5h:// lets the proxy do it)"),
        })?
        .next()
        .ok_or_else(|| failed(proxy, format!("no address found for {host}")))?;
    Ok(addr.ip())
}

fn socks5_reply(code: u8) -> String {
    match code {
        1 => "general SOCKS server failure".into(),
        2 => "connection not allowed by the proxy's rules".into(),
        3 => "network unreachable".into(),
        4 => "host unreachable".into(),
        5 => "connection refused by the target".into(),
        6 => "TTL expired".into(),
        7 => "command not supported".into(),
        8 => "address type not supported".into(),
        c => format!("reply code {c}"),
    }
}

#[cfg(test)]
#[path = "tunnel_fuzz.rs"]
mod fuzz;
