// The node palette: catalog entries grouped by category, filtered by a search
// box, dragged onto the canvas (or double-clicked to drop in the middle).
import { memo, useMemo, useState } from "react";

import { CATEGORY_LABELS, CATEGORY_ORDER } from "./context";
import { Glyphs, NodeIcon } from "./icons";
import type { CatalogEntry } from "./types";

export const DRAG_MIME = "application/x-pipecanvas-node";

/** Everything a search word may match: type id, title, description, category and keywords (algorithms too). */
function searchText(e: CatalogEntry): string {
  return [e.type, e.title, e.description, e.category, ...(e.keywords ?? [])].join(" ").toLowerCase().replace(/[_.]/g, " ");
}

function groups(entries: CatalogEntry[], query: string): [string, CatalogEntry[]][] {
  const words = query.toLowerCase().replace(/[_.]/g, " ").split(/\s+/).filter(Boolean);
  const texts = new Map(entries.map((e) => [e, searchText(e)]));
  const matches = entries.filter((e) => words.every((w) => (texts.get(e) as string).includes(w)));
  const order = [...CATEGORY_ORDER, ...new Set(matches.map((e) => e.category).filter((c) => !CATEGORY_ORDER.includes(c)))];
  return order
    .map((category): [string, CatalogEntry[]] => [category, matches.filter((e) => e.category === category)])
    .filter(([, items]) => items.length > 0);
}

function PaletteImpl({ entries, onAdd }: { entries: CatalogEntry[]; onAdd: (type: string) => void }) {
  const [query, setQuery] = useState("");
  const grouped = useMemo(() => groups(entries, query), [entries, query]);
  return (
    <aside className="pc-palette" aria-label="Node palette">
      <div className="pc-palette__search">
        <Glyphs.search size={14} aria-hidden="true" />
        <input
          type="search"
          value={query}
          placeholder="Search nodes"
          aria-label="Search nodes"
          data-testid="palette-search"
          onChange={(e) => setQuery(e.target.value)}
        />
      </div>
      <div className="pc-palette__list">
        {grouped.map(([category, items]) => (
          <section key={category} className={`pc-palette__group pc-cat-${category}`}>
            <h4>{CATEGORY_LABELS[category] ?? category}</h4>
            {items.map((entry) => (
              <div
                key={entry.type}
                className="pc-palette__item"
                draggable
                role="button"
                tabIndex={0}
                data-testid={`palette-${entry.type}`}
                title={`${entry.description}\n\nDrag onto the canvas, or double-click to add.`}
                onDragStart={(e) => {
                  e.dataTransfer.setData(DRAG_MIME, entry.type);
                  e.dataTransfer.setData("text/plain", entry.type);
                  e.dataTransfer.effectAllowed = "copyMove";
                }}
                onDoubleClick={() => onAdd(entry.type)}
                onKeyDown={(e) => {
                  if (e.key === "Enter") onAdd(entry.type);
                }}
              >
                <span className="pc-palette__icon">
                  <NodeIcon name={entry.icon} size={15} />
                </span>
                <span className="pc-palette__text">
                  <span className="pc-palette__title">{entry.title}</span>
                  <span className="pc-palette__type">{entry.type}</span>
                </span>
                {entry.resources?.gpu ? <span className="pc-gpu pc-gpu--small">GPU</span> : null}
              </div>
            ))}
          </section>
        ))}
        {grouped.length === 0 ? <p className="pc-palette__empty">No node matches “{query}”.</p> : null}
      </div>
    </aside>
  );
}

export const Palette = memo(PaletteImpl);
