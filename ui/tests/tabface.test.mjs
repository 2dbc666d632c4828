// The tab bar's face of a tab: what the user sees, as data the bar patches in place.
import test from "node:test";
import assert from "node:assert/strict";
import { tabFace } from "../js/lib/tabface.js";

const tab = (extra = {}) => ({ name: "Echo", config: { url: "ws://x/" }, state: { type: "open" }, unread: 0, ...extra });

test("tabFace: state dot, name, marks and the unread count as shown", () => {
  const f = tabFace(tab(), true);
  assert.deepEqual(f, {
    active: true, title: "ws://x/\nDouble-click to rename", state: "open", dot: "open", name: "Echo",
    dirty: false, readOnly: false, unread: null, unreadLabel: null,
  });
  assert.equal(tabFace(tab({ state: { type: "reconnecting" } }), false).dot, "busy");
  assert.equal(tabFace(tab({ state: { type: "weird" } }), false).dot, "idle");
  const busy = tabFace(tab({ unread: 1500, dirty: true, readOnly: true }), false);
  assert.equal(busy.unread, "999+");
  assert.equal(busy.unreadLabel, "999+ unread");
  assert.equal(busy.dirty && busy.readOnly, true);
});

test("tabFace: a flood past 999 unread leaves the face unchanged (nothing to patch)", () => {
  assert.deepEqual(tabFace(tab({ unread: 5000 }), false), tabFace(tab({ unread: 90000 }), false));
});
