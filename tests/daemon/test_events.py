"""Events for sync results: the pure builder, and posting to the local cluster over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import cast

import pytest

from gitops.cluster import Cluster, ClusterOptions
from gitops.config import Config
from gitops.daemon import events
from gitops.daemon.metrics import Metrics
from gitops.daemon.service import Daemon, DaemonOptions
from gitops.engine import Engine
from gitops.localcluster import LocalCluster
from gitops.model import Action, Change, ChangeSet, ResourceKey, SyncRecord, SyncResult, Trigger

SHA = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
NOW = datetime(2026, 11, 26, 15, 4, 5, 123456, tzinfo=UTC)
WEB = ResourceKey("apps", "Deployment", "shop", "web")
POD = ResourceKey("", "Pod", "gitops-system", "gitops-5d8c7b-x2x9z")


def _record(result: SyncResult, trigger: Trigger = Trigger.POLL, error: str = "", **kw: object) -> SyncRecord:
    changes = ChangeSet(
        (
            Change(WEB, Action.UPDATE),
            Change(ResourceKey("", "ConfigMap", "shop", "cfg"), Action.CREATE),
            Change(ResourceKey("", "Secret", "shop", "old"), Action.PRUNE),
            Change(ResourceKey("", "Service", "shop", "web"), Action.UNCHANGED),
        )
    )
    return SyncRecord(
        app="web",
        trigger=trigger,
        started="2026-11-26T15:04:00Z",
        result=result,
        revision=SHA,
        changes=changes,
        error=error,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("result", "trigger", "reason", "type_"),
    [
        (SyncResult.SUCCEEDED, Trigger.POLL, "SyncSucceeded", "Normal"),
        (SyncResult.NO_CHANGE, Trigger.WEBHOOK, "NoChange", "Normal"),
        (SyncResult.FAILED, Trigger.POLL, "SyncFailed", "Warning"),
        (SyncResult.DEGRADED, Trigger.POLL, "SyncFailed", "Warning"),
        (SyncResult.INTERRUPTED, Trigger.POLL, "SyncFailed", "Warning"),
        (SyncResult.SUCCEEDED, Trigger.ROLLBACK, "RolledBack", "Normal"),
        (SyncResult.SUCCEEDED, Trigger.AUTO_ROLLBACK, "RolledBack", "Warning"),
        (SyncResult.FAILED, Trigger.AUTO_ROLLBACK, "SyncFailed", "Warning"),
    ],
)
def test_reason_and_type_follow_the_result(
    result: SyncResult, trigger: Trigger, reason: str, type_: str
) -> None:
    e = events.sync_event(_record(result, trigger), "shop", now=NOW)
    assert (e["reason"], e["type"]) == (reason, type_)


def test_event_about_the_namespace_has_every_field_kubectl_shows() -> None:
    e = events.sync_event(_record(SyncResult.SUCCEEDED), "shop", identity="gitops-0", now=NOW)
    assert e["apiVersion"] == "v1" and e["kind"] == "Event"
    assert e["metadata"]["namespace"] == "shop"
    assert e["metadata"]["name"].startswith("shop.")
    # The API server requires an Event to share its involved object's namespace.
    assert e["involvedObject"] == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "name": "shop",
        "namespace": "shop",
    }
    assert e["source"] == {"component": "gitops"}
    assert e["reportingComponent"] == "gitops" and e["reportingInstance"] == "gitops-0"
    assert e["firstTimestamp"] == e["lastTimestamp"] == "2026-11-26T15:04:05Z"
    assert e["count"] == 1
    assert e["message"] == "app web: synced 1a2b3c4 (1 created, 1 updated, 1 pruned)"
    assert e["metadata"]["annotations"] == {"gitops.dev/app": "web", "gitops.dev/revision": SHA}


def test_event_about_the_daemons_pod() -> None:
    e = events.sync_event(_record(SyncResult.NO_CHANGE), "gitops-system", POD, now=NOW)
    assert e["involvedObject"] == {
        "apiVersion": "v1",
        "kind": "Pod",
        "name": POD.name,
        "namespace": "gitops-system",
    }
    assert e["metadata"]["name"].startswith(POD.name + ".")
    assert e["message"] == "app web: in sync at 1a2b3c4, nothing to change"


def test_involved_object_in_another_namespace_is_refused() -> None:
    with pytest.raises(ValueError, match="its namespace"):
        events.sync_event(_record(SyncResult.SUCCEEDED), "shop", POD, now=NOW)


def test_failure_message_names_the_error_and_stays_one_short_line() -> None:
    e = events.sync_event(
        _record(SyncResult.FAILED, error="Deployment/shop/web: spec.replicas: Invalid value\n  more"),
        "shop",
        now=NOW,
    )
    assert (
        e["message"]
        == "app web: sync of 1a2b3c4 failed: Deployment/shop/web: spec.replicas: Invalid value more"
    )
    long = events.sync_event(_record(SyncResult.FAILED, error="x" * 5000), "shop", now=NOW)
    assert len(long["message"]) == events.MAX_MESSAGE and long["message"].endswith("...")


def test_failure_without_error_names_the_first_failed_object() -> None:
    record = _record(SyncResult.DEGRADED)
    record = replace(
        record, changes=record.changes.with_(Change(WEB, Action.UPDATE, message="not ready", error=True))
    )
    e = events.sync_event(record, "shop", now=NOW)
    assert e["message"] == "app web: sync of 1a2b3c4 applied but not healthy: Deployment/shop/web: not ready"


def test_masked_record_values_stay_masked() -> None:
    """History records are masked by the engine; the Event only carries what the record says."""
    record = _record(SyncResult.FAILED, error="Secret/shop/db: data.password: *** (masked)")
    e = events.sync_event(record, "shop", now=NOW)
    assert "***" in e["message"]


def test_two_apps_at_the_same_instant_get_different_names() -> None:
    one = events.sync_event(_record(SyncResult.SUCCEEDED), "shop", now=NOW)
    other = events.sync_event(
        SyncRecord(app="api", trigger=Trigger.POLL, started="", result=SyncResult.SUCCEEDED, revision=SHA),
        "shop",
        now=NOW,
    )
    assert one["metadata"]["name"] != other["metadata"]["name"]


# --------------------------------------------------------------------------- posting


@pytest.fixture
def kube(cluster: LocalCluster) -> Iterator[Cluster]:
    c = Cluster.connect(ClusterOptions(kubeconfig=cluster.kubeconfig, backoff=0.01))
    yield c
    c.close()


def test_posted_event_is_listed_by_the_server(kube: Cluster, namespace: str) -> None:
    event = events.sync_event(_record(SyncResult.SUCCEEDED), namespace, identity="gitops-0")
    assert events.Recorder(kube).post(event) is True
    listed = kube.list("", "Event", namespace=namespace)
    assert [(e["reason"], e["message"], e["count"]) for e in listed] == [
        ("SyncSucceeded", "app web: synced 1a2b3c4 (1 created, 1 updated, 1 pruned)", 1)
    ]


def test_posting_never_raises(kube: Cluster, cluster: LocalCluster, namespace: str) -> None:
    recorder = events.Recorder(kube)
    event = events.sync_event(_record(SyncResult.SUCCEEDED), namespace)
    rule = cluster.faults.add(verbs=["create"], resources=["events"], namespace=namespace, error=500)
    try:
        assert recorder.post(event) is False
    finally:
        cluster.faults.remove(rule.id)
    assert recorder.post(event) is True
    # The same Event object again from a recorder that never saw it: AlreadyExists, logged.
    assert events.Recorder(kube).post(event) is False


def _at(minute: int) -> datetime:
    return datetime(2026, 11, 26, 15, minute, tzinfo=UTC)


def test_the_same_event_again_counts_on_the_first(kube: Cluster, namespace: str) -> None:
    # client-go tools/record/events_cache.go (eventLogger): an exact repeat PATCHes count and
    # lastTimestamp of the Event first posted, keeping its name and firstTimestamp.
    recorder = events.Recorder(kube)
    failed = _record(SyncResult.FAILED, error="Deployment/shop/web: ImagePullBackOff")
    for minute in (1, 2, 3):
        assert recorder.post(events.sync_event(failed, namespace, now=_at(minute)))
    other = _record(SyncResult.SUCCEEDED)  # another message: an Event of its own
    assert recorder.post(events.sync_event(other, namespace, now=_at(4)))

    listed = sorted(kube.list("", "Event", namespace=namespace), key=lambda e: e["firstTimestamp"])
    assert [(e["reason"], e["count"], e["firstTimestamp"], e["lastTimestamp"]) for e in listed] == [
        ("SyncFailed", 3, "2026-11-26T15:01:00Z", "2026-11-26T15:03:00Z"),
        ("SyncSucceeded", 1, "2026-11-26T15:04:00Z", "2026-11-26T15:04:00Z"),
    ]
    first = events.sync_event(failed, namespace, now=_at(1))["metadata"]["name"]
    assert listed[0]["metadata"]["name"] == first


def test_a_counted_event_deleted_meanwhile_is_created_again(kube: Cluster, namespace: str) -> None:
    recorder = events.Recorder(kube)
    failed = _record(SyncResult.FAILED, error="boom")
    assert recorder.post(events.sync_event(failed, namespace, now=_at(1)))
    (posted,) = kube.list("", "Event", namespace=namespace)
    assert kube.delete(ResourceKey.of(posted))  # an Event's TTL ran out, or someone cleaned up
    assert recorder.post(events.sync_event(failed, namespace, now=_at(2)))
    (again,) = kube.list("", "Event", namespace=namespace)
    assert (again["count"], again["lastTimestamp"]) == (2, "2026-11-26T15:02:00Z")


def test_another_error_of_the_same_reason_is_an_event_of_its_own(kube: Cluster, namespace: str) -> None:
    # getEventKey includes the message: two errors are two Events, each counted on its own.
    recorder = events.Recorder(kube)
    pull = _record(SyncResult.FAILED, error="Deployment/shop/web: ImagePullBackOff")
    crash = _record(SyncResult.FAILED, error="Deployment/shop/web: CrashLoopBackOff")
    for minute, record in enumerate((pull, crash, pull), start=1):
        assert recorder.post(events.sync_event(record, namespace, now=_at(minute)))
    listed = kube.list("", "Event", namespace=namespace)
    assert sorted((e["message"].rsplit(": ", 1)[-1], e["count"]) for e in listed) == [
        ("CrashLoopBackOff", 1),
        ("ImagePullBackOff", 2),
    ]


@pytest.mark.parametrize("verb", ["create", "patch"])
def test_a_lost_reply_still_counts_on_the_same_event(
    verb: str, kube: Cluster, cluster: LocalCluster, namespace: str
) -> None:
    # client-go eventObserve records the observation before the request: a write the server
    # committed but whose reply was lost is neither a second Event nor a lost count.
    recorder = events.Recorder(kube)
    failed = _record(SyncResult.FAILED, error="boom")
    if verb == "patch":
        assert recorder.post(events.sync_event(failed, namespace, now=_at(1)))
    rule = cluster.faults.add(
        verbs=[verb], resources=["events"], namespace=namespace, drop="reset", phase="after"
    )
    try:
        assert recorder.post(events.sync_event(failed, namespace, now=_at(2))) is False
    finally:
        cluster.faults.remove(rule.id)
    assert recorder.post(events.sync_event(failed, namespace, now=_at(3)))
    (event,) = kube.list("", "Event", namespace=namespace)
    assert event["count"] == (3 if verb == "patch" else 2)


def test_the_least_recently_posted_key_is_forgotten_past_the_limit(kube: Cluster, namespace: str) -> None:
    recorder = events.Recorder(kube, max_entries=1)
    first, second = _record(SyncResult.FAILED, error="one"), _record(SyncResult.FAILED, error="two")
    for minute, record in enumerate((first, second, first), start=1):
        assert recorder.post(events.sync_event(record, namespace, now=_at(minute)))
    # "one" was evicted by "two": its repeat is a new Event, as in client-go's LRU
    assert sorted(e["count"] for e in kube.list("", "Event", namespace=namespace)) == [1, 1, 1]


def test_the_daemon_counts_a_repeated_failure_on_one_event(kube: Cluster, namespace: str) -> None:
    daemon = Daemon(
        Config(()),
        cast(Engine, SimpleNamespace(history=None, cluster=kube)),
        Metrics(),
        DaemonOptions(events_namespace=namespace),
    )
    failed = _record(SyncResult.FAILED, error="boom")
    daemon._post_event(failed)
    daemon._post_event(failed)
    (event,) = kube.list("", "Event", namespace=namespace)
    assert (event["reason"], event["count"]) == ("SyncFailed", 2)
