// Export a tab's log to a file, and import files (Insomnia, Bruno, HAR, wsbench logs).
// Native file dialogs are opened by the shell; the path fields can also be typed.
import { h, clear } from "../lib/dom.js";
import { formatBytes } from "../lib/format.js";

export const EXPORT_FORMATS = [
  ["ndjson", "NDJSON (lossless, one frame per line)"],
  ["json", "JSON (one document)"],
  ["har", "HAR 1.2 (Chrome DevTools)"],
  ["csv", "CSV (spreadsheets)"],
  ["txt", "Text transcript"],
];

/** scope: { all, filter: count|null, filterQuery, selection: [seqs] } */
export function openExport(tab, scope, actions) {
  let job = null;
  const format = h("select", { id: "export-format", "aria-label": "Export format" }, EXPORT_FORMATS.map(([v, t]) => h("option", { value: v }, t)));
  const radio = (value, label, disabled, checked) => h("label", { class: "check" },
    h("input", { type: "radio", name: "export-scope", value, "aria-label": label, disabled, checked }), label);
  const path = h("input", { id: "export-path", "aria-label": "Export file", spellcheck: "false", class: "mono" });
  const secrets = h("input", { type: "checkbox", id: "export-secrets", "aria-label": "Include secrets" });
  const progress = h("progress", { id: "export-progress", max: "1", value: "0", hidden: true });
  const status = h("div", { id: "export-status", class: "muted", role: "status" });
  const go = h("button", { id: "export-go", class: "primary", "aria-label": "Export now" }, "Export");
  // "Close" while idle, "Cancel" while an export runs.
  const cancel = h("button", { id: "export-cancel", "aria-label": "Close or cancel export" }, "Close");
  const setDefaultPath = async () => {
    const p = await actions.defaultExportPath(tab.id, format.value);
    if (p && (!path.value || path.dataset.auto === "1")) {
      path.value = p;
      path.dataset.auto = "1";
    }
  };
  path.addEventListener("input", () => (path.dataset.auto = "0"));
  format.addEventListener("change", () => {
    // Keep a typed name, change its extension.
    if (path.value && path.dataset.auto !== "1") path.value = path.value.replace(/\.[A-Za-z0-9]+$/, "") + "." + format.value;
    else setDefaultPath();
  });
  const dlg = h("dialog", { class: "confirm form export", "aria-label": "Export log" },
    h("h2", {}, `Export “${tab.name}”`),
    h("label", { class: "field" }, h("span", {}, "Format"), format),
    h("fieldset", {}, h("legend", {}, "Frames"),
      radio("all", `All frames (${scope.all})`, false, true),
      radio("filter", scope.filter === null ? "Current filter (none set)" : `Current filter (${scope.filter})`, scope.filter === null, false),
      radio("selection", `Selected frames (${scope.selection.length})`, scope.selection.length === 0, false)),
    h("label", { class: "check", title: "Off: Authorization, Cookie and secret variable values are written as [redacted]" }, secrets,
      "Include Authorization, Cookie and secret values"),
    h("label", { class: "field" }, h("span", {}, "File"),
      h("div", { class: "row" }, path, h("button", { id: "export-browse", "aria-label": "Choose file", onclick: async () => {
        const p = await actions.pickSavePath(path.value);
        if (p) { path.value = p; path.dataset.auto = "0"; }
      } }, "Browse…"))),
    progress, status,
    h("div", { class: "buttons" }, cancel, go));
  go.addEventListener("click", async () => {
    const which = dlg.querySelector("input[name=export-scope]:checked")?.value ?? "all";
    const req = {
      format: format.value,
      path: path.value.trim(),
      scope: which === "filter" ? { type: "filter", query: scope.filterQuery } : which === "selection" ? { type: "selection", seqs: scope.selection } : { type: "all" },
      includeSecrets: secrets.checked,
    };
    if (!req.path) { status.textContent = "Choose where to write the file"; return; }
    go.disabled = true;
    cancel.textContent = "Cancel";
    progress.hidden = false;
    progress.value = 0;
    status.textContent = "Exporting…";
    job = actions.exportLog(tab.id, req, (p) => {
      progress.max = Math.max(1, p.total);
      progress.value = p.done;
      status.textContent = `Exporting… ${p.done} of ${p.total} frames`;
    });
    const r = await job.result;
    job = null;
    go.disabled = false;
    cancel.textContent = "Close";
    if (r.error) {
      status.textContent = r.error;
      status.className = "form-error";
      return;
    }
    progress.value = progress.max;
    status.className = "muted";
    status.textContent = `Wrote ${r.frames} frames (${formatBytes(r.bytes)}) to ${r.path}`;
    go.textContent = "Export again";
  });
  cancel.addEventListener("click", () => {
    if (job) job.cancel();
    else dlg.close();
  });
  dlg.addEventListener("close", () => {
    // Escape closes the dialog: a running export stops with it.
    if (job) job.cancel();
    dlg.remove();
  });
  document.body.append(dlg);
  dlg.showModal();
  setDefaultPath();
}

