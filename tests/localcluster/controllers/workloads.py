"""Helpers for the workload controller tests (StatefulSet, DaemonSet, Job, CronJob, HPA).

Tests talk to the live cluster in-process for setup and reads (the store is the API server's
state) and through the real kubectl where the client's view matters. Waits poll the store with a
wall-clock deadline; :class:`EventLog` records store events as they happen, so a test can check
an ordering ("pod 1 was created only after pod 0 was Ready") on every intermediate state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from gitops.localcluster import LocalCluster
from gitops.localcluster.api import WriteOptions
from gitops.localcluster.controllers import deployment_util as du
from gitops.localcluster.controllers import podstate
from gitops.localcluster.store import Event
from tests import waiting

Obj = dict[str, Any]

TEST = WriteOptions(manager="test")


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """:func:`tests.waiting.wait_for` with the workload tests' longer default timeout."""
    return waiting.wait_for(predicate, timeout, what)


def rt(cluster: LocalCluster, group: str, version: str, plural: str) -> Any:
    found = cluster.registry.by_plural(group, version, plural)
    assert found is not None, f"{plural}.{group} is not served"
    return found


def create(cluster: LocalCluster, group: str, version: str, plural: str, namespace: str, body: Obj) -> Obj:
    return cluster.api.create(rt(cluster, group, version, plural), namespace, body, TEST).obj


def patch(
    cluster: LocalCluster, group: str, version: str, plural: str, namespace: str, name: str, body: Obj
) -> Obj:
    """A JSON merge patch, as ``kubectl patch --type merge`` sends it."""
    return cluster.api.patch(rt(cluster, group, version, plural), namespace, name, "merge", body, TEST).obj


def get(cluster: LocalCluster, group: str, plural: str, namespace: str, name: str) -> Obj | None:
    return cluster.store.get((group, plural), (namespace, name))


def items(cluster: LocalCluster, group: str, plural: str, namespace: str) -> list[Obj]:
    return cluster.store.items((group, plural), namespace)


def condition(obj: Obj | None, ctype: str) -> Obj | None:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return dict(cond)
    return None


def is_true(obj: Obj | None, ctype: str) -> bool:
    cond = condition(obj, ctype)
    return cond is not None and cond.get("status") == "True"


def pod_ready(pod: Obj | None) -> bool:
    return pod is not None and (pod.get("status") or {}).get("phase") == "Running" and is_true(pod, "Ready")


def name_of(obj: Obj) -> str:
    return str(obj["metadata"]["name"])


@dataclass
class Seen:
    """One store event: its type, the object, and whatever the test's probe saw at that moment."""

    type: str
    obj: Obj
    probe: Any = None


@dataclass
class EventLog:
    """Store events of one type in one namespace, recorded as they are emitted."""

    events: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, etype: str) -> list[Seen]:
        with self.lock:
            return [e for e in self.events if e.type == etype]

    def names(self, etype: str) -> list[str]:
        return [name_of(e.obj) for e in self.of(etype)]


@contextmanager
def record(
    cluster: LocalCluster,
    group: str,
    plural: str,
    namespace: str,
    probe: Callable[[Event], Any] | None = None,
) -> Iterator[EventLog]:
    """Record the events of ``plural`` in ``namespace``; ``probe`` runs under the store lock at
    each event (it may read the store, which then shows exactly the state of that event)."""
    log = EventLog()

    def on_event(event: Event) -> None:
        if (event.obj.get("metadata") or {}).get("namespace") != namespace:
            return
        seen = Seen(event.type, event.obj, probe(event) if probe is not None else None)
        with log.lock:
            log.events.append(seen)

    token, _ = cluster.store.subscribe((group, plural), on_event)
    try:
        yield log
    finally:
        cluster.store.unsubscribe(token)


# --- rolling-update bounds (shared with tests/engine/test_rollout.py) ---------------------


@dataclass
class PodBounds:
    """Replays pod and ReplicaSet events of one Deployment and checks, after each, that active
    pods (not being deleted, not finished: what ReplicaSets count) stay within replicas +
    maxSurge and Ready ones at least replicas - maxUnavailable (minReadySeconds 0: Ready is
    available)."""

    namespace: str
    app: str
    max_total: int
    min_available: int
    pods: dict[str, Obj] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    def __call__(self, event: Event) -> None:  # under the store lock: only record
        meta = event.obj["metadata"]
        if meta.get("namespace") == self.namespace and (event.group, event.plural) in (
            ("", "pods"),
            ("apps", "replicasets"),
        ):
            self.events.append(event)

    def check(self) -> int:
        seen: list[str] = []
        for event in self.events:
            meta = event.obj["metadata"]
            if event.plural == "replicasets":
                seen.append(f"{event.rv} RS {meta['name']} spec={du.spec_replicas(event.obj)}")
                continue
            if (meta.get("labels") or {}).get("app") != self.app:
                continue
            if event.type == "DELETED":
                self.pods.pop(meta["name"], None)
            else:
                self.pods[meta["name"]] = event.obj
            live = [p for p in self.pods.values() if podstate.is_active(p)]
            ready = [p for p in live if podstate.is_ready(p)]
            state = (
                "deleting"
                if meta.get("deletionTimestamp")
                else ("ready" if podstate.is_ready(event.obj) else "")
            )
            seen.append(
                f"{event.rv} {event.type} pod {meta['name']} {state} -> {len(live)} live, {len(ready)} ready"
            )
            history = "\n".join(seen[-20:])
            assert len(live) <= self.max_total, f"{len(live)} pods > {self.max_total}:\n{history}"
            assert len(ready) >= self.min_available, (
                f"{len(ready)} available < {self.min_available}:\n{history}"
            )
        return len(self.events)


def watch_pods(
    cluster: LocalCluster, namespace: str, app: str, max_total: int, min_available: int
) -> tuple[PodBounds, int]:
    store = cluster.store
    with store.lock:
        bounds = PodBounds(namespace, app, max_total, min_available)
        for pod in store.items(("", "pods"), namespace):
            if (pod["metadata"].get("labels") or {}).get("app") == app:
                bounds.pods[pod["metadata"]["name"]] = pod
        token, _ = store.subscribe(None, bounds)
    return bounds, token
