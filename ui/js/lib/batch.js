// Applying engine event batches to the UI model. Pure (no DOM), unit-tested.
//
// model = { tabs: Map<id, tab>, active: id | null } with tab = { id, name, config, state,
//   stateSince, handshake, stats, previews: Map<seq, preview>, unread, resync, ... }.
// The engine's log is the truth: previews are only a cache of its tail.
//
// A batch is { states?: [{ session, state }], sessions?: [{ session, stats, newFrames,
//   previews }], dropped?: n, notices?: [{ type: "historyWritten", session, entry }] }.

// Previews of the newest frames, for the rows drawn when following the tail (the
// engine sends at most 100 per batch); any other row is fetched as a page.
export const PREVIEW_CACHE = 500;

/** The states in which a connection is (or is about to be) up: Disconnect applies. */
export function isLive(state) {
  return ["connecting", "open", "closing", "reconnecting"].includes(state?.type);
}

export function newTab(snapshot) {
  return {
    id: snapshot.id,
    name: snapshot.name,
    config: snapshot.config,
    state: snapshot.state,
    handshake: snapshot.handshake ?? null,
    // Socket.IO mode: the last Engine.IO open packet (sid, ping interval and timeout).
    engineOpen: snapshot.socketio ?? null,
    stats: snapshot.stats,
    previews: new Map(),
    unread: 0,
    resync: true,
  };
}

/**
 * Apply one batch. Returns { changed: Set<id>, resync: boolean } where resync means
 * notifications were dropped and every visible tab should re-read from the log.
 * A tab whose state changes gets `stateSince = now`.
 */
export function applyBatch(model, batch, activeId, now = Date.now()) {
  const changed = new Set();
  for (const { session, state } of batch.states ?? []) {
    const tab = model.tabs.get(session);
    if (!tab) continue;
    tab.state = state;
    tab.stateSince = now;
    if (state.type === "open") tab.handshake = state.handshake;
    changed.add(session);
  }
  for (const u of batch.sessions ?? []) {
    const tab = model.tabs.get(u.session);
    if (!tab) continue;
    tab.stats = u.stats;
    for (const p of u.previews) {
      tab.previews.set(p.seq, p);
      if (p.socketio?.open) tab.engineOpen = p.socketio.open;
    }
    // Keep only the newest previews, and none older than the log holds.
    if (tab.previews.size > PREVIEW_CACHE || (u.stats.firstSeq && tab.previews.size)) {
      const min = Math.max(u.stats.firstSeq, (u.stats.lastSeq ?? 0) - PREVIEW_CACHE + 1);
      for (const seq of tab.previews.keys()) {
        if (seq < min) tab.previews.delete(seq);
        else break;
      }
    }
    if (u.session !== activeId) tab.unread += u.newFrames;
    changed.add(u.session);
  }
  return { changed, resync: (batch.dropped ?? 0) > 0 };
}

/**
 * Apply the batches that arrived during one animation frame, and say what to redraw:
 * { tabsChanged, resync, activeFrames (new frames of the active tab),
 *   activeStates (state types the active tab went through, in order),
 *   historyWritten (the engine wrote a session to history) }.
 */
export function applyBatches(model, batches, now = Date.now()) {
  const out = { tabsChanged: false, resync: false, activeFrames: 0, activeStates: [], historyWritten: false };
  for (const b of batches) {
    const r = applyBatch(model, b, model.active, now);
    out.resync ||= r.resync;
    out.tabsChanged ||= (b.states ?? []).length > 0 || (b.sessions ?? []).some((u) => u.session !== model.active);
    for (const u of b.sessions ?? []) if (u.session === model.active) out.activeFrames += u.newFrames;
    for (const s of b.states ?? []) if (s.session === model.active) out.activeStates.push(s.state.type);
    out.historyWritten ||= (b.notices ?? []).some((n) => n.type === "historyWritten");
  }
  return out;
}
