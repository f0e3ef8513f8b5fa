"""Server-side apply and managedFields, as kube-apiserver 1.32 computes them (pure, no I/O).

A port of ``sigs.k8s.io/structured-merge-diff/v4`` (v4.4: ``merge/update.go``, ``typed/{merge,
compare,remove,tofieldset,helpers}.go``, ``fieldpath/{set,element,serialize*}.go``) and of the
manager chain of ``k8s.io/apimachinery/pkg/util/managedfields/internal`` (K8S-API.md §5,
https://kubernetes.io/docs/reference/using-api/server-side-apply/). Objects are plain JSON dicts,
types come from :mod:`gitops.localcluster.schema`; results never share containers with arguments.

The server calls:

- :func:`apply` (``application/apply-patch+yaml``): merges an applied configuration into the live
  object (None: the apply creates it) and returns the new object with ``metadata.managedFields``.
  Raises :class:`ApplyConflict` (409), :class:`SchemaError` (a list item the schema cannot key: the
  real server answers 500 with reason ``""``) or ``ValueError`` (``metadata.managedFields must be
  nil``: 400). Defaulting, validation and the strategy come after, as in the real pipeline.
- :func:`update` (create, ``PUT``, every other patch): the entries to store with the new object
  (``[]``: none). Updates never conflict; client-sent managedFields are honoured.
- :func:`ignore_managed_fields_timestamps`: for a caller that changes the object after apply
  (defaulting), reverts timestamps when nothing else changed, so an identical write is a no-op.

``reset_paths`` are the strategy's reset fields (GetResetFields), dotted; by default a built-in kind
with a status resets ``status`` on main writes and ``spec`` on ``status`` writes. They are neither
owned nor changed.

Both run ``NewDefaultFieldManager``'s chain, outermost first: the last-applied annotation updater
and conflict upgrade (manager ``kubectl`` only), skip-non-applied (``before-first-apply``), the cap
of 10 Update entries (``ancient-changes``), manager identity (Apply: manager + subresource; Update:
manager + apiVersion + subresource), timestamps (``current-operation``), the strip of metadata
fields, then the structured merge. A :class:`FieldSet` holds paths: tuples of field names and
:class:`ListItem` elements; :func:`encode_fields_v1`/:func:`decode_fields_v1` speak FieldsV1 JSON.

Simplifications, none visible to kubectl or client-go: every manager's set is taken to be at the
request's apiVersion (no conversion); the Go round trip of a merged object is emulated (null and
empty omitempty fields vanish, non-pointer structs stay, see :func:`_round_trip`); the Go zero
object a create is compared with is derived from the schema (:func:`_zero`).
"""

from __future__ import annotations

import datetime
import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from gitops.localcluster import schema

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MAX_UPDATE_MANAGERS = 10  # internal/fieldmanager.go DefaultMaxUpdateManagers


class ListItem(NamedTuple):
    """A list element in a path: ``kind`` is ``k`` (list-map key), ``v`` (set value) or ``i`` (index).

    ``text`` is the canonical JSON Go writes after the ``k:``/``v:``/``i:`` prefix in FieldsV1:
    ``{"containerPort":80,"protocol":"TCP"}`` (key fields sorted), ``"finalizer.example.com"``, ``0``.
    """

    kind: str
    text: str


PathElement = str | ListItem
Path = tuple[PathElement, ...]


class SchemaError(ValueError):
    """An object the schema cannot type (typed/helpers.go, validate.go messages)."""


class _Missing:
    """Go's nil value.Value: the field is absent (``None`` is JSON null, a present value)."""


_MISSING: Any = _Missing()


# --------------------------------------------------------------------------------- Go JSON

_HTML_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def _go_numbers(v: Any) -> Any:
    # Go decodes JSON numbers in unstructured data as float64 (FieldsV1 keys) and writes integral
    # floats without a fraction: 80.0 is "80" (strconv 'f' format below 1e21).
    if type(v) is float and v.is_integer() and abs(v) < 1e21:
        return int(v)
    if type(v) is dict:
        return {k: _go_numbers(x) for k, x in v.items()}
    if type(v) is list:
        return [_go_numbers(x) for x in v]
    return v


def go_json(v: Any) -> str:
    """Compact JSON as Go's encoding/json writes it: sorted keys, HTML characters escaped."""
    if type(v) is str:
        return _go_json_str(v)
    if type(v) is int:
        return str(v)
    text = json.dumps(_go_numbers(v), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text.translate(_HTML_ESCAPES)


@functools.lru_cache(maxsize=16384)
def _go_json_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False).translate(_HTML_ESCAPES)


def _copy(v: Any) -> Any:
    """A deep copy of a JSON value (results never share containers with the inputs)."""
    if type(v) is dict or type(v) is list:
        try:
            return orjson.loads(orjson.dumps(v))
        except TypeError:  # ints beyond 64 bits
            return json.loads(json.dumps(v))
    return v


def _eq(a: Any, b: Any) -> bool:
    """value.Equals: numbers compare numerically, booleans are not numbers."""
    if a is b:
        return True
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b) and a == b
    return bool(a == b)


# --------------------------------------------------------------------------------- types


class _Type:
    """A compiled, cached view of a :class:`schema.TypeNode` (children are built once)."""

    __slots__ = (
        "_elem",
        "_fields",
        "_other",
        "_zero",
        "atomic",
        "keys",
        "kind",
        "list_type",
        "props",
        "ref",
        "root",
        "tn",
    )

    def __init__(self, tn: schema.TypeNode) -> None:
        self.tn = tn
        self.kind = tn.kind
        self.ref = tn.ref_name
        self.root = tn.is_root
        self.atomic = self.kind == "scalar" or (self.kind in ("struct", "map", "list") and tn.is_atomic)
        self.props: dict[str, Any] = tn.properties if self.kind == "struct" else {}
        self.list_type = tn.list_type if self.kind == "list" else ""
        self.keys = tn.list_map_keys if self.list_type == "map" else ()
        self._fields: dict[str, _Type] = {}
        self._other: _Type | None = None
        self._elem: _Type | None = None
        self._zero: dict[str, Any] | None = None

    def declared(self, name: str) -> bool:
        """schema.Map.FindField: a named field of a struct (map keys and unknown fields are not)."""
        return self.kind == "struct" and (name in self.props or (self.root and name == "metadata"))

    def field(self, name: str) -> _Type:
        if self.declared(name):
            child = self._fields.get(name)
            if child is None:
                sub = self.tn.field(name)
                child = self._fields[name] = _Type(sub) if sub is not None else _UNTYPED
            return child
        if self._other is None:
            # Map values and undeclared struct fields share one type, whatever the key.
            sub = self.tn.field(name) if self.kind in ("struct", "map") else None
            self._other = _Type(sub) if sub is not None else _UNTYPED
        return self._other

    @property
    def elem(self) -> _Type:
        if self._elem is None:
            self._elem = _Type(self.tn.items()) if self.kind == "list" else _UNTYPED
        return self._elem


