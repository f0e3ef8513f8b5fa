"""Discovery, ``/version`` and OpenAPI v3 documents, as kube-apiserver 1.32 serves them (pure).

Every function here returns a JSON-ready document built from a
:class:`~gitops.localcluster.resources.Registry`; none does HTTP or I/O. The server picks the
document for a URL and the content type (K8S-API.md §1).

Documents and where their shape comes from (Kubernetes tag ``kubernetes-1.32.13``):

- ``/version``: :func:`version_info` (``apimachinery/pkg/version/types.go``).
- Legacy discovery: ``/api`` :func:`api_versions`, ``/apis`` :func:`api_group_list`,
  ``/apis/{g}`` :func:`api_group`, ``/api/v1`` and ``/apis/{g}/{v}`` :func:`api_resource_list`
  (``apimachinery/pkg/apis/meta/v1/types.go``; the installer in
  ``apiserver/pkg/endpoints/installer.go`` sorts resources by name, lists subresources as
  ``plural/sub`` entries without ``singularName``, and sets ``group``/``version`` only on
  subresources of another group: ``deployments/scale`` is ``autoscaling/v1`` ``Scale``).
- Aggregated discovery (``apidiscovery.k8s.io/v2`` ``APIGroupDiscoveryList``) for ``/api`` and
  ``/apis``: :func:`aggregated_discovery` (``api/apidiscovery/v2/types.go``; built-ins converted
  by ``ConvertGroupVersionIntoToDiscovery`` in ``installer.go``, custom resources as the
  apiextensions discovery controller does). client-go drops entries without ``responseKind``
  (``client-go/discovery/aggregated_discovery.go``), so every entry and subresource has one.
  Whether a request gets it is content negotiation: :func:`negotiate_aggregated`.
- OpenAPI v3: the index ``/openapi/v3`` (:func:`openapi_v3_index`) and one document per group
  version (:func:`openapi_v3_document`), with the 1.32 schemas of the served kinds and the REST
  operations kubectl inspects (see "OpenAPI" below).

OpenAPI
-------
kubectl reads the v3 documents in three places, all of which these documents satisfy:

- ``--validate=strict`` (the default): ``cli-runtime/pkg/resource/query_param_verifier_v3.go``
  looks for a ``patch`` operation whose ``x-kubernetes-group-version-kind`` *object* names the
  kind and which has a ``fieldValidation`` parameter; found, validation is left to the server
  (``?fieldValidation=Strict``). Every served kind has such an operation.
- Client-side ``kubectl apply`` (``kubectl/pkg/cmd/apply/patcher.go``): when that ``patch``
  operation accepts ``application/strategic-merge-patch+json`` (built-ins only, as on a real
  server), kubectl computes the strategic merge patch from ``components.schemas`` with
  ``strategicpatch.PatchMetaFromOpenAPIV3``: the schema whose ``x-kubernetes-group-version-kind``
  *list* names the kind, ``$ref``/``allOf`` resolved against ``#/components/schemas/``, and the
  ``x-kubernetes-patch-*`` extensions. Custom resources get JSON merge patches, as with a real
  server.
- ``kubectl explain`` renders ``components.schemas``.

The schemas are the Kubernetes 1.32 definitions shipped by ``kubernetes-validate``
(:mod:`~gitops.localcluster.schema`), rewritten into the form the real server publishes: the
JSON-schema ``"type": [T, "null"]`` becomes ``"type": T``, a ``$ref`` with sibling keywords
becomes ``allOf: [{$ref}]`` plus those keywords (OpenAPI 3.0 ignores siblings of ``$ref``), the
``enum`` that kubernetes-validate adds to ``apiVersion``/``kind`` is dropped, and ``IntOrString``
/``Quantity`` read as in the real document. Custom resources get their CRD version's
``openAPIV3Schema`` with ``apiVersion``, ``kind``, ``metadata`` (ObjectMeta) and the
``x-kubernetes-group-version-kind`` extension added, named like the apiextensions builder names
them (``com.example.stable.v1.CronTab``).

``/openapi/v2`` is deliberately not provided: kubectl 1.32 asks for it (as protobuf only) when a
group version is missing from the v3 index, and every served group version is in it. A 404
lets kubectl's fallbacks (compiled-in types for patches) work; answering JSON would not help, as
kubectl cannot read v2 as JSON.

Documents are cached per registry and rebuilt only for group versions whose resource types
changed (CRDs come and go; :attr:`Registry.generation` says when to look). Returned documents are
shared with the cache: callers must not mutate them.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from gitops.localcluster import resources as resources_mod
from gitops.localcluster import schema as schema_mod

JSON = dict[str, Any]

# --------------------------------------------------------------------------------- /version

KUBERNETES_GIT_VERSION = "v1.32.0"


def version_info() -> JSON:
    """The ``/version`` document of a v1.32.0 kube-apiserver.

    kubectl's version dispatcher picks the kubectl binary by ``minor`` (K8S-API.md §0.1).
    """
    return {
        "major": "1",
        "minor": "32",
        "gitVersion": KUBERNETES_GIT_VERSION,
        "gitCommit": "70d3cc986aa8221cd1dfb1121852688902d3bf53",
        "gitTreeState": "clean",
        "buildDate": "2024-12-11T17:59:15Z",
        "goVersion": "go1.23.3",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


# ----------------------------------------------------------------------- legacy discovery

# The verbs of a subresource (status, scale) on built-ins and custom resources alike.
_SUBRESOURCE_VERBS = ("get", "patch", "update")
# The order the apiextensions discovery controller lists a custom resource's verbs in.
_CRD_VERB_ORDER = ("delete", "deletecollection", "get", "list", "patch", "create", "update", "watch")
_SCALE_GROUP, _SCALE_VERSION, _SCALE_KIND = "autoscaling", "v1", "Scale"

# kube-aggregator's group priorities (``cmd/kube-apiserver/app/aggregator.go``): /apis lists
# groups by descending priority. Custom resource groups get 1000 and follow, by name.
_GROUP_PRIORITY = {
    "apps": 17800,
    "events.k8s.io": 17750,
    "authentication.k8s.io": 17700,
    "authorization.k8s.io": 17600,
    "autoscaling": 17500,
    "batch": 17400,
    "certificates.k8s.io": 17300,
    "networking.k8s.io": 17200,
    "policy": 17100,
    "rbac.authorization.k8s.io": 17000,
    "storage.k8s.io": 16800,
    "admissionregistration.k8s.io": 16700,
    "apiextensions.k8s.io": 16700,
    "scheduling.k8s.io": 16600,
    "coordination.k8s.io": 16500,
    "node.k8s.io": 16300,
    "discovery.k8s.io": 16200,
    "flowcontrol.apiserver.k8s.io": 16100,
    "internal.apiserver.k8s.io": 16000,
    "resource.k8s.io": 15900,
}
_CUSTOM_GROUP_PRIORITY = 1000


def api_versions(server_address: str) -> JSON:
    """``/api``: the legacy core group's versions (``APIVersions`` carries no apiVersion)."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _ordered_groups(reg: resources_mod.Registry) -> list[tuple[str, list[str]]]:
    """Named groups (core excluded) with their versions, preferred first, in /apis order."""
    groups = [(g, vs) for g, vs in reg.group_versions().items() if g]
    groups.sort(key=lambda gv: (-_GROUP_PRIORITY.get(gv[0], _CUSTOM_GROUP_PRIORITY), gv[0]))
    return groups


