"""Validation of a desired set: every problem at once, namespaces applied, scopes from the cluster
or from CRDs in the set, names by kind, optional strict schemas; never a Secret value in a message."""

from __future__ import annotations

from typing import Any

import pytest

from gitops import errors, manifests
from gitops.manifests import names, reader
from gitops.model import Origin, Resource
from tests.manifests.conftest import cluster_scope


def res(body: dict[str, Any], path: str = "app.yaml", index: int = 0, line: int = 1) -> Resource:
    # as load makes them: a key even for a malformed body (Resource.of needs a mapping metadata)
    return Resource(reader.key_of(body), body, Origin(path, index, line))


def cm(name: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, **extra}


def check(*bodies: dict[str, Any], schema: bool = True) -> list[str]:
    """The problems validation finds, as printed."""
    try:
        manifests.validate(
            [res(b, line=i + 1) for i, b in enumerate(bodies)], scope=cluster_scope, schema=schema
        )
    except manifests.ManifestError as e:
        return [str(p) for p in e.problems]
    return []


def test_default_namespace_is_applied_to_namespaced_objects_only_and_inputs_are_untouched() -> None:
    body = cm("a")
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    out = manifests.validate(
        [res(body), res(ns), res(cm("b", "other"))], scope=cluster_scope, default_namespace="shop"
    )
    assert [str(r.key) for r in out] == ["ConfigMap/shop/a", "Namespace/shop", "ConfigMap/other/b"]
    assert out[0].body["metadata"] == {"name": "a", "namespace": "shop"}
    assert body["metadata"] == {"name": "a"}  # the loaded body is not changed
    assert out[0].origin == Origin("app.yaml", 0, 1)


def test_every_problem_of_every_object_is_listed_in_order() -> None:
    found = check(
        {"kind": "ConfigMap", "metadata": {"name": "a"}},
        cm("B_ad"),
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "namespace": "y"}},
    )
    assert found == [
        "app.yaml (document 1, line 1): ConfigMap/a: apiVersion is missing",
        "app.yaml (document 1, line 2): ConfigMap/B_ad: metadata.name: invalid ConfigMap name: a lowercase RFC 1123 "
        "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'example.com')",
        "app.yaml (document 1, line 3): Namespace/y/x: Namespace is cluster-scoped and cannot have metadata.namespace",
    ]


def test_manifest_error_str_lists_one_problem_per_line_and_whole_file_problems_without_line() -> None:
    error = errors.ManifestError(
        [
            errors.Problem(Origin("a.yaml", 2, 7), None, "first"),
            errors.Problem(Origin("dir/b.yaml", 0, 0), None, "second"),
        ]
    )
    assert str(error) == "a.yaml (document 3, line 7): first\ndir/b.yaml: second"
    assert error.exit_code == 2 and isinstance(error, errors.GitopsError)


def test_duplicates_are_found_after_namespaces_are_applied() -> None:
    found = check(cm("a"), cm("a", "default"), cm("a", "other"))
    assert found == [
        "app.yaml (document 1, line 2): ConfigMap/default/a: duplicate object: also defined at "
        "app.yaml (document 1, line 1)"
    ]


def test_versions_are_not_identity_so_two_versions_of_one_object_are_duplicates() -> None:
    web = {"kind": "Deployment", "metadata": {"name": "web"}}
    with pytest.raises(manifests.ManifestError) as e:
        manifests.validate(
            [res({"apiVersion": "apps/v1", **web}), res({"apiVersion": "apps/v1beta2", **web}, line=9)],
            scope=lambda group, version, kind: "Namespaced",
            schema=False,
        )
    assert [str(p) for p in e.value.problems] == [
        "app.yaml (document 1, line 9): Deployment/default/web: duplicate object: also defined at "
        "app.yaml (document 1, line 1)"
    ]


def test_unknown_kind_unless_a_crd_in_the_set_defines_it() -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Cluster",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    }
    assert check(widget) == [
        "app.yaml (document 1, line 1): Widget.example.com/w: unknown kind: the cluster serves no Widget in "
        "example.com/v1, and no CustomResourceDefinition in this set defines it"
    ]
    assert check(widget, crd) == []
    # the CRD says Cluster: a namespace is refused, none is defaulted
    assert check({**widget, "metadata": {"name": "w", "namespace": "x"}}, crd)[0].endswith(
        "Widget is cluster-scoped and cannot have metadata.namespace"
    )
    bad_name = {**crd, "metadata": {"name": "widgets"}}
    assert any("must be spec.names.plural" in p for p in check(bad_name))


