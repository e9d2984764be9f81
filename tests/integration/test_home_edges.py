"""A home pipecanvas cannot write, a full disk, a locked store, a bad id: one located line each, real processes.

Read-only and full homes are made for real: as root with a read-only bind mount
and a small tmpfs (skipped with the reason when mounting is not permitted);
otherwise, for read-only, with file modes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler import dump_yaml
from runtime.processes import process_alive
from runtime.run_store import BUSY_TIMEOUT_ENV, WRITE_WAIT_ENV

COMMANDS = [("runs",), ("show", "RUN"), ("logs", "RUN", "nap"), ("endpoints",), ("run", "FILE")]


def _write(tmp_path: Path, pipeline_doc, nodes: list[dict], edges=(), name: str = "edge-demo") -> Path:
    path = tmp_path / f"{name}.yaml"
    wired = [(f"{a}.count", f"{b}.count") for a, b in edges]
    path.write_text(dump_yaml(pipeline_doc(nodes, wired, name=name)), encoding="utf-8")
    return path


def _chain(tmp_path: Path, pipeline_doc) -> Path:
    return _write(tmp_path, pipeline_doc, [{"id": "source", "type": "test.source"},
                                           {"id": "nap", "type": "test.sleep", "params": {"seconds": 0}}],
                  [("source", "nap")])


def _argv(command: tuple[str, ...], run_id: str, file: Path) -> list[str]:
    return [{"RUN": run_id, "FILE": str(file)}.get(part, part) for part in command]


def _mount(*args: str) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount here ({result.stderr.strip() or result.returncode}); needs root in a "
                    "container that permits mounts")


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture
def read_only(home: Path) -> Iterator[callable]:
    """``read_only()`` makes the test's home read-only for real (bind mount as root, file modes otherwise)."""
    mounted: list[Path] = []
    moded: list[Path] = []

    def make() -> None:
        if os.geteuid() == 0:
            _mount("--bind", str(home), str(home))
            mounted.append(home)
            _mount("-o", "remount,bind,ro", str(home))
        else:
            for path in [home, *home.rglob("*")]:
                path.chmod(0o555 if path.is_dir() else 0o444)
                moded.append(path)

    yield make
    for path in mounted:
        _umount(path)
    for path in moded:
        path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.fixture
def small_disk(home: Path) -> Iterator[callable]:
    """``small_disk(path, kb)`` mounts a tmpfs of ``kb`` KiB at ``path`` (a folder under the home)."""
    mounted: list[Path] = []

    def make(path: Path, kb: int) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        _mount("-t", "tmpfs", "-o", f"size={kb}k", "tmpfs", str(path))
        mounted.append(path)
        return path

    yield make
    for path in reversed(mounted):
        _umount(path)


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# --- a read-only or missing home ----------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_read_only_home_is_reported_naming_it(cli, tmp_path, pipeline_doc, home, read_only, command):
    file = _chain(tmp_path, pipeline_doc)
    first = cli("run", file, "--json")
    assert first.returncode == 0, first.stderr
    run_id = json.loads(first.stdout)["run_id"]
    read_only()

    result = cli(*_argv(command, run_id, file))

    assert result.returncode != 0
    _no_traceback(result)
    assert "read-only" in result.stderr and str(home) in result.stderr, result.stderr


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_home_that_cannot_be_created_is_reported_naming_it(cli, cli_env, tmp_path, pipeline_doc, command):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    cli_env["PIPECANVAS_HOME"] = str(blocker / "home")

    result = cli(*_argv(command, "20260101-000000-abcdef", _chain(tmp_path, pipeline_doc)))

    assert result.returncode != 0
    _no_traceback(result)
    assert f"PIPECANVAS_HOME {blocker / 'home'} does not exist and cannot be created" in result.stderr


# --- a full disk ----------------------------------------------------------------------------------


