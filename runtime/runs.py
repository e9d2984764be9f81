"""Start, resume, cancel and watch runs: the runtime's API for the CLI and the studio.

A run is always its own process (``runtime.run_process``, forked from the caller or a
fresh interpreter: see ``run_launch``), in its own session, so it outlives the shell or
studio that started it; callers only write the run's first row and read the store afterwards.
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from pathlib import Path

from compiler.plan import ExecutionPlan, compile_plan, dump_plan_yaml
from compiler.slicing import upstream_slice
from compiler.spec import Pipeline
from compiler.yaml_io import dump_pipeline
from nodes.catalog import Catalog, default_catalog
from nodes.errors import PipecanvasError

from .machine import refuse_what_this_machine_lacks
from .home import HomeError, home_problem, pipecanvas_home, run_dir, step_log_path
from .processes import process_alive
from .run_launch import launch_run_process
from .run_store import NewStep, RunRecord, RunStore, open_store
from .states import FINISHED_RUN_STATES, RunState

__all__ = ["RunError", "BACKENDS", "start_run", "resume_run", "cancel_run", "find_run", "reap_lost", "wait_for_run"]

BACKENDS = ("local", "kubernetes")
_STALE_SECONDS = 60.0


class RunError(PipecanvasError):
    """A run cannot be started, found, resumed or cancelled as asked."""


def _new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def start_run(
    pipeline: Pipeline, *, backend: str = "local", max_parallel: int | None = None, use_cache: bool = True,
    catalog: Catalog | None = None, store: RunStore | None = None, home: Path | None = None,
    kubernetes: dict | None = None, to: str | None = None,
) -> str:
    """Compile ``pipeline``, record the run, and start its process. Returns the run id at once.

    ``kubernetes`` holds the cluster settings (``runtime.kubernetes.types.KubernetesSettings``) of a
    ``backend="kubernetes"`` run, which is pre-flighted first (``kubernetes.preflight.PreflightError``).
    ``to`` runs only that node and what it depends on ("Run to here"; ``compiler.slicing``): the run
    records that slice, and its unchanged steps come from the cache as in a whole run. A local run whose
    nodes need what this machine lacks (``runtime.machine``) is refused with ``MachineError`` first.
    """
    if backend not in BACKENDS:
        raise RunError(f"unknown backend '{backend}'; available: {', '.join(BACKENDS)}")
    if kubernetes and backend != "kubernetes":
        raise RunError("cluster settings (context, namespace, storage…) only apply with backend 'kubernetes'")
    default = catalog is None  # only the default catalog may stand in for the one each step builds
    catalog = catalog or default_catalog()
    if to is not None:
        pipeline = upstream_slice(pipeline, to)
    if backend == "local":
        refuse_what_this_machine_lacks(pipeline, catalog)
    home = home or pipecanvas_home()
    store = store or open_store(home)
    run_id = _new_run_id()
    extra: dict = {"to": to} if to is not None else {}
    if backend == "kubernetes":  # artifacts on the cluster's storage; the executor ships the plan to the pods
        from .kubernetes.runs import prepare_kubernetes_run

        prepared = prepare_kubernetes_run(pipeline, catalog, run_id, kubernetes or {})
        plan = prepared.plan
        extra |= {"kubernetes": prepared.settings.model_dump(exclude_none=True),
                 "preflight_warnings": [warning.message for warning in prepared.warnings]}
    else:
        artifact_root = str(run_dir(run_id, home) / "artifacts")
        plan = compile_plan(pipeline, catalog, artifact_root, fingerprint_sources=True)
    plan_yaml = dump_plan_yaml(plan)
    if backend == "local":  # the plan lies in this machine's home, a plain path: no fsspec (40 ms) before the fork
        plan_file = Path(plan.plan_uri)
        try:
            plan_file.parent.mkdir(parents=True, exist_ok=True)
            plan_file.write_text(plan_yaml, encoding="utf-8")
        except OSError as exc:  # a full disk or a read-only home: say which, naming the place
            raise HomeError(home_problem(plan_file, exc)) from None
    parallel = max_parallel or (len(plan.steps) if backend == "kubernetes" else os.cpu_count()) or 1
    options = {"max_parallel": parallel, "use_cache": use_cache, **extra}
    store.create_run(run_id, plan.pipeline, dump_pipeline(pipeline), plan_yaml, backend, _new_steps(plan, run_id, home),
                     options)
    try:
        pid = launch_run_process(run_id, home, plan=plan, catalog=catalog if default else None)
    except HomeError as exc:  # recorded, so the run does not wait in the queue until it is reaped as lost
        store.set_run_state(run_id, RunState.FAILED, error=str(exc))
        raise
    store.set_run_pid(run_id, pid)
    return run_id


def _new_steps(plan: ExecutionPlan, run_id: str, home: Path) -> list[NewStep]:
    return [
        NewStep(step.id, step.type, step.cache_key, step.params, step.image,
                {port: ref.step for port, ref in step.inputs.items()}, str(step_log_path(run_id, step.id, home)))
        for step in plan.steps
    ]


def find_run(store: RunStore, run_id_or_prefix: str) -> RunRecord:
    """A run by id or unique id prefix (like git commits)."""
    matches = store.find_run_ids(run_id_or_prefix)
    if not matches:
        raise RunError(f"no run '{run_id_or_prefix}'; `pipecanvas runs` lists them")
    if len(matches) > 1 and run_id_or_prefix not in matches:
        raise RunError(f"'{run_id_or_prefix}' matches {len(matches)} runs ({', '.join(matches[:3])}, …); type more of the id")
    return store.get_run(run_id_or_prefix if run_id_or_prefix in matches else matches[0])


def resume_run(run_id: str, *, store: RunStore | None = None, home: Path | None = None) -> str:
    """Re-run a finished run's failed, skipped and cancelled steps; reuse its successful ones."""
    home = home or pipecanvas_home()
    store = store or open_store(home)
    reap_lost(store)
    run = find_run(store, run_id)
    if not run.finished:
        raise RunError(f"run {run.id} is still {run.state}; cancel it first or wait for it to end")
    if run.state == RunState.SUCCEEDED:
        raise RunError(f"run {run.id} already succeeded; there is nothing to resume")
    if not store.requeue_run(run.id):
        raise RunError(f"run {run.id} is being resumed already")
    store.set_run_pid(run.id, launch_run_process(run.id, home, resume=True))
    return run.id


