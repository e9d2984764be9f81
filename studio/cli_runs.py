"""``pipecanvas run`` and the commands that watch and steer runs: runs, show, logs, cancel, resume,
endpoints, undeploy. They call ``runtime`` and read the run store; they never run a step themselves.

Each command imports ``runtime`` and rich in its body, so that ``pipecanvas --help``
and the commands of ``studio.cli`` do not load them (see ``studio.cli``'s docstring).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from .cli import _about, app, err, out

if TYPE_CHECKING:
    from runtime.run_store import RunStore

__all__: list[str] = []

_REFRESH = 0.25


def _watch(store: RunStore, run_id: str, as_json: bool) -> int:
    """Follow a run until it ends; Ctrl-C cancels it. Exit 0 only when it succeeded."""
    from rich.live import Live

    from runtime.run_summary import run_summary
    from runtime.runs import cancel_run

    from .run_view import metrics_table, steps_table

    try:
        if as_json:
            _wait(store, run_id)
        else:
            with Live(console=out.rich, refresh_per_second=8, transient=False) as live:
                while not _finished(store, run_id):
                    live.update(steps_table(store, run_id))
                    time.sleep(_REFRESH)
                live.update(steps_table(store, run_id))
    except KeyboardInterrupt:
        err.print(f"cancelling run {run_id}…")
        try:
            cancel_run(run_id, store=store)
        except Exception as exc:  # already ended, or lost
            err.print(str(exc))
        _wait(store, run_id)
    run = store.get_run(run_id)
    if as_json:
        out.json(run_summary(store, run_id))
    else:
        metrics = store.metrics(run_id)
        if metrics:
            out.print(metrics_table(metrics))
        out.print(f"run {run_id}: [bold]{run.state.value}[/bold]" + (f" — {run.error}" if run.error else ""))
    return 0 if run.state.value == "succeeded" else 1


def _finished(store: RunStore, run_id: str) -> bool:
    from runtime.runs import reap_lost

    reap_lost(store)
    return store.get_run(run_id).finished


def _wait(store: RunStore, run_id: str) -> None:
    while not _finished(store, run_id):
        time.sleep(_REFRESH)


def _cluster_settings(**given: Optional[str]) -> dict[str, str]:
    return {name: value for name, value in given.items() if value is not None}


def _start(file: Path, loaded, backend: str, cluster: dict[str, str], **options) -> str:
    """start_run, with a Kubernetes run's pre-flight findings, or what this machine lacks for a local run,
    printed (exit 2 when any is an error)."""
    from runtime.refusals import RunRefusedError  # MachineError or PreflightError, without loading the Kubernetes client
    from runtime.runs import start_run

    try:
        run_id = start_run(loaded.pipeline, backend=backend, kubernetes=cluster or None, **options)
    except RunRefusedError as exc:
        for diagnostic in sorted(exc.diagnostics, key=lambda d: d.severity != "error"):
            err.print(diagnostic.format(str(file)), style="red" if diagnostic.severity == "error" else "yellow",
                      markup=False, emoji=False, soft_wrap=True)
        raise typer.Exit(2) from None
    store = options["store"]
    for warning in store.get_run(run_id).options.get("preflight_warnings") or []:
        err.print(f"{file}: warning: {warning}", style="yellow", markup=False, emoji=False, soft_wrap=True)
    return run_id


@app.command("run")
def run_command(
    file: Path = typer.Argument(..., help="Pipeline YAML file."),
    backend: str = typer.Option("local", "--backend", help="Where steps run: local or kubernetes."),
    max_parallel: Optional[int] = typer.Option(None, "--max-parallel", min=1, help="Most steps at once (default: CPUs)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Run every step even if its inputs did not change."),
    detach: bool = typer.Option(False, "--detach", help="Start the run and return; it keeps going on its own."),
    as_json: bool = typer.Option(False, "--json", help="Print the final run record as JSON instead of the live table."),
    to: Optional[str] = typer.Option(None, "--to", metavar="NODE", help="Run only NODE and the nodes it depends on (unchanged ones come from the cache)."),
    context: Optional[str] = typer.Option(None, "--context", help="kubernetes: kubeconfig context (default: current)."),
    namespace: Optional[str] = typer.Option(None, "--namespace", help="kubernetes: namespace (default pipecanvas)."),
    pvc: Optional[str] = typer.Option(None, "--pvc", help="kubernetes: ReadWriteMany claim for the artifacts."),
    mount_path: Optional[str] = typer.Option(None, "--mount-path", help="kubernetes: where the claim is mounted in the pods and here (default /pipecanvas)."),
    bucket: Optional[str] = typer.Option(None, "--bucket", help="kubernetes: object-store root for the artifacts instead."),
    bucket_secret: Optional[str] = typer.Option(None, "--bucket-secret", help="kubernetes: Secret with the bucket's keys."),
    image_registry: Optional[str] = typer.Option(None, "--image-registry", help="kubernetes: registry for bare images."),
) -> None:
    """Run a pipeline and show its progress live."""
    from compiler import read_pipeline_file
    from runtime.run_store import open_store

    with _about(file):  # a file that cannot be read is reported as validate reports it: FILE:LINE: error
        loaded = read_pipeline_file(file)
    store = open_store()
    cluster = _cluster_settings(context=context, namespace=namespace, pvc=pvc, mount_path=mount_path, bucket=bucket,
                                bucket_secret=bucket_secret, image_registry=image_registry)
    with _about(file):  # a --to naming no node is reported against the file
        run_id = _start(file, loaded, backend, cluster, max_parallel=max_parallel, use_cache=not no_cache, store=store,
                        to=to)
    if detach:
        (out.json({"run_id": run_id}, indent=None) if as_json else out.say(f"started run {run_id}"))
        return
    if not as_json:
        out.print(f"run {run_id} ({loaded.pipeline.metadata.name}, backend {backend}) — Ctrl-C cancels")
    raise typer.Exit(_watch(store, run_id, as_json))


@app.command("resume")
def resume_command(
    run: str = typer.Argument(..., help="Run id (or a unique prefix)."),
    detach: bool = typer.Option(False, "--detach"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Re-run a run's failed, skipped and cancelled steps, reusing the ones that succeeded."""
    from runtime.run_store import open_store
    from runtime.runs import resume_run

    store = open_store()
    run_id = resume_run(run, store=store)
    if detach:
        out.say(f"resumed run {run_id}")
        return
    raise typer.Exit(_watch(store, run_id, as_json))


