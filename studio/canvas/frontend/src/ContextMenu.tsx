// The right-click menu: node (duplicate, copy, delete), connection (delete)
// or empty canvas (paste, select all, auto-layout, fit view).

export interface Menu {
  x: number;
  y: number;
  target: "node" | "edge" | "pane";
  id?: string;
}

export interface MenuActions {
  duplicate: () => void;
  copy: () => void;
  paste: (() => void) | null;
  deleteNodes: () => void;
  deleteEdge: () => void;
  autoLayout: () => void;
  fit: () => void;
  selectAll: () => void;
}

export function ContextMenu({ menu, actions, onClose }: { menu: Menu; actions: MenuActions; onClose: () => void }) {
  const item = (label: string, run: (() => void) | null, testid: string, hint?: string, danger = false) =>
    run ? (
      <button
        type="button"
        role="menuitem"
        className={danger ? "pc-menu__danger" : undefined}
        data-testid={testid}
        onClick={() => {
          onClose();
          run();
        }}
      >
        <span>{label}</span>
        {hint ? <kbd>{hint}</kbd> : null}
      </button>
    ) : null;
  return (
    <div
      className="pc-menu"
      role="menu"
      style={{ left: menu.x, top: menu.y }}
      data-testid="canvas-menu"
      onMouseDown={(e) => e.stopPropagation()}
      onContextMenu={(e) => e.preventDefault()}
    >
      {menu.target === "node" ? (
        <>
          {item("Duplicate", actions.duplicate, "menu-duplicate", "Ctrl+D")}
          {item("Copy", actions.copy, "menu-copy", "Ctrl+C")}
          {item("Delete", actions.deleteNodes, "menu-delete", "Del", true)}
        </>
      ) : null}
      {menu.target === "edge" ? item("Delete connection", actions.deleteEdge, "menu-delete", "Del", true) : null}
      {menu.target === "pane" ? (
        <>
          {item("Paste", actions.paste, "menu-paste", "Ctrl+V")}
          {item("Select all", actions.selectAll, "menu-select-all", "Ctrl+A")}
          {item("Auto-layout", actions.autoLayout, "menu-layout")}
          {item("Fit view", actions.fit, "menu-fit")}
        </>
      ) : null}
    </div>
  );
}
