//! Insomnia: v4 JSON exports and v5 YAML exports.
//!
//! This file holds what both share (the import of a request, a folder, environments
//! and cookies); [`v4`] and [`v5`] walk each export's shape, [`template`] converts
//! Insomnia's Nunjucks templates.
//!
//! Followed (repository Kong/insomnia):
//! - `packages/insomnia/src/common/constants.ts`: the v4 `_type` names (`websocket_request`,
//!   `websocket_payload`, `request_group`, `environment`, `cookie_jar`, ...).
//! - `packages/insomnia/src/common/export.tsx`: the v4 export (`__export_format: 4`,
//!   `resources` linked by `parentId`).
//! - `packages/insomnia/src/models/websocket-request.ts` (`url`, `headers`, `parameters`,
//!   `authentication`, `settingEncodeUrl`, `settingFollowRedirects`, ...),
//!   `models/websocket-payload.ts` (`value`, `mode`: a MIME type, `application/json` by
//!   default; `parentId` is the request), `models/environment.ts` (`data`, `kvPairData`
//!   with `type: secret`, secrets kept under `data.vault`, masked as `••••••` in exports).
//! - `packages/insomnia/src/common/import-v5-parser.ts` and `common/insomnia-v5.ts`: the v5
//!   YAML (`type: collection.insomnia.rest/5.0`, `collection` items with `children`,
//!   WebSocket items told apart by a `meta.id` starting with `ws-req`, `meta.sortKey`,
//!   `environments.subEnvironments`, `authentication` types and API key `addTo`).
//!
//! - `packages/insomnia/src/models/socket-io-request.ts` (`eventListeners` with `isOpen`,
//!   `settingPath`), `models/socket-io-payload.ts` (`eventName`, `ack`, `args` of
//!   `{value, mode}`), `main/network/socket-io.ts` (the URL goes to socket.io-client as
//!   is: its path is the namespace), and the v5 `SocketIORequestSchema` (`meta.id`
//!   starting with `socketio-req`, `settings.path`, no payloads).
//!
//! Choices where the sources leave room:
//! - Insomnia's v5 export writes no WebSocket payloads (its `WebsocketRequestSchema` has
//!   none), so a v5 request comes over without messages.
//! - wsbench environments are flat: the base environment is imported as its own
//!   environment and every sub-environment gets the base variables it overrides.
//!   Nested values become dotted names (`{{ _.api.host }}` -> `{{api.host}}`); vault
//!   secrets (`{{ vault.token }}`) become secret variables (`{{token}}`).
//! - A request with empty `authentication` inherits the nearest folder's; folder headers
//!   are added to the requests below unless a request sets the same header.

mod template;
mod v4;
mod v5;

use crate::config::{ApiKeyPlacement, Auth, ConnectConfig, KeyValue, SioNamespace, SocketIoConfig};
use crate::error::Result;
use crate::socketio::SioCommand;

use super::convert::{
    fill_path_params, inherit_headers, key_value, label, merge_variables, message_name, parse_error, parse_json,
    parse_yaml, settle_headers, Collector,
};
use super::node::Node;
use super::ImportReport;
use crate::collections::{Environment, MessageFormat, SavedConnection, SavedMessage, Variable};
pub(crate) use template::convert_template;
pub(super) use v4::v4_from_node;
pub(super) use v5::v5_from_node;

/// Insomnia writes this instead of a private secret's value.
const MASKED_SECRET: &str = "••••••";

/// Import an Insomnia v4 JSON export (`"__export_format": 4`).
pub fn import_insomnia_v4(text: &str, origin: &str) -> Result<ImportReport> {
    let doc = parse_json(text, origin)?;
    if doc.get("__export_format").scalar().as_deref() != Some("4") {
        return Err(parse_error(
            origin,
            0,
            0,
            "not an Insomnia v4 export: expected \"__export_format\": 4",
        ));
    }
    v4_from_node(&doc, origin)
}

/// Import an Insomnia v5 YAML export (`type: collection.insomnia.rest/5.0`).
pub fn import_insomnia_v5(text: &str, origin: &str) -> Result<ImportReport> {
    let doc = parse_yaml(text, origin)?;
    let t = doc.text("type");
    if !(t.starts_with("collection.insomnia.rest/5")
        || t.starts_with("spec.insomnia.rest/5")
        || t.starts_with("environment.insomnia.rest/5"))
    {
        return Err(parse_error(
            origin,
            0,
            0,
            format!("not an Insomnia v5 export: expected type: collection.insomnia.rest/5.0, found {t:?}"),
        ));
    }
    v5_from_node(&doc, origin)
}

