// The canvas: React Flow plus the palette, toolbar, context menu and toast.
//
// Python owns the pipeline. Nodes and edges live in this component's state and
// are re-seeded from `data.graph` only when `data.graph_revision` changes;
// status, errors and other decorations reach each card through its own entry
// in a NodeViews store (nodeView.ts), so a status push never moves, re-lays
// out or re-fits anything, and repaints only the cards whose status changed.
// The graph goes back to Python (setStateValue "graph") only after a user edit.
//
// Selection belongs to React Flow: what it highlights is what Delete removes.
// Every change of it goes to Python (setStateValue "selection"), which shows
// the form of the node selected last; Python's own `selected` is applied only
// when it bumps `selection_revision` (e.g. a click in the problems list), so a
// page run that drew the canvas before it saw the latest click can never put
// an older selection back.
import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  ReactFlow,
  applyEdgeChanges,
  applyNodeChanges,
  getNodesBounds,
  useReactFlow,
  useStoreApi,
  type Connection,
  type Edge,
  type EdgeChange,
  type FinalConnectionState,
  type NodeChange,
  type OnSelectionChangeParams,
} from "@xyflow/react";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type MutableRefObject } from "react";

import { CanvasContext, type CanvasContextValue, type HandleRef } from "./context";
import { ContextMenu, type Menu } from "./ContextMenu";
import {
  flowToWire,
  freshId,
  handleId,
  indexCatalog,
  keepSelection,
  portOfHandle,
  portsByNode,
  refusal,
  splitRef,
  subgraph,
  toFlowEdge,
  wireToFlow,
  withConfig,
  type Catalog,
  type Direction,
} from "./graph";
import { History, sameGraph } from "./history";
import { Glyphs } from "./icons";
import { useFillHeight } from "./fillHeight";
import { layeredLayout } from "./layout";
import { NodeCard } from "./NodeCard";
import { NoteCard, NoteContext, type NoteActions } from "./NoteCard";
import { NOTE_SIZE, freshNoteId, isNote, notesToFlow, notesToWire } from "./notes";
import { NodeViews } from "./nodeView";
import { DRAG_MIME, Palette } from "./Palette";
import { boxOf, clearOffset, panToShow, placeClear, readableFit } from "./placement";
import { Toolbar } from "./Toolbar";
import type { CanvasData, CanvasEvent, NoteNode, PipeEdge, PipeNode, WireGraph, WireNode } from "./types";

type AnyNode = PipeNode | NoteNode;

export interface StreamlitApi {
  setStateValue: (name: "graph" | "selection", value: unknown) => void;
  setTriggerValue: (name: "event", value: unknown) => void;
}

const NODE_TYPES = { pipe: NodeCard, note: NoteCard };
const LEAST_HEIGHT = 420;
/** Small enough to leave the pane to the cards in a 1280-px window; it pans and zooms the view. */
const MINIMAP_SIZE = { width: 150, height: 100 };
const MULTI_KEYS = ["Shift", "Meta", "Control"];
/** The wheel pans (an editor's convention); with one of these held, or a pinch, it zooms. */
const ZOOM_KEYS = ["Control", "Meta"];
const CATEGORY_COLORS: Record<string, string> = {
  data: "#0ea5e9",
  prepare: "#14b8a6",
  train: "#6366f1",
  evaluate: "#f59e0b",
  deploy: "#f43f5e",
};

/** The clipboard is shared by every canvas on the page and survives reruns. */
let clipboard: WireGraph | null = null;

/** One string per selection, so an unchanged selection is not sent twice. */
/** What the undo history keeps and Python is sent: the graph with its node settings and the notes. */
function snapshot(nodes: PipeNode[], edges: PipeEdge[], decorations: Map<string, WireNode>, notes: NoteNode[]): WireGraph {
  return { ...withConfig(flowToWire(nodes, edges), decorations), notes: notesToWire(notes) };
}

const selectionKey = (ids: string[], primary: string | null): string => `${primary ?? ""}|${ids.join("\n")}`;

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.isContentEditable);
}

