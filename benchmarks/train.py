"""Time to a trained and evaluated model, pipecanvas beside a plain scikit-learn script doing the same work.

Run from the repository root with the project's virtual environment::

    .venv/bin/python benchmarks/train.py [--rows 100000,1000000] [--repeats 1] [--json out.json]

For each size a table is generated (seeded): 12 numeric columns (5 % missing),
4 text categories (3 % missing) and a binary target, saved as Parquet. Both
sides then read it, split it 75/25 stratified (seed 42), fill gaps, scale and
one-hot encode (learned on the training rows), train histogram gradient
boosting with the same params (100 rounds, learning rate 0.1, seed 42) on the
same 2 cores, and score accuracy, F1 and ROC AUC on the test rows.

* pipecanvas: ``data.file → prepare.split → prepare.clean → train.classifier →
  evaluate.classifier`` run with ``runtime.runs.start_run`` (no cache), timed from
  the call to the run's ``finished_at``. Each step's peak memory is then measured
  by running its entrypoint again as a child process (``wait4``'s ``ru_maxrss``).
* the script: one ``python -c`` process doing the same in plain scikit-learn,
  timed from start to exit (its imports count, as the steps' do).

The goal: pipecanvas's whole pipeline within 1.3× the script's wall time. The
script exits 0 whether or not the goal is met; non-zero only when a run fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

__all__ = ["main", "make_table"]

GOAL_RATIO = 1.3
CPUS = "2"

_SCRIPT = r"""
import sys, time
import numpy as np, pandas as pd
from threadpoolctl import threadpool_limits
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
frame = pd.read_parquet(sys.argv[1])
train, test = train_test_split(frame, test_size=0.25, random_state=42, stratify=frame["target"])
features = [c for c in frame.columns if c != "target"]
numeric = [c for c in features if c.startswith("num")]
text = [c for c in features if c not in numeric]
clean = ColumnTransformer([
    ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
    ("cat", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                      ("encode", OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=20,
                                               sparse_output=False))]), text)])
with threadpool_limits(2):
    x_train = clean.fit_transform(train[features]); x_test = clean.transform(test[features])
    model = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_depth=None, random_state=42)
    model.fit(x_train, train["target"])
    predicted = model.predict(x_test); proba = model.predict_proba(x_test)[:, 1]
print(accuracy_score(test["target"], predicted), f1_score(test["target"], predicted, average="macro"),
      roc_auc_score(test["target"] == model.classes_[1], proba))
"""


def make_table(rows: int, seed: int = 0) -> Any:
    """Numbers and categories with gaps, and a target that depends on both (so there is something to learn)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    numbers = rng.normal(size=(rows, 12))
    frame = pd.DataFrame(numbers, columns=[f"num{i}" for i in range(12)])
    for i, choices in enumerate((["north", "south", "east", "west"], [f"plan{k}" for k in range(8)],
                                 ["yes", "no"], [f"shop{k}" for k in range(30)])):
        frame[f"cat{i}"] = rng.choice(choices, size=rows)
    signal = numbers[:, 0] - 0.7 * numbers[:, 1] + 0.5 * numbers[:, 2] * numbers[:, 3] + (frame["cat0"] == "north") * 0.8
    frame["target"] = np.where(signal + rng.normal(scale=1.0, size=rows) > 0.3, "churned", "stayed")
    for column in frame.columns[:12]:
        frame.loc[rng.random(rows) < 0.05, column] = np.nan
    for column in [f"cat{i}" for i in range(4)]:
        frame.loc[rng.random(rows) < 0.03, column] = None
    return frame


def _pipeline(path: str, name: str) -> Any:
    from compiler import Pipeline

    nodes = [
        {"id": "load", "type": "data.file", "params": {"path": path, "target": "target"}},
        {"id": "split", "type": "prepare.split", "params": {"test_fraction": 0.25, "seed": 42}},
        {"id": "clean", "type": "prepare.clean"},
        {"id": "train", "type": "train.classifier",
         "params": {"algorithm": "hist_gradient_boosting", "n_estimators": 100, "learning_rate": 0.1, "seed": 42},
         "resources": {"cpu": CPUS}},
        {"id": "evaluate", "type": "evaluate.classifier"},
    ]
    edges = [("load.table", "split.table"), ("split.train", "clean.train"), ("split.test", "clean.test"),
             ("clean.train", "train.train"), ("train.model", "evaluate.model"), ("clean.test", "evaluate.test")]
    return Pipeline.model_validate({
        "apiVersion": "pipecanvas/v1", "kind": "Pipeline", "metadata": {"name": name},
        "spec": {"nodes": nodes, "edges": [{"from": a, "to": b} for a, b in edges]},
    })


