"""How long validating and compiling a pipeline takes, beside the Kubeflow Pipelines SDK 2.x compiler.

Run from the repository root with the project's virtual environment::

    .venv/bin/python benchmarks/compile.py [--sizes 10,100,1000] [--json results.json]

Two generated shapes are measured at each size N:

* ``chain``: N steps, each consuming the previous step's output.
* ``diamond``: one source, N-2 parallel middle steps that each consume the
  source, and one sink that depends on every middle step.

pipecanvas's timed region is what ``pipecanvas compile`` does with a document
already in memory: ``Pipeline.model_validate`` + ``validate_pipeline`` +
``compile_plan`` + ``dump_plan_yaml`` + writing the plan file. The kfp timed
region is ``@dsl.pipeline`` (which builds the task graph) + ``Compiler().compile``
(which writes the pipeline YAML). Node types and components are defined outside
both timed regions. kfp runs in its own virtual environment (``.bench/kfp-venv``,
created and filled by this script) as a subprocess in the same run, so both sides
are measured on the same machine at the same time.

The goal is at least 20x faster than kfp at 1000 nodes for both shapes. The
script exits 0 whether or not the goal is met (it is a measurement); it exits
non-zero only when something fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # run as a script: make `nodes` and `compiler` importable
    sys.path.insert(0, str(_ROOT))

from report_table import print_table  # noqa: E402  (this script's folder is on sys.path when it runs)

__all__ = ["main", "pipeline_document", "sink_node_type", "time_pipecanvas", "run_kfp"]

GOAL_SIZE = 1000
GOAL_RATIO = 20.0
KFP_REQUIREMENT = "kfp>=2,<3"
SHAPES = ("chain", "diamond")
DEFAULT_VENV = _ROOT / ".bench" / "kfp-venv"
# pipecanvas's timed phases, in order; compile_plan validates again itself, as it must stand alone.
PHASES = ("model_validate", "validate_pipeline", "compile_plan", "write_plan")
_LARGE = 500  # sizes above this get at most 3 repeats on both sides, so kfp's slow side stays bearable

# The kfp side, written to a temporary file and run with the kfp venv's python.
# A file, not ``-c``: kfp's lightweight components read their function's source.
_KFP_WORKER = r'''
import json, os, statistics, sys, tempfile, time, warnings
warnings.filterwarnings("ignore")
import kfp
from kfp import compiler, dsl


@dsl.component
def step(x: int) -> int:
    return x + 1


def chain(n):
    def body():
        task = step(x=0)
        for _ in range(n - 1):
            task = step(x=task.output)
    return body


def diamond(n):
    # A kfp component has a fixed signature, so the sink takes one middle's
    # output as data and depends on every middle through .after().
    def body():
        source = step(x=0)
        middles = [step(x=source.output) for _ in range(n - 2)]
        step(x=middles[0].output).after(*middles)
    return body


def once(shape, n, path):
    start = time.perf_counter()
    pipeline = dsl.pipeline(name=f"{shape}-{n}")({"chain": chain, "diamond": diamond}[shape](n))
    compiler.Compiler().compile(pipeline_func=pipeline, package_path=path)
    return time.perf_counter() - start


def main():
    config = json.loads(sys.argv[1])
    results = []
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "pipeline.yaml")
        once("chain", 10, path)  # warm-up, not counted
        for shape, n, repeats in config["cases"]:
            seconds = [once(shape, n, path) for _ in range(repeats)]
            print(f"  kfp {shape} {n}: {statistics.median(seconds):.4f}s", file=sys.stderr, flush=True)
            results.append({"shape": shape, "n": n, "seconds": seconds})
    print(json.dumps({"kfp_version": kfp.__version__, "results": results}))


main()
'''


# ---------------------------------------------------------------- pipecanvas side


def pipeline_document(shape: str, n: int) -> dict[str, Any]:
    """The pipeline file for ``shape`` at ``n`` nodes, as the dict its YAML loads to."""
    if shape == "chain":
        nodes = [{"id": "step-0000", "type": "data.sample", "params": {"dataset": "iris"}}]
        edges = []
        for i in range(1, n):
            port = "table" if i == 1 else "train"
            nodes.append({"id": f"step-{i:04d}", "type": "prepare.split", "params": {"test_fraction": 0.2}})
            edges.append({"from": f"step-{i - 1:04d}.{port}", "to": f"step-{i:04d}.table"})
    else:
        nodes = [{"id": "source", "type": "data.sample", "params": {"dataset": "iris"}}]
        edges = []
        for i in range(n - 2):
            nodes.append({"id": f"mid-{i:04d}", "type": "prepare.split", "params": {"test_fraction": 0.2}})
            edges.append({"from": "source.table", "to": f"mid-{i:04d}.table"})
            edges.append({"from": f"mid-{i:04d}.train", "to": f"sink.in_{i:04d}"})
        nodes.append({"id": "sink", "type": "bench.sink", "params": {}})
    return {
        "apiVersion": "pipecanvas/v1",
        "kind": "Pipeline",
        "metadata": {"name": f"{shape}-{n}"},
        "spec": {"nodes": nodes, "edges": edges},
    }


def sink_node_type(inputs: int) -> type:
    """A benchmark-only node type with ``inputs`` table inputs: the diamond's sink.

    No built-in node takes hundreds of inputs, and kfp's sink cannot either
    (it uses ``.after()``), so both sides get the same dependency shape.
    """
    from nodes import ArtifactKind, Category, NodeType, Port

    ports = tuple(Port(f"in_{i:04d}", ArtifactKind.TABLE) for i in range(inputs))
    attributes = {
        "type_id": "bench.sink",
        "title": "Benchmark sink",
        "description": "Consumes every middle step of the diamond benchmark.",
        "category": Category.EVALUATE,
        "inputs": ports,
        "__module__": __name__,
    }
    return type("BenchSink", (NodeType,), attributes)


def _catalog_for(shape: str, n: int) -> Any:
    from nodes import Catalog, default_catalog

    catalog = default_catalog()
    if shape == "chain":
        return catalog
    return Catalog([*catalog, sink_node_type(n - 2)])


def _compile_once(document: dict[str, Any], catalog: Any, folder: Path) -> dict[str, float]:
    """One timed validate + compile + write, in seconds per phase and in total.

    Fails loudly if the generated pipeline is invalid, so a broken generator
    cannot pass for a fast compiler.
    """
    from compiler import Pipeline, compile_plan, dump_plan_yaml, errors_only, validate_pipeline

    marks = [time.perf_counter()]
    pipeline = Pipeline.model_validate(document)
    marks.append(time.perf_counter())
    diagnostics = validate_pipeline(pipeline, catalog)
    marks.append(time.perf_counter())
    plan = compile_plan(pipeline, catalog, artifact_root=str(folder / "artifacts"))
    marks.append(time.perf_counter())
    (folder / "plan.yaml").write_text(dump_plan_yaml(plan), encoding="utf-8")
    marks.append(time.perf_counter())
    if errors_only(diagnostics):
        raise RuntimeError(f"generated pipeline is invalid: {diagnostics[0].message}")
    if len(plan.steps) != len(document["spec"]["nodes"]):
        raise RuntimeError(f"plan has {len(plan.steps)} steps for {len(document['spec']['nodes'])} nodes")
    phases = {name: after - before for name, before, after in zip(PHASES, marks, marks[1:])}
    return {**phases, "total": marks[-1] - marks[0]}


def time_pipecanvas(shape: str, n: int, repeats: int, folder: Path) -> list[dict[str, float]]:
    """Seconds per repeat (per phase and total) for validating and compiling ``shape`` at ``n`` nodes."""
    document = pipeline_document(shape, n)
    catalog = _catalog_for(shape, n)
    return [_compile_once(document, catalog, folder) for _ in range(repeats)]


# ---------------------------------------------------------------- kfp side


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _kfp_version(python: Path) -> str | None:
    """The installed kfp version in that interpreter, or None when kfp 2.x is not importable."""
    if not python.exists():
        return None
    probe = subprocess.run([str(python), "-c", "import kfp; print(kfp.__version__)"], capture_output=True, text=True)
    version = probe.stdout.strip()
    return version if probe.returncode == 0 and version.startswith("2.") else None


def ensure_kfp_venv(venv: Path, skip_install: bool) -> Path | None:
    """The kfp venv's python, creating the venv and installing kfp 2.x when needed.

    Returns None (after saying why) when kfp cannot be had, so that the
    pipecanvas figures are still reported.
    """
    python = _venv_python(venv)
    version = _kfp_version(python)
    if version:
        print(f"kfp {version} found in {venv}")
        return python
    if skip_install:
        print(f"--skip-install given but {venv} has no kfp 2.x; reporting pipecanvas alone")
        return None
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet", KFP_REQUIREMENT],
    ]
    for argv in steps:
        print("running:", " ".join(argv), flush=True)
        if subprocess.run(argv).returncode != 0:
            print(f"could not set up kfp in {venv} (no network?); reporting pipecanvas alone")
            return None
    version = _kfp_version(python)
    if version is None:
        print(f"kfp installed in {venv} but not importable; reporting pipecanvas alone")
        return None
    print(f"kfp {version} installed in {venv}")
    return python


def run_kfp(python: Path, cases: list[tuple[str, int, int]], timeout: float) -> dict[str, Any] | None:
    """Run the kfp worker in its venv; its per-case timings, or None (after saying why) if it failed."""
    with tempfile.TemporaryDirectory() as folder:
        worker = Path(folder) / "kfp_worker.py"
        worker.write_text(_KFP_WORKER, encoding="utf-8")
        try:
            done = subprocess.run(
                [str(python), str(worker), json.dumps({"cases": cases})],
                stdout=subprocess.PIPE, text=True, timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            print(f"kfp side took longer than {timeout:.0f}s and was stopped; reporting pipecanvas alone")
            return None
    if done.returncode != 0 or not done.stdout.strip():
        print(f"kfp side failed (exit {done.returncode}); reporting pipecanvas alone")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- report


def _repeats_for(n: int, repeats: int) -> int:
    return min(repeats, 3) if n > _LARGE else repeats


def _rows(cases: list[tuple[str, int, int]], ours: dict, theirs: dict | None) -> list[dict[str, Any]]:
    kfp_by_case = {(r["shape"], r["n"]): r["seconds"] for r in (theirs or {}).get("results", [])}
    rows = []
    for shape, n, _ in cases:
        runs = ours[(shape, n)]
        pc = statistics.median(run["total"] for run in runs)
        kfp_seconds = kfp_by_case.get((shape, n))
        kfp = statistics.median(kfp_seconds) if kfp_seconds else None
        rows.append({
            "shape": shape, "n": n,
            "pipecanvas_seconds": pc, "kfp_seconds": kfp,
            "speedup": kfp / pc if kfp is not None else None,
            "pipecanvas_phases": {name: statistics.median(run[name] for run in runs) for name in PHASES},
            "pipecanvas_runs": [run["total"] for run in runs], "kfp_runs": kfp_seconds,
        })
    return rows


def _phase_lines(rows: list[dict[str, Any]]) -> list[str]:
    """Where pipecanvas's time goes at the largest size, one line per shape."""
    largest = max(r["n"] for r in rows)
    return [
        f"pipecanvas {r['shape']} {largest}: "
        + ", ".join(f"{name} {seconds:.4f}s" for name, seconds in r["pipecanvas_phases"].items())
        for r in rows if r["n"] == largest
    ]


