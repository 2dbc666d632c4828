// The virtualized frame log: only the visible rows (plus a margin) are in the DOM,
// whatever the log's length. Rows come from the batch preview cache or pages fetched
// from the engine on demand; filters and search run in the engine.
import { h, clear } from "../lib/dom.js";
import { formatBytes, formatClock, previewLine } from "../lib/format.js";
import { base64ToBytes } from "../lib/hex.js";
import { traceEnd, traceStart } from "../lib/trace.js";
import { atBottom, scrollScale, visibleRange } from "../lib/virtual.js";
import { decodedLine, isControl } from "./socketio.js";

const ROW = 22;
// How often the counters are redrawn at most.
const COUNTERS_EVERY_MS = 250;

export class FrameLog {
  constructor(root, actions) {
    this.root = root;
    this.actions = actions;
    this.pages = new Map(); // seq -> row, fetched on demand (per tab, reset on switch)
    this.pending = 0; // the animation frame asked for a draw, if any
    this.follow = true;
    this.newCount = 0;
    this.filter = { direction: "", opcode: "", text: "", regex: false, events: "" };
    this.raw = false; // Socket.IO mode: show raw frames instead of decoded packets
    this.matches = null; // seqs when a filter is active
    this.selected = null;
    this.selection = new Set(); // seqs picked with Ctrl/Shift-click, for export
    // A resized window changes how many rows fit (and where "bottom" is).
    window.addEventListener("resize", () => this.schedule());
  }

