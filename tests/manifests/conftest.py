"""Fixtures for the manifests tests: the test data sets and a ``scope`` function standing in for
API discovery (the kinds a Kubernetes 1.32 cluster serves that the data sets use)."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data"
GOOD = DATA / "good"
BAD = DATA / "bad"

_CLUSTER_KINDS = {
    ("", "v1", "Namespace"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
    ("storage.k8s.io", "v1", "StorageClass"),
}
_NAMESPACED_KINDS = {
    ("", "v1", "ConfigMap"),
    ("", "v1", "Secret"),
    ("", "v1", "Service"),
    ("", "v1", "ServiceAccount"),
    ("", "v1", "Pod"),
    ("apps", "v1", "Deployment"),
    ("apps", "v1", "StatefulSet"),
    ("batch", "v1", "Job"),
    ("rbac.authorization.k8s.io", "v1", "Role"),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding"),
    ("networking.k8s.io", "v1", "Ingress"),
}


def cluster_scope(group: str, version: str, kind: str) -> str | None:
    """What discovery of a 1.32 cluster without custom resources answers."""
    if (group, version, kind) in _CLUSTER_KINDS:
        return "Cluster"
    if (group, version, kind) in _NAMESPACED_KINDS:
        return "Namespaced"
    return None


@pytest.fixture
def scope() -> object:
    return cluster_scope