#[derive(Default, Clone)]
struct Inherited {
    headers: Vec<KeyValue>,
    /// The nearest folder's authentication that has a type.
    auth: Option<Node>,
}

#[derive(Default)]
struct Cx {
    out: Collector,
}

impl Cx {
    /// Nunjucks to wsbench templates; what cannot be converted stays and is noted.
    fn t(&mut self, s: &str, item: &str) -> String {
        let (converted, kept) = convert_template(s);
        for tag in kept {
            self.out.note(
                format!("template `{tag}` in `{item}`"),
                "wsbench cannot evaluate this Insomnia template; it was kept as written",
            );
        }
        converted
    }

    fn rows(&mut self, list: &Node, item: &str) -> Vec<KeyValue> {
        list.items()
            .iter()
            .filter(|r| !(r.text("name").is_empty() && r.text("value").is_empty()))
            .map(|r| {
                let enabled = r.get("disabled").as_bool() != Some(true);
                key_value(self.t(&r.text("name"), item), self.t(&r.text("value"), item), enabled)
            })
            .collect()
    }

    fn folder(&mut self, path: &[String], inherited: &Inherited, g: &Node, v5: bool) -> Inherited {
        let item = path.join("/");
        let mut inh = inherited.clone();
        let headers = self.rows(g.get("headers"), &format!("folder {item}"));
        inh.headers.extend(headers);
        if !g.get("authentication").text("type").is_empty() {
            inh.auth = Some(g.get("authentication").clone());
        }
        if !g.get("environment").is_blank() {
            self.out.note(
                format!("variables of folder `{item}`"),
                "wsbench environments belong to the whole collection; add these to an environment by hand",
            );
        }
        let (pre, post) = if v5 {
            (g.at(&["scripts", "preRequest"]), g.at(&["scripts", "afterResponse"]))
        } else {
            (g.get("preRequestScript"), g.get("afterResponseScript"))
        };
        self.scripts(pre, post, &format!("folder `{item}`"));
        let description = if v5 {
            g.at(&["meta", "description"])
        } else {
            g.get("description")
        };
        if !description.is_blank() {
            self.out.note(
                format!("description of folder `{item}`"),
                "wsbench folders have no description",
            );
        }
        inh
    }

    fn scripts(&mut self, pre: &Node, post: &Node, of: &str) {
        if !pre.is_blank() {
            self.out
                .note(format!("pre-request script of {of}"), "wsbench does not run scripts");
        }
        if !post.is_blank() {
            self.out
                .note(format!("after-response script of {of}"), "wsbench does not run scripts");
        }
    }

    fn websocket(&mut self, folder: &[String], inh: &Inherited, r: &Node, payloads: &[&Node], v5: bool) {
        let (name, item, config) = self.connection_of(folder, inh, r, v5, "WebSocket request");
        let messages = payloads
            .iter()
            .enumerate()
            .map(|(i, p)| SavedMessage {
                name: message_name(&p.text("name"), i, payloads.len()),
                format: if p.text("mode").trim().eq_ignore_ascii_case("application/json") {
                    MessageFormat::Json
                } else {
                    MessageFormat::Text
                },
                body: self.t(&p.text("value"), &item),
                send_on_connect: false,
            })
            .collect();
        let mut connection = SavedConnection::new(name, config);
        connection.messages = messages;
        self.out.connection(folder.to_vec(), connection);
    }

