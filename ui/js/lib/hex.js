// Bytes <-> base64 / hex, and a classic hex dump. Pure, unit-tested.

export function base64ToBytes(b64) {
  const bin = atob(b64 ?? "");
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesToBase64(bytes) {
  let bin = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    bin += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(bin);
}

/**
 * Validate composer hex the way the engine parses it ("de ad", "0xde,0xad", "de:ad").
 * Returns { ok: true, bytes: n } or { ok: false, error }.
 */
export function checkHex(input) {
  let digits = 0;
  let pending = -1;
  const s = String(input ?? "");
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "0" && pending < 0 && (s[i + 1] === "x" || s[i + 1] === "X")) {
      i++;
      continue;
    }
    if (/\s|[:,-]/.test(c)) {
      if (pending >= 0) return { ok: false, error: `odd digit at position ${pending + 1} (a byte needs two hex digits)` };
      continue;
    }
    if (!/[0-9a-fA-F]/.test(c)) return { ok: false, error: `'${c}' at position ${i + 1} is not a hex digit` };
    if (pending < 0) pending = i;
    else {
      pending = -1;
      digits++;
    }
  }
  if (pending >= 0) return { ok: false, error: `odd number of hex digits: the digit at position ${pending + 1} has no pair` };
  return { ok: true, bytes: digits };
}

/** Base64 check (standard or URL-safe, padding optional): { ok, bytes } or { ok, error }. */
export function checkBase64(input) {
  const s = String(input ?? "").replace(/\s+/g, "");
  const bad = s.search(/[^A-Za-z0-9+/=_-]/);
  if (bad >= 0) return { ok: false, error: `'${s[bad]}' at position ${bad + 1} is not a base64 character` };
  const body = s.replace(/=+$/, "");
  if (body.includes("=")) return { ok: false, error: "padding is misplaced" };
  if (body.length % 4 === 1) return { ok: false, error: `${s.length} characters cannot be base64` };
  return { ok: true, bytes: Math.floor((body.length * 3) / 4) };
}

/** 16 bytes a line: offset, hex, ASCII. */
export function hexDump(bytes, max = 64 * 1024) {
  const lines = [];
  const n = Math.min(bytes.length, max);
  for (let off = 0; off < n; off += 16) {
    const row = bytes.subarray(off, Math.min(off + 16, n));
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${off.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (bytes.length > n) lines.push(`… ${bytes.length - n} more bytes`);
  return lines.join("\n");
}
