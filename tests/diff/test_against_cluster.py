"""Diffs against objects as the local cluster stores them, after real server-side applies over
HTTP (``fieldManager=gitops&force=true``, as the engine applies) and other managers' writes.

The requirement: right after a successful apply, the diff of every manifest is empty; a change
by someone else to a field Git sets is drift; one to a field Git does not set is not.
"""

from __future__ import annotations

import base64
import copy
import uuid
from typing import Any

import pytest

from gitops import diff
from gitops.model import Action, Resource
from tests.conftest import Kubectl
from tests.diff.conftest import manifest
from tests.diff.kube import MERGE, STRATEGIC, Kube

REALISTIC = [
    "deployment-realistic",
    "service-named-port",
    "configmap-multiline",
    "secret-stringdata",
    "ingress-tls",
    "statefulset-volumeclaims",
    "cronjob-nightly",
    "networkpolicy-web",
    "poddisruptionbudget-web",
    "serviceaccount-web",
    "hpa-cpu",
    "deployment-without-replicas",
]


def check(obj: dict[str, Any], live: dict[str, Any], **kw: Any) -> diff.ObjectDiff:
    return diff.diff(Resource.of(obj), live, manager="gitops", **kw)


@pytest.mark.parametrize("name", REALISTIC)
def test_diff_is_empty_right_after_apply(kube: Kube, namespace: str, name: str) -> None:
    obj = manifest(name, namespace)
    live = kube.apply(obj)
    result = check(obj, live)
    assert result.action is Action.UNCHANGED, result.summary
    assert result.summary == ()
    assert result.unified() == ""
    # and stays empty after a second, identical apply
    assert check(obj, kube.apply(obj)).action is Action.UNCHANGED


@pytest.mark.parametrize("name", REALISTIC)
def test_changed_manifest_is_an_update_naming_the_path(kube: Kube, namespace: str, name: str) -> None:
    obj = manifest(name, namespace)
    kube.apply(obj)
    changed = copy.deepcopy(obj)
    changed["metadata"].setdefault("labels", {})["release"] = "canary"
    result = check(changed, kube.get(obj))
    assert result.action is Action.UPDATE
    assert result.summary == ("metadata.labels.release: <none> -> canary",)


def test_custom_resource_and_its_crd_diff_empty_after_apply(kube: Kube) -> None:
    group = f"g{uuid.uuid4().hex[:8]}.example.com"
    crd = manifest("crd-widgets", GROUP=group)
    live_crd = kube.apply(crd)
    assert check(crd, live_crd).action is Action.UNCHANGED
    widget = manifest("widget-basic", "default", GROUP=group)
    live = kube.apply(widget)
    assert check(widget, live).action is Action.UNCHANGED
    # A field Git does not set, filled in by a controller (or the CRD's schema default): no drift.
    live = kube.patch(widget, {"spec": {"color": "red"}}, "widget-controller", MERGE)
    result = check(widget, live)
    assert result.action is Action.UNCHANGED, result.summary
    widget["spec"]["tags"] = ["a", "b", "c"]
    assert check(widget, live).summary == ("spec.tags[2]: <none> -> c",)


def test_namespace_diff_is_empty_after_apply(kube: Kube) -> None:
    ns = manifest("namespace-labelled", NAME=f"n-{uuid.uuid4().hex[:8]}")
    live = kube.apply(ns)
    assert live["metadata"]["labels"]["kubernetes.io/metadata.name"]  # the server's label
    assert live["spec"]["finalizers"] == ["kubernetes"]
    assert check(ns, live).action is Action.UNCHANGED


def test_hpa_owned_replicas_are_not_drift(kube: Kube, namespace: str) -> None:
    obj = manifest("deployment-without-replicas", namespace)
    kube.apply(obj)
    live = kube.patch(obj, {"spec": {"replicas": 7}}, "kube-controller-manager", MERGE, sub="scale")
    assert live["spec"]["replicas"] == 7
    assert check(obj, live).action is Action.UNCHANGED


def test_replicas_git_sets_are_drift_when_someone_scales(kube: Kube, namespace: str) -> None:
    obj = manifest("deployment-realistic", namespace)
    kube.apply(obj)
    live = kube.patch(obj, {"spec": {"replicas": 5}}, "kubectl", MERGE, sub="scale")
    result = check(obj, live)
    assert result.action is Action.UPDATE
    assert result.summary == ("spec.replicas: 5 -> 3",)


def test_replicas_left_to_the_hpa_once_git_stops_setting_them(kube: Kube, namespace: str) -> None:
    obj = manifest("deployment-realistic", namespace)
    kube.apply(obj)
    live = kube.patch(obj, {"spec": {"replicas": 6}}, "kube-controller-manager", MERGE, sub="scale")
    without = copy.deepcopy(obj)
    del without["spec"]["replicas"]
    # The scale took spec.replicas from us, so Git dropping it is no change at all.
    assert check(without, live).action is Action.UNCHANGED


def test_field_git_no_longer_sets_shows_as_removal_then_apply_clears_it(kube: Kube, namespace: str) -> None:
    obj = manifest("deployment-realistic", namespace)
    kube.apply(obj)
    trimmed = copy.deepcopy(obj)
    del trimmed["metadata"]["annotations"]
    del trimmed["spec"]["template"]["spec"]["containers"][1]
    result = check(trimmed, kube.get(obj))
    assert result.action is Action.UPDATE
    assert result.summary == (
        'metadata.annotations["team.example.com/owner"]: payments -> <none>',
        "spec.template.spec.containers[name=proxy]: removed",
    )
    live = kube.apply(trimmed)
    assert "annotations" not in live["metadata"]
    assert check(trimmed, live).action is Action.UNCHANGED


