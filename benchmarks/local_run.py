"""How long a local run takes per step, beside Kubeflow Pipelines' ``kfp.local`` doing the same work.

Run from the repository root with the project's virtual environment::

    .venv/bin/python benchmarks/local_run.py [--repeats 3] [--json results.json]

Two shapes of trivial steps (each adds 1 to a number) are run end to end:

* ``chain``: 20 steps, each consuming the previous step's output.
* ``fanout``: one source step and 8 steps that each consume it (9 steps).

pipecanvas runs them with ``runtime.runs.start_run`` (no cache, ``max_parallel``
= the number of CPUs) and the ``bench.step`` node of ``benchmarks/trivial_nodes.py``;
the timer runs from the ``start_run`` call to the run's ``finished_at`` in the
store. kfp runs ``@dsl.component def step(x: int) -> int: return x + 1`` in a
``@dsl.pipeline`` under ``kfp.local.SubprocessRunner(use_venv=False)``, in its own
venv (``.bench/kfp-venv``, set up as ``benchmarks/compile.py`` does); the timer
runs around the pipeline call. Both sides take turns, repeat by repeat, so that
load on the machine falls on both alike.

Once per repeat the 20-step chain is also started as a user starts it, as a whole process
(``pipecanvas run FILE --detach --no-cache``), beside ``python -c pass`` timed in the same turn: the
report says how long after that command started the first step's process started (the store's
``started_at``) and its node's own code began (``bench.step`` writes the time into its output).

The goal: the first step's process started at most 0.3 s after the ``pipecanvas run`` command started; the chain
at most half of kfp's wall time; one more step at most a third of what it
costs kfp; and the fan-out running at least two steps at once (kfp.local runs
them one at a time). The script exits 0 whether or not the goal is met (it is a measurement);
it exits non-zero only when a run fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parent
for _path in (str(_ROOT), str(_HERE)):  # run as a script: `nodes`, `runtime` and the sibling `compile`
    if _path not in sys.path:
        sys.path.insert(0, _path)

from compile import DEFAULT_VENV, ensure_kfp_venv  # noqa: E402  (the sibling benchmark's kfp venv set-up)
from report_table import print_table  # noqa: E402

__all__ = ["main", "pipeline_document", "run_pipecanvas", "KfpWorker", "peak_concurrency"]

SHAPES = {"chain": 20, "chain10": 10, "fanout": 8}  # chains: steps; fanout: branches after one source
#: the two chain lengths whose difference gives the marginal cost of one more step (fixed start-up cancels out)
MARGINAL = ("chain", "chain10")
GOAL_RATIO = 1 / 3
CHAIN_GOAL_RATIO = 1 / 2  # the 20-step chain's wall time against kfp's (the moonshot: a third)
FIRST_STEP_GOAL = 0.3  # seconds from the `pipecanvas run` command's start to the first step's process
NODE_MODULE = "trivial_nodes"
# kfp component variants: "bare" skips the `pip install kfp` kfp puts before each step by default
# (kfp's fastest set-up); "default" keeps it (kfp finds it already satisfied, so nothing is downloaded).
KFP_COMPONENTS = ("bare", "default")

# The kfp side: a long-lived worker in kfp's venv that runs one pipeline per command line on stdin
# and answers one JSON line. A file, not ``-c``: kfp's lightweight components read their source.
_KFP_WORKER = r'''
import json, os, sys, time, warnings
answer = os.fdopen(os.dup(1), "w", buffering=1)  # kfp prints every step's output: keep it out of the answers
log = open(sys.argv[1], "a", buffering=1)
os.dup2(log.fileno(), 1)
os.dup2(log.fileno(), 2)
warnings.filterwarnings("ignore")
import kfp
from kfp import dsl, local
from kfp.local import subprocess_task_handler

root = sys.argv[2]
os.makedirs(os.path.join(root, "workspace"), exist_ok=True)
local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=os.path.join(root, "outputs"),
           workspace_root=os.path.join(root, "workspace"), enable_caching=False)

INTERVALS = []
_run = subprocess_task_handler.SubprocessTaskHandler.run


def _timed_run(self):  # when each step's process ran, to see how many ran at once
    start = time.time()
    try:
        return _run(self)
    finally:
        INTERVALS.append((start, time.time()))


subprocess_task_handler.SubprocessTaskHandler.run = _timed_run


def step(x: int) -> int:
    return x + 1


STEPS = {
    "bare": dsl.component(step, install_kfp_package=False, packages_to_install=[]),
    "default": dsl.component(step, packages_to_install=[]),
}


def pipeline(shape, n, component):
    if shape.startswith("chain"):
        def body() -> int:
            task = component(x=0)
            for _ in range(n - 1):
                task = component(x=task.output)
            return task.output
    else:
        def body():
            source = component(x=0)
            for _ in range(n):
                component(x=source.output)
    return dsl.pipeline(name=f"{shape}-{n}")(body)


for line in sys.stdin:
    command = json.loads(line)
    runnable = pipeline(command["shape"], command["n"], STEPS[command["components"]])
    INTERVALS.clear()
    start = time.perf_counter()
    result = runnable()
    seconds = time.perf_counter() - start
    output = result.output if command["shape"].startswith("chain") else None
    answer.write(json.dumps({"seconds": seconds, "intervals": INTERVALS, "output": output,
                             "kfp_version": kfp.__version__}) + "\n")
'''


# ---------------------------------------------------------------- pipecanvas side


def pipeline_document(shape: str) -> dict[str, Any]:
    """The pipeline file for ``shape``, as the dict its YAML loads to."""
    n = SHAPES[shape]
    if shape.startswith("chain"):
        nodes = [{"id": f"step-{i:02d}", "type": "bench.step"} for i in range(n)]
        edges = [{"from": f"step-{i - 1:02d}.table", "to": f"step-{i:02d}.table"} for i in range(1, n)]
    else:
        nodes = [{"id": "source", "type": "bench.step"}]
        nodes += [{"id": f"branch-{i}", "type": "bench.step"} for i in range(n)]
        edges = [{"from": "source.table", "to": f"branch-{i}.table"} for i in range(n)]
    return {"apiVersion": "pipecanvas/v1", "kind": "Pipeline", "metadata": {"name": f"bench-{shape}"},
            "spec": {"nodes": nodes, "edges": edges}}


def _use_trivial_nodes(home: Path) -> None:
    """Point this process and every process it starts at a fresh home and the ``bench.step`` node."""
    modules = [m for m in os.environ.get("PIPECANVAS_NODE_MODULES", "").split(",") if m.strip()]
    os.environ["PIPECANVAS_NODE_MODULES"] = ",".join(dict.fromkeys([*modules, NODE_MODULE]))
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([str(_HERE), *paths]))
    os.environ["PIPECANVAS_HOME"] = str(home)


def run_pipecanvas(shape: str, store: Any, home: Path, timeout: float) -> dict[str, Any]:
    """One timed run of ``shape``: wall seconds, concurrency, and where the time went (from the store's records)."""
    from compiler import Pipeline
    from runtime.runs import cancel_run, start_run, wait_for_run
    from runtime.states import RunState

    pipeline = Pipeline.model_validate(pipeline_document(shape))
    start = time.time()
    run_id = start_run(pipeline, use_cache=False, max_parallel=os.cpu_count(), store=store, home=home)
    run = wait_for_run(store, run_id, timeout=timeout, interval=0.05)
    if not run.finished:
        cancel_run(run_id, store=store)
        raise RuntimeError(f"pipecanvas {shape} run {run_id} took longer than {timeout:.0f}s and was cancelled")
    if run.state != RunState.SUCCEEDED:
        raise RuntimeError(f"pipecanvas {shape} run {run_id} ended {run.state}: {run.error}; "
                           f"see {home / 'runs' / run_id / 'run.log'}")
    _check_outputs(shape, store, run_id)
    intervals = _step_intervals(store, run_id)
    return {"seconds": run.finished_at - start, "run_id": run_id, "peak": peak_concurrency(intervals.values()),
            "phases": _phases(shape, start, run.finished_at, intervals)}


def run_cli_first_step(folder: Path, store: Any, timeout: float) -> dict[str, float]:
    """``pipecanvas run chain.yaml --detach`` as a whole process, and ``python -c pass`` just before it:
    seconds from the command's start to the first step's process start and to its node's code."""
    from nodes.artifact_io import read_artifact
    from runtime.runs import wait_for_run

    file = folder / "chain.yaml"
    if not file.exists():
        from compiler import dump_yaml

        file.write_text(dump_yaml(pipeline_document("chain")), encoding="utf-8")
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as a user runs it: from cached bytecode, as startup.py and compile.py do
    started = time.time()
    subprocess.run([sys.executable, "-c", "pass"], check=True, env=env)
    python_alone = time.time() - started
    command = [str(Path(sys.executable).with_name("pipecanvas")), "run", str(file), "--detach", "--no-cache", "--json"]
    started = time.time()
    answer = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    returned = time.time() - started
    run_id = json.loads(answer.stdout)["run_id"]
    run = wait_for_run(store, run_id, timeout=timeout, interval=0.05)
    if not run.finished or run.state.value != "succeeded":
        raise RuntimeError(f"`pipecanvas run` of the chain ended {run.state}: {run.error}")
    first = store.step(run_id, "step-00")
    kind, uri = next((kind, uri) for step, _, kind, uri in store.artifacts(run_id) if step == "step-00")
    ran_at = float(read_artifact(kind, uri).frame["ran_at"].iloc[0])
    return {"python_c_pass": python_alone, "command_returned": returned,
            "first_step_process": first.started_at - started, "first_step_code": ran_at - started}


def _check_outputs(shape: str, store: Any, run_id: str) -> None:
    """The steps really computed: the chain ends at 20, every branch at 2; else this is no benchmark."""
    from nodes.artifact_io import read_artifact

    if shape.startswith("chain"):
        last = {f"step-{SHAPES[shape] - 1:02d}": SHAPES[shape]}
    else:
        last = {f"branch-{i}": 2 for i in range(SHAPES["fanout"])}
    found = {step: int(read_artifact(kind, uri).frame["x"].iloc[0])
             for step, _, kind, uri in store.artifacts(run_id) if step in last}
    if found != last:
        raise RuntimeError(f"pipecanvas {shape} run {run_id} computed {found}, expected {last}")


def _step_intervals(store: Any, run_id: str) -> dict[str, tuple[float, float]]:
    """Each step's (started, finished) times from its record in the store.

    These are the executor's own times: the process was started, its exit was
    seen. The ``running`` event is written one coordinator poll later than the
    start, so event times would move up to a poll interval from inside a step
    to between steps.
    """
    return {step.step_id: (step.started_at, step.finished_at) for step in store.steps(run_id)}


def _phases(shape: str, start: float, end: float, intervals: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Seconds before the first step starts, inside step processes, between steps, and after the last (chain only)."""
    ordered = sorted(intervals.values())
    phases = {"before_first_step": ordered[0][0] - start, "after_last_step": end - max(e for _, e in ordered)}
    if shape == "chain":
        phases["in_step_process"] = statistics.mean(e - s for s, e in ordered)
        phases["between_steps"] = statistics.mean(nxt[0] - prev[1] for prev, nxt in zip(ordered, ordered[1:]))
    return phases


def peak_concurrency(intervals: Any) -> int:
    """The most intervals open at one instant (an end at the same instant as a start does not overlap)."""
    edges = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    running = peak = 0
    for _, change in edges:
        running += change
        peak = max(peak, running)
    return peak


# ---------------------------------------------------------------- kfp side


class KfpWorker:
    """kfp's side, alive for the whole benchmark in kfp's venv: one pipeline run per ``run`` call."""

    def __init__(self, python: Path, folder: Path) -> None:
        script = folder / "kfp_worker.py"
        script.write_text(_KFP_WORKER, encoding="utf-8")
        self.log = folder / "kfp_worker.log"
        self._process = subprocess.Popen([str(python), str(script), str(self.log), str(folder / "kfp")],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, shape: str, components: str, timeout: float) -> dict[str, Any]:
        """Seconds, step intervals and result of one run; RuntimeError (worker stopped) if it fails."""
        command = {"shape": shape, "n": SHAPES[shape], "components": components}
        try:
            self._process.stdin.write(json.dumps(command) + "\n")
            self._process.stdin.flush()
        except OSError:  # the worker is gone (it could not import kfp, or crashed)
            pass
        ready, _, _ = select.select([self._process.stdout], [], [], timeout)
        line = self._process.stdout.readline() if ready else ""
        if not line:
            self.close()
            reason = "took longer than {:.0f}s".format(timeout) if not ready else "failed"
            raise RuntimeError(f"kfp {shape} ({components}) {reason}; its output is in {self.log}:\n{self._tail()}")
        result = json.loads(line)
        expected = SHAPES[shape] if shape.startswith("chain") else None
        if result["output"] != expected:
            raise RuntimeError(f"kfp {shape} computed {result['output']}, expected {expected}")
        result["peak"] = peak_concurrency(result["intervals"])
        return result

    def _tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:])
        except OSError:
            return ""

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


# ---------------------------------------------------------------- measuring


def _measure(args: argparse.Namespace, folder: Path, python: Path | None) -> dict[str, Any]:
    """Warm up each side once, then take turns shape by shape, repeat by repeat."""
    from runtime.run_store import open_store

    home = folder / "pipecanvas-home"
    _use_trivial_nodes(home)
    store = open_store(home)
    kfp = _KfpSide(KfpWorker(python, folder), args.kfp_components, args.timeout) if python else None
    results: dict[str, Any] = {"pipecanvas": {s: [] for s in SHAPES}, "cli": [],
                               "kfp": {v: {s: [] for s in SHAPES} for v in (kfp.variants if kfp else [])}}
    try:
        print("warm-up (not counted)...", flush=True)
        run_pipecanvas("fanout", store, home, args.timeout)
        if kfp:
            kfp.turn("fanout", None)
        for repeat in range(1, args.repeats + 1):
            for shape in SHAPES:
                ours = run_pipecanvas(shape, store, home, args.timeout)
                results["pipecanvas"][shape].append(ours)
                line = f"  [{repeat}/{args.repeats}] {shape}: pipecanvas {ours['seconds']:.2f}s"
                print(line + (kfp.turn(shape, results) if kfp else ""), flush=True)
            whole = run_cli_first_step(folder, store, args.timeout)
            results["cli"].append(whole)
            print(f"  [{repeat}/{args.repeats}] `pipecanvas run` as a process: first step's process "
                  f"{whole['first_step_process']:.2f}s, its code {whole['first_step_code']:.2f}s after the command "
                  f"started (python -c pass {whole['python_c_pass']:.2f}s)", flush=True)
    finally:
        if kfp:
            kfp.worker.close()
        store.close()
    return results


class _KfpSide:
    """kfp's turns; after a failure it says why once and the rest is reported without kfp."""

    def __init__(self, worker: KfpWorker, variants: list[str], timeout: float) -> None:
        self.worker, self.variants, self.timeout = worker, variants, timeout
        self.failed = False

    def turn(self, shape: str, results: dict[str, Any] | None) -> str:
        """Run ``shape`` once per component variant, adding to ``results`` (when given); a progress text."""
        text = ""
        for variant in self.variants:
            if self.failed:
                return text
            try:
                theirs = self.worker.run(shape, variant, self.timeout)
            except RuntimeError as exc:
                self.failed = True
                print(f"kfp side failed, reporting what it measured before: {exc}", flush=True)
                return text
            if results is not None:
                results["kfp"][variant][shape].append(theirs)
                results["kfp_version"] = theirs["kfp_version"]
            text += f", kfp {variant} {theirs['seconds']:.2f}s"
        return text


# ---------------------------------------------------------------- report


def _steps(shape: str) -> int:
    return SHAPES[shape] if shape.startswith("chain") else SHAPES[shape] + 1


def _rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for shape in SHAPES:
        ours = results["pipecanvas"][shape]
        pc = statistics.median(r["seconds"] for r in ours)
        for variant, by_shape in (results["kfp"].items() or [(None, {})]):
            theirs = by_shape.get(shape) or []
            kfp = statistics.median(r["seconds"] for r in theirs) if theirs else None
            steps = _steps(shape)
            rows.append({
                "shape": shape, "steps": steps, "kfp_components": variant,
                "pipecanvas_seconds": pc, "kfp_seconds": kfp,
                "pipecanvas_per_step": pc / steps, "kfp_per_step": kfp / steps if kfp else None,
                "ratio": pc / kfp if kfp else None,
                "pipecanvas_peak": max(r["peak"] for r in ours),
                "kfp_peak": max(r["peak"] for r in theirs) if theirs else None,
                "pipecanvas_phases": {k: statistics.median(r["phases"][k] for r in ours) for k in ours[0]["phases"]},
                "pipecanvas_runs": [r["seconds"] for r in ours], "kfp_runs": [r["seconds"] for r in theirs],
            })
    return rows


def marginal_per_step(rows: list[dict[str, Any]], side: str, variant: str | None) -> float | None:
    """(T(20-step chain) − T(10-step chain)) / 10: what one more step costs, start-up excluded."""
    long, short = (next((r for r in rows if r["shape"] == name and r["kfp_components"] == variant), None)
                   for name in MARGINAL)
    if long is None or short is None or long[f"{side}_seconds"] is None or short[f"{side}_seconds"] is None:
        return None
    return (long[f"{side}_seconds"] - short[f"{side}_seconds"]) / (SHAPES[MARGINAL[0]] - SHAPES[MARGINAL[1]])


def _cli_line(whole: list[dict[str, float]]) -> str:
    """The first step, counted from the start of the ``pipecanvas run`` command (medians)."""
    median = {key: statistics.median(r[key] for r in whole) for key in whole[0]}
    return (f"`pipecanvas run` as a whole process (median of {len(whole)}): first step's process started "
            f"{median['first_step_process']:.2f}s after the command started (goal <= {FIRST_STEP_GOAL:g}s), its node's "
            f"code {median['first_step_code']:.2f}s; the command returned after {median['command_returned']:.2f}s; "
            f"python -c pass takes {median['python_c_pass']:.2f}s here")


def _marginal_line(rows: list[dict[str, Any]]) -> str:
    variants = dict.fromkeys(r["kfp_components"] for r in rows)
    ours = marginal_per_step(rows, "pipecanvas", next(iter(variants)))
    parts = [f"marginal cost of one more chain step: pipecanvas {ours:.3f}s"] if ours is not None else []
    for variant in variants:
        theirs = marginal_per_step(rows, "kfp", variant)
        if variant and theirs and ours is not None:
            parts.append(f"kfp {variant} {theirs:.3f}s (ratio {ours / theirs:.2f}x)")
    return ", ".join(parts)


def _goal_line(rows: list[dict[str, Any]], whole: list[dict[str, float]]) -> str:
    """The issue's goals, judged against kfp's fastest set-up measured (``bare`` before ``default``): the first
    step's process started within FIRST_STEP_GOAL of the ``pipecanvas run`` command's start (``whole``: the CLI's
    start-up, reading the file and compiling count), the 20-step chain at most CHAIN_GOAL_RATIO of kfp's wall
    time, one more step (start-up excluded on both sides) at most GOAL_RATIO of kfp's, the fan-out >= 2 at once."""
    wanted = (f"goal: first step <= {FIRST_STEP_GOAL:g}s, chain <= {CHAIN_GOAL_RATIO:.2f}x kfp.local's wall time, "
              f"per-step overhead <= {GOAL_RATIO:.2f}x kfp.local's and the fan-out running >= 2 steps at once")
    measured = [v for v in KFP_COMPONENTS if marginal_per_step(rows, "kfp", v)]
    if not measured:
        return f"{wanted}: not checked (kfp could not be measured)"
    ours = marginal_per_step(rows, "pipecanvas", measured[0])
    ratios = {v: ours / marginal_per_step(rows, "kfp", v) for v in measured}
    chain = next(r for r in rows if r["shape"] == "chain" and r["kfp_components"] == measured[0])
    first = statistics.median(r["first_step_process"] for r in whole) if whole else float("inf")
    fanout = next(r for r in rows if r["shape"] == "fanout")
    needed_peak = min(2, os.cpu_count() or 1)
    met = (ratios[measured[0]] <= GOAL_RATIO and fanout["pipecanvas_peak"] >= needed_peak
           and first <= FIRST_STEP_GOAL and chain["ratio"] <= CHAIN_GOAL_RATIO)
    others = "".join(f"; vs kfp {v} {ratios[v]:.2f}x" for v in measured[1:])
    return (f"{wanted}: {'MET' if met else 'NOT MET'} (first step {first:.2f}s after `pipecanvas run` started; "
            f"chain {chain['ratio']:.2f}x kfp {measured[0]}; per-step ratio {ratios[measured[0]]:.2f}x vs kfp {measured[0]}{others}; "
            f"fan-out peak {fanout['pipecanvas_peak']} at once, kfp {fanout['kfp_peak']})")


def _print_table(rows: list[dict[str, Any]], title: str) -> None:
    header = ("shape", "steps", "kfp components", "pipecanvas s", "kfp s", "pipecanvas s/step", "kfp s/step",
              "ratio pc/kfp", "peak at once pc/kfp")
    dash = "-"
    cells = [
        (r["shape"], str(r["steps"]), r["kfp_components"] or dash, f"{r['pipecanvas_seconds']:.2f}",
         f"{r['kfp_seconds']:.2f}" if r["kfp_seconds"] else dash, f"{r['pipecanvas_per_step']:.3f}",
         f"{r['kfp_per_step']:.3f}" if r["kfp_per_step"] else dash, f"{r['ratio']:.2f}x" if r["ratio"] else dash,
         f"{r['pipecanvas_peak']}/{r['kfp_peak'] if r['kfp_peak'] is not None else dash}")
        for r in rows
    ]
    print_table(title, header, cells, text_columns=3)


def _phase_line(rows: list[dict[str, Any]]) -> str:
    phases = next(r for r in rows if r["shape"] == "chain")["pipecanvas_phases"]
    return (f"pipecanvas chain, where the time goes: {phases['before_first_step']:.2f}s before the first step "
            f"(compile, run process start), per step {phases['in_step_process']:.3f}s in its process + "
            f"{phases['between_steps']:.3f}s between steps, {phases['after_last_step']:.3f}s after the last")


# ---------------------------------------------------------------- command line


def _components(text: str) -> list[str]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    if not chosen or set(chosen) - set(KFP_COMPONENTS):
        raise argparse.ArgumentTypeError(f"choose from {', '.join(KFP_COMPONENTS)}, comma-separated")
    return [v for v in KFP_COMPONENTS if v in chosen]


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed runs per shape and side, median reported (default 3)")
    parser.add_argument("--kfp-components", type=_components, default=list(KFP_COMPONENTS),
                        help="kfp component set-ups to measure: bare (no pip step), default (kfp's own pip step); "
                             "default both")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV,
                        help="where kfp's own venv lives (default .bench/kfp-venv)")
    parser.add_argument("--skip-install", action="store_true",
                        help="reuse the kfp venv as it is; never create or install")
    parser.add_argument("--no-kfp", action="store_true", help="measure pipecanvas alone")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds one run may take on either side (default 300)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    print(f"python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs")
    python = None if args.no_kfp else ensure_kfp_venv(args.venv, args.skip_install)
    with tempfile.TemporaryDirectory(prefix="pipecanvas-bench-", ignore_cleanup_errors=True) as folder:
        results = _measure(args, Path(folder), python)
    rows = _rows(results)
    kfp_version = results.get("kfp_version")
    _print_table(rows, f"local run wall time (median of {args.repeats}), pipecanvas vs kfp.local "
                       f"{kfp_version or '(not measured)'} SubprocessRunner(use_venv=False)")
    if kfp_version:
        print("kfp components: bare = @dsl.component(install_kfp_package=False); default = @dsl.component as is, "
              "which runs `pip install kfp==<version>` before each step (already satisfied, nothing downloaded)")
    print(_phase_line(rows))
    print(_cli_line(results["cli"]))
    print(_marginal_line(rows))
    goal = _goal_line(rows, results["cli"])
    print(goal)
    if args.json:
        report = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                  "kfp_version": kfp_version, "goal": goal, "results": rows, "cli": results["cli"]}
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
