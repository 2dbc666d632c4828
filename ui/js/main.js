// wsbench front end, boot: draws what the engine reports, asks it for pages on demand.
//
// The map: api.js is the only door to the shell; state.js holds the model; app.js the
// steps every action shares; actions/*.js what the views can ask for; batches.js applies
// the engine's event batches; shortcuts.js the keyboard; views/*.js draw; lib/*.js are
// pure helpers.
import { api, errorText } from "./api.js";
import { App } from "./app.js";
import { createModel } from "./state.js";
import { batchHandler } from "./batches.js";
import { installShortcuts } from "./shortcuts.js";
import { tabActions } from "./actions/tabs.js";
import { connectionActions } from "./actions/connection.js";
import { messageActions } from "./actions/messages.js";
import { savedActions, savedFileActions } from "./actions/saved.js";
import { workspaceActions, watchWorkspace } from "./actions/workspace.js";
import { environmentActions } from "./actions/environments.js";
import { transferActions } from "./actions/transfer.js";
import { historyActions } from "./actions/history.js";
import { settingsActions } from "./actions/settings.js";
import { scenarioActions } from "./actions/scenario.js";
import { ConnectionView } from "./views/connection.js";
import { Composer } from "./views/composer.js";
import { FrameLog } from "./views/framelog.js";
import { Detail } from "./views/detail.js";
import { Sidebar } from "./views/sidebar.js";
import { SavedMessages } from "./views/messages.js";
import { ScenarioPanel } from "./views/scenario.js";
import { PeriodicView } from "./views/periodic.js";
import { toast } from "./views/dialogs.js";

// Start-up phases, ms since the page's time origin (sent with the trace's "ui-ready").
const boot = { origin: performance.timeOrigin, script: performance.now() };
const actions = {};
const app = new App(createModel(), actions);
Object.assign(actions,
  tabActions(app), connectionActions(app), messageActions(app), savedActions(app), savedFileActions(app), workspaceActions(app),
  environmentActions(app), transferActions(app), historyActions(app), settingsActions(app), scenarioActions(app));

const $ = (id) => document.getElementById(id);
app.views = {
  connection: new ConnectionView($("connection"), actions),
  composer: new Composer($("composer"), actions),
  framelog: new FrameLog($("log"), actions),
  detail: new Detail($("detail")),
  sidebar: new Sidebar($("sidebar"), actions),
  messages: new SavedMessages($("messages"), actions),
  scenario: new ScenarioPanel($("scenario"), actions),
  periodic: new PeriodicView($("periodic"), actions),
};

watchWorkspace(app);
installShortcuts(app);

// For tests and the curious: how many log rows are in the DOM right now.
window.wsbench = { domRowCount: () => app.views.framelog.domRowCount(), model: app.model };

async function start() {
  const { model } = app;
  try {
    // Subscribing returns a full snapshot: after a reload (F5) every tab and its
    // log are still in the engine. The shell also restored last run's tabs.
    const [tabs, ui, ws] = await Promise.all([api.subscribe(batchHandler(app)), api.uiState(), api.workspace()]);
    boot.data = performance.now();
    for (const snap of tabs) {
      const meta = ui.tabs[snap.id] ?? {};
      const tab = app.addTab(snap, meta);
      if (meta.draft) app.views.composer.setDraft(tab.id, meta.draft);
    }
    app.setWorkspace(ws);
    model.active = model.tabs.has(ui.active) ? ui.active : (model.order[0] ?? null);
    // The shell sends row previews for the tab on screen only: tell it which one.
    if (model.active !== null && model.active !== ui.active) api.setActiveTab(model.active).catch(() => {});
    if (!model.order.length) await actions.create();
    else app.drawAll();
    // When the first tab is drawn (tests/perf/app.py reads it).
    window.wsbench.readyAt = boot.drawn = performance.now();
    // After the frame that shows it is painted: the start-up trace's "ui-ready".
    requestAnimationFrame(() => {
      boot.frame = performance.now();
      setTimeout(() => api.startupMark("ui-ready", { ...boot, painted: performance.now() }).catch(() => {}));
    });
    if (ui.problem) app.fail(ui.problem);
    if (ws.problems.length) toast(`${ws.problems.length} file(s) in the workspace could not be read; see the sidebar`);
    app.refreshHistory();
  } catch (e) {
    document.body.textContent = `wsbench could not start: ${errorText(e)}`;
  }
}

start();
