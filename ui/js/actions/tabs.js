// Tabs: create, select, close, rename, edit the config.
import { api } from "../api.js";
import { isLive } from "../lib/batch.js";
import { removeTab } from "../state.js";
import { confirmDialog } from "../views/dialogs.js";

/** @param {import("../app.js").App} app */
export function tabActions(app) {
  const { model } = app;
  const actions = {
    select(id) {
      if (!model.tabs.has(id)) return;
      model.active = id;
      app.active().unread = 0;
      api.setActiveTab(id).catch(() => {});
      app.drawAll();
    },
    async create(name = "New tab", config = undefined, extras = {}) {
      try {
        const snap = await api.createTab(name, config);
        const tab = app.addTab(snap, extras);
        if (extras.draft) app.views.composer.setDraft(tab.id, extras.draft);
        app.persistMeta(tab);
        actions.select(snap.id);
        app.el("url")?.focus();
        return tab;
      } catch (e) {
        app.fail(e);
        return null;
      }
    },
    async close(id) {
      const tab = model.tabs.get(id);
      if (!tab) return;
      if (isLive(tab.state) && !(await confirmDialog(`“${tab.name}” is connected. Close it?`, "Close tab anyway"))) return;
      if (tab.dirty && !isLive(tab.state) && !(await confirmDialog(`“${tab.name}” has unsaved changes. Close it anyway?`, "Close tab anyway"))) return;
      clearTimeout(app.metaTimers.get(id));
      clearTimeout(app.configTimers.get(id));
      try {
        await api.closeTab(id);
      } catch (e) {
        app.fail(e);
      }
      removeTab(model, id);
      app.markSidebar();
      if (!model.order.length) return actions.create();
      actions.select(model.active);
    },
    async rename(id, name) {
      try {
        await api.renameTab(id, name);
        const tab = model.tabs.get(id);
        tab.name = name;
        if (tab.saved) app.markDirty(tab);
      } catch (e) {
        app.fail(e);
      }
      app.drawTabs();
    },
    editConfig(id, fn) {
      const tab = model.tabs.get(id);
      fn(tab.config);
      if (tab.saved) app.markDirty(tab);
      clearTimeout(app.configTimers.get(id));
      app.configTimers.set(id, setTimeout(() => api.setConfig(id, tab.config).then(() => app.persistMeta(tab)).catch(app.fail), 150));
    },
  };
  return actions;
}
