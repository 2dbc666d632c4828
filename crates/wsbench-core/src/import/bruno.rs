//! Bruno: `.bru` request files and collection folders (`bruno.json`, `collection.bru`,
//! `folder.bru`, `environments/*.bru`).
//!
//! Followed (repository usebruno/bruno):
//! - `packages/bruno-lang/v2/src/jsonToBru.js` and its tests (`bruToJson` `body:ws`
//!   tests): a WebSocket request is `meta { type: ws }`, a `ws { url, body: ws, auth }`
//!   block, `headers`, `params:query`/`params:path`, `auth:<mode>` blocks, one `body:ws
//!   { name, type, content }` block per message in order, and `settings { timeout,
//!   keepAliveInterval }`.
//! - `packages/bruno-lang/v2/src/bruToJson.js` (`~` switches a row off, `auth:apikey {
//!   key, value, placement }`), `src/peggy/envToJson.peggy` (environments: `vars`,
//!   `vars:secret [names]`, secret values are kept outside the collection),
//!   `src/collectionBruToJson.js` (`collection.bru`/`folder.bru`: `meta`, `headers`,
//!   `auth { mode }`, scripts, vars, docs).
//! - `packages/bruno-filestore/src/formats/yml/common/auth.ts`: API key placement
//!   `header` or `queryparams`; auth mode `inherit` takes the folder's or collection's.
//!
//! Choices where the sources leave room:
//! - Bruno keeps enabled query parameters both in the URL and in `params:query`; when
//!   the URL's query is exactly the enabled parameters, it is taken off the URL so the
//!   parameters are not sent twice.
//! - `Sec-WebSocket-Protocol` headers become wsbench subprotocols (Bruno has no field).
//! - The `settings` values (`timeout`, `keepAliveInterval`) are listed, not mapped: the
//!   sources do not pin their units.
//! - Items in a folder are ordered by `seq`, then by file name; folders without a
//!   `folder.bru` seq come after.

use std::fs;
use std::path::{Path, PathBuf};

use crate::config::{ApiKeyPlacement, Auth, ConnectConfig, KeyValue};
use crate::error::{Error, Result};

use super::bru::{self, Block, Blocks, Body};
use super::convert::{
    collection_entries, fill_path_params, inherit_headers, key_value, label, message_name, parse_json, settle_headers,
    sorted_entries, Collector,
};
use super::ImportReport;
use crate::collections::{Environment, MessageFormat, SavedConnection, SavedMessage, Variable};

/// Import one `.bru` request file. A WebSocket request becomes a connection; any
/// other request is listed as not imported.
pub fn import_bru(text: &str, origin: &str) -> Result<ImportReport> {
    let blocks = bru::parse(text, origin)?;
    let stem = Path::new(origin)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("request")
        .to_owned();
    let mut out = Collector::default();
    request(&mut out, &blocks, &stem, &[], &Inherited::default());
    Ok(out.report)
}

/// Import a Bruno collection folder: the one with `bruno.json`.
pub fn import_bruno_folder(dir: &Path) -> Result<ImportReport> {
    let config_path = dir.join("bruno.json");
    let config_text = fs::read_to_string(&config_path).map_err(|e| Error::io(&config_path, &e))?;
    let config = parse_json(&config_text, &config_path.display().to_string())?;
    let mut out = Collector::default();
    out.report.name = config.text("name");
    if out.report.name.trim().is_empty() {
        out.report.name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    }
    if !config.at(&["clientCertificates", "certs"]).is_blank() {
        out.note(
            "client certificates of the collection",
            "set the certificate and key files in each connection's TLS settings by hand",
        );
    }
    let proxy = config.get("proxy");
    if proxy.get("enabled").as_bool() == Some(true) || proxy.get("disabled").as_bool() == Some(false) {
        out.note(
            "proxy settings of the collection",
            "wsbench connects directly, without a proxy",
        );
    }
    let mut ignore: Vec<String> = config.get("ignore").items().iter().filter_map(|n| n.scalar()).collect();
    if config.get("ignore").is_null() {
        ignore = vec!["node_modules".into(), ".git".into()];
    }

    let mut inh = Inherited::default();
    let collection_bru = dir.join("collection.bru");
    if collection_bru.is_file() {
        let blocks = read_bru(&collection_bru)?;
        inh = enter(&mut out, &blocks, "the collection", &inh);
    }
    if dir.join(".env").is_file() {
        out.note(
            ".env file",
            "wsbench does not read {{process.env.*}} values; put them in an environment by hand",
        );
    }
    walk(&mut out, dir, dir, &[], &inh, &ignore)?;

    let env_dir = dir.join("environments");
    if env_dir.is_dir() {
        for path in sorted_entries(&env_dir)? {
            if path.is_file() && path.extension().is_some_and(|e| e == "bru") {
                let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
                let text = crate::fs::read_text_capped(&path, crate::fs::MAX_IMPORT_FILE_BYTES)
                    .map_err(|e| Error::io(&path, &e))?;
                let env = environment(&mut out, &text, &name, &path.display().to_string())?;
                out.report.environments.push(env);
            }
        }
    }
    Ok(out.report)
}

