// Import (collections of other tools, recorded logs) and export of a tab's log. The
// engine reads and writes the files; these actions carry its answers to the dialogs.
import { api, errorText } from "../api.js";
import { collectionPaths } from "../state.js";
// The dialogs are loaded on first use: the first screen does not need them.
const dialogs = () => import("../views/transfer.js");

/** @param {import("../app.js").App} app */
export function transferActions(app) {
  const { model } = app;
  /** Run `fn`; true when it worked, else the error is shown and false returned. */
  const tried = async (fn) => {
    try {
      await fn();
      return true;
    } catch (e) {
      app.fail(e);
      return false;
    }
  };
  return {
    importFile: () => dialogs().then((d) => d.openImport(app.actions, collectionPaths(model.ws)), app.fail),
    async importPreview(path) {
      try {
        return await api.importPreview(path);
      } catch (e) {
        return { error: errorText(e) };
      }
    },
    importApply: (path, into) => tried(async () => {
      const r = await api.importApply(path, into);
      app.setWorkspace(r.workspace);
      app.info(`Imported ${r.connections} connection${r.connections === 1 ? "" : "s"} into ${into || "the top level"}${r.environments ? ` and ${r.environments} environment(s)` : ""}`);
    }),
    importOpenLog: (path, index) => tried(async () => app.addReadOnly(await api.importOpenLog(path, index))),
    importSaveConnection: (path, index, collection) => tried(async () => {
      const r = await api.importSaveConnection(path, index, collection);
      app.setWorkspace(r.workspace);
      await app.actions.openSaved(r.id);
    }),
    exportDialog() {
      const tab = app.active();
      if (!tab) return;
      const scope = app.views.framelog.exportScope();
      return dialogs().then((d) => d.openExport(tab, scope, app.actions), app.fail);
    },
    defaultExportPath: (id, format) => api.defaultExportPath(id, format).catch((e) => (app.fail(e), "")),
    pickSavePath: (suggested) => api.pickSavePath(suggested).catch((e) => (app.fail(e), null)),
    pickOpenPath: () => api.pickOpenPath().catch((e) => (app.fail(e), null)),
    exportLog(id, request, onProgress) {
      const job = Math.floor(Math.random() * 2 ** 31);
      const result = api.exportLog(id, request, job, onProgress).then((r) => r, (e) => ({ error: errorText(e) }));
      return { result, cancel: () => api.cancelExport(job).catch(app.fail) };
    },
  };
}
