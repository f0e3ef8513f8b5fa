"""Discovery, /version and OpenAPI v3 documents (gitops.localcluster.discovery), without HTTP.

The documents are compared with what kube-apiserver 1.32 serves (K8S-API.md §1) and checked the
way their readers use them: client-go's aggregated-discovery conversion, the Python
DynamicClient's preferred-version comparison, kubectl's field-validation verifier and its
strategic-merge-patch schema walk are ported here in a few lines each.
"""

from __future__ import annotations

import copy
import hashlib
import re
import time
from typing import Any

import orjson
import pytest

from gitops.localcluster import discovery, resources

KUBECTL_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json"
)

CRONTAB_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.stable.example.com"},
    "spec": {
        "group": "stable.example.com",
        "scope": "Namespaced",
        "names": {
            "plural": "crontabs",
            "singular": "crontab",
            "kind": "CronTab",
            "shortNames": ["ct"],
            "categories": ["all"],
        },
        "versions": [
            {
                "name": "v1beta1",
                "served": True,
                "storage": False,
                "schema": {
                    "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                },
            },
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {
                    "status": {},
                    "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"},
                },
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "cronSpec": {"type": "string"},
                                    "replicas": {"type": "integer"},
                                },
                            },
                            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                    }
                },
            },
        ],
    },
}


@pytest.fixture
def reg() -> resources.Registry:
    return resources.Registry()


@pytest.fixture
def reg_with_crd() -> resources.Registry:
    registry = resources.Registry()
    registry.set_crd("crontabs.stable.example.com", resources.Registry.from_crd(CRONTAB_CRD))
    return registry


def _served_gvs(registry: resources.Registry) -> list[tuple[str, str]]:
    return [(g, v) for g, vs in registry.group_versions().items() for v in vs]


# ---------------------------------------------------------------------------------- /version


def test_version_reports_1_32_so_the_kubectl_dispatcher_runs_kubectl_1_32() -> None:
    info = discovery.version_info()
    assert info == {
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0",
        "gitCommit": info["gitCommit"],
        "gitTreeState": "clean",
        "buildDate": info["buildDate"],
        "goVersion": info["goVersion"],
        "compiler": "gc",
        "platform": "linux/amd64",
    }
    assert re.fullmatch(r"[0-9a-f]{40}", info["gitCommit"])
    assert all(isinstance(v, str) for v in info.values())


# ------------------------------------------------------------------------- legacy discovery


def test_api_lists_the_core_version_and_the_server_address() -> None:
    assert discovery.api_versions("127.0.0.1:6443") == {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
    }


def test_group_list_has_every_named_group_in_priority_order(reg: resources.Registry) -> None:
    doc = discovery.api_group_list(reg)
    assert doc["kind"] == "APIGroupList"
    assert doc["apiVersion"] == "v1"
    names = [g["name"] for g in doc["groups"]]
    assert "" not in names
    assert sorted(names) == sorted(g for g in reg.group_versions() if g)
    assert names[:3] == ["apps", "autoscaling", "batch"]
    assert doc["groups"][0] == {
        "name": "apps",
        "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
        "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"},
    }


def test_preferred_version_equals_a_listed_version_as_the_dynamic_client_compares(
    reg_with_crd: resources.Registry,
) -> None:
    for group in discovery.api_group_list(reg_with_crd)["groups"]:
        # kubernetes/dynamic/discovery.py: preferred = version_raw == group['preferredVersion']
        assert [v == group["preferredVersion"] for v in group["versions"]].count(True) == 1
        assert group["versions"][0] == group["preferredVersion"]


def test_group_document_for_one_group(reg: resources.Registry) -> None:
    assert discovery.api_group(reg, "batch") == {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": "batch",
        "versions": [{"groupVersion": "batch/v1", "version": "v1"}],
        "preferredVersion": {"groupVersion": "batch/v1", "version": "v1"},
    }
    assert discovery.api_group(reg, "nope.example.com") is None
    assert discovery.api_group(reg, "") is None


