// A tiny element builder. Text always goes in as textContent: nothing here parses HTML.
import { shortcutText } from "./keys.js";

/**
 * h("button", { class: "x", "aria-label": "Send", onclick: fn }, "Send", child, ...)
 * Attributes starting with "on" become listeners; `false`/`null` attributes are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    // Tooltips and placeholders name shortcuts as Ctrl+X; macOS reads them as ⌘X.
    else if (k === "title" || k === "placeholder") el.setAttribute(k, shortcutText(String(v)));
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}
