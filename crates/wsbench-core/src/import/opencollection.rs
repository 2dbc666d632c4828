//! OpenCollection YAML: the format Bruno exports a collection to as one file
//! (`opencollection: 1.0.0` at the top).
//!
//! Followed:
//! - usebruno/bruno `packages/bruno-filestore/src/formats/yml/parseCollection.ts` (top
//!   level `opencollection`, `info.name`, `config.environments`, `config.proxy`,
//!   `config.clientCertificates`, `request` defaults, `docs`), `parseFolder.ts` (folders:
//!   `info`, `items`, `request`), `items/parseWebsocketRequest.ts` and its spec (a
//!   WebSocket item: `info { name, type: websocket, seq }`, `websocket { url, headers,
//!   auth, message { type, data } }`, `runtime { scripts, variables }`, `settings`,
//!   `docs`), `common/auth.ts` (`auth: inherit` or `{ type, ... }`, API key
//!   `placement: header|query`), `parseEnvironment.ts` (`secret: true` variables).
//! - usebruno/bruno `packages/bruno-filestore/src/formats/yaml/schema/opencollection.schema.json`
//!   (draft v1.0.0, flat items: `type`, `name`, `url`, `headers`, `message` as one
//!   message or a list of `{ title, selected, message }` variants, `variables` whose
//!   `value` is a string, `{ type, data }` or a list of variants; environments with
//!   `extends`).
//!
//! - usebruno/bruno `packages/bruno-filestore/src/constants.ts` (YAML is Bruno's default
//!   collection format) and the filestore tests: a collection folder holds
//!   `opencollection.yml` (or `.yaml`), a `folder.yml` per folder, one `.yml` file per
//!   request and `environments/<name>.yml`.
//!
//! Both the flat draft shape and the `info`/`websocket`/`runtime` shape are read. A
//! collection folder is read into one bundled document first, then mapped the same way.
//! Choices: an environment that `extends` another gets that one's variables under its
//! own (as Insomnia sub-environments do); a variant list of messages becomes one
//! message per variant, in order.

use std::path::Path;

use crate::config::{ApiKeyPlacement, Auth, ConnectConfig, KeyValue};
use crate::error::{Error, Result};

use super::bruno::{bruno_message, dynamic_vars};
use super::convert::{
    collection_entries, fill_path_params, inherit_headers, key_value, label, merge_variables, message_name,
    parse_error, parse_yaml, settle_headers, sorted_entries, Collector,
};
use super::node::Node;
use super::ImportReport;
use crate::collections::{Environment, SavedConnection, SavedMessage, Variable};

/// Import an OpenCollection YAML file (it has `opencollection:` at the top).
pub fn import_opencollection(text: &str, origin: &str) -> Result<ImportReport> {
    let doc = parse_yaml(text, origin)?;
    if doc.get("opencollection").is_null() {
        return Err(parse_error(
            origin,
            0,
            0,
            "not an OpenCollection file: expected `opencollection: 1.0.0` at the top",
        ));
    }
    from_node(&doc, origin)
}

/// The names Bruno gives a collection folder's root file.
pub(super) const ROOT_FILES: [&str; 2] = ["opencollection.yml", "opencollection.yaml"];
const FOLDER_FILES: [&str; 2] = ["folder.yml", "folder.yaml"];