def test_resource_list_has_the_resource_and_its_subresources(reg: resources.Registry) -> None:
    doc = discovery.api_resource_list(reg, "apps", "v1")
    assert doc is not None
    assert (doc["kind"], doc["apiVersion"], doc["groupVersion"]) == ("APIResourceList", "v1", "apps/v1")
    by_name = {r["name"]: r for r in doc["resources"]}
    assert by_name["deployments"] == {
        "name": "deployments",
        "singularName": "deployment",
        "namespaced": True,
        "kind": "Deployment",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        "shortNames": ["deploy"],
        "categories": ["all"],
        "storageVersionHash": "8aSe+NMegvE=",  # what a real 1.32 server reports
    }
    assert by_name["deployments/scale"] == {
        "name": "deployments/scale",
        "singularName": "",
        "namespaced": True,
        "group": "autoscaling",
        "version": "v1",
        "kind": "Scale",
        "verbs": ["get", "patch", "update"],
    }
    assert by_name["deployments/status"] == {
        "name": "deployments/status",
        "singularName": "",
        "namespaced": True,
        "kind": "Deployment",
        "verbs": ["get", "patch", "update"],
    }
    assert "controllerrevisions/status" not in by_name
    names = [r["name"] for r in doc["resources"]]
    assert names == sorted(names)


def test_core_resource_list_carries_no_api_version(reg: resources.Registry) -> None:
    doc = discovery.api_resource_list(reg, "", "v1")
    assert doc is not None
    assert "apiVersion" not in doc
    assert doc["groupVersion"] == "v1"
    by_name = {r["name"]: r for r in doc["resources"]}
    assert by_name["pods/status"]["kind"] == "Pod"
    assert by_name["namespaces"]["namespaced"] is False
    assert "deletecollection" not in by_name["namespaces"]["verbs"]
    assert by_name["pods"]["storageVersionHash"] == "xPOwRZ+Yhw8="
    assert "shortNames" not in by_name["secrets"]


def test_unserved_group_version_has_no_resource_list(reg: resources.Registry) -> None:
    assert discovery.api_resource_list(reg, "apps", "v1beta1") is None
    assert discovery.api_resource_list(reg, "", "v2") is None


# --------------------------------------------------------------------- aggregated discovery


def _all_aggregated_entries(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for item in doc["items"] for v in item["versions"] for r in v["resources"]]


def test_aggregated_core_document_holds_only_the_core_group(reg: resources.Registry) -> None:
    doc = discovery.aggregated_discovery(reg, core=True)
    assert (doc["kind"], doc["apiVersion"], doc["metadata"]) == (
        "APIGroupDiscoveryList",
        "apidiscovery.k8s.io/v2",
        {},
    )
    [item] = doc["items"]
    assert item["metadata"] == {"creationTimestamp": None}
    [version] = item["versions"]
    assert (version["version"], version["freshness"]) == ("v1", "Current")
    pods = next(r for r in version["resources"] if r["resource"] == "pods")
    assert pods == {
        "resource": "pods",
        "responseKind": {"group": "", "version": "", "kind": "Pod"},
        "scope": "Namespaced",
        "singularResource": "pod",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        "shortNames": ["po"],
        "categories": ["all"],
        "subresources": [
            {
                "subresource": "status",
                "responseKind": {"group": "", "version": "", "kind": "Pod"},
                "verbs": ["get", "patch", "update"],
            }
        ],
    }


def test_aggregated_apis_document_holds_every_named_group(reg: resources.Registry) -> None:
    doc = discovery.aggregated_discovery(reg, core=False)
    names = [item["metadata"]["name"] for item in doc["items"]]
    assert names == [g["name"] for g in discovery.api_group_list(reg)["groups"]]
    apps = doc["items"][0]
    deployments = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    assert deployments["scope"] == "Namespaced"
    assert deployments["subresources"] == [
        {
            "subresource": "scale",
            "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
            "verbs": ["get", "patch", "update"],
        },
        {
            "subresource": "status",
            "responseKind": {"group": "", "version": "", "kind": "Deployment"},
            "verbs": ["get", "patch", "update"],
        },
    ]
    nodes = next(
        r
        for r in _all_aggregated_entries(discovery.aggregated_discovery(reg, core=True))
        if r["resource"] == "nodes"
    )
    assert nodes["scope"] == "Cluster"


@pytest.mark.parametrize("core", [True, False])
def test_every_aggregated_entry_has_a_response_kind(reg_with_crd: resources.Registry, core: bool) -> None:
    # client-go's convertAPIResource/convertAPISubresource drop entries whose responseKind is
    # missing or empty (client-go/discovery/aggregated_discovery.go).
    for entry in _all_aggregated_entries(discovery.aggregated_discovery(reg_with_crd, core=core)):
        assert entry["responseKind"]["kind"], entry
        assert set(entry["responseKind"]) == {"group", "version", "kind"}
        assert entry["scope"] in ("Namespaced", "Cluster")
        assert entry["singularResource"]
        for sub in entry.get("subresources", []):
            assert sub["responseKind"]["kind"], sub
            assert sub["verbs"]


