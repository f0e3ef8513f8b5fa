"""Server-side apply and managedFields (gitops.localcluster.managedfields).

Expectations come from structured-merge-diff v4 (merge/update.go, typed/*.go), the manager chain in
k8s.io/apimachinery/pkg/util/managedfields/internal (their tests are cited where a case is ported),
https://kubernetes.io/docs/reference/using-api/server-side-apply/ and K8S-API.md §5.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitops.localcluster import managedfields as mf
from gitops.localcluster import schema

_DEPLOYMENT = schema.for_kind("apps", "v1", "Deployment")
assert _DEPLOYMENT is not None
DEPLOYMENT: schema.TypeNode = _DEPLOYMENT
T0, T1, T2 = "2024-05-01T12:00:00Z", "2024-05-01T12:00:01Z", "2024-05-01T12:00:02Z"


def deployment(*, meta: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", **(meta or {})},
        "spec": spec,
    }


def template(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"containers": list(containers)}}


def apply(
    live: dict[str, Any] | None, config: dict[str, Any], manager: str, now: str = T0, **kw: Any
) -> dict[str, Any]:
    kw.setdefault("force", False)
    return mf.apply(live, config, manager=manager, api_version="apps/v1", node=DEPLOYMENT, now=now, **kw)


def update(
    old: dict[str, Any] | None, new: dict[str, Any], manager: str, now: str = T0, **kw: Any
) -> dict[str, Any]:
    """A non-apply write: returns ``new`` with the managedFields the server would store."""
    new = copy.deepcopy(new)
    entries = mf.update(old, new, manager=manager, api_version="apps/v1", node=DEPLOYMENT, now=now, **kw)
    new["metadata"]["managedFields"] = entries
    return new


def owners(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["manager"]: e["fieldsV1"] for e in obj["metadata"].get("managedFields", [])}


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    return result


def created_by_client_side_apply(replicas: int = 2) -> dict[str, Any]:
    """What a ``kubectl apply`` create stores: defaults, last-applied, an Update entry."""
    manifest = deployment(
        replicas=replicas,
        selector={"matchLabels": {"app": "web"}},
        template={
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]},
        },
    )
    obj = copy.deepcopy(manifest)
    obj["metadata"].update(uid="u-1", annotations={mf.LAST_APPLIED: json.dumps(manifest) + "\n"})
    obj["spec"].update(
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    )
    obj["spec"]["template"]["metadata"]["creationTimestamp"] = None
    containers(obj)[0].update(imagePullPolicy="IfNotPresent", terminationMessagePath="/dev/termination-log")
    return update(None, obj, "kubectl-client-side-apply")


# ----------------------------------------------------------------------------- apply


def test_first_apply_records_exactly_the_applied_fields() -> None:
    # K8S-API.md §5.2's example; apiVersion, kind, name and namespace are stripped (stripmeta.go).
    config = deployment(replicas=3, template=template({"name": "c", "image": "nginx"}))
    obj = apply(None, config, "kubectl")
    assert obj["metadata"]["managedFields"] == [
        {
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:spec": {
                    "f:replicas": {},
                    "f:template": {
                        "f:spec": {"f:containers": {'k:{"name":"c"}': {".": {}, "f:image": {}, "f:name": {}}}}
                    },
                }
            },
        }
    ]
    # Go writes the struct's fields in order; emitContentsV1 (fieldpath/serialize.go) writes "."
    # before the children.
    entry = obj["metadata"]["managedFields"][0]
    assert list(entry) == ["manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1"]
    assert list(entry["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"c"}']) == [
        ".",
        "f:image",
        "f:name",
    ]
    assert obj["spec"] == config["spec"]
    assert config == deployment(replicas=3, template=template({"name": "c", "image": "nginx"}))  # untouched


def test_identical_reapply_returns_the_stored_object() -> None:
    # A no-op apply keeps the applier's time (managedfieldsupdater.go: newObject is nil), so the
    # server sees an equal object and does not persist (K8S-API.md §2).
    config = deployment(replicas=3, template=template({"name": "c", "image": "nginx"}))
    stored = apply(None, config, "gitops")
    assert apply(stored, config, "gitops", now=T2) == stored
    changed = apply(
        stored, deployment(replicas=4, template=template({"name": "c", "image": "nginx"})), "gitops", now=T2
    )
    assert changed["metadata"]["managedFields"][0]["time"] == T2


def test_result_shares_no_containers_with_the_inputs() -> None:
    config = deployment(replicas=3, template=template({"name": "c", "image": "nginx"}))
    live = apply(None, config, "gitops")
    snapshot = copy.deepcopy(live)
    result = apply(live, config, "gitops", now=T1)
    containers(result)[0]["image"] = "mutated"
    result["metadata"]["managedFields"][0]["fieldsV1"].clear()
    assert live == snapshot
    assert containers(config)[0]["image"] == "nginx"


def test_field_dropped_from_the_config_is_removed() -> None:
    # merge/update.go prune: owned last time, not applied now, owned by nobody else.
    first = apply(None, deployment(meta={"labels": {"a": "1", "b": "2"}}, replicas=1), "gitops")
    second = apply(first, deployment(meta={"labels": {"a": "1"}}, replicas=1), "gitops", now=T1)
    assert second["metadata"]["labels"] == {"a": "1"}
    assert owners(second)["gitops"] == {"f:metadata": {"f:labels": {"f:a": {}}}, "f:spec": {"f:replicas": {}}}


def test_dropped_field_stays_when_another_applier_owns_it() -> None:
    first = apply(None, deployment(meta={"labels": {"a": "1", "b": "2"}}, replicas=1), "gitops")
    shared = apply(first, deployment(meta={"labels": {"b": "2"}}), "other", now=T1)
    second = apply(shared, deployment(meta={"labels": {"a": "1"}}, replicas=1), "gitops", now=T2)
    assert second["metadata"]["labels"] == {"a": "1", "b": "2"}
    assert owners(second)["other"] == {"f:metadata": {"f:labels": {"f:b": {}}}}
    assert "f:b" not in owners(second)["gitops"]["f:metadata"]["f:labels"]


def test_field_taken_by_an_updater_survives_the_applier_dropping_it() -> None:
    # structured-merge-diff PR #166, "update_apply_omits": the updater keeps the value it set.
    live = apply(None, deployment(replicas=2), "gitops")
    live = update(live, {**live, "spec": {"replicas": 1}}, "hpa", now=T1)
    result = apply(live, deployment(), "gitops", now=T2)
    assert result["spec"] == {"replicas": 1}
    assert owners(result) == {"hpa": {"f:spec": {"f:replicas": {}}}}


@given(
    first=st.dictionaries(st.sampled_from("abcdef"), st.sampled_from(["1", "2"]), max_size=5),
    second=st.dictionaries(st.sampled_from("abcdef"), st.sampled_from(["1", "2"]), max_size=5),
)
def test_sole_applier_labels_follow_its_config_and_reapply_is_idempotent(
    first: dict[str, str], second: dict[str, str]
) -> None:
    one = apply(None, deployment(meta={"labels": first}, replicas=1), "gitops")
    two = apply(one, deployment(meta={"labels": second}, replicas=1), "gitops", now=T1)
    assert two["metadata"].get("labels", {}) == second
    assert apply(two, deployment(meta={"labels": second}, replicas=1), "gitops", now=T2) == two


def test_dropped_container_is_removed_and_defaults_under_it_go_with_it() -> None:
    live = apply(
        None,
        deployment(template=template({"name": "app", "image": "a"}, {"name": "log", "image": "l"})),
        "gitops",
    )
    containers(live)[1]["imagePullPolicy"] = "Always"  # a server default nobody owns
    result = apply(live, deployment(template=template({"name": "app", "image": "a"})), "gitops", now=T1)
    assert containers(result) == [{"name": "app", "image": "a"}]


def test_dropped_struct_field_takes_its_unowned_defaults_along() -> None:
    # EnsureNamedFieldsAreMembers makes spec.strategy itself prunable; the Go struct is not a
    # pointer, so the round trip writes it back empty and defaulting refills it.
    live = apply(None, deployment(replicas=1, strategy={"type": "Recreate"}), "gitops")
    live["spec"]["strategy"]["rollingUpdate"] = {"maxSurge": "25%"}
    result = apply(live, deployment(replicas=1), "gitops", now=T1)
    assert result["spec"] == {"replicas": 1, "strategy": {}}


def test_conflict_with_client_side_apply_owner_names_field_and_manager() -> None:
    live = created_by_client_side_apply(replicas=2)
    with pytest.raises(mf.ApplyConflict) as raised:
        apply(live, deployment(replicas=5), "gitops")
    exc = raised.value
    assert (
        exc.message()
        == 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas'
    )
    assert exc.causes() == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
            "field": ".spec.replicas",
        }
    ]
    assert exc.status()["code"] == 409 and exc.status()["reason"] == "Conflict"
    assert exc.status()["details"] == {"causes": exc.causes()}  # NewApplyConflict names no object


def test_conflicts_group_paths_by_sorted_manager() -> None:
    # conflict.go getConflictMessage; an Apply manager prints without "using".
    live = apply(None, deployment(replicas=2, template=template({"name": "c", "image": "a"})), "b-team")
    live = apply(live, deployment(replicas=2), "a-team", now=T1)
    change = deployment(replicas=3, template=template({"name": "c", "image": "z"}))
    with pytest.raises(mf.ApplyConflict) as raised:
        apply(live, change, "c-team", now=T2)
    assert raised.value.message() == (
        "Apply failed with 3 conflicts: "
        'conflicts with "a-team":\n- .spec.replicas\n'
        'conflicts with "b-team":\n- .spec.replicas\n'
        '- .spec.template.spec.containers[name="c"].image'
    )
    assert [c["field"] for c in raised.value.causes()] == [
        ".spec.replicas",
        ".spec.replicas",
        '.spec.template.spec.containers[name="c"].image',
    ]


def test_kubectl_takes_over_fields_its_last_applied_annotation_still_matches() -> None:
    # lastappliedmanager.go: upgrading from client-side apply is not a conflict for manager
    # "kubectl" while the live value is the last-applied one (lastappliedmanager_test.go).
    live = created_by_client_side_apply(replicas=2)
    result = apply(live, deployment(replicas=5), "kubectl", now=T1)
    assert result["spec"]["replicas"] == 5
    assert "f:replicas" in owners(result)["kubectl"]["f:spec"]
    assert "f:replicas" not in owners(result)["kubectl-client-side-apply"]["f:spec"]
    # lastappliedupdater.go: the annotation now holds the applied configuration.
    assert result["metadata"]["annotations"][mf.LAST_APPLIED] == mf.go_json(deployment(replicas=5)) + "\n"


def test_kubectl_conflicts_where_live_drifted_from_last_applied() -> None:
    live = created_by_client_side_apply(replicas=2)
    scaled = update(
        live, {**live, "spec": {**live["spec"], "replicas": 7}}, "kubectl-client-side-apply", now=T1
    )
    with pytest.raises(mf.ApplyConflict) as raised:
        apply(scaled, deployment(replicas=5), "kubectl", now=T2)
    assert raised.value.message().endswith(": .spec.replicas")


def test_kubectl_upgrade_conflicts_only_on_fields_changed_since_last_applied() -> None:
    # Ported from lastappliedmanager_test.go TestApplyUsingLastAppliedAnnotation, first case.
    def spec(replicas: int, selector: str, labels: str, image: str, *extra: dict[str, Any]) -> dict[str, Any]:
        return {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": selector}},
            "template": {
                "metadata": {"labels": {"app": labels}},
                "spec": {"containers": [{"name": "my-c", "image": image}, *extra]},
            },
        }

    def obj(meta: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "my-deployment", **meta},
            "spec": body,
        }

    last_applied = obj(
        {}, spec(3, "my-app", "my-app", "my-image-v1", {"name": "my-c2", "image": "my-image2"})
    )
    original = obj(
        {"labels": {"app": "my-app"}, "annotations": {mf.LAST_APPLIED: mf.go_json(last_applied)}},
        spec(100, "my-app", "my-app", "my-image-v2"),
    )
    live = update(None, original, "test_client_side_apply")
    applied = obj(
        {"labels": {"app": "my-new-label"}}, spec(333, "my-new-label", "my-new-label", "my-image-new")
    )
    with pytest.raises(mf.ApplyConflict) as raised:
        mf.apply(
            live, applied, manager="kubectl", api_version="apps/v1", force=False, node=DEPLOYMENT, now=T1
        )
    assert [c["field"] for c in raised.value.causes()] == [
        ".metadata.labels.app",
        ".spec.replicas",
        '.spec.template.spec.containers[name="my-c"].image',
    ]
    forced = mf.apply(
        live, applied, manager="kubectl", api_version="apps/v1", force=True, node=DEPLOYMENT, now=T1
    )
    assert forced["spec"]["replicas"] == 333


def test_force_takes_ownership_and_removes_emptied_managers() -> None:
    live = apply(None, deployment(replicas=2), "scaler")
    live = apply(live, deployment(template=template({"name": "c", "image": "a"})), "gitops", now=T1)
    result = apply(
        live,
        deployment(replicas=3, template=template({"name": "c", "image": "a"})),
        "gitops",
        now=T2,
        force=True,
    )
    assert result["spec"]["replicas"] == 3
    assert list(owners(result)) == ["gitops"]  # "scaler" owned only replicas: gone
    assert "f:replicas" in owners(result)["gitops"]["f:spec"]


def test_force_leaves_the_other_managers_remaining_fields() -> None:
    live = created_by_client_side_apply(replicas=2)
    result = apply(live, deployment(replicas=5), "gitops", now=T1, force=True)
    csa = owners(result)["kubectl-client-side-apply"]["f:spec"]
    assert "f:replicas" not in csa and "f:selector" in csa


def test_same_value_is_shared_not_a_conflict() -> None:
    # "If two or more appliers set a field to the same value, they share ownership" (SSA docs).
    live = apply(None, deployment(replicas=2), "a")
    both = apply(live, deployment(replicas=2), "b", now=T1)
    assert owners(both) == {"a": {"f:spec": {"f:replicas": {}}}, "b": {"f:spec": {"f:replicas": {}}}}
    # Nothing changed, so b's entry carries no time (managedfieldsupdater.go) and sorts first.
    assert [(e["manager"], e.get("time")) for e in both["metadata"]["managedFields"]] == [
        ("b", None),
        ("a", T0),
    ]
    released = apply(both, deployment(), "a", now=T2)
    assert released["spec"]["replicas"] == 2  # still owned by b
    assert list(owners(released)) == ["b"]


def test_containers_merge_by_name_keeping_another_managers_sidecar() -> None:
    live = apply(None, deployment(replicas=1, template=template({"name": "app", "image": "app:1"})), "gitops")
    live = apply(live, deployment(template=template({"name": "proxy", "image": "envoy:1"})), "mesh", now=T1)
    assert [c["name"] for c in containers(live)] == ["app", "proxy"]
    result = apply(
        live, deployment(replicas=1, template=template({"name": "app", "image": "app:2"})), "gitops", now=T2
    )
    assert containers(result) == [{"name": "app", "image": "app:2"}, {"name": "proxy", "image": "envoy:1"}]
    assert list(owners(result)["mesh"]["f:spec"]["f:template"]["f:spec"]["f:containers"]) == [
        'k:{"name":"proxy"}'
    ]


def test_list_map_merge_follows_the_configs_order_for_shared_items() -> None:
    # typed/merge.go visitListItems: shared items in the config's order, live-only ones kept in place.
    live = apply(
        None,
        deployment(
            template=template(
                {"name": "a", "image": "1"}, {"name": "x", "image": "1"}, {"name": "b", "image": "1"}
            )
        ),
        "m1",
    )
    result = apply(
        live,
        deployment(template=template({"name": "b", "image": "1"}, {"name": "a", "image": "1"})),
        "m2",
        now=T1,
    )
    assert [c["name"] for c in containers(result)] == ["x", "b", "a"]


def test_selector_is_atomic() -> None:
    # LabelSelector is x-kubernetes-map-type: atomic: one leaf, replaced whole.
    live = apply(None, deployment(selector={"matchLabels": {"app": "web"}}), "gitops")
    assert owners(live)["gitops"] == {"f:spec": {"f:selector": {}}}
    other = deployment(selector={"matchLabels": {"tier": "front"}})
    with pytest.raises(mf.ApplyConflict) as raised:
        apply(live, other, "other", now=T1)
    assert raised.value.message() == 'Apply failed with 1 conflict: conflict with "gitops": .spec.selector'
    forced = apply(live, other, "other", now=T1, force=True)
    assert forced["spec"]["selector"] == {"matchLabels": {"tier": "front"}}


def test_finalizers_are_a_set() -> None:
    live = apply(None, deployment(meta={"finalizers": ["example.com/a"]}), "a")
    live = apply(live, deployment(meta={"finalizers": ["example.com/b"]}), "b", now=T1)
    assert live["metadata"]["finalizers"] == ["example.com/a", "example.com/b"]
    assert owners(live)["b"] == {"f:metadata": {"f:finalizers": {'v:"example.com/b"': {}}}}
    result = apply(live, deployment(), "a", now=T2)
    assert result["metadata"]["finalizers"] == ["example.com/b"]


def test_ports_are_keyed_by_container_port_and_defaulted_protocol() -> None:
    # ContainerPort.protocol is +default="TCP" (kubernetes #98576): a missing key takes it.
    ports = [{"containerPort": 80}, {"containerPort": 80, "protocol": "UDP"}]
    live = apply(None, deployment(template=template({"name": "c", "image": "i", "ports": ports})), "gitops")
    assert owners(live)["gitops"]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"c"}'][
        "f:ports"
    ] == {
        'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}},
        'k:{"containerPort":80,"protocol":"UDP"}': {".": {}, "f:containerPort": {}, "f:protocol": {}},
    }
    containers(live)[0]["ports"][0]["protocol"] = "TCP"  # what defaulting stores
    again = apply(
        live, deployment(template=template({"name": "c", "image": "i", "ports": ports})), "gitops", now=T1
    )
    assert again == live


def test_list_map_item_without_key_or_default_is_a_schema_error() -> None:
    with pytest.raises(mf.SchemaError) as raised:
        apply(None, deployment(template=template({"image": "nginx"})), "gitops")
    assert str(raised.value) == (
        ".spec.template.spec.containers: element 0: associative list with keys has an element that omits "
        'key field "name" (and doesn\'t have default value)'
    )
    with pytest.raises(mf.SchemaError, match=r'duplicate entries for key \[name="c"\]'):
        apply(None, deployment(template=template({"name": "c"}, {"name": "c"})), "gitops")


def test_config_with_managed_fields_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"metadata\.managedFields must be nil"):
        apply(None, deployment(meta={"managedFields": []}), "gitops")


def test_status_is_neither_owned_nor_changed_by_a_main_resource_apply() -> None:
    # Deployment's strategy resets status (GetResetFields); resetFields are the updater's IgnoredFields.
    live = apply(None, deployment(replicas=1), "gitops")
    live["status"] = {"replicas": 1}
    result = apply(live, {**deployment(replicas=1), "status": {"replicas": 9}}, "gitops", now=T1)
    assert result["status"] == {"replicas": 1}
    assert "f:status" not in owners(result)["gitops"]


def test_apply_to_an_untracked_object_credits_existing_fields_to_before_first_apply() -> None:
    # skipnonapplied.go: an object without managedFields gets an Update entry for what it holds.
    live = deployment(replicas=2, paused=True)
    live["metadata"]["uid"] = "u-1"
    result = apply(live, deployment(replicas=2), "gitops", now=T1)
    assert owners(result) == {
        "gitops": {"f:spec": {"f:replicas": {}}},
        "before-first-apply": {"f:spec": {"f:paused": {}, "f:replicas": {}}},
    }


def test_empty_manager_name_is_unknown() -> None:
    assert list(owners(apply(None, deployment(replicas=1), ""))) == ["unknown"]


# ----------------------------------------------------------------------------- update


def test_create_owns_every_field_including_server_defaults() -> None:
    obj = created_by_client_side_apply()
    fields = owners(obj)["kubectl-client-side-apply"]
    # The Go zero Deployment already has spec, spec.strategy and the template's metadata and spec:
    # they are not "added" and get no ".", unlike labels or a container (typed/compare.go).
    assert fields["f:metadata"] == {"f:annotations": {".": {}, "f:" + mf.LAST_APPLIED: {}}}
    spec = fields["f:spec"]
    assert "." not in spec and "." not in spec["f:strategy"] and "." in spec["f:strategy"]["f:rollingUpdate"]
    assert spec["f:selector"] == {}
    assert spec["f:template"]["f:metadata"] == {
        "f:labels": {".": {}, "f:app": {}}
    }  # creationTimestamp: null is zero
    container = spec["f:template"]["f:spec"]["f:containers"]['k:{"name":"c"}']
    assert container == {
        ".": {},
        "f:image": {},
        "f:imagePullPolicy": {},
        "f:name": {},
        "f:terminationMessagePath": {},
    }


def test_update_after_apply_moves_changed_fields_to_the_updater() -> None:
    live = apply(None, deployment(replicas=2, template=template({"name": "c", "image": "a"})), "gitops")
    scaled = update(live, {**live, "spec": {**live["spec"], "replicas": 4}}, "kubectl-scale", now=T1)
    assert owners(scaled)["kubectl-scale"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in owners(scaled)["gitops"]["f:spec"]
    assert [(e["manager"], e["operation"]) for e in scaled["metadata"]["managedFields"]] == [
        ("gitops", "Apply"),
        ("kubectl-scale", "Update"),
    ]
    # Updates never conflict, but the applier now does (with the updater).
    with pytest.raises(
        mf.ApplyConflict, match=re.escape('conflict with "kubectl-scale" using apps/v1: .spec.replicas')
    ):
        apply(
            scaled, deployment(replicas=2, template=template({"name": "c", "image": "a"})), "gitops", now=T2
        )


def test_update_removing_a_field_takes_it_from_its_owner_without_crediting_the_writer() -> None:
    live = apply(None, deployment(meta={"labels": {"a": "1"}}, replicas=2), "gitops")
    new = copy.deepcopy(live)
    del new["metadata"]["labels"]
    result = update(live, new, "editor", now=T1)
    assert owners(result) == {"gitops": {"f:spec": {"f:replicas": {}}}}  # removals alone stamp nothing


def test_noop_update_keeps_entries_and_times() -> None:
    live = created_by_client_side_apply()
    assert (
        update(live, live, "controller", now=T2)["metadata"]["managedFields"]
        == live["metadata"]["managedFields"]
    )
    # Client-sent entries differing only in time: IgnoreManagedFieldsTimestampsTransformer reverts them.
    sent = copy.deepcopy(live)
    sent["metadata"]["managedFields"][0]["time"] = T2
    assert (
        update(live, sent, "controller", now=T2)["metadata"]["managedFields"]
        == live["metadata"]["managedFields"]
    )


def test_timestamp_only_changes_are_reverted_for_callers_that_default_after_apply() -> None:
    # IgnoreManagedFieldsTimestampsTransformer: equal objects modulo times keep the old times.
    live = apply(None, deployment(replicas=1), "gitops")
    later = copy.deepcopy(live)
    later["metadata"]["managedFields"][0]["time"] = T2
    changed = copy.deepcopy(later)
    changed["spec"]["replicas"] = 2
    assert mf.ignore_managed_fields_timestamps(later, live) == live
    assert mf.ignore_managed_fields_timestamps(changed, live)["metadata"]["managedFields"][0]["time"] == T2


def test_client_sent_managed_fields_replace_the_stored_ones() -> None:
    # fieldmanager.go decodeLiveOrNew: kubectl's JSON patch of /metadata/managedFields is honoured.
    live = created_by_client_side_apply()
    sent = copy.deepcopy(live)
    sent["metadata"]["managedFields"][0]["manager"] = "renamed"
    assert list(owners(update(live, sent, "patcher", now=T1))) == ["renamed"]
    # An empty list resets them, and an existing object without entries is no longer tracked.
    reset = {**live, "metadata": {**live["metadata"], "managedFields": []}}
    assert mf.update(live, reset, manager="patcher", api_version="apps/v1", node=DEPLOYMENT, now=T1) == []
    # Invalid entries fall back to the stored ones; subresource writes always use the stored ones.
    broken = {
        **live,
        "metadata": {**live["metadata"], "managedFields": [{"manager": "x", "operation": "Bad"}]},
    }
    assert list(owners(update(live, broken, "patcher", now=T1))) == ["kubectl-client-side-apply"]
    status_write = update(live, sent, "kubelet", now=T1, subresource="status")
    assert list(owners(status_write)) == ["kubectl-client-side-apply"]


def test_subresource_writes_record_their_own_entry() -> None:
    live = apply(None, deployment(replicas=1), "gitops")
    new = {**live, "status": {"replicas": 1, "readyReplicas": 1}}
    result = update(live, new, "deployment-controller", now=T1, subresource="status")
    entry = result["metadata"]["managedFields"][-1]
    assert (entry["manager"], entry["subresource"]) == ("deployment-controller", "status")
    assert entry["fieldsV1"] == {"f:status": {".": {}, "f:readyReplicas": {}, "f:replicas": {}}}
    assert list(entry) == [
        "manager",
        "operation",
        "apiVersion",
        "time",
        "fieldsType",
        "fieldsV1",
        "subresource",
    ]


def test_update_entries_are_capped_at_ten_merging_the_oldest_into_ancient_changes() -> None:
    # capmanagers.go: the bucket manager is "ancient-changes", per apiVersion.
    obj = apply(None, deployment(replicas=1), "gitops")
    for i in range(12):
        labels = {f"l{j}": "x" for j in range(i + 1)}
        obj = update(
            obj,
            {**obj, "metadata": {**obj["metadata"], "labels": labels}},
            f"writer-{i:02d}",
            now=f"2024-05-01T12:01:{i:02d}Z",
        )
    managers = [e["manager"] for e in obj["metadata"]["managedFields"]]
    assert managers[0] == "gitops" and len(managers) == 11
    assert "ancient-changes" in managers and "writer-00" not in managers and "writer-11" in managers
    bucket = owners(obj)["ancient-changes"]["f:metadata"]["f:labels"]
    assert {"f:l0", "f:l1", "f:l2"} <= set(bucket)


def test_entries_sort_apply_first_then_time_then_manager() -> None:
    live = apply(None, deployment(replicas=1), "z-applier", now=T2)
    live = update(live, {**live, "metadata": {**live["metadata"], "labels": {"a": "b"}}}, "b-writer", now=T0)
    live = update(
        live, {**live, "metadata": {**live["metadata"], "annotations": {"a": "b"}}}, "a-writer", now=T0
    )
    assert [e["manager"] for e in live["metadata"]["managedFields"]] == ["z-applier", "a-writer", "b-writer"]


# ----------------------------------------------------------------------------- field sets


def test_fields_v1_round_trip_and_go_formatting() -> None:
    encoded = {
        "f:metadata": {"f:finalizers": {'v:"a/b"': {}}, "f:labels": {".": {}, "f:x": {}}},
        "f:spec": {
            "f:ports": {'k:{"port":80,"protocol":"TCP"}': {".": {}, "f:port": {}}},
            "f:args": {"i:0": {}},
        },
    }
    fs = mf.decode_fields_v1(encoded)
    # Set.Iterate: a level's members (sorted) before its children (sorted), depth first.
    assert fs.strings() == [
        ".metadata.labels",
        '.metadata.finalizers[="a/b"]',
        ".metadata.labels.x",
        ".spec.args[0]",
        '.spec.ports[port=80,protocol="TCP"]',
        '.spec.ports[port=80,protocol="TCP"].port',
    ]
    assert mf.encode_fields_v1(fs) == encoded
    # Keys are re-sorted and numbers canonicalized as Go writes them; unknown element types dropped.
    odd = mf.decode_fields_v1({'k:{"protocol":"TCP","port":80.0}': {}, "x:future": {}})
    assert mf.encode_fields_v1(odd) == {'k:{"port":80,"protocol":"TCP"}': {}}
    with pytest.raises(ValueError):
        mf.decode_fields_v1({"fspec": {}})


def test_field_set_of_an_applied_configuration() -> None:
    config = deployment(
        meta={"labels": {"app": "web"}, "annotations": {}},
        selector={"matchLabels": {"app": "web"}},
        template={
            "spec": {"containers": [{"name": "c", "args": ["-v"], "resources": {}}], "securityContext": {}}
        },
    )
    assert mf.field_set_of(config, DEPLOYMENT).strings() == [
        ".apiVersion",
        ".kind",
        ".metadata.name",
        ".metadata.namespace",
        ".metadata.labels.app",
        ".spec.selector",
        '.spec.template.spec.containers[name="c"]',
        '.spec.template.spec.containers[name="c"].args',
        '.spec.template.spec.containers[name="c"].name',
    ]


def test_custom_resources_use_the_deduced_type() -> None:
    # Untyped fields (x-kubernetes-preserve-unknown-fields) are granular maps and atomic lists.
    crd = schema.for_crd_schema(
        {
            "type": "object",
            "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
        }
    )
    config = {
        "apiVersion": "example.com/v1",
        "kind": "Gadget",
        "metadata": {"name": "g"},
        "spec": {"a": {"b": 1}, "l": [1, 2]},
    }
    obj = mf.apply(
        None, config, manager="gitops", api_version="example.com/v1", force=False, node=crd, now=T0
    )
    assert owners(obj)["gitops"] == {"f:spec": {"f:a": {".": {}, "f:b": {}}, "f:l": {}}}
    merged = mf.apply(
        obj,
        {**config, "spec": {"a": {"c": 2}, "l": [3]}},
        manager="other",
        api_version="example.com/v1",
        force=True,
        node=crd,
        now=T1,
    )
    assert merged["spec"] == {"a": {"b": 1, "c": 2}, "l": [3]}