def run_pipecanvas(path: str, home: Path, name: str) -> dict[str, Any]:
    from nodes.artifact_io import read_artifact
    from runtime.run_store import open_store
    from runtime.runs import start_run, wait_for_run

    store = open_store(home)
    started = time.time()
    run_id = start_run(_pipeline(path, name), store=store, home=home, use_cache=False, max_parallel=2)
    run = wait_for_run(store, run_id, timeout=3600)
    if run.state.value != "succeeded":
        raise SystemExit(f"pipecanvas run {run_id} ended {run.state.value}")
    wall = (run.finished_at or time.time()) - started
    steps = {s.step_id: (s.finished_at or 0) - (s.started_at or 0) for s in store.steps(run_id)}
    metrics_uri = next(uri for step, port, _k, uri in store.artifacts(run_id) if step == "evaluate")
    values = read_artifact("metrics", metrics_uri).values
    return {"run_id": run_id, "wall": wall, "steps": steps,
            "scores": (values["accuracy"], values["f1"], values["roc_auc"])}


def step_peak_memory(home: Path, run_id: str) -> dict[str, float]:
    """Each step's peak resident memory (MiB), from running its entrypoint again as a child process."""
    from runtime.run_store import open_store

    store = open_store(home)
    plan_uri = next(uri for _s, _p, _k, uri in store.artifacts(run_id))  # any artifact: its run folder holds plan.yaml
    plan = Path(plan_uri).parents[1] / "plan.yaml"
    peaks = {}
    env = {**os.environ, "PIPECANVAS_HOME": str(home)}
    for step in [s.step_id for s in store.steps(run_id)]:
        child = subprocess.Popen([sys.executable, "-m", "runtime.entrypoint", "--plan", str(plan), "--step", step],
                                 cwd=_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(child.pid, 0)
        if status != 0:
            raise SystemExit(f"step {step} failed when re-run for its memory")
        peaks[step] = usage.ru_maxrss / 1024  # Linux: KiB
    return peaks


def run_script(path: str) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _SCRIPT, path], capture_output=True, text=True, cwd=_ROOT)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the scikit-learn script failed:\n{done.stderr}")
    return {"wall": wall, "scores": tuple(float(v) for v in done.stdout.split())}


def _torch_line() -> str:
    """Whether PyTorch is installed where this runs, which used to change pipecanvas's figure.

    skops.io lists the scikit-learn estimators it trusts when it is imported (``sklearn.utils.all_estimators``),
    which imports every scikit-learn package, ``sklearn.externals.array_api_compat.torch`` among them, and
    that imports torch when it is installed: seconds and hundreds of MiB in every step that reads or writes a
    model. pipecanvas imports skops.io with torch kept out (``nodes/skops_import.py``), so the figure should
    now be the same with and without it; the line says which case was measured."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return "PyTorch is not installed here (the base install, pip install .)"
    return ("PyTorch is installed here (the test or gpu extras); pipecanvas's steps import skops.io without it "
            "(nodes/skops_import.py)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="100000,1000000", help="comma-separated row counts")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per side and size (median reported)")
    parser.add_argument("--json", help="also write every figure here")
    args = parser.parse_args(argv)
    results = []
    print(_torch_line(), flush=True)
    with tempfile.TemporaryDirectory(prefix="pipecanvas-bench-train-") as folder:
        home = Path(folder) / "home"
        os.environ["PIPECANVAS_HOME"] = str(home)
        for rows in (int(r) for r in args.rows.split(",")):
            path = str(Path(folder) / f"table-{rows}.parquet")
            make_table(rows).to_parquet(path, index=False)
            ours, theirs = [], []
            for repeat in range(args.repeats):  # take turns, so load on the machine falls on both alike
                theirs.append(run_script(path))
                ours.append(run_pipecanvas(path, home, f"bench-train-{rows}-{repeat}"))
            mine = sorted(ours, key=lambda r: r["wall"])[len(ours) // 2]
            script = sorted(theirs, key=lambda r: r["wall"])[len(theirs) // 2]
            peaks = step_peak_memory(home, mine["run_id"])
            result = {"rows": rows, "pipecanvas_s": mine["wall"], "script_s": script["wall"],
                      "ratio": mine["wall"] / script["wall"], "steps_s": mine["steps"], "peak_mib": peaks,
                      "pipecanvas_scores": mine["scores"], "script_scores": script["scores"]}
            results.append(result)
            print(f"{rows:>9,} rows: pipecanvas {mine['wall']:.1f}s, script {script['wall']:.1f}s, "
                  f"ratio {result['ratio']:.2f} (goal ≤ {GOAL_RATIO}) "
                  f"{'MET' if result['ratio'] <= GOAL_RATIO else 'NOT MET'}")
            print("           accuracy/F1/AUC pipecanvas " + " / ".join(f"{v:.4f}" for v in mine["scores"])
                  + ", script " + " / ".join(f"{v:.4f}" for v in script["scores"]))
            for step, seconds in mine["steps"].items():
                print(f"           {step:<9} {seconds:6.2f}s  peak {peaks.get(step, 0):7.0f} MiB")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
