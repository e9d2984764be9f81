"""ExecutionPlan → Kubernetes manifests: valid for the API server, restricted, GPU-ready, deterministic."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import ValidationError

from compiler import ExecutionPlan, compile_plan, load_plan_yaml, read_pipeline_file
from compiler.emitters.kubernetes import (
    KubernetesEmitOptions,
    ManifestError,
    compile_for_kubernetes,
    dns_name,
    dump_manifests,
    emit_endpoint,
    emit_kubernetes,
    label_value,
    run_selector,
)
from compiler.emitters.kubernetes import INPUT_ERROR_EXIT_CODE
from nodes import DEFAULT_GPU_IMAGE, DEFAULT_IMAGE
from runtime.entrypoint import EXIT_INPUT_ERROR
from studio.cli import main

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
VERSIONS = ("1.25", "1.32", "1.37")
RUN = "20250101-120000-abc123"
ROOT = f"/pipecanvas/runs/{RUN}/artifacts"
DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
PVC = KubernetesEmitOptions(run_id=RUN)
BUCKET = KubernetesEmitOptions(run_id=RUN, bucket="s3://team-ml/pipecanvas", bucket_secret="artifact-store")


def with_(options: KubernetesEmitOptions, **changes: Any) -> KubernetesEmitOptions:
    """``options`` with ``changes``, validated (``model_copy`` would skip the validators)."""
    return KubernetesEmitOptions(**{**options.model_dump(exclude_none=True), **changes})


def example_plan(name: str, root: str = ROOT) -> ExecutionPlan:
    loaded = read_pipeline_file(REPO / "examples" / name)
    from nodes import default_catalog

    return compile_plan(loaded.pipeline, default_catalog(), root, loaded.source_map)


@pytest.fixture
def plan_of(load_doc, catalog):
    """Document → plan under ROOT (or another root)."""

    def run(document: dict[str, Any], root: str = ROOT) -> ExecutionPlan:
        loaded = load_doc(document)
        return compile_plan(loaded.pipeline, catalog, root, loaded.source_map)

    return run


def validate_all(documents: list[dict[str, Any]]) -> None:
    for document in documents:
        for version in VERSIONS:
            kubernetes_validate.validate(document, version, strict=True)


def of_kind(documents: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in documents if d["kind"] == kind]


def job_for(documents: list[dict[str, Any]], step_id: str) -> dict[str, Any]:
    (job,) = [d for d in of_kind(documents, "Job") if d["metadata"]["annotations"]["pipecanvas.io/step-id"] == step_id]
    return job


def container(workload: dict[str, Any]) -> dict[str, Any]:
    (only,) = workload["spec"]["template"]["spec"]["containers"]
    return only


def env(workload: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container(workload)["env"]}


# ---- the API server would accept every document ---------------------------------------------------


@pytest.mark.parametrize("options", [PVC, with_(BUCKET, plan_configmap=True)], ids=["pvc", "bucket"])
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_emits_documents_valid_for_kubernetes_125_132_and_137(path, options) -> None:
    root = options.artifact_root(RUN)
    documents = emit_kubernetes(example_plan(path.name, root), options)
    validate_all(documents)
    assert len(of_kind(documents, "Job")) == len(example_plan(path.name, root).steps)


def test_strict_validation_catches_a_misspelt_field() -> None:
    """Guards the test above: a field the API does not know must fail."""
    (job, *_) = emit_kubernetes(example_plan("iris-classifier.yaml"), PVC)
    job["spec"]["template"]["spec"]["restartPolicyy"] = "Never"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, "1.32", strict=True)


@pytest.mark.parametrize("name", ["namespace.yaml", "rbac.yaml", "pvc.yaml", "studio.yaml"])
def test_the_deploy_folder_manifests_are_valid(name: str) -> None:
    documents = list(yaml.safe_load_all((REPO / "deploy" / name).read_text()))
    assert documents
    validate_all(documents)


# ---- one Job per step ----------------------------------------------------------------------------


def test_one_job_per_step_in_plan_order_with_the_steps_argv() -> None:
    plan = example_plan("iris-classifier.yaml")
    documents = emit_kubernetes(plan, PVC)
    jobs = of_kind(documents, "Job")
    assert [j["metadata"]["annotations"]["pipecanvas.io/step-id"] for j in jobs] == [s.id for s in plan.steps]
    assert [d["kind"] for d in documents] == ["Job"] * 6 + ["Deployment", "Service"]
    for job, step in zip(jobs, plan.steps):
        assert container(job)["command"] + container(job)["args"] == step.argv
        assert job["metadata"]["name"] == f"iris-classifier-{step.id}-{RUN}"
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
        assert job["spec"]["ttlSecondsAfterFinished"] == 3600
        assert job["metadata"]["annotations"]["pipecanvas.io/cache-key"] == step.cache_key


def test_labels_name_the_pipeline_run_and_step_on_the_job_and_its_pods() -> None:
    job = job_for(emit_kubernetes(example_plan("iris-classifier.yaml"), PVC), "train")
    expected = {
        "app.kubernetes.io/name": "pipecanvas",
        "app.kubernetes.io/managed-by": "pipecanvas",
        "app.kubernetes.io/component": "step",
        "pipecanvas.io/pipeline": "iris-classifier",
        "pipecanvas.io/run": RUN,
        "pipecanvas.io/step": "train",
    }
    assert job["metadata"]["labels"] == expected
    assert job["spec"]["template"]["metadata"]["labels"] == expected
    assert run_selector(RUN) == f"app.kubernetes.io/component=step,pipecanvas.io/run={RUN}"
    assert job["metadata"]["annotations"]["pipecanvas.io/depends-on"] == "clean"


def test_retries_and_timeout_become_backoff_limit_and_a_deadline_for_every_attempt() -> None:
    documents = emit_kubernetes(example_plan("iris-classifier.yaml"), PVC)
    train, load = job_for(documents, "train"), job_for(documents, "load")
    assert train["spec"]["backoffLimit"] == 1
    assert train["spec"]["activeDeadlineSeconds"] == 10 * 60 * 2
    assert load["spec"]["backoffLimit"] == 0 and "activeDeadlineSeconds" not in load["spec"]


def test_an_input_error_fails_the_job_without_retrying() -> None:
    assert INPUT_ERROR_EXIT_CODE == EXIT_INPUT_ERROR
    job = job_for(emit_kubernetes(example_plan("iris-classifier.yaml"), PVC), "train")
    fail, ignore = job["spec"]["podFailurePolicy"]["rules"]
    assert fail["action"] == "FailJob" and fail["onExitCodes"]["values"] == [EXIT_INPUT_ERROR]
    assert ignore == {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}


def test_cpu_and_memory_are_requested_and_limited_as_strings() -> None:
    job = job_for(emit_kubernetes(example_plan("iris-classifier.yaml"), PVC), "train")
    assert container(job)["resources"] == {"requests": {"cpu": "2", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}


# ---- GPUs and scheduling ---------------------------------------------------------------------------


def test_a_gpu_step_asks_for_an_nvidia_gpu_and_uses_the_cuda_image() -> None:
    documents = emit_kubernetes(example_plan("iris-mlp-gpu.yaml"), PVC)
    network = job_for(documents, "network")
    assert container(network)["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert container(network)["image"] == DEFAULT_GPU_IMAGE
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in network["spec"]["template"]["spec"]["tolerations"]
    load = job_for(documents, "load")
    assert "nvidia.com/gpu" not in container(load)["resources"]["limits"] and container(load)["image"] == DEFAULT_IMAGE
    assert "tolerations" not in load["spec"]["template"]["spec"]


def test_node_selector_tolerations_and_queue_come_from_defaults_unless_the_node_sets_them(iris_doc, plan_of) -> None:
    document = iris_doc(defaults={"kubernetes": {
        "nodeSelector": {"pool": "cpu"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}],
        "queue": "team-cpu",
    }})
    train = next(n for n in document["spec"]["nodes"] if n["id"] == "train")
    train["kubernetes"] = {"nodeSelector": {"cloud.google.com/gke-accelerator": "nvidia-l4"}, "queue": "team-gpu"}
    documents = emit_kubernetes(plan_of(document), PVC)
    load, trained = job_for(documents, "load"), job_for(documents, "train")
    assert load["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-cpu"
    assert trained["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-gpu"
    assert "kueue.x-k8s.io/queue-name" not in trained["spec"]["template"]["metadata"]["labels"]
    assert load["spec"]["template"]["spec"]["nodeSelector"] == {"pool": "cpu"}
    assert trained["spec"]["template"]["spec"]["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    toleration = {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}
    assert trained["spec"]["template"]["spec"]["tolerations"] == [toleration]
    validate_all(documents)


def test_without_kubernetes_options_there_is_no_queue_label_or_node_selector() -> None:
    job = job_for(emit_kubernetes(example_plan("iris-classifier.yaml"), PVC), "train")
    assert "kueue.x-k8s.io/queue-name" not in job["metadata"]["labels"]
    assert "nodeSelector" not in job["spec"]["template"]["spec"]


def test_scheduling_options_the_api_server_would_refuse_are_reported_on_their_node(iris_doc, plan_of) -> None:
    document = iris_doc()
    train = next(n for n in document["spec"]["nodes"] if n["id"] == "train")
    train["kubernetes"] = {"queue": "Team GPU", "nodeSelector": {"pool": "a b"},
                           "tolerations": [{"key": "x", "operator": "Exists", "value": "y"},
                                           {"key": "spot", "operator": "Exists", "effect": "NoSchedule",
                                            "tolerationSeconds": 60}]}
    with pytest.raises(ManifestError) as caught:
        emit_kubernetes(plan_of(document), PVC)
    assert caught.value.problems == [
        "node 'train': queue 'Team GPU' is not a valid Kueue LocalQueue name",
        "node 'train': nodeSelector value 'a b' (for 'pool') is not a valid label value",
        "node 'train': toleration 1 has operator Exists, so it cannot have a value",
        "node 'train': toleration 2 has tolerationSeconds, so its effect must be NoExecute "
        "(the API server refuses it otherwise)",
    ]


@pytest.mark.parametrize("own, extra", [
    ({"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoExecute"}, True),  # not NoSchedule
    ({"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}, True),  # one value only
    ({"key": "nvidia.com/gpu", "operator": "Exists"}, False),  # every effect, every value
    ({"operator": "Exists"}, False),  # every taint
])
def test_a_gpu_step_tolerates_the_gpu_taint_unless_its_own_tolerations_already_do(own, extra, iris_doc, plan_of) -> None:
    document = iris_doc()
    train = next(n for n in document["spec"]["nodes"] if n["id"] == "train")
    train["resources"] = {"gpu": 1}
    train["kubernetes"] = {"tolerations": [own]}
    tolerations = job_for(emit_kubernetes(plan_of(document), PVC), "train")["spec"]["template"]["spec"]["tolerations"]
    default = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    assert tolerations == ([own, default] if extra else [own])


# ---- names that must survive any id ---------------------------------------------------------------

HOSTILE = ["Train.Model", "x" * 200, "trailing-", "UPPER_case", "...", "9lives", "train.model", "x" * 199 + "y"]


def test_hostile_ids_give_distinct_valid_names_labels_and_valid_documents() -> None:
    plan = example_plan("diabetes-regression.yaml")
    steps = [plan.steps[i % len(plan.steps)].model_copy(update={"id": hostile}) for i, hostile in enumerate(HOSTILE)]
    hostile_plan = plan.model_copy(update={"pipeline": "My.Pipeline_With-A-Very-Long-Name-" + "z" * 80 + "-", "steps": steps})
    documents = emit_kubernetes(hostile_plan, PVC)
    names = [d["metadata"]["name"] for d in documents]
    assert len(set(names)) == len(HOSTILE)
    for document in documents:
        assert DNS_LABEL.match(document["metadata"]["name"]), document["metadata"]["name"]
        for value in document["metadata"]["labels"].values():
            assert len(value) <= 63 and LABEL_VALUE.match(value), value
    assert [d["metadata"]["annotations"]["pipecanvas.io/step-id"] for d in documents] == HOSTILE
    validate_all(documents)


@pytest.mark.parametrize("parts", [("Train",), ("a" * 200,), ("trailing-",), ("",), ("9lives",), ("a.b", "c_d"), ("-", "-")])
def test_dns_name_is_always_a_valid_label(parts) -> None:
    assert DNS_LABEL.match(dns_name(*parts))


def test_dns_name_keeps_valid_names_and_tells_changed_ones_apart() -> None:
    assert dns_name("iris", "train", RUN) == f"iris-train-{RUN}"
    assert dns_name("Train") != dns_name("train") == "train"
    long_a, long_b = dns_name("p", "a" * 100 + "1"), dns_name("p", "a" * 100 + "2")
    assert long_a != long_b and len(long_a) == len(long_b) == 63
    assert dns_name("pipeline", "x" * 200, RUN).count(RUN) == 1  # an id that fits is kept whole


def test_label_value_keeps_valid_values_and_shortens_the_rest() -> None:
    assert label_value("Train.Model_v2") == "Train.Model_v2"
    assert label_value("") == ""
    for text in ("x" * 200, "-bad-", "a b", "é"):
        value = label_value(text)
        assert value != text and len(value) <= 63 and LABEL_VALUE.match(value) and value


# ---- security --------------------------------------------------------------------------------------


def pods(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d["spec"]["template"]["spec"] for d in documents if d["kind"] in ("Job", "Deployment")]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_pod_meets_the_restricted_profile(path) -> None:
    for pod in pods(emit_kubernetes(example_plan(path.name), PVC)):
        assert pod["securityContext"] == {
            "runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
            "fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": {"type": "RuntimeDefault"},
        }
        assert pod["serviceAccountName"] == "pipecanvas-runner"
        for each in pod["containers"]:
            assert each["securityContext"] == {
                "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                "readOnlyRootFilesystem": True, "runAsNonRoot": True,
            }
            assert {"name": "scratch", "mountPath": "/tmp"} in each["volumeMounts"]
        assert {"name": "scratch", "emptyDir": {}} in pod["volumes"]


def test_only_deploy_steps_can_call_the_kubernetes_api() -> None:
    documents = emit_kubernetes(example_plan("iris-classifier.yaml"), PVC)
    tokens = {d["metadata"]["annotations"]["pipecanvas.io/step-id"] + "/" + d["kind"]:
              d["spec"]["template"]["spec"]["automountServiceAccountToken"] for d in documents if d["kind"] != "Service"}
    assert tokens == {"load/Job": False, "split/Job": False, "clean/Job": False, "train/Job": False,
                      "evaluate/Job": False, "serve/Job": True, "serve/Deployment": False}


def test_secrets_appear_by_name_only(monkeypatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak-4f3a")
    plan = example_plan("iris-classifier.yaml", BUCKET.artifact_root(RUN))
    documents = emit_kubernetes(plan, BUCKET)
    text = dump_manifests(documents)
    assert "do-not-leak-4f3a" not in text and "AWS_" not in text
    assert not of_kind(documents, "Secret") and "secretKeyRef" not in text
    workloads = [d for d in documents if d["kind"] in ("Job", "Deployment")]
    assert all(container(w)["envFrom"] == [{"secretRef": {"name": "artifact-store"}}] for w in workloads)


# ---- storage ---------------------------------------------------------------------------------------


def test_a_shared_claim_is_mounted_at_the_same_path_in_every_pod() -> None:
    documents = emit_kubernetes(example_plan("iris-classifier.yaml"), PVC)
    for pod in pods(documents):
        assert {"name": "artifacts", "persistentVolumeClaim": {"claimName": "pipecanvas-artifacts"}} in pod["volumes"]
        assert {"name": "artifacts", "mountPath": "/pipecanvas"} in pod["containers"][0]["volumeMounts"]
    job = job_for(documents, "train")
    assert env(job) == {
        "PIPECANVAS_RUN_ID": RUN, "PIPECANVAS_HOME": "/pipecanvas",
        "PIPECANVAS_NAMESPACE": {"fieldRef": {"fieldPath": "metadata.namespace"}},
        "PYTHONUNBUFFERED": "1", "HOME": "/tmp", "PIPECANVAS_ENDPOINTS": "kubernetes",
    }
    assert "envFrom" not in container(job)


def test_a_bucket_gives_credentials_from_the_secret_and_no_volume() -> None:
    documents = emit_kubernetes(example_plan("iris-classifier.yaml", BUCKET.artifact_root(RUN)), BUCKET)
    job = job_for(documents, "train")
    assert env(job)["PIPECANVAS_HOME"] == "/tmp/pipecanvas"
    assert container(job)["args"][3] == f"s3://team-ml/pipecanvas/runs/{RUN}/artifacts/plan.yaml"
    assert all(v["name"] != "artifacts" for pod in pods(documents) for v in pod["volumes"])


def test_artifacts_the_pods_cannot_reach_are_refused_with_the_root_to_use() -> None:
    with pytest.raises(ManifestError) as caught:
        emit_kubernetes(example_plan("iris-classifier.yaml", "/home/me/.pipecanvas/runs/x/artifacts"), PVC)
    assert caught.value.problems == [
        "the plan's artifacts go to '/home/me/.pipecanvas/runs/x/artifacts', which the pods cannot reach: "
        f"compile with artifact_root='/pipecanvas/runs/{RUN}/artifacts' (on the volume mounted at /pipecanvas)"
    ]
    with pytest.raises(ManifestError):
        emit_kubernetes(example_plan("iris-classifier.yaml", "s3://other/runs/x/artifacts"), BUCKET)


@pytest.mark.parametrize("settings, message", [
    ({"pvc": "claim", "bucket": "s3://b"}, "not both"),
    ({"bucket": "/local/folder"}, "must be an object-store URI"),
    ({"bucket_secret": "creds"}, "only used with a bucket"),
    ({"namespace": "Team_A"}, "lowercase DNS label"),
    ({"run_id": "Run 1"}, "run id 'Run 1'"),
    ({"mount_path": "/tmp/artifacts"}, "mount path"),
    # a claim that would hide the image's own folders or the service-account token
    ({"mount_path": "/etc"}, "mount path"),
    ({"mount_path": "/usr/local/data"}, "mount path"),
    ({"mount_path": "/var/run/secrets/kubernetes.io"}, "mount path"),
    ({"mount_path": "/data\nx"}, "mount path"),
    # every artifact URI is built under the bucket
    ({"bucket": "s3://b/p/../q"}, "without '..', '\\?' or '#'"),
    ({"bucket": "s3://b/p?versionId=1"}, "without '..'"),
    ({"bucket": "s3://b/p#x"}, "without '..'"),
    # image references the kubelet refuses (InvalidImageName)
    ({"image_registry": "reg.io:abc"}, "a port is digits"),
    ({"image_registry": "reg.io//team"}, "image registry"),
    ({"image_registry": "reg.io/Team"}, "image registry"),
])
def test_options_that_cannot_work_are_refused(settings, message) -> None:
    with pytest.raises(ValidationError, match=message):
        KubernetesEmitOptions(**settings)


@pytest.mark.parametrize("settings, kept", [
    ({"mount_path": "//data/"}, ("mount_path", "/data")),
    ({"mount_path": "/var/lib/pipecanvas"}, ("mount_path", "/var/lib/pipecanvas")),
    ({"bucket": "s3://team/ml/v1.2..3/"}, ("bucket", "s3://team/ml/v1.2..3")),
    ({"image_registry": "localhost:5000"}, ("image_registry", "localhost:5000")),
    ({"image_registry": "ghcr.io/my-org/sub_team/"}, ("image_registry", "ghcr.io/my-org/sub_team")),
])
def test_options_that_work_are_kept_in_their_plain_form(settings, kept) -> None:
    assert getattr(KubernetesEmitOptions(**settings), kept[0]) == kept[1]


def test_compile_for_kubernetes_puts_the_artifacts_on_the_storage_under_the_run_id(catalog) -> None:
    loaded = read_pipeline_file(REPO / "examples" / "iris-classifier.yaml")
    plan, options = compile_for_kubernetes(loaded.pipeline, catalog, KubernetesEmitOptions())
    assert options.run_id == plan.pipeline_digest[:8]
    assert plan.artifact_root == f"/pipecanvas/runs/{options.run_id}/artifacts"
    validate_all(emit_kubernetes(plan, options))


def test_the_plan_configmap_holds_the_plan_and_the_jobs_read_it_from_there() -> None:
    plan = example_plan("iris-classifier.yaml")
    documents = emit_kubernetes(plan, with_(PVC, plan_configmap=True))
    (configmap,) = of_kind(documents, "ConfigMap")
    assert documents[0] is configmap and configmap["immutable"] is True
    assert load_plan_yaml(configmap["data"]["plan.yaml"]) == plan
    job = job_for(documents, "train")
    assert container(job)["args"] == ["-m", "runtime.entrypoint", "--plan", "/etc/pipecanvas/plan.yaml", "--step", "train"]
    assert {"name": "plan", "mountPath": "/etc/pipecanvas", "readOnly": True} in container(job)["volumeMounts"]
    assert {"name": "plan", "configMap": {"name": configmap["metadata"]["name"], "defaultMode": 0o444}} in (
        job["spec"]["template"]["spec"]["volumes"])


# ---- model servers --------------------------------------------------------------------------------


def test_a_deploy_step_gets_a_model_server_deployment_and_service() -> None:
    plan = example_plan("iris-classifier.yaml")
    deployment, service = of_kind(emit_kubernetes(plan, PVC), "Deployment") + of_kind(emit_kubernetes(plan, PVC), "Service")
    server = container(deployment)
    assert deployment["metadata"]["name"] == service["metadata"]["name"] == "iris"
    assert server["command"] + server["args"] == [
        "python", "-m", "nodes.model_server", "--model", f"{ROOT}/train/model.skops",
        "--preprocessor", f"{ROOT}/clean/preprocessor.skops", "--name", "iris", "--host", "0.0.0.0", "--port", "8080",
    ]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert server[probe]["httpGet"] == {"path": "/health", "port": "http"}
    assert server["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert deployment["spec"]["replicas"] == 1
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert service["spec"]["selector"] == selector and "pipecanvas.io/run" not in selector
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]


def test_a_deploy_steps_own_pod_asks_for_little_cpu_so_its_server_fits_beside_it() -> None:
    plan = example_plan("iris-classifier.yaml")
    documents = emit_kubernetes(plan, PVC)
    jobs = {job["metadata"]["annotations"]["pipecanvas.io/step-id"]: job for job in of_kind(documents, "Job")}
    (deployment,) = of_kind(documents, "Deployment")
    serve = plan.step("serve")

    step_resources = container(jobs["serve"])["resources"]
    assert step_resources["requests"]["cpu"] == "50m" and step_resources["limits"]["cpu"] == "1"  # quotas need a limit
    assert container(deployment)["resources"]["requests"]["cpu"] == serve.resources.cpu  # the server: the node's
    train = container(jobs["train"])["resources"]
    assert train["requests"]["cpu"] == train["limits"]["cpu"] == plan.step("train").resources.cpu


def test_a_deploy_steps_own_pod_leaves_the_gpus_to_its_server(iris_doc, plan_of) -> None:
    """With one free GPU, a step pod holding it would keep its own server Pending until the step gave up."""
    from compiler.emitters.kubernetes.pods import GPU_RESOURCE

    document = iris_doc()
    for node in document["spec"]["nodes"]:
        if node["type"] == "deploy.endpoint":
            node["resources"] = {"gpu": 1, "cpu": "2", "memory": "2Gi"}
    documents = emit_kubernetes(plan_of(document), PVC)
    job = job_for(documents, "serve")
    (deployment,) = of_kind(documents, "Deployment")

    step = container(job)["resources"]
    assert GPU_RESOURCE not in step.get("requests", {}) and GPU_RESOURCE not in step["limits"]
    assert not any(t.get("key") == GPU_RESOURCE for t in job["spec"]["template"]["spec"].get("tolerations", []))
    assert container(deployment)["resources"]["limits"][GPU_RESOURCE] in (1, "1")


def test_only_deploy_steps_have_a_model_server() -> None:
    plan = example_plan("iris-classifier.yaml")
    with pytest.raises(ManifestError, match="only a deploy.endpoint step"):
        emit_endpoint(plan.step("train"), plan, PVC)
    assert not of_kind(emit_kubernetes(example_plan("iris-mlp-gpu.yaml"), PVC), "Deployment")


def test_two_deploy_steps_cannot_share_an_endpoint_name() -> None:
    plan = example_plan("iris-classifier.yaml")
    serve = plan.step("serve")
    twin = plan.model_copy(update={"steps": [*plan.steps, serve.model_copy(update={"id": "serve-again"})]})
    with pytest.raises(ManifestError, match="nodes 'serve', 'serve-again' all deploy the endpoint 'iris'"):
        emit_kubernetes(twin, PVC)


# ---- images and determinism ------------------------------------------------------------------------


def test_an_image_registry_prefixes_images_that_name_none() -> None:
    plan = example_plan("iris-mlp-gpu.yaml")
    documents = emit_kubernetes(plan, with_(PVC, image_registry="registry.example.com/ml/"))
    assert container(job_for(documents, "network"))["image"] == f"registry.example.com/ml/{DEFAULT_GPU_IMAGE}"
    own = plan.model_copy(update={"steps": [s.model_copy(update={"image": "ghcr.io/org/runtime:2"}) for s in plan.steps]})
    documents = emit_kubernetes(own, with_(PVC, image_registry="registry.example.com"))
    assert {container(j)["image"] for j in documents} == {"ghcr.io/org/runtime:2"}


def test_pull_secrets_are_referenced_by_name() -> None:
    documents = emit_kubernetes(example_plan("iris-classifier.yaml"), with_(PVC, image_pull_secrets=("reg",)))
    assert all(pod["imagePullSecrets"] == [{"name": "reg"}] for pod in pods(documents))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_emitting_twice_gives_identical_yaml(path) -> None:
    options = with_(BUCKET, plan_configmap=True)
    first = dump_manifests(emit_kubernetes(example_plan(path.name, options.artifact_root(RUN)), options))
    second = dump_manifests(emit_kubernetes(example_plan(path.name, options.artifact_root(RUN)), options))
    assert first == second
    assert list(yaml.safe_load_all(first)) == emit_kubernetes(example_plan(path.name, options.artifact_root(RUN)), options)


# ---- the command line ------------------------------------------------------------------------------


@pytest.fixture
def _home(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PIPECANVAS_HOME", str(tmp_path / "home"))


@pytest.mark.usefixtures("_home")
def test_cli_writes_a_multi_document_file_that_validates(tmp_path, capsys) -> None:
    out = tmp_path / "out" / "iris.yaml"
    source = REPO / "examples" / "iris-classifier.yaml"
    assert main(["compile", str(source), "--target", "kubernetes", "-o", str(out), "--run-id", "first-try"]) == 0
    documents = list(yaml.safe_load_all(out.read_text()))
    assert [d["kind"] for d in documents] == ["Job"] * 6 + ["Deployment", "Service"]
    validate_all(documents)
    assert documents[0]["metadata"]["name"] == "iris-classifier-load-first-try"
    assert f"wrote {out} (8 objects for 6 steps, namespace pipecanvas)" in capsys.readouterr().out


@pytest.mark.usefixtures("_home")
def test_cli_writes_one_file_per_object_into_a_folder(tmp_path) -> None:
    out = tmp_path / "manifests"
    source = REPO / "examples" / "iris-mlp-gpu.yaml"
    args = ["--bucket", "s3://team/ml", "--bucket-secret", "creds", "--namespace", "ml", "--run-id", "r1"]
    assert main(["compile", str(source), "--target", "kubernetes", "-o", str(out), *args]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert files[0] == "01-job-iris-mlp-gpu-load-r1.yaml" and len(files) == 5
    network = yaml.safe_load((out / "04-job-iris-mlp-gpu-network-r1.yaml").read_text())
    assert network["metadata"]["namespace"] == "ml" and container(network)["resources"]["limits"]["nvidia.com/gpu"] == "1"


@pytest.mark.usefixtures("_home")
def test_cli_refuses_bad_cluster_options_with_exit_2(capsys) -> None:
    source = REPO / "examples" / "iris-classifier.yaml"
    assert main(["compile", str(source), "--target", "kubernetes", "--namespace", "Team_A"]) == 2
    assert "error: namespace 'Team_A' must be a lowercase DNS label of at most 63 characters" in capsys.readouterr().err
    assert main(["compile", str(source), "--target", "kubernetes", "--artifact-root", "/data/x"]) == 2
    assert "which the pods cannot reach" in capsys.readouterr().err


# ---- deploy/ ---------------------------------------------------------------------------------------


def test_rbac_is_namespaced_least_privilege_and_never_reads_secrets() -> None:
    documents = list(yaml.safe_load_all((REPO / "deploy" / "rbac.yaml").read_text()))
    assert {d["kind"] for d in documents} == {"ServiceAccount", "Role", "RoleBinding"}
    (role,) = of_kind(documents, "Role")
    granted = {(group, resource): set(rule["verbs"]) for rule in role["rules"]
               for group in rule["apiGroups"] for resource in rule["resources"]}
    assert granted[("batch", "jobs")] == {"create", "get", "list", "watch", "delete"}
    assert granted[("", "pods")] == {"get", "list", "watch"} and granted[("", "pods/log")] == {"get"}
    assert granted[("apps", "deployments")] == {"create", "get", "list", "patch", "delete"}
    assert granted[("", "services")] == {"create", "list", "patch", "delete"}
    assert granted[("", "serviceaccounts")] == granted[("", "persistentvolumeclaims")] == {"get"}
    assert not any(resource in ("secrets", "*") for _, resource in granted) and "*" not in set().union(*granted.values())
    (binding,) = of_kind(documents, "RoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "pipecanvas-runner", "namespace": "pipecanvas"}]


def test_the_runtime_image_runs_as_the_user_the_manifests_ask_for() -> None:
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    assert "USER 10001:10001" in dockerfile and "--uid 10001" in dockerfile
    assert "ARG BASE=python:3.11-slim" in dockerfile and "nvidia/cuda:" in dockerfile


def test_jobs_for_servers_older_than_1_26_leave_out_the_pod_failure_policy_and_still_validate() -> None:
    plan = example_plan("iris-classifier.yaml")
    jobs = of_kind(emit_kubernetes(plan, with_(PVC, pod_failure_policy=False)), "Job")

    assert jobs and not any("podFailurePolicy" in job["spec"] for job in jobs)
    assert all("podFailurePolicy" in job["spec"] for job in of_kind(emit_kubernetes(plan, PVC), "Job"))
    validate_all(jobs)


def _as_kubernetes_expands(text: str, env: dict[str, str]) -> str:
    """What a container sees for ``text`` in its args or env: ``$$`` is ``$``, ``$(NAME)`` a defined variable."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), text)


