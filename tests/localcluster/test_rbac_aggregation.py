"""The user-facing ClusterRoles ``admin``, ``edit`` and ``view`` and their aggregation.

Expected behaviour is Kubernetes 1.32's:
- the roles and their rules: ``plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go``
  ClusterRoles(), rendered in ``bootstrappolicy/testdata/cluster-roles.yaml``;
- their rules: ``pkg/controller/clusterroleaggregation/clusterroleaggregation_controller.go``
  (kube-controller-manager), which is why the cluster here runs its controllers;
- what a binding to them allows: ``plugin/pkg/auth/authorizer/rbac/rbac.go``.
Requests go over real HTTPS with ServiceAccount tokens (the official Python client) and kubectl.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from gitops.localcluster import LocalCluster
from gitops.localcluster.controllers.clusterroleaggregation import aggregate_rules
from tests.conftest import Kubectl
from tests.localcluster.test_auth import (  # noqa: F401 (secure is a fixture, used by name)
    RBAC,
    _api,
    _bind,
    _configmap,
    _create,
    _delete,
    _forbidden,
    _sa,
    secure,
)
from tests.waiting import wait_for

AGGREGATE_TO = "rbac.authorization.k8s.io/aggregate-to-"
BOOTSTRAP_LABEL = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AUTOUPDATE = {"rbac.authorization.kubernetes.io/autoupdate": "true"}


@pytest.fixture(scope="module")
def aggregating(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """``secure`` (test_auth.py) with kube-controller-manager's controllers running."""
    kubeconfig = tmp_path_factory.mktemp("aggregating") / "kubeconfig"
    with LocalCluster(kubeconfig=kubeconfig, auth=True, tls=True) as c:
        yield c
        assert c.controllers is not None and c.controllers.errors == []


@pytest.fixture(scope="module")
def admin_kubectl(aggregating: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(aggregating.kubeconfig, tmp_path_factory.mktemp("aggregating-kubectl-home"))


@pytest.fixture
def ns(aggregating: LocalCluster) -> str:
    """A new namespace in the aggregating cluster, for one test."""
    name = f"x-{uuid.uuid4().hex[:8]}"
    _create(aggregating, "", "namespaces", "", {"metadata": {"name": name}})
    return name


def _rules(c: LocalCluster, name: str) -> list[dict[str, Any]]:
    role = c.store.get((RBAC, "clusterroles"), ("", name))
    assert role is not None, name
    return list(role.get("rules") or [])


def _same_rules(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    """Rules compared by content (key order and the client's null fields aside)."""

    def norm(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if v} for r in rules]

    return norm(a) == norm(b)


def _can(api: client.ApiClient, ns: str, verb: str, group: str, resource: str) -> bool:
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"namespace": ns, "verb": verb, "group": group, "resource": resource}},
    }
    return bool(client.AuthorizationV1Api(api).create_self_subject_access_review(review).status.allowed)


# ------------------------------------------------------------------------------ bootstrap


def test_bootstrap_roles_carry_the_policy_metadata(aggregating: LocalCluster) -> None:
    # policy.go: admin/edit/view select by label and chain view -> edit -> admin; the
    # system:aggregate-to-* roles hold the rules; addClusterRoleLabel adds the bootstrap label
    # and the autoupdate annotation to every one.
    expected = {
        "admin": ({}, "admin"),
        "edit": ({f"{AGGREGATE_TO}admin": "true"}, "edit"),
        "view": ({f"{AGGREGATE_TO}edit": "true"}, "view"),
    }
    for name, (labels, selects) in expected.items():
        role = aggregating.store.get((RBAC, "clusterroles"), ("", name))
        assert role is not None
        assert role["metadata"]["labels"] == {**BOOTSTRAP_LABEL, **labels}
        assert role["metadata"]["annotations"] == AUTOUPDATE
        assert role["aggregationRule"] == {
            "clusterRoleSelectors": [{"matchLabels": {f"{AGGREGATE_TO}{selects}": "true"}}]
        }
    for suffix in ("admin", "edit", "view"):
        role = aggregating.store.get((RBAC, "clusterroles"), ("", f"system:aggregate-to-{suffix}"))
        assert role is not None
        assert role["metadata"]["labels"] == {**BOOTSTRAP_LABEL, f"{AGGREGATE_TO}{suffix}": "true"}
        assert role["metadata"]["annotations"] == AUTOUPDATE
        assert "aggregationRule" not in role


