// What node cards read besides their own React Flow data: the catalog, the
// decorations Python computed (errors, GPUs), run status, and the connection
// rule. Kept out of node data so a status push never touches node objects.
import { createContext, useContext } from "react";

import type { Catalog, Direction } from "./graph";
import type { NodeStatus, WireNode } from "./types";

export interface CanvasContextValue {
  catalog: Catalog;
  decorations: Map<string, WireNode>;
  status: Record<string, NodeStatus>;
  /** performance.now() when `status` arrived, so running badges can tick. */
  statusAt: number;
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
