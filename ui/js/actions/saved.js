// Saved connections: save (with conflict handling), save as, open, rename, duplicate,
// move, delete (with undo), and reloading a tab from its file. Names are checked by the
// engine: its error is shown in the dialog that asked for the name.
import { api, errorText } from "../api.js";
import { asSaved, collectionOf, collectionPaths, tabsSavedAs } from "../state.js";
import { choiceDialog, formDialog, toast } from "../views/dialogs.js";

/** Run `fn` from a dialog's OK button: null when it worked, else the engine's words. */
export async function attempt(fn) {
  try {
    await fn();
    return null;
  } catch (e) {
    return errorText(e);
  }
}

const collectionField = (ws, label, value) =>
  ({ name: "collection", label, type: "select", value, options: collectionPaths(ws).map((p) => [p, p || "(top level)"]) });

/** @param {import("../app.js").App} app */
export function savedActions(app) {
  const { model } = app;
  const actions = {
    async save(id, force = false) {
      const tab = model.tabs.get(id);
      if (!tab || tab.readOnly) return;
      if (!tab.saved) return actions.saveAs(id);
      try {
        await app.flushConfig(tab);
        const r = await api.save({ id: tab.saved.id, connection: asSaved(tab), baseRevision: tab.saved.revision, force });
        savedTo(app, tab, r);
      } catch (e) {
        if (e.kind !== "conflict") return app.fail(e);
        const choice = await choiceDialog("Changed on disk", `${e.message}.`, [
          ["reload", "Reload from disk (drop my edits)"],
          ["copy", "Save mine as a copy"],
          ["overwrite", "Overwrite the file", "danger"],
        ]);
        if (choice === "overwrite") return actions.save(id, true);
        if (choice === "copy") return actions.saveAs(id, null, `${tab.name} (mine)`);
        if (choice === "reload") return reloadFromDisk(app, tab);
      }
    },
    async saveAs(id, collection = null, name = null) {
      const tab = model.tabs.get(id);
      if (!tab) return;
      if (tab.readOnly) return toast("A recorded session is read-only: use Import… > Save as connection to keep its messages");
      const current = tab.saved ? collectionOf(model.ws, tab.saved.id) : "";
      let r = null;
      const v = await formDialog("Save connection", [
        { name: "name", label: "Name", value: name ?? tab.name },
        collectionField(model.ws, "Collection", collection ?? current),
      ], "Save", (v) => attempt(async () => {
        await app.flushConfig(tab);
        r = await api.save({ collection: v.collection, connection: asSaved(tab, v.name.trim()) });
      }));
      if (!v || !r) return;
      if (tab.name !== v.name.trim()) await app.actions.rename(id, v.name.trim());
      savedTo(app, tab, r);
    },
    saveAsInto: (collection) => model.active && actions.saveAs(model.active, collection),
    async openSaved(savedId) {
      const open = tabsSavedAs(model, savedId)[0];
      if (open) return app.actions.select(open.id);
      try {
        const r = await api.openSaved(savedId);
        if (r.migratedFrom) app.info(`${savedId} was written in format version ${r.migratedFrom}; it will be upgraded (with a backup) when you save`);
        await app.actions.create(r.connection.name, r.connection.config, {
          messages: r.connection.messages, scenario: r.connection.scenario, saved: { id: savedId, revision: r.revision }, dirty: false,
        });
      } catch (e) {
        app.fail(e);
      }
    },
  };
  return actions;
}

