//! App-wide settings: the global proxy, used by every connection whose own proxy
//! setting is "system", before the environment (`HTTPS_PROXY`...). Kept in
//! `state.json`.

use serde::Serialize;
use tauri::State;
use wsbench_core::config::ProxySetting;
use wsbench_core::connection::{global_proxy, proxy::Proxy, set_global_proxy};

use super::CmdResult;
use crate::{lock, AppState};

/// Proxy variables curl (and wsbench) read, upper case first.
const ENV_VARS: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// The global proxy setting, and which proxy variables the environment sets (names
/// only: their values may hold credentials).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyView {
    pub setting: ProxySetting,
    pub environment: Vec<String>,
}

fn view() -> ProxyView {
    ProxyView {
        setting: global_proxy(),
        environment: ENV_VARS
            .iter()
            .filter(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
            .map(|v| (*v).to_owned())
            .collect(),
    }
}

#[tauri::command]
pub fn proxy_get() -> ProxyView {
    view()
}

/// Set the global proxy: `{mode: "system"}` (the environment decides), `{mode:
/// "none"}` (direct) or `{mode: "url", url}`. A URL is checked first (unless it holds
/// `{{variables}}`, resolved when connecting); the error never repeats credentials.
#[tauri::command]
pub async fn proxy_set(state: State<'_, AppState>, setting: ProxySetting) -> CmdResult<ProxyView> {
    if let ProxySetting::Url { url } = &setting {
        if !url.contains("{{") {
            Proxy::parse(url, "global")?;
        }
    }
    set_global_proxy(setting.clone());
    lock(&state.ui).file.proxy = setting;
    state.persist_async().await;
    Ok(view())
}