def _goal_line(rows: list[dict[str, Any]]) -> str:
    at_goal = [r for r in rows if r["n"] == GOAL_SIZE]
    wanted = f"goal: >= {GOAL_RATIO:g}x faster than kfp at {GOAL_SIZE} nodes for both shapes"
    if {r["shape"] for r in at_goal} != set(SHAPES) or any(r["speedup"] is None for r in at_goal):
        return f"{wanted}: not checked (needs size {GOAL_SIZE} and kfp figures for both shapes)"
    met = all(r["speedup"] >= GOAL_RATIO for r in at_goal)
    figures = ", ".join(f"{r['shape']} {r['speedup']:.1f}x" for r in at_goal)
    return f"{wanted}: {'MET' if met else 'NOT MET'} ({figures})"


def _print_table(rows: list[dict[str, Any]], title: str) -> None:
    header = ("shape", "nodes", "pipecanvas (s)", "kfp (s)", "speed-up (kfp/pipecanvas)")
    cells = [
        (r["shape"], str(r["n"]), f"{r['pipecanvas_seconds']:.4f}",
         "-" if r["kfp_seconds"] is None else f"{r['kfp_seconds']:.4f}",
         "-" if r["speedup"] is None else f"{r['speedup']:.1f}x")
        for r in rows
    ]
    print_table(title, header, cells, text_columns=1)


