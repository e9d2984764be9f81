// Pure graph logic: the wire format <-> React Flow, port lookup, connection
// rules and fresh node ids. No React here, so every rule lives in one place.
import type { Connection } from "@xyflow/react";

import { cardGeometry } from "./geometry";
import type {
  ArtifactKind,
  CatalogEntry,
  PipeEdge,
  PipeNode,
  PortSpec,
  WireEdge,
  WireGraph,
  WireNode,
} from "./types";

export type Catalog = Map<string, CatalogEntry>;
export type Direction = "in" | "out";

/** A port as drawn: declared by the catalog, or only named by an edge (unknown). */
export interface DrawnPort extends PortSpec {
  unknown?: boolean;
}

const NODE_ID = /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/; // compiler.validate.NODE_ID_PATTERN

export const handleId = (direction: Direction, port: string): string => `${direction}:${port}`;

export function portOfHandle(handle: string | null | undefined): string {
  if (!handle) return "";
  const colon = handle.indexOf(":");
  return colon < 0 ? handle : handle.slice(colon + 1);
}

/** "load.table" -> ["load", "table"]; ports never contain a dot, node ids should not. */
export function splitRef(ref: string): [string, string] {
  const dot = ref.lastIndexOf(".");
  return dot < 0 ? [ref, ""] : [ref.slice(0, dot), ref.slice(dot + 1)];
}

export const edgeId = (from: string, to: string): string => `${from}->${to}`;

export function indexCatalog(entries: CatalogEntry[]): Catalog {
  return new Map(entries.map((entry) => [entry.type, entry]));
}

export function kindOf(
  catalog: Catalog,
  nodeType: string | undefined,
  direction: Direction,
  port: string,
): ArtifactKind | undefined {
  const entry = nodeType ? catalog.get(nodeType) : undefined;
  const ports = direction === "in" ? entry?.inputs : entry?.outputs;
  return ports?.find((p) => p.name === port)?.kind;
}

/**
 * The ports a node shows: its catalog ports, then any port an edge names that
 * the catalog does not know (a typo in a YAML file), so that edge stays visible.
 */
export function drawnPorts(
  entry: CatalogEntry | undefined,
  direction: Direction,
  edgePorts: string[],
): DrawnPort[] {
  const declared: DrawnPort[] = [...((direction === "in" ? entry?.inputs : entry?.outputs) ?? [])];
  for (const port of edgePorts) {
    if (port && !declared.some((p) => p.name === port)) {
      declared.push({ name: port, kind: "unknown", required: false, unknown: true });
    }
  }
  return declared;
}

export function toFlowEdge(from: string, to: string, catalog: Catalog, nodes: PipeNode[]): PipeEdge {
  const [source, sourcePort] = splitRef(from);
  const [target, targetPort] = splitRef(to);
  const sourceType = nodes.find((n) => n.id === source)?.data.type;
  const kind = kindOf(catalog, sourceType, "out", sourcePort) ?? "unknown";
  return {
    id: edgeId(from, to),
    source,
    sourceHandle: handleId("out", sourcePort),
    target,
    targetHandle: handleId("in", targetPort),
    className: `pc-edge pc-kind-${kind}`,
    data: { kind },
  };
}

/** The ports each node's edges name, by node id: a card draws these too, declared or not. */
export function portsByNode(edges: PipeEdge[]): Map<string, { in: string[]; out: string[] }> {
  const ports = new Map<string, { in: string[]; out: string[] }>();
  const at = (id: string) => ports.get(id) ?? (ports.set(id, { in: [], out: [] }), ports.get(id)!);
  for (const e of edges) {
    at(e.source).out.push(portOfHandle(e.sourceHandle));
    at(e.target).in.push(portOfHandle(e.targetHandle));
  }
  return ports;
}

/**
 * React Flow nodes and edges for a wire graph. Each node carries its card's size
 * and handle positions (geometry.ts), so it is drawn with its edges at once.
 */
export function wireToFlow(graph: WireGraph, catalog: Catalog): { nodes: PipeNode[]; edges: PipeEdge[] } {
  const placed: PipeNode[] = (graph.nodes ?? []).map((n) => ({
    id: n.id,
    type: "pipe",
    position: { x: Number(n.position?.x) || 0, y: Number(n.position?.y) || 0 },
    data: { type: n.type, title: n.title, config: n.config },
  }));
  const edges = dedupeEdges((graph.edges ?? []).map((e) => toFlowEdge(e.from, e.to, catalog, placed)));
  const used = portsByNode(edges);
  const nodes = placed.map((n) => {
    const entry = catalog.get(n.data.type);
    const inputs = drawnPorts(entry, "in", used.get(n.id)?.in ?? []).map((p) => handleId("in", p.name));
    const outputs = drawnPorts(entry, "out", used.get(n.id)?.out ?? []).map((p) => handleId("out", p.name));
    return { ...n, ...cardGeometry(inputs, outputs) };
  });
  return { nodes, edges };
}