@pytest.mark.parametrize(
    ("group", "kind", "name", "valid"),
    [
        ("rbac.authorization.k8s.io", "ClusterRole", "system:controller:web", True),
        ("rbac.authorization.k8s.io", "ClusterRole", "a/b", False),
        ("", "Service", "web-1", True),
        ("", "Service", "1web", False),
        ("", "Service", "web.internal", False),
        ("", "Namespace", "team-a", True),
        ("", "Namespace", "team.a", False),
        ("", "ConfigMap", "app.config", True),
        ("", "ConfigMap", "a" * 254, False),
        ("", "Namespace", "a" * 64, False),
        ("", "ConfigMap", "..", False),
        ("example.com", "Widget", "my.widget-1", True),
    ],
)
def test_names_follow_the_rule_of_their_kind(group: str, kind: str, name: str, valid: bool) -> None:
    assert (names.object_name(group, kind, name) == []) is valid


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("app", True),
        ("app.kubernetes.io/name", True),
        ("a/b/c", False),
        ("/x", False),
        ("-x", False),
        ("", False),
    ],
)
def test_label_keys(key: str, valid: bool) -> None:
    assert (names.qualified_name(key) == []) is valid


def test_schema_validation_is_strict_and_optional() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "creationTimestamp": None},
        "spec": {
            "replicas": "three",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"spec": {"containers": [{"image": "nginx", "resources": {"limits": {"cpu": 1}}}]}},
            "strategy": {"type": "Sideways"},
            "unknown": True,
        },
    }
    assert check(deployment) == [
        "app.yaml (document 1, line 1): Deployment/web: spec.replicas: expected integer, got string",
        "app.yaml (document 1, line 1): Deployment/web: spec.template.spec.containers[0].name: required field is missing",
        "app.yaml (document 1, line 1): Deployment/web: spec.unknown: unknown field",
    ]
    assert check(deployment, schema=False) == []


def test_secret_values_never_appear_in_any_message() -> None:
    seeded = ["p@ssw0rd-value", "c2VjcmV0-but-bad!", "424242"]
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "labels": {"bad key": "x"}},
        "data": {"password": seeded[1], "bad key!": "YQ=="},
        "stringData": {"pin": 424242, "nested": {"deep": seeded[0]}, "list": [seeded[0]]},
        "typo": seeded[0],
    }
    found = "\n".join(check(secret))
    assert "data.password: not valid base64; use stringData for plain text" in found
    assert "stringData.pin: expected string, got integer" in found
    assert "typo: unknown field" in found
    for value in seeded:
        assert value not in found


def test_configmap_keys_and_binary_data() -> None:
    found = check(cm("c", data={"ok.key": "v", "a": "x"}, binaryData={"a": "%%%"}))
    assert found == [
        "app.yaml (document 1, line 1): ConfigMap/c: binaryData.a: not valid base64",
        "app.yaml (document 1, line 1): ConfigMap/c: binaryData.a: duplicate of key 'a' in data",
    ]


def test_malformed_metadata_and_fields_are_reported_not_crashed_on() -> None:
    found = check(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": ["x"]},
        {"apiVersion": 1, "kind": {"a": 1}, "metadata": {"name": 5}},
        {
            "apiVersion": "a/b/c",
            "kind": "X",
            "metadata": {"name": "x", "labels": "l", "annotations": {"k": 1}},
        },
    )
    assert [p.split(": ", 1)[1] for p in found] == [
        "metadata must be a mapping",
        "apiVersion must be a string",
        "kind must be a string",
        "metadata.name must be a string",
        "X/x: apiVersion must be 'version' or 'group/version'",
        "X/x: metadata.labels must be a mapping",
        "X/x: metadata.annotations.k: must be a string",
    ]


def test_public_api() -> None:
    assert manifests.__all__ == ["LoadOptions", "ManifestError", "Problem", "Scope", "load", "validate"]
    options = manifests.LoadOptions()
    assert (options.max_file_bytes, options.max_documents, options.kustomize_timeout) == (
        5 * 1024 * 1024,
        10_000,
        60,
    )


def test_schema_problems_are_remembered_by_content_not_by_object() -> None:
    from gitops.manifests import schema

    bad = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x"},
        "data": {"a": 1},
        "extra": True,
    }
    first = schema.problems("", "v1", "ConfigMap", bad)
    assert first and any("extra" in p for p in first)
    hits = schema._CACHE.hits
    assert schema.problems("", "v1", "ConfigMap", dict(bad)) == first  # an equal body: a cache hit
    assert schema._CACHE.hits == hits + 1
    fixed = {k: v for k, v in bad.items() if k != "extra"}
    assert not any("extra" in p for p in schema.problems("", "v1", "ConfigMap", fixed))
    # Not plain JSON data (a non-string key): validated directly, same messages as before.
    odd = {**bad, "data": {1: "x"}}
    assert schema.problems("", "v1", "ConfigMap", odd)
