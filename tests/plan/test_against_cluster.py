"""Plans against the local cluster: apply what a plan says, re-plan, and nothing is left to do;
what left Git is pruned; what merely copied the label is not."""

from __future__ import annotations

import copy
import json
from typing import Any

from gitops.model import Action, Resource, ResourceKey
from gitops.plan import TRACKING_LABEL, Plan, plan
from tests.diff.conftest import manifest
from tests.diff.kube import Kube

APP_MANIFESTS = [
    "configmap-multiline",
    "secret-stringdata",
    "serviceaccount-web",
    "deployment-realistic",
    "poddisruptionbudget-web",
    "networkpolicy-web",
    "service-named-port",
    "ingress-tls",
    "cronjob-nightly",
]


def desired(namespace: str, names: list[str] = APP_MANIFESTS) -> list[Resource]:
    return [Resource.of(manifest(n, namespace)) for n in names]


def live_set(
    kube: Kube, namespace: str, resources: list[Resource], app: str = "shop"
) -> dict[ResourceKey, Any]:
    """One LIST per kind by the tracking label, plus the desired objects' live copies (what the
    engine's live set holds)."""
    out: dict[ResourceKey, Any] = {}
    kinds = {(r.body["apiVersion"], r.body["kind"]) for r in resources} | {("v1", "ConfigMap")}
    for api_version, kind in kinds:
        plural, _ = kube._resource(api_version, kind)
        base = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
        listed = kube.http.get(f"{base}/namespaces/{namespace}/{plural}").json()
        for item in listed["items"]:
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
            key = ResourceKey.of(item)
            labels = item["metadata"].get("labels", {})
            if labels.get(TRACKING_LABEL) == app or key in {r.key for r in resources}:
                out[key] = item
    return out


def execute(kube: Kube, p: Plan, live: dict[ResourceKey, Any] | None = None) -> None:
    """What the executor does, without waits: apply phase by phase, then prune."""
    for phase in p.phases:
        for obj in phase.to_apply():
            kube.apply(dict(obj.body))
    for change in p.prune:
        if change.action is Action.PRUNE:
            assert live is not None
            r = kube.http.delete(kube.url(live[change.key]))
            assert r.status_code == 200, r.text


def test_replanning_right_after_executing_a_plan_is_a_noop(kube: Kube, namespace: str) -> None:
    want = desired(namespace)
    first = plan(want, live_set(kube, namespace, want), app="shop")
    assert {c.action for c in first.changes} == {Action.CREATE}
    execute(kube, first)
    second = plan(want, live_set(kube, namespace, want), app="shop")
    assert second.is_noop, [c for c in second.changes if c.action is not Action.UNCHANGED]
    assert {c.action for c in second.changes} == {Action.UNCHANGED}


def test_what_left_git_is_pruned_and_nothing_else(kube: Kube, namespace: str) -> None:
    want = desired(namespace, ["configmap-multiline", "service-named-port", "deployment-realistic"])
    execute(kube, plan(want, live_set(kube, namespace, want), app="shop"))
    # Someone copies our tracking label onto their own ConfigMap with kubectl.
    copied = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "copied", "namespace": namespace, "labels": {TRACKING_LABEL: "shop"}},
    }
    r = kube.http.post(
        f"/api/v1/namespaces/{namespace}/configmaps", params={"fieldManager": "kubectl-create"}, json=copied
    )
    assert r.status_code == 201
    remaining = want[:1]
    live = live_set(kube, namespace, want)
    p = plan(remaining, live, app="shop")
    assert [(c.key.kind, c.key.name, c.action) for c in p.prune] == [
        ("Service", "web", Action.PRUNE),
        ("Deployment", "web", Action.PRUNE),
        ("ConfigMap", "copied", Action.SKIP),
    ]
    execute(kube, p, live)
    after = plan(remaining, live_set(kube, namespace, want), app="shop")
    assert after.is_noop
    assert [(c.key.name, c.action) for c in after.prune] == [("copied", Action.SKIP)]


def test_a_secret_key_removed_from_git_is_removed_from_the_cluster(kube: Kube, namespace: str) -> None:
    """With stringData applied as is, the key would stay forever (kubernetes#108008)."""
    secret = manifest("secret-stringdata", namespace)
    execute(kube, plan([Resource.of(secret)], {}, app="shop"))
    fewer = copy.deepcopy(secret)
    del fewer["stringData"]["url"]
    key = Resource.of(fewer).key
    p = plan([Resource.of(fewer)], {key: kube.get(secret)}, app="shop")
    assert [c.summary for c in p.changes] == [("data.url: removed",)]
    execute(kube, p)
    live = kube.get(secret)
    assert set(live["data"]) == {"password", "token"}
    assert plan([Resource.of(fewer)], {key: live}, app="shop").is_noop


def test_plan_output_never_shows_secret_values(kube: Kube, namespace: str) -> None:
    secret = manifest("secret-stringdata", namespace)
    execute(kube, plan([Resource.of(secret)], {}, app="shop"))
    rotated = copy.deepcopy(secret)
    rotated["stringData"]["password"] = "Zq9-rotated-seeded"
    key = Resource.of(rotated).key
    p = plan([Resource.of(rotated)], {key: kube.get(secret)}, app="shop")
    text = repr(p) + json.dumps([c.to_json() for c in p.changes]) + p.phases[0].diffs[0].unified()
    for seed in ("Zq9-hunter2-seeded", "Zq9-rotated-seeded", "seeded-token-42"):
        assert seed not in text
    assert p.changes.changes[0].summary == ("data.password: changed",)
