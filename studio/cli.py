"""The ``pipecanvas`` command line.

Exit codes: 0 success, 2 the pipeline (or another input) is invalid, 1 an
unexpected failure. A user never sees a traceback: expected errors print as
located one-liners, unexpected ones print a short message and the log file that
holds the traceback.

This module and ``studio.cli_runs`` import only typer at the top; each command
imports what it uses in its body, so ``--help`` costs little more than the
interpreter. What is imported when, and why, is written once, in README.md
("What is imported when").
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Optional

import typer

from .cli_output import Output

if TYPE_CHECKING:
    from compiler.diagnostics import Diagnostic
    from compiler.plan import ExecutionPlan
    from compiler.yaml_io import LoadedPipeline

__all__ = ["app", "main"]

app = typer.Typer(
    name="pipecanvas",
    help="Build, check and run visual AI pipelines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # click's plain help and usage errors: typer's rich ones import rich and markdown-it (~0.1 s) for every --help
    rich_markup_mode=None,
)
out = Output()
err = Output(stderr=True)

EXIT_INVALID = 2


def _say(console: Output, text: str, style: str | None = None) -> None:
    """Print user-supplied text as is: no markup or emoji codes, one line per message however long."""
    console.say(text, style)


def _print_diagnostics(diagnostics: list[Diagnostic], source: str) -> None:
    for diagnostic in sorted(diagnostics, key=lambda d: (d.severity != "error", d.line or 0)):
        _say(err, diagnostic.format(source), "red" if diagnostic.severity == "error" else "yellow")


@contextmanager
def _collect_rarely() -> Iterator[None]:
    """Run the garbage collector rarely while a command reads, checks and compiles a file.

    Reading a 1000-node pipeline makes some 10^5 short-lived objects (YAML nodes, dicts, models) that all
    die when the command ends, and almost none are cycles. Python's default, a collection after every 700
    new objects, ran the collector hundreds of times for nothing: 0.1 s of a 0.5 s compile. mypy raises
    the threshold for the same reason; at 200,000 a 1000-node compile is never collected. Not used by
    ``run``, which forks the run process from this one: that process and its steps keep Python's settings.

    In the console script (``entrypoint``) the process ends with the command, and these commands hold
    nothing that must be closed (no run store, no server). So their objects are then frozen (``gc.freeze``)
    instead of collected: otherwise the first allocation after the threshold is restored collects them all
    (3 ms), and Python's passes over every live object at exit take another 30 ms of a 0.26 s compile, to
    free memory the operating system takes back anyway. Frozen objects are not finalized if they are on a
    reference cycle, which is why a command with a SQLite connection to close must not come here.
    """
    before = gc.get_threshold()
    gc.set_threshold(200_000, 20, 100)
    try:
        yield
    finally:
        if _process_ends_with_the_command:
            gc.freeze()
        gc.set_threshold(*before)


#: set by ``entrypoint``: this process is the console script, and exits when the command returns
_process_ends_with_the_command = False


@contextmanager
def _about(file: Path) -> Iterator[None]:
    """A SpecError raised inside remembers which file it is about, so main() prints ``FILE:LINE:``."""
    from compiler import SpecError

    try:
        yield
    except SpecError as exc:
        exc.source = str(file)
        raise


@app.command("nodes")
def nodes_command(as_json: bool = typer.Option(False, "--json", help="Print the whole catalog as JSON.")) -> None:
    """List the node types you can use, by category."""
    from rich.table import Table as RichTable

    from nodes import default_catalog

    catalog = default_catalog()
    if as_json:
        out.json(catalog.describe())
        return
    table = RichTable("type", "title", "inputs", "outputs", "resources", title="pipecanvas node catalog")
    for node_type in catalog:
        ins = ", ".join(f"{p.name}:{p.kind}{'' if p.required else '?'}" for p in node_type.inputs) or "—"
        outs = ", ".join(f"{p.name}:{p.kind}" for p in node_type.outputs)
        res = ", ".join(f"{k}={v}" for k, v in node_type.resources.model_dump(exclude_none=True).items())
        table.add_row(node_type.type_id, node_type.title, ins, outs, res)
    out.print(table)
    for problem in catalog.problems:
        _say(err, f"warning: {problem}", "yellow")


@app.command("validate")
def validate_command(
    file: Path = typer.Argument(..., help="Pipeline YAML file."),
    backend: Literal["local", "kubernetes"] = typer.Option(
        "local", "--backend", help="Where it will run: 'local' also checks this machine (packages, GPUs); "
                                   "'kubernetes' leaves that to the cluster."),
) -> None:
    """Check a pipeline file. Exit 0 when valid (warnings printed), 2 when not."""
    from compiler import errors_only

    with _collect_rarely():
        diagnostics, loaded = _validate_file(file, backend)
    _print_diagnostics(diagnostics, str(file))
    errors = errors_only(diagnostics)
    if errors:
        _say(err, f"{file}: {len(errors)} error(s)")
        raise typer.Exit(EXIT_INVALID)
    _say(out, f"{file}: valid ({len(loaded.pipeline.spec.nodes)} nodes, {len(diagnostics)} warning(s))")


def _validate_file(file: Path, backend: str) -> tuple[list[Diagnostic], LoadedPipeline]:
    """``validate``'s checks: the file's, then (data read only when it is valid) the data's, then this machine's."""
    from compiler import read_pipeline_file, validate_pipeline
    from nodes import default_catalog

    with _about(file):
        loaded = read_pipeline_file(file)
    catalog = default_catalog()  # built once: each build scans the plug-ins again
    diagnostics = validate_pipeline(loaded.pipeline, catalog, loaded.source_map)
    diagnostics += _data_findings(loaded, diagnostics, catalog)
    if backend == "local":
        from runtime.machine import check_machine

        diagnostics += check_machine(loaded.pipeline, catalog, loaded.source_map)
    return diagnostics, loaded


def _data_findings(loaded, diagnostics: list[Diagnostic], catalog) -> list[Diagnostic]:
    """The data's own checks (``compiler.data_checks``) when the file itself is valid, kept in
    ``$PIPECANVAS_HOME/cache/data-findings`` so that unchanged data is not read again."""
    from compiler import errors_only

    if errors_only(diagnostics):
        return []
    from compiler.data_checks import check_data
    from compiler.data_findings_store import check_data_stored
    from runtime.home import HomeError, data_findings_dir

    try:
        folder = data_findings_dir()
    except HomeError:  # no usable home: check without keeping the findings
        return check_data(loaded.pipeline, catalog, loaded.source_map)
    return check_data_stored(loaded.pipeline, catalog, loaded.source_map, folder)


@app.command("compile")
def compile_command(
    file: Path = typer.Argument(..., help="Pipeline YAML file."),
    target: str = typer.Option("plan", "--target", "-t", help="What to produce: 'plan' or 'kubernetes'."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Where to write it (default: print)."),
    artifact_root: Optional[str] = typer.Option(None, "--artifact-root", help="Where step outputs will be written (path or URI)."),
    namespace: str = typer.Option("pipecanvas", "--namespace", help="kubernetes: namespace of every object."),
    pvc: Optional[str] = typer.Option(None, "--pvc", help="kubernetes: ReadWriteMany claim for artifacts (default pipecanvas-artifacts)."),
    mount_path: str = typer.Option("/pipecanvas", "--mount-path", help="kubernetes: where the claim is mounted in every pod."),
    bucket: Optional[str] = typer.Option(None, "--bucket", help="kubernetes: object-store root for artifacts instead, e.g. s3://team/ml."),
    bucket_secret: Optional[str] = typer.Option(None, "--bucket-secret", help="kubernetes: Secret (by name) with the bucket's credentials."),
    run_id: Optional[str] = typer.Option(None, "--run-id", help="kubernetes: run id (default: from the pipeline's digest)."),
    image_registry: Optional[str] = typer.Option(None, "--image-registry", help="kubernetes: registry for images named without one."),
    plan_configmap: bool = typer.Option(False, "--plan-configmap", help="kubernetes: ship the plan in a ConfigMap."),
    pod_failure_policy: bool = typer.Option(True, "--pod-failure-policy/--no-pod-failure-policy", help="kubernetes: leave it out for servers older than 1.26."),
) -> None:
    """Compile a pipeline into an execution plan, or into Kubernetes manifests (YAML).

    With ``--target kubernetes``, OUT ending in .yaml/.yml is one multi-document
    file; any other OUT is a folder with one file per object.
    """
    if output is not None:  # before compiling: a mistyped -o must not replace a pipeline (studio/compile_output.py)
        from .compile_output import check_output

        check_output(file, output, "manifests" if target == "kubernetes" else "plan")
    if target == "kubernetes":
        settings = dict(namespace=namespace, pvc=pvc, mount_path=mount_path, bucket=bucket, bucket_secret=bucket_secret,
                        run_id=run_id, image_registry=image_registry, plan_configmap=plan_configmap,
                        pod_failure_policy=pod_failure_policy)
        with _collect_rarely():
            _compile_kubernetes(file, output, artifact_root, settings)
        return
    if target != "plan":
        _say(err, f"error: unknown target '{target}'; available: plan, kubernetes")
        raise typer.Exit(EXIT_INVALID)
    with _collect_rarely():
        plan, text = _compile_file(file, artifact_root)
    for warning in plan.warnings:
        _say(err, f"{file}: warning: {warning}", "yellow")
    if output is None:
        sys.stdout.write(text)
        return
    from .compile_output import write_text

    write_text(output, text)
    _say(out, f"wrote {output} ({len(plan.steps)} steps)")


def _compile_file(file: Path, artifact_root: Optional[str]) -> tuple[ExecutionPlan, str]:
    """``compile``'s work: the file read and checked, its plan, and the plan's YAML."""
    from compiler import compile_plan, dump_plan_yaml, read_pipeline_file
    from nodes import default_catalog

    with _about(file):
        loaded = read_pipeline_file(file)
        plan = compile_plan(loaded.pipeline, default_catalog(), artifact_root, loaded.source_map)
    return plan, dump_plan_yaml(plan)


def _compile_kubernetes(file: Path, output: Optional[Path], artifact_root: Optional[str], settings: dict) -> None:
    """``compile --target kubernetes``: the plan for the cluster's storage, then its manifests."""
    from pydantic import ValidationError

    from compiler import compile_plan, read_pipeline_file
    from compiler.emitters.kubernetes import KubernetesEmitOptions, compile_for_kubernetes, dump_manifests, emit_kubernetes
    from compiler.yaml_io import dump_yaml
    from nodes import default_catalog

    from .compile_output import write_folder, write_text

    try:
        options = KubernetesEmitOptions(**{key: value for key, value in settings.items() if value is not None})
    except ValidationError as exc:
        for error in exc.errors():
            _say(err, f"error: {error['msg'].removeprefix('Value error, ')}")
        raise typer.Exit(EXIT_INVALID) from None
    with _about(file):
        loaded = read_pipeline_file(file)
        if artifact_root is None:
            plan, options = compile_for_kubernetes(loaded.pipeline, default_catalog(), options, loaded.source_map)
        else:
            plan = compile_plan(loaded.pipeline, default_catalog(), artifact_root, loaded.source_map)
    for warning in plan.warnings:
        _say(err, f"{file}: warning: {warning}", "yellow")
    documents = emit_kubernetes(plan, options)
    if output is None:
        sys.stdout.write(dump_manifests(documents))
    elif output.suffix in (".yaml", ".yml"):
        write_text(output, dump_manifests(documents))
    else:
        files = {f"{index:02d}-{document['kind'].lower()}-{document['metadata']['name']}.yaml": dump_yaml(document)
                 for index, document in enumerate(documents, start=1)}
        write_folder(output, files)
    if output is not None:
        _say(out, f"wrote {output} ({len(documents)} objects for {len(plan.steps)} steps, namespace {options.namespace})")


