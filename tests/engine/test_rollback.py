"""``gitops rollback`` and ``Engine.rollback`` (issue 5): an entry's stored manifests re-applied
exactly, through the sync's own plan and execute path (phases, health gate, prune), recorded
with trigger ``rollback``; afterwards ``gitops diff`` at that entry's revision is empty.

Secrets: history keeps a keyed fingerprint of each Secret's data, never a value. A live Secret
that matches it is left as it is (no Git needed); any other is read from Git at the entry's
revision and checked; when Git cannot supply it the rollback fails naming the Secret, before any
write. Seeded values are grepped for in the history files after every rollback.

The session's live cluster (controllers, 20x clock): workloads become healthy.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops.engine import SyncOptions, restore
from gitops.localcluster import LocalCluster
from gitops.model import SyncResult, Trigger
from tests.conftest import Kubectl
from tests.engine.apps import configmap, dump, web_app
from tests.engine.conftest import EngineEnv, GitRepo, make_env, unique
from tests.engine.test_secrets import database_text, leaks

FIRST, SECOND = "first-horse-battery", "second-staple-correct"


@pytest.fixture
def live_env(live_cluster: LocalCluster, live_kubectl: Kubectl, tmp_path: Path) -> Iterator[EngineEnv]:
    yield from make_env(live_cluster, live_kubectl, tmp_path)
    assert live_cluster.controllers is not None
    assert live_cluster.controllers.errors == []


def password(env: EngineEnv, ns: str) -> str:
    live = env.get("secret", "web-credentials", ns)
    assert live is not None
    return base64.b64decode(live["data"]["DATABASE_PASSWORD"]).decode()


def two_revisions(
    env: EngineEnv, repo: GitRepo, ns: str, name: str, *, second_password: str
) -> tuple[str, str]:
    """Sync v1, then v2 (another log level, image and password, one more ConfigMap) with prune,
    through the CLI; the two SHAs."""
    v1 = repo.commit(web_app(ns, password=FIRST))
    first = env.cli("sync", repo.url, "--app", name, "--prune")
    assert first.exit_code == 0, first.output
    v2 = repo.commit(
        {
            **web_app(ns, log_level="debug", image="nginx:1.28", password=second_password),
            "extra.yaml": dump(configmap(ns, "extra", {"a": "b"})),
        }
    )
    second = env.cli("sync", repo.url, "--app", name, "--prune")
    assert second.exit_code == 0, second.output
    return v1, v2


def test_rollback_restores_the_entry_before_the_current_and_diff_is_then_empty(
    live_env: EngineEnv, repo: GitRepo
) -> None:
    env = live_env
    ns, name = unique("rb"), unique("web")
    v1, v2 = two_revisions(env, repo, ns, name, second_password=SECOND)
    first_id, second_id = (r.id for r in reversed(env.history.list(name)))
    assert password(env, ns) == SECOND and env.get("configmap", "extra", ns) is not None

    result = env.cli("rollback", name, "-o", "json")

    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["trigger"], out["result"], out["revision"]) == ("rollback", "Succeeded", v1)
    assert out["message"] == f"restored history #{first_id} (revision {v1[:8]})"
    newest = env.history.list(name, limit=1)[0]
    assert (newest.trigger, newest.result, newest.revision) == (Trigger.ROLLBACK, SyncResult.SUCCEEDED, v1)
    # The state of entry #1: its config, image and Secret (read from Git at v1: the live
    # values were v2's), and what v1 did not have pruned.
    cm = env.get("configmap", "web-config", ns)
    assert cm is not None and cm["data"]["LOG_LEVEL"] == "info"
    web = env.get("deployment", "web", ns)
    assert web is not None and web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert password(env, ns) == FIRST
    assert env.get("configmap", "extra", ns) is None
    assert any(c.key.name == "extra" and c.action.value == "prune" for c in newest.changes)
    # Nothing differs from the entry's manifests (Git at its revision renders them).
    diff = env.cli("diff", repo.url, "--app", name, "--revision", v1)
    assert diff.exit_code == 0, diff.output
    assert f"{name}: no changes" in diff.stdout

    # --to goes back to any successful entry: here v2 again (its Secret from Git at v2).
    again = env.cli("rollback", name, "--to", str(second_id))
    assert again.exit_code == 0, again.output
    assert f"restored history #{second_id} (revision {v2[:8]})" in again.stdout
    assert password(env, ns) == SECOND
    assert env.cli("diff", repo.url, "--app", name, "--revision", v2).exit_code == 0
    assert [r.trigger for r in env.history.list(name)] == [
        Trigger.ROLLBACK,
        Trigger.ROLLBACK,
        Trigger.CLI,
        Trigger.CLI,
    ]
    # The history holds fingerprints, never a value.
    assert leaks(database_text(env.history_db), [FIRST, SECOND]) == []
    stored = env.history.manifests(newest.id) or []
    (kept,) = [m for m in stored if m["kind"] == "Secret"]
    assert kept["data"] == {"DATABASE_PASSWORD": "<redacted>"}
    assert kept[restore.FINGERPRINT_FIELD].startswith("hmac-sha256:")


def test_a_live_secret_matching_its_fingerprint_is_kept_without_reaching_git(
    live_env: EngineEnv, repo: GitRepo
) -> None:
    env = live_env
    ns, name = unique("rb"), unique("web")
    v1, _ = two_revisions(env, repo, ns, name, second_password=FIRST)  # the password stays
    first_id = env.history.list(name)[-1].id
    shutil.move(repo.path, repo.path.with_name("gone"))  # Git cannot be reached any more
    mark = env.mark()

    outcome = env.engine.rollback(env.app(repo, name, prune=True), options=SyncOptions())

    assert outcome.record.result is SyncResult.SUCCEEDED, outcome.record.error
    assert (outcome.record.trigger, outcome.record.revision) == (Trigger.ROLLBACK, v1)
    assert outcome.record.message == f"restored history #{first_id} (revision {v1[:8]})"
    written = {(r.resource, r.name) for r in env.writes(mark)}
    assert ("secrets", "web-credentials") not in written
    assert ("deployments", "web") in written and ("configmaps", "extra") in written  # pruned
    assert password(env, ns) == FIRST


def test_a_rollback_that_cannot_restore_a_secret_fails_before_any_write(
    live_env: EngineEnv, repo: GitRepo
) -> None:
    env = live_env
    ns, name = unique("rb"), unique("web")
    two_revisions(env, repo, ns, name, second_password=SECOND)
    # The repository is gone, and so is the CLI's clone cache (which would have served the
    # revision offline): no way to the v1 values.
    shutil.move(repo.path, repo.path.with_name("gone"))
    shutil.rmtree(Path(os.environ["XDG_CACHE_HOME"]) / "gitops")
    mark = env.mark()

    result = env.cli("rollback", name)

    assert result.exit_code == 2, result.output
    assert (
        f"Secret/{ns}/web-credentials: its values are not kept in history and cannot be restored"
        in result.output
    )
    assert "Git cannot supply its values" in result.output
    assert env.writes(mark) == []
    assert password(env, ns) == SECOND
    newest = env.history.list(name, limit=1)[0]
    assert (newest.trigger, newest.result) == (Trigger.ROLLBACK, SyncResult.FAILED)
    assert leaks(database_text(env.history_db) + result.output, [FIRST, SECOND]) == []


def test_a_rollback_without_the_config_keeps_the_apps_settings(
    live_env: EngineEnv, repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An app whose replicas are an autoscaler's (ignoreDifferences): a rollback run from
    # elsewhere, without the config file, must still leave them alone. History keeps the
    # app's settings with each sync.
    env = live_env
    ns, name = unique("rb"), unique("web")
    ignore = [{"group": "apps", "kind": "Deployment", "name": "web", "jsonPointers": ["/spec/replicas"]}]
    config = env.config([{"name": name, "repo": repo.url, "namespace": ns, "ignoreDifferences": ignore}])
    v1 = repo.commit(web_app(ns, password=FIRST))
    assert env.cli("sync", "--config", config).exit_code == 0
    scale = '{"spec":{"replicas":3}}'
    env.kubectl.run(
        "patch", "deployment", "web", "-n", ns, "--subresource=scale", "--type=merge", "-p", scale
    )
    repo.commit(
        {
            **web_app(ns, log_level="debug", password=FIRST),
            "extra.yaml": dump(configmap(ns, "extra", {"a": "b"})),
        }
    )
    # A one-off --no-prune is this run's, not the app's: history keeps the config's prune.
    assert env.cli("sync", "--config", config, "--no-prune").exit_code == 0
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gitops.yaml").write_text("kind: GitOpsSet\nspec: {}\n")  # another tool's file

    result = env.cli("rollback", name, "-o", "json")

    assert result.exit_code == 0, result.output
    assert "warning: not using gitops.yaml" in result.stderr
    assert json.loads(result.stdout)["revision"] == v1
    cm = env.get("configmap", "web-config", ns)
    assert cm is not None and cm["data"]["LOG_LEVEL"] == "info"
    web = env.get("deployment", "web", ns)
    assert web is not None and web["spec"]["replicas"] == 3  # the autoscaler's, not v1's 2
    assert env.get("configmap", "extra", ns) is None  # pruned: the app's prune is on

    # ./gitops.yaml is read when it has the app: here one without the ignore, so the
    # rollback to v2 (the entry before the current) applies v2's replicas.
    (tmp_path / "gitops.yaml").write_text(
        json.dumps({"apps": [{"name": name, "repo": repo.url, "namespace": ns}]})
    )
    again = env.cli("rollback", name, "-o", "json")
    assert again.exit_code == 0, again.output
    web = env.get("deployment", "web", ns)
    assert web is not None and web["spec"]["replicas"] == 2


def test_rollback_without_an_earlier_state_is_refused(live_env: EngineEnv, repo: GitRepo) -> None:
    env = live_env
    ns, name = unique("rb"), unique("web")
    repo.commit(web_app(ns, password=FIRST))
    assert env.cli("sync", repo.url, "--app", name).exit_code == 0

    nothing = env.cli("rollback", name)
    unknown = env.cli("rollback", name, "--to", "999")
    stranger = env.cli("rollback", unique("nobody"))

    assert nothing.exit_code == 2 and "no successful sync before history #1" in nothing.output
    assert unknown.exit_code == 2 and "no history entry #999 of this app" in unknown.output
    assert stranger.exit_code == 2 and "no history of an app named" in stranger.output
    assert len(env.history.list(name)) == 1  # refusals are not recorded


def test_auto_rollback_has_nothing_to_restore_when_the_same_manifest_failed(tmp_path: Path) -> None:
    """A re-sync of the revision that last succeeded (self-heal, a retry after an outage) that
    fails the health gate has no earlier state to go back to: the note says so and nothing is
    restored (which would record a 'rollback' that changed nothing)."""
    from gitops.config import App
    from gitops.engine import Engine
    from gitops.history import History
    from gitops.model import Resource, ResourceKey, SyncRecord

    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1"}]}}},
    }
    key = ResourceKey.of(deployment)
    with History.open(tmp_path / "h.db") as history:
        good = history.record(
            SyncRecord("shop", Trigger.CLI, "2026-01-01T00:00:00Z", SyncResult.SUCCEEDED, revision="a" * 40),
            [deployment],
        )
        engine = Engine(None, None, history)  # type: ignore[arg-type]  # no I/O beyond history
        app = App(name="shop", repo="r")
        same = engine._prepare_auto_rollback(app, [key], "a" * 40, {key: Resource(key, deployment)})
        assert same.resources == ()
        assert f"history #{good.id} has the same manifest" in same.note
        changed = dict(
            deployment, spec={"template": {"spec": {"containers": [{"name": "web", "image": "bad"}]}}}
        )
        other = engine._prepare_auto_rollback(app, [key], "b" * 40, {key: Resource(key, changed)})
        assert [r.key for r in other.resources] == [key]
        assert "auto-rollback of Deployment/shop/web" in other.note
