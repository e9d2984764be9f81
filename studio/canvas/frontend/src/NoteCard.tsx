// A sticky note on the canvas: text the analyst writes beside the nodes.
// Double-click to write (a new note opens for writing), drag to move, drag
// its corners when selected to resize, Delete to remove. Saved in the
// pipeline's `ui.notes`; it never takes part in a run.
import { NodeResizer, type NodeProps } from "@xyflow/react";
import { createContext, memo, useContext, useState } from "react";

import type { NoteNode } from "./types";

export interface NoteActions {
  /** The note's text after the analyst finished writing (the textarea lost focus). */
  edit: (id: string, text: string) => void;
  /** The note's box after a resize. */
  resize: (id: string, box: { x: number; y: number; width: number; height: number }) => void;
  /** The note just added, which opens for writing. */
  fresh: string | null;
}

export const NoteContext = createContext<NoteActions | null>(null);

function NoteCardImpl({ id, data, selected }: NodeProps<NoteNode>) {
  const actions = useContext(NoteContext);
  const [editing, setEditing] = useState(actions?.fresh === id);
  const [draft, setDraft] = useState(data.text);
  const start = () => {
    setDraft(data.text); // from the note as it is now (an undo may have changed it since)
    setEditing(true);
  };
  const finish = () => {
    setEditing(false);
    if (draft !== data.text) actions?.edit(id, draft);
  };
  return (
    <div className="pc-note" data-testid={`note-${id}`} onDoubleClick={start}>
      <NodeResizer
        isVisible={!!selected}
        minWidth={140}
        minHeight={70}
        onResizeEnd={(_, box) => actions?.resize(id, box)}
      />
      {editing ? (
        <textarea
          className="pc-note__text nodrag nowheel nopan"
          data-testid={`note-text-${id}`}
          aria-label="Note text"
          placeholder="Write a note…"
          autoFocus
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onBlur={finish}
          onKeyDown={(e) => {
            if (e.key === "Escape") (e.target as HTMLTextAreaElement).blur();
          }}
        />
      ) : (
        <div className="pc-note__body" title="Double-click to edit">
          {data.text || <span className="pc-note__hint">Double-click to write a note</span>}
        </div>
      )}
    </div>
  );
}

export const NoteCard = memo(NoteCardImpl);
