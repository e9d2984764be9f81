"""Fixtures for the Kubernetes executor's tests: a fake cluster over real HTTP, and runs driven against it.

``cluster`` is an API server (``fake_cluster.ClusterEmulator``, built on kmock)
that the official client reaches over HTTP; the test plays kubelet and Job
controller through ``FakeCluster``. ``kube`` runs the real ``Coordinator`` with
the real ``KubernetesExecutor`` on a thread, writing to a run store under
``tmp_path``. Artifacts live in fsspec's in-memory filesystem (a "bucket"
``memory://…`` unique to each test), where a test writes a step's outputs as
its pod would, so the coordinator records them as on a real cluster.
"""

from __future__ import annotations

import secrets
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

try:
    from fake_cluster import FakeCluster, start_cluster, wait_until  # noqa: E402
except ImportError:  # kmock needs Python 3.11+ and the dev extras; without it, these tests cannot run
    collect_ignore_glob = ["test_k8s_*.py"]

from compiler.plan import ExecutionPlan, compile_plan  # noqa: E402
from nodes.catalog import default_catalog  # noqa: E402
from runtime.coordinator import Coordinator  # noqa: E402
from runtime.kubernetes.executor import KubernetesExecutor  # noqa: E402
from runtime.home import step_log_path  # noqa: E402
from runtime.kubernetes.types import KubernetesSettings  # noqa: E402
from runtime.run_store import NewStep, RunStore  # noqa: E402
from runtime.states import RunState  # noqa: E402

NAMESPACE = "ml"


@pytest.fixture
def cluster() -> Iterator[FakeCluster]:
    """The emulated API server. After each test: every request the code sent is one the RBAC table names."""
    fake, stop = start_cluster()
    yield fake
    stop()
    unlisted = sorted(set(fake.emulator.called) - _declared())
    assert not unlisted, (f"the code called {unlisted}, which runtime/kubernetes/permissions.py does not declare "
                          "(and so deploy/rbac.yaml may not grant)")


def _declared() -> set[tuple[str, str, str]]:
    from runtime.kubernetes.permissions import NOT_GRANTED, PERMISSIONS

    return {(verb, p.group, p.resource) for p in (*PERMISSIONS, *NOT_GRANTED) for verb in p.verbs}


