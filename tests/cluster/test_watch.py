"""``Cluster.watch``: events over the chunked stream, reconnects when a stream ends, a re-LIST
when the resourceVersion is too old (410), and ``close`` from another thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from gitops.cluster import Cluster, ClusterOptions
from gitops.localcluster import LocalCluster


@pytest.fixture
def kube(fresh_cluster: LocalCluster) -> Iterator[Cluster]:
    c = Cluster.connect(ClusterOptions(kubeconfig=fresh_cluster.kubeconfig, backoff=0.01))
    yield c
    c.close()


def _cm(name: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": data,
    }


def _watch_requests(cluster: LocalCluster, since: int) -> list[Any]:
    return [r for r in cluster.requests.records(since) if r.verb == "watch" and r.resource == "configmaps"]


def test_lists_first_then_streams_events_of_one_object(kube: Cluster) -> None:
    kube.apply(_cm("a", v="1"), manager="t")
    kube.apply(_cm("b", v="1"), manager="t")
    seen: list[tuple[str, str, str]] = []
    with kube.watch("", "ConfigMap", "default", name="a", timeout=5) as w:
        for event_type, obj in w:
            seen.append((event_type, obj["metadata"]["name"], obj["data"]["v"]))
            if len(seen) == 1:
                kube.apply(_cm("b", v="2"), manager="t")  # another object: not seen
                kube.apply(_cm("a", v="2"), manager="t")
            else:
                break
    assert seen == [("ADDED", "a", "1"), ("MODIFIED", "a", "2")]
    assert obj["kind"] == "ConfigMap"


def test_reconnects_when_the_stream_ends(kube: Cluster, fresh_cluster: LocalCluster) -> None:
    kube.apply(_cm("r", v="0"), manager="t")
    fresh_cluster.faults.add(verbs=["watch"], resources=["configmaps"], watchClose={"events": 1}, count=2)
    mark = fresh_cluster.requests.last_seq
    seen: list[str] = []
    with kube.watch("", "ConfigMap", "default", name="r", timeout=10) as w:
        for _, obj in w:
            seen.append(obj["data"]["v"])
            if len(seen) == 4:
                break
            kube.apply(_cm("r", v=str(len(seen))), manager="t")
    assert seen == ["0", "1", "2", "3"]  # none lost, none twice
    assert len(_watch_requests(fresh_cluster, mark)) >= 3


def test_a_410_relists(kube: Cluster, fresh_cluster: LocalCluster) -> None:
    kube.apply(_cm("g", v="0"), manager="t")
    fresh_cluster.faults.add(verbs=["watch"], resources=["configmaps"], error=410, count=1)
    mark = fresh_cluster.requests.last_seq
    seen: list[tuple[str, str]] = []
    with kube.watch("", "ConfigMap", "default", name="g", timeout=10) as w:
        for event_type, obj in w:
            seen.append((event_type, obj["data"]["v"]))
            if len(seen) == 2:
                kube.apply(_cm("g", v="1"), manager="t")
            if len(seen) == 3:
                break
    # The first LIST, the 410, a re-LIST (ADDED again), then the stream.
    assert seen == [("ADDED", "0"), ("ADDED", "0"), ("MODIFIED", "1")]
    lists = [
        r for r in fresh_cluster.requests.records(mark) if r.verb == "list" and r.resource == "configmaps"
    ]
    assert len(lists) == 2


def test_close_from_another_thread_ends_a_blocked_watch(kube: Cluster) -> None:
    w = kube.watch("", "ConfigMap", "default", name="nothing", timeout=60)
    done = threading.Event()

    def consume() -> None:
        for _ in w:
            pass
        done.set()

    t = threading.Thread(target=consume, daemon=True)
    t.start()
    time.sleep(0.3)  # let it block in a read (nothing will ever arrive)
    started = time.monotonic()
    w.close()
    assert done.wait(5)
    assert time.monotonic() - started < 2
