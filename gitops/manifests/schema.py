"""Schema validation of built-in kinds against Kubernetes 1.32's OpenAPI schemas, shipped by the
``kubernetes-validate`` package, in strict mode: an unknown field is an error, as the API
server's strict field validation (kubectl's default) makes it (pure: reads package data).

We use the package's schema files with our own jsonschema validator rather than its
``validate()``: that one stops at the first error, re-reads the 1.3 MB definitions on every
call, and its messages quote values. Messages here name the field path and what was expected,
never the value found, so a Secret's data cannot leak through them.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import importlib.resources
import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema
import orjson
import referencing

KUBERNETES_VERSION = "1.32"
_DIR = f"kubernetes-json-schema/v{KUBERNETES_VERSION}.0-local-strict"


@functools.cache
def _registry() -> referencing.Registry[Any]:
    defs = json.loads(
        importlib.resources.files("kubernetes_validate").joinpath(f"{_DIR}/_definitions.json").read_text()
    )
    return referencing.Resource.from_contents(defs) @ referencing.Registry()


@functools.cache
def _validator(group: str, version: str, kind: str) -> jsonschema.protocols.Validator | None:
    """The validator of a built-in kind, or None when 1.32 has no such kind (a custom resource)."""
    prefix = re.sub(r"\..*$", "", group)
    api = f"{prefix}-{version}" if group else version
    ref = importlib.resources.files("kubernetes_validate").joinpath(f"{_DIR}/{kind.lower()}-{api}.json")
    if not ref.is_file():
        return None
    schema = json.loads(ref.read_text())
    gvks = schema.get("x-kubernetes-group-version-kind") or []
    if not any(
        g.get("group") == group and g.get("version") == version and g.get("kind") == kind for g in gvks
    ):
        return None  # the file name maps networking.istio.io to networking.k8s.io's schemas: not ours
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=referencing.Resource.from_contents(schema) @ _registry())


def known(group: str, version: str, kind: str) -> bool:
    return _validator(group, version, kind) is not None


def problems(group: str, version: str, kind: str, body: Mapping[str, Any]) -> list[str]:
    """Every schema violation of ``body``, as ``path: what is wrong`` (no values), in path order.

    Results are remembered by a digest of the body's canonical JSON (a bounded LRU: the digest,
    not the body, so the cache holds no Secret value and little memory): a daemon re-rendering
    an app after a one-file commit validates only what changed (validation is ~1 ms a document,
    the key ~0.03 ms). A body orjson cannot serialise is validated every time."""
    if _validator(group, version, kind) is None:
        return []
    try:
        canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return list(_problems(group, version, kind, body))
    key = (group, version, kind, hashlib.sha256(canonical).digest())
    found = _CACHE.get(key)
    if found is None:
        found = _problems(group, version, kind, body)
        _CACHE.put(key, found)
    return list(found)


class _Lru:
    """A thread-safe bounded LRU map (``hits`` counted for tests)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        self._items: collections.OrderedDict[Any, tuple[str, ...]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> tuple[str, ...] | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
                self.hits += 1
            return value

    def put(self, key: Any, value: tuple[str, ...]) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_CACHE = _Lru(16384)


def _problems(group: str, version: str, kind: str, body: Mapping[str, Any]) -> tuple[str, ...]:
    validator = _validator(group, version, kind)
    assert validator is not None
    out: set[str] = set()
    for error in validator.iter_errors(body):
        out.update(_describe(error))
    return tuple(sorted(out))


def path(parts: Iterable[Any]) -> str:
    text = ""
    for p in parts:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
    return text


_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}


def _type_of(value: Any) -> str:
    return "null" if value is None else _JSON_TYPES.get(type(value), type(value).__name__)


def _types(schema: Any) -> str:
    t = schema.get("type") if isinstance(schema, dict) else None
    names = [t] if isinstance(t, str) else list(t or [])
    return " or ".join(n for n in names if n != "null") or "a different form"


def _describe(error: jsonschema.ValidationError) -> list[str]:
    where = path(error.absolute_path)
    at = f"{where}: " if where else ""
    kind = error.validator
    instance: Any = error.instance
    value: Any = error.validator_value
    if kind == "additionalProperties" and isinstance(instance, dict):
        props = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = sorted(k for k in instance if k not in props)
        return [f"{path([*error.absolute_path, k])}: unknown field" for k in extra]
    if kind == "required" and isinstance(instance, dict):
        return [
            f"{path([*error.absolute_path, k])}: required field is missing"
            for k in value
            if k not in instance
        ]
    if kind == "type":
        return [f"{at}expected {_types(error.schema)}, got {_type_of(instance)}"]
    if kind == "enum":
        allowed = ", ".join(json.dumps(v) for v in value if v is not None)
        return [f"{at}must be one of {allowed}"]
    if kind in ("oneOf", "anyOf") and isinstance(value, list):
        forms = " or ".join(_types(s) for s in value)
        return [f"{at}expected {forms}, got {_type_of(instance)}"]
    if kind in (
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "pattern",
    ):
        return [f"{at}must satisfy {kind} {json.dumps(value)}"]
    return [f"{at}does not satisfy the schema ({kind})"]
