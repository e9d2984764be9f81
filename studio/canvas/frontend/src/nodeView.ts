// What each card shows besides its React Flow data: the decorations Python
// computed (title, errors, warnings, GPUs) and its run status. Kept outside the
// node objects, so a status push never touches them, and per node, so a push
// re-renders only the cards whose entry changed: with 250 nodes a new status
// for one step repaints one card, not 250.
import { useCallback, useSyncExternalStore } from "react";

import type { NodeStatus, WireNode } from "./types";

export interface NodeView {
  decoration?: WireNode;
  status?: NodeStatus;
  /** performance.now() when this status arrived, so a running badge can tick on from it. */
  since: number;
}

interface Keys {
  decoration: string;
  status: string;
}

export class NodeViews {
  private views = new Map<string, NodeView>();
  private keys = new Map<string, Keys>();
  private listeners = new Map<string, Set<() => void>>();
  private pending = new Set<string>();

  /**
   * Take Python's latest decorations and statuses; an entry whose content is
   * unchanged keeps its object (and its `since`). Readers see the new entries
   * at once; subscribed cards hear of them on `flush`, after React commits.
   */
  update(decorations: WireNode[], status: Record<string, NodeStatus>, now: number): void {
    const byId = new Map(decorations.map((d) => [d.id, d]));
    const ids = new Set([...byId.keys(), ...Object.keys(status)]);
    for (const id of this.views.keys()) {
      if (!ids.has(id)) {
        this.views.delete(id);
        this.keys.delete(id);
        this.pending.add(id);
      }
    }
    for (const id of ids) {
      const decoration = byId.get(id);
      const next: Keys = { decoration: JSON.stringify(decoration ?? null), status: JSON.stringify(status[id] ?? null) };
      const before = this.keys.get(id);
      if (before && before.decoration === next.decoration && before.status === next.status) continue;
      const previous = this.views.get(id);
      const since = before && before.status === next.status && previous ? previous.since : now;
      this.views.set(id, { decoration, status: status[id], since });
      this.keys.set(id, next);
      this.pending.add(id);
    }
  }

  /** Tell the cards whose entry changed since the last flush. */
  flush(): void {
    const changed = [...this.pending];
    this.pending.clear();
    for (const id of changed) this.listeners.get(id)?.forEach((listener) => listener());
  }

  get(id: string): NodeView | undefined {
    return this.views.get(id);
  }

  subscribe(id: string, listener: () => void): () => void {
    const set = this.listeners.get(id) ?? new Set();
    set.add(listener);
    this.listeners.set(id, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(id);
    };
  }
}

/** One card's view; the card re-renders only when this entry changes. */
export function useNodeView(views: NodeViews, id: string): NodeView | undefined {
  const subscribe = useCallback((listener: () => void) => views.subscribe(id, listener), [views, id]);
  const read = useCallback(() => views.get(id), [views, id]);
  return useSyncExternalStore(subscribe, read);
}
