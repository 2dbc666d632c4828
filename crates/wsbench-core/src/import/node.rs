//! An order-preserving tree for JSON and YAML documents. The importers read the
//! sources loosely (fields move between versions of each tool) and keep keys in the
//! order the file has them, so environments keep their variables in the user's order
//! without switching `serde_json` to `preserve_order` for the whole crate.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    /// Kept as written (`3`, `1.5`), so `3` does not come back as `3.0`.
    Num(String),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

static NULL: Node = Node::Null;

impl Node {
    /// The value under `key` of a map; `Null` when absent or when `self` is no map.
    pub fn get(&self, key: &str) -> &Node {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Follows `a.b.c`.
    pub fn at(&self, path: &[&str]) -> &Node {
        path.iter().fold(self, |n, k| n.get(k))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    /// A scalar as text (`true`, `3`, `abc`); `None` for null, lists and maps.
    pub fn scalar(&self) -> Option<String> {
        match self {
            Node::Bool(b) => Some(b.to_string()),
            Node::Num(n) => Some(n.clone()),
            Node::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// `get(key)` as text, empty when absent or not a scalar.
    pub fn text(&self, key: &str) -> String {
        self.get(key).scalar().unwrap_or_default()
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Node::Bool(b) => Some(*b),
            Node::Str(s) if s == "true" => Some(true),
            Node::Str(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Node::Num(n) | Node::Str(n) => n.trim().parse().ok(),
            _ => None,
        }
    }

    /// The items of a list (empty for anything else).
    pub fn items(&self) -> &[Node] {
        match self {
            Node::Seq(v) => v,
            _ => &[],
        }
    }

    /// The entries of a map (empty for anything else).
    pub fn entries(&self) -> &[(String, Node)] {
        match self {
            Node::Map(v) => v,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self, Node::Map(_))
    }

    /// Set `key` of a map (replacing it, or appending); a non-map becomes a map.
    pub fn set(&mut self, key: &str, value: Node) {
        if !self.is_map() {
            *self = Node::Map(Vec::new());
        }
        if let Node::Map(entries) = self {
            match entries.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => *v = value,
                None => entries.push((key.to_owned(), value)),
            }
        }
    }

    /// Null, an empty string, list or map: nothing a user wrote.
    pub fn is_blank(&self) -> bool {
        match self {
            Node::Null => true,
            Node::Str(s) => s.trim().is_empty(),
            Node::Seq(v) => v.is_empty(),
            Node::Map(v) => v.is_empty(),
            _ => false,
        }
    }

    /// Compact JSON text, keys in document order.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Node::Null => out.push_str("null"),
            Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Node::Num(n) => out.push_str(n),
            Node::Str(s) => out.push_str(&json_string(s)),
            Node::Seq(v) => {
                out.push('[');
                for (i, n) in v.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    n.write_json(out);
                }
                out.push(']');
            }
            Node::Map(v) => {
                out.push('{');
                for (i, (k, n)) in v.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&json_string(k));
                    out.push(':');
                    n.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON or YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Num(v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Num(v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Num(v.to_string()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut v = Vec::new();
        while let Some(n) = seq.next_element::<Node>()? {
            v.push(n);
        }
        Ok(Node::Seq(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut v = Vec::new();
        while let Some((k, n)) = map.next_entry::<Node, Node>()? {
            let key = match k {
                Node::Null => String::new(),
                other => other.scalar().unwrap_or_else(|| other.to_json()),
            };
            v.push((key, n));
        }
        Ok(Node::Map(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_key_order_and_number_text() {
        let n: Node = serde_json::from_str(r#"{"z":1,"a":[true,null,"x"],"m":{"b":2.5,"a":-3}}"#).unwrap();
        let keys: Vec<&str> = n.entries().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["z", "a", "m"]);
        assert_eq!(n.text("z"), "1");
        assert_eq!(n.at(&["m", "b"]).scalar().as_deref(), Some("2.5"));
        assert_eq!(n.get("a").to_json(), r#"[true,null,"x"]"#);
        assert_eq!(n.get("m").to_json(), r#"{"b":2.5,"a":-3}"#);
        let y: Node = serde_norway::from_str("b: 1\na: [x, 2]\n").unwrap();
        assert_eq!(y.entries()[0].0, "b");
        assert_eq!(y.get("a").items()[1], Node::Num("2".into()));
        assert!(y.get("missing").is_null());
    }
}
