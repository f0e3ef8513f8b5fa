"""normalize(): the ownership rule and canonical forms, on objects built as an API server stores
them (managedFields as K8S-API.md §5.2 describes, real-Kubernetes quirks included)."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from gitops import diff
from gitops.config import IgnoreDifference
from gitops.errors import ConfigError


def entry(manager: str, fields_v1: dict[str, Any], operation: str = "Apply", **extra: Any) -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": operation,
        "apiVersion": "apps/v1",
        "time": "2024-05-01T12:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": fields_v1,
        **extra,
    }


def deployment(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": spec,
    }


def containers(*items: dict[str, Any]) -> dict[str, Any]:
    return {"template": {"spec": {"containers": list(items)}}}


C_WEB = 'k:{"name":"web"}'
OURS_WEB: dict[str, Any] = {
    "f:spec": {"f:template": {"f:spec": {"f:containers": {C_WEB: {".": {}, "f:name": {}, "f:image": {}}}}}}
}


def stored(obj: dict[str, Any], *entries: dict[str, Any], **meta: Any) -> dict[str, Any]:
    live = copy.deepcopy(obj)
    live["metadata"].update(
        uid="0b6d4a4e-1f1e-4bb0-9d8e-3a3c4b5e6f70",
        resourceVersion="42",
        generation=3,
        creationTimestamp="2024-05-01T12:00:00Z",
        managedFields=list(entries),
        **meta,
    )
    live["status"] = {"replicas": 2, "observedGeneration": 3}
    return live


def views(
    desired: dict[str, Any], live: dict[str, Any] | None, **kw: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    return diff.normalize(desired, live, manager="gitops", **kw)


def same(desired: dict[str, Any], live: dict[str, Any], **kw: Any) -> bool:
    want, have = views(desired, live, **kw)
    return want == have


# ------------------------------------------------------------------ both sides


def test_status_and_server_metadata_are_dropped_on_both_sides() -> None:
    obj = deployment(**containers({"name": "web", "image": "nginx"}))
    live = stored(obj, entry("gitops", OURS_WEB), selfLink="/x", deletionTimestamp="2024-05-02T00:00:00Z")
    want, have = views(live, live)
    assert set(want["metadata"]) == {"name", "namespace"}
    assert "status" not in want and "status" not in have
    assert want == have


def test_last_applied_annotation_is_dropped() -> None:
    obj = deployment(**containers({"name": "web", "image": "nginx"}))
    obj["metadata"]["annotations"] = {diff.LAST_APPLIED: '{"a": 1}\n', "keep": "me"}
    want, _ = views(obj, None)
    assert want["metadata"]["annotations"] == {"keep": "me"}


def test_inputs_are_never_modified() -> None:
    obj = deployment(paused=False, **containers({"name": "web", "image": "nginx", "args": []}))
    live = stored(deployment(**containers({"name": "web", "image": "nginx"})), entry("gitops", OURS_WEB))
    before = (copy.deepcopy(obj), copy.deepcopy(live))
    want, have = views(obj, live)
    want["spec"]["x"] = have["spec"]["x"] = 1
    assert (obj, live) == before


# ------------------------------------------------------------- the ownership rule


def test_server_defaults_git_does_not_set_are_not_differences() -> None:
    obj = deployment(**containers({"name": "web", "image": "nginx:1.25"}))
    live = stored(obj, entry("gitops", OURS_WEB))
    live["spec"].update(replicas=1, revisionHistoryLimit=10, progressDeadlineSeconds=600)
    c = live["spec"]["template"]["spec"]["containers"][0]
    c.update(imagePullPolicy="IfNotPresent", terminationMessagePath="/dev/termination-log", resources={})
    live["spec"]["template"]["spec"].update(dnsPolicy="ClusterFirst", securityContext={})
    assert same(obj, live)


def test_hpa_owned_replicas_are_not_drift() -> None:
    obj = deployment(**containers({"name": "web", "image": "nginx"}))
    hpa = entry("kube-controller-manager", {"f:spec": {"f:replicas": {}}}, "Update", subresource="scale")
    live = stored(obj, entry("gitops", OURS_WEB), hpa)
    live["spec"]["replicas"] = 7
    assert same(obj, live)


def test_replicas_git_sets_are_compared_even_when_the_hpa_owns_them() -> None:
    obj = deployment(replicas=2, **containers({"name": "web", "image": "nginx"}))
    hpa = entry("kube-controller-manager", {"f:spec": {"f:replicas": {}}}, "Update", subresource="scale")
    live = stored(obj, entry("gitops", OURS_WEB), hpa)
    live["spec"]["replicas"] = 7
    want, have = views(obj, live)
    assert (want["spec"]["replicas"], have["spec"]["replicas"]) == (2, 7)


def test_injected_annotations_sidecars_and_env_are_not_drift() -> None:
    obj = deployment(**containers({"name": "web", "image": "nginx"}))
    injector = entry(
        "vault-injector",
        {
            "f:metadata": {"f:annotations": {"f:vault.hashicorp.com/status": {}}},
            "f:spec": {
                "f:template": {
                    "f:spec": {
                        "f:containers": {
                            C_WEB: {"f:env": {'k:{"name":"VAULT"}': {".": {}, "f:name": {}, "f:value": {}}}},
                            'k:{"name":"agent"}': {".": {}, "f:name": {}, "f:image": {}},
                        }
                    }
                }
            },
        },
        "Update",
    )
    live = stored(obj, entry("gitops", OURS_WEB), injector)
    live["metadata"]["annotations"] = {"vault.hashicorp.com/status": "injected"}
    live["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "VAULT", "value": "x"}]
    live["spec"]["template"]["spec"]["containers"].append({"name": "agent", "image": "vault"})
    assert same(obj, live)


def test_a_field_git_sets_is_compared_whoever_owns_it() -> None:
    obj = deployment(**containers({"name": "web", "image": "nginx:1.25"}))
    edit = entry(
        "kubectl-edit", {"f:spec": {"f:template": {"f:spec": {"f:containers": {C_WEB: {"f:image": {}}}}}}}
    )
    ours = entry(
        "gitops", {"f:spec": {"f:template": {"f:spec": {"f:containers": {C_WEB: {".": {}, "f:name": {}}}}}}}
    )
    live = stored(obj, ours, {**edit, "operation": "Update"})
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:evil"
    assert diff.explain(*views(obj, live)) == (
        "spec.template.spec.containers[name=web].image: nginx:evil -> nginx:1.25",
    )


def test_a_field_we_applied_that_git_dropped_shows_as_removal() -> None:
    obj = deployment(**containers({"name": "web", "image": "nginx"}))
    ours = copy.deepcopy(OURS_WEB)
    ours["f:metadata"] = {"f:labels": {"f:tier": {}}}
    ours["f:spec"]["f:paused"] = {}
    live = stored(obj, entry("gitops", ours))
    live["metadata"]["labels"] = {"tier": "web"}
    live["spec"]["paused"] = True
    assert diff.explain(*views(obj, live)) == (
        "metadata.labels.tier: web -> <none>",
        "spec.paused: true -> <none>",
    )


def test_only_our_apply_entries_count_as_ours() -> None:
    """Fields our manager wrote with an Update, or through a subresource, are not pruned by our
    next apply, so showing them as removals would be noise forever."""
    obj = deployment(**containers({"name": "web", "image": "nginx"}))
    update = entry("gitops", {"f:metadata": {"f:labels": {"f:a": {}}}}, "Update")
    status = entry("gitops", {"f:spec": {"f:paused": {}}}, subresource="status")
    live = stored(obj, entry("gitops", OURS_WEB), update, status)
    live["metadata"]["labels"] = {"a": "1"}
    live["spec"]["paused"] = True
    assert same(obj, live)


def test_another_managers_change_to_an_atomic_selector_is_compared_whole() -> None:
    selector = {"matchLabels": {"app": "web"}}
    obj = deployment(selector=selector, **containers({"name": "web", "image": "nginx"}))
    taken = entry("kubectl-edit", {"f:spec": {"f:selector": {}}}, "Update")
    live = stored(obj, entry("gitops", OURS_WEB), taken)
    live["spec"]["selector"] = {"matchLabels": {"app": "web", "tier": "x"}}
    assert diff.explain(*views(obj, live)) == ("spec.selector.matchLabels.tier: x -> <none>",)


def test_defaults_inside_an_atomic_struct_we_own_are_not_drift() -> None:
    """fieldRef is atomic: owned as one leaf; the server fills in apiVersion inside it."""
    env = {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
    obj = deployment(**containers({"name": "web", "image": "nginx", "env": [env]}))
    ours = copy.deepcopy(OURS_WEB)
    ours["f:spec"]["f:template"]["f:spec"]["f:containers"][C_WEB]["f:env"] = {
        'k:{"name":"POD"}': {".": {}, "f:name": {}, "f:valueFrom": {"f:fieldRef": {}}}
    }
    live = stored(obj, entry("gitops", ours))
    live["spec"]["template"]["spec"]["containers"][0]["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] = "v1"
    assert same(obj, live)


def test_defaults_inside_an_atomic_list_we_own_are_not_drift_but_other_changes_are() -> None:
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"ingress": [{"ports": [{"port": "http"}]}]},
    }
    live = stored(policy, entry("gitops", {"f:spec": {"f:ingress": {}}}))
    live["spec"]["ingress"][0]["ports"][0]["protocol"] = "TCP"
    live["spec"]["policyTypes"] = ["Ingress"]
    assert same(policy, live)
    taken = stored(policy, entry("kubectl-edit", {"f:spec": {"f:ingress": {}}}, "Update"))
    taken["spec"]["ingress"][0]["ports"].append({"port": 22})
    assert not same(policy, taken)


def test_zero_values_the_server_omitted_are_not_differences() -> None:
    """Go's omitempty drops paused: false, minReadySeconds: 0, subPath: "" from what is stored,
    while managedFields record them as applied."""
    mount = {"name": "v", "mountPath": "/x", "subPath": ""}
    obj = deployment(
        paused=False, minReadySeconds=0, **containers({"name": "web", "image": "n", "volumeMounts": [mount]})
    )
    ours = copy.deepcopy(OURS_WEB)
    ours["f:spec"].update({"f:paused": {}, "f:minReadySeconds": {}})
    ours["f:spec"]["f:template"]["f:spec"]["f:containers"][C_WEB]["f:volumeMounts"] = {
        'k:{"mountPath":"/x"}': {".": {}, "f:name": {}, "f:mountPath": {}, "f:subPath": {}}
    }
    live = stored(obj, entry("gitops", ours))
    del live["spec"]["paused"], live["spec"]["minReadySeconds"]
    del live["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]["subPath"]
    assert same(obj, live)


def test_a_zero_value_git_adds_is_a_difference() -> None:
    obj = deployment(**containers({"name": "web", "image": "nginx"}))
    live = stored(obj, entry("gitops", OURS_WEB))
    obj["spec"]["template"]["spec"]["automountServiceAccountToken"] = False
    assert diff.explain(*views(obj, live)) == (
        "spec.template.spec.automountServiceAccountToken: <none> -> false",
    )


def test_set_items_of_other_managers_are_dropped() -> None:
    obj = deployment(**containers({"name": "web", "image": "nginx"}))
    obj["metadata"]["finalizers"] = ["example.com/ours"]
    ours = copy.deepcopy(OURS_WEB)
    ours["f:metadata"] = {"f:finalizers": {'v:"example.com/ours"': {}}}
    theirs = entry("ctrl", {"f:metadata": {"f:finalizers": {'v:"example.com/theirs"': {}}}}, "Update")
    live = stored(obj, entry("gitops", ours), theirs)
    live["metadata"]["finalizers"] = ["example.com/ours", "example.com/theirs"]
    assert same(obj, live)


def test_ports_pair_with_live_items_whose_protocol_key_was_defaulted() -> None:
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }
    ours: dict[str, Any] = {
        "f:spec": {
            "f:ports": {
                'k:{"port":80,"protocol":"TCP"}': {".": {}, "f:name": {}, "f:port": {}, "f:targetPort": {}}
            }
        }
    }
    live = stored(svc, entry("gitops", ours))
    live["spec"]["ports"][0]["protocol"] = "TCP"
    live["spec"].update(clusterIP="10.96.0.12", clusterIPs=["10.96.0.12"], type="ClusterIP")
    assert same(svc, live)


def test_objects_without_managed_fields_use_the_builtin_list_keys() -> None:
    """No managedFields (a state restored without them): only what Git sets is compared, and
    containers are still paired by name, not position."""
    obj = deployment(**containers({"name": "web", "image": "nginx"}))
    live = copy.deepcopy(obj)
    live["spec"]["template"]["spec"]["containers"].insert(0, {"name": "injected", "image": "x"})
    live["spec"]["template"]["spec"]["containers"][1]["imagePullPolicy"] = "Always"
    assert same(obj, live)


def test_custom_resource_lists_without_managed_fields_are_compared_whole() -> None:
    """Lists of a CRD without x-kubernetes-list-type are atomic: an extra item is drift."""
    cr: dict[str, Any] = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"items": [{"name": "a"}]},
    }
    live = copy.deepcopy(cr)
    live["spec"]["items"].append({"name": "b"})
    assert not same(cr, live)


# ------------------------------------------------------------------ canonical forms


def test_quantity_spellings_are_not_differences() -> None:
    res = {"requests": {"cpu": 0.5, "memory": "1024Mi"}, "limits": {"cpu": 1, "memory": "1.5Gi"}}
    obj = deployment(**containers({"name": "web", "image": "nginx", "resources": res}))
    ours = copy.deepcopy(OURS_WEB)
    ours["f:spec"]["f:template"]["f:spec"]["f:containers"][C_WEB]["f:resources"] = {
        "f:requests": {"f:cpu": {}, "f:memory": {}},
        "f:limits": {"f:cpu": {}, "f:memory": {}},
    }
    live = stored(obj, entry("gitops", ours))
    live["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": "1", "memory": "1536Mi"},
    }
    assert same(obj, live)


def test_secret_string_data_is_folded_into_data() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "shop"},
        "data": {"a": "b2xk", "b": "Yg=="},
        "stringData": {"a": "new"},
    }
    want, _ = views(secret, None)
    assert want["data"] == {"a": base64.b64encode(b"new").decode(), "b": "Yg=="}
    assert "stringData" not in want


def test_base64_with_line_breaks_equals_its_canonical_form() -> None:
    secret: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"k": "aGVs\nbG8="},
    }
    live = copy.deepcopy(secret)
    live["data"]["k"] = "aGVsbG8="
    assert same(secret, live)


def test_whole_floats_equal_ints_and_empty_values_equal_absent() -> None:
    cr = {
        "apiVersion": "example.com/v1",
        "kind": "W",
        "metadata": {"name": "w", "labels": {}},
        "spec": {"n": 2.0, "e": [], "m": {}, "z": None},
    }
    live = {"apiVersion": "example.com/v1", "kind": "W", "metadata": {"name": "w"}, "spec": {"n": 2}}
    assert same(cr, live)


def test_named_ports_stay_strings_and_differ_from_numbers() -> None:
    svc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 80, "targetPort": "80"}]},
    }
    live = copy.deepcopy(svc)
    live["spec"]["ports"][0]["targetPort"] = 80
    want, have = views(svc, live)
    assert want["spec"]["ports"][0]["targetPort"] == "80"
    assert want != have


# ------------------------------------------------------------------------- ignore


def test_ignore_rules_drop_their_pointers_on_both_sides() -> None:
    obj = deployment(replicas=2, **containers({"name": "web", "image": "nginx"}))
    obj["metadata"]["annotations"] = {"example.com/build": "1"}
    live = stored(obj, entry("gitops", OURS_WEB))
    live["spec"]["replicas"] = 5
    live["metadata"]["annotations"] = {"example.com/build": "2"}
    rules = [
        diff.IgnoreRule(("/spec/replicas", "/metadata/annotations/example.com~1build"), kind="Deployment")
    ]
    assert not same(obj, live)
    assert same(obj, live, ignore=rules)


def test_ignore_rule_wildcard_segment_matches_every_item() -> None:
    obj = deployment(**containers({"name": "a", "image": "1"}, {"name": "b", "image": "1"}))
    live = copy.deepcopy(obj)
    for c in live["spec"]["template"]["spec"]["containers"]:
        c["image"] = "2"
    rule = diff.IgnoreRule(("/spec/template/spec/containers/*/image",))
    assert same(obj, live, ignore=[rule])


def test_ignore_rules_for_other_objects_do_not_apply() -> None:
    obj = deployment(replicas=2)
    live = copy.deepcopy(obj)
    live["spec"]["replicas"] = 3
    for rule in (
        diff.IgnoreRule(("/spec/replicas",), kind="StatefulSet"),
        diff.IgnoreRule(("/spec/replicas",), namespace="other"),
        diff.IgnoreRule(("/spec/replicas",), name="web-*"),
        diff.IgnoreRule(("/spec/replicas",), group=""),
    ):
        assert not same(obj, live, ignore=[rule])
    assert same(obj, live, ignore=[diff.IgnoreRule(("/spec/replicas",), group="apps", name="w*")])


def test_the_configs_ignore_differences_are_accepted_as_they_are() -> None:
    obj = deployment(replicas=2)
    live = copy.deepcopy(obj)
    live["spec"]["replicas"] = 3
    assert same(obj, live, ignore=[IgnoreDifference(("/spec/replicas",), kind="Deployment")])


def test_an_ignore_rule_with_a_relative_pointer_is_refused() -> None:
    with pytest.raises(ConfigError, match="must start with '/'"):
        diff.IgnoreRule(("spec/replicas",))
