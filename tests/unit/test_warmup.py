"""The run process's warm-up goes a piece at a time, and a library that cannot be imported does not stop it."""

from __future__ import annotations

import sys

from runtime.executors.warm_fork import PRELOAD_MODULES, Warmup


def test_the_warm_up_goes_a_piece_at_a_time_and_ends_with_the_node_types_imports() -> None:
    warmup = Warmup(("json", "pandas"))  # pandas is a base module already: not imported twice
    pieces = 0
    while not warmup.advance():
        pieces += 1
    # each base module, the catalog, a table's round trip, then json: between any two, the executor can fork a step
    assert pieces + 1 == len(PRELOAD_MODULES) + 3
    assert warmup.done and warmup.missing == []
    assert "json" in sys.modules
    assert warmup.advance() is True  # nothing left: further waits sleep


def test_a_library_that_cannot_be_imported_is_left_to_the_steps_that_need_it() -> None:
    warmup = Warmup(("pipecanvas_no_such_library", "json"))
    while not warmup.advance():
        pass
    assert warmup.missing == ["pipecanvas_no_such_library"]
    assert "json" in sys.modules