export function openImport(actions, collections) {
  const path = h("input", { id: "import-path", "aria-label": "File to import", spellcheck: "false", class: "mono", placeholder: "Insomnia .json/.yaml, Bruno folder or .bru, OpenCollection .yaml, .har, .ndjson, .json" });
  const result = h("div", { id: "import-result", class: "import-result" });
  const status = h("div", { class: "form-error", role: "alert" });
  const read = async () => {
    status.textContent = "";
    clear(result);
    const r = await actions.importPreview(path.value.trim());
    if (r.error) { status.textContent = r.error; return; }
    if (r.kind === "collection") drawCollection(r.report);
    else drawLog(r.connections);
  };
  const drawCollection = (report) => {
    const into = h("input", { id: "import-into", "aria-label": "Import into collection", value: report.name || "Imported", spellcheck: "false" });
    result.append(
      h("p", {}, `${report.connections.length} WebSocket connection${report.connections.length === 1 ? "" : "s"}, ${report.environments.length} environment${report.environments.length === 1 ? "" : "s"}`),
      h("ul", { class: "import-list" }, report.connections.map((c) => h("li", {},
        [...c.folder, c.connection.name].join(" / "), h("span", { class: "muted" }, ` · ${c.connection.messages.length} messages · ${c.connection.config.url}`)))),
      report.environments.length ? h("p", { class: "muted" }, `Environments: ${report.environments.map((e) => e.name).join(", ")}`) : null,
      report.unmapped.length ? h("details", { class: "unmapped", open: true }, h("summary", {}, `${report.unmapped.length} item${report.unmapped.length === 1 ? "" : "s"} not imported`),
        h("ul", {}, report.unmapped.map((u) => h("li", {}, `${u.item}: `, h("span", { class: "muted" }, u.reason))))) : null,
      h("label", { class: "field" }, h("span", {}, "Into collection (folder)"), into),
      h("div", { class: "buttons" }, h("button", { id: "import-apply", class: "primary", "aria-label": "Import connections", onclick: async () => {
        const ok = await actions.importApply(path.value.trim(), into.value.trim());
        if (ok) dlg.close();
      } }, "Import")));
  };
  const drawLog = (conns) => {
    result.append(h("p", {}, `${conns.length} recorded WebSocket connection${conns.length === 1 ? "" : "s"}`));
    for (const c of conns) {
      result.append(h("div", { class: "recorded", "data-index": c.index },
        h("div", {}, h("strong", {}, c.name), h("span", { class: "muted" }, ` · ${c.frames} frames · ${c.sent} sent messages`)),
        h("div", { class: "mono muted" }, c.url),
        h("div", { class: "buttons left" },
          h("button", { class: "small primary", "aria-label": `Open log of ${c.name}`, onclick: async () => {
            if (await actions.importOpenLog(path.value.trim(), c.index)) dlg.close();
          } }, "Open log (read-only)"),
          h("select", { class: "small", "aria-label": "Save into collection" }, collections.map((p) => h("option", { value: p }, p || "(top level)"))),
          h("button", { class: "small", "aria-label": `Save ${c.name} as connection`, onclick: async (e) => {
            const into = e.target.previousSibling.value;
            if (await actions.importSaveConnection(path.value.trim(), c.index, into)) dlg.close();
          } }, "Save as connection"))));
    }
  };
  const dlg = h("dialog", { class: "confirm form import", "aria-label": "Import" },
    h("h2", {}, "Import"),
    h("label", { class: "field" }, h("span", {}, "File or folder"),
      h("div", { class: "row" }, path,
        h("button", { id: "import-browse", "aria-label": "Choose file", onclick: async () => {
          const p = await actions.pickOpenPath();
          if (p) { path.value = p; read(); }
        } }, "Browse…"),
        h("button", { id: "import-read", "aria-label": "Read file", onclick: read }, "Read"))),
    status, result,
    h("div", { class: "buttons" }, h("button", { "aria-label": "Close import", onclick: () => dlg.close() }, "Close")));
  path.addEventListener("keydown", (e) => { if (e.key === "Enter") read(); });
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  path.focus();
}
