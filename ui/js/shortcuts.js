// Keyboard shortcuts: one table, matched by a pure function (unit-tested), run against
// the app. Ctrl and Cmd are the same modifier.
import { cycleTab } from "./state.js";

/** Ctrl+<key> (and Ctrl+Shift+<key>, matched first) → command. */
export const SHORTCUTS = {
  t: "newTab",
  w: "closeTab",
  tab: "nextTab",
  "shift+tab": "previousTab",
  s: "save",
  "shift+s": "saveAs",
  e: "exportLog",
  i: "importFile",
  o: "openFolder",
  "shift+f": "focusFilter",
  d: "toggleConnect",
  l: "clearLog",
  p: "ping",
  k: "focusSearch",
};

/**
 * The command for a keydown event, or null: { name, index? } (index: Ctrl+1…9).
 * F5 and Ctrl+R reload the view, even over a dialog; the rest wait for dialogs to close.
 */
export function shortcutFor(e, dialogOpen = false) {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.toLowerCase();
  if (e.key === "F5" || (mod && key === "r")) return { name: "reload" };
  if (!mod || dialogOpen) return null;
  if (/^[1-9]$/.test(e.key)) return { name: "selectTab", index: Number(e.key) - 1 };
  const name = (e.shiftKey && SHORTCUTS[`shift+${key}`]) || SHORTCUTS[key];
  return name ? { name } : null;
}

/** What each command does. */
function commands(app) {
  const { model, actions } = app;
  const withActive = (fn) => () => { if (model.active) fn(model.active); };
  return {
    // Tabs and logs live in the engine and come back after a reload.
    reload: () => location.reload(),
    newTab: () => actions.create(),
    closeTab: withActive((id) => actions.close(id)),
    nextTab: () => actions.select(cycleTab(model)),
    previousTab: () => actions.select(cycleTab(model, true)),
    selectTab: ({ index }) => actions.select(model.order[index]),
    save: withActive((id) => actions.save(id)),
    saveAs: withActive((id) => actions.saveAs(id)),
    exportLog: () => actions.exportDialog(),
    importFile: () => actions.importFile(),
    openFolder: () => actions.openFolder(),
    focusFilter: () => app.views.sidebar.focusFilter(),
    toggleConnect: withActive((id) => actions.toggleConnect(id)),
    clearLog: withActive((id) => { if (!app.active().readOnly) actions.clearLog(id); }),
    ping: withActive((id) => actions.send(id, { type: "ping", data: "" })),
    focusSearch: () => app.el("search")?.focus(),
  };
}

/**
 * A command reached by a key and by the native menu at once (macOS key equivalents
 * can deliver both) runs once: an arrival from the OTHER source within `windowMs` is
 * dropped. Presses from one source always run, so Ctrl+Tab held down and tapped
 * cycles through every tab.
 */
export function onceGuard(now = () => Date.now(), windowMs = 250) {
  const last = new Map();
  return (name, source = "key") => {
    const t = now();
    const prev = last.get(name);
    if (prev && prev.source !== source && t - prev.t < windowMs) return false;
    last.set(name, { t, source });
    return true;
  };
}

export function installShortcuts(app) {
  const run = commands(app);
  const fresh = onceGuard();
  const dialogOpen = () => !!document.querySelector("dialog[open]");
  document.addEventListener("keydown", (e) => {
    const hit = shortcutFor(e, dialogOpen());
    // Ctrl+<n> with no n-th tab is left to the page.
    if (!hit || (hit.name === "selectTab" && app.model.order[hit.index] === undefined)) return;
    e.preventDefault();
    if (fresh(hit.name, "key")) run[hit.name](hit);
  });
  // The native menu (src-tauri/src/menu.rs) names the same commands.
  window.addEventListener("wsbench:menu", (e) => {
    const name = e.detail?.name;
    if (!Object.hasOwn(run, name) || name === "selectTab") return;
    if (dialogOpen() && name !== "reload") return;
    if (fresh(name, "menu")) run[name]({ name });
  });
}
