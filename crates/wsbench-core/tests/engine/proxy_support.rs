//! Test proxies on 127.0.0.1:0: HTTP CONNECT and SOCKS5, each with or without
//! credentials. They record the target each client asked for.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running test proxy: its address and the targets it was asked for, as asked
/// (`host:port`, a name for socks5h, an address for socks5).
pub struct TestProxy {
    pub addr: SocketAddr,
    pub asked: Arc<Mutex<Vec<String>>>,
}

impl TestProxy {
    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

async fn listen() -> (TcpListener, SocketAddr, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    (l, addr, Arc::default())
}

async fn pipe(mut a: TcpStream, mut b: TcpStream) {
    let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
}

/// An HTTP CONNECT proxy; with `auth`, it answers 407 unless the client sends
/// exactly those Basic credentials. An unreachable target is a 502.
pub async fn http_proxy(auth: Option<(&'static str, &'static str)>) -> TestProxy {
    let (l, addr, asked) = listen().await;
    let log = asked.clone();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = l.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                while !head.ends_with(b"\r\n\r\n") {
                    match c.read_u8().await {
                        Ok(b) => head.push(b),
                        Err(_) => return,
                    }
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let target = text.split(' ').nth(1).unwrap_or("").to_owned();
                log.lock().unwrap().push(target.clone());
                if let Some((u, p)) = auth {
                    let want = format!(
                        "proxy-authorization: basic {}",
                        base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
                    );
                    if !text.to_ascii_lowercase().contains(&want.to_ascii_lowercase()) {
                        let body = "proxy login needed";
                        let resp = format!(
                            "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = c.write_all(resp.as_bytes()).await;
                        return;
                    }
                }
                match TcpStream::connect(&target).await {
                    Ok(t) => {
                        let _ = c.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
                        pipe(c, t).await;
                    }
                    Err(_) => {
                        let body = "cannot reach the target";
                        let resp = format!(
                            "HTTP/1.1 502 Bad Gateway\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = c.write_all(resp.as_bytes()).await;
                    }
                }
            });
        }
    });
    TestProxy { addr, asked }
}

/// A SOCKS5 proxy (RFC 1928/1929); with `auth`, only username/password with those
/// credentials. An unreachable target is reply 5 (connection refused).
pub async fn socks5_proxy(auth: Option<(&'static str, &'static str)>) -> TestProxy {
    let (l, addr, asked) = listen().await;
    let log = asked.clone();
    tokio::spawn(async move {
        while let Ok((c, _)) = l.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let _ = socks5_session(c, auth, log).await;
            });
        }
    });
    TestProxy { addr, asked }
}

async fn socks5_session(
    mut c: TcpStream,
    auth: Option<(&'static str, &'static str)>,
    log: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    let mut hello = [0u8; 2];
    c.read_exact(&mut hello).await?;
    let mut methods = vec![0u8; hello[1] as usize];
    c.read_exact(&mut methods).await?;
    let want = if auth.is_some() { 2 } else { 0 };
    if !methods.contains(&want) {
        c.write_all(&[5, 0xFF]).await?;
        return Ok(());
    }
    c.write_all(&[5, want]).await?;
    if let Some((u, p)) = auth {
        let mut v = [0u8; 2];
        c.read_exact(&mut v).await?;
        let mut user = vec![0u8; v[1] as usize];
        c.read_exact(&mut user).await?;
        let plen = c.read_u8().await?;
        let mut pass = vec![0u8; plen as usize];
        c.read_exact(&mut pass).await?;
        let ok = user == u.as_bytes() && pass == p.as_bytes();
        c.write_all(&[1, if ok { 0 } else { 1 }]).await?;
        if !ok {
            return Ok(());
        }
    }
    let mut req = [0u8; 4];
    c.read_exact(&mut req).await?;
    let host = match req[3] {
        1 => {
            let mut a = [0u8; 4];
            c.read_exact(&mut a).await?;
            IpAddr::from(a).to_string()
        }
        4 => {
            let mut a = [0u8; 16];
            c.read_exact(&mut a).await?;
            format!("[{}]", IpAddr::from(a))
        }
        _ => {
            let n = c.read_u8().await?;
            let mut name = vec![0u8; n as usize];
            c.read_exact(&mut name).await?;
            String::from_utf8_lossy(&name).into_owned()
        }
    };
    let port = c.read_u16().await?;
    let target = format!("{host}:{port}");
    log.lock().unwrap().push(target.clone());
    match TcpStream::connect(&target).await {
        Ok(t) => {
            c.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await?;
            pipe(c, t).await;
        }
        Err(_) => c.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await?,
    }
    Ok(())
}
