//! The sidebar: the nested tree of collections and connections, and its flat,
//! filtered form (the rows the app draws).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::paths::{file_name_of, parent_of};
use super::{FileProblem, Workspace};

/// The sidebar: nested collections with their connections, environment names and the
/// files that failed to load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tree {
    /// The workspace's name (from the marker file).
    pub name: String,
    /// The top level: `path` is `""`.
    pub root: CollectionNode,
    /// Environment names, sorted.
    pub environments: Vec<String>,
    pub problems: Vec<FileProblem>,
}

/// A collection (folder); sub-collections and connections sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionNode {
    /// Workspace-relative folder path with `/`; `""` for the top level.
    pub path: String,
    /// The folder name; `""` for the top level.
    pub name: String,
    pub collections: Vec<CollectionNode>,
    pub connections: Vec<ConnectionSummary>,
}

/// One row of the sidebar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionSummary {
    pub id: String,
    pub name: String,
    pub collection: String,
    /// How many saved messages it has.
    pub messages: usize,
    /// Set when the file is in an older format (upgraded on the next save).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated_from: Option<u32>,
}

impl Tree {
    /// The tree with only connections whose name contains `query` (case-insensitive).
    /// A collection whose own name matches keeps all its contents; other collections
    /// are kept only when something inside them matches. An empty query keeps everything.
    pub fn filter(&self, query: &str) -> Tree {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return self.clone();
        }
        fn keep(node: &CollectionNode, q: &str) -> Option<CollectionNode> {
            if !node.path.is_empty() && node.name.to_lowercase().contains(q) {
                return Some(node.clone());
            }
            let collections: Vec<_> = node.collections.iter().filter_map(|c| keep(c, q)).collect();
            let connections: Vec<_> = node
                .connections
                .iter()
                .filter(|c| c.name.to_lowercase().contains(q))
                .cloned()
                .collect();
            (node.path.is_empty() || !collections.is_empty() || !connections.is_empty()).then(|| CollectionNode {
                path: node.path.clone(),
                name: node.name.clone(),
                collections,
                connections,
            })
        }
        Tree {
            root: keep(&self.root, &q).unwrap_or_else(|| self.root.clone()),
            ..self.clone()
        }
    }
}

impl Workspace {
    /// The sidebar tree as of the last load, write or [`rescan`](Self::rescan).
    pub fn tree(&self) -> Tree {
        let mut by_parent: BTreeMap<&str, Vec<ConnectionSummary>> = BTreeMap::new();
        for (id, e) in &self.connections {
            let collection = parent_of(id);
            by_parent.entry(collection).or_default().push(ConnectionSummary {
                id: id.clone(),
                name: e.connection.name.clone(),
                collection: collection.to_owned(),
                messages: e.connection.messages.len(),
                migrated_from: e.migrated_from,
            });
        }
        let mut dirs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for c in &self.collections {
            dirs.entry(parent_of(c)).or_default().push(c);
        }
        fn build(
            path: &str,
            dirs: &BTreeMap<&str, Vec<&str>>,
            conns: &mut BTreeMap<&str, Vec<ConnectionSummary>>,
        ) -> CollectionNode {
            let mut collections: Vec<CollectionNode> = dirs
                .get(path)
                .into_iter()
                .flatten()
                .map(|c| build(c, dirs, conns))
                .collect();
            collections.sort_by_key(|a| sort_key(&a.name, &a.path));
            let mut connections = conns.remove(path).unwrap_or_default();
            connections.sort_by_key(|a| sort_key(&a.name, &a.id));
            CollectionNode {
                path: path.to_owned(),
                name: file_name_of(path).to_owned(),
                collections,
                connections,
            }
        }
        let root = build("", &dirs, &mut by_parent);
        Tree {
            name: self.name.clone(),
            root,
            environments: self.environments().into_iter().map(|e| e.name).collect(),
            problems: self.problems(),
        }
    }
}

fn sort_key(name: &str, tie: &str) -> (String, String) {
    (name.to_lowercase(), tie.to_owned())
}

/// One row of the sidebar, in display order (`{"kind": "collection", ...}` or
/// `{"kind": "connection", ...}`): what a front end draws without parsing IDs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum TreeItem {
    #[serde(rename_all = "camelCase")]
    Collection {
        /// Workspace-relative folder path with `/`.
        path: String,
        /// The folder name.
        name: String,
        /// The collection that holds it (`""` for the top level).
        parent: String,
        depth: usize,
    },
    #[serde(rename_all = "camelCase")]
    Connection {
        /// The connection's ID (its file, `chat/echo.json`).
        id: String,
        /// Its display name.
        name: String,
        /// The collection that holds it (`""` for the top level).
        collection: String,
        depth: usize,
        /// How many saved messages it has.
        messages: usize,
    },
}

impl Tree {
    /// The tree as rows in display order: in each collection its sub-collections
    /// (each followed by its contents), then its connections.
    pub fn items(&self) -> Vec<TreeItem> {
        let mut out = Vec::new();
        flatten(&self.root, 0, &mut out);
        out
    }
}

impl Workspace {
    /// The sidebar rows, filtered by [`Tree::filter`] (`""` keeps everything).
    pub fn tree_items(&self, filter: &str) -> Vec<TreeItem> {
        self.tree().filter(filter).items()
    }
}

fn flatten(node: &CollectionNode, depth: usize, out: &mut Vec<TreeItem>) {
    for c in &node.collections {
        out.push(TreeItem::Collection {
            path: c.path.clone(),
            name: c.name.clone(),
            parent: node.path.clone(),
            depth,
        });
        flatten(c, depth + 1, out);
    }
    for c in &node.connections {
        out.push(TreeItem::Connection {
            id: c.id.clone(),
            name: c.name.clone(),
            collection: c.collection.clone(),
            depth,
            messages: c.messages,
        });
    }
}