_UNTYPED = _Type(schema.untyped())
_ROOTS: OrderedDict[tuple[int, bool], tuple[dict[str, Any], _Type]] = OrderedDict()
_ROOTS_LOCK = threading.Lock()

# List-map key fields with a default (``+default`` markers): a missing key takes it
# (typed/helpers.go keyedAssociativeListItemToPathElement, smd v4.1+; kubernetes PR #98576). The
# kubernetes-validate schemas we read drop OpenAPI defaults, hence this table.
_KEY_DEFAULTS = {
    ("io.k8s.api.core.v1.ContainerPort", "protocol"): "TCP",
    ("io.k8s.api.core.v1.ServicePort", "protocol"): "TCP",
    ("io.k8s.api.core.v1.LocalObjectReference", "name"): "",
}


def _root(node: schema.TypeNode) -> _Type:
    # CRD nodes are rebuilt per request: key on the schema dict (kept alive by the cache entry).
    key = (id(node.node), node.is_root)
    with _ROOTS_LOCK:
        hit = _ROOTS.get(key)
        if hit is not None and hit[0] is node.node:
            _ROOTS.move_to_end(key)
            return hit[1]
        t = _Type(node)
        _ROOTS[key] = (node.node, t)
        if len(_ROOTS) > 256:
            _ROOTS.popitem(last=False)
        return t


def _key_default(t: _Type, name: str) -> Any:
    elem = t.elem
    if elem.declared(name):
        default = elem.field(name).tn.node.get("default", _MISSING)
        if default is not _MISSING:
            return default
    return _KEY_DEFAULTS.get((elem.ref, name), _MISSING)


_LEAF, _LIST, _MAP = 0, 1, 2


def _shape(t: _Type, v: Any) -> int:
    """How the walkers treat a value (deduceAtom + handleAtom): a leaf, a granular list or map."""
    if t.kind == "untyped":  # the "deduced" type: granular maps, atomic lists
        return _MAP if type(v) is dict or v is None else _LEAF
    if t.atomic:
        return _LEAF
    return _LIST if t.kind == "list" else _MAP


# --------------------------------------------------------------------------------- paths


@functools.lru_cache(maxsize=8192)
def _parsed(text: str) -> Any:
    return json.loads(text)


def _item_pe(t: _Type, index: int, item: Any) -> PathElement:
    """listItemToPathElement: list-map items by key, set items by value, atomic lists by index."""
    if t.list_type == "atomic":
        return ListItem("i", str(index))
    if t.keys:
        if item is None:
            raise SchemaError(f"element {index}: associative list with keys may not have a null element")
        if type(item) is not dict:
            raise SchemaError(f"element {index}: associative list with keys may not have non-map elements")
        parts = []
        for name in sorted(t.keys):
            value = item.get(name, _MISSING)
            if value is _MISSING:
                value = _key_default(t, name)
                if value is _MISSING:
                    raise SchemaError(
                        f"element {index}: associative list with keys has an element that omits key field "
                        f'"{name}" (and doesn\'t have default value)'
                    )
            parts.append(f"{go_json(name)}:{go_json(value)}")
        return ListItem("k", "{" + ",".join(parts) + "}")
    if type(item) is dict:
        raise SchemaError(f"element {index}: associative list without keys has an element that's a map type")
    if type(item) is list:
        raise SchemaError(f"element {index}: not supported: associative list with lists as elements")
    if item is None:
        raise SchemaError(
            f"element {index}: associative list without keys has an element that's an explicit null"
        )
    return ListItem("v", go_json(item))


def _value_order(v: Any) -> tuple[Any, ...]:
    # value.Compare: numbers < strings < booleans < lists < maps < null.
    if type(v) is bool:
        return (2, v)
    if type(v) in (int, float):
        return (0, v)
    if type(v) is str:
        return (1, v)
    if type(v) is list:
        return (3, tuple(_value_order(x) for x in v))
    if type(v) is dict:
        return (4, tuple((k, _value_order(x)) for k, x in sorted(v.items())))
    return (5,)


@functools.lru_cache(maxsize=8192)
def _pe_order(pe: PathElement) -> tuple[Any, ...]:
    """PathElement.Compare: field names < keys < values < indexes."""
    if type(pe) is str:
        return (0, pe)
    assert isinstance(pe, ListItem)
    if pe.kind == "k":
        return (1, tuple((k, _value_order(v)) for k, v in sorted(_parsed(pe.text).items())))
    if pe.kind == "v":
        return (2, _value_order(_parsed(pe.text)))
    return (3, int(pe.text))


def _go_string(v: Any) -> str:
    """value.ToString: %q strings, %v numbers and booleans."""
    if v is None:
        return "null"
    if type(v) is bool:
        return "true" if v else "false"
    if type(v) in (int, float):
        return go_json(v)
    if type(v) is str:
        return json.dumps(v, ensure_ascii=False)
    if type(v) is list:
        return "[" + ",".join(_go_string(x) for x in v) + "]"
    return "".join(f"{k}={_go_string(x)}" for k, x in sorted(v.items()))


def path_string(path: Path) -> str:
    """fieldpath.Path.String: ``.spec.template.spec.containers[name="c"].image``."""
    out = []
    for pe in path:
        if type(pe) is str:
            out.append("." + pe)
        elif isinstance(pe, ListItem) and pe.kind == "k":
            keys = sorted(_parsed(pe.text).items())
            out.append("[" + ",".join(f"{k}={_go_string(v)}" for k, v in keys) + "]")
        elif isinstance(pe, ListItem) and pe.kind == "v":
            out.append(f"[={_go_string(_parsed(pe.text))}]")
        elif isinstance(pe, ListItem):
            out.append(f"[{pe.text}]")
    return "".join(out)


