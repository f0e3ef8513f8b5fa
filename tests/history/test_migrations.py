"""Schema migrations: numbered, transactional, applied once."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from gitops.errors import HistorySchemaError
from gitops.history import MIGRATIONS, History, schema
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


def _open_at_once(path: Path, openers: int) -> list[BaseException]:
    """Open and close ``path`` from ``openers`` threads released together; what they raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(openers)

    def open_it() -> None:
        try:
            barrier.wait()
            History(path).close()
        except BaseException as exc:
            errors.append(exc)

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


def test_script_splitting_follows_sqlite() -> None:
    script = "CREATE TABLE a (x TEXT DEFAULT ';');\n-- a comment; with a semicolon\nCREATE TABLE b (y);\n"
    assert len(schema.statements(script)) == 2
