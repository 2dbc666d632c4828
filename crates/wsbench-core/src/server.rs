//! The built-in local server: echo or broadcast on 127.0.0.1, port 0 or a chosen one.
//! The desktop app starts one so a first launch shows traffic with no network; tests
//! and `wsbench-cli serve` use the same code.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::error::{Error, Result};
use crate::frame::{now_us, Opcode};
use crate::handshake::Header;
use crate::sync::lock;

mod sio;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ServerMode {
    /// Send every data message back to its sender, same opcode.
    #[default]
    Echo,
    /// Send every data message to every connected client, the sender included.
    Broadcast,
    /// A Socket.IO v4 server (Engine.IO 4, WebSocket transport): every event goes to
    /// the clients joined to its namespace, the sender included; ack requests are
    /// answered with the event's arguments (see `server/sio.rs`).
    SocketIo,
}

#[derive(Clone)]
pub struct ServerConfig {
    pub addr: SocketAddr,
    pub mode: ServerMode,
    /// Serve wss:// with this TLS config.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub max_message_size: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            mode: ServerMode::Echo,
            tls: None,
            max_message_size: crate::config::DEFAULT_MAX_MESSAGE_SIZE,
        }
    }
}

impl ServerConfig {
    pub fn echo() -> Self {
        Self::default()
    }

    pub fn broadcast() -> Self {
        Self {
            mode: ServerMode::Broadcast,
            ..Self::default()
        }
    }

    pub fn socketio() -> Self {
        Self {
            mode: ServerMode::SocketIo,
            ..Self::default()
        }
    }

