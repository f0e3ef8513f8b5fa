"""Prune deletes what left Git and nothing else: not what merely copied the tracking label, not
what is annotated to be kept, not another app's objects, never everything because Git came back
empty, and Namespaces only when the app allows it. Off by default in the CLI, on in configs."""

from __future__ import annotations

import json

import pytest

from gitops.engine import Cancel, SyncOptions
from gitops.model import Action, ResourceKey, SyncResult
from gitops.plan import TRACKING_LABEL
from tests.engine.apps import configmap, dump, namespace, service, web_app
from tests.engine.conftest import EngineEnv, GitRepo, unique

pytestmark = pytest.mark.kubectl


def _in(prefix: str, files: dict[str, str]) -> dict[str, str]:
    return {f"{prefix}/{name}": text for name, text in files.items()}


def _actions(output: str) -> dict[str, tuple[str, str]]:
    """``gitops sync -o json``'s changes: object -> (action, message)."""
    changes = json.loads(output)["changes"]
    out = {}
    for c in changes:
        key = ResourceKey(c["group"], c["kind"], c["namespace"], c["name"])
        out[str(key)] = (c["action"], c["message"])
    return out


def test_prune_deletes_what_left_git_and_nothing_else(env: EngineEnv, repo: GitRepo) -> None:
    ns = unique("prune")
    other = unique("other")
    legacy = dump(
        configmap(ns, "legacy", {"a": "1"}),
        configmap(ns, "kept-by-git", {"b": "2"}, annotations={"gitops.dev/prune": "disabled"}),
        configmap(ns, "kept-by-hand", {"c": "3"}),
    )
    repo.commit(
        {
            **_in("web", {**web_app(ns), "legacy.yaml": legacy}),
            "other/config.yaml": dump(configmap(ns, "other-config", {"owner": "other"})),
        },
        "first",
    )
    assert env.cli("sync", repo.path, "--path", "web", "--app", ns).exit_code == 0
    result = env.cli("sync", repo.path, "--path", "other", "--app", other)
    assert result.exit_code == 0, result.output
    # objects the app never applied: one made by hand, one that copied the app's tracking label
    # (kubectl apply, not kubectl create configmap: the create generators send protobuf, which the
    # local cluster refuses, K8S-API.md §1)
    env.kubectl.run("apply", "-f", "-", input=dump(configmap(ns, "handmade", {"k": "v"})))
    copycat = dump(configmap(ns, "copycat", {"k": "v"}, labels={TRACKING_LABEL: ns}))
    env.kubectl.run("apply", "-f", "-", input=copycat)
    env.kubectl.run("annotate", "configmap", "kept-by-hand", "-n", ns, "gitops.dev/prune=disabled")
    repo.commit({"web/legacy.yaml": None}, "web: drop the legacy config")

    # without --prune (the CLI's default) nothing is deleted, and the sync says so
    since = env.mark()
    plain = env.cli("sync", repo.path, "--path", "web", "--app", ns, "-o", "json")
    assert plain.exit_code == 0, plain.output
    assert _actions(plain.stdout)[f"ConfigMap/{ns}/legacy"] == (
        "skip",
        "left Git, but prune is disabled for this app; not pruned",
    )
    assert env.writes(since) == []

    since = env.mark()
    pruned = env.cli("sync", repo.path, "--path", "web", "--app", ns, "--prune", "-o", "json")

    assert pruned.exit_code == 0, pruned.output
    actions = _actions(pruned.stdout)
    assert actions[f"ConfigMap/{ns}/legacy"] == ("prune", "left Git")
    action, reason = actions[f"ConfigMap/{ns}/copycat"]
    assert action == "skip" and "field manager 'gitops' never applied it" in reason
    assert actions[f"ConfigMap/{ns}/kept-by-git"] == (
        "skip",
        "annotated gitops.dev/prune: disabled; not pruned",
    )
    assert actions[f"ConfigMap/{ns}/kept-by-hand"] == (
        "skip",
        "annotated gitops.dev/prune: disabled; not pruned",
    )
    assert f"ConfigMap/{ns}/handmade" not in actions  # no label: never the app's
    assert f"ConfigMap/{ns}/other-config" not in actions  # another app's
    writes = env.writes(since)
    assert [(w.verb, w.resource, w.namespace, w.name) for w in writes] == [
        ("delete", "configmaps", ns, "legacy")
    ]
    assert env.get("configmap", "legacy", ns) is None
    for name in ("copycat", "kept-by-git", "kept-by-hand", "handmade", "other-config", "web-config"):
        assert env.get("configmap", name, ns) is not None, name
    for kind in ("deployment", "service", "ingress", "secret"):
        assert env.get(kind, "web" if kind != "secret" else "web-credentials", ns) is not None
    shown = env.cli("sync", repo.path, "--path", "web", "--app", ns, "--prune")
    assert "never applied it" in shown.stdout  # the reason is in the table, too
    assert "-> NoChange" in shown.stdout


def test_prune_is_on_in_an_apps_config(env: EngineEnv, repo: GitRepo) -> None:
    ns = unique("config")
    repo.commit({**web_app(ns), "extra.yaml": dump(configmap(ns, "extra", {"a": "b"}))}, "first")
    config = env.config([{"name": ns, "repo": str(repo.path), "namespace": ns, "prune": True}])
    assert env.cli("sync", "--config", config).exit_code == 0
    repo.commit({"extra.yaml": None}, "drop extra")
    since = env.mark()

    result = env.cli("sync", "--config", config)

    assert result.exit_code == 0, result.output
    assert f"prune   ConfigMap/{ns}/extra" in result.stdout
    assert [(w.verb, w.name) for w in env.writes(since)] == [("delete", "extra")]
    assert env.get("configmap", "extra", ns) is None
    [latest, _] = env.history.list(ns)
    assert [(str(c.key), c.action) for c in latest.changes if c.action is not Action.UNCHANGED] == [
        (f"ConfigMap/{ns}/extra", Action.PRUNE)
    ]