/// A Bruno environment file (`vars { }`, `vars:secret [ ]`).
fn environment(out: &mut Collector, text: &str, name: &str, origin: &str) -> Result<Environment> {
    let blocks = bru::parse(text, origin)?;
    let mut variables = Vec::new();
    for b in &blocks {
        match (b.name.as_str(), &b.body) {
            ("vars", Body::Dict(pairs)) => {
                for p in pairs {
                    variables.push(Variable {
                        name: p.key.clone(),
                        value: dynamic_vars(out, &p.value, &format!("environment {name}")),
                        secret: false,
                        enabled: p.enabled,
                    });
                }
            }
            ("vars:secret", Body::List(names)) => {
                for n in names {
                    let (var_name, enabled) = match n.strip_prefix('~') {
                        Some(rest) => (rest.to_owned(), false),
                        None => (n.clone(), true),
                    };
                    out.note(
                        format!("value of secret `{var_name}` in environment `{name}`"),
                        "Bruno keeps secret values outside the collection; enter the value in wsbench",
                    );
                    variables.push(Variable {
                        name: var_name,
                        value: String::new(),
                        secret: true,
                        enabled,
                    });
                }
            }
            (other, _) => out.note(
                format!("block `{other}` of environment `{name}`"),
                "not part of a Bruno environment wsbench knows",
            ),
        }
    }
    Ok(Environment {
        name: name.to_owned(),
        variables,
        ..Environment::default()
    })
}

fn read_bru(path: &Path) -> Result<Vec<Block>> {
    let text = crate::fs::read_text_capped(path, crate::fs::MAX_IMPORT_FILE_BYTES).map_err(|e| Error::io(path, &e))?;
    bru::parse(&text, &path.display().to_string())
}

enum Entry {
    Request {
        blocks: Vec<Block>,
        stem: String,
    },
    Folder {
        path: PathBuf,
        name: String,
        blocks: Vec<Block>,
    },
}

fn walk(
    out: &mut Collector,
    root: &Path,
    dir: &Path,
    folder: &[String],
    inh: &Inherited,
    ignore: &[String],
) -> Result<()> {
    let mut entries: Vec<(u64, String, Entry)> = Vec::new();
    for (path, file_name) in collection_entries(root, dir, ignore)? {
        if path.is_dir() {
            let folder_bru = path.join("folder.bru");
            let blocks = if folder_bru.is_file() {
                read_bru(&folder_bru)?
            } else {
                Vec::new()
            };
            let name = blocks
                .value("meta", "name")
                .filter(|n| !n.trim().is_empty())
                .map(str::to_owned)
                .unwrap_or_else(|| file_name.clone());
            let seq = blocks
                .value("meta", "seq")
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(u64::MAX);
            entries.push((seq, file_name, Entry::Folder { path, name, blocks }));
        } else if path.extension().is_some_and(|e| e == "bru")
            && !(file_name == "folder.bru" || (dir == root && file_name == "collection.bru"))
        {
            let blocks = read_bru(&path)?;
            let seq = blocks
                .value("meta", "seq")
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(1);
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
            entries.push((seq, file_name, Entry::Request { blocks, stem }));
        }
    }
    entries.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    for (_, _, entry) in entries {
        match entry {
            Entry::Request { blocks, stem } => request(out, &blocks, &stem, folder, inh),
            Entry::Folder { path, name, blocks } => {
                let mut sub = folder.to_vec();
                sub.push(name);
                let inner = enter(out, &blocks, &format!("folder `{}`", sub.join("/")), inh);
                walk(out, root, &path, &sub, &inner, ignore)?;
            }
        }
    }
    Ok(())
}

