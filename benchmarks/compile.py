"""How long ``pipecanvas compile`` takes as a whole process, beside the Kubeflow Pipelines SDK 2.x compiler.

Run from the repository root with the project's virtual environment::

    .venv/bin/python benchmarks/compile.py [--sizes 10,100,1000] [--json results.json]

Two generated shapes are measured at each size N:

* ``chain``: N steps, each consuming the previous step's output.
* ``diamond``: one source, N-2 parallel middle steps that each consume the
  source, and one sink that depends on every middle step.

Both sides are timed as a user meets them, as whole processes: interpreter
start, imports, reading the input, building the graph and writing the plan.
pipecanvas's process is ``pipecanvas compile FILE.yaml -o plan.yaml`` on the
pipeline written out as YAML; kfp's is ``python pipeline.py`` in kfp's own
virtual environment (``.bench/kfp-venv``, created and filled by this script),
a script that defines the component, applies ``@dsl.pipeline`` and calls
``Compiler().compile``. The two take turns, repeat by repeat, so load on a
shared machine falls on both alike. Where pipecanvas's time goes inside its
process is measured apart, in this process, at the largest size.

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

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parent
if str(_ROOT) not in sys.path:  # run as a script: make `nodes` and `compiler` importable
    sys.path.insert(0, str(_ROOT))

from report_table import print_table  # noqa: E402  (this script's folder is on sys.path when it runs)
from sink_nodes import INPUTS_ENV, sink_node_type  # noqa: E402

__all__ = ["main", "pipeline_document", "sink_node_type", "time_pipecanvas", "time_processes"]

GOAL_SIZE = 1000
GOAL_RATIO = 20.0
KFP_REQUIREMENT = "kfp>=2,<3"
SHAPES = ("chain", "diamond")
DEFAULT_VENV = _ROOT / ".bench" / "kfp-venv"
# pipecanvas's timed phases, in order; compile_plan validates again itself, as it must stand alone.
PHASES = ("model_validate", "validate_pipeline", "compile_plan", "write_plan")
_LARGE = 500  # sizes above this get at most 3 repeats on both sides, so kfp's slow side stays bearable

# The kfp side, one whole process per compile: ``python kfp_pipeline.py SHAPE N OUT``, in kfp's venv.
# A file, not ``-c``: kfp's lightweight components read their function's source.
_KFP_SCRIPT = r'''
import sys, warnings
warnings.filterwarnings("ignore")
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


shape, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
pipeline = dsl.pipeline(name=f"{shape}-{n}")({"chain": chain, "diamond": diamond}[shape](n))
compiler.Compiler().compile(pipeline_func=pipeline, package_path=path)
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


# ---------------------------------------------------------------- whole processes, both sides


def _pipecanvas_argv() -> list[str]:
    """``pipecanvas`` as a user runs it: the console script beside this interpreter."""
    script = Path(sys.executable).parent / "pipecanvas"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from studio.cli import entrypoint; entrypoint()"]


def _pipecanvas_env(shape: str, n: int, home: Path) -> dict[str, str]:
    env = {**os.environ, "PIPECANVAS_HOME": str(home)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as a user runs it: from cached bytecode (kfp's venv has its own)
    if shape == "diamond":  # the sink node type, from benchmarks/sink_nodes.py
        paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        env.update({"PYTHONPATH": os.pathsep.join([str(_HERE), *paths]), "PIPECANVAS_NODE_MODULES": "sink_nodes",
                    INPUTS_ENV: str(n - 2)})
    return env


def _timed(argv: list[str], env: dict[str, str] | None, timeout: float) -> float:
    """Wall seconds of one whole process; fails loudly if it does not succeed."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}… exited {done.returncode}: {(done.stderr or done.stdout)[-2000:]}")
    return seconds


def _check_plan(path: Path, n: int) -> None:
    """The plan must hold a step per node, so that a broken generator cannot pass for a fast compiler."""
    import yaml

    steps = (yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {})
    if len(steps.get("steps") or []) != n:
        raise RuntimeError(f"{path} has {len(steps.get('steps') or [])} steps for {n} nodes")


def time_processes(cases: list[tuple[str, int, int]], kfp_python: Path | None, folder: Path,
                   timeout: float) -> dict[str, dict[tuple[str, int], list[float]]]:
    """Seconds of every whole-process compile, per side and case; the sides and ``python -c pass`` take turns."""
    from compiler import dump_yaml

    files = {}
    for shape, n, _ in cases:
        files[(shape, n)] = folder / f"{shape}-{n}.yaml"
        files[(shape, n)].write_text(dump_yaml(pipeline_document(shape, n)), encoding="utf-8")
    kfp_script = folder / "kfp_pipeline.py"
    kfp_script.write_text(_KFP_SCRIPT, encoding="utf-8")
    home, plan, kfp_out = folder / "home", folder / "plan.yaml", folder / "kfp-pipeline.yaml"
    pipecanvas = _pipecanvas_argv()

    def ours(shape: str, n: int) -> float:
        seconds = _timed([*pipecanvas, "compile", str(files[(shape, n)]), "-o", str(plan)],
                         _pipecanvas_env(shape, n, home), timeout)
        _check_plan(plan, n)
        return seconds

    def theirs(shape: str, n: int) -> float:
        seconds = _timed([str(kfp_python), str(kfp_script), shape, str(n), str(kfp_out)], None, timeout)
        if not kfp_out.exists():
            raise RuntimeError(f"kfp wrote no {kfp_out}")
        return seconds

    first_shape, first_n, _ = cases[0]
    ours(first_shape, first_n)  # warm-up (disk caches, .pyc files), not counted
    if kfp_python:
        theirs(first_shape, first_n)
    results: dict[str, dict[tuple[str, int], list[float]]] = {"pipecanvas": {}, "kfp": {}, "python": {}}
    for shape, n, repeats in cases:
        for _ in range(repeats):
            results["python"].setdefault((shape, n), []).append(_timed([sys.executable, "-c", "pass"], None, timeout))
            results["pipecanvas"].setdefault((shape, n), []).append(ours(shape, n))
            if kfp_python:
                results["kfp"].setdefault((shape, n), []).append(theirs(shape, n))
        line = f"  {shape} {n}: pipecanvas {statistics.median(results['pipecanvas'][(shape, n)]):.3f}s"
        if kfp_python:
            line += f", kfp {statistics.median(results['kfp'][(shape, n)]):.3f}s"
        print(line, flush=True)
    return results


