// Engine event batches arrive over the window's channel; they are applied inside
// requestAnimationFrame: many batches, one redraw.
import { applyBatches } from "./lib/batch.js";

/** @param {import("./app.js").App} app  @returns {(batch) => void} the channel's handler */
export function batchHandler(app) {
  let queued = [];
  let frameRequested = false;
  const draw = () => {
    frameRequested = false;
    const batches = queued;
    queued = [];
    const r = applyBatches(app.model, batches);
    const tab = app.active();
    if (tab && r.activeStates.length) app.views.connection.stateChanged(tab, r.activeStates.includes("open"));
    if (r.tabsChanged) app.drawTabs();
    if (tab) {
      if (r.resync) app.views.framelog.resync();
      app.views.framelog.onBatch(tab, r.activeFrames);
    }
    // The engine wrote an ended session to history: show it.
    if (r.historyWritten) app.refreshHistory();
  };
  return (batch) => {
    queued.push(batch);
    if (frameRequested) return;
    frameRequested = true;
    requestAnimationFrame(draw);
  };
}