def test_a_full_disk_fails_the_step_and_the_run_with_disk_full_and_leaves_no_partial_file(runs, store, home,
                                                                                         small_disk):
    disk = small_disk(home / "runs", 1024)  # plans, logs and artifacts on 1 MiB; the store stays on the real disk
    pipeline = runs.pipeline([{"id": "source", "type": "test.source"},
                              {"id": "big", "type": "test.big", "params": {"megabytes": 3}}], [("source", "big")])

    run = runs.run(pipeline)

    step = store.step(run.id, "big")
    assert run.state.value == "failed", runs.describe(run.id)
    assert step.state.value == "failed"
    assert f"disk full at {disk}" in step.error, runs.describe(run.id)
    assert run.error.startswith(f"disk full at {disk}"), run.error
    assert store.step(run.id, "source").state.value == "succeeded"
    assert not [p for p in disk.rglob("*") if ".partial" in p.name]
    assert "Traceback" not in Path(step.log_path).read_text()


def test_a_full_disk_under_the_store_is_reported_by_run_without_a_traceback(cli, tmp_path, pipeline_doc, home,
                                                                             small_disk):
    file = _chain(tmp_path, pipeline_doc)
    disk = small_disk(home, 512)
    assert cli("runs").returncode == 0  # the store exists
    try:
        with open(disk / "filler", "wb") as filler:  # take every byte that is left
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
    except OSError:  # full (the store may already have taken the last byte)
        pass

    result = cli("run", file, "--json")

    assert result.returncode != 0
    _no_traceback(result)
    assert f"disk full at {disk}" in result.stderr, result.stderr


# --- a busy store ------------------------------------------------------------------------------------


def test_a_step_that_finishes_while_another_process_holds_the_store_lock_is_recorded_succeeded(
        runs, store, home, tmp_path, monkeypatch, wait_until):
    monkeypatch.setenv(BUSY_TIMEOUT_ENV, "0.2")  # the run process's per-attempt wait: far shorter than the hold
    monkeypatch.setenv(WRITE_WAIT_ENV, "120")
    release = tmp_path / "release"
    pipeline = runs.pipeline([{"id": "nap", "type": "test.sleep",
                               "params": {"seconds": 60, "release_file": str(release)}},
                              {"id": "after", "type": "test.sleep", "params": {"seconds": 0}}], [("nap", "after")])
    run_id = runs.start(pipeline)
    runs.wait_for_step(run_id, "nap", "running")
    pid = store.step(run_id, "nap").pid

    holder = sqlite3.connect(home / "store.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, as a slow writer in another process would hold it
    try:
        release.touch()
        wait_until(lambda: not process_alive(pid), 30, "the step process to exit")
        time.sleep(2.0)  # ten times the run process's per-attempt wait pass while the finished step waits
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    run = runs.wait(run_id)
    assert run.state.value == "succeeded", runs.describe(run_id)
    assert runs.states(run_id) == {"nap": "succeeded", "after": "succeeded"}
    assert not any("could not be read" in (e.detail or "") for e in runs.events(run_id)), runs.describe(run_id)


# --- ids matched whole --------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["id", "name"])
def test_an_id_or_name_ending_in_a_newline_is_refused_by_run_and_starts_nothing(cli, tmp_path, pipeline_doc, store,
                                                                                 field):
    nodes = [{"id": "source\n" if field == "id" else "source", "type": "test.source"}]
    document = pipeline_doc(nodes, [], name="edge-demo\n" if field == "name" else "edge-demo")
    path = tmp_path / "bad.yaml"
    path.write_text(dump_yaml(document), encoding="utf-8")

    result = cli("run", path, "--json")

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert ("node 'source\n': id must be" if field == "id" else "pipeline: name 'edge-demo\n' must be") \
        in result.stderr.replace("\\n", "\n")
    assert store.list_runs() == []


def test_a_step_log_that_cannot_be_written_fails_that_step_with_disk_full(runs, tmp_path):
    """/dev/full answers every write with ENOSPC, as a full disk does, through the executor's real log path."""
    from compiler.plan import compile_plan
    from nodes.catalog import default_catalog
    from runtime.executors.base import StepKey
    from runtime.executors.local import LocalExecutor

    plan = compile_plan(runs.pipeline([{"id": "source", "type": "test.source"}]), default_catalog(), str(tmp_path))
    executor = LocalExecutor(fork=False)
    key = StepKey("r1", "source", 1)

    executor.submit(plan.steps[0], key, "/dev/full")

    events = executor.poll()
    executor.close()
    assert [(e.key, e.state.value) for e in events] == [(key, "failed")]
    assert events[0].detail == "could not write its log: disk full at /dev/full"