/// What requests inherit from `collection.bru` and `folder.bru` files above them.
#[derive(Clone, Default)]
struct Inherited {
    headers: Vec<KeyValue>,
    /// The auth blocks of the nearest folder whose mode is not `inherit`.
    auth: Option<(String, Vec<Block>)>,
}

/// Read a `collection.bru`/`folder.bru`: headers and auth pass down, the rest is noted.
fn enter(out: &mut Collector, blocks: &[Block], of: &str, inh: &Inherited) -> Inherited {
    let mut inner = inh.clone();
    for h in blocks.pairs("headers") {
        inner
            .headers
            .push(key_value(h.key.clone(), dynamic_vars(out, &h.value, of), h.enabled));
    }
    if let Some(mode) = blocks.value("auth", "mode") {
        if mode != "inherit" {
            inner.auth = Some((mode.to_owned(), blocks.to_vec()));
        }
    }
    for b in blocks {
        if b.is_blank() {
            continue;
        }
        let what = match b.name.as_str() {
            "meta" | "headers" | "auth" => continue,
            n if n.starts_with("auth:") => continue,
            "script:pre-request" => "pre-request script",
            "script:post-response" => "post-response script",
            "tests" => "tests",
            "vars:pre-request" | "vars:post-response" => "variables",
            "docs" => "docs",
            other => {
                out.note(format!("block `{other}` of {of}"), "wsbench has nothing like it");
                continue;
            }
        };
        out.note(format!("{what} of {of}"), reason_for(what));
    }
    inner
}

fn reason_for(what: &str) -> &'static str {
    match what {
        "pre-request script" | "post-response script" => "wsbench does not run scripts",
        "tests" => "wsbench has no test runner",
        "assertions" => "wsbench has no assertions",
        "variables" => "wsbench variables come from environments; add these to one by hand",
        "docs" => "wsbench has no notes on connections or folders",
        _ => "wsbench has nothing like it",
    }
}

fn request(out: &mut Collector, blocks: &[Block], stem: &str, folder: &[String], inh: &Inherited) {
    let name = blocks
        .value("meta", "name")
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(stem)
        .to_owned();
    let item = label(folder, &name);
    let ty = blocks.value("meta", "type").unwrap_or("http");
    let is_ws = ty == "ws" || blocks.block("ws").is_some();
    if !is_ws {
        let kind = match ty {
            "graphql" => "GraphQL request",
            "grpc" => "gRPC request",
            _ if blocks.block("grpc").is_some() => "gRPC request",
            _ => "HTTP request",
        };
        out.note(format!("{kind} `{item}`"), "not a WebSocket request");
        return;
    }

    let url = dynamic_vars(out, blocks.value("ws", "url").unwrap_or_default(), &item);
    let mut config = ConnectConfig::new(url);
    request_params(out, blocks, &item, &mut config);
    let own: Vec<KeyValue> = blocks
        .pairs("headers")
        .iter()
        .map(|h| key_value(h.key.clone(), dynamic_vars(out, &h.value, &item), h.enabled))
        .collect();
    config.headers = inherit_headers(&inh.headers, own);
    let (auth, header) = request_auth(out, blocks, &item, inh);
    config.auth = auth;
    config.headers.extend(header);
    let messages = request_messages(out, blocks, &item);
    note_request_blocks(out, blocks, &item);

    settle_headers(&mut config, &item, out);
    let mut connection = SavedConnection::new(name, config);
    connection.messages = messages;
    out.connection(folder.to_vec(), connection);
}

