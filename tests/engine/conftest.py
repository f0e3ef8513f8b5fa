"""Fixtures for the engine's integration tests (issue 4): real Git repositories made by the tests,
the engine and the ``gitops`` CLI against the local cluster over HTTP, and the cluster's request
log as the witness of what reached the API server.

- ``repo``: a new work repository (``git init``) with a fixed author and commit dates; ``commit``
  writes or deletes files and returns the new SHA. The engine reads it as it reads any remote,
  through its own clone cache.
- ``env``: an :class:`EngineEnv` on the module's API-only cluster (``api_cluster``, started
  for each test module so that no other package's objects, CRDs for one, are in it): an Engine
  with the test's own clone cache and history file, kubectl, the request log, and ``cli(...)``
  running ``gitops`` in-process against this cluster and history. ``make_env`` builds one on
  any cluster (the zero-noise tests use one with controllers).
- Every test runs with its own HOME and XDG directories, so the CLI's default clone cache and
  history, git's configuration and kubectl's discovery cache are the test's own; the terminal
  is wide, so table cells are not folded and a test can search the output for a name.

Names are unique per test (:func:`unique`): the tests of a module share its cluster.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from gitops.cli.main import cli
from gitops.cluster import USER_AGENT, Cluster, ClusterOptions
from gitops.config import App
from gitops.engine import Engine, SyncOptions
from gitops.git import GitOptions, Source
from gitops.history import History
from gitops.localcluster import LocalCluster
from gitops.localcluster.api import WriteOptions
from gitops.localcluster.server import RequestRecord
from gitops.model import SyncRecord
from tests.conftest import Kubectl

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "repo"
DATA = ROOT / "tests" / "data"
GOOD = DATA / "good"
BAD = DATA / "bad"

AUTHOR = "Ada Lovelace <ada@example.com>"
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Lovelace",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Lovelace",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
}


def unique(prefix: str) -> str:
    """A DNS-label name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def git(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **_GIT_IDENTITY, **(env or {})},
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