def _iteration_key(path: Path) -> tuple[Any, ...]:
    # Set.Iterate order: at each level the members (sorted) come before the children (sorted).
    last = len(path) - 1
    return tuple((0 if i == last else 1, _pe_order(pe)) for i, pe in enumerate(path))


class FieldSet:
    """An immutable set of field paths (fieldpath.Set): only members, parents are not implied."""

    __slots__ = ("paths",)

    def __init__(self, paths: Iterable[Path] = ()) -> None:
        self.paths: frozenset[Path] = paths if isinstance(paths, frozenset) else frozenset(paths)

    def __contains__(self, path: object) -> bool:
        return path in self.paths

    def __iter__(self) -> Iterator[Path]:
        return iter(sorted(self.paths, key=_iteration_key))

    def __len__(self) -> int:
        return len(self.paths)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldSet) and self.paths == other.paths

    def __hash__(self) -> int:
        return hash(self.paths)

    def __or__(self, other: FieldSet) -> FieldSet:
        return FieldSet(self.paths | other.paths)

    def __and__(self, other: FieldSet) -> FieldSet:
        return FieldSet(self.paths & other.paths)

    def __sub__(self, other: FieldSet) -> FieldSet:
        return FieldSet(self.paths - other.paths)

    def strings(self) -> list[str]:
        """The paths in Go's iteration order, formatted as conflicts show them."""
        return [path_string(p) for p in self]

    def __repr__(self) -> str:
        return f"FieldSet({self.strings()!r})"


def _recursive_difference(paths: frozenset[Path], drop: frozenset[Path]) -> frozenset[Path]:
    """Set.RecursiveDifference: remove every path at or below a path of ``drop``."""
    if not drop or not paths:
        return paths
    lengths = sorted({len(p) for p in drop})
    return frozenset(p for p in paths if not any(p[:n] in drop for n in lengths if n <= len(p)))


_MEMBER: Any = None  # trie marker key: PathElements are never None


def _trie(paths: Iterable[Path]) -> dict[Any, Any]:
    root: dict[Any, Any] = {}
    for path in paths:
        node = root
        for pe in path:
            node = node.setdefault(pe, {})
        node[_MEMBER] = True
    return root


# --------------------------------------------------------------------------------- FieldsV1


def encode_fields_v1(fs: FieldSet) -> dict[str, Any]:
    """The FieldsV1 JSON of a set (fieldpath/serialize.go emitContentsV1), keys in Go's order."""
    return _emit(_trie(fs.paths))