def _group_version_for_discovery(group: str, version: str) -> JSON:
    return {"groupVersion": f"{group}/{version}", "version": version}


def _api_group_body(group: str, versions: list[str]) -> JSON:
    entries = [_group_version_for_discovery(group, v) for v in versions]
    # The Python DynamicClient finds the preferred version by comparing dicts for equality.
    return {"name": group, "versions": entries, "preferredVersion": dict(entries[0])}


def api_group_list(reg: resources_mod.Registry) -> JSON:
    """``/apis``: every named group, preferred version first."""
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_api_group_body(g, vs) for g, vs in _ordered_groups(reg)],
    }


def api_group(reg: resources_mod.Registry, group: str) -> JSON | None:
    """``/apis/{group}``; None when the group is not served (the core group has no such URL)."""
    if not group:
        return None
    versions = reg.group_versions().get(group)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_api_group_body(group, versions)}


def _types_of(
    reg: resources_mod.Registry, group: str, version: str
) -> tuple[resources_mod.ResourceType, ...]:
    types = [rt for rt in reg.all() if rt.group == group and rt.version == version]
    types.sort(key=lambda rt: rt.plural)
    return tuple(types)


def _verbs(rt: resources_mod.ResourceType) -> list[str]:
    if rt.custom:
        ordered = [v for v in _CRD_VERB_ORDER if v in rt.verbs]
        return ordered + sorted(v for v in rt.verbs if v not in _CRD_VERB_ORDER)
    return sorted(rt.verbs)


def _legacy_entries(rt: resources_mod.ResourceType) -> list[JSON]:
    main: JSON = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": _verbs(rt),
    }
    if rt.short_names:
        main["shortNames"] = list(rt.short_names)
    if rt.categories:
        main["categories"] = list(rt.categories)
    main["storageVersionHash"] = rt.storage_version_hash
    out = [main]
    if rt.scale_subresource:
        out.append(
            {
                "name": f"{rt.plural}/scale",
                "singularName": "",
                "namespaced": rt.namespaced,
                "group": _SCALE_GROUP,
                "version": _SCALE_VERSION,
                "kind": _SCALE_KIND,
                "verbs": list(_SUBRESOURCE_VERBS),
            }
        )
    if rt.status_subresource:
        out.append(
            {
                "name": f"{rt.plural}/status",
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": rt.kind,
                "verbs": list(_SUBRESOURCE_VERBS),
            }
        )
    return out


def api_resource_list(reg: resources_mod.Registry, group: str, version: str) -> JSON | None:
    """``/api/v1`` (group ``""``) or ``/apis/{group}/{version}``; None when not served.

    Resources are sorted by name, so a subresource follows its parent. The core list carries no
    ``apiVersion``, like the real ``/api/v1``.
    """
    types = _types_of(reg, group, version)
    if not types:
        return None
    entries = [entry for rt in types for entry in _legacy_entries(rt)]
    entries.sort(key=lambda e: str(e["name"]))
    doc: JSON = {"kind": "APIResourceList"}
    if group:
        doc["apiVersion"] = "v1"
    doc["groupVersion"] = f"{group}/{version}" if group else version
    doc["resources"] = entries
    return doc


# ------------------------------------------------------------------- aggregated discovery

AGGREGATED_GROUP = "apidiscovery.k8s.io"
AGGREGATED_KIND = "APIGroupDiscoveryList"
AGGREGATED_VERSIONS = ("v2", "v2beta1")


