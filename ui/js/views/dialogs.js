// Small modal dialogs and the toast. Every text goes in through textContent (h()).
import { h } from "../lib/dom.js";

/** Ask yes/no. Resolves true only when the user confirms. */
export function confirmDialog(text, okLabel = "OK", { danger = true } = {}) {
  return new Promise((resolve) => {
    const dlg = h("dialog", { class: "confirm", "aria-label": "Confirm" },
      h("p", {}, text),
      h("div", { class: "buttons" },
        h("button", { "aria-label": "Cancel", onclick: () => { dlg.close(); resolve(false); } }, "Cancel"),
        h("button", { class: danger ? "danger" : "primary", "aria-label": okLabel, onclick: () => { dlg.close(); resolve(true); } }, okLabel)));
    dlg.addEventListener("close", () => { dlg.remove(); resolve(false); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

/** Show `dlg` modally; `finish(v)` closes it once and resolves with `v`. */
function modal(resolve) {
  let done = false;
  let dlg = null;
  const finish = (v) => {
    if (done) return;
    done = true;
    dlg.close();
    dlg.remove();
    resolve(v);
  };
  const show = (d) => {
    dlg = d;
    dlg.addEventListener("close", () => finish(null));
    document.body.append(dlg);
    dlg.showModal();
  };
  return { finish, show };
}

/**
 * A form in a dialog. fields: [{ name, label, value, type: "text" | "select" | "checkbox",
 * options: [[value, label]] }]. Resolves with { name: value } or null when cancelled.
 * `submit(values)` runs on OK and may be async (e.g. the engine call itself): an error
 * text it returns is shown in the form, which stays open.
 */
export function formDialog(title, fields, okLabel = "OK", submit = () => null) {
  return new Promise((resolve) => {
    const inputs = {};
    const error = h("div", { class: "form-error", role: "alert" });
    const rows = fields.map((f) => {
      let input;
      if (f.type === "select") {
        input = h("select", { "aria-label": f.label, name: f.name },
          f.options.map(([v, t]) => h("option", { value: v, selected: v === f.value }, t)));
      } else if (f.type === "checkbox") {
        input = h("input", { type: "checkbox", "aria-label": f.label, name: f.name, checked: !!f.value });
        inputs[f.name] = input;
        return h("label", { class: "check" }, input, f.label);
      } else {
        input = h("input", { "aria-label": f.label, name: f.name, value: f.value ?? "", spellcheck: "false", placeholder: f.placeholder ?? "" });
      }
      inputs[f.name] = input;
      if (f.browse) {
        // A native picker next to the field; the path can also be typed.
        const browse = h("button", { "aria-label": `Choose ${f.label}`, onclick: async (e) => {
          e.preventDefault();
          const p = await f.browse().catch(() => null);
          if (p) input.value = p;
        } }, "Browse…");
        return h("label", { class: "field" }, h("span", {}, f.label), h("div", { class: "row" }, input, browse));
      }
      return h("label", { class: "field" }, h("span", {}, f.label), input);
    });
    const values = () => Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.type === "checkbox" ? el.checked : el.value]));
    const { finish, show } = modal(resolve);
    let busy = false;
    const ok = async () => {
      if (busy) return;
      busy = true;
      const v = values();
      const problem = await submit(v);
      busy = false;
      if (problem) { error.textContent = problem; return; }
      finish(v);
    };
    const dlg = h("dialog", { class: "confirm form", "aria-label": title },
      h("h2", {}, title), ...rows, error,
      h("div", { class: "buttons" },
        h("button", { "aria-label": "Cancel", onclick: () => finish(null) }, "Cancel"),
        h("button", { class: "primary", "aria-label": okLabel, onclick: ok }, okLabel)));
    dlg.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && e.target.tagName === "INPUT") { e.preventDefault(); ok(); }
    });
    show(dlg);
    const first = Object.values(inputs)[0];
    first?.focus();
    first?.select?.();
  });
}

/** One question with a few answers: resolves with the chosen key or null. */
export function choiceDialog(title, text, choices) {
  return new Promise((resolve) => {
    const { finish, show } = modal(resolve);
    const dlg = h("dialog", { class: "confirm", "aria-label": title },
      h("h2", {}, title), h("p", {}, text),
      h("div", { class: "buttons" },
        h("button", { "aria-label": "Cancel", onclick: () => finish(null) }, "Cancel"),
        choices.map(([key, label, cls]) => h("button", { class: cls ?? "", "aria-label": label, onclick: () => finish(key) }, label))));
    show(dlg);
  });
}

/** A short message at the bottom; `action` adds a button (e.g. Undo). */
export const toast = (() => {
  let el = null;
  let t = null;
  return (msg, { action = null, kind = "error", ms = 6000 } = {}) => {
    if (!el) {
      el = h("div", { id: "toast", role: "alert", hidden: true });
      document.body.append(el);
    }
    el.className = kind;
    el.replaceChildren(h("span", {}, msg));
    if (action) {
      el.append(h("button", { class: "toast-action", "aria-label": action.label, onclick: () => { el.hidden = true; action.run(); } }, action.label));
    }
    el.hidden = false;
    clearTimeout(t);
    t = setTimeout(() => (el.hidden = true), action ? Math.max(ms, 10000) : ms);
  };
})();
