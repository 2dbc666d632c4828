// The boot path: index.html preloads exactly the modules main.js imports, statically.
// A module missing from the list still loads, one import level later (slower start);
// one listed but no longer imported is fetched for nothing.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ui = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Static imports only (`import ... from "./x.js"`, `export ... from`), not `import()`. */
function staticImports(file) {
  const src = readFileSync(file, "utf8");
  const re = /^\s*(?:import|export)\s+(?:[^"'();]*?\sfrom\s+)?["'](\.{1,2}\/[^"']+)["']/gm;
  return [...src.matchAll(re)].map((m) => normalize(join(dirname(file), m[1])));
}

function graph(entry) {
  const seen = new Set();
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop();
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...staticImports(f));
  }
  return seen;
}

test("index.html preloads every module of the first screen, and only those", () => {
  const entry = join(ui, "js", "main.js");
  const needed = [...graph(entry)].filter((f) => f !== entry).map((f) => relative(ui, f)).sort();
  const html = readFileSync(join(ui, "index.html"), "utf8");
  const preloaded = [...html.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]).sort();
  assert.ok(needed.length > 10, `found only ${needed.length} modules: the import scan is broken`);
  assert.deepEqual(preloaded, needed);
});

test("dialogs the first screen does not show are not in its import graph", () => {
  const needed = [...graph(join(ui, "js", "main.js"))].map((f) => relative(ui, f));
  for (const lazy of ["js/views/transfer.js", "js/views/environments.js"]) assert.ok(!needed.includes(lazy), lazy);
});
