// Engine event batches arrive over the window's channel; they are applied inside
// requestAnimationFrame: many batches, one redraw, in the frame they were applied in
// (not one frame to apply them and the next to draw the log).
import { applyBatches } from "./lib/batch.js";
import { traceEnd, traceStart } from "./lib/trace.js";

/** @param {import("./app.js").App} app  @returns {(batch) => void} the channel's handler */
export function batchHandler(app) {
  let queued = [];
  let frameRequested = false;
  const draw = () => {
    frameRequested = false;
    const t0 = traceStart();
    const batches = queued;
    queued = [];
    const r = applyBatches(app.model, batches);
    const tab = app.active();
    if (tab && r.activeStates.length) app.views.connection.stateChanged(tab, r.activeStates.includes("open"));
    if (r.tabsChanged) app.drawTabs();
    if (tab) {
      if (r.resync) app.views.framelog.resync();
      app.views.framelog.onBatch(tab, r.activeFrames);
      app.views.framelog.flush();
    }
    // The engine wrote an ended session to history: show it.
    if (r.historyWritten) app.refreshHistory();
    traceEnd("batches", t0, batches.length);
  };
  return (batch) => {
    queued.push(batch);
    if (frameRequested) return;
    frameRequested = true;
    requestAnimationFrame(draw);
  };
}
