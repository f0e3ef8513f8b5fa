"""Storing and reading sync records."""

from __future__ import annotations

import sqlite3
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from gitops.errors import HistoryError
from gitops.history import History, HistoryOptions, default_path
from gitops.model import SyncRecord, SyncResult, Trigger
from tests.history.conftest import MANIFESTS, make_record


def test_sync_record_row_round_trip_redacts_the_repository() -> None:
    record = make_record(repo="https://x-access-token:ghs_SECRET@github.com/o/r.git", id=7)
    row = record.to_row()
    assert "ghs_SECRET" not in str(row) and row["repo"] == "https://github.com/o/r.git"
    back = SyncRecord.from_row({**row, "id": 7})
    assert back == replace(record, repo="https://github.com/o/r.git")


def test_begin_then_finish_stores_every_field(history: History) -> None:
    id = history.begin("web", Trigger.WEBHOOK, repo="https://tok3n@git.example.com/r.git", path="apps/web")
    assert history.running() == [id] and history.get(id) is None
    stored = history.finish(
        id, make_record(trigger=Trigger.WEBHOOK, repo="https://tok3n@git.example.com/r.git")
    )
    assert stored.id == id and history.running() == []
    got = history.get(id)
    assert got == stored
    assert got is not None and got.repo == "https://git.example.com/r.git"
    assert [c.action.value for c in got.changes] == ["update", "update", "prune"]
    assert got.changes.changes[0].summary == ("spec.replicas: 2 -> 3",)
    raw = sqlite3.connect(history.path).execute("SELECT repo FROM syncs").fetchall()
    assert "tok3n" not in str(raw)


def test_finish_keeps_begin_start_time_when_the_record_has_none(history: History) -> None:
    id = history.begin("web", Trigger.CLI, started="2024-01-01T00:00:00.000Z")
    stored = history.finish(id, make_record(started="", finished="", result=SyncResult.FAILED, error="boom"))
    assert stored.started == "2024-01-01T00:00:00.000Z"
    assert stored.finished.endswith("Z") and stored.finished > stored.started
    assert history.get(id) == stored


def test_every_result_is_recorded(history: History) -> None:
    for result in SyncResult:
        history.record(
            make_record(result=result, error="" if not result.failed else f"{result.value} because")
        )
    assert {r.result for r in history.list(limit=100)} == set(SyncResult)


def test_list_is_newest_first_per_app_with_limit_and_paging(history: History) -> None:
    ids = {app: [history.record(make_record(app)).id for _ in range(5)] for app in ("web", "api")}
    assert [r.id for r in history.list("web", limit=3)] == ids["web"][::-1][:3]
    assert [r.id for r in history.list("web", limit=10, before=ids["web"][2])] == ids["web"][:2][::-1]
    assert len(history.list(limit=100)) == 10
    assert history.list("nope") == []
    assert history.get(999) is None


def test_finish_refuses_unknown_finished_or_foreign_entries(history: History) -> None:
    with pytest.raises(HistoryError, match="no such"):
        history.finish(12345, make_record())
    id = history.begin("web", Trigger.POLL)
    with pytest.raises(HistoryError, match="belongs to web"):
        history.finish(id, make_record("api"))
    history.finish(id, make_record())
    with pytest.raises(HistoryError, match="already finished"):
        history.finish(id, make_record(result=SyncResult.FAILED))
    assert history.get(id) is not None and history.get(id).result is SyncResult.SUCCEEDED  # type: ignore[union-attr]


def test_a_failed_finish_changes_nothing(history: History) -> None:
    id = history.begin("web", Trigger.POLL)
    with pytest.raises(HistoryError, match="JSON"):
        history.finish(id, make_record(), manifests=[{"bad": object()}])
    assert history.running() == [id]  # still running: the caller can finish it again
    history.finish(id, make_record(), manifests=MANIFESTS)
    assert history.manifests(id) == MANIFESTS


def test_manifests_of_successful_syncs_are_compressed_and_shared(history: History) -> None:
    a = history.record(make_record(), manifests=MANIFESTS)
    b = history.record(make_record(result=SyncResult.NO_CHANGE), manifests=MANIFESTS)
    failed = history.record(make_record(result=SyncResult.FAILED), manifests=MANIFESTS)
    assert history.manifests(a.id) == MANIFESTS and history.manifests(b.id) == MANIFESTS
    assert history.manifests(failed.id) is None  # only successes are rollback targets
    conn = sqlite3.connect(history.path)
    blobs = conn.execute("SELECT data FROM manifest_blobs").fetchall()
    assert len(blobs) == 1
    assert b'"replicas":3' in zlib.decompress(blobs[0][0])


def test_last_successful(history: History) -> None:
    assert history.last_successful("web") is None
    ok = history.record(make_record(), manifests=MANIFESTS)
    history.record(make_record(result=SyncResult.FAILED))
    history.record(make_record(result=SyncResult.DEGRADED))
    history.record(make_record("api"))
    last = history.last_successful("web")
    assert last is not None and last.id == ok.id
    nochange = history.record(make_record(result=SyncResult.NO_CHANGE))
    assert history.last_successful("web").id == nochange.id  # type: ignore[union-attr]


def test_retention_keeps_n_entries_and_the_last_success_with_manifests(db_path: Path) -> None:
    with History(db_path, HistoryOptions(retention=5)) as history:
        good = history.record(make_record(), manifests=MANIFESTS)
        failures = [history.record(make_record(result=SyncResult.FAILED)).id for _ in range(8)]
        other = history.record(make_record("api"))
        ids = [r.id for r in history.list("web", limit=100)]
        assert ids == [*failures[::-1][:5], good.id]  # 5 newest, and the protected success
        assert history.manifests(good.id) == MANIFESTS
        assert history.get(other.id) is not None  # retention is per app

        running = history.begin("web", Trigger.POLL)
        newer = history.record(make_record(), manifests=[{"kind": "ConfigMap"}])
        for _ in range(5):
            history.record(make_record(result=SyncResult.FAILED))
        assert history.get(good.id) is None  # a newer success with manifests took its place
        assert history.get(newer.id) is not None and history.running() == [running]
        blobs = sqlite3.connect(db_path).execute("SELECT COUNT(*) FROM manifest_blobs").fetchone()[0]
        assert blobs == 1  # the old manifests went with their last entry


def test_database_is_in_wal_mode_in_the_default_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    assert default_path() == tmp_path / "xdg-state" / "gitops" / "history.db"
    with History() as history:
        assert history.path == default_path()
        history.record(make_record())
    mode = sqlite3.connect(default_path()).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_unusable_path_is_a_history_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(HistoryError):
        History(tmp_path / "dir.db")


def test_closed_history_refuses_use(db_path: Path) -> None:
    history = History(db_path)
    history.close()
    history.close()
    with pytest.raises(HistoryError, match="closed"):
        history.list()
