"""The Kubernetes executor under the real coordinator: each step a Job, submitted when its inputs are ready.

The fake cluster (kmock over real HTTP) plays kubelet and Job controller step by
step, so each test decides exactly when a pod starts, prints, and ends.
"""

from __future__ import annotations

import fsspec

from runtime.states import RunState


def _chain(make_node, *ids: str, **fields):
    first, *rest = ids
    return [make_node(first, "test.source", **fields.get(first, {}))] + [
        make_node(node_id, "test.sleep", **fields.get(node_id, {})) for node_id in rest]


def test_a_step_is_submitted_only_after_its_inputs_succeeded(kube, cluster, make_node, wait_for):
    kube.compile(_chain(make_node, "load", "train"), [("load", "train")])
    kube.start()

    load_job = cluster.wait_for_job("load")
    assert cluster.job("train") is None, "train's Job must wait for load's output"
    kube.run_job("load", log="loaded 150 rows")
    train_job = cluster.wait_for_job("train")
    kube.run_job("train")

    assert kube.finish() == RunState.SUCCEEDED
    assert kube.store.metrics(kube.run_id) == {"load": {"value": 1.0}, "train": {"value": 1.0}}
    # one attempt per Job: Kubernetes never retries by itself, the coordinator does
    assert load_job["spec"]["backoffLimit"] == 0 and train_job["spec"]["backoffLimit"] == 0
    assert load_job["metadata"]["labels"]["pipecanvas.io/attempt"] == "1"
    env = {e["name"]: e.get("value") for e in load_job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["PIPECANVAS_STEP_ATTEMPT"] == "1" and env["PIPECANVAS_RUN_ID"] == kube.run_id
    # the pods read the plan from the bucket: it was shipped before the first Job
    with fsspec.open(kube.plan.plan_uri, "r") as handle:
        assert "ExecutionPlan" in handle.read()


def test_independent_branches_run_on_the_cluster_at_once(kube, cluster, make_node, wait_for):
    kube.compile([make_node("load", "test.source"), make_node("left", "test.sleep"), make_node("right", "test.sleep")],
                 [("load", "left"), ("load", "right")])
    kube.start()
    kube.run_job("load")

    left, right = cluster.wait_for_job("left"), cluster.wait_for_job("right")
    left_pod, right_pod = cluster.create_pod(left), cluster.create_pod(right)
    cluster.run_pod(left_pod)
    cluster.run_pod(right_pod)
    kube.wait_for_state("left", "running")
    kube.wait_for_state("right", "running")
    for job, pod in ((left, left_pod), (right, right_pod)):
        kube.write_outputs(job)
        cluster.end_pod(pod)
        cluster.job_status(job, "Complete")

    assert kube.finish() == RunState.SUCCEEDED
    assert {kube.state(s) for s in ("load", "left", "right")} == {"succeeded"}


def test_a_failed_step_skips_what_depends_on_it(kube, cluster, make_node):
    kube.compile(_chain(make_node, "load", "train", "evaluate"), [("load", "train"), ("train", "evaluate")])
    kube.start()
    kube.run_job("load")
    kube.run_job("train", exit_code=1, log="Traceback …\nerror: node 'train' failed: RuntimeError: out of luck")

    assert kube.finish() == RunState.FAILED
    train = kube.store.step(kube.run_id, "train")
    assert (train.state.value, train.exit_code) == ("failed", 1)
    assert train.error == "node 'train' failed: RuntimeError: out of luck"  # the step's own words, from its log
    assert kube.state("evaluate") == "skipped"
    assert cluster.job("evaluate") is None


def test_a_failed_attempt_is_retried_as_a_new_job(kube, cluster, make_node):
    kube.compile(_chain(make_node, "load", "train", train={"retries": 1}), [("load", "train")])
    kube.start()
    kube.run_job("load")
    kube.run_job("train", attempt=1, exit_code=1, log="error: node 'train' failed: flaky")
    second = cluster.wait_for_job("train", attempt=2)
    kube.run_job("train", attempt=2)

    assert kube.finish() == RunState.SUCCEEDED
    first = cluster.job("train", attempt=1)
    assert first["metadata"]["name"] != second["metadata"]["name"]
    assert second["metadata"]["name"].endswith("-2")
    record = kube.store.step(kube.run_id, "train")
    assert (record.state.value, record.attempt) == ("succeeded", 2)
    assert [state for state, _ in kube.step_events("train")].count("retrying") == 1
    assert "--- attempt 1 of step 'train' ---" in kube.log("train") and "--- attempt 2 of step 'train' ---" in kube.log("train")


def test_an_input_error_is_not_retried(kube, cluster, make_node):
    kube.compile(_chain(make_node, "load", "train", train={"retries": 2}), [("load", "train")])
    kube.start()
    kube.run_job("load")
    kube.run_job("train", exit_code=3, log="error: node 'train': target column 'price' is not in the table")

    assert kube.finish() == RunState.FAILED
    assert cluster.job("train", attempt=2) is None
    assert kube.store.step(kube.run_id, "train").exit_code == 3


def test_logs_are_copied_into_the_step_log_while_the_pod_runs(kube, cluster, make_node, wait_for):
    kube.compile(_chain(make_node, "load"))
    kube.start()
    job = cluster.wait_for_job("load")
    pod = cluster.create_pod(job)
    cluster.run_pod(pod, log="reading data\nrow 1 of 3")
    wait_for(lambda: "row 1 of 3" in kube.log("load"), "the first lines in the step log")
    # the store hears of the start through the coordinator's next poll, the log file from the follower at once
    kube.wait_for_state("load", "running")
    assert kube.reported("load")[-1] == "running"  # and not over yet

    cluster.call(cluster.emulator.add_log("ml", pod, "row 2 of 3\nrow 3 of 3"))
    wait_for(lambda: "row 3 of 3" in kube.log("load"), "lines printed later")
    kube.write_outputs(job)
    cluster.end_pod(pod, log="done")
    cluster.job_status(job, "Complete")

    assert kube.finish() == RunState.SUCCEEDED
    lines = kube.log("load").splitlines()
    assert lines == ["--- attempt 1 of step 'load' ---", "reading data", "row 1 of 3",
                     "row 2 of 3", "row 3 of 3", "done"]


def test_an_oom_killed_container_is_explained_on_the_step(kube, cluster, make_node):
    kube.compile(_chain(make_node, "load"))
    kube.start()
    kube.run_job("load", exit_code=137, reason="OOMKilled", log="allocating")

    assert kube.finish() == RunState.FAILED
    record = kube.store.step(kube.run_id, "load")
    assert record.exit_code == 137 and record.signal == "SIGKILL"
    assert "container 'step' was OOMKilled (exit code 137)" in record.error


def test_the_step_error_comes_from_its_log_even_when_the_log_arrives_after_the_failure(kube, cluster, make_node):
    kube.compile(_chain(make_node, "load"))
    cluster.emulator.log_delay = 0.2  # the pod's and the Job's failure are seen before its last lines arrive
    kube.start()
    kube.run_job("load", exit_code=1, log="step 1\nstep 2\nerror: node 'load' failed: ValueError: bad row 7")

    assert kube.finish() == RunState.FAILED
    assert kube.store.step(kube.run_id, "load").error == "node 'load' failed: ValueError: bad row 7"


def test_a_pod_deleted_by_hand_does_not_run_the_step_twice(kube, cluster, make_node):
    kube.compile(_chain(make_node, "load", load={"retries": 1}))
    kube.start()
    first = cluster.wait_for_job("load")
    pod = cluster.create_pod(first)
    cluster.run_pod(pod, log="working")
    kube.wait_for_state("load", "running")
    # `kubectl delete pod`: the kubelet stops the container, the pod goes, and the Job's controller (its Job
    # has not failed: a deleted pod is not a failed one to it) makes a replacement that starts at once
    cluster.end_pod(pod, exit_code=143, log="terminated")
    cluster.core.delete_namespaced_pod(pod, "ml", _preload_content=False)
    cluster.run_pod(cluster.create_pod(first, suffix="x2"), log="the replacement")

    second = cluster.wait_for_job("load", attempt=2)

    requests = list(cluster.emulator)
    deleted = [i for i, r in enumerate(requests) if r.method == "DELETE" and r.name == first["metadata"]["name"]]
    created = [i for i, r in enumerate(requests) if r.method == "POST" and "/jobs" in str(r.url)
               and (r.data or {}).get("metadata", {}).get("name") == second["metadata"]["name"]]
    assert deleted and created and deleted[0] < created[0], "attempt 1's Job must go before attempt 2's is created"
    assert requests[deleted[0]].params.get("propagationPolicy") == "Background"  # its replacement pod goes with it
    assert cluster.job("load", attempt=1) is None
    kube.run_job("load", attempt=2)
    assert kube.finish() == RunState.SUCCEEDED
    assert kube.store.step(kube.run_id, "load").attempt == 2


def test_on_a_server_older_than_1_26_the_jobs_have_no_pod_failure_policy(kube, cluster, make_node):
    cluster.emulator.server_version = {"major": "1", "minor": "25", "gitVersion": "v1.25.16"}
    kube.compile(_chain(make_node, "load"))
    kube.start()
    job = cluster.wait_for_job("load")
    kube.run_job("load")

    assert kube.finish() == RunState.SUCCEEDED
    assert "podFailurePolicy" not in job["spec"] and job["spec"]["backoffLimit"] == 0
