// A tab's live connection and its log: connect/disconnect, send, close with a code,
// and the log pane's requests (pages, search, one frame, clear).
import { api } from "../api.js";
import { isLive } from "../lib/batch.js";

/** @param {import("../app.js").App} app */
export function connectionActions(app) {
  const { model } = app;
  return {
    async toggleConnect(id) {
      const tab = model.tabs.get(id);
      if (tab.readOnly) return;
      try {
        if (isLive(tab.state)) {
          await api.disconnect(id, 1000, "");
        } else {
          await app.flushConfig(tab);
          await api.connect(id, (tab.messages ?? []).filter((m) => m.sendOnConnect));
        }
      } catch (e) {
        // Bad input (a URL, an unknown variable): say so next to the URL.
        tab.state = { type: "failed", error: e };
        tab.stateSince = Date.now();
        app.views.connection.updateState(tab);
      }
    },
    async send(id, message) {
      try {
        await api.send(id, message);
        return true;
      } catch (e) {
        app.fail(e);
        return false;
      }
    },
    async closeWith(id, code, reason) {
      try {
        await api.disconnect(id, code, reason);
      } catch (e) {
        app.fail(e);
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
        app.views.framelog.resync();
        app.views.detail.empty();
      } catch (e) {
        app.fail(e);
      }
    },
    async showDetail(id, seq) {
      try {
        app.views.detail.show(await api.logFrame(id, seq));
      } catch (e) {
        app.fail(e);
      }
    },
    /** WebSocket <-> Socket.IO: the URL check, composer and log all change. */
    modeChanged(id) {
      if (model.tabs.get(id) && id === model.active) app.drawAll();
    },
    draftChanged(id) {
      const tab = model.tabs.get(id);
      if (tab) app.persistMeta(tab);
    },
  };
}
