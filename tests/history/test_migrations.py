"""Schema migrations: numbered, transactional, applied once."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from gitops.errors import HistoryBusy, HistorySchemaError
from gitops.history import MIGRATIONS, History, HistoryOptions, schema
from gitops.history import owner as owner_
from gitops.model import SyncResult
from tests.history.conftest import MANIFESTS, make_record


def _v1_database(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    assert schema.migrate(conn, target=1) == 1
    conn.execute(
        "INSERT INTO syncs (app, trigger, result, repo, started, finished, changes)"
        " VALUES ('web', 'poll', 'Succeeded', 'https://git.example.com/r.git', '2024-01-01T00:00:00Z',"
        " '2024-01-01T00:00:01Z', '[]')"
    )
    conn.execute(
        "INSERT INTO syncs (app, trigger, result, started, owner) VALUES ('web', 'poll', 'Running', '2024-01-02T00:00:00Z', 'gone')"
    )
    conn.close()


def test_upgrading_a_v1_database_keeps_its_records(db_path: Path) -> None:
    _v1_database(db_path)
    with History(db_path) as history:
        assert schema.current_version(sqlite3.connect(db_path)) == len(MIGRATIONS) == schema.VERSION
        old = history.list("web")
        assert [r.result for r in old] == [SyncResult.INTERRUPTED, SyncResult.SUCCEEDED]
        assert old[1].repo == "https://git.example.com/r.git" and history.manifests(old[1].id) is None
        new = history.record(make_record(), manifests=MANIFESTS)  # v2's manifests work
        assert history.manifests(new.id) == MANIFESTS


def test_opening_again_applies_nothing(db_path: Path) -> None:
    History(db_path).close()
    conn = sqlite3.connect(db_path, isolation_level=None)
    assert schema.migrate(conn) == schema.VERSION
    assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 1


def test_a_newer_database_is_refused(db_path: Path) -> None:
    History(db_path).close()
    sqlite3.connect(db_path, isolation_level=None).execute(
        f"UPDATE schema_version SET version = {schema.VERSION + 1}"
    )
    with pytest.raises(HistorySchemaError, match="newer"):
        History(db_path)


def test_a_failing_migration_leaves_the_previous_version(db_path: Path) -> None:
    _v1_database(db_path)
    broken = (*MIGRATIONS[:1], "CREATE TABLE manifest_blobs (digest TEXT);\nTHIS IS NOT SQL;")
    conn = sqlite3.connect(db_path, isolation_level=None)
    with pytest.raises(HistorySchemaError, match="version 2"):
        schema.migrate(conn, broken)
    assert schema.current_version(conn) == 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "manifest_blobs" not in tables  # rolled back with the rest


def _open_collecting(path: Path, errors: list[BaseException]) -> None:
    try:
        History(path).close()
    except BaseException as exc:
        errors.append(exc)


def _open_at_once(path: Path, openers: int) -> list[BaseException]:
    """Open and close ``path`` from ``openers`` threads released together; what they raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(openers)

    def open_it() -> None:
        barrier.wait()
        _open_collecting(path, errors)

    threads = [threading.Thread(target=open_it) for _ in range(openers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_openers_migrate_once(tmp_path: Path) -> None:
    # Openers racing to convert a rollback-journal database to WAL used to deadlock now and
    # then (SQLite answers SQLITE_BUSY without waiting): many rounds of 8 openers.
    for round_ in range(30):
        db_path = tmp_path / str(round_) / "history.db"
        _v1_database(db_path)
        assert _open_at_once(db_path, 8) == [], f"round {round_}"
        conn = sqlite3.connect(db_path)
        assert schema.current_version(conn) == schema.VERSION
        assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 1


def test_an_opener_waits_for_another_to_finish_opening(db_path: Path) -> None:
    # Deterministic: while the opening lock is held, a new History does not touch the
    # database (no WAL switch, no migration); it goes on once the lock is released.
    _v1_database(db_path)
    owners = db_path.with_name(db_path.name + ".owners")
    owners.mkdir()
    held = owner_.lock_opening(owners, timeout=1)
    errors: list[BaseException] = []
    opener = threading.Thread(target=lambda: _open_collecting(db_path, errors))
    opener.start()
    try:
        opener.join(timeout=0.5)
        assert opener.is_alive(), "opened while another opener held the lock"
        assert schema.current_version(sqlite3.connect(db_path)) == 1
    finally:
        os.close(held)
    opener.join(timeout=30)
    assert not opener.is_alive() and errors == []
    assert schema.current_version(sqlite3.connect(db_path)) == schema.VERSION


def test_an_opener_held_up_past_the_busy_timeout_gives_up_clearly(db_path: Path) -> None:
    History(db_path).close()
    owners = db_path.with_name(db_path.name + ".owners")
    held = owner_.lock_opening(owners, timeout=1)
    try:
        with pytest.raises(HistoryBusy, match=f"opening the history database {db_path}: another opener"):
            History(db_path, HistoryOptions(busy_timeout=0.2))
    finally:
        os.close(held)
    History(db_path, HistoryOptions(busy_timeout=0.2)).close()  # and works once it is released


def test_script_splitting_follows_sqlite() -> None:
    script = "CREATE TABLE a (x TEXT DEFAULT ';');\n-- a comment; with a semicolon\nCREATE TABLE b (y);\n"
    assert len(schema.statements(script)) == 2
