// The workspace folder: collections (create, rename, delete), opening another folder,
// the sidebar filter (the engine's rule), and picking up files changed outside the app.
import { api } from "../api.js";
import { connectionsUnder } from "../state.js";
import { formDialog, toast } from "../views/dialogs.js";
import { attempt, reloadFromDisk } from "./saved.js";

/** @param {import("../app.js").App} app */
export function workspaceActions(app) {
  const { model } = app;
  return {
    async newCollection(parent) {
      // The engine joins parent and name and checks the name (a `/` is refused there).
      await formDialog(parent ? `New collection in ${parent}` : "New collection", [{ name: "name", label: "Name", value: "" }], "Create",
        (v) => attempt(async () => app.setWorkspace(await api.createCollection(parent ?? "", v.name.trim()))));
    },
    async renameCollection(path, name) {
      let r = null;
      const v = await formDialog("Rename collection", [{ name: "name", label: "Name", value: name }], "Rename",
        (v) => attempt(async () => (r = await api.renameCollection(path, v.name.trim()))));
      if (!v || !r) return;
      // The engine lists every connection whose id changed: no id is rebuilt here.
      const moved = r.movedIds ?? {};
      for (const t of model.tabs.values()) {
        if (!t.saved || !(t.saved.id in moved)) continue;
        t.saved = { ...t.saved, id: moved[t.saved.id] };
        app.persistMeta(t);
      }
      app.setWorkspace(r.workspace);
    },
    async deleteCollection(path) {
      const inside = connectionsUnder(model.ws, path);
      try {
        const r = await api.deleteCollection(path);
        for (const t of model.tabs.values()) if (t.saved && inside.has(t.saved.id)) app.unlink(t);
        app.setWorkspace(r.workspace);
        toast(`Deleted collection “${path}”`, { kind: "info", action: { label: "Undo", run: () => app.undo(r.token) } });
      } catch (e) {
        app.fail(e);
      }
    },
    async openFolder() {
      let ws = null;
      const v = await formDialog("Open workspace folder", [
        { name: "path", label: "Folder (created if missing)", value: model.ws?.root ?? "", browse: () => api.pickFolder() },
      ], "Open", (v) => (v.path.trim() ? attempt(async () => (ws = await api.openWorkspace(v.path.trim()))) : "Choose a folder"));
      if (!v || !ws) return;
      // Saved-file links name files of the previous workspace: keep the tabs, unlinked.
      let unlinked = 0;
      for (const t of model.tabs.values()) {
        if (!t.saved) continue;
        app.unlink(t);
        unlinked++;
      }
      app.setWorkspace(ws);
      app.drawTabs();
      app.info(`Opened ${model.ws.root}${unlinked ? `; ${unlinked} tab(s) from the previous workspace are now unsaved (Ctrl+S saves them here)` : ""}`);
    },
    /** The tree items matching `filter`, in the engine's order (null if it failed). */
    filterTree: (filter) => api.workspaceTree(filter).catch((e) => (app.fail(e), null)),
  };
}

/** Files changed outside the app: picked up on focus and every few seconds. */
export function watchWorkspace(app, everyMs = 3000) {
  let rescanning = false;
  const rescan = async () => {
    if (rescanning || !app.model.ws) return;
    rescanning = true;
    try {
      const r = await api.rescan();
      if (r.changes.length) await applyChanges(app, r);
    } catch (e) {
      // A vanished workspace folder is reported once by the next action.
    } finally {
      rescanning = false;
    }
  };
  window.addEventListener("focus", rescan);
  setInterval(rescan, everyMs);
}

async function applyChanges(app, r) {
  app.setWorkspace(r.workspace);
  for (const c of r.changes) {
    const tab = [...app.model.tabs.values()].find((t) => t.saved?.id === c.path);
    if (!tab) continue;
    if (c.kind === "removed") {
      app.info(`${c.path} was removed on disk; the tab keeps its content (Ctrl+S saves it again)`);
      tab.dirty = true;
    } else if (!tab.dirty) {
      await reloadFromDisk(app, tab);
      app.info(`${c.path} changed on disk and was reloaded`, { ms: 3000 });
    } else {
      app.info(`${c.path} changed on disk. Your unsaved edits are kept; saving will ask before overwriting.`);
    }
  }
  app.drawTabs();
  app.markSidebar();
}
