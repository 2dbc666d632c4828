// Periodic sends running in the current tab: what, how often, how many sent, and Stop.
// Patched in place: a run's node (and its Stop button) stays the same node while the
// count ticks, so a click on Stop lands on the button it was aimed at.
import { h } from "../lib/dom.js";

export class PeriodicView {
  constructor(root, actions) {
    this.root = root;
    this.actions = actions;
  }

  render(tab) {
    this.tab = tab;
    const runs = [...(tab.periodic?.values() ?? [])];
    this.root.hidden = !runs.length;
    const old = new Map([...this.root.children].map((el) => [el.dataset.key, el]));
    const els = runs.map((r) => {
      // What the node shows apart from the count: a change rebuilds it.
      const key = JSON.stringify([tab.id, r.run, r.name, r.everyMs, r.times, r.running, r.error]);
      const el = old.get(key) ?? this.build(tab, r);
      el.dataset.key = key;
      const sent = el.querySelector(".periodic-sent");
      if (sent.textContent !== `${r.sent} sent`) sent.textContent = `${r.sent} sent`;
      return el;
    });
    const same = els.length === this.root.children.length && els.every((el, i) => this.root.children[i] === el);
    if (!same) this.root.replaceChildren(...els);
  }

  build(tab, r) {
    return h("div", { class: `periodic ${r.running ? "running" : "ended"}`, role: "status", "data-run": r.run },
      h("span", { class: r.running ? "spinner" : "icon" }, r.running ? "⟳" : "■"),
      h("span", {}, `${r.name}: every ${r.everyMs} ms${r.times ? `, ${r.times} times` : " until stopped"}`),
      h("span", { class: "muted periodic-sent" }, `${r.sent} sent`),
      r.error ? h("span", { class: "form-error" }, r.error) : null,
      r.running
        ? h("button", { class: "small danger", "aria-label": `Stop sending ${r.name}`, onclick: () => this.actions.stopPeriodic(tab.id, r.run) }, "Stop")
        : h("button", { class: "icon", "aria-label": `Dismiss ${r.name}`, onclick: () => this.actions.dismissPeriodic(tab.id, r.run) }, "×"));
  }
}
