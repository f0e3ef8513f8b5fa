"""Reading managedFields: who owns what, and how list items are addressed (K8S-API.md §5.2)."""

from __future__ import annotations

from typing import Any

from gitops.diff import fields

FIELDS_V1: dict[str, Any] = {
    "f:metadata": {"f:labels": {"f:app": {}}, "f:finalizers": {'v:"example.com/x"': {}}},
    "f:spec": {
        "f:replicas": {},
        "f:template": {
            "f:spec": {
                "f:containers": {
                    'k:{"name":"web"}': {
                        ".": {},
                        "f:image": {},
                        "f:ports": {
                            'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}
                        },
                    }
                }
            }
        },
        "f:list": {"i:0": {}},
    },
}


def obj(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "x", "managedFields": list(entries)}}


def test_decode_spells_paths_like_server_side_apply_conflicts() -> None:
    assert fields.decode(FIELDS_V1) == [
        ".metadata.labels.app",
        '.metadata.finalizers[="example.com/x"]',
        ".spec.replicas",
        '.spec.template.spec.containers[name="web"]',
        '.spec.template.spec.containers[name="web"].image',
        '.spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"]',
        '.spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"].containerPort',
        ".spec.list[0]",
    ]


def test_list_elements_tell_how_items_are_addressed() -> None:
    spec = FIELDS_V1["f:spec"]
    containers = (spec["f:template"]["f:spec"]["f:containers"],)
    ports = fields.child(fields.child(containers, 'k:{"name":"web"}'), "f:ports")
    assert fields.list_elements(containers) == ("map", ("name",))
    assert fields.list_elements(ports) == ("map", ("containerPort", "protocol"))
    assert fields.list_elements((FIELDS_V1["f:metadata"]["f:finalizers"],)) == ("set", ())
    assert fields.list_elements((spec["f:list"],)) == ("index", ())
    assert fields.list_elements(({},)) == ("atomic", ())
    assert fields.list_elements(()) == ("unknown", ())


def test_item_keys_match_the_k_elements() -> None:
    item = {"containerPort": 80, "protocol": "TCP", "name": "http"}
    assert fields.item_key(item, ("containerPort", "protocol")) == fields.parse_key(
        'k:{"containerPort":80,"protocol":"TCP"}'
    )
    assert fields.parse_key("f:name") is None
    assert fields.parse_key("k:not json") is None


def test_applied_by_needs_an_apply_entry_of_the_manager_on_the_main_resource() -> None:
    apply = {"manager": "gitops", "operation": "Apply", "fieldsV1": {}}
    assert fields.applied_by(obj(apply), "gitops")
    assert not fields.applied_by(obj({**apply, "operation": "Update"}), "gitops")
    assert not fields.applied_by(obj({**apply, "subresource": "status"}), "gitops")
    assert not fields.applied_by(obj({**apply, "manager": "kubectl"}), "gitops")
    assert not fields.applied_by({"metadata": {}}, "gitops")


def test_owns_follows_field_names() -> None:
    o = obj({"manager": "gitops", "operation": "Apply", "fieldsV1": FIELDS_V1})
    assert fields.owns(o, "gitops", "metadata", "labels", "app")
    assert not fields.owns(o, "gitops", "metadata", "labels", "tier")
    assert not fields.owns(o, "kubectl", "metadata", "labels", "app")


def test_is_leaf_means_owned_whole() -> None:
    assert fields.is_leaf(({},))
    assert fields.is_leaf(({".": {}},))
    assert not fields.is_leaf(({"f:a": {}},))
    assert not fields.is_leaf(())
