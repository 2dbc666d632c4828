// The pure parts of the app's modules: batch application, the model, the shortcuts table.
import test from "node:test";
import assert from "node:assert/strict";
import { applyBatches, isLive } from "../js/lib/batch.js";
import {
  addTab, applyRunEvent, asSaved, collectionOf, collectionPaths, connectionsUnder, createModel, cycleTab, removeTab, savedMarks, tabsSavedAs,
} from "../js/state.js";
import { SHORTCUTS, shortcutFor } from "../js/shortcuts.js";

const snap = (id, state = { type: "idle" }) => ({ id, name: `t${id}`, config: { url: "" }, state, stats: {} });

function twoTabs() {
  const model = createModel();
  addTab(model, snap(1), {}, 0);
  addTab(model, snap(2), {}, 0);
  model.active = 1;
  return model;
}

test("applyBatches sums one frame's batches into what to redraw", () => {
  const model = twoTabs();
  const r = applyBatches(model, [
    { states: [{ session: 1, state: { type: "connecting", attempt: 1 } }] },
    { sessions: [{ session: 1, stats: { firstSeq: 1, lastSeq: 2 }, newFrames: 2, previews: [] }] },
    { states: [{ session: 1, state: { type: "open", handshake: { status: 101 } } }], sessions: [{ session: 2, stats: {}, newFrames: 4, previews: [] }] },
  ], 1234);
  assert.deepEqual(r, { tabsChanged: true, resync: false, activeFrames: 2, activeStates: ["connecting", "open"], historyWritten: false });
  assert.equal(model.tabs.get(1).state.type, "open");
  assert.equal(model.tabs.get(1).stateSince, 1234, "a state change restarts the state's clock");
  assert.equal(model.tabs.get(2).stateSince, 0, "a tab without a state change keeps it");
  assert.equal(model.tabs.get(2).unread, 4);
});

test("applyBatches: frames of the active tab alone redraw no tab bar; drops ask for a resync", () => {
  const model = twoTabs();
  const r = applyBatches(model, [{ sessions: [{ session: 1, stats: {}, newFrames: 3, previews: [] }], dropped: 2 }]);
  assert.equal(r.tabsChanged, false);
  assert.equal(r.resync, true);
  assert.equal(r.activeFrames, 3);
  assert.deepEqual(r.activeStates, []);
});

test("applyBatches: a historyWritten notice asks for the history list, nothing else does", () => {
  const model = twoTabs();
  const closed = { type: "closed", code: 1000, reason: "", clean: true, initiatedBy: "client" };
  assert.equal(applyBatches(model, [{ states: [{ session: 2, state: closed }], notices: [] }]).historyWritten, false,
    "a session ending is not a guess that history was written");
  assert.equal(applyBatches(model, [{}, { notices: [{ type: "historyWritten", session: 2, entry: "2026-01-01-x" }] }]).historyWritten, true);
});

test("isLive: the states in which Disconnect applies", () => {
  assert.deepEqual(["idle", "connecting", "open", "closing", "closed", "failed", "reconnecting"].filter((type) => isLive({ type })),
    ["connecting", "open", "closing", "reconnecting"]);
});

test("the model: adding, removing and cycling tabs", () => {
  const model = twoTabs();
  addTab(model, snap(3), { saved: { id: "chat/a.json", revision: "r1" }, dirty: true, messages: [{ name: "m" }] });
  assert.deepEqual(model.order, [1, 2, 3]);
  assert.equal(model.tabs.get(3).dirty, true);
  assert.equal(model.tabs.get(3).readOnly, false);
  assert.equal(addTab(model, { ...snap(4), readOnly: true }).readOnly, true, "a recording is read-only");
  model.active = 4;
  assert.equal(cycleTab(model), 1);
  assert.equal(cycleTab(model, true), 3);
  assert.equal(removeTab(model, 4), 3, "closing the active tab activates the last one");
  assert.equal(removeTab(model, 1), 3, "closing another tab keeps the active one");
  assert.deepEqual(model.order, [2, 3]);
  assert.equal(cycleTab(createModel()), null);
});

