"""The endpoints table: a store written by an older pipecanvas opens and keeps its endpoints; claims are exclusive."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from runtime.run_store import EndpointRecord, RunStore


def test_a_store_from_before_the_endpoint_columns_opens_and_keeps_its_endpoints(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE endpoints (name TEXT PRIMARY KEY, url TEXT NOT NULL, backend TEXT NOT NULL, pid INTEGER,"
                " run_id TEXT, step_id TEXT, state TEXT NOT NULL, started_at REAL NOT NULL, stopped_at REAL,"
                " input_schema TEXT NOT NULL DEFAULT '{}')")
    old.execute("INSERT INTO endpoints VALUES ('iris', 'http://127.0.0.1:8011', 'local', 123, 'r1', 'serve',"
                " 'running', 1.0, NULL, '{}')")
    old.commit()
    old.close()
    store = RunStore(path)
    endpoint = store.endpoint("iris")
    assert (endpoint.url, endpoint.state, endpoint.port, endpoint.detail) == ("http://127.0.0.1:8011", "running", None, None)
    assert RunStore(path).endpoint("iris") == endpoint  # a second open finds the columns already there


def test_a_claim_fails_when_another_deploy_changed_the_row_first(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "store.db")

    def claim(run_id: str) -> EndpointRecord:
        return EndpointRecord("iris", "http://127.0.0.1:1", "local", None, run_id, "serve", "starting", time.time(),
                              None, {}, port=1)

    assert store.claim_endpoint(claim("r1"), replacing=None)
    seen = store.endpoint("iris").started_at
    assert store.claim_endpoint(claim("r2"), replacing=seen)
    assert not store.claim_endpoint(claim("r3"), replacing=seen)  # r2's claim replaced the row r3 saw
    assert store.endpoint("iris").run_id == "r2"