def test_without_controllers_aggregated_roles_stay_empty(secure: LocalCluster) -> None:  # noqa: F811
    # No kube-controller-manager, no clusterrole-aggregation controller: rules stay null
    # (testdata/cluster-roles.yaml renders them as `rules: null`).
    for name in ("admin", "edit", "view"):
        role = secure.store.get((RBAC, "clusterroles"), ("", name))
        assert role is not None and role["rules"] is None


def test_kubectl_shows_view_edit_and_admin_aggregated(
    aggregating: LocalCluster, admin_kubectl: Kubectl
) -> None:
    # clusterroleaggregation_controller.go syncClusterRole: per selector, the matching roles by
    # name, their rules in order, duplicates dropped. view <- system:aggregate-to-view;
    # edit <- system:aggregate-to-edit, view; admin <- edit, system:aggregate-to-admin.
    to_view = _rules(aggregating, "system:aggregate-to-view")
    to_edit = _rules(aggregating, "system:aggregate-to-edit")
    to_admin = _rules(aggregating, "system:aggregate-to-admin")
    wait_for(
        lambda: _same_rules(_rules(aggregating, "admin"), to_edit + to_view + to_admin),
        what="admin aggregated",
    )
    listed = admin_kubectl.json("get", "clusterrole", "view", "edit", "admin")
    by_name = {item["metadata"]["name"]: item for item in listed["items"]}
    assert _same_rules(by_name["view"]["rules"], to_view)
    assert _same_rules(by_name["edit"]["rules"], to_edit + to_view)
    assert any(
        r["apiGroups"] == [""] and "pods" in r["resources"] and r["verbs"] == ["get", "list", "watch"]
        for r in by_name["view"]["rules"]
    )
    # Written by server-side apply under the controller's field manager (applyClusterRoles).
    # (kubectl hides managedFields; read them from the store.)
    view = aggregating.store.get((RBAC, "clusterroles"), ("", "view"))
    assert view is not None
    managers = {(m["manager"], m["operation"]) for m in view["metadata"]["managedFields"]}
    assert ("clusterrole-aggregation-controller", "Apply") in managers


# ------------------------------------------------------------------------ what they grant


def test_edit_writes_workload_objects_but_not_rbac_admin_can(aggregating: LocalCluster, ns: str) -> None:
    # policy.go: edit has no rights on roles/rolebindings (system:aggregate-to-admin has them).
    wait_for(lambda: _rules(aggregating, "admin"), what="admin aggregated")
    editor, admin = _sa(aggregating, ns, "editor"), _sa(aggregating, ns, "boss")
    _bind(
        aggregating, ns, "editor-edit", "ClusterRole", "edit", [{"kind": "ServiceAccount", "name": "editor"}]
    )
    _bind(aggregating, ns, "boss-admin", "ClusterRole", "admin", [{"kind": "ServiceAccount", "name": "boss"}])
    binding = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "viewers"},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "editor", "namespace": ns}],
    }
    with _api(aggregating, editor) as api:
        client.CoreV1Api(api).create_namespaced_config_map(ns, _configmap("by-editor"))
        with pytest.raises(ApiException) as err:
            client.RbacAuthorizationV1Api(api).create_namespaced_role_binding(ns, binding)
        assert _forbidden(err.value)["message"] == (
            f'rolebindings.rbac.authorization.k8s.io is forbidden: User "system:serviceaccount:{ns}:editor" '
            f'cannot create resource "rolebindings" in API group "{RBAC}" in the namespace "{ns}"'
        )
    with _api(aggregating, admin) as api:
        created = client.RbacAuthorizationV1Api(api).create_namespaced_role_binding(ns, binding)
        assert created.metadata.name == "viewers"
        client.CoreV1Api(api).create_namespaced_config_map(ns, _configmap("by-admin"))


def test_view_reads_but_cannot_read_secrets(aggregating: LocalCluster, ns: str) -> None:
    # policy.go: secrets are only in system:aggregate-to-edit (reading them escalates).
    wait_for(lambda: _rules(aggregating, "view"), what="view aggregated")
    _create(aggregating, "", "secrets", ns, {"metadata": {"name": "s"}, "stringData": {"k": "v"}})
    _create(aggregating, "", "configmaps", ns, _configmap("c"))
    viewer = _sa(aggregating, ns, "viewer")
    _bind(
        aggregating, ns, "viewer-view", "ClusterRole", "view", [{"kind": "ServiceAccount", "name": "viewer"}]
    )
    with _api(aggregating, viewer) as api:
        core = client.CoreV1Api(api)
        assert core.read_namespaced_config_map("c", ns).data == {"k": "v"}
        assert [p.metadata.name for p in core.list_namespaced_pod(ns).items] == []
        with pytest.raises(ApiException) as err:
            core.read_namespaced_secret("s", ns)
        assert _forbidden(err.value)["message"].startswith(
            f'secrets "s" is forbidden: User "system:serviceaccount:{ns}:viewer" cannot get resource "secrets"'
        )
        with pytest.raises(ApiException) as err:
            core.create_namespaced_config_map(ns, _configmap("nope"))
        _forbidden(err.value)


