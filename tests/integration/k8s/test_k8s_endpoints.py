"""A deploy step on a cluster: its pod applies the model server's Deployment and Service and waits until ready."""

from __future__ import annotations

import json
import threading

import pytest
from fake_cluster import wait_until
from rbac_rules import shipped_role
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from compiler.plan import compile_plan
from nodes.catalog import default_catalog
from runtime.endpoints import EndpointStartError
from runtime.kubernetes.endpoints import KubernetesEndpointLauncher, cluster_endpoints
from runtime.kubernetes.jobs import step_job
from runtime.kubernetes.types import OPTIONS_ENV, KubernetesSettings

READY = {"observedGeneration": 0, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}


@pytest.fixture
def serve(load_doc, iris_doc):
    """The iris pipeline's deploy step, planned for a bucket-backed cluster run."""
    options = KubernetesSettings(namespace="ml", bucket="memory://b/p", bucket_secret="artifact-store").emit_options("r1")
    plan = compile_plan(load_doc(iris_doc()).pipeline, default_catalog(), options.artifact_root("r1"))
    return plan, plan.step("serve"), options


def _launcher(cluster, serve, **options) -> KubernetesEndpointLauncher:
    plan, step, emit_options = serve
    return KubernetesEndpointLauncher(plan, step, emit_options, cluster.api_client(), poll_interval=0.02,
                                      fetch_schema=False, **options)


def _becomes_ready(cluster) -> threading.Thread:
    """The Deployment controller: once the Deployment exists, its one replica becomes available."""
    apps = client.AppsV1Api(cluster.api)

    def exists() -> bool:
        try:
            apps.read_namespaced_deployment("iris", "ml", _preload_content=False)
        except ApiException:
            return False
        return True

    def run() -> None:
        wait_until(exists, 10, "the Deployment")
        apps.patch_namespaced_deployment_status("iris", "ml", {"status": READY}, _preload_content=False)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_deploy_step_starts_its_server_and_reports_the_in_cluster_url(cluster, serve):
    plan, step, _ = serve
    thread = _becomes_ready(cluster)

    endpoint = _launcher(cluster, serve).launch("iris", step.inputs["model"].uri, step.inputs["preprocessor"].uri, 0)
    thread.join(10)

    assert (endpoint.name, endpoint.url, endpoint.backend) == ("iris", "http://iris.ml.svc.cluster.local", "kubernetes")
    deployment = cluster.emulator.objects["apps/v1/deployments", "ml", "iris"]
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--model") + 1] == step.inputs["model"].uri
    assert cluster.emulator.objects["v1/services", "ml", "iris"]["spec"]["ports"][0]["port"] == 80

    # deploying the same name again rolls the existing server over instead of failing
    again = _launcher(cluster, serve).launch("iris", step.inputs["model"].uri, step.inputs["preprocessor"].uri, 0)
    assert again.url == endpoint.url
    assert [r.subresource for r in cluster.requests("PATCH", "/deployments/iris")] == ["status", None]


def test_a_server_that_never_becomes_ready_fails_the_step_in_words(cluster, serve):
    _, step, _ = serve

    with pytest.raises(EndpointStartError, match="endpoint 'iris' was not ready within 0.3s"):
        _launcher(cluster, serve, ready_timeout=0.3).launch("iris", step.inputs["model"].uri, None, 0)


def test_only_deploy_steps_get_the_cluster_options_and_never_a_secret_value(serve):
    plan, step, options = serve
    deploy_env = {e["name"]: e.get("value") for e in step_job(step, plan, options, 1)["spec"]["template"]["spec"]
                  ["containers"][0]["env"]}
    train_env = {e["name"] for e in step_job(plan.step("train"), plan, options, 1)["spec"]["template"]["spec"]
                 ["containers"][0]["env"]}

    assert '"bucket_secret":"artifact-store"' in deploy_env[OPTIONS_ENV]  # the Secret's name, as in the manifests
    assert OPTIONS_ENV not in train_env


