// Text / JSON / hex / base64 composer with live validation, history, ping and close.
import { h, clear } from "../lib/dom.js";
import { checkBase64, checkHex } from "../lib/hex.js";
import { formatBytes, prettyJson } from "../lib/format.js";
import { draftFromBody, sioComposer } from "./socketio.js";

const MODES = { text: "Text", json: "JSON", hex: "Binary (hex)", base64: "Binary (base64)" };

/** What the composer says about a draft: { problem (null if it can be sent), size (bytes) }. */
export function checkMessage(mode, text) {
  let problem = null;
  let size = new TextEncoder().encode(text).length;
  // {{variables}} are resolved when sending: check the shape only without them.
  if (text.includes("{{")) return { problem, size };
  if (mode === "json" && text.trim()) {
    try { JSON.parse(text); } catch (e) { problem = `Not JSON: ${e.message}`; }
  }
  if (mode === "hex" || mode === "base64") {
    const r = mode === "hex" ? checkHex(text) : checkBase64(text);
    problem = r.ok ? null : r.error;
    size = r.bytes ?? 0;
  }
  return { problem, size };
}

export class Composer {
  constructor(root, actions) {
    this.root = root;
    this.actions = actions;
    this.drafts = new Map(); // tab id -> { mode, text }
    this.history = new Map(); // tab id -> sent texts, newest last
    this.editing = new Map(); // tab id -> index of the saved message being edited
    this.stashed = new Map(); // tab id -> the unsent draft put aside while editing
    this.cursor = -1;
  }

  /** The unsent text of a tab, as kept across restarts. */
  draftOf(id) {
    const d = this.drafts.get(id) ?? { mode: "text", text: "" };
    return { format: d.mode, text: d.text };
  }

  setDraft(id, draft) {
    this.drafts.set(id, { mode: draft.format ?? "text", text: draft.text ?? "" });
  }

  editingIndex(id) {
    return this.editing.get(id) ?? null;
  }

  stopEditing(id) {
    this.editing.delete(id);
    const d = this.stashed.get(id);
    this.stashed.delete(id);
    if (d) this.setDraft(id, d);
    this.actions.draftChanged(id);
  }

  /** Load a saved message to edit it; Save message then updates it in place. The
   * unsent text is put aside and comes back when editing stops. */
  load(id, message, index) {
    if (!this.editing.has(id)) this.stashed.set(id, this.draftOf(id));
    this.setDraft(id, { format: message.format, text: message.body });
    if (message.format === "socketIo") this.drafts.get(id).sio = draftFromBody(message.body);
    this.editing.set(id, index);
    if (this.tab?.id === id) this.render(this.tab);
    this.focus();
  }

