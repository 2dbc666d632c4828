// What a tab in the tab bar shows, as plain data (pure, unit-tested): the tab bar
// compares two faces and touches only the parts of the node that differ.

const STATE_CLASS = {
  idle: "idle", connecting: "busy", reconnecting: "busy", closing: "busy",
  open: "open", closed: "idle", failed: "failed",
};

export function tabFace(tab, active) {
  const n = tab.unread ?? 0;
  return {
    active,
    title: `${tab.config.url}\nDouble-click to rename`,
    state: tab.state.type,
    dot: STATE_CLASS[tab.state.type] ?? "idle",
    name: tab.name,
    dirty: !!tab.dirty,
    readOnly: !!tab.readOnly,
    unread: n > 0 ? (n > 999 ? "999+" : String(n)) : null,
    unreadLabel: n > 0 ? `${n > 999 ? "999+" : n} unread` : null,
  };
}
