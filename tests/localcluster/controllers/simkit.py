"""Helpers for the tests of the simulated nodes, scheduler, kubelets, ReplicaSets and endpoints.

- :func:`sim_cluster` starts a cluster whose clock runs at real speed, so that nothing happens
  on its own during a test step: time moves with ``cluster.clock.advance`` and
  ``cluster.settle()`` waits until the controllers have done everything now due. Tests are then
  exact about back-offs and delays without sleeping.
- :class:`Recorder` keeps every store event of one type in one namespace, for states that last
  too short to poll (``ErrImagePull`` for one simulated second, the terminal status a kubelet
  writes just before deleting a pod).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gitops.localcluster import LocalCluster
from gitops.localcluster.api import WriteOptions
from gitops.localcluster.controllers import Options
from gitops.localcluster.resources import ResourceType
from gitops.localcluster.store import Event
from tests.waiting import wait_for as wait_for  # re-exported for the tests using simkit

Obj = dict[str, Any]

TEST = WriteOptions(manager="test")
NGINX = "nginx:1.27"


@contextlib.contextmanager
def sim_cluster(tmp_path: Path, **options: Any) -> Iterator[LocalCluster]:
    """A cluster with controllers and a real-speed clock, settled before the test starts."""
    with LocalCluster(kubeconfig=tmp_path / "kubeconfig", clock_scale=1.0, options=Options(**options)) as c:
        assert c.settle()
        yield c
        assert c.controllers is not None
        assert c.controllers.errors == []


def advance(cluster: LocalCluster, seconds: float) -> None:
    """Move simulated time and wait until everything then due is done."""
    cluster.clock.advance(seconds)
    assert cluster.settle(), "the controllers did not settle"


def rt(cluster: LocalCluster, group: str, plural: str) -> ResourceType:
    for t in cluster.registry.all():
        if t.group == group and t.plural == plural:
            return t
    raise KeyError(plural)


def create(cluster: LocalCluster, group: str, plural: str, namespace: str, body: Obj) -> Obj:
    return cluster.api.create(rt(cluster, group, plural), namespace, copy.deepcopy(body), TEST).obj


def get(cluster: LocalCluster, group: str, plural: str, namespace: str, name: str) -> Obj | None:
    return cluster.store.get((group, plural), (namespace if namespace else "", name))


def pod(cluster: LocalCluster, namespace: str, name: str) -> Obj | None:
    return get(cluster, "", "pods", namespace, name)


def pods(cluster: LocalCluster, namespace: str) -> list[Obj]:
    return cluster.store.items(("", "pods"), namespace)


def update(
    cluster: LocalCluster, group: str, plural: str, namespace: str, name: str, change: Callable[[Obj], None]
) -> Obj:
    """Read, change a copy, write back (stored objects are shared and must not be mutated)."""
    current = get(cluster, group, plural, namespace, name)
    assert current is not None, f"{plural}/{name} is gone"
    new = copy.deepcopy(current)
    change(new)
    return cluster.api.update(rt(cluster, group, plural), namespace, name, new, TEST).obj


def pod_body(
    name: str,
    image: str = NGINX,
    annotations: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    **spec: Any,
) -> Obj:
    meta: Obj = {"name": name}
    if annotations:
        meta["annotations"] = annotations
    if labels:
        meta["labels"] = labels
    body_spec: Obj = {"containers": [{"name": "app", "image": image}]}
    body_spec.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": body_spec}


def condition(obj: Obj | None, ctype: str) -> Obj | None:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return dict(cond)
    return None


def container_state(obj: Obj | None, name: str = "app") -> Obj:
    for cs in ((obj or {}).get("status") or {}).get("containerStatuses") or []:
        if cs.get("name") == name:
            return dict(cs)
    return {}


def waiting_reason(obj: Obj | None, name: str = "app") -> str:
    return str(((container_state(obj, name).get("state") or {}).get("waiting") or {}).get("reason") or "")


class Recorder:
    """Every event of one type in one namespace, in order (a store subscriber only appends)."""

    def __init__(self, cluster: LocalCluster, plural: str, namespace: str, group: str = "") -> None:
        self.events: list[Event] = []
        self._namespace = namespace
        self._store = cluster.store
        self._token, _ = cluster.store.subscribe((group, plural), self._on)

    def _on(self, event: Event) -> None:
        if (event.obj.get("metadata") or {}).get("namespace") == self._namespace:
            self.events.append(event)

    def close(self) -> None:
        self._store.unsubscribe(self._token)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def of(self, name: str) -> list[Event]:
        return [e for e in self.events if e.obj["metadata"]["name"] == name]

    def waiting_reasons(self, name: str, container: str = "app") -> list[str]:
        """The container's waiting reasons in order, repeats collapsed."""
        out: list[str] = []
        for e in self.of(name):
            reason = waiting_reason(e.obj, container)
            if reason and (not out or out[-1] != reason):
                out.append(reason)
        return out