test("the model: saved links and the sidebar's marks", () => {
  const model = createModel();
  addTab(model, snap(1), { saved: { id: "a.json", revision: "r" } });
  addTab(model, snap(2), { saved: { id: "a.json", revision: "r" }, dirty: true });
  addTab(model, snap(3), { saved: { id: "b.json", revision: "r" } });
  addTab(model, snap(4));
  assert.deepEqual(tabsSavedAs(model, "a.json").map((t) => t.id), [1, 2]);
  const { open, dirty } = savedMarks(model);
  assert.deepEqual([...open], ["a.json", "b.json"]);
  assert.deepEqual([...dirty], ["a.json"]);
});

test("the workspace tree answers collection questions (no id parsing)", () => {
  const ws = { items: [
    { kind: "collection", path: "chat", name: "chat", depth: 0 },
    { kind: "collection", path: "chat/rooms", name: "rooms", depth: 1 },
    { kind: "connection", id: "chat/rooms/lobby.json", name: "Lobby", collection: "chat/rooms", depth: 2 },
    { kind: "connection", id: "chat/echo.json", name: "Echo", collection: "chat", depth: 1 },
    { kind: "collection", path: "feeds", name: "feeds", depth: 0 },
    { kind: "connection", id: "feeds/x.json", name: "X", collection: "feeds", depth: 1 },
    { kind: "connection", id: "top.json", name: "Top", collection: "", depth: 0 },
  ] };
  assert.deepEqual(collectionPaths(ws), ["", "chat", "chat/rooms", "feeds"]);
  assert.deepEqual(collectionPaths(null), [""]);
  assert.equal(collectionOf(ws, "chat/rooms/lobby.json"), "chat/rooms");
  assert.equal(collectionOf(ws, "top.json"), "");
  assert.equal(collectionOf(ws, "gone.json"), "");
  assert.deepEqual([...connectionsUnder(ws, "chat")].sort(), ["chat/echo.json", "chat/rooms/lobby.json"]);
  assert.deepEqual([...connectionsUnder(ws, "chat/rooms")], ["chat/rooms/lobby.json"]);
  assert.deepEqual([...connectionsUnder(ws, "nope")], []);
});

test("asSaved leaves the format version to the engine", () => {
  const tab = { name: "Echo", config: { url: "ws://x" }, messages: undefined };
  assert.deepEqual(asSaved(tab), { name: "Echo", config: { url: "ws://x" }, messages: [], scenario: null });
  assert.equal(asSaved(tab, "Other").name, "Other");
  assert.equal("version" in asSaved(tab), false);
});

test("asSaved carries the tab's scenario, so saving keeps it in the file", () => {
  const scenario = { steps: [{ type: "send", text: "hi" }] };
  const tab = addTab(createModel(), { id: 1, name: "S", config: {}, state: { type: "idle" }, stats: {} }, { scenario });
  assert.deepEqual(asSaved(tab).scenario, scenario);
});

test("shortcutFor: the table", () => {
  const key = (k, mods = {}) => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, ...mods });
  const ctrl = (k, more = {}) => key(k, { ctrlKey: true, ...more });
  assert.deepEqual(shortcutFor(ctrl("t")), { name: "newTab" });
  assert.deepEqual(shortcutFor(key("t", { metaKey: true })), { name: "newTab" }, "Cmd is Ctrl");
  assert.deepEqual(shortcutFor(ctrl("T", { shiftKey: true })), { name: "newTab" }, "Shift adds nothing where no Shift binding exists");
  assert.deepEqual(shortcutFor(ctrl("w")), { name: "closeTab" });
  assert.deepEqual(shortcutFor(ctrl("Tab")), { name: "nextTab" });
  assert.deepEqual(shortcutFor(ctrl("Tab", { shiftKey: true })), { name: "previousTab" });
  assert.deepEqual(shortcutFor(ctrl("3")), { name: "selectTab", index: 2 });
  assert.equal(shortcutFor(ctrl("0")), null);
  assert.deepEqual(shortcutFor(ctrl("s")), { name: "save" });
  assert.deepEqual(shortcutFor(ctrl("S", { shiftKey: true })), { name: "saveAs" });
  assert.deepEqual(shortcutFor(ctrl("F", { shiftKey: true })), { name: "focusFilter" });
  assert.equal(shortcutFor(ctrl("f")), null, "Ctrl+F alone is the page's");
  for (const [k, name] of [["e", "exportLog"], ["i", "importFile"], ["o", "openFolder"], ["d", "toggleConnect"], ["l", "clearLog"], ["p", "ping"], ["k", "focusSearch"]]) {
    assert.deepEqual(shortcutFor(ctrl(k)), { name }, k);
  }
  assert.equal(shortcutFor(key("t")), null, "no modifier, no shortcut");
  assert.equal(shortcutFor(ctrl("t"), true), null, "an open dialog keeps its keys");
  assert.deepEqual(shortcutFor(key("F5")), { name: "reload" });
  assert.deepEqual(shortcutFor(ctrl("r"), true), { name: "reload" }, "reload works over a dialog");
  assert.equal(Object.values(SHORTCUTS).length, new Set(Object.values(SHORTCUTS)).size, "one key per command");
});