  render(tab) {
    this.tabId = tab.id;
    this.tab = tab;
    if (tab.readOnly) {
      clear(this.root).append(h("p", { class: "muted read-only-note" }, "A recorded session: read-only. Its frames can be searched and exported; Save as connection from Import to reuse its messages."));
      return;
    }
    const draft = this.drafts.get(tab.id) ?? { mode: "text", text: "" };
    this.drafts.set(tab.id, draft);
    const root = clear(this.root);
    if (tab.config.socketio) {
      this.input = sioComposer(root, draft, () => this.actions.draftChanged(tab.id),
        (body) => this.actions.send(tab.id, { type: "socketIo", data: body }),
        (body) => this.actions.saveMessage(tab.id, "socketIo", body),
        (sendAs) => this.actions.sendFile(tab.id, sendAs));
      return;
    }
    const editingIdx = this.editingIndex(tab.id);
    const input = h("textarea", {
      id: "message",
      "aria-label": "Message",
      placeholder: "Message (Ctrl+Enter sends; Up/Down recalls sent messages)",
      spellcheck: "false",
      value: draft.text,
    });
    const status = h("span", { id: "composer-status", class: "composer-status", role: "status" });
    const mode = h("select", { id: "mode", "aria-label": "Message type" },
      Object.entries(MODES).map(([v, label]) => h("option", { value: v, selected: draft.mode === v }, label)));
    const validate = () => {
      const { problem, size } = checkMessage(draft.mode, input.value);
      status.textContent = problem ?? `${formatBytes(size)}`;
      status.classList.toggle("error", !!problem);
      input.classList.toggle("invalid", !!problem);
      return !problem;
    };
    input.addEventListener("input", () => {
      draft.text = input.value;
      this.cursor = -1;
      validate();
      this.actions.draftChanged(tab.id);
    });
    mode.addEventListener("change", () => {
      draft.mode = mode.value;
      format.hidden = draft.mode !== "json";
      validate();
      this.actions.draftChanged(tab.id);
    });
    const send = async () => {
      if (!validate()) return;
      const ok = await this.actions.send(tab.id, { type: draft.mode, data: input.value });
      if (ok) {
        const hist = this.history.get(tab.id) ?? [];
        if (hist[hist.length - 1] !== input.value) hist.push(input.value);
        this.history.set(tab.id, hist.slice(-100));
        this.cursor = -1;
      }
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        send();
        return;
      }
      this.recall(e, tab, input, draft, validate);
    });
    const format = h("button", {
      "aria-label": "Format JSON",
      title: "Format JSON",
      hidden: draft.mode !== "json",
      onclick: () => {
        const p = prettyJson(input.value);
        if (p !== null) input.value = draft.text = p;
        validate();
      },
    }, "Format");
    const code = h("input", { id: "close-code", type: "number", value: "1000", min: "1000", max: "4999", "aria-label": "Close code" });
    const reason = h("input", { id: "close-reason", placeholder: "reason", maxlength: "123", "aria-label": "Close reason" });
    root.append(
      h("div", { class: "composer-bar" },
        mode, format, status,
        h("span", { class: "spacer" }),
        h("button", { id: "send-file", "aria-label": "Send file", title: "Send a file as one binary message, chosen in a dialog (checked against the max message size first)",
          onclick: () => this.actions.sendFile(tab.id, { type: "binary" }) }, "Send file…"),
        h("button", { id: "send-ping", "aria-label": "Send ping", title: "Send ping (Ctrl+P)", onclick: () => this.actions.send(tab.id, { type: "ping", data: "" }) }, "Send ping"),
        code, reason,
        h("button", { id: "close-with-code", "aria-label": "Close with code", title: "Close the connection with this code and reason", onclick: () => this.actions.closeWith(tab.id, Number(code.value), reason.value) }, "Close"),
        h("button", { id: "save-message", "aria-label": "Save message", title: editingIdx !== null ? "Update the saved message being edited" : "Keep this message with the connection",
          onclick: () => { if (validate()) this.actions.saveMessage(tab.id, draft.mode, input.value); } }, editingIdx !== null ? "Update saved" : "Save message"),
        editingIdx !== null ? h("button", { class: "icon", "aria-label": "Stop editing saved message", title: "Stop editing (new text is not saved)", onclick: () => { this.stopEditing(tab.id); this.render(tab); } }, "×") : null,
        h("button", { id: "send", class: "primary", "aria-label": "Send", title: "Send (Ctrl+Enter)", onclick: send }, "Send")),
      input,
    );
    validate();
    this.input = input;
  }

  /** Up at the start / Down at the end of the text walk through the tab's sent messages. */
  recall(e, tab, input, draft, validate) {
    const hist = this.history.get(tab.id) ?? [];
    const atStart = input.selectionStart === 0 && input.selectionEnd === 0;
    const atEnd = input.selectionStart === input.value.length;
    if (e.key === "ArrowUp" && atStart && hist.length) {
      e.preventDefault();
      this.cursor = this.cursor < 0 ? hist.length - 1 : Math.max(0, this.cursor - 1);
      input.value = draft.text = hist[this.cursor];
      validate();
    } else if (e.key === "ArrowDown" && atEnd && this.cursor >= 0) {
      e.preventDefault();
      this.cursor = this.cursor + 1 < hist.length ? this.cursor + 1 : -1;
      input.value = draft.text = this.cursor < 0 ? "" : hist[this.cursor];
      validate();
    }
  }

  focus() {
    this.input?.focus();
  }
}
