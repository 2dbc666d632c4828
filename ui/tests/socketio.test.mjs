import test from "node:test";
import assert from "node:assert/strict";
import { decodedLine, draftFromBody, emitBody, isControl, parseArgs } from "../js/views/socketio.js";

test("arguments: a JSON array or one value per line", () => {
  assert.deepEqual(parseArgs('[1, "a"]').args, [1, "a"]);
  assert.deepEqual(parseArgs('{"a":1}\n\n"x"').args, [{ a: 1 }, "x"]);
  assert.deepEqual(parseArgs("").args, []);
  assert.match(parseArgs("1\nnope").problem, /line 2/);
});

test("emit bodies round-trip through saved messages", () => {
  const { body, problem } = emitBody({ event: " chat ", namespace: "", args: '{"msg":"hi"}', ack: true });
  assert.equal(problem, null);
  assert.deepEqual(JSON.parse(body), { type: "emit", namespace: "/", event: "chat", args: [{ msg: "hi" }], ack: true });
  assert.deepEqual(draftFromBody(body), { event: "chat", namespace: "/", args: '[{"msg":"hi"}]', ack: true });
  assert.match(emitBody({ event: "", args: "" }).problem, /event name/);
});

test("decoded lines for events, acks, control packets and errors", () => {
  assert.equal(decodedLine({ engine: "message", packet: "event", namespace: "/", event: "chat", args: [{ m: 1 }, 2] }), 'chat({"m":1}, 2)');
  assert.equal(decodedLine({ engine: "message", packet: "event", namespace: "/admin", event: "e", args: [], ackId: 3 }), "/admin e() #3");
  assert.equal(decodedLine({ engine: "message", packet: "ack", namespace: "/", ackId: 0, ackOf: "echo", args: ["a"], rttUs: 1500 }), 'ack #0 of echo ("a") · 1.5 ms');
  assert.equal(decodedLine({ engine: "ping" }), "engine.io ping");
  assert.equal(decodedLine({ engine: "pong", auto: true }), "engine.io pong (auto)");
  assert.match(decodedLine({ engine: "message", packet: "connectError", namespace: "/admin", error: "Not authorized" }), /⚠ \/admin connectError: Not authorized/);
  assert.equal(decodedLine(undefined), null);
  assert.ok(isControl({ engine: "ping" }));
  assert.ok(!isControl({ engine: "message", packet: "event", event: "chat" }));
});
