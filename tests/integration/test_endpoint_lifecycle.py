"""No model server is left running that the store does not list, whatever happens to its deploy step or run.

Every test starts real runs whose deploy step (``test.serve``, the real local
launcher) stops at a chosen moment of the launch; the test then kills, cancels
or times it out and checks, by process and by port, that no server is left,
and that ``pipecanvas endpoints`` / ``undeploy`` / ``resume`` see what happened.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from nodes.artifact_io import write_artifact
from nodes.artifacts import ArtifactKind, Model
from runtime.endpoint_registry import refresh_endpoints
from runtime.endpoints import EndpointStartError, LocalEndpointLauncher
from runtime.processes import process_alive, same_process
from runtime.runs import cancel_run
from runtime.run_store import EndpointRecord

SETOSA = {"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, "petal length (cm)": 1.4, "petal width (cm)": 0.2}


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> str:
    from sklearn import datasets
    from sklearn.ensemble import RandomForestClassifier

    iris = datasets.load_iris(as_frame=True)
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(iris.data, iris.target_names[iris.target])
    model = Model(forest, "classification", list(iris.data.columns), "species", classes=list(forest.classes_),
                  algorithm="random_forest", input_schema={c: "number" for c in iris.data.columns})
    path = str(tmp_path_factory.mktemp("model") / "iris.skops")
    write_artifact(ArtifactKind.MODEL, model, path)
    return path


@pytest.fixture(autouse=True)
def serve_nodes(home, monkeypatch):
    monkeypatch.setenv("PIPECANVAS_NODE_MODULES", "pipecanvas_test_nodes,pipecanvas_test_servers")


def _serve(runs, model_file: str, tmp_path: Path, hold: str = "", name: str = "iris", **node_fields):
    params = {"model_path": model_file, "name": name, "hold": hold, "pid_file": str(tmp_path / "step.pid"),
              "release_file": str(tmp_path / "release")}
    return runs.pipeline([{"id": "serve", "type": "test.serve", "params": params, **node_fields}])


def _port_free(port: int) -> bool:
    """Nothing listens on ``port``: a connection is refused, and a server could bind it (as uvicorn does)."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _assert_gone(endpoint: EndpointRecord) -> None:
    """No server process of this endpoint is left, and nothing listens on its port."""
    if endpoint.pid:
        assert not same_process(endpoint.pid, endpoint.process_start), f"server pid {endpoint.pid} still runs"
    assert _port_free(endpoint.port), f"something still listens on port {endpoint.port}"


def _step_pid(tmp_path: Path, wait_until) -> int:
    return int(wait_until(lambda: (tmp_path / "step.pid").exists() and (tmp_path / "step.pid").read_text(),
                          timeout=90, what="the deploy step to reach its hold"))


def _row_with_server(store, wait_until) -> EndpointRecord:
    return wait_until(lambda: (e := store.endpoint("iris")) and e.pid and e, timeout=30, what="the server's pid")


@pytest.mark.parametrize("moment", ["claimed", "held", "released", "ready"])
def test_kill_9_of_the_deploy_step_at_any_moment_leaves_no_server(runs, store, model_file, tmp_path, wait_until,
                                                                 moment):
    run_id = runs.start(_serve(runs, model_file, tmp_path, hold=moment))
    step_pid = _step_pid(tmp_path, wait_until)
    before = store.endpoint("iris")
    assert before.state == "starting" and before.run_id == run_id and before.step_id == "serve"
    assert before.port and before.log_path and before.owner_pid == step_pid  # recorded before the server listens
    if moment != "claimed":
        assert before.pid and process_alive(before.pid)
    os.kill(step_pid, signal.SIGKILL)
    run = runs.wait(run_id)
    assert run.state == "failed" and runs.states(run_id) == {"serve": "failed"}
    after = store.endpoint("iris")
    assert after.state == "failed" and "did not finish" in after.detail
    _assert_gone(after)
    assert [e.name for e in refresh_endpoints(store, include_stopped=True)] == ["iris"]


@pytest.mark.parametrize("stop", ["cancel", "timeout"])
def test_cancel_or_timeout_while_the_server_starts_leaves_no_server(runs, store, model_file, tmp_path, wait_until,
                                                                    stop):
    fields = {"timeout": "4s"} if stop == "timeout" else {}
    run_id = runs.start(_serve(runs, model_file, tmp_path, hold="ready", **fields))
    if stop == "cancel":
        _step_pid(tmp_path, wait_until)
        cancel_run(run_id, store=store)
    run = runs.wait(run_id)
    assert run.state == ("cancelled" if stop == "cancel" else "failed")
    after = store.endpoint("iris")
    assert after.state == "failed"
    _assert_gone(after)


