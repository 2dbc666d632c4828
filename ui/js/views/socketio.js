// Socket.IO mode: the per-connection mode switch and settings, the event composer,
// and the decoded view of frames (log rows and the detail pane).
import { h, clear } from "../lib/dom.js";
import { previewLine } from "../lib/format.js";

export const SIO_DEFAULTS = { version: 4, path: "/socket.io/", namespaces: [], autoHeartbeat: true, autoAck: null, listen: [] };

/** Arguments as typed: a JSON array is the list, else one JSON value per non-empty line. */
export function parseArgs(text) {
  const t = String(text ?? "").trim();
  if (!t) return { args: [], problem: null };
  try {
    const v = JSON.parse(t);
    if (Array.isArray(v)) return { args: v, problem: null };
  } catch { /* one value per line */ }
  const args = [];
  const lines = t.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    try { args.push(JSON.parse(lines[i])); } catch (e) { return { args: null, problem: `Argument line ${i + 1} is not JSON: ${e.message}` }; }
  }
  return { args, problem: null };
}

/** The saved/sent form of an emit: `{ type: "emit", namespace, event, args, ack }` as JSON. */
export function emitBody(d) {
  const { args, problem } = parseArgs(d.args);
  if (problem) return { body: null, problem };
  if (!String(d.event ?? "").trim()) return { body: null, problem: "An emit needs an event name" };
  return { body: JSON.stringify({ type: "emit", namespace: d.namespace || "/", event: d.event.trim(), args, ack: !!d.ack }), problem: null };
}

/** What "Emit with file…" sends: the emit, the picked file going as its last argument
 * (a binary attachment). `{ sendAs, problem }`. */
export function fileEmit(d) {
  const { args, problem } = parseArgs(d.args);
  if (problem) return { sendAs: null, problem };
  if (!String(d.event ?? "").trim()) return { sendAs: null, problem: "An emit needs an event name" };
  return { sendAs: { type: "socketIo", namespace: d.namespace || "/", event: d.event.trim(), args, ack: !!d.ack }, problem: null };
}

/** The composer fields from a saved Socket.IO message body. */
export function draftFromBody(body) {
  try {
    const c = JSON.parse(body);
    return { event: c.event ?? "", namespace: c.namespace ?? "/", args: JSON.stringify(c.args ?? []), ack: !!c.ack };
  } catch {
    return { event: "", namespace: "/", args: body, ack: false };
  }
}

/** One line for a decoded frame in the log. */
export function decodedLine(d) {
  if (!d) return null;
  const ns = d.namespace && d.namespace !== "/" ? `${d.namespace} ` : "";
  const args = (d.args ?? []).map((a) => JSON.stringify(a)).join(", ");
  if (d.error) return `⚠ ${ns}${d.packet ?? d.engine}: ${d.error}`;
  if (d.event) return `${ns}${d.event}(${previewLine(args, 160)})${d.ackId != null ? ` #${d.ackId}` : ""}${d.partial ? ` · waiting for ${d.attachments} attachment(s)` : ""}`;
  if (d.ackOf) return `${ns}ack #${d.ackId} of ${d.ackOf} (${previewLine(args, 120)}) · ${(d.rttUs / 1000).toFixed(1)} ms`;
  if (d.packet === "ack" || d.packet === "binaryAck") return `${ns}ack #${d.ackId} (${previewLine(args, 120)})`;
  if (d.packet) return `${ns}${d.packet}${d.sid ? ` sid ${d.sid}` : ""}`;
  if (d.open) return `engine.io open · sid ${d.open.sid} · ping ${d.open.pingInterval}/${d.open.pingTimeout} ms`;
  if (d.attachment != null) return `attachment ${d.attachment}`;
  return `engine.io ${d.engine}${d.auto ? " (auto)" : ""}`;
}

/** Engine.IO control packets and namespace handshakes (drawn muted). */
export function isControl(d) {
  return !!d && !d.event && !d.ackOf && !d.error && !["ack", "binaryAck"].includes(d.packet);
}

/** The detail pane's decoded section. */
export function decodedDetail(d) {
  const rows = [["Packet", d.packet ?? `engine.io ${d.engine}`]];
  if (d.namespace) rows.push(["Namespace", d.namespace]);
  if (d.event) rows.push(["Event", d.event]);
  if (d.ackId != null) rows.push(["Ack id", String(d.ackId)]);
  if (d.ackOf) rows.push(["Ack of", `${d.ackOf} · RTT ${(d.rttUs / 1000).toFixed(2)} ms`]);
  if (d.sid) rows.push(["Sid", d.sid]);
  if (d.attachments) rows.push(["Attachments", String(d.attachments)]);
  if (d.error) rows.push(["Error", d.error]);
  if (d.auto) rows.push(["Sent", "automatically"]);
  const box = h("div", { id: "detail-decoded", class: "decoded" },
    h("div", { class: "muted" }, "Socket.IO (decoded) · the raw frame is below"),
    h("dl", {}, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])));
  if (d.args) box.append(h("pre", { id: "detail-args", class: "body" }, JSON.stringify(d.args, null, 2)));
  if (d.open) box.append(h("pre", { class: "body" }, JSON.stringify(d.open, null, 2)));
  return box;
}

