"""PATCH bodies applied the way kube-apiserver 1.32 applies them (gitops.localcluster.patch).

Expected results come from the Kubernetes sources named in each docstring:
``k8s.io/apimachinery/pkg/util/strategicpatch/patch.go`` and its ``patch_test.go`` fixtures (cited
by their Description), ``k8s.io/apiserver/pkg/endpoints/handlers/patch.go``, evanphx/json-patch v4
``merge.go``, and the Kubernetes task page "Update API Objects in Place Using kubectl patch".
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gitops.localcluster import patch, schema

DEPLOYMENT = schema.for_kind("apps", "v1", "Deployment")
SERVICE = schema.for_kind("", "v1", "Service")
assert DEPLOYMENT is not None and SERVICE is not None

# The shape of mergeItem in upstream patch_test.go, as OpenAPI annotations, for its fixtures.
_NAMED = {"type": "object", "properties": {"name": {}, "value": {}, "other": {}}}
MERGE_ITEM = schema.TypeNode(
    {
        "type": "object",
        "properties": {
            "mergingList": {
                "type": "array",
                "items": _NAMED,
                "x-kubernetes-patch-strategy": "merge",
                "x-kubernetes-patch-merge-key": "name",
            },
            "mergingIntList": {
                "type": "array",
                "items": {"type": "integer"},
                "x-kubernetes-patch-strategy": "merge",
            },
            "nonMergingList": {"type": "array", "items": _NAMED},
            "listOfLists": {
                "type": "array",
                "items": {"type": "array", "items": {"type": "integer"}},
                "x-kubernetes-patch-strategy": "merge",
            },
        },
    },
    {},
)


def container(name: str, image: str, **extra: Any) -> dict[str, Any]:
    """A container as the server stores it, with its defaulted fields."""
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        **extra,
    }


def live_deployment(*containers: dict[str, Any], **pod_spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "uid": "6f1c",
            "resourceVersion": "41",
            "generation": 2,
            "labels": {"app": "web"},
            "annotations": {"deployment.kubernetes.io/revision": "2"},
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": list(containers), "restartPolicy": "Always", **pod_spec},
            },
        },
        "status": {"replicas": 2, "readyReplicas": 2},
    }


def smp(obj: dict[str, Any], body: Any, node: schema.TypeNode | None = DEPLOYMENT) -> dict[str, Any]:
    """Apply a strategic merge patch and check the input was left alone."""
    assert node is not None
    before = copy.deepcopy(obj), copy.deepcopy(body)
    result = patch.apply_strategic_merge_patch(obj, body, node)
    assert (obj, body) == before
    return result


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def names(items: list[dict[str, Any]]) -> list[Any]:
    return [i["name"] for i in items]


def template_patch(**pod_spec_patch: Any) -> dict[str, Any]:
    return {"spec": {"template": {"spec": pod_spec_patch}}}


# --- JSON patch --------------------------------------------------------------------------------


def test_json_patch_applies_operations_in_order_without_touching_input() -> None:
    """RFC 6902 add/replace/remove, as kubectl patch --type json sends them."""
    obj = live_deployment(container("app", "nginx:1"))
    before = copy.deepcopy(obj)
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 5},
        {"op": "add", "path": "/metadata/labels/tier", "value": "front"},
        {"op": "remove", "path": "/metadata/annotations/deployment.kubernetes.io~1revision"},
        {
            "op": "add",
            "path": "/spec/template/spec/containers/-",
            "value": {"name": "log", "image": "busybox"},
        },
    ]
    result = patch.apply_json_patch(obj, ops)
    assert obj == before
    assert result["spec"]["replicas"] == 5
    assert result["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert result["metadata"]["annotations"] == {}
    assert names(pod_spec(result)["containers"]) == ["app", "log"]


def test_json_patch_can_replace_managed_fields() -> None:
    """K8S-API.md 5.5: after a server-side apply kubectl may replace /metadata/managedFields."""
    obj = live_deployment(container("app", "nginx:1"))
    obj["metadata"]["managedFields"] = [{"manager": "kubectl-client-side-apply", "operation": "Update"}]
    entries = [{"manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {}}]
    result = patch.apply_json_patch(
        obj, [{"op": "replace", "path": "/metadata/managedFields", "value": entries}]
    )
    assert result["metadata"]["managedFields"] == entries


def test_json_patch_failed_test_op_is_422_without_the_cause() -> None:
    """handlers/patch.go applyJSPatch: Apply errors become NewGenericServerResponse(422), whose
    message is the fixed 'the server rejected our request due to an error in our request'."""
    obj = live_deployment(container("app", "nginx:1"))
    with pytest.raises(patch.PatchError) as caught:
        patch.apply_json_patch(
            obj,
            [
                {"op": "test", "path": "/spec/replicas", "value": 3},
                {"op": "replace", "path": "/spec/replicas", "value": 4},
            ],
        )
    assert caught.value.code == 422
    assert caught.value.reason == "Invalid"
    assert str(caught.value) == "the server rejected our request due to an error in our request"


@pytest.mark.parametrize(
    "op",
    [
        {"op": "remove", "path": "/spec/paused"},
        {"op": "replace", "path": "/spec/nothing/here", "value": 1},
        {"op": "frobnicate", "path": "/spec/replicas"},
    ],
)
def test_json_patch_op_that_does_not_apply_is_422(op: dict[str, Any]) -> None:
    """handlers/patch.go: every patchObj.Apply failure is a 422."""
    with pytest.raises(patch.PatchError) as caught:
        patch.apply_json_patch(live_deployment(), [op])
    assert caught.value.code == 422


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"op": "add"}, "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
        ("add", "json: cannot unmarshal string into Go value of type jsonpatch.Patch"),
        ([3], "json: cannot unmarshal number into Go value of type jsonpatch.Operation"),
    ],
)
def test_json_patch_body_that_is_not_a_list_of_objects_is_400(body: Any, message: str) -> None:
    """handlers/patch.go: jsonpatch.DecodePatch errors become NewBadRequest."""
    with pytest.raises(patch.PatchError) as caught:
        patch.apply_json_patch(live_deployment(), body)
    assert (caught.value.code, str(caught.value)) == (400, message)


def test_json_patch_over_ten_thousand_operations_is_413() -> None:
    """handlers/patch.go: maxJSONPatchOperations = 10000, NewRequestEntityTooLargeError."""
    ops = [{"op": "test", "path": "/kind", "value": "Deployment"}] * 10001
    with pytest.raises(patch.PatchError) as caught:
        patch.apply_json_patch(live_deployment(), ops)
    assert caught.value.code == 413
    assert str(caught.value) == "The allowed maximum operations in a JSON patch is 10000, got 10001"


# --- JSON merge patch --------------------------------------------------------------------------


def test_merge_patch_from_kubectl_label_and_annotate() -> None:
    """kubectl label/annotate send merge patches; RFC 7386: objects merge and null deletes."""
    obj = live_deployment(container("app", "nginx:1"))
    before = copy.deepcopy(obj)
    body = {
        "metadata": {
            "labels": {"tier": "front", "app": None},
            "annotations": {"owner": "team-a"},
        }
    }
    result = patch.apply_merge_patch(obj, body)
    assert obj == before
    assert result["metadata"]["labels"] == {"tier": "front"}
    assert result["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "2", "owner": "team-a"}
    assert result["spec"] == obj["spec"]


def test_merge_patch_replaces_lists_whole() -> None:
    """RFC 7386: arrays are replaced, even lists that strategic merge would merge by key."""
    obj = live_deployment(container("app", "nginx:1"), container("log", "busybox"))
    result = patch.apply_merge_patch(obj, template_patch(containers=[{"name": "app", "image": "nginx:2"}]))
    assert pod_spec(result)["containers"] == [{"name": "app", "image": "nginx:2"}]


def test_merge_patch_null_for_absent_field_changes_nothing() -> None:
    """evanphx mergeDocs: a null deletes the key if present and is never stored."""
    obj = live_deployment()
    assert patch.apply_merge_patch(obj, {"spec": {"paused": None}}) == obj


def test_merge_patch_prunes_nulls_inside_added_values() -> None:
    """evanphx mergeDocs/pruneNulls: an added value loses its null members, also in array items,
    while null array items stay; a null-or-scalar target is replaced by the (pruned) patch."""
    obj = {"metadata": {"name": "x"}, "data": "old"}
    body = {
        "spec": {"a": 1, "b": None, "items": [{"k": None, "v": 1}, None]},
        "data": {"key": "v", "gone": None},
    }
    result = patch.apply_merge_patch(obj, body)
    assert result["spec"] == {"a": 1, "items": [{"v": 1}, None]}
    assert result["data"] == {"key": "v"}


def test_merge_patch_from_kubectl_scale() -> None:
    """kubectl scale PATCHes /scale with {"spec":{"replicas":N}} (K8S-API.md 0.4)."""
    scale = {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "spec": {"replicas": 2},
        "status": {"replicas": 2},
    }
    assert patch.apply_merge_patch(scale, {"spec": {"replicas": 4}})["spec"] == {"replicas": 4}


@pytest.mark.parametrize("body", [None, "spec", 3, True])
def test_merge_patch_null_or_scalar_body_is_400(body: Any) -> None:
    """evanphx doMergePatch returns ErrBadJSONPatch ('Invalid JSON Patch'), a 400 in applyJSPatch."""
    with pytest.raises(patch.PatchError) as caught:
        patch.apply_merge_patch(live_deployment(), body)
    assert (caught.value.code, str(caught.value)) == (400, "Invalid JSON Patch")


def test_merge_patch_array_body_replaces_document_and_fails_to_decode() -> None:
    """RFC 7386: a non-object patch replaces the target; the server then cannot decode the array
    as an object and answers NewInvalid (422) naming field 'patch'."""
    with pytest.raises(patch.PatchError) as caught:
        patch.apply_merge_patch(live_deployment(), [{"a": None}])
    assert caught.value.code == 422
    assert 'patch: Invalid value: "[{}]"' in str(caught.value)


# --- strategic merge patch: what kubectl sends ---------------------------------------------------


def test_client_side_apply_patch_changes_image_and_keeps_server_defaults() -> None:
    """kubectl apply's three-way patch (K8S-API.md 3.6): the container is merged by its key 'name'
    (x-kubernetes-patch-merge-key), so defaulted fields the patch does not mention stay."""
    obj = live_deployment(container("c", "nginx:1"))
    last_applied = '{"apiVersion":"apps/v1","kind":"Deployment"}\n'
    body = {
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied}},
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "c"}],
                    "containers": [{"image": "nginx:2", "name": "c"}],
                }
            }
        },
    }
    result = smp(obj, body)
    assert pod_spec(result)["containers"] == [container("c", "nginx:2")]
    assert result["metadata"]["annotations"] == {
        "deployment.kubernetes.io/revision": "2",
        "kubectl.kubernetes.io/last-applied-configuration": last_applied,
    }
    assert "$setElementOrder/containers" not in pod_spec(result)


def test_delete_directive_removes_list_item_by_merge_key() -> None:
    """mergeSliceWithSpecialElements: {"$patch":"delete","name":"b"} deletes every item with that key."""
    obj = live_deployment(container("a", "nginx"), container("b", "busybox"))
    result = smp(obj, template_patch(containers=[{"$patch": "delete", "name": "b"}]))
    assert names(pod_spec(result)["containers"]) == ["a"]


def test_apply_patch_removing_a_container_with_set_element_order() -> None:
    """The deletions half of CreateThreeWayMergePatch carries $setElementOrder with the delete
    directive; upstream fixture 'retainKeys map deletes an item in nested merging list' keeps a
    server-only item after the ordered ones."""
    obj = live_deployment(container("a", "nginx"), container("b", "busybox"), container("x", "proxy"))
    body = template_patch(
        **{"$setElementOrder/containers": [{"name": "a"}], "containers": [{"$patch": "delete", "name": "b"}]}
    )
    result = smp(obj, body)
    assert pod_spec(result)["containers"] == [container("a", "nginx"), container("x", "proxy")]


def test_new_list_item_goes_first_without_set_element_order() -> None:
    """Task page 'Update API Objects in Place Using kubectl patch': after patching in container
    patch-demo-ctr-2 the output lists it before patch-demo-ctr (mergeSortedSlice puts items not in
    the live list before the remaining server-only items)."""
    obj = live_deployment(container("patch-demo-ctr", "nginx"))
    result = smp(obj, template_patch(containers=[{"name": "patch-demo-ctr-2", "image": "redis"}]))
    assert names(pod_spec(result)["containers"]) == ["patch-demo-ctr-2", "patch-demo-ctr"]


def test_same_task_page_replaces_tolerations_which_have_no_merge_strategy() -> None:
    """Same task page: tolerations (no x-kubernetes-patch-strategy) are replaced, not merged."""
    obj = live_deployment(
        container("patch-demo-ctr", "nginx"),
        tolerations=[{"effect": "NoSchedule", "key": "dedicated", "value": "test-team"}],
    )
    result = smp(
        obj, template_patch(tolerations=[{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}])
    )
    assert pod_spec(result)["tolerations"] == [{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}]


def test_set_image_patch_changes_only_the_named_container() -> None:
    """kubectl set image sends a two-way strategic patch (CreateTwoWayMergePatch, SetElementOrder)."""
    obj = live_deployment(container("app", "nginx:1"), container("log", "busybox:1"))
    body = template_patch(
        **{
            "$setElementOrder/containers": [{"name": "app"}, {"name": "log"}],
            "containers": [{"image": "nginx:2", "name": "app"}],
        }
    )
    result = smp(obj, body)
    assert pod_spec(result)["containers"] == [container("app", "nginx:2"), container("log", "busybox:1")]


def test_rollout_restart_adds_template_annotation_next_to_existing_ones() -> None:
    """kubectl rollout restart patches spec.template.metadata.annotations (a map: merged by key)."""
    obj = live_deployment(container("app", "nginx"))
    obj["spec"]["template"]["metadata"]["annotations"] = {"prometheus.io/scrape": "true"}
    body = {
        "spec": {
            "template": {
                "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}}
            }
        }
    }
    result = smp(obj, body)
    assert result["spec"]["template"]["metadata"] == {
        "labels": {"app": "web"},
        "annotations": {
            "prometheus.io/scrape": "true",
            "kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z",
        },
    }


# --- strategic merge patch: merge keys from the schema -------------------------------------------


def test_ports_merge_by_container_port() -> None:
    """Container ports: x-kubernetes-patch-merge-key containerPort (K8S-API.md 5.4); items of the
    patch keep the patch's order (normalizeSliceOrder by the patch list)."""
    obj = live_deployment(
        container("app", "nginx", ports=[{"containerPort": 80, "name": "http", "protocol": "TCP"}])
    )
    body = template_patch(
        containers=[{"name": "app", "ports": [{"containerPort": 80, "name": "web"}, {"containerPort": 9090}]}]
    )
    ports = pod_spec(smp(obj, body))["containers"][0]["ports"]
    assert ports == [{"containerPort": 80, "name": "web", "protocol": "TCP"}, {"containerPort": 9090}]