    pub fn port(mut self, port: u16) -> Self {
        self.addr.set_port(port);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ServerEventKind {
    /// A client finished the handshake: what it asked for.
    Connected {
        path: String,
        headers: Vec<Header>,
        subprotocol: Option<String>,
    },
    Message {
        opcode: Opcode,
        len: usize,
    },
    Disconnected {
        code: Option<u16>,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerEvent {
    pub at_us: i64,
    pub client: u64,
    pub peer: String,
    #[serde(flatten)]
    pub kind: ServerEventKind,
}

const EVENT_HISTORY: usize = 10_000;
/// TLS accept and the upgrade must finish within this; so must a client's close
/// reply once the server shuts down. A silent client cannot hold a task forever.
const CLIENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// A client's queue of frames, each with the Socket.IO namespace it is for.
type Queue = mpsc::Sender<(Option<Arc<str>>, Message)>;

struct Shared {
    mode: ServerMode,
    /// Each client's queue: a frame, with the Socket.IO namespace it is for (a
    /// client not joined to it skips it).
    clients: Mutex<HashMap<u64, Queue>>,
    history: Mutex<VecDeque<ServerEvent>>,
    events: broadcast::Sender<ServerEvent>,
    next: AtomicU64,
}

impl Shared {
    fn emit(&self, client: u64, peer: &SocketAddr, kind: ServerEventKind) {
        let ev = ServerEvent {
            at_us: now_us(),
            client,
            peer: peer.to_string(),
            kind,
        };
        {
            let mut h = lock(&self.history);
            if h.len() == EVENT_HISTORY {
                h.pop_front();
            }
            h.push_back(ev.clone());
        }
        let _ = self.events.send(ev);
    }
}

pub struct LocalServer {
    addr: SocketAddr,
    tls: bool,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
}

impl LocalServer {
    /// Bind and start serving. Must be called inside a tokio runtime.
    pub async fn start(cfg: ServerConfig) -> Result<LocalServer> {
        let listener = TcpListener::bind(cfg.addr)
            .await
            .map_err(|e| Error::Io(format!("cannot listen on {}: {e}", cfg.addr)))?;
        let addr = listener.local_addr().map_err(|e| Error::Io(e.to_string()))?;
        let shared = Arc::new(Shared {
            mode: cfg.mode,
            clients: Mutex::default(),
            history: Mutex::default(),
            events: broadcast::channel(4096).0,
            next: AtomicU64::new(1),
        });
        let (shutdown, stop) = watch::channel(false);
        let tls = cfg.tls.is_some();
        tokio::spawn(accept_loop(listener, cfg, shared.clone(), stop));
        tracing::info!(%addr, "local server listening");
        Ok(LocalServer {
            addr,
            tls,
            shared,
            shutdown,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:PORT/` (or wss://localhost:PORT/ with TLS).
    pub fn url(&self) -> String {
        if self.tls {
            format!("wss://localhost:{}/", self.addr.port())
        } else {
            format!("ws://{}/", self.addr)
        }
    }

    pub fn client_count(&self) -> usize {
        lock(&self.shared.clients).len()
    }

    /// The most recent events (connects, messages, disconnects), oldest first.
    pub fn history(&self) -> Vec<ServerEvent> {
        lock(&self.shared.history).iter().cloned().collect()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ServerEvent> {
        self.shared.events.subscribe()
    }

    /// Stop accepting and close every client with 1001.
    pub fn shutdown(&self) {
        let _ = self.shutdown.send(true);
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

async fn accept_loop(listener: TcpListener, cfg: ServerConfig, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let acceptor = cfg.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    let ws_config = WebSocketConfig::default().max_message_size(Some(cfg.max_message_size));
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        let stop = stop.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            match acceptor {
                None => serve_client(tcp, peer, shared, stop, ws_config).await,
                Some(a) => match tokio::time::timeout(CLIENT_TIMEOUT, a.accept(tcp)).await {
                    Ok(Ok(tls)) => serve_client(tls, peer, shared, stop, ws_config).await,
                    Ok(Err(e)) => tracing::info!(%peer, error = %e, "TLS accept failed"),
                    Err(_) => tracing::info!(%peer, "TLS accept timed out"),
                },
            }
        });
    }
}

/// What a client asked for in its upgrade request: path, headers, subprotocol.
type Asked = (String, Vec<Header>, Option<String>);

/// The upgrade, within `CLIENT_TIMEOUT`; accepts the first subprotocol offered.
// The handshake callback's error type is tungstenite's (a whole HTTP response).
#[allow(clippy::result_large_err)]
async fn accept<S>(stream: S, peer: SocketAddr, ws_config: WebSocketConfig) -> Option<(WebSocketStream<S>, Asked)>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut seen: Option<(String, Vec<Header>, Option<String>)> = None;
    let callback = |req: &Request, mut resp: Response| {
        let headers = req
            .headers()
            .iter()
            .map(|(n, v)| Header {
                name: n.to_string(),
                value: String::from_utf8_lossy(v.as_bytes()).into_owned(),
            })
            .collect();
        // Accept the first subprotocol the client offers.
        let proto = req
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').map(str::trim).find(|p| !p.is_empty()))
            .map(str::to_owned);
        if let Some(p) = proto.as_deref().and_then(|p| HeaderValue::from_str(p).ok()) {
            resp.headers_mut().insert("sec-websocket-protocol", p);
        }
        let path = req.uri().path_and_query().map_or("/".to_owned(), |p| p.to_string());
        seen = Some((path, headers, proto));
        Ok(resp)
    };
    let handshake = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(ws_config));
    let ws = match tokio::time::timeout(CLIENT_TIMEOUT, handshake).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            tracing::info!(%peer, error = %e, "handshake failed");
            return None;
        }
        Err(_) => {
            tracing::info!(%peer, "handshake timed out");
            return None;
        }
    };
    Some((ws, seen.unwrap_or_default()))
}

async fn serve_client<S>(
    stream: S,
    peer: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
    ws_config: WebSocketConfig,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Some((mut ws, (path, headers, subprotocol))) = accept(stream, peer, ws_config).await else {
        return;
    };
    let id = shared.next.fetch_add(1, Ordering::Relaxed);
    shared.emit(
        id,
        &peer,
        ServerEventKind::Connected {
            path,
            headers,
            subprotocol,
        },
    );
    let (tx, rx) = mpsc::channel::<(Option<Arc<str>>, Message)>(1024);
    lock(&shared.clients).insert(id, tx);
    let end = client_loop(&mut ws, id, peer, &shared, rx, stop, ws_config).await;
    lock(&shared.clients).remove(&id);
    shared.emit(
        id,
        &peer,
        ServerEventKind::Disconnected {
            code: end.0,
            reason: end.1,
        },
    );
}

/// Serve one client until it or the server ends: how it ended (code, reason).
async fn client_loop<S>(
    ws: &mut WebSocketStream<S>,
    id: u64,
    peer: SocketAddr,
    shared: &Shared,
    mut rx: mpsc::Receiver<(Option<Arc<str>>, Message)>,
    mut stop: watch::Receiver<bool>,
    ws_config: WebSocketConfig,
) -> (Option<u16>, String)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut end: (Option<u16>, String) = (None, String::new());
    let mut stopping = false;
    let mut give_up: Option<tokio::time::Instant> = None;
    let mut sio = (shared.mode == ServerMode::SocketIo).then(|| sio::SioClient::new(id));
    let ping_every = std::time::Duration::from_millis(sio::PING_INTERVAL_MS);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    if let Some(c) = &sio {
        if ws
            .send(c.open(ws_config.max_message_size.unwrap_or(usize::MAX)))
            .await
            .is_err()
        {
            return (None, "the client left at once".into());
        }
    }
    loop {
        // One owner, one loop: an echo is written before the next frame is read, so
        // replies keep their order relative to the close handshake.
        let msg = tokio::select! {
            m = ws.next() => m,
            Some((nsp, out)) = rx.recv() => {
                let joined = match (&nsp, &sio) {
                    (Some(n), Some(c)) => c.joined.contains(&**n),
                    _ => true,
                };
                if joined && ws.send(out).await.is_err() {
                    break;
                }
                continue;
            }
            _ = ping.tick(), if sio.is_some() => {
                if ws.send(Message::Text("2".into())).await.is_err() {
                    break;
                }
                continue;
            }
            _ = async { tokio::time::sleep_until(give_up.unwrap_or_else(tokio::time::Instant::now)).await }, if give_up.is_some() => {
                end = (Some(1001), "server shutting down (client did not answer the close)".into());
                break;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                give_up = Some(tokio::time::Instant::now() + SHUTDOWN_GRACE);
                let _ = ws.send(Message::Close(Some(CloseFrame { code: CloseCode::Away, reason: "server shutting down".into() }))).await;
                end = (Some(1001), "server shutting down".into());
                continue;
            }
        };
        match msg {
            Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => {
                let opcode = if m.is_text() { Opcode::Text } else { Opcode::Binary };
                shared.emit(id, &peer, ServerEventKind::Message { opcode, len: m.len() });
                let answered = match sio.as_mut() {
                    Some(c) => sio_data(c, m, shared, ws).await,
                    None => plain_data(m, shared, ws).await,
                };
                if let Err(why) = answered {
                    end = (Some(1002), why);
                    break;
                }
            }
            Some(Ok(Message::Close(cf))) => {
                if !stopping {
                    end = cf.map_or((None, String::new()), |c| {
                        (Some(u16::from(c.code)), c.reason.to_string())
                    });
                }
                // tungstenite queues the close reply; keep polling until the stream ends.
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                if end.0.is_none() {
                    end = (Some(1006), e.to_string());
                }
                break;
            }
            None => break,
        }
    }
    if sio.is_some() && end.0 == Some(1002) {
        let _ = ws.close(None).await;
    }
    end
}

/// Every client's queue (a slow client misses messages rather than stalling the others).
fn broadcast(shared: &Shared, nsp: Option<Arc<str>>, frames: &[Message]) {
    let all: Vec<_> = lock(&shared.clients).values().cloned().collect();
    for c in all {
        for m in frames {
            let _ = c.try_send((nsp.clone(), m.clone()));
        }
    }
}

/// Echo or broadcast mode: a data message back to its sender, or to everyone.
async fn plain_data<S>(m: Message, shared: &Shared, ws: &mut WebSocketStream<S>) -> std::result::Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match shared.mode {
        ServerMode::Broadcast => {
            broadcast(shared, None, std::slice::from_ref(&m));
            Ok(())
        }
        _ => ws.send(m).await.map_err(|e| e.to_string()),
    }
}

/// Socket.IO mode: answer the sender, pass events on to their namespace. A malformed
/// packet ends the connection (`Err` says why).
async fn sio_data<S>(
    c: &mut sio::SioClient,
    m: Message,
    shared: &Shared,
    ws: &mut WebSocketStream<S>,
) -> std::result::Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let reply = match m {
        Message::Text(t) => c.on_text(t.as_str())?,
        Message::Binary(b) => c.on_binary(b)?,
        _ => return Ok(()),
    };
    for out in reply.to_sender {
        ws.send(out).await.map_err(|e| e.to_string())?;
    }
    if let Some((nsp, frames)) = reply.broadcast {
        broadcast(shared, Some(Arc::from(nsp.as_str())), &frames);
    }
    Ok(())
}