/// Import an OpenCollection collection folder: `opencollection.yml`, a `folder.yml` per
/// folder, a `.yml` file per request and `environments/*.yml`.
pub fn import_opencollection_folder(dir: &Path) -> Result<ImportReport> {
    let Some(root_file) = ROOT_FILES.iter().map(|f| dir.join(f)).find(|p| p.is_file()) else {
        return Err(parse_error(
            dir.display().to_string(),
            0,
            0,
            "this folder has no opencollection.yml",
        ));
    };
    let mut doc = read_yaml(&root_file)?;
    if doc.get("bundled").as_bool() == Some(true) || !doc.get("items").is_blank() {
        // A bundled file that happens to have the root file's name: it is the collection.
        return from_node(&doc, &root_file.display().to_string());
    }
    let mut ignore: Vec<String> = doc
        .at(&["extensions", "ignore"])
        .items()
        .iter()
        .filter_map(Node::scalar)
        .collect();
    ignore.extend(["node_modules".to_owned(), ".git".to_owned()]);
    let items = folder_items(dir, dir, &ignore)?;
    let mut all = doc.get("items").items().to_vec();
    all.extend(items);
    doc.set("items", Node::Seq(all));

    let env_dir = dir.join("environments");
    if env_dir.is_dir() {
        let mut envs = doc.at(&["config", "environments"]).items().to_vec();
        for path in sorted_entries(&env_dir)? {
            if path.is_file() && is_yaml(&path) {
                let mut env = read_yaml(&path)?;
                if env.text("name").trim().is_empty() {
                    env.set("name", Node::Str(stem(&path)));
                }
                envs.push(env);
            }
        }
        let mut config = doc.get("config").clone();
        config.set("environments", Node::Seq(envs));
        doc.set("config", config);
    }
    from_node(&doc, &dir.display().to_string())
}

