"""Fixtures for tests that start real runs: a private ``PIPECANVAS_HOME``, the test node types, a run helper.

Every test gets its own home (store, artifacts, logs, endpoints) under
``tmp_path``. The run process and every step process are separate Python
processes, so the test node types reach them through the environment
(``PIPECANVAS_NODE_MODULES`` and ``PYTHONPATH``), the same way a node author
tries out unpackaged node types. Whatever a test leaves running (a run it did
not wait for, an endpoint) is stopped when it ends, pass or fail.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from compiler.spec import Pipeline
from runtime.processes import process_alive
from runtime.run_store import EventRecord, RunRecord, RunStore, open_store
from runtime.runs import start_run, wait_for_run

REPO_ROOT = Path(__file__).resolve().parents[2]
SUPPORT = REPO_ROOT / "tests" / "support"
TEST_NODE_MODULE = "pipecanvas_test_nodes"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ``PIPECANVAS_HOME`` that this process, its runs and their steps all use."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("PIPECANVAS_HOME", str(path))
    monkeypatch.setenv("PIPECANVAS_NODE_MODULES", TEST_NODE_MODULE)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(SUPPORT), os.environ.get("PYTHONPATH")])))
    monkeypatch.syspath_prepend(str(SUPPORT))
    monkeypatch.chdir(REPO_ROOT)  # examples name their data files relative to the repository
    return path


@pytest.fixture
def store(home: Path) -> Iterable[RunStore]:
    store = open_store(home)
    yield store
    _stop_leftovers(store)
    store.close()


def _stop_leftovers(store: RunStore) -> None:
    """Cancel runs still going and stop endpoints still serving, so no test leaves a process behind."""
    from runtime.endpoints import stop_endpoint

    for endpoint in store.endpoints():
        if endpoint.backend == "local" and endpoint.pid:
            stop_endpoint(endpoint.pid)
    for run in store.list_runs(limit=100):
        if not run.finished and process_alive(run.pid):
            os.kill(run.pid, signal.SIGTERM)
            wait_for_run(store, run.id, timeout=15)
        for step in store.steps(run.id):  # orphans of a killed run: spawned entrypoints or forks of the run process
            if step.pid and process_alive(step.pid) and run.id.encode() in _cmdline(step.pid):
                os.killpg(step.pid, signal.SIGKILL)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


class Runs:
    """Build pipelines of test nodes, start them, and read what the store recorded about them."""

    def __init__(self, store: RunStore, home: Path, load_doc: Callable, pipeline_doc: Callable) -> None:
        self.store, self.home = store, home
        self._load_doc, self._pipeline_doc = load_doc, pipeline_doc

    def pipeline(self, nodes: list[dict[str, Any]], edges: Iterable[tuple[str, str]] = (), name: str = "demo") -> Pipeline:
        """``edges`` as ``("a", "b")`` pairs: every test node passes its ``count`` to the next."""
        wired = [(f"{a}.count", f"{b}.count") for a, b in edges]
        return self._load_doc(self._pipeline_doc(nodes, wired, name=name)).pipeline

    def start(self, pipeline: Pipeline, **options: Any) -> str:
        return start_run(pipeline, store=self.store, home=self.home, **options)

    def wait(self, run_id: str, timeout: float = 60) -> RunRecord:
        run = wait_for_run(self.store, run_id, timeout=timeout)
        assert run.finished, f"run {run_id} still {run.state} after {timeout}s:\n{self.describe(run_id)}"
        return run

    def run(self, pipeline: Pipeline, timeout: float = 60, **options: Any) -> RunRecord:
        return self.wait(self.start(pipeline, **options), timeout)

    def states(self, run_id: str) -> dict[str, str]:
        return {step.step_id: step.state.value for step in self.store.steps(run_id)}

    def events(self, run_id: str, step_id: str | None = None) -> list[EventRecord]:
        return [e for e in self.store.events(run_id) if step_id is None or e.step_id == step_id]

    def step_states(self, run_id: str, step_id: str) -> list[str]:
        """The states a step went through, in the order the store recorded them."""
        return [e.state for e in self.events(run_id, step_id)]

    def running_interval(self, run_id: str, step_id: str) -> tuple[float, float]:
        """(when the step's process started, when it succeeded), from the store's event times."""
        events = self.events(run_id, step_id)
        start = next(e.at for e in events if e.state == "running")
        end = next(e.at for e in events if e.state == "succeeded")
        return start, end

    def wait_for_step(self, run_id: str, step_id: str, state: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.store.step(run_id, step_id).state.value != state:
            assert time.monotonic() < deadline, f"step {step_id} never became {state}:\n{self.describe(run_id)}"
            time.sleep(0.05)

    def resume(self, run_id: str, timeout: float = 60) -> RunRecord:
        """Resume a finished run and wait for the resumed run process to finish it."""
        from runtime.runs import resume_run

        resume_run(run_id, store=self.store, home=self.home)
        assert not self.store.get_run(run_id).finished, "a resumed run must not look finished to whoever waits for it"
        return self.wait(run_id, timeout)

    def describe(self, run_id: str) -> str:
        """Everything about a run, for assertion messages."""
        from runtime.home import run_dir

        lines = [f"{e.step_id or '<run>'}: {e.state} (attempt {e.attempt}) {e.detail or ''}" for e in self.events(run_id)]
        log = run_dir(run_id, self.home) / "run.log"
        if log.exists():
            lines.append("run.log:\n" + log.read_text(errors="replace")[-3000:])
        return "\n".join(lines)


@pytest.fixture
def runs(store: RunStore, home: Path, load_doc: Callable, pipeline_doc: Callable) -> Runs:
    return Runs(store, home, load_doc, pipeline_doc)


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    """``wait_until(predicate, timeout, what)`` → the predicate's first truthy value; fails the test on timeout."""

    def wait(predicate: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
            time.sleep(0.05)

    return wait


@pytest.fixture
def cli_env(home: Path) -> dict[str, str]:
    """The environment for ``python -m studio.cli`` subprocesses (the fixture already set home and node modules)."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Callable[..., Any]:
    """``cli("run", path, "--json")`` → CompletedProcess of the real command line, run from the repository."""
    import subprocess

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "studio.cli", *map(str, args)], capture_output=True, text=True,
                              env=cli_env, cwd=REPO_ROOT, timeout=timeout)

    return run