def _split_groups_and_resources(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """client-go's SplitGroupsAndResources: aggregated entries back to legacy APIResources."""
    out: dict[str, list[dict[str, Any]]] = {}
    for item in doc["items"]:
        group = item["metadata"].get("name", "")
        for version in item["versions"]:
            gv = f"{group}/{version['version']}" if group else version["version"]
            listed = out.setdefault(gv, [])
            for r in version["resources"]:
                parent = {
                    "name": r["resource"],
                    "singularName": r["singularResource"],
                    "namespaced": r["scope"] == "Namespaced",
                    "kind": r["responseKind"]["kind"],
                    "verbs": r["verbs"],
                }
                listed.append(parent)
                for sub in r.get("subresources", []):
                    listed.append(
                        {
                            "name": f"{r['resource']}/{sub['subresource']}",
                            "namespaced": parent["namespaced"],
                            "kind": sub["responseKind"]["kind"],
                            "verbs": sub["verbs"],
                        }
                    )
    return out


def test_aggregated_and_legacy_discovery_describe_the_same_resources(
    reg_with_crd: resources.Registry,
) -> None:
    aggregated = {
        **_split_groups_and_resources(discovery.aggregated_discovery(reg_with_crd, core=True)),
        **_split_groups_and_resources(discovery.aggregated_discovery(reg_with_crd, core=False)),
    }
    assert set(aggregated) == {f"{g}/{v}" if g else v for g, v in _served_gvs(reg_with_crd)}
    for group, version in _served_gvs(reg_with_crd):
        legacy = discovery.api_resource_list(reg_with_crd, group, version)
        assert legacy is not None
        gv = legacy["groupVersion"]
        fields = ("name", "namespaced", "kind", "verbs")
        want = sorted(tuple(str(r[f]) for f in fields) for r in legacy["resources"])
        got = sorted(tuple(str(r[f]) for f in fields) for r in aggregated[gv])
        assert got == want, gv


def test_aggregated_discovery_in_v2beta1_names_that_version(reg: resources.Registry) -> None:
    doc = discovery.aggregated_discovery(reg, core=False, version="v2beta1")
    assert doc["apiVersion"] == "apidiscovery.k8s.io/v2beta1"
    assert discovery.aggregated_content_type("v2beta1") == (
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
    )
    assert (
        discovery.AGGREGATED_CONTENT_TYPE
        == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    )


# ----------------------------------------------------------------------- custom resources


def test_crd_versions_are_discovered_with_the_storage_version_preferred(
    reg_with_crd: resources.Registry,
) -> None:
    group = discovery.api_group(reg_with_crd, "stable.example.com")
    assert group is not None
    assert [v["version"] for v in group["versions"]] == ["v1", "v1beta1"]
    assert group["preferredVersion"] == {"groupVersion": "stable.example.com/v1", "version": "v1"}
    names = [g["name"] for g in discovery.api_group_list(reg_with_crd)["groups"]]
    assert names[-1] == "stable.example.com"  # custom groups follow the built-ins


def test_crd_resources_in_legacy_discovery(reg_with_crd: resources.Registry) -> None:
    doc = discovery.api_resource_list(reg_with_crd, "stable.example.com", "v1")
    assert doc is not None
    by_name = {r["name"]: r for r in doc["resources"]}
    assert set(by_name) == {"crontabs", "crontabs/scale", "crontabs/status"}
    crontabs = by_name["crontabs"]
    assert crontabs["kind"] == "CronTab"
    assert crontabs["singularName"] == "crontab"
    assert crontabs["shortNames"] == ["ct"]
    assert crontabs["categories"] == ["all"]
    # The order the apiextensions discovery controller lists them in.
    assert crontabs["verbs"] == [
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "create",
        "update",
        "watch",
    ]
    assert by_name["crontabs/scale"]["group"] == "autoscaling"
    v1beta1 = discovery.api_resource_list(reg_with_crd, "stable.example.com", "v1beta1")
    assert v1beta1 is not None
    assert [r["name"] for r in v1beta1["resources"]] == ["crontabs"]


def test_crd_resources_in_aggregated_discovery_name_their_group_version(
    reg_with_crd: resources.Registry,
) -> None:
    doc = discovery.aggregated_discovery(reg_with_crd, core=False)
    item = doc["items"][-1]
    assert item["metadata"] == {"name": "stable.example.com", "creationTimestamp": None}
    assert [v["version"] for v in item["versions"]] == ["v1", "v1beta1"]
    [crontabs] = item["versions"][0]["resources"]
    assert crontabs["responseKind"] == {"group": "stable.example.com", "version": "v1", "kind": "CronTab"}
    assert [s["subresource"] for s in crontabs["subresources"]] == ["scale", "status"]
    assert crontabs["subresources"][1]["responseKind"] == {
        "group": "stable.example.com",
        "version": "v1",
        "kind": "CronTab",
    }


def test_removing_a_crd_removes_its_discovery(reg_with_crd: resources.Registry) -> None:
    reg_with_crd.set_crd("crontabs.stable.example.com", [])
    assert discovery.api_group(reg_with_crd, "stable.example.com") is None
    assert discovery.api_resource_list(reg_with_crd, "stable.example.com", "v1") is None
    assert "apis/stable.example.com/v1" not in discovery.openapi_v3_index(reg_with_crd)["paths"]
    assert discovery.openapi_v3_document(reg_with_crd, "apis/stable.example.com/v1") is None


# ---------------------------------------------------------------------- content negotiation


@pytest.mark.parametrize(
    ("accept", "version"),
    [
        # kubectl 1.30+ (K8S-API.md §1.3)
        (KUBECTL_ACCEPT, "v2"),
        # plain JSON, the Python client, curl: legacy documents
        ("application/json", None),
        ("application/json, */*", None),
        ("", None),
        (None, None),
        ("*/*", None),
        # an older client that only knows v2beta1 gets v2beta1
        (
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json",
            "v2beta1",
        ),
        # higher q wins over header order
        (
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList;q=0.9,"
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
            "v2",
        ),
        # plain JSON first does not block a later aggregated clause (the discovery endpoint
        # only accepts clauses that convert to APIGroupDiscoveryList)
        ("application/json,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", "v2"),
        # spaces around parameters, wildcards matching JSON
        ("application/json ; g=apidiscovery.k8s.io ; v=v2 ; as=APIGroupDiscoveryList", "v2"),
        ("*/*;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", "v2"),
        ("application/*;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", "v2"),
        # not aggregated discovery: wrong group, version or kind, missing kind
        ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json", None),
        ("application/json;g=apidiscovery.k8s.io;v=v1;as=APIGroupDiscoveryList", None),
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscovery", None),
        ("application/json;g=apidiscovery.k8s.io;v=v2", None),
        # media types we do not write (the real server would answer protobuf)
        ("application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", None),
        (
            "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
            "v2beta1",
        ),
        # parameters the discovery endpoint refuses
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;sv=v1", None),
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;stream=other", None),
        # case-sensitive, as goautoneg compares
        ("Application/JSON;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", None),
        # malformed clauses are skipped
        ("application;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", None),
        ("a/b/c, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", "v2"),
        ("application/json;g=apidiscovery.k8s.io;v==v2;as=APIGroupDiscoveryList", None),
        # an unparsable q is 0, which still counts (1.32 does not drop q=0 clauses), just last
        (
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList;q=x,"
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0.1",
            "v2",
        ),
        ("application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList;q=0", "v2beta1"),
    ],
)
def test_accept_header_negotiates_aggregated_discovery(accept: str | None, version: str | None) -> None:
    assert discovery.negotiate_aggregated(accept) == version
    assert discovery.wants_aggregated(accept) is (version is not None)


def test_accept_clauses_sort_by_quality_then_specificity() -> None:
    clauses = discovery.parse_accept(
        "application/yaml;q=0.5, application/json;q=0.9;pretty=1, text/html, application/cbor;q=0.9, */*;q=0.1"
    )
    assert [(c.type, c.subtype, c.q) for c in clauses] == [
        ("text", "html", 1.0),
        ("application", "json", 0.9),  # equal q keeps header order
        ("application", "cbor", 0.9),
        ("application", "yaml", 0.5),
        ("*", "*", 0.1),
    ]
    assert clauses[1].param("pretty") == "1"
    assert clauses[1].param("q") is None


def test_accept_sorting_keeps_goautonegs_quirk() -> None:
    # goautoneg's comparator puts a concrete subtype before a wildcard whatever their q, and Go's
    # insertion sort applies it pairwise: application/json;q=0.9 ends up before text/*.
    clauses = discovery.parse_accept("*/*;q=0.8, text/*, application/json;q=0.9, text/html")
    assert [f"{c.type}/{c.subtype}" for c in clauses] == ["text/html", "application/json", "text/*", "*/*"]


# --------------------------------------------------------------------------- OpenAPI index


def test_openapi_index_lists_every_served_group_version_with_its_document_hash(
    reg_with_crd: resources.Registry,
) -> None:
    index = discovery.openapi_v3_index(reg_with_crd)
    expected = {discovery.gv_path(g, v) for g, v in _served_gvs(reg_with_crd)}
    assert set(index) == {"paths"}
    assert set(index["paths"]) == expected
    assert {"api/v1", "apis/apps/v1", "apis/stable.example.com/v1"} <= expected
    for path, entry in index["paths"].items():
        url = entry["serverRelativeURL"]
        match = re.fullmatch(r"/openapi/v3/(.+)\?hash=([0-9A-F]{128})", url)
        assert match is not None, url
        assert match.group(1) == path
        body = discovery.openapi_v3_document_json(reg_with_crd, path)
        assert body is not None
        assert match.group(2) == hashlib.sha512(body).hexdigest().upper()
        assert orjson.loads(body) == discovery.openapi_v3_document(reg_with_crd, path)


def test_openapi_hashes_are_stable_across_servers(reg: resources.Registry) -> None:
    assert discovery.openapi_v3_index(reg) == discovery.openapi_v3_index(resources.Registry())


def test_unknown_group_version_has_no_openapi_document(reg: resources.Registry) -> None:
    assert discovery.openapi_v3_document(reg, "apis/apps/v1beta1") is None
    assert discovery.openapi_v3_document(reg, "apis/apps") is None
    assert discovery.openapi_v3_document(reg, "nonsense") is None
    assert discovery.openapi_v3_document(reg, "/apis/apps/v1") is not None  # a leading slash is fine


# ------------------------------------------------------------------------ OpenAPI documents


def _document(registry: resources.Registry, group: str, version: str) -> dict[str, Any]:
    doc = discovery.openapi_v3_document(registry, discovery.gv_path(group, version))
    assert doc is not None
    return doc


def _walk(node: Any) -> Any:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_openapi_document_is_openapi_3(reg: resources.Registry) -> None:
    doc = _document(reg, "apps", "v1")
    assert doc["openapi"] == "3.0.0"
    assert doc["info"]["title"] == "Kubernetes"
    assert set(doc) == {"openapi", "info", "paths", "components"}
    assert "io.k8s.api.apps.v1.Deployment" in doc["components"]["schemas"]
    assert "io.k8s.api.autoscaling.v1.Scale" in doc["components"]["schemas"]


def test_every_reference_resolves_inside_the_document(reg_with_crd: resources.Registry) -> None:
    for group, version in _served_gvs(reg_with_crd):
        doc = _document(reg_with_crd, group, version)
        schemas = doc["components"]["schemas"]
        for node in _walk(doc):
            # (JSONSchemaProps has a property named "$ref": its value is a schema, not a reference)
            if isinstance(node, dict) and isinstance(node.get("$ref"), str):
                ref = node["$ref"]
                assert ref.startswith("#/components/schemas/"), ref
                assert ref.removeprefix("#/components/schemas/") in schemas, ref
                assert set(node) == {"$ref"}, "OpenAPI 3.0 ignores $ref siblings: wrap in allOf"


def test_schemas_use_openapi_types_not_json_schema_null_unions(reg: resources.Registry) -> None:
    schemas = _document(reg, "", "v1")["components"]["schemas"]
    for node in _walk(schemas):
        if isinstance(node, dict) and "type" in node and not isinstance(node["type"], dict):
            assert isinstance(node["type"], str), node
    pod = schemas["io.k8s.api.core.v1.Pod"]
    assert pod["type"] == "object"
    assert pod["properties"]["apiVersion"] == {
        "description": pod["properties"]["apiVersion"]["description"],
        "type": "string",
    }
    assert pod["properties"]["metadata"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    ]
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    int_or_string = schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
    assert int_or_string["format"] == "int-or-string"
    assert int_or_string["oneOf"] == [{"type": "integer"}, {"type": "string"}]
    assert schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]["oneOf"] == [
        {"type": "string"},
        {"type": "number"},
    ]


