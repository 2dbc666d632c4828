// The ONLY module that touches window.__TAURI__. Every call returns a promise; errors
// are { kind, message } objects from the engine (e.g. kind "conflict", "invalidName").

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
  /** Tab extras kept across restarts: { messages, saved, dirty, draft }. */
  uiState: () => call("ui_state"),
  setTabMeta: (id, meta) => call("set_tab_meta", { id, meta }),
  setActiveTab: (id) => call("set_active_tab", { id }),
  connect: (id, onOpen = []) => call("connect", { id, onOpen }),
  disconnect: (id, code = 1000, reason = "") => call("disconnect", { id, code, reason }),
  send: (id, message) => call("send", { id, message }),
  logPage: (id, fromSeq, limit) => call("log_page", { id, fromSeq, limit }),
  logFrame: (id, seq) => call("log_frame", { id, seq }),
  logSearch: (id, query) => call("log_search", { id, query }),
  logClear: (id) => call("log_clear", { id }),
  localServerUrl: () => call("local_server_url"),
  /** A start-up milestone for the shell's trace (printed only with WSBENCH_STARTUP_TRACE=1). */
  startupMark: (what, phases = null) => call("startup_mark", { what, phases }),

  // Workspace: collections, saved connections, environments.
  workspace: () => call("workspace_info"),
  /** The tree items (as in `workspace().items`) that match `filter`, by the engine's rule. */
  workspaceTree: (filter) => call("workspace_tree", { filter }),
  openWorkspace: (path) => call("workspace_open", { path }),
  rescan: () => call("workspace_rescan"),
  openSaved: (id) => call("saved_open", { id }),
  /** { id?, collection?, connection, baseRevision?, force? } */
  save: (request) => call("saved_save", { request }),
  renameSaved: (id, name) => call("saved_rename", { id, name }),
  duplicateSaved: (id) => call("saved_duplicate", { id }),
  moveSaved: (id, collection) => call("saved_move", { id, collection }),
  deleteSaved: (id) => call("saved_delete", { id }),
  undoDelete: (token) => call("undo_delete", { token }),
  createCollection: (parent, name) => call("collection_create", { parent, name }),
  renameCollection: (path, name) => call("collection_rename", { path, name }),
  deleteCollection: (path) => call("collection_delete", { path }),
  environments: () => call("environments_list"),
  saveEnvironment: (environment, original, baseRevision) => call("environment_save", { environment, original, baseRevision }),
  deleteEnvironment: (name) => call("environment_delete", { name }),
  selectEnvironment: (name) => call("environment_select", { name }),

  // Import, export, history.
  importPreview: (path) => call("import_preview", { path }),
  importApply: (path, into) => call("import_apply", { path, into }),
  importOpenLog: (path, index) => call("import_open_log", { path, index }),
  importSaveConnection: (path, index, collection) => call("import_save_connection", { path, index, collection }),
  /** { entries, maxBytes } */
  history: () => call("history_list"),
  setHistoryMaxBytes: (maxBytes) => call("history_set_max_bytes", { maxBytes }),
  openHistory: (id) => call("history_open", { id }),
  defaultExportPath: (id, format) => call("export_default_path", { id, format }),
  /** Resolves when done; `onProgress({ done, total })` is called along the way. */
  exportLog(id, request, job, onProgress) {
    const channel = new (core().Channel)();
    channel.onmessage = onProgress;
    return call("export_log", { id, request, job, progress: channel });
  },
  cancelExport: (job) => call("export_cancel", { job }),
  pickSavePath: (suggested) => call("pick_save_path", { suggested }),
  pickOpenPath: () => call("pick_open_path"),
  pickFolder: () => call("pick_folder"),
  /** Pick a file in a native dialog and send it; resolves with { name, bytes, seq } or null. */
  sendFile: (id, sendAs) => call("send_file", { id, sendAs }),
  /** { setting: { mode, url? }, environment: [variable names] } */
  proxyGet: () => call("proxy_get"),
  proxySet: (setting) => call("proxy_set", { setting }),

  // Scenarios and periodic sends.
  scenarioCheck: (text, messages) => call("scenario_check", { text, messages }),
  /** Resolves with the report; `onStep(result)` gets each step's result as it is known. */
  scenarioRun(id, connection, source, onStep) {
    const channel = new (core().Channel)();
    channel.onmessage = onStep;
    return call("scenario_run", { id, connection, source, steps: channel });
  },
  /** Resolves with every report; `onEvent` gets { type: "tab" | "step" | "report", tab, ... }. */
  scenarioRunCollection(collection, parallel, onEvent) {
    const channel = new (core().Channel)();
    channel.onmessage = onEvent;
    return call("scenario_run_collection", { collection, parallel, events: channel });
  },
  scenarioReportWrite: (path, format, reports) => call("scenario_report_write", { path, format, reports }),
  /** Resolves with the run's number; `onStatus({ run, sent, running, error })` follows it. */
  periodicStart(id, message, everyMs, times, onStatus) {
    const channel = new (core().Channel)();
    channel.onmessage = onStatus;
    return call("periodic_start", { id, message, everyMs, times, status: channel });
  },
  periodicStop: (run) => call("periodic_stop", { run }),
};

/** A readable line for any error the API rejects with. */
export function errorText(e) {
  if (e && typeof e === "object" && "message" in e) return e.message;
  return String(e);
}
