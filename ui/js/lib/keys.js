// Shortcuts as the platform spells them: Cmd (⌘) on macOS, Ctrl elsewhere. Views
// write "Ctrl+S" in tooltips and placeholders; h() passes them through here.

/** True in the macOS app (WKWebView says "Macintosh"). */
export const IS_MAC = typeof navigator !== "undefined" && /Mac/.test(navigator.platform || navigator.userAgent || "");

/** "Save (Ctrl+Shift+S)" → "Save (⌘⇧S)" on macOS; unchanged elsewhere. */
export function shortcutText(text, mac = IS_MAC) {
  if (!mac || typeof text !== "string") return text;
  return text
    .replace(/\bCtrl\+Shift\+/g, "⌘⇧")
    .replace(/\bCtrl\+/g, "⌘")
    .replace(/\bCtrl-click/g, "⌘-click");
}
