// The UI's model: the tabs as the engine reports them (plus the extras the UI keeps:
// saved messages, the saved file a tab is linked to, unsaved edits), the workspace tree
// and the history list. Pure helpers over it: no DOM, no engine calls; unit-tested.
import { newTab } from "./lib/batch.js";

export function createModel() {
  return { tabs: new Map(), order: [], active: null, ws: null, history: [] };
}

/** Add (or replace) the tab of an engine snapshot, with the UI's extras. */
export function addTab(model, snap, extras = {}, now = Date.now()) {
  const tab = newTab(snap);
  tab.stateSince = now;
  tab.messages = extras.messages ?? [];
  tab.scenario = extras.scenario ?? null;
  tab.saved = extras.saved ?? null;
  tab.dirty = !!extras.dirty;
  tab.readOnly = !!(extras.readOnly || snap.readOnly);
  model.tabs.set(snap.id, tab);
  if (!model.order.includes(snap.id)) model.order.push(snap.id);
  return tab;
}

/** Forget a tab; the last tab becomes active if it was. Returns the new active id. */
export function removeTab(model, id) {
  model.tabs.delete(id);
  model.order = model.order.filter((x) => x !== id);
  if (model.active === id) model.active = model.order[model.order.length - 1] ?? null;
  return model.active;
}

/** The tab after (or before) the active one, wrapping around. */
export function cycleTab(model, backwards = false) {
  const n = model.order.length;
  if (!n) return null;
  const i = model.order.indexOf(model.active);
  return model.order[(i + (backwards ? n - 1 : 1)) % n];
}

/** Tabs linked to the saved connection `savedId`. */
export const tabsSavedAs = (model, savedId) => [...model.tabs.values()].filter((t) => t.saved?.id === savedId);

/** Saved connections open in tabs, and those of them with unsaved edits (for the sidebar). */
export function savedMarks(model) {
  const open = new Set();
  const dirty = new Set();
  for (const t of model.tabs.values()) {
    if (!t.saved) continue;
    open.add(t.saved.id);
    if (t.dirty) dirty.add(t.saved.id);
  }
  return { open, dirty };
}

/** Every collection path of the workspace tree, the top level ("") first. */
export function collectionPaths(ws) {
  return ["", ...(ws?.items ?? []).filter((i) => i.kind === "collection").map((i) => i.path)];
}

/** The collection a saved connection is in, as the engine's tree says ("" at the top). */
export function collectionOf(ws, savedId) {
  const item = (ws?.items ?? []).find((i) => i.kind === "connection" && i.id === savedId);
  return item?.collection ?? "";
}

/** IDs of the saved connections inside collection `path`, at any depth (the tree's nesting). */
export function connectionsUnder(ws, path) {
  const items = ws?.items ?? [];
  const at = items.findIndex((i) => i.kind === "collection" && i.path === path);
  if (at < 0) return new Set();
  const ids = new Set();
  for (let i = at + 1; i < items.length && items[i].depth > items[at].depth; i++) {
    if (items[i].kind === "connection") ids.add(items[i].id);
  }
  return ids;
}

/** The saved form of a tab: what Ctrl+S writes (the engine adds the format version). */
export const asSaved = (tab, name = tab.name) => ({ name, config: tab.config, messages: tab.messages ?? [], scenario: tab.scenario ?? null });

/**
 * Apply one event of a collection run: { type: "tab", tab, meta } (a tab the run uses,
 * added when the window does not have it yet), { type: "step", tab, step } or
 * { type: "report", tab, report } (the tab's snapshot as the scenario ended). Each tab
 * keeps its own run, as a run started from the tab does: the live steps (captured values
 * shown) and the report (captured values redacted, for export). Returns { tab, added }.
 */
export function applyRunEvent(model, ev, now = Date.now()) {
  const id = typeof ev.tab === "object" ? ev.tab.id : ev.tab;
  let tab = model.tabs.get(id);
  const added = !tab && ev.type === "tab";
  if (added) tab = addTab(model, ev.tab, ev.meta ?? {}, now);
  if (!tab) return { tab: null, added: false };
  if (ev.type === "tab") tab.run = { running: true, steps: [], report: null };
  if (ev.type === "step") (tab.run ??= { running: true, steps: [], report: null }).steps.push(ev.step);
  if (ev.type === "report") {
    if (ev.tab.state?.type !== tab.state?.type) tab.stateSince = now;
    Object.assign(tab, { state: ev.tab.state, stats: ev.tab.stats, handshake: ev.tab.handshake ?? tab.handshake });
    // The live steps show captured values; the report (for files) has them redacted.
    const live = tab.run?.steps ?? [];
    tab.run = { running: false, steps: live.length === ev.report.steps.length ? live : ev.report.steps, report: ev.report };
  }
  return { tab, added };
}
