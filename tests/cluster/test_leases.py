"""Cluster.create/replace on Leases and Events (K8S-API.md §3.4, §3.5, §8), the request
observer, and the user-agent suffix, against the local cluster over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gitops import errors
from gitops.cluster import USER_AGENT, Cluster, ClusterOptions
from gitops.localcluster import LocalCluster
from gitops.model import ResourceKey


@pytest.fixture
def kube(cluster: LocalCluster) -> Iterator[Cluster]:
    c = Cluster.connect(ClusterOptions(kubeconfig=cluster.kubeconfig, backoff=0.01))
    yield c
    c.close()


def _lease(ns: str, name: str, holder: str = "a") -> dict[str, Any]:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": 15,
            "acquireTime": "2026-01-02T15:04:05.000000Z",
            "renewTime": "2026-01-02T15:04:05.000000Z",
            "leaseTransitions": 0,
        },
    }


def test_create_returns_the_stored_lease(kube: Cluster, namespace: str) -> None:
    stored = kube.create(_lease(namespace, "l"))
    assert stored["metadata"]["resourceVersion"]
    assert stored["spec"]["holderIdentity"] == "a"
    got = kube.get(ResourceKey("coordination.k8s.io", "Lease", namespace, "l"))
    assert got is not None and got["metadata"]["uid"] == stored["metadata"]["uid"]


def test_create_of_an_existing_name_raises_already_exists(kube: Cluster, namespace: str) -> None:
    kube.create(_lease(namespace, "l"))
    with pytest.raises(errors.AlreadyExists) as info:
        kube.create(_lease(namespace, "l", holder="b"))
    assert info.value.code == 409 and info.value.reason == "AlreadyExists"
    assert str(info.value).startswith(f"Lease.coordination.k8s.io/{namespace}/l: ")


def test_replace_with_the_read_resource_version_succeeds(kube: Cluster, namespace: str) -> None:
    stored = kube.create(_lease(namespace, "l"))
    stored["spec"]["holderIdentity"] = "b"
    replaced = kube.replace(stored)
    assert replaced["spec"]["holderIdentity"] == "b"
    assert replaced["metadata"]["resourceVersion"] != stored["metadata"]["resourceVersion"]


def test_replace_with_a_stale_resource_version_raises_conflict(kube: Cluster, namespace: str) -> None:
    first = kube.create(_lease(namespace, "l"))
    winner = dict(first, spec={**first["spec"], "holderIdentity": "b"})
    kube.replace(winner)
    loser = dict(first, spec={**first["spec"], "holderIdentity": "c"})
    with pytest.raises(errors.Conflict) as info:
        kube.replace(loser)
    assert info.value.code == 409 and info.value.reason == "Conflict"
    assert "the object has been modified" in str(info.value)
    got = kube.get(ResourceKey("coordination.k8s.io", "Lease", namespace, "l"))
    assert got is not None and got["spec"]["holderIdentity"] == "b"


def test_replace_without_resource_version_is_refused_before_any_request(
    kube: Cluster, cluster: LocalCluster, namespace: str
) -> None:
    since = cluster.requests.last_seq
    with pytest.raises(ValueError, match="resourceVersion"):
        kube.replace(_lease(namespace, "l"))
    assert cluster.requests.writes(since, USER_AGENT) == []


def test_replace_of_a_missing_object_is_a_404(kube: Cluster, namespace: str) -> None:
    body = _lease(namespace, "gone")
    body["metadata"]["resourceVersion"] = "1"
    with pytest.raises(errors.ApplyError) as info:
        kube.replace(body)
    assert info.value.code == 404


def test_create_event(kube: Cluster, namespace: str) -> None:
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "x.1", "namespace": namespace},
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "Namespace",
            "name": namespace,
            "namespace": namespace,
        },
        "reason": "SyncSucceeded",
        "message": "m",
        "type": "Normal",
    }
    assert kube.create(event)["reason"] == "SyncSucceeded"
    listed = kube.list("", "Event", namespace=namespace)
    assert [e["metadata"]["name"] for e in listed] == ["x.1"]


def test_observer_sees_every_response_with_its_kubernetes_verb(cluster: LocalCluster, namespace: str) -> None:
    kube = Cluster.connect(ClusterOptions(kubeconfig=cluster.kubeconfig, backoff=0.01))
    seen: list[tuple[str, int]] = []
    kube.resources()  # discovery before observing
    kube.observer = lambda verb, code: seen.append((verb, code))
    stored = kube.create(_lease(namespace, "l"))
    kube.replace(dict(stored, spec={**stored["spec"], "holderIdentity": "b"}))
    with pytest.raises(errors.Conflict):
        kube.replace(dict(stored, spec={**stored["spec"], "holderIdentity": "c"}))  # stale now
    kube.get(ResourceKey("coordination.k8s.io", "Lease", namespace, "l"))
    kube.get(ResourceKey("coordination.k8s.io", "Lease", namespace, "nope"))
    kube.list("coordination.k8s.io", "Lease", namespace=namespace)
    kube.apply(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": namespace}},
        manager="gitops",
    )
    kube.delete(ResourceKey("", "ConfigMap", namespace, "c"))
    with kube.watch("", "ConfigMap", namespace, timeout=1.0) as w:
        for _ in w:
            break
    assert seen == [
        ("create", 201),
        ("update", 200),
        ("update", 409),
        ("get", 200),
        ("get", 404),
        ("list", 200),
        ("patch", 201),
        ("delete", 200),
        ("list", 200),  # a watch without resourceVersion lists first
        ("watch", 200),
    ]
    kube.close()


def test_observer_sees_retries_and_connection_failures(cluster: LocalCluster, namespace: str) -> None:
    kube = Cluster.connect(ClusterOptions(kubeconfig=cluster.kubeconfig, backoff=0.01, user_agent="obs"))
    kube.resources()
    seen: list[tuple[str, int]] = []
    kube.observer = lambda verb, code: seen.append((verb, code))
    rules = [
        cluster.faults.add(
            verbs=["create"], resources=["leases"], userAgent=kube.user_agent, error=503, count=1
        ),
        cluster.faults.add(
            verbs=["create"], resources=["leases"], userAgent=kube.user_agent, drop="reset", count=1
        ),
    ]
    try:
        kube.create(_lease(namespace, "l"))
    finally:
        for rule in rules:
            cluster.faults.remove(rule.id)
    assert seen == [("create", 503), ("create", 0), ("create", 201)]
    kube.close()


def test_a_failing_observer_never_fails_the_request(kube: Cluster, namespace: str) -> None:
    def boom(verb: str, code: int) -> None:
        raise RuntimeError("metrics broke")

    kube.observer = boom
    assert kube.create(_lease(namespace, "l"))["spec"]["holderIdentity"] == "a"


def test_user_agent_suffix_tells_clients_apart(cluster: LocalCluster, namespace: str) -> None:
    kube = Cluster.connect(ClusterOptions(kubeconfig=cluster.kubeconfig, user_agent="replica-a"))
    since = cluster.requests.last_seq
    kube.create(_lease(namespace, "l"))
    agents = {r.user_agent for r in cluster.requests.records(since)}
    assert agents == {f"{USER_AGENT} (replica-a)"}
    kube.close()


def test_namespace_comes_from_the_kubeconfig_context(kube: Cluster) -> None:
    assert kube.namespace == "default"  # the local cluster's context names "default"
    assert "context" in kube.credentials and str(kube.options.kubeconfig) in kube.credentials
