"""A deploy step on a cluster: its pod applies the model server's Deployment and Service and waits until ready."""

from __future__ import annotations

import threading

import pytest
from fake_cluster import wait_until
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from compiler.plan import compile_plan
from nodes.catalog import default_catalog
from runtime.endpoints import EndpointStartError
from runtime.kubernetes.endpoints import KubernetesEndpointLauncher
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

    undeploy(store, "iris")

    for read in (client.AppsV1Api(cluster.api).read_namespaced_deployment,
                 client.CoreV1Api(cluster.api).read_namespaced_service):
        with pytest.raises(ApiException) as gone:
            read("iris", "ml", _preload_content=False)
        assert gone.value.status == 404
    assert store.endpoint("iris").state == "stopped"
