//! A parser for the subset of Bruno's `.bru` language the importer reads: blocks
//! `name { ... }` holding `key: value` lines (`~key` is switched off, `"quoted key"`
//! allowed, `'''` starts a multi-line value), text blocks (scripts, tests, docs,
//! bodies) and list blocks `name [ a, b ]` (`vars:secret`).
//!
//! Followed (repository usebruno/bruno): `packages/bruno-lang/v2/src/bruToJson.js` and
//! `src/peggy/bruToJson.peggy` (dictionary, text and multi-line rules: a block ends at a
//! `}` that starts a line, text lines lose 2 leading characters, multi-line values 4),
//! `src/peggy/envToJson.peggy` (`vars`, `vars:secret [...]`),
//! `src/collectionBruToJson.js` (`collection.bru`/`folder.bru`: `meta`, `auth { mode }`).

use crate::error::Result;

use super::convert::parse_error;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Block {
    pub name: String,
    /// 1-based line of the block's opening line.
    pub line: usize,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    Dict(Vec<Pair>),
    /// A text block, or a block of a kind this parser does not read, as written.
    Text(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pair {
    pub key: String,
    pub value: String,
    /// False for a `~key` line.
    pub enabled: bool,
}

/// Blocks whose content is free text.
const TEXT_BLOCKS: [&str; 11] = [
    "body",
    "body:json",
    "body:text",
    "body:xml",
    "body:sparql",
    "body:graphql",
    "body:graphql:vars",
    "script:pre-request",
    "script:post-response",
    "tests",
    "docs",
];

/// Blocks of `key: value` lines.
fn is_dict(name: &str) -> bool {
    matches!(
        name,
        "meta"
            | "get"
            | "post"
            | "put"
            | "delete"
            | "patch"
            | "options"
            | "head"
            | "connect"
            | "trace"
            | "http"
            | "ws"
            | "grpc"
            | "headers"
            | "metadata"
            | "query"
            | "params:query"
            | "params:path"
            | "auth"
            | "vars"
            | "vars:pre-request"
            | "vars:post-response"
            | "assert"
            | "settings"
            | "body:form-urlencoded"
            | "body:multipart-form"
            | "body:file"
            | "body:ws"
            | "body:grpc"
    ) || (name.starts_with("auth:") && !name.contains("additional_params"))
}

pub(crate) fn parse(text: &str, origin: &str) -> Result<Vec<Block>> {
    let text = text.trim_start_matches('\u{feff}');
    let mut r = Reader {
        lines: text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect(),
        i: 0,
        origin,
    };
    let mut blocks = Vec::new();
    while let Some(l) = r.lines.get(r.i) {
        if l.trim().is_empty() {
            r.i += 1;
            continue;
        }
        blocks.push(r.block()?);
    }
    Ok(blocks)
}

/// The lines of a `.bru` file and the index of the next one to read.
struct Reader<'a> {
    lines: Vec<&'a str>,
    i: usize,
    origin: &'a str,
}

/// Where a block starts, for its errors.
struct Opened<'a> {
    name: &'a str,
    line: usize,
    column: usize,
}

