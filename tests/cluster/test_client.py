"""The engine's cluster client against the local cluster over HTTP."""

from __future__ import annotations

import pytest

from gitops import errors
from gitops.cluster import Cluster, ClusterOptions
from gitops.localcluster import LocalCluster
from gitops.model import ResourceKey


@pytest.fixture
def kube(cluster: LocalCluster) -> Cluster:
    c = Cluster.connect(ClusterOptions(kubeconfig=cluster.kubeconfig, backoff=0.01))
    yield c
    c.close()


def _cm(ns: str, name: str, **data: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": {"app.gitops.dev/name": "t"}},
        "data": data,
    }


def test_discovery_knows_scope_of_builtin_kinds(kube: Cluster) -> None:
    assert kube.scope("apps", "v1", "Deployment") == "Namespaced"
    assert kube.scope("", "v1", "Namespace") == "Cluster"
    assert kube.scope("example.com", "v1", "Nothing") is None


def test_apply_list_delete_round_trip(kube: Cluster, cluster: LocalCluster, namespace: str) -> None:
    since = cluster.requests.last_seq
    stored = kube.apply(_cm(namespace, "a", k="v"), manager="gitops")
    assert stored["metadata"]["managedFields"][0]["manager"] == "gitops"
    kube.apply(_cm(namespace, "b"), manager="gitops")
    listed = kube.list("", "ConfigMap", "app.gitops.dev/name=t", namespace=namespace)
    assert [o["metadata"]["name"] for o in listed] == ["a", "b"]
    assert all(o["kind"] == "ConfigMap" and o["apiVersion"] == "v1" for o in listed)
    assert kube.delete(ResourceKey("", "ConfigMap", namespace, "a")) is True
    assert kube.delete(ResourceKey("", "ConfigMap", namespace, "a")) is False
    assert kube.get(ResourceKey("", "ConfigMap", namespace, "a")) is None
    agents = {r.user_agent for r in cluster.requests.records(since)}
    assert agents == {"gitops/0.1.0"}


def test_list_follows_continue_tokens(kube: Cluster, namespace: str) -> None:
    for i in range(12):
        kube.apply(_cm(namespace, f"c{i:02d}"), manager="gitops")
    kube_small = kube
    items = kube_small.list("", "ConfigMap", namespace=namespace)
    assert len(items) == 12


def test_dry_run_apply_writes_nothing(kube: Cluster, cluster: LocalCluster, namespace: str) -> None:
    rv = cluster.store.resource_version
    out = kube.apply(_cm(namespace, "dry"), manager="gitops", dry_run=True)
    assert out["metadata"]["name"] == "dry"
    assert cluster.store.resource_version == rv


def test_invalid_object_error_names_the_object(kube: Cluster, namespace: str) -> None:
    bad = _cm(namespace, "Bad_Name")
    with pytest.raises(errors.ApplyError) as exc:
        kube.apply(bad, manager="gitops")
    assert str(exc.value).startswith(f"ConfigMap/{namespace}/Bad_Name: ")
    assert exc.value.code == 422 and exc.value.reason == "Invalid"


def test_unreachable_server_is_cluster_unreachable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with LocalCluster(kubeconfig=tmp_path / "kc", controllers=False) as c:
        kubeconfig = c.kubeconfig.read_text()
    (tmp_path / "kc2").write_text(kubeconfig)
    kube = Cluster.connect(ClusterOptions(kubeconfig=tmp_path / "kc2", retries=1, backoff=0.01, timeout=2))
    with pytest.raises(errors.ClusterUnreachable) as exc:
        kube.resources()
    assert "cannot reach the Kubernetes API" in str(exc.value)


def test_discovery_uses_two_aggregated_requests(cluster: LocalCluster) -> None:
    kube = Cluster.connect(ClusterOptions(kubeconfig=cluster.kubeconfig))
    since = cluster.requests.last_seq
    resources = kube.resources()
    paths = [r.path for r in cluster.requests.records(since)]
    assert paths == ["/api", "/apis"]
    deploy = resources[("apps", "Deployment")]
    assert (deploy.version, deploy.plural, deploy.namespaced) == ("v1", "deployments", True)
    assert resources[("", "Namespace")].namespaced is False
    kube.close()