    /// A WebSocket or Socket.IO request's name, label and settings (URL, headers,
    /// parameters, auth), with notes for what does not come over.
    fn connection_of(
        &mut self,
        folder: &[String],
        inh: &Inherited,
        r: &Node,
        v5: bool,
        kind: &str,
    ) -> (String, String, ConnectConfig) {
        let mut name = r.text("name");
        if name.trim().is_empty() {
            name = if r.text("url").is_empty() {
                kind.to_owned()
            } else {
                r.text("url")
            };
        }
        let item = label(folder, &name);
        let mut config = ConnectConfig::new(self.t(&r.text("url"), &item));

        let own = self.rows(r.get("headers"), &item);
        config.headers = inherit_headers(&inh.headers, own);
        config.params = self.rows(r.get("parameters"), &item);

        let path_params: Vec<(String, String)> = r
            .get("pathParameters")
            .items()
            .iter()
            .map(|p| (p.text("name"), self.t(&p.text("value"), &item)))
            .filter(|(n, _)| !n.is_empty())
            .collect();
        let (url, missing) = fill_path_params(&config.url, &path_params);
        config.url = url;
        for m in missing {
            self.out.note(
                format!("path parameter `{m}` of `{item}`"),
                "the URL has no `:name` segment for it",
            );
        }

        let own_auth = r.get("authentication");
        let auth = if own_auth.text("type").is_empty() {
            inh.auth.clone().unwrap_or(Node::Null)
        } else {
            own_auth.clone()
        };
        let (auth, header) = self.auth(&auth, &item);
        config.auth = auth;
        if let Some(h) = header {
            config.headers.push(h);
        }

        let (follow, encode) = if v5 {
            (r.at(&["settings", "followRedirects"]), r.at(&["settings", "encodeUrl"]))
        } else {
            (r.get("settingFollowRedirects"), r.get("settingEncodeUrl"))
        };
        if let Some(f) = follow.as_str().filter(|f| *f == "on" || *f == "off") {
            self.out.note(
                format!("setting `followRedirects: {f}` of `{item}`"),
                "wsbench does not follow redirects during the WebSocket handshake",
            );
        }
        if encode.as_bool() == Some(false) {
            self.out.note(
                format!("setting `encodeUrl: false` of `{item}`"),
                "wsbench always percent-encodes query parameters",
            );
        }
        let description = if v5 {
            r.at(&["meta", "description"])
        } else {
            r.get("description")
        };
        if !description.is_blank() {
            self.out.note(
                format!("description of `{item}`"),
                "wsbench connections have no description",
            );
        }

        settle_headers(&mut config, &item, &mut self.out);
        (name, item, config)
    }

