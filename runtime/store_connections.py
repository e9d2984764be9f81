"""The run store's SQLite connections in this process, closed before every ``os.fork()``.

SQLite keeps each open database's lock state in process memory, shared by every connection to that
file. A child forked while the parent holds a connection inherits that memory: a connection the child
opens then believes it holds locks it never took. When the parent later closes its own connection (a
``pipecanvas run --detach`` exits as soon as the run process is forked), SQLite sees no other user,
checkpoints the WAL and deletes it, and every write the child makes afterwards goes to a deleted file:
the run finished, its log said so, and the store still said "running" until a reader marked it lost.
SQLite's own guidance ("How To Corrupt An SQLite Database File", section 2.6) is to hold no
connection across a fork; so this process closes them all just before each fork (``os.register_at_fork``;
``subprocess`` never runs those hooks, and needs no such care since it execs at once) and each store
opens a fresh one on its next use, in the parent and in the child alike.

This process forks only when it has no other thread (``runtime.run_launch``, and the local run process,
which is single-threaded), so no other thread is using a connection when it is closed.
"""

from __future__ import annotations

import os
import sqlite3
import weakref

__all__ = ["ConnectionHandle", "track"]


class ConnectionHandle:
    """One thread's connection to one store; ``conn`` is None once it was closed (by ``close`` or a fork).

    A thread-local keeps the handle, so when the thread ends the handle and its connection go with it;
    the registry below holds handles weakly for that reason (a connection itself takes no weak reference).
    """

    __slots__ = ("conn", "__weakref__")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn: sqlite3.Connection | None = conn

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()


_open: weakref.WeakSet[ConnectionHandle] = weakref.WeakSet()


def track(conn: sqlite3.Connection) -> ConnectionHandle:
    """A handle on ``conn`` that is closed before the next fork of this process."""
    handle = ConnectionHandle(conn)
    _open.add(handle)
    return handle


def _close_all_before_fork() -> None:
    for handle in list(_open):
        try:
            handle.close()
        except sqlite3.Error:  # a fork must not fail for a connection that would not close cleanly
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_close_all_before_fork)