  render(tab) {
    this.tab = tab;
    this.pages = new Map();
    clearTimeout(this.searchTimer); // a search due for the tab left behind
    this.matches = null;
    this.follow = true;
    this.newCount = 0;
    this.selection = new Set();
    this.selected = null;
    const root = clear(this.root);
    const search = h("input", { id: "search", type: "search", placeholder: "Search (engine)", "aria-label": "Search", value: this.filter.text, spellcheck: "false" });
    let timer = null;
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.setFilter({ text: search.value }), 250);
    });
    const sel = (id, label, options, key) =>
      h("select", { id, "aria-label": label, onchange: (e) => this.setFilter({ [key]: e.target.value }) },
        options.map(([v, t]) => h("option", { value: v, selected: this.filter[key] === v }, t)));
    this.counters = h("span", { id: "counters", class: "counters", role: "status" });
    this.countersAt = -Infinity; // a new tab's counters are drawn at once
    this.badge = h("button", { id: "new-badge", class: "badge", hidden: true, "aria-label": "Jump to newest", onclick: () => this.jumpToEnd() });
    this.viewport = h("div", { id: "log-viewport", class: "viewport", tabindex: "0", "aria-label": "Frames" });
    this.spacer = h("div", { class: "spacer" });
    this.rows = h("div", { class: "rows-layer", role: "list" });
    this.rowEls = new Map();
    this.viewport.append(this.spacer, this.rows);
    this.viewport.addEventListener("scroll", () => {
      // Only the user's scrolling decides whether we follow; a resize or a layout
      // change (the viewport's size moved since the last draw) does not.
      const v = this.viewport;
      // The scroll `draw` made to follow the tail: already drawn, nothing to decide.
      if (v.scrollTop === this.ownTop) return;
      const layoutMoved = this.geom && (this.geom.ch !== v.clientHeight || this.geom.sh !== v.scrollHeight);
      if (!layoutMoved) {
        this.follow = atBottom(v.scrollTop, v.clientHeight, v.scrollHeight, ROW);
        if (this.follow) this.newCount = 0;
      }
      this.schedule();
    });
    this.viewport.addEventListener("keydown", (e) => this.keyNav(e));
    root.append(
      h("div", { class: "log-toolbar" },
        sel("filter-direction", "Direction", [["", "Both directions"], ["in", "↓ Received"], ["out", "↑ Sent"]], "direction"),
        sel("filter-type", "Type", [["", "All types"], ["text", "Text"], ["binary", "Binary"], ["ping", "Ping"], ["pong", "Pong"], ["close", "Close"]], "opcode"),
        search,
        h("label", { class: "check" }, h("input", { type: "checkbox", id: "search-regex", "aria-label": "Regex", checked: this.filter.regex, onchange: (e) => this.setFilter({ regex: e.target.checked }) }), "Regex"),
        tab.config.socketio ? this.sioTools(tab) : null,
        h("span", { class: "spacer" }),
        this.counters,
        h("button", { id: "export-log", "aria-label": "Export log", title: "Export all frames, the filtered ones or a selection (Ctrl+E)", onclick: () => this.actions.exportDialog() }, "Export…"),
        h("button", { id: "clear-log", "aria-label": "Clear log", title: "Clear log (Ctrl+L)", disabled: tab.readOnly, onclick: () => this.actions.clearLog(tab.id) }, "Clear log")),
      h("div", { class: "log-head", "aria-hidden": "true" }, h("span", {}, "Time"), h("span", {}, ""), h("span", {}, "Type"), h("span", {}, "Size"), h("span", {}, "Payload")),
      this.viewport,
      this.badge,
    );
    if (this.filterActive()) this.runSearch();
    this.schedule();
  }

  /** Socket.IO mode: filter by event names (the listeners), and raw frames one click away. */
  sioTools(tab) {
    if (!this.filter.events && tab.config.socketio.listen?.length) this.filter.events = tab.config.socketio.listen.join(", ");
    let timer = null;
    return h("span", { class: "sio-tools" },
      h("input", { id: "filter-events", type: "search", placeholder: "Events (comma-separated)", "aria-label": "Filter by event", value: this.filter.events, spellcheck: "false",
        oninput: (e) => { clearTimeout(timer); timer = setTimeout(() => this.setFilter({ events: e.target.value }), 250); } }),
      h("label", { class: "check" }, h("input", { type: "checkbox", id: "show-raw", "aria-label": "Raw frames", checked: this.raw,
        onchange: (e) => { this.raw = e.target.checked; this.resetRows(); this.schedule(); } }), "Raw"));
  }

  eventList() {
    return this.tab?.config?.socketio ? this.filter.events.split(",").map((x) => x.trim()).filter(Boolean) : [];
  }

  /** The rows' meaning changed (filter, search): draw them anew. */
  resetRows() {
    for (const el of this.rowEls?.values() ?? []) el.remove();
    this.rowEls = new Map();
  }

  filterActive() {
    return !!(this.filter.direction || this.filter.opcode || this.filter.text || this.eventList().length);
  }

  setFilter(part) {
    Object.assign(this.filter, part);
    this.follow = true;
    if (this.filterActive()) this.runSearch();
    else {
      this.matches = null;
      this.schedule();
    }
  }

  async runSearch() {
    const tab = this.tab;
    if (!this.filterActive()) {
      // The filter was cleared (or belongs to another mode) since this search was due.
      this.matches = null;
      this.schedule();
      return;
    }
    const q = {
      text: this.filter.text,
      regex: this.filter.regex,
      directions: this.filter.direction ? [this.filter.direction] : [],
      opcodes: this.filter.opcode ? [this.filter.opcode] : [],
      events: this.eventList(),
      limit: 200000,
    };
    try {
      const r = await this.actions.search(tab.id, q);
      if (tab !== this.tab) return;
      this.matches = r.seqs;
      this.matchTotal = r.total;
      this.searchError = null;
      this.resetRows();
    } catch (e) {
      // A search for a tab the user has left (or closed) must not blank the one shown.
      if (tab !== this.tab) return;
      this.matches = [];
      this.searchError = e.message ?? String(e);
    }
    this.schedule();
  }

  /** New frames for the active tab arrived. */
  onBatch(tab, newFrames) {
    this.tab = tab;
    if (!this.follow) this.newCount += newFrames;
    if (this.filterActive() && newFrames) {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.runSearch(), 300);
    }
    this.schedule();
  }

  resync() {
    this.pages = new Map();
    for (const el of this.rowEls?.values() ?? []) el.remove();
    this.rowEls = new Map();
    if (this.filterActive()) this.runSearch();
    this.schedule();
  }

  count() {
    if (this.matches) return this.matches.length;
    return this.tab?.stats?.heldFrames ?? 0;
  }

  seqAt(i) {
    if (this.matches) return this.matches[i];
    return (this.tab.stats.firstSeq || 0) + i;
  }

  row(seq) {
    const p = this.tab.previews.get(seq);
    if (p) return fromPreview(p);
    return this.pages.get(seq) ?? null;
  }

  schedule() {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      this.draw();
    });
  }

  /** Inside an animation frame (the batches' one): draw now what `schedule` left for the next. */
  flush() {
    if (!this.pending) return;
    cancelAnimationFrame(this.pending);
    this.pending = 0;
    this.draw();
  }

  draw() {
    if (!this.tab || !this.viewport) return;
    const t0 = traceStart();
    const n = this.count();
    const ch = this.viewport.clientHeight || 400;
    // A long log's scroll range is scaled down (see scrollScale): `ratio` log pixels
    // per scrolled pixel.
    const { height, ratio } = scrollScale(n, ROW, ch);
    this.ratio = ratio;
    this.spacer.style.height = `${height}px`;
    if (this.follow) {
      this.viewport.scrollTop = this.viewport.scrollHeight;
      this.ownTop = this.viewport.scrollTop;
    } else this.ownTop = null;
    this.geom = { ch: this.viewport.clientHeight, sh: this.viewport.scrollHeight };
    const scrolled = this.viewport.scrollTop;
    const top = scrolled * ratio;
    const { first, last } = visibleRange(top, ch, ROW, n, 8);
    // Reuse row elements by sequence number: a row that stays in the window keeps
    // its node; a row entering it takes the node of a row that left (refilled, not
    // rebuilt), so a flood moves text through a fixed set of nodes instead of
    // creating and dropping thousands per second. Rows sit in normal flow inside
    // one layer moved to the first visible row.
    const missing = [];
    const keep = new Map();
    const ordered = [];
    const entering = [];
    for (let i = first; i < last; i++) {
      const seq = this.seqAt(i);
      const el = this.rowEls.get(seq);
      // A drawn frame never changes: only a loading row is looked up again.
      if (el?.dataset.key === "1") {
        keep.set(seq, el);
        ordered.push(el);
        continue;
      }
      const r = this.row(seq);
      if (!r) missing.push(seq);
      const key = r ? "1" : "0";
      if (el && el.dataset.key === key) keep.set(seq, el);
      else entering.push([ordered.length, seq, r, key]);
      ordered.push(el && el.dataset.key === key ? el : null);
    }
    // Nodes of rows that left, taken in the order they sit: when every row is new (a
    // flood, following the tail) each node is refilled where it is and none moves.
    const free = [];
    for (const el of this.rows.children) if (keep.get(Number(el.dataset.seq)) !== el) free.push(el);
    free.reverse();
    for (const [k, seq, r, key] of entering) {
      const el = free.pop() ?? this.newRow();
      this.fillRow(el, seq, r);
      el.dataset.key = key;
      keep.set(seq, el);
      ordered[k] = el;
    }
    for (const [seq, el] of keep) {
      // Selection only toggles a class: a clicked node stays the same node.
      el.classList.toggle("selected", seq === this.selected || this.selection.has(seq));
    }
    this.rows.style.top = `${scrolled + first * ROW - top}px`;
    const same = ordered.length === this.rows.childElementCount && ordered.every((el, k) => this.rows.children[k] === el);
    if (!same) this.rows.replaceChildren(...ordered);
    this.rowEls = keep;
    if (missing.length) this.fetch(missing);
    this.drawCounters();
    this.badge.hidden = this.follow || this.newCount === 0;
    this.badge.textContent = `${this.newCount} new ↓`;
    traceEnd("log", t0, entering.length);
  }

  /** A row node with its five cells; `fillRow` gives it a frame. */
  newRow() {
    const el = h("div", { class: "frame-row", role: "listitem" },
      h("span", { class: "c-time" }), h("span", { class: "c-dir" }), h("span", { class: "c-type" }),
      h("span", { class: "c-size" }), h("span", { class: "c-preview" }));
    el.addEventListener("click", (e) => this.click(Number(el.dataset.seq), e));
    return el;
  }

  fillRow(el, seq, r) {
    const decoded = r && !this.raw ? decodedLine(r.socketio) : null;
    el.className = `frame-row${r ? ` ${r.direction} ${r.opcode}` : " loading"}${decoded ? ` sio${isControl(r.socketio) ? " sio-control" : ""}` : ""}`;
    el.dataset.seq = seq;
    const [time, dir, type, size, preview] = el.children;
    if (!r) {
      time.textContent = `#${seq}`;
      dir.textContent = type.textContent = size.textContent = "";
      dir.removeAttribute("aria-label");
      preview.textContent = "…";
      return;
    }
    time.textContent = formatClock(r.atUs);
    dir.setAttribute("aria-label", r.direction === "in" ? "received" : "sent");
    dir.textContent = r.direction === "in" ? "↓" : "↑";
    type.textContent = decoded ? (r.socketio.event ? "event" : r.socketio.packet ?? r.socketio.engine) : r.opcode;
    size.textContent = formatBytes(r.len);
    preview.textContent = decoded ?? r.line;
  }

  async fetch(seqs) {
    if (this.fetching) return;
    this.fetching = true;
    const tab = this.tab;
    try {
      const from = Math.min(...seqs);
      const to = Math.max(...seqs);
      const records = await this.actions.page(tab.id, from, Math.min(2000, to - from + 1));
      if (tab !== this.tab) return;
      for (const p of records) this.pages.set(p.seq, fromPreview(p));
      // Evicted meanwhile: mark so we do not ask again.
      for (const s of seqs) if (!this.pages.has(s) && s < (tab.stats.firstSeq || 0)) this.pages.set(s, gone(s));
    } finally {
      this.fetching = false;
    }
    if (this.pages.size > 20000) this.pages = new Map([...this.pages].slice(-5000));
    this.schedule();
  }

  /**
   * The counters change with every batch; under a stream they are redrawn a few times
   * a second (the last values always land: a redraw due is kept for later).
   */
  drawCounters() {
    const now = performance.now();
    const wait = COUNTERS_EVERY_MS - (now - (this.countersAt ?? -Infinity));
    if (wait > 0) {
      this.countersTimer ??= setTimeout(() => {
        this.countersTimer = null;
        if (this.tab) this.drawCounters();
      }, wait);
      return;
    }
    this.countersAt = now;
    const s = this.tab.stats ?? {};
    const frames = (s.framesIn ?? 0) + (s.framesOut ?? 0);
    // Each tab keeps its own rate sample: a switch never mixes two tabs' counts.
    const last = (this.tab.rateSample ??= { t: now, frames, rate: 0 });
    if (now - last.t > 1000) {
      this.tab.rateSample = { t: now, frames, rate: Math.max(0, Math.round(((frames - last.frames) * 1000) / (now - last.t))) };
    }
    const filtered = this.matches ? ` · ${this.matchTotal ?? this.matches.length} match${this.matchTotal === 1 ? "" : "es"}` : "";
    const err = this.searchError ? ` · ${this.searchError}` : "";
    this.counters.textContent =
      `↓ ${s.framesIn ?? 0} (${formatBytes(s.bytesIn ?? 0)}) · ↑ ${s.framesOut ?? 0} (${formatBytes(s.bytesOut ?? 0)}) · ${this.tab.rateSample.rate}/s` +
      `${s.evictedFrames ? ` · ${s.evictedFrames} evicted` : ""}${filtered}${err}`;
  }

  /** Click selects one frame; Ctrl-click toggles it in the selection; Shift-click extends. */
  click(seq, e) {
    if (e.ctrlKey || e.metaKey) {
      if (!this.selection.size && this.selected !== null) this.selection.add(this.selected);
      if (this.selection.has(seq)) this.selection.delete(seq);
      else this.selection.add(seq);
    } else if (e.shiftKey && this.selected !== null) {
      const n = this.count();
      let a = -1;
      let b = -1;
      for (let k = 0; k < n && (a < 0 || b < 0); k++) {
        const s = this.seqAt(k);
        if (s === this.selected) a = k;
        if (s === seq) b = k;
      }
      this.selection = new Set();
      for (let k = Math.min(a, b); k <= Math.max(a, b) && k >= 0; k++) this.selection.add(this.seqAt(k));
      this.schedule();
      return;
    } else {
      this.selection = new Set();
    }
    this.select(seq);
  }

  /** What the export dialog offers: all, the current filter's matches, the selection. */
  exportScope() {
    const q = this.filterActive()
      ? { text: this.filter.text, regex: this.filter.regex, directions: this.filter.direction ? [this.filter.direction] : [], opcodes: this.filter.opcode ? [this.filter.opcode] : [], events: this.eventList() }
      : null;
    const selection = this.selection.size ? [...this.selection].sort((a, b) => a - b) : this.selected !== null ? [this.selected] : [];
    return { all: this.tab?.stats?.heldFrames ?? 0, filter: q ? (this.matchTotal ?? this.matches?.length ?? 0) : null, filterQuery: q, selection };
  }

  select(seq) {
    this.selected = seq;
    this.actions.showDetail(this.tab.id, seq);
    this.schedule();
  }

  keyNav(e) {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    e.preventDefault();
    const n = this.count();
    let i = -1;
    for (let k = 0; k < n; k++) if (this.seqAt(k) === this.selected) { i = k; break; }
    i = Math.max(0, Math.min(n - 1, i + (e.key === "ArrowDown" ? 1 : -1)));
    this.follow = false;
    this.select(this.seqAt(i));
    const top = i * ROW;
    const ratio = this.ratio ?? 1;
    const shown = this.viewport.scrollTop * ratio;
    if (top < shown || top > shown + this.viewport.clientHeight - ROW) this.viewport.scrollTop = (top - ROW * 3) / ratio;
  }

  jumpToEnd() {
    this.follow = true;
    this.newCount = 0;
    this.schedule();
  }

  domRowCount() {
    return this.rows?.childElementCount ?? 0;
  }
}

function lineFor(opcode, text, bytes, closeCode, closeReason) {
  if (opcode === "close") return closeCode ? `${closeCode}${closeReason ? ` ${previewLine(closeReason)}` : ""}` : "(no code)";
  if (text !== null) return previewLine(text);
  const head = Array.from(bytes.subarray(0, 24), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return bytes.length > 24 ? `${head} …` : head;
}

function fromPreview(p) {
  const text = p.encoding === "text" ? p.preview : null;
  const bytes = text === null ? base64ToBytes(p.preview) : null;
  return { seq: p.seq, atUs: p.atUs, direction: p.direction, opcode: p.opcode, len: p.len, line: lineFor(p.opcode, text, bytes, p.closeCode, p.closeReason), socketio: p.socketio };
}

function gone(seq) {
  return { seq, atUs: 0, direction: "", opcode: "", len: 0, line: "(evicted by the log cap)" };
}
