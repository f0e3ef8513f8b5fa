"""Structural schemas of Kubernetes types, as the API server knows them (pure).

The real API server builds its server-side-apply and strategic-merge-patch behaviour from the
OpenAPI models compiled into it: which lists are maps keyed by which fields
(``x-kubernetes-list-type``/``x-kubernetes-list-map-keys``), which are sets or atomic, which
structs are atomic (``x-kubernetes-map-type``), and the strategic-merge-patch keys
(``x-kubernetes-patch-merge-key``/``x-kubernetes-patch-strategy``). We read the very same
annotations from the Kubernetes 1.32 OpenAPI definitions that the ``kubernetes-validate`` package
ships, so none of it is a hand-written table.

A :class:`TypeNode` is a view on one schema node. Custom resources get nodes built from their
CRD's ``openAPIV3Schema`` (same annotations, no ``$ref``), with ``metadata`` always typed as
ObjectMeta, as the real server does.

Kinds of node (``TypeNode.kind``):

- ``struct``: an object with named ``properties``; unknown fields are rejected by strict validation.
- ``map``: an object with ``additionalProperties`` (labels, data); keys are free-form.
- ``list``: an array; ``list_type`` is ``atomic`` (the default), ``set`` or ``map`` (keyed by
  ``list_map_keys``).
- ``scalar``: string, number, integer, boolean, and int-or-string and quantities.
- ``untyped``: anything goes (``x-kubernetes-preserve-unknown-fields``, RawExtension): merged as a
  granular map / atomic list, the "deduced" type of structured-merge-diff.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from dataclasses import dataclass
from typing import Any

KUBERNETES_VERSION = "1.32.0"

_UNTYPED: dict[str, Any] = {"x-kubernetes-preserve-unknown-fields": True}
_STRING: dict[str, Any] = {"type": "string"}


def _types(node: dict[str, Any]) -> set[str]:
    t = node.get("type")
    if t is None:
        return set()
    if isinstance(t, str):
        return {t}
    return {x for x in t if x != "null"}


@dataclass(frozen=True, eq=False)
class TypeNode:
    """One node of a structural schema; ``defs`` resolves ``$ref`` (empty for CRD schemas)."""

    node: dict[str, Any]
    defs: dict[str, Any]
    # Set on the root node of an object: its ``metadata`` is ObjectMeta whatever the schema says.
    is_root: bool = False
    # The OpenAPI definition this node was reached through (``io.k8s.apimachinery.pkg.api.resource.Quantity``),
    # empty for inline schemas. Quantity and Time nodes are found this way.
    ref_name: str = ""

    def _resolve(self, node: dict[str, Any]) -> tuple[dict[str, Any], str]:
        seen = 0
        ref_name = ""
        while "$ref" in node and seen < 32:
            name = node["$ref"].rsplit("/", 1)[-1]
            target = self.defs.get(name)
            if target is None:
                return _UNTYPED, ""
            ref_name = name
            extra = {k: v for k, v in node.items() if k not in ("$ref", "description")}
            node = {**target, **extra} if extra else target
            seen += 1
        if "allOf" in node and len(node["allOf"]) == 1 and "properties" not in node:
            inner, ref_name = self._resolve(node["allOf"][0])
            extra = {k: v for k, v in node.items() if k not in ("allOf", "description")}
            node = {**inner, **extra}
        return node, ref_name

    def child(self, node: dict[str, Any]) -> TypeNode:
        resolved, ref_name = self._resolve(node)
        return TypeNode(resolved, self.defs, ref_name=ref_name)

    @functools.cached_property
    def kind(self) -> str:
        n = self.node
        if n.get("x-kubernetes-int-or-string") or "oneOf" in n or "anyOf" in n:
            return "scalar"
        types = _types(n)
        if "array" in types or "items" in n:
            return "list"
        if "properties" in n:
            return "struct"
        if isinstance(n.get("additionalProperties"), dict):
            return "map"
        if n.get("x-kubernetes-preserve-unknown-fields") or "object" in types or not types:
            return "untyped"
        return "scalar"

    @property
    def scalar_types(self) -> set[str]:
        """JSON schema types a scalar node accepts (empty for int-or-string/quantity: both)."""
        return _types(self.node)

    @property
    def is_atomic(self) -> bool:
        """True for structs and maps merged as a whole (``x-kubernetes-map-type: atomic``)."""
        if self.kind == "list":
            return self.list_type == "atomic"
        if self.kind in ("struct", "map"):
            return self.node.get("x-kubernetes-map-type") == "atomic"
        return self.kind == "scalar"

    def field(self, name: str) -> TypeNode | None:
        """The type of field ``name`` of a struct; None when the struct has no such field.

        Maps and untyped nodes accept every key. Children are memoized on the node: schemas are
        walked on every write, and the built-in roots live for the process.
        """
        cache: dict[str, TypeNode | None] | None = self.__dict__.get("_fields")
        if cache is None:
            cache = {}
            object.__setattr__(self, "_fields", cache)
        if name in cache:
            return cache[name]
        found = self._field(name)
        if len(cache) < 4096:  # free-form maps (labels, data) would otherwise grow it unbounded
            cache[name] = found
        return found

    def _field(self, name: str) -> TypeNode | None:
        if self.is_root:
            # Every object has these, whatever a CRD's schema lists (apiextensions-apiserver
            # validates custom resources' apiVersion, kind and metadata itself).
            if name == "metadata":
                return object_meta()
            if name in ("apiVersion", "kind"):
                return TypeNode(_STRING, self.defs)
        k = self.kind
        if k == "struct":
            prop = self.node["properties"].get(name)
            if prop is None:
                extra = self.node.get("additionalProperties")
                if isinstance(extra, dict):
                    return self.child(extra)
                if self.node.get("x-kubernetes-preserve-unknown-fields"):
                    return TypeNode(_UNTYPED, self.defs)
                return None
            return self.child(prop)
        if k == "map":
            return self._values
        if k == "untyped":
            return self._values
        return None

    @functools.cached_property
    def _values(self) -> TypeNode:
        """The type of every value of a map (untyped for untyped nodes)."""
        extra = self.node.get("additionalProperties")
        if self.kind == "map" and isinstance(extra, dict):
            return self.child(extra)
        return TypeNode(_UNTYPED, self.defs)

    @functools.cached_property
    def _items(self) -> TypeNode:
        items = self.node.get("items")
        if isinstance(items, dict):
            return self.child(items)
        return TypeNode(_UNTYPED, self.defs)

    def items(self) -> TypeNode:
        """The element type of a list (untyped when the schema does not say)."""
        return self._items

    @property
    def list_type(self) -> str:
        """``atomic`` (the default for lists without annotation), ``set`` or ``map``."""
        return str(self.node.get("x-kubernetes-list-type", "atomic"))

    @property
    def list_map_keys(self) -> tuple[str, ...]:
        return tuple(self.node.get("x-kubernetes-list-map-keys", ()))

    @property
    def patch_strategy(self) -> tuple[str, ...]:
        """Strategic-merge-patch strategies, e.g. ``("merge",)`` or ``("merge", "retainKeys")``."""
        raw = self.node.get("x-kubernetes-patch-strategy", "")
        return tuple(s for s in str(raw).split(",") if s)

    @property
    def patch_merge_key(self) -> str | None:
        key = self.node.get("x-kubernetes-patch-merge-key")
        return str(key) if key else None

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(self.node.get("required", ()))

    @property
    def properties(self) -> dict[str, Any]:
        props = self.node.get("properties", {})
        return props if isinstance(props, dict) else {}


@functools.cache
def _definitions() -> dict[str, Any]:
    ref = importlib.resources.files("kubernetes_validate").joinpath(
        f"kubernetes-json-schema/v{KUBERNETES_VERSION}-local/_definitions.json"
    )
    data: dict[str, Any] = json.loads(ref.read_text())
    defs: dict[str, Any] = data["$defs"]
    return defs


@functools.cache
def _gvk_index() -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, node in _definitions().items():
        for gvk in node.get("x-kubernetes-group-version-kind", ()):
            key = (gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", ""))
            # Several definitions carry meta kinds (DeleteOptions, WatchEvent) for every group;
            # the first, canonical, definition wins.
            index.setdefault(key, name)
    return index


def definitions() -> dict[str, Any]:
    """Every OpenAPI definition of Kubernetes 1.32, keyed by its dotted name."""
    return _definitions()


def definition_name(group: str, version: str, kind: str) -> str | None:
    """The OpenAPI definition name of a built-in kind (``io.k8s.api.apps.v1.Deployment``)."""
    return _gvk_index().get((group, version, kind))


@functools.cache
def for_kind(group: str, version: str, kind: str) -> TypeNode | None:
    """The root type of a built-in kind; None when Kubernetes 1.32 has no such kind."""
    name = definition_name(group, version, kind)
    if name is None:
        return None
    defs = _definitions()
    return TypeNode(defs[name], defs, is_root=True, ref_name=name)


@functools.cache
def object_meta() -> TypeNode:
    defs = _definitions()
    name = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    return TypeNode(defs[name], defs, ref_name=name)


def for_crd_schema(open_api_v3_schema: dict[str, Any] | None) -> TypeNode:
    """The root type of a custom resource from its CRD version's ``openAPIV3Schema``.

    A CRD without a schema (only possible in old apiextensions versions) is untyped.
    """
    node = open_api_v3_schema if open_api_v3_schema else dict(_UNTYPED)
    return TypeNode(node, {}, is_root=True)


def untyped() -> TypeNode:
    return TypeNode(_UNTYPED, {})
