"""Drift made with the real kubectl is shown by ``gitops diff`` and reverted by ``gitops sync``;
what other managers own and Git does not set is neither drift nor touched (managedFields)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.engine.apps import web_app
from tests.engine.conftest import EngineEnv, GitRepo, unique

Obj = dict[str, Any]


@dataclass(frozen=True)
class Drift:
    kubectl: Callable[[str], list[str]]  # namespace -> kubectl arguments
    object: str  # how gitops names the drifted object (after the namespace)
    shown: str  # what the diff or plan says about it
    restored: Callable[[EngineEnv, str], bool]  # Git's value is live again


def _web(env: EngineEnv, ns: str) -> Obj:
    live = env.get("deployment", "web", ns)
    assert live is not None
    return live


def _config(env: EngineEnv, ns: str) -> Obj | None:
    return env.get("configmap", "web-config", ns)


DRIFTS = {
    "scale": Drift(
        lambda ns: ["scale", "deployment", "web", "-n", ns, "--replicas=5"],
        "Deployment/{ns}/web",
        "spec.replicas: 5 -> 2",
        lambda env, ns: _web(env, ns)["spec"]["replicas"] == 2,
    ),
    "patch-image": Drift(
        lambda ns: [
            "patch",
            "deployment",
            "web",
            "-n",
            ns,
            "-p",
            json.dumps(
                {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:evil"}]}}}}
            ),
        ],
        "Deployment/{ns}/web",
        "spec.template.spec.containers[name=web].image: nginx:evil -> nginx:1.27",
        lambda env, ns: _web(env, ns)["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27",
    ),
    "label-overwritten": Drift(
        lambda ns: ["label", "configmap", "web-config", "-n", ns, "tier=hacked", "--overwrite"],
        "ConfigMap/{ns}/web-config",
        "metadata.labels.tier: hacked -> web",
        lambda env, ns: (_config(env, ns) or {})["metadata"]["labels"]["tier"] == "web",
    ),
    "label-removed": Drift(
        lambda ns: ["label", "configmap", "web-config", "-n", ns, "tier-"],
        "ConfigMap/{ns}/web-config",
        "metadata.labels.tier: <none> -> web",
        lambda env, ns: (_config(env, ns) or {})["metadata"]["labels"].get("tier") == "web",
    ),
    "delete": Drift(
        lambda ns: ["delete", "configmap", "web-config", "-n", ns],
        "ConfigMap/{ns}/web-config",
        "create",
        lambda env, ns: _config(env, ns) is not None,
    ),
}


@pytest.mark.kubectl
@pytest.mark.parametrize("case", sorted(DRIFTS))
def test_kubectl_drift_is_shown_by_diff_and_reverted_by_sync(
    env: EngineEnv, repo: GitRepo, case: str
) -> None:
    drift = DRIFTS[case]
    ns = unique("drift")
    repo.commit(web_app(ns), "first")
    assert env.cli("sync", repo.path, "--app", ns).exit_code == 0
    assert env.cli("diff", repo.path, "--app", ns).exit_code == 0
    env.kubectl.run(*drift.kubectl(ns))
    assert not drift.restored(env, ns)
    name = drift.object.format(ns=ns)

    diff = env.cli("diff", repo.path, "--app", ns)
    assert diff.exit_code == 1, diff.output
    assert name in diff.stdout
    assert f"{ns}: 1 object(s) differ" in diff.stdout
    as_json = json.loads(env.cli("diff", repo.path, "--app", ns, "-o", "json").stdout)
    [change] = as_json["changes"]
    assert change["object"] == name
    plan = env.cli("plan", repo.path, "--app", ns)
    assert plan.exit_code == 0 and name in plan.stdout
    if drift.shown != "create":
        assert change["summary"] == [drift.shown]
        assert drift.shown in plan.stdout  # a summary with [name=web] survives the terminal
    else:
        assert change["action"] == "create"

    since = env.mark()
    sync = env.cli("sync", repo.path, "--app", ns)

    assert sync.exit_code == 0, sync.output
    assert "-> Succeeded" in sync.stdout and name in sync.stdout
    assert len(env.writes(since)) == 1  # only the drifted object
    assert drift.restored(env, ns)
    after = env.cli("diff", repo.path, "--app", ns)
    assert after.exit_code == 0, after.output
    assert f"{ns}: no changes" in after.stdout


@pytest.mark.kubectl
def test_fields_other_managers_own_are_neither_drift_nor_touched(env: EngineEnv, repo: GitRepo) -> None:
    ns = unique("owned")
    repo.commit(web_app(ns, replicas=None), "first: replicas are the autoscaler's")
    assert env.cli("sync", repo.path, "--app", ns).exit_code == 0
    # an autoscaler's write (through the scale subresource), an injected annotation and label
    env.kubectl.run(
        "patch",
        "deployment",
        "web",
        "-n",
        ns,
        "--subresource=scale",
        "--type=merge",
        "-p",
        '{"spec":{"replicas":4}}',
    )
    env.kubectl.run("annotate", "configmap", "web-config", "-n", ns, "team.example.com/owner=payments")
    env.kubectl.run("label", "deployment", "web", "-n", ns, "cost-center=42")

    diff = env.cli("diff", repo.path, "--app", ns)
    assert diff.exit_code == 0, diff.output
    assert f"{ns}: no changes" in diff.stdout
    since = env.mark()
    sync = env.cli("sync", repo.path, "--app", ns)
    assert sync.exit_code == 0 and "-> NoChange" in sync.stdout, sync.output
    assert env.writes(since) == []

    # a real change to the Deployment is applied, and still leaves the others' fields alone
    repo.commit(web_app(ns, replicas=None, image="nginx:1.28"), "web: nginx 1.28")
    sync = env.cli("sync", repo.path, "--app", ns)
    assert sync.exit_code == 0 and "-> Succeeded" in sync.stdout, sync.output
    web = env.get("deployment", "web", ns)
    config = env.get("configmap", "web-config", ns)
    assert web is not None and config is not None
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert web["spec"]["replicas"] == 4
    assert web["metadata"]["labels"]["cost-center"] == "42"
    assert config["metadata"]["annotations"]["team.example.com/owner"] == "payments"
    assert env.cli("diff", repo.path, "--app", ns).exit_code == 0
