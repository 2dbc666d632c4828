import test from "node:test";
import assert from "node:assert/strict";
import { formatBytes, formatDuration, previewLine, prettyJson, safeMultiline } from "../js/lib/format.js";
import { base64ToBytes, bytesToBase64, checkBase64, checkHex, hexDump } from "../js/lib/hex.js";
import { atBottom, MAX_SCROLL_PX, scrollScale, visibleRange } from "../js/lib/virtual.js";
import { applyBatch, newTab, PREVIEW_CACHE } from "../js/lib/batch.js";

test("formatBytes", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(64 * 1024 * 1024), "64 MiB");
  assert.equal(formatBytes(-1), "?");
});

test("formatDuration", () => {
  assert.equal(formatDuration(850), "850 µs");
  assert.equal(formatDuration(12_345), "12.3 ms");
  assert.equal(formatDuration(4_200_000), "4.20 s");
});

test("previewLine makes controls and bidi visible and cuts long lines", () => {
  assert.equal(previewLine("a\nb\tc"), "a⏎b⇥c");
  assert.equal(previewLine("evil\u202Etxt.exe"), "evil<U+202E>txt.exe");
  assert.equal(previewLine("\u0000\u200b"), "<U+0000><U+200B>");
  const long = previewLine("x".repeat(5_000_000), 200);
  assert.equal(long.length, 200);
  assert.ok(long.endsWith("…"));
  assert.equal(previewLine("<img src=x onerror=alert(1)>"), "<img src=x onerror=alert(1)>", "markup stays text");
});

test("safeMultiline keeps newlines, shows bidi", () => {
  assert.equal(safeMultiline("a\n\u2066b"), "a\n<U+2066>b");
});

test("prettyJson", () => {
  assert.equal(prettyJson('{"a":[1,2]}'), '{\n  "a": [\n    1,\n    2\n  ]\n}');
  assert.equal(prettyJson("{nope"), null);
});

test("base64 round trip and hex dump", () => {
  const bytes = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x41]);
  assert.equal(bytesToBase64(bytes), "3q2+70E=");
  assert.deepEqual(base64ToBytes("3q2+70E="), bytes);
  assert.equal(hexDump(bytes), "00000000  de ad be ef 41" + " ".repeat(33) + "  ....A");
  const big = new Uint8Array(40);
  assert.equal(hexDump(big, 16).split("\n").pop(), "… 24 more bytes");
});

test("checkHex mirrors the engine's parser", () => {
  assert.deepEqual(checkHex("de ad be ef"), { ok: true, bytes: 4 });
  assert.deepEqual(checkHex("0xde,0xad"), { ok: true, bytes: 2 });
  assert.deepEqual(checkHex("de:ad"), { ok: true, bytes: 2 });
  assert.equal(checkHex("de ag").error, "'g' at position 5 is not a hex digit");
  assert.match(checkHex("abc").error, /odd number of hex digits.*position 3/);
  assert.match(checkHex("a bc").error, /position 1/);
});

test("checkBase64", () => {
  assert.deepEqual(checkBase64("3q2+7w=="), { ok: true, bytes: 4 });
  assert.deepEqual(checkBase64("3q2-7w"), { ok: true, bytes: 4 });
  assert.equal(checkBase64("aGV$bG8=").error, "'$' at position 4 is not a base64 character");
  assert.match(checkBase64("aGVsb").error, /5 characters/);
});

test("visibleRange draws only the viewport plus overscan, whatever the count", () => {
  assert.deepEqual(visibleRange(0, 400, 20, 1_000_000, 10), { first: 0, last: 30 });
  assert.deepEqual(visibleRange(20_000, 400, 20, 1_000_000, 10), { first: 990, last: 1030 });
  assert.deepEqual(visibleRange(0, 400, 20, 5, 10), { first: 0, last: 5 });
  assert.deepEqual(visibleRange(0, 400, 20, 0), { first: 0, last: 0 });
  const r = visibleRange(20_000_000 - 700, 700, 20, 1_000_000, 10);
  assert.ok(r.last - r.first <= 56 && r.last === 1_000_000);
  assert.equal(atBottom(9600, 400, 10000, 20), true);
  assert.equal(atBottom(9000, 400, 10000, 20), false);
});

test("scrollScale keeps 2M rows reachable: the bottom of the scroll range shows the last rows", () => {
  assert.deepEqual(scrollScale(1000, 22, 400), { height: 22_000, ratio: 1 });
  assert.deepEqual(scrollScale(0, 22, 400), { height: 0, ratio: 1 });
  const { height, ratio } = scrollScale(2_000_000, 22, 400);
  assert.equal(height, MAX_SCROLL_PX);
  // Scrolled to the bottom: the list's offset is its last screenful, and the last row is drawn.
  const top = (height - 400) * ratio;
  assert.equal(Math.round(top), 2_000_000 * 22 - 400);
  assert.equal(visibleRange(top, 400, 22, 2_000_000, 8).last, 2_000_000);
  // The top still shows the first row.
  assert.equal(visibleRange(0 * ratio, 400, 22, 2_000_000, 8).first, 0);
});