def _emit(node: dict[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pe in sorted((k for k in node if k is not _MEMBER), key=_pe_order):
        child = node[pe]
        key = "f:" + pe if type(pe) is str else f"{pe.kind}:{pe.text}"
        if len(child) == 1 and _MEMBER in child:
            out[key] = {}
        else:
            # emitContentsV1 writes "." before the children
            out[key] = {".": {}, **_emit(child)} if _MEMBER in child else _emit(child)
    return out


def decode_fields_v1(d: dict[str, Any]) -> FieldSet:
    """A set from FieldsV1 JSON (readIterV1): ``{}`` and ``".": {}`` mark members; unknown
    element types are dropped; keys and values are canonicalized. Raises ValueError when invalid."""
    if not isinstance(d, dict):
        raise ValueError("FieldsV1 must be a JSON object")
    out: set[Path] = set()
    _read(d, (), out)
    return FieldSet(out)


def _read(d: dict[str, Any], prefix: Path, out: set[Path]) -> bool:
    """Adds the paths below ``prefix``; returns whether ``prefix`` itself is a member."""
    member = "." in d
    children = False
    for key, sub in d.items():
        if key == ".":
            continue
        pe = _deserialize(key)
        if pe is None:
            continue
        if not isinstance(sub, dict):
            raise ValueError(f"FieldsV1 value of {key!r} must be an object")
        children = True
        path = (*prefix, pe)
        if _read(sub, path, out):
            out.add(path)
    return member or not children


@functools.lru_cache(maxsize=16384)
def _deserialize(key: str) -> PathElement | None:
    """DeserializePathElement; None for an unknown element type (ignored, as Go does)."""
    if len(key) < 2:
        raise ValueError(f"key must be 2 characters long: {key!r}")
    if key[1] != ":":
        raise ValueError(f"missing colon: {key}")
    kind, body = key[0], key[2:]
    if kind == "f":
        return body
    if kind == "i":
        return ListItem("i", str(int(body)))
    if kind not in ("k", "v"):
        return None
    try:
        value = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid path element {key!r}: {exc}") from exc
    if kind == "v":
        return ListItem("v", go_json(value))
    if not isinstance(value, dict):
        raise ValueError(f"invalid path element {key!r}: a key must be an object")
    return ListItem("k", "{" + ",".join(f"{go_json(k)}:{go_json(v)}" for k, v in sorted(value.items())) + "}")


# --------------------------------------------------------------------------------- walkers


def field_set_of(obj: dict[str, Any], node: schema.TypeNode) -> FieldSet:
    """TypedValue.ToFieldSet: scalars, list items, free-form map keys and atomic values are members;
    named struct fields only hold children. No field is stripped (apply strips metadata later).
    Raises SchemaError for list items the schema cannot key."""
    out: set[Path] = set()
    _collect(obj, _root(node), (), out, named=False, strict=True)
    return FieldSet(out)


def _collect(v: Any, t: _Type, path: Path, out: set[Path], named: bool, strict: bool) -> bool:
    """toFieldSetWalker; with ``named`` also EnsureNamedFieldsAreMembers. Returns whether anything
    was added at or below ``path``."""
    shape = _shape(t, v)
    if shape == _LEAF:
        if path:
            out.add(path)
        return True
    if shape == _LIST:
        if type(v) is not list:
            return False
        elem = t.elem
        for i, item in enumerate(v):
            try:
                pe = _item_pe(t, i, item)
            except SchemaError as exc:
                raise SchemaError(f"{path_string(path)}: {exc}") from None
            p = (*path, pe)
            if strict and p in out:
                raise SchemaError(f"{path_string(path)}: duplicate entries for key {path_string((pe,))}")
            _collect(item, elem, p, out, named, strict)
            out.add(p)
        return bool(v)
    if type(v) is not dict:
        return False
    found = False
    for key, val in v.items():
        p = (*path, key)
        below = _collect(val, t.field(key), p, out, named, strict)
        if not t.declared(key):
            out.add(p)
            found = True
        elif below:
            found = True
            if named:
                out.add(p)
    return found


def _named_set(obj: Any, t: _Type) -> frozenset[Path]:
    out: set[Path] = set()
    _collect(obj, t, (), out, named=True, strict=False)
    return frozenset(out)


def _ensure_named(paths: frozenset[Path], t: _Type) -> frozenset[Path]:
    """Set.EnsureNamedFieldsAreMembers: struct fields holding members become members."""
    out = set(paths)

    def walk(node: dict[Any, Any], t: _Type, prefix: Path) -> None:
        for pe, sub in node.items():
            if pe is _MEMBER or len(sub) == (1 if _MEMBER in sub else 0):
                continue
            path = (*prefix, pe)
            if type(pe) is str:
                if t.declared(pe):
                    out.add(path)
                walk(sub, t.field(pe), path)
            elif pe.kind == "k":
                walk(sub, t.elem, path)

    walk(_trie(paths), t, ())
    return frozenset(out)


def _merge(lhs: Any, rhs: Any, t: _Type) -> Any:
    """TypedValue.Merge with ruleKeepRHS: the config wins on leaves, containers merge."""
    if rhs is _MISSING:
        return _copy(lhs)
    if lhs is _MISSING or _eq(lhs, rhs):
        return _copy(rhs)
    shape = _shape(t, rhs)
    if shape == _LEAF:
        return _copy(rhs)
    if _shape(t, lhs) != shape:
        lhs = None  # the live side has another type: it merges as null
    if shape == _LIST:
        llist = lhs if type(lhs) is list else []
        rlist = rhs if type(rhs) is list else []
        if not llist and not rlist:
            return _copy(rhs)  # empty or null on both sides: a leaf
        return _merge_list(llist, rlist, t)
    lmap = lhs if type(lhs) is dict else {}
    rmap = rhs if type(rhs) is dict else {}
    if not lmap and not rmap:
        return _copy(rhs)
    out = {k: _merge(lv, rmap.get(k, _MISSING), t.field(k)) for k, lv in lmap.items()}
    for k, rv in rmap.items():
        if k not in lmap:
            out[k] = _copy(rv)
    return out


def _merge_list(lhs: list[Any], rhs: list[Any], t: _Type) -> list[Any]:
    """mergingWalker.visitListItems (v4.4): shared items keep the config's relative order, live-only
    items stay where they were; duplicated live items are replaced by the config's one."""
    elem = t.elem
    rpes = [_item_pe(t, i, item) for i, item in enumerate(rhs)]
    robs = dict(zip(rpes, rhs, strict=True))
    lpes = [_item_pe(t, i, item) for i, item in enumerate(lhs)]
    lobs: dict[PathElement, Any] = {}
    for pe, item in zip(lpes, lhs, strict=True):
        lobs[pe] = None if pe in lobs else item  # a duplicate merges as null
    shared = [pe for pe in rpes if pe in lobs]
    next_shared: Any = shared.pop(0) if shared else None
    merged_rhs: set[PathElement] = set()
    out: list[Any] = []
    li = ri = 0
    while li < len(lpes) or ri < len(rpes):
        if li < len(lpes) and ri < len(rpes):
            pe = lpes[li]
            if pe == rpes[ri]:
                merged_rhs.add(pe)
                out.append(_merge(lobs[pe], robs[pe], elem))
                li += 1
                ri += 1
                next_shared = shared.pop(0) if shared else None
                continue
            if pe in robs and next_shared is not None and next_shared != pe:
                li += 1  # shared item, but not the one wanted in this round
                continue
        if li < len(lpes):
            pe = lpes[li]
            if pe not in robs:
                out.append(_copy(lhs[li]))
                li += 1
                continue
            if pe in merged_rhs:
                li += 1
                continue
        if ri < len(rpes):
            pe = rpes[ri]
            merged_rhs.add(pe)
            out.append(_merge(lobs.get(pe, _MISSING), robs[pe], elem))
            ri += 1
            if next_shared is not None and next_shared == pe:
                next_shared = shared.pop(0) if shared else None
    return out


@dataclass
class _Comparison:
    added: set[Path]
    removed: set[Path]
    modified: set[Path]


def _compare(lhs: Any, rhs: Any, t: _Type) -> _Comparison:
    """TypedValue.Compare (typed/compare.go): leaves are added, removed or modified; containers
    only added or removed."""
    c = _Comparison(set(), set(), set())
    _cmp(lhs, rhs, t, (), c)
    return c


def _cmp(lhs: Any, rhs: Any, t: _Type, path: Path, c: _Comparison) -> None:
    if lhs is not _MISSING and rhs is not _MISSING and _eq(lhs, rhs):
        return
    if rhs is _MISSING:
        leaf = _cmp_atom(_shape(t, lhs), lhs, rhs, t, path, c)
    else:
        shape = _shape(t, rhs)
        if lhs is not _MISSING and _shape(t, lhs) != shape:
            _cmp_atom(_shape(t, lhs), lhs, rhs, t, path, c)
        leaf = _cmp_atom(shape, lhs, rhs, t, path, c)
    if not leaf and path:  # postItemHook
        if lhs is _MISSING:
            c.added.add(path)
        elif rhs is _MISSING:
            c.removed.add(path)


def _cmp_leaf(lhs: Any, rhs: Any, path: Path, c: _Comparison) -> None:
    if not path:
        return
    if lhs is _MISSING:
        c.added.add(path)
    elif rhs is _MISSING:
        c.removed.add(path)
    elif not _eq(lhs, rhs):
        c.modified.add(path)


def _cmp_atom(shape: int, lhs: Any, rhs: Any, t: _Type, path: Path, c: _Comparison) -> bool:
    if shape == _LIST:
        llist = lhs if type(lhs) is list else None
        rlist = rhs if type(rhs) is list else None
        if llist or rlist:
            lidx = _index(llist, t)
            ridx = _index(rlist, t)
            elem = t.elem
            for pe, item in lidx.items():
                _cmp(item, ridx.get(pe, _MISSING), elem, (*path, pe), c)
            for pe, item in ridx.items():
                if pe not in lidx:
                    _cmp(_MISSING, item, elem, (*path, pe), c)
            return False
    elif shape == _MAP:
        lmap = lhs if type(lhs) is dict else None
        rmap = rhs if type(rhs) is dict else None
        if lmap or rmap:
            lmap, rmap = lmap or {}, rmap or {}
            for k, lv in lmap.items():
                _cmp(lv, rmap.get(k, _MISSING), t.field(k), (*path, k), c)
            for k, rv in rmap.items():
                if k not in lmap:
                    _cmp(_MISSING, rv, t.field(k), (*path, k), c)
            return False
    _cmp_leaf(lhs, rhs, path, c)  # leaves, and empty or null containers on both sides
    return True


def _index(items: list[Any] | None, t: _Type) -> dict[PathElement, Any]:
    out: dict[PathElement, Any] = {}
    for i, item in enumerate(items or ()):
        out.setdefault(_item_pe(t, i, item), item)
    return out


def _remove(v: Any, t: _Type, trie: dict[Any, Any]) -> Any:
    """TypedValue.RemoveItems (typed/remove.go): drops the members of ``trie`` and their subtrees; a
    container left empty becomes null. Untouched subtrees are shared with ``v``."""
    shape = _shape(t, v)
    if shape == _LEAF:  # doScalar keeps the value; an atomic list or map under removals turns null
        return None if type(v) is dict or type(v) is list else v
    if shape == _LIST:
        if type(v) is not list or not v:
            return None
        items = []
        for i, item in enumerate(v):
            pe = _item_pe(t, i, item)
            sub = trie.get(pe)
            if sub is None:
                items.append(item)
            elif _MEMBER not in sub:
                kept = _remove(item, t.elem, sub)
                if kept is not None:  # Go keeps a null item; no server code expects one
                    items.append(kept)
        return items or None
    if type(v) is not dict or not v:
        return None
    out = {}
    for k, val in v.items():
        sub = trie.get(k)
        if sub is None:
            out[k] = val
        elif _MEMBER not in sub:
            out[k] = _remove(val, t.field(k), sub)
    return out or None


def _prune(merged: dict[str, Any], t: _Type, managed: dict[_Id, _Versioned], last: frozenset[Path]) -> Any:
    """Updater.prune + addBackOwnedItems + addBackDanglingItems (merge/update.go): remove what the
    applier owned last time, no longer applies, and nobody else owns."""
    last_named = _ensure_named(last, t)
    merged_set = _named_set(merged, t)
    pruned = _remove(merged, t, _trie(last_named))
    owned = _ensure_named(frozenset().union(*(vs.fields for vs in managed.values())), t)
    pruned = _remove(merged, t, _trie(merged_set - (_named_set(pruned, t) | owned)))
    return _remove(merged, t, _trie((merged_set - _named_set(pruned, t)) & last_named))


def _may_vanish(v: Any) -> bool:
    """Whether a config may hold a null or an empty container (a false positive costs a walk)."""
    try:
        text = orjson.dumps(v)
    except TypeError:
        return True
    return b"null" in text or b"{}" in text or b"[]" in text


def _round_trip(v: Any, base: Any, t: _Type) -> None:
    """What the real server's round trip through Go structs does to a merged object: null fields
    vanish, and so do empty maps and lists of built-in types (omitempty; required fields are not
    omitempty), unless ``base`` (the live object) has them the same way. Custom resources, kept
    unstructured, keep their empty containers."""
    if type(v) is dict:
        bmap = base if type(base) is dict else {}
        required = t.tn.required if t.ref else ()
        for k in bmap:
            if k not in v and _embedded(t, k, t.field(k)):
                v[k] = {}  # pruned away, but a non-pointer struct: Go writes its zero value
        for k in list(v):
            x, b, child = v[k], bmap.get(k, _MISSING), t.field(k)
            if x is None and b is not None:
                if _embedded(t, k, child):
                    v[k] = {}  # a non-pointer struct: Go writes its zero value
                else:
                    del v[k]
            elif x == {} or x == []:
                if t.ref and child.kind in ("map", "list") and k not in required and b in (_MISSING, None):
                    del v[k]
            elif type(x) is dict or type(x) is list:
                _round_trip(x, b, child)
    elif type(v) is list:
        blist = base if type(base) is list else []
        for i, x in enumerate(v):
            if type(x) is dict or type(x) is list:
                _round_trip(x, blist[i] if i < len(blist) else None, t.elem)


# Non-pointer structs of the built-in Go types: present ({}) in the zero object the real server
# compares a create with (objectCreater.New). Other required fields are null there.
_EMBEDDED = frozenset(
    {
        "io.k8s.api.core.v1.PodTemplateSpec",
        "io.k8s.api.core.v1.PodSpec",
        "io.k8s.api.batch.v1.JobTemplateSpec",
        "io.k8s.api.batch.v1.JobSpec",
        "io.k8s.api.apps.v1.DeploymentStrategy",
        "io.k8s.api.apps.v1.StatefulSetUpdateStrategy",
        "io.k8s.api.apps.v1.DaemonSetUpdateStrategy",
        "io.k8s.api.core.v1.LoadBalancerStatus",
        "io.k8s.api.core.v1.VolumeResourceRequirements",
    }
)
_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def _zero(t: _Type) -> dict[str, Any]:
    """The Go zero object of a built-in kind, as JSON: the ``live`` of a create. It only decides
    which containers a create "adds" (``".": {}``): ``spec`` is no addition, ``spec.strategy`` of a
    Deployment is none either, labels are. Custom resources start from an empty object."""
    if t._zero is None:
        t._zero = _zero_struct(t, top=True) if t.ref else {}
    return t._zero


def _zero_struct(t: _Type, top: bool) -> dict[str, Any]:
    if t.ref == _OBJECT_META:
        return {"creationTimestamp": None}
    out: dict[str, Any] = {}
    for name in t.props:
        child = t.field(name)
        if _embedded(t, name, child):
            out[name] = _zero_struct(child, top=False)
        elif name in t.tn.required and child.kind != "scalar":
            out[name] = None
    return out


def _embedded(parent: _Type, name: str, child: _Type) -> bool:
    """Whether a field is a non-pointer struct in the built-in Go types (never null, never absent)."""
    if child.kind != "struct" or not parent.ref:
        return False
    return child.ref in _EMBEDDED or child.ref == _OBJECT_META or (parent.root and name in ("spec", "status"))


# --------------------------------------------------------------------------------- managers

_Id = tuple[str, str, str, str]  # manager, operation, apiVersion ("" for Apply), subresource
_CURRENT: _Id = ("current-operation", "", "", "")  # managedfieldsupdater.go's temporary manager


@dataclass(frozen=True, slots=True)
class _Versioned:
    fields: frozenset[Path]
    api_version: str
    applied: bool


# stripmeta.go: never part of a manager's set. deletionTimestamp and deletionGracePeriodSeconds are
# added: the real server sets them outside the field manager, so no manager ever owns them.
_STRIP = frozenset(
    [("apiVersion",), ("kind",), ("metadata",)]
    + [
        ("metadata", f)
        for f in (
            "name",
            "namespace",
            "creationTimestamp",
            "selfLink",
            "uid",
            "clusterName",
            "generation",
            "managedFields",
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        )
    ]
)


def _id_json(ident: _Id) -> str:
    """BuildManagerIdentifier: the JSON of the entry without time and fields."""
    manager, operation, api_version, subresource = ident
    parts = [
        (k, v)
        for k, v in (
            ("manager", manager),
            ("operation", operation),
            ("apiVersion", api_version),
            ("subresource", subresource),
        )
        if v
    ]
    return "{" + ",".join(f'"{k}":{go_json(v)}' for k, v in parts) + "}"


@functools.lru_cache(maxsize=4096)
def _parse_time(value: str) -> tuple[str, int]:
    stamp = datetime.datetime.fromisoformat(value)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.UTC)
    stamp = stamp.astimezone(datetime.UTC).replace(microsecond=0)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ"), int(stamp.timestamp())


def _seconds(value: str | None) -> int:
    return _parse_time(value)[1] if value else 0


_Managed = dict[_Id, _Versioned]
_Times = dict[_Id, str | None]


def _decode(entries: Any) -> tuple[_Managed, _Times]:
    """DecodeManagedFields; raises ValueError like the Go function errors."""
    managed: _Managed = {}
    times: _Times = {}
    if entries is None:
        return managed, times
    if not isinstance(entries, list):
        raise ValueError("managedFields must be a list")
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            raise ValueError(f"managed fields entry {i} must be an object")
        operation = e.get("operation")
        if operation not in ("Apply", "Update"):
            raise ValueError("operation must be `Apply` or `Update`")
        api_version = e.get("apiVersion") or ""
        if not api_version:
            raise ValueError("apiVersion must not be empty")
        if not e.get("fieldsType"):
            raise ValueError(f"missing fieldsType in managed fields entry {i}")
        if e["fieldsType"] != "FieldsV1":
            raise ValueError(f"invalid fieldsType {e['fieldsType']!r} in managed fields entry {i}")
        ident = (
            str(e.get("manager") or ""),
            operation,
            "" if operation == "Apply" else api_version,
            str(e.get("subresource") or ""),
        )
        managed[ident] = _Versioned(
            decode_fields_v1(e.get("fieldsV1") or {}).paths, api_version, operation == "Apply"
        )
        stamp = e.get("time")
        times[ident] = _parse_time(stamp)[0] if stamp else None
    return managed, times


def _encode(managed: _Managed, times: _Times) -> list[dict[str, Any]]:
    """encodeManagedFields + sortEncodedManagedFields: Apply before Update, then time, manager,
    apiVersion, subresource. Keys in the Go struct's order."""
    entries = []
    for ident, vs in managed.items():
        manager, operation, _, subresource = ident
        entry: dict[str, Any] = {}
        if manager:
            entry["manager"] = manager
        entry["operation"] = "Apply" if vs.applied else operation
        entry["apiVersion"] = vs.api_version
        if times.get(ident):
            entry["time"] = times[ident]
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = encode_fields_v1(FieldSet(vs.fields))
        if subresource:
            entry["subresource"] = subresource
        entries.append(entry)
    entries.sort(
        key=lambda e: (
            e["operation"],
            _seconds(e.get("time")),
            e.get("manager", ""),
            e["apiVersion"],
            e.get("subresource", ""),
        )
    )
    return entries


def _strip(managed: _Managed, ident: _Id) -> None:
    vs = managed.get(ident)
    if vs is not None:
        fields = vs.fields - _STRIP
        if fields:
            managed[ident] = _Versioned(fields, vs.api_version, vs.applied)
        else:
            del managed[ident]


class _Conflicts(Exception):
    def __init__(self, conflicts: dict[_Id, frozenset[Path]], managed: _Managed) -> None:
        super().__init__("apply conflicts")
        self.items = [
            (ident, path) for ident in sorted(conflicts, key=_id_json) for path in FieldSet(conflicts[ident])
        ]
        self.versions = {ident: managed[ident].api_version for ident in conflicts}


def _update_sets(
    old: Any, new: Any, t: _Type, managed: _Managed, workflow: _Id, force: bool, ignored: frozenset[Path]
) -> _Comparison:
    """Updater.update: other managers lose the fields this write changes (conflicts unless forced)
    and the fields it removes; managers left empty disappear."""
    c = _compare(old, new, t)
    if ignored:  # Comparison.ExcludeFields(resetFields)
        c = _Comparison(
            set(_recursive_difference(frozenset(c.added), ignored)),
            set(_recursive_difference(frozenset(c.removed), ignored)),
            set(_recursive_difference(frozenset(c.modified), ignored)),
        )
    changed = c.added | c.modified
    conflicts: dict[_Id, frozenset[Path]] = {}
    if changed:
        for ident, vs in managed.items():
            if ident != workflow and not vs.fields.isdisjoint(changed):
                conflicts[ident] = vs.fields & changed
    if conflicts and not force:
        raise _Conflicts(conflicts, managed)
    for ident in list(managed):
        vs = managed[ident]
        if ident != workflow and (ident in conflicts or c.removed):
            fields = vs.fields - conflicts.get(ident, frozenset()) - c.removed
            managed[ident] = _Versioned(fields, vs.api_version, vs.applied)
        if not managed[ident].fields:
            del managed[ident]
    return c


def _record_update(
    old: Any,
    new: Any,
    t: _Type,
    manager: str,
    version: str,
    now: str,
    subresource: str,
    ignored: frozenset[Path],
    managed: _Managed,
    times: _Times,
) -> None:
    """The Update path below skip-non-applied: capManagers(buildManagerInfo(managedFieldsUpdater(
    stripMeta(structuredMerge.Update)))). The writer gains what it added or changed."""
    ident = (manager or "unknown", "Update", version, subresource)
    c = _update_sets(old, new, t, managed, _CURRENT, True, ignored)
    gained = (c.modified | c.added) - c.removed
    if gained:
        managed[_CURRENT] = _Versioned(_recursive_difference(frozenset(gained), ignored), version, False)
    _strip(managed, _CURRENT)
    current = managed.pop(_CURRENT, None)
    if current is not None:  # the write changed something: merge into the writer's entry, stamp it
        previous = managed.get(ident)
        fields = current.fields | previous.fields if previous is not None else current.fields
        managed[ident] = _Versioned(fields, current.api_version, current.applied)
        times[ident] = now
    _cap(managed, times)


def _cap(managed: _Managed, times: _Times) -> None:
    """capmanagers.go: beyond 10 Update entries, the oldest merge into ``ancient-changes`` buckets."""
    updaters = [ident for ident, vs in managed.items() if not vs.applied]
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return
    updaters.sort(key=lambda ident: (_seconds(times.get(ident)), _id_json(ident)))
    first_by_version: dict[str, _Id] = {}
    length = len(updaters)
    for ident in updaters:
        if length <= MAX_UPDATE_MANAGERS:
            break
        vs = managed[ident]
        bucket = ("ancient-changes", "Update", vs.api_version, "")
        first = first_by_version.get(vs.api_version)
        if first is None:
            first_by_version[vs.api_version] = ident
            continue
        if bucket not in managed:
            managed[bucket] = managed.pop(first)
        managed[bucket] = _Versioned(vs.fields | managed[bucket].fields, vs.api_version, vs.applied)
        del managed[ident]
        length -= 1
        times[bucket] = times.get(ident)


# --------------------------------------------------------------------------------- conflicts


@dataclass(frozen=True)
class Conflict:
    """One conflicting field: its other manager (and how that manager wrote) and the path."""

    manager: str
    api_version: str
    path: str
    operation: str = "Update"
    subresource: str = ""

    def manager_text(self) -> str:
        """conflict.go printManager: ``"m"``, ``with subresource "s"``, Update entries ``using v``."""
        text = json.dumps(self.manager, ensure_ascii=False)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource, ensure_ascii=False)}"
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text


