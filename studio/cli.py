"""The ``pipecanvas`` command line.

Exit codes: 0 success, 2 the pipeline (or another input) is invalid, 1 an
unexpected failure. A user never sees a traceback: expected errors print as
located one-liners, unexpected ones print a short message and the log file that
holds the traceback.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table as RichTable

from compiler import SpecError, compile_plan, dump_plan_yaml, read_pipeline_file, validate_pipeline
from compiler.diagnostics import Diagnostic, errors_only
from nodes import default_catalog
from nodes.errors import PipecanvasError

__all__ = ["app", "main"]

app = typer.Typer(
    name="pipecanvas",
    help="Build, check and run visual AI pipelines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

EXIT_INVALID = 2


def _print_diagnostics(diagnostics: list[Diagnostic], source: str) -> None:
    for diagnostic in sorted(diagnostics, key=lambda d: (d.severity != "error", d.line or 0)):
        colour = "red" if diagnostic.severity == "error" else "yellow"
        err.print(f"[{colour}]{diagnostic.format(source)}[/{colour}]", soft_wrap=True, markup=True)


@app.command("nodes")
def nodes_command(as_json: bool = typer.Option(False, "--json", help="Print the whole catalog as JSON.")) -> None:
    """List the node types you can use, by category."""
    catalog = default_catalog()
    if as_json:
        sys.stdout.write(json.dumps(catalog.describe(), indent=2) + "\n")
        return
    table = RichTable("type", "title", "inputs", "outputs", "resources", title="pipecanvas node catalog")
    for node_type in catalog:
        ins = ", ".join(f"{p.name}:{p.kind}{'' if p.required else '?'}" for p in node_type.inputs) or "—"
        outs = ", ".join(f"{p.name}:{p.kind}" for p in node_type.outputs)
        res = ", ".join(f"{k}={v}" for k, v in node_type.resources.model_dump(exclude_none=True).items())
        table.add_row(node_type.type_id, node_type.title, ins, outs, res)
    out.print(table)
    for problem in catalog.problems:
        err.print(f"[yellow]warning: {problem}[/yellow]")


@app.command("validate")
def validate_command(file: Path = typer.Argument(..., help="Pipeline YAML file.")) -> None:
    """Check a pipeline file. Exit 0 when valid (warnings printed), 2 when not."""
    loaded = read_pipeline_file(file)
    diagnostics = validate_pipeline(loaded.pipeline, default_catalog(), loaded.source_map)
    _print_diagnostics(diagnostics, str(file))
    errors = errors_only(diagnostics)
    if errors:
        err.print(f"{file}: {len(errors)} error(s)")
        raise typer.Exit(EXIT_INVALID)
    out.print(f"{file}: valid ({len(loaded.pipeline.spec.nodes)} nodes, {len(diagnostics)} warning(s))")


@app.command("compile")
def compile_command(
    file: Path = typer.Argument(..., help="Pipeline YAML file."),
    target: str = typer.Option("plan", "--target", "-t", help="What to produce: 'plan'."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Where to write it (default: print)."),
    artifact_root: Optional[str] = typer.Option(None, "--artifact-root", help="Where step outputs will be written (path or URI)."),
) -> None:
    """Compile a pipeline into an execution plan (YAML)."""
    if target != "plan":
        err.print(f"error: unknown target '{target}'; available: plan")
        raise typer.Exit(EXIT_INVALID)
    loaded = read_pipeline_file(file)
    plan = compile_plan(loaded.pipeline, default_catalog(), artifact_root, loaded.source_map)
    for warning in plan.warnings:
        err.print(f"[yellow]{file}: warning: {warning}[/yellow]")
    text = dump_plan_yaml(plan)
    if output is None:
        sys.stdout.write(text)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    out.print(f"wrote {output} ({len(plan.steps)} steps)")


def _log_file() -> Path:
    home = Path(os.environ.get("PIPECANVAS_HOME") or Path.home() / ".pipecanvas")
    (home / "logs").mkdir(parents=True, exist_ok=True)
    return home / "logs" / "cli.log"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI, turning every error into a message and an exit code."""
    try:
        app(args=argv, prog_name="pipecanvas", standalone_mode=False)
    except SpecError as exc:
        source = next((a for a in (argv or sys.argv[1:]) if a.endswith((".yaml", ".yml"))), None)
        _print_diagnostics(exc.diagnostics, source or "")
        return EXIT_INVALID
    except PipecanvasError as exc:
        err.print(f"error: {exc}", markup=False)
        return EXIT_INVALID
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err.print("cancelled")
        return 130
    except Exception as exc:  # click usage errors and anything unexpected
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        log = _log_file()
        logging.basicConfig(filename=log, level=logging.ERROR)
        logging.getLogger("pipecanvas.cli").exception("unexpected error")
        err.print(f"pipecanvas: unexpected error: {type(exc).__name__}: {exc} (traceback in {log})", markup=False)
        return 1
    return 0


def entrypoint() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entrypoint()