@pytest.mark.parametrize("mount_path", ["/mnt/$(HOME)", "/data/$$x", "/data/cost$"])
def test_a_dollar_in_an_option_reaches_the_pod_as_written(mount_path) -> None:
    """Kubernetes expands $(NAME) in command, args and env values: /mnt/$(HOME) became /mnt//tmp in the args."""
    from compiler.emitters.kubernetes import compile_for_kubernetes
    from nodes import default_catalog

    loaded = read_pipeline_file(REPO / "examples" / "iris-classifier.yaml")
    plan, options = compile_for_kubernetes(loaded.pipeline, default_catalog(), with_(PVC, mount_path=mount_path))
    documents = emit_kubernetes(plan, options)
    for document in of_kind(documents, "Job") + of_kind(documents, "Deployment"):
        step = container(document)
        env = {e["name"]: e["value"] for e in step["env"] if "value" in e}
        seen = {name: _as_kubernetes_expands(value, env) for name, value in env.items()}
        assert seen["PIPECANVAS_HOME"].startswith(mount_path), seen
        args = [_as_kubernetes_expands(arg, seen) for arg in step["args"]]
        mounted = next(m["mountPath"] for m in step["volumeMounts"] if m["mountPath"].startswith(mount_path))
        assert mounted == mount_path
        paths = [arg for arg in args if arg.startswith("/")] + [arg for arg in args if "://" in arg]
        assert paths and all(path.startswith(mount_path) for path in paths), args


