//! Insomnia v5: a YAML export whose `collection` items nest through `children`.

use super::{by_sort_key, named, non_empty, other_kind, Cx, Inherited};
use crate::error::Result;
use crate::import::node::Node;
use crate::import::ImportReport;

pub(in crate::import) fn v5_from_node(doc: &Node, _origin: &str) -> Result<ImportReport> {
    let mut cx = Cx::default();
    cx.out.report.name = doc.text("name");
    walk_v5(&mut cx, doc.get("collection").items(), &[], &Inherited::default());

    let envs = doc.get("environments");
    if envs.is_map() {
        let mut subs: Vec<&Node> = envs.get("subEnvironments").items().iter().collect();
        by_sort_key(&mut subs, |e| e.at(&["meta", "sortKey"]));
        cx.environments(envs, &subs);
    }
    if doc.get("cookieJar").is_map() {
        cx.cookies(doc.get("cookieJar"));
    }
    for c in doc.get("certificates").items() {
        cx.out.note(
            format!("CA certificate `{}`", c.text("path")),
            "set it as the extra CA file in the connection's TLS settings by hand",
        );
    }
    for s in doc.get("testSuites").items() {
        cx.out
            .note(format!("test suite `{}`", s.text("name")), "wsbench has no test runner");
    }
    if !doc.at(&["spec", "contents"]).is_blank() || !doc.at(&["spec", "file"]).is_blank() {
        cx.out.note("API spec", "wsbench does not use API specs");
    }
    Ok(cx.out.report)
}

fn walk_v5(cx: &mut Cx, items: &[Node], folder: &[String], inh: &Inherited) {
    let mut items: Vec<&Node> = items.iter().collect();
    by_sort_key(&mut items, |r| r.at(&["meta", "sortKey"]));
    for r in items {
        let name = r.text("name");
        let id = r.at(&["meta", "id"]).scalar().unwrap_or_default();
        if !r.get("children").is_null() {
            let mut path = folder.to_vec();
            path.push(non_empty(name, "Folder"));
            let inner = cx.folder(&path, inh, r, true);
            walk_v5(cx, r.get("children").items(), &path, &inner);
        } else if !r.get("method").is_null() {
            let (kind, reason) = other_kind(r, "request");
            cx.out.note(named(&kind, folder, &name), reason);
        } else if !r.get("reflectionApi").is_null()
            || !r.get("protoMethodName").is_null()
            || !r.get("protoFileId").is_null()
            || id.starts_with("greq")
        {
            let (kind, reason) = other_kind(r, "grpc_request");
            cx.out.note(named(&kind, folder, &name), reason);
        } else if id.starts_with("socketio-req") || !r.get("eventListeners").is_null() {
            // Insomnia's v5 export writes no Socket.IO payloads (like WebSocket ones).
            cx.socketio(folder, inh, r, &[], true);
        } else if id.starts_with("mcp") || !r.get("transportType").is_null() {
            let (kind, reason) = other_kind(r, "mcp_request");
            cx.out.note(named(&kind, folder, &name), reason);
        } else {
            // Insomnia's own v5 importer takes what is neither folder, HTTP nor gRPC as
            // a WebSocket request (ids start with `ws-req`).
            cx.websocket(folder, inh, r, &[], true);
        }
    }
}