def _supports_query_param_v3(doc: dict[str, Any], gvk: dict[str, str], param: str) -> bool:
    """cli-runtime/pkg/resource/query_param_verifier_v3.go supportsQueryParamV3, ported."""
    for path in doc["paths"].values():
        op = path.get("patch")
        if op is None:
            continue
        ext = op.get("x-kubernetes-group-version-kind")
        if not isinstance(ext, dict) or ext != gvk:
            continue
        return any(p["name"] == param for p in op.get("parameters", []))
    return False


def test_every_kind_has_a_patch_operation_with_field_validation(reg_with_crd: resources.Registry) -> None:
    # With it, kubectl's default --validate=strict leaves validation to the server (K8S-API.md §1.5).
    for rt in reg_with_crd.all():
        doc = _document(reg_with_crd, rt.group, rt.version)
        gvk = {"group": rt.group, "kind": rt.kind, "version": rt.version}
        assert _supports_query_param_v3(doc, gvk, "fieldValidation"), rt.kind
        prefix = f"/apis/{rt.group}/{rt.version}" if rt.group else f"/api/{rt.version}"
        scope = "/namespaces/{namespace}" if rt.namespaced else ""
        item = doc["paths"][f"{prefix}{scope}/{rt.plural}/{{name}}"]
        patch = item["patch"]
        assert patch["x-kubernetes-group-version-kind"] == gvk
        assert patch["x-kubernetes-action"] == "patch"
        [field_validation] = [p for p in patch["parameters"] if p["name"] == "fieldValidation"]
        assert field_validation["in"] == "query"
        assert {p["name"] for p in item["parameters"]} >= (
            {"name", "namespace"} if rt.namespaced else {"name"}
        )