/** The mode switch and, in Socket.IO mode, its settings. */
export function sioSettings(tab, edit, modeChanged) {
  const c = tab.config;
  const sio = c.socketio;
  const mode = h("select", { id: "conn-mode", "aria-label": "Mode", onchange: (e) => {
    edit((cfg) => (cfg.socketio = e.target.value === "socketio" ? { ...SIO_DEFAULTS } : null));
    modeChanged();
  } }, h("option", { value: "ws", selected: !sio }, "WebSocket"), h("option", { value: "socketio", selected: !!sio }, "Socket.IO"));
  if (!sio) return { mode, panel: null };
  const set = (fn) => edit((cfg) => fn(cfg.socketio));
  const field = (label, input) => h("label", { class: "field" }, h("span", {}, label), input);
  const nsRows = h("div", { class: "rows", id: "sio-namespaces" });
  const drawNs = () => {
    clear(nsRows);
    const list = tab.config.socketio.namespaces;
    list.forEach((n, i) => {
      const auth = h("input", { value: n.auth ? JSON.stringify(n.auth) : "", placeholder: "auth JSON, e.g. {\"token\":\"…\"}", "aria-label": `Namespace ${i + 1} auth`, spellcheck: "false",
        oninput: (e) => {
          let v = null;
          try { v = e.target.value.trim() ? JSON.parse(e.target.value) : null; auth.classList.remove("invalid"); } catch { auth.classList.add("invalid"); return; }
          set((s) => (s.namespaces[i].auth = v));
        } });
      nsRows.append(h("div", { class: "row-edit" },
        h("input", { value: n.name, placeholder: "/", "aria-label": `Namespace ${i + 1}`, spellcheck: "false", oninput: (e) => set((s) => (s.namespaces[i].name = e.target.value)) }),
        auth,
        h("button", { class: "icon", "aria-label": `Remove namespace ${i + 1}`, onclick: () => { set((s) => s.namespaces.splice(i, 1)); drawNs(); } }, "−")));
    });
    nsRows.append(h("button", { class: "add-row", id: "sio-add-namespace", "aria-label": "Add namespace", onclick: () => { set((s) => s.namespaces.push({ name: "/", auth: null })); drawNs(); } }, "+ Add namespace"));
  };
  drawNs();
  const panel = h("details", { class: "settings sio-settings", id: "sio-settings", open: true },
    h("summary", {}, "Socket.IO: WebSocket transport only (no long-polling)"),
    h("div", { class: "settings-grid" },
      h("div", {},
        field("Server version", h("select", { id: "sio-version", "aria-label": "Socket.IO version", onchange: (e) => set((s) => (s.version = Number(e.target.value))) },
          [[4, "v4 (Engine.IO 4)"], [3, "v3 (Engine.IO 4)"], [2, "v2 (Engine.IO 3)"]].map(([v, t]) => h("option", { value: String(v), selected: sio.version === v }, t)))),
        field("Path", h("input", { id: "sio-path", value: sio.path, "aria-label": "Socket.IO path", spellcheck: "false", oninput: (e) => set((s) => (s.path = e.target.value)) })),
        h("label", { class: "check" }, h("input", { type: "checkbox", id: "sio-heartbeat", checked: sio.autoHeartbeat, "aria-label": "Answer heartbeats automatically", onchange: (e) => set((s) => (s.autoHeartbeat = e.target.checked)) }), "Heartbeats automatically"),
        field("Listen to events (comma-separated; empty = all)", h("input", { id: "sio-listen", value: (sio.listen ?? []).join(", "), "aria-label": "Listen to events", spellcheck: "false",
          oninput: (e) => set((s) => (s.listen = e.target.value.split(",").map((x) => x.trim()).filter(Boolean))) }))),
      h("div", {}, h("h3", {}, "Namespaces (none = /)"), nsRows)));
  return { mode, panel };
}

/** The event composer: event, namespace, arguments, ack. Returns the send function. */
export function sioComposer(root, draft, onChange, send, save, sendFile) {
  const s = draft.sio ?? (draft.sio = { event: "", namespace: "/", args: "", ack: false });
  const status = h("span", { id: "composer-status", class: "composer-status", role: "status" });
  const event = h("input", { id: "sio-event", value: s.event, placeholder: "event", "aria-label": "Event name", spellcheck: "false" });
  const ns = h("input", { id: "sio-namespace", value: s.namespace, placeholder: "/", "aria-label": "Namespace", spellcheck: "false" });
  const ack = h("input", { type: "checkbox", id: "sio-ack", checked: s.ack, "aria-label": "Ask for an ack" });
  const args = h("textarea", { id: "message", value: s.args, "aria-label": "Arguments", spellcheck: "false", placeholder: "Arguments: a JSON array, or one JSON value per line (Ctrl+Enter sends)" });
  const validate = () => {
    Object.assign(s, { event: event.value, namespace: ns.value || "/", args: args.value, ack: ack.checked });
    const { problem } = emitBody(s);
    status.textContent = problem ?? "";
    status.classList.toggle("error", !!problem);
    args.classList.toggle("invalid", !!problem && !!args.value.trim());
    return problem ? null : emitBody(s).body;
  };
  for (const el of [event, ns, args]) el.addEventListener("input", () => { validate(); onChange(); });
  ack.addEventListener("change", () => { validate(); onChange(); });
  const go = () => { const body = validate(); if (body) send(body); };
  args.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); go(); } });
  event.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); go(); } });
  root.append(
    h("div", { class: "composer-bar sio-bar" },
      event, ns, h("label", { class: "check" }, ack, "Ack"), status, h("span", { class: "spacer" }),
      h("button", { id: "save-message", "aria-label": "Save message", onclick: () => { const b = validate(); if (b) save(b); } }, "Save message"),
      h("button", { id: "emit-file", "aria-label": "Emit with file", title: "Emit with a file as its last argument (a binary attachment), chosen in a dialog",
        onclick: () => { validate(); const { sendAs, problem } = fileEmit(s); if (sendAs) sendFile(sendAs); else status.textContent = problem; } }, "Emit with file…"),
      h("button", { id: "send", class: "primary", "aria-label": "Emit", title: "Emit (Ctrl+Enter)", onclick: go }, "Emit")),
    args);
  validate();
  return args;
}
