"""The two comparable views of an object: what Git asks for, and what of the live object Git
governs (pure). The rules are documented once, in the package docstring (``gitops.diff``)."""

from __future__ import annotations

import base64
import binascii
import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from gitops.diff import fields, quantity
from gitops.errors import ConfigError
from gitops.model import ResourceKey

LAST_APPLIED: Final = "kubectl.kubernetes.io/last-applied-configuration"

# Written by the API server, never by an applier (ObjectMeta in apimachinery's meta/v1 types.go).
SERVER_METADATA: Final = frozenset(
    {
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    }
)

# API groups served by kube-apiserver itself; every other group is a custom resource's.
BUILTIN_GROUPS: Final = frozenset(
    {
        "",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "apps",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "internal.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
        "storagemigration.k8s.io",
    }
)

# Key fields a list item may leave to the server's defaults (container and Service ports).
_KEY_DEFAULTS: Final = {"protocol": "TCP"}

# Associative lists of built-in kinds by field name (K8S-API.md §5.4), used only when no
# managedFields entry tells how a list's items are addressed (objects without managedFields).
_FALLBACK_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "imagePullSecrets": ("name",),
    "resourceClaims": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "hostAliases": ("ip",),
    "conditions": ("type",),
    "ownerReferences": ("uid",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
}

