// What node cards read besides their own React Flow data: the catalog, the
// per-node decorations and run status (see nodeView.ts), and the connection
// rule. Kept out of node data so a status push never touches node objects, and
// unchanged by a status push, so it re-renders no card by itself.
import { createContext, useContext } from "react";

import type { Catalog, Direction } from "./graph";
import type { NodeViews } from "./nodeView";

export interface CanvasContextValue {
  catalog: Catalog;
  /** Each card's decorations (errors, GPUs, title) and status, subscribed to one node at a time. */
  views: NodeViews;
  /** Ports that edges name on each node, so undeclared ones still get a handle. */
  edgePorts: Map<string, { in: string[]; out: string[] }>;
  /** While a connection is dragged from `from`: may it end on this handle? */
  accepts: (from: HandleRef, nodeId: string, direction: Direction, port: string) => boolean;
}

export interface HandleRef {
  nodeId: string;
  type: "source" | "target";
  id?: string | null;
}

export const CanvasContext = createContext<CanvasContextValue | null>(null);

export function useCanvas(): CanvasContextValue {
  const value = useContext(CanvasContext);
  if (!value) throw new Error("pipecanvas: node rendered outside the canvas");
  return value;
}

export const CATEGORY_ORDER = ["data", "prepare", "train", "evaluate", "deploy"];

export const CATEGORY_LABELS: Record<string, string> = {
  data: "Data",
  prepare: "Prepare",
  train: "Train",
  evaluate: "Evaluate",
  deploy: "Deploy",
};
