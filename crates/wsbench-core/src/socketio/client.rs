//! The Socket.IO client as a state machine with no I/O: the connection actor feeds
//! it every data frame received, every user command and its timer; it answers with
//! the decoded view of the frame and the frames to send. One per WebSocket
//! connection: a reconnect starts a new one, which joins the namespaces again.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::time::Instant;

use super::binary::{deconstruct, reconstruct};
use super::decoded::{Decoded, SioCommand};
use super::engine::{EioVersion, EnginePacket, OpenInfo, WireFrame};
use super::packet::{SioPacket, SioType};
use crate::config::SocketIoConfig;
use crate::error::{Error, Result};

/// A frame to send, its decoded view, and (on the first frame of a user command)
/// whoever waits for it to be written.
pub struct Out<R> {
    pub frame: WireFrame,
    pub note: Decoded,
    pub reply: Option<R>,
}

/// What a received frame (or the timer) leads to.
pub struct Step<R> {
    /// The decoded view of the frame received (`None` from the timer).
    pub note: Option<Decoded>,
    /// The ack round trip, for the frame's `rtt_us`.
    pub rtt_us: u32,
    pub send: Vec<Out<R>>,
    /// Commands waiting for a namespace that refused them.
    pub refused: Vec<(R, Error)>,
    /// The connection is dead (no heartbeat, wrong protocol): why.
    pub fail: Option<String>,
    /// The server closed the Engine.IO session: close the WebSocket.
    pub close: bool,
}

impl<R> Step<R> {
    /// Nothing decoded, nothing to do.
    pub fn empty() -> Self {
        let mut s = Self::note(Decoded::default());
        s.note = None;
        s
    }