def test_undeploy_deletes_the_deployment_and_the_service_and_marks_the_endpoint_stopped(cluster, serve, tmp_path,
                                                                                       monkeypatch):
    from runtime.endpoint_registry import undeploy
    from runtime.run_store import EndpointRecord, RunStore

    plan, step, _ = serve
    thread = _becomes_ready(cluster)
    _launcher(cluster, serve).launch("iris", step.inputs["model"].uri, step.inputs["preprocessor"].uri, 0)
    thread.join(5)
    store = RunStore(tmp_path / "store.db")
    store.create_run("r1", plan.pipeline, "", "", "kubernetes", [], {"kubernetes": {"namespace": "ml"}})
    store.register_endpoint(EndpointRecord("iris", "http://iris.ml.svc.cluster.local", "kubernetes", None, "r1",
                                           "serve", "running", 0.0, None, {}))
    monkeypatch.setattr("runtime.kubernetes.config.api_client", lambda context=None: cluster.api_client())

    undeploy(store, "iris")  # the API server answers the Service delete with a Status, not the Service

    for read in (client.AppsV1Api(cluster.api).read_namespaced_deployment,
                 client.CoreV1Api(cluster.api).read_namespaced_service):
        with pytest.raises(ApiException) as gone:
            read("iris", "ml", _preload_content=False)
        assert gone.value.status == 404
    assert store.endpoint("iris").state == "stopped"


def _exists(cluster, kind: str, name: str = "iris") -> bool:
    read = (client.AppsV1Api(cluster.api).read_namespaced_deployment if kind == "Deployment"
            else client.CoreV1Api(cluster.api).read_namespaced_service)
    try:
        read(name, "ml", _preload_content=False)
    except ApiException as exc:
        assert exc.status == 404
        return False
    return True


def test_a_deploy_step_works_under_the_shipped_role(cluster, serve):
    cluster.emulator.role = shipped_role()  # the API server refuses what deploy/rbac.yaml does not grant
    _, step, _ = serve
    thread = _becomes_ready(cluster)

    endpoint = _launcher(cluster, serve).launch("iris", step.inputs["model"].uri, step.inputs["preprocessor"].uri, 0)
    thread.join(10)

    assert endpoint.url == "http://iris.ml.svc.cluster.local"
    assert ("get", "apps", "deployments") in cluster.emulator.called


def test_a_missing_permission_is_named_in_words_and_the_half_made_server_is_removed(cluster, serve):
    cluster.emulator.role = shipped_role().without("get", "apps", "deployments")
    _, step, _ = serve

    with pytest.raises(EndpointStartError) as failed:
        _launcher(cluster, serve).launch("iris", step.inputs["model"].uri, None, 0)

    message = str(failed.value)
    assert message.startswith("endpoint 'iris': the service account may not get deployments (")
    assert "the Role in deploy/rbac.yaml must grant 'get' on 'deployments'" in message
    assert message.endswith("(the server it had started was removed)")
    assert "HTTP response headers" not in message and "ForbiddenException" not in message
    assert not _exists(cluster, "Deployment") and not _exists(cluster, "Service")


def test_a_server_that_never_becomes_ready_is_removed_again(cluster, serve):
    _, step, _ = serve

    with pytest.raises(EndpointStartError, match="removed"):
        _launcher(cluster, serve, ready_timeout=0.2).launch("iris", step.inputs["model"].uri, None, 0)

    assert not _exists(cluster, "Deployment") and not _exists(cluster, "Service")


def test_a_failed_redeploy_leaves_the_running_server_in_place(cluster, serve):
    _, step, _ = serve
    thread = _becomes_ready(cluster)
    _launcher(cluster, serve).launch("iris", step.inputs["model"].uri, None, 0)
    thread.join(5)
    client.AppsV1Api(cluster.api).patch_namespaced_deployment_status(  # the new model's rollout never finishes
        "iris", "ml", {"status": {**READY, "updatedReplicas": 0}}, _preload_content=False)

    with pytest.raises(EndpointStartError) as failed:
        _launcher(cluster, serve, ready_timeout=0.2).launch("iris", step.inputs["model"].uri, None, 0)

    assert "removed" not in str(failed.value)
    assert _exists(cluster, "Deployment") and _exists(cluster, "Service")


