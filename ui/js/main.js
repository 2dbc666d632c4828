// wsbench front end: draws what the engine reports, asks it for pages on demand.
import { api, errorText } from "./api.js";
import { applyBatch, newTab } from "./lib/batch.js";
import { renderTabs } from "./views/tabs.js";
import { ConnectionView, isLive } from "./views/connection.js";
import { Composer } from "./views/composer.js";
import { FrameLog } from "./views/framelog.js";
import { Detail } from "./views/detail.js";
import { Sidebar } from "./views/sidebar.js";
import { SavedMessages } from "./views/messages.js";
import { openEnvironments } from "./views/environments.js";
import { openExport, openImport } from "./views/transfer.js";
import { choiceDialog, confirmDialog, formDialog, toast } from "./views/dialogs.js";

const model = { tabs: new Map(), order: [], active: null, ws: null, history: [] };
const $ = (id) => document.getElementById(id);

const active = () => model.tabs.get(model.active);
const fail = (e) => toast(errorText(e));
const info = (msg, opts = {}) => toast(msg, { kind: "info", ...opts });

/** The tab's extras the shell keeps across restarts (debounced). */
const metaTimers = new Map();
function persistMeta(tab) {
  if (tab.readOnly) return;
  clearTimeout(metaTimers.get(tab.id));
  metaTimers.set(tab.id, setTimeout(() => {
    const meta = { messages: tab.messages, saved: tab.saved, dirty: tab.dirty, draft: composer.draftOf(tab.id) };
    api.setTabMeta(tab.id, meta).catch(fail);
  }, 300));
}

function markDirty(tab) {
  if (tab.dirty) return;
  tab.dirty = true;
  persistMeta(tab);
  renderTabs($("tabbar"), model, actions);
  markSidebar();
}

function markSidebar() {
  const open = new Set();
  const dirty = new Set();
  for (const t of model.tabs.values()) {
    if (!t.saved) continue;
    open.add(t.saved.id);
    if (t.dirty) dirty.add(t.saved.id);
  }
  sidebar.markTabs(open, dirty);
}

function collectionPaths() {
  return ["", ...(model.ws?.items ?? []).filter((i) => i.kind === "collection").map((i) => i.path)];
}

/** The saved form of a tab: what Ctrl+S writes. */
const asSaved = (tab, name = tab.name) => ({ version: 2, name, config: tab.config, messages: tab.messages ?? [] });

function setWorkspace(ws) {
  if (!ws) return;
  model.ws = ws;
  sidebar.render(ws, model.history);
  markSidebar();
}

async function refreshHistory() {
  try {
    const h = await api.history();
    model.history = h.entries;
    sidebar.historyMaxBytes = h.maxBytes;
    sidebar.render(model.ws, model.history);
    markSidebar();
  } catch (e) {
    fail(e);
  }
}

