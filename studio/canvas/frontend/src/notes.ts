// Sticky notes: the wire format (the pipeline's `ui.notes`) <-> React Flow
// nodes of type "note". Notes are canvas furniture: no ports, no run state,
// never sent to Python as pipeline nodes.
import type { NoteNode, WireNote } from "./types";

export const NOTE_SIZE = { width: 240, height: 140 };

export function notesToFlow(notes: WireNote[] | undefined): NoteNode[] {
  return (notes ?? []).map((n) => ({
    id: n.id,
    type: "note",
    position: { x: Number(n.position?.x) || 0, y: Number(n.position?.y) || 0 },
    width: Number(n.width) || NOTE_SIZE.width,
    height: Number(n.height) || NOTE_SIZE.height,
    data: { text: n.text ?? "" },
  }));
}

export function notesToWire(notes: NoteNode[]): WireNote[] {
  return notes.map((n) => ({
    id: n.id,
    text: n.data.text,
    position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
    width: Math.round(n.width ?? n.measured?.width ?? NOTE_SIZE.width),
    height: Math.round(n.height ?? n.measured?.height ?? NOTE_SIZE.height),
  }));
}

/** "note_1", "note_2"...: the underscore keeps them apart from node ids, which cannot have one. */
export function freshNoteId(taken: Set<string>): string {
  for (let n = 1; ; n += 1) if (!taken.has(`note_${n}`)) return `note_${n}`;
}

export const isNote = (node: { type?: string }): boolean => node.type === "note";