test("applyBatch updates state, counters, unread and the preview cache", () => {
  const model = { tabs: new Map() };
  model.tabs.set(1, newTab({ id: 1, name: "a", config: {}, state: { type: "idle" }, stats: {} }));
  model.tabs.set(2, newTab({ id: 2, name: "b", config: {}, state: { type: "idle" }, stats: {} }));
  const previews = (from, n) => Array.from({ length: n }, (_, i) => ({ seq: from + i }));
  const r = applyBatch(
    model,
    {
      states: [{ session: 2, state: { type: "open", handshake: { status: 101 } } }],
      sessions: [
        { session: 1, stats: { firstSeq: 1, lastSeq: 3 }, newFrames: 3, previews: previews(1, 3) },
        { session: 2, stats: { firstSeq: 1, lastSeq: 7000 }, newFrames: 7000, previews: previews(1, 7000) },
      ],
      dropped: 0,
    },
    1,
  );
  assert.deepEqual([...r.changed].sort(), [1, 2]);
  assert.equal(r.resync, false);
  assert.equal(model.tabs.get(1).unread, 0, "the active tab has nothing unread");
  assert.equal(model.tabs.get(2).unread, 7000);
  assert.equal(model.tabs.get(2).handshake.status, 101);
  assert.equal(model.tabs.get(2).previews.size, PREVIEW_CACHE, "cache is bounded");
  assert.equal(applyBatch(model, { states: [], sessions: [], dropped: 5 }, 1).resync, true);
  // Evicted frames leave the cache.
  applyBatch(model, { sessions: [{ session: 1, stats: { firstSeq: 3, lastSeq: 3 }, newFrames: 0, previews: [] }] }, 1);
  assert.deepEqual([...model.tabs.get(1).previews.keys()], [3]);
});

import { groupHistory, hideCollapsed, moveItem } from "../js/lib/tree.js";

// The engine's flattened tree: a collection's contents follow it, one level deeper.
const items = [
  { kind: "collection", path: "chat", name: "chat", depth: 0 },
  { kind: "connection", id: "chat/echo.json", name: "Echo", collection: "chat", depth: 1 },
  { kind: "collection", path: "chat/rooms", name: "rooms", depth: 1 },
  { kind: "connection", id: "chat/rooms/lobby.json", name: "Lobby", collection: "chat/rooms", depth: 2 },
  { kind: "collection", path: "feeds", name: "feeds", depth: 0 },
  { kind: "connection", id: "feeds/btc.json", name: "BTC ticker", collection: "feeds", depth: 1 },
  { kind: "connection", id: "top.json", name: "Top level", collection: "", depth: 0 },
];

test("hideCollapsed hides what a collapsed collection holds", () => {
  const names = (list) => list.map((i) => i.name);
  assert.equal(hideCollapsed(items).length, items.length);
  assert.deepEqual(names(hideCollapsed(items, new Set(["chat"]))), ["chat", "feeds", "BTC ticker", "Top level"]);
  assert.deepEqual(names(hideCollapsed(items, new Set(["chat/rooms"]))), ["chat", "Echo", "rooms", "feeds", "BTC ticker", "Top level"]);
  assert.deepEqual(names(hideCollapsed(items, new Set(["chat", "chat/rooms", "feeds"]))), ["chat", "feeds", "Top level"]);
  // The engine's order is kept, wherever it puts top-level connections.
  const topFirst = [items[6], ...items.slice(0, 6)];
  assert.deepEqual(names(hideCollapsed(topFirst, new Set(["feeds"]))), ["Top level", "chat", "Echo", "rooms", "Lobby", "feeds"]);
});

test("groupHistory groups by name, then day, newest first", () => {
  const at = (y, m, d, hh) => new Date(y, m - 1, d, hh).getTime() * 1000;
  const g = groupHistory([
    { id: "1", name: "Echo", startedAtUs: at(2026, 11, 21, 9) },
    { id: "2", name: "Echo", startedAtUs: at(2026, 11, 22, 9) },
    { id: "3", name: "Echo", startedAtUs: at(2026, 11, 22, 11) },
    { id: "4", name: "BTC", startedAtUs: at(2026, 11, 22, 8) },
  ]);
  assert.deepEqual(g.map((x) => x.name), ["BTC", "Echo"]);
  assert.deepEqual(g[1].days.map((d) => d.day), ["2026-11-22", "2026-11-21"]);
  assert.deepEqual(g[1].days[0].entries.map((e) => e.id), ["3", "2"]);
  assert.equal(g[1].days[0].time(g[1].days[0].entries[0]), "11:00:00");
});

test("moveItem reorders and clamps at the ends", () => {
  assert.deepEqual(moveItem(["a", "b", "c"], 0, 1), ["b", "a", "c"]);
  assert.deepEqual(moveItem(["a", "b", "c"], 2, -1), ["a", "c", "b"]);
  assert.deepEqual(moveItem(["a", "b", "c"], 0, -1), ["a", "b", "c"]);
});
