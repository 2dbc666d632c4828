// Saved messages of the current tab: send with one click, load into the composer to
// edit, reorder, mark to send automatically on connect, delete.
import { h, clear } from "../lib/dom.js";
import { moveItem } from "../lib/tree.js";

const FORMAT_LABEL = { text: "text", json: "JSON", hex: "hex", base64: "base64" };

export class SavedMessages {
  constructor(root, actions) {
    this.root = root;
    this.actions = actions;
    this.open = true;
  }

  render(tab) {
    this.tab = tab;
    const root = clear(this.root);
    const list = tab.messages ?? [];
    // A recording has no saved messages to send.
    root.hidden = !!tab.readOnly;
    if (tab.readOnly) return;
    const change = (next) => this.actions.setMessages(tab.id, next);
    const rows = list.map((m, i) => h("div", { class: "saved-message", role: "listitem", "data-index": i },
      h("button", { class: "small primary send-saved", "aria-label": `Send ${m.name}`, title: "Send now", disabled: tab.readOnly,
        onclick: () => this.actions.sendSaved(tab.id, m) }, "Send"),
      h("button", { class: "small send-every", "aria-label": `Send ${m.name} periodically`, title: "Send every N ms, N times or until stopped ({{$counter}} counts the rounds)",
        onclick: () => this.actions.startPeriodic(tab.id, m) }, "Every…"),
      h("button", { class: "link name", "aria-label": `Edit ${m.name}`, title: "Load into the composer to edit; Save message updates it",
        onclick: () => this.actions.editSaved(tab.id, i) }, m.name || "(unnamed)"),
      h("span", { class: "tag" }, FORMAT_LABEL[m.format] ?? m.format),
      h("span", { class: "body-preview muted" }, m.body.replace(/\s+/g, " ").slice(0, 80)),
      h("label", { class: "check", title: "Send automatically, in this order, every time the connection opens" },
        h("input", { type: "checkbox", "aria-label": `Send ${m.name} on connect`, checked: m.sendOnConnect,
          onchange: (e) => change(list.map((x, k) => (k === i ? { ...x, sendOnConnect: e.target.checked } : x))) }), "on connect"),
      h("button", { class: "icon", "aria-label": `Move ${m.name} up`, title: "Move up", disabled: i === 0, onclick: () => change(moveItem(list, i, -1)) }, "↑"),
      h("button", { class: "icon", "aria-label": `Move ${m.name} down`, title: "Move down", disabled: i === list.length - 1, onclick: () => change(moveItem(list, i, 1)) }, "↓"),
      h("button", { class: "icon", "aria-label": `Delete ${m.name}`, title: "Delete", onclick: () => this.actions.deleteMessage(tab.id, i) }, "×")));
    const det = h("details", { class: "saved-messages", open: this.open },
      h("summary", { id: "saved-messages-toggle" }, `Saved messages (${list.length})`),
      rows.length ? h("div", { role: "list", id: "saved-message-list" }, rows)
        : h("div", { class: "muted empty" }, "Write a message below and press Save message to keep it with this connection."));
    det.addEventListener("toggle", () => (this.open = det.open));
    root.append(det);
  }
}