impl<'a> Reader<'a> {
    /// The next line, moving past it.
    fn next_line(&mut self) -> Option<&'a str> {
        let l = self.lines.get(self.i).copied();
        if l.is_some() {
            self.i += 1;
        }
        l
    }

    /// A block: `name {` (a dictionary or text, by name) or `name [` (a list).
    fn block(&mut self) -> Result<Block> {
        let l = self.lines[self.i];
        let t = l.trim();
        let line = self.i + 1;
        let column = l.len() - l.trim_start().len() + 1;
        let (name, opener) = match (t.strip_suffix('{'), t.strip_suffix('[')) {
            (Some(n), _) => (n.trim(), '{'),
            (_, Some(n)) => (n.trim(), '['),
            _ => {
                return Err(parse_error(
                    self.origin,
                    line,
                    column,
                    format!("expected the start of a block such as `meta {{`, found {t:?}"),
                ))
            }
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(parse_error(
                self.origin,
                line,
                column,
                format!("expected a block name before `{opener}`, found {t:?}"),
            ));
        }
        self.i += 1;
        let at = Opened { name, line, column };
        let body = if opener == '[' {
            self.list(&at)?
        } else if is_dict(name) {
            self.dict(&at)?
        } else {
            self.text(&at)?
        };
        Ok(Block {
            name: name.to_owned(),
            line,
            body,
        })
    }

    /// Items separated by commas or whitespace, up to `]`.
    fn list(&mut self, at: &Opened) -> Result<Body> {
        let mut items = Vec::new();
        loop {
            let Some(l) = self.next_line() else {
                return Err(parse_error(
                    self.origin,
                    at.line,
                    at.column,
                    format!("list `{}` is not closed with `]`", at.name),
                ));
            };
            let (content, closed) = match l.split_once(']') {
                Some((c, _)) => (c, true),
                None => (l, false),
            };
            items.extend(
                content
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            );
            if closed {
                return Ok(Body::List(items));
            }
        }
    }

    /// `name: value` lines (`~name:` when disabled), up to a line that is `}`.
    fn dict(&mut self, at: &Opened) -> Result<Body> {
        let mut pairs = Vec::new();
        loop {
            let Some(l) = self.next_line() else {
                return Err(unclosed(self.origin, at.name, at.line, at.column));
            };
            let lt = l.trim();
            if lt == "}" {
                return Ok(Body::Dict(pairs));
            }
            if lt.is_empty() || is_annotation(lt) {
                continue;
            }
            let (line, column) = (self.i, l.len() - l.trim_start().len() + 1);
            let Some((key, enabled, rest)) = split_pair(lt) else {
                return Err(parse_error(
                    self.origin,
                    line,
                    column,
                    format!("expected `name: value` in block `{}`, found {lt:?}", at.name),
                ));
            };
            let value = self.value(rest.trim(), &key, line, column)?;
            pairs.push(Pair { key, value, enabled });
        }
    }

    /// A pair's value: as written, `'''one line'''`, a multi-line `'''` value, or a
    /// `[` list over several lines (meta `tags`).
    fn value(&mut self, value: &str, key: &str, line: usize, column: usize) -> Result<String> {
        if value.starts_with("'''") && !(value.len() >= 6 && value[3..].contains("'''")) {
            // A multi-line value: the lines up to a line starting with `'''`.
            let mut content = vec![value[3..].to_owned()];
            loop {
                let Some(ml) = self.next_line() else {
                    return Err(parse_error(
                        self.origin,
                        line,
                        column,
                        format!("the multi-line value of `{key}` is not closed with '''"),
                    ));
                };
                if ml.trim_start().starts_with("'''") {
                    content.push(String::new());
                    break;
                }
                content.push(ml.to_owned());
            }
            let lines: Vec<&str> = content.iter().map(|c| strip_indent(c, 4)).collect();
            Ok(lines.join("\n").trim().to_owned())
        } else if let Some(inner) = value.strip_prefix("'''") {
            // '''single line'''
            let end = inner.find("'''").unwrap_or(inner.len());
            Ok(inner[..end].trim().to_owned())
        } else if value == "[" {
            // meta `tags: [` ... `]`
            let mut items = Vec::new();
            while let Some(tl) = self.next_line() {
                if tl.trim() == "]" {
                    break;
                }
                items.push(tl.trim().trim_end_matches(',').to_owned());
            }
            Ok(items.join(", "))
        } else {
            Ok(value.to_owned())
        }
    }

    /// Text, or a block this parser keeps as written: up to a `}` that starts a line.
    fn text(&mut self, at: &Opened) -> Result<Body> {
        let mut content = Vec::new();
        loop {
            let Some(l) = self.next_line() else {
                return Err(unclosed(self.origin, at.name, at.line, at.column));
            };
            if l.starts_with('}') && l.trim() == "}" {
                return Ok(Body::Text(content.join("\n")));
            }
            content.push(if TEXT_BLOCKS.contains(&at.name) {
                strip_indent(l, 2)
            } else {
                l
            });
        }
    }
}

fn unclosed(origin: &str, name: &str, line: usize, column: usize) -> crate::error::Error {
    parse_error(
        origin,
        line,
        column,
        format!("block `{name}` is not closed: expected `}}` at the start of a line"),
    )
}

/// `@number`, `@description('...')`: decorations before a variable.
fn is_annotation(t: &str) -> bool {
    t.starts_with('@') && {
        let colon = t.find(':');
        let paren = t.find('(');
        colon.is_none() || paren.is_some_and(|p| colon.is_some_and(|c| p < c))
    }
}

