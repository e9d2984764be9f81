"""The line beside the Run button: how the run on the canvas went, styled by how it ended.

A failed run shown in the same blue box as a success, pointing at a command
line, leaves the analyst to find the red node themselves. So a failure is an
error box naming the step(s) that failed and why, and pointing at the Resume
button next to it; a cancelled run is a warning; a success is green; a run
still going is plain information. The text always begins ``Run `<id>`: **<state>**``.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from runtime.run_store import RunRecord, StepRecord
from runtime.states import RunState

__all__ = ["RunBanner", "run_banner", "show_run_banner"]

_SHOWN_FAILURES = 3
_CLI_HINT = "; fix the problem, then `pipecanvas resume"  # the run's own error says this for the command line


@dataclass(frozen=True)
class RunBanner:
    level: str  # "success", "error", "warning" or "info": the Streamlit box it is shown in
    text: str


def run_banner(run: RunRecord, steps: list[StepRecord]) -> RunBanner:
    """What to say about ``run`` (its steps give the failed nodes and their errors)."""
    head = f"Run `{run.id}`: **{run.state.value}**"
    if run.options.get("to"):  # a "Run to here": only that node and what it depends on ran
        head += f" (to `{run.options['to']}`)"
    if run.state == RunState.SUCCEEDED:
        return RunBanner("success", head)
    if run.state in (RunState.FAILED, RunState.LOST):
        return RunBanner("error", f"{head} — {_failure(run, steps)} Fix it on the canvas, then press **Resume**: "
                                  "the steps that succeeded are kept and only the rest run again.")
    if run.state == RunState.CANCELLED:
        return RunBanner("warning", f"{head} — press **Resume** to run the steps that did not finish.")
    return RunBanner("info", head + (f" — {run.error}" if run.error else ""))


def _failure(run: RunRecord, steps: list[StepRecord]) -> str:
    failed = [step for step in steps if step.state.value in ("failed", "lost")]
    if not failed:
        reason = (run.error or "the run stopped before its steps finished").split(_CLI_HINT)[0]
        return f"{reason.rstrip('.')}."
    named = "; ".join(f"node **{step.step_id}** failed: {_first_line(step.error).removeprefix(f'node {step.step_id!r}: ')}"
                      for step in failed[:_SHOWN_FAILURES])
    more = f" (and {len(failed) - _SHOWN_FAILURES} more)" if len(failed) > _SHOWN_FAILURES else ""
    return f"{named}{more}."


def _first_line(error: str | None) -> str:
    """The error's first line, with ``$`` escaped (Streamlit's markdown would read ``$HOME … $`` as a formula)."""
    text = (error or "").strip().splitlines()
    return (text[0].rstrip(".") if text else "no error was recorded; see its log").replace("$", "\\$")


def show_run_banner(run: RunRecord, steps: list[StepRecord]) -> None:
    """``run_banner`` in its box (``steps``: the run's, as the page read them with it)."""
    banner = run_banner(run, steps)
    {"success": st.success, "error": st.error, "warning": st.warning, "info": st.info}[banner.level](banner.text)