function dedupeEdges(edges: PipeEdge[]): PipeEdge[] {
  const seen = new Set<string>();
  return edges.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
}

export function flowToWire(nodes: PipeNode[], edges: PipeEdge[]): WireGraph {
  const wireNodes: WireNode[] = nodes.map((n) => {
    const node: WireNode = {
      id: n.id,
      type: n.data.type,
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
    };
    if (n.data.title) node.title = n.data.title;
    if (n.data.config) node.config = n.data.config;
    return node;
  });
  const wireEdges: WireEdge[] = edges.map((e) => ({
    from: `${e.source}.${portOfHandle(e.sourceHandle)}`,
    to: `${e.target}.${portOfHandle(e.targetHandle)}`,
  }));
  return { nodes: wireNodes, edges: wireEdges };
}

/** "train.classifier" -> "train-classifier", then "-2", "-3"... until unused. Same rule as graph.py. */
export function freshId(nodeType: string, taken: Set<string>): string {
  let base = nodeType.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^[^a-z]+/, "").slice(0, 36);
  base = base.replace(/-+$/, "") || "node";
  if (!taken.has(base) && NODE_ID.test(base)) return base;
  for (let n = 2; ; n += 1) {
    const candidate = `${base}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

function reaches(edges: PipeEdge[], start: string, goal: string): boolean {
  const stack = [start];
  const seen = new Set<string>();
  while (stack.length) {
    const current = stack.pop() as string;
    if (current === goal) return true;
    if (seen.has(current)) continue;
    seen.add(current);
    for (const e of edges) if (e.source === current) stack.push(e.target);
  }
  return false;
}

const article = (word: string): string => (/^[aeiou]/i.test(word) ? "an" : "a");

/**
 * Why a connection is refused, or null when it is fine. The message is what
 * the analyst reads in the toast, so it names the kinds and the port.
 */
export function refusal(
  connection: Connection,
  nodes: PipeNode[],
  edges: PipeEdge[],
  catalog: Catalog,
): string | null {
  const { source, target, sourceHandle, targetHandle } = connection;
  if (!sourceHandle?.startsWith("out:") || !targetHandle?.startsWith("in:")) {
    return "connect an output (right side) to an input (left side)";
  }
  if (source === target) return "a node cannot feed itself";
  const sourceType = nodes.find((n) => n.id === source)?.data.type;
  const targetType = nodes.find((n) => n.id === target)?.data.type;
  const outKind = kindOf(catalog, sourceType, "out", portOfHandle(sourceHandle));
  const inPort = portOfHandle(targetHandle);
  const inKind = kindOf(catalog, targetType, "in", inPort);
  if (!outKind || !inKind) return "that port is not declared by the node type";
  if (outKind !== inKind) return `${article(outKind)} ${outKind} cannot feed ${article(inKind)} ${inKind} input`;
  const many = targetType ? catalog.get(targetType)?.inputs.find((p) => p.name === inPort)?.many : false;
  const taken = edges.filter((e) => e.target === target && e.targetHandle === targetHandle);
  if (!many && taken.length) return `input '${inPort}' already has a connection`;
  if (taken.some((e) => e.source === source && e.sourceHandle === sourceHandle)) {
    return `that output already feeds input '${inPort}'`;
  }
  if (reaches(edges, target, source)) return "that connection would make a loop";
  return null;
}

export function subgraph(nodes: PipeNode[], edges: PipeEdge[], ids: Set<string>, decorations: Map<string, WireNode>): WireGraph {
  const picked = nodes.filter((n) => ids.has(n.id));
  const inner = edges.filter((e) => ids.has(e.source) && ids.has(e.target));
  return withConfig(flowToWire(picked, inner), decorations);
}

/** Python's latest settings for each node ride along, so undo and paste can restore them. */
export function withConfig(graph: WireGraph, decorations: Map<string, WireNode>): WireGraph {
  return {
    ...graph,
    nodes: graph.nodes.map((n) => {
      const config = decorations.get(n.id)?.config;
      return config ? { ...n, config } : n;
    }),
  };
}

export function keepSelection(next: PipeNode[], previous: PipeNode[]): PipeNode[] {
  const selected = new Set(previous.filter((n) => n.selected).map((n) => n.id));
  return selected.size ? next.map((n) => (selected.has(n.id) ? { ...n, selected: true } : n)) : next;
}