const configTimers = new Map();
const actions = {
  select(id) {
    if (!model.tabs.has(id)) return;
    model.active = id;
    active().unread = 0;
    api.setActiveTab(id).catch(() => {});
    drawAll();
  },
  async create(name = "New tab", config = undefined, extras = {}) {
    try {
      const snap = await api.createTab(name, config);
      const tab = addTab(snap, extras);
      if (extras.draft) composer.setDraft(tab.id, extras.draft);
      persistMeta(tab);
      actions.select(snap.id);
      $("url")?.focus();
      return tab;
    } catch (e) {
      fail(e);
      return null;
    }
  },
  async close(id) {
    const tab = model.tabs.get(id);
    if (!tab) return;
    if (isLive(tab.state) && !(await confirmDialog(`“${tab.name}” is connected. Close it?`, "Close tab anyway"))) return;
    if (tab.dirty && !isLive(tab.state) && !(await confirmDialog(`“${tab.name}” has unsaved changes. Close it anyway?`, "Close tab anyway"))) return;
    clearTimeout(metaTimers.get(id));
    clearTimeout(configTimers.get(id));
    try {
      await api.closeTab(id);
    } catch (e) {
      fail(e);
    }
    model.tabs.delete(id);
    model.order = model.order.filter((x) => x !== id);
    if (model.active === id) model.active = model.order[model.order.length - 1] ?? null;
    markSidebar();
    if (!model.order.length) return actions.create();
    actions.select(model.active);
  },
  async rename(id, name) {
    try {
      await api.renameTab(id, name);
      const tab = model.tabs.get(id);
      tab.name = name;
      if (tab.saved) markDirty(tab);
    } catch (e) {
      fail(e);
    }
    renderTabs($("tabbar"), model, actions);
  },
  editConfig(id, fn) {
    const tab = model.tabs.get(id);
    fn(tab.config);
    if (tab.saved) markDirty(tab);
    clearTimeout(configTimers.get(id));
    configTimers.set(id, setTimeout(() => api.setConfig(id, tab.config).then(() => persistMeta(tab)).catch(fail), 150));
  },
  async toggleConnect(id) {
    const tab = model.tabs.get(id);
    if (tab.readOnly) return;
    try {
      if (isLive(tab.state)) {
        await api.disconnect(id, 1000, "");
      } else {
        clearTimeout(configTimers.get(id));
        await api.setConfig(id, tab.config);
        await api.connect(id, (tab.messages ?? []).filter((m) => m.sendOnConnect));
      }
    } catch (e) {
      // Bad input (a URL, an unknown variable): say so next to the URL.
      tab.state = { type: "failed", error: e };
      tab.stateSince = Date.now();
      connection.updateState(tab);
    }
  },
  async send(id, message) {
    try {
      await api.send(id, message);
      return true;
    } catch (e) {
      fail(e);
      return false;
    }
  },
  async closeWith(id, code, reason) {
    try {
      await api.disconnect(id, code, reason);
    } catch (e) {
      fail(e);
    }
  },
  search: (id, q) => api.logSearch(id, q),
  page: (id, from, n) => api.logPage(id, from, n),
  async clearLog(id) {
    try {
      const stats = await api.logClear(id);
      const tab = model.tabs.get(id);
      tab.stats = stats;
      tab.previews.clear();
      framelog.resync();
      detail.empty();
    } catch (e) {
      fail(e);
    }
  },
  async showDetail(id, seq) {
    try {
      detail.show(await api.logFrame(id, seq));
    } catch (e) {
      fail(e);
    }
  },
  draftChanged(id) {
    const tab = model.tabs.get(id);
    if (tab) persistMeta(tab);
  },

  // Saved messages.
  setMessages(id, list) {
    const tab = model.tabs.get(id);
    // Indexes moved: whatever was being edited is no longer where it was.
    if (composer.editingIndex(id) !== null) {
      composer.stopEditing(id);
      if (tab.id === model.active) composer.render(tab);
    }
    tab.messages = list;
    if (tab.saved) markDirty(tab);
    persistMeta(tab);
    messages.render(tab);
  },
  async saveMessage(id, format, body) {
    const tab = model.tabs.get(id);
    const list = tab.messages ?? [];
    const editing = composer.editingIndex(id);
    if (editing !== null && list[editing]) {
      actions.setMessages(id, list.map((m, i) => (i === editing ? { ...m, format, body } : m)));
      info(`Updated saved message “${list[editing].name}”`);
      return;
    }
    const v = await formDialog("Save message", [{ name: "name", label: "Name", value: `Message ${list.length + 1}` }], "Save",
      (v) => (v.name.trim() ? null : "A saved message needs a name"));
    if (!v) return;
    actions.setMessages(id, [...list, { name: v.name.trim(), format, body, sendOnConnect: false }]);
  },
  editSaved(id, index) {
    const m = model.tabs.get(id).messages[index];
    composer.load(id, m, index);
  },
  sendSaved: (id, m) => actions.send(id, { type: m.format, data: m.body }),
  deleteMessage(id, index) {
    const tab = model.tabs.get(id);
    const before = tab.messages;
    actions.setMessages(id, before.filter((_, i) => i !== index));
    toast(`Deleted saved message “${before[index].name}”`, { kind: "info", action: { label: "Undo", run: () => actions.setMessages(id, before) } });
  },

  // Collections and saved connections.
  async save(id, force = false) {
    const tab = model.tabs.get(id);
    if (!tab || tab.readOnly) return;
    if (!tab.saved) return actions.saveAs(id);
    clearTimeout(configTimers.get(id));
    try {
      await api.setConfig(id, tab.config);
      const r = await api.save({ id: tab.saved.id, connection: asSaved(tab), baseRevision: tab.saved.revision, force });
      savedTo(tab, r);
    } catch (e) {
      if (e.kind !== "conflict") return fail(e);
      const choice = await choiceDialog("Changed on disk", `${e.message}.`, [
        ["reload", "Reload from disk (drop my edits)"],
        ["copy", "Save mine as a copy"],
        ["overwrite", "Overwrite the file", "danger"],
      ]);
      if (choice === "overwrite") return actions.save(id, true);
      if (choice === "copy") return actions.saveAs(id, null, `${tab.name} (mine)`);
      if (choice === "reload") return reloadFromDisk(tab);
    }
  },
  async saveAs(id, collection = null, name = null) {
    const tab = model.tabs.get(id);
    if (!tab) return;
    if (tab.readOnly) return toast("A recorded session is read-only: use Import… > Save as connection to keep its messages");
    const current = tab.saved ? tab.saved.id.split("/").slice(0, -1).join("/") : "";
    const v = await formDialog("Save connection", [
      { name: "name", label: "Name", value: name ?? tab.name },
      { name: "collection", label: "Collection", type: "select", value: collection ?? current, options: collectionPaths().map((p) => [p, p || "(top level)"]) },
    ], "Save", (v) => (v.name.trim() ? null : "A connection needs a name"));
    if (!v) return;
    try {
      clearTimeout(configTimers.get(id));
      await api.setConfig(id, tab.config);
      const r = await api.save({ collection: v.collection, connection: asSaved(tab, v.name.trim()) });
      if (tab.name !== v.name.trim()) await actions.rename(id, v.name.trim());
      savedTo(tab, r);
    } catch (e) {
      fail(e);
    }
  },
  saveAsInto: (collection) => model.active && actions.saveAs(model.active, collection),
  async openSaved(savedId) {
    const open = [...model.tabs.values()].find((t) => t.saved?.id === savedId);
    if (open) return actions.select(open.id);
    try {
      const r = await api.openSaved(savedId);
      if (r.migratedFrom) info(`${savedId} was written in format version ${r.migratedFrom}; it will be upgraded (with a backup) when you save`);
      await actions.create(r.connection.name, r.connection.config, {
        messages: r.connection.messages, saved: { id: savedId, revision: r.revision }, dirty: false,
      });
    } catch (e) {
      fail(e);
    }
  },
  async renameSaved(savedId, name) {
    const v = await formDialog("Rename connection", [{ name: "name", label: "Name", value: name }], "Rename", (v) => (v.name.trim() ? null : "A name is needed"));
    if (!v) return;
    try {
      const before = (await api.openSaved(savedId)).revision;
      const r = await api.renameSaved(savedId, v.name.trim());
      for (const t of model.tabs.values()) {
        if (t.saved?.id !== savedId) continue;
        // A tab based on an older version keeps that base: its next save asks.
        t.saved = { id: r.id, revision: t.saved.revision === before ? r.revision : t.saved.revision };
        t.name = v.name.trim();
        await api.renameTab(t.id, t.name).catch(fail);
        persistMeta(t);
      }
      setWorkspace(r.workspace);
      drawAll();
    } catch (e) {
      fail(e);
    }
  },
  async duplicateSaved(savedId) {
    try {
      const r = await api.duplicateSaved(savedId);
      setWorkspace(r.workspace);
      info(`Duplicated as ${r.id}`);
    } catch (e) {
      fail(e);
    }
  },
  async moveSaved(savedId) {
    const here = savedId.split("/").slice(0, -1).join("/");
    const v = await formDialog("Move connection", [
      { name: "collection", label: "To collection", type: "select", value: here, options: collectionPaths().map((p) => [p, p || "(top level)"]) },
    ], "Move");
    if (!v || v.collection === here) return;
    try {
      const r = await api.moveSaved(savedId, v.collection);
      // The bytes move unchanged: each tab keeps the revision it was based on.
      retarget(savedId, r.id);
      setWorkspace(r.workspace);
    } catch (e) {
      fail(e);
    }
  },
  async deleteSaved(savedId, name) {
    try {
      const r = await api.deleteSaved(savedId);
      // Open tabs keep their content, now unsaved (closing them asks).
      const linked = [...model.tabs.values()].filter((t) => t.saved?.id === savedId).map((t) => [t, t.saved, t.dirty]);
      for (const [t] of linked) { t.saved = null; t.dirty = true; persistMeta(t); }
      setWorkspace(r.workspace);
      renderTabs($("tabbar"), model, actions);
      toast(`Deleted “${name}”`, { kind: "info", action: { label: "Undo", run: async () => {
        const restored = await undo(r.token);
        if (!restored) return;
        for (const [t, saved, dirty] of linked) {
          if (!model.tabs.has(t.id) || t.saved) continue;
          t.saved = { id: restored.id, revision: saved.revision };
          t.dirty = dirty;
          persistMeta(t);
        }
        renderTabs($("tabbar"), model, actions);
        markSidebar();
      } } });
    } catch (e) {
      fail(e);
    }
  },
  async newCollection(parent) {
    const v = await formDialog(parent ? `New collection in ${parent}` : "New collection", [{ name: "name", label: "Name", value: "" }], "Create",
      (v) => (v.name.trim() && !/[\\/]/.test(v.name) ? null : "A collection needs a name without / or \\"));
    if (!v) return;
    try {
      setWorkspace(await api.createCollection(parent ? `${parent}/${v.name.trim()}` : v.name.trim()));
    } catch (e) {
      fail(e);
    }
  },
  async renameCollection(path, name) {
    const v = await formDialog("Rename collection", [{ name: "name", label: "Name", value: name }], "Rename", (v) => (v.name.trim() && !/[\\/]/.test(v.name) ? null : "A name without / or \\"));
    if (!v) return;
    try {
      const r = await api.renameCollection(path, v.name.trim());
      for (const t of model.tabs.values()) {
        if (t.saved?.id.startsWith(`${path}/`)) { t.saved = { ...t.saved, id: r.path + t.saved.id.slice(path.length) }; persistMeta(t); }
      }
      setWorkspace(r.workspace);
    } catch (e) {
      fail(e);
    }
  },
  async deleteCollection(path) {
    try {
      const r = await api.deleteCollection(path);
      for (const t of model.tabs.values()) if (t.saved?.id.startsWith(`${path}/`)) { t.saved = null; t.dirty = true; persistMeta(t); }
      setWorkspace(r.workspace);
      toast(`Deleted collection “${path}”`, { kind: "info", action: { label: "Undo", run: () => undo(r.token) } });
    } catch (e) {
      fail(e);
    }
  },
  async openFolder() {
    const v = await formDialog("Open workspace folder", [
      { name: "path", label: "Folder (created if missing)", value: model.ws?.root ?? "", browse: () => api.pickFolder() },
    ], "Open", (v) => (v.path.trim() ? null : "Choose a folder"));
    if (!v) return;
    try {
      const ws = await api.openWorkspace(v.path.trim());
      // Saved-file links name files of the previous workspace: keep the tabs, unlinked.
      let unlinked = 0;
      for (const t of model.tabs.values()) {
        if (!t.saved) continue;
        t.saved = null;
        t.dirty = true;
        unlinked++;
        persistMeta(t);
      }
      setWorkspace(ws);
      renderTabs($("tabbar"), model, actions);
      info(`Opened ${model.ws.root}${unlinked ? `; ${unlinked} tab(s) from the previous workspace are now unsaved (Ctrl+S saves them here)` : ""}`);
    } catch (e) {
      fail(e);
    }
  },

  // Environments.
  async selectEnvironment(name) {
    try {
      setWorkspace(await api.selectEnvironment(name));
    } catch (e) {
      fail(e);
    }
  },
  async editEnvironments() {
    try {
      openEnvironments(await api.environments(), actions, model.ws?.activeEnvironment);
    } catch (e) {
      fail(e);
    }
  },
  async saveEnvironment(env, original, baseRevision) {
    try {
      setWorkspace(await api.saveEnvironment(env, original, baseRevision));
      const saved = (await api.environments()).find((e) => e.name === env.name);
      return { revision: saved?.revision };
    } catch (e) {
      if (e.kind === "conflict") return { error: `${errorText(e)}. Close and reopen the editor to see the file as it is now.` };
      return { error: errorText(e) };
    }
  },
  async deleteEnvironment(name) {
    try {
      const r = await api.deleteEnvironment(name);
      setWorkspace(r.workspace);
      toast(`Deleted environment “${name}”`, { kind: "info", action: { label: "Undo", run: () => undo(r.token) } });
      return true;
    } catch (e) {
      fail(e);
      return false;
    }
  },
  environmentsClosed: () => api.workspace().then(setWorkspace, fail),

  // Import, export, history.
  importFile: () => openImport(actions, collectionPaths()),
  async importPreview(path) {
    try {
      return await api.importPreview(path);
    } catch (e) {
      return { error: errorText(e) };
    }
  },
  async importApply(path, into) {
    try {
      const r = await api.importApply(path, into);
      setWorkspace(r.workspace);
      info(`Imported ${r.connections} connection${r.connections === 1 ? "" : "s"} into ${into || "the top level"}${r.environments ? ` and ${r.environments} environment(s)` : ""}`);
      return true;
    } catch (e) {
      fail(e);
      return false;
    }
  },
  async importOpenLog(path, index) {
    try {
      addReadOnly(await api.importOpenLog(path, index));
      return true;
    } catch (e) {
      fail(e);
      return false;
    }
  },
  async importSaveConnection(path, index, collection) {
    try {
      const r = await api.importSaveConnection(path, index, collection);
      setWorkspace(r.workspace);
      await actions.openSaved(r.id);
      return true;
    } catch (e) {
      fail(e);
      return false;
    }
  },
  async setHistoryLimit(mib) {
    try {
      const h = await api.setHistoryMaxBytes(Math.round(mib * 1024 * 1024));
      model.history = h.entries;
      sidebar.historyMaxBytes = h.maxBytes;
      sidebar.render(model.ws, model.history);
    } catch (e) {
      fail(e);
    }
  },
  async openHistory(historyId) {
    try {
      addReadOnly(await api.openHistory(historyId));
    } catch (e) {
      fail(e);
    }
  },
  exportDialog() {
    const tab = active();
    if (!tab) return;
    openExport(tab, framelog.exportScope(), actions);
  },
  defaultExportPath: (id, format) => api.defaultExportPath(id, format).catch((e) => (fail(e), "")),
  pickSavePath: (suggested) => api.pickSavePath(suggested).catch((e) => (fail(e), null)),
  pickOpenPath: () => api.pickOpenPath().catch((e) => (fail(e), null)),
  exportLog(id, request, onProgress) {
    const job = Math.floor(Math.random() * 2 ** 31);
    const result = api.exportLog(id, request, job, onProgress).then((r) => r, (e) => ({ error: errorText(e) }));
    return { result, cancel: () => api.cancelExport(job).catch(fail) };
  },
};

