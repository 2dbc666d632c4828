// Periodic sends running in the current tab: what, how often, how many sent, and Stop.
import { h, clear } from "../lib/dom.js";

export class PeriodicView {
  constructor(root, actions) {
    this.root = root;
    this.actions = actions;
  }

  render(tab) {
    this.tab = tab;
    const root = clear(this.root);
    const runs = [...(tab.periodic?.values() ?? [])];
    root.hidden = !runs.length;
    for (const r of runs) {
      root.append(h("div", { class: `periodic ${r.running ? "running" : "ended"}`, role: "status", "data-run": r.run },
        h("span", { class: r.running ? "spinner" : "icon" }, r.running ? "⟳" : "■"),
        h("span", {}, `${r.name}: every ${r.everyMs} ms${r.times ? `, ${r.times} times` : " until stopped"}`),
        h("span", { class: "muted periodic-sent" }, `${r.sent} sent`),
        r.error ? h("span", { class: "form-error" }, r.error) : null,
        r.running
          ? h("button", { class: "small danger", "aria-label": `Stop sending ${r.name}`, onclick: () => this.actions.stopPeriodic(tab.id, r.run) }, "Stop")
          : h("button", { class: "icon", "aria-label": `Dismiss ${r.name}`, onclick: () => this.actions.dismissPeriodic(tab.id, r.run) }, "×")));
    }
  }
}
