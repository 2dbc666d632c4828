//! Which proxy a connection goes through: its own setting, then the app's global
//! setting, then the environment with curl's rules (`https_proxy`/`HTTPS_PROXY` for
//! wss://, `http_proxy`/`HTTP_PROXY` for ws://, then `ALL_PROXY`; `NO_PROXY` lists
//! hosts, domains, IPs and CIDR ranges that go direct, `*` for all). Unlike curl, a
//! proxy from the environment is never used for localhost and loopback addresses.

use std::net::IpAddr;
use std::sync::RwLock;

use url::Url;

use crate::config::ProxySetting;
use crate::error::{Error, Result};

/// How the tunnel is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// HTTP CONNECT.
    Http,
    /// SOCKS5, the target's name resolved here.
    Socks5,
    /// SOCKS5, the target's name resolved by the proxy.
    Socks5h,
}

impl ProxyKind {
    pub fn label(self) -> &'static str {
        match self {
            ProxyKind::Http => "HTTP CONNECT",
            ProxyKind::Socks5 => "SOCKS5",
            ProxyKind::Socks5h => "SOCKS5h",
        }
    }

    fn scheme(self) -> &'static str {
        match self {
            ProxyKind::Http => "http",
            ProxyKind::Socks5 => "socks5",
            ProxyKind::Socks5h => "socks5h",
        }
    }
}

/// A proxy to dial, ready to use.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    pub kind: ProxyKind,
    pub host: String,
    pub port: u16,
    /// Username and password (Basic for HTTP, RFC 1929 for SOCKS5).
    pub auth: Option<(String, String)>,
    /// "connection", "global", or the environment variable it came from.
    pub source: String,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (credentials: {})", self.describe(), self.auth.is_some())
    }
}

impl Proxy {
    /// `socks5h://host:port`: never with the credentials.
    pub fn url(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{}://{host}:{}", self.kind.scheme(), self.port)
    }

    /// `http://host:port (from HTTPS_PROXY)`, for messages.
    pub fn describe(&self) -> String {
        match self.source.as_str() {
            "connection" => format!("{} (the connection's setting)", self.url()),
            "global" => format!("{} (the app's proxy setting)", self.url()),
            var => format!("{} (from {var})", self.url()),
        }
    }