class ApplyConflict(Exception):
    """A server-side apply changing fields other managers own (409 Conflict, NewApplyConflict)."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        super().__init__(self.message())

    def message(self, qualified_kind_name: str = "") -> str:
        """conflict.go getConflictMessage. The real message names no object (NewApplyConflict sets
        only causes), so ``qualified_kind_name`` is accepted and unused."""
        if len(self.conflicts) == 1:
            c = self.conflicts[0]
            return f"Apply failed with 1 conflict: conflict with {c.manager_text()}: {c.path}"
        lines = []
        last = None
        for c in self.conflicts:  # already grouped by manager, managers sorted
            if c.manager_text() != last:
                last = c.manager_text()
                lines.append(f"conflicts with {last}:")
            lines.append(f"- {c.path}")
        return f"Apply failed with {len(self.conflicts)} conflicts: " + "\n".join(lines)

    def causes(self) -> list[dict[str, str]]:
        """The Status ``details.causes``: one FieldManagerConflict per field."""
        return [
            {
                "reason": "FieldManagerConflict",
                "message": f"conflict with {c.manager_text()}",
                "field": c.path,
            }
            for c in self.conflicts
        ]

    def status(self) -> dict[str, Any]:
        """The whole 409 Status body, as errors.NewApplyConflict builds it."""
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message(),
            "reason": "Conflict",
            "details": {"causes": self.causes()},
            "code": 409,
        }


def _apply_conflict(items: list[tuple[_Id, Path]], versions: dict[_Id, str]) -> ApplyConflict:
    return ApplyConflict(
        [Conflict(ident[0], versions[ident], path_string(path), ident[1], ident[3]) for ident, path in items]
    )


# --------------------------------------------------------------------------------- entry points


def _reset_set(reset_paths: Iterable[str] | None, t: _Type, subresource: str) -> frozenset[Path]:
    """The strategy's reset fields (GetResetFields), as dotted field paths. By default a built-in
    kind with a status resets ``status`` on main writes and ``spec`` on status writes."""
    if reset_paths is None:
        if not (t.ref and "status" in t.props):
            return frozenset()
        reset_paths = ("spec",) if subresource == "status" else ("status",) if not subresource else ()
    return frozenset(tuple(p.split(".")) for p in reset_paths)


def _body(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without metadata.managedFields (two shallow copies, no deep copy)."""
    meta = obj.get("metadata")
    if type(meta) is not dict or "managedFields" not in meta:
        return obj
    return {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}


