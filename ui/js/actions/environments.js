// Environments: pick the active one, edit, save (the engine checks names), delete.
import { api, errorText } from "../api.js";
// The editor is loaded on first use: the first screen does not need it.
const editor = () => import("../views/environments.js");
import { toast } from "../views/dialogs.js";

/** @param {import("../app.js").App} app */
export function environmentActions(app) {
  return {
    async selectEnvironment(name) {
      try {
        app.setWorkspace(await api.selectEnvironment(name));
      } catch (e) {
        app.fail(e);
      }
    },
    async editEnvironments() {
      try {
        const [{ openEnvironments }, envs] = await Promise.all([editor(), api.environments()]);
        openEnvironments(envs, app.actions, app.model.ws?.activeEnvironment);
      } catch (e) {
        app.fail(e);
      }
    },
    /** Resolves with { revision } once saved, or { error } in the engine's words. */
    async saveEnvironment(env, original, baseRevision) {
      try {
        app.setWorkspace(await api.saveEnvironment(env, original, baseRevision));
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
        app.setWorkspace(r.workspace);
        toast(`Deleted environment “${name}”`, { kind: "info", action: { label: "Undo", run: () => app.undo(r.token) } });
        return true;
      } catch (e) {
        app.fail(e);
        return false;
      }
    },
    environmentsClosed: () => api.workspace().then((ws) => app.setWorkspace(ws), app.fail),
  };
}
