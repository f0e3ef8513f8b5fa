"""Zero noise: right after a successful sync, ``gitops diff`` reports no changes, for the example
repository and every manifest set under tests/data/good, on a cluster whose simulated
controllers are running (they write status, revision annotations, pods and endpoints, as a real
cluster's do, and none of it is Git's business).

One cluster for the module (the sets use fixed namespaces such as ``shop`` and ``prod``, and a
cluster-scoped CRD), one Git repository holding every set, one app per set."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops.localcluster import LocalCluster
from gitops.model import Action, SyncResult
from gitops.plan import TRACKING_LABEL
from tests.conftest import LIVE_CLOCK_SCALE, Kubectl
from tests.engine.conftest import EXAMPLES, GOOD, EngineEnv, GitRepo, git, make_env, unique

# set -> the app's path inside it (a kustomization's overlay, a chart's directory)
SETS = {
    "examples/repo": ".",
    **{f"good/{p.name}": "." for p in sorted(GOOD.iterdir()) if p.is_dir()},
    "good/kustomize": "overlays/prod",
    "good/helm": "web",
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    kubeconfig = tmp_path_factory.mktemp("zero-noise") / "kubeconfig"
    with LocalCluster(kubeconfig=kubeconfig, clock_scale=LIVE_CLOCK_SCALE) as c:
        yield c


@pytest.fixture(scope="module")
def all_sets(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    """One repository with every set, committed once."""
    path = tmp_path_factory.mktemp("sets") / "repo"
    shutil.copytree(EXAMPLES, path / "examples" / "repo")
    shutil.copytree(GOOD, path / "good", symlinks=True)
    git(path.parent, "init", "-q", "-b", "main", str(path))
    repo = GitRepo(path)
    repo.commit({}, "every manifest set")
    return repo


@pytest.fixture
def live_env(
    live: LocalCluster, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EngineEnv]:
    yield from make_env(live, Kubectl(live.kubeconfig, tmp_path_factory.mktemp("kubectl-home")), tmp_path)


def test_every_good_set_is_checked() -> None:
    assert {s.removeprefix("good/") for s in SETS if s.startswith("good/")} == {
        p.name for p in GOOD.iterdir()
    }


@pytest.mark.parametrize("case", sorted(SETS))
def test_diff_right_after_a_sync_reports_no_changes(
    live_env: EngineEnv, all_sets: GitRepo, case: str
) -> None:
    env = live_env
    app = unique(case.rsplit("/", 1)[-1])
    ns = env.create_namespace(unique("noise"))  # for the sets' objects without a namespace
    target = (all_sets.path, "--path", f"{case}/{SETS[case]}", "--app", app, "--namespace", ns)

    sync = env.cli("sync", *target)

    assert sync.exit_code == 0, sync.output
    assert "-> Succeeded" in sync.stdout
    # the controllers roll the Deployments out, writing what a real cluster's controllers write
    # (status, a revision annotation, ReplicaSets, pods, endpoints): none of it is drift
    deployments = env.kubectl.json("get", "deployments", "-A", "-l", f"{TRACKING_LABEL}={app}")["items"]
    for d in deployments:
        meta = d["metadata"]
        env.kubectl.run(
            "rollout", "status", "deployment", meta["name"], "-n", meta["namespace"], "--timeout=60s"
        )
    assert env.cluster.settle(30), "the controllers did not settle"
    diff = env.cli("diff", *target)
    assert diff.exit_code == 0, diff.output
    assert f"{app}: no changes" in diff.stdout
    since = env.mark()
    again = env.cli("sync", *target, "-o", "json")
    assert again.exit_code == 0, again.output
    assert '"result": "NoChange"' in again.stdout
    assert env.writes(since) == []
    [latest, first] = env.history.list(app)
    assert (latest.result, first.result) == (SyncResult.NO_CHANGE, SyncResult.SUCCEEDED)
    assert {c.action for c in latest.changes} == {Action.UNCHANGED}
    assert len(latest.changes) == len(first.changes) >= 1