@app.command("runs")
def runs_command(limit: int = typer.Option(20, "--limit", "-n"), as_json: bool = typer.Option(False, "--json")) -> None:
    """List recent runs."""
    from runtime.run_store import open_store
    from runtime.run_summary import run_summary
    from runtime.runs import reap_lost

    from .run_view import runs_table

    store = open_store()
    reap_lost(store)
    runs = store.list_runs(limit=limit)
    if as_json:
        out.json([run_summary(store, r.id) for r in runs])
        return
    out.print(runs_table(store, runs))


@app.command("show")
def show_command(run: str = typer.Argument(...), as_json: bool = typer.Option(False, "--json")) -> None:
    """Show one run: its steps, why each ran, and its metrics."""
    from rich.console import Group

    from runtime.run_store import open_store
    from runtime.run_summary import run_summary
    from runtime.runs import find_run, reap_lost

    from .run_view import metrics_table, steps_table

    store = open_store()
    reap_lost(store)
    record = find_run(store, run)
    if as_json:
        out.json(run_summary(store, record.id))
        return
    out.print(Group(steps_table(store, record.id, reasons=True)))
    metrics = store.metrics(record.id)
    if metrics:
        out.print(metrics_table(metrics))
    if record.error:
        out.print(f"[red]{record.error}[/red]")


