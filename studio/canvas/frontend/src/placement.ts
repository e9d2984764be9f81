// Where the view and new cards go: a fit that keeps card text readable, and a
// paste that lands clear of the cards already on the canvas. Pure functions.
import { getViewportForBounds, type Rect, type Viewport } from "@xyflow/react";

import { CARD } from "./geometry";

/**
 * The smallest zoom a fit view goes to: a card title (13.5 px) is drawn at
 * 9.5 px or more. A pipeline too big for the pane at this zoom is shown from
 * its start (top left); the minimap and panning reach the rest. The user can
 * still zoom out further with ctrl+wheel or the controls.
 */
export const READABLE_ZOOM = 0.7;
export const FIT_PADDING = 0.2;
export const FIT_MAX_ZOOM = 1.1;
/**
 * Room a fit keeps free at the top of the pane for the floating toolbar (Toolbar.tsx, top right, about
 * 54 px down): a big pipeline shown from its start, or a whole one in a short pane, begins below it
 * instead of under it.
 */
export const TOP_CLEARANCE = 64;

/** A viewport showing ``bounds`` whole, or its top-left part at READABLE_ZOOM when whole would be smaller. */
export function readableFit(bounds: Rect, width: number, height: number): Viewport {
  const room = Math.max(height - TOP_CLEARANCE, 1);
  const whole = getViewportForBounds(bounds, width, room, 0, FIT_MAX_ZOOM, FIT_PADDING);
  if (whole.zoom >= READABLE_ZOOM) return { ...whole, y: whole.y + TOP_CLEARANCE };
  const zoom = READABLE_ZOOM;
  const margin = 24;
  // centred between ``before`` and ``margin`` from the far side when it fits, else from ``before`` on
  const axis = (start: number, size: number, extent: number, before: number) =>
    size * zoom + before + margin <= extent
      ? before + (extent - before - margin - size * zoom) / 2 - start * zoom
      : before - start * zoom;
  return { x: axis(bounds.x, bounds.width, width, margin), y: axis(bounds.y, bounds.height, height, TOP_CLEARANCE), zoom };
}

/**
 * The view moved, at the same zoom, just far enough that ``box`` is whole in the pane (below the toolbar's
 * room at the top), or null when it already is. A node Python selects (a problem clicked in the panel) is
 * brought into sight this way without changing how large the cards are drawn or moving a view that shows it.
 */
export function panToShow(box: Box, view: Viewport, width: number, height: number, margin = 24): Viewport | null {
  const axis = (start: number, size: number, offset: number, extent: number, before: number) => {
    const low = start * view.zoom + offset;
    const high = (start + size) * view.zoom + offset;
    if (low >= before && high <= extent - margin) return offset;
    if (low < before || size * view.zoom > extent - margin - before) return offset + before - low;
    return offset - (high - (extent - margin));
  };
  const x = axis(box.x, box.width, view.x, width, margin);
  const y = axis(box.y, box.height, view.y, height, TOP_CLEARANCE);
  return x === view.x && y === view.y ? null : { x, y, zoom: view.zoom };
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A node's box on the canvas; a card not measured yet is taken at the card width and a typical height. */
export function boxOf(n: { position: { x: number; y: number }; measured?: { width?: number; height?: number } }): Box {
  return { x: n.position.x, y: n.position.y, width: n.measured?.width || CARD.width, height: n.measured?.height || 120 };
}

const GAP = 16;
const STEP = 40;

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width + GAP && b.x < a.x + a.width + GAP && a.y < b.y + b.height + GAP && b.y < a.y + a.height + GAP;
}

/** Where ``box`` goes among ``others``: where it is when nothing is in the way, else moved clear (``clearOffset``). */
export function placeClear(box: Box, others: Box[]): { x: number; y: number } {
  if (!others.some((o) => overlaps(box, o))) return { x: box.x, y: box.y };
  const { dx, dy } = clearOffset([box], others);
  return { x: box.x + dx, y: box.y + dy };
}

/**
 * The offset nearest to (STEP, STEP) that moves every box in ``moving`` clear of
 * every box in ``others`` (the originals included, so a paste never hides them).
 * Searched on a STEP grid in rings; past that, below everything.
 */
export function clearOffset(moving: Box[], others: Box[]): { dx: number; dy: number } {
  const fits = (dx: number, dy: number) =>
    moving.every((m) => others.every((o) => !overlaps({ ...m, x: m.x + dx, y: m.y + dy }, o)));
  for (let ring = 0; ring <= 30; ring += 1) {
    const candidates: [number, number][] = [];
    for (let a = -ring; a <= ring; a += 1) {
      for (let b = -ring; b <= ring; b += 1) {
        if (Math.max(Math.abs(a), Math.abs(b)) === ring) candidates.push([STEP * (1 + a), STEP * (1 + b)]);
      }
    }
    candidates.sort((p, q) => Math.hypot(p[0] - STEP, p[1] - STEP) - Math.hypot(q[0] - STEP, q[1] - STEP));
    for (const [dx, dy] of candidates) if ((dx !== 0 || dy !== 0) && fits(dx, dy)) return { dx, dy };
  }
  const bottom = Math.max(...others.map((o) => o.y + o.height), 0);
  const top = Math.min(...moving.map((m) => m.y));
  return { dx: STEP, dy: bottom + GAP * 2 - top };
}
