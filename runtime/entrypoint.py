"""The step entrypoint: ``python -m runtime.entrypoint --plan URI --step ID``.

Every backend starts exactly this, with argv only: a local subprocess now, a
Kubernetes pod later. It reads its step from the plan, loads the inputs, runs
the node, writes the outputs, and exits:

    0  the step succeeded and every output was written
    1  the step failed unexpectedly (the traceback is in the log); worth a retry
    3  the step's inputs or params do not fit its data (``NodeInputError``);
       retrying cannot help, so the coordinator does not

The last line of a failed step's output always starts with ``error:`` and is
what the CLI and the studio show on the node.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import traceback
from typing import Any

__all__ = ["main", "run_step", "warm_catalog", "cached_plan", "remember_plan", "remember_catalog", "EXIT_OK", "EXIT_FAILED",
           "EXIT_INPUT_ERROR", "ERROR_PREFIX", "WARNING_PREFIX"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INPUT_ERROR = 3
ERROR_PREFIX = "error: "
#: a succeeded step's warnings are repeated at the end of its log on lines that start with this (no timestamp),
#: so the studio finds them the way it finds an ``error:`` line
WARNING_PREFIX = "warning: "


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m runtime.entrypoint", description="Run one step of a plan.")
    parser.add_argument("--plan", required=True, help="URI of the plan (YAML).")
    parser.add_argument("--step", required=True, help="Id of the step to run.")
    return parser.parse_args(argv)


# What a process reads once and keeps; a forking parent's copies serve all its children.
_CATALOG: list[Any] = []  # the node catalog: empty until built or handed over
_PLANS: dict[str, Any] = {}  # plan URI → plan: a run's plan never changes once written


def warm_catalog():
    """The node catalog (``nodes.catalog.default_catalog``), built at most once per process."""
    if not _CATALOG:
        from nodes.catalog import default_catalog

        _CATALOG.append(default_catalog())
    return _CATALOG[0]


def remember_catalog(catalog: Any) -> None:
    """A default catalog this process built already (the run process has one), so that the steps it forks
    do not read every plug-in's entry point again."""
    _CATALOG[:] = [catalog]



def cached_plan(uri: str):
    """The plan at ``uri``, parsed at most once per process."""
    plan = _PLANS.get(uri)
    if plan is None:
        plan = _PLANS[uri] = _load_plan(uri)
    return plan


def remember_plan(uri: str, plan: Any) -> None:
    """A plan this process already holds (the run process reads it from the store), so that the steps it
    forks find it parsed instead of reading and parsing ``uri`` again."""
    _PLANS[uri] = plan


def _load_plan(uri: str):
    import fsspec

    from compiler.plan import load_plan_yaml
    from compiler.yaml_io import PLAN_LIMITS, read_capped

    # the plan is on a shared volume or bucket, so it is read as untrusted: never more than a plan may be
    return load_plan_yaml(read_capped(fsspec.open(uri, "rb").open(), PLAN_LIMITS.max_bytes))


class _EndpointLauncherOnDemand:
    """Builds the real launcher on first use: only deploy nodes start servers, and the local
    launcher's HTTP client would otherwise load into every step."""

    def __init__(self, plan: Any = None, step: Any = None) -> None:
        self._plan, self._step = plan, step

    def launch(self, name: str, model_uri: str, preprocessor_uri: str | None, port: int,
               ready_timeout: float | None = None):
        backend = os.environ.get("PIPECANVAS_ENDPOINTS", "local")
        if backend == "kubernetes" and self._step is not None:  # the step's pod applies the server's manifests
            from .kubernetes.endpoints import KubernetesEndpointLauncher

            return KubernetesEndpointLauncher(self._plan, self._step).launch(name, model_uri, preprocessor_uri, port)
        if backend != "local":
            from nodes.errors import NodeInputError

            raise NodeInputError(f"endpoints for the '{backend}' backend are started by its executor, not by this step")
        from .endpoints import LocalEndpointLauncher
        from .home import endpoints_dir
        from .run_store import open_store

        attempt = os.environ.get("PIPECANVAS_STEP_ATTEMPT", "")
        launcher = LocalEndpointLauncher(
            open_store(), endpoints_dir(), run_id=os.environ.get("PIPECANVAS_RUN_ID", "adhoc"),
            step_id=self._step.id if self._step is not None else "step",
            attempt=int(attempt) if attempt.isdigit() else None)
        return launcher.launch(name, model_uri, preprocessor_uri, port, ready_timeout=ready_timeout)