function savedTo(tab, r) {
  tab.saved = { id: r.id, revision: r.revision };
  tab.dirty = false;
  persistMeta(tab);
  setWorkspace(r.workspace);
  renderTabs($("tabbar"), model, actions);
  if (r.replacedSecrets?.length) info(`Saved to ${r.id}. Secret values were written as ${r.replacedSecrets.map((n) => `{{${n}}}`).join(", ")}`);
  else info(`Saved to ${r.id}`, { ms: 2500 });
}

function retarget(oldId, newId) {
  for (const t of model.tabs.values()) {
    if (t.saved?.id !== oldId) continue;
    t.saved = { id: newId, revision: t.saved.revision };
    persistMeta(t);
  }
}

async function undo(token) {
  try {
    const r = await api.undoDelete(token);
    setWorkspace(r.workspace);
    info("Restored", { ms: 2500 });
    return r.restored;
  } catch (e) {
    fail(e);
    return null;
  }
}

async function reloadFromDisk(tab) {
  try {
    const r = await api.openSaved(tab.saved.id);
    tab.config = r.connection.config;
    tab.messages = r.connection.messages;
    tab.saved = { id: tab.saved.id, revision: r.revision };
    tab.dirty = false;
    await api.setConfig(tab.id, tab.config);
    if (tab.name !== r.connection.name) {
      await api.renameTab(tab.id, r.connection.name);
      tab.name = r.connection.name;
    }
    persistMeta(tab);
    renderTabs($("tabbar"), model, actions);
    if (tab.id === model.active) drawAll();
    markSidebar();
  } catch (e) {
    fail(e);
  }
}