/// Query parameters (taken out of the URL when it mirrors them) and `:name` path
/// parameters filled into the URL.
fn request_params(out: &mut Collector, blocks: &[Block], item: &str, config: &mut ConnectConfig) {
    let mut params: Vec<KeyValue> = Vec::new();
    for b in blocks.iter().filter(|b| b.name == "params:query" || b.name == "query") {
        for p in b.pairs() {
            params.push(key_value(p.key.clone(), dynamic_vars(out, &p.value, item), p.enabled));
        }
    }
    config.url = drop_mirrored_query(&config.url, &params);
    config.params = params;
    let path_params: Vec<(String, String)> = blocks
        .pairs("params:path")
        .iter()
        .filter(|p| p.enabled)
        .map(|p| (p.key.clone(), p.value.clone()))
        .collect();
    let (url, missing) = fill_path_params(&config.url, &path_params);
    config.url = url;
    for m in missing {
        out.note(
            format!("path parameter `{m}` of `{item}`"),
            "the URL has no `:name` segment for it",
        );
    }
}

/// The request's auth: its `ws` block's mode (else its `auth:<mode>` block), or the
/// folder's when it inherits; an API key in a header comes back as that header.
fn request_auth(out: &mut Collector, blocks: &[Block], item: &str, inh: &Inherited) -> (Auth, Option<KeyValue>) {
    let mode = blocks.value("ws", "auth").map(str::to_owned).unwrap_or_else(|| {
        blocks
            .iter()
            .find_map(|b| b.name.strip_prefix("auth:").map(str::to_owned))
            .unwrap_or_else(|| "none".to_owned())
    });
    if mode == "inherit" {
        match &inh.auth {
            Some((m, b)) => auth(out, m, b, item),
            None => (Auth::None, None),
        }
    } else {
        auth(out, &mode, blocks, item)
    }
}

/// Every `body:ws` block as a saved message.
fn request_messages(out: &mut Collector, blocks: &[Block], item: &str) -> Vec<SavedMessage> {
    let ws_blocks: Vec<&Block> = blocks.iter().filter(|b| b.name == "body:ws").collect();
    let mut messages = Vec::new();
    for (i, b) in ws_blocks.iter().enumerate() {
        let ty = b.value("type").unwrap_or("text");
        let name = message_name(b.value("name").unwrap_or_default(), i, ws_blocks.len());
        messages.push(bruno_message(
            out,
            name,
            ty,
            b.value("content").unwrap_or_default(),
            item,
        ));
    }
    messages
}

/// A note for every non-blank block wsbench does not take in (scripts, tests,
/// settings that are not defaults, unknown blocks).
fn note_request_blocks(out: &mut Collector, blocks: &[Block], item: &str) {
    for b in blocks {
        if b.is_blank() {
            continue;
        }
        let what = match b.name.as_str() {
            "meta" | "ws" | "headers" | "params:query" | "query" | "params:path" | "body:ws" => continue,
            n if n.starts_with("auth:") => continue,
            "settings" => {
                for p in b.pairs().iter().filter(|p| p.key != "encodeUrl") {
                    let v = p.value.trim();
                    if !(v.is_empty() || v == "0" || v == "false") {
                        out.note(
                            format!("setting `{}: {v}` of `{item}`", p.key),
                            "wsbench has its own timeouts and keepalive settings; set them by hand",
                        );
                    }
                }
                continue;
            }
            "script:pre-request" => "pre-request script",
            "script:post-response" => "post-response script",
            "tests" => "tests",
            "assert" => "assertions",
            "vars:pre-request" | "vars:post-response" => "variables",
            "docs" => "docs",
            other => {
                out.note(
                    format!("block `{other}` of `{item}`"),
                    "not part of a WebSocket request wsbench knows",
                );
                continue;
            }
        };
        out.note(format!("{what} of `{item}`"), reason_for(what));
    }
}

/// Auth of `mode` from the `auth:<mode>` block in `blocks`.
fn auth(out: &mut Collector, mode: &str, blocks: &[Block], item: &str) -> (Auth, Option<KeyValue>) {
    let block = format!("auth:{mode}");
    let v = |out: &mut Collector, key: &str| dynamic_vars(out, blocks.value(&block, key).unwrap_or_default(), item);
    match mode {
        "none" | "" => (Auth::None, None),
        "bearer" => (Auth::Bearer { token: v(out, "token") }, None),
        "basic" => (
            Auth::Basic {
                username: v(out, "username"),
                password: v(out, "password"),
            },
            None,
        ),
        "apikey" => {
            let placement = match blocks.value(&block, "placement").unwrap_or_default() {
                "queryparams" | "query" => ApiKeyPlacement::Query,
                _ => ApiKeyPlacement::Header,
            };
            (
                Auth::ApiKey {
                    name: v(out, "key"),
                    value: v(out, "value"),
                    placement,
                },
                None,
            )
        }
        other => {
            out.note(
                format!("{other} authentication of `{item}`"),
                "wsbench supports bearer, basic and API key authentication",
            );
            (Auth::None, None)
        }
    }
}

