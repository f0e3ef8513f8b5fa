"""Several threads and processes write one history at once; nothing is lost."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from gitops.history import History, HistoryOptions
from gitops.model import SyncResult, Trigger
from tests.history.conftest import MANIFESTS, make_record

_WRITER = """
import sys
from gitops.history import History, HistoryOptions
from gitops.model import SyncRecord, SyncResult, Trigger
path, app, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with History(path, HistoryOptions(retention=1000, busy_timeout=30)) as history:
    for i in range(count):
        id = history.begin(app, Trigger.POLL)
        history.finish(id, SyncRecord(app, Trigger.POLL, "", SyncResult.SUCCEEDED, revision=str(i)),
                       manifests=[{"kind": "ConfigMap", "metadata": {"name": app}, "data": {"i": str(i)}}])
print("ok")
"""


def test_processes_and_threads_write_concurrently(db_path: Path) -> None:
    count = 40
    History(db_path).close()  # create the schema
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(db_path), f"proc{n}", str(count)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    errors: list[BaseException] = []
    with History(db_path, HistoryOptions(retention=1000, busy_timeout=30)) as history:

        def thread_writer(app: str) -> None:
            try:
                for i in range(count):
                    id = history.begin(app, Trigger.WEBHOOK)
                    history.finish(id, make_record(app, revision=str(i)), manifests=MANIFESTS)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=thread_writer, args=(f"thread{n}",)) for n in range(3)]
        for t in threads:
            t.start()
        outs = [p.communicate(timeout=120)[0] for p in procs]
        for t in threads:
            t.join()
        assert errors == []
        assert [p.returncode for p in procs] == [0, 0, 0] and outs == ["ok\n"] * 3
        for app in [*(f"proc{n}" for n in range(3)), *(f"thread{n}" for n in range(3))]:
            records = history.list(app, limit=1000)
            assert sorted(int(r.revision) for r in records) == list(range(count)), app
            assert all(r.result is SyncResult.SUCCEEDED for r in records)
        assert history.running() == []
        assert history.manifests(history.list("proc0", limit=1)[0].id) == [
            {"kind": "ConfigMap", "metadata": {"name": "proc0"}, "data": {"i": str(count - 1)}}
        ]
