//! Real Socket.IO servers from npm (`socket.io@4`, `socket.io@2`) running
//! `tests/socketio/server.js`. The packages are installed on first use into
//! `target/sio-node/v<N>` (`npm install --no-audit --no-fund`). Without node or npm
//! the tests fail loudly: they never skip. Shared by the CLI's tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

static INSTALL: Mutex<()> = Mutex::new(());

/// The folder holding `node_modules/socket.io` at major version `major`.
pub fn ensure_installed(major: u8) -> PathBuf {
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = repo_root().join("target").join("sio-node").join(format!("v{major}"));
    let manifest = dir.join("node_modules/socket.io/package.json");
    let installed = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["version"].as_str().map(str::to_owned))
        .is_some_and(|v| v.starts_with(&format!("{major}.")));
    if installed {
        return dir;
    }
    std::fs::create_dir_all(&dir).unwrap();
    if !dir.join("package.json").exists() {
        std::fs::write(dir.join("package.json"), "{\"private\":true}\n").unwrap();
    }
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", &format!("socket.io@{major}")])
        .current_dir(&dir)
        .status()
        .unwrap_or_else(|e| {
            panic!("the Socket.IO tests need npm (Node.js) to install socket.io@{major}: {e}. Install nodejs and npm.")
        });
    assert!(
        status.success(),
        "npm install socket.io@{major} failed in {}",
        dir.display()
    );
    dir
}

/// A running `tests/socketio/server.js`; killed on drop.
pub struct NodeServer {
    child: Child,
    pub port: u16,
    pub major: u8,
}

impl NodeServer {
    /// Start a socket.io@`major` server on `port` (0: any free port).
    pub fn start(major: u8, port: u16, env: &[(&str, &str)]) -> NodeServer {
        let dir = ensure_installed(major);
        let mut cmd = Command::new("node");
        cmd.arg(repo_root().join("tests/socketio/server.js"))
            .env("SIO_DIR", &dir)
            .env("PORT", port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("the Socket.IO tests need node (Node.js) on PATH: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(l)) = lines.next() {
                let _ = tx.send(l);
            }
            for _ in lines {}
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("the socket.io@{major} test server did not start"));
        let port = line
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from the test server: {line:?}"));
        NodeServer { child, port, major }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Freeze (SIGSTOP) or thaw (SIGCONT) the server process.
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} failed");
    }

    pub fn stop(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
