//! Servers and helpers shared by the engine tests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::SinkExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use wsbench_core::{ConnState, ConnectConfig, EventBatch, Frame, Session, SessionId, SessionManager};

/// An event sink that keeps every batch.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<EventBatch>>);

impl wsbench_core::EventSink for Recorder {
    fn deliver(&self, batch: EventBatch) {
        self.0.lock().unwrap().push(batch);
    }
}

impl Recorder {
    pub fn states(&self, id: SessionId) -> Vec<ConnState> {
        let b = self.0.lock().unwrap();
        b.iter()
            .flat_map(|b| b.states.iter())
            .filter(|s| s.session == id)
            .map(|s| s.state.clone())
            .collect()
    }
}

pub fn manager() -> (Arc<SessionManager>, Arc<Recorder>) {
    let rec = Arc::new(Recorder::default());
    (Arc::new(SessionManager::new(rec.clone())), rec)
}

/// Create a session for `config` and connect it.
pub fn open(m: &SessionManager, config: ConnectConfig) -> (SessionId, Arc<Session>) {
    let id = m.create("test", config);
    m.connect(id).expect("connect accepted");
    (id, m.get(id).unwrap())
}

/// Wait (up to 10 s) until the session's state satisfies `pred`.
pub async fn wait_for(s: &Session, what: &str, pred: impl Fn(&ConnState) -> bool) -> ConnState {
    let mut rx = s.watch_state();
    let r = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let st = rx.borrow_and_update().clone();
            if pred(&st) {
                return st;
            }
            rx.changed().await.expect("state channel open");
        }
    })
    .await;
    match r {
        Ok(st) => st,
        Err(_) => panic!("timed out waiting for {what}; state is {:?}", s.state()),
    }
}

pub async fn wait_open(s: &Session) -> wsbench_core::Handshake {
    match wait_for(s, "open", |st| {
        st.is_open() || st.is_terminal() && !matches!(st, ConnState::Idle)
    })
    .await
    {
        ConnState::Open { handshake } => *handshake,
        other => panic!("expected Open, got {other:?}"),
    }
}

pub async fn wait_end(s: &Session) -> ConnState {
    wait_for(s, "closed or failed", |st| {
        matches!(st, ConnState::Closed { .. } | ConnState::Failed { .. })
    })
    .await
}

/// Wait until the log holds a frame matching `pred`.
pub async fn wait_frame(s: &Session, what: &str, pred: impl Fn(&Frame) -> bool) -> Frame {
    let mut follow = s.log().follow();
    let r = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(f) = s.log().page(0, usize::MAX).into_iter().find(|f| pred(f)) {
                return f;
            }
            follow.changed().await.unwrap();
        }
    })
    .await;
    r.unwrap_or_else(|_| panic!("timed out waiting for frame: {what}; log: {:?}", s.log().page(0, 50)))
}

/// What a scripted server saw in the handshake.
#[derive(Debug, Clone, Default)]
pub struct SeenRequest {
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl SeenRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A WebSocket server running `script` for each connection; returns its address and
/// the requests it saw.
#[allow(clippy::result_large_err)] // tungstenite's callback signature
pub async fn scripted<F, Fut>(script: F) -> (SocketAddr, Arc<Mutex<Vec<SeenRequest>>>)
where
    F: Fn(WebSocketStream<TcpStream>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let script = Arc::new(script);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let seen = seen2.clone();
            let script = script.clone();
            tokio::spawn(async move {
                let cb = |req: &Request, resp: Response| {
                    seen.lock().unwrap().push(SeenRequest {
                        path: req.uri().to_string(),
                        headers: req
                            .headers()
                            .iter()
                            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
                            .collect(),
                    });
                    Ok(resp)
                };
                if let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, cb).await {
                    script(ws).await;
                }
            });
        }
    });
    (addr, seen)
}

/// A server that sends `msgs` to each client (buffered, one flush), closes, and
/// keeps the socket a second for the client's reply.
pub async fn sends_then_closes(msgs: Vec<Message>) -> SocketAddr {
    let msgs = Arc::new(msgs);
    scripted(move |mut ws| {
        let msgs = msgs.clone();
        async move {
            for m in msgs.iter() {
                if ws.feed(m.clone()).await.is_err() {
                    return;
                }
            }
            let _ = ws.flush().await;
            let _ = ws.close(None).await;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
    .await
    .0
}

/// A plain HTTP server answering every request with `status` and `body`.
pub async fn http_answer(status: &'static str, body: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nX-Reason: test\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = tcp.write_all(resp.as_bytes()).await;
            });
        }
    });
    addr
}

/// A port nothing listens on.
pub async fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

/// Encode an unmasked server frame.
pub fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => v.push(n as u8),
        n if n < 65536 => {
            v.push(126);
            v.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            v.push(127);
            v.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    v.extend_from_slice(payload);
    v
}
