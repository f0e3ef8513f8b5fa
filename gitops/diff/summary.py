"""What changed, for people: a summary of changed paths and a unified YAML diff (pure).

Both take the views of :func:`gitops.diff.normalize` (live = before, desired = after) and mask
Secret values first (``gitops.diff.mask``), so neither ever shows one, in plain text or base64.

Lists whose items all carry a unique identity (``name``, ``mountPath``, ``containerPort``...)
are compared item by item, and their paths name the item: ``containers[name=web].image``, not
``containers[0].image``; a reordering is reported once as ``order changed``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any, Final

import yaml
from deepdiff import DeepDiff

from gitops.diff import mask
from gitops.model import ResourceKey

MAX_SUMMARY: Final = 100
_MAX_VALUE: Final = 60
_MAX_FLAT: Final = 10

# Fields that identify list items, tried in order; the first present in every item of both
# lists, with unique values, names them.
_IDENTITIES: Final[tuple[tuple[str, ...], ...]] = (
    ("name",),
    ("mountPath",),
    ("devicePath",),
    ("containerPort", "protocol"),
    ("port", "protocol"),
    ("ip",),
    ("type",),
    ("uid",),
    ("topologyKey", "whenUnsatisfiable"),
    ("host",),
    ("path", "pathType"),
)


class _Item(str):
    """A list item's label (``[name=web]``) standing in for its index in a path."""

    __slots__ = ()


class _Missing:
    pass


_MISSING: Final = _Missing()


def explain(
    desired_view: Mapping[str, Any], live_view: Mapping[str, Any], *, limit: int = MAX_SUMMARY
) -> tuple[str, ...]:
    """Changed paths, sorted, one line each: ``spec.replicas: 2 -> 3``,
    ``metadata.labels.tier: <none> -> web``, ``spec.template.spec.containers[name=sidecar]: removed``,
    ``data.password: changed`` (Secrets never show values). At most ``limit`` lines; a last
    line says how many more there were."""
    secret = mask.is_secret(desired_view) or mask.is_secret(live_view)
    after = mask.mask_secret(desired_view)
    before = mask.mask_secret(live_view)
    reorders: list[str] = []
    before_k, after_k = _keyed(before, after, (), reorders)
    tree = DeepDiff(before_k, after_k, view="tree", threshold_to_diff_deeper=0)
    lines = [f"{p}: order changed" for p in reorders]
    for report, levels in tree.items():
        for level in levels:
            elements = level.path(output_format="list")
            hidden = secret and bool(elements) and elements[0] in mask.SECRET_FIELDS
            value = level.t2 if report.endswith("_added") else level.t1
            item = bool(elements) and isinstance(elements[-1], _Item)
            if report.startswith("dictionary_item") and not item and _flat(value):
                # A new or dropped map of scalars (labels, annotations): one line per key.
                for k, v in value.items():
                    sub = [*elements, k]
                    lines.append(f"{_path(sub)}: {_describe(report, v, v, hidden)}")
                continue
            lines.append(f"{_path(elements)}: {_describe(report, level.t1, level.t2, hidden)}")
    lines.sort()
    if len(lines) > limit:
        lines = [*lines[: limit - 1], f"... and {len(lines) - limit + 1} more changes"]
    return tuple(lines)


def _flat(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and 0 < len(value) <= _MAX_FLAT
        and not any(isinstance(v, (dict, list)) for v in value.values())
    )


def _describe(report: str, old: Any, new: Any, hidden: bool) -> str:
    if report.endswith("_added"):
        shown = None if hidden else _short(new)
        return "added" if shown is None else f"<none> -> {shown}"
    if report.endswith("_removed"):
        shown = None if hidden else _short(old)
        return "removed" if shown is None else f"{shown} -> <none>"
    if hidden:
        return "changed"
    a, b = _short(old), _short(new)
    if a is None or b is None:
        return "changed"
    return f"{a} -> {b}"


