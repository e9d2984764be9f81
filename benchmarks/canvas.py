"""How fast the studio canvas draws a 250-node pipeline, and shows a step's new state, in headless Chromium.

Run from the repository root with the project's virtual environment::

    .venv/bin/python benchmarks/canvas.py [--repeats 5] [--changes 15] [--json results.json]

It starts the real studio (``streamlit run studio/app.py``) on a free loopback
port with a throw-away ``PIPECANVAS_HOME`` and drives Debian's ``chromium``
through Playwright, as the browser tests do. Two things are measured:

* **Drawing.** A fresh browser session opens the studio and, as soon as the
  empty studio is usable, opens a generated 250-node pipeline file through the
  sidebar's uploader, as a user would (a page reload starts a new Streamlit
  session, so a pipeline cannot already be there when a page loads). A script
  installed before the page's own notes, in ``performance.now()`` from
  navigation start, when the empty studio is ready, when the file input fires,
  when the canvas's new data arrives, when all 250 nodes are drawn (the view,
  fitted at a readable zoom, shows the pipeline's start) with all 300 edges,
  and when a wheel event on the canvas moves the view (it pans: interactive). Then it switches to the Runs page and back, so the canvas
  mounts with the 250 nodes already in the session. Between the studio's
  sessions, a fresh session of the peer, a bare Streamlit page (a title and a
  file uploader, the same Streamlit and server flags), is timed from
  navigation start until both are there: what any Streamlit page costs here
  before a line of the studio runs. A fresh browser context has an empty HTTP
  cache, so it fetches every one of Streamlit's script chunks the page's
  widgets use (a first visit); the run's address is also reloaded in the same
  context (the cache warm, a new Streamlit session), as a user's reload is.
* **Status delay.** A run of that pipeline is written straight into the run
  store (state ``running``, this process's pid as its owner, so the studio
  polls it), opened with the Runs page's "Open on canvas", and then one step's
  state is changed at a time with ``RunStore.set_step``; the delay is from just
  before that write to the moment the node's status badge shows the new state,
  split where the canvas data carrying it arrives in the browser.

* **1000 nodes.** The same address load (``/?run=…``) for a 1000-node,
  1200-edge pipeline: until every node is drawn (in the view or not: fit view
  stops at a readable zoom) and the canvas zooms on a wheel event.
* **Run → first step running.** A two-node draft (iris sample → split, the
  split's seed new each time so it never comes from the cache) is opened by its
  address and Run is pressed; from the click to the nodes showing *queued*, to
  the run store recording the split step's start, and to its badge showing it
  running (or done). The first, untimed run caches the sample.

The goals are: page load → the 250-node pipeline drawn and interactive in at
most 2 s (median), and every status change on the canvas within 1 s (judged
on the slowest). The script exits 0 whether or not they are met (it is a
measurement); it exits non-zero only when something fails, e.g. a badge never
changes or the canvas never shows all nodes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # run as a script: make `compiler`, `nodes` and `runtime` importable
    sys.path.insert(0, str(_ROOT))

from studio.serve import serve_studio  # noqa: E402 (after the path set-up above)

__all__ = ["main", "pipeline_document"]

BRANCHES = 50  # five nodes each: 250 nodes, 300 edges
BRANCH = (("load", "data.sample"), ("split", "prepare.split"), ("clean", "prepare.clean"),
          ("train", "train.classifier"), ("eval", "evaluate.classifier"))
BRANCH_EDGES = (("load.table", "split.table"), ("split.train", "clean.train"), ("split.test", "clean.test"),
                ("clean.train", "train.train"), ("train.model", "eval.model"), ("clean.test", "eval.test"))
LOAD_GOAL_S = 2.0
STATUS_GOAL_S = 1.0
RUN_START_GOAL_S = 1.0
BIG_BRANCHES = 200  # 1000 nodes, 1200 edges
PARTS = ("drawing", "status", "big", "run")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1600, "height": 1000}
_TIMEOUT_MS = 60_000
# Store states a step goes through, in turn, by name. A step still pending in a run that has not ended shows
# as "queued" already, so setting "queued" would change nothing on the canvas: it is not among them.
_STATES = ("running", "succeeded", "failed", "cached", "skipped")

# Installed in every page before its own scripts. ``window.__bench.marks`` gets performance.now()
# (ms from navigation start) of each stage; a requestAnimationFrame loop checks them, so a mark is
# the first frame the page could paint in that state. ``bigMessages`` holds when each websocket
# message of at least 300 kB arrived (before Streamlit handles it): the canvas element carries its
# ~490 kB bundle inline, so these are the messages that bring the canvas new data.
_PROBE = r"""
(() => {
  const NODES = %(nodes)d, EDGES = %(edges)d, BIG = 300000, IN_VIEW = %(in_view)s;
  const bench = { marks: {}, longTasks: [], bigMessages: [] };
  window.__bench = bench;
  const Socket = window.WebSocket;
  window.WebSocket = class extends Socket {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        const size = e.data.byteLength ?? e.data.size ?? e.data.length ?? 0;
        if (size >= BIG) bench.bigMessages.push([performance.now(), Date.now()]);
      });
    }
  };
  bench.root = () => {
    for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
      const r = host.shadowRoot;
      if (r && r.querySelector('[data-testid="pipecanvas"]')) return r;
    }
    return null;
  };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) bench.longTasks.push([e.startTime, e.duration]);
    }).observe({ type: "longtask", buffered: true });
  } catch (e) {}
  const viewport = () => JSON.stringify(window.__pipecanvas.getViewport());
  // Every card drawn (laid out, not hidden for measuring), and the view on them: the fit keeps text readable,
  // so a big pipeline is shown from its start and the rest is a pan away (the cards there are drawn too).
  const allShown = (root, nodes) => {
    for (const n of nodes) if (n.style.visibility === "hidden" || n.getBoundingClientRect().width === 0) return false;
    if (!IN_VIEW) return true;
    const box = root.querySelector(".react-flow").getBoundingClientRect();
    return [...nodes].some((n) => {
      const r = n.getBoundingClientRect();
      return r.right > box.left && r.left < box.right && r.bottom > box.top && r.top < box.bottom;
    });
  };
  let before = null;
  const tick = () => {
    const m = bench.marks, now = performance.now(), root = bench.root();
    if (m.ready === undefined && root && window.__pipecanvas && root.querySelector('[data-testid="palette-data.sample"]')
        && document.querySelector('[data-testid="stFileUploaderDropzoneInput"]')) m.ready = now;
    if (m.start !== undefined && root && window.__pipecanvas) {
      const nodes = root.querySelectorAll(".react-flow__node");
      if (m.nodes === undefined && nodes.length === NODES) m.nodes = now;
      if (m.nodes !== undefined && m.shown === undefined && allShown(root, nodes)) m.shown = now;
      if (m.edges === undefined && root.querySelectorAll(".react-flow__edge").length === EDGES) m.edges = now;
      if (m.data === undefined) {
        const arrived = bench.bigMessages.find(([at]) => at >= m.start);
        if (arrived) m.data = arrived[0];
      }
      if (m.shown !== undefined && m.edges !== undefined && m.interactive === undefined) {
        if (before === null) {
          before = viewport();
          const pane = root.querySelector(".react-flow__pane").getBoundingClientRect();
          root.querySelector(".react-flow__pane").dispatchEvent(new WheelEvent("wheel", {
            deltaY: -120, clientX: pane.left + pane.width / 2, clientY: pane.top + pane.height / 2,
            bubbles: true, cancelable: true, composed: true }));
        }
        if (viewport() !== before) m.interactive = performance.now();
      }
    }
    requestAnimationFrame(tick);
  };
  // The next file chosen or click starts the clock; a page opened on a run's address starts it at navigation.
  bench.arm = (eventType) => {
    for (const key of ["start", "data", "nodes", "shown", "edges", "interactive"]) delete bench.marks[key];
    before = null;
    document.addEventListener(eventType, () => { bench.marks.start = performance.now(); }, { capture: true, once: true });
  };
  if (new URLSearchParams(location.search).has("run")) bench.marks.start = 0;
  else bench.arm("change");
  requestAnimationFrame(tick);
})();
"""

# True once the node's status badge shows the state; notes when (wall clock, ms) in ``window.__bench.seen``.
_BADGE_SHOWS = """([id, state]) => {
  const root = window.__bench.root();
  const badge = root && root.querySelector(`[data-testid="status-${id}"]`);
  if (badge && badge.dataset.state === state) { window.__bench.seen = Date.now(); return true; }
  return false;
}"""
# When (wall clock, ms) the canvas data the badge was drawn from arrived: the last big message before it.
_DATA_BEFORE_SEEN = """() => {
  const b = window.__bench;
  const before = b.bigMessages.filter(([, wall]) => wall <= b.seen);
  return before.length ? before[before.length - 1][1] : null;
}"""


# ---------------------------------------------------------------- the pipeline


def pipeline_document(branches: int = BRANCHES) -> dict[str, Any]:
    """``branches`` iris branches (sample → split → clean → train → evaluate), laid out ten to a column."""
    nodes, edges = [], []
    for b in range(branches):
        left, top = (b // 10) * 1500, (b % 10) * 180
        for column, (name, node_type) in enumerate(BRANCH):
            node: dict[str, Any] = {"id": f"{name}-{b:02d}", "type": node_type}
            if node_type == "data.sample":
                node["params"] = {"dataset": "iris"}
            node["ui"] = {"x": left + column * 280, "y": top}
            nodes.append(node)
        for source, target in BRANCH_EDGES:
            edges.append({"from": source.replace(".", f"-{b:02d}.", 1), "to": target.replace(".", f"-{b:02d}.", 1)})
    return {"apiVersion": "pipecanvas/v1", "kind": "Pipeline",
            "metadata": {"name": f"canvas-bench-{len(nodes)}"}, "spec": {"nodes": nodes, "edges": edges}}


def _pipeline_yaml(document: dict[str, Any]) -> str:
    """The canonical YAML, after checking the pipeline is valid (a broken one would measure nothing)."""
    from compiler import Pipeline, dump_pipeline, errors_only, validate_pipeline
    from nodes import default_catalog

    pipeline = Pipeline.model_validate(document)
    errors = errors_only(validate_pipeline(pipeline, default_catalog()))
    if errors:
        raise RuntimeError(f"the generated pipeline is invalid: {errors[0].message}")
    return dump_pipeline(pipeline)


# ---------------------------------------------------------------- the studio and the browser


def _new_page(browser: Any, probe: str) -> Any:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(_TIMEOUT_MS)
    context.add_init_script(probe)
    return context.new_page()


def _marks(page: Any) -> dict[str, float]:
    return page.evaluate("() => ({ ...window.__bench.marks })")


def _long_tasks_ms(page: Any, start: float, end: float) -> float:
    """Main-thread time spent in tasks over 50 ms between two marks (page-side ms)."""
    tasks = page.evaluate("() => window.__bench.longTasks")
    return sum(min(s + d, end) - max(s, start) for s, d in tasks if s < end and s + d > start)


# ---------------------------------------------------------------- drawing


def measure_drawing(browser: Any, url: str, probe: str, yaml_text: str, run_id: str) -> dict[str, float]:
    """Fresh sessions: a run's address loaded → drawn, and reloaded; page load → empty studio ready → open the
    file → drawn; then Runs → Build → drawn.

    Seconds. ``link_*`` and ``load_*`` count from navigation start, ``open_*``
    from the file input's change event, ``switch_*`` from the click on the Build link.
    """
    figures: dict[str, float] = {}
    page = _new_page(browser, probe)
    try:
        page.goto(f"{url}/?run={run_id}", wait_until="commit")
        page.wait_for_function("() => window.__bench.marks.interactive !== undefined", polling="raf")
        m = _marks(page)
        figures["link_drawn"] = max(m["shown"], m["edges"])
        figures["link_interactive"] = m["interactive"]
        figures["link_long_tasks"] = _long_tasks_ms(page, 0, m["interactive"])
        page.reload(wait_until="commit")  # the same address again: a new Streamlit session, the browser's cache warm
        page.wait_for_function("() => window.__bench.marks.interactive !== undefined", polling="raf")
        figures["reload_interactive"] = _marks(page)["interactive"]
    finally:
        page.context.close()
    page = _new_page(browser, probe)
    try:
        page.goto(url, wait_until="commit")
        page.wait_for_function("() => window.__bench && window.__bench.marks.ready !== undefined", polling="raf")
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            {"name": "canvas-bench.yaml", "mimeType": "application/x-yaml", "buffer": yaml_text.encode()})
        page.wait_for_function("() => window.__bench.marks.interactive !== undefined", polling="raf")
        m = _marks(page)
        figures |= {
            "load_ready": m["ready"],
            "open_data": m["data"] - m["start"],
            "open_drawn": max(m["shown"], m["edges"]) - m["start"],
            "open_interactive": m["interactive"] - m["start"],
            "open_long_tasks": _long_tasks_ms(page, m["start"], m["interactive"]),
        }
        figures["load_to_interactive"] = figures["load_ready"] + figures["open_interactive"]
        page.get_by_role("link", name="Runs").click()
        page.get_by_role("heading", name="Runs", exact=True).wait_for()
        page.wait_for_function("() => window.__bench.root() === null", polling="raf")
        page.evaluate("() => window.__bench.arm('click')")
        page.get_by_role("link", name="Build").click()
        page.wait_for_function("() => window.__bench.marks.interactive !== undefined", polling="raf")
        m = _marks(page)
        figures["switch_drawn"] = max(m["shown"], m["edges"]) - m["start"]
        figures["switch_interactive"] = m["interactive"] - m["start"]
        figures["switch_long_tasks"] = _long_tasks_ms(page, m["start"], m["interactive"])
    finally:
        page.context.close()
    return {name: value / 1000 for name, value in figures.items()}


# ---------------------------------------------------------------- the peer: a bare Streamlit page

#: what every Streamlit page pays before any of ours runs: the same Streamlit, a title and a file uploader
_BARE_APP = 'import streamlit as st\nst.title("bare page")\nst.file_uploader("a file")\n'
_BARE_READY = """() => document.querySelector('[data-testid="stFileUploaderDropzoneInput"]')
    && document.querySelector('h1') ? performance.now() : false"""


@contextmanager
def serve_bare_streamlit(folder: Path) -> Iterator[str]:
    """The peer: a two-element Streamlit app, served as the studio is (``serve_studio``'s flags, a free port)."""
    app = folder / "bare_app.py"
    app.write_text(_BARE_APP, encoding="utf-8")
    with serve_studio(folder / "bare-home", folder / "bare-streamlit.log", app=app) as url:
        yield url


def measure_bare_page(browser: Any, url: str) -> float:
    """Seconds from navigation start until the bare page's title and uploader are there (fresh session)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(url, wait_until="commit")
        return page.wait_for_function(_BARE_READY, polling="raf").json_value() / 1000
    finally:
        context.close()


# ---------------------------------------------------------------- status delay


def _fake_run(store: Any, document: dict[str, Any], yaml_text: str, finished: bool = False) -> str:
    """A running run of the pipeline, owned by this process, with every step pending (or a succeeded one)."""
    from runtime.run_store import NewStep
    from runtime.states import RunState, StepState

    run_id = f"bench-{os.getpid()}-{time.time_ns()}"
    steps = [NewStep(step_id=n["id"], type=n["type"], cache_key=f"bench-{n['id']}", params=n.get("params", {}),
                     image="", inputs={}, log_path="") for n in document["spec"]["nodes"]]
    store.create_run(run_id, document["metadata"]["name"], yaml_text, "", "local", steps)
    if finished:
        for step in steps:
            store.set_step(run_id, step.step_id, StepState.SUCCEEDED)
        store.set_run_state(run_id, RunState.SUCCEEDED)
    else:
        store.set_run_state(run_id, RunState.RUNNING, pid=os.getpid())
    return run_id


def _open_run(page: Any, url: str, run_id: str, last_node: str) -> None:
    """The Runs page's "Open on canvas" for the run; returns once the canvas shows its (queued) statuses."""
    page.goto(f"{url}/runs")
    page.get_by_role("button", name="Open on canvas").wait_for()
    chosen = page.get_by_test_id("stSelectbox").first.locator("input").input_value()
    if chosen != run_id:
        raise RuntimeError(f"the Runs page offers {chosen!r} to open, not the benchmark's run {run_id!r}")
    page.get_by_role("button", name="Open on canvas").click()
    page.wait_for_function(_BADGE_SHOWS, arg=[last_node, "queued"], polling="raf")


def measure_status(browser: Any, url: str, probe: str, home: Path, document: dict[str, Any], yaml_text: str,
                   changes: int, seed: int) -> dict[str, Any]:
    """Per change, seconds from the ``set_step`` write to the badge showing it, and to its data arriving.

    Also whether the viewport or any node moved while the badges changed.
    """
    from runtime.run_store import open_store
    from runtime.states import RunState, StepState

    store = open_store(home)
    run_id = _fake_run(store, document, yaml_text)
    ids = [n["id"] for n in document["spec"]["nodes"]]
    rng = random.Random(seed)
    page = _new_page(browser, probe)
    delays: list[float] = []
    arrivals: list[float | None] = []
    try:
        _open_run(page, url, run_id, ids[-1])
        page.wait_for_timeout(1000)  # let the first polls settle before the first change
        viewport = page.evaluate("() => window.__pipecanvas.getViewport()")
        positions = page.evaluate("() => window.__pipecanvas.getNodes().map((n) => [n.id, n.position])")
        for i in range(changes):
            step_id = ids[(i * 37) % len(ids)]
            state = _STATES[i % len(_STATES)]
            page.wait_for_timeout(rng.uniform(100, 700))  # land anywhere within the studio's poll interval
            written = time.time()
            extra = {"started_at": written} if state == "running" else {}
            store.set_step(run_id, step_id, StepState(state), **extra)
            page.wait_for_function(_BADGE_SHOWS, arg=[step_id, state], polling="raf", timeout=15_000)
            delays.append(page.evaluate("() => window.__bench.seen") / 1000 - written)
            arrived = page.evaluate(_DATA_BEFORE_SEEN)
            arrivals.append(arrived / 1000 - written if arrived is not None else None)
        still = (page.evaluate("() => window.__pipecanvas.getViewport()") == viewport
                 and page.evaluate("() => window.__pipecanvas.getNodes().map((n) => [n.id, n.position])") == positions)
    finally:
        page.context.close()
        store.set_run_state(run_id, RunState.CANCELLED)
        store.close()
    return {"delays": delays, "arrivals": arrivals, "nothing_moved": still}


# ---------------------------------------------------------------- 1000 nodes


def measure_big_load(browser: Any, url: str, probe: str, run_id: str) -> dict[str, float]:
    """A fresh session loads the address of a run of the 1000-node pipeline; seconds from navigation start."""
    page = _new_page(browser, probe)
    try:
        page.goto(f"{url}/?run={run_id}", wait_until="commit")
        page.wait_for_function("() => window.__bench.marks.interactive !== undefined", polling="raf",
                               timeout=4 * _TIMEOUT_MS)
        m = _marks(page)
        return {"big_drawn": max(m["shown"], m["edges"]) / 1000, "big_interactive": m["interactive"] / 1000,
                "big_long_tasks": _long_tasks_ms(page, 0, m["interactive"]) / 1000}
    finally:
        page.context.close()


# ---------------------------------------------------------------- Run → first step running

# True once the node's status badge shows one of the states; notes when (wall clock, ms) in ``window.__bench.seen``.
_BADGE_IN = """([id, states]) => {
  const root = window.__bench.root();
  const badge = root && root.querySelector(`[data-testid="status-${id}"]`);
  if (badge && states.includes(badge.dataset.state)) { window.__bench.seen = Date.now(); return true; }
  return false;
}"""
_NOTE_CLICK = """() => { window.__bench.clicked = null;
  document.addEventListener("click", () => { window.__bench.clicked = Date.now(); }, { capture: true, once: true }); }"""


def _run_draft(seed: int) -> dict[str, Any]:
    """iris sample → split; the split's ``seed`` makes each run's split step new to the cache."""
    return {"apiVersion": "pipecanvas/v1", "kind": "Pipeline", "metadata": {"name": "run-start-bench"},
            "spec": {"nodes": [{"id": "load", "type": "data.sample", "params": {"dataset": "iris"}, "ui": {"x": 0, "y": 0}},
                               {"id": "split", "type": "prepare.split", "params": {"seed": seed},
                                "ui": {"x": 300, "y": 0}}],
                     "edges": [{"from": "load.table", "to": "split.table"}]}}


def _press_run(browser: Any, url: str, probe: str, store: Any, seed: int) -> dict[str, float]:
    """Open a fresh draft, press Run; seconds from the click to queued shown, step started (store), running shown."""
    from runtime.runs import wait_for_run

    draft_id = f"bench-run-{seed}-{time.time_ns()}"
    store.save_draft(draft_id, "run-start-bench", _pipeline_yaml(_run_draft(seed)))
    page = _new_page(browser, probe)
    try:
        page.goto(f"{url}/?draft={draft_id}")
        page.get_by_test_id("node-split").wait_for()
        page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()
        run_button = page.get_by_role("button", name="▶ Run", exact=True)
        run_button.wait_for()
        page.evaluate(_NOTE_CLICK)
        before = {run.id for run in store.list_runs(limit=20)}
        run_button.click()
        page.wait_for_function(_BADGE_IN, arg=["split", ["queued", "running", "succeeded"]], polling="raf")
        queued = page.evaluate("() => window.__bench.seen")
        page.wait_for_function(_BADGE_IN, arg=["split", ["running", "succeeded"]], polling="raf")
        running = page.evaluate("() => window.__bench.seen")
        clicked = page.evaluate("() => window.__bench.clicked")
    finally:
        page.context.close()
    (run_id,) = {run.id for run in store.list_runs(limit=20)} - before
    run = wait_for_run(store, run_id, timeout=120)
    step = store.step(run_id, "split")
    if step is None or step.started_at is None or step.state.value != "succeeded":
        raise RuntimeError(f"run {run_id} ({run.state}): its split step did not run ({step and step.state})")
    return {"queued_shown": (queued - clicked) / 1000, "step_started": step.started_at - clicked / 1000,
            "running_shown": (running - clicked) / 1000, "run_started": (run.started_at or 0) - clicked / 1000}


def measure_run_start(browser: Any, url: str, home: Path, repeats: int) -> list[dict[str, float]]:
    """``repeats`` presses of Run, after one untimed run that puts the iris sample in the cache."""
    from runtime.run_store import open_store

    probe = _PROBE % {"nodes": 2, "edges": 1, "in_view": "true"}
    store = open_store(home)
    try:
        _press_run(browser, url, probe, store, seed=1000)
        return [_press_run(browser, url, probe, store, seed=i) for i in range(repeats)]
    finally:
        store.close()


# ---------------------------------------------------------------- report


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


_DRAWING_ROWS = (
    ("link_drawn", "page load of a run's address (/?run=…) → 250 nodes drawn"),
    ("link_interactive", "page load of a run's address → drawn and interactive"),
    ("reload_interactive", "  the same address reloaded (browser cache warm) → interactive"),
    ("load_ready", "page load → empty studio ready (palette, canvas, uploader)"),
    ("bare_ready", "peer: page load → a bare Streamlit page ready (title, uploader)"),
    ("open_data", "open the file → canvas data arrives (upload, 2 script runs)"),
    ("open_drawn", "open the file → 250 nodes and 300 edges drawn, in view"),
    ("open_interactive", "open the file → drawn and pans on a wheel event"),
    ("load_to_interactive", "page load → 250 nodes drawn and interactive (ready + open)"),
    ("switch_drawn", "Runs → Build page, pipeline in session → drawn"),
    ("switch_interactive", "Runs → Build page → drawn and interactive"),
    ("open_long_tasks", "main thread in long tasks while opening"),
    ("switch_long_tasks", "main thread in long tasks while switching"),
    ("link_long_tasks", "main thread in long tasks loading a run's address"),
)


def _stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "p90": _p90(values), "max": max(values)}