def cancel_run(run_id: str, *, store: RunStore | None = None) -> RunRecord:
    """Ask a run's process to stop its steps and mark itself cancelled."""
    store = store or open_store()
    reap_lost(store)
    run = _started(store, find_run(store, run_id))
    if run.finished:
        raise RunError(f"run {run.id} already ended ({run.state})")
    if run.pid is None or not process_alive(run.pid):
        store.mark_lost(run.id, "its process was gone when asked to cancel")
        return store.get_run(run.id)
    os.kill(run.pid, signal.SIGTERM)
    return run


def _started(store: RunStore, run: RunRecord) -> RunRecord:
    """A run process takes SIGTERM as "cancel" once it has marked its run running; until then, wait for it."""
    deadline = time.monotonic() + 30
    while run.state == RunState.QUEUED and process_alive(run.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
        run = store.get_run(run.id)
    return run


def reap_lost(store: RunStore, stale_seconds: float = _STALE_SECONDS) -> list[str]:
    """Mark runs whose process died without finishing as ``lost`` (they can be resumed)."""
    lost = []
    now = time.time()
    this_host = os.uname().nodename
    for run in store.list_runs(limit=200):
        if run.state in FINISHED_RUN_STATES:
            continue
        if run.pid is not None and run.host == this_host:
            dead = not process_alive(run.pid)  # authoritative here: a busy run may miss heartbeats
        else:
            dead = now - (run.heartbeat_at or run.created_at) > stale_seconds
        if dead:
            store.mark_lost(run.id, _lost_reason(store, run.id))
            lost.append(run.id)
    return lost


def _lost_reason(store: RunStore, run_id: str) -> str:
    """Why a run process stopped, in its own words when its log says (a full disk, a store locked too long)."""
    from .artifacts import last_error_line

    said = last_error_line(run_dir(run_id, store.path.parent) / "run.log")
    if said:
        return f"the run process stopped without finishing: {said}"
    return "the run process stopped without finishing (killed or crashed)"


def wait_for_run(store: RunStore, run_id: str, timeout: float | None = None, interval: float = 0.2) -> RunRecord:
    """Block until the run ends (or ``timeout`` seconds pass); return its record."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        run = store.get_run(run_id)
        if run is None:
            raise RunError(f"no run '{run_id}'")
        if run.finished:
            return run
        if deadline is not None and time.monotonic() > deadline:
            return run
        reap_lost(store)
        time.sleep(interval)
