// The selected frame, whole: text, pretty JSON, hex dump, close code; copy buttons.
import { h, clear } from "../lib/dom.js";
import { formatBytes, formatClock, prettyJson, safeMultiline } from "../lib/format.js";
import { base64ToBytes, hexDump } from "../lib/hex.js";
import { decodedDetail } from "./socketio.js";

/** Characters of text drawn at most (the rest is one Copy away). */
const SHOW_CHARS = 256 * 1024;

export class Detail {
  constructor(root) {
    this.root = root;
    this.empty();
  }

  empty() {
    clear(this.root).append(h("p", { class: "muted" }, "Select a frame to see it whole."));
  }

  show(rec) {
    const root = clear(this.root);
    if (!rec) {
      root.append(h("p", { class: "muted" }, "This frame is no longer in the log (evicted by the cap or cleared)."));
      return;
    }
    const head = h("div", { class: "detail-head" },
      h("strong", {}, `#${rec.seq} ${rec.direction === "in" ? "↓ received" : "↑ sent"} ${rec.opcode}`),
      h("span", {}, ` · ${formatClock(rec.atUs)} · +${(rec.offsetUs / 1000).toFixed(3)} ms · ${formatBytes(rec.len)}${rec.rttUs ? ` · RTT ${(rec.rttUs / 1000).toFixed(2)} ms` : ""}${rec.compressedLen ? ` · compressed, ${formatBytes(rec.compressedLen)} on the wire` : ""}`));
    root.append(head);
    if (rec.socketio) root.append(decodedDetail(rec.socketio));
    let copyText = null;
    if (rec.opcode === "close") {
      root.append(h("div", { id: "detail-close" }, rec.closeCode ? `Close code ${rec.closeCode}` : "Close without a code", rec.closeReason ? ` · reason “${rec.closeReason}”` : ""));
      copyText = `${rec.closeCode ?? ""} ${rec.closeReason ?? ""}`.trim();
    } else if (rec.text !== undefined && rec.text !== null) {
      // Laying out megabytes of text freezes the webview: draw the start, copy all.
      const big = rec.text.length > SHOW_CHARS;
      const pretty = big ? null : prettyJson(rec.text);
      const shown = big ? rec.text.slice(0, SHOW_CHARS) : (pretty ?? rec.text);
      if (pretty) root.append(h("div", { class: "muted" }, "JSON (formatted)"));
      if (big) root.append(h("div", { id: "detail-truncated", class: "muted" }, `Showing the first ${formatBytes(SHOW_CHARS)} of ${formatBytes(rec.len)}; Copy copies all of it.`));
      root.append(h("pre", { id: "detail-body", class: "body" }, safeMultiline(shown)));
      copyText = rec.text;
    } else {
      const bytes = base64ToBytes(rec.base64 ?? "");
      root.append(h("pre", { id: "detail-body", class: "body hex" }, hexDump(bytes)));
      copyText = rec.base64 ?? "";
      root.append(h("button", { "aria-label": "Copy as hex", onclick: () => copy(Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ")) }, "Copy hex"));
    }
    root.append(h("button", { id: "copy-payload", "aria-label": "Copy payload", onclick: () => copy(copyText ?? "") }, rec.base64 ? "Copy base64" : "Copy"));
  }
}

function copy(text) {
  navigator.clipboard?.writeText(text).catch(() => {});
}
