import test from "node:test";
import assert from "node:assert/strict";
import { PROXY_MODES, proxyFields, proxyFromForm } from "../js/actions/settings.js";
import { fileEmit } from "../js/views/socketio.js";

test("the proxy form gives the engine's setting or says what is missing", () => {
  assert.deepEqual(proxyFromForm({ mode: "system", url: "ignored" }), { setting: { mode: "system" }, problem: null });
  assert.deepEqual(proxyFromForm({ mode: "none" }).setting, { mode: "none" });
  assert.deepEqual(proxyFromForm({ mode: "url", url: " socks5h://p:1080 " }).setting, { mode: "url", url: "socks5h://p:1080" });
  assert.match(proxyFromForm({ mode: "url", url: "  " }).problem, /proxy's URL/);
  assert.deepEqual(PROXY_MODES.map(([m]) => m), ["system", "none", "url"]);
});

test("the proxy form shows the current setting and the environment's variable names", () => {
  const [mode, url] = proxyFields({ mode: "url", url: "http://p:3128" }, ["HTTPS_PROXY", "NO_PROXY"]);
  assert.equal(mode.value, "url");
  assert.equal(url.value, "http://p:3128");
  assert.match(mode.label, /HTTPS_PROXY, NO_PROXY/);
  assert.match(proxyFields(null, [])[0].label, /none set here/);
  assert.equal(proxyFields(null, [])[0].value, "system");
});

test("emit with file: the emit the file goes with, or why not", () => {
  assert.deepEqual(fileEmit({ event: " up ", namespace: "", args: '"caption"', ack: true }).sendAs,
    { type: "socketIo", namespace: "/", event: "up", args: ["caption"], ack: true });
  assert.match(fileEmit({ event: "", args: "" }).problem, /event name/);
  assert.match(fileEmit({ event: "x", args: "1\nnope" }).problem, /line 2/);
});