# ResourceList maps (every value a quantity, rounded up to milli by SetDefaults_ResourceList),
# found by the keys that lead to them: (parent key, key); "*" matches any parent.
_RESOURCE_LISTS: Final = {
    ("resources", "limits"),
    ("resources", "requests"),
    ("*", "overhead"),
    ("overhead", "podFixed"),
}
_KIND_RESOURCE_LISTS: Final[dict[str, frozenset[tuple[str, str]]]] = {
    "ResourceQuota": frozenset({("spec", "hard")}),
    "LimitRange": frozenset(
        {("limits", k) for k in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio")}
    ),
    "PersistentVolume": frozenset({("spec", "capacity")}),
    "VolumeAttachment": frozenset({("inlineVolumeSpec", "capacity")}),
}
# Single quantity fields: (key of the holding struct, field); "" is the object's top level.
_QUANTITY_FIELDS: Final = {("emptyDir", "sizeLimit"), ("resourceFieldRef", "divisor")}
_KIND_QUANTITY_FIELDS: Final[dict[str, frozenset[tuple[str, str]]]] = {
    "HorizontalPodAutoscaler": frozenset({("target", "value"), ("target", "averageValue")}),
    "CSIStorageCapacity": frozenset({("", "capacity"), ("", "maximumVolumeSize")}),
}


class IgnoreSpec(Protocol):
    """What ``normalize`` needs of an ignore rule; ``gitops.config.IgnoreDifference`` has it too."""

    @property
    def json_pointers(self) -> tuple[str, ...]: ...
    @property
    def group(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class IgnoreRule:
    """Fields an app tells the diff to leave alone (``ignoreDifferences``), for the objects whose
    group, kind, namespace and name match the glob patterns (``*`` matches all, the core group is
    ``""``). Pointers are RFC 6901 (``/metadata/annotations/example.com~1note``); a ``*``
    segment matches every key or list index (``/spec/template/spec/containers/*/image``).
    Raises ConfigError for a pointer that does not start with ``/``."""

    json_pointers: tuple[str, ...]
    group: str = "*"
    kind: str = "*"
    namespace: str = "*"
    name: str = "*"

    def __post_init__(self) -> None:
        for p in self.json_pointers:
            if not p.startswith("/"):
                raise ConfigError(f"ignoreDifferences: JSON pointer {p!r} must start with '/' (RFC 6901)")


def rule_matches(rule: IgnoreSpec, key: ResourceKey) -> bool:
    """True when ``rule`` applies to the object ``key``."""
    return (
        fnmatch.fnmatchcase(key.group, rule.group)
        and fnmatch.fnmatchcase(key.kind, rule.kind)
        and fnmatch.fnmatchcase(key.namespace, rule.namespace)
        and fnmatch.fnmatchcase(key.name, rule.name)
    )


def normalize(
    desired: Mapping[str, Any],
    live: Mapping[str, Any] | None,
    *,
    manager: str = "gitops",
    ignore: Sequence[IgnoreSpec] = (),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The desired and live views of one object, ready to compare (``{}`` for a missing live
    object). Inputs are not modified; the views share nothing with them."""
    key = ResourceKey.of(desired)
    want = prepare(desired, key.group, key.kind)
    have: Any = {}
    if live is not None:
        prepared = prepare(live, key.group, key.kind)
        # An empty tree says nothing; dropping it keeps the top level from looking atomic.
        own = tuple(t for t in fields.trees(live, manager=manager, operation=fields.APPLY) if t)
        every = tuple(t for t in fields.trees(live) if t)
        walk = _Walk(key.group in BUILTIN_GROUPS, key.kind)
        have = walk.keep(prepared, want, own, every, "")
    pointers = [p for rule in ignore if rule_matches(rule, key) for p in rule.json_pointers]
    for p in pointers:
        segments = [s.replace("~1", "/").replace("~0", "~") for s in p.split("/")[1:]]
        remove_pointer(want, segments)
        remove_pointer(have, segments)
    view_want = compact(want)
    view_have = compact(have)
    return (
        view_want if isinstance(view_want, dict) else {},
        view_have if isinstance(view_have, dict) else {},
    )


# --------------------------------------------------------------------------- one side


def prepare(obj: Mapping[str, Any], group: str, kind: str) -> dict[str, Any]:
    """A plain copy of ``obj`` without status and server-written metadata, with quantities in
    one spelling, whole floats as ints and (Secrets) ``stringData`` folded into ``data``."""
    builtin = group in BUILTIN_GROUPS
    top_quantities = _KIND_QUANTITY_FIELDS.get(kind, frozenset()) if builtin else frozenset()
    out: dict[str, Any] = {}
    for k, v in obj.items():
        k = str(k)
        if k == "status":
            continue
        if k == "metadata" and isinstance(v, Mapping):
            out[k] = _metadata(v)
        elif ("", k) in top_quantities:
            out[k] = quantity.normalize(v)
        else:
            out[k] = _copy(v, k, "", kind if builtin else None)
    if builtin and group == "" and kind == "Secret":
        fold_string_data(out)
        _canonical_base64(out.get("data"))
    elif builtin and group == "" and kind == "ConfigMap":
        _canonical_base64(out.get("binaryData"))
    return out


def _metadata(meta: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in meta.items():
        k = str(k)
        if k in SERVER_METADATA:
            continue
        if k == "annotations" and isinstance(v, Mapping):
            out[k] = {str(a): _copy(x, a, k, None) for a, x in v.items() if a != LAST_APPLIED}
        else:
            out[k] = _copy(v, k, "metadata", None)
    return out


def _copy(value: Any, key: str, parent: str, kind: str | None) -> Any:
    """A deep copy with str keys and whole floats as ints; for a built-in ``kind`` (None for
    custom resources, whose fields the server never rewrites), quantities are canonicalized by
    where they sit (``key`` is the field holding ``value``, ``parent`` the field holding that)."""
    t = type(value)
    if t is dict or (t is not list and isinstance(value, Mapping)):
        if kind is None:
            return {str(k): _copy(v, str(k), key, None) for k, v in value.items()}
        resource_list = (parent, key) in _RESOURCE_LISTS or ("*", key) in _RESOURCE_LISTS
        if not resource_list and kind in _KIND_RESOURCE_LISTS:
            resource_list = (parent, key) in _KIND_RESOURCE_LISTS[kind]
        single = _KIND_QUANTITY_FIELDS.get(kind, frozenset())
        out: dict[str, Any] = {}
        for k, v in value.items():
            k = str(k)
            if resource_list and not isinstance(v, (dict, list, Mapping)):
                out[k] = quantity.normalize(v, resource_list=True)
            elif (key, k) in _QUANTITY_FIELDS or (key, k) in single:
                out[k] = quantity.normalize(v)
            else:
                out[k] = _copy(v, k, key, kind)
        return out
    if t is list:
        # List items sit under the list's own field name: spec.limits[0].max -> ("limits", "max").
        return [_copy(v, key, parent, kind) for v in value]
    if t is float and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def fold_string_data(secret: dict[str, Any]) -> None:
    """Merge a Secret's write-only ``stringData`` into ``data`` (base64), in place, as the API
    server does on every write; ``stringData`` wins over ``data`` for the same key."""
    string_data = secret.pop("stringData", None)
    if not isinstance(string_data, Mapping) or not string_data:
        return
    data = secret.get("data")
    if not isinstance(data, dict):
        data = secret["data"] = {}
    for k, v in string_data.items():
        data[str(k)] = base64.b64encode(v.encode()).decode("ascii") if isinstance(v, str) else v


def _canonical_base64(data: Any) -> None:
    """Re-encode base64 values the way the server prints them (it decodes ``[]byte`` fields,
    skipping line breaks, and encodes them back with padding). Invalid values stay as they are,
    for the server to reject."""
    if not isinstance(data, dict):
        return
    for k, v in data.items():
        if isinstance(v, str):
            try:
                raw = base64.b64decode(v.replace("\n", "").replace("\r", ""), validate=True)
            except (binascii.Error, ValueError):
                continue
            data[k] = base64.b64encode(raw).decode("ascii")


# ------------------------------------------------------------------- the ownership rule


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()


def _zero(value: Any) -> bool:
    return value is False or value == "" or (type(value) in (int, float) and value == 0)


@dataclass(frozen=True)
class _Walk:
    """Prunes a prepared live object to the fields Git sets or ``manager`` applied."""

    builtin: bool
    kind: str

    def keep(self, live: Any, want: Any, own: fields.Nodes, every: fields.Nodes, name: str) -> Any:
        """The part of ``live`` to compare with ``want`` (MISSING when Git does not set it and
        ``manager`` does not own it). Called where ``want`` is set or ``own`` is non-empty.
        ``want`` may be edited: zero values the server dropped are removed from it."""
        t = type(live)
        if t is dict:
            if want is not MISSING and type(want) is not dict:
                return live  # Git sets another type here: the whole value is compared
            if (want is MISSING or want) and fields.is_leaf(every):
                # Owned as one value: an atomic struct (a LabelSelector, a fieldRef), or a value
                # we applied and Git dropped. An empty map in Git ("{}") owned as a leaf is no
                # evidence of atomicity, so it recurses below.
                return _owned_whole(live, want) if own and want is not MISSING else live
            wanted: dict[str, Any] = want if isinstance(want, dict) else {}
            out: dict[str, Any] = {}
            child = fields.child
            hits = 0  # keys of ``wanted`` found in ``live``
            for k, v in live.items():
                w = wanted.get(k, MISSING)
                if w is not MISSING:
                    hits += 1
                if own:
                    c_own = child(own, "f:" + k)
                    if w is MISSING and not c_own:
                        continue
                elif w is MISSING:
                    continue
                else:
                    c_own = ()
                if type(v) is not dict and type(v) is not list:
                    out[k] = v  # a scalar that Git sets or we own: nothing to prune below it
                    continue
                r = self.keep(v, w, c_own, child(every, "f:" + k), k)
                if r is not MISSING:
                    out[k] = r
            if own and len(wanted) > hits:
                for k in [k for k in wanted if k not in live]:
                    c_own = child(own, "f:" + k)
                    if c_own:
                        _drop_owned_zeroes(wanted, k, c_own)
            return out
        if t is list:
            if want is not MISSING and type(want) is not list:
                return live
            if own and want is not MISSING and fields.is_leaf(every):
                return _owned_whole(live, want)  # an atomic list that we applied
            return self._keep_list(live, want, own, every, name)
        return live

    def _keep_list(
        self, live: list[Any], want: Any, own: fields.Nodes, every: fields.Nodes, name: str
    ) -> Any:
        how, names = fields.list_elements(every)
        if how == "unknown":
            how, names = self._fallback(live, want, name)
        wanted: list[Any] = want if isinstance(want, list) else []
        if how == "map" and all(isinstance(i, dict) for i in live):
            # A key field left to its default (a port's protocol) is filled in on both sides, as
            # the server does before it names the item in managedFields.
            defaults = {k: v for k, v in _KEY_DEFAULTS.items() if k in names}
            by_key: dict[Any, Any] = {}
            for item in wanted:
                if isinstance(item, dict):
                    by_key.setdefault(fields.item_key({**defaults, **item}, names), item)
            own_items = _index(own, fields.parse_key)
            every_items = _index(every, fields.parse_key)
            out: list[Any] = []
            for item in live:
                ik = fields.item_key({**defaults, **item} if defaults else item, names)
                w = by_key.get(ik, MISSING)
                c_own = own_items.get(ik, ())
                if w is MISSING and not c_own:
                    continue
                r = self.keep(item, w, c_own, every_items.get(ik, ()), name)
                if r is not MISSING:
                    out.append(r)
            return out
        if how == "set":
            values = {fields.canonical_value(v) for v in wanted}
            owned = {e for n in own for e in n if e.startswith("v:")}
            owned_values = {fields.parse_value(e) for e in owned}
            return [v for v in live if (c := fields.canonical_value(v)) in values or c in owned_values]
        # Atomic, positional or not understood: the list is compared whole.
        return live

    def _fallback(self, live: list[Any], want: Any, name: str) -> tuple[str, tuple[str, ...]]:
        """How to address list items when no managedFields entry says (built-in kinds only)."""
        if not self.builtin:
            return "atomic", ()
        if name == "finalizers":
            return "set", ()
        if name == "ports":
            items = [i for i in [*live, *(want if isinstance(want, list) else [])] if isinstance(i, dict)]
            if any("containerPort" in i for i in items):
                return "map", ("containerPort", "protocol")
            if self.kind == "Service":
                return "map", ("port", "protocol")
            return "atomic", ()
        keys = _FALLBACK_KEYS.get(name)
        return ("map", keys) if keys else ("atomic", ())


def _owned_whole(live: Any, want: Any) -> Any:
    """An atomic value that we own and Git sets. Owning it whole means nobody changed it since
    our apply (a change takes the ownership away, K8S-API.md §5.2), so what Git does not set in
    it was filled in by the server: ``fieldRef.apiVersion``, a NetworkPolicy port's
    ``protocol``. Keep what Git sets, matching list items by position; a list whose length
    differs from Git's is compared whole. If someone else owns an atomic value, it is compared
    whole instead: they changed it, and that is drift."""
    if isinstance(live, dict) and isinstance(want, dict):
        for k in [k for k in want if k not in live]:
            if _zero(want[k]):
                del want[k]  # a zero value the server omitted
        return {k: _owned_whole(v, want[k]) for k, v in live.items() if k in want}
    if isinstance(live, list) and isinstance(want, list) and len(live) == len(want):
        return [_owned_whole(v, w) for v, w in zip(live, want, strict=True)]
    return live


def _index(nodes: fields.Nodes, parse: Any) -> dict[Any, fields.Nodes]:
    out: dict[Any, list[Mapping[str, Any]]] = {}
    for n in nodes:
        for element, sub in n.items():
            key = parse(element)
            if key is not None and isinstance(sub, Mapping):
                out.setdefault(key, []).append(sub)
    return {k: tuple(v) for k, v in out.items()}


def _drop_owned_zeroes(holder: dict[str, Any], key: str, own: fields.Nodes) -> None:
    """Git sets ``holder[key]`` and we applied it, yet the live object lacks it: the server
    dropped a zero value (Go's ``omitempty``: ``paused: false``, ``minReadySeconds: 0``,
    ``subPath: ""``). Drop the zero values Git sets there too, so they are not a difference."""
    value = holder[key]
    if _zero(value):
        del holder[key]
    elif isinstance(value, dict):
        for k in list(value):
            c_own = fields.child(own, "f:" + k)
            if c_own:
                _drop_owned_zeroes(value, k, c_own)


# ----------------------------------------------------------------------------- helpers


def compact(value: Any) -> Any:
    """``value`` without nulls, empty maps and empty lists (MISSING when nothing is left). The
    server omits most of them and treats the rest as absent; list items are kept in place."""
    t = type(value)
    if t is dict:
        out = {}
        for k, v in value.items():
            c = compact(v)
            if c is not MISSING:
                out[k] = c
        return out if out else MISSING
    if t is list:
        if not value:
            return MISSING
        items = []
        for v in value:
            c = compact(v)
            items.append(v if c is MISSING else c)
        return items
    return MISSING if value is None else value


def remove_pointer(node: Any, segments: list[str]) -> None:
    """Remove what an RFC 6901 pointer (as unescaped segments) addresses, in place; a ``*``
    segment matches every key or index. Paths that do not exist are ignored."""
    if not segments:
        return
    head, rest = segments[0], segments[1:]
    if isinstance(node, dict):
        keys = list(node) if head == "*" else ([head] if head in node else [])
        for k in keys:
            if rest:
                remove_pointer(node[k], rest)
            else:
                del node[k]
    elif isinstance(node, list):
        if head == "*":
            indexes = list(range(len(node)))
        elif head.isdigit() and (head == "0" or not head.startswith("0")) and int(head) < len(node):
            indexes = [int(head)]
        else:
            indexes = []
        if rest:
            for i in indexes:
                remove_pointer(node[i], rest)
        else:
            for i in sorted(indexes, reverse=True):
                del node[i]