# ---------------------------------------------------------------- command line


def _sizes(text: str) -> list[int]:
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 3:
        raise argparse.ArgumentTypeError("sizes must be whole numbers of at least 3, e.g. 10,100,1000")
    return sizes


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_sizes, default=[10, 100, 1000], help="node counts, comma-separated (default 10,100,1000)")
    parser.add_argument("--repeats", type=int, default=5, help=f"timed runs per case, median reported; at most 3 above {_LARGE} nodes (default 5)")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="where kfp's own venv lives (default .bench/kfp-venv)")
    parser.add_argument("--skip-install", action="store_true", help="reuse the kfp venv as it is; never create or install")
    parser.add_argument("--no-kfp", action="store_true", help="measure pipecanvas alone")
    parser.add_argument("--kfp-timeout", type=float, default=900.0, help="seconds the whole kfp side may take (default 900)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def _measure_pipecanvas(cases: list[tuple[str, int, int]]) -> dict[tuple[str, int], list[dict[str, float]]]:
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        time_pipecanvas("chain", 10, 1, Path(folder))  # warm-up, not counted
        for shape, n, repeats in cases:
            results[(shape, n)] = time_pipecanvas(shape, n, repeats, Path(folder))
            median = statistics.median(run["total"] for run in results[(shape, n)])
            print(f"  pipecanvas {shape} {n}: {median:.4f}s", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    cases = [(shape, n, _repeats_for(n, args.repeats)) for shape in SHAPES for n in args.sizes]
    print(f"python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs")
    python = None if args.no_kfp else ensure_kfp_venv(args.venv, args.skip_install)
    print("measuring pipecanvas (median of repeats)...", flush=True)
    ours = _measure_pipecanvas(cases)
    theirs = None
    if python is not None:
        print("measuring kfp (median of repeats)...", flush=True)
        theirs = run_kfp(python, cases, args.kfp_timeout)
    rows = _rows(cases, ours, theirs)
    kfp_version = theirs["kfp_version"] if theirs else None
    _print_table(rows, f"validate + compile time, pipecanvas vs kfp {kfp_version or '(not measured)'}")
    print("diamond sink: pipecanvas uses a benchmark-only node with one input per middle step; "
          "kfp's sink takes one middle's output and .after() on all of them")
    for line in _phase_lines(rows):
        print(line)
    print(_goal_line(rows))
    if args.json:
        report = {"python": platform.python_version(), "platform": platform.platform(),
                  "kfp_version": kfp_version, "goal": _goal_line(rows), "results": rows}
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
