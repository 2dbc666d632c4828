// A tab's saved messages: add, update, reorder, send, delete (with undo).
import { formDialog, toast } from "../views/dialogs.js";

/** @param {import("../app.js").App} app */
export function messageActions(app) {
  const { model } = app;
  const actions = {
    setMessages(id, list) {
      const tab = model.tabs.get(id);
      const { composer } = app.views;
      // Indexes moved: whatever was being edited is no longer where it was.
      if (composer.editingIndex(id) !== null) {
        composer.stopEditing(id);
        if (tab.id === model.active) composer.render(tab);
      }
      tab.messages = list;
      if (tab.saved) app.markDirty(tab);
      app.persistMeta(tab);
      app.views.messages.render(tab);
    },
    async saveMessage(id, format, body) {
      const tab = model.tabs.get(id);
      const list = tab.messages ?? [];
      const editing = app.views.composer.editingIndex(id);
      if (editing !== null && list[editing]) {
        actions.setMessages(id, list.map((m, i) => (i === editing ? { ...m, format, body } : m)));
        app.info(`Updated saved message “${list[editing].name}”`);
        return;
      }
      // A message's name lives in the tab until the connection is saved: the UI asks for one.
      const v = await formDialog("Save message", [{ name: "name", label: "Name", value: `Message ${list.length + 1}` }], "Save",
        (v) => (v.name.trim() ? null : "A saved message needs a name"));
      if (!v) return;
      actions.setMessages(id, [...list, { name: v.name.trim(), format, body, sendOnConnect: false }]);
    },
    editSaved(id, index) {
      const m = model.tabs.get(id).messages[index];
      app.views.composer.load(id, m, index);
    },
    sendSaved: (id, m) => app.actions.send(id, { type: m.format, data: m.body }),
    deleteMessage(id, index) {
      const tab = model.tabs.get(id);
      const before = tab.messages;
      actions.setMessages(id, before.filter((_, i) => i !== index));
      toast(`Deleted saved message “${before[index].name}”`, { kind: "info", action: { label: "Undo", run: () => actions.setMessages(id, before) } });
    },
  };
  return actions;
}
