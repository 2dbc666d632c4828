//! ws:// and wss:// through HTTP CONNECT, SOCKS5 and SOCKS5h proxies (with and
//! without credentials), and each hop's failure in words.

use wsbench_core::config::ProxySetting;
use wsbench_core::{ConnState, ConnectConfig, Direction, ErrorInfo, ErrorKind, LocalServer, Outgoing, ServerConfig};

use crate::proxy_support::*;
use crate::support::*;
use crate::tls::{pki, tls_server_with, write};

fn via(url: impl Into<String>, proxy: String) -> ConnectConfig {
    let mut c = ConnectConfig::new(url);
    c.proxy = ProxySetting::Url { url: proxy };
    c
}

async fn echoes(c: ConnectConfig) -> wsbench_core::Handshake {
    let (m, _) = manager();
    let (id, s) = open(&m, c);
    let hs = wait_open(&s).await;
    m.send(id, Outgoing::Text("through".into())).await.unwrap();
    wait_frame(&s, "echo through the proxy", |f| {
        f.direction == Direction::In && f.text() == Some("through")
    })
    .await;
    hs
}

async fn fails(c: ConnectConfig) -> ErrorInfo {
    let (m, _) = manager();
    let (_, s) = open(&m, c);
    match wait_end(&s).await {
        ConnState::Failed { error } => error,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn ws_and_wss_through_an_http_connect_proxy() {
    let echo = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let proxy = http_proxy(None).await;
    let hs = echoes(via(echo.url(), format!("http://{}", proxy.addr))).await;
    let p = hs.proxy.expect("the proxy is recorded");
    assert_eq!(p.kind, "HTTP CONNECT");
    assert_eq!(p.source, "connection");
    assert_eq!(p.url, format!("http://{}", proxy.addr));
    assert_eq!(p.exchange[0], format!("> CONNECT {} HTTP/1.1", echo.addr()));
    assert!(
        p.exchange.iter().any(|l| l.starts_with("< HTTP/1.1 200")),
        "{:?}",
        p.exchange
    );
    assert_eq!(hs.remote_addr, proxy.addr.to_string());

    // wss: TLS inside the tunnel, checked for the target's name.
    let k = pki("proxy-http");
    let tls = tls_server_with(k.server_chain.clone(), k.server_key.clone_key(), None).await;
    let authed = http_proxy(Some(("alice", "s3cret"))).await;
    let mut c = via(tls.url(), format!("http://alice:s3cret@{}", authed.addr));
    c.tls.ca_file = Some(write(&k, "ca.pem", &k.ca_pem));
    let hs = echoes(c).await;
    assert!(hs.tls.is_some());
    let p = hs.proxy.unwrap();
    assert!(p
        .exchange
        .contains(&"> Proxy-Authorization: Basic [redacted]".to_string()));
    assert!(!format!("{p:?}").contains("s3cret"));
    assert_eq!(authed.asked(), vec![format!("localhost:{}", tls.addr().port())]);
}

#[tokio::test]
async fn ws_and_wss_through_socks5_and_socks5h() {
    let echo = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let socks = socks5_proxy(None).await;
    let hs = echoes(via(echo.url(), format!("socks5://{}", socks.addr))).await;
    assert_eq!(hs.proxy.unwrap().kind, "SOCKS5");

    let k = pki("proxy-socks");
    let tls = tls_server_with(k.server_chain.clone(), k.server_key.clone_key(), None).await;
    let port = tls.addr().port();
    let authed = socks5_proxy(Some(("bob", "pw"))).await;
    for scheme in ["socks5", "socks5h"] {
        let mut c = via(tls.url(), format!("{scheme}://bob:pw@{}", authed.addr));
        c.tls.ca_file = Some(write(&k, "ca.pem", &k.ca_pem));
        let hs = echoes(c).await;
        let p = hs.proxy.unwrap();
        assert!(p.exchange.contains(&"< login accepted".to_string()), "{:?}", p.exchange);
        assert!(p.exchange.iter().all(|l| !l.contains("pw\"")), "{:?}", p.exchange);
    }
    let asked = authed.asked();
    assert!(
        asked[0].ends_with(&format!(":{port}")) && asked[0] != format!("localhost:{port}"),
        "socks5 resolves here: {asked:?}"
    );
    assert_eq!(asked[1], format!("localhost:{port}"), "socks5h lets the proxy resolve");
}

#[tokio::test]
async fn proxy_credentials_missing_or_wrong() {
    let echo = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let proxy = http_proxy(Some(("alice", "s3cret"))).await;
    let e = fails(via(echo.url(), format!("http://{}", proxy.addr))).await;
    assert_eq!(e.kind, ErrorKind::Proxy);
    assert!(e.message.contains("requires credentials (HTTP 407"), "{}", e.message);
    assert!(e.message.contains("proxy login needed"), "{}", e.message);
    let http = e.http.expect("the proxy's answer");
    assert_eq!(http.status, 407);
    assert_eq!(http.body, "proxy login needed");

    let e = fails(via(echo.url(), format!("http://alice:wrong@{}", proxy.addr))).await;
    assert!(e.message.contains("refused the credentials"), "{}", e.message);
    assert!(!e.message.contains("wrong"), "{}", e.message);

    let socks = socks5_proxy(Some(("bob", "pw"))).await;
    let e = fails(via(echo.url(), format!("socks5://bob:nope@{}", socks.addr))).await;
    assert!(e.message.contains("refused the username and password"), "{}", e.message);
    let e = fails(via(echo.url(), format!("socks5://{}", socks.addr))).await;
    assert!(e.message.contains("requires credentials"), "{}", e.message);
}

#[tokio::test]
async fn a_proxy_that_refuses_and_a_target_unreachable_through_it() {
    let echo = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let dead = closed_port().await;
    let e = fails(via(echo.url(), format!("http://127.0.0.1:{dead}"))).await;
    assert_eq!(e.kind, ErrorKind::Proxy);
    assert!(
        e.message.starts_with(&format!(
            "proxy http://127.0.0.1:{dead} (the connection's setting): could not reach the proxy: connection refused"
        )),
        "{}",
        e.message
    );

    let target = format!("ws://127.0.0.1:{}/", closed_port().await);
    let proxy = http_proxy(None).await;
    let e = fails(via(&target, format!("http://{}", proxy.addr))).await;
    assert!(
        e.message
            .contains("is unreachable through the proxy (HTTP 502 Bad Gateway)"),
        "{}",
        e.message
    );
    assert_eq!(e.http.unwrap().status, 502);

    let socks = socks5_proxy(None).await;
    let e = fails(via(&target, format!("socks5h://{}", socks.addr))).await;
    assert!(
        e.message
            .contains("is unreachable through the proxy: connection refused by the target"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_bad_proxy_url_is_refused_before_dialing_without_echoing_it() {
    let (m, _) = manager();
    let id = m.create("x", via("ws://127.0.0.1:1/", "gopher://u:hunter2@h".into()));
    let e = m.connect(id).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Proxy);
    assert!(e.to_string().contains("use http://, socks5:// or socks5h://"), "{e}");
    assert!(!e.to_string().contains("hunter2"), "{e}");
}
