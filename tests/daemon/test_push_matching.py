"""Which apps a push names (Daemon.push), URL spellings and unparseable links included. The
daemon is not started: a matched app only gets a pending run, and the engine is never used
(a stand-in without history or cluster)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import pytest

from gitops.config import App, Config
from gitops.daemon.interface import Push
from gitops.daemon.metrics import Metrics
from gitops.daemon.service import Daemon
from gitops.engine import Engine


def _daemon(*apps: App) -> Daemon:
    return Daemon(Config(apps), cast(Engine, SimpleNamespace(history=None, cluster=None)), Metrics())


def test_a_push_matches_by_any_good_link_and_an_unparseable_one_is_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    daemon = _daemon(
        App(name="web", repo="git@git.example.com:team/deploy.git", revision="main"),
        App(name="docs", repo="https://git.example.com/team/docs.git", revision="main"),
        App(name="odd", repo="https://git.example.com:notaport/team/deploy.git", revision="main"),
    )
    push = Push(
        provider="gitlab",
        repo_urls=("https://git.example.com:notaport/x", "", "https://git.example.com/Team/deploy"),
        ref="refs/heads/main",
    )
    # path case matters on a self-hosted server: Team/deploy is another repository
    assert daemon.push(push) == []
    push = Push(
        provider="gitlab",
        repo_urls=("https://git.example.com:notaport/x", "https://git.example.com/team/deploy.git"),
        ref="refs/heads/main",
    )
    assert daemon.push(push) == ["web"]  # the app with an unparseable repo matches nothing
    assert daemon.push(Push("gitlab", ("https://git.example.com/team/deploy",), "refs/heads/dev")) == []
    (warning,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert warning.getMessage().startswith("app odd: no webhook can name its repository")
