// Pure formatting helpers (no DOM). Unit-tested with `node --test ui/tests`.

/** 1536 -> "1.5 KiB" */
export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 0) return "?";
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** Microseconds since the epoch -> "HH:MM:SS.mmm" in local time. */
export function formatClock(atUs) {
  const d = new Date(Math.floor(atUs / 1000));
  const p = (x, n = 2) => String(x).padStart(n, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** Microseconds -> "850 µs", "12.3 ms", "4.20 s". */
export function formatDuration(us) {
  if (us < 1000) return `${us} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(1)} ms`;
  return `${(us / 1_000_000).toFixed(2)} s`;
}

// C0/C1 controls, DEL, and the bidi/zero-width characters that can reorder or hide text.
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * One display line for the log: newlines and tabs become visible marks, control and
 * bidi characters become <U+XXXX> so they cannot reorder or hide what is shown,
 * and the line is cut at `max` characters.
 */
export function previewLine(text, max = 200) {
  let s = String(text ?? "");
  if (s.length > max * 4) s = s.slice(0, max * 4);
  s = s
    .replace(/\r\n|\n|\r/g, "⏎")
    .replace(/\t/g, "⇥")
    .replace(INVISIBLE, (c) => `<U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}>`);
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

/** Text that keeps its line breaks but shows bidi and control characters. */
export function safeMultiline(text) {
  return String(text ?? "").replace(INVISIBLE, (c) => `<U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}>`);
}

/** Pretty-print JSON text, or null when it is not JSON. */
export function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return null;
  }
}
