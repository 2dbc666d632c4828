// App-wide settings: the global proxy (a connection set to "system" uses it before
// the environment's HTTPS_PROXY/HTTP_PROXY/ALL_PROXY), and sending a file from the
// composer (the path never passes through the page: Rust opens the dialog).
import { api, errorText } from "../api.js";
import { formDialog, toast } from "../views/dialogs.js";
import { formatBytes } from "../lib/format.js";

export const PROXY_MODES = [
  ["system", "System: the environment decides (HTTPS_PROXY, NO_PROXY…)"],
  ["none", "None: connect directly"],
  ["url", "This proxy"],
];

/** The engine's setting from the form's values, or a problem to show. */
export function proxyFromForm(v) {
  if (v.mode === "system" || v.mode === "none") return { setting: { mode: v.mode }, problem: null };
  const url = String(v.url ?? "").trim();
  if (!url) return { setting: null, problem: "Give the proxy's URL: http://, socks5:// or socks5h://host:port" };
  return { setting: { mode: "url", url }, problem: null };
}

/** The form's fields for a setting, with what the environment sets (names only). */
export function proxyFields(setting, environment = []) {
  const env = environment.length ? `set here: ${environment.join(", ")}` : "none set here";
  return [
    { name: "mode", label: `Proxy for connections set to "system" (environment: ${env})`, type: "select", options: PROXY_MODES, value: setting?.mode ?? "system" },
    { name: "url", label: "Proxy URL (user:password@ allowed, {{variables}} too)", value: setting?.url ?? "", placeholder: "http://proxy.example:3128" },
  ];
}

/** @param {import("../app.js").App} app */
export function settingsActions(app) {
  return {
    async editProxy() {
      let current;
      try {
        current = await api.proxyGet();
      } catch (e) {
        app.fail(e);
        return;
      }
      await formDialog("Proxy", proxyFields(current.setting, current.environment), "Save", async (v) => {
        const { setting, problem } = proxyFromForm(v);
        if (problem) return problem;
        try {
          await api.proxySet(setting);
          toast(setting.mode === "url" ? "Proxy saved: new connections use it" : "Proxy setting saved", { kind: "info" });
          return null;
        } catch (e) {
          return errorText(e);
        }
      });
    },
    /** Send a file picked in a native dialog: `sendAs` is `{type: "binary"}` or a Socket.IO emit. */
    async sendFile(id, sendAs) {
      try {
        const sent = await api.sendFile(id, sendAs);
        if (sent) toast(`Sent ${sent.name} (${formatBytes(sent.bytes)})`, { kind: "info", ms: 3000 });
        return !!sent;
      } catch (e) {
        app.fail(e);
        return false;
      }
    },
  };
}
