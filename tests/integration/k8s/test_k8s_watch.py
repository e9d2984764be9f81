"""Watching a run's Jobs and Pods: waits explained, dropped watches, 410 Gone, cancelling, a restarted runner.

Each step state must reach the coordinator exactly once, however often the
watchers see the objects again (a resumed watch, a re-list); ``kube.reported``
is every event the executor handed over, before the coordinator's filtering.
"""

from __future__ import annotations

import pytest

from runtime.states import RunState

GPU_MESSAGE = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available."


def _source(make_node, node_id: str = "load", **fields):
    return make_node(node_id, "test.source", **fields)


def test_a_pending_gpu_pod_is_explained_in_words(kube, cluster, make_node, wait_for):
    kube.compile([_source(make_node, "train", resources={"gpu": 1})])
    kube.start()
    job = cluster.wait_for_job("train")
    limits = job["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits["nvidia.com/gpu"] == "1"
    pod = cluster.create_pod(job)
    cluster.unschedulable(pod, GPU_MESSAGE)

    note = ("queued", f"Pending: {GPU_MESSAGE}")
    wait_for(lambda: note in kube.step_events("train"), "the scheduler's words on the step")
    assert kube.state("train") == "queued"  # waiting, not running

    kube.write_outputs(job)
    cluster.run_pod(pod)
    cluster.end_pod(pod)
    cluster.job_status(job, "Complete")
    assert kube.finish() == RunState.SUCCEEDED
    assert kube.reported("train") == ["queued", "running", "succeeded"]


def test_cancel_deletes_the_running_jobs_with_background_propagation(kube, cluster, make_node):
    kube.compile([_source(make_node, "load"), _source(make_node, "other")])
    kube.start()
    jobs = [cluster.wait_for_job("load"), cluster.wait_for_job("other")]
    for job in jobs:
        cluster.run_pod(cluster.create_pod(job), log="working")
    kube.wait_for_state("load", "running")
    kube.wait_for_state("other", "running")

    kube.coordinator.request_cancel()

    assert kube.finish() == RunState.CANCELLED
    deletes = sorted((r.name, r.params.get("propagationPolicy")) for r in cluster.requests("DELETE", "/jobs/"))
    assert deletes == sorted((job["metadata"]["name"], "Background") for job in jobs)
    assert cluster.job_names() == []
    assert kube.state("load") == kube.state("other") == "cancelled"


def test_a_step_past_its_timeout_has_its_job_deleted(kube, cluster, make_node):
    kube.compile([_source(make_node, "load", timeout="1s")])
    kube.start()
    job = cluster.wait_for_job("load")
    assert job["spec"]["activeDeadlineSeconds"] == 1  # the cluster enforces it too, runner or not
    cluster.run_pod(cluster.create_pod(job))

    assert kube.finish() == RunState.FAILED
    record = kube.store.step(kube.run_id, "load")
    assert record.error == "timed out after 1s"
    assert [r.params.get("propagationPolicy") for r in cluster.requests("DELETE", "/jobs/")] == ["Background"]


def test_a_job_deleted_by_someone_else_fails_its_step(kube, cluster, make_node):
    kube.compile([_source(make_node, "load")])
    kube.start()
    job = cluster.wait_for_job("load")
    cluster.batch.delete_namespaced_job(job["metadata"]["name"], "ml", _preload_content=False)

    assert kube.finish() == RunState.FAILED
    assert kube.store.step(kube.run_id, "load").error == "its Job was deleted before it finished"


def test_a_dropped_watch_resumes_from_its_resource_version(kube, cluster, make_node):
    kube.compile([_source(make_node, "load")])
    kube.start()
    job = cluster.wait_for_job("load")
    pod = cluster.create_pod(job)
    cluster.run_pod(pod, log="working")
    kube.wait_for_state("load", "running")
    seen = len(cluster.requests("GET", "watch=true"))

    cluster.hold_watches()
    cluster.drop_watches()
    version_at_drop = cluster.emulator.clock.version
    kube.write_outputs(job)  # while nobody watches, the step finishes
    cluster.end_pod(pod, log="done")
    cluster.job_status(job, "Complete")
    cluster.release_watches()

    assert kube.finish() == RunState.SUCCEEDED
    resumed = cluster.requests("GET", "watch=true")[seen:]
    assert {r.resource.plural for r in resumed} >= {"jobs", "pods"}
    assert all(0 < int(r.params["resourceVersion"]) <= version_at_drop for r in resumed)
    assert [watcher.lists for watcher in kube.executor.watchers] == [1, 1]  # resumed, never re-listed
    assert kube.reported("load") == ["running", "succeeded"]


def test_410_gone_relists_without_missing_or_repeating_a_transition(kube, cluster, make_node):
    kube.compile([_source(make_node, "left"), _source(make_node, "right")])
    kube.start()
    kube.run_job("left")  # finished and reported before the gap: the re-list shows it again
    kube.wait_for_state("left", "succeeded")
    right = cluster.wait_for_job("right")
    pod = cluster.create_pod(right)
    cluster.run_pod(pod)
    kube.wait_for_state("right", "running")

    cluster.hold_watches()
    cluster.drop_watches()
    kube.write_outputs(right)  # finishes unseen; then the history it would resume from is compacted away
    cluster.end_pod(pod)
    cluster.job_status(right, "Complete")
    cluster.compact()
    cluster.release_watches()

    assert kube.finish() == RunState.SUCCEEDED
    assert [watcher.lists for watcher in kube.executor.watchers] == [2, 2]  # one re-list each, after the 410
    assert kube.reported("left") == ["running", "succeeded"]
    assert kube.reported("right") == ["running", "succeeded"]


def test_a_restarted_runner_reattaches_to_its_jobs_instead_of_submitting_again(kube, cluster, make_node, wait_for):
    kube.compile([_source(make_node, "load"), _source(make_node, "train")])
    first = kube.new_executor()

    def die(wait: bool = True) -> None:  # a killed runner cleans nothing up: its Jobs keep running
        for watcher in first.watchers:
            watcher.stop()
        for attempt in first._attempts.values():
            for follower in attempt.followers.values():
                follower.stop()

    first.close = die
    kube.start(first)
    job = cluster.wait_for_job("load")
    cluster.wait_for_job("train")
    pod = cluster.create_pod(job)
    cluster.run_pod(pod, log="before the restart")
    kube.wait_for_state("load", "running")
    wait_for(lambda: "before the restart" in kube.log("load"), "the log so far")

    class Killed(BaseException):
        pass

    def killed() -> list:
        raise Killed()

    first.poll = killed
    with pytest.raises(Killed):
        kube.finish()
    created = len(cluster.requests("POST", "/jobs"))
    assert kube.store.requeue_run(kube.run_id)  # what `pipecanvas resume` does after the run was found lost

    kube.start()
    kube.wait_for_state("load", "running")
    kube.write_outputs(job)
    cluster.end_pod(pod, log="after the restart")
    cluster.job_status(job, "Complete")
    kube.run_job("train")

    assert kube.finish() == RunState.SUCCEEDED
    assert len(cluster.requests("POST", "/jobs")) == created, "no Job may be submitted twice"
    assert kube.store.step(kube.run_id, "load").attempt == 1
    log = kube.log("load")
    assert "re-attached to attempt 1" in log and log.rstrip().endswith("after the restart")


def test_an_api_server_outage_is_logged_once_then_now_and_then_not_on_every_retry(caplog):
    import logging
    import time

    import urllib3

    from runtime.kubernetes.outage import RetryNotes
    from runtime.kubernetes.watcher import ResourceWatcher

    calls = []

    def unreachable(*args, **kwargs):
        calls.append(time.monotonic())
        raise urllib3.exceptions.MaxRetryError(None, "/apis/batch/v1/namespaces/ml/jobs", "Connection refused")

    watcher = ResourceWatcher("job", unreachable, "ml", "pipecanvas.io/run=r", lambda update: None, retry_delay=0.01)
    with caplog.at_level(logging.INFO, logger="runtime.kubernetes.watcher"):
        watcher.start()
        time.sleep(0.5)
        watcher.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "runtime.kubernetes.watcher"]
    assert len(calls) >= 10  # it kept retrying at its pace
    assert len(lines) == 1 and lines[0].startswith("watch of jobs failed (MaxRetryError")

    clock = [0.0]
    notes = RetryNotes(logging.getLogger("outage-test"), "watch of pods", every=30, clock=lambda: clock[0])
    with caplog.at_level(logging.INFO, logger="outage-test"):
        for _ in range(150):  # 75 s of retries every 0.5 s
            notes.failed("connection refused")
            clock[0] += 0.5
        notes.recovered()
    said = [r.getMessage() for r in caplog.records if r.name == "outage-test"]
    assert len(said) == 4  # the first failure, two "still failing" lines, and "works again"
    assert said[1].startswith("watch of pods still failing after 30s (60 retries since the last line")
    assert said[-1] == "watch of pods works again after 75s"
