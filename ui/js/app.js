// What every action module shares: the model, the views, and the few steps they all
// take (report an error, keep the tab's extras, redraw the tab bar or the sidebar).
import { api, errorText } from "./api.js";
import { addTab, savedMarks } from "./state.js";
import { renderTabs } from "./views/tabs.js";
import { toast } from "./views/dialogs.js";

export class App {
  /** `actions` is filled in by the action modules; views call it, it calls back here. */
  constructor(model, actions) {
    this.model = model;
    this.actions = actions;
    this.views = {};
    this.metaTimers = new Map();
    this.configTimers = new Map();
  }

  el = (id) => document.getElementById(id);
  active = () => this.model.tabs.get(this.model.active);
  fail = (e) => toast(errorText(e));
  info = (msg, opts = {}) => toast(msg, { kind: "info", ...opts });

  /** The tab's extras the shell keeps across restarts (debounced). */
  persistMeta(tab) {
    if (tab.readOnly) return;
    clearTimeout(this.metaTimers.get(tab.id));
    this.metaTimers.set(tab.id, setTimeout(() => {
      const meta = { messages: tab.messages, scenario: tab.scenario, saved: tab.saved, dirty: tab.dirty, draft: this.views.composer.draftOf(tab.id) };
      api.setTabMeta(tab.id, meta).catch(this.fail);
    }, 300));
  }

  /** Send the tab's config to the engine now (instead of after the edit debounce). */
  async flushConfig(tab) {
    clearTimeout(this.configTimers.get(tab.id));
    await api.setConfig(tab.id, tab.config);
  }

  /** The tab no longer matches its saved file. */
  markDirty(tab) {
    if (tab.dirty) return;
    tab.dirty = true;
    this.persistMeta(tab);
    this.drawTabs();
    this.markSidebar();
  }

  /** The tab is no longer linked to a saved file; its content stays, as unsaved. */
  unlink(tab) {
    tab.saved = null;
    tab.dirty = true;
    this.persistMeta(tab);
  }

  markSidebar() {
    const { open, dirty } = savedMarks(this.model);
    this.views.sidebar.markTabs(open, dirty);
  }

  setWorkspace(ws) {
    if (!ws) return;
    this.model.ws = ws;
    this.views.sidebar.render(ws, this.model.history);
    this.markSidebar();
  }

  setHistory(h) {
    this.model.history = h.entries;
    this.views.sidebar.historyMaxBytes = h.maxBytes;
    this.views.sidebar.render(this.model.ws, this.model.history);
    this.markSidebar();
  }

  async refreshHistory() {
    try {
      this.setHistory(await api.history());
    } catch (e) {
      this.fail(e);
    }
  }

  addTab(snap, extras = {}) {
    const tab = addTab(this.model, snap, extras);
    this.markSidebar();
    return tab;
  }

  /** A recorded session (history, imported log) in a read-only tab. */
  addReadOnly(snap) {
    const tab = this.addTab(snap, { readOnly: true });
    this.actions.select(tab.id);
  }

  drawTabs() {
    renderTabs(this.el("tabbar"), this.model, this.actions);
  }

  drawAll() {
    this.drawTabs();
    const tab = this.active();
    if (!tab) return;
    const v = this.views;
    v.connection.render(tab);
    v.messages.render(tab);
    v.periodic.render(tab);
    v.scenario.render(tab);
    v.composer.render(tab);
    v.framelog.render(tab);
    v.detail.empty();
    document.title = `${tab.name}${tab.dirty ? " ●" : ""} · wsbench`;
  }

  /** Undo a deletion; resolves with what was restored, or null. */
  async undo(token) {
    try {
      const r = await api.undoDelete(token);
      this.setWorkspace(r.workspace);
      this.info("Restored", { ms: 2500 });
      return r.restored;
    } catch (e) {
      this.fail(e);
      return null;
    }
  }
}
