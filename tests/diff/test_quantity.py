"""Quantities compared by value: the parser, the one spelling, and where normalize applies them.

Which fields are quantities is checked against the Kubernetes 1.32 OpenAPI schemas that the
local cluster reads (every ``resource.Quantity`` of every built-in kind), so the path rules in
gitops.diff cannot silently miss one or catch a field that is not a quantity.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitops import diff
from gitops.diff import quantity
from gitops.localcluster import quantity as server_quantity
from gitops.localcluster import schema


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("0.5", "500m"),
        (0.5, "500m"),
        (1, "1"),
        ("1", "1000m"),
        ("1Gi", "1024Mi"),
        ("1Gi", "1073741824"),
        ("1.5Gi", "1536Mi"),
        ("1G", "1000M"),
        ("1e3", "1k"),
        ("1E3", "1000"),
        ("0.1", "100m"),
        ("+2", "2"),
        ("02", "2"),
        ("1.500", "1.5"),
        ("-1", "-1000m"),
        ("0", "0m"),
    ],
)
def test_two_spellings_of_one_value_print_alike(a: object, b: object) -> None:
    assert quantity.normalize(a) == quantity.normalize(b)


@pytest.mark.parametrize(("a", "b"), [("1", "1.001"), ("1Gi", "1G"), ("500m", "0.501"), ("1Ki", "1k")])
def test_different_values_stay_different(a: str, b: str) -> None:
    assert quantity.normalize(a) != quantity.normalize(b)


@pytest.mark.parametrize("bad", ["", "abc", "1.2.3", "1Qi", "1 Gi", True, None, "1e", [1]])
def test_invalid_quantities_are_left_for_the_server_to_reject(bad: Any) -> None:
    with pytest.raises(quantity.QuantityError):
        quantity.parse(bad)
    assert quantity.normalize(bad) == bad


def test_parse_rounds_up_to_nano_units_away_from_zero() -> None:
    assert quantity.parse("0.0000000001") == Fraction(1, 10**9)
    assert quantity.parse("-0.0000000001") == Fraction(-1, 10**9)
    assert quantity.parse("1.5n") == Fraction(2, 10**9)


def test_resource_list_values_round_up_to_milli_as_the_server_defaults_them() -> None:
    assert quantity.normalize("0.0001", resource_list=True) == quantity.normalize("1m")
    assert quantity.normalize("0.0001") != quantity.normalize("1m")


@given(
    st.one_of(
        st.integers(-(10**12), 10**12).map(str),
        st.decimals(min_value=-(10**6), max_value=10**6, places=3, allow_nan=False).map(str),
        st.tuples(
            st.integers(0, 5000), st.sampled_from(["m", "k", "M", "G", "Ki", "Mi", "Gi", "Ti", "e3"])
        ).map(lambda t: f"{t[0]}{t[1]}"),
    )
)
def test_the_servers_spelling_of_any_quantity_prints_like_the_original(text: str) -> None:
    """Whatever the API server writes back (its own canonical text, gitops.localcluster's
    reproduction of resource.Quantity) normalizes to what Git's spelling normalizes to."""
    assert quantity.normalize(server_quantity.canonicalize(text)) == quantity.normalize(text)


# ------------------------------------------------------------- where quantities are


def _quantity_paths(
    node: schema.TypeNode, path: tuple[Any, ...], seen: frozenset[str]
) -> Iterator[tuple[Any, ...]]:
    if node.ref_name == server_quantity.QUANTITY_REF:
        yield path
        return
    if len(path) > 16:
        return
    if node.kind == "struct":
        for name in node.properties:
            if not path and name in ("status", "metadata"):
                continue
            child = node.field(name)
            if child is not None and child.ref_name not in seen:
                yield from _quantity_paths(child, (*path, name), seen | {child.ref_name})
    elif node.kind == "map":
        child = node.field("cpu")
        if child is not None:
            yield from _quantity_paths(child, (*path, "cpu"), seen)
    elif node.kind == "list":
        yield from _quantity_paths(node.items(), (*path, 0), seen)


