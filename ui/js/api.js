// The ONLY module that touches window.__TAURI__. Every call returns a promise; errors
// are { kind, message } objects from the engine.

const core = () => window.__TAURI__.core;

const call = (cmd, args = {}) => core().invoke(cmd, args);

export const api = {
  /** Subscribe this window to engine batches; resolves with a full snapshot. */
  subscribe(onBatch) {
    const channel = new (core().Channel)();
    channel.onmessage = onBatch;
    return call("subscribe", { channel });
  },
  listTabs: () => call("list_tabs"),
  createTab: (name, config) => call("create_tab", { name, config }),
  closeTab: (id) => call("close_tab", { id }),
  renameTab: (id, name) => call("rename_tab", { id, name }),
  setConfig: (id, config) => call("set_config", { id, config }),
  connect: (id) => call("connect", { id }),
  disconnect: (id, code = 1000, reason = "") => call("disconnect", { id, code, reason }),
  send: (id, message) => call("send", { id, message }),
  logPage: (id, fromSeq, limit) => call("log_page", { id, fromSeq, limit }),
  logPageBefore: (id, beforeSeq, limit) => call("log_page_before", { id, beforeSeq, limit }),
  logFrame: (id, seq) => call("log_frame", { id, seq }),
  logSearch: (id, query) => call("log_search", { id, query }),
  logClear: (id) => call("log_clear", { id }),
  localServerUrl: () => call("local_server_url"),
};

/** A readable line for any error the API rejects with. */
export function errorText(e) {
  if (e && typeof e === "object" && "message" in e) return e.message;
  return String(e);
}
