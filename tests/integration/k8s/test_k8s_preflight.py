"""Pre-flight: every reason a cluster cannot run the pipeline, found before anything is created, on its node."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from compiler.plan import compile_plan, load_plan_yaml
from runtime.kubernetes.preflight import preflight
from runtime.kubernetes.types import KubernetesSettings

RUN_ID = "preflight-1"


def _plan(load_doc, pipeline_doc, catalog, settings: KubernetesSettings, gpu: int = 1):
    nodes = [{"id": "load", "type": "test.source"},
             {"id": "train", "type": "test.sleep", "resources": {"gpu": gpu}},
             {"id": "evaluate", "type": "test.sleep"}]
    pipeline = load_doc(pipeline_doc(nodes, [("load.count", "train.count"), ("train.count", "evaluate.count")])).pipeline
    options = settings.emit_options(RUN_ID)
    return compile_plan(pipeline, catalog, options.artifact_root(RUN_ID)), options


def _ready(cluster, gpus: int = 1) -> None:
    """The namespace's service account, and one node with ``gpus`` GPUs."""
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "pipecanvas-runner", "namespace": "ml"}}
    cluster.core.create_namespaced_service_account("ml", account, _preload_content=False)
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gpu-1", "labels": {"pool": "gpu"}},
            "status": {"allocatable": {"cpu": "8", "nvidia.com/gpu": str(gpus)}}}
    cluster.core.create_node(node, _preload_content=False)


@pytest.fixture
def catalog(home):
    from nodes.catalog import default_catalog

    return default_catalog()  # with the test node types (the home fixture puts them on the path)


def test_a_ready_cluster_passes_and_nothing_is_created(cluster, load_doc, pipeline_doc, catalog):
    _ready(cluster)
    plan, options = _plan(load_doc, pipeline_doc, catalog, KubernetesSettings(namespace="ml", bucket="memory://b/p"))

    assert preflight(plan, options, cluster.api_client()) == []
    dry_runs = cluster.requests("POST", "/jobs")
    assert len(dry_runs) == 3 and all(r.params.get("dryRun") == "All" for r in dry_runs)
    assert cluster.job_names() == []


def test_every_problem_is_reported_on_what_it_concerns(cluster, load_doc, pipeline_doc, catalog):
    _ready(cluster, gpus=1)
    cluster.emulator.denied |= {("delete", "jobs"), ("get", "pods/log")}
    cluster.emulator.rejected_jobs["evaluate"] = 'admission webhook "policy.example.com" denied the request: no :latest'
    settings = KubernetesSettings(namespace="ml", bucket="memory://b/p", bucket_secret="artifact-store")
    plan, options = _plan(load_doc, pipeline_doc, catalog, settings, gpu=2)

    found = preflight(plan, options, cluster.api_client())

    by_text = {d.message: (d.severity, d.node) for d in found}
    assert by_text == {
        "cluster: you may not delete jobs in namespace 'ml', which the run needs to start, follow and cancel the "
        "steps' Jobs; apply deploy/rbac.yaml or ask a cluster administrator": ("error", None),
        "cluster: you may not get pods/log in namespace 'ml', which the run needs to keep the steps' logs; apply "
        "deploy/rbac.yaml or ask a cluster administrator": ("error", None),
        "node 'train': asks for 2 nvidia.com/gpu but no node of the cluster offers more than 1; lower the node's "
        "gpu, or add GPU nodes": ("error", "train"),
        "cluster: the Secret 'artifact-store' does not exist; create it in that namespace": ("error", None),
        "node 'evaluate': the API server refuses its Job: admission webhook \"policy.example.com\" denied the "
        "request: no :latest": ("error", "evaluate"),
    }


def test_a_missing_namespace_is_the_one_error(cluster, load_doc, pipeline_doc, catalog):
    plan, options = _plan(load_doc, pipeline_doc, catalog, KubernetesSettings(namespace="nope", bucket="memory://b/p"))

    found = preflight(plan, options, cluster.api_client())

    assert [(d.severity, d.message) for d in found] == [(
        "error", "cluster: namespace 'nope' does not exist; create it (kubectl apply -f deploy/namespace.yaml) or "
                 "choose another with --namespace")]


def test_gpus_that_cannot_be_checked_are_a_warning_not_an_error(cluster, load_doc, pipeline_doc, catalog):
    _ready(cluster)
    cluster.emulator.forbidden_lists.add("nodes")
    plan, options = _plan(load_doc, pipeline_doc, catalog, KubernetesSettings(namespace="ml", bucket="memory://b/p"))

    found = preflight(plan, options, cluster.api_client())

    assert [(d.severity, d.node) for d in found] == [("warning", "train")]
    assert "listing nodes is not allowed" in found[0].message


def test_a_claim_needs_to_exist_and_to_be_readable_here(cluster, load_doc, pipeline_doc, catalog):
    _ready(cluster)
    settings = KubernetesSettings(namespace="ml", pvc="team-artifacts", mount_path="/pipecanvas-test-absent")
    plan, options = _plan(load_doc, pipeline_doc, catalog, settings)

    messages = [d.message for d in preflight(plan, options, cluster.api_client()) if d.severity == "error"]

    assert messages == [
        "cluster: the artifacts go to claim 'team-artifacts', mounted at /pipecanvas-test-absent in the pods, but this "
        "machine has no /pipecanvas-test-absent to read the steps' results from: run pipecanvas in the cluster with "
        "the claim mounted there (--mount-path), or keep the artifacts in a bucket (--bucket)",
        "cluster: the artifact claim 'team-artifacts' does not exist; create it (deploy/pvc.yaml) or name another "
        "with --pvc",
    ]
    assert options.plan_configmap  # a claim: the plan travels in a ConfigMap, dry-run too
    assert any(r.params.get("dryRun") == "All" for r in cluster.requests("POST", "/configmaps"))


