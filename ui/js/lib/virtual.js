// Virtual list math: which rows to draw for a scroll position. Pure, unit-tested.

/**
 * @returns {{first: number, last: number}} rows [first, last) to render, with
 * `overscan` extra rows on both sides, clamped to [0, count).
 */
export function visibleRange(scrollTop, viewportHeight, rowHeight, count, overscan = 10) {
  if (count <= 0 || rowHeight <= 0) return { first: 0, last: 0 };
  const top = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const bottom = Math.ceil((scrollTop + viewportHeight) / rowHeight) + overscan;
  return { first: Math.min(top, count), last: Math.min(Math.max(bottom, top), count) };
}

/** Is the view scrolled to (within a row of) the bottom? */
export function atBottom(scrollTop, viewportHeight, scrollHeight, rowHeight) {
  return scrollTop + viewportHeight >= scrollHeight - rowHeight;
}