def _log_traceback() -> Path | None:
    """Write the current exception's traceback to ``$PIPECANVAS_HOME/logs/cli.log`` (or, when the home cannot be
    written, the temporary folder) and return where; None when nowhere can be written."""
    import logging
    import tempfile

    home = Path(os.environ.get("PIPECANVAS_HOME") or Path.home() / ".pipecanvas")
    for folder in (home / "logs", Path(tempfile.gettempdir()) / "pipecanvas-logs"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(folder / "cli.log", encoding="utf-8")
        except OSError:
            continue
        logger = logging.getLogger("pipecanvas.cli")
        logger.propagate = False  # the file only: a user sees no traceback
        logger.addHandler(handler)
        try:
            logger.exception("unexpected error")
        finally:
            logger.removeHandler(handler)
            handler.close()
        return folder / "cli.log"
    return None


def _usage_errors() -> tuple[type[Exception], ...]:
    """Click's usage errors: newer typer vendors click and raises its own classes."""
    found: list[type[Exception]] = [typer.TyperException] if hasattr(typer, "TyperException") else []
    try:
        import click

        found.append(click.ClickException)
    except ImportError:
        pass
    return tuple(found)


def _spec_error() -> type[Exception]:
    """compiler's SpecError, imported only when an error is being handled (see the module docstring)."""
    from compiler.errors import SpecError

    return SpecError


def _pipecanvas_error() -> type[Exception]:
    from nodes.errors import PipecanvasError

    return PipecanvasError


def main(argv: list[str] | None = None) -> int:
    """Run the CLI, turning every error into a message and an exit code."""
    try:
        # without standalone mode click hands back typer.Exit's code instead of raising it
        code = app(args=argv, prog_name="pipecanvas", standalone_mode=False)
    except _spec_error() as exc:
        _print_diagnostics(exc.diagnostics, getattr(exc, "source", None) or "")
        return EXIT_INVALID
    except _pipecanvas_error() as exc:
        _say(err, f"error: {exc}")
        return EXIT_INVALID
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err.print("cancelled")
        return 130
    except Exception as exc:  # usage errors and anything unexpected
        if isinstance(exc, _usage_errors()):
            exc.show()
            return exc.exit_code
        log = _log_traceback()
        where = f" (traceback in {log})" if log else ""
        _say(err, f"pipecanvas: unexpected error: {type(exc).__name__}: {exc}{where}")
        return 1
    return code if isinstance(code, int) else 0


def entrypoint() -> None:
    global _process_ends_with_the_command
    _process_ends_with_the_command = True  # main(), which the tests call in their process, leaves the collector alone
    sys.exit(main())


if __name__ == "__main__":
    # run the imported module, not this __main__ copy, so that the commands registered on it are present
    from studio.cli import entrypoint as _entrypoint

    _entrypoint()

from . import cli_runs  # noqa: E402,F401  (registers run, runs, show, logs, cancel, resume, endpoints, undeploy)
from . import cli_datasets  # noqa: E402,F401  (registers datasets add, list, rm)