def test_a_server_pod_that_cannot_be_placed_fails_the_step_early_with_the_schedulers_words(cluster, serve):
    _, step, _ = serve
    message = "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available."

    def pending_pod() -> None:
        wait_until(lambda: _exists(cluster, "Deployment"), 10, "the Deployment")
        deployment = client.AppsV1Api(cluster.api).read_namespaced_deployment("iris", "ml", _preload_content=False)
        template = json.loads(deployment.data)["spec"]["template"]
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "iris-7d9f-abcde", "namespace": "ml", "labels": template["metadata"]["labels"]},
               "spec": template["spec"], "status": {"phase": "Pending"}}
        cluster.core.create_namespaced_pod("ml", pod, _preload_content=False)
        cluster.unschedulable("iris-7d9f-abcde", message)

    thread = threading.Thread(target=pending_pod, daemon=True)
    thread.start()
    with pytest.raises(EndpointStartError) as failed:
        _launcher(cluster, serve, ready_timeout=30, pending_grace=0.1).launch("iris", step.inputs["model"].uri, None, 0)
    thread.join(5)

    assert str(failed.value).startswith(f"endpoint 'iris' cannot start: iris-7d9f-abcde is Pending: {message}")
    assert not _exists(cluster, "Deployment")


def test_undeploy_finds_a_server_the_run_store_does_not_know_by_label(cluster, serve, tmp_path, monkeypatch):
    from runtime.endpoint_registry import undeploy
    from runtime.run_store import RunStore
    from runtime.runs import RunError

    _, step, _ = serve
    thread = _becomes_ready(cluster)
    _launcher(cluster, serve).launch("iris", step.inputs["model"].uri, None, 0)  # no run recorded it
    thread.join(5)
    store = RunStore(tmp_path / "store.db")
    monkeypatch.setattr("runtime.kubernetes.config.api_client", lambda context=None: cluster.api_client())

    assert [e["name"] for e in cluster_endpoints("ml", cluster.api_client())] == ["iris"]
    undeploy(store, "iris", kubernetes={"namespace": "ml"})

    assert not _exists(cluster, "Deployment") and not _exists(cluster, "Service")
    with pytest.raises(RunError, match="no endpoint 'iris' in namespace 'ml'"):
        undeploy(store, "iris", kubernetes={"namespace": "ml"})


def test_the_cli_lists_and_undeploys_a_server_found_on_the_cluster(cluster, serve, cli, cli_env, tmp_path):
    from test_k8s_preflight import _kubeconfig

    _, step, _ = serve
    thread = _becomes_ready(cluster)
    _launcher(cluster, serve).launch("iris", step.inputs["model"].uri, None, 0)  # its deploy step's run is not here
    thread.join(5)
    cli_env["KUBECONFIG"] = str(_kubeconfig(tmp_path, cluster.url))

    listed = cli("endpoints", "--json", "--context", "fake", "--namespace", "ml")
    removed = cli("undeploy", "iris", "--context", "fake", "--namespace", "ml")
    again = cli("undeploy", "iris", "--context", "fake", "--namespace", "ml")

    assert listed.returncode == 0, listed.stderr
    assert [(e["name"], e["url"], e["state"]) for e in json.loads(listed.stdout)] == [
        ("iris", "http://iris.ml.svc.cluster.local", "running")]
    assert removed.returncode == 0, removed.stderr
    assert not _exists(cluster, "Deployment") and not _exists(cluster, "Service")
    assert again.returncode != 0 and "no endpoint 'iris' in namespace 'ml'" in again.stderr