# ------------------------------------------------------------------- a user's own roles


def test_labelled_clusterrole_is_folded_in_and_taken_out_again(
    aggregating: LocalCluster, admin_kubectl: Kubectl, ns: str
) -> None:
    # clusterroleaggregation_controller.go: every ClusterRole event re-queues every aggregated
    # role (enqueue), so a new labelled role, a label removed or a role deleted changes
    # admin/edit/view. A CRD-like resource the cluster does not serve is fine in a rule.
    wait_for(lambda: _rules(aggregating, "admin"), what="admin aggregated")
    tag = uuid.uuid4().hex[:8]
    resource = f"crontabs{tag}"
    reader = {"apiGroups": ["stable.example.com"], "resources": [resource], "verbs": ["list"]}
    writer = {"apiGroups": ["stable.example.com"], "resources": [resource], "verbs": ["create"]}
    roles = {f"crontab-reader-{tag}": ("view", reader), f"crontab-writer-{tag}": ("edit", writer)}
    for name, (into, rule) in roles.items():
        labels = {f"{AGGREGATE_TO}{into}": "true"}
        _create(
            aggregating,
            RBAC,
            "clusterroles",
            "",
            {"metadata": {"name": name, "labels": labels}, "rules": [rule]},
        )
    viewer = _sa(aggregating, ns, "viewer")
    _bind(
        aggregating, ns, "viewer-view", "ClusterRole", "view", [{"kind": "ServiceAccount", "name": "viewer"}]
    )

    def holds(role: str, rule: dict[str, Any]) -> bool:
        return rule in _rules(aggregating, role)

    try:
        wait_for(lambda: all(holds(r, reader) for r in ("view", "edit", "admin")), what="reader folded in")
        wait_for(lambda: holds("edit", writer) and holds("admin", writer), what="writer folded in")
        assert not holds("view", writer)
        with _api(aggregating, viewer) as api:
            assert _can(api, ns, "list", "stable.example.com", resource)
            admin_kubectl.run("label", "clusterrole", f"crontab-reader-{tag}", f"{AGGREGATE_TO}view-")
            wait_for(
                lambda: not any(holds(r, reader) for r in ("view", "edit", "admin")), what="reader taken out"
            )
            assert not _can(api, ns, "list", "stable.example.com", resource)
        assert holds("admin", writer)  # the other role still feeds edit and admin
    finally:
        for name in roles:
            _delete(aggregating, RBAC, "clusterroles", "", name)
    wait_for(lambda: not holds("admin", writer), what="writer gone with its role")


# --------------------------------------------------------------------- the union, as data


def _role(name: str, labels: dict[str, str], rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}, "rules": rules}


def test_union_order_and_duplicates_follow_the_controller() -> None:
    # syncClusterRole: selectors in order, matching roles by name (byName), itself skipped,
    # a rule equal to one already there dropped (ruleExists, Semantic.DeepEqual: a missing list
    # equals an empty one).
    get = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}
    same_get = {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": []}
    lst = {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}
    urls = {"nonResourceURLs": ["/healthz"], "verbs": ["get"]}
    target = {
        "metadata": {"name": "target", "labels": {"a": "1"}},
        "aggregationRule": {
            "clusterRoleSelectors": [
                {"matchLabels": {"a": "1"}},
                {"matchExpressions": [{"key": "b", "operator": "Exists"}]},
            ]
        },
        "rules": [{"apiGroups": ["x"], "resources": ["y"], "verbs": ["z"]}],
    }
    roles = [
        _role("zeta", {"a": "1"}, [lst]),
        _role("alpha", {"a": "1"}, [get, same_get]),
        _role("beta", {"b": ""}, [urls, lst]),
        _role("other", {"a": "2"}, [{"apiGroups": ["nope"], "resources": ["*"], "verbs": ["*"]}]),
        target,
    ]
    assert aggregate_rules(target, roles) == [
        {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]},
        {"verbs": ["list"], "apiGroups": [""], "resources": ["pods"]},
        {"verbs": ["get"], "nonResourceURLs": ["/healthz"]},
    ]
    assert aggregate_rules({**target, "aggregationRule": {"clusterRoleSelectors": []}}, roles) == []