fn read_yaml(path: &Path) -> Result<Node> {
    let text = crate::fs::read_text_capped(path, crate::fs::MAX_IMPORT_FILE_BYTES).map_err(|e| Error::io(path, &e))?;
    parse_yaml(&text, &path.display().to_string())
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

fn stem(path: &Path) -> String {
    path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned()
}

/// The items of one folder of a collection folder, ordered by `seq` then file name
/// (folders without a seq last), as one bundled `items` list.
fn folder_items(root: &Path, dir: &Path, ignore: &[String]) -> Result<Vec<Node>> {
    let mut entries: Vec<(u64, String, Node)> = Vec::new();
    for (path, file_name) in collection_entries(root, dir, ignore)? {
        if path.is_dir() {
            let mut folder = match FOLDER_FILES.iter().map(|f| path.join(f)).find(|p| p.is_file()) {
                Some(f) => read_yaml(&f)?,
                None => Node::Map(Vec::new()),
            };
            let seq = seq_of(&folder).unwrap_or(u64::MAX);
            let mut info = folder.get("info").clone();
            if first_text(&folder, &[&["info", "name"], &["name"]]).is_empty() {
                info.set("name", Node::Str(file_name.clone()));
            }
            info.set("type", Node::Str("folder".into()));
            folder.set("info", info);
            folder.set("items", Node::Seq(folder_items(root, &path, ignore)?));
            entries.push((seq, file_name, folder));
        } else if is_yaml(&path)
            && !FOLDER_FILES.contains(&file_name.as_str())
            && !(dir == root && ROOT_FILES.contains(&file_name.as_str()))
        {
            let mut item = read_yaml(&path)?;
            if first_text(&item, &[&["info", "name"], &["name"]]).is_empty() {
                item.set("name", Node::Str(stem(&path)));
            }
            let seq = seq_of(&item).unwrap_or(1);
            entries.push((seq, file_name, item));
        }
    }
    entries.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(entries.into_iter().map(|(_, _, n)| n).collect())
}

fn seq_of(item: &Node) -> Option<u64> {
    [item.at(&["info", "seq"]), item.get("seq")]
        .into_iter()
        .find_map(|n| n.as_f64())
        .filter(|s| *s >= 0.0)
        .map(|s| s as u64)
}

#[derive(Clone, Default)]
struct Inherited {
    headers: Vec<KeyValue>,
    /// The nearest `request.auth` that is not `inherit`.
    auth: Option<Node>,
}

pub(super) fn from_node(doc: &Node, _origin: &str) -> Result<ImportReport> {
    let mut out = Collector::default();
    out.report.name = first_text(doc, &[&["info", "name"], &["name"]]);
    let config = doc.get("config");
    for (key, what, reason) in [
        ("proxy", "proxy settings", "wsbench connects directly, without a proxy"),
        (
            "clientCertificates",
            "client certificates",
            "set the certificate and key files in each connection's TLS settings by hand",
        ),
        ("protobuf", "protobuf files", "used by gRPC requests only"),
    ] {
        let v = config.get(key);
        let inherit = v.as_str() == Some("inherit") || v.as_bool() == Some(false);
        if !v.is_blank() && !inherit {
            out.note(format!("{what} of the collection"), reason);
        }
    }
    let inh = defaults(&mut out, doc.get("request"), "the collection", &Inherited::default());
    if !doc.get("docs").is_blank() {
        out.note(
            "docs of the collection",
            "wsbench has no notes on connections or folders",
        );
    }
    walk(&mut out, doc.get("items").items(), &[], &inh);

    let envs = if config.get("environments").is_null() {
        doc.get("environments")
    } else {
        config.get("environments")
    };
    environments(&mut out, envs.items());
    Ok(out.report)
}

fn first_text(n: &Node, paths: &[&[&str]]) -> String {
    paths
        .iter()
        .filter_map(|p| n.at(p).scalar())
        .find(|s| !s.trim().is_empty())
        .unwrap_or_default()
}

fn item_type(item: &Node) -> String {
    first_text(item, &[&["info", "type"], &["type"]])
}

/// Folder or collection `request` defaults: headers and auth pass down; variables,
/// scripts and settings are noted.
fn defaults(out: &mut Collector, request: &Node, of: &str, inh: &Inherited) -> Inherited {
    let mut inner = inh.clone();
    inner.headers.extend(headers(out, request.get("headers"), of));
    let auth = request.get("auth");
    if !auth.is_null() && auth.as_str() != Some("inherit") {
        inner.auth = Some(auth.clone());
    }
    if !request.get("variables").is_blank() {
        out.note(
            format!("variables of {of}"),
            "wsbench variables come from environments; add these to one by hand",
        );
    }
    if scripts_present(request.get("scripts")) {
        out.note(format!("scripts of {of}"), "wsbench does not run scripts");
    }
    inner
}

fn scripts_present(s: &Node) -> bool {
    match s {
        Node::Map(entries) => entries.iter().any(|(_, v)| !v.is_blank()),
        other => !other.is_blank(),
    }
}

fn headers(out: &mut Collector, list: &Node, item: &str) -> Vec<KeyValue> {
    list.items()
        .iter()
        .filter(|h| !h.text("name").is_empty())
        .map(|h| {
            key_value(
                h.text("name"),
                dynamic_vars(out, &h.text("value"), item),
                h.get("disabled").as_bool() != Some(true) && h.get("enabled").as_bool() != Some(false),
            )
        })
        .collect()
}

fn walk(out: &mut Collector, items: &[Node], folder: &[String], inh: &Inherited) {
    for item in items {
        let ty = item_type(item);
        let name = first_text(item, &[&["info", "name"], &["name"]]);
        if ty == "folder" || (ty.is_empty() && !item.get("items").is_null()) {
            let mut path = folder.to_vec();
            path.push(if name.is_empty() { "Folder".to_owned() } else { name });
            let of = format!("folder `{}`", path.join("/"));
            let inner = defaults(out, item.get("request"), &of, inh);
            if !item.get("docs").is_blank() {
                out.note(
                    format!("docs of {of}"),
                    "wsbench has no notes on connections or folders",
                );
            }
            walk(out, item.get("items").items(), &path, &inner);
            continue;
        }
        let kind = match ty.as_str() {
            "websocket" => {
                websocket(out, item, &name, folder, inh);
                continue;
            }
            "http" => "HTTP request",
            "graphql" => "GraphQL request",
            "grpc" => "gRPC request",
            "script" => "shared script",
            other => {
                out.note(
                    format!("`{}` item `{}`", other, label(folder, &name)),
                    "not a WebSocket request",
                );
                continue;
            }
        };
        let reason = if ty == "script" {
            "wsbench does not run scripts"
        } else {
            "not a WebSocket request"
        };
        out.note(format!("{kind} `{}`", label(folder, &name)), reason);
    }
}

fn websocket(out: &mut Collector, item: &Node, name: &str, folder: &[String], inh: &Inherited) {
    let ws = if item.get("websocket").is_map() {
        item.get("websocket")
    } else {
        item
    };
    let name = if name.trim().is_empty() {
        "WebSocket request"
    } else {
        name
    };
    let label_ = label(folder, name);
    let it = label_.as_str();
    let mut config = ConnectConfig::new(dynamic_vars(out, &ws.text("url"), it));

    let own = headers(out, ws.get("headers"), it);
    config.headers = inherit_headers(&inh.headers, own);
    websocket_params(out, ws, it, &mut config);
    let auth = ws.get("auth");
    let auth = if auth.is_null() || auth.as_str() == Some("inherit") {
        inh.auth.clone().unwrap_or(Node::Null)
    } else {
        auth.clone()
    };
    config.auth = map_auth(out, &auth, it);
    let messages = websocket_messages(out, ws.get("message"), it);
    note_unsupported(out, item, it);

    settle_headers(&mut config, it, out);
    let mut connection = SavedConnection::new(name, config);
    connection.messages = messages;
    out.connection(folder.to_vec(), connection);
}

/// Query parameters, and `path` parameters filled into the URL's `:name` segments.
fn websocket_params(out: &mut Collector, ws: &Node, it: &str, config: &mut ConnectConfig) {
    let mut path_params = Vec::new();
    for p in ws.get("params").items() {
        let enabled = p.get("disabled").as_bool() != Some(true);
        let value = dynamic_vars(out, &p.text("value"), it);
        if p.text("type") == "path" {
            if enabled {
                path_params.push((p.text("name"), value));
            }
        } else {
            config.params.push(key_value(p.text("name"), value, enabled));
        }
    }
    let (url, missing) = fill_path_params(&config.url, &path_params);
    config.url = url;
    for m in missing {
        out.note(
            format!("path parameter `{m}` of `{it}`"),
            "the URL has no `:name` segment for it",
        );
    }
}

/// The request's message (a map) or titled variants (a list) as saved messages.
fn websocket_messages(out: &mut Collector, message: &Node, it: &str) -> Vec<SavedMessage> {
    let variants: Vec<(String, &Node)> = match message {
        Node::Seq(list) => list
            .iter()
            .map(|v| {
                (
                    v.text("title"),
                    if v.get("message").is_null() {
                        v
                    } else {
                        v.get("message")
                    },
                )
            })
            .collect(),
        Node::Map(_) => vec![(String::new(), message)],
        _ => Vec::new(),
    };
    let mut messages = Vec::new();
    for (i, (title, m)) in variants.iter().enumerate() {
        let ty = m.text("type");
        let name = message_name(title, i, variants.len());
        messages.push(bruno_message(out, name, &ty, &m.text("data"), it));
    }
    messages
}

/// A note for each part of the request wsbench does not take in: scripts,
/// variables, assertions (from `runtime` or the item), docs, settings that are not
/// defaults.
fn note_unsupported(out: &mut Collector, item: &Node, it: &str) {
    let runtime = item.get("runtime");
    let pick = |key: &str| {
        if runtime.get(key).is_null() {
            item.get(key)
        } else {
            runtime.get(key)
        }
    };
    if scripts_present(pick("scripts")) {
        out.note(format!("scripts of `{it}`"), "wsbench does not run scripts");
    }
    if !pick("variables").is_blank() {
        out.note(
            format!("variables of `{it}`"),
            "wsbench variables come from environments; add these to one by hand",
        );
    }
    if !pick("assertions").is_blank() {
        out.note(format!("assertions of `{it}`"), "wsbench has no assertions");
    }
    if !item.get("docs").is_blank() {
        out.note(
            format!("docs of `{it}`"),
            "wsbench has no notes on connections or folders",
        );
    }
    for (k, v) in item.get("settings").entries() {
        let text = v.scalar().unwrap_or_default();
        if !(text.is_empty() || text == "0" || text == "false" || k == "encodeUrl") {
            out.note(
                format!("setting `{k}: {text}` of `{it}`"),
                "wsbench has its own timeouts and keepalive settings; set them by hand",
            );
        }
    }
}

fn map_auth(out: &mut Collector, a: &Node, item: &str) -> Auth {
    let ty = a.text("type");
    let t = |out: &mut Collector, k: &str| dynamic_vars(out, &a.text(k), item);
    match ty.as_str() {
        "" | "none" => Auth::None,
        "bearer" => Auth::Bearer { token: t(out, "token") },
        "basic" => Auth::Basic {
            username: t(out, "username"),
            password: t(out, "password"),
        },
        "apikey" => Auth::ApiKey {
            name: t(out, "key"),
            value: t(out, "value"),
            placement: match a.text("placement").as_str() {
                "query" | "queryparams" => ApiKeyPlacement::Query,
                _ => ApiKeyPlacement::Header,
            },
        },
        other => {
            out.note(
                format!("{other} authentication of `{item}`"),
                "wsbench supports bearer, basic and API key authentication",
            );
            Auth::None
        }
    }
}

/// A variable's value: a string, `{ type, data }`, or variants (the selected one).
fn variable_value(v: &Node) -> String {
    match v {
        Node::Seq(variants) => variants
            .iter()
            .find(|x| x.get("selected").as_bool() == Some(true))
            .or_else(|| variants.first())
            .map(|x| variable_value(x.get("value")))
            .unwrap_or_default(),
        Node::Map(_) => v.text("data"),
        other => other.scalar().unwrap_or_default(),
    }
}

fn environments(out: &mut Collector, envs: &[Node]) {
    let mut own: Vec<(String, Vec<Variable>)> = Vec::new();
    for e in envs {
        let name = e.text("name");
        let item = format!("environment {name}");
        let mut vars = Vec::new();
        for v in e.get("variables").items() {
            let var_name = v.text("name");
            if var_name.is_empty() {
                continue;
            }
            let secret = v.get("secret").as_bool() == Some(true);
            let value = dynamic_vars(out, &variable_value(v.get("value")), &item);
            if secret && value.is_empty() {
                out.note(
                    format!("value of secret `{var_name}` in environment `{name}`"),
                    "Bruno keeps secret values outside the collection; enter the value in wsbench",
                );
            }
            vars.push(Variable {
                name: var_name,
                value,
                secret,
                enabled: v.get("disabled").as_bool() != Some(true),
            });
        }
        if !e.get("clientCertificates").is_blank() {
            out.note(
                format!("client certificates of environment `{name}`"),
                "set the certificate and key files in each connection's TLS settings by hand",
            );
        }
        if !e.get("dotEnvFilePath").is_blank() {
            out.note(
                format!("`.env` file of environment `{name}`"),
                "wsbench does not read .env files; put its values in the environment by hand",
            );
        }
        own.push((name, vars));
    }
    for i in 0..envs.len() {
        let variables = resolved(out, envs, &own, i, 0);
        out.report.environments.push(Environment {
            name: own[i].0.clone(),
            variables,
            ..Environment::default()
        });
    }
}

/// An environment's variables over those of the environment it `extends`.
fn resolved(
    out: &mut Collector,
    envs: &[Node],
    own: &[(String, Vec<Variable>)],
    i: usize,
    depth: usize,
) -> Vec<Variable> {
    let parent = envs[i].text("extends");
    if parent.is_empty() {
        return own[i].1.clone();
    }
    match own.iter().position(|(n, _)| *n == parent) {
        Some(p) if p != i && depth < 8 => merge_variables(&resolved(out, envs, own, p, depth + 1), &own[i].1),
        _ => {
            out.note(
                format!("`extends: {parent}` of environment `{}`", own[i].0),
                "no such environment in the file",
            );
            own[i].1.clone()
        }
    }
}
