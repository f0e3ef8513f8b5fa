"""Prune: only this app's objects that left Git, applied by our manager, unprotected; in reverse
phase order. Every object not pruned is a SKIP that says why."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gitops.model import Action, Change, Resource, ResourceKey
from gitops.plan import TRACKING_LABEL, plan

OURS: dict[str, Any] = {"f:metadata": {"f:labels": {f"f:{TRACKING_LABEL}": {}}}}


def live_obj(
    api_version: str,
    kind: str,
    name: str,
    namespace: str = "shop",
    *,
    app: str | None = "shop",
    managers: list[dict[str, Any]] | None = None,
    annotations: dict[str, str] | None = None,
) -> tuple[ResourceKey, dict[str, Any]]:
    meta: dict[str, Any] = {"name": name, "uid": "u"}
    if namespace:
        meta["namespace"] = namespace
    if app is not None:
        meta["labels"] = {TRACKING_LABEL: app}
    if annotations:
        meta["annotations"] = annotations
    meta["managedFields"] = (
        managers if managers is not None else [{"manager": "gitops", "operation": "Apply", "fieldsV1": OURS}]
    )
    obj = {"apiVersion": api_version, "kind": kind, "metadata": meta}
    return ResourceKey.of(obj), obj


KEEP = Resource.of(
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep", "namespace": "shop"}}
)


def prune_entries(
    live: dict[ResourceKey, dict[str, Any]], desired: list[Resource] | None = None, **kw: Any
) -> list[Change]:
    return list(plan([KEEP] if desired is None else desired, live, app="shop", **kw).prune)


def only(live: tuple[ResourceKey, dict[str, Any]], **kw: Any) -> Change:
    (change,) = prune_entries(dict([live]), **kw)
    return change


def test_objects_that_left_git_are_pruned_in_reverse_phase_order() -> None:
    live = dict(
        [
            live_obj("v1", "ConfigMap", "old-config"),
            live_obj("v1", "Service", "old"),
            live_obj("apps/v1", "Deployment", "old"),
            live_obj("example.com/v1", "Widget", "old"),
            live_obj("networking.k8s.io/v1", "Ingress", "old"),
            live_obj("rbac.authorization.k8s.io/v1", "ClusterRole", "old", ""),
        ]
    )
    entries = prune_entries(live)
    assert [(c.action, c.phase, c.key.kind) for c in entries] == [
        (Action.PRUNE, "other", "Widget"),
        (Action.PRUNE, "exposure", "Ingress"),
        (Action.PRUNE, "exposure", "Service"),
        (Action.PRUNE, "workloads", "Deployment"),
        (Action.PRUNE, "configuration", "ConfigMap"),
        (Action.PRUNE, "scaffolding", "ClusterRole"),
    ]
    assert plan([KEEP], live, app="shop").writes == 7  # six prunes and the create of "keep"


def test_objects_still_in_git_and_other_apps_objects_are_not_candidates() -> None:
    live = dict(
        [
            live_obj("v1", "ConfigMap", "keep"),
            live_obj("v1", "ConfigMap", "theirs", app="billing"),
            live_obj("v1", "ConfigMap", "untracked", app=None),
        ]
    )
    assert prune_entries(live) == []


@pytest.mark.parametrize(
    ("annotations", "reason"),
    [
        ({"gitops.dev/prune": "disabled"}, "annotated gitops.dev/prune: disabled; not pruned"),
        ({"gitops.dev/prune": "Disabled"}, "annotated gitops.dev/prune: disabled; not pruned"),
        (
            {"gitops.dev/prune": "no"},
            "annotated gitops.dev/prune: 'no', which is neither 'disabled' nor 'enabled'; kept to be safe; not pruned",
        ),
        (
            {"argocd.argoproj.io/sync-options": "ServerSideApply=true,Prune=false"},
            "annotated argocd.argoproj.io/sync-options: ServerSideApply=true,Prune=false; not pruned",
        ),
        (
            {"kustomize.toolkit.fluxcd.io/prune": "disabled"},
            "annotated kustomize.toolkit.fluxcd.io/prune: disabled; not pruned",
        ),
        ({"helm.sh/resource-policy": "keep"}, "annotated helm.sh/resource-policy: keep; not pruned"),
    ],
)
def test_prune_keeps_annotated_objects(annotations: dict[str, str], reason: str) -> None:
    change = only(live_obj("v1", "ConfigMap", "old", annotations=annotations))
    assert (change.action, change.message) == (Action.SKIP, reason)


def test_prune_enabled_annotation_prunes() -> None:
    assert (
        only(live_obj("v1", "ConfigMap", "old", annotations={"gitops.dev/prune": "enabled"})).action
        is Action.PRUNE
    )


def test_objects_that_merely_copied_the_label_are_not_pruned() -> None:
    copied = live_obj(
        "apps/v1",
        "ReplicaSet",
        "web-5d8f",
        managers=[{"manager": "kube-controller-manager", "operation": "Update", "fieldsV1": OURS}],
    )
    change = only(copied)
    assert change.action is Action.SKIP
    assert change.message.startswith(
        "carries app.gitops.dev/name=shop but field manager 'gitops' never applied it"
    )


def test_objects_applied_by_us_whose_label_someone_else_set_are_not_pruned() -> None:
    relabelled = live_obj(
        "v1",
        "ConfigMap",
        "old",
        managers=[
            {"manager": "gitops", "operation": "Apply", "fieldsV1": {"f:data": {"f:a": {}}}},
            {"manager": "kubectl-label", "operation": "Update", "fieldsV1": OURS},
        ],
    )
    change = only(relabelled)
    assert change.action is Action.SKIP and "no longer owns its app.gitops.dev/name label" in change.message


def test_an_update_by_our_own_manager_is_not_an_apply() -> None:
    updated = live_obj(
        "v1", "ConfigMap", "old", managers=[{"manager": "gitops", "operation": "Update", "fieldsV1": OURS}]
    )
    assert only(updated).action is Action.SKIP


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("v1", "Namespace"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        ("v1", "PersistentVolumeClaim"),
    ],
)
def test_protected_kinds_are_pruned_only_when_the_app_allows_them(api_version: str, kind: str) -> None:
    namespace = "shop" if kind == "PersistentVolumeClaim" else ""
    obj = live_obj(api_version, kind, "old", namespace)
    kept = only(obj)
    assert kept.action is Action.SKIP
    assert kept.message == f"{kind} objects are pruned only when the app allows it (pruneKinds); not pruned"
    assert only(obj, prune_allowed_kinds=frozenset({kind})).action is Action.PRUNE


def test_a_custom_kind_named_namespace_is_not_protected() -> None:
    assert only(live_obj("example.com/v1", "Namespace", "old")).action is Action.PRUNE


def test_nothing_is_pruned_when_the_desired_set_is_empty() -> None:
    live = dict([live_obj("v1", "ConfigMap", "a"), live_obj("apps/v1", "Deployment", "b")])
    entries = prune_entries(live, desired=[])
    assert [c.action for c in entries] == [Action.SKIP, Action.SKIP]
    assert entries[0].message == "the desired set is empty (allowEmpty is off), so nothing is pruned"
    p = plan([], live, app="shop")
    assert p.is_noop and p.phases == ()
    assert [c.action for c in prune_entries(live, desired=[], allow_empty=True)] == [
        Action.PRUNE,
        Action.PRUNE,
    ]


def test_prune_disabled_for_the_app_reports_what_left_git() -> None:
    change = only(live_obj("v1", "ConfigMap", "old"), prune=False)
    assert (change.action, change.message) == (
        Action.SKIP,
        "left Git, but prune is disabled for this app; not pruned",
    )


def test_objects_already_being_deleted_are_skipped() -> None:
    k, obj = live_obj("v1", "ConfigMap", "old")
    obj["metadata"]["deletionTimestamp"] = "2024-05-01T12:00:00Z"
    assert only((k, obj)).message == "already being deleted"


def test_a_live_objects_phase_annotation_orders_its_prune() -> None:
    early = live_obj("apps/v1", "Deployment", "early", annotations={"gitops.dev/phase": "1"})
    broken = live_obj("apps/v1", "Deployment", "broken", annotations={"gitops.dev/phase": "nope"})
    entries = prune_entries(dict([early, broken, live_obj("v1", "ConfigMap", "cfg")]))
    assert [(c.key.name, c.phase) for c in entries] == [
        ("broken", "workloads"),
        ("cfg", "configuration"),
        ("early", "scaffolding"),
    ]


def test_a_manager_other_than_the_default_is_honoured() -> None:
    obj = live_obj(
        "v1", "ConfigMap", "old", managers=[{"manager": "gitops-ci", "operation": "Apply", "fieldsV1": OURS}]
    )
    assert only(obj).action is Action.SKIP
    entries = list(plan([KEEP], dict([obj]), app="shop", manager="gitops-ci").prune)
    assert [c.action for c in entries] == [Action.PRUNE]


def test_prune_entries_leave_the_live_objects_untouched() -> None:
    live = dict([live_obj("v1", "ConfigMap", "old")])
    before = copy.deepcopy(live)
    prune_entries(live)
    assert live == before