_BIG_ROWS = (
    ("big_drawn", "page load of a run's address → 1000 nodes and 1200 edges drawn"),
    ("big_interactive", "page load of a run's address → 1000 nodes drawn and interactive"),
    ("big_long_tasks", "main thread in long tasks loading it"),
)
_RUN_ROWS = (
    ("queued_shown", "Run pressed → the nodes show queued"),
    ("run_started", "Run pressed → the run process has started (store)"),
    ("step_started", "Run pressed → first step running (its start in the store)"),
    ("running_shown", "Run pressed → its badge shows running (or done)"),
)


def _seconds(values: Any) -> str:
    return ", ".join(f"{value:.3f}" for value in values) + " s"


def _median_max(runs: list[dict[str, float]], rows: tuple[tuple[str, str], ...]) -> dict[str, dict[str, float]]:
    return {key: {"median": statistics.median(r[key] for r in runs), "max": max(r[key] for r in runs)}
            for key, _ in rows}


def _summary(drawing: list[dict[str, float]], status: dict[str, Any] | None, big: list[dict[str, float]],
             run_start: list[dict[str, float]]) -> dict[str, Any]:
    """Median and max of each part measured (a part left out by ``--parts`` is None)."""
    summary: dict[str, Any] = {"drawing": _median_max(drawing, _DRAWING_ROWS) if drawing else None,
                               "big": _median_max(big, _BIG_ROWS) if big else None,
                               "run_start": _median_max(run_start, _RUN_ROWS) if run_start else None,
                               "status": None, "status_data": None, "status_browser": None}
    if status is not None:
        arrivals = [a for a in status["arrivals"] if a is not None]  # None: no canvas message seen
        browser = [d - a for d, a in zip(status["delays"], status["arrivals"]) if a is not None]
        summary |= {"status": _stats(status["delays"]), "status_data": _stats(arrivals) if arrivals else None,
                    "status_browser": _stats(browser) if browser else None}
    return summary


