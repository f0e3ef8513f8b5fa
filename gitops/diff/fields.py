"""managedFields, read (pure): who owns which field of a live object.

An entry of ``metadata.managedFields`` (K8S-API.md §5.1) names a ``manager``, an
``operation`` (``Apply`` for server-side apply, ``Update`` for every other write), an optional
``subresource`` and a ``fieldsV1`` tree (§5.2) whose keys are path elements:

- ``f:<name>``: a field of a struct or a key of a map;
- ``k:<json object>``: an item of an associative list, by its key fields
  (``k:{"containerPort":80,"protocol":"TCP"}``);
- ``v:<json value>``: an item of a set (``finalizers``);
- ``i:<n>``: an item by position (rare);
- ``.``: the node itself is owned while it has children.

A node with no children (``{}``) is a leaf: the whole value there is owned (a scalar, an atomic
list or struct, or an empty map). Nodes are handled as tuples of the nodes found at the same
path in several entries, so "who owns this" never needs the trees merged.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Nodes = tuple[Mapping[str, Any], ...]

APPLY = "Apply"


def entries(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The object's managedFields entries for the main resource (subresource entries such as
    ``status`` or ``scale`` writes describe another object's shape and are left out)."""
    meta = obj.get("metadata")
    raw = meta.get("managedFields") if isinstance(meta, Mapping) else None
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return []
    return [e for e in raw if isinstance(e, Mapping) and not e.get("subresource")]


def trees(obj: Mapping[str, Any], *, manager: str | None = None, operation: str | None = None) -> Nodes:
    """The ``fieldsV1`` trees of the entries matching ``manager`` and ``operation`` (all when None)."""
    out: list[Mapping[str, Any]] = []
    for e in entries(obj):
        if manager is not None and e.get("manager") != manager:
            continue
        if operation is not None and e.get("operation") != operation:
            continue
        fields = e.get("fieldsV1")
        if isinstance(fields, Mapping):
            out.append(fields)
    return tuple(out)


def applied_by(obj: Mapping[str, Any], manager: str) -> bool:
    """True when ``manager`` has a server-side apply entry on the object."""
    return any(e.get("manager") == manager and e.get("operation") == APPLY for e in entries(obj))


def owns(obj: Mapping[str, Any], manager: str, *path: str) -> bool:
    """True when ``manager``'s Apply entry owns the field at ``path`` (field names only, e.g.
    ``owns(obj, "gitops", "metadata", "labels", "app.gitops.dev/name")``)."""
    nodes = trees(obj, manager=manager, operation=APPLY)
    for name in path:
        nodes = child(nodes, "f:" + name)
        if not nodes:
            return False
    return True


def child(nodes: Nodes, element: str) -> Nodes:
    """The nodes at ``element`` under each of ``nodes`` (those that have it)."""
    if not nodes:
        return ()
    if len(nodes) == 1:  # the common case, on the hot path of every diff
        c = nodes[0].get(element)
        return (c,) if type(c) is dict else ()
    return tuple(c for n in nodes if type(c := n.get(element)) is dict)


def is_leaf(nodes: Nodes) -> bool:
    """True when some entry owns this path and none owns anything below it."""
    if not nodes:
        return False
    for n in nodes:
        for k in n:
            if k != ".":
                return False
    return True


@functools.lru_cache(maxsize=4096)
def parse_key(element: str) -> tuple[tuple[str, Any], ...] | None:
    """The key fields of a ``k:`` element as sorted pairs; None when it is not one."""
    if not element.startswith("k:"):
        return None
    try:
        fields = json.loads(element[2:])
    except ValueError:
        return None
    if not isinstance(fields, dict):
        return None
    return tuple(sorted((str(k), _hashable(v)) for k, v in fields.items()))


@functools.lru_cache(maxsize=4096)
def parse_value(element: str) -> str | None:
    """The canonical JSON of a ``v:`` set item; None when it is not one."""
    if not element.startswith("v:"):
        return None
    try:
        return canonical_value(json.loads(element[2:]))
    except ValueError:
        return None


def canonical_value(value: Any) -> str:
    """A set item's identity: its JSON with sorted keys."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else canonical_value(value)


def item_key(item: Mapping[str, Any], names: Iterable[str]) -> tuple[tuple[str, Any], ...]:
    """An associative-list item's key as :func:`parse_key` returns it, from the fields it has."""
    return tuple(sorted((n, _hashable(item[n])) for n in names if n in item))


def list_elements(nodes: Nodes) -> tuple[str, tuple[str, ...]]:
    """How the entries address the items of the list at ``nodes``: ``("map", key field names)``,
    ``("set", ())``, ``("index", ())``, ``("atomic", ())`` when owned as a whole, or
    ``("unknown", ())`` when no entry says anything about it."""
    names: set[str] = set()
    kind = ""
    for n in nodes:
        for element in n:
            if element.startswith("k:"):
                key = parse_key(element)
                if key is not None:
                    names.update(k for k, _ in key)
                    kind = "map"
            elif element.startswith("v:") and not kind:
                kind = "set"
            elif element.startswith("i:") and not kind:
                kind = "index"
    if kind == "map":
        return "map", tuple(sorted(names))
    if kind:
        return kind, ()
    return ("atomic", ()) if nodes else ("unknown", ())


def decode(fields_v1: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Readable paths of every owned leaf and ``.`` node, in the style of server-side apply's
    conflict messages: ``.spec.replicas``, ``.spec.template.spec.containers[name="web"].image``,
    ``.metadata.finalizers[="example.com/x"]``, ``.spec.x[0]``."""
    out: list[str] = []
    for element, sub in fields_v1.items():
        if element == ".":
            out.append(prefix)
            continue
        if element.startswith("f:"):
            path = f"{prefix}.{element[2:]}"
        elif element.startswith("k:"):
            key = parse_key(element) or ()
            path = prefix + "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in key) + "]"
        elif element.startswith("v:"):
            path = f"{prefix}[={element[2:]}]"
        elif element.startswith("i:"):
            path = f"{prefix}[{element[2:]}]"
        else:
            path = f"{prefix}.?{element}"
        if isinstance(sub, Mapping) and any(k != "." for k in sub):
            out.extend(decode(sub, path))
        else:
            out.append(path)
    return out