class KubeRun:
    """One run of a small plan of test nodes: the coordinator and executor on a thread, the test as the cluster."""

    def __init__(self, cluster: FakeCluster, store: RunStore, home: Path, load_doc: Callable, pipeline_doc: Callable):
        self.cluster, self.store, self.home = cluster, store, home
        self._load_doc, self._pipeline_doc = load_doc, pipeline_doc
        self.run_id = f"t{secrets.token_hex(4)}"
        self.use_bucket(f"memory://k8s-tests/{self.run_id}")
        self.catalog = default_catalog()
        self.plan: ExecutionPlan | None = None
        self.executor: KubernetesExecutor | None = None
        self.coordinator: Coordinator | None = None
        self.result: dict[str, Any] = {}
        self.emitted: list = []  # every StepEvent the executors handed the coordinator, in order
        self._thread: threading.Thread | None = None

    def use_bucket(self, bucket: str, bucket_secret: str | None = None) -> None:
        """Keep the run's artifacts (and plan) under ``bucket`` (before ``compile``)."""
        self.settings = KubernetesSettings(namespace=NAMESPACE, bucket=bucket, bucket_secret=bucket_secret)
        self.options = self.settings.emit_options(self.run_id)

    def compile(self, nodes: list[dict[str, Any]], edges: list[tuple[str, str]] = ()) -> ExecutionPlan:
        """``edges`` as ("a", "b") pairs: each test node passes its ``count`` on."""
        wired = [(f"{a}.count", f"{b}.count") for a, b in edges]
        pipeline = self._load_doc(self._pipeline_doc(nodes, wired, name="demo")).pipeline
        self.plan = compile_plan(pipeline, self.catalog, self.options.artifact_root(self.run_id))
        steps = [NewStep(s.id, s.type, s.cache_key, s.params, s.image, {p: r.step for p, r in s.inputs.items()},
                         str(step_log_path(self.run_id, s.id, self.home))) for s in self.plan.steps]
        self.store.create_run(self.run_id, "demo", "", "", "kubernetes", steps,
                              {"kubernetes": self.settings.model_dump(exclude_none=True)})
        return self.plan

    def new_executor(self) -> KubernetesExecutor:
        return KubernetesExecutor(self.cluster.api_client(), NAMESPACE, self.options, self.plan, log_wait=5.0,
                                  retry_delay=0.05)

    def start(self, executor: KubernetesExecutor | None = None) -> None:
        """Run the coordinator (a fresh one, as a restarted runner would) on a thread."""
        self.executor = executor or self.new_executor()
        poll = self.executor.poll

        def recorded_poll() -> list:
            events = poll()
            self.emitted.extend(events)
            return events

        self.executor.poll = recorded_poll
        self.coordinator = Coordinator(self.store, self.run_id, self.plan, self.executor, self.catalog,
                                       max_parallel=8, use_cache=False, poll_interval=0.01)
        self.result = {}

        def run() -> None:
            try:
                self.result["state"] = self.coordinator.run()
            except BaseException as exc:  # noqa: BLE001  (a test may crash the runner on purpose)
                self.result["error"] = exc

        self._thread = threading.Thread(target=run, name="coordinator", daemon=True)
        self._thread.start()

    def finish(self, timeout: float = 30) -> RunState:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"the run did not end:\n{self.describe()}"
        if "error" in self.result:
            raise self.result["error"]
        return self.result["state"]

    def write_outputs(self, job: dict[str, Any]) -> None:
        """What the step's container would write: ``{"value": 1}`` on each of its outputs."""
        from nodes.artifact_io import write_artifact
        from nodes.artifacts import Metrics

        step = self.plan.step(job["metadata"]["annotations"]["pipecanvas.io/step-id"])
        for ref in step.outputs.values():
            write_artifact(ref.kind, Metrics({"value": 1}), ref.uri)

    def run_job(self, step_id: str, attempt: int = 1, **options: Any) -> str:
        """Wait for the step's Job, then play its whole attempt; returns the pod's name."""
        job = self.cluster.wait_for_job(step_id, attempt)
        return self.cluster.run_job(job, write_outputs=self.write_outputs, **options)

    def state(self, step_id: str) -> str:
        return self.store.step(self.run_id, step_id).state.value

    def wait_for_state(self, step_id: str, state: str, timeout: float = 20) -> None:
        wait_until(lambda: self.state(step_id) == state, timeout, f"step {step_id} to be {state}:\n{self.describe()}")

    def reported(self, step_id: str) -> list[str]:
        """The states the executors reported for a step (every attempt), in order."""
        return [event.state.value for event in self.emitted if event.key.step_id == step_id]

    def step_events(self, step_id: str) -> list[tuple[str, str | None]]:
        return [(e.state, e.detail) for e in self.store.events(self.run_id) if e.step_id == step_id]

    def log(self, step_id: str) -> str:
        return step_log_path(self.run_id, step_id, self.home).read_text()

    def describe(self) -> str:
        return "\n".join(f"{e.step_id or '<run>'}: {e.state} (attempt {e.attempt}) {e.detail or ''}"
                         for e in self.store.events(self.run_id))


@pytest.fixture
def kube(cluster: FakeCluster, store: RunStore, home: Path, load_doc: Callable, pipeline_doc: Callable) -> Iterator[KubeRun]:
    run = KubeRun(cluster, store, home, load_doc, pipeline_doc)
    yield run
    if run.coordinator is not None and run._thread is not None and run._thread.is_alive():
        run.coordinator.request_cancel()
        run._thread.join(10)
    if run.executor is not None:
        for watcher in run.executor.watchers:
            watcher.stop()


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    """``wait_for(predicate, what, timeout=20)`` → the predicate's first truthy value."""
    return lambda predicate, what, timeout=20: wait_until(predicate, timeout, what)
