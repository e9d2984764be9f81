// Auto-layout: layered, left to right, with dagre. Node sizes are the measured
// card sizes so tall nodes (many ports) do not overlap.
import dagre from "@dagrejs/dagre";

import type { PipeEdge, PipeNode } from "./types";

const FALLBACK = { width: 220, height: 120 };

export function layeredLayout(nodes: PipeNode[], edges: PipeEdge[]): PipeNode[] {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 36, ranksep: 90, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) {
    g.setNode(n.id, {
      width: n.measured?.width ?? FALLBACK.width,
      height: n.measured?.height ?? FALLBACK.height,
    });
  }
  for (const e of edges) if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  return nodes.map((n) => {
    const placed = g.node(n.id);
    const width = n.measured?.width ?? FALLBACK.width;
    const height = n.measured?.height ?? FALLBACK.height;
    return { ...n, position: { x: Math.round(placed.x - width / 2), y: Math.round(placed.y - height / 2) } };
  });
}