/** Renaming, duplicating, moving and deleting saved connections (from the sidebar). */
export function savedFileActions(app) {
  const { model } = app;
  return {
    async renameSaved(savedId, name) {
      let before = null;
      let r = null;
      const v = await formDialog("Rename connection", [{ name: "name", label: "Name", value: name }], "Rename", (v) => attempt(async () => {
        before = (await api.openSaved(savedId)).revision;
        r = await api.renameSaved(savedId, v.name.trim());
      }));
      if (!v || !r) return;
      for (const t of tabsSavedAs(model, savedId)) {
        // A tab based on an older version keeps that base: its next save asks.
        t.saved = { id: r.id, revision: t.saved.revision === before ? r.revision : t.saved.revision };
        t.name = v.name.trim();
        await api.renameTab(t.id, t.name).catch(app.fail);
        app.persistMeta(t);
      }
      app.setWorkspace(r.workspace);
      app.drawAll();
    },
    async duplicateSaved(savedId) {
      try {
        const r = await api.duplicateSaved(savedId);
        app.setWorkspace(r.workspace);
        app.info(`Duplicated as ${r.id}`);
      } catch (e) {
        app.fail(e);
      }
    },
    async moveSaved(savedId) {
      const here = collectionOf(model.ws, savedId);
      const v = await formDialog("Move connection", [collectionField(model.ws, "To collection", here)], "Move");
      if (!v || v.collection === here) return;
      try {
        const r = await api.moveSaved(savedId, v.collection);
        // The bytes move unchanged: each tab keeps the revision it was based on.
        retarget(app, savedId, r.id);
        app.setWorkspace(r.workspace);
      } catch (e) {
        app.fail(e);
      }
    },
    async deleteSaved(savedId, name) {
      try {
        const r = await api.deleteSaved(savedId);
        // Open tabs keep their content, now unsaved (closing them asks).
        const linked = tabsSavedAs(model, savedId).map((t) => [t, t.saved, t.dirty]);
        for (const [t] of linked) app.unlink(t);
        app.setWorkspace(r.workspace);
        app.drawTabs();
        toast(`Deleted “${name}”`, { kind: "info", action: { label: "Undo", run: () => relink(app, r.token, linked) } });
      } catch (e) {
        app.fail(e);
      }
    },
  };
}

/** Undo a deletion and link the tabs that were linked to the file again. */
async function relink(app, token, linked) {
  const restored = await app.undo(token);
  if (!restored) return;
  for (const [t, saved, dirty] of linked) {
    if (!app.model.tabs.has(t.id) || t.saved) continue;
    t.saved = { id: restored.id, revision: saved.revision };
    t.dirty = dirty;
    app.persistMeta(t);
  }
  app.drawTabs();
  app.markSidebar();
}

/** The tab now matches the file the engine wrote (`r`: the engine's answer to a save). */
function savedTo(app, tab, r) {
  tab.saved = { id: r.id, revision: r.revision };
  tab.dirty = false;
  app.persistMeta(tab);
  app.setWorkspace(r.workspace);
  app.drawTabs();
  if (r.replacedSecrets?.length) app.info(`Saved to ${r.id}. Secret values were written as ${r.replacedSecrets.map((n) => `{{${n}}}`).join(", ")}`);
  else app.info(`Saved to ${r.id}`, { ms: 2500 });
}

/** Tabs linked to `oldId` follow the file to `newId`, keeping the revision they were based on. */
export function retarget(app, oldId, newId) {
  for (const t of tabsSavedAs(app.model, oldId)) {
    t.saved = { id: newId, revision: t.saved.revision };
    app.persistMeta(t);
  }
}

/** Replace the tab's content with its file as it is on disk now. */
export async function reloadFromDisk(app, tab) {
  try {
    const r = await api.openSaved(tab.saved.id);
    tab.config = r.connection.config;
    tab.messages = r.connection.messages;
    tab.scenario = r.connection.scenario ?? null;
    tab.saved = { id: tab.saved.id, revision: r.revision };
    tab.dirty = false;
    await api.setConfig(tab.id, tab.config);
    if (tab.name !== r.connection.name) {
      await api.renameTab(tab.id, r.connection.name);
      tab.name = r.connection.name;
    }
    app.persistMeta(tab);
    app.drawTabs();
    if (tab.id === app.model.active) app.drawAll();
    app.markSidebar();
  } catch (e) {
    app.fail(e);
  }
}