# ---------------------------------------------------------------- report


def _repeats_for(n: int, repeats: int) -> int:
    return min(repeats, 3) if n > _LARGE else repeats


def _rows(cases: list[tuple[str, int, int]], measured: dict, phases: dict) -> list[dict[str, Any]]:
    rows = []
    for shape, n, _ in cases:
        pc_runs = measured["pipecanvas"][(shape, n)]
        kfp_runs = measured["kfp"].get((shape, n))
        pc = statistics.median(pc_runs)
        kfp = statistics.median(kfp_runs) if kfp_runs else None
        rows.append({
            "shape": shape, "n": n,
            "pipecanvas_seconds": pc, "kfp_seconds": kfp,
            "speedup": kfp / pc if kfp is not None else None,
            "python_start_seconds": statistics.median(measured["python"][(shape, n)]),
            "pipecanvas_phases": phases.get((shape, n)),
            "pipecanvas_runs": pc_runs, "kfp_runs": kfp_runs,
        })
    return rows


def _phase_lines(rows: list[dict[str, Any]]) -> list[str]:
    """Where pipecanvas's process spends its time at the largest size, one line per shape."""
    lines = []
    for r in rows:
        if not r["pipecanvas_phases"]:
            continue
        work = sum(r["pipecanvas_phases"].values())
        lines.append(
            f"pipecanvas {r['shape']} {r['n']}: {r['pipecanvas_seconds']:.3f}s = "
            f"{r['pipecanvas_seconds'] - work:.3f}s start-up (interpreter {r['python_start_seconds']:.3f}s, imports, "
            f"catalog, reading the YAML) + " + ", ".join(f"{name} {s:.3f}s" for name, s in r["pipecanvas_phases"].items()))
    return lines


def _goal_line(rows: list[dict[str, Any]]) -> str:
    at_goal = [r for r in rows if r["n"] == GOAL_SIZE]
    wanted = f"goal: >= {GOAL_RATIO:g}x faster than kfp at {GOAL_SIZE} nodes for both shapes"
    if {r["shape"] for r in at_goal} != set(SHAPES) or any(r["speedup"] is None for r in at_goal):
        return f"{wanted}: not checked (needs size {GOAL_SIZE} and kfp figures for both shapes)"
    met = all(r["speedup"] >= GOAL_RATIO for r in at_goal)
    figures = ", ".join(f"{r['shape']} {r['speedup']:.1f}x" for r in at_goal)
    return f"{wanted}: {'MET' if met else 'NOT MET'} ({figures})"


def _print_table(rows: list[dict[str, Any]], title: str) -> None:
    header = ("shape", "nodes", "pipecanvas (s)", "kfp (s)", "speed-up (kfp/pipecanvas)", "python -c pass (s)")
    cells = [
        (r["shape"], str(r["n"]), f"{r['pipecanvas_seconds']:.3f}",
         "-" if r["kfp_seconds"] is None else f"{r['kfp_seconds']:.3f}",
         "-" if r["speedup"] is None else f"{r['speedup']:.1f}x", f"{r['python_start_seconds']:.3f}")
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
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds one compile process may take (default 300)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def _phases_at_largest(cases: list[tuple[str, int, int]], folder: Path) -> dict[tuple[str, int], dict[str, float]]:
    """pipecanvas's phases inside its process (median of 3, after a warm-up), for each shape at the largest size."""
    largest = max(n for _, n, _ in cases)
    time_pipecanvas("chain", 10, 1, folder)  # warm-up, not counted
    phases = {}
    for shape in SHAPES:
        runs = time_pipecanvas(shape, largest, 3, folder)
        phases[(shape, largest)] = {name: statistics.median(run[name] for run in runs) for name in PHASES}
    return phases


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    cases = [(shape, n, _repeats_for(n, args.repeats)) for shape in SHAPES for n in args.sizes]
    print(f"python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs")
    python = None if args.no_kfp else ensure_kfp_venv(args.venv, args.skip_install)
    kfp_version = _kfp_version(python) if python else None
    with tempfile.TemporaryDirectory() as folder:
        print("timing whole processes (median of repeats)...", flush=True)
        measured = time_processes(cases, python, Path(folder), args.timeout)
        phases = _phases_at_largest(cases, Path(folder))
    rows = _rows(cases, measured, phases)
    _print_table(rows, f"pipecanvas compile vs kfp {kfp_version or '(not measured)'}, whole processes")
    print("diamond sink: pipecanvas uses a benchmark-only node with one input per middle step; "
          "kfp's sink takes one middle's output and .after() on all of them")
    for line in _phase_lines(rows):
        print(line)
    print(_goal_line(rows))
    if args.json:
        report = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                  "kfp_version": kfp_version, "goal": _goal_line(rows),
                  "results": [{**r, "pipecanvas_phases": r["pipecanvas_phases"]} for r in rows]}
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
