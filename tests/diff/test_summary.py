"""explain() and unified(): what changed, for people."""

from __future__ import annotations

import copy
from typing import Any

from gitops import diff
from gitops.model import ResourceKey

KEY = ResourceKey("apps", "Deployment", "shop", "web")


def dep(containers: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"template": {"spec": {"containers": containers}}, **spec},
    }


def test_scalar_changes_read_old_to_new() -> None:
    live = dep([{"name": "web", "image": "nginx:1.25"}], replicas=2)
    want = dep([{"name": "web", "image": "nginx:1.26"}], replicas=3)
    assert diff.explain(want, live) == (
        "spec.replicas: 2 -> 3",
        "spec.template.spec.containers[name=web].image: nginx:1.25 -> nginx:1.26",
    )


def test_list_items_are_named_by_their_key_not_their_position() -> None:
    live = dep([{"name": "web", "image": "a", "ports": [{"containerPort": 80, "protocol": "TCP"}]}])
    want = dep(
        [
            {"name": "init", "image": "x"},
            {"name": "web", "image": "a", "ports": [{"containerPort": 80, "protocol": "UDP"}]},
        ]
    )
    assert diff.explain(want, live) == (
        "spec.template.spec.containers[name=init]: added",
        "spec.template.spec.containers[name=web].ports[containerPort=80,protocol=TCP]: removed",
        "spec.template.spec.containers[name=web].ports[containerPort=80,protocol=UDP]: added",
    )


def test_a_reordering_is_reported_once() -> None:
    live = dep([{"name": "a", "image": "1"}, {"name": "b", "image": "1"}])
    want = dep([{"name": "b", "image": "1"}, {"name": "a", "image": "1"}])
    assert diff.explain(want, live) == ("spec.template.spec.containers: order changed",)


def test_lists_without_identity_are_compared_by_position() -> None:
    live = dep([{"name": "web", "image": "a", "args": ["--a", "--b"]}])
    want = dep([{"name": "web", "image": "a", "args": ["--a", "--c", "--d"]}])
    assert diff.explain(want, live) == (
        "spec.template.spec.containers[name=web].args[1]: --b -> --c",
        "spec.template.spec.containers[name=web].args[2]: <none> -> --d",
    )


def test_new_maps_of_scalars_list_each_key_and_odd_keys_are_quoted() -> None:
    live = dep([])
    want = copy.deepcopy(live)
    want["metadata"]["labels"] = {"app.kubernetes.io/name": "web", "tier": "1"}
    assert diff.explain(want, live) == (
        "metadata.labels.tier: <none> -> '1'",
        'metadata.labels["app.kubernetes.io/name"]: <none> -> web',
    )


def test_type_changes_are_visible() -> None:
    live = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"port": 80, "flag": True},
    }
    want = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"port": "80", "flag": "true"},
    }
    assert diff.explain(want, live) == ("spec.flag: true -> 'true'", "spec.port: 80 -> '80'")


def test_long_and_multiline_values_say_changed() -> None:
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"a": "x\ny\n", "b": "z" * 100},
    }
    new = copy.deepcopy(cm)
    new["data"] = {"a": "x\nq\n", "b": "w" * 100}
    assert diff.explain(new, cm) == ("data.a: changed", "data.b: changed")


def test_the_summary_is_capped() -> None:
    live = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}
    want = copy.deepcopy(live)
    want["data"] = {f"k{i:03}": "v" for i in range(150)}
    summary = diff.explain(want, live, limit=20)
    assert len(summary) == 20
    assert summary[-1] == "... and 131 more changes"


def test_unified_is_empty_for_equal_views() -> None:
    v = dep([{"name": "web", "image": "a"}])
    assert diff.unified(KEY, v, copy.deepcopy(v)) == ""


def test_unified_uses_a_stable_key_order_whatever_the_input_order() -> None:
    live = dep([{"image": "a", "name": "web"}], replicas=1)
    want = dep([{"name": "web", "image": "b"}], replicas=1)
    shuffled = {k: want[k] for k in reversed(list(want))}
    text = diff.unified(KEY, shuffled, live)
    assert text == diff.unified(KEY, want, live)
    assert text.splitlines()[:2] == ["--- Deployment/shop/web (live)", "+++ Deployment/shop/web (git)"]
    body = [line for line in text.splitlines()[3:]]
    assert "-        image: a" in body and "+        image: b" in body
    assert "       - name: web" in body  # name first in list items, unchanged context
    whole = diff.unified(KEY, shuffled, live, context=100)
    assert whole.index("apiVersion") < whole.index("kind") < whole.index("metadata") < whole.index("spec")


def test_unified_shows_creates_and_prunes_against_nothing() -> None:
    v = dep([{"name": "web", "image": "a"}])
    created = diff.unified(KEY, v, None)
    assert created.startswith("--- /dev/null\n+++ Deployment/shop/web (git)\n")
    assert all(line.startswith(("+", "@", "-", " ")) for line in created.splitlines())
    pruned = diff.unified(KEY, None, v)
    assert pruned.startswith("--- Deployment/shop/web (live)\n+++ /dev/null\n")


def test_unified_prints_multiline_strings_as_blocks() -> None:
    cm: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"app.yaml": "a: 1\nb: 2\n"},
    }
    new = copy.deepcopy(cm)
    new["data"]["app.yaml"] = "a: 1\nb: 3\n"
    text = diff.unified(ResourceKey("", "ConfigMap", "", "c"), new, cm)
    assert "-    b: 2\n" in text and "+    b: 3\n" in text