def aggregated_content_type(version: str = "v2") -> str:
    """The response Content-Type of aggregated discovery in ``version`` (v2 or v2beta1)."""
    return f"application/json;g={AGGREGATED_GROUP};v={version};as={AGGREGATED_KIND}"


AGGREGATED_CONTENT_TYPE = aggregated_content_type("v2")


def _gvk(group: str, version: str, kind: str) -> JSON:
    return {"group": group, "version": version, "kind": kind}


def _aggregated_entry(rt: resources_mod.ResourceType) -> JSON:
    # Built-ins leave group and version empty ("the containing group version"), as the installer
    # does; the apiextensions controller fills them in for custom resources. client-go accepts
    # both: it needs a non-empty responseKind.
    group, version = (rt.group, rt.version) if rt.custom else ("", "")
    entry: JSON = {
        "resource": rt.plural,
        "responseKind": _gvk(group, version, rt.kind),
        "scope": "Namespaced" if rt.namespaced else "Cluster",
        "singularResource": rt.singular,
        "verbs": _verbs(rt),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    subresources: list[JSON] = []
    if rt.scale_subresource:
        subresources.append(
            {
                "subresource": "scale",
                "responseKind": _gvk(_SCALE_GROUP, _SCALE_VERSION, _SCALE_KIND),
                "verbs": list(_SUBRESOURCE_VERBS),
            }
        )
    if rt.status_subresource:
        subresources.append(
            {
                "subresource": "status",
                "responseKind": _gvk(group, version, rt.kind),
                "verbs": list(_SUBRESOURCE_VERBS),
            }
        )
    if subresources:
        entry["subresources"] = subresources
    return entry


def _aggregated_group(reg: resources_mod.Registry, group: str, versions: list[str]) -> JSON:
    metadata: JSON = {"name": group} if group else {}
    # ObjectMeta of 1.32 always serializes creationTimestamp, as null when unset.
    metadata["creationTimestamp"] = None
    return {
        "metadata": metadata,
        "versions": [
            {
                "version": v,
                "resources": [_aggregated_entry(rt) for rt in _types_of(reg, group, v)],
                "freshness": "Current",
            }
            for v in versions
        ],
    }


def aggregated_discovery(reg: resources_mod.Registry, core: bool, version: str = "v2") -> JSON:
    """The ``APIGroupDiscoveryList`` of ``/api`` (``core``: the core group alone, named ``""``)
    or of ``/apis`` (every other group, in priority order).

    ``version`` is the apidiscovery version the client negotiated (:func:`negotiate_aggregated`);
    v2 and v2beta1 have the same shape. Serve both ``/api`` and ``/apis`` aggregated or neither:
    client-go keeps aggregated results only when both are.
    """
    if core:
        versions = reg.group_versions().get("", [])
        items = [_aggregated_group(reg, "", versions)] if versions else []
    else:
        items = [_aggregated_group(reg, g, vs) for g, vs in _ordered_groups(reg)]
    return {
        "kind": AGGREGATED_KIND,
        "apiVersion": f"{AGGREGATED_GROUP}/{version}",
        "metadata": {},
        "items": items,
    }


# -------------------------------------------------------------------- content negotiation


@dataclass(frozen=True)
class AcceptClause:
    """One media range of an Accept header, as ``goautoneg.ParseAccept`` reads it."""

    type: str
    subtype: str
    q: float = 1.0
    params: tuple[tuple[str, str], ...] = ()

    def param(self, name: str) -> str | None:
        for key, value in self.params:
            if key == name:
                return value
        return None


def _split_first(s: str, sep: str) -> tuple[str, str]:
    head, found, tail = s.partition(sep)
    return (head, tail) if found else (s, "")


def _parse_q(raw: str) -> float:
    if raw != raw.strip() or "_" in raw:
        return 0.0  # Go's strconv.ParseFloat rejects what Python's float() forgives
    try:
        return float(raw)
    except ValueError:
        return 0.0  # strconv.ParseFloat's value on a syntax error


def parse_accept(header: str) -> list[AcceptClause]:
    """The clauses of an Accept header, ordered as the apiserver considers them.

    A port of ``github.com/munnerz/goautoneg`` ``ParseAccept`` (vendored by apimachinery):
    clauses without a ``/`` other than ``*`` and malformed parameters are skipped; names and
    values are compared case-sensitively; the result is sorted with goautoneg's comparator
    (higher q first, then concrete types before ``*``) using Go's insertion sort, so equal
    clauses keep header order.
    """
    clauses: list[AcceptClause] = []
    remaining = header
    while remaining:
        part, remaining = _split_first(remaining, ",")
        part = part.strip(" ")
        media, params_part = _split_first(part, ";")
        main, rest = _split_first(media, "/")
        main = main.strip(" ")
        if not rest:
            if main != "*":
                continue
            sub = "*"
        else:
            sub, extra = _split_first(rest, "/")
            if extra:
                continue
            sub = sub.strip(" ")
        q = 1.0
        params: list[tuple[str, str]] = []
        while params_part:
            item, params_part = _split_first(params_part, ";")
            key, value = _split_first(item, "=")
            value, extra = _split_first(value, "=")
            if not value or extra:
                continue
            key = key.strip(" ")
            if key == "q":
                q = _parse_q(value)
            else:
                params.append((key, value.strip(" ")))
        clauses.append(AcceptClause(main, sub, q, tuple(params)))

    def less(a: AcceptClause, b: AcceptClause) -> bool:
        return a.q > b.q or (a.type != "*" and b.type == "*") or (a.subtype != "*" and b.subtype == "*")

    for i in range(1, len(clauses)):
        j = i
        while j > 0 and less(clauses[j], clauses[j - 1]):
            clauses[j], clauses[j - 1] = clauses[j - 1], clauses[j]
            j -= 1
    return clauses


def negotiate_aggregated(
    accept: str | None, media_types: Iterable[str] = ("application/json",)
) -> str | None:
    """The apidiscovery version (``"v2"`` or ``"v2beta1"``) to answer ``/api`` or ``/apis``
    with, or None for the legacy documents.

    As the discovery handler (``apiserver/pkg/endpoints/discovery/aggregated/wrapper.go`` with
    ``negotiation.NegotiateMediaTypeOptions`` and ``DiscoveryEndpointRestrictions``): the first
    clause, in :func:`parse_accept` order, that matches a media type we can produce and names
    ``g=apidiscovery.k8s.io;v=v2|v2beta1;as=APIGroupDiscoveryList`` wins. Clauses without that
    conversion are not acceptable to the discovery endpoint, so a plain ``application/json``
    listed first does not stop a later aggregated clause from being chosen. ``media_types`` are
    the serializations the server can write (JSON only here, where the real server also has
    YAML and protobuf).
    """
    if not accept:
        return None
    supported = [tuple(mt.split("/", 1)) for mt in media_types]
    for clause in parse_accept(accept):
        if not any(
            (clause.type == t and clause.subtype in (s, "*"))
            or (clause.type == "*" and clause.subtype == "*")
            for t, s in supported
        ):
            continue
        version = _aggregated_version(clause)
        if version is not None:
            return version
    return None


def _aggregated_version(clause: AcceptClause) -> str | None:
    """The discovery version a clause converts to, or None when the clause is not acceptable."""
    group = version = kind = ""
    convert = False
    for key, value in clause.params:
        if key == "as":
            kind, convert = value, True
        elif key == "g":
            group, convert = value, True
        elif key == "v":
            version, convert = value, True
        elif key == "stream" and value and value != "watch":
            return None
        elif key == "sv" and value:
            return None  # discovery allows no server version
    if (
        not convert
        or group != AGGREGATED_GROUP
        or kind != AGGREGATED_KIND
        or version not in AGGREGATED_VERSIONS
    ):
        return None
    return version


def wants_aggregated(accept: str | None) -> bool:
    """True when ``/api`` and ``/apis`` should answer aggregated discovery (JSON)."""
    return negotiate_aggregated(accept) is not None


# ------------------------------------------------------------------------ OpenAPI schemas

_REF_PREFIX = "#/$defs/"
_V3_REF_PREFIX = "#/components/schemas/"
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_OBJECT_META = _META + "ObjectMeta"
_LIST_META = _META + "ListMeta"
_STATUS = _META + "Status"
_DELETE_OPTIONS = _META + "DeleteOptions"
_PATCH = _META + "Patch"
_API_RESOURCE_LIST = _META + "APIResourceList"
_SCALE = "io.k8s.api.autoscaling.v1.Scale"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
# Schema keywords whose values are schemas (or lists/maps of them); everything else is data.
_SCHEMA_VALUED = ("items", "additionalProperties", "not")
_SCHEMA_LISTS = ("allOf", "oneOf", "anyOf")

_API_VERSION_DESCRIPTION = (
    "APIVersion defines the versioned schema of this representation of an object. Servers should "
    "convert recognized schemas to the latest internal value, and may reject unrecognized values. More "
    "info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"
)
_KIND_DESCRIPTION = (
    "Kind is a string value representing the REST resource this object represents. Servers may infer this "
    "from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
)
_METADATA_DESCRIPTION = (
    "Standard object's metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)


def _v3_type(value: Any) -> Any:
    if isinstance(value, list):
        types = [t for t in value if t != "null"]
        return types[0] if len(types) == 1 else types
    return value


def _v3_ref(ref: str) -> str:
    return _V3_REF_PREFIX + ref[len(_REF_PREFIX) :] if ref.startswith(_REF_PREFIX) else ref


def _v3_schema(node: Any) -> Any:
    """A kubernetes-validate schema node in the OpenAPI 3.0 form of the real server."""
    if not isinstance(node, dict):
        return node
    out: JSON = {}
    for key, value in node.items():
        if key == "$ref":
            continue
        if key == "type":
            out[key] = _v3_type(value)
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: _v3_schema(prop) for name, prop in value.items()}
        elif key in _SCHEMA_VALUED:
            out[key] = _v3_schema(value)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_v3_schema(v) for v in value]
        else:
            out[key] = value
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = {"$ref": _v3_ref(ref)}
        # OpenAPI 3.0 ignores the siblings of $ref; the real server wraps the reference.
        return {"allOf": [target], **out} if out else target
    return out