function addReadOnly(snap) {
  const tab = addTab(snap, { readOnly: true });
  tab.readOnly = true;
  actions.select(tab.id);
}

const connection = new ConnectionView($("connection"), actions);
const composer = new Composer($("composer"), actions);
const framelog = new FrameLog($("log"), actions);
const detail = new Detail($("detail"));
const sidebar = new Sidebar($("sidebar"), actions);
const messages = new SavedMessages($("messages"), actions);

function addTab(snap, extras = {}) {
  const tab = newTab(snap);
  tab.stateSince = Date.now();
  tab.messages = extras.messages ?? [];
  tab.saved = extras.saved ?? null;
  tab.dirty = !!extras.dirty;
  tab.readOnly = !!(extras.readOnly || snap.readOnly);
  model.tabs.set(snap.id, tab);
  if (!model.order.includes(snap.id)) model.order.push(snap.id);
  markSidebar();
  return tab;
}

function drawAll() {
  renderTabs($("tabbar"), model, actions);
  const tab = active();
  if (!tab) return;
  connection.render(tab);
  messages.render(tab);
  composer.render(tab);
  framelog.render(tab);
  detail.empty();
  document.title = `${tab.name}${tab.dirty ? " ●" : ""} · wsbench`;
}

// Batches are applied inside requestAnimationFrame: many batches, one redraw.
let queued = [];
let frameRequested = false;
function onBatch(batch) {
  queued.push(batch);
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    const batches = queued;
    queued = [];
    let tabsChanged = false;
    let resync = false;
    let activeFrames = 0;
    let ended = false;
    for (const b of batches) {
      for (const s of b.states ?? []) {
        const tab = model.tabs.get(s.session);
        if (tab) tab.stateSince = Date.now();
        if (s.state.type === "closed" || s.state.type === "failed") ended = true;
      }
      const r = applyBatch(model, b, model.active);
      resync ||= r.resync;
      tabsChanged ||= (b.states ?? []).length > 0 || (b.sessions ?? []).some((u) => u.session !== model.active);
      for (const u of b.sessions ?? []) if (u.session === model.active) activeFrames += u.newFrames;
      for (const s of b.states ?? []) {
        if (s.session !== model.active) continue;
        const tab = active();
        const wasLive = $("connect")?.textContent === "Disconnect";
        if (wasLive !== isLive(tab.state) || s.state.type === "open") connection.render(tab);
        else connection.updateState(tab);
      }
    }
    if (tabsChanged) renderTabs($("tabbar"), model, actions);
    const tab = active();
    if (tab) {
      if (resync) framelog.resync();
      framelog.onBatch(tab, activeFrames);
    }
    // A session that ended is written to history by the shell; show it shortly.
    if (ended) setTimeout(refreshHistory, 600);
  });
}

