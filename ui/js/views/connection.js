// URL bar, Connect/Disconnect, state line, settings, and the handshake panel.
import { h, clear } from "../lib/dom.js";
import { formatDuration } from "../lib/format.js";
import { isLive } from "../lib/batch.js";
import { sioSettings } from "./socketio.js";

export function checkUrl(url, socketio = false) {
  const u = String(url ?? "").trim();
  if (socketio) return /^(https?|wss?):\/\/[^/\s]+/i.test(u) ? null : "Enter the server's http(s):// or ws(s):// URL";
  if (!u) return "Enter a ws:// or wss:// URL";
  if (/^https?:\/\//i.test(u)) return `Use ${u.replace(/^http/i, "ws")}`;
  if (!/^wss?:\/\/[^/\s]+/i.test(u)) return "The URL must start with ws:// or wss:// and name a host";
  return null;
}

export class ConnectionView {
  constructor(root, actions) {
    this.root = root;
    this.actions = actions;
    this.tabId = null;
    this.timer = null;
    // Whether the drawn controls are those of a live connection (Disconnect).
    this.drawnLive = false;
  }

  /**
   * The shown tab's state changed (as the engine's batch said): redraw the controls
   * when it went live or stopped being live, or a handshake arrived; else the state line.
   */
  stateChanged(tab, opened) {
    if (opened || this.drawnLive !== isLive(tab.state)) this.render(tab);
    else this.updateState(tab);
  }

  render(tab) {
    this.tabId = tab.id;
    const root = clear(this.root);
    const url = h("input", {
      id: "url",
      class: "url",
      value: tab.config.url,
      spellcheck: "false",
      "aria-label": "URL",
      placeholder: "wss://example.com/socket",
    });
    const hint = h("div", { class: "url-hint", role: "status" });
    const validate = () => {
      const problem = checkUrl(url.value, !!tab.config.socketio);
      hint.textContent = problem ?? "";
      url.classList.toggle("invalid", !!problem);
    };
    url.addEventListener("input", () => {
      validate();
      this.actions.editConfig(tab.id, (c) => (c.url = url.value.trim()));
    });
    url.addEventListener("keydown", (e) => {
      if (e.key === "Enter") this.actions.toggleConnect(tab.id);
    });
    const live = isLive(tab.state);
    this.drawnLive = live && !tab.readOnly;
    if (tab.readOnly) {
      this.stateLine = null;
      url.readOnly = true;
      root.append(h("div", { class: "url-row" }, url, h("button", { id: "connect", disabled: true, "aria-label": "Read-only", title: "A recorded session cannot connect" }, "Read-only")),
        h("div", { class: "state read-only", id: "state-line" }, `Recorded session · ${tab.stats?.heldFrames ?? 0} frames · read-only`), this.handshake(tab));
      return;
    }
    const button = h(
      "button",
      {
        id: "connect",
        class: live ? "danger" : "primary",
        "aria-label": live ? "Disconnect" : "Connect",
        title: live ? "Disconnect (Ctrl+D)" : "Connect (Ctrl+D)",
        onclick: () => this.actions.toggleConnect(tab.id),
      },
      live ? "Disconnect" : "Connect",
    );
    this.stateLine = h("div", { id: "state-line", class: `state ${tab.state.type}`, role: "status", "aria-live": "polite" });
    const sio = sioSettings(tab, (fn) => this.actions.editConfig(tab.id, fn), () => this.actions.modeChanged(tab.id));
    root.append(h("div", { class: "url-row" }, sio.mode, url, button), hint, this.stateLine, ...(sio.panel ? [sio.panel] : []), this.settings(tab), this.handshake(tab));
    validate();
    this.updateState(tab);
  }

  /** Refresh the state line only (called on every state change and each second). */
  updateState(tab) {
    if (!this.stateLine || tab.id !== this.tabId) return;
    const s = tab.state;
    const since = tab.stateSince ?? Date.now();
    const elapsed = Math.max(0, Math.round((Date.now() - since) / 1000));
    let text;
    switch (s.type) {
      case "idle": text = "Not connected"; break;
      case "connecting": text = s.attempt > 1 ? `Connecting (attempt ${s.attempt})… ${elapsed}s` : `Connecting… ${elapsed}s`; break;
      case "open": text = `Open for ${elapsed}s${s.handshake?.subprotocol ? ` · subprotocol ${s.handshake.subprotocol}` : ""}${tab.engineOpen ? ` · Engine.IO sid ${tab.engineOpen.sid} · ping ${tab.engineOpen.pingInterval}/${tab.engineOpen.pingTimeout} ms` : ""}`; break;
      case "closing": text = `Closing (${s.initiatedBy} initiated)…`; break;
      case "closed": text = `Closed ${s.code}${s.reason ? ` “${s.reason}”` : ""} · ${s.clean ? "clean" : "not clean"} · by ${s.initiatedBy}`; break;
      case "failed": text = `Failed: ${s.error.message}`; break;
      case "reconnecting": text = `Reconnecting: attempt ${s.attempt}${s.maxAttempts ? ` of ${s.maxAttempts}` : ""} in ${(s.delayMs / 1000).toFixed(1)}s${s.lastError ? ` (${s.lastError.message})` : ""}`; break;
      default: text = s.type;
    }
    this.stateLine.className = `state ${s.type}`;
    this.stateLine.textContent = text;
    if (s.type === "failed" && s.error.certificates) {
      this.stateLine.append(h("pre", { class: "http-failure", "aria-label": "Server certificates" }, certificateText(s.error.certificates)));
    }
    if (s.type === "failed" && s.error.http) {
      const http = s.error.http;
      this.stateLine.append(
        h("pre", { class: "http-failure" }, `HTTP ${http.status} ${http.reason}\n${http.headers.map((x) => `${x.name}: ${x.value}`).join("\n")}${http.body ? `\n\n${http.body}${http.bodyTruncated ? "\n[…]" : ""}` : ""}`),
      );
    }
    clearInterval(this.timer);
    if (["connecting", "open"].includes(s.type)) this.timer = setInterval(() => this.updateState(tab), 1000);
  }

  settings(tab) {
    const c = tab.config;
    const edit = (fn) => this.actions.editConfig(tab.id, fn);
    const field = (label, input) => h("label", { class: "field" }, h("span", {}, label), input);
    const text = (label, value, onChange, attrs = {}) =>
      field(label, h("input", { value: value ?? "", "aria-label": label, spellcheck: "false", oninput: (e) => onChange(e.target.value), ...attrs }));
    const number = (label, value, onChange) =>
      field(label, h("input", { type: "number", min: "0", value: String(value), "aria-label": label, oninput: (e) => onChange(Number(e.target.value) || 0) }));
    const check = (label, value, onChange, attrs = {}) =>
      h("label", { class: "check" }, h("input", { type: "checkbox", checked: value, "aria-label": label, onchange: (e) => onChange(e.target.checked), ...attrs }), label);

    const auth = c.auth ?? { type: "none" };
    const authFields = h("div", { class: "auth-fields" });
    const drawAuth = () => {
      clear(authFields);
      const a = tab.config.auth ?? { type: "none" };
      if (a.type === "bearer") authFields.append(text("Token", a.token, (v) => edit((c) => (c.auth.token = v)), { type: "password" }));
      if (a.type === "basic") {
        authFields.append(text("Username", a.username, (v) => edit((c) => (c.auth.username = v))));
        authFields.append(text("Password", a.password, (v) => edit((c) => (c.auth.password = v)), { type: "password" }));
      }
      if (a.type === "apiKey") {
        authFields.append(text("Key name", a.name, (v) => edit((c) => (c.auth.name = v))));
        authFields.append(text("Key value", a.value, (v) => edit((c) => (c.auth.value = v)), { type: "password" }));
        authFields.append(field("Send in", h("select", { "aria-label": "API key placement", onchange: (e) => edit((c) => (c.auth.placement = e.target.value)) },
          h("option", { value: "header", selected: a.placement !== "query" }, "Header"),
          h("option", { value: "query", selected: a.placement === "query" }, "Query parameter"))));
      }
    };
    const authSelect = h("select", {
      "aria-label": "Auth",
      onchange: (e) => {
        const type = e.target.value;
        edit((c) => (c.auth = type === "bearer" ? { type, token: "" } : type === "basic" ? { type, username: "", password: "" } : type === "apiKey" ? { type, name: "X-API-Key", value: "", placement: "header" } : { type: "none" }));
        drawAuth();
      },
    }, ["none", "bearer", "basic", "apiKey"].map((t) => h("option", { value: t, selected: auth.type === t }, { none: "None", bearer: "Bearer token", basic: "Basic", apiKey: "API key" }[t])));
    drawAuth();

    const insecureWarn = h("div", { class: "warning", hidden: !c.tls?.acceptInvalidCerts }, "⚠ Certificates are not verified for this connection.");
    const proxy = c.proxy ?? { mode: "system" };
    const proxyUrl = text("Proxy URL", proxy.url, (v) => edit((c) => (c.proxy = { mode: "url", url: v })), {
      placeholder: "http://user:pass@proxy:3128, socks5h://proxy:1080",
    });
    proxyUrl.hidden = proxy.mode !== "url";
    const proxySelect = h("select", {
      "aria-label": "Proxy",
      onchange: (e) => {
        const mode = e.target.value;
        proxyUrl.hidden = mode !== "url";
        const url = proxyUrl.querySelector("input").value;
        edit((c) => (c.proxy = mode === "url" ? { mode, url } : { mode }));
      },
    }, ["system", "none", "url"].map((m) => h("option", { value: m, selected: proxy.mode === m }, { system: "App setting, then environment", none: "No proxy", url: "This proxy" }[m])));
    return h("details", { class: "settings" },
      h("summary", {}, "Settings: params, headers, subprotocols, auth, TLS, proxy, compression, keepalive"),
      h("div", { class: "settings-grid" },
        h("div", {}, h("h3", {}, "Query parameters"), rowsEditor(c.params, "parameter", (rows) => edit((c) => (c.params = rows)))),
        h("div", {}, h("h3", {}, "Headers"), rowsEditor(c.headers, "header", (rows) => edit((c) => (c.headers = rows)))),
        h("div", {},
          h("h3", {}, "Handshake"),
          text("Subprotocols (comma-separated)", (c.subprotocols ?? []).join(", "), (v) => edit((c) => (c.subprotocols = v.split(",").map((s) => s.trim()).filter(Boolean)))),
          text("Origin", c.origin, (v) => edit((c) => (c.origin = v || null))),
          field("Auth", authSelect), authFields),
        h("div", {},
          h("h3", {}, "TLS"),
          text("CA file (PEM)", c.tls?.caFile, (v) => edit((c) => (c.tls.caFile = v || null))),
          text("Client certificate (PEM)", c.tls?.clientCertFile, (v) => edit((c) => (c.tls.clientCertFile = v || null))),
          text("Client key (PEM)", c.tls?.clientKeyFile, (v) => edit((c) => (c.tls.clientKeyFile = v || null))),
          check("Accept invalid certificates", c.tls?.acceptInvalidCerts, (v) => {
            insecureWarn.hidden = !v;
            edit((c) => (c.tls.acceptInvalidCerts = v));
          }),
          insecureWarn),
        h("div", {},
          h("h3", {}, "Proxy"),
          field("Proxy", proxySelect), proxyUrl),
        compressionSettings(c, edit, field, check),
        h("div", {},
          h("h3", {}, "Keepalive & limits"),
          number("Ping every (ms, 0 = off)", c.keepalive?.pingIntervalMs ?? 0, (v) => edit((c) => (c.keepalive.pingIntervalMs = v))),
          number("Dead after (ms with nothing received, 0 = off)", c.keepalive?.deadAfterMs ?? 0, (v) => edit((c) => (c.keepalive.deadAfterMs = v))),
          check("Answer pings automatically", c.keepalive?.autoPong ?? true, (v) => edit((c) => (c.keepalive.autoPong = v))),
          number("Max message (bytes)", c.limits?.maxMessageSize ?? 67108864, (v) => edit((c) => (c.limits.maxMessageSize = v))),
          number("Connect timeout (ms)", c.timeouts?.connectMs ?? 10000, (v) => edit((c) => (c.timeouts.connectMs = v)))),
        h("div", {},
          h("h3", {}, "Reconnect"),
          check("Reconnect automatically", c.reconnect?.enabled, (v) => edit((c) => (c.reconnect.enabled = v))),
          number("Max attempts (0 = no limit)", c.reconnect?.maxAttempts ?? 10, (v) => edit((c) => (c.reconnect.maxAttempts = v))),
          number("First delay (ms)", c.reconnect?.initialDelayMs ?? 500, (v) => edit((c) => (c.reconnect.initialDelayMs = v))))),
    );
  }

  handshake(tab) {
    const hs = tab.handshake;
    if (!hs) return h("details", { class: "handshake", id: "handshake" }, h("summary", {}, "Handshake: not connected yet"));
    const t = hs.timings;
    const headers = (list) => list.map((x) => `${x.name}: ${x.value}`).join("\n");
    return h("details", { class: "handshake", id: "handshake" },
      h("summary", {}, `Handshake: ${hs.statusLine} · ${hs.remoteAddr} · ${formatDuration(t.totalUs)}`),
      h("div", { class: "hs-grid" },
        h("pre", { class: "hs-req", "aria-label": "Request" }, `${hs.requestLine}\n${headers(hs.requestHeaders)}`),
        h("pre", { class: "hs-res", "aria-label": "Response" }, `${hs.statusLine}\n${headers(hs.responseHeaders)}`),
        h("div", { class: "hs-meta" },
          h("div", {}, `Subprotocol: ${hs.subprotocol ?? "none"} · Extensions: ${hs.extensions ?? "none"}`),
          h("div", {}, `DNS ${formatDuration(t.dnsUs)} · TCP ${formatDuration(t.tcpUs)} · TLS ${formatDuration(t.tlsUs)} · Upgrade ${formatDuration(t.upgradeUs)}`),
          hs.tls ? h("div", { class: hs.tls.certificateVerificationDisabled ? "warning" : "" }, `${hs.tls.version} · ${hs.tls.cipher}${hs.tls.certificateVerificationDisabled ? " · certificate NOT verified" : ""}${hs.tls.pinned ? " · certificate pinned by the CA file" : ""}`) : null,
          h("div", { class: "hs-deflate" }, deflateText(hs.deflate)),
          hs.proxy ? h("div", { class: "hs-proxy" }, `Proxy: ${hs.proxy.kind} ${hs.proxy.url} (${proxySource(hs.proxy.source)}) · tunnel ${formatDuration(hs.proxy.tunnelUs)}`) : null),
        hs.proxy ? h("pre", { class: "hs-proxy-exchange", "aria-label": "Proxy exchange" }, hs.proxy.exchange.join("\n")) : null,
        hs.tls?.certificates?.length ? h("pre", { class: "hs-certs", "aria-label": "Certificates" }, certificateText(hs.tls.certificates)) : null),
    );
  }
}

/** What permessage-deflate came to, as a person reads it (windows default to 15 bits). */
export function deflateText(d) {
  if (!d) return "Compression: off (permessage-deflate not in force)";
  const bits = (n) => `${n ?? 15}-bit window`;
  return `Compression: permessage-deflate · client ${bits(d.clientMaxWindowBits)}${d.clientNoContextTakeover ? ", no context takeover" : ""} · server ${bits(d.serverMaxWindowBits)}${d.serverNoContextTakeover ? ", no context takeover" : ""}`;
}

/** The "Compression (permessage-deflate)" settings: the switch and the four parameters. */
function compressionSettings(c, edit, field, check) {
  const z = { enabled: true, clientNoContextTakeover: false, serverNoContextTakeover: false, ...(c.compression ?? {}) };
  const set = (f) => edit((c) => { c.compression = { ...z, ...(c.compression ?? {}) }; f(c.compression); });
  const bits = (label, value, key) => {
    const input = h("input", { type: "number", min: 8, max: 15, placeholder: "15 (any)", value: value ?? "", "aria-label": label,
      onchange: (e) => {
        const v = e.target.value.trim();
        const n = Number(v);
        const ok = v === "" || (Number.isInteger(n) && n >= 8 && n <= 15);
        e.target.setCustomValidity(ok ? "" : "a window size from 8 to 15 bits, or empty");
        e.target.reportValidity();
        if (ok) set((z) => { if (v === "") delete z[key]; else z[key] = n; });
      } });
    return field(label, input);
  };
  const params = h("div", { class: "deflate-params", hidden: !z.enabled },
    bits("client_max_window_bits", z.clientMaxWindowBits, "clientMaxWindowBits"),
    bits("server_max_window_bits", z.serverMaxWindowBits, "serverMaxWindowBits"),
    check("client_no_context_takeover", z.clientNoContextTakeover, (v) => set((z) => (z.clientNoContextTakeover = v))),
    check("server_no_context_takeover", z.serverNoContextTakeover, (v) => set((z) => (z.serverNoContextTakeover = v))));
  return h("div", {},
    h("h3", {}, "Compression"),
    check("Compression (permessage-deflate)", z.enabled, (v) => { params.hidden = !v; set((z) => (z.enabled = v)); }),
    params);
}

function proxySource(source) {
  return source === "connection" ? "this connection's setting" : source === "global" ? "the app's setting" : `from ${source}`;
}

/** The server's certificate chain, one block per certificate. */
export function certificateText(certs) {
  return certs
    .map((c, i) => [
      `#${i + 1} ${c.subject}${c.selfSigned ? " (self-signed)" : ""}${c.isCa ? " (CA)" : ""}`,
      `   issuer:  ${c.issuer}`,
      `   valid:   ${c.notBefore} → ${c.notAfter}`,
      `   names:   ${c.sans.length ? c.sans.join(", ") : "none"}`,
      `   SHA-256: ${c.sha256}`,
    ].join("\n"))
    .join("\n");
}

function rowsEditor(rows, what, onChange) {
  const data = (rows ?? []).map((r) => ({ ...r }));
  const table = h("div", { class: "rows" });
  const emit = () => onChange(data.filter((r) => r.name !== "" || r.value !== "").map((r) => ({ ...r })));
  const draw = () => {
    clear(table);
    data.forEach((r, i) => {
      table.append(h("div", { class: "row-edit" },
        h("input", { type: "checkbox", checked: r.enabled !== false, "aria-label": `Enable ${what} ${i + 1}`, onchange: (e) => { r.enabled = e.target.checked; emit(); } }),
        h("input", { value: r.name, placeholder: "name", "aria-label": `${what} ${i + 1} name`, spellcheck: "false", oninput: (e) => { r.name = e.target.value; emit(); } }),
        h("input", { value: r.value, placeholder: "value", "aria-label": `${what} ${i + 1} value`, spellcheck: "false", oninput: (e) => { r.value = e.target.value; emit(); } }),
        h("button", { class: "icon", "aria-label": `Remove ${what} ${i + 1}`, onclick: () => { data.splice(i, 1); emit(); draw(); } }, "−")));
    });
    table.append(h("button", { class: "add-row", "aria-label": `Add ${what}`, onclick: () => { data.push({ name: "", value: "", enabled: true }); draw(); } }, `+ Add ${what}`));
  };
  draw();
  return table;
}