def test_run_process_killed_then_endpoints_reaps_resume_redeploys_on_the_same_port_and_undeploy_stops_it(
        runs, store, model_file, tmp_path, wait_until, cli):
    run_id = runs.start(_serve(runs, model_file, tmp_path, hold="ready"))
    _step_pid(tmp_path, wait_until)
    first = _row_with_server(store, wait_until)
    os.kill(store.get_run(run_id).pid, signal.SIGKILL)
    (tmp_path / "release").touch()  # the orphaned step finishes its launch; no coordinator records it
    wait_until(lambda: not process_alive(first.owner_pid), what="the orphaned step to exit")
    listed = cli("endpoints", "--json", "--all")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert row["state"] == "failed" and f"pipecanvas resume {run_id}" in row["detail"]
    _assert_gone(first)
    assert json.loads(cli("endpoints", "--json").stdout) == []

    run = runs.resume(run_id, timeout=120)
    assert run.state == "succeeded", runs.describe(run_id)
    second = store.endpoint("iris")
    assert second.state == "running" and second.port == first.port and second.pid != first.pid
    undeployed = cli("undeploy", "iris")
    assert undeployed.returncode == 0, undeployed.stderr
    assert store.endpoint("iris").state == "stopped"
    _assert_gone(second)


def test_a_crashed_server_is_listed_as_crashed_with_its_last_log_line_and_a_redeploy_keeps_its_port(
        runs, store, model_file, tmp_path, cli):
    pipeline = _serve(runs, model_file, tmp_path)
    assert runs.run(pipeline, timeout=120).state == "succeeded"
    first = store.endpoint("iris")
    assert first.state == "running"
    os.killpg(first.pid, signal.SIGKILL)
    listed = cli("endpoints", "--json")
    [row] = json.loads(listed.stdout)
    last_line = [line for line in Path(first.log_path).read_text().splitlines() if line.strip()][-1]
    assert row["state"] == "crashed" and row["detail"] == last_line.strip()
    table = cli("endpoints")
    assert "crashed" in table.stdout and "iris" in table.stdout

    assert runs.run(pipeline, timeout=120).state == "succeeded"
    second = store.endpoint("iris")
    assert second.state == "running" and second.port == first.port and second.url == first.url
    assert process_alive(second.pid)
    cli("undeploy", "iris")
    _assert_gone(second)


def test_a_redeploy_replaces_the_running_server_on_the_same_port(runs, store, model_file, tmp_path):
    pipeline = _serve(runs, model_file, tmp_path)
    assert runs.run(pipeline, timeout=120).state == "succeeded"
    first = store.endpoint("iris")
    assert runs.run(pipeline, timeout=120).state == "succeeded"
    second = store.endpoint("iris")
    assert second.port == first.port and second.pid != first.pid
    assert not same_process(first.pid, first.process_start)  # the old server was stopped, not orphaned
    assert [e.state for e in refresh_endpoints(store)] == ["running"]


def test_a_slow_server_fails_with_what_it_printed_and_is_stopped(store, tmp_path):
    """A server that never answers: the error's first line is a whole sentence quoting its last words."""
    fake_python = tmp_path / "fake-python"
    fake_python.write_text("#!/bin/sh\necho 'loading a very large model...'\nexec sleep 600\n")
    fake_python.chmod(0o755)
    launcher = LocalEndpointLauncher(store, tmp_path / "endpoints", python=str(fake_python), ready_timeout=1)
    with pytest.raises(EndpointStartError) as caught:
        launcher.launch("slow", "/nowhere/model.skops", None, 0)
    first_line = str(caught.value).splitlines()[0]
    assert "within 1s" in first_line and "ready_timeout" in first_line
    assert "the server's last words: loading a very large model..." in first_line
    assert not first_line.rstrip().endswith(":")
    record = store.endpoint("slow")
    assert record.state == "failed" and "within 1s" in record.detail
    _assert_gone(record)


def test_the_readiness_wait_is_a_setting(monkeypatch):
    from runtime.endpoints import DEFAULT_READY_TIMEOUT, resolve_ready_timeout

    monkeypatch.delenv("PIPECANVAS_ENDPOINT_READY_TIMEOUT", raising=False)
    assert resolve_ready_timeout() == DEFAULT_READY_TIMEOUT == 120
    monkeypatch.setenv("PIPECANVAS_ENDPOINT_READY_TIMEOUT", "300")
    assert resolve_ready_timeout() == 300 and resolve_ready_timeout(45) == 45
    monkeypatch.setenv("PIPECANVAS_ENDPOINT_READY_TIMEOUT", "soon")
    with pytest.raises(EndpointStartError, match="PIPECANVAS_ENDPOINT_READY_TIMEOUT must be a number of seconds"):
        resolve_ready_timeout()


def test_a_server_whose_starter_dies_before_releasing_it_exits_by_itself(model_file, tmp_path, wait_until):
    """The held server reads end-of-input when the process that would record it is gone, and never listens."""
    server = subprocess.Popen([sys.executable, "-m", "nodes.model_server", "--model", model_file, "--name", "x",
                               "--port", "0", "--wait-for-go"], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    server.stdin.close()  # what the kernel does when the launcher is killed
    assert server.wait(timeout=60) == 3
    assert b"went away before recording it" in server.stderr.read()
