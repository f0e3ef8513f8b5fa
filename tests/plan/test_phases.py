"""Phases: which kinds go where, the order within a phase, and the phase annotation."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.model import Origin, Resource, ResourceKey
from gitops.plan import Phase, PlanError, default_phase, plan


def obj(
    api_version: str, kind: str, name: str = "x", namespace: str = "shop", **annotations: str
) -> Resource:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = annotations
    return Resource.of({"apiVersion": api_version, "kind": kind, "metadata": meta}, Origin("app.yaml", 2, 14))


def order(*resources: Resource) -> list[tuple[str, str]]:
    p = plan(list(resources), {}, app="shop")
    return [(ph.phase.label, f"{r.key.kind}/{r.key.name}") for ph in p.phases for r in ph.objects]


@pytest.mark.parametrize(
    ("group", "kind", "phase"),
    [
        ("", "Namespace", Phase.SCAFFOLDING),
        ("apiextensions.k8s.io", "CustomResourceDefinition", Phase.SCAFFOLDING),
        ("rbac.authorization.k8s.io", "ClusterRole", Phase.SCAFFOLDING),
        ("storage.k8s.io", "StorageClass", Phase.SCAFFOLDING),
        ("networking.k8s.io", "IngressClass", Phase.SCAFFOLDING),
        ("", "ConfigMap", Phase.CONFIGURATION),
        ("", "Secret", Phase.CONFIGURATION),
        ("", "PersistentVolumeClaim", Phase.CONFIGURATION),
        ("networking.k8s.io", "NetworkPolicy", Phase.CONFIGURATION),
        ("policy", "PodDisruptionBudget", Phase.CONFIGURATION),
        ("apps", "Deployment", Phase.WORKLOADS),
        ("batch", "CronJob", Phase.WORKLOADS),
        ("autoscaling", "HorizontalPodAutoscaler", Phase.WORKLOADS),
        ("", "Service", Phase.EXPOSURE),
        ("networking.k8s.io", "Ingress", Phase.EXPOSURE),
        ("gateway.networking.k8s.io", "HTTPRoute", Phase.EXPOSURE),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", Phase.OTHER),
        ("coordination.k8s.io", "Lease", Phase.OTHER),
        ("example.com", "Widget", Phase.OTHER),
    ],
)
def test_kinds_land_in_their_phase(group: str, kind: str, phase: Phase) -> None:
    assert default_phase(ResourceKey(group, kind, "ns", "x"))[0] is phase


def test_a_custom_resource_named_like_a_builtin_is_not_one() -> None:
    """Knative's Service is a custom resource: it goes last, not with core Services."""
    assert default_phase(ResourceKey("serving.knative.dev", "Service", "ns", "x"))[0] is Phase.OTHER


def test_phases_apply_in_order_and_kinds_in_rank_order_within_them() -> None:
    got = order(
        obj("example.com/v1", "Widget", "w"),
        obj("v1", "Service", "web"),
        obj("autoscaling/v2", "HorizontalPodAutoscaler", "web"),
        obj("apps/v1", "StatefulSet", "db"),
        obj("apps/v1", "Deployment", "web"),
        obj("v1", "Secret", "creds"),
        obj("v1", "ServiceAccount", "web"),
        obj("v1", "ConfigMap", "cfg"),
        obj("networking.k8s.io/v1", "Ingress", "web"),
        obj("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "hook", ""),
        obj("v1", "Namespace", "shop", ""),
        obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com", ""),
    )
    assert got == [
        ("scaffolding", "Namespace/shop"),
        ("scaffolding", "CustomResourceDefinition/widgets.example.com"),
        ("configuration", "ConfigMap/cfg"),
        ("configuration", "Secret/creds"),
        ("configuration", "ServiceAccount/web"),
        ("workloads", "Deployment/web"),
        ("workloads", "StatefulSet/db"),
        ("workloads", "HorizontalPodAutoscaler/web"),
        ("exposure", "Service/web"),
        ("exposure", "Ingress/web"),
        ("other", "ValidatingWebhookConfiguration/hook"),
        ("other", "Widget/w"),
    ]


def test_order_within_a_kind_is_namespace_then_name_whatever_the_input_order() -> None:
    objs = [obj("v1", "ConfigMap", n, ns) for ns, n in [("b", "a"), ("a", "z"), ("a", "b"), ("b", "0")]]
    assert (
        order(*objs)
        == order(*reversed(objs))
        == [
            ("configuration", "ConfigMap/b"),
            ("configuration", "ConfigMap/z"),
            ("configuration", "ConfigMap/0"),
            ("configuration", "ConfigMap/a"),
        ]
    )


def test_custom_resources_come_after_every_builtin_kind_of_their_phase() -> None:
    got = order(obj("example.com/v1", "Aardvark", "a"), obj("coordination.k8s.io/v1", "Lease", "l"))
    assert got == [("other", "Lease/l"), ("other", "Aardvark/a")]


@pytest.mark.parametrize("value", ["1", "scaffolding", "Scaffolding", " 1 "])
def test_the_phase_annotation_moves_an_object(value: str) -> None:
    moved = obj("v1", "ConfigMap", "early", **{"gitops.dev/phase": value})
    got = order(obj("v1", "Namespace", "shop", ""), moved, obj("v1", "ConfigMap", "late"))
    assert got == [
        ("scaffolding", "Namespace/shop"),
        ("scaffolding", "ConfigMap/early"),
        ("configuration", "ConfigMap/late"),
    ]


def test_an_annotation_naming_the_default_phase_changes_nothing() -> None:
    a = obj("apps/v1", "Deployment", "a", **{"gitops.dev/phase": "workloads"})
    assert order(a, obj("apps/v1", "StatefulSet", "b")) == [
        ("workloads", "Deployment/a"),
        ("workloads", "StatefulSet/b"),
    ]


def test_invalid_phase_annotations_are_errors_naming_every_object() -> None:
    bad = [
        obj("v1", "ConfigMap", "one", **{"gitops.dev/phase": "7"}),
        obj("v1", "ConfigMap", "two", **{"gitops.dev/phase": "early"}),
        obj("v1", "ConfigMap", "fine"),
    ]
    with pytest.raises(PlanError) as err:
        plan(bad, {}, app="shop")
    assert err.value.problems == (
        "ConfigMap/shop/one (app.yaml (document 3, line 14)): annotation gitops.dev/phase: '7' is not a phase "
        "(use 1 or scaffolding, 2 or configuration, 3 or workloads, 4 or exposure, 5 or other)",
        "ConfigMap/shop/two (app.yaml (document 3, line 14)): annotation gitops.dev/phase: 'early' is not a phase "
        "(use 1 or scaffolding, 2 or configuration, 3 or workloads, 4 or exposure, 5 or other)",
    )
    assert err.value.exit_code == 1


def test_phase_labels_and_numbers_parse() -> None:
    assert [Phase.parse(str(p.order)) for p in Phase] == list(Phase)
    assert [Phase.parse(p.label.upper()) for p in Phase] == list(Phase)
    assert str(Phase.WORKLOADS) == "3-workloads"