    fn note(note: Decoded) -> Self {
        Self {
            note: Some(note),
            rtt_us: 0,
            send: Vec::new(),
            refused: Vec::new(),
            fail: None,
            close: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum NsState {
    Joining,
    Connected,
    Refused(String),
    Left,
}

struct Namespace<R> {
    auth: Option<Value>,
    state: NsState,
    /// Commands for this namespace sent before it was connected, in order.
    queued: Vec<(SioCommand, Option<R>)>,
}

/// The frames of a command, or the command's waiter with why it cannot be sent.
pub type CmdResult<R> = std::result::Result<Vec<Out<R>>, (Option<R>, Error)>;

pub struct SioClient<R> {
    version: EioVersion,
    auto_heartbeat: bool,
    auto_ack: Option<Vec<Value>>,
    open: Option<OpenInfo>,
    namespaces: BTreeMap<String, Namespace<R>>,
    next_ack: u64,
    acks: HashMap<(String, u64), (Instant, String)>,
    /// A received binary packet and the attachments received so far.
    partial: Option<(SioPacket, Vec<Bytes>)>,
    /// Engine.IO 4: the server's ping is overdue after this. Engine.IO 3: our next ping.
    heartbeat: Option<Instant>,
    /// Engine.IO 3: the pong to our ping is overdue after this.
    pong_due: Option<Instant>,
}

/// The Engine.IO revision for a Socket.IO major version.
pub fn eio_version(sio_version: u8) -> Result<EioVersion> {
    match sio_version {
        2 => Ok(EioVersion::V3),
        3 | 4 => Ok(EioVersion::V4),
        v => Err(Error::InvalidParam {
            name: "socket.io version".into(),
            reason: format!("{v} is not supported (choose 4, 3 or 2)"),
        }),
    }
}

/// `/name` for `name`, `/` for nothing.
pub fn normalize_namespace(ns: &str) -> String {
    let ns = ns.trim();
    if ns.starts_with('/') {
        ns.to_owned()
    } else {
        format!("/{ns}")
    }
}

fn message(p: &SioPacket) -> WireFrame {
    EnginePacket::Message(p.encode()).encode(EioVersion::V4)
}

impl<R> SioClient<R> {
    pub fn new(cfg: &SocketIoConfig) -> Result<Self> {
        let version = eio_version(cfg.version)?;
        let mut namespaces = BTreeMap::new();
        for ns in &cfg.namespaces {
            namespaces.insert(normalize_namespace(&ns.name), Namespace::new(ns.auth.clone()));
        }
        if namespaces.is_empty() {
            namespaces.insert("/".to_owned(), Namespace::new(None));
        }
        Ok(Self {
            version,
            auto_heartbeat: cfg.auto_heartbeat,
            auto_ack: cfg.auto_ack.clone().map(|v| match v {
                Value::Array(a) => a,
                v => vec![v],
            }),
            open: None,
            namespaces,
            next_ack: 0,
            acks: HashMap::new(),
            partial: None,
            heartbeat: None,
            pong_due: None,
        })
    }

    pub fn version(&self) -> EioVersion {
        self.version
    }

    /// The Engine.IO session, once the open packet arrived.
    pub fn open_info(&self) -> Option<&OpenInfo> {
        self.open.as_ref()
    }

    /// When [`SioClient::on_timer`] must run next.
    pub fn deadline(&self) -> Option<Instant> {
        match (self.heartbeat, self.pong_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn on_text(&mut self, text: &str, now: Instant) -> Step<R> {
        let packet = match EnginePacket::decode_text(text) {
            Ok(p) => p,
            Err(e) => {
                let mut note = Decoded::engine("invalid");
                note.error = Some(e.to_string());
                return Step::note(note);
            }
        };
        let mut step = Step::note(Decoded::engine(packet.kind()));
        match packet {
            EnginePacket::Open(info) => return self.on_open(info, now),
            EnginePacket::Ping(data) => {
                if let (EioVersion::V4, Some(o)) = (self.version, &self.open) {
                    self.heartbeat = Some(now + Duration::from_millis(o.ping_interval + o.ping_timeout));
                }
                if self.auto_heartbeat {
                    step.send.push(self.control(EnginePacket::Pong(data)));
                }
            }
            EnginePacket::Pong(_) => self.pong_due = None,
            EnginePacket::Close => step.close = true,
            EnginePacket::Message(m) => return self.on_message(&m, now),
            EnginePacket::Binary(_) | EnginePacket::Upgrade | EnginePacket::Noop => {}
        }
        step
    }

    pub fn on_binary(&mut self, b: &Bytes, now: Instant) -> Step<R> {
        let mut note = Decoded::engine("binary");
        let data = match EnginePacket::decode_binary(b, self.version) {
            Ok(EnginePacket::Binary(d)) => d,
            Ok(_) => return Step::note(note),
            Err(e) => {
                note.error = Some(e.to_string());
                return Step::note(note);
            }
        };
        let Some((packet, mut got)) = self.partial.take() else {
            note.error = Some("a binary message with no binary packet waiting for it".into());
            return Step::note(note);
        };
        let index = got.len();
        got.push(data);
        if got.len() < packet.attachments {
            note.attachment = Some(index);
            self.partial = Some((packet, got));
            return Step::note(note);
        }
        let mut packet = packet;
        if let Some(d) = packet.data.as_mut() {
            if let Err(e) = reconstruct(d, &got) {
                note.error = Some(e.reason);
                return Step::note(note);
            }
        }
        let mut step = self.on_packet(packet, now);
        if let Some(n) = step.note.as_mut() {
            n.engine = "binary".into();
            n.attachment = Some(index);
        }
        step
    }

    fn on_open(&mut self, info: OpenInfo, now: Instant) -> Step<R> {
        let mut note = Decoded::engine("open");
        note.open = Some(info.clone());
        let mut step = Step::note(note);
        if self.version == EioVersion::V4 && info.max_payload.is_none() {
            step.fail =
                Some("the server speaks Engine.IO 3 (a Socket.IO v2 server): choose Socket.IO version 2".into());
            return step;
        }
        self.heartbeat = match self.version {
            EioVersion::V4 => Some(now + Duration::from_millis(info.ping_interval + info.ping_timeout)),
            EioVersion::V3 if self.auto_heartbeat => Some(now + Duration::from_millis(info.ping_interval)),
            EioVersion::V3 => None,
        };
        self.open = Some(info);
        let names: Vec<String> = self.namespaces.keys().cloned().collect();
        for ns in names {
            // Engine.IO 3 servers join the main namespace by themselves.
            if !(self.version == EioVersion::V3 && ns == "/") {
                step.send.push(self.join_packet(&ns));
            }
        }
        step
    }

    fn on_message(&mut self, m: &str, now: Instant) -> Step<R> {
        match SioPacket::decode(m) {
            Err(e) => {
                let mut note = Decoded::engine("message");
                note.error = Some(format!(
                    "{} (Socket.IO packet, byte {} of the frame)",
                    e.reason,
                    e.pos + 1
                ));
                Step::note(note)
            }
            Ok(p) if p.kind.is_binary() && p.attachments > 0 => {
                let mut note = Decoded::packet(&p);
                note.partial = true;
                self.partial = Some((p, Vec::new()));
                Step::note(note)
            }
            Ok(p) => self.on_packet(p, now),
        }
    }

    fn on_packet(&mut self, p: SioPacket, now: Instant) -> Step<R> {
        let mut step = Step::note(Decoded::packet(&p));
        match p.kind {
            SioType::Connect => {
                let sid = p.data.as_ref().and_then(|d| d.get("sid")).and_then(Value::as_str);
                if let Some(n) = step.note.as_mut() {
                    n.sid = sid.map(str::to_owned);
                }
                let ns = self
                    .namespaces
                    .entry(p.nsp.clone())
                    .or_insert_with(|| Namespace::new(None));
                ns.state = NsState::Connected;
                let queued = std::mem::take(&mut ns.queued);
                for (cmd, reply) in queued {
                    match self.encode(cmd, reply) {
                        Ok(out) => step.send.extend(out),
                        Err((reply, e)) => step.refused.extend(reply.map(|r| (r, e))),
                    }
                }
            }
            SioType::ConnectError => {
                let msg = match &p.data {
                    Some(Value::String(s)) => s.clone(),
                    Some(d) => d
                        .get("message")
                        .and_then(Value::as_str)
                        .map_or_else(|| d.to_string(), str::to_owned),
                    None => "refused".into(),
                };
                // An empty message (found by the property test) still says something.
                let msg = if msg.trim().is_empty() {
                    "refused, with no reason given".to_owned()
                } else {
                    msg
                };
                if let Some(n) = step.note.as_mut() {
                    n.error = Some(msg.clone());
                }
                if let Some(ns) = self.namespaces.get_mut(&p.nsp) {
                    ns.state = NsState::Refused(msg.clone());
                    for (_, reply) in ns.queued.drain(..) {
                        let e = Error::NotConnected(format!("namespace {} refused the connection: {msg}", p.nsp));
                        step.refused.extend(reply.map(|r| (r, e)));
                    }
                }
            }
            SioType::Disconnect => {
                if let Some(ns) = self.namespaces.get_mut(&p.nsp) {
                    ns.state = NsState::Left;
                }
            }
            SioType::Event | SioType::BinaryEvent => {
                if let (Some(id), Some(args)) = (p.id, self.auto_ack.clone()) {
                    let cmd = SioCommand::Ack {
                        namespace: p.nsp.clone(),
                        id,
                        args,
                    };
                    if let Ok(out) = self.encode(cmd, None) {
                        step.send.extend(out.into_iter().map(|mut o| {
                            o.note.auto = true;
                            o
                        }));
                    }
                }
            }
            SioType::Ack | SioType::BinaryAck => {
                if let Some((sent, event)) = p.id.and_then(|id| self.acks.remove(&(p.nsp.clone(), id))) {
                    let rtt = now
                        .saturating_duration_since(sent)
                        .as_micros()
                        .clamp(1, u32::MAX as u128) as u32;
                    step.rtt_us = rtt;
                    if let Some(n) = step.note.as_mut() {
                        n.ack_of = Some(event);
                        n.rtt_us = Some(rtt as u64);
                    }
                }
            }
        }
        step
    }

    /// The heartbeat timer: a ping to send (Engine.IO 3) or a dead connection.
    pub fn on_timer(&mut self, now: Instant) -> Step<R> {
        let mut step = Step::empty();
        let Some(o) = self.open.clone() else {
            return step;
        };
        if self.pong_due.is_some_and(|d| d <= now) {
            self.pong_due = None;
            self.heartbeat = None;
            step.fail = Some(format!(
                "no pong from the server within pingTimeout ({} ms)",
                o.ping_timeout
            ));
            return step;
        }
        if self.heartbeat.is_some_and(|d| d <= now) {
            match self.version {
                EioVersion::V4 => {
                    self.heartbeat = None;
                    step.fail = Some(format!(
                        "no ping from the server within pingInterval + pingTimeout ({} ms)",
                        o.ping_interval + o.ping_timeout
                    ));
                }
                EioVersion::V3 => {
                    step.send.push(self.control(EnginePacket::Ping(String::new())));
                    self.heartbeat = Some(now + Duration::from_millis(o.ping_interval));
                    self.pong_due = Some(now + Duration::from_millis(o.ping_timeout));
                }
            }
        }
        step
    }

    fn control(&self, p: EnginePacket) -> Out<R> {
        let mut note = Decoded::engine(p.kind());
        note.auto = true;
        Out {
            frame: p.encode(self.version),
            note,
            reply: None,
        }
    }

    fn join_packet(&self, ns: &str) -> Out<R> {
        let auth = self.namespaces.get(ns).and_then(|n| n.auth.clone());
        let p = match self.version {
            EioVersion::V4 => SioPacket::new(SioType::Connect, ns, auth),
            // Engine.IO 3 (Socket.IO v2): the auth goes as the namespace's query.
            EioVersion::V3 => SioPacket::new(SioType::Connect, &format!("{ns}{}", v2_query(auth.as_ref())), None),
        };
        let mut note = Decoded::packet(&p);
        note.namespace = Some(ns.to_owned());
        note.auto = true;
        Out {
            frame: message(&p),
            note,
            reply: None,
        }
    }

    /// A packet or attachment the server would refuse: larger than the `maxPayload` of
    /// its open packet (Engine.IO 4), which it enforces by dropping the connection.
    fn over_max_payload(&self, p: &SioPacket, attachments: &[Bytes]) -> Option<Error> {
        let max = self.open.as_ref()?.max_payload?;
        let text = 1 + p.encode().len() as u64;
        let (what, size) = std::iter::once(("the packet", text))
            .chain(attachments.iter().map(|b| ("an attachment", b.len() as u64)))
            .find(|(_, n)| *n > max)?;
        Some(Error::InvalidPayload {
            format: "Socket.IO",
            reason: format!(
                "{what} is {size} bytes, over the server's maxPayload of {max} bytes (from its open packet); \
                 the server would drop the connection, so it was not sent"
            ),
        })
    }

    /// A user command: the frames to send now (none if it waits for its namespace).
    pub fn command(&mut self, cmd: SioCommand, reply: Option<R>) -> CmdResult<R> {
        match cmd {
            SioCommand::Join { namespace, auth } => {
                let ns = normalize_namespace(&namespace);
                self.namespaces.insert(ns.clone(), Namespace::new(auth));
                Ok(self
                    .open
                    .is_some()
                    .then(|| self.with_reply(self.join_packet(&ns), reply))
                    .into_iter()
                    .collect())
            }
            SioCommand::Leave { namespace } => {
                let ns = normalize_namespace(&namespace);
                if let Some(n) = self.namespaces.get_mut(&ns) {
                    n.state = NsState::Left;
                }
                let p = SioPacket::new(SioType::Disconnect, &ns, None);
                let out = Out {
                    frame: message(&p),
                    note: Decoded::packet(&p),
                    reply,
                };
                Ok(vec![out])
            }
            cmd => self.route(cmd, reply),
        }
    }

    fn with_reply(&self, mut out: Out<R>, reply: Option<R>) -> Out<R> {
        out.reply = reply;
        out
    }

    /// Emit and ack go out once their namespace is connected (joined on demand).
    fn route(&mut self, cmd: SioCommand, reply: Option<R>) -> CmdResult<R> {
        let ns = match &cmd {
            SioCommand::Emit { namespace, .. } | SioCommand::Ack { namespace, .. } => normalize_namespace(namespace),
            _ => "/".into(),
        };
        let mut join = None;
        if !self.namespaces.contains_key(&ns) {
            self.namespaces.insert(ns.clone(), Namespace::new(None));
            if self.open.is_some() {
                join = Some(self.join_packet(&ns));
            }
        }
        let Some(state) = self.namespaces.get(&ns).map(|n| n.state.clone()) else {
            return Err((reply, Error::NotConnected(format!("namespace {ns} is unknown"))));
        };
        match state {
            NsState::Connected => self.encode(cmd, reply),
            NsState::Refused(msg) => Err((
                reply,
                Error::NotConnected(format!("namespace {ns} refused the connection: {msg}")),
            )),
            NsState::Left => Err((reply, Error::NotConnected(format!("namespace {ns} was left")))),
            NsState::Joining => {
                if let Some(n) = self.namespaces.get_mut(&ns) {
                    n.queued.push((cmd, reply));
                }
                Ok(join.into_iter().collect())
            }
        }
    }

    /// An emit or an ack as frames: the packet, then its attachments.
    fn encode(&mut self, cmd: SioCommand, reply: Option<R>) -> CmdResult<R> {
        let (ns, args, mut attachments, id, event) = match cmd {
            SioCommand::Emit {
                namespace,
                event,
                args,
                ack,
                attachments,
            } => {
                let id = ack.then(|| {
                    self.next_ack += 1;
                    self.next_ack - 1
                });
                let mut data = vec![Value::String(event.clone())];
                data.extend(args);
                (namespace, data, attachments, id, Some(event))
            }
            SioCommand::Ack { namespace, id, args } => (namespace, args, Vec::new(), Some(id), None),
            _ => return Ok(Vec::new()),
        };
        let ns = normalize_namespace(&ns);
        let mut data = Value::Array(args);
        if !attachments.is_empty() && !has_placeholder(&data) {
            // Attachments no argument refers to are extra arguments.
            if let Value::Array(a) = &mut data {
                a.extend(attachments.drain(..).map(|b| super::binary::binary_value(&b)));
            }
        }
        let mut shown = data.clone();
        let checked = reconstruct(&mut shown, &attachments)
            .map_err(|e| e.reason)
            .and_then(|()| deconstruct(&mut data, &mut attachments));
        if let Err(reason) = checked {
            let format = "socket.io";
            return Err((reply, Error::InvalidPayload { format, reason }));
        }
        let kind = match (event.is_none(), attachments.is_empty()) {
            (false, true) => SioType::Event,
            (false, false) => SioType::BinaryEvent,
            (true, true) => SioType::Ack,
            (true, false) => SioType::BinaryAck,
        };
        let mut p = SioPacket::new(kind, &ns, Some(data));
        p.id = id;
        p.attachments = attachments.len();
        if let Some(e) = self.over_max_payload(&p, &attachments) {
            return Err((reply, e));
        }
        if let (Some(id), Some(event)) = (id, event) {
            self.acks.insert((ns, id), (Instant::now(), event));
        }
        let note = Decoded::packet(&SioPacket {
            data: Some(shown),
            ..p.clone()
        });
        let mut out = vec![Out {
            frame: message(&p),
            note,
            reply,
        }];
        for (i, b) in attachments.into_iter().enumerate() {
            let mut note = Decoded::engine("binary");
            note.attachment = Some(i);
            out.push(Out {
                frame: EnginePacket::Binary(b).encode(self.version),
                note,
                reply: None,
            });
        }
        Ok(out)
    }
}

impl<R> Namespace<R> {
    fn new(auth: Option<Value>) -> Self {
        Self {
            auth,
            state: NsState::Joining,
            queued: Vec::new(),
        }
    }
}

fn has_placeholder(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.iter().any(has_placeholder),
        Value::Object(o) => o.get("_placeholder") == Some(&Value::Bool(true)) || o.values().any(has_placeholder),
        _ => false,
    }
}

/// A v2 namespace query (`?a=1&b=x`) from an auth object.
fn v2_query(auth: Option<&Value>) -> String {
    let Some(Value::Object(o)) = auth else {
        return String::new();
    };
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    let parts: Vec<String> = o
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            format!("{}={}", enc(k), enc(&v))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}
