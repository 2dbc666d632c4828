// The tab bar: a status dot, the name (double-click to rename), unread count, close.
// Patched in place: each tab keeps its node for as long as it is open, so a click
// during a flood lands on the tab it was aimed at (a redraw changes text and
// classes, never the node), and a redraw does no work for a tab that did not change.
import { h } from "../lib/dom.js";
import { tabFace } from "../lib/tabface.js";

const parts = new WeakMap(); // tab element -> { face, dot, name, dirty, ro, unread }

export function renderTabs(root, model, actions) {
  // A rename in progress must survive batches that redraw the bar.
  if (root.querySelector("input.rename")) return;
  // The tabs scroll in their own strip; the + button sits after it, always in reach.
  let strip = root.querySelector(":scope > .tab-strip");
  if (!strip) {
    strip = h("div", { class: "tab-strip" });
    root.prepend(strip);
  }
  let newTab = root.querySelector(":scope > .new-tab");
  if (!newTab) {
    newTab = h("button", { class: "new-tab icon", "aria-label": "New tab", title: "New tab (Ctrl+T)", onclick: () => actions.create() }, "+");
    root.append(newTab);
  }
  const existing = new Map();
  for (const el of strip.querySelectorAll(":scope > .tab")) existing.set(el.dataset.tab, el);
  let at = strip.firstElementChild;
  let shown = null;
  for (const id of model.order) {
    const tab = model.tabs.get(id);
    let el = existing.get(String(id));
    if (el) existing.delete(String(id));
    else el = createTab(id, tab, actions);
    const face = tabFace(tab, id === model.active);
    if (face.active && !parts.get(el).face?.active) shown = el;
    patchTab(el, face);
    if (el !== at) strip.insertBefore(el, at);
    else at = at.nextElementSibling;
  }
  for (const el of existing.values()) el.remove();
  // With many tabs the bar scrolls: a tab that becomes active is brought into sight.
  shown?.scrollIntoView({ block: "nearest", inline: "nearest" });
}

function createTab(id, tab, actions) {
  const dot = h("span", { class: "dot" });
  const name = h("span", { class: "tab-name" });
  name.addEventListener("dblclick", () => startRename(name, tab, actions));
  // Marks are in the tab only while they apply (kept aside otherwise).
  const dirty = h("span", { class: "dirty", "aria-label": "unsaved changes", title: "Unsaved changes (Ctrl+S saves)" }, "●");
  const ro = h("span", { class: "ro", title: "Recorded session, read-only" }, "RO");
  const unread = h("span", { class: "unread" });
  const close = h("button", {
    class: "tab-close icon",
    "aria-label": "Close tab",
    title: "Close tab (Ctrl+W)",
    onclick: (e) => {
      e.stopPropagation();
      actions.close(id);
    },
  }, "×");
  const el = h("div", { class: "tab", role: "tab", "data-tab": id, onclick: () => actions.select(id) }, dot, name, close);
  parts.set(el, { face: null, dot, name, dirty, ro, unread, close });
  return el;
}

/** Apply a tab's face, touching only what changed since the last one. */
function patchTab(el, face) {
  const p = parts.get(el);
  const old = p.face ?? {};
  if (old.active !== face.active) {
    el.classList.toggle("active", face.active);
    el.setAttribute("aria-selected", face.active ? "true" : "false");
    el.setAttribute("tabindex", face.active ? "0" : "-1");
  }
  if (old.title !== face.title) el.setAttribute("title", face.title);
  if (old.dot !== face.dot) p.dot.className = `dot ${face.dot}`;
  if (old.state !== face.state) p.dot.setAttribute("aria-label", face.state);
  if (old.name !== face.name && !p.name.querySelector("input")) p.name.textContent = face.name;
  if (old.unread !== face.unread && face.unread) {
    p.unread.textContent = face.unread;
    p.unread.setAttribute("aria-label", face.unreadLabel);
  }
  if (old.dirty !== face.dirty || old.readOnly !== face.readOnly || !old.unread !== !face.unread) {
    for (const [mark, on] of [[p.dirty, face.dirty], [p.ro, face.readOnly], [p.unread, !!face.unread]]) {
      if (on) el.insertBefore(mark, p.close);
      else mark.remove();
    }
  }
  p.face = face;
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