def test_env_merges_by_name_and_null_removes_a_field_of_one_item() -> None:
    """env: merge key name; a null inside a matched item deletes that field (mergeMap)."""
    env = [
        {"name": "A", "value": "1"},
        {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    ]
    obj = live_deployment(container("app", "nginx", env=env))
    body = template_patch(
        containers=[
            {
                "name": "app",
                "env": [{"name": "B", "valueFrom": None, "value": "2"}, {"name": "A", "value": "9"}],
            }
        ]
    )
    assert pod_spec(smp(obj, body))["containers"][0]["env"] == [
        {"name": "B", "value": "2"},
        {"name": "A", "value": "9"},
    ]


def test_service_ports_merge_by_port() -> None:
    """Service spec.ports: merge key port (K8S-API.md 5.4)."""
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}], "selector": {"app": "web"}},
    }
    body = {"spec": {"$setElementOrder/ports": [{"port": 80}], "ports": [{"port": 80, "targetPort": 9000}]}}
    assert smp(svc, body, SERVICE)["spec"]["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 9000}]


def test_volumes_retain_keys_switches_volume_source() -> None:
    """volumes: strategy merge,retainKeys. kubectl sends $retainKeys in the changed item;
    applyRetainKeysDirective clears the old emptyDir source."""
    obj = live_deployment(
        container("app", "nginx"), volumes=[{"name": "data", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]
    )
    body = template_patch(
        **{
            "$setElementOrder/volumes": [{"name": "data"}, {"name": "tmp"}],
            "volumes": [
                {"$retainKeys": ["configMap", "name"], "configMap": {"name": "settings"}, "name": "data"}
            ],
        }
    )
    assert pod_spec(smp(obj, body))["volumes"] == [
        {"name": "data", "configMap": {"name": "settings"}},
        {"name": "tmp", "emptyDir": {}},
    ]


def test_strategy_retain_keys_drops_rolling_update_when_switching_to_recreate() -> None:
    """Deployment spec.strategy has x-kubernetes-patch-strategy retainKeys."""
    result = smp(live_deployment(), {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})
    assert result["spec"]["strategy"] == {"type": "Recreate"}


def test_retain_keys_must_list_every_field_the_patch_sets() -> None:
    """applyRetainKeysDirective: a patched field missing from $retainKeys is
    ErrBadPatchFormatForRetainKeys, a BadRequest in interpretStrategicMergePatchError."""
    body = {
        "spec": {
            "strategy": {"$retainKeys": ["type"], "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}
        }
    }
    with pytest.raises(patch.PatchError) as caught:
        smp(live_deployment(), body)
    assert (caught.value.code, str(caught.value)) == (400, "invalid patch format of retainKeys")


def test_finalizers_are_a_union_with_new_values_first() -> None:
    """metadata.finalizers: strategy merge without merge key, a set; mergeSlice dedups and
    normalizeElementOrder puts values new to the live list first."""
    obj = live_deployment()
    obj["metadata"]["finalizers"] = ["a.example/one", "b.example/two"]
    result = smp(obj, {"metadata": {"finalizers": ["c.example/three", "a.example/one"]}})
    assert result["metadata"]["finalizers"] == ["c.example/three", "a.example/one", "b.example/two"]


def test_delete_from_primitive_list_removes_values_and_keeps_order() -> None:
    """Upstream fixture 'retainKeys map adds an item and deletes an item in nested merging int list':
    current [1,2,3,4] + add 5, delete 2, order [1,3,5] -> [1,3,5,4]."""
    body = {
        "mergingIntList": [5],
        "$deleteFromPrimitiveList/mergingIntList": [2],
        "$setElementOrder/mergingIntList": [1, 3, 5],
    }
    assert smp({"mergingIntList": [1, 2, 3, 4]}, body, MERGE_ITEM) == {"mergingIntList": [1, 3, 5, 4]}


def test_delete_from_primitive_list_works_on_atomic_lists_too() -> None:
    """kubernetes#110472 (mergeSliceHandler): a deletion list applies whatever the field's strategy,
    so args (no merge strategy) lose the value instead of being replaced by it."""
    obj = live_deployment(container("app", "nginx", args=["--a", "--b", "--a"]))
    body = template_patch(containers=[{"name": "app", "$deleteFromPrimitiveList/args": ["--a"]}])
    assert pod_spec(smp(obj, body))["containers"][0]["args"] == ["--b"]


def test_owner_references_merge_by_uid() -> None:
    """metadata.ownerReferences: merge key uid."""
    obj = live_deployment()
    obj["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "a", "uid": "1"}]
    body = {"metadata": {"ownerReferences": [{"uid": "1", "controller": True}]}}
    assert smp(obj, body)["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "a", "uid": "1", "controller": True}
    ]


# --- strategic merge patch: $setElementOrder ----------------------------------------------------


def test_set_element_order_reorders_and_places_new_items() -> None:
    """mergePatchIntoOriginal: precedence $setElementOrder > patch order > live order."""
    obj = live_deployment(
        container("app", "nginx", env=[{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
    )
    body = template_patch(
        containers=[
            {
                "name": "app",
                "$setElementOrder/env": [{"name": "B"}, {"name": "C"}, {"name": "A"}],
                "env": [{"name": "C", "value": "3"}],
            }
        ]
    )
    env = pod_spec(smp(obj, body))["containers"][0]["env"]
    assert env == [{"name": "B", "value": "2"}, {"name": "C", "value": "3"}, {"name": "A", "value": "1"}]


@pytest.mark.parametrize(
    ("live", "expected"),
    [
        (["app", "istio-proxy"], ["log", "app", "istio-proxy"]),
        (["istio-proxy", "app"], ["log", "istio-proxy", "app"]),
    ],
)
def test_server_only_items_keep_their_place_relative_to_live_items(
    live: list[str], expected: list[str]
) -> None:
    """normalizeElementOrder/mergeSortedSlice: an item absent from $setElementOrder (here an
    injected sidecar) goes before an ordered item only if it precedes it in the live list."""
    obj = live_deployment(*(container(n, "img") for n in live))
    body = template_patch(
        **{
            "$setElementOrder/containers": [{"name": "log"}, {"name": "app"}],
            "containers": [{"name": "log", "image": "busybox"}],
        }
    )
    assert names(pod_spec(smp(obj, body))["containers"]) == expected


def test_set_element_order_of_primitives_interleaves_server_only_values() -> None:
    """Upstream fixture with only $setElementOrder/mergingIntList [2,1,4,3] against current
    [1,2,7,9,8,3,4] -> [2,1,7,9,8,4,3]."""
    body = {"$setElementOrder/mergingIntList": [2, 1, 4, 3]}
    assert smp({"mergingIntList": [1, 2, 7, 9, 8, 3, 4]}, body, MERGE_ITEM) == {
        "mergingIntList": [2, 1, 7, 9, 8, 4, 3]
    }


def test_set_element_order_sees_the_deleted_slot_reused_by_an_added_item() -> None:
    """Upstream fixture 'add map and delete map from merging list with conflict': current [1,4],
    patch adds 2 and 3, deletes 1, order [2,3] -> [4,2,3]. The added item 2 lands in the slot the
    deletion freed in the Go backing array, so 4 sorts before it."""
    current = {"mergingList": [{"name": 1, "other": "a"}, {"name": 4, "other": "c"}]}
    body = {
        "$setElementOrder/mergingList": [{"name": 2}, {"name": 3}],
        "mergingList": [{"name": 2}, {"name": 3}, {"name": 1, "$patch": "delete"}],
    }
    assert smp(current, body, MERGE_ITEM) == {
        "mergingList": [{"name": 4, "other": "c"}, {"name": 2}, {"name": 3}]
    }


def test_set_element_order_keeps_duplicates_together() -> None:
    """Upstream fixture 'behavior of set element order for a merging list with duplicate'."""
    current = {
        "mergingList": [
            {"name": 1},
            {"name": 2, "value": "dup1"},
            {"name": 3},
            {"name": 2, "value": "dup2"},
            {"name": 4},
        ]
    }
    body = {"$setElementOrder/mergingList": [{"name": n} for n in (2, 1, 4, 3, 2)]}
    assert smp(current, body, MERGE_ITEM)["mergingList"] == [
        {"name": 2, "value": "dup1"},
        {"name": 2, "value": "dup2"},
        {"name": 1},
        {"name": 4},
        {"name": 3},
    ]


def test_set_element_order_must_agree_with_the_patch_list() -> None:
    """Upstream fixture 'should check if order in $setElementOrder and patch list match'."""
    current = {"mergingList": [{"name": 1}, {"name": 3}, {"name": 2}]}
    body = {
        "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
        "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}],
    }
    with pytest.raises(patch.PatchError, match="doesn't match") as caught:
        smp(current, body, MERGE_ITEM)
    assert caught.value.code == 500


def test_set_element_order_may_name_items_that_do_not_exist() -> None:
    """Upstream fixture '$setElementOrder contains item that is not present in the list to be merged'."""
    current = {"mergingList": [{"name": 1}, {"name": 3}]}
    body = {
        "$setElementOrder/mergingList": [{"name": 3}, {"name": 2}, {"name": 1}],
        "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}],
    }
    assert smp(current, body, MERGE_ITEM) == {
        "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]
    }


# --- strategic merge patch: directives, nulls, errors --------------------------------------------


def test_replace_directive_in_a_list_replaces_the_whole_list() -> None:
    """strategic-merge-patch.md, replace directive on a list of maps (mergeSliceWithSpecialElements)."""
    obj = live_deployment(container("a", "nginx"), container("b", "busybox"))
    body = template_patch(containers=[{"name": "a", "image": "nginx:2"}, {"$patch": "replace"}])
    assert pod_spec(smp(obj, body))["containers"] == [{"name": "a", "image": "nginx:2"}]


def test_replace_directive_in_a_map_replaces_the_map() -> None:
    """handleDirectiveInMergeMap: $patch: replace keeps only the patch's own keys."""
    body = {"metadata": {"labels": {"$patch": "replace", "tier": "front"}}}
    assert smp(live_deployment(), body)["metadata"]["labels"] == {"tier": "front"}


def test_delete_directive_in_a_map_leaves_it_empty() -> None:
    """handleDirectiveInMergeMap returns an empty map for $patch: delete (strategic-merge-patch.md:
    'Applying this patch will delete the rollingUpdate map')."""
    result = smp(live_deployment(), {"spec": {"strategy": {"rollingUpdate": {"$patch": "delete"}}}})
    assert result["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {}}


def test_null_deletes_a_field_and_null_for_absent_field_is_not_stored() -> None:
    """mergeMap with IgnoreUnmatchedNulls (StrategicMergeMapPatch)."""
    obj = live_deployment(container("app", "nginx"), nodeSelector={"disk": "ssd"})
    result = smp(obj, template_patch(nodeSelector=None, hostname=None))
    assert "nodeSelector" not in pod_spec(result)
    assert "hostname" not in pod_spec(result)


def test_nulls_inside_a_new_field_are_discarded() -> None:
    """discardNullValuesFromPatch (kubernetes#107705): a value added where the original has none
    loses its null members, at any depth."""
    obj = live_deployment(container("app", "nginx"))
    body = template_patch(
        affinity={
            "nodeAffinity": None,
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"topologyKey": "zone", "labelSelector": None}
                ]
            },
        }
    )
    assert pod_spec(smp(obj, body))["affinity"] == {
        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "zone"}]}
    }


def test_directives_inside_a_new_field_are_removed() -> None:
    """removeDirectives (kubernetes#117568): a list added where the original has none keeps no
    $patch items; no directive key is ever stored."""
    obj = live_deployment(container("app", "nginx"))
    body = template_patch(
        initContainers=[
            {"name": "init", "image": "busybox", "$setElementOrder/env": []},
            {"$patch": "delete", "name": "old"},
        ]
    )
    assert pod_spec(smp(obj, body))["initContainers"] == [{"name": "init", "image": "busybox"}]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"spec": {"strategy": {"$patch": "bogus"}}}, "unknown patch type: bogus in map: map[$patch:bogus]"),
        ({"spec": {"strategy": {"$patch": "merge"}}}, "unknown patch type: merge in map: map[$patch:merge]"),
        (
            template_patch(containers=[{"$patch": "merge", "name": "a"}]),
            "merging lists cannot yet be specified in the patch",
        ),
        (
            template_patch(containers=[{"$patch": "bogus", "name": "a"}]),
            "unknown patch type: bogus in map: map[$patch:bogus name:a]",
        ),
    ],
)
def test_unknown_or_merge_patch_directive_is_refused(body: dict[str, Any], message: str) -> None:
    """handleDirectiveInMergeMap / mergeSliceWithSpecialElements ('merge' is a struct-tag-only
    directive per strategic-merge-patch.md). interpretStrategicMergePatchError passes these through,
    so the real server answers 500 with the raw message."""
    with pytest.raises(patch.PatchError) as caught:
        smp(live_deployment(container("a", "nginx")), body)
    assert (caught.value.code, str(caught.value)) == (500, message)