    /// A Socket.IO request (Insomnia 11+): as socket.io-client reads it, the URL's
    /// path is the namespace and `settingPath` (v5: `settings.path`) the handshake
    /// path; listeners that are on become the events listened to; each v4
    /// `socketio_payload` (event, arguments, ack) a saved emit.
    fn socketio(&mut self, folder: &[String], inh: &Inherited, r: &Node, payloads: &[&Node], v5: bool) {
        let (name, item, mut config) = self.connection_of(folder, inh, r, v5, "Socket.IO request");
        let (url, namespace) = split_namespace(&config.url);
        config.url = url;
        let mut sio = SocketIoConfig::default();
        let path = if v5 {
            r.at(&["settings", "path"])
        } else {
            r.get("settingPath")
        };
        if let Some(p) = path.as_str().map(str::trim).filter(|p| !p.is_empty()) {
            sio.path = p.to_owned();
        }
        if namespace != "/" {
            sio.namespaces.push(SioNamespace {
                name: namespace.clone(),
                auth: None,
            });
        }
        sio.listen = r
            .get("eventListeners")
            .items()
            .iter()
            .filter(|l| l.get("isOpen").as_bool() == Some(true))
            .map(|l| l.text("eventName"))
            .filter(|e| !e.trim().is_empty())
            .collect();
        config.socketio = Some(sio);
        let messages = payloads
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let event = non_empty(p.text("eventName"), "message");
                let args = p.get("args").items().iter().map(|a| self.sio_arg(a, &item)).collect();
                let ack = p.get("ack").as_bool() == Some(true);
                let cmd = SioCommand::emit(&namespace, &event, args, ack);
                SavedMessage {
                    name: message_name(&p.text("name"), i, payloads.len()),
                    format: MessageFormat::SocketIo,
                    body: serde_json::to_string(&cmd).unwrap_or_default(),
                    send_on_connect: false,
                }
            })
            .collect();
        let mut connection = SavedConnection::new(name, config);
        connection.messages = messages;
        self.out.connection(folder.to_vec(), connection);
    }

    /// One Socket.IO argument: JSON (`mode: application/json`, the default) parsed,
    /// else text; JSON that does not parse (often a template) is kept as text.
    fn sio_arg(&mut self, a: &Node, item: &str) -> serde_json::Value {
        let value = self.t(&a.text("value"), item);
        let mode = a.text("mode");
        if !mode.is_empty() && !mode.trim().eq_ignore_ascii_case("application/json") {
            return serde_json::Value::String(value);
        }
        serde_json::from_str(&value).unwrap_or_else(|_| {
            self.out.note(
                format!("argument `{value}` of `{item}`"),
                "it is not JSON; it is sent as a string",
            );
            serde_json::Value::String(value)
        })
    }

    /// The wsbench auth for an Insomnia `authentication` object, or a header when that
    /// is how wsbench can send it.
    fn auth(&mut self, a: &Node, item: &str) -> (Auth, Option<KeyValue>) {
        let ty = a.text("type");
        if ty.is_empty() || ty == "none" {
            return (Auth::None, None);
        }
        if a.get("disabled").as_bool() == Some(true) {
            self.out.note(
                format!("{ty} authentication of `{item}`"),
                "it is switched off in Insomnia, so it was not imported",
            );
            return (Auth::None, None);
        }
        match ty.as_str() {
            "bearer" => {
                let token = self.t(&a.text("token"), item);
                let prefix = self.t(&a.text("prefix"), item);
                let prefix = prefix.trim();
                if prefix.is_empty() || prefix.eq_ignore_ascii_case("bearer") {
                    (Auth::Bearer { token }, None)
                } else {
                    (
                        Auth::None,
                        Some(key_value("Authorization", format!("{prefix} {token}"), true)),
                    )
                }
            }
            "basic" => {
                if a.get("useISO88591").as_bool() == Some(true) {
                    self.out.note(
                        format!("ISO-8859-1 encoding of the basic authentication of `{item}`"),
                        "wsbench encodes basic credentials as UTF-8",
                    );
                }
                (
                    Auth::Basic {
                        username: self.t(&a.text("username"), item),
                        password: self.t(&a.text("password"), item),
                    },
                    None,
                )
            }
            "apikey" => {
                let name = self.t(&a.text("key"), item);
                let value = self.t(&a.text("value"), item);
                match a.text("addTo").as_str() {
                    "cookie" => (Auth::None, Some(key_value("Cookie", format!("{name}={value}"), true))),
                    "queryParams" => (
                        Auth::ApiKey {
                            name,
                            value,
                            placement: ApiKeyPlacement::Query,
                        },
                        None,
                    ),
                    _ => (
                        Auth::ApiKey {
                            name,
                            value,
                            placement: ApiKeyPlacement::Header,
                        },
                        None,
                    ),
                }
            }
            other => {
                self.out.note(
                    format!("{other} authentication of `{item}`"),
                    "wsbench supports bearer, basic and API key authentication",
                );
                (Auth::None, None)
            }
        }
    }

    fn env_variables(&mut self, env: &Node, env_name: &str) -> Vec<Variable> {
        let item = format!("environment {env_name}");
        let mut vars = Vec::new();
        let kv = env.get("kvPairData").items();
        if !kv.is_empty() {
            for p in kv {
                let name = p.text("name");
                if name.is_empty() {
                    continue;
                }
                let enabled = p.get("enabled").as_bool() != Some(false);
                let value = p.text("value");
                match p.text("type").as_str() {
                    "secret" => vars.push(var(name, self.t(&value, &item), true, enabled)),
                    "json" => match serde_json::from_str::<Node>(&value) {
                        Ok(n) => self.flatten(&name, &n, false, enabled, &item, &mut vars),
                        Err(_) => vars.push(var(name, self.t(&value, &item), false, enabled)),
                    },
                    _ => vars.push(var(name, self.t(&value, &item), false, enabled)),
                }
            }
        } else {
            for (k, v) in env.get("data").entries() {
                if k == "vault" && v.is_map() {
                    for (sk, sv) in v.entries() {
                        let value = sv.scalar().unwrap_or_else(|| sv.to_json());
                        vars.push(var(sk.clone(), self.t(&value, &item), true, true));
                    }
                } else {
                    self.flatten(k, v, false, true, &item, &mut vars);
                }
            }
        }
        for v in vars.iter_mut().filter(|v| v.secret && v.value == MASKED_SECRET) {
            v.value.clear();
            self.out.note(
                format!("value of secret `{}` in environment `{env_name}`", v.name),
                "Insomnia masks private secrets in exports; enter the value in wsbench",
            );
        }
        vars
    }

    fn flatten(&mut self, name: &str, v: &Node, secret: bool, enabled: bool, item: &str, out: &mut Vec<Variable>) {
        match v {
            Node::Map(entries) if !entries.is_empty() => {
                for (k, n) in entries {
                    self.flatten(&format!("{name}.{k}"), n, secret, enabled, item, out);
                }
            }
            Node::Null => out.push(var(name.to_owned(), String::new(), secret, enabled)),
            Node::Seq(_) | Node::Map(_) => out.push(var(name.to_owned(), v.to_json(), secret, enabled)),
            scalar => {
                let text = scalar.scalar().unwrap_or_default();
                out.push(var(name.to_owned(), self.t(&text, item), secret, enabled));
            }
        }
    }

    /// The base environment, then each sub-environment with the base under it.
    fn environments(&mut self, base: &Node, subs: &[&Node]) {
        let base_name = non_empty(base.text("name"), "Base Environment");
        let base_vars = self.env_variables(base, &base_name);
        self.out.report.environments.push(Environment {
            name: base_name,
            variables: base_vars.clone(),
            ..Environment::default()
        });
        for (i, s) in subs.iter().enumerate() {
            let name = non_empty(s.text("name"), &format!("Environment {}", i + 1));
            let own = self.env_variables(s, &name);
            self.out.report.environments.push(Environment {
                name,
                variables: merge_variables(&base_vars, &own),
                ..Environment::default()
            });
        }
    }

    fn cookies(&mut self, jar: &Node) {
        let n = jar.get("cookies").items().len();
        if n > 0 {
            let name = non_empty(jar.text("name"), "Default Jar");
            self.out.note(
                format!("cookie jar `{name}` ({n} cookie{})", if n == 1 { "" } else { "s" }),
                "wsbench has no cookie jar; add a Cookie header by hand where one is needed",
            );
        }
    }
}