def _goal_line(summary: dict[str, Any]) -> str:
    """Each goal of the parts measured, and whether all of them are met."""
    checks = []
    if summary["drawing"]:
        load = summary["drawing"]["link_interactive"]["median"]
        bare = summary["drawing"]["bare_ready"]["median"]
        checks.append((load <= LOAD_GOAL_S, f"page load → 250 nodes interactive {load:.2f} s (median; goal "
                                            f"<= {LOAD_GOAL_S:g} s; a bare Streamlit page takes {bare:.2f} s, "
                                            f"{load / bare:.1f}x)"))
    if summary["status"]:
        slowest = summary["status"]["max"]
        checks.append((slowest <= STATUS_GOAL_S, f"slowest status change {slowest:.2f} s (goal <= {STATUS_GOAL_S:g} s)"))
    if summary["run_start"]:
        first = summary["run_start"]["step_started"]["median"]
        checks.append((first <= RUN_START_GOAL_S, f"Run → first step running {first:.2f} s (median; goal "
                                                  f"<= {RUN_START_GOAL_S:g} s on a quiet machine)"))
    if summary["big"]:
        checks.append((True, f"1000 nodes interactive {summary['big']['big_interactive']['median']:.2f} s (median)"))
    met = all(ok for ok, _ in checks)
    return f"goal: {'MET' if met else 'NOT MET'}: " + "; ".join(text for _, text in checks)