import { checkMessage } from "../js/views/composer.js";

test("checkMessage: the composer's status line", () => {
  assert.deepEqual(checkMessage("text", "héllo"), { problem: null, size: 6 });
  assert.match(checkMessage("json", '{"a": }').problem, /^Not JSON/);
  assert.deepEqual(checkMessage("json", "  "), { problem: null, size: 2 }, "empty JSON is not an error yet");
  assert.deepEqual(checkMessage("json", '{"a": {{x}} }').problem, null, "{{variables}} are resolved when sending");
  assert.deepEqual(checkMessage("hex", "de ad be ef"), { problem: null, size: 4 });
  assert.match(checkMessage("hex", "zz").problem, /not a hex digit/);
  assert.deepEqual(checkMessage("base64", "3q2+7w=="), { problem: null, size: 4 });
});

test("a collection run's events add the tabs it opens and give each tab its own run", () => {
  const model = twoTabs();
  const saved = { id: "ci/bad.json", revision: "r1" };
  const opened = applyRunEvent(model, { type: "tab", source: "ci/bad.json", tab: snap(7), meta: { saved, messages: [], scenario: { steps: [] } } }, 5);
  assert.equal(opened.added, true);
  assert.deepEqual(model.order, [1, 2, 7], "the new tab goes to the end of the tab bar");
  assert.equal(model.active, 1, "the run does not take the user away from the tab they are on");
  assert.deepEqual(model.tabs.get(7).saved, saved);
  assert.equal(model.tabs.get(7).run.running, true);
  // A tab the window already has (reused by the run) is not added again.
  assert.equal(applyRunEvent(model, { type: "tab", tab: snap(2), meta: {} }).added, false);
  assert.equal(model.order.length, 3);
  const step = { step: 1, status: "passed", title: "send", frameSeq: 1 };
  applyRunEvent(model, { type: "step", tab: 7, step });
  assert.deepEqual(model.tabs.get(7).run.steps, [step]);
  const closed = { type: "closed", code: 1000, reason: "", clean: true };
  const failed = { step: 2, status: "failed", arrived: "token=abc123", frameSeq: 2 };
  applyRunEvent(model, { type: "step", tab: 7, step: failed });
  const report = { name: "Bad", passed: false, steps: [step, { ...failed, arrived: "token=[redacted]" }] };
  applyRunEvent(model, { type: "report", tab: { ...snap(7, closed), stats: { lastSeq: 3 } }, report }, 9);
  const t = model.tabs.get(7);
  assert.deepEqual([t.state.type, t.stats.lastSeq, t.stateSince], ["closed", 3, 9]);
  assert.deepEqual(t.run, { running: false, steps: [step, failed], report }, "the panel keeps the live steps, the export the report");
  // A run that never got to its steps (could not connect) shows the report's.
  applyRunEvent(model, { type: "tab", tab: snap(7), meta: {} });
  const none = { name: "Bad", passed: false, steps: [], error: "could not connect" };
  applyRunEvent(model, { type: "report", tab: snap(7, closed), report: none });
  assert.deepEqual(t.run.steps, []);
  assert.deepEqual(applyRunEvent(model, { type: "step", tab: 99, step }), { tab: null, added: false }, "a closed tab is ignored");
});
