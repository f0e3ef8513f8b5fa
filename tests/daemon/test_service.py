"""The scheduler's reconcile run (Daemon._run) against a stand-in engine: no cluster, no Git."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from gitops import errors
from gitops.config import App, Config
from gitops.daemon.metrics import Metrics
from gitops.daemon.service import Daemon
from gitops.engine import Engine


@pytest.mark.parametrize("sha", ["A1B2C3D4" * 5, "a1b2c3d4" * 8], ids=["upper-case-sha1", "sha256"])
def test_a_pinned_commit_is_synced_without_ls_remote(sha: str) -> None:
    synced: list[str] = []

    def ls_remote(url: str, ref: str) -> str | None:
        raise AssertionError("a pinned commit needs no ls-remote (it answers None for a SHA)")

    def sync(app: App, options: Any, rendered: Any = None) -> Any:
        synced.append(app.revision)
        raise errors.HistoryError("stop here")

    engine = SimpleNamespace(
        history=None, cluster=None, source=SimpleNamespace(ls_remote=ls_remote), sync=sync
    )
    daemon = Daemon(
        Config((App(name="pinned", repo="https://git.example.com/team/deploy.git", revision=sha),)),
        cast(Engine, engine),
        Metrics(),
    )
    daemon._run("pinned")
    status = daemon.app("pinned")
    assert status is not None
    assert status.tracked_revision == sha.lower()
    assert synced == [sha.lower()]
