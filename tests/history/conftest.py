"""A history database per test, and helpers to make records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops.history import History, HistoryOptions
from gitops.model import Action, Change, ChangeSet, ResourceKey, SyncRecord, SyncResult, Trigger


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "history.db"


@pytest.fixture
def history(db_path: Path) -> Iterator[History]:
    with History(db_path, HistoryOptions(busy_timeout=10)) as h:
        yield h


def make_record(app: str = "web", result: SyncResult = SyncResult.SUCCEEDED, **kw: object) -> SyncRecord:
    fields: dict[str, object] = {
        "trigger": Trigger.POLL,
        "started": "2024-05-01T12:00:00.000Z",
        "repo": "https://git.example.com/team/deploy.git",
        "path": f"apps/{app}",
        "revision": "a" * 40,
        "author": "Ada Lovelace <ada@example.com>",
        "commit_date": "2024-05-01T11:59:00Z",
        "subject": "Deploy 1.2",
        "finished": "2024-05-01T12:00:05.000Z",
        "changes": ChangeSet(
            (
                Change(
                    ResourceKey("apps", "Deployment", "web", "web"),
                    Action.UPDATE,
                    "workloads",
                    ("spec.replicas: 2 -> 3",),
                ),
                Change(
                    ResourceKey("", "Secret", "web", "creds"),
                    Action.UPDATE,
                    "configuration",
                    ("data.password: *** -> ***",),
                ),
                Change(
                    ResourceKey("", "Service", "web", "old"),
                    Action.PRUNE,
                    "exposure",
                    message="gone from Git",
                ),
            )
        ),
        "error": "",
    }
    fields.update(kw)
    return SyncRecord(app=app, result=result, **fields)  # type: ignore[arg-type]


MANIFESTS = [
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "web"},
        "spec": {"replicas": 3},
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "web"},
        "spec": {"ports": [{"port": 80}]},
    },
]
