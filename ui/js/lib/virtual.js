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

/**
 * WebKit caps an element's height near 33.5M px (1.5M rows of 22 px): a longer list
 * gets a scroll range of at most this, and scroll positions map to rows in proportion.
 */
export const MAX_SCROLL_PX = 15_000_000;

/**
 * The scroll height for `count` rows, and `ratio`: list pixels per scrolled pixel
 * (1 while the list fits), such that the bottom of the scroll range shows the last rows.
 */
export function scrollScale(count, rowHeight, viewportHeight) {
  const total = Math.max(0, count) * rowHeight;
  if (total <= MAX_SCROLL_PX) return { height: total, ratio: 1 };
  return { height: MAX_SCROLL_PX, ratio: (total - viewportHeight) / (MAX_SCROLL_PX - viewportHeight) };
}