@functools.cache
def _v3_definition(name: str) -> JSON:
    """One built-in definition, converted (shared, never mutated)."""
    if name == _INT_OR_STRING:
        return {
            "description": (
                "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML "
                "marshalling and unmarshalling, it produces or consumes the inner type.  This allows you "
                "to have, for example, a JSON field that can accept a name or number."
            ),
            "format": "int-or-string",
            "oneOf": [{"type": "integer"}, {"type": "string"}],
        }
    if name == _QUANTITY:
        return {
            "description": "Quantity is a fixed-point representation of a number.",
            "oneOf": [{"type": "string"}, {"type": "number"}],
        }
    converted: JSON = _v3_schema(schema_mod.definitions()[name])
    if "x-kubernetes-group-version-kind" in converted:
        # kubernetes-validate pins apiVersion and kind with an enum; the real schema does not.
        props = converted.get("properties", {})
        for key in ("apiVersion", "kind"):
            if isinstance(props.get(key), dict):
                props[key] = {k: v for k, v in props[key].items() if k != "enum"}
    return converted


def _collect_refs(node: Any, into: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
            into.add(ref[len(_REF_PREFIX) :])
        for value in node.values():
            _collect_refs(value, into)
    elif isinstance(node, list):
        for value in node:
            _collect_refs(value, into)


@functools.cache
def _direct_refs(name: str) -> frozenset[str]:
    refs: set[str] = set()
    _collect_refs(schema_mod.definitions().get(name, {}), refs)
    return frozenset(refs)


def _closure(roots: Iterable[str]) -> list[str]:
    """The definitions reachable from ``roots`` (roots included), sorted."""
    defs = schema_mod.definitions()
    seen: set[str] = set()
    stack = [r for r in roots if r in defs]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(r for r in _direct_refs(name) if r not in seen and r in defs)
    return sorted(seen)


def custom_schema_name(group: str, version: str, kind: str) -> str:
    """A custom resource's schema name, as ``util.ToRESTFriendlyName`` spells it
    (``stable.example.com``/``v1``/``CronTab`` -> ``com.example.stable.v1.CronTab``)."""
    return ".".join([*reversed(group.split(".")), version, kind])


def _ref(name: str) -> JSON:
    return {"$ref": _V3_REF_PREFIX + name}


def _wrapped_ref(name: str, **siblings: Any) -> JSON:
    return {"allOf": [_ref(name)], **siblings}


def _custom_schema(rt: resources_mod.ResourceType) -> JSON:
    """The schema of a custom resource: its CRD version's openAPIV3Schema with the
    Kubernetes-native properties the apiextensions builder adds (``buildKubeNative``)."""
    source = rt.crd_schema
    if not source:
        schema: JSON = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    else:
        schema = dict(source)
        props = dict(schema.get("properties") or {})
        props["apiVersion"] = {"description": _API_VERSION_DESCRIPTION, "type": "string"}
        props["kind"] = {"description": _KIND_DESCRIPTION, "type": "string"}
        props["metadata"] = _wrapped_ref(_OBJECT_META, description=_METADATA_DESCRIPTION)
        schema["properties"] = props
        schema.setdefault("type", "object")
    schema["x-kubernetes-group-version-kind"] = [{"group": rt.group, "kind": rt.kind, "version": rt.version}]
    return schema


def _custom_list_schema(rt: resources_mod.ResourceType) -> JSON:
    return {
        "description": f"{rt.kind}List is a list of {rt.kind}",
        "properties": {
            "apiVersion": {"description": _API_VERSION_DESCRIPTION, "type": "string"},
            "items": {
                "description": (
                    f"List of {rt.plural}. More info: "
                    "https://git.k8s.io/community/contributors/devel/api-conventions.md"
                ),
                "items": _ref(custom_schema_name(rt.group, rt.version, rt.kind)),
                "type": "array",
            },
            "kind": {"description": _KIND_DESCRIPTION, "type": "string"},
            "metadata": _wrapped_ref(
                _LIST_META,
                description=(
                    "Standard list metadata. More info: "
                    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
                ),
            ),
        },
        "required": ["items"],
        "type": "object",
        "x-kubernetes-group-version-kind": [
            {"group": rt.group, "kind": f"{rt.kind}List", "version": rt.version}
        ],
    }


# -------------------------------------------------------------------------- OpenAPI paths


def _param(name: str, where: str, description: str, type_: str = "string", required: bool = False) -> JSON:
    p: JSON = {"description": description, "in": where, "name": name}
    if required:
        p["required"] = True
    p["schema"] = {"type": type_, "uniqueItems": True}
    return p


_P_PRETTY = _param("pretty", "query", "If 'true', then the output is pretty printed.")
_P_NAMESPACE = _param(
    "namespace", "path", "object name and auth scope, such as for teams and projects", required=True
)
_P_DRY_RUN = _param(
    "dryRun",
    "query",
    "When present, indicates that modifications should not be persisted. Valid values: All.",
)
_P_FIELD_MANAGER = _param(
    "fieldManager",
    "query",
    "fieldManager is a name associated with the actor or entity that is making these changes.",
)
_P_FIELD_VALIDATION = _param(
    "fieldValidation",
    "query",
    "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing "
    "unknown or duplicate fields. Valid values are: Ignore, Warn (the default), Strict.",
)
_P_FORCE = _param(
    "force",
    "query",
    'Force is going to "force" Apply requests; it must be unset for non-apply patch requests.',
    "boolean",
)
_P_GRACE = _param(
    "gracePeriodSeconds", "query", "The duration in seconds before the object should be deleted.", "integer"
)
_P_UNSAFE_DELETE = _param(
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "query",
    "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails "
    "with a corrupt object error.",
    "boolean",
)
_P_ORPHAN = _param("orphanDependents", "query", "Deprecated: please use the PropagationPolicy.", "boolean")
_P_PROPAGATION = _param(
    "propagationPolicy",
    "query",
    "Whether and how garbage collection will be performed: Orphan, Background, Foreground.",
)
_P_CONTINUE = _param(
    "continue", "query", "The continue option should be set when retrieving more results from the server."
)
_P_FIELD_SELECTOR = _param(
    "fieldSelector", "query", "A selector to restrict the list of returned objects by their fields."
)
_P_LABEL_SELECTOR = _param(
    "labelSelector", "query", "A selector to restrict the list of returned objects by their labels."
)
_P_LIMIT = _param(
    "limit", "query", "limit is a maximum number of responses to return for a list call.", "integer"
)
_P_RV = _param(
    "resourceVersion",
    "query",
    "resourceVersion sets a constraint on what resource versions a request may be served from.",
)
_P_RV_MATCH = _param(
    "resourceVersionMatch",
    "query",
    "resourceVersionMatch determines how resourceVersion is applied to list calls.",
)
_P_INITIAL_EVENTS = _param(
    "sendInitialEvents", "query", "`sendInitialEvents=true` may be set together with `watch=true`.", "boolean"
)
_P_TIMEOUT = _param("timeoutSeconds", "query", "Timeout for the list/watch call.", "integer")
_P_WATCH = _param("watch", "query", "Watch for changes to the described resources.", "boolean")
_P_BOOKMARKS = _param(
    "allowWatchBookmarks",
    "query",
    'allowWatchBookmarks requests watch events with type "BOOKMARK".',
    "boolean",
)

_LIST_PARAMS = [
    _P_BOOKMARKS,
    _P_CONTINUE,
    _P_FIELD_SELECTOR,
    _P_LABEL_SELECTOR,
    _P_LIMIT,
    _P_RV,
    _P_RV_MATCH,
    _P_INITIAL_EVENTS,
    _P_TIMEOUT,
    _P_WATCH,
]
_DELETE_COLLECTION_PARAMS = [
    _P_CONTINUE,
    _P_DRY_RUN,
    _P_FIELD_SELECTOR,
    _P_GRACE,
    _P_UNSAFE_DELETE,
    _P_LABEL_SELECTOR,
    _P_LIMIT,
    _P_ORPHAN,
    _P_PROPAGATION,
    _P_RV,
    _P_RV_MATCH,
    _P_INITIAL_EVENTS,
    _P_TIMEOUT,
]
_DELETE_PARAMS = [_P_DRY_RUN, _P_GRACE, _P_UNSAFE_DELETE, _P_ORPHAN, _P_PROPAGATION]
_WRITE_PARAMS = [_P_DRY_RUN, _P_FIELD_MANAGER, _P_FIELD_VALIDATION]
_PATCH_PARAMS = [_P_DRY_RUN, _P_FIELD_MANAGER, _P_FIELD_VALIDATION, _P_FORCE]

_BUILTIN_MEDIA = ("application/json", "application/vnd.kubernetes.protobuf", "application/yaml")
_CUSTOM_MEDIA = ("application/json", "application/yaml")
_BUILTIN_PATCH_MEDIA = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
# Custom resources take no strategic merge patch, so kubectl computes JSON merge patches for them.
_CUSTOM_PATCH_MEDIA = _BUILTIN_PATCH_MEDIA[:3]
_UNAUTHORIZED = {"description": "Unauthorized"}


def _camel_group(group: str) -> str:
    """``rbac.authorization.k8s.io`` -> ``RbacAuthorization``, core -> ``Core`` (operation ids)."""
    if not group:
        return "Core"
    name = group.removesuffix(".k8s.io")
    return "".join(part[:1].upper() + part[1:] for part in name.replace("-", ".").split(".") if part)


@dataclass(frozen=True)
class _GV:
    """What the operations of one group version share."""

    group: str
    version: str
    custom: bool

    @property
    def prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    @property
    def op_prefix(self) -> str:
        return _camel_group(self.group) + self.version[:1].upper() + self.version[1:]

    @property
    def tag(self) -> str:
        camel = _camel_group(self.group)
        return f"{camel[:1].lower()}{camel[1:]}_{self.version}"

    def content(self, schema_name: str, stream: bool = False) -> JSON:
        media = _CUSTOM_MEDIA if self.custom else _BUILTIN_MEDIA
        out: JSON = {}
        for mt in media:
            out[mt] = {"schema": _ref(schema_name)}
            if stream and mt != "application/yaml":
                out[mt + ";stream=watch"] = {"schema": _ref(schema_name)}
        return dict(sorted(out.items()))


def _operation(
    gv: _GV,
    action: str,
    op_id: str,
    description: str,
    gvk: JSON,
    responses: JSON,
    parameters: list[JSON] | None = None,
    request_body: JSON | None = None,
) -> JSON:
    op: JSON = {"description": description, "operationId": op_id}
    if parameters:
        op["parameters"] = parameters
    if request_body is not None:
        op["requestBody"] = request_body
    op["responses"] = {**responses, "401": _UNAUTHORIZED}
    op["tags"] = [gv.tag]
    op["x-kubernetes-action"] = action
    op["x-kubernetes-group-version-kind"] = gvk
    return op


def _resource_paths(gv: _GV, rt: resources_mod.ResourceType, schema_name: str, list_name: str) -> JSON:
    """The REST operations of one resource type and its subresources, keyed by path."""
    kind = rt.kind
    gvk = {"group": rt.group, "kind": kind, "version": rt.version}
    scope = "Namespaced" if rt.namespaced else ""
    op = gv.op_prefix
    ns_path = "/namespaces/{namespace}" if rt.namespaced else ""
    collection = f"{gv.prefix}{ns_path}/{rt.plural}"
    item = collection + "/{name}"
    ns_params = [_P_NAMESPACE] if rt.namespaced else []
    name_param = _param("name", "path", f"name of the {kind}", required=True)
    verbs = set(rt.verbs)
    obj = gv.content(schema_name)
    body = {"content": {"*/*": {"schema": _ref(schema_name)}}, "required": True}
    paths: JSON = {}

    coll: JSON = {}
    if "list" in verbs:
        coll["get"] = _operation(
            gv,
            "list",
            f"list{op}{scope}{kind}",
            f"list or watch objects of kind {kind}",
            gvk,
            {"200": {"content": gv.content(list_name, stream=True), "description": "OK"}},
            _LIST_PARAMS,
        )
    if "create" in verbs:
        coll["post"] = _operation(
            gv,
            "post",
            f"create{op}{scope}{kind}",
            f"create a {kind}",
            gvk,
            {
                "200": {"content": obj, "description": "OK"},
                "201": {"content": obj, "description": "Created"},
                "202": {"content": obj, "description": "Accepted"},
            },
            _WRITE_PARAMS,
            body,
        )
    if "deletecollection" in verbs:
        coll["delete"] = _operation(
            gv,
            "deletecollection",
            f"delete{op}Collection{scope}{kind}",
            f"delete collection of {kind}",
            gvk,
            {"200": {"content": gv.content(_STATUS), "description": "OK"}},
            _DELETE_COLLECTION_PARAMS,
            {"content": {"*/*": {"schema": _ref(_DELETE_OPTIONS)}}},
        )
    if coll:
        coll["parameters"] = [*ns_params, _P_PRETTY]
        paths[collection] = coll

    one: JSON = {}
    if "get" in verbs:
        one["get"] = _operation(
            gv,
            "get",
            f"read{op}{scope}{kind}",
            f"read the specified {kind}",
            gvk,
            {"200": {"content": obj, "description": "OK"}},
        )
    if "update" in verbs:
        one["put"] = _operation(
            gv,
            "put",
            f"replace{op}{scope}{kind}",
            f"replace the specified {kind}",
            gvk,
            {"200": {"content": obj, "description": "OK"}, "201": {"content": obj, "description": "Created"}},
            _WRITE_PARAMS,
            body,
        )
    if "patch" in verbs:
        one["patch"] = _patch_operation(
            gv, f"patch{op}{scope}{kind}", f"partially update the specified {kind}", gvk, obj
        )
    if "delete" in verbs:
        status = gv.content(_STATUS)
        one["delete"] = _operation(
            gv,
            "delete",
            f"delete{op}{scope}{kind}",
            f"delete a {kind}",
            gvk,
            {
                "200": {"content": status, "description": "OK"},
                "202": {"content": status, "description": "Accepted"},
            },
            _DELETE_PARAMS,
            {"content": {"*/*": {"schema": _ref(_DELETE_OPTIONS)}}},
        )
    if one:
        one["parameters"] = [name_param, *ns_params, _P_PRETTY]
        paths[item] = one

    for sub, sub_schema, sub_gvk in (
        ("scale", _SCALE, {"group": _SCALE_GROUP, "kind": _SCALE_KIND, "version": _SCALE_VERSION}),
        ("status", schema_name, gvk),
    ):
        if not (rt.scale_subresource if sub == "scale" else rt.status_subresource):
            continue
        title = sub.capitalize()
        content = gv.content(sub_schema)
        paths[f"{item}/{sub}"] = {
            "get": _operation(
                gv,
                "get",
                f"read{op}{scope}{kind}{title}",
                f"read {sub} of the specified {kind}",
                sub_gvk,
                {"200": {"content": content, "description": "OK"}},
            ),
            "parameters": [name_param, *ns_params, _P_PRETTY],
            "patch": _patch_operation(
                gv,
                f"patch{op}{scope}{kind}{title}",
                f"partially update {sub} of the specified {kind}",
                sub_gvk,
                content,
            ),
            "put": _operation(
                gv,
                "put",
                f"replace{op}{scope}{kind}{title}",
                f"replace {sub} of the specified {kind}",
                sub_gvk,
                {
                    "200": {"content": content, "description": "OK"},
                    "201": {"content": content, "description": "Created"},
                },
                _WRITE_PARAMS,
                {"content": {"*/*": {"schema": _ref(sub_schema)}}, "required": True},
            ),
        }

    if rt.namespaced and "list" in verbs:
        paths[f"{gv.prefix}/{rt.plural}"] = {
            "get": _operation(
                gv,
                "list",
                f"list{op}{kind}ForAllNamespaces",
                f"list or watch objects of kind {kind}",
                gvk,
                {"200": {"content": gv.content(list_name, stream=True), "description": "OK"}},
            ),
            "parameters": [*_LIST_PARAMS[:5], _P_PRETTY, *_LIST_PARAMS[5:]],
        }
    return paths


def _patch_operation(gv: _GV, op_id: str, description: str, gvk: JSON, content: JSON) -> JSON:
    """A PATCH operation: what kubectl's field-validation verifier and apply patcher look for."""
    media = _CUSTOM_PATCH_MEDIA if gv.custom else _BUILTIN_PATCH_MEDIA
    body = {"content": {mt: {"schema": _ref(_PATCH)} for mt in media}, "required": True}
    return _operation(
        gv,
        "patch",
        op_id,
        description,
        gvk,
        {
            "200": {"content": content, "description": "OK"},
            "201": {"content": content, "description": "Created"},
        },
        _PATCH_PARAMS,
        body,
    )


def _build_document(types: tuple[resources_mod.ResourceType, ...]) -> JSON:
    first = types[0]
    custom_gv = any(rt.custom for rt in types)
    gv = _GV(first.group, first.version, custom_gv)
    roots = {_STATUS, _DELETE_OPTIONS, _PATCH, _API_RESOURCE_LIST}
    if any(rt.scale_subresource for rt in types):
        roots.add(_SCALE)
    extra: JSON = {}
    paths: JSON = {
        f"{gv.prefix}/": {
            "get": {
                "description": "get available resources",
                "operationId": f"get{gv.op_prefix}APIResources",
                "responses": {
                    "200": {"content": gv.content(_API_RESOURCE_LIST), "description": "OK"},
                    "401": _UNAUTHORIZED,
                },
                "tags": [gv.tag],
            }
        }
    }
    for rt in types:
        if rt.custom:
            name = custom_schema_name(rt.group, rt.version, rt.kind)
            list_name = name + "List"
            extra[name] = _custom_schema(rt)
            extra[list_name] = _custom_list_schema(rt)
            roots.update((_OBJECT_META, _LIST_META))
        else:
            found = schema_mod.definition_name(rt.group, rt.version, rt.kind)
            if found is None:
                continue  # a kind Kubernetes 1.32 does not define: nothing to describe
            name = found
            list_name = schema_mod.definition_name(rt.group, rt.version, rt.list_kind) or _LIST_META
            roots.update((name, list_name))
        paths.update(_resource_paths(_GV(rt.group, rt.version, rt.custom), rt, name, list_name))
    schemas = {name: _v3_definition(name) for name in _closure(roots)}
    schemas.update(extra)
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_GIT_VERSION},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "BearerToken": {
                    "description": "Bearer Token authentication",
                    "in": "header",
                    "name": "authorization",
                    "type": "apiKey",
                }
            },
        },
    }


