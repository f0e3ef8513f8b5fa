"""A crash mid-sync leaves an entry marked Interrupted; live syncs elsewhere are left alone."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from gitops.history import History
from gitops.model import SyncResult, Trigger
from tests.history.conftest import make_record

_SYNCER = """
import sys
from gitops.history import History
from gitops.model import Trigger
history = History(sys.argv[1])
print(history.begin("web", Trigger.POLL, repo="https://s3cret@git.example.com/r.git", path="apps/web"), flush=True)
sys.stdin.read()  # the sync "runs" until the test kills us
"""


def _start_syncer(db_path: Path) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _SYNCER, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip().isdigit(), f"the syncer did not begin a sync (exit {proc.poll()})"
    return proc, int(line)


def test_sigkilled_sync_is_interrupted_at_the_next_start(db_path: Path) -> None:
    proc, id = _start_syncer(db_path)
    try:
        with History(db_path) as watcher:  # another process opening now sees a live sync
            assert watcher.running() == [id]
            assert watcher.recover() == [] and watcher.recovered == []
            assert watcher.get(id) is None
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    with History.open(db_path) as history:
        assert history.recovered == [id]  # what the open found, for the daemon's start-up log
        record = history.get(id)
        assert record is not None and record.result is SyncResult.INTERRUPTED
        assert "interrupted" in record.error and record.finished
        assert record.app == "web" and record.path == "apps/web"
        assert record.repo == "https://git.example.com/r.git"
        assert history.running() == []
        assert history.last_successful("web") is None
    owners = db_path.with_name(db_path.name + ".owners")
    assert [p.name for p in owners.iterdir()] == ["opening"]  # the dead owner's lock file was swept


def test_a_running_history_can_recover_after_a_peer_dies(db_path: Path) -> None:
    with History(db_path) as daemon:
        proc, id = _start_syncer(db_path)
        proc.kill()
        proc.wait(timeout=30)
        assert daemon.recover() == [id]
        assert daemon.get(id).result is SyncResult.INTERRUPTED  # type: ignore[union-attr]


def test_own_unfinished_syncs_are_interrupted_on_close(db_path: Path) -> None:
    history = History(db_path)
    id = history.begin("web", Trigger.CLI)
    other = History(db_path)
    assert other.recover() == []  # alive: same process, another History
    history.close()
    record = other.get(id)
    assert record is not None and record.result is SyncResult.INTERRUPTED
    assert "closed" in record.error
    other.close()


def test_finish_after_interruption_is_refused(db_path: Path) -> None:
    import pytest

    from gitops.errors import HistoryError

    proc, id = _start_syncer(db_path)
    proc.kill()
    proc.wait(timeout=30)
    with History(db_path) as history, pytest.raises(HistoryError, match="already finished"):
        history.finish(id, make_record())
