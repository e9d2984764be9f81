// The canvas fills the window from where it starts down to the bottom edge, as
// an editor's canvas does; Python only says the least height it may have.
import { useCallback, useLayoutEffect, useState, type RefObject } from "react";

const BOTTOM_GAP = 16;

/** The element's top in page coordinates: its distance from the top of every scroll container above it. */
function pageTop(el: Element): number {
  let top = el.getBoundingClientRect().top;
  let node: Node | null = el.parentNode;
  while (node) {
    if (node instanceof Element) top += node.scrollTop;
    node = node instanceof ShadowRoot ? node.host : node.parentNode;
  }
  return top;
}

/** The height that takes ``ref`` to the window's bottom edge (never below ``least``), kept on resizes and pushes. */
export function useFillHeight(ref: RefObject<HTMLElement | null>, least: number, pushes: unknown): number {
  const [height, setHeight] = useState(least);
  const measure = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    const next = Math.max(least, Math.round(window.innerHeight - pageTop(el) - BOTTOM_GAP));
    setHeight((current) => (current === next ? current : next));
  }, [ref, least]);
  // Every push from Python may have moved what sits above the canvas (a warning, a question).
  useLayoutEffect(measure, [measure, pushes]);
  useLayoutEffect(() => {
    window.addEventListener("resize", measure);
    // Streamlit's page content grows and shrinks above us without a push (e.g. an alert drawn late).
    const content = document.querySelector('[data-testid="stMainBlockContainer"]');
    const observer = content ? new ResizeObserver(measure) : null;
    if (content) observer?.observe(content);
    return () => {
      window.removeEventListener("resize", measure);
      observer?.disconnect();
    };
  }, [measure]);
  return height;
}
