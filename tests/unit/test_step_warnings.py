"""A step's warnings are read back from the end of its log: the last attempt's only, each once, for its node."""

from __future__ import annotations

from runtime.artifacts import step_warnings


def test_only_the_last_attempts_warnings_of_this_node_are_read(tmp_path):
    log = tmp_path / "split.log"
    log.write_text("\n".join([
        "--- attempt 1 of step 'split' ---",
        "warning: node 'split': from an attempt that was retried",
        "error: node 'split': disk full",
        "--- attempt 2 of step 'split' ---",
        "06:40:01 warning: the split could not be stratified",  # the timestamped log line: not the summary
        "warning: node 'split': the split could not be stratified",
        "warning: node 'other': someone else's",
        "warning: node 'split': the split could not be stratified",
        "06:40:02 step 'split' (prepare.split) finished in 0.20s; wrote train, test",
    ]), encoding="utf-8")
    assert step_warnings(log, "split") == ["the split could not be stratified"]


def test_a_missing_log_has_no_warnings(tmp_path):
    assert step_warnings(tmp_path / "gone.log", "split") == []
    assert step_warnings(None, "split") == []
