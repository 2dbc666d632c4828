// The tab bar: a status dot, the name (double-click to rename), unread count, close.
import { h, clear } from "../lib/dom.js";

const STATE_CLASS = {
  idle: "idle", connecting: "busy", reconnecting: "busy", closing: "busy",
  open: "open", closed: "idle", failed: "failed",
};

export function renderTabs(root, model, actions) {
  // A rename in progress must survive batches that redraw the bar.
  if (root.querySelector("input.rename")) return;
  clear(root);
  for (const id of model.order) {
    const tab = model.tabs.get(id);
    const active = id === model.active;
    const name = h("span", { class: "tab-name" }, tab.name);
    name.addEventListener("dblclick", () => startRename(name, tab, actions));
    const btn = h(
      "div",
      {
        class: `tab${active ? " active" : ""}`,
        role: "tab",
        "aria-selected": active ? "true" : "false",
        tabindex: active ? "0" : "-1",
        title: `${tab.config.url}\nDouble-click to rename`,
        "data-tab": id,
        onclick: () => actions.select(id),
      },
      h("span", { class: `dot ${STATE_CLASS[tab.state.type] ?? "idle"}`, "aria-label": tab.state.type }),
      name,
      tab.dirty ? h("span", { class: "dirty", "aria-label": "unsaved changes", title: "Unsaved changes (Ctrl+S saves)" }, "●") : null,
      tab.readOnly ? h("span", { class: "ro", title: "Recorded session, read-only" }, "RO") : null,
      tab.unread > 0 ? h("span", { class: "unread", "aria-label": `${tab.unread} unread` }, tab.unread > 999 ? "999+" : tab.unread) : null,
      h("button", {
        class: "tab-close icon",
        "aria-label": "Close tab",
        title: "Close tab (Ctrl+W)",
        onclick: (e) => {
          e.stopPropagation();
          actions.close(id);
        },
      }, "×"),
    );
    root.append(btn);
  }
  root.append(h("button", { class: "new-tab icon", "aria-label": "New tab", title: "New tab (Ctrl+T)", onclick: () => actions.create() }, "+"));
}

function startRename(label, tab, actions) {
  const input = h("input", { class: "rename", value: tab.name, "aria-label": "Tab name" });
  let finished = false;
  const done = (save) => {
    if (finished) return;
    finished = true;
    const value = input.value.trim();
    label.textContent = save && value ? value : tab.name;
    if (save && value && value !== tab.name) actions.rename(tab.id, value);
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") done(true);
    if (e.key === "Escape") done(false);
    e.stopPropagation();
  });
  input.addEventListener("blur", () => done(true));
  label.replaceChildren(input);
  input.focus();
  input.select();
}
