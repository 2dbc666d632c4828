// Session history: the engine writes a session when it ends and says so with a
// `historyWritten` notice in an event batch; the list is then read again.
import { api } from "../api.js";

/** @param {import("../app.js").App} app */
export function historyActions(app) {
  return {
    async setHistoryLimit(mib) {
      try {
        app.setHistory(await api.setHistoryMaxBytes(Math.round(mib * 1024 * 1024)));
      } catch (e) {
        app.fail(e);
      }
    },
    async openHistory(historyId) {
      try {
        app.addReadOnly(await api.openHistory(historyId));
      } catch (e) {
        app.fail(e);
      }
    },
  };
}
