// A tab's scenario: the JSON editor (checked by the engine, errors with their line),
// Run, each step's result as it arrives (passed, failed with expected and arrived and
// the frame to open, skipped), and the report's export. Also the dialog that shows a
// collection's run. Server text is only ever put in as text.
import { h, clear } from "../lib/dom.js";

const ICON = { passed: "✓", failed: "✗", skipped: "–" };

export const EXAMPLE = {
  steps: [
    { type: "send", text: "hello" },
    { type: "expect", contains: "hello", timeoutMs: 5000 },
  ],
};

export class ScenarioPanel {
  constructor(root, actions) {
    this.root = root;
    this.actions = actions;
    this.open = false;
    this.texts = new Map(); // tab id -> the editor's text (kept while switching tabs)
  }

  textOf(tab) {
    if (!this.texts.has(tab.id)) this.texts.set(tab.id, JSON.stringify(tab.scenario ?? EXAMPLE, null, 2));
    return this.texts.get(tab.id);
  }

  render(tab) {
    this.tab = tab;
    const root = clear(this.root);
    root.hidden = !!tab.readOnly;
    if (tab.readOnly) return;
    const run = tab.run;
    const steps = tab.scenario?.steps?.length ?? 0;
    const editor = h("textarea", { id: "scenario-text", class: "scenario-text", "aria-label": "Scenario (JSON)", spellcheck: "false", rows: 8,
      oninput: (e) => this.texts.set(tab.id, e.target.value) });
    editor.value = this.textOf(tab);
    const error = h("div", { id: "scenario-error", class: "form-error", role: "alert" }, tab.scenarioError ?? "");
    const apply = () => this.actions.applyScenario(tab.id, editor.value);
    const status = run ? runStatus(run) : null;
    const det = h("details", { class: "scenario", open: this.open },
      h("summary", { id: "scenario-toggle" }, `Scenario (${steps} step${steps === 1 ? "" : "s"})`, status),
      h("div", { class: "scenario-body" },
        h("div", { class: "scenario-edit" }, editor, error,
          h("div", { class: "row" },
            h("button", { id: "scenario-apply", class: "small", "aria-label": "Check and keep the scenario", title: "Check the steps and keep them with this connection (Save writes the file)", onclick: apply }, "Check & keep"),
            h("button", { id: "scenario-run", class: "small primary", "aria-label": "Run scenario", disabled: !!run?.running,
              title: "Connect, run the steps, close; the frames land in this tab's log", onclick: () => this.actions.runScenario(tab.id, editor.value) }, run?.running ? "Running…" : "Run"),
            h("button", { id: "scenario-export", class: "small", "aria-label": "Export run report", disabled: !run?.report,
              onclick: () => this.actions.exportReport(tab.id) }, "Export report…"))),
        h("div", { id: "scenario-results", class: "scenario-results", role: "list", "aria-label": "Step results" },
          run ? resultRows(run, (seq) => this.actions.openFrame(tab.id, seq)) : h("div", { class: "muted" }, "Run the scenario to see each step's result here."))));
    det.addEventListener("toggle", () => (this.open = det.open));
    root.append(det);
  }
}

function runStatus(run) {
  if (run.running) return h("span", { class: "run-status running" }, " · running…");
  const r = run.report;
  if (!r) return null;
  return h("span", { id: "scenario-verdict", class: `run-status ${r.passed ? "passed" : "failed"}` }, r.passed ? " · passed" : " · failed");
}

function resultRows(run, openFrame) {
  const rows = run.steps.map((s) => h("div", { class: `step-result ${s.status}`, role: "listitem", "data-step": s.step },
    h("span", { class: "icon" }, ICON[s.status] ?? "?"),
    h("span", { class: "title" }, `${s.step}. ${s.title}`),
    s.message ? h("span", { class: "muted" }, s.message) : null,
    s.expected ? h("div", { class: "detail" }, h("b", {}, "expected "), s.expected) : null,
    s.arrived ? h("div", { class: "detail" }, h("b", {}, "arrived "), s.arrived) : null,
    s.frameSeq ? h("button", { class: "link", "aria-label": `Open frame ${s.frameSeq}`, onclick: () => openFrame(s.frameSeq) }, `frame #${s.frameSeq}`) : null));
  if (run.report?.error) rows.unshift(h("div", { class: "step-result failed", role: "listitem" }, h("span", { class: "icon" }, "✗"), run.report.error));
  if (run.failure) rows.unshift(h("div", { class: "step-result failed", role: "listitem" }, h("span", { class: "icon" }, "✗"), run.failure));
  return rows;
}

/** The dialog of a collection's run: one line per scenario as it ends, with links to
 *  its tab and to the frame of each failed step (`onOpen(tabId, seq?)` closes it). */
export function collectionRunDialog(title, onExport, onOpen) {
  const list = h("div", { class: "scenario-results", role: "list", "aria-label": "Scenario results" }, h("div", { class: "muted" }, "Running…"));
  const summary = h("div", { class: "muted" });
  const exportBtn = h("button", { "aria-label": "Export collection report", disabled: true, onclick: () => onExport() }, "Export report…");
  const close = () => { dlg.close(); dlg.remove(); };
  const open = (tab, seq) => { close(); onOpen(tab, seq); };
  const dlg = h("dialog", { class: "confirm form wide", "aria-label": title }, h("h2", {}, title), list, summary,
    h("div", { class: "buttons" }, exportBtn, h("button", { class: "primary", "aria-label": "Close", onclick: close }, "Close")));
  document.body.append(dlg);
  dlg.showModal();
  let first = true;
  return {
    add(r, tab) {
      if (first) clear(list);
      first = false;
      const failed = r.steps.filter((s) => s.status === "failed");
      list.append(h("div", { class: `step-result ${r.passed ? "passed" : "failed"}`, role: "listitem" },
        h("span", { class: "icon" }, r.passed ? "✓" : "✗"), h("span", { class: "title" }, `${r.name} (${r.source})`),
        h("span", { class: "muted" }, `${r.steps.length} steps, ${(r.durationMs / 1000).toFixed(2)} s`),
        h("button", { class: "link", "aria-label": `Show the tab of ${r.name}`, onclick: () => open(tab) }, "show tab"),
        r.error ? h("div", { class: "detail" }, r.error) : null,
        failed.map((s) => h("div", { class: "detail" }, `step ${s.step} ${s.title}: ${s.message ?? ""}${s.expected ? `; expected ${s.expected}` : ""}${s.arrived ? `; arrived ${s.arrived}` : ""} `,
          s.frameSeq ? h("button", { class: "link", "aria-label": `Open frame ${s.frameSeq} of ${r.name}`, onclick: () => open(tab, s.frameSeq) }, `frame #${s.frameSeq}`) : null))));
    },
    done(reports) {
      if (!reports.length) { clear(list); list.append(h("div", { class: "muted" }, "No connection with a scenario here.")); }
      const passed = reports.filter((r) => r.passed).length;
      summary.textContent = `${reports.length} scenarios: ${passed} passed, ${reports.length - passed} failed`;
      exportBtn.disabled = !reports.length;
    },
  };
}
