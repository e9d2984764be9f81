"""The bucket mode over the S3 protocol: moto's S3 server on 127.0.0.1, s3fs as in a real run, the emulated cluster.

The runner ships the plan to the bucket, a "pod" (the test) reads it from there
and writes its outputs there, and the coordinator reads the metrics back, all
over HTTP to an S3 server. Credentials exist only in this process's environment
(the runner's side) and, for the pods, as the name of a Secret.
"""

from __future__ import annotations

import json
import logging
import secrets

import pytest

from runtime.states import RunState

s3fs = pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

SECRET_KEY = f"secret-{secrets.token_hex(8)}"  # a credential value that must never be written anywhere


@pytest.fixture
def s3(monkeypatch):
    """An S3 server on a free local port; this process's AWS_* environment points at it; a fresh bucket.

    moto keeps its buckets per process, not per server: each test makes its own.
    """
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "pipecanvas-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem()
    fs.bucket = f"pipecanvas-{secrets.token_hex(4)}"
    fs.mkdir(fs.bucket)
    yield fs
    s3fs.S3FileSystem.clear_instance_cache()
    server.stop()


def test_a_run_keeps_its_plan_artifacts_and_metrics_in_an_s3_bucket(s3, kube, cluster, make_node):
    from compiler.plan import load_plan_yaml
    from nodes.artifact_io import read_artifact

    bucket = s3.bucket
    kube.use_bucket(f"s3://{bucket}/runs-of-the-team", bucket_secret="artifact-store")
    kube.compile([make_node("load", "test.source"), make_node("train", "test.sleep")], [("load", "train")])
    kube.start()

    job = cluster.wait_for_job("load")
    # the pod's side: the plan arrived on the bucket before the first Job, and is the run's plan
    plan_uri = kube.plan.plan_uri
    assert plan_uri.startswith(f"s3://{bucket}/runs-of-the-team/runs/{kube.run_id}/")
    with s3.open(plan_uri, "r") as handle:
        assert load_plan_yaml(handle.read()).step("train").inputs["count"].uri == kube.plan.step("load").outputs["count"].uri
    kube.run_job("load")  # writes its output to the bucket over S3
    kube.run_job("train")

    assert kube.finish() == RunState.SUCCEEDED
    assert kube.store.metrics(kube.run_id) == {"load": {"value": 1.0}, "train": {"value": 1.0}}  # read back over S3
    output = kube.plan.step("train").outputs["count"]
    assert s3.exists(output.uri)
    assert read_artifact(output.kind, output.uri).values == {"value": 1}  # downloaded as the next step would

    # credentials: the pods get the Secret by name; no value is in a Job, the plan, the run's settings or its store
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["envFrom"] == [{"secretRef": {"name": "artifact-store"}}]
    written = [json.dumps(cluster.jobs()), s3.cat(plan_uri).decode(), json.dumps(kube.store.get_run(kube.run_id).options)]
    assert not any(SECRET_KEY in text or "AWS_SECRET_ACCESS_KEY" in text for text in written)
    assert SECRET_KEY.encode() not in b"".join(p.read_bytes() for p in kube.home.rglob("*") if p.is_file())


def test_preflight_says_when_the_bucket_does_not_exist_for_these_credentials(s3, cluster, home, load_doc,
                                                                            pipeline_doc):
    from compiler.plan import compile_plan
    from nodes.catalog import default_catalog
    from runtime.kubernetes.preflight import preflight
    from runtime.kubernetes.types import KubernetesSettings

    options = KubernetesSettings(namespace="ml", bucket="s3://no-such-bucket/team").emit_options("r1")
    pipeline = load_doc(pipeline_doc([{"id": "load", "type": "test.source"}])).pipeline
    plan = compile_plan(pipeline, default_catalog(), options.artifact_root("r1"))

    errors = [d.message for d in preflight(plan, options, cluster.api_client()) if d.severity == "error"]

    assert "cluster: the bucket 'no-such-bucket' of s3://no-such-bucket/team does not exist, or the credentials this " \
           "machine has cannot see it" in errors


def _ready_cluster(cluster) -> None:
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "pipecanvas-runner", "namespace": "ml"}}
    cluster.core.create_namespaced_service_account("ml", account, _preload_content=False)


def test_local_input_files_are_staged_into_the_bucket_and_the_plan_points_there(s3, cluster, tmp_path, monkeypatch,
                                                                                  repo_root):
    import hashlib

    from compiler import read_pipeline_file
    from nodes.catalog import default_catalog
    from runtime.kubernetes.runs import prepare_kubernetes_run

    _ready_cluster(cluster)
    monkeypatch.chdir(tmp_path)  # the example's relative path is found where pipecanvas ships its sample data
    pipeline = read_pipeline_file(repo_root / "examples" / "churn-csv.yaml").pipeline
    settings = {"namespace": "ml", "bucket": f"s3://{s3.bucket}/team"}
    source = repo_root / "assets" / "data" / "churn.csv"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()

    prepared = prepare_kubernetes_run(pipeline, default_catalog(), "r1", settings, api=cluster.api_client())
    again = prepare_kubernetes_run(pipeline, default_catalog(), "r2", settings, api=cluster.api_client())

    (step,) = [s for s in prepared.plan.steps if s.type == "data.file"]
    staged = f"s3://{s3.bucket}/team/staged/{digest}/churn.csv"
    assert step.params["path"] == staged
    assert s3.cat(staged) == source.read_bytes()  # the pod reads this, not the user's disk
    assert [s.params["path"] for s in again.plan.steps if s.type == "data.file"] == [staged]  # one copy per content
    assert [p.rsplit("/", 1)[-1] for p in s3.find(f"{s3.bucket}/team/staged")] == ["churn.csv"]
    assert pipeline.node(step.id).params["path"] == "assets/data/churn.csv"  # the user's pipeline is unchanged


def test_a_local_path_that_cannot_be_staged_is_an_error_on_its_node(s3, cluster, repo_root):
    from compiler import read_pipeline_file
    from nodes.catalog import default_catalog
    from runtime.kubernetes.preflight import PreflightError
    from runtime.kubernetes.runs import prepare_kubernetes_run

    _ready_cluster(cluster)
    pipeline = read_pipeline_file(repo_root / "examples" / "churn-csv.yaml").pipeline
    node = next(n for n in pipeline.spec.nodes if n.type == "data.file")
    moved = node.model_copy(update={"params": {**node.params, "path": "/nowhere/churn.csv"}})
    pipeline = pipeline.model_copy(update={"spec": pipeline.spec.model_copy(update={
        "nodes": [moved if n.id == node.id else n for n in pipeline.spec.nodes]})})

    with pytest.raises(PreflightError) as refused:
        prepare_kubernetes_run(pipeline, default_catalog(), "r1", {"namespace": "ml", "bucket": f"s3://{s3.bucket}/t"},
                               api=cluster.api_client())

    (error,) = [d for d in refused.value.diagnostics if d.severity == "error"]
    assert (error.node, error.param) == (node.id, "path")
    assert error.message == (f"node '{node.id}': param 'path': '/nowhere/churn.csv' is not a file on this machine, so "
                             "it cannot be copied to the cluster's storage for the pods (give a URI such as "
                             "s3://bucket/file.csv to have the pods read it from there)")