def test_namespaced_and_cluster_scoped_paths(reg: resources.Registry) -> None:
    apps = _document(reg, "apps", "v1")["paths"]
    assert set(apps["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]) == {
        "get",
        "put",
        "patch",
        "delete",
        "parameters",
    }
    assert set(apps["/apis/apps/v1/namespaces/{namespace}/deployments"]) == {
        "get",
        "post",
        "delete",
        "parameters",
    }
    assert apps["/apis/apps/v1/deployments"]["get"]["operationId"] == "listAppsV1DeploymentForAllNamespaces"
    scale = apps["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"]
    assert scale["x-kubernetes-group-version-kind"] == {
        "group": "autoscaling",
        "kind": "Scale",
        "version": "v1",
    }
    status = apps["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status"]["patch"]
    assert status["operationId"] == "patchAppsV1NamespacedDeploymentStatus"
    core = _document(reg, "", "v1")["paths"]
    assert core["/api/v1/namespaces/{name}"]["patch"]["operationId"] == "patchCoreV1Namespace"
    assert "delete" not in core["/api/v1/namespaces"]  # namespaces have no deletecollection
    rbac = _document(reg, "rbac.authorization.k8s.io", "v1")["paths"]
    assert rbac["/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"]["patch"]["tags"] == [
        "rbacAuthorization_v1"
    ]


def _resolve(schemas: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """strategicpatch.PatchMetaFromOpenAPIV3's resolve: first allOf, then $ref."""
    if node.get("allOf"):
        node = node["allOf"][0]
    ref = node.get("$ref")
    if ref:
        resolved: dict[str, Any] = schemas[ref.removeprefix("#/components/schemas/")]
        return resolved
    return node


def _patch_meta(schemas: dict[str, Any], root: dict[str, Any], path: list[str]) -> dict[str, Any]:
    """Walk field names the way kubectl's strategic merge patch does; the last field's schema."""
    node = root
    for name in path[:-1]:
        node = _resolve(schemas, node["properties"][name])
        if node.get("type") == "array":
            node = _resolve(schemas, node["items"])
    prop: dict[str, Any] = node["properties"][path[-1]]
    return prop


def test_strategic_merge_patch_metadata_is_reachable_like_kubectl_reads_it(reg: resources.Registry) -> None:
    doc = _document(reg, "apps", "v1")
    schemas = doc["components"]["schemas"]
    # kubectl apply's patcher: the patch op accepts strategic merge patch for built-ins ...
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
    # ... and the schema is the one whose x-kubernetes-group-version-kind list names the kind.
    [root] = [
        s
        for s in schemas.values()
        if {"group": "apps", "kind": "Deployment", "version": "v1"}
        in s.get("x-kubernetes-group-version-kind", [])
    ]
    containers = _patch_meta(schemas, root, ["spec", "template", "spec", "containers"])
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    ports = _patch_meta(schemas, root, ["spec", "template", "spec", "containers", "ports"])
    assert ports["x-kubernetes-patch-merge-key"] == "containerPort"
    volumes = _patch_meta(schemas, root, ["spec", "template", "spec", "volumes"])
    assert volumes["x-kubernetes-patch-strategy"] == "merge,retainKeys"
    assert "enum" not in root["properties"]["kind"]


def test_custom_resource_schema_comes_from_the_crd(reg_with_crd: resources.Registry) -> None:
    doc = _document(reg_with_crd, "stable.example.com", "v1")
    schemas = doc["components"]["schemas"]
    crontab = schemas["com.example.stable.v1.CronTab"]
    assert crontab["x-kubernetes-group-version-kind"] == [
        {"group": "stable.example.com", "kind": "CronTab", "version": "v1"}
    ]
    assert crontab["properties"]["spec"]["properties"]["cronSpec"] == {"type": "string"}
    assert crontab["properties"]["metadata"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    ]
    assert crontab["properties"]["apiVersion"]["type"] == "string"
    assert schemas["com.example.stable.v1.CronTabList"]["x-kubernetes-group-version-kind"] == [
        {"group": "stable.example.com", "kind": "CronTabList", "version": "v1"}
    ]
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in schemas
    # Custom resources take no strategic merge patch: kubectl sends JSON merge patches.
    patch = doc["paths"]["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}"]["patch"]
    assert "application/strategic-merge-patch+json" not in patch["requestBody"]["content"]
    assert "application/merge-patch+json" in patch["requestBody"]["content"]
    assert patch["operationId"] == "patchStableExampleComV1NamespacedCronTab"
    assert "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}/scale" in doc["paths"]
    schemaless = _document(reg_with_crd, "stable.example.com", "v1beta1")["components"]["schemas"]
    assert schemaless["com.example.stable.v1beta1.CronTab"]["x-kubernetes-preserve-unknown-fields"] is True


def test_crd_source_schema_is_not_modified(reg_with_crd: resources.Registry) -> None:
    before = copy.deepcopy(CRONTAB_CRD)
    _document(reg_with_crd, "stable.example.com", "v1")
    rt = reg_with_crd.by_kind("stable.example.com", "v1", "CronTab")
    assert rt is not None
    assert rt.crd_schema == before["spec"]["versions"][1]["schema"]["openAPIV3Schema"]


# --------------------------------------------------------------------------- OpenAPI cache


def test_documents_are_cached_and_rebuilt_only_where_the_crds_changed(
    reg_with_crd: resources.Registry,
) -> None:
    apps = discovery.openapi_v3_document(reg_with_crd, "apis/apps/v1")
    crontabs = discovery.openapi_v3_document(reg_with_crd, "apis/stable.example.com/v1")
    assert discovery.openapi_v3_document(reg_with_crd, "apis/apps/v1") is apps
    hash_before = discovery.openapi_v3_index(reg_with_crd)["paths"]["apis/stable.example.com/v1"]

    changed = copy.deepcopy(CRONTAB_CRD)
    changed["spec"]["versions"][1]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"][
        "image"
    ] = {"type": "string"}
    reg_with_crd.set_crd("crontabs.stable.example.com", resources.Registry.from_crd(changed))

    assert discovery.openapi_v3_document(reg_with_crd, "apis/apps/v1") is apps
    rebuilt = discovery.openapi_v3_document(reg_with_crd, "apis/stable.example.com/v1")
    assert rebuilt is not crontabs
    assert rebuilt is not None
    assert (
        "image"
        in rebuilt["components"]["schemas"]["com.example.stable.v1.CronTab"]["properties"]["spec"][
            "properties"
        ]
    )
    assert discovery.openapi_v3_index(reg_with_crd)["paths"]["apis/stable.example.com/v1"] != hash_before


def test_documents_build_fast() -> None:
    # The server builds a document on first request; the budget is 50 ms a group version.
    # Measured ~3 ms for api/v1; the bound here leaves room for slow CI machines.
    fresh = resources.Registry()
    start = time.perf_counter()
    for path in discovery.openapi_v3_index(fresh)["paths"]:
        assert discovery.openapi_v3_document(fresh, path) is not None
    assert time.perf_counter() - start < 2.0
