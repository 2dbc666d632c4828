import test from "node:test";
import assert from "node:assert/strict";
import { shortcutText } from "../js/lib/keys.js";

test("tooltips say Cmd on macOS and Ctrl elsewhere", () => {
  assert.equal(shortcutText("Save as (Ctrl+Shift+S)", true), "Save as (⌘⇧S)");
  assert.equal(shortcutText("New tab (Ctrl+T)", true), "New tab (⌘T)");
  assert.equal(shortcutText("Message (Ctrl+Enter sends)", true), "Message (⌘Enter sends)");
  assert.equal(shortcutText("Ctrl-click to select", true), "⌘-click to select");
  assert.equal(shortcutText("New tab (Ctrl+T)", false), "New tab (Ctrl+T)");
  assert.equal(shortcutText("No shortcut here", true), "No shortcut here");
  assert.equal(shortcutText(undefined, true), undefined);
});

test("a command arriving by key and by menu together runs once", async () => {
  const { onceGuard } = await import("../js/shortcuts.js");
  let t = 1000;
  const fresh = onceGuard(() => t, 250);
  assert.equal(fresh("newTab", "key"), true);
  t += 10;
  assert.equal(fresh("newTab", "menu"), false, "the menu's copy of the same key press");
  assert.equal(fresh("save", "menu"), true, "another command is not held back");
  t += 300;
  assert.equal(fresh("newTab", "menu"), true, "a menu click later runs again");
  // Quick presses of one key all run: Ctrl+Tab tapped three times moves three tabs.
  t += 300;
  assert.equal(fresh("nextTab", "key"), true);
  t += 20;
  assert.equal(fresh("nextTab", "key"), true, "a second quick press is not lost");
  t += 20;
  assert.equal(fresh("nextTab", "key"), true, "nor a third");
});