// Files changed outside the app: picked up on focus and every few seconds.
let rescanning = false;
async function rescan() {
  if (rescanning || !model.ws) return;
  rescanning = true;
  try {
    const r = await api.rescan();
    if (r.changes.length) {
      setWorkspace(r.workspace);
      for (const c of r.changes) {
        const tab = [...model.tabs.values()].find((t) => t.saved?.id === c.path);
        if (!tab) continue;
        if (c.kind === "removed") {
          info(`${c.path} was removed on disk; the tab keeps its content (Ctrl+S saves it again)`);
          tab.dirty = true;
        } else if (!tab.dirty) {
          await reloadFromDisk(tab);
          info(`${c.path} changed on disk and was reloaded`, { ms: 3000 });
        } else {
          info(`${c.path} changed on disk. Your unsaved edits are kept; saving will ask before overwriting.`);
        }
      }
      renderTabs($("tabbar"), model, actions);
      markSidebar();
    }
  } catch (e) {
    // A vanished workspace folder is reported once by the next action.
  } finally {
    rescanning = false;
  }
}
window.addEventListener("focus", rescan);
setInterval(rescan, 3000);

document.addEventListener("keydown", (e) => {
  const mod = e.ctrlKey || e.metaKey;
  // F5 / Ctrl+R reload the view; tabs and logs live in the engine and come back.
  if (e.key === "F5" || (mod && e.key.toLowerCase() === "r")) {
    e.preventDefault();
    location.reload();
    return;
  }
  if (!mod || document.querySelector("dialog[open]")) return;
  const key = e.key.toLowerCase();
  if (key === "t") { e.preventDefault(); actions.create(); }
  else if (key === "w") { e.preventDefault(); if (model.active) actions.close(model.active); }
  else if (key === "tab") {
    e.preventDefault();
    const i = model.order.indexOf(model.active);
    const n = model.order.length;
    actions.select(model.order[(i + (e.shiftKey ? n - 1 : 1)) % n]);
  } else if (/^[1-9]$/.test(e.key)) {
    const id = model.order[Number(e.key) - 1];
    if (id !== undefined) { e.preventDefault(); actions.select(id); }
  } else if (key === "s") { e.preventDefault(); if (model.active) (e.shiftKey ? actions.saveAs : actions.save)(model.active); }
  else if (key === "e") { e.preventDefault(); actions.exportDialog(); }
  else if (key === "i") { e.preventDefault(); actions.importFile(); }
  else if (key === "o") { e.preventDefault(); actions.openFolder(); }
  else if (key === "f" && e.shiftKey) { e.preventDefault(); sidebar.focusFilter(); }
  else if (key === "d") { e.preventDefault(); if (model.active) actions.toggleConnect(model.active); }
  else if (key === "l") { e.preventDefault(); if (model.active && !active().readOnly) actions.clearLog(model.active); }
  else if (key === "p") { e.preventDefault(); if (model.active) actions.send(model.active, { type: "ping", data: "" }); }
  else if (key === "k") { e.preventDefault(); $("search")?.focus(); }
});

// For tests and the curious: how many log rows are in the DOM right now.
window.wsbench = { domRowCount: () => framelog.domRowCount(), model };

async function start() {
  try {
    // Subscribing returns a full snapshot: after a reload (F5) every tab and its
    // log are still in the engine. The shell also restored last run's tabs.
    const [tabs, ui, ws] = await Promise.all([api.subscribe(onBatch), api.uiState(), api.workspace()]);
    for (const snap of tabs) {
      const meta = ui.tabs[snap.id] ?? {};
      const tab = addTab(snap, meta);
      if (meta.draft) composer.setDraft(tab.id, meta.draft);
    }
    setWorkspace(ws);
    model.active = model.tabs.has(ui.active) ? ui.active : (model.order[0] ?? null);
    if (!model.order.length) await actions.create();
    else drawAll();
    if (ui.problem) fail(ui.problem);
    if (ws.problems.length) toast(`${ws.problems.length} file(s) in the workspace could not be read; see the sidebar`);
    refreshHistory();
  } catch (e) {
    document.body.textContent = `wsbench could not start: ${errorText(e)}`;
  }
}

start();
