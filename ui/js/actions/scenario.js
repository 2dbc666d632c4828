// Scenarios (check, keep, run a tab's; run a collection's; export reports) and periodic
// sends of saved messages (start, follow, stop).
import { api, errorText } from "../api.js";
import { applyRunEvent, asSaved } from "../state.js";
import { isLive } from "../lib/batch.js";
import { formDialog, toast } from "../views/dialogs.js";
import { collectionRunDialog } from "../views/scenario.js";

/** @param {import("../app.js").App} app */
export function scenarioActions(app) {
  const { model } = app;
  const draw = (tab) => { if (tab.id === model.active) app.views.scenario.render(tab); };
  const drawPeriodic = (tab) => { if (tab.id === model.active) app.views.periodic.render(tab); };
  const writeReport = async (name, reports) => {
    const v = await formDialog("Export run report", [
      { name: "format", label: "Format", type: "select", value: "junit", options: [["junit", "JUnit XML"], ["json", "JSON"]] },
    ], "Choose file…");
    if (!v) return;
    const path = await api.pickSavePath(`${name}-report.${v.format === "junit" ? "xml" : "json"}`).catch(app.fail);
    if (!path) return;
    try {
      await api.scenarioReportWrite(path, v.format, reports);
      app.info(`Report written to ${path}`);
    } catch (e) {
      app.fail(e);
    }
  };
  const actions = {
    /** Check the editor's text with the engine; keep it on the tab when it is valid. */
    async applyScenario(id, text) {
      const tab = model.tabs.get(id);
      try {
        const scenario = await api.scenarioCheck(text, tab.messages ?? []);
        const changed = JSON.stringify(scenario) !== JSON.stringify(tab.scenario ?? null);
        tab.scenario = scenario;
        tab.scenarioError = null;
        if (tab.saved && changed) app.markDirty(tab);
        app.persistMeta(tab);
        draw(tab);
        return true;
      } catch (e) {
        tab.scenarioError = errorText(e);
        draw(tab);
        return false;
      }
    },
    async runScenario(id, text) {
      const tab = model.tabs.get(id);
      if (!tab || tab.run?.running) return;
      if (isLive(tab.state)) return toast("Disconnect first: the scenario opens its own connection in this tab");
      if (!(await actions.applyScenario(id, text))) return;
      tab.run = { running: true, steps: [], report: null };
      draw(tab);
      try {
        await app.flushConfig(tab);
        const source = tab.saved?.id ?? tab.name;
        tab.run.report = await api.scenarioRun(tab.id, asSaved(tab), source, (step) => { tab.run.steps.push(step); draw(tab); });
        // The live steps show captured values; the report (for files) has them redacted.
        if (tab.run.steps.length !== tab.run.report.steps.length) tab.run.steps = tab.run.report.steps;
      } catch (e) {
        tab.run.failure = errorText(e);
      }
      tab.run.running = false;
      draw(tab);
    },
    /** Open a saved connection (or its tab) and run its scenario there. */
    async runSaved(savedId) {
      await app.actions.openSaved(savedId);
      const tab = app.active();
      if (!tab || tab.saved?.id !== savedId) return;
      if (!tab.scenario) return toast("This connection has no scenario yet: write one in its Scenario panel");
      app.views.scenario.open = true;
      app.views.scenario.texts.delete(tab.id);
      draw(tab);
      return actions.runScenario(tab.id, app.views.scenario.textOf(tab));
    },
    exportReport(id) {
      const tab = model.tabs.get(id);
      if (tab?.run?.report) return writeReport(tab.name, [tab.run.report]);
    },
    openFrame(id, seq) {
      if (id === model.active) app.views.framelog.select(seq);
    },
    /** Run a collection's scenarios, each in its tab (opened by the engine when needed). */
    async runCollection(path) {
      const v = await formDialog("Run scenarios", [
        { name: "parallel", label: "Scenarios at once (1: one after another)", value: "1" },
      ], "Run", (v) => (/^\d+$/.test(v.parallel.trim()) && +v.parallel >= 1 ? null : "A number from 1"));
      if (!v) return;
      let reports = [];
      const dlg = collectionRunDialog(`Scenarios in ${path || "the workspace"}`, () => writeReport(path || "workspace", reports), actions.openRunFrame);
      const onEvent = (ev) => {
        const { tab, added } = applyRunEvent(model, ev);
        if (!tab) return;
        if (added) app.markSidebar();
        if (ev.type === "report") dlg.add(ev.report, tab.id);
        if (added || ev.type === "report") app.drawTabs();
        draw(tab);
      };
      try {
        reports = await api.scenarioRunCollection(path, +v.parallel, onEvent);
      } catch (e) {
        app.fail(e);
      }
      dlg.done(reports);
    },
    /** From the collection run's dialog: show tab `id`, and its frame `seq` if given. */
    openRunFrame(id, seq) {
      app.actions.select(id);
      if (seq) actions.openFrame(id, seq);
    },
    async startPeriodic(id, m) {
      const tab = model.tabs.get(id);
      const v = await formDialog(`Send “${m.name}” periodically`, [
        { name: "every", label: "Every (ms)", value: "1000" },
        { name: "times", label: "Times (empty: until stopped)", value: "", placeholder: "until stopped" },
      ], "Start", (v) => {
        if (!/^\d+$/.test(v.every.trim())) return "Every: a number of milliseconds";
        if (v.times.trim() && !/^\d+$/.test(v.times.trim())) return "Times: a number, or empty";
        return null;
      });
      if (!v) return;
      const everyMs = +v.every.trim();
      const times = v.times.trim() ? +v.times.trim() : null;
      tab.periodic ??= new Map();
      // A status can arrive before the start resolves: either one adds the entry.
      const entry = (run) => {
        if (!tab.periodic.has(run)) tab.periodic.set(run, { run, name: m.name, everyMs, times, sent: 0, running: true, error: null });
        return tab.periodic.get(run);
      };
      try {
        const run = await api.periodicStart(tab.id, m, everyMs, times, (s) => {
          Object.assign(entry(s.run), { sent: s.sent, running: s.running, error: s.error });
          drawPeriodic(tab);
        });
        entry(run);
        drawPeriodic(tab);
      } catch (e) {
        app.fail(e);
      }
    },
    stopPeriodic: (id, run) => api.periodicStop(run).catch(app.fail),
    dismissPeriodic(id, run) {
      const tab = model.tabs.get(id);
      tab.periodic?.delete(run);
      drawPeriodic(tab);
    },
  };
  return actions;
}
