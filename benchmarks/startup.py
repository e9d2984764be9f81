"""How long the commands a user types most take as whole processes, beside ``python -c pass``.

Run from the repository root with the project's virtual environment::

    .venv/bin/python benchmarks/startup.py [--repeats 21] [--json results.json]

Times ``pipecanvas --help``, ``pipecanvas nodes`` and ``pipecanvas validate FILE``
on every file in ``examples/``, each as its own process (the console script
beside this interpreter, as a user runs it), taking turns with ``python -c pass``
run by the same interpreter, so a busy machine slows both alike. Prints the
median wall time of each, its ratio to ``python -c pass``, and the median CPU
time (user + system, from ``wait4``), which moves less with the machine's load.
A second reference, timed in the same turns, is the chosen libraries alone
(importing typer and PyYAML and defining one pydantic model): the part of every
command that is not pipecanvas's own.

The goal: each command at most 0.2 s wall (median) on a quiet machine. The
script exits 0 whether or not the goal is met (it is a measurement); it exits
non-zero only when a command fails.
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

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

from report_table import print_table  # noqa: E402

__all__ = ["main", "commands", "time_process"]

GOAL_SECONDS = 0.2
BASELINE = "python -c pass"
#: what the chosen libraries alone cost before pipecanvas does anything: the CLI framework, the YAML reader
#: and one pydantic model (the first one loads pydantic's schema machinery and its plug-in lookup)
LIBRARIES = "libraries alone (typer, yaml, one pydantic model)"
_LIBRARIES_CODE = "import typer, yaml\nfrom pydantic import BaseModel, Field\nclass M(BaseModel):\n    x: int = Field(1, ge=1)\n"
REFERENCES = (BASELINE, LIBRARIES)


def commands() -> dict[str, list[str]]:
    """Label → argv, the two references (``python -c pass``, the libraries alone) first."""
    script = Path(sys.executable).parent / "pipecanvas"
    pipecanvas = [str(script)] if script.exists() else [sys.executable, "-c", "from studio.cli import entrypoint; entrypoint()"]
    found = {BASELINE: [sys.executable, "-c", "pass"], LIBRARIES: [sys.executable, "-c", _LIBRARIES_CODE],
             "pipecanvas --help": [*pipecanvas, "--help"],
             "pipecanvas nodes": [*pipecanvas, "nodes"]}
    for example in sorted((_ROOT / "examples").glob("*.yaml")):
        found[f"pipecanvas validate examples/{example.name}"] = [*pipecanvas, "validate", str(example)]
    return found


def time_process(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``argv``; fails loudly if it does not exit 0.

    ``validate`` may also exit 2: the check ran to the end and found something, e.g. that this machine lacks
    PyTorch for ``iris-mlp-gpu.yaml`` (the same work is done either way).
    """
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    stderr = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 and not (process.returncode == 2 and "validate" in argv):
        raise RuntimeError(f"{' '.join(argv)} exited {process.returncode}: {stderr[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=21, help="runs of each command, median reported (default 21)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    runs: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "PIPECANVAS_HOME": home}
        # a user's imports come from cached bytecode; with this set, every process compiles the project's modules again
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        todo = commands()
        for command in todo.values():  # warm-up: .pyc files and disk caches, not counted
            time_process(command, env)
        for _ in range(max(1, args.repeats)):  # round-robin, so load falls on every command alike
            for label, command in todo.items():
                runs.setdefault(label, []).append(time_process(command, env))
    base = statistics.median(wall for wall, _ in runs[BASELINE])
    rows = []
    for label, figures in runs.items():
        wall = statistics.median(w for w, _ in figures)
        cpu = statistics.median(c for _, c in figures)
        rows.append({"command": label, "wall_seconds": wall, "cpu_seconds": cpu, "ratio": wall / base,
                     "walls": [w for w, _ in figures], "cpus": [c for _, c in figures]})
    print_table(f"whole-process time, median of {args.repeats}", ("command", "wall (s)", "× python -c pass", "CPU (s)"),
                [(r["command"], f"{r['wall_seconds']:.3f}", f"{r['ratio']:.1f}x", f"{r['cpu_seconds']:.3f}")
                 for r in rows])
    commands_only = [r for r in rows if r["command"] not in REFERENCES]
    slowest = max(commands_only, key=lambda r: r["wall_seconds"])
    met = slowest["wall_seconds"] <= GOAL_SECONDS
    goal = (f"goal: every command <= {GOAL_SECONDS} s wall (median): {'MET' if met else 'NOT MET'} "
            f"(slowest: {slowest['command']} {slowest['wall_seconds']:.3f}s, python -c pass {base:.3f}s)")
    print(goal)
    libraries = next(r["wall_seconds"] for r in rows if r["command"] == LIBRARIES)
    print(f"the libraries alone take {libraries:.3f}s ({libraries - base:.3f}s over python -c pass); the slowest "
          f"command spends {slowest['wall_seconds'] - libraries:.3f}s beyond them on pipecanvas's own imports and work")
    print("validate of an example that reads a file: the warm-up run read its data once (pandas, scikit-learn); the "
          "timed runs answer from $PIPECANVAS_HOME/cache/data-findings, as a user's repeated validate does")
    if args.json:
        report = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                  "goal": goal, "results": rows}
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
