// Undo, redo, add a note, auto-layout and fit view, top right of the canvas.
import { Panel } from "@xyflow/react";

import { Glyphs } from "./icons";

export function Toolbar(props: {
  undo: () => void;
  redo: () => void;
  canUndo: boolean;
  canRedo: boolean;
  layout: () => void;
  fit: () => void;
  addNote: () => void;
}) {
  return (
    <Panel position="top-right" className="pc-toolbar">
      <button type="button" onClick={props.undo} disabled={!props.canUndo} title="Undo (Ctrl+Z)" data-testid="canvas-undo">
        <Glyphs.undo size={15} aria-hidden="true" />
      </button>
      <button type="button" onClick={props.redo} disabled={!props.canRedo} title="Redo (Ctrl+Shift+Z)" data-testid="canvas-redo">
        <Glyphs.redo size={15} aria-hidden="true" />
      </button>
      <span className="pc-toolbar__sep" />
      <button type="button" onClick={props.addNote} title="Add a sticky note" data-testid="canvas-add-note">
        <Glyphs.note size={15} aria-hidden="true" />
        <span>Note</span>
      </button>
      <button type="button" onClick={props.layout} title="Arrange left to right" data-testid="canvas-layout">
        <Glyphs.layout size={15} aria-hidden="true" />
        <span>Auto-layout</span>
      </button>
      <button type="button" onClick={props.fit} title="Fit the pipeline in view" data-testid="canvas-fit">
        <Glyphs.maximize size={15} aria-hidden="true" />
        <span>Fit view</span>
      </button>
    </Panel>
  );
}
