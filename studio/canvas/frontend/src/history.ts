// Undo/redo over graph snapshots. `current` is the last committed graph; a
// commit pushes it onto `past`. Drags move nodes without committing, so one
// drag is one undo step.
import type { WireGraph } from "./types";

const LIMIT = 100;

export class History {
  private past: WireGraph[] = [];
  private future: WireGraph[] = [];

  constructor(public current: WireGraph) {}

  commit(next: WireGraph): void {
    this.past.push(this.current);
    if (this.past.length > LIMIT) this.past.shift();
    this.future = [];
    this.current = next;
  }

  undo(): WireGraph | null {
    const previous = this.past.pop();
    if (!previous) return null;
    this.future.push(this.current);
    this.current = previous;
    return previous;
  }

  redo(): WireGraph | null {
    const next = this.future.pop();
    if (!next) return null;
    this.past.push(this.current);
    this.current = next;
    return next;
  }

  /** Python re-seeded the graph: keep the history if it is the same structure, else start over. */
  rebase(graph: WireGraph): void {
    if (structureKey(graph) !== structureKey(this.current)) {
      this.past = [];
      this.future = [];
    }
    this.current = graph;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }
}

export function structureKey(graph: WireGraph): string {
  const nodes = graph.nodes.map((n) => `${n.id}:${n.type}`).sort();
  const edges = graph.edges.map((e) => `${e.from}>${e.to}`).sort();
  return `${nodes.join(",")}|${edges.join(",")}`;
}

export function sameGraph(a: WireGraph, b: WireGraph): boolean {
  if (structureKey(a) !== structureKey(b)) return false;
  if (JSON.stringify(a.notes ?? []) !== JSON.stringify(b.notes ?? [])) return false;
  const where = new Map(a.nodes.map((n) => [n.id, n.position]));
  return b.nodes.every((n) => {
    const p = where.get(n.id);
    return p !== undefined && p.x === n.position.x && p.y === n.position.y;
  });
}
