"""The line beside the Run button says how the run ended in the box that fits (issue 12).

A failed run was shown in the same blue box as a success and pointed at a
command line; it is now an error naming the failed node and its error, and
pointing at the Resume button.
"""

from __future__ import annotations

from dataclasses import replace

from runtime.run_store import RunRecord, StepRecord
from runtime.states import RunState, StepState
from studio.run_banner import run_banner

RUN = RunRecord("r1", "churn-csv", "local", RunState.SUCCEEDED, 0.0, 0.0, 1.0, None, None, None, None, {}, "", "")
STEP = StepRecord("r1", "load", 0, "data.file", StepState.SUCCEEDED, 1, "k", {}, "img", {}, None, None, None, None,
                  None, None, None, 0.0, 1.0)
CLI_ERROR = "1 step(s) did not succeed: customers; fix the problem, then `pipecanvas resume r1` re-runs only those"


def test_a_success_is_green() -> None:
    banner = run_banner(RUN, [STEP])
    assert banner.level == "success" and banner.text == "Run `r1`: **succeeded**"


def test_a_failure_is_an_error_naming_the_node_and_its_error_and_pointing_at_resume() -> None:
    failed = replace(STEP, step_id="customers", state=StepState.FAILED,
                     error="node 'customers': file 'assets/data/no-such-file.csv' does not exist; check $PIPECANVAS_HOME\nTraceback...")
    banner = run_banner(replace(RUN, state=RunState.FAILED, error=CLI_ERROR), [STEP, failed])
    assert banner.level == "error"
    assert banner.text.startswith("Run `r1`: **failed**")
    assert "node **customers** failed: file 'assets/data/no-such-file.csv' does not exist" in banner.text  # once
    assert "\\$PIPECANVAS_HOME" in banner.text  # not read as a formula by Streamlit's markdown
    assert "**Resume**" in banner.text
    assert "pipecanvas resume" not in banner.text and "Traceback" not in banner.text


def test_a_run_that_failed_before_any_step_says_why_without_the_command_line_hint() -> None:
    banner = run_banner(replace(RUN, state=RunState.LOST, error="the run process is gone; fix the problem, then `pipecanvas resume r1` re-runs only those"), [STEP])
    assert banner.level == "error" and "the run process is gone." in banner.text
    assert "pipecanvas resume" not in banner.text


def test_a_cancelled_run_is_a_warning_and_a_running_one_information() -> None:
    assert run_banner(replace(RUN, state=RunState.CANCELLED), []).level == "warning"
    assert run_banner(replace(RUN, state=RunState.RUNNING), []).level == "info"