def _short(value: Any) -> str | None:
    """A scalar as one short line; None for structures and long or multi-line text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        if "\n" in value or len(value) > _MAX_VALUE:
            return None
        plain = value and value.strip() == value and not _LOOKS_TYPED.fullmatch(value)
        return value if plain else repr(value)  # quoted when it would read as another type
    return None


_LOOKS_TYPED: Final = re.compile(
    r"[-+]?(\d[\d_]*(\.\d*)?([eE][-+]?\d+)?|\.\d+)|true|false|null|~|yes|no|on|off", re.I
)


def _path(elements: list[Any] | tuple[Any, ...]) -> str:
    out = ""
    for e in elements:
        if isinstance(e, _Item):
            out += e
        elif isinstance(e, int):
            out += f"[{e}]"
        else:
            text = str(e)
            if not text or any(c in text for c in ".[]= "):
                out += f'["{text}"]'
            else:
                out += f".{text}" if out else text
    return out


def _identity(lists: list[list[Any]]) -> tuple[str, ...] | None:
    for fields in _IDENTITIES:
        ok = True
        for items in lists:
            labels = set()
            for item in items:
                if not isinstance(item, dict) or fields[0] not in item:
                    ok = False
                    break
                labels.add(_label(item, fields))
            if not ok or len(labels) != len(items):
                ok = False
                break
        if ok:
            return fields
    return None


def _label(item: Mapping[str, Any], fields: tuple[str, ...]) -> _Item:
    return _Item("[" + ",".join(f"{f}={item[f]}" for f in fields if f in item) + "]")


def _keyed(before: Any, after: Any, path: tuple[Any, ...], reorders: list[str]) -> tuple[Any, Any]:
    """Both sides with identifiable list items turned into maps by label (recursively);
    ``reorders`` collects the paths of lists whose common items changed order."""
    if isinstance(before, dict) or isinstance(after, dict):
        if not (isinstance(before, dict) or before is _MISSING) or not (
            isinstance(after, dict) or after is _MISSING
        ):
            return before, after
        b: dict[Any, Any] = {}
        a: dict[Any, Any] = {}
        bd = before if isinstance(before, dict) else {}
        ad = after if isinstance(after, dict) else {}
        for k in {**bd, **ad}:
            kb, ka = _keyed(bd.get(k, _MISSING), ad.get(k, _MISSING), (*path, k), reorders)
            if kb is not _MISSING:
                b[k] = kb
            if ka is not _MISSING:
                a[k] = ka
        return (b if isinstance(before, dict) else before), (a if isinstance(after, dict) else after)
    if isinstance(before, list) or isinstance(after, list):
        lists = [x for x in (before, after) if isinstance(x, list)]
        if len(lists) != sum(1 for x in (before, after) if x is not _MISSING):
            return before, after  # a list on one side, a scalar on the other
        fields = _identity(lists)
        if fields is None:
            if isinstance(before, list) and isinstance(after, list):
                pairs = [
                    _keyed(x, y, (*path, i), reorders)
                    for i, (x, y) in enumerate(zip(before, after, strict=False))
                ]
                n = len(pairs)
                return [p[0] for p in pairs] + before[n:], [p[1] for p in pairs] + after[n:]
            return before, after
        bl = {_label(i, fields): i for i in before} if isinstance(before, list) else {}
        al = {_label(i, fields): i for i in after} if isinstance(after, list) else {}
        common_b = [k for k in bl if k in al]
        common_a = [k for k in al if k in bl]
        if common_b != common_a:
            reorders.append(_path(path))
        bm, am = _keyed(
            bl if isinstance(before, list) else _MISSING,
            al if isinstance(after, list) else _MISSING,
            path,
            reorders,
        )
        return bm, am
    return before, after


# ------------------------------------------------------------------------------- unified


def unified(
    key: ResourceKey,
    desired_view: Mapping[str, Any] | None,
    live_view: Mapping[str, Any] | None,
    *,
    context: int = 3,
) -> str:
    """A unified diff from the live view to the desired view as YAML, keys in a stable order
    (apiVersion, kind, metadata, spec first; then alphabetical; ``name`` first in list items).
    None for a side means the object is absent there (a create or a prune). Empty when equal."""
    before = _yaml_lines(live_view)
    after = _yaml_lines(desired_view)
    if before == after:
        return ""
    return "".join(
        difflib.unified_diff(
            before,
            after,
            fromfile=f"{key} (live)" if live_view is not None else "/dev/null",
            tofile=f"{key} (git)" if desired_view is not None else "/dev/null",
            n=context,
        )
    )


_TOP_ORDER: Final = ("apiVersion", "kind", "metadata", "spec", "type", "data", "stringData", "binaryData")
_META_ORDER: Final = ("name", "namespace", "labels", "annotations")


def _ordered(value: Any, order: tuple[str, ...] = ()) -> Any:
    if isinstance(value, Mapping):
        keys = [k for k in order if k in value] + sorted((k for k in value if k not in order), key=str)
        return {
            k: _ordered(value[k], _META_ORDER if k == "metadata" and order is _TOP_ORDER else ())
            for k in keys
        }
    if isinstance(value, list):
        return [_ordered(v, ("name",)) for v in value]
    return value


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line strings, so a changed config file diffs line by line."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(_Item, _str)


def _yaml_lines(view: Mapping[str, Any] | None) -> list[str]:
    if view is None:
        return []
    text = yaml.dump(
        _ordered(mask.mask_secret(view), _TOP_ORDER),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=10_000,
    )
    return text.splitlines(keepends=True)
