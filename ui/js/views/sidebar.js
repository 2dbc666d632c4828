// The sidebar: the workspace's collections and saved connections (filterable tree),
// the environment picker, file problems, and the session history.
import { h, clear } from "../lib/dom.js";
import { formatBytes } from "../lib/format.js";
import { groupHistory, hideCollapsed } from "../lib/tree.js";

// The engine filters the tree; typing waits this long before asking it.
const FILTER_DEBOUNCE_MS = 100;

export class Sidebar {
  constructor(root, actions) {
    this.root = root;
    this.actions = actions;
    this.collapsed = new Set();
    this.filter = "";
    // The engine's answer for `this.filter` (null: not asked yet), and the newest question.
    this.filtered = null;
    this.filterTimer = null;
    this.filterAsk = 0;
    this.ws = null;
    this.history = [];
    this.historyOpen = false;
    this.dirtyIds = new Set();
    this.openIds = new Set();
    this.rows = new Map(); // saved connection id -> its drawn row
    this.menu = null;
    document.addEventListener("click", (e) => {
      if (this.menu && !this.menu.contains(e.target)) this.closeMenu();
    });
  }

  /**
   * Draw the workspace. The header (name, environment picker, filter, buttons) is
   * built once and updated in place, so a refresh (a rescan, a history notice) never
   * replaces a control under the user's pointer; the tree, problems and history are
   * redrawn in their own boxes.
   */
  render(ws = this.ws, history = this.history) {
    this.ws = ws;
    this.history = history;
    if (!ws) {
      clear(this.root);
      this.parts = null;
      return;
    }
    if (!this.parts) this.parts = this.skeleton();
    const { name, envSelect, problems, historyBox } = this.parts;
    name.textContent = ws.name;
    name.title = ws.root;
    clear(envSelect).append(
      h("option", { value: "" }, "No environment"),
      ...ws.environments.map((n) => h("option", { value: n, selected: n === ws.activeEnvironment }, n)));
    envSelect.value = ws.activeEnvironment ?? "";
    clear(problems).append(...[this.problemsEl(ws.problems)].filter(Boolean));
    clear(historyBox).append(this.historyEl(history));
    this.drawTree();
    // The tree changed: the engine is asked again what matches the filter.
    if (this.filter.trim()) this.setFilter(this.filter, 0);
  }

  /** The parts of the sidebar that stay: built on the first render. */
  skeleton() {
    const root = clear(this.root);
    const name = h("span", { class: "ws-name" });
    const envSelect = h("select", { id: "env-select", "aria-label": "Environment", title: "Active environment: {{variables}} come from here",
      onchange: (e) => this.actions.selectEnvironment(e.target.value || null) });
    const filter = h("input", { id: "tree-filter", type: "search", placeholder: "Filter by name (Ctrl+Shift+F)", "aria-label": "Filter connections", value: this.filter, spellcheck: "false" });
    filter.addEventListener("input", () => this.setFilter(filter.value));
    this.treeEl = h("div", { id: "tree", class: "tree", role: "tree", "aria-label": "Collections" });
    const problems = h("div", { class: "problems-box" });
    const historyBox = h("div", { class: "history-holder" });
    root.append(
      h("div", { class: "ws-head" },
        name,
        h("button", { id: "open-folder", class: "small", "aria-label": "Open folder", title: "Open a workspace folder (Ctrl+O)", onclick: () => this.actions.openFolder() }, "Open…"),
        h("button", { id: "proxy-settings", class: "small", "aria-label": "Proxy settings", title: "The proxy for every connection set to \"system\"", onclick: () => this.actions.editProxy() }, "Proxy…")),
      h("div", { class: "env-row" }, envSelect,
        h("button", { id: "edit-environments", class: "small", "aria-label": "Edit environments", title: "Edit environments and variables", onclick: () => this.actions.editEnvironments() }, "Edit")),
      filter,
      h("div", { class: "tree-actions" },
        h("button", { id: "new-collection", class: "small", "aria-label": "New collection", title: "New collection (a folder)", onclick: () => this.actions.newCollection("") }, "+ Collection"),
        h("button", { id: "import", class: "small", "aria-label": "Import", title: "Import Insomnia, Bruno, HAR or wsbench logs (Ctrl+I)", onclick: () => this.actions.importFile() }, "Import…")),
      this.treeEl,
      problems,
      historyBox,
    );
    return { name, envSelect, problems, historyBox };
  }

