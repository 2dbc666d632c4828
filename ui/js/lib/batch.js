// Applying an engine batch to the UI model. Pure, unit-tested.
//
// model = { tabs: Map<id, tab> } with tab = { id, state, stats, previews: Map<seq, preview>,
//   unread, newSinceScroll }; the log is the truth, so previews are only a cache of the tail.

export const PREVIEW_CACHE = 5000;

export function newTab(snapshot) {
  return {
    id: snapshot.id,
    name: snapshot.name,
    config: snapshot.config,
    state: snapshot.state,
    handshake: snapshot.handshake ?? null,
    stats: snapshot.stats,
    previews: new Map(),
    unread: 0,
    resync: true,
  };
}

/**
 * Apply one batch. Returns { changed: Set<id>, resync: boolean } where resync means
 * notifications were dropped and every visible tab should re-read from the log.
 */
export function applyBatch(model, batch, activeId) {
  const changed = new Set();
  for (const { session, state } of batch.states ?? []) {
    const tab = model.tabs.get(session);
    if (!tab) continue;
    tab.state = state;
    if (state.type === "open") tab.handshake = state.handshake;
    changed.add(session);
  }
  for (const u of batch.sessions ?? []) {
    const tab = model.tabs.get(u.session);
    if (!tab) continue;
    tab.stats = u.stats;
    for (const p of u.previews) tab.previews.set(p.seq, p);
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