@dataclass
class GitRepo:
    """A work repository the engine syncs from (its path is the repository URL)."""

    path: Path
    commits: int = 0

    @property
    def url(self) -> str:
        return str(self.path)

    def commit(self, files: Mapping[str, str | None], message: str = "change") -> str:
        """Write (or, with None, delete) files, commit them all, and return the new SHA."""
        for name, content in files.items():
            target = self.path / name
            if content is None:
                git(self.path, "rm", "-q", "-r", "--ignore-unmatch", name)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        git(self.path, "add", "-A")
        self.commits += 1
        date = f"2024-03-{self.commits:02d}T12:00:00+00:00"
        git(
            self.path,
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            message,
            env={"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date},
        )
        return git(self.path, "rev-parse", "HEAD")


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_STATE_HOME", "state"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "KUBECONFIG", "GITOPS_GIT_TOKEN", "GITOPS_GIT_TOKEN_FILE"):
        monkeypatch.delenv(var, raising=False)
    for var, value in _GIT_IDENTITY.items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("COLUMNS", "250")


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return GitRepo(path)


def run_cli(*args: str | Path) -> Result:
    """``gitops ARGS`` in-process (click's CliRunner); ``stdout`` and ``stderr`` apart."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@dataclass
class EngineEnv:
    """One test's view of a cluster: the engine, the CLI and kubectl pointed at it."""

    cluster: LocalCluster
    kubectl: Kubectl
    engine: Engine
    history_db: Path
    tmp: Path

    # ------------------------------------------------------------------- the engine

    def app(self, repo: GitRepo | Path | str, name: str, namespace: str = "default", **kw: Any) -> App:
        url = repo.url if isinstance(repo, GitRepo) else str(repo)
        return App(name=name, repo=url, namespace=namespace, prune=kw.pop("prune", False), **kw)

    @property
    def controllers(self) -> bool:
        """Whether the cluster runs controllers: without them no workload ever becomes healthy,
        so syncs there skip the health gate."""
        return self.cluster.controllers is not None

    def sync(self, app: App, **options: Any) -> SyncRecord:
        options.setdefault("wait", self.controllers)
        return self.engine.sync(app, SyncOptions(**options)).record

    @property
    def history(self) -> History:
        history = self.engine.history
        assert history is not None
        return history

    # ------------------------------------------------------------------- the CLI

    @property
    def target(self) -> tuple[str, ...]:
        """The options that point ``sync``, ``diff`` and ``plan`` at this cluster and history."""
        return ("--kubeconfig", str(self.cluster.kubeconfig), "--history-db", str(self.history_db))

    def cli(self, command: str, *args: str | Path) -> Result:
        """``gitops COMMAND ARGS`` against this cluster (``history``: this history file)."""
        if command == "history":
            return run_cli(command, *args, "--history-db", self.history_db)
        if command == "sync" and not self.controllers and "--help" not in args:
            args = (*args, "--no-wait")
        return run_cli(command, *args, *self.target)

    def config(self, apps: Sequence[Mapping[str, Any]]) -> Path:
        """An apps config file (gitops.yaml) listing ``apps``."""
        path = self.tmp / f"gitops-{uuid.uuid4().hex[:6]}.yaml"
        path.write_text(yaml.safe_dump({"apps": list(apps)}, sort_keys=False))
        return path

    # ------------------------------------------------------------------- the request log

    def mark(self) -> int:
        """A point in the request log; pass it to ``requests``/``writes``."""
        return self.cluster.requests.last_seq

    def requests(self, since: int) -> list[RequestRecord]:
        """Every request the engine (or the CLI) sent since ``since``."""
        return [r for r in self.cluster.requests.records(since) if r.user_agent.startswith(USER_AGENT)]

    def writes(self, since: int) -> list[RequestRecord]:
        """Persisting requests (dry runs excluded) the engine sent since ``since``."""
        return self.cluster.requests.writes(since, USER_AGENT)

    # ------------------------------------------------------------------- the cluster

    def create_namespace(self, name: str) -> str:
        """A namespace made by someone else (not the app): the app's objects go in it."""
        rt = self.cluster.registry.by_plural("", "v1", "namespaces")
        assert rt is not None
        self.cluster.api.create(rt, "", {"metadata": {"name": name}}, WriteOptions(manager="test-setup"))
        return name

    def get(self, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        """The live object, through kubectl (None when it does not exist)."""
        args = ["get", kind, name, "-o", "json", *(["-n", namespace] if namespace else [])]
        proc = self.kubectl.run(*args, check=False)
        if proc.returncode != 0:
            assert "NotFound" in proc.stderr, proc.stderr
            return None
        obj: dict[str, Any] = json.loads(proc.stdout)
        return obj


def make_env(cluster: LocalCluster, kubectl: Kubectl, tmp: Path) -> Iterator[EngineEnv]:
    history_db = tmp / "h.db"
    connection = Cluster.connect(ClusterOptions(kubeconfig=cluster.kubeconfig))
    history = History(history_db)
    engine = Engine(connection, Source(GitOptions(cache_dir=tmp / "git-cache")), history)
    try:
        yield EngineEnv(cluster, kubectl, engine, history_db, tmp)
    finally:
        history.close()
        connection.close()


@pytest.fixture(scope="module")
def api_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """One API-only cluster per test module: no other package's objects (CRDs...) in it."""
    with LocalCluster(kubeconfig=tmp_path_factory.mktemp("engine") / "kubeconfig", controllers=False) as c:
        yield c


@pytest.fixture(scope="module")
def api_kubectl(api_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(api_cluster.kubeconfig, tmp_path_factory.mktemp("kubectl-home"))


@pytest.fixture
def env(api_cluster: LocalCluster, api_kubectl: Kubectl, tmp_path: Path) -> Iterator[EngineEnv]:
    yield from make_env(api_cluster, api_kubectl, tmp_path)