def _builtin_kinds() -> list[tuple[str, str, str]]:
    skip = {"WatchEvent", "DeleteOptions", "Status", "Scale", "Eviction"}
    return sorted(gvk for gvk in schema._gvk_index() if not gvk[2].endswith("List") and gvk[2] not in skip)


# Quantities no Git manifest sets: status inside a StatefulSet's claim templates, and devices
# that DRA drivers publish. Their spelling is never compared with Git's.
_NOT_FROM_GIT = {
    ("apps", "StatefulSet", "spec.volumeClaimTemplates.0.status"),
    ("resource.k8s.io", "ResourceSlice", "spec.devices.0.basic.capacity"),
}


def _object(group: str, version: str, kind: str, path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": f"{group}/{version}" if group else version, "kind": kind}
    holder: Any = obj
    for i, element in enumerate(path):
        last = i == len(path) - 1
        child: Any = value if last else ([] if path[i + 1] == 0 else {})
        if element == 0:
            holder.append(child)
            holder = holder[-1]
        else:
            holder[element] = child
            holder = child
    obj.setdefault("metadata", {"name": "x"})
    return obj


def _at(view: Any, path: tuple[Any, ...]) -> Any:
    for element in path:
        view = view[element]
    return view


def test_every_quantity_of_every_builtin_kind_is_compared_by_value() -> None:
    checked = 0
    for group, version, kind in _builtin_kinds():
        root = schema.for_kind(group, version, kind)
        assert root is not None
        for path in _quantity_paths(root, (), frozenset({root.ref_name})):
            dotted = ".".join(map(str, path))
            if any(group == g and kind == k and dotted.startswith(p) for g, k, p in _NOT_FROM_GIT):
                continue
            view, _ = diff.normalize(_object(group, version, kind, path, "1.5"), None)
            assert _at(view, path) == "1500m", f"{group}/{version} {kind} {dotted}"
            checked += 1
    assert checked >= 50  # pod templates of every workload kind, quotas, PVs, HPAs...


def _string_paths(
    node: schema.TypeNode, path: tuple[Any, ...], seen: frozenset[str]
) -> Iterator[tuple[Any, ...]]:
    if len(path) > 12 or node.ref_name == server_quantity.QUANTITY_REF:
        return
    if node.kind == "scalar" and node.scalar_types == {"string"}:
        yield path
    elif node.kind == "struct":
        for name in node.properties:
            if not path and name in ("status", "metadata", "apiVersion", "kind"):
                continue
            child = node.field(name)
            if child is not None and child.ref_name not in seen:
                yield from _string_paths(child, (*path, name), seen | {child.ref_name})
    elif node.kind == "map":
        child = node.field("cpu")
        if child is not None:
            yield from _string_paths(child, (*path, "cpu"), seen)
    elif node.kind == "list":
        yield from _string_paths(node.items(), (*path, 0), seen)


@pytest.mark.parametrize(
    ("group", "version", "kind"),
    [
        ("apps", "v1", "Deployment"),
        ("", "v1", "ResourceQuota"),
        ("", "v1", "LimitRange"),
        ("", "v1", "PersistentVolume"),
        ("autoscaling", "v2", "HorizontalPodAutoscaler"),
        ("", "v1", "ConfigMap"),
    ],
)
def test_string_fields_that_are_not_quantities_are_left_alone(group: str, version: str, kind: str) -> None:
    root = schema.for_kind(group, version, kind)
    assert root is not None
    for path in _string_paths(root, (), frozenset({root.ref_name})):
        view, _ = diff.normalize(_object(group, version, kind, path, "1.5"), None)
        assert _at(view, path) == "1.5", ".".join(map(str, path))


def test_custom_resources_keep_their_spelling() -> None:
    """The server never rewrites a custom resource's fields, so neither do we."""
    cr = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"resources": {"limits": {"cpu": "0.5"}}},
    }
    view, _ = diff.normalize(cr, None)
    assert view["spec"]["resources"]["limits"]["cpu"] == "0.5"
