"""The run process: ``python -m runtime.run_process RUN_ID [--resume]``.

Started (detached) by ``runtime.runs``; it loads the run's plan from the store,
picks the executor for the run's backend, and runs the coordinator. SIGTERM or
SIGINT cancel the run: running steps are terminated and it is marked cancelled.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from compiler.plan import ExecutionPlan, load_plan_yaml
from nodes.catalog import Catalog, default_catalog

from .coordinator import Coordinator
from .executors.local import LocalExecutor
from .home import HomeError
from .run_store import open_store
from .states import RunState

__all__ = ["main"]


def _warm_imports(plan, catalog) -> tuple[str, ...]:
    """Every module the plan's node types import, in the plan's order (see ``NodeType.modules_to_warm``)."""
    modules: list[str] = []
    for step in plan.steps:
        node_type = catalog.get(step.type)
        if node_type is not None:
            modules.extend(node_type.modules_to_warm())
    return tuple(dict.fromkeys(modules))


def _executor(backend: str, plan, catalog, run=None):
    if backend == "local":
        return LocalExecutor(warm_imports=_warm_imports(plan, catalog), plan=plan, catalog=catalog)
    if backend == "kubernetes":  # the cluster settings travel in the run's options (see runtime.runs.start_run)
        from .kubernetes.executor import KubernetesExecutor

        return KubernetesExecutor.from_run(run.id, plan, run.options.get("kubernetes") or {})
    raise SystemExit(f"unknown backend '{backend}'")


def main(argv: list[str] | None = None, *, plan: ExecutionPlan | None = None, catalog: Catalog | None = None) -> int:
    """``plan`` and ``catalog``: the run's compiled plan and the default catalog, when the caller that
    forked this process (``run_launch``) holds them; otherwise both are loaded here."""
    parser = argparse.ArgumentParser(prog="python -m runtime.run_process")
    parser.add_argument("run_id")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    # force: a run process forked from its caller (see run_launch) drops the caller's handlers
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", force=True)
    try:
        return _run(args, plan, catalog)
    except HomeError as exc:  # the home or its store cannot be written (full, read-only, locked): one line, no traceback
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1


def _run(args: argparse.Namespace, plan: ExecutionPlan | None, catalog: Catalog | None) -> int:
    store = open_store()
    run = store.get_run(args.run_id)
    if run is None:
        print(f"error: no run '{args.run_id}'", file=sys.stderr)
        return 2
    plan, catalog = plan or load_plan_yaml(run.plan_yaml), catalog or default_catalog()
    coordinator = Coordinator(
        store, run.id, plan, _executor(run.backend, plan, catalog, run), catalog,
        max_parallel=int(run.options.get("max_parallel", 1)), use_cache=bool(run.options.get("use_cache", True)),
    )
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: coordinator.request_cancel())
    final = coordinator.run()
    logging.info("run %s %s", run.id, final)
    return 0 if final == RunState.SUCCEEDED else 1


if __name__ == "__main__":
    sys.exit(main())