def test_kubectl_edit_of_a_field_git_sets_is_drift(kube: Kube, namespace: str) -> None:
    obj = manifest("deployment-realistic", namespace)
    kube.apply(obj)
    edit = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "evil:latest"}]}}}}
    live = kube.patch(obj, edit, "kubectl-edit", STRATEGIC)
    result = check(obj, live)
    assert result.action is Action.UPDATE
    assert result.summary == (
        "spec.template.spec.containers[name=web].image: evil:latest -> registry.example.com/shop/web:2.4.1",
    )


def test_changes_to_fields_git_does_not_set_are_not_drift(kube: Kube, namespace: str) -> None:
    obj = manifest("deployment-realistic", namespace)
    kube.apply(obj)
    kube.patch(obj, {"metadata": {"labels": {"added-by": "kubectl"}}}, "kubectl-label", MERGE)
    kube.patch(obj, {"metadata": {"annotations": {"deployment.kubernetes.io/revision": "4"}}}, "kcm", MERGE)
    injected = {
        "spec": {
            "template": {
                "metadata": {"annotations": {"vault.hashicorp.com/agent-inject-status": "injected"}},
                "spec": {
                    "containers": [
                        {"name": "web", "env": [{"name": "VAULT_ADDR", "value": "https://vault:8200"}]},
                        {"name": "vault-agent", "image": "hashicorp/vault:1.17"},
                    ],
                    "priorityClassName": "high",
                },
            }
        }
    }
    live = kube.patch(obj, injected, "vault-injector", STRATEGIC)
    assert len(live["spec"]["template"]["spec"]["containers"]) == 3
    result = check(obj, live)
    assert result.action is Action.UNCHANGED, result.summary


def test_object_created_by_client_side_apply_is_adopted_without_noise(kube: Kube, namespace: str) -> None:
    """kubectl apply (client-side) stores last-applied and owns every field, defaults included,
    with an Update entry; gitops has never applied it. Only what Git sets is compared."""
    obj = manifest("service-named-port", namespace)
    created = copy.deepcopy(obj)
    created["metadata"]["annotations"] = {diff.LAST_APPLIED: '{"kind":"Service"}\n'}
    r = kube.http.post(
        f"/api/v1/namespaces/{namespace}/services",
        params={"fieldManager": "kubectl-client-side-apply"},
        json=created,
    )
    assert r.status_code == 201, r.text
    assert check(obj, r.json()).action is Action.UNCHANGED


def test_numeric_string_target_port_is_not_coerced_because_the_server_rejects_it(
    kube: Kube, namespace: str
) -> None:
    """A string targetPort is a port *name*: "80" is invalid, not 80 (validatePortNumOrName)."""
    obj = manifest("service-named-port", namespace)
    live = kube.apply(obj)
    numeric = copy.deepcopy(obj)
    numeric["spec"]["ports"][1]["targetPort"] = "9090"
    refused = kube.raw_apply(numeric)
    assert refused.status_code == 422
    assert "must contain at least one letter" in refused.json()["message"]
    assert check(numeric, live).summary == ("spec.ports[name=metrics].targetPort: 9090 -> '9090'",)


def test_secret_values_never_appear_in_the_diff_of_a_live_secret(kube: Kube, namespace: str) -> None:
    obj = manifest("secret-stringdata", namespace)
    live = kube.apply(obj)
    changed = copy.deepcopy(obj)
    changed["stringData"]["password"] = "Zq9-rotated-seeded"
    result = check(changed, live)
    assert result.summary == ("data.password: changed",)
    shown = "\n".join(
        [*result.summary, result.unified(), repr(result), str(result.desired_view), str(result.live_view)]
    )
    for secret in ("Zq9-hunter2-seeded", "Zq9-rotated-seeded", "seeded-token-42"):
        assert secret not in shown
        assert base64.b64encode(secret.encode()).decode() not in shown
    for value in live["data"].values():
        assert value not in shown


@pytest.mark.kubectl
def test_kubectl_commands_on_fields_git_sets_are_drift_and_others_are_not(
    kube: Kube, kubectl: Kubectl, namespace: str
) -> None:
    obj = manifest("deployment-realistic", namespace)
    kube.apply(obj)
    kubectl.run("-n", namespace, "label", "deployment/web", "tier=frontend")
    kubectl.run("-n", namespace, "annotate", "deployment/web", "note=hello")
    kubectl.run("-n", namespace, "set", "env", "deployment/web", "-c", "web", "DEBUG=1")
    assert check(obj, kube.get(obj)).action is Action.UNCHANGED
    kubectl.run("-n", namespace, "set", "image", "deployment/web", "proxy=envoyproxy/envoy:v1.32.0")
    kubectl.run("-n", namespace, "scale", "deployment/web", "--replicas=4")
    result = check(obj, kube.get(obj))
    assert result.summary == (
        "spec.replicas: 4 -> 3",
        "spec.template.spec.containers[name=proxy].image: envoyproxy/envoy:v1.32.0 -> envoyproxy/envoy:v1.31.0",
    )


@pytest.mark.kubectl
def test_kubectl_server_side_apply_by_another_manager_of_the_same_values_is_not_drift(
    kube: Kube, kubectl: Kubectl, namespace: str
) -> None:
    """Same values applied by kubectl: ownership becomes shared, values equal."""
    import yaml

    obj = manifest("configmap-multiline", namespace)
    kube.apply(obj)
    kubectl.run("apply", "--server-side", "-f", "-", input=yaml.safe_dump(obj))
    assert check(obj, kube.get(obj)).action is Action.UNCHANGED
