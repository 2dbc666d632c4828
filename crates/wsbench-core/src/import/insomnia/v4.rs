//! Insomnia v4: a JSON export whose `resources` are linked by `parentId`.

use std::collections::HashMap;

use super::{named, non_empty, other_kind, Cx, Inherited};
use crate::error::Result;
use crate::import::convert::parse_error;
use crate::import::node::Node;
use crate::import::ImportReport;

pub(in crate::import) fn v4_from_node(doc: &Node, origin: &str) -> Result<ImportReport> {
    let Node::Seq(resources) = doc.get("resources") else {
        return Err(parse_error(
            origin,
            0,
            0,
            "an Insomnia v4 export needs a \"resources\" list",
        ));
    };
    let mut v4 = V4 {
        cx: Cx::default(),
        resources,
        children: HashMap::new(),
        used: vec![false; resources.len()],
    };
    for (i, r) in resources.iter().enumerate() {
        v4.children.entry(r.text("parentId")).or_default().push(i);
    }
    let workspaces: Vec<usize> = (0..resources.len())
        .filter(|&i| resources[i].text("_type") == "workspace")
        .collect();
    if let [only] = workspaces.as_slice() {
        v4.cx.out.report.name = resources[*only].text("name");
    }
    for &w in &workspaces {
        v4.used[w] = true;
        let ws = &resources[w];
        let prefix = if workspaces.len() > 1 {
            vec![non_empty(ws.text("name"), "Workspace")]
        } else {
            Vec::new()
        };
        let id = ws.text("_id");
        v4.walk(&id, true, &prefix, &Inherited::default());
        v4.workspace_level(&id);
    }
    for (r, used) in resources.iter().zip(std::mem::take(&mut v4.used)) {
        if !used {
            let ty = r.text("_type");
            let (kind, reason) = other_kind(r, &ty);
            v4.cx.out.note(named(&kind, &[], &r.text("name")), reason);
        }
    }
    Ok(v4.cx.out.report)
}

struct V4<'a> {
    cx: Cx,
    resources: &'a [Node],
    children: HashMap<String, Vec<usize>>,
    used: Vec<bool>,
}

impl<'a> V4<'a> {
    fn kids(&self, parent: &str, ty: Option<&str>) -> Vec<usize> {
        self.children
            .get(parent)
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|&i| ty.is_none_or(|t| self.resources[i].text("_type") == t))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn walk(&mut self, parent: &str, top: bool, folder: &[String], inh: &Inherited) {
        let resources = self.resources;
        let mut kids = self.kids(parent, None);
        sort_indices(&mut kids, resources);
        for i in kids {
            let r = &resources[i];
            let ty = r.text("_type");
            match ty.as_str() {
                // Handled by `workspace_level`.
                "environment" | "cookie_jar" | "api_spec" if top => {}
                "request_group" => {
                    self.used[i] = true;
                    let mut path = folder.to_vec();
                    path.push(non_empty(r.text("name"), "Folder"));
                    let inner = self.cx.folder(&path, inh, r, false);
                    self.walk(&r.text("_id"), false, &path, &inner);
                }
                "websocket_request" => {
                    self.used[i] = true;
                    let payload_ids = self.kids(&r.text("_id"), Some("websocket_payload"));
                    for &p in &payload_ids {
                        self.used[p] = true;
                    }
                    let payloads: Vec<&Node> = payload_ids.iter().map(|&p| &resources[p]).collect();
                    self.cx.websocket(folder, inh, r, &payloads, false);
                }
                "socketio_request" => {
                    self.used[i] = true;
                    let payload_ids = self.kids(&r.text("_id"), Some("socketio_payload"));
                    for &p in &payload_ids {
                        self.used[p] = true;
                    }
                    let payloads: Vec<&Node> = payload_ids.iter().map(|&p| &resources[p]).collect();
                    self.cx.socketio(folder, inh, r, &payloads, false);
                }
                _ => {
                    self.used[i] = true;
                    let (kind, reason) = other_kind(r, &ty);
                    self.cx.out.note(named(&kind, folder, &r.text("name")), reason);
                }
            }
        }
    }

    fn workspace_level(&mut self, workspace_id: &str) {
        let resources = self.resources;
        let mut bases = self.kids(workspace_id, Some("environment"));
        sort_indices(&mut bases, resources);
        for b in bases {
            self.used[b] = true;
            let base = &resources[b];
            let sub_ids = self.kids(&base.text("_id"), Some("environment"));
            for &s in &sub_ids {
                self.used[s] = true;
            }
            let mut sub_ids = sub_ids;
            sort_indices(&mut sub_ids, resources);
            let subs: Vec<&Node> = sub_ids.iter().map(|&s| &resources[s]).collect();
            self.cx.environments(base, &subs);
        }
        for j in self.kids(workspace_id, Some("cookie_jar")) {
            self.used[j] = true;
            self.cx.cookies(&resources[j]);
        }
        for s in self.kids(workspace_id, Some("api_spec")) {
            self.used[s] = true;
            let spec = &resources[s];
            if !spec.get("contents").is_blank() {
                self.cx.out.note(
                    format!("API spec `{}`", non_empty(spec.text("fileName"), "spec")),
                    "wsbench does not use API specs",
                );
            }
        }
    }
}

/// Stable sort of resource indices by `metaSortKey`.
fn sort_indices(ids: &mut [usize], resources: &[Node]) {
    ids.sort_by(|&a, &b| {
        let ka = resources[a].get("metaSortKey").as_f64().unwrap_or(0.0);
        let kb = resources[b].get("metaSortKey").as_f64().unwrap_or(0.0);
        ka.total_cmp(&kb)
    });
}