def _print_report(summary: dict[str, Any], repeats: int, changes: int, nothing_moved: bool | None) -> None:
    width = max(len(label) for _, label in _DRAWING_ROWS + _BIG_ROWS + _RUN_ROWS)
    for title, key, rows in ((f"drawing, {repeats} fresh sessions, seconds", "drawing", _DRAWING_ROWS),
                             (f"1000 nodes, {repeats} fresh sessions, seconds", "big", _BIG_ROWS),
                             (f"Run → first step, {repeats} runs, seconds", "run_start", _RUN_ROWS)):
        if not summary[key]:
            continue
        print(f"\n{title:<{width}}  median     max")
        for name, label in rows:
            row = summary[key][name]
            print(f"{label:<{width}}  {row['median']:>6.3f}  {row['max']:>6.3f}")
    if not summary["status"]:
        return
    print(f"\nstatus delay, {changes} changes, seconds{'':<{max(0, width - 37)}}  median     p90     max")
    lines = (("status", "store write → badge shows the new state"),
             ("status_data", "  store write → canvas data arrives (poll, script run)"),
             ("status_browser", "  canvas data arrives → badge shows it (browser)"))
    for key, label in lines:
        row = summary[key]
        if row is not None:
            print(f"{label:<{width}}  {row['median']:>6.3f}  {row['p90']:>6.3f}  {row['max']:>6.3f}")
    print(f"viewport and node positions unchanged by the status updates: {'yes' if nothing_moved else 'NO'}")


