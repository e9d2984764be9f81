// The node card's size and handle positions, known before the browser lays the
// card out.
//
// React Flow draws a node it has not measured hidden, measures it after layout
// and draws it again, and draws an edge only once both of its ends are
// measured. Opening a 250-node pipeline spends about half its time in that
// second pass. A node that arrives with `measured` and `handles` is drawn, with
// its edges, in the first frame. The numbers mirror styles.css (.pc-node,
// .pc-node__head, .pc-node__ports, .pc-port, .pc-handle): change them together.
// React Flow still measures every card; where a card's size differs from these
// numbers it keeps the measured size and handle positions (Canvas drops the
// node's `handles` on such a change), so a mismatch costs only speed.
import { Position, type NodeHandle } from "@xyflow/react";

export const CARD = {
  /** .pc-node width, borders included */
  width: 228,
  /** .pc-node border: top, right and bottom */
  border: 1,
  /** .pc-node border-left: the category stripe */
  stripe: 4,
  /** .pc-node__head height */
  head: 52,
  /** .pc-node__ports border-top (1px) + padding-top (5px) */
  portsTop: 6,
  /** .pc-node__ports padding-bottom */
  portsBottom: 7,
  /** .pc-port height: one row per input/output pair */
  row: 22,
  /** .pc-handle width and height */
  handle: 11,
} as const;

export interface CardGeometry {
  measured: { width: number; height: number };
  handles: NodeHandle[];
}

/** The size of a card with these input and output handle ids, and where each handle sits on it. */
export function cardGeometry(inputs: string[], outputs: string[]): CardGeometry {
  const rows = Math.max(inputs.length, outputs.length);
  const ports = rows > 0 ? CARD.portsTop + rows * CARD.row + CARD.portsBottom : 0;
  const half = CARD.handle / 2;
  const top = (row: number) => CARD.border + CARD.head + CARD.portsTop + row * CARD.row + CARD.row / 2 - half;
  const handle = (id: string, row: number, type: "source" | "target"): NodeHandle => ({
    id,
    type,
    position: type === "target" ? Position.Left : Position.Right,
    x: type === "target" ? CARD.stripe - half : CARD.width - CARD.border - half,
    y: top(row),
    width: CARD.handle,
    height: CARD.handle,
  });
  return {
    measured: { width: CARD.width, height: CARD.border + CARD.head + ports + CARD.border },
    handles: [...inputs.map((id, i) => handle(id, i, "target")), ...outputs.map((id, i) => handle(id, i, "source"))],
  };
}
