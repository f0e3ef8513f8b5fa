"""A sync end to end from a real Git repository: phase order on the wire, a no-op resync that
costs one LIST per kind and writes nothing, and a one-object commit that writes one object."""

from __future__ import annotations

import shutil
from collections import Counter

from gitops.engine import SyncOptions
from gitops.model import Action, ResourceKey, SyncResult
from gitops.plan import TRACKING_LABEL
from tests.engine.apps import PHASE_OF_RESOURCE, web_app
from tests.engine.conftest import AUTHOR, EngineEnv, GitRepo, unique

APP_KEYS = {
    ("namespaces", "", "{ns}"),
    ("configmaps", "{ns}", "web-config"),
    ("secrets", "{ns}", "web-credentials"),
    ("deployments", "{ns}", "web"),
    ("services", "{ns}", "web"),
    ("ingresses", "{ns}", "web"),
}


def app_keys(ns: str) -> set[tuple[str, str, str]]:
    return {(r, n.format(ns=ns), name.format(ns=ns)) for r, n, name in APP_KEYS}


def test_first_sync_creates_everything_in_phase_order(env: EngineEnv, repo: GitRepo) -> None:
    ns = unique("first")
    sha = repo.commit(web_app(ns), "web: first release")
    app = env.app(repo, ns)

    since = env.mark()
    record = env.sync(app)

    assert record.result is SyncResult.SUCCEEDED, record.error
    assert (record.revision, record.author, record.subject) == (sha, AUTHOR, "web: first release")
    assert [c.action for c in record.changes] == [Action.CREATE] * 6
    writes = env.writes(since)
    assert {(w.resource, w.namespace, w.name) for w in writes} == app_keys(ns)
    assert all(w.verb == "patch" and w.code == 201 for w in writes), writes  # server-side apply
    phases = [PHASE_OF_RESOURCE[w.resource] for w in writes]
    # Namespace, then ConfigMap and Secret, then the Deployment, then Service and Ingress
    assert phases == sorted(phases), [w.resource for w in writes]
    assert sorted(set(phases)) == [1, 2, 3, 4]
    for resource, namespace, name in app_keys(ns):
        live = env.get(resource, name, namespace)
        assert live is not None and live["metadata"]["labels"][TRACKING_LABEL] == ns
    stored = env.history.list(ns)
    assert [(r.id, r.result) for r in stored] == [(record.id, SyncResult.SUCCEEDED)]


def test_second_sync_is_no_change_with_one_list_per_kind_and_no_write(env: EngineEnv, repo: GitRepo) -> None:
    ns = unique("noop")
    repo.commit(web_app(ns), "first")
    app = env.app(repo, ns)
    assert env.sync(app).result is SyncResult.SUCCEEDED

    since = env.mark()
    record = env.sync(app)

    assert record.result is SyncResult.NO_CHANGE, record.error
    assert {c.action for c in record.changes} == {Action.UNCHANGED}
    assert env.writes(since) == []
    sent = env.requests(since)
    lists = Counter(r.resource for r in sent if r.verb == "list")
    kinds = {resource for resource, _, _ in APP_KEYS}
    assert set(lists) == kinds and set(lists.values()) == {1}, lists
    # the engine's discovery is cached: nothing but the LISTs (no GET per object)
    assert len(sent) <= len(kinds) + 2, [(r.verb, r.path) for r in sent]
    assert not [r for r in sent if r.verb == "get" and r.name], "no GET per object on the no-op path"


def test_second_cli_sync_is_no_change_and_costs_lists_plus_discovery(env: EngineEnv, repo: GitRepo) -> None:
    ns = unique("noop-cli")
    repo.commit(web_app(ns), "first")
    first = env.cli("sync", repo.path, "--app", ns)
    assert first.exit_code == 0, first.output
    assert "Succeeded" in first.stdout

    since = env.mark()
    second = env.cli("sync", repo.path, "--app", ns)

    assert second.exit_code == 0, second.output
    assert "-> NoChange" in second.stdout
    assert env.writes(since) == []
    sent = env.requests(since)
    lists = Counter(r.resource for r in sent if r.verb == "list")
    assert set(lists) == {resource for resource, _, _ in APP_KEYS} and set(lists.values()) == {1}, lists
    # A new process discovers the API once (a constant: one GET per API group, none per object).
    others = [r for r in sent if r.verb != "list"]
    assert all(r.verb == "get" and not r.resource for r in others), [(r.verb, r.path) for r in others]
    assert len(others) <= 20


def test_commit_changing_one_configmap_writes_exactly_that_object(env: EngineEnv, repo: GitRepo) -> None:
    ns = unique("one")
    repo.commit(web_app(ns), "first")
    app = env.app(repo, ns)
    assert env.sync(app).result is SyncResult.SUCCEEDED
    sha = repo.commit(web_app(ns, log_level="debug"), "web: debug logging")

    since = env.mark()
    record = env.sync(app)

    assert record.result is SyncResult.SUCCEEDED, record.error
    assert (record.revision, record.subject) == (sha, "web: debug logging")
    writes = env.writes(since)
    assert [(w.verb, w.resource, w.namespace, w.name) for w in writes] == [
        ("patch", "configmaps", ns, "web-config")
    ]
    changed = [c for c in record.changes if c.action is not Action.UNCHANGED]
    assert [(c.key, c.action) for c in changed] == [
        (ResourceKey("", "ConfigMap", ns, "web-config"), Action.UPDATE)
    ]
    assert changed[0].summary == ("data.LOG_LEVEL: info -> debug",)
    stored = env.history.get(record.id)
    assert stored is not None and stored.changes == record.changes
    live = env.get("configmap", "web-config", ns)
    assert live is not None and live["data"] == {"LOG_LEVEL": "debug", "FEATURES": "search"}


def test_a_render_the_caller_holds_is_synced_without_reaching_git(env: EngineEnv, repo: GitRepo) -> None:
    # The daemon's drift check renders a commit; its self-heal sync of that commit reuses it.
    ns = unique("held")
    sha = repo.commit(web_app(ns))
    app = env.app(repo, ns, ns)
    rendered = env.engine.render(app)
    shutil.move(repo.path, repo.path.with_name("gone"))  # Git cannot be reached any more

    outcome = env.engine.sync(app, SyncOptions(wait=False), rendered=rendered)

    assert outcome.record.result is SyncResult.SUCCEEDED, outcome.record.error
    assert outcome.record.revision == sha == rendered.revision
    assert env.get("configmap", "web-config", ns) is not None
