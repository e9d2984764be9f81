"""The iris pipeline end to end on a real cluster: only when one is offered, skipped (saying so) otherwise.

Set ``PIPECANVAS_TEST_KUBECONFIG`` to a kubeconfig file, and optionally
``PIPECANVAS_TEST_K8S_CONTEXT``, ``PIPECANVAS_TEST_K8S_NAMESPACE`` (default
``pipecanvas``), ``PIPECANVAS_TEST_K8S_BUCKET`` (artifacts in a bucket this
machine can read, with ``PIPECANVAS_TEST_K8S_BUCKET_SECRET`` for the pods) or
``PIPECANVAS_TEST_K8S_PVC`` (this machine must see the claim at /pipecanvas),
and ``PIPECANVAS_TEST_K8S_REGISTRY`` where the runtime image was pushed
(deploy/README.md). The namespace must have been prepared with deploy/*.yaml.
"""

from __future__ import annotations

import json
import os

import pytest

KUBECONFIG = os.environ.get("PIPECANVAS_TEST_KUBECONFIG")

pytestmark = pytest.mark.skipif(
    not KUBECONFIG,
    reason="no real cluster: set PIPECANVAS_TEST_KUBECONFIG (and PIPECANVAS_TEST_K8S_BUCKET or _PVC) to run the iris "
           "pipeline on one",
)


def _cluster_arguments() -> list[str]:
    arguments = []
    for option, variable in (("--context", "CONTEXT"), ("--namespace", "NAMESPACE"), ("--bucket", "BUCKET"),
                             ("--bucket-secret", "BUCKET_SECRET"), ("--pvc", "PVC"), ("--image-registry", "REGISTRY")):
        value = os.environ.get(f"PIPECANVAS_TEST_K8S_{variable}")
        if value:
            arguments += [option, value]
    return arguments


@pytest.mark.slow
def test_the_iris_pipeline_runs_on_the_cluster(cli, cli_env, repo_root):
    cli_env["KUBECONFIG"] = KUBECONFIG

    try:
        result = cli("run", repo_root / "examples" / "iris-classifier.yaml", "--backend", "kubernetes", "--json",
                     *_cluster_arguments(), timeout=1800)
    finally:  # the example deploys endpoint 'iris': leave nothing behind, whatever happened
        place = [a for pair in zip(_cluster_arguments()[::2], _cluster_arguments()[1::2])
                 if pair[0] in ("--context", "--namespace") for a in pair]
        cli("undeploy", "iris", *(place or ["--namespace", "pipecanvas"]), timeout=120)

    assert result.returncode == 0, f"{result.stderr}\n{result.stdout}"
    summary = json.loads(result.stdout)
    assert summary["backend"] == "kubernetes" and summary["state"] == "succeeded"
    assert {step["state"] for step in summary["steps"]} <= {"succeeded", "cached"}
    accuracy = next(values["accuracy"] for values in summary["metrics"].values() if "accuracy" in values)
    assert accuracy > 0.8
    for step in summary["steps"]:  # the logs outlived the pods, on this machine
        assert open(step["log"], encoding="utf-8").read().startswith("--- attempt")