def test_a_cancel_after_the_last_phase_prunes_nothing(env: EngineEnv, repo: GitRepo) -> None:
    # A newer revision may still need what this one would prune: a cancel that lands once the
    # last phase is applied stops the sync before any delete, and the record says what was not.
    ns = unique("cancelprune")
    svc = service(ns, "web")
    files = {"ns.yaml": dump(namespace(ns)), "svc.yaml": dump(svc)}
    repo.commit({**files, "extra.yaml": dump(configmap(ns, "extra", {"a": "b"}))}, "first")
    app = env.app(repo, ns, ns, prune=True)
    assert env.sync(app).result is SyncResult.SUCCEEDED
    svc["spec"]["ports"][0]["port"] = 8080
    repo.commit({"svc.yaml": dump(svc), "extra.yaml": None}, "a new port; drop extra")

    cancel = Cancel()

    def cancel_after_the_first_write(verb: str, status: int) -> None:
        if verb == "patch":  # the Service's apply, the one write before prune
            cancel.cancel()

    env.engine.cluster.observer = cancel_after_the_first_write
    since = env.mark()
    outcome = env.engine.sync(app, SyncOptions(cancel=cancel, wait=False))

    record = outcome.record
    assert outcome.cancelled and record.result is SyncResult.FAILED
    assert record.error == "cancelled: a newer revision arrived before prune"
    assert [(w.verb, w.name) for w in env.writes(since)] == [("patch", "web")]
    live = env.get("service", "web", ns)
    assert live is not None and live["spec"]["ports"][0]["port"] == 8080
    assert env.get("configmap", "extra", ns) is not None
    by_key = {str(c.key): c for c in record.changes}
    assert by_key[f"Service/{ns}/web"].action is Action.UPDATE
    extra = by_key[f"ConfigMap/{ns}/extra"]
    assert (extra.action, extra.message) == (
        Action.SKIP,
        "not pruned: cancelled: a newer revision arrived before prune",
    )


def test_an_empty_desired_set_never_prunes_without_allow_empty(env: EngineEnv, repo: GitRepo) -> None:
    ns = unique("empty")
    repo.commit({**_in("apps/web", web_app(ns)), "apps/web/README.md": "the web app\n"}, "first")
    sync = ("sync", repo.path, "--path", "apps/web", "--app", ns, "--prune")
    assert env.cli(*sync).exit_code == 0
    # a refactoring moved the manifests away: the app's path renders nothing
    repo.commit({f"apps/web/{name}": None for name in web_app(ns)}, "move manifests")

    since = env.mark()
    refused = env.cli(*sync, "-o", "json")

    assert refused.exit_code == 0, refused.output
    actions = _actions(refused.stdout)
    assert len(actions) == 6
    reasons = {reason for action, reason in actions.values() if action == "skip"}
    assert "the desired set is empty (allowEmpty is off), so nothing is pruned" in reasons
    assert env.writes(since) == []
    assert env.get("deployment", "web", ns) is not None

    since = env.mark()
    allowed = env.cli(*sync, "--allow-empty", "-o", "json")

    assert allowed.exit_code == 0, allowed.output
    actions = _actions(allowed.stdout)
    assert {k for k, (a, _) in actions.items() if a == "prune"} == {
        f"ConfigMap/{ns}/web-config",
        f"Secret/{ns}/web-credentials",
        f"Deployment/{ns}/web",
        f"Service/{ns}/web",
        f"Ingress.networking.k8s.io/{ns}/web",
    }
    assert actions[f"Namespace/{ns}"] == (
        "skip",
        "Namespace objects are pruned only when the app allows it (pruneKinds); not pruned",
    )
    deletes = env.writes(since)
    assert len(deletes) == 5 and {w.verb for w in deletes} == {"delete"}
    # reverse phase order: what was applied last goes first
    order = [w.resource for w in deletes]
    assert order[0] in ("services", "ingresses")
    assert sorted(order[-2:]) == ["configmaps", "secrets"]
    assert env.get("namespace", ns) is not None


def test_namespaces_are_pruned_only_when_the_app_allows_it(env: EngineEnv, repo: GitRepo) -> None:
    ns = unique("nsprune")
    spare = unique("spare")
    repo.commit({**web_app(ns), "spare.yaml": dump(namespace(spare))}, "first")
    app = {"name": ns, "repo": str(repo.path), "namespace": ns, "prune": True}
    assert env.cli("sync", "--config", env.config([app])).exit_code == 0
    repo.commit({"spare.yaml": None}, "drop the spare namespace")

    kept = env.cli("sync", "--config", env.config([app]), "-o", "json")

    assert kept.exit_code == 0, kept.output
    assert _actions(kept.stdout)[f"Namespace/{spare}"][0] == "skip"
    assert env.get("namespace", spare) is not None

    allowed = env.cli("sync", "--config", env.config([{**app, "pruneKinds": ["Namespace"]}]), "-o", "json")

    assert allowed.exit_code == 0, allowed.output
    record = json.loads(allowed.stdout)
    assert record["result"] == SyncResult.SUCCEEDED.value
    assert _actions(allowed.stdout)[f"Namespace/{spare}"] == ("prune", "left Git")
    gone = env.get("namespace", spare)
    assert gone is None or gone["metadata"].get("deletionTimestamp")
    assert env.get("namespace", ns) is not None  # the app's own Namespace is still in Git
