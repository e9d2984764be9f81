"""Say once that the API server cannot be reached, then now and then, not on every retry.

The watchers and log followers retry every half second or so while the API
server is away (a restart, an upgrade, a network cut); logging each retry
filled run.log with a line every 0.5 s. ``RetryNotes`` logs the first failure
at once, then at most one line per ``every`` seconds saying how many retries
failed meanwhile, and one line when the connection is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

__all__ = ["RetryNotes"]


class RetryNotes:
    """Rate-limited log lines for one retry loop (``what``: "watch of jobs", "log stream of pod x")."""

    def __init__(self, logger: logging.Logger, what: str, *, every: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._log, self._what, self._every, self._clock = logger, what, every, clock
        self._lock = threading.Lock()
        self._failing_since: float | None = None
        self._last_said = 0.0
        self._unsaid = 0

    def failed(self, problem: str, level: int = logging.WARNING) -> None:
        """One retry failed: logged the first time, then once per ``every`` seconds with the count."""
        with self._lock:
            now = self._clock()
            if self._failing_since is None:
                self._failing_since, self._last_said, self._unsaid = now, now, 0
                self._log.log(level, "%s failed (%s); retrying", self._what, problem)
                return
            self._unsaid += 1
            if now - self._last_said < self._every:
                return
            self._log.log(level, "%s still failing after %.0fs (%d retries since the last line; now: %s)",
                          self._what, now - self._failing_since, self._unsaid, problem)
            self._last_said, self._unsaid = now, 0

    def recovered(self) -> None:
        """A retry worked: one line if failures were logged, and the next failure is logged at once again."""
        with self._lock:
            if self._failing_since is None:
                return
            self._log.info("%s works again after %.0fs", self._what, self._clock() - self._failing_since)
            self._failing_since = None