fn var(name: String, value: String, secret: bool, enabled: bool) -> Variable {
    Variable {
        name,
        value,
        secret,
        enabled,
    }
}

fn non_empty(s: String, fallback: &str) -> String {
    if s.trim().is_empty() {
        fallback.to_owned()
    } else {
        s
    }
}

/// How a resource that is not imported is named in a note, and why.
fn other_kind(r: &Node, ty: &str) -> (String, &'static str) {
    const NOT_WS: &str = "not a WebSocket request";
    match ty {
        "request" => {
            let graphql = r.at(&["body", "mimeType"]).as_str() == Some("application/graphql");
            (format!("{} request", if graphql { "GraphQL" } else { "HTTP" }), NOT_WS)
        }
        "grpc_request" => ("gRPC request".into(), NOT_WS),
        "socketio_payload" => ("Socket.IO payload".into(), "its Socket.IO request is not in the export"),
        "mcp_request" => ("MCP request".into(), NOT_WS),
        "unit_test_suite" => ("test suite".into(), "wsbench has no test runner"),
        "unit_test" => ("test".into(), "wsbench has no test runner"),
        "proto_file" => ("proto file".into(), "used by gRPC requests only"),
        "proto_directory" => ("proto folder".into(), "used by gRPC requests only"),
        "client_certificate" => (
            format!("client certificate for `{}`", r.text("host")),
            "set the certificate and key files in the connection's TLS settings by hand",
        ),
        "ca_certificate" => (
            "CA certificate".into(),
            "set it as the extra CA file in the connection's TLS settings by hand",
        ),
        "mock" => ("mock server".into(), "wsbench has no HTTP mock server"),
        "mock_route" => ("mock route".into(), "wsbench has no HTTP mock server"),
        "websocket_payload" => ("WebSocket payload".into(), "its WebSocket request is not in the export"),
        "cookie_jar" => ("cookie jar".into(), "wsbench has no cookie jar"),
        "api_spec" => ("API spec".into(), "wsbench does not use API specs"),
        "environment" => (
            "environment".into(),
            "it belongs to no base environment of the workspace",
        ),
        "request_group" => ("folder".into(), "it belongs to no workspace in the export"),
        "websocket_request" => ("WebSocket request".into(), "it belongs to no workspace in the export"),
        _ => (format!("Insomnia {ty}"), "wsbench has nothing like it"),
    }
}

/// socket.io-client's reading of a URL: `http://host/chat?x=1` is the server
/// `http://host/?x=1` and the namespace `/chat`. A URL without `scheme://` (a
/// `{{variable}}`) is left whole, with the main namespace.
fn split_namespace(url: &str) -> (String, String) {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return (url.to_owned(), "/".into());
    };
    let rest = &url[scheme_end..];
    let Some(slash) = rest.find('/') else {
        return (url.to_owned(), "/".into());
    };
    let after = &rest[slash..];
    let end = after.find(['?', '#']).unwrap_or(after.len());
    let ns = after[..end].trim_end_matches('/');
    if ns.is_empty() || rest[..slash].contains(['?', '#']) {
        return (url.to_owned(), "/".into());
    }
    let base = format!("{}{}/{}", &url[..scheme_end], &rest[..slash], &after[end..]);
    (base, ns.to_owned())
}

fn named(kind: &str, folder: &[String], name: &str) -> String {
    if name.is_empty() {
        if folder.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind} in `{}`", folder.join("/"))
        }
    } else {
        format!("{kind} `{}`", label(folder, name))
    }
}

/// Stable sort by a sort key (`metaSortKey` in v4, `meta.sortKey` in v5), which is the
/// order Insomnia shows.
fn by_sort_key<'a>(items: &mut [&'a Node], key: impl Fn(&'a Node) -> &'a Node) {
    items.sort_by(|a, b| {
        let ka = key(a).as_f64().unwrap_or(0.0);
        let kb = key(b).as_f64().unwrap_or(0.0);
        ka.total_cmp(&kb)
    });
}
