// Pure helpers for the sidebar: filtering the collection tree and grouping history.

/**
 * items: the flattened tree [{ kind: "collection", path, name, depth } |
 * { kind: "connection", id, name, collection, depth }] in display order.
 * With a filter, keep matching connections (case-insensitive substring of the name)
 * and the collections on their path; collapsed collections hide their contents
 * unless a filter is active.
 */
export function filterTree(items, filter, collapsed = new Set()) {
  const q = (filter ?? "").trim().toLowerCase();
  if (!q) {
    const out = [];
    for (const it of items) {
      const parent = it.kind === "collection" ? parentOf(it.path) : it.collection;
      if (hiddenBy(parent, collapsed)) continue;
      out.push(it);
    }
    return out;
  }
  const keepCollections = new Set();
  const matches = items.filter((it) => {
    if (it.kind !== "connection" || !it.name.toLowerCase().includes(q)) return false;
    for (let p = it.collection; p; p = parentOf(p)) keepCollections.add(p);
    return true;
  });
  const matched = new Set(matches);
  return items.filter((it) => (it.kind === "collection" ? keepCollections.has(it.path) : matched.has(it)));
}

function parentOf(path) {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

function hiddenBy(path, collapsed) {
  for (let p = path; p; p = parentOf(p)) if (collapsed.has(p)) return true;
  return false;
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
