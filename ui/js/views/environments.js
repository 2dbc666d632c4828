// The environments editor: named sets of {{variables}}; secret values are stored
// only in the workspace's git-ignored secrets file.
import { h, clear } from "../lib/dom.js";

export function openEnvironments(envs, actions, selectName = null) {
  const list = envs.map((e) => structuredClone(e));
  let current = list.find((e) => e.name === selectName) ?? list[0] ?? null;
  const side = h("div", { class: "env-list", role: "listbox", "aria-label": "Environments" });
  const main = h("div", { class: "env-main" });
  const error = h("div", { class: "form-error", role: "alert" });
  const dlg = h("dialog", { class: "confirm environments", "aria-label": "Environments" },
    h("h2", {}, "Environments"),
    h("div", { class: "env-body" }, side, main),
    error,
    h("div", { class: "buttons" },
      h("span", { class: "muted hint" }, "Use {{name}} in the URL, params, headers, auth and messages. Built-ins: {{$timestamp}} {{$isoTimestamp}} {{$uuid}} {{$randomInt}}"),
      h("button", { "aria-label": "Close environments", onclick: () => dlg.close() }, "Close")));

  const drawSide = () => {
    clear(side);
    for (const e of list) {
      side.append(h("button", { class: `env-item${e === current ? " active" : ""}`, role: "option", "aria-selected": e === current ? "true" : "false",
        onclick: () => { current = e; draw(); } }, e.name));
    }
    side.append(h("button", { id: "new-environment", class: "small", "aria-label": "New environment", onclick: () => {
      let n = 1;
      while (list.some((e) => e.name === `env-${n}`)) n++;
      const e = { name: list.length ? `env-${n}` : "local", variables: [], isNew: true };
      list.push(e);
      current = e;
      draw();
      main.querySelector("input[name=env-name]")?.focus();
    } }, "+ Environment"));
  };

  const drawMain = () => {
    clear(main);
    if (!current) {
      main.append(h("p", { class: "muted" }, "No environments yet."));
      return;
    }
    const env = current;
    const original = env.isNew ? null : env.name;
    const name = h("input", { name: "env-name", "aria-label": "Environment name", value: env.name, spellcheck: "false" });
    const rows = h("div", { class: "var-rows" });
    const drawRows = () => {
      clear(rows);
      rows.append(h("div", { class: "var-row head muted" }, h("span", {}, "On"), h("span", {}, "Name"), h("span", {}, "Value"), h("span", {}, "Secret"), h("span", {})));
      env.variables.forEach((v, i) => {
        const value = h("input", { "aria-label": `Value of ${v.name || "new variable"}`, value: v.value, type: v.secret ? "password" : "text", spellcheck: "false",
          oninput: (e) => (v.value = e.target.value) });
        rows.append(h("div", { class: "var-row" },
          h("input", { type: "checkbox", "aria-label": `Use ${v.name}`, checked: v.enabled, onchange: (e) => (v.enabled = e.target.checked) }),
          h("input", { "aria-label": "Variable name", value: v.name, spellcheck: "false", placeholder: "name", oninput: (e) => (v.name = e.target.value.trim()) }),
          value,
          h("input", { type: "checkbox", "aria-label": `${v.name} is secret`, title: "Secret: kept only in the git-ignored secrets file, redacted in exports", checked: v.secret,
            onchange: (e) => { v.secret = e.target.checked; value.type = v.secret ? "password" : "text"; } }),
          h("button", { class: "icon", "aria-label": `Remove ${v.name}`, onclick: () => { env.variables.splice(i, 1); drawRows(); } }, "×")));
      });
    };
    drawRows();
    main.append(
      h("label", { class: "field" }, h("span", {}, "Name"), name),
      rows,
      h("div", { class: "buttons left" },
        h("button", { id: "add-variable", class: "small", "aria-label": "Add variable", onclick: () => {
          env.variables.push({ name: "", value: "", secret: false, enabled: true });
          drawRows();
          rows.querySelector(".var-row:last-child input[aria-label='Variable name']")?.focus();
        } }, "+ Variable"),
        h("span", { class: "spacer" }),
        original ? h("button", { class: "danger small", "aria-label": "Delete environment", onclick: async () => {
          if (await actions.deleteEnvironment(original)) {
            list.splice(list.indexOf(env), 1);
            current = list[0] ?? null;
            draw();
          }
        } }, "Delete") : null,
        h("button", { id: "save-environment", class: "primary small", "aria-label": "Save environment", onclick: async () => {
          error.textContent = "";
          // The engine checks the environment's and the variables' names; its words are shown.
          const newName = name.value.trim();
          // The engine writes its own format version.
          const saved = { name: newName, variables: env.variables.map(({ name, value, secret, enabled }) => ({ name, value, secret, enabled })) };
          const r = await actions.saveEnvironment(saved, original, env.revision ?? null);
          if (r.error) { error.textContent = r.error; return; }
          env.name = newName;
          env.revision = r.revision;
          delete env.isNew;
          draw();
          error.textContent = "";
        } }, "Save")));
  };

  const draw = () => {
    drawSide();
    drawMain();
  };
  draw();
  dlg.addEventListener("close", () => { dlg.remove(); actions.environmentsClosed(); });
  document.body.append(dlg);
  dlg.showModal();
}