def _write_outputs(step: Any, outputs: dict[str, Any]) -> None:
    """Write each output to a temporary name, then move it into place, so a reader never sees half a file."""
    import fsspec

    from nodes.artifact_io import companion_uris, write_artifact
    from nodes.artifacts import ARTIFACT_TYPES

    missing = [port for port in step.outputs if port not in outputs]
    if missing:
        raise RuntimeError(f"the node returned no output for {', '.join(missing)}")
    for port, ref in step.outputs.items():
        value = outputs[port]
        if not isinstance(value, ARTIFACT_TYPES[ref.kind]):
            raise RuntimeError(f"output '{port}' should be a {ref.kind}, the node returned {type(value).__name__}")
        partial = f"{ref.uri}.partial-{os.getpid()}"
        fs, path = fsspec.core.url_to_fs(partial)
        companions = list(zip(companion_uris(ref.kind, partial), companion_uris(ref.kind, ref.uri)))
        try:
            write_artifact(ref.kind, value, partial)
            for companion, final in companions:  # a model's details file moves in with it
                fs.mv(fsspec.core.url_to_fs(companion)[1], fsspec.core.url_to_fs(final)[1])
            fs.mv(path, fsspec.core.url_to_fs(ref.uri)[1])
        except BaseException as exc:
            for companion, _final in companions:
                _remove_quietly(fs, fsspec.core.url_to_fs(companion)[1])
            _remove_quietly(fs, path)  # frees the space, too: the error line below must still fit in the log
            if _disk_full(exc):
                from .home import HomeError, disk_full_message

                raise HomeError(disk_full_message(ref.uri)) from None
            raise


def _remove_quietly(fs: Any, path: str) -> None:
    try:
        fs.rm(path)
    except (OSError, FileNotFoundError):
        pass


def _disk_full(exc: BaseException) -> bool:
    """An error that means no space was left, however the writing library wrapped it."""
    from .home import DISK_FULL_ERRNOS

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
            return True
        if "no space left on device" in str(exc).lower() or "disk quota exceeded" in str(exc).lower():
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def run_step(plan_uri: str, step_id: str, log: logging.Logger) -> None:
    from nodes.artifact_io import read_artifact
    from nodes.context import RunContext
    from nodes.errors import NodeInputError

    plan = cached_plan(plan_uri)
    step = plan.step(step_id)
    node_type = warm_catalog().get(step.type)
    if node_type is None:
        raise NodeInputError(f"node type '{step.type}' is not installed where this step runs")
    params = node_type.Params.model_validate(step.params)
    started = time.perf_counter()
    inputs: dict[str, Any] = {port: read_artifact(ref.kind, ref.uri) for port, ref in step.inputs.items()}
    inputs.update({port: [read_artifact(ref.kind, ref.uri) for ref in refs] for port, refs in step.input_lists.items()})
    context = RunContext(
        run_id=os.environ.get("PIPECANVAS_RUN_ID", "adhoc"),
        step_id=step_id,
        input_uris={port: ref.uri for port, ref in step.inputs.items()},
        input_sources={port: [f"{ref.step}.{ref.port}" for ref in refs] for port, refs in step.input_lists.items()},
        cpus=min(step.resources.cpu_cores(), os.cpu_count() or 1),
        endpoints=_EndpointLauncherOnDemand(plan, step),
        logger=log,
    )
    try:
        outputs = node_type().run(inputs, params, context)
    finally:
        context.remove_scratch()
    _write_outputs(step, outputs)
    for warning in context.warnings:
        print(f"{WARNING_PREFIX}node '{step_id}': {warning}", file=sys.stderr, flush=True)
    log.info("step '%s' (%s) finished in %.2fs; wrote %s", step_id, step.type, time.perf_counter() - started,
             ", ".join(step.outputs) or "nothing")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr,
                        force=True)
    log = logging.getLogger(f"pipecanvas.step.{args.step}")
    from nodes.errors import NodeInputError, PipecanvasError

    try:
        run_step(args.plan, args.step, log)
    except (NodeInputError, PipecanvasError) as exc:
        print(f"{ERROR_PREFIX}node '{args.step}': {exc}", file=sys.stderr, flush=True)
        return EXIT_INPUT_ERROR if isinstance(exc, NodeInputError) else EXIT_FAILED
    except Exception as exc:
        if _disk_full(exc):  # e.g. the node's own files: one line, no traceback that would not fit anyway
            from .home import disk_full_message

            where = getattr(exc, "filename", None) or os.environ.get("PIPECANVAS_HOME") or "the step's output folder"
            print(f"{ERROR_PREFIX}node '{args.step}': {disk_full_message(where)}", file=sys.stderr, flush=True)
            return EXIT_FAILED
        traceback.print_exc()
        print(f"{ERROR_PREFIX}node '{args.step}' failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
