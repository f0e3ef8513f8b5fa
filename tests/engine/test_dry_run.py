"""``gitops sync --dry-run`` asks the server to dry-run every write and records nothing;
``gitops plan`` and ``gitops diff`` only read."""

from __future__ import annotations

import json

import pytest

from tests.engine.apps import configmap, dump, web_app
from tests.engine.conftest import EngineEnv, GitRepo, unique


def test_dry_run_of_a_new_app_writes_nothing_and_records_nothing(env: EngineEnv, repo: GitRepo) -> None:
    ns = unique("dry")
    repo.commit(web_app(ns), "first")
    since = env.mark()

    result = env.cli("sync", repo.path, "--app", ns, "--dry-run", "-o", "json")

    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["dryRun"] is True and record["result"] == "Succeeded" and record["id"] == 0
    assert [c["action"] for c in record["changes"]] == ["create"] * 6
    # the Namespace is dry-run on the server; what goes in it cannot be (it does not exist yet)
    messages = {c["kind"]: c["message"] for c in record["changes"]}
    assert messages["Namespace"] == ""
    assert messages["ConfigMap"] == f"not dry-run on the server: its namespace {ns} is created by this sync"
    sent = env.requests(since)
    assert [(r.verb, r.resource, r.dry_run) for r in sent if r.verb == "patch"] == [
        ("patch", "namespaces", True)
    ]
    assert env.writes(since) == []
    assert env.get("namespace", ns) is None
    assert env.history.list(ns) == []


def test_dry_run_of_a_change_dry_runs_every_write_on_the_server(env: EngineEnv, repo: GitRepo) -> None:
    ns = unique("dry-change")
    repo.commit({**web_app(ns), "old.yaml": dump(configmap(ns, "old", {"a": "b"}))}, "first")
    assert env.cli("sync", repo.path, "--app", ns).exit_code == 0
    repo.commit({**web_app(ns, image="nginx:1.28", log_level="debug"), "old.yaml": None}, "change")
    entries = len(env.history.list(ns))
    since = env.mark()

    result = env.cli("sync", repo.path, "--app", ns, "--dry-run", "--prune")

    assert result.exit_code == 0, result.output
    assert "(dry run: nothing was changed or recorded)" in result.stdout
    assert f"prune   ConfigMap/{ns}/old" in result.stdout
    sent = env.requests(since)
    dry = sorted((r.verb, r.resource, r.name) for r in sent if r.dry_run)
    assert dry == [
        ("delete", "configmaps", "old"),
        ("patch", "configmaps", "web-config"),
        ("patch", "deployments", "web"),
    ]
    assert env.writes(since) == []
    assert len(env.history.list(ns)) == entries
    config = env.get("configmap", "web-config", ns)
    web = env.get("deployment", "web", ns)
    assert config is not None and config["data"]["LOG_LEVEL"] == "info"
    assert web is not None and web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert env.get("configmap", "old", ns) is not None
    assert env.cli("diff", repo.path, "--app", ns).exit_code == 1  # still to do


@pytest.mark.parametrize("command", ["plan", "diff"])
def test_plan_and_diff_only_read(env: EngineEnv, repo: GitRepo, command: str) -> None:
    ns = unique(command)
    repo.commit(web_app(ns), "first")
    since = env.mark()

    result = env.cli(command, repo.path, "--app", ns, *(["--prune"] if command == "plan" else []))

    assert result.exit_code == (0 if command == "plan" else 1), result.output
    assert f"Deployment/{ns}/web" in result.stdout
    assert {r.verb for r in env.requests(since)} <= {"get", "list"}
    assert env.history.list(ns) == []
