"""End to end: every shipped example runs green with ``pipecanvas run``, and the iris model is served.

These train real models, one process per step, so they are the slow part of
``make test`` (marked ``slow``; ``-m "not slow"`` leaves them out). Every
endpoint a run deploys is undeployed before the test ends, pass or fail.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import httpx
import pytest

from runtime.endpoints import stop_endpoint
from runtime.processes import process_alive

REPO_ROOT = Path(__file__).resolve().parents[2]
IRIS = REPO_ROOT / "examples" / "iris-classifier.yaml"
OTHER_EXAMPLES = sorted(p for p in (REPO_ROOT / "examples").glob("*.yaml") if p != IRIS)
SETOSA = {"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, "petal length (cm)": 1.4, "petal width (cm)": 0.2}

pytestmark = pytest.mark.slow


def _http() -> httpx.Client:
    return httpx.Client(trust_env=False, timeout=10)  # the servers listen on loopback: never via a proxy


def _run_example(cli, path: Path) -> dict:
    result = cli("run", path, "--json", timeout=600)
    summary = json.loads(result.stdout) if result.stdout.strip() else {}
    assert result.returncode == 0, f"{path.name}: {result.stderr}\n{json.dumps(summary.get('steps'), indent=1)}"
    return summary


def _undeploy_all(cli, store, summary: dict) -> None:
    for endpoint in summary.get("endpoints", []):
        if store.endpoint(endpoint["name"]).state == "running":
            cli("undeploy", endpoint["name"])
        if endpoint["pid"] and process_alive(endpoint["pid"]):
            stop_endpoint(endpoint["pid"])


@pytest.mark.parametrize("path", OTHER_EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_green(path, cli, store):
    """``iris-classifier`` has its own test below, which also checks its model and endpoint."""
    text = path.read_text()
    if "train.mlp" in text and importlib.util.find_spec("torch") is None:
        pytest.skip("needs torch (the gpu extra)")
    summary = {}
    try:
        summary = _run_example(cli, path)

        assert summary["state"] == "succeeded"
        assert {s["id"]: s["state"] for s in summary["steps"]} == {s["id"]: "succeeded" for s in summary["steps"]}
        assert summary["metrics"], "an example with evaluation steps recorded no metrics"
        with _http() as http:
            for endpoint in summary["endpoints"]:
                assert http.get(f"{endpoint['url']}/health").json()["name"] == endpoint["name"]
    finally:
        _undeploy_all(cli, store, summary)


def test_iris_classifier_is_accurate_and_its_endpoint_predicts_then_undeploys(cli, store):
    summary = {}
    try:
        summary = _run_example(cli, IRIS)

        run_id = summary["run_id"]
        assert store.get_run(run_id).state == "succeeded"
        assert store.metrics(run_id)["evaluate"]["accuracy"] >= 0.9
        endpoint = store.endpoint("iris")
        assert endpoint.state == "running" and endpoint.run_id == run_id
        listed = json.loads(cli("endpoints", "--json").stdout)
        assert [(e["name"], e["url"], e["state"]) for e in listed] == [("iris", endpoint.url, "running")]
        with _http() as http:
            answer = http.post(f"{endpoint.url}/predict", json={"rows": [SETOSA]})
            assert answer.status_code == 200, answer.text
            assert answer.json()["predictions"] == ["setosa"]

            undeployed = cli("undeploy", "iris")

            assert undeployed.returncode == 0, undeployed.stderr
            with pytest.raises(httpx.TransportError):
                http.get(f"{endpoint.url}/health")
        assert store.endpoint("iris").state == "stopped"
        assert not process_alive(endpoint.pid)
        assert json.loads(cli("endpoints", "--json").stdout) == []
    finally:
        _undeploy_all(cli, store, summary)
