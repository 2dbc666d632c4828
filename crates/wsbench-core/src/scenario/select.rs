//! Which saved connections a run covers: the ones with a scenario in a collection
//! (sub-collections included) or in the whole workspace, in sidebar order.

use crate::workspace::CollectionNode;
use crate::workspace::Workspace;

/// IDs of the connections with a scenario under `collection` (`""`: everywhere).
pub fn scenario_ids(ws: &Workspace, collection: &str) -> Vec<String> {
    let mut ids = Vec::new();
    walk(&ws.tree().root, &mut ids);
    let collection = collection.trim_matches('/');
    ids.retain(|id| collection.is_empty() || id.strip_prefix(collection).is_some_and(|rest| rest.starts_with('/')));
    ids.retain(|id| ws.connection(id).is_ok_and(|c| c.connection.scenario.is_some()));
    ids
}

fn walk(node: &CollectionNode, out: &mut Vec<String>) {
    for c in &node.collections {
        walk(c, out);
    }
    out.extend(node.connections.iter().map(|c| c.id.clone()));
}
