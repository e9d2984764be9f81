"""The Pipelines page's rows: every draft and every saved pipeline in the run store.

Two kinds, both kept in the run store (nothing else is written for this page):

- a **draft** is work in progress: the Build page saves every edit to one
  (``studio/drafts.py``), named by the pipeline's name and updated at each edit;
- a **saved pipeline** is one that has run: the store keeps the pipeline YAML of
  every run, so each pipeline name's newest run (a whole run, not a "Run to
  here", when there is one) is that pipeline as last saved. Running a pipeline
  is what saves it; "Save YAML" also writes it to a file of yours.

Each row has its name, when it was last edited (a draft) or run (a saved one),
its node count, and the state of the newest run of that name.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from compiler import Pipeline, SpecError, dump_pipeline, parse_pipeline
from compiler.validate import name_problem
from runtime.run_store import RunRecord, RunStore

__all__ = ["PipelineRow", "pipeline_rows", "rename_draft", "RenameError"]

_RUNS_READ = 500


@dataclass(frozen=True)
class PipelineRow:
    kind: Literal["draft", "saved"]
    #: the draft's id, or the run id of a saved pipeline's newest run
    id: str
    name: str
    edited_at: float
    nodes: int | None
    last_run: RunRecord | None
    pipeline_yaml: str

    def pipeline(self) -> Pipeline:
        """The row's pipeline; ``SpecError`` when a newer catalog no longer reads it."""
        return parse_pipeline(self.pipeline_yaml, source=f"{self.kind} {self.id}").pipeline


class RenameError(ValueError):
    """A name a pipeline cannot have; the message says what a name must be."""


def pipeline_rows(store: RunStore, drafts: int = 100) -> list[PipelineRow]:
    """Drafts newest edit first, then saved pipelines newest run first."""
    newest: dict[str, RunRecord] = {}
    whole: dict[str, RunRecord] = {}
    for run in store.list_runs(limit=_RUNS_READ):  # newest first
        newest.setdefault(run.pipeline, run)
        if not run.options.get("to"):
            whole.setdefault(run.pipeline, run)
    rows = [
        PipelineRow("draft", d.id, d.name, d.updated_at, _node_count(d.pipeline_yaml), newest.get(d.name),
                    d.pipeline_yaml)
        for d in store.list_drafts(limit=drafts)
    ]
    for name, last in newest.items():
        saved = whole.get(name, last)
        rows.append(PipelineRow("saved", saved.id, name, saved.created_at, _node_count(saved.pipeline_yaml), last,
                                saved.pipeline_yaml))
    return rows


@lru_cache(maxsize=256)
def _node_count(pipeline_yaml: str) -> int | None:
    """How many nodes the YAML holds; None when it no longer reads as a pipeline."""
    try:
        return len(parse_pipeline(pipeline_yaml).pipeline.spec.nodes)
    except SpecError:
        return None


def rename_draft(store: RunStore, draft_id: str, name: str) -> Pipeline:
    """Give a draft a new pipeline name (in its YAML too); returns the renamed pipeline."""
    name = name.strip()
    problem = name_problem(name)
    if problem:
        raise RenameError(f"'{name}' cannot be a pipeline name: it {problem}")
    draft = store.get_draft(draft_id)
    if draft is None:
        raise RenameError(f"there is no draft {draft_id!r} any more")
    pipeline = parse_pipeline(draft.pipeline_yaml, source=f"draft {draft_id}").pipeline
    renamed = pipeline.model_copy(update={"metadata": pipeline.metadata.model_copy(update={"name": name})})
    store.save_draft(draft_id, name, dump_pipeline(renamed))
    return renamed