export function Canvas({ data, api, dark }: { data: CanvasData; api: MutableRefObject<StreamlitApi>; dark: boolean }) {
  const rf = useReactFlow<PipeNode, PipeEdge>();
  const flowStore = useStoreApi<PipeNode, PipeEdge>();
  const catalogKey = useMemo(() => JSON.stringify(data.catalog), [data.catalog]);
  const catalog: Catalog = useMemo(() => indexCatalog(data.catalog), [catalogKey]);
  const entries = useMemo(() => data.catalog ?? [], [catalogKey]);
  const decorations = useMemo(() => new Map((data.graph?.nodes ?? []).map((n) => [n.id, n])), [data.graph]);

  // Every card's decorations and status. Taken in as each push renders (the
  // first one included, so cards mount with them; taking the same data twice
  // changes nothing), and announced to the cards whose entry changed on commit.
  const [views] = useState(() => new NodeViews());
  const viewsFrom = useRef<CanvasData | null>(null);
  if (viewsFrom.current !== data) {
    views.update(data.graph?.nodes ?? [], data.status ?? {}, performance.now());
    viewsFrom.current = data;
  }
  useLayoutEffect(() => views.flush(), [views, data]);

  const [seed] = useState(() => wireToFlow(data.graph ?? { nodes: [], edges: [] }, catalog));
  const [nodes, setNodes] = useState<PipeNode[]>(() =>
    seed.nodes.map((n) => (n.id === data.selected ? { ...n, selected: true } : n)),
  );
  const [edges, setEdges] = useState<PipeEdge[]>(seed.edges);
  const [notes, setNotes] = useState<NoteNode[]>(() => notesToFlow(data.graph?.notes));
  const [freshNote, setFreshNote] = useState<string | null>(null);
  const [menu, setMenu] = useState<Menu | null>(null);
  const [toast, setToast] = useState<{ message: string; key: number } | null>(null);
  const [, setHistoryTick] = useState(0);

  const nodesRef = useRef(nodes);
  const notesRef = useRef(notes);
  const edgesRef = useRef(edges);
  const catalogRef = useRef(catalog);
  const decorationsRef = useRef(decorations);
  nodesRef.current = nodes;
  notesRef.current = notes;
  edgesRef.current = edges;
  catalogRef.current = catalog;
  decorationsRef.current = decorations;

  const revision = useRef(data.graph_revision);
  /** The node selected last (the one whose form Python shows), and the selection Python last heard of. */
  const primary = useRef<string | null>(data.selected);
  const sentSelection = useRef(selectionKey(data.selected ? [data.selected] : [], data.selected));
  const selectionRevision = useRef(data.selection_revision);
  const history = useRef<History | null>(null);
  if (history.current === null) {
    history.current = new History(snapshot(seed.nodes, seed.edges, decorations, notes));
  }
  const mountId = useRef(Math.random().toString(36).slice(2, 10));
  const sequence = useRef(0);
  const wrapper = useRef<HTMLDivElement>(null);
  const height = useFillHeight(wrapper, data.height ?? LEAST_HEIGHT, data);

  const replaceNotes = useCallback((next: NoteNode[]) => {
    notesRef.current = next;
    setNotes(next);
  }, []);

  const replace = useCallback((nextNodes: PipeNode[], nextEdges: PipeEdge[]) => {
    nodesRef.current = nextNodes;
    edgesRef.current = nextEdges;
    setNodes(nextNodes);
    setEdges(nextEdges);
  }, []);

  const send = useCallback((graph: WireGraph) => {
    sequence.current += 1;
    api.current.setStateValue("graph", {
      ...graph,
      base_revision: revision.current,
      stamp: `${mountId.current}-${sequence.current}`,
    });
  }, [api]);

  const emit = useCallback((event: CanvasEvent) => api.current.setTriggerValue("event", event), [api]);

  /** Record a user edit: one undo step, and the new graph to Python. */
  const commit = useCallback((nextNodes: PipeNode[], nextEdges: PipeEdge[]) => {
    const graph = snapshot(nextNodes, nextEdges, decorationsRef.current, notesRef.current);
    const log = history.current as History;
    if (sameGraph(graph, log.current)) return;
    log.commit(graph);
    setHistoryTick((t) => t + 1);
    send(graph);
  }, [send]);

  const restore = useCallback((graph: WireGraph | null) => {
    if (!graph) return;
    const next = wireToFlow(graph, catalogRef.current);
    replace(keepSelection(next.nodes, nodesRef.current), next.edges);
    replaceNotes(notesToFlow(graph.notes));
    setHistoryTick((t) => t + 1);
    send(graph);
  }, [replace, replaceNotes, send]);

  /**
   * Fit the view to the nodes, never below a readable zoom (placement.ts). With
   * card sizes known (geometry.ts) it is set before the frame is painted, so the
   * nodes are not drawn twice; ``duration`` animates a fit the user asked for.
   */
  const fitNow = useCallback((fitted: PipeNode[], duration = 0) => {
    const { width, height, panZoom } = flowStore.getState();
    if (!panZoom || !width || !height || !fitted.length) return;
    const bounds = getNodesBounds(fitted.map((n) => (n.measured?.width ? n : { ...n, measured: boxOf(n) })));
    void rf.setViewport(readableFit(bounds, width, height), duration ? { duration } : undefined);
  }, [flowStore, rf]);

  // The first view: fitted once React Flow knows the pane's size. Not React Flow's `fitView` prop, which
  // on an empty canvas waits for the first node and then moves the view away from where it was dropped.
  const fittedOnce = useRef(false);
  useEffect(() => {
    const ready = () => {
      if (fittedOnce.current) return true;
      const { width, height, panZoom } = flowStore.getState();
      if (!panZoom || !width || !height) return false;
      fittedOnce.current = true;
      fitNow(nodesRef.current);
      return true;
    };
    if (ready()) return undefined;
    const unsubscribe = flowStore.subscribe(() => {
      if (ready()) unsubscribe();
    });
    return unsubscribe;
  }, [flowStore, fitNow]);

  // Python replaced the graph (opened a file, rejected an edit...): re-seed, never on status pushes.
  useLayoutEffect(() => {
    if (data.graph_revision === revision.current) return;
    revision.current = data.graph_revision;
    const next = wireToFlow(data.graph ?? { nodes: [], edges: [] }, catalogRef.current);
    const before = new Set(nodesRef.current.map((n) => n.id));
    replace(keepSelection(next.nodes, nodesRef.current), next.edges);
    replaceNotes(notesToFlow(data.graph?.notes));
    (history.current as History).rebase(snapshot(next.nodes, next.edges, decorationsRef.current, notesRef.current));
    setHistoryTick((t) => t + 1);
    if (next.nodes.length > 0 && !next.nodes.some((n) => before.has(n.id))) fitNow(next.nodes);
  }, [data.graph_revision, data.graph, replace, replaceNotes, fitNow]);

  // Python selected a node (the problems list, a file opened): it wins over what is selected, once per request.
  // Declared after the re-seed above, so a request that comes with a new graph applies to the new nodes.
  useLayoutEffect(() => {
    if (data.selection_revision === selectionRevision.current) return;
    selectionRevision.current = data.selection_revision;
    primary.current = data.selected;
    replace(nodesRef.current.map((n) => (!!n.selected === (n.id === data.selected) ? n : { ...n, selected: n.id === data.selected })),
      edgesRef.current);
    // and it is brought into sight: the analyst clicked its problem to look at it
    const picked = nodesRef.current.find((n) => n.id === data.selected);
    const { width, height, panZoom } = flowStore.getState();
    if (picked && panZoom && width && height) {
      const view = panToShow(boxOf(picked), rf.getViewport(), width, height);
      if (view) void rf.setViewport(view, { duration: 200 });
    }
  }, [data.selection_revision, data.selected, replace, flowStore, rf]);

  // Whatever changed the selection (a click, shift-click, box, select all, paste, delete, Python's request),
  // Python hears of it. React Flow calls this from an effect once the highlighted cards have changed.
  const onSelectionChange = useCallback(({ nodes: picked }: OnSelectionChangeParams<AnyNode, PipeEdge>) => {
    const ids = picked.filter((n) => !isNote(n)).map((n) => n.id);
    const main = primary.current && ids.includes(primary.current) ? primary.current : (ids[ids.length - 1] ?? null);
    primary.current = main;
    const key = selectionKey(ids, main);
    if (key === sentSelection.current) return;
    sentSelection.current = key;
    sequence.current += 1;
    api.current.setStateValue("selection", { nodes: ids, primary: main, stamp: `${mountId.current}-${sequence.current}` });
  }, [api]);

  // Read-only hooks for browser tests: the viewport and node positions.
  useEffect(() => {
    const helpers = {
      getViewport: () => ({ ...rf.getViewport() }),
      getNodes: () =>
        (rf.getNodes() as AnyNode[]).filter((n): n is PipeNode => !isNote(n))
          .map((n) => ({ id: n.id, type: n.data.type, position: { ...n.position }, selected: !!n.selected })),
      getNotes: () => notesToWire(notesRef.current),
      getEdges: () => flowToWire([], rf.getEdges()).edges,
    };
    (window as unknown as { __pipecanvas?: typeof helpers }).__pipecanvas = helpers;
  }, [rf]);

  useEffect(() => {
    if (!toast) return undefined;
    const timer = window.setTimeout(() => setToast(null), 3500);
    return () => window.clearTimeout(timer);
  }, [toast]);

  const refuse = useCallback((message: string) => {
    setToast({ message: `Cannot connect: ${message}`, key: Date.now() });
    emit({ type: "connection_refused", message });
  }, [emit]);

  // ---- React Flow callbacks --------------------------------------------------

  const onNodesChange = useCallback((all: NodeChange<AnyNode>[]) => {
    // Notes take their own changes (select, move, resize); the rest are the pipeline's cards.
    const noteIds = new Set(notesRef.current.map((n) => n.id));
    const onNote = (c: NodeChange<AnyNode>) => ("id" in c ? noteIds.has(c.id) : c.item.type === "note");
    const noteChanges = all.filter(onNote) as NodeChange<NoteNode>[];
    if (noteChanges.length) replaceNotes(applyNodeChanges(noteChanges, notesRef.current));
    const changes = all.filter((c) => !onNote(c)) as NodeChange<PipeNode>[];
    if (!changes.length) return;
    // The node a click (or shift-click) just selected is the one whose form is shown.
    for (const c of changes) if (c.type === "select" && c.selected) primary.current = c.id;
    // A card measured at another size than geometry.ts said: its measured handle positions win from now on.
    const resized = new Set(changes.flatMap((c) => (c.type === "dimensions" && c.dimensions ? [c.id] : [])));
    setNodes((current) => {
      let next = applyNodeChanges(changes, current);
      if (resized.size) next = next.map((n) => (n.handles && resized.has(n.id) ? { ...n, handles: undefined } : n));
      nodesRef.current = next;
      return next;
    });
  }, [replaceNotes]);

  const onEdgesChange = useCallback((changes: EdgeChange<PipeEdge>[]) => {
    setEdges((current) => {
      const next = applyEdgeChanges(changes, current);
      edgesRef.current = next;
      return next;
    });
  }, []);

  const onNodeDragStop = useCallback((_: unknown, __: AnyNode, dragged: AnyNode[]) => {
    const moved = new Map(dragged.map((n) => [n.id, n.position]));
    const next = nodesRef.current.map((n) => (moved.has(n.id) ? { ...n, position: moved.get(n.id)! } : n));
    replaceNotes(notesRef.current.map((n) => (moved.has(n.id) ? { ...n, position: moved.get(n.id)! } : n)));
    commit(next, edgesRef.current);
  }, [commit, replaceNotes]);

  const isValidConnection = useCallback(
    (c: Connection | Edge) => refusal(c as Connection, nodesRef.current, edgesRef.current, catalogRef.current) === null,
    [],
  );

  const onConnect = useCallback((c: Connection) => {
    const reason = refusal(c, nodesRef.current, edgesRef.current, catalogRef.current);
    if (reason) return refuse(reason);
    const edge = toFlowEdge(
      `${c.source}.${portOfHandle(c.sourceHandle)}`,
      `${c.target}.${portOfHandle(c.targetHandle)}`,
      catalogRef.current,
      nodesRef.current,
    );
    const next = [...edgesRef.current, edge];
    replace(nodesRef.current, next);
    commit(nodesRef.current, next);
  }, [commit, refuse, replace]);

  const onConnectEnd = useCallback((_: MouseEvent | TouchEvent, state: FinalConnectionState) => {
    const from = state.fromHandle;
    const to = state.toHandle;
    if (state.isValid !== false || !from || !to) return;
    if (from.type === to.type) {
      return refuse(from.type === "source" ? "an output cannot feed another output" : "an input cannot feed another input");
    }
    const [out, inp] = from.type === "source" ? [from, to] : [to, from];
    const reason = refusal(
      { source: out.nodeId, sourceHandle: out.id ?? null, target: inp.nodeId, targetHandle: inp.id ?? null },
      nodesRef.current,
      edgesRef.current,
      catalogRef.current,
    );
    if (reason) refuse(reason);
  }, [refuse]);

  // ---- editing commands -------------------------------------------------------

  const addNode = useCallback((type: string, position: { x: number; y: number }) => {
    const id = freshId(type, new Set(nodesRef.current.map((n) => n.id)));
    const node: PipeNode = { id, type: "pipe", position, data: { type }, selected: true };
    primary.current = id;
    const next = [...nodesRef.current.map((n) => (n.selected ? { ...n, selected: false } : n)), node];
    replace(next, edgesRef.current);
    commit(next, edgesRef.current);
  }, [commit, replace]);

  /** The middle of the pane in flow coordinates (null before the pane is drawn). */
  const viewCentre = useCallback(() => {
    const box = wrapper.current?.querySelector(".react-flow")?.getBoundingClientRect();
    return box ? rf.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 }) : null;
  }, [rf]);

  const addAtCenter = useCallback((type: string) => {
    const centre = viewCentre();
    if (!centre) return;
    const spot = placeClear(boxOf({ position: { x: centre.x - 110, y: centre.y - 30 } }), nodesRef.current.map(boxOf));
    addNode(type, { x: Math.round(spot.x), y: Math.round(spot.y) });
  }, [addNode, viewCentre]);

  /** A new note in the middle of the view, clear of the cards, open for writing. */
  const addNote = useCallback(() => {
    const centre = viewCentre();
    if (!centre) return;
    const here = { x: centre.x - NOTE_SIZE.width / 2, y: centre.y - NOTE_SIZE.height / 2, ...NOTE_SIZE };
    const spot = placeClear(here, [...nodesRef.current, ...notesRef.current].map(boxOf));
    const id = freshNoteId(new Set(notesRef.current.map((n) => n.id)));
    const note: NoteNode = {
      id, type: "note", position: { x: Math.round(spot.x), y: Math.round(spot.y) }, ...NOTE_SIZE,
      data: { text: "" }, selected: true,
    };
    setFreshNote(id);
    replace(nodesRef.current.map((n) => (n.selected ? { ...n, selected: false } : n)), edgesRef.current);
    replaceNotes([...notesRef.current.map((n) => (n.selected ? { ...n, selected: false } : n)), note]);
    commit(nodesRef.current, edgesRef.current);
  }, [commit, replace, replaceNotes, viewCentre]);

  const noteActions: NoteActions = useMemo(() => ({
    fresh: freshNote,
    edit: (id, text) => {
      replaceNotes(notesRef.current.map((n) => (n.id === id ? { ...n, data: { text } } : n)));
      commit(nodesRef.current, edgesRef.current);
    },
    resize: (id, { x, y, width, height }) => {
      replaceNotes(notesRef.current.map((n) => (n.id === id ? { ...n, position: { x, y }, width, height } : n)));
      commit(nodesRef.current, edgesRef.current);
    },
  }), [commit, freshNote, replaceNotes]);

  const removeItems = useCallback((nodeIds: Set<string>, edgeIds: Set<string>) => {
    if (!nodeIds.size && !edgeIds.size) return;
    if (notesRef.current.some((n) => nodeIds.has(n.id))) replaceNotes(notesRef.current.filter((n) => !nodeIds.has(n.id)));
    const nextNodes = nodesRef.current.filter((n) => !nodeIds.has(n.id));
    const nextEdges = edgesRef.current.filter(
      (e) => !edgeIds.has(e.id) && !nodeIds.has(e.source) && !nodeIds.has(e.target),
    );
    replace(nextNodes, nextEdges);
    commit(nextNodes, nextEdges);
  }, [commit, replace, replaceNotes]);

  const deleteSelected = useCallback(() => {
    removeItems(
      new Set([...nodesRef.current, ...notesRef.current].filter((n) => n.selected).map((n) => n.id)),
      new Set(edgesRef.current.filter((e) => e.selected).map((e) => e.id)),
    );
  }, [removeItems]);

  const selectedIds = () => new Set(nodesRef.current.filter((n) => n.selected).map((n) => n.id));

  const copy = useCallback(() => {
    const ids = selectedIds();
    if (!ids.size) return;
    clipboard = subgraph(nodesRef.current, edgesRef.current, ids, decorationsRef.current);
  }, []);

  /** Add a copy of ``graph``: offset from where it was and clear of every card on the canvas. */
  const paste = useCallback((graph: WireGraph | null) => {
    if (!graph || !graph.nodes.length) return;
    const sizes = new Map(nodesRef.current.map((n) => [n.id, n.measured]));
    const moving = graph.nodes.map((n) => boxOf({ position: n.position, measured: sizes.get(n.id) }));
    const { dx, dy } = clearOffset(moving, nodesRef.current.map(boxOf));
    const taken = new Set(nodesRef.current.map((n) => n.id));
    const renamed = new Map<string, string>();
    const added: PipeNode[] = graph.nodes.map((n) => {
      const id = freshId(n.type, taken);
      taken.add(id);
      renamed.set(n.id, id);
      return {
        id,
        type: "pipe",
        position: { x: n.position.x + dx, y: n.position.y + dy },
        data: { type: n.type, title: n.title, config: n.config },
        selected: true,
      };
    });
    const allNodes = [...nodesRef.current.map((n) => (n.selected ? { ...n, selected: false } : n)), ...added];
    primary.current = added[added.length - 1].id;
    const addedEdges = graph.edges.flatMap((e) => {
      const [source, sourcePort] = splitRef(e.from);
      const [target, targetPort] = splitRef(e.to);
      const s = renamed.get(source);
      const t = renamed.get(target);
      return s && t ? [toFlowEdge(`${s}.${sourcePort}`, `${t}.${targetPort}`, catalogRef.current, allNodes)] : [];
    });
    const allEdges = [...edgesRef.current.map((e) => (e.selected ? { ...e, selected: false } : e)), ...addedEdges];
    replace(allNodes, allEdges);
    commit(allNodes, allEdges);
  }, [commit, replace]);

  const pasteClipboard = useCallback(() => paste(clipboard), [paste]);

  const duplicate = useCallback(() => {
    const ids = selectedIds();
    paste(subgraph(nodesRef.current, edgesRef.current, ids, decorationsRef.current));
  }, [paste]);

  const autoLayout = useCallback(() => {
    const next = layeredLayout(nodesRef.current, edgesRef.current);
    replace(next, edgesRef.current);
    commit(next, edgesRef.current);
    fitNow(next, 250);
  }, [commit, replace, fitNow]);

  const fit = useCallback(() => fitNow(nodesRef.current, 250), [fitNow]);
  const undo = useCallback(() => restore((history.current as History).undo()), [restore]);
  const redo = useCallback(() => restore((history.current as History).redo()), [restore]);

  const selectAll = useCallback(() => {
    replace(nodesRef.current.map((n) => ({ ...n, selected: true })), edgesRef.current);
  }, [replace]);

  // ---- keyboard, menus, selection -------------------------------------------------

  /** Keep keyboard focus on the canvas so shortcuts keep working after a command. */
  const focusCanvas = useCallback(() => wrapper.current?.focus({ preventScroll: true }), []);

  const onKeyDown = useCallback((event: React.KeyboardEvent) => {
    // Keys typed in our inputs must not reach Streamlit's page shortcuts (e.g. "r" reruns).
    if (isTyping(event.target)) {
      event.stopPropagation();
      return;
    }
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    const actions: Record<string, () => void> = {};
    if (!mod && (key === "delete" || key === "backspace")) actions.run = deleteSelected;
    else if (mod && key === "c") actions.run = copy;
    else if (mod && key === "v") actions.run = pasteClipboard;
    else if (mod && key === "d") actions.run = duplicate;
    else if (mod && key === "a") actions.run = selectAll;
    else if (mod && ((key === "z" && event.shiftKey) || key === "y")) actions.run = redo;
    else if (mod && key === "z") actions.run = undo;
    else if (key === "escape") actions.run = () => setMenu(null);
    if (!actions.run) return;
    event.preventDefault();
    event.stopPropagation();
    focusCanvas(); // before the run: deleting the focused node would drop focus to the page
    actions.run();
  }, [copy, deleteSelected, duplicate, focusCanvas, pasteClipboard, redo, selectAll, undo]);

  const openMenu = useCallback((event: React.MouseEvent | MouseEvent, target: Menu["target"], id?: string) => {
    event.preventDefault();
    const box = wrapper.current?.getBoundingClientRect();
    if (!box) return;
    setMenu({ x: event.clientX - box.left, y: event.clientY - box.top, target, id });
  }, []);

  const onNodeContextMenu = useCallback((event: React.MouseEvent, node: AnyNode) => {
    if (!node.selected) {
      if (!isNote(node)) primary.current = node.id;
      replace(nodesRef.current.map((n) => ({ ...n, selected: n.id === node.id })), edgesRef.current);
      replaceNotes(notesRef.current.map((n) => ({ ...n, selected: n.id === node.id })));
    }
    openMenu(event, "node", node.id);
  }, [openMenu, replace, replaceNotes]);

  // Stable handlers: a status push re-renders this component, and new functions would reach React Flow's store.
  const onSelectionContextMenu = useCallback((e: React.MouseEvent) => openMenu(e, "node"), [openMenu]);
  const onEdgeContextMenu = useCallback((e: React.MouseEvent, edge: PipeEdge) => openMenu(e, "edge", edge.id), [openMenu]);
  const onPaneContextMenu = useCallback((e: React.MouseEvent | MouseEvent) => openMenu(e, "pane"), [openMenu]);
  const closeMenu = useCallback(() => setMenu(null), []);

  const onNodeClick = closeMenu;
  const onPaneClick = closeMenu;

  const onDragOver = useCallback((event: React.DragEvent) => {
    if (!event.dataTransfer.types.includes(DRAG_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
  }, []);

  const onDrop = useCallback((event: React.DragEvent) => {
    const type = event.dataTransfer.getData(DRAG_MIME);
    if (!type) return;
    event.preventDefault();
    const at = rf.screenToFlowPosition({ x: event.clientX, y: event.clientY });
    // The card's header lands under the pointer.
    addNode(type, { x: Math.round(at.x - 110), y: Math.round(at.y - 24) });
  }, [addNode, rf]);

  // ---- derived view -------------------------------------------------------------

  const edgePorts = useMemo(() => portsByNode(edges), [edges]);

  const accepts = useCallback((from: HandleRef, nodeId: string, direction: Direction, port: string) => {
    const fromDirection: Direction = from.type === "source" ? "out" : "in";
    if (fromDirection === direction) return false;
    const here = handleId(direction, port);
    const c: Connection = fromDirection === "out"
      ? { source: from.nodeId, sourceHandle: from.id ?? null, target: nodeId, targetHandle: here }
      : { source: nodeId, sourceHandle: here, target: from.nodeId, targetHandle: from.id ?? null };
    return refusal(c, nodesRef.current, edgesRef.current, catalogRef.current) === null;
  }, []);

  const context: CanvasContextValue = useMemo(
    () => ({ catalog, views, edgePorts, accepts }),
    [catalog, views, edgePorts, accepts],
  );

  // Edges into a running step are animated; a push that changes no running step keeps the same array.
  const running = Object.entries(data.status ?? {})
    .filter(([, s]) => s?.state === "running")
    .map(([id]) => id)
    .sort()
    .join("\n");
  const shownEdges = useMemo(() => {
    if (!running) return edges;
    const ids = new Set(running.split("\n"));
    return edges.map((e) => (ids.has(e.target) ? { ...e, animated: true } : e));
  }, [edges, running]);

  // Notes first: drawn under the cards.
  const shownNodes = useMemo<AnyNode[]>(() => (notes.length ? [...notes, ...nodes] : nodes), [notes, nodes]);

  const log = history.current as History;
  const miniColor = useCallback(
    (n: AnyNode) => (isNote(n) ? "#fde047" : CATEGORY_COLORS[catalogRef.current.get((n as PipeNode).data.type)?.category ?? ""] ?? "#94a3b8"),
    [],
  );

  return (
    <CanvasContext.Provider value={context}>
     <NoteContext.Provider value={noteActions}>
      <div
        ref={wrapper}
        className={`pc-root ${dark ? "pc-dark" : "pc-light"}`}
        style={{ height }}
        tabIndex={-1}
        onKeyDown={onKeyDown}
        onMouseDown={(e) => {
          setMenu(null);
          if (!isTyping(e.target)) wrapper.current?.focus({ preventScroll: true });
        }}
        data-testid="pipecanvas"
      >
        <Palette entries={entries} onAdd={addAtCenter} />
        <div className="pc-flow" onDragOver={onDragOver} onDrop={onDrop}>
          <ReactFlow<AnyNode, PipeEdge>
            nodes={shownNodes}
            edges={shownEdges}
            nodeTypes={NODE_TYPES}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onConnectEnd={onConnectEnd}
            isValidConnection={isValidConnection}
            onNodeDragStop={onNodeDragStop}
            onNodeClick={onNodeClick}
            onPaneClick={onPaneClick}
            onSelectionChange={onSelectionChange}
            onNodeContextMenu={onNodeContextMenu}
            onSelectionContextMenu={onSelectionContextMenu}
            onEdgeContextMenu={onEdgeContextMenu}
            onPaneContextMenu={onPaneContextMenu}
            onMoveStart={closeMenu}
            panOnScroll
            zoomOnScroll={false}
            zoomActivationKeyCode={ZOOM_KEYS}
            minZoom={0.05}
            maxZoom={2}
            deleteKeyCode={null}
            selectionKeyCode="Shift"
            multiSelectionKeyCode={MULTI_KEYS}
            disableKeyboardA11y
            connectionRadius={28}
            colorMode={dark ? "dark" : "light"}
          >
            <Background variant={BackgroundVariant.Dots} gap={20} size={1.3} />
            <MiniMap<AnyNode> pannable zoomable nodeColor={miniColor} nodeBorderRadius={6} ariaLabel="Minimap" style={MINIMAP_SIZE} />
            <Controls showInteractive={false} showFitView={false} />
            <Toolbar undo={undo} redo={redo} canUndo={log.canUndo} canRedo={log.canRedo} layout={autoLayout} fit={fit} addNote={addNote} />
            {nodes.length === 0 ? (
              <div className="pc-empty">
                <strong>Start your pipeline</strong>
                <span>Drag a node from the palette, e.g. “Sample dataset”.</span>
              </div>
            ) : null}
          </ReactFlow>
        </div>
        {menu ? (
          <ContextMenu
            menu={menu}
            onClose={() => {
              setMenu(null);
              focusCanvas();
            }}
            actions={{
              duplicate,
              copy,
              paste: clipboard ? pasteClipboard : null,
              deleteNodes: deleteSelected,
              deleteEdge: () => menu.id && removeItems(new Set(), new Set([menu.id])),
              autoLayout,
              fit,
              selectAll,
            }}
          />
        ) : null}
        {toast ? (
          <div key={toast.key} className="pc-toast" role="status" data-testid="canvas-toast">
            <Glyphs.ban size={14} aria-hidden="true" />
            {toast.message}
          </div>
        ) : null}
      </div>
     </NoteContext.Provider>
    </CanvasContext.Provider>
  );
}
