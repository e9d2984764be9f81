"""The run store: every run, step state change, log location, metric and endpoint, in SQLite.

One file under ``$PIPECANVAS_HOME`` in WAL mode, so readers (the CLI, the
studio) never block the writer. The run process is the only writer of a run's
rows once it has started; before that, whoever starts it writes the run's
first row (or, to resume it, puts it back in the queue) and the process id.
The other exceptions are rows whose owner is gone: marking a dead run ``lost``
and marking a stopped endpoint, which any reader may do; and a deploy step,
which records the local model server it starts (``claim_endpoint``) before the
server may listen, so no server runs that the store does not know of.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .home import HomeError, disk_full_message, home_problem, pipecanvas_home
from .states import FINISHED_RUN_STATES, RunState, StepState
from .store_connections import track

__all__ = ["RunStore", "RunRecord", "StepRecord", "EventRecord", "EndpointRecord", "NewStep", "DraftRecord", "open_store",
           "ENDPOINT_LISTED_STATES", "StoreBusyError", "BUSY_TIMEOUT_ENV", "WRITE_WAIT_ENV"]

#: seconds SQLite itself waits for another writer before one attempt at a write transaction gives up
BUSY_TIMEOUT_ENV = "PIPECANVAS_STORE_BUSY_TIMEOUT"
#: seconds a write keeps retrying, attempt after attempt, before it fails with ``StoreBusyError``
WRITE_WAIT_ENV = "PIPECANVAS_STORE_WRITE_WAIT"
_DEFAULT_BUSY_TIMEOUT = 10.0
_DEFAULT_WRITE_WAIT = 600.0


class StoreBusyError(HomeError):
    """Another process held the run store's write lock for longer than this process would wait."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, pipeline_yaml TEXT NOT NULL, plan_yaml TEXT NOT NULL,
    backend TEXT NOT NULL, state TEXT NOT NULL, options TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL, started_at REAL, finished_at REAL, heartbeat_at REAL,
    pid INTEGER, host TEXT, error TEXT
);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL, step_id TEXT NOT NULL, position INTEGER NOT NULL, type TEXT NOT NULL,
    state TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 0, cache_key TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}', image TEXT NOT NULL DEFAULT '', inputs TEXT NOT NULL DEFAULT '{}',
    exit_code INTEGER, signal TEXT, pid INTEGER, reason TEXT, cached_from TEXT, error TEXT,
    log_path TEXT, started_at REAL, finished_at REAL,
    PRIMARY KEY (run_id, step_id)
);
CREATE INDEX IF NOT EXISTS steps_cache ON steps (cache_key, state);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, step_id TEXT, state TEXT NOT NULL,
    attempt INTEGER, at REAL NOT NULL, detail TEXT
);
CREATE INDEX IF NOT EXISTS events_run ON events (run_id, id);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL, step_id TEXT NOT NULL, name TEXT NOT NULL, value REAL,
    PRIMARY KEY (run_id, step_id, name)
);
CREATE TABLE IF NOT EXISTS artifacts (
    run_id TEXT NOT NULL, step_id TEXT NOT NULL, port TEXT NOT NULL, kind TEXT NOT NULL, uri TEXT NOT NULL,
    PRIMARY KEY (run_id, step_id, port)
);
CREATE TABLE IF NOT EXISTS endpoints (
    name TEXT PRIMARY KEY, url TEXT NOT NULL, backend TEXT NOT NULL, pid INTEGER, run_id TEXT, step_id TEXT,
    state TEXT NOT NULL, started_at REAL NOT NULL, stopped_at REAL, input_schema TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS drafts (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, pipeline_yaml TEXT NOT NULL, created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
"""

#: endpoint columns added after the first release; a store created before gets them on open
_ENDPOINT_COLUMNS = {
    "port": "INTEGER", "pgid": "INTEGER", "process_start": "INTEGER", "owner_pid": "INTEGER",
    "owner_start": "INTEGER", "attempt": "INTEGER", "log_path": "TEXT", "detail": "TEXT",
}
#: endpoint states: ``starting`` (recorded by its deploy step before the server listens), ``running`` (its
#: step succeeded), ``crashed`` (the server died by itself), ``stopped`` (undeployed or replaced),
#: ``failed`` (its deploy step did not finish, so the server was stopped)
ENDPOINT_LISTED_STATES = ("starting", "running", "crashed")


@dataclass(frozen=True)
class RunRecord:
    id: str
    pipeline: str
    backend: str
    state: RunState
    created_at: float
    started_at: float | None
    finished_at: float | None
    heartbeat_at: float | None
    pid: int | None
    host: str | None
    error: str | None
    options: dict[str, Any]
    pipeline_yaml: str = field(repr=False)
    plan_yaml: str = field(repr=False)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_RUN_STATES

    @property
    def duration(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.finished_at or time.time()) - self.started_at


@dataclass(frozen=True)
class StepRecord:
    run_id: str
    step_id: str
    position: int
    type: str
    state: StepState
    attempt: int
    cache_key: str
    params: dict[str, Any]
    image: str
    inputs: dict[str, str]
    exit_code: int | None
    signal: str | None
    pid: int | None
    reason: str | None
    cached_from: str | None
    error: str | None
    log_path: str | None
    started_at: float | None
    finished_at: float | None
    #: the step process's start time (``processes.process_start_time``): with ``pid``, which process it was
    pid_start: int | None = None

    @property
    def elapsed(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.finished_at or time.time()) - self.started_at


@dataclass(frozen=True)
class EventRecord:
    id: int
    run_id: str
    step_id: str | None
    state: str
    attempt: int | None
    at: float
    detail: str | None


@dataclass(frozen=True)
class EndpointRecord:
    name: str
    url: str
    backend: str
    pid: int | None
    run_id: str | None
    step_id: str | None
    state: str
    started_at: float
    stopped_at: float | None
    input_schema: dict[str, str]
    port: int | None = None
    pgid: int | None = None
    process_start: int | None = None  # the server's start time as the kernel counts it: guards against pid reuse
    owner_pid: int | None = None  # the deploy step process that starts it, while it is 'starting'
    owner_start: int | None = None
    attempt: int | None = None
    log_path: str | None = None
    detail: str | None = None  # why it crashed or failed: the end of its log


@dataclass(frozen=True)
class NewStep:
    """What the store needs to know about a step when its run is created."""

    step_id: str
    type: str
    cache_key: str
    params: dict[str, Any]
    image: str
    inputs: dict[str, str]
    log_path: str


#: step columns newer than the first stores: added to an older store when it is opened
_STEP_COLUMNS = {"pid_start": "INTEGER"}
_STEP_FIELDS = {"attempt", "exit_code", "signal", "pid", "reason", "cached_from", "error", "started_at", "finished_at",
                *_STEP_COLUMNS}


@dataclass(frozen=True)
class DraftRecord:
    """A pipeline being edited in the studio, saved after every edit so a reload or restart loses nothing."""

    id: str
    name: str
    created_at: float
    updated_at: float
    pipeline_yaml: str = field(repr=False)


class RunStore:
    """A connection per thread to one store file, closed before this process forks (``store_connections``); safe to
    use from many processes at once."""

    def __init__(self, path: Path, *, busy_timeout: float | None = None, write_wait: float | None = None) -> None:
        self.path = Path(path)
        self.busy_timeout = _seconds(busy_timeout, BUSY_TIMEOUT_ENV, _DEFAULT_BUSY_TIMEOUT)
        self.write_wait = _seconds(write_wait, WRITE_WAIT_ENV, _DEFAULT_WRITE_WAIT)
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HomeError(home_problem(self.path.parent, exc)) from None
        self._while_busy(lambda: self._conn().executescript(_SCHEMA))
        self._while_busy(lambda: _add_columns(self._conn(), "endpoints", _ENDPOINT_COLUMNS))
        self._while_busy(lambda: _add_columns(self._conn(), "steps", _STEP_COLUMNS))

    def _conn(self) -> sqlite3.Connection:
        handle = getattr(self._local, "handle", None)
        if handle is None or handle.conn is None:  # none yet in this thread, or closed (a fork: store_connections)
            try:
                conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                                       check_same_thread=False)
                conn.row_factory = sqlite3.Row
                conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as exc:
                raise self._store_error(exc) from None
            handle = self._local.handle = track(conn)
        return handle.conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. Taking the write lock is retried while another process holds it, up to
        ``write_wait`` seconds; once taken, nothing else can write, so the body itself is never busy."""
        conn = self._conn()
        self._while_busy(lambda: conn.execute("BEGIN IMMEDIATE"))
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            if isinstance(exc, sqlite3.Error):
                raise self._store_error(exc) from None
            raise

    def _while_busy(self, attempt: Callable[[], Any]) -> None:
        """``attempt()`` again while the database is locked (each try waits ``busy_timeout`` inside SQLite),
        up to ``write_wait`` seconds in all; then a ``StoreBusyError`` that says so."""
        deadline = time.monotonic() + self.write_wait
        while True:
            try:
                attempt()
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise self._store_error(exc) from None
                if time.monotonic() >= deadline:
                    raise StoreBusyError(
                        f"the run store {self.path} stayed locked by another process for more than "
                        f"{self.write_wait:g}s; nothing was recorded (set {WRITE_WAIT_ENV} to wait longer)") from None
                time.sleep(0.05)
            except sqlite3.Error as exc:
                raise self._store_error(exc) from None

    def _store_error(self, exc: sqlite3.Error) -> HomeError:
        """A SQLite failure as the user can act on it: the disk is full, the home is read-only, ..."""
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL" or "disk is full" in str(exc):
            return HomeError(disk_full_message(self.path))
        return HomeError(home_problem(self.path, exc))

    def close(self) -> None:
        handle = getattr(self._local, "handle", None)
        if handle is not None:
            handle.close()

    # -- writes by the run process -------------------------------------------------

    def create_run(
        self, run_id: str, pipeline: str, pipeline_yaml: str, plan_yaml: str, backend: str,
        steps: list[NewStep], options: dict[str, Any] | None = None,
    ) -> None:
        now = time.time()
        with self._write() as db:
            db.execute(
                "INSERT INTO runs (id, pipeline, pipeline_yaml, plan_yaml, backend, state, options, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, pipeline, pipeline_yaml, plan_yaml, backend, RunState.QUEUED.value, json.dumps(options or {}), now),
            )
            db.executemany(
                "INSERT INTO steps (run_id, step_id, position, type, state, cache_key, params, image, inputs, log_path)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (run_id, s.step_id, i, s.type, StepState.PENDING.value, s.cache_key, json.dumps(s.params),
                     s.image, json.dumps(s.inputs), s.log_path)
                    for i, s in enumerate(steps)
                ],
            )
            db.execute("INSERT INTO events (run_id, state, at) VALUES (?, ?, ?)", (run_id, RunState.QUEUED.value, now))

    def set_run_state(self, run_id: str, state: RunState, *, error: str | None = None, pid: int | None = None) -> None:
        now = time.time()
        with self._write() as db:
            sets, args = ["state = ?", "heartbeat_at = ?"], [state.value, now]
            if state == RunState.RUNNING:
                sets += ["started_at = COALESCE(started_at, ?)", "finished_at = NULL", "error = NULL"]
                args.append(now)
            if state in FINISHED_RUN_STATES:
                sets.append("finished_at = ?")
                args.append(now)
            if error is not None:
                sets.append("error = ?")
                args.append(error)
            if pid is not None:
                sets += ["pid = ?", "host = ?"]
                args += [pid, os.uname().nodename]
            db.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id = ?", (*args, run_id))
            db.execute("INSERT INTO events (run_id, state, at, detail) VALUES (?, ?, ?, ?)", (run_id, state.value, now, error))

    def requeue_run(self, run_id: str) -> bool:
        """Put a finished run back in the queue for a resume; False when it is not finished (already resumed).

        Waiters see it unfinished from now on, not its old ending; its old process id is forgotten.
        """
        now = time.time()
        finished = tuple(state.value for state in FINISHED_RUN_STATES)
        with self._write() as db:
            changed = db.execute(
                f"UPDATE runs SET state = ?, heartbeat_at = ?, finished_at = NULL, error = NULL, pid = NULL, host = NULL"
                f" WHERE id = ? AND state IN ({', '.join('?' * len(finished))})",
                (RunState.QUEUED.value, now, run_id, *finished),
            ).rowcount
            if changed:
                db.execute("INSERT INTO events (run_id, state, at, detail) VALUES (?, ?, ?, ?)",
                           (run_id, RunState.QUEUED.value, now, "resumed"))
        return bool(changed)

    def set_run_pid(self, run_id: str, pid: int) -> None:
        """Record the process just started for a queued run, so readers can tell at once whether it is alive."""
        with self._write() as db:
            db.execute("UPDATE runs SET pid = ?, host = ? WHERE id = ? AND pid IS NULL",
                       (pid, os.uname().nodename, run_id))

    def heartbeat(self, run_id: str) -> None:
        with self._write() as db:
            db.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (time.time(), run_id))

    def set_step(self, run_id: str, step_id: str, state: StepState, detail: str | None = None, **fields: Any) -> None:
        """Change a step's state (and any of its fields) and record the transition as an event."""
        unknown = set(fields) - _STEP_FIELDS
        if unknown:
            raise ValueError(f"unknown step fields {sorted(unknown)}")
        now = time.time()
        with self._write() as db:
            columns = ["state = ?"] + [f"{name} = ?" for name in fields]
            db.execute(
                f"UPDATE steps SET {', '.join(columns)} WHERE run_id = ? AND step_id = ?",
                (state.value, *fields.values(), run_id, step_id),
            )
            attempt = fields.get("attempt")
            if attempt is None:
                row = db.execute("SELECT attempt FROM steps WHERE run_id = ? AND step_id = ?", (run_id, step_id)).fetchone()
                attempt = row["attempt"] if row else None
            db.execute(
                "INSERT INTO events (run_id, step_id, state, attempt, at, detail) VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, step_id, state.value, attempt, now, detail),
            )

    def add_metrics(self, run_id: str, step_id: str, values: dict[str, float]) -> None:
        with self._write() as db:
            db.executemany(
                "INSERT OR REPLACE INTO metrics (run_id, step_id, name, value) VALUES (?, ?, ?, ?)",
                [(run_id, step_id, name, float(value)) for name, value in values.items()],
            )

    def add_artifacts(self, run_id: str, step_id: str, artifacts: list[tuple[str, str, str]]) -> None:
        """``artifacts`` is a list of (port, kind, uri)."""
        with self._write() as db:
            db.executemany(
                "INSERT OR REPLACE INTO artifacts (run_id, step_id, port, kind, uri) VALUES (?, ?, ?, ?, ?)",
                [(run_id, step_id, port, kind, uri) for port, kind, uri in artifacts],
            )

    def register_endpoint(self, record: EndpointRecord) -> EndpointRecord | None:
        """Record a running endpoint; return the one it replaces (same name), if any was running.

        A local server its deploy step claimed (``claim_endpoint``) keeps its row, now ``running``.
        """
        with self._write() as db:
            if record.backend == "local" and record.pid:
                claimed = db.execute(
                    "UPDATE endpoints SET state = 'running', url = ?, input_schema = ?, run_id = ?, step_id = ?,"
                    " detail = NULL WHERE name = ? AND backend = 'local' AND pid = ? AND state = 'starting'",
                    (record.url, json.dumps(record.input_schema), record.run_id, record.step_id, record.name,
                     record.pid),
                ).rowcount
                if claimed:
                    return None
            old = db.execute("SELECT * FROM endpoints WHERE name = ? AND state = 'running'", (record.name,)).fetchone()
            db.execute(
                "INSERT OR REPLACE INTO endpoints (name, url, backend, pid, run_id, step_id, state, started_at,"
                " stopped_at, input_schema) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.name, record.url, record.backend, record.pid, record.run_id, record.step_id, record.state,
                 record.started_at, record.stopped_at, json.dumps(record.input_schema)),
            )
        return _endpoint(old) if old else None

    def claim_endpoint(self, record: EndpointRecord, replacing: float | None) -> bool:
        """Record a local server about to start (state ``starting``), replacing the row that began at
        ``replacing`` (None: there was none). False, and nothing written, when the row changed meanwhile."""
        with self._write() as db:
            current = db.execute("SELECT started_at FROM endpoints WHERE name = ?", (record.name,)).fetchone()
            if (current["started_at"] if current else None) != replacing:
                return False
            db.execute(
                "INSERT OR REPLACE INTO endpoints (name, url, backend, pid, run_id, step_id, state, started_at,"
                " stopped_at, input_schema, port, pgid, process_start, owner_pid, owner_start, attempt, log_path,"
                " detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.name, record.url, record.backend, record.pid, record.run_id, record.step_id, record.state,
                 record.started_at, record.stopped_at, json.dumps(record.input_schema), record.port, record.pgid,
                 record.process_start, record.owner_pid, record.owner_start, record.attempt, record.log_path,
                 record.detail),
            )
        return True

    def set_endpoint_process(self, name: str, started_at: float, pid: int, pgid: int, process_start: int | None) -> bool:
        """Record the server process of the claim that began at ``started_at``; False when that claim is gone."""
        with self._write() as db:
            return bool(db.execute(
                "UPDATE endpoints SET pid = ?, pgid = ?, process_start = ? WHERE name = ? AND started_at = ?",
                (pid, pgid, process_start, name, started_at),
            ).rowcount)

    def set_endpoint_schema(self, name: str, started_at: float, input_schema: dict[str, str]) -> None:
        with self._write() as db:
            db.execute("UPDATE endpoints SET input_schema = ? WHERE name = ? AND started_at = ?",
                       (json.dumps(input_schema), name, started_at))

    def end_endpoint(self, name: str, state: str, detail: str | None = None, *, started_at: float | None = None,
                     from_states: tuple[str, ...] = ENDPOINT_LISTED_STATES) -> bool:
        """Move endpoint ``name`` (only the row that began at ``started_at``, when given) from one of
        ``from_states`` to ``state`` (crashed, stopped or failed); False when it was not in one of them."""
        query = (f"UPDATE endpoints SET state = ?, stopped_at = ?, detail = COALESCE(?, detail) WHERE name = ?"
                 f" AND state IN ({', '.join('?' * len(from_states))})")
        args: list[Any] = [state, time.time(), detail, name, *from_states]
        if started_at is not None:
            query, args = query + " AND started_at = ?", [*args, started_at]
        with self._write() as db:
            return bool(db.execute(query, args).rowcount)

    def mark_endpoint_stopped(self, name: str) -> None:
        self.end_endpoint(name, "stopped")

    # -- reads ------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunRecord | None:
        row = self._conn().execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run(row) if row else None

    def find_run_ids(self, prefix: str) -> list[str]:
        rows = self._conn().execute("SELECT id FROM runs WHERE id LIKE ? ORDER BY created_at DESC", (prefix + "%",))
        return [r["id"] for r in rows]

    def list_runs(self, limit: int = 50, pipeline: str | None = None) -> list[RunRecord]:
        query, args = "SELECT * FROM runs", []
        if pipeline:
            query, args = query + " WHERE pipeline = ?", [pipeline]
        rows = self._conn().execute(query + " ORDER BY created_at DESC LIMIT ?", (*args, limit))
        return [_run(r) for r in rows]

    def steps(self, run_id: str) -> list[StepRecord]:
        rows = self._conn().execute("SELECT * FROM steps WHERE run_id = ? ORDER BY position", (run_id,))
        return [_step(r) for r in rows]

    def step(self, run_id: str, step_id: str) -> StepRecord | None:
        row = self._conn().execute("SELECT * FROM steps WHERE run_id = ? AND step_id = ?", (run_id, step_id)).fetchone()
        return _step(row) if row else None

    def events(self, run_id: str, after_id: int = 0) -> list[EventRecord]:
        rows = self._conn().execute("SELECT * FROM events WHERE run_id = ? AND id > ? ORDER BY id", (run_id, after_id))
        return [EventRecord(r["id"], r["run_id"], r["step_id"], r["state"], r["attempt"], r["at"], r["detail"]) for r in rows]

    def metrics(self, run_id: str) -> dict[str, dict[str, float]]:
        found: dict[str, dict[str, float]] = {}
        for r in self._conn().execute("SELECT * FROM metrics WHERE run_id = ? ORDER BY rowid", (run_id,)):
            found.setdefault(r["step_id"], {})[r["name"]] = r["value"]
        return found

    def artifacts(self, run_id: str) -> list[tuple[str, str, str, str]]:
        """(step, port, kind, uri) for every output a run recorded."""
        rows = self._conn().execute("SELECT * FROM artifacts WHERE run_id = ? ORDER BY rowid", (run_id,))
        return [(r["step_id"], r["port"], r["kind"], r["uri"]) for r in rows]

    def find_cached(self, cache_key: str, exclude_run: str | None = None) -> StepRecord | None:
        """The newest successful execution (not itself a cache hit) of a step with this cache key."""
        row = self._conn().execute(
            "SELECT * FROM steps WHERE cache_key = ? AND state = 'succeeded' AND run_id != ?"
            " ORDER BY finished_at DESC LIMIT 1",
            (cache_key, exclude_run or ""),
        ).fetchone()
        return _step(row) if row else None

    def previous_success(self, pipeline: str, step_id: str, exclude_run: str) -> StepRecord | None:
        """The same pipeline's same step the last time it succeeded: used to say why a step re-runs."""
        row = self._conn().execute(
            "SELECT steps.* FROM steps JOIN runs ON runs.id = steps.run_id WHERE runs.pipeline = ?"
            " AND steps.step_id = ? AND steps.state IN ('succeeded', 'cached') AND steps.run_id != ?"
            " ORDER BY steps.finished_at DESC LIMIT 1",
            (pipeline, step_id, exclude_run),
        ).fetchone()
        return _step(row) if row else None

    def endpoints(self, include_stopped: bool = False) -> list[EndpointRecord]:
        """Starting, running and crashed endpoints (and stopped and failed ones with ``include_stopped``)."""
        query = "SELECT * FROM endpoints" + ("" if include_stopped else
                                             f" WHERE state IN ({', '.join('?' * len(ENDPOINT_LISTED_STATES))})")
        args = () if include_stopped else ENDPOINT_LISTED_STATES
        return [_endpoint(r) for r in self._conn().execute(query + " ORDER BY started_at DESC", args)]

    def endpoint(self, name: str) -> EndpointRecord | None:
        row = self._conn().execute("SELECT * FROM endpoints WHERE name = ?", (name,)).fetchone()
        return _endpoint(row) if row else None

    # -- the ownerless exception ------------------------------------------------------

    def mark_lost(self, run_id: str, reason: str) -> None:
        """Mark a run whose process is gone; its unfinished steps become ``failed`` so resume re-runs them."""
        now = time.time()
        with self._write() as db:
            row = db.execute("SELECT state FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None or RunState(row["state"]) in FINISHED_RUN_STATES:
                return
            db.execute("UPDATE runs SET state = ?, finished_at = ?, error = ? WHERE id = ?",
                       (RunState.LOST.value, now, reason, run_id))
            unfinished = db.execute(
                "SELECT step_id, state, attempt FROM steps WHERE run_id = ? AND state IN (?, ?, ?) ORDER BY position",
                (run_id, StepState.QUEUED.value, StepState.RUNNING.value, StepState.RETRYING.value),
            ).fetchall()
            for step in unfinished:
                error = f"the run process stopped while this step was {step['state']}"
                db.execute("UPDATE steps SET state = ?, error = ?, finished_at = ? WHERE run_id = ? AND step_id = ?",
                           (StepState.FAILED.value, error, now, run_id, step["step_id"]))
                db.execute("INSERT INTO events (run_id, step_id, state, attempt, at, detail) VALUES (?, ?, ?, ?, ?, ?)",
                           (run_id, step["step_id"], StepState.FAILED.value, step["attempt"], now, error))
            db.execute("INSERT INTO events (run_id, state, at, detail) VALUES (?, ?, ?, ?)",
                       (run_id, RunState.LOST.value, now, reason))


    # -- drafts: the studio's work in progress (written by the studio only) -------------

    def save_draft(self, draft_id: str, name: str, pipeline_yaml: str) -> None:
        """Create or overwrite a draft; its first save sets ``created_at``."""
        now = time.time()
        with self._write() as db:
            db.execute(
                "INSERT INTO drafts (id, name, pipeline_yaml, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET name = excluded.name, pipeline_yaml = excluded.pipeline_yaml,"
                " updated_at = excluded.updated_at",
                (draft_id, name, pipeline_yaml, now, now),
            )

    def get_draft(self, draft_id: str) -> DraftRecord | None:
        row = self._conn().execute("SELECT * FROM drafts WHERE id = ?", (draft_id,)).fetchone()
        return _draft(row) if row else None

    def list_drafts(self, limit: int = 50) -> list[DraftRecord]:
        """The most recently edited drafts first."""
        rows = self._conn().execute("SELECT * FROM drafts ORDER BY updated_at DESC LIMIT ?", (limit,)).fetchall()
        return [_draft(row) for row in rows]

    def delete_draft(self, draft_id: str) -> bool:
        """Forget a draft; False when there was none by that id."""
        with self._write() as db:
            return db.execute("DELETE FROM drafts WHERE id = ?", (draft_id,)).rowcount > 0


def _draft(row: sqlite3.Row) -> DraftRecord:
    return DraftRecord(id=row["id"], name=row["name"], created_at=row["created_at"], updated_at=row["updated_at"],
                       pipeline_yaml=row["pipeline_yaml"])


def _run(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        id=row["id"], pipeline=row["pipeline"], backend=row["backend"], state=RunState(row["state"]),
        created_at=row["created_at"], started_at=row["started_at"], finished_at=row["finished_at"],
        heartbeat_at=row["heartbeat_at"], pid=row["pid"], host=row["host"], error=row["error"], options=json.loads(row["options"]),
        pipeline_yaml=row["pipeline_yaml"], plan_yaml=row["plan_yaml"],
    )


def _step(row: sqlite3.Row) -> StepRecord:
    return StepRecord(
        run_id=row["run_id"], step_id=row["step_id"], position=row["position"], type=row["type"],
        state=StepState(row["state"]), attempt=row["attempt"], cache_key=row["cache_key"],
        params=json.loads(row["params"]), image=row["image"], inputs=json.loads(row["inputs"]),
        exit_code=row["exit_code"], signal=row["signal"], pid=row["pid"], reason=row["reason"],
        cached_from=row["cached_from"], error=row["error"], log_path=row["log_path"],
        started_at=row["started_at"], finished_at=row["finished_at"], pid_start=row["pid_start"],
    )


def _endpoint(row: sqlite3.Row) -> EndpointRecord:
    return EndpointRecord(
        name=row["name"], url=row["url"], backend=row["backend"], pid=row["pid"], run_id=row["run_id"],
        step_id=row["step_id"], state=row["state"], started_at=row["started_at"], stopped_at=row["stopped_at"],
        input_schema=json.loads(row["input_schema"]), **{column: row[column] for column in _ENDPOINT_COLUMNS},
    )


def _add_columns(conn: sqlite3.Connection, table: str, columns: dict[str, str]) -> None:
    """Give ``table`` of an older store the ``columns`` this version records (names and types are ours)."""
    present = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
    for column, kind in columns.items():
        if column not in present:
            try:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            except sqlite3.OperationalError as exc:  # another process added it first
                if "duplicate column" not in str(exc):
                    raise


def open_store(home: Path | None = None) -> RunStore:
    """The store under ``$PIPECANVAS_HOME``."""
    return RunStore((home or pipecanvas_home()) / "store.db")


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in str(exc)


def _seconds(given: float | None, env: str, default: float) -> float:
    if given is not None:
        return max(0.0, float(given))
    try:
        return max(0.0, float(os.environ.get(env) or default))
    except ValueError:
        return default