/// `key: value`, `~key: value`, `"quoted key": value`.
fn split_pair(t: &str) -> Option<(String, bool, &str)> {
    let (enabled, t) = match t.strip_prefix('~') {
        Some(rest) => (false, rest),
        None => (true, t),
    };
    if let Some(q) = t.strip_prefix('"') {
        let mut key = String::new();
        let mut chars = q.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        key.push(n);
                    }
                }
                '"' => {
                    let rest = q[i + 1..].trim_start().strip_prefix(':')?;
                    return Some((key, enabled, rest));
                }
                _ => key.push(c),
            }
        }
        return None;
    }
    let (key, rest) = t.split_once(':')?;
    let key = key.trim();
    (!key.is_empty()).then(|| (key.to_owned(), enabled, rest))
}

/// Remove up to `n` leading spaces (or tabs).
fn strip_indent(s: &str, n: usize) -> &str {
    let mut cut = 0;
    for (count, (i, c)) in s.char_indices().enumerate() {
        if count >= n || !(c == ' ' || c == '\t') {
            break;
        }
        cut = i + c.len_utf8();
    }
    &s[cut..]
}

/// Helpers over parsed blocks.
pub(crate) trait Blocks {
    fn block(&self, name: &str) -> Option<&Block>;
    /// The pairs of the first dictionary block named `name` (empty if none).
    fn pairs(&self, name: &str) -> &[Pair];
    /// The value of the first enabled `key` in block `name`.
    fn value(&self, name: &str, key: &str) -> Option<&str>;
}

impl Blocks for [Block] {
    fn block(&self, name: &str) -> Option<&Block> {
        self.iter().find(|b| b.name == name)
    }

    fn pairs(&self, name: &str) -> &[Pair] {
        match self.block(name).map(|b| &b.body) {
            Some(Body::Dict(p)) => p,
            _ => &[],
        }
    }

    fn value(&self, name: &str, key: &str) -> Option<&str> {
        self.pairs(name)
            .iter()
            .find(|p| p.enabled && p.key == key)
            .map(|p| p.value.as_str())
    }
}

impl Block {
    pub fn pairs(&self) -> &[Pair] {
        match &self.body {
            Body::Dict(p) => p,
            _ => &[],
        }
    }

    pub fn value(&self, key: &str) -> Option<&str> {
        self.pairs()
            .iter()
            .find(|p| p.enabled && p.key == key)
            .map(|p| p.value.as_str())
    }

    /// Whether the block holds anything (a blank script is nothing to report).
    pub fn is_blank(&self) -> bool {
        match &self.body {
            Body::Dict(p) => p.is_empty(),
            Body::Text(t) => t.trim().is_empty(),
            Body::List(l) => l.is_empty(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dicts_text_multiline_and_lists() {
        let src = "meta {\n  name: Chat\n  type: ws\n  seq: 2\n  tags: [\n    a\n    b\n  ]\n}\n\nheaders {\n  X-A: 1\n  ~X-Off: 2\n  \"x y\": 3\n  @number\n}\n\nbody:ws {\n  name: hello\n  type: json\n  content: '''\n    {\n      \"a\": 1\n    }\n  '''\n}\n\nscript:pre-request {\n  const a = {\n    b: 1\n  };\n}\n\nvars:secret [\n  token,\n  ~other\n]\n";
        let b = parse(src, "t.bru").unwrap();
        assert_eq!(b.value("meta", "name"), Some("Chat"));
        assert_eq!(b.value("meta", "tags"), Some("a, b"));
        let h = b.pairs("headers");
        assert_eq!(h.len(), 3);
        assert!(!h[1].enabled && h[1].key == "X-Off");
        assert_eq!(h[2].key, "x y");
        assert_eq!(b.value("body:ws", "content"), Some("{\n  \"a\": 1\n}"));
        assert_eq!(
            b.block("script:pre-request").unwrap().body,
            Body::Text("const a = {\n  b: 1\n};".into())
        );
        assert_eq!(
            b.block("vars:secret").unwrap().body,
            Body::List(vec!["token".into(), "~other".into()])
        );
        assert_eq!(b.block("body:ws").unwrap().line, 18);
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("meta {\n  name: x\n}\nheaders {\n  novalue\n}\n", "f.bru").unwrap_err();
        assert!(matches!(e, crate::Error::Parse { line: 5, column: 3, .. }), "{e:?}");
        let e = parse("meta {\n  name: x\n", "f.bru").unwrap_err();
        assert!(matches!(e, crate::Error::Parse { line: 1, .. }), "{e:?}");
        let e = parse("meta {\n}\nstray text\n", "f.bru").unwrap_err();
        assert!(matches!(e, crate::Error::Parse { line: 3, column: 1, .. }), "{e:?}");
    }
}
