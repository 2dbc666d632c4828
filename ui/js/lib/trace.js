// Debug-only timing of the UI's per-frame work. Off unless a harness (tests/perf/app.py)
// sets `window.__wsbenchTrace = []`; then each traced step pushes [name, start, ms, n].
// Costs one property read per call when off.

/** Start timing a step: returns the start time, or 0 when tracing is off. */
export const traceStart = () => (globalThis.__wsbenchTrace ? performance.now() : 0);

/** End a step started with `traceStart`; `n` is a count worth logging (rows refilled...). */
export function traceEnd(name, t0, n = 0) {
  const trace = globalThis.__wsbenchTrace;
  if (!trace || !t0) return;
  trace.push([name, t0, performance.now() - t0, n]);
  if (trace.length > 100000) trace.splice(0, 50000);
}
