// The shapes exchanged with Python (studio/canvas/component.py) and the
// React Flow node type the canvas draws. Python owns the pipeline; these are
// its view.
import type { Edge, Node } from "@xyflow/react";

export type ArtifactKind = "table" | "model" | "metrics" | "endpoint" | string;

export interface PortSpec {
  name: string;
  kind: ArtifactKind;
  required: boolean;
  description?: string;
  many?: boolean; // an input that takes several edges
}

/** One entry of the node catalog, as `NodeType.describe()` writes it (minus the params schema). */
export interface CatalogEntry {
  type: string;
  title: string;
  description: string;
  category: string;
  icon: string;
  /** More words the palette search finds the node by (algorithms it offers, other tools' names). */
  keywords?: string[];
  inputs: PortSpec[];
  outputs: PortSpec[];
  resources?: { cpu?: string; memory?: string; gpu?: number };
}

export interface WireNode {
  id: string;
  type: string;
  position: { x: number; y: number };
  title?: string;
  errors?: string[];
  warnings?: string[];
  /** GPUs the node asks for when set on the node or the pipeline defaults; else the catalog's. */
  gpu?: number;
  /** Opaque settings (params, resources...) carried so paste and undo can restore them. */
  config?: Record<string, unknown>;
}

/** An edge in the pipeline's own notation: "node.port". */
export interface WireEdge {
  from: string;
  to: string;
}

/** A sticky note: text on the canvas, kept in the pipeline's `ui` section, never part of a run. */
export interface WireNote {
  id: string;
  text: string;
  position: { x: number; y: number };
  width: number;
  height: number;
}

export interface WireGraph {
  nodes: WireNode[];
  edges: WireEdge[];
  /** Absent: the notes are left as they are. */
  notes?: WireNote[];
}

export type RunState =
  | "idle"
  | "queued"
  | "running"
  | "succeeded"
  | "cached"
  | "failed"
  | "skipped"
  | "cancelled";

export interface NodeStatus {
  state: RunState;
  elapsed?: number | null;
  attempt?: number;
  /** The node changed since this run (its cache key differs): the state and outputs are from the previous run. */
  outdated?: boolean;
}

/** What Python sends on every script run. */
export interface CanvasData {
  catalog: CatalogEntry[];
  graph: WireGraph;
  graph_revision: number;
  status: Record<string, NodeStatus>;
  /** The node Python wants selected; applied on mount and whenever `selection_revision` changes, never else. */
  selected: string | null;
  selection_revision: number;
  /** The least height; the canvas grows to the bottom of the window. */
  height?: number;
}

/** The graph the canvas sends back, stamped so Python can tell a new edit from an old one. */
export interface SentGraph extends WireGraph {
  base_revision: number;
  stamp: string;
}

export interface CanvasEvent {
  type: string;
  message?: string;
  [key: string]: unknown;
}

/**
 * The selection as React Flow holds it (the highlighted cards), sent whenever it
 * changes: the form shows `primary`, the node selected last.
 */
export interface SentSelection {
  nodes: string[];
  primary: string | null;
  stamp: string;
}

export type CanvasState = {
  graph: SentGraph;
  selection: SentSelection;
  event: CanvasEvent;
};

/** What a React Flow node of ours carries; decorations and status come from context. */
export type PipeNodeData = {
  type: string;
  title?: string;
  config?: Record<string, unknown>;
};

export type PipeNode = Node<PipeNodeData, "pipe">;
export type NoteNode = Node<{ text: string }, "note">;
export type PipeEdge = Edge<{ kind: ArtifactKind }>;
