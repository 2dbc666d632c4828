// Pure helpers for the sidebar: folding the collection tree and grouping history.
// Which connections match a filter is the engine's rule (`workspace_tree`), not ours.

/**
 * items: the engine's flattened tree [{ kind: "collection", path, name, depth } |
 * { kind: "connection", id, name, collection, depth }] in display order (a collection's
 * contents follow it, deeper). Drops what a collapsed collection holds.
 */
export function hideCollapsed(items, collapsed = new Set()) {
  const out = [];
  let hideBelow = null; // depth of the collapsed collection being skipped
  for (const it of items) {
    if (hideBelow !== null && it.depth > hideBelow) continue;
    hideBelow = it.kind === "collection" && collapsed.has(it.path) ? it.depth : null;
    out.push(it);
  }
  return out;
}

const pad = (n) => String(n).padStart(2, "0");

/** Local date "2026-11-22" and time "10:31:05" of a microsecond timestamp. */
export function localDay(us) {
  const d = new Date(us / 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function localTime(us) {
  const d = new Date(us / 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * History entries [{ id, name, startedAtUs, ... }] grouped by connection name (A-Z),
 * then by day (newest first), entries newest first.
 */
export function groupHistory(entries) {
  const byName = new Map();
  for (const e of entries) {
    if (!byName.has(e.name)) byName.set(e.name, new Map());
    const days = byName.get(e.name);
    const day = localDay(e.startedAtUs);
    if (!days.has(day)) days.set(day, []);
    days.get(day).push(e);
  }
  return [...byName.keys()].sort((a, b) => a.localeCompare(b)).map((name) => ({
    name,
    days: [...byName.get(name).entries()]
      .sort((a, b) => (a[0] < b[0] ? 1 : -1))
      .map(([day, list]) => ({ day, entries: list.sort((a, b) => b.startedAtUs - a.startedAtUs), time: (e) => localTime(e.startedAtUs) })),
  }));
}

/** A copy of `list` with item `i` moved by `delta` (clamped to the ends). */
export function moveItem(list, i, delta) {
  const j = Math.max(0, Math.min(list.length - 1, i + delta));
  const out = list.slice();
  const [it] = out.splice(i, 1);
  out.splice(j, 0, it);
  return out;
}