def test_a_fan_in_of_thousands_keeps_its_annotations_within_what_the_api_server_takes(pipeline_doc, make_node, plan_of) -> None:
    """6400 upstream ids of 40 characters made the depends-on annotation alone over the 256 KiB an object's
    annotations may hold; the plan lists every upstream step anyway."""
    trainers = [f"train-{i:04d}-{'x' * 29}" for i in range(1500)]  # 40 characters each: 61 KB listed whole
    nodes = [make_node("load", "data.sample"), make_node("split", "prepare.split"), make_node("compare", "evaluate.compare")]
    nodes += [make_node(t, "train.classifier") for t in trainers]
    edges = [("load.table", "split.table"), ("split.test", "compare.test")]
    edges += [edge for t in trainers for edge in (("split.train", f"{t}.train"), (f"{t}.model", "compare.models"))]
    documents = emit_kubernetes(plan_of(pipeline_doc(nodes, edges)), PVC)

    annotations = job_for(documents, "compare")["metadata"]["annotations"]
    listed = annotations["pipecanvas.io/depends-on"]
    assert len(listed.encode()) <= 16 * 1024
    assert listed.startswith("split," + trainers[0] + ",") and listed.endswith(" more (the plan lists every one)")
    assert job_for(documents, trainers[0])["metadata"]["annotations"]["pipecanvas.io/depends-on"] == "split"