/// Bruno repeats the enabled query parameters in the URL; take them off the URL when
/// they are exactly those, so they are not sent twice.
fn drop_mirrored_query(url: &str, params: &[KeyValue]) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let (query, fragment) = match query.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (query, None),
    };
    let in_url: Vec<(&str, &str)> = query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
        .collect();
    let enabled: Vec<(&str, &str)> = params
        .iter()
        .filter(|p| p.enabled)
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    if !enabled.is_empty() && in_url == enabled {
        match fragment {
            Some(f) => format!("{base}#{f}"),
            None => base.to_owned(),
        }
    } else {
        url.to_owned()
    }
}

/// Bruno's `{{name}}` is wsbench's; its dynamic variables are mapped where wsbench has
/// the same (`$randomUUID`/`$guid` -> `$uuid`) and noted where it has none.
/// A Bruno / OpenCollection WebSocket message of type `ty` ("text", "json" or
/// "binary"; binary bodies are kept as text, and said so).
pub(super) fn bruno_message(out: &mut Collector, name: String, ty: &str, body: &str, item: &str) -> SavedMessage {
    if ty == "binary" {
        out.note(
            format!("binary type of message `{name}` in `{item}`"),
            "the body was imported as text",
        );
    }
    SavedMessage {
        name,
        format: if ty == "json" {
            MessageFormat::Json
        } else {
            MessageFormat::Text
        },
        body: dynamic_vars(out, body, item),
        send_on_connect: false,
    }
}

pub(super) fn dynamic_vars(out: &mut Collector, s: &str, item: &str) -> String {
    if !s.contains("{{") {
        return s.to_owned();
    }
    let mut result = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        result.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            result.push_str(&rest[start..]);
            return result;
        };
        let whole = &rest[start..start + 2 + end + 2];
        let name = after[..end].trim();
        match name {
            "$randomUUID" | "$guid" => result.push_str("{{$uuid}}"),
            "$uuid" | "$timestamp" | "$isoTimestamp" | "$randomInt" => result.push_str(whole),
            n if n.starts_with('$') => {
                out.note(
                    format!("dynamic variable `{whole}` in `{item}`"),
                    "wsbench has no such built-in variable; it was kept as written",
                );
                result.push_str(whole);
            }
            n if n.starts_with("process.env.") => {
                out.note(
                    format!("`{whole}` in `{item}`"),
                    "wsbench does not read process environment variables; define it in an environment",
                );
                result.push_str(whole);
            }
            _ => result.push_str(whole),
        }
        rest = &after[end + 2..];
    }
    result.push_str(rest);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrored_query_comes_off_the_url_only_when_identical() {
        let p = |n: &str, v: &str, e: bool| key_value(n, v, e);
        let params = [p("a", "1", true), p("b", "{{x}}", true), p("c", "3", false)];
        assert_eq!(drop_mirrored_query("ws://h/x?a=1&b={{x}}", &params), "ws://h/x");
        assert_eq!(drop_mirrored_query("ws://h/x?a=2", &params), "ws://h/x?a=2");
        assert_eq!(drop_mirrored_query("ws://h/x", &params), "ws://h/x");
    }

    #[test]
    fn dynamic_variables_map_or_are_noted() {
        let mut out = Collector::default();
        let s = dynamic_vars(
            &mut out,
            "{{$randomUUID}} {{$timestamp}} {{$randomEmail}} {{host}}",
            "r",
        );
        assert_eq!(s, "{{$uuid}} {{$timestamp}} {{$randomEmail}} {{host}}");
        assert_eq!(out.report.unmapped.len(), 1);
    }

    #[test]
    fn missing_parse_error_names_file() {
        let e = import_bru("meta {\n  name: x\n", "dir/x.bru").unwrap_err();
        assert!(
            matches!(e, Error::Parse { ref path, line: 1, .. } if path == "dir/x.bru"),
            "{e:?}"
        );
    }
}
