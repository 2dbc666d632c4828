//! The catalogue of bad input: one table of network rows and one of file rows, each the
//! input, the exact error kind and message a user sees (`*` matches any text, `{addr}`,
//! `{port}` and `{path}` stand for the row's server address, port and file), and proof
//! that the engine keeps working: after every network row the same manager connects to
//! the echo server and a witness connection's log is intact; after every file row the
//! workspace still loads its good connection and can save.
//!
//! Adding a row is one line in `net::rows()` or `files::rows()`. Layers that land later
//! (proxies, Socket.IO, permessage-deflate) add their rows there.

mod files;
mod net;

use std::time::Instant;

/// `*` in `pattern` matches any run of characters; everything else is literal.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

/// What one row produced, as the user sees it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub kind: String,
    pub message: String,
}

/// Compare a row's outcome with its expectation; a mismatch is a line for the report.
pub fn check(name: &str, seen: &Seen, kind: &str, message: &str, vars: &[(&str, String)]) -> Option<String> {
    let mut want = message.to_owned();
    for (k, v) in vars {
        want = want.replace(&format!("{{{k}}}"), v);
    }
    (seen.kind != kind || !glob(&want, &seen.message)).then(|| {
        format!(
            "{name}:\n    expected {kind} {want:?}\n    saw      {} {:?}",
            seen.kind, seen.message
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_of_bad_input() {
    let started = Instant::now();
    let (net_rows, mut bad) = net::run().await;
    let (file_rows, file_bad) = files::run();
    bad.extend(file_bad);
    println!(
        "catalogue: {net_rows} network rows + {file_rows} file rows = {} rows, {} mismatches, {:.1} s",
        net_rows + file_rows,
        bad.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(net_rows + file_rows >= 40);
    assert!(bad.is_empty(), "\n{}", bad.join("\n"));
}

#[test]
fn glob_matches_like_a_shell() {
    assert!(glob("a*c", "abbbc") && glob("*", "") && glob("x", "x") && glob("a*b*c", "a1b2c"));
    assert!(!glob("a*c", "abd") && !glob("x", "y") && !glob("a*b*c", "acb"));
}