def _exited_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _kubeconfig(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": url}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "me"}}],
        "users": [{"name": "me", "user": {"token": "not-a-secret"}}],
    }))
    return path


def test_run_backend_kubernetes_prints_the_findings_and_exits_2(cluster, cli, cli_env, tmp_path, repo_root):
    cli_env["KUBECONFIG"] = str(_kubeconfig(tmp_path, cluster.url))

    result = cli("run", repo_root / "examples" / "iris-classifier.yaml", "--backend", "kubernetes",
                 "--context", "fake", "--namespace", "nope", "--bucket", "memory://b/p")

    assert result.returncode == 2, result.stderr
    assert "error: cluster: namespace 'nope' does not exist" in result.stderr
    assert cluster.job_names() == []


def test_start_run_keeps_the_cluster_settings_for_the_run_process(cluster, store, home, tmp_path, monkeypatch,
                                                                   load_doc, pipeline_doc):
    from runtime import runs
    from runtime.kubernetes.executor import KubernetesExecutor
    from runtime.run_process import _executor

    _ready(cluster)
    monkeypatch.setenv("KUBECONFIG", str(_kubeconfig(tmp_path, cluster.url)))
    # no run process here: the run records one that already exited
    monkeypatch.setattr(runs, "launch_run_process", lambda run_id, home, resume=False, **loaded: _exited_pid())
    pipeline = load_doc(pipeline_doc([{"id": "load", "type": "test.source"}])).pipeline
    settings = {"context": "fake", "namespace": "ml", "bucket": "memory://team/pc"}

    run_id = runs.start_run(pipeline, backend="kubernetes", kubernetes=settings, store=store, home=home)

    run = store.get_run(run_id)
    assert run.backend == "kubernetes" and settings.items() <= run.options["kubernetes"].items()
    assert run.options["max_parallel"] == 1  # on a cluster, every ready step at once (here: the only one)
    plan = load_plan_yaml(run.plan_yaml)
    assert plan.artifact_root == f"memory://team/pc/runs/{run_id}/artifacts"  # where the pods write
    executor = _executor(run.backend, plan, None, run)
    assert isinstance(executor, KubernetesExecutor) and executor.namespace == "ml" and executor.run_id == run_id


def test_run_takes_the_claims_mount_path(cluster, cli, cli_env, tmp_path, repo_root):
    cli_env["KUBECONFIG"] = str(_kubeconfig(tmp_path, cluster.url))

    result = cli("run", repo_root / "examples" / "iris-classifier.yaml", "--backend", "kubernetes", "--context", "fake",
                 "--namespace", "ml", "--pvc", "team-artifacts", "--mount-path", "/pipecanvas-test-elsewhere")

    assert result.returncode == 2, result.stderr
    assert "mounted at /pipecanvas-test-elsewhere in the pods, but this machine has no /pipecanvas-test-elsewhere" \
        in result.stderr


def test_under_the_shipped_role_the_service_account_is_checked_without_a_warning(cluster, load_doc, pipeline_doc,
                                                                                 catalog):
    from rbac_rules import shipped_role

    _ready(cluster)
    cluster.emulator.role = shipped_role()
    plan, options = _plan(load_doc, pipeline_doc, catalog, KubernetesSettings(namespace="ml", bucket="memory://b/p"),
                          gpu=0)

    found = preflight(plan, options, cluster.api_client())

    assert found == []
    assert ("get", "", "serviceaccounts") in cluster.emulator.called


def test_an_older_server_is_told_what_it_lacks_and_its_jobs_are_dry_run_without_pod_failure_policy(
        cluster, load_doc, pipeline_doc, catalog):
    _ready(cluster)
    cluster.emulator.server_version = {"major": "1", "minor": "20+", "gitVersion": "v1.20.2-eks-1"}
    plan, options = _plan(load_doc, pipeline_doc, catalog, KubernetesSettings(namespace="ml", bucket="memory://b/p"))

    found = preflight(plan, options, cluster.api_client())

    assert [(d.severity, d.message) for d in found] == [
        ("warning", "cluster: Kubernetes v1.20.2-eks-1 is older than 1.23, the oldest version pipecanvas supports; "
                    "runs may work, with the gaps below, but nothing is promised"),
        ("warning", "cluster: Kubernetes 1.20 has no Job podFailurePolicy (1.26+): the Jobs are created without it, "
                    "so a pod evicted or preempted counts as a failed attempt (retried only if the node has retries "
                    "left)"),
        ("warning", "cluster: Kubernetes 1.20 does not remove finished Jobs (ttlSecondsAfterFinished, 1.23+): delete "
                    "a run's Jobs with `kubectl -n ml delete jobs -l pipecanvas.io/run=RUN_ID`"),
    ]
    dry_runs = [r.data for r in cluster.requests("POST", "/jobs")]
    assert len(dry_runs) == 3 and not any("podFailurePolicy" in job["spec"] for job in dry_runs)


def test_a_current_server_gets_no_version_findings_and_the_full_jobs(cluster, load_doc, pipeline_doc, catalog):
    _ready(cluster)
    cluster.emulator.server_version = {"major": "1", "minor": "26", "gitVersion": "v1.26.0"}
    plan, options = _plan(load_doc, pipeline_doc, catalog, KubernetesSettings(namespace="ml", bucket="memory://b/p"))

    assert preflight(plan, options, cluster.api_client()) == []
    assert all("podFailurePolicy" in r.data["spec"] for r in cluster.requests("POST", "/jobs"))