# -------------------------------------------------------------------------- OpenAPI cache


@dataclass
class _DocEntry:
    types: tuple[resources_mod.ResourceType, ...]
    document: JSON
    body: bytes
    digest: str


@dataclass
class _OpenAPICache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    generation: int = -1
    types: dict[str, tuple[resources_mod.ResourceType, ...]] = field(default_factory=dict)
    entries: dict[str, _DocEntry] = field(default_factory=dict)


_CACHES: weakref.WeakKeyDictionary[resources_mod.Registry, _OpenAPICache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def gv_path(group: str, version: str) -> str:
    """The OpenAPI v3 path of a group version: ``api/v1``, ``apis/apps/v1``."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _cache_for(reg: resources_mod.Registry) -> _OpenAPICache:
    with _CACHES_LOCK:
        cache = _CACHES.get(reg)
        if cache is None:
            cache = _CACHES[reg] = _OpenAPICache()
    with cache.lock:
        if cache.generation != reg.generation:
            by_path: dict[str, list[resources_mod.ResourceType]] = {}
            for rt in reg.all():
                by_path.setdefault(gv_path(rt.group, rt.version), []).append(rt)
            cache.types = {p: tuple(sorted(ts, key=lambda rt: rt.plural)) for p, ts in by_path.items()}
            cache.generation = reg.generation
    return cache


def _same_types(a: tuple[resources_mod.ResourceType, ...], b: tuple[resources_mod.ResourceType, ...]) -> bool:
    # Identity, not equality: ResourceType equality ignores the CRD schema, and a changed CRD
    # always yields new ResourceType objects.
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _entry(reg: resources_mod.Registry, path: str) -> _DocEntry | None:
    cache = _cache_for(reg)
    path = path.strip("/")
    types = cache.types.get(path)
    if not types:
        return None
    entry = cache.entries.get(path)
    if entry is not None and _same_types(entry.types, types):
        return entry
    document = _build_document(types)
    body = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    entry = _DocEntry(types, document, body, hashlib.sha512(body).hexdigest().upper())
    with cache.lock:
        cache.entries[path] = entry
    return entry


def openapi_v3_index(reg: resources_mod.Registry) -> JSON:
    """``/openapi/v3``: one ``serverRelativeURL`` per served group version.

    The ``hash`` query is the upper-case hex SHA-512 of :func:`openapi_v3_document_json`, as
    kube-openapi computes its ETag; it changes exactly when the document does, which is what
    client-go's cache relies on.
    """
    paths: JSON = {}
    for path in sorted(_cache_for(reg).types):
        entry = _entry(reg, path)
        if entry is not None:
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={entry.digest}"}
    return {"paths": paths}


def openapi_v3_document(reg: resources_mod.Registry, group_version_path: str) -> JSON | None:
    """The OpenAPI 3.0 document of one group version (``"apis/apps/v1"``, ``"api/v1"``);
    None when the group version is not served. Shared with the cache: do not mutate."""
    entry = _entry(reg, group_version_path)
    return entry.document if entry is not None else None


def openapi_v3_document_json(reg: resources_mod.Registry, group_version_path: str) -> bytes | None:
    """The serialized document (sorted keys), the exact bytes the index hash is taken of."""
    entry = _entry(reg, group_version_path)
    return entry.body if entry is not None else None