def test_list_item_without_its_merge_key_is_refused() -> None:
    """mergepatch.ErrNoMergeKey from mergeSliceWithoutSpecialElements."""
    with pytest.raises(patch.PatchError) as caught:
        smp(live_deployment(container("a", "nginx")), template_patch(containers=[{"image": "nginx:2"}]))
    assert str(caught.value) == "map: map[image:nginx:2] does not contain declared merge key: name"


def test_bad_directive_key_format_is_400() -> None:
    """extractKey: ErrBadPatchFormatForSetElementOrderList / ...ForPrimitiveList are BadRequests."""
    for key, what in [
        ("$setElementOrder", "setElementOrder list"),
        ("$deleteFromPrimitiveListX/args", "primitive list"),
    ]:
        with pytest.raises(patch.PatchError) as caught:
            smp(live_deployment(container("a", "nginx")), {"metadata": {key: []}})
        assert (caught.value.code, str(caught.value)) == (400, f"invalid patch format of {what}")


def test_merging_list_of_lists_is_422() -> None:
    """sliceElementType: ErrNoListOfLists, a 422 in interpretStrategicMergePatchError."""
    with pytest.raises(patch.PatchError) as caught:
        smp({"listOfLists": [[1]]}, {"listOfLists": [[2]]}, MERGE_ITEM)
    assert (caught.value.code, str(caught.value)) == (422, "lists of lists are not supported")