    /// Parse a proxy URL as curl does: no scheme means http://, no port means 1080.
    pub fn parse(input: &str, source: &str) -> Result<Proxy> {
        let trimmed = input.trim();
        // The input may hold a password: the message names where it came from instead.
        let bad = |reason: String| Error::Proxy {
            proxy: match source {
                "connection" => "setting of the connection".to_owned(),
                "global" => "setting of the app".to_owned(),
                var => format!("in {var}"),
            },
            reason,
            http: None,
        };
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("http://{trimmed}")
        };
        let url = Url::parse(&with_scheme).map_err(|e| bad(format!("not a proxy URL: {e}")))?;
        let kind = match url.scheme() {
            "http" => ProxyKind::Http,
            "socks5" => ProxyKind::Socks5,
            "socks5h" => ProxyKind::Socks5h,
            other => {
                return Err(bad(format!(
                    "unsupported proxy scheme \"{other}\"; use http://, socks5:// or socks5h://"
                )))
            }
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("the proxy URL has no host".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        let auth = (!url.username().is_empty()).then(|| (decode(url.username()), decode(url.password().unwrap_or(""))));
        Ok(Proxy {
            kind,
            host,
            port: url.port().unwrap_or(1080),
            auth,
            source: source.to_owned(),
        })
    }
}

static GLOBAL: RwLock<ProxySetting> = RwLock::new(ProxySetting::System);

/// The app's proxy setting, used by every connection whose own setting is
/// "system". `System` here means: the environment.
pub fn set_global_proxy(setting: ProxySetting) {
    *GLOBAL.write().unwrap_or_else(|e| e.into_inner()) = setting;
}

pub fn global_proxy() -> ProxySetting {
    GLOBAL.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The proxy for `url` (host and port already known), from the connection's
/// setting, the global setting and the process environment.
pub(super) fn choose(setting: &ProxySetting, url: &Url, host: &str, port: u16) -> Result<Option<Proxy>> {
    choose_with(
        setting,
        &global_proxy(),
        &|k| std::env::var(k).ok(),
        url.scheme(),
        host,
        port,
    )
}

pub(super) fn choose_with(
    setting: &ProxySetting,
    global: &ProxySetting,
    env: &dyn Fn(&str) -> Option<String>,
    scheme: &str,
    host: &str,
    port: u16,
) -> Result<Option<Proxy>> {
    for (s, source) in [(setting, "connection"), (global, "global")] {
        match s {
            ProxySetting::None => return Ok(None),
            ProxySetting::Url { url } => return Proxy::parse(url, source).map(Some),
            ProxySetting::System => {}
        }
    }
    let get = |name: &str| {
        [name.to_ascii_lowercase(), name.to_owned()]
            .into_iter()
            .find_map(|k| env(&k).filter(|v| !v.trim().is_empty()).map(|v| (k, v)))
    };
    if let Some((_, list)) = get("NO_PROXY") {
        if no_proxy_matches(&list, host, port) {
            return Ok(None);
        }
    }
    if is_loopback(host) {
        // As browsers do (and unlike curl): a proxy from the environment is never
        // used for this machine. An explicit setting above still is.
        return Ok(None);
    }
    let specific = if scheme == "wss" { "HTTPS_PROXY" } else { "HTTP_PROXY" };
    match get(specific).or_else(|| get("ALL_PROXY")) {
        Some((var, value)) => Proxy::parse(&value, &var).map(Some),
        None => Ok(None),
    }
}

/// curl's `NO_PROXY`: comma-separated; `*` matches everything; a name matches
/// itself and its subdomains (a leading dot is ignored); an IP matches itself; a
/// CIDR range its addresses; `host:port` only that port.
pub(super) fn no_proxy_matches(list: &str, host: &str, port: u16) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    let ip: Option<IpAddr> = host.parse().ok();
    list.split([',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.to_ascii_lowercase();
            let (name, entry_port) = split_port(&entry);
            if entry_port.is_some_and(|p| p != port) {
                return false;
            }
            if let (Some(ip), Some((net, bits))) = (ip, name.split_once('/')) {
                return cidr_contains(net, bits, ip);
            }
            let name = name.trim_start_matches('.').trim_end_matches('.');
            match (ip, name.parse::<IpAddr>()) {
                (Some(a), Ok(b)) => a == b,
                (None, Err(_)) => host == name || host.ends_with(&format!(".{name}")),
                _ => false,
            }
        })
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.');
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        // [v6]:port or [v6]
        if let Some((addr, tail)) = rest.split_once(']') {
            return (addr, tail.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
    }
    match entry.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => match p.parse() {
            Ok(p) => (h, Some(p)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

fn cidr_contains(net: &str, bits: &str, ip: IpAddr) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) if bits <= 32 => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) if bits <= 128 => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    fn pick(setting: &ProxySetting, global: &ProxySetting, vars: &'static [(&str, &str)], url: &str) -> Option<String> {
        let u = Url::parse(url).unwrap();
        let host = u.host_str().unwrap().trim_start_matches('[').trim_end_matches(']');
        choose_with(
            setting,
            global,
            &env(vars),
            u.scheme(),
            host,
            u.port_or_known_default().unwrap(),
        )
        .unwrap()
        .map(|p| format!("{} {}", p.url(), p.source))
    }

    #[test]
    fn the_connection_then_the_global_setting_then_the_environment() {
        let sys = ProxySetting::System;
        let url = |u: &str| ProxySetting::Url { url: u.into() };
        let vars: &[(&str, &str)] = &[("HTTPS_PROXY", "http://env:3128"), ("http_proxy", "socks5h://lower:1")];
        assert_eq!(
            pick(&url("socks5://c:9"), &url("http://g:8"), vars, "wss://x/").as_deref(),
            Some("socks5://c:9 connection")
        );
        assert_eq!(pick(&ProxySetting::None, &url("http://g:8"), vars, "wss://x/"), None);
        assert_eq!(
            pick(&sys, &url("http://g:8"), vars, "wss://x/").as_deref(),
            Some("http://g:8 global")
        );
        assert_eq!(pick(&sys, &ProxySetting::None, vars, "wss://x/"), None);
        assert_eq!(
            pick(&sys, &sys, vars, "wss://x/").as_deref(),
            Some("http://env:3128 HTTPS_PROXY")
        );
        assert_eq!(
            pick(&sys, &sys, vars, "ws://x/").as_deref(),
            Some("socks5h://lower:1 http_proxy")
        );
        let all: &[(&str, &str)] = &[("ALL_PROXY", "proxy.corp"), ("https_proxy", "")];
        assert_eq!(
            pick(&sys, &sys, all, "wss://x/").as_deref(),
            Some("http://proxy.corp:1080 ALL_PROXY")
        );
        assert_eq!(pick(&sys, &sys, &[], "wss://x/"), None);
    }

    #[test]
    fn no_proxy_follows_curl() {
        let list = "localhost, .corp.example,10.0.0.0/8,::1, api.test:8443";
        assert!(no_proxy_matches(list, "localhost", 80));
        assert!(no_proxy_matches(list, "corp.example", 443));
        assert!(no_proxy_matches(list, "a.b.corp.example", 443));
        assert!(!no_proxy_matches(list, "notcorp.example", 443));
        assert!(no_proxy_matches(list, "10.2.3.4", 80));
        assert!(!no_proxy_matches(list, "11.2.3.4", 80));
        assert!(no_proxy_matches(list, "[::1]", 80));
        assert!(no_proxy_matches(list, "api.test", 8443));
        assert!(!no_proxy_matches(list, "api.test", 443));
        assert!(no_proxy_matches("*", "anything", 1));
        let vars: &[(&str, &str)] = &[
            ("HTTPS_PROXY", "http://env:3128"),
            ("NO_PROXY", "127.0.0.1,example.org"),
        ];
        let sys = ProxySetting::System;
        assert_eq!(pick(&sys, &sys, vars, "wss://127.0.0.1:9/"), None);
        assert_eq!(pick(&sys, &sys, vars, "wss://ws.example.org/"), None);
        assert!(pick(&sys, &sys, vars, "wss://example.com/").is_some());
        // NO_PROXY is the environment's rule: an explicit setting is used as set.
        let url = ProxySetting::Url {
            url: "http://c:1".into(),
        };
        assert!(pick(&url, &sys, vars, "wss://127.0.0.1/").is_some());
        // The environment's proxy never applies to this machine.
        let env_only: &[(&str, &str)] = &[("HTTP_PROXY", "http://env:3128")];
        for local in [
            "ws://localhost:1/",
            "ws://127.0.0.5/",
            "ws://[::1]/",
            "ws://app.localhost/",
        ] {
            assert_eq!(pick(&sys, &sys, env_only, local), None, "{local}");
        }
    }

    #[test]
    fn proxy_urls_parse_as_curl_reads_them() {
        let p = Proxy::parse("socks5h://al%40ce:p%3Ass@[::1]:9050", "connection").unwrap();
        assert_eq!((p.kind, p.host.as_str(), p.port), (ProxyKind::Socks5h, "::1", 9050));
        assert_eq!(p.auth, Some(("al@ce".into(), "p:ss".into())));
        assert_eq!(p.url(), "socks5h://[::1]:9050");
        assert!(!format!("{p:?}").contains("p:ss"));
        let e = Proxy::parse("ftp://x", "connection").unwrap_err();
        assert!(e.to_string().contains("use http://, socks5:// or socks5h://"), "{e}");
    }
}
