//! The proxy from the environment (curl's variables, NO_PROXY) and the app's global
//! setting, in order. A binary of its own: it changes the process environment.

#[allow(dead_code)]
#[path = "engine/support.rs"]
mod support;

use support::*;
use wsbench_core::config::ProxySetting;
use wsbench_core::connection::set_global_proxy;
use wsbench_core::{ConnState, ConnectConfig, ErrorKind, LocalServer, ServerConfig};

/// How connecting to `url` fails: a name that never resolves tells a direct dial
/// (a DNS error) from one through the dead proxy (a proxy error).
async fn failure(c: ConnectConfig) -> (ErrorKind, String) {
    let (m, _) = manager();
    let (_, s) = open(&m, c);
    match wait_end(&s).await {
        ConnState::Failed { error } => (error.kind, error.message),
        other => panic!("{other:?}"),
    }
}

const NOWHERE: &str = "ws://wsbench-test.invalid/";

#[tokio::test]
async fn environment_then_global_then_the_connection() {
    for v in [
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
    ] {
        std::env::remove_var(v);
    }
    let dead = format!("http://127.0.0.1:{}", closed_port().await);
    std::env::set_var("HTTP_PROXY", &dead);

    let (kind, e) = failure(ConnectConfig::new(NOWHERE)).await;
    assert_eq!(kind, ErrorKind::Proxy, "{e}");
    assert!(e.contains("(from HTTP_PROXY)"), "{e}");

    // wss:// reads HTTPS_PROXY, not HTTP_PROXY.
    let (kind, e) = failure(ConnectConfig::new("wss://wsbench-test.invalid/")).await;
    assert_eq!(kind, ErrorKind::Dns, "{e}");

    std::env::set_var("NO_PROXY", "example.org, .invalid");
    let (kind, e) = failure(ConnectConfig::new(NOWHERE)).await;
    assert_eq!(kind, ErrorKind::Dns, "NO_PROXY goes direct: {e}");
    std::env::remove_var("NO_PROXY");

    // The environment's proxy is not used for this machine.
    let echo = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let (m, _) = manager();
    let (_, s) = open(&m, ConnectConfig::new(echo.url()));
    wait_open(&s).await;

    set_global_proxy(ProxySetting::None);
    let (kind, e) = failure(ConnectConfig::new(NOWHERE)).await;
    assert_eq!(kind, ErrorKind::Dns, "the global 'none' beats the environment: {e}");

    set_global_proxy(ProxySetting::Url { url: dead.clone() });
    let (kind, e) = failure(ConnectConfig::new(NOWHERE)).await;
    assert_eq!(kind, ErrorKind::Proxy, "{e}");
    assert!(e.contains("(the app's proxy setting)"), "{e}");

    let mut c = ConnectConfig::new(NOWHERE);
    c.proxy = ProxySetting::None;
    let (kind, e) = failure(c).await;
    assert_eq!(
        kind,
        ErrorKind::Dns,
        "the connection's 'none' beats the global setting: {e}"
    );
    set_global_proxy(ProxySetting::System);
}
