"""Checking and compiling a pipeline, and the CLI commands a user types most, load none of the heavy libraries.

Each case runs in a fresh interpreter and looks at ``sys.modules`` afterwards:
behaviour, not timing (the figures are in ``benchmarks/startup.py``). What is
imported lazily and why is written once, in README.md ("What is imported when").
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "numpy", "sklearn", "pyarrow", "kubernetes", "networkx", "fsspec", "torch", "skops", "streamlit")
EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.yaml"))

_REPORT = "import json, sys; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.__stderr__)"


def _loaded_after(code: str, tmp_path: Path) -> set[str]:
    """Top-level packages in sys.modules after ``code`` ran in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", f"{code}\n{_REPORT}"], capture_output=True, text=True, cwd=REPO_ROOT,
                          env={"PATH": "/usr/bin:/bin", "PIPECANVAS_HOME": str(tmp_path)}, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_validating_and_compiling_an_example_imports_no_heavy_library(example: Path, tmp_path: Path) -> None:
    code = f"""
from compiler import compile_plan, dump_plan_yaml, read_pipeline_file, validate_pipeline
from nodes import default_catalog
loaded = read_pipeline_file({str(example)!r})
catalog = default_catalog()
assert validate_pipeline(loaded.pipeline, catalog, loaded.source_map) is not None
from runtime.machine import check_machine  # validate's check of this machine: find_spec, never an import
check_machine(loaded.pipeline, catalog, loaded.source_map)
dump_plan_yaml(compile_plan(loaded.pipeline, catalog, {str(tmp_path / 'artifacts')!r}, loaded.source_map))
"""
    assert _loaded_after(code, tmp_path) & set(HEAVY) == set()


def test_a_resource_quantity_is_checked_without_the_kubernetes_client(tmp_path: Path) -> None:
    code = """
from compiler import parse_pipeline, validate_pipeline
from nodes import default_catalog
doc = '''apiVersion: pipecanvas/v1
kind: Pipeline
metadata: {name: q}
spec:
  nodes:
    - {id: load, type: data.sample, params: {dataset: iris}, resources: {cpu: NaN, memory: 4Gi}}
'''
messages = [d.message for d in validate_pipeline(parse_pipeline(doc).pipeline, default_catalog())]
assert any("'NaN' is not a Kubernetes quantity" in m for m in messages), messages
"""
    assert "kubernetes" not in _loaded_after(code, tmp_path)


def _cli_loads(argv: list[str], tmp_path: Path) -> set[str]:
    """Top-level packages loaded by the CLI command ``argv``; exit 2 (problems found and printed, as
    validate says of iris-mlp-gpu where PyTorch is missing) counts as having done its work."""
    return _loaded_after(f"from studio.cli import main\ncode = main({argv!r})\nassert code in (0, 2), code", tmp_path)


_RUNTIME_MODULES = "print(json.dumps(sorted(m for m in sys.modules if m.startswith('runtime.'))), file=sys.__stderr__)"


def test_validate_uses_only_the_runtime_modules_it_names(tmp_path: Path) -> None:
    """validate checks this machine (runtime.machine: find_spec and the driver's files; its error's base,
    runtime.refusals) and keeps data findings under PIPECANVAS_HOME (runtime.home); nothing else of the runtime,
    whose executors import far more."""
    example = str(REPO_ROOT / "examples" / "churn-csv.yaml")
    done = subprocess.run([sys.executable, "-c", f"import json, sys\nfrom studio.cli import main\nmain(['validate', {example!r}])\n"
                           f"{_RUNTIME_MODULES}"], capture_output=True, text=True, cwd=REPO_ROOT,
                          env={"PATH": "/usr/bin:/bin", "PIPECANVAS_HOME": str(tmp_path)}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stderr.strip().splitlines()[-1])) <= {"runtime.machine", "runtime.refusals", "runtime.home"}


@pytest.mark.parametrize("argv", [["--help"], ["nodes"], ["datasets", "--help"]], ids=["help", "nodes", "datasets-help"])
def test_the_cli_commands_a_user_types_most_import_no_heavy_library(argv: list[str], tmp_path: Path) -> None:
    loaded = _cli_loads(argv, tmp_path)
    assert loaded & set(HEAVY) == set()
    if argv == ["--help"]:
        assert {"pydantic", "compiler", "nodes", "runtime", "rich"} & loaded == set()
    elif "--help" in argv:  # a command's help: typer (0.29) checks its options through pydantic, nothing of ours
        assert {"compiler", "nodes", "runtime", "rich"} & loaded == set()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_validate_and_compile_of_an_example_import_no_heavy_library(example: Path, tmp_path: Path) -> None:
    """validate of a file-backed example reads its data once (pandas), then answers from PIPECANVAS_HOME."""
    _cli_loads(["validate", str(example)], tmp_path)  # the data checks' first look, if the example reads a file
    for argv in (["validate", str(example)], ["compile", str(example), "-o", str(tmp_path / "plan.yaml")]):
        loaded = _cli_loads(argv, tmp_path)
        assert loaded & set(HEAVY) == set(), argv
        assert "rich" not in loaded, argv


def test_starting_a_local_run_loads_no_heavy_library_before_the_fork(tmp_path: Path) -> None:
    """``pipecanvas run`` compiles, records and forks the run process; writing the plan into the home is a plain
    file write, so the command (and the run process it forks, until it warms up) has not paid for fsspec or pandas."""
    import time

    from runtime.run_store import open_store
    from runtime.states import FINISHED_RUN_STATES

    pipeline = tmp_path / "one.yaml"
    pipeline.write_text("apiVersion: pipecanvas/v1\nkind: Pipeline\nmetadata: {name: one}\n"
                        "spec:\n  nodes:\n    - {id: load, type: data.sample, params: {dataset: iris}}\n", encoding="utf-8")
    loaded = _cli_loads(["run", str(pipeline), "--detach", "--no-cache"], tmp_path)
    assert loaded & set(HEAVY) == set()
    store = open_store(tmp_path)
    (run,) = store.list_runs()
    deadline = time.monotonic() + 60
    while store.get_run(run.id).state not in FINISHED_RUN_STATES and time.monotonic() < deadline:
        time.sleep(0.1)
    assert store.get_run(run.id).state == "succeeded", store.get_run(run.id)


def test_a_pipeline_loads_the_modules_of_its_own_node_types_and_no_other(tmp_path: Path) -> None:
    """The catalog imports a built-in node module the first time one of its types is used
    (``nodes/builtin_index.py``): validate and compile of iris load the five modules its six nodes come from."""
    from compiler import read_pipeline_file
    from nodes.builtin_index import BUILTIN_TYPES

    example = REPO_ROOT / "examples" / "iris-classifier.yaml"
    used = {node.type for node in read_pipeline_file(example).pipeline.spec.nodes}
    wanted = {BUILTIN_TYPES[t].split(":")[0] for t in used}
    unused = {where.split(":")[0] for where in BUILTIN_TYPES.values()} - wanted
    code = (f"import json, sys\nfrom studio.cli import main\nassert main(['validate', {str(example)!r}]) == 0\n"
            f"assert main(['compile', {str(example)!r}, '-o', {str(tmp_path / 'plan.yaml')!r}]) == 0\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('nodes.'))), file=sys.__stderr__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                          env={"PATH": "/usr/bin:/bin", "PIPECANVAS_HOME": str(tmp_path)}, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert wanted <= loaded and len(wanted) == 5
    assert loaded & unused == set()