@pytest.mark.parametrize(("body", "word"), [([{"spec": {}}], "array"), ("x", "string")])
def test_strategic_patch_body_must_be_an_object(body: Any, word: str) -> None:
    """strategicPatchObject: the body is unmarshalled into a map; failure is a BadRequest."""
    with pytest.raises(patch.PatchError) as caught:
        smp(live_deployment(), body)
    assert caught.value.code == 400
    assert (
        str(caught.value) == f"json: cannot unmarshal {word} into Go value of type map[string]interface {{}}"
    )


def test_null_strategic_patch_changes_nothing() -> None:
    """json.Unmarshal of null leaves the patch map nil; mergeMap then has nothing to do."""
    obj = live_deployment(container("a", "nginx"))
    assert smp(obj, None) == obj


def test_untyped_fields_merge_maps_and_replace_lists() -> None:
    """Fields without schema (preserve-unknown-fields) carry no patch strategy: maps merge like a
    JSON merge patch and lists are replaced."""
    obj = {"spec": {"config": {"a": 1, "b": {"c": 2}}, "items": [1, 2]}}
    body = {"spec": {"config": {"b": {"d": 3}, "a": None}, "items": [3]}}
    assert smp(obj, body, schema.untyped()) == {"spec": {"config": {"b": {"c": 2, "d": 3}}, "items": [3]}}


def test_patch_error_is_a_value_error_with_code_and_reason() -> None:
    """Status reasons by code: 400 BadRequest, 422 Invalid, 500 '' (StatusReasonUnknown)."""
    assert issubclass(patch.PatchError, ValueError)
    assert patch.PatchError("x").code == 400
    assert patch.PatchError("x").reason == "BadRequest"
    assert patch.PatchError("x", 500).reason == ""