# ---------------------------------------------------------------- command line


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh sessions timed for drawing, median reported (default 5)")
    parser.add_argument("--changes", type=int, default=15, help="status changes timed (default 15)")
    parser.add_argument("--seed", type=int, default=7, help="seed for the pauses between status changes (default 7)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"what to measure, comma-separated, of {','.join(PARTS)} (default: all)")
    args = parser.parse_args(argv)
    args.parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    if not args.parts or args.parts - set(PARTS):
        parser.error(f"--parts takes some of {', '.join(PARTS)}")
    if args.repeats < 1 or args.changes < 1:
        parser.error("--repeats and --changes must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
        return 1
    from playwright.sync_api import sync_playwright

    document = pipeline_document()
    yaml_text = _pipeline_yaml(document)
    probe = _PROBE % {"nodes": len(document["spec"]["nodes"]), "edges": len(document["spec"]["edges"]), "in_view": "true"}
    big_document = pipeline_document(BIG_BRANCHES)
    big_yaml = _pipeline_yaml(big_document)
    big_probe = _PROBE % {"nodes": len(big_document["spec"]["nodes"]), "edges": len(big_document["spec"]["edges"]),
                          "in_view": "false"}
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs; "
          f"{len(document['spec']['nodes'])} nodes, {len(document['spec']['edges'])} edges")
    with tempfile.TemporaryDirectory(prefix="pipecanvas-canvas-bench-") as folder:
        home = Path(folder) / "home"
        with serve_studio(home, Path(folder) / "streamlit.log") as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            print(f"studio on {url}, chromium {browser.version}; one untimed warm-up session first", flush=True)
            from runtime.run_store import open_store

            store = open_store(home)  # a finished run of the pipeline, for its address
            link_run = _fake_run(store, document, yaml_text, finished=True)
            big_run = _fake_run(store, big_document, big_yaml, finished=True)
            store.close()
            drawing, status, big, run_start = [], None, [], []
            if "drawing" in args.parts:
                with serve_bare_streamlit(Path(folder)) as bare_url:
                    measure_drawing(browser, url, probe, yaml_text, link_run)
                    measure_bare_page(browser, bare_url)
                    for i in range(args.repeats):  # the studio and the peer take turns
                        drawing.append(measure_drawing(browser, url, probe, yaml_text, link_run))
                        drawing[-1]["bare_ready"] = measure_bare_page(browser, bare_url)
                        print(f"  sessions {i + 1}: a run's address → drawn and interactive "
                              f"{drawing[-1]['link_interactive']:.3f} s; empty studio + open the file "
                              f"{drawing[-1]['load_to_interactive']:.3f} s; bare Streamlit page "
                              f"{drawing[-1]['bare_ready']:.3f} s", flush=True)
            if "status" in args.parts:
                status = measure_status(browser, url, probe, home, document, yaml_text, args.changes, args.seed)
            if "big" in args.parts:
                measure_big_load(browser, url, big_probe, big_run)  # warm-up
                big = [measure_big_load(browser, url, big_probe, big_run) for _ in range(args.repeats)]
                print("  1000 nodes: a run's address → drawn and interactive",
                      _seconds(b["big_interactive"] for b in big), flush=True)
            if "run" in args.parts:
                run_start = measure_run_start(browser, url, home, args.repeats)
                print("  Run → first step running", _seconds(r["step_started"] for r in run_start), flush=True)
            browser.close()
    summary = _summary(drawing, status, big, run_start)
    _print_report(summary, args.repeats, args.changes, status["nothing_moved"] if status else None)
    print(_goal_line(summary))
    if args.json:
        report = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                  "goal": _goal_line(summary), "summary": summary, "drawing_runs": drawing,
                  "status_delays": status and status["delays"], "status_data_arrivals": status and status["arrivals"],
                  "nothing_moved": status and status["nothing_moved"], "big_runs": big, "run_start_runs": run_start,
                  "load_average": os.getloadavg()}
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