  /** Show what the engine says matches `filter` (asked after a short pause in typing). */
  setFilter(filter, delay = FILTER_DEBOUNCE_MS) {
    this.filter = filter;
    clearTimeout(this.filterTimer);
    const ask = ++this.filterAsk;
    if (!filter.trim()) {
      this.filtered = null;
      this.drawTree();
      return;
    }
    this.filterTimer = setTimeout(async () => {
      const items = await this.actions.filterTree(filter);
      // A newer question (or a cleared filter) wins over a late answer.
      if (ask !== this.filterAsk || !items) return;
      this.filtered = items;
      this.drawTree();
    }, delay);
  }

  /** Which saved connections are open in tabs, and which of those have unsaved edits. */
  markTabs(openIds, dirtyIds) {
    const changed = new Set();
    for (const [before, after] of [[this.openIds, openIds], [this.dirtyIds, dirtyIds]]) {
      for (const id of before) if (!after.has(id)) changed.add(id);
      for (const id of after) if (!before.has(id)) changed.add(id);
    }
    this.openIds = openIds;
    this.dirtyIds = dirtyIds;
    // Only the rows whose marks changed: a big workspace's tree is not redrawn per tab.
    for (const id of changed) {
      const row = this.rows.get(id);
      if (row) this.markRow(row, id);
    }
  }

  markRow(row, id) {
    row.classList.toggle("is-open", this.openIds.has(id));
    const dirty = this.dirtyIds.has(id);
    const mark = row.querySelector(".dirty");
    if (dirty && !mark) row.querySelector(".label").after(h("span", { class: "dirty", "aria-label": "unsaved changes", title: "Unsaved changes" }, "●"));
    if (!dirty && mark) mark.remove();
  }

  focusFilter() {
    this.root.querySelector("#tree-filter")?.focus();
  }

  drawTree() {
    if (this.filter.trim() && !this.filtered) return; // the engine's answer is on its way
    const el = clear(this.treeEl);
    this.rows = new Map();
    // Collapsed collections open while filtering, as the matches are what was asked for.
    const items = this.filter.trim() ? this.filtered : hideCollapsed(this.ws.items, this.collapsed);
    if (!items.length) {
      el.append(h("div", { class: "muted empty" }, this.filter ? "Nothing matches the filter" : "No saved connections yet: Ctrl+S saves the current tab"));
      return;
    }
    for (const it of items) el.append(it.kind === "collection" ? this.collectionRow(it) : this.connectionRow(it));
  }