@app.command("logs")
def logs_command(
    run: str = typer.Argument(...),
    step: str = typer.Argument(...),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing while the step runs."),
) -> None:
    """Print a step's log (every attempt)."""
    from runtime.run_store import open_store
    from runtime.runs import find_run

    store = open_store()
    record = find_run(store, run)
    step_record = store.step(record.id, step)
    if step_record is None:
        names = ", ".join(s.step_id for s in store.steps(record.id))
        err.print(f"error: run {record.id} has no step '{step}'; its steps are: {names}")
        raise typer.Exit(2)
    path = Path(step_record.log_path)
    position = 0
    while True:
        if path.exists():
            with open(path, "rb") as handle:
                handle.seek(position)
                chunk = handle.read()
                position += len(chunk)
                sys.stdout.write(chunk.decode("utf-8", errors="replace"))
                sys.stdout.flush()
        if not follow or _step_done(store, record.id, step):
            if follow and path.exists() and path.stat().st_size > position:
                continue
            break
        time.sleep(_REFRESH)
    if not path.exists() and not follow:
        err.print(f"step '{step}' has no log yet (state: {step_record.state.value})")


def _step_done(store: RunStore, run_id: str, step_id: str) -> bool:
    from runtime.runs import reap_lost

    reap_lost(store)
    return store.get_run(run_id).finished or store.step(run_id, step_id).state.value in (
        "succeeded", "cached", "failed", "skipped", "cancelled")


@app.command("cancel")
def cancel_command(run: str = typer.Argument(...)) -> None:
    """Stop a run: its running steps are terminated and it is marked cancelled."""
    from runtime.run_store import open_store
    from runtime.runs import cancel_run

    store = open_store()
    record = cancel_run(run, store=store)
    deadline = time.monotonic() + 30
    while not store.get_run(record.id).finished and time.monotonic() < deadline:
        time.sleep(_REFRESH)
    out.print(f"run {record.id}: {store.get_run(record.id).state.value}")


@app.command("endpoints")
def endpoints_command(
    as_json: bool = typer.Option(False, "--json"), all_: bool = typer.Option(False, "--all"),
    context: Optional[str] = typer.Option(None, "--context", help="kubernetes: also list the servers on this cluster."),
    namespace: Optional[str] = typer.Option(None, "--namespace", help="kubernetes: … in this namespace."),
) -> None:
    """List deployed model endpoints (starting, running, crashed; --all adds stopped and failed ones;
    with --context/--namespace, also those found on the cluster by label)."""
    from runtime.endpoint_registry import refresh_endpoints
    from runtime.run_store import open_store

    from .run_view import endpoints_table

    store = open_store()
    endpoints = refresh_endpoints(store, include_stopped=all_)
    rows = [{"name": e.name, "url": e.url, "state": e.state, "pid": e.pid, "port": e.port, "run_id": e.run_id,
             "step_id": e.step_id, "log_path": e.log_path, "detail": e.detail} for e in endpoints]
    on_cluster = _cluster_endpoints(context, namespace, {e.name for e in endpoints if e.state == "running"})
    if as_json:
        out.json(rows + on_cluster)
        return
    out.print(endpoints_table(endpoints))
    for row in on_cluster:
        out.print(f"on the cluster, not in this run store: {row['name']} ({row['url']}, {row['state']})")


def _cluster_endpoints(context: Optional[str], namespace: Optional[str], known: set[str]) -> list[dict]:
    if context is None and namespace is None:
        return []
    from runtime.kubernetes.config import api_client
    from runtime.kubernetes.endpoints import cluster_endpoints
    from runtime.kubernetes.types import KubernetesSettings

    settings = KubernetesSettings.model_validate(_cluster_settings(context=context, namespace=namespace))
    found = cluster_endpoints(settings.namespace, api_client(settings.context))
    return [{"name": e["name"], "url": e["url"], "state": "running" if e["ready"] else "not ready", "pid": None,
             "run_id": e["run_id"]} for e in found if e["name"] not in known]


@app.command("undeploy")
def undeploy_command(
    name: str = typer.Argument(..., help="Endpoint name."),
    context: Optional[str] = typer.Option(None, "--context", help="kubernetes: find it on this cluster by label."),
    namespace: Optional[str] = typer.Option(None, "--namespace", help="kubernetes: … in this namespace."),
) -> None:
    """Stop a deployed endpoint or clear a crashed one (with --context/--namespace, also one the run store
    does not know)."""
    from runtime.endpoint_registry import undeploy
    from runtime.run_store import open_store

    cluster = _cluster_settings(context=context, namespace=namespace) if context or namespace else None
    undeploy(open_store(), name, kubernetes=cluster)
    out.print(f"endpoint '{name}' stopped")