def _restore(dst: dict[str, Any], src: dict[str, Any] | None, path: Path) -> None:
    """Puts back the live value at a reset path (the strategy's PrepareForUpdate does the same)."""
    *parents, last = [pe for pe in path if isinstance(pe, str)]
    for name in parents:
        nxt = dst.get(name)
        src = src.get(name) if type(src) is dict else None
        if type(nxt) is not dict:
            return
        dst = nxt
    value = src.get(last, _MISSING) if type(src) is dict else _MISSING
    if value is _MISSING:
        dst.pop(last, None)
    else:
        dst[last] = _copy(value)


def apply(
    live: dict[str, Any] | None,
    config: dict[str, Any],
    *,
    manager: str,
    api_version: str,
    force: bool,
    node: schema.TypeNode,
    now: str,
    subresource: str = "",
    reset_paths: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Server-side apply of ``config`` onto ``live`` (None: the apply creates the object).

    Returns a new object (sharing nothing with the arguments) with ``metadata.managedFields`` set
    and the ``reset_paths`` as ``live`` has them; defaulting and validation are the caller's.
    """
    meta = config.get("metadata")
    if type(meta) is dict and meta.get("managedFields") is not None:
        raise ValueError("metadata.managedFields must be nil")
    t = _root(node)
    ignored = _reset_set(reset_paths, t, subresource)
    applied_set = frozenset(field_set_of(config, node).paths)  # ObjectToTyped(patch) validates first
    body = _body(live) if live is not None else None
    managed, times = (
        _decode((live.get("metadata") or {}).get("managedFields")) if live is not None else ({}, {})
    )

    ident = (manager or "unknown", "Apply", "", subresource)
    owned = _recursive_difference(applied_set, ignored)
    last = managed.get(ident)
    prunes = last is not None and not last.fields <= owned  # else prune provably removes nothing

    def run(force: bool) -> tuple[dict[str, Any], _Managed, _Times]:
        m, tm = dict(managed), dict(times)
        if not m and body is not None:  # skipnonapplied.go: existing fields get an owner first
            _record_update(
                _zero(t), body, t, "before-first-apply", api_version, now, subresource, ignored, m, tm
            )
        base = body if body is not None else {}
        merged = _merge(base, config, t)
        m[ident] = _Versioned(owned, api_version, True)
        if prunes and last is not None:
            merged = _prune(merged, t, m, last.fields)
        _update_sets(base, merged, t, m, ident, force, ignored)
        _strip(m, ident)
        if merged != base:  # managedfieldsupdater.go: a no-op apply keeps the applier's time
            tm[ident] = now
        return merged, m, tm

    try:
        merged, managed, times = run(force)
    except _Conflicts as exc:
        allowed = _allowed_by_last_applied(body, t, api_version) if manager == "kubectl" else None
        if allowed is None:
            raise _apply_conflict(exc.items, exc.versions) from None
        left = [(ident, path) for ident, path in exc.items if path not in allowed]
        if left:
            raise _apply_conflict(left, exc.versions) from None
        merged, managed, times = run(True)

    if prunes or _may_vanish(config):
        _round_trip(merged, body, t)
    for path in ignored:
        _restore(merged, body, path)
    annotations = (merged.get("metadata") or {}).get("annotations")
    if manager == "kubectl" and type(annotations) is dict and annotations.get(LAST_APPLIED):
        annotations[LAST_APPLIED] = _last_applied(config)  # lastappliedupdater.go
    entries = _encode(managed, times)
    if live is not None:
        entries = _keep_old_times(
            entries, (live.get("metadata") or {}).get("managedFields"), lambda: _body(merged) == body
        )
    merged_meta = merged.setdefault("metadata", {})
    if entries:
        merged_meta["managedFields"] = entries
    else:
        merged_meta.pop("managedFields", None)
    return merged


def update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    api_version: str,
    node: schema.TypeNode,
    now: str,
    subresource: str = "",
    operation: str = "Update",
    reset_paths: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """The managedFields to store for a non-apply write of ``new`` over ``old`` (None: a create).

    ``new`` may carry client-sent managedFields: they replace the stored ones (``[]`` or ``[{}]``
    clears them, and an existing object without entries stays untracked), except on subresources
    (fieldmanager.go decodeLiveOrNew). ``[]`` means: store no managedFields.
    """
    if operation != "Update":
        raise ValueError(f"update records Update entries, not {operation!r}")
    t = _root(node)
    ignored = _reset_set(reset_paths, t, subresource)
    old_entries = (old.get("metadata") or {}).get("managedFields") if old is not None else None
    try:
        live_managed = _decode(old_entries)
    except ValueError:
        live_managed = ({}, {})
    sent = (new.get("metadata") or {}).get("managedFields")
    if subresource:
        managed, times = live_managed
    elif isinstance(sent, list) and (not sent or (len(sent) == 1 and _is_zero_entry(sent[0]))):
        managed, times = {}, {}  # isResetManagedFields
    else:
        try:
            managed, times = _decode(sent)
        except ValueError:
            managed, times = {}, {}
        if not managed:
            managed, times = live_managed
    if not managed and old is not None:
        return []  # skipnonapplied.go: an existing object without managedFields is not tracked
    old_body = _body(old) if old is not None else _zero(t)
    new_body = _body(new)
    _record_update(old_body, new_body, t, manager, api_version, now, subresource, ignored, managed, times)
    entries = _encode(managed, times)
    if old is not None:
        entries = _keep_old_times(entries, old_entries, lambda: new_body == old_body)
    return entries


def _is_zero_entry(entry: Any) -> bool:
    return isinstance(entry, dict) and all(v is None or v == "" for v in entry.values())


def _keep_old_times(
    entries: list[dict[str, Any]], old: Any, bodies_equal: Callable[[], bool]
) -> list[dict[str, Any]]:
    """IgnoreManagedFieldsTimestampsTransformer (apiserver handlers/fieldmanager/equality.go): when
    only timestamps changed, keep the old ones so the write is a no-op."""
    if not isinstance(old, list) or not entries or len(old) != len(entries):
        return entries
    if all(isinstance(o, dict) and o.get("time") == e.get("time") for o, e in zip(old, entries, strict=True)):
        return entries
    for o, e in zip(old, entries, strict=True):
        if not isinstance(o, dict) or {k: v for k, v in o.items() if k != "time"} != {
            k: v for k, v in e.items() if k != "time"
        }:
            return entries
    if not bodies_equal():
        return entries
    return [_copy(o) for o in old]


def ignore_managed_fields_timestamps(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """The transformer for a caller that changes the object after :func:`apply` (defaulting): if
    ``new`` differs from ``old`` only in managedFields timestamps, ``new`` gets the old ones."""
    meta = new.get("metadata")
    if type(meta) is dict and isinstance(meta.get("managedFields"), list):
        old_entries = (old.get("metadata") or {}).get("managedFields")
        meta["managedFields"] = _keep_old_times(
            meta["managedFields"], old_entries, lambda: _body(new) == _body(old)
        )
    return new


def _last_applied(config: dict[str, Any]) -> str:
    """lastappliedupdater.go buildLastApplied: the applied object without the annotation, as
    json.Encoder writes it (sorted keys, trailing newline)."""
    obj = dict(config)
    meta = obj.get("metadata")
    if type(meta) is dict and type(meta.get("annotations")) is dict:
        annotations = {k: v for k, v in meta["annotations"].items() if k != LAST_APPLIED}
        obj["metadata"] = {**meta, "annotations": annotations}
    return go_json(obj) + "\n"


def _allowed_by_last_applied(
    live: dict[str, Any] | None, t: _Type, api_version: str
) -> frozenset[Path] | None:
    """lastappliedmanager.go: for ``kubectl``, conflicts on fields its last-applied annotation set
    to their current value are not conflicts (upgrade from client-side apply). None: no annotation."""
    annotations = ((live or {}).get("metadata") or {}).get("annotations")
    text = annotations.get(LAST_APPLIED) if type(annotations) is dict else None
    if not text or live is None:
        return None
    try:
        last = json.loads(text)
        if type(last) is not dict or last.get("apiVersion") != api_version:
            return None
        fields: set[Path] = set()
        _collect(last, t, (), fields, named=False, strict=True)
    except (ValueError, SchemaError):
        return None
    c = _compare(last, live, t)
    return frozenset(fields - c.modified - c.added - c.removed)