  collectionRow(it) {
    const open = !this.collapsed.has(it.path) || !!this.filter.trim();
    const row = h("div", { class: "tree-row collection", role: "treeitem", tabindex: "0", "aria-expanded": open ? "true" : "false",
      "data-collection": it.path, style: `padding-left:${6 + it.depth * 14}px`, title: it.path },
      h("span", { class: "twisty" }, open ? "▾" : "▸"),
      h("span", { class: "label" }, it.name),
      this.menuButton([
        ["New connection here", () => this.actions.saveAsInto(it.path)],
        ["New sub-collection", () => this.actions.newCollection(it.path)],
        ["Run scenarios…", () => this.actions.runCollection(it.path)],
        ["Rename…", () => this.actions.renameCollection(it.path, it.name)],
        ["Delete", () => this.actions.deleteCollection(it.path)],
      ], `Actions for collection ${it.name}`));
    const toggle = () => {
      if (this.collapsed.has(it.path)) this.collapsed.delete(it.path);
      else this.collapsed.add(it.path);
      this.drawTree();
    };
    row.addEventListener("click", (e) => { if (!e.target.closest(".menu-button")) toggle(); });
    row.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); }
      else if (e.key === "F2") this.actions.renameCollection(it.path, it.name);
      else if (e.key === "Delete") this.actions.deleteCollection(it.path);
    });
    return row;
  }

  connectionRow(it) {
    const row = h("div", { class: "tree-row connection", role: "treeitem", tabindex: "0",
      "data-id": it.id, style: `padding-left:${20 + it.depth * 14}px`, title: `${it.id}\nEnter opens · F2 renames · Delete deletes` },
      h("span", { class: "label" }, it.name),
      it.messages ? h("span", { class: "count", title: `${it.messages} saved messages` }, String(it.messages)) : null,
      this.menuButton([
        ["Open", () => this.actions.openSaved(it.id)],
        ["Run scenario", () => this.actions.runSaved(it.id)],
        ["Rename…", () => this.actions.renameSaved(it.id, it.name)],
        ["Duplicate", () => this.actions.duplicateSaved(it.id)],
        ["Move to…", () => this.actions.moveSaved(it.id)],
        ["Delete", () => this.actions.deleteSaved(it.id, it.name)],
      ], `Actions for ${it.name}`));
    row.addEventListener("click", (e) => { if (!e.target.closest(".menu-button")) this.actions.openSaved(it.id); });
    row.addEventListener("keydown", (e) => {
      if (e.key === "Enter") this.actions.openSaved(it.id);
      else if (e.key === "F2") this.actions.renameSaved(it.id, it.name);
      else if (e.key === "Delete") this.actions.deleteSaved(it.id, it.name);
    });
    this.markRow(row, it.id);
    this.rows.set(it.id, row);
    return row;
  }

  menuButton(entries, label) {
    return h("button", { class: "menu-button icon", "aria-label": label, title: label, onclick: (e) => {
      e.stopPropagation();
      this.openMenu(e.currentTarget, entries);
    } }, "⋯");
  }

  openMenu(anchor, entries) {
    this.closeMenu();
    const r = anchor.getBoundingClientRect();
    this.menu = h("div", { class: "menu", role: "menu", style: `top:${r.bottom + 2}px;left:${Math.max(4, r.right - 170)}px` },
      entries.map(([label, run]) => h("button", { role: "menuitem", "aria-label": label, onclick: (e) => { e.stopPropagation(); this.closeMenu(); run(); } }, label)));
    document.body.append(this.menu);
    this.menu.querySelector("button")?.focus();
    this.menu.addEventListener("keydown", (e) => { if (e.key === "Escape") this.closeMenu(); });
  }

  closeMenu() {
    this.menu?.remove();
    this.menu = null;
  }

  problemsEl(problems) {
    if (!problems?.length) return null;
    return h("details", { class: "problems", open: true },
      h("summary", {}, `${problems.length} file${problems.length === 1 ? "" : "s"} could not be read`),
      problems.map((p) => h("div", { class: "problem", title: p.message },
        h("div", { class: "mono" }, `${p.path}${p.line ? `:${p.line}` : ""}`), h("div", { class: "muted" }, p.message))));
  }

  historyEl(history) {
    const body = h("div", { id: "history", class: "history" });
    const groups = groupHistory(history);
    for (const g of groups) {
      body.append(h("div", { class: "history-group" }, g.name));
      for (const d of g.days) {
        body.append(h("div", { class: "history-day muted" }, d.day));
        for (const e of d.entries) {
          body.append(h("div", { class: "history-entry", role: "button", tabindex: "0", "data-history": e.id,
            title: `${e.url}\nOpens read-only`,
            onclick: () => this.actions.openHistory(e.id),
            onkeydown: (ev) => { if (ev.key === "Enter") this.actions.openHistory(e.id); } },
            h("span", {}, d.time(e)), h("span", { class: "muted" }, `${e.frames} frames · ${formatBytes(e.bytes)}`), h("span", { class: "muted" }, e.outcome)));
        }
      }
    }
    if (!history.length) body.append(h("div", { class: "muted empty" }, "Sessions appear here when a connection closes"));
    const used = history.reduce((n, e) => n + e.bytes, 0);
    const limit = h("input", { id: "history-limit", type: "number", min: "1", step: "1", "aria-label": "History size limit in MiB",
      value: String(Math.round((this.historyMaxBytes ?? 268435456) / 1048576)),
      title: "The oldest sessions are removed when history grows past this" });
    limit.addEventListener("change", () => {
      const mib = Number(limit.value);
      if (mib >= 1) this.actions.setHistoryLimit(mib);
    });
    body.append(h("label", { class: "history-limit muted" }, `${formatBytes(used)} used · keep up to `, limit, " MiB"));
    const det = h("details", { class: "history-box", open: this.historyOpen },
      h("summary", { id: "history-toggle" }, `History (${history.length})`), body);
    det.addEventListener("toggle", () => (this.historyOpen = det.open));
    return det;
  }
}
