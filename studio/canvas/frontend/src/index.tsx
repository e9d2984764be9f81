// Entry point Streamlit calls (components v2): once when the element mounts and
// again whenever Python sends new data, with the same parentElement. One React
// root per parentElement; each call re-renders it with the new data.
import type { FrontendRenderer, FrontendRendererArgs } from "@streamlit/component-v2-lib";
import { ReactFlowProvider } from "@xyflow/react";
import { StrictMode } from "react";
import { createRoot, type Root } from "react-dom/client";

import { Canvas, type StreamlitApi } from "./Canvas";
import "./styles.css";
import type { CanvasData, CanvasState } from "./types";

type Args = FrontendRendererArgs<CanvasState, CanvasData>;

interface Mounted {
  root: Root;
  container: HTMLElement;
  /** Set while an unmount is scheduled; a render that comes first cancels it. */
  unmountTimer?: number;
  /** Renders so far: the cleanup of a render that is no longer the latest leaves the root alone. */
  renders: number;
  api: { current: StreamlitApi };
  dark: boolean;
}

const mounted = new WeakMap<Args["parentElement"], Mounted>();

/** Streamlit's theme reaches us as CSS variables; a dark background means dark mode. */
function isDark(host: Element): boolean {
  const value = getComputedStyle(host).getPropertyValue("--st-background-color").trim();
  const hex = /^#([0-9a-f]{6})$/i.exec(value);
  const rgb = /rgba?\((\d+),\s*(\d+),\s*(\d+)/i.exec(value);
  const [r, g, b] = hex
    ? [0, 2, 4].map((i) => parseInt(hex[1].slice(i, i + 2), 16))
    : rgb
      ? [rgb[1], rgb[2], rgb[3]].map(Number)
      : [255, 255, 255];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 128;
}

function mount(parent: Args["parentElement"]): Mounted {
  const container = document.createElement("div");
  container.className = "pc-mount";
  parent.appendChild(container);
  const host = parent instanceof ShadowRoot ? parent.host : parent;
  const state: Mounted = {
    root: createRoot(container),
    container,
    api: { current: { setStateValue: () => undefined, setTriggerValue: () => undefined } },
    dark: isDark(host),
    renders: 0,
  };
  mounted.set(parent, state);
  return state;
}

const render: FrontendRenderer<CanvasState, CanvasData> = (args) => {
  const state = mounted.get(args.parentElement) ?? mount(args.parentElement);
  window.clearTimeout(state.unmountTimer);
  state.unmountTimer = undefined;
  state.renders += 1;
  const generation = state.renders;
  state.api.current = {
    setStateValue: (name, value) => args.setStateValue(name, value as CanvasState[typeof name]),
    setTriggerValue: (name, value) => args.setTriggerValue(name, value as CanvasState[typeof name]),
  };
  state.root.render(
    <StrictMode>
      <ReactFlowProvider>
        <Canvas data={args.data} api={state.api} dark={state.dark} />
      </ReactFlowProvider>
    </StrictMode>,
  );
  // Streamlit calls the cleanup of a render that finished after newer data
  // arrived, sometimes only after the newer render ran (two updates back to
  // back): such a cleanup must not unmount the root the newer render uses.
  // A real unmount calls the latest render's cleanup; deferring it lets a
  // render that follows at once keep the same root.
  return () => {
    if (state.renders !== generation) return;
    state.unmountTimer = window.setTimeout(() => {
      if (state.renders !== generation) return;
      state.root.unmount();
      state.container.remove();
      mounted.delete(args.parentElement);
    }, 0);
  };
};

export default render;
