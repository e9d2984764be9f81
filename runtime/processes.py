"""Is a local process still there? (Zombies, exited but not yet reaped, count as gone.)"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["process_alive", "process_start_time", "same_process"]


def process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return True


def process_start_time(pid: int | None) -> int | None:
    """When ``pid`` started, in the kernel's clock ticks since boot (Linux), or None when unknown.

    A pid recorded earlier may belong to another program by now; the pair (pid, start time) does not.
    """
    if not pid:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])  # field 22, counted after the ")" that ends the name
    except (OSError, IndexError, ValueError):
        return None


def same_process(pid: int | None, start_time: int | None) -> bool:
    """Whether ``pid`` is alive and (when ``start_time`` is known and /proc can tell) is the process that
    started then, not a later one that reused the number."""
    if not process_alive(pid):
        return False
    if start_time is None:
        return True
    now = process_start_time(pid)
    return now is None or now == start_time
