"""The Deployment controller (``controllers/deployment.py``) against Kubernetes 1.32 behaviour.

Two groups:

- *Controller alone*: a local cluster whose only controller is the Deployment controller, with
  ReplicaSet statuses written by the test (it plays the ReplicaSet controller and the pods, the
  seam the real controller reads). Every rollout step is then deterministic and is compared with
  what ``pkg/controller/deployment/{rolling,sync,recreate,progress}.go`` does.
- *Live*: the full set of simulated controllers (ReplicaSets, scheduler, kubelets) on a 20x clock,
  driven with the real kubectl: ``rollout status/undo/restart/history``, ``scale``; the rollout
  bounds are checked on every pod and ReplicaSet event; a hypothesis property test varies sizes
  and fenceposts.

Waits are on store state or subprocess output with deadlines, never fixed sleeps.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gitops.localcluster import LocalCluster, errors
from gitops.localcluster.api import WriteOptions
from gitops.localcluster.clock import Clock
from gitops.localcluster.controllers import deployment_util as du
from gitops.localcluster.controllers.deployment import DeploymentController
from gitops.localcluster.controllers.manager import ControllerManager
from gitops.localcluster.store import Event
from tests.conftest import KUBECTL, LIVE_CLOCK_SCALE, Kubectl
from tests.localcluster.controllers.workloads import watch_pods
from tests.waiting import wait_for

Obj = dict[str, Any]

TEST = WriteOptions(manager="test")
FAKE_RS = WriteOptions(manager="fake-replicaset-controller")


def deployment_body(
    name: str,
    replicas: int,
    image: str = "nginx:1.27",
    *,
    surge: int | str | None = None,
    unavailable: int | str | None = None,
    strategy: str = "RollingUpdate",
    annotations: dict[str, str] | None = None,
    template_annotations: dict[str, str] | None = None,
    **spec: Any,
) -> Obj:
    rolling: Obj = {}
    if surge is not None:
        rolling["maxSurge"] = surge
    if unavailable is not None:
        rolling["maxUnavailable"] = unavailable
    strat: Obj = {"type": strategy}
    if rolling:
        strat["rollingUpdate"] = rolling
    template_meta: Obj = {"labels": {"app": name}}
    if template_annotations:
        template_meta["annotations"] = template_annotations
    body: Obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "annotations": dict(annotations or {})},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": strat,
            "template": {
                "metadata": template_meta,
                "spec": {"containers": [{"name": "main", "image": image}]},
            },
            **spec,
        },
    }
    return body


# =============================================================================== alone


@dataclass
class Solo:
    """A cluster running only the Deployment controller; the test plays ReplicaSets."""

    cluster: LocalCluster
    manager: ControllerManager
    controller: DeploymentController
    namespace: str = ""

    def rt(self, plural: str) -> Any:
        group, version = ("", "v1") if plural in ("namespaces", "pods") else ("apps", "v1")
        rt = self.cluster.registry.by_plural(group, version, plural)
        assert rt is not None
        return rt

    def create(self, body: Obj) -> Obj:
        return self.cluster.api.create(self.rt("deployments"), self.namespace, body, TEST).obj

    def deployment(self, name: str) -> Obj:
        d = self.cluster.store.get(("apps", "deployments"), (self.namespace, name))
        assert d is not None
        return d

    def replica_sets(self, name: str) -> list[Obj]:
        """The Deployment's ReplicaSets by revision (creation times have whole seconds, and
        the 20x clock makes several in one second)."""
        uid = self.deployment(name)["metadata"]["uid"]
        return du.by_revision(
            rs
            for rs in self.cluster.store.items(("apps", "replicasets"), self.namespace)
            if (du.controller_of(rs) or {}).get("uid") == uid
        )

    def sizes(self, name: str) -> list[int]:
        """spec.replicas of the Deployment's ReplicaSets, by revision."""
        return [du.spec_replicas(rs) for rs in self.replica_sets(name)]

    def edit(self, name: str, change: Callable[[Obj], None]) -> None:
        d = copy.deepcopy(self.deployment(name))
        change(d)
        self.cluster.api.update(self.rt("deployments"), self.namespace, name, d, TEST)

    def set_image(self, name: str, image: str) -> None:
        def change(d: Obj) -> None:
            d["spec"]["template"]["spec"]["containers"][0]["image"] = image

        self.edit(name, change)

    def settle(self) -> None:
        assert self.manager.settle(20)

    def play_replica_sets(self, healthy: Callable[[Obj], bool] = lambda rs: True) -> bool:
        """What the ReplicaSet controller would report once its pods settle: every replica
        exists, and is ready and available when ``healthy``. True when a status changed."""
        changed = False
        for rs in self.cluster.store.items(("apps", "replicasets"), self.namespace):
            changed |= self._report(rs["metadata"]["name"], healthy)
        return changed

    def _report(self, name: str, healthy: Callable[[Obj], bool]) -> bool:
        while True:  # the controller thread may write the ReplicaSet meanwhile: retry on 409
            rs = self.cluster.store.get(("apps", "replicasets"), (self.namespace, name))
            if rs is None:
                return False
            n = du.spec_replicas(rs)
            status: Obj = {"replicas": n}
            if n:
                status["fullyLabeledReplicas"] = n
            if n and healthy(rs):
                status["readyReplicas"] = n
                status["availableReplicas"] = n
            status["observedGeneration"] = rs["metadata"]["generation"]
            if rs.get("status") == status:
                return False
            body = copy.deepcopy(rs)
            body["status"] = status
            try:
                self.cluster.api.update(self.rt("replicasets"), self.namespace, name, body, FAKE_RS, "status")
            except errors.StatusError as err:
                if err.code == 409:
                    continue
                raise
            return True

    def rounds(
        self, name: str, healthy: Callable[[Obj], bool] = lambda rs: True, limit: int = 30
    ) -> list[list[int]]:
        """Alternate controller work and ReplicaSet reports until nothing changes; the sizes
        after each round of controller work."""
        trace: list[list[int]] = []
        for _ in range(limit):
            self.settle()
            trace.append(self.sizes(name))
            if not self.play_replica_sets(healthy):
                return trace
        raise AssertionError(f"no fixed point after {limit} rounds: {trace}")


@pytest.fixture(scope="module")
def solo_cluster() -> Iterator[tuple[LocalCluster, ControllerManager, DeploymentController]]:
    with LocalCluster(controllers=False, clock_scale=20) as cluster:
        manager = ControllerManager(cluster.api, cluster.clock)
        controller = DeploymentController(manager.context())
        manager.register(controller)
        manager.start()
        try:
            yield cluster, manager, controller
        finally:
            manager.stop()


@pytest.fixture
def solo(solo_cluster: tuple[LocalCluster, ControllerManager, DeploymentController]) -> Iterator[Solo]:
    cluster, manager, controller = solo_cluster
    s = Solo(cluster, manager, controller)
    s.namespace = f"s-{uuid.uuid4().hex[:8]}"
    cluster.api.create(s.rt("namespaces"), "", {"metadata": {"name": s.namespace}}, TEST)
    yield s
    assert manager.errors == []


@dataclass
class BoundsWatch:
    """Checks, on every ReplicaSet event of one namespace, the RollingUpdate bounds as the
    controller keeps them (rolling.go): Σ spec.replicas ≤ replicas + maxSurge, and the
    replicas that stay available (a ReplicaSet scaled below its available count loses the
    difference) ≥ replicas - maxUnavailable."""

    namespace: str
    max_total: int
    min_available: int
    initial: list[Obj] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def __call__(self, event: Event) -> None:  # called under the store lock: only record
        if event.obj["metadata"].get("namespace") == self.namespace:
            self.events.append(event)

    def check(self) -> None:
        state: dict[str, Obj] = {rs["metadata"]["name"]: rs for rs in self.initial}
        for event in self.events:
            name = event.obj["metadata"]["name"]
            if event.type == "DELETED":
                state.pop(name, None)
            else:
                state[name] = event.obj
            total = sum(du.spec_replicas(rs) for rs in state.values())
            available = sum(
                min(du.spec_replicas(rs), du.status_count(rs, "availableReplicas")) for rs in state.values()
            )
            assert total <= self.max_total, f"{total} replicas > {self.max_total} at rv {event.rv}"
            assert available >= self.min_available, (
                f"{available} available < {self.min_available} at rv {event.rv}"
            )


def watch_bounds(solo: Solo, max_total: int, min_available: int) -> tuple[BoundsWatch, int]:
    store = solo.cluster.store
    with store.lock:
        watch = BoundsWatch(
            solo.namespace, max_total, min_available, store.items(("apps", "replicasets"), solo.namespace)
        )
        token, _ = store.subscribe(("apps", "replicasets"), watch)
    return watch, token


def rolled_out(solo: Solo, name: str, image: str = "nginx:1.27", **kw: Any) -> None:
    solo.create(deployment_body(name, image=image, **kw))
    solo.rounds(name)


def test_rolling_update_follows_surge_then_scale_down(solo: Solo) -> None:
    # replicas 3, maxSurge 1, maxUnavailable 0: the new ReplicaSet starts at 1 (NewRSNewReplicas),
    # each available new replica lets one old one go (reconcileOldReplicaSets), and so on.
    rolled_out(solo, "web", replicas=3, surge=1, unavailable=0)
    watch, token = watch_bounds(solo, max_total=4, min_available=3)
    try:
        solo.set_image("web", "nginx:1.28")
        trace = solo.rounds("web")
    finally:
        solo.cluster.store.unsubscribe(token)
    assert trace == [[3, 1], [2, 2], [1, 3], [0, 3], [0, 3]]
    watch.check()
    d = solo.deployment("web")
    assert d["metadata"]["annotations"][du.REVISION] == "2"
    assert [du.revision(rs) for rs in solo.replica_sets("web")] == [1, 2]


def test_rolling_update_without_surge_scales_down_first(solo: Solo) -> None:
    # maxSurge 0, maxUnavailable 1: the new ReplicaSet is created with 0 replicas, one old
    # replica goes, then the new one takes its place.
    rolled_out(solo, "web", replicas=3, surge=0, unavailable=1)
    watch, token = watch_bounds(solo, max_total=3, min_available=2)
    try:
        solo.set_image("web", "nginx:1.28")
        trace = solo.rounds("web")
    finally:
        solo.cluster.store.unsubscribe(token)
    assert trace == [[2, 1], [1, 2], [0, 3], [0, 3]]
    watch.check()


def test_first_rollout_status_and_conditions(solo: Solo) -> None:
    solo.create(deployment_body("web", 3))
    solo.settle()
    d = solo.deployment("web")
    (rs,) = solo.replica_sets("web")
    # A fresh Deployment: the new ReplicaSet straight to 3 (no old pods to keep within surge).
    assert du.spec_replicas(rs) == 3
    pod_hash = rs["metadata"]["labels"][du.HASH_LABEL]
    assert rs["metadata"]["name"] == f"web-{pod_hash}" and 1 <= len(pod_hash) <= 10
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", du.HASH_LABEL: pod_hash}
    assert rs["spec"]["template"]["metadata"]["labels"] == {"app": "web", du.HASH_LABEL: pod_hash}
    assert rs["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "web",
            "uid": d["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert du.annotations_of(rs) == {du.REVISION: "1", du.DESIRED_REPLICAS: "3", du.MAX_REPLICAS: "4"}
    status = d["status"]
    assert status["observedGeneration"] == d["metadata"]["generation"]
    assert status["unavailableReplicas"] == 3
    assert "replicas" not in status and "availableReplicas" not in status  # zeros are omitted
    assert [(c["type"], c["status"], c["reason"]) for c in status["conditions"]] == [
        ("Progressing", "True", "NewReplicaSetCreated"),
        ("Available", "False", "MinimumReplicasUnavailable"),
    ]
    assert status["conditions"][0]["message"] == f'Created new replica set "{rs["metadata"]["name"]}"'

    solo.rounds("web")
    status = solo.deployment("web")["status"]
    assert {k: v for k, v in status.items() if k != "conditions"} == {
        "observedGeneration": solo.deployment("web")["metadata"]["generation"],
        "replicas": 3,
        "updatedReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
    }
    # Progressing was replaced, so it moved behind Available.
    assert [(c["type"], c["status"], c["reason"], c["message"]) for c in status["conditions"]] == [
        ("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."),
        (
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            f'ReplicaSet "{rs["metadata"]["name"]}" has successfully progressed.',
        ),
    ]
    progressing = status["conditions"][1]
    assert progressing["lastTransitionTime"] <= progressing["lastUpdateTime"]


def test_failing_new_pods_stop_the_rollout_at_its_bounds_then_time_out(solo: Solo) -> None:
    rolled_out(solo, "web", replicas=4, surge=1, unavailable=1, progressDeadlineSeconds=30)
    solo.set_image("web", "bad:1")
    # Old: replicas - maxUnavailable; new: maxSurge + maxUnavailable (rolling.go arithmetic).
    trace = solo.rounds("web", healthy=lambda rs: "bad" not in str(rs["spec"]["template"]))
    assert trace[-1] == [3, 2]
    new_name = solo.replica_sets("web")[-1]["metadata"]["name"]
    cond = du.get_condition(solo.deployment("web")["status"], "Progressing")
    assert cond is not None and cond["reason"] == "ReplicaSetUpdated"
    assert cond["message"] == f'ReplicaSet "{new_name}" is progressing.'
    # The controller asked to look again at lastUpdateTime + 30 s: jump past it.
    solo.cluster.clock.advance(31)

    def timed_out() -> Obj | None:
        c = du.get_condition(solo.deployment("web")["status"], "Progressing")
        return c if c is not None and c["reason"] == "ProgressDeadlineExceeded" else None

    cond = wait_for(timed_out, what="ProgressDeadlineExceeded")
    assert cond["status"] == "False"
    assert cond["message"] == f'ReplicaSet "{new_name}" has timed out progressing.'
    available = du.get_condition(solo.deployment("web")["status"], "Available")
    assert available is not None and available["status"] == "True"  # 3 of 4 >= 4 - 1


def test_scaling_mid_rollout_is_proportional(solo: Solo) -> None:
    rolled_out(solo, "web", replicas=4, surge=1, unavailable=1)
    solo.set_image("web", "bad:1")
    solo.rounds("web", healthy=lambda rs: "bad" not in str(rs["spec"]["template"]))
    assert solo.sizes("web") == [3, 2]

    def scale(d: Obj) -> None:
        d["spec"]["replicas"] = 8

    solo.edit("web", scale)
    solo.settle()
    # 4 more (8 + maxSurge 1 - 5), larger set first, each scaled by 9/5 from its max-replicas
    # annotation (getProportion): old round(3 * 9/5) = 5 (+2), new round(2 * 9/5) = 4 (+2).
    old, new = solo.replica_sets("web")
    assert (du.spec_replicas(old), du.spec_replicas(new)) == (5, 4)
    for rs in (old, new):
        assert du.annotations_of(rs)[du.DESIRED_REPLICAS] == "8"
        assert du.annotations_of(rs)[du.MAX_REPLICAS] == "9"


def test_scaling_a_complete_deployment_scales_its_only_replica_set(solo: Solo) -> None:
    rolled_out(solo, "web", replicas=2)

    def scale(d: Obj) -> None:
        d["spec"]["replicas"] = 5

    solo.edit("web", scale)
    solo.rounds("web")
    assert solo.sizes("web") == [5]
    d = solo.deployment("web")
    assert d["status"]["observedGeneration"] == d["metadata"]["generation"]
    assert d["status"]["availableReplicas"] == 5


def test_pause_and_resume(solo: Solo) -> None:
    rolled_out(solo, "web", replicas=2)

    def pause(d: Obj) -> None:
        d["spec"]["paused"] = True
        d["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"

    solo.edit("web", pause)
    solo.settle()
    d = solo.deployment("web")
    cond = du.get_condition(d["status"], "Progressing")
    assert cond is not None
    assert (cond["status"], cond["reason"], cond["message"]) == (
        "Unknown",
        "DeploymentPaused",
        "Deployment is paused",
    )
    assert len(solo.replica_sets("web")) == 1  # no rollout while paused
    assert d["status"]["observedGeneration"] == d["metadata"]["generation"]

    def resume(d: Obj) -> None:
        d["spec"]["paused"] = False

    solo.edit("web", resume)
    solo.settle()
    reasons = [c["reason"] for c in solo.deployment("web")["status"]["conditions"]]
    assert "DeploymentResumed" in reasons or "NewReplicaSetCreated" in reasons
    solo.rounds("web")
    assert solo.sizes("web") == [0, 2]


def test_recreate_waits_for_old_replicas_before_creating_the_new_set(solo: Solo) -> None:
    rolled_out(solo, "web", replicas=3, strategy="Recreate")
    solo.set_image("web", "nginx:1.28")
    solo.settle()
    assert solo.sizes("web") == [0]  # old scaled to 0, its replicas still reported
    solo.play_replica_sets()
    solo.settle()
    assert solo.sizes("web") == [0, 3]  # no old replica left: the new set, at full size
    solo.rounds("web")
    cond = du.get_condition(solo.deployment("web")["status"], "Progressing")
    assert cond is not None and cond["reason"] == "NewReplicaSetAvailable"


def test_revision_history_limit_deletes_the_oldest_idle_sets(solo: Solo) -> None:
    rolled_out(solo, "web", replicas=1, revisionHistoryLimit=1)
    for image in ("nginx:2", "nginx:3", "nginx:4"):
        solo.set_image("web", image)
        solo.rounds("web")
    rss = solo.replica_sets("web")
    assert [du.revision(rs) for rs in rss] == [3, 4]
    assert [rs["spec"]["template"]["spec"]["containers"][0]["image"] for rs in rss] == ["nginx:3", "nginx:4"]


def test_going_back_to_an_old_template_reuses_its_replica_set_with_a_new_revision(solo: Solo) -> None:
    rolled_out(solo, "web", replicas=2)
    first = solo.replica_sets("web")[0]["metadata"]["name"]
    solo.set_image("web", "nginx:1.28")
    solo.rounds("web")
    solo.set_image("web", "nginx:1.27")  # what `kubectl rollout undo` amounts to
    solo.rounds("web")
    rss = {rs["metadata"]["name"]: rs for rs in solo.replica_sets("web")}
    assert len(rss) == 2
    assert du.annotations_of(rss[first])[du.REVISION] == "3"
    assert du.annotations_of(rss[first])[du.REVISION_HISTORY] == "1"
    assert du.spec_replicas(rss[first]) == 2
    assert solo.deployment("web")["metadata"]["annotations"][du.REVISION] == "3"


def test_deprecated_rollback_to_annotation_restores_the_previous_template(solo: Solo) -> None:
    rolled_out(solo, "web", replicas=1)
    solo.set_image("web", "nginx:1.28")
    solo.rounds("web")

    def rollback(d: Obj) -> None:
        d["metadata"]["annotations"][du.ROLLBACK_TO] = "0"

    solo.edit("web", rollback)
    solo.rounds("web")
    d = solo.deployment("web")
    assert du.ROLLBACK_TO not in d["metadata"]["annotations"]
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert d["metadata"]["annotations"][du.REVISION] == "3"


def test_annotation_only_changes_are_observed_and_copied_to_the_new_set(solo: Solo) -> None:
    rolled_out(solo, "web", replicas=1)

    def annotate(d: Obj) -> None:
        d["metadata"]["annotations"]["team"] = "blue"
        d["metadata"]["annotations"][du.LAST_APPLIED] = "{}"

    solo.edit("web", annotate)
    solo.settle()
    d = solo.deployment("web")
    assert d["status"]["observedGeneration"] == d["metadata"]["generation"]
    (rs,) = solo.replica_sets("web")
    assert du.annotations_of(rs)["team"] == "blue"
    assert du.LAST_APPLIED not in du.annotations_of(rs)


def test_min_ready_seconds_follows_the_deployment_without_a_new_replica_set(solo: Solo) -> None:
    rolled_out(solo, "web", replicas=1)

    def slow(d: Obj) -> None:
        d["spec"]["minReadySeconds"] = 7

    solo.edit("web", slow)
    solo.settle()
    (rs,) = solo.replica_sets("web")  # minReadySeconds is not part of the pod template
    assert rs["spec"]["minReadySeconds"] == 7
    d = solo.deployment("web")
    assert d["status"]["observedGeneration"] == d["metadata"]["generation"]


def test_hash_collision_bumps_collision_count(solo: Solo) -> None:
    solo.create(deployment_body("web", 1, paused=True))
    solo.settle()
    template = solo.deployment("web")["spec"]["template"]
    taken = f"web-{du.compute_hash(template, None)}"
    # Someone else's ReplicaSet holds the name the controller would choose.
    other = deployment_body("other", 0)["spec"]
    solo.cluster.api.create(
        solo.rt("replicasets"),
        solo.namespace,
        {
            "metadata": {"name": taken, "labels": {"app": "other"}},
            "spec": {"replicas": 0, "selector": other["selector"], "template": other["template"]},
        },
        TEST,
    )

    def resume(d: Obj) -> None:
        d["spec"]["paused"] = False

    solo.edit("web", resume)
    solo.settle()
    d = solo.deployment("web")
    assert d["status"]["collisionCount"] == 1
    (rs,) = solo.replica_sets("web")
    assert rs["metadata"]["name"] == f"web-{du.compute_hash(template, 1)}"


def test_orphaned_replica_set_with_the_template_is_adopted_not_duplicated(solo: Solo) -> None:
    solo.create(deployment_body("web", 2))
    solo.rounds("web")
    (rs,) = solo.replica_sets("web")
    # Delete the Deployment orphaning its ReplicaSet, then create it again.
    solo.cluster.api.delete(solo.rt("deployments"), solo.namespace, "web", {"propagationPolicy": "Orphan"})
    wait_for(
        lambda: (
            solo.cluster.store.get(("apps", "deployments"), (solo.namespace, "web")) is None
            and not du.controller_of(
                solo.cluster.store.get(("apps", "replicasets"), (solo.namespace, rs["metadata"]["name"]))
            )
        ),
        what="orphaning",
    )
    solo.create(deployment_body("web", 2))
    solo.rounds("web")
    (adopted,) = solo.replica_sets("web")
    assert adopted["metadata"]["name"] == rs["metadata"]["name"]
    assert adopted["metadata"]["uid"] == rs["metadata"]["uid"]


def test_replica_failure_is_copied_from_the_replica_set(solo: Solo) -> None:
    solo.create(deployment_body("web", 1))
    solo.settle()
    (rs,) = solo.replica_sets("web")
    body = copy.deepcopy(rs)
    failure = {
        "type": "ReplicaFailure",
        "status": "True",
        "lastTransitionTime": "2024-01-01T00:00:00Z",
        "reason": "FailedCreate",
        "message": 'pods "web-x" is forbidden: exceeded quota',
    }
    body["status"] = {"replicas": 0, "conditions": [failure]}
    solo.cluster.api.update(
        solo.rt("replicasets"), solo.namespace, rs["metadata"]["name"], body, FAKE_RS, "status"
    )
    solo.settle()
    cond = du.get_condition(solo.deployment("web")["status"], "ReplicaFailure")
    assert cond == {
        "type": "ReplicaFailure",
        "status": "True",
        "lastUpdateTime": "2024-01-01T00:00:00Z",
        "lastTransitionTime": "2024-01-01T00:00:00Z",
        "reason": "FailedCreate",
        "message": 'pods "web-x" is forbidden: exceeded quota',
    }


def test_the_controller_never_mutates_stored_objects(solo: Solo) -> None:
    """Every object the store emitted is unchanged afterwards (the controller edits copies)."""
    emitted: list[tuple[Obj, Obj]] = []

    def record(event: Event) -> None:
        emitted.append((event.obj, copy.deepcopy(event.obj)))

    token, _ = solo.cluster.store.subscribe(None, record)
    try:
        rolled_out(solo, "web", replicas=3, surge=1, unavailable=1, revisionHistoryLimit=1)
        for image in ("nginx:2", "nginx:3", "nginx:1.27"):  # the last one goes back (rollback)
            solo.set_image("web", image)
            solo.rounds("web")

        def scale_and_annotate(d: Obj) -> None:
            d["spec"]["replicas"] = 5
            d["metadata"]["annotations"]["team"] = "blue"

        solo.edit("web", scale_and_annotate)
        solo.rounds("web")
    finally:
        solo.cluster.store.unsubscribe(token)
    assert len(emitted) > 20
    for obj, snapshot in emitted:
        assert obj == snapshot, obj["metadata"]["name"]


def test_a_hundred_deployments_roll_out_without_scanning_the_namespace(
    solo: Solo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """100 Deployments x 10 replicas: each sync touches only its own ReplicaSets (owner
    index), never a list of the namespace's ReplicaSets or pods."""
    listed: list[tuple[str, ...]] = []
    ctx = solo.controller.ctx
    real_items = ctx.items

    def items(group: str, plural: str, namespace: str | None = None) -> list[Obj]:
        listed.append((group, plural))
        return real_items(group, plural, namespace)

    monkeypatch.setattr(ctx, "items", items)
    names = [f"d{i:03d}" for i in range(100)]
    for name in names:
        solo.create(deployment_body(name, 10))
    start = time.monotonic()
    for _ in range(5):
        solo.settle()
        if not solo.play_replica_sets():
            break
    for name in names:
        solo.set_image(name, "nginx:1.28")
    for _ in range(30):
        solo.settle()
        if not solo.play_replica_sets():
            break
    elapsed = time.monotonic() - start
    for name in names:
        assert solo.sizes(name) == [0, 10]
        assert du.deployment_complete(solo.deployment(name), solo.deployment(name)["status"])
    assert ("apps", "replicasets") not in listed and ("", "pods") not in listed
    assert elapsed < 60, f"100 rollouts took {elapsed:.1f} s"


# ================================================================================ live

FAST_PODS = {
    # Simulated seconds: pods start and become ready quickly, but not at once.
    "localcluster.gitops.dev/start-after": "0.2",
    "localcluster.gitops.dev/ready-after": "0.2",
}

ROLLOUT_LINE = re.compile(
    r'Waiting for deployment "(?P<name>[^"]+)" rollout to finish: (?:'
    r"(?P<updated>\d+) out of (?P<want>\d+) new replicas have been updated"
    r"|(?P<old>\d+) old replicas are pending termination"
    r"|(?P<available>\d+) of (?P<of>\d+) updated replicas are available)\.\.\.$"
    r"|Waiting for deployment spec update to be observed\.\.\.$"
    r'|deployment "(?P<done>[^"]+)" successfully rolled out$'
)


def live_get(cluster: LocalCluster, plural: str, namespace: str, name: str) -> Obj | None:
    group = "" if plural == "pods" else "apps"
    return cluster.store.get((group, plural), (namespace, name))


def live_replica_sets(cluster: LocalCluster, namespace: str, name: str) -> list[Obj]:
    d = live_get(cluster, "deployments", namespace, name)
    assert d is not None
    uid = d["metadata"]["uid"]
    return du.by_revision(
        rs
        for rs in cluster.store.items(("apps", "replicasets"), namespace)
        if (du.controller_of(rs) or {}).get("uid") == uid
    )


def rollout_complete(d: Obj | None) -> bool:
    """``kubectl rollout status``'s verdict (rollout_status.go), plus the Progressing reason."""
    if d is None:
        return False
    status = d.get("status") or {}
    if int(status.get("observedGeneration") or 0) < int(d["metadata"].get("generation") or 0):
        return False
    cond = du.get_condition(status, "Progressing")
    return (
        du.deployment_complete(d, status)
        and int(status.get("replicas") or 0) == int(status.get("updatedReplicas") or 0)
        and cond is not None
        and cond["reason"] == "NewReplicaSetAvailable"
    )


def wait_complete(cluster: LocalCluster, namespace: str, name: str, timeout: float = 30) -> Obj:
    def complete() -> Obj | None:
        d = live_get(cluster, "deployments", namespace, name)
        return d if rollout_complete(d) else None

    found: Obj = wait_for(complete, timeout, f"Deployment/{namespace}/{name} to complete")
    return found


def apply(kubectl: Kubectl, namespace: str, body: Obj) -> str:
    return kubectl.run("apply", "-n", namespace, "-f", "-", input=json.dumps(body)).stdout.strip()


class Lines:
    """A kubectl run in the background whose stdout lines arrive as they are printed."""

    def __init__(self, kubectl: Kubectl, *args: str) -> None:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(kubectl.home),
            "KUBECONFIG": str(kubectl.kubeconfig),
            "KUBECTL_COMMAND_HEADERS": "false",
        }
        self.proc = subprocess.Popen(
            [KUBECTL, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self.lines)

    def finish(self, timeout: float = 60) -> tuple[int, list[str], str]:
        try:
            code = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        self._reader.join(5)
        assert self.proc.stderr is not None
        return code, self.snapshot(), self.proc.stderr.read()


def distinct(lines: list[str]) -> list[str]:
    """Lines without consecutive repeats (kubectl prints one per watch event)."""
    return [line for i, line in enumerate(lines) if i == 0 or line != lines[i - 1]]


@pytest.fixture
def clock(live_cluster: LocalCluster) -> Iterator[Clock]:
    """The live cluster's clock, for a test that stops and moves time itself; its 20x speed
    comes back afterwards."""
    try:
        yield live_cluster.clock
    finally:
        live_cluster.clock.set_scale(LIVE_CLOCK_SCALE)


@pytest.mark.kubectl
def test_rollout_status_prints_progress_then_success(
    live_cluster: LocalCluster, live_kubectl: Kubectl, live_namespace: str, clock: Clock
) -> None:
    cluster, ns = live_cluster, live_namespace
    apply(live_kubectl, ns, deployment_body("x", 1))
    wait_complete(cluster, ns, "x")
    clock.set_scale(0.001)  # from here, pods only move when the test moves time
    assert (
        live_kubectl.run("scale", "-n", ns, "deployment/x", "--replicas=3").stdout.strip()
        == "deployment.apps/x scaled"
    )
    wait_for(
        lambda: (
            (d := live_get(cluster, "deployments", ns, "x"))
            and d["status"].get("observedGeneration") == d["metadata"]["generation"]
            and d["status"].get("updatedReplicas") == 3
        ),
        what="the scale-up to be observed",
    )
    status = Lines(live_kubectl, "rollout", "status", "-n", ns, "deployment/x")
    wait_for(lambda: status.snapshot(), what="kubectl's first line")
    while status.proc.poll() is None:
        clock.advance(0.5)
        wait_for(lambda: status.proc.poll() is not None or cluster.settle(0.05), what="controllers to settle")
    code, lines, stderr = status.finish()
    assert code == 0, stderr
    lines = distinct(lines)
    assert (
        lines[0] == 'Waiting for deployment "x" rollout to finish: 1 of 3 updated replicas are available...'
    )
    assert lines[-1] == 'deployment "x" successfully rolled out'
    for line in lines[1:-1]:
        assert (
            line == 'Waiting for deployment "x" rollout to finish: 2 of 3 updated replicas are available...'
        )


@pytest.mark.kubectl
def test_rollout_status_of_a_rolling_update(
    live_cluster: LocalCluster, live_kubectl: Kubectl, live_namespace: str
) -> None:
    ns = live_namespace
    apply(live_kubectl, ns, deployment_body("x", 3, surge=1, unavailable=0))
    wait_complete(live_cluster, ns, "x")
    live_kubectl.run("set", "image", "-n", ns, "deployment/x", "main=nginx:1.28")
    out = live_kubectl.run("rollout", "status", "-n", ns, "deployment/x").stdout.splitlines()
    assert out[-1] == 'deployment "x" successfully rolled out'
    for line in out:
        m = ROLLOUT_LINE.match(line)
        assert m is not None, line
        assert m["name"] in (None, "x") and m["done"] in (None, "x")
        if m["want"]:
            assert m["want"] == "3" and int(m["updated"]) < 3
        if m["of"]:
            assert m["of"] == "3" and int(m["available"]) < 3
    d = wait_complete(live_cluster, ns, "x")
    assert d["metadata"]["annotations"][du.REVISION] == "2"
    old, new = live_replica_sets(live_cluster, ns, "x")
    assert (du.spec_replicas(old), du.spec_replicas(new)) == (0, 3)


@pytest.mark.kubectl
def test_rollout_status_fails_when_the_progress_deadline_is_exceeded(
    live_cluster: LocalCluster, live_kubectl: Kubectl, live_namespace: str
) -> None:
    ns = live_namespace
    apply(live_kubectl, ns, deployment_body("x", 2, progressDeadlineSeconds=10))
    wait_complete(live_cluster, ns, "x")
    live_kubectl.run("set", "image", "-n", ns, "deployment/x", "main=bad:1")
    proc = live_kubectl.run("rollout", "status", "-n", ns, "deployment/x", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == 'error: deployment "x" exceeded its progress deadline'
    for line in proc.stdout.splitlines():
        assert ROLLOUT_LINE.match(line), line
    d = live_get(live_cluster, "deployments", ns, "x")
    assert d is not None
    cond = du.get_condition(d["status"], "Progressing")
    new = live_replica_sets(live_cluster, ns, "x")[-1]
    assert cond is not None and (cond["status"], cond["reason"], cond["message"]) == (
        "False",
        "ProgressDeadlineExceeded",
        f'ReplicaSet "{new["metadata"]["name"]}" has timed out progressing.',
    )


@pytest.mark.kubectl
def test_rollout_status_times_out_on_a_stuck_rollout(
    live_cluster: LocalCluster, live_kubectl: Kubectl, live_namespace: str
) -> None:
    ns = live_namespace
    apply(live_kubectl, ns, deployment_body("x", 2))
    wait_complete(live_cluster, ns, "x")
    live_kubectl.run("set", "image", "-n", ns, "deployment/x", "main=bad:1")
    proc = live_kubectl.run("rollout", "status", "-n", ns, "deployment/x", "--timeout=2s", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: timed out waiting for the condition"
    assert proc.stdout.splitlines()[-1].startswith('Waiting for deployment "x" rollout to finish: ')


def history(kubectl: Kubectl, namespace: str, name: str) -> list[tuple[str, str]]:
    out = kubectl.run("rollout", "history", "-n", namespace, f"deployment/{name}").stdout.splitlines()
    assert out[0].strip() == f"deployment.apps/{name}"
    assert out[1].split() == ["REVISION", "CHANGE-CAUSE"]
    rows = [line.split(None, 1) for line in out[2:] if line.strip()]
    return [(r[0], r[1].strip()) for r in rows]


@pytest.mark.kubectl
def test_rollout_undo_reuses_the_old_replica_set(
    live_cluster: LocalCluster, live_kubectl: Kubectl, live_namespace: str
) -> None:
    ns = live_namespace
    apply(live_kubectl, ns, deployment_body("x", 2, annotations={"kubernetes.io/change-cause": "first"}))
    wait_complete(live_cluster, ns, "x")
    (first,) = live_replica_sets(live_cluster, ns, "x")
    # The cause and the template change in one write: an annotation alone would be copied to the
    # current ReplicaSet (copyDeploymentAnnotationsToReplicaSet), as on a real cluster.
    apply(
        live_kubectl,
        ns,
        deployment_body("x", 2, "nginx:1.28", annotations={"kubernetes.io/change-cause": "second"}),
    )
    wait_complete(live_cluster, ns, "x")
    assert history(live_kubectl, ns, "x") == [("1", "first"), ("2", "second")]

    assert (
        live_kubectl.run("rollout", "undo", "-n", ns, "deployment/x").stdout.strip()
        == "deployment.apps/x rolled back"
    )
    d = wait_complete(live_cluster, ns, "x")
    assert d["metadata"]["annotations"][du.REVISION] == "3"
    assert d["metadata"]["annotations"]["kubernetes.io/change-cause"] == "first"
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    rss = live_replica_sets(live_cluster, ns, "x")
    assert len(rss) == 2
    second, reused = rss
    assert reused["metadata"]["name"] == first["metadata"]["name"]
    assert reused["metadata"]["uid"] == first["metadata"]["uid"]
    assert du.annotations_of(reused)[du.REVISION] == "3"
    assert du.annotations_of(reused)[du.REVISION_HISTORY] == "1"
    assert (du.spec_replicas(second), du.spec_replicas(reused)) == (0, 2)
    assert history(live_kubectl, ns, "x") == [("2", "second"), ("3", "first")]

    out = live_kubectl.run("rollout", "undo", "-n", ns, "deployment/x", "--to-revision=2").stdout.strip()
    assert out == "deployment.apps/x rolled back"
    d = wait_complete(live_cluster, ns, "x")
    assert d["metadata"]["annotations"][du.REVISION] == "4"
    assert [rs["metadata"]["name"] for rs in live_replica_sets(live_cluster, ns, "x")] == [
        first["metadata"]["name"],
        second["metadata"]["name"],
    ]
    shown = live_kubectl.run("rollout", "history", "-n", ns, "deployment/x", "--revision=4").stdout
    assert "deployment.apps/x with revision #4" in shown and "nginx:1.28" in shown


@pytest.mark.kubectl
def test_rollout_restart_makes_a_new_replica_set(
    live_cluster: LocalCluster, live_kubectl: Kubectl, live_namespace: str
) -> None:
    ns = live_namespace
    apply(live_kubectl, ns, deployment_body("x", 2))
    wait_complete(live_cluster, ns, "x")
    (before,) = live_replica_sets(live_cluster, ns, "x")
    assert (
        live_kubectl.run("rollout", "restart", "-n", ns, "deployment/x").stdout.strip()
        == "deployment.apps/x restarted"
    )
    d = wait_complete(live_cluster, ns, "x")
    assert "kubectl.kubernetes.io/restartedAt" in d["spec"]["template"]["metadata"]["annotations"]
    old, new = live_replica_sets(live_cluster, ns, "x")
    assert old["metadata"]["name"] == before["metadata"]["name"]
    assert new["metadata"]["name"] != before["metadata"]["name"]
    assert (du.spec_replicas(old), du.spec_replicas(new)) == (0, 2)
    assert d["metadata"]["annotations"][du.REVISION] == "2"
    assert [rev for rev, _ in history(live_kubectl, ns, "x")] == ["1", "2"]


@pytest.mark.kubectl
def test_kubectl_scale(live_cluster: LocalCluster, live_kubectl: Kubectl, live_namespace: str) -> None:
    ns = live_namespace
    apply(live_kubectl, ns, deployment_body("x", 2))
    wait_complete(live_cluster, ns, "x")
    assert (
        live_kubectl.run("scale", "-n", ns, "deployment/x", "--replicas=5").stdout.strip()
        == "deployment.apps/x scaled"
    )
    d = wait_complete(live_cluster, ns, "x")
    assert d["status"]["availableReplicas"] == 5
    (rs,) = live_replica_sets(live_cluster, ns, "x")
    assert du.spec_replicas(rs) == 5 and du.annotations_of(rs)[du.DESIRED_REPLICAS] == "5"
    live_kubectl.run("scale", "-n", ns, "deployment/x", "--replicas=0")
    d = wait_complete(live_cluster, ns, "x")
    assert {k for k in d["status"] if k != "conditions"} == {"observedGeneration"}
    pods = [
        p for p in live_cluster.store.items(("", "pods"), ns) if not p["metadata"].get("deletionTimestamp")
    ]
    assert pods == []


# ------------------------------------------------------------ bounds, on every event


def exercise_rolling_update(
    cluster: LocalCluster,
    namespace: str,
    name: str,
    replicas: int,
    surge: int | str,
    unavailable: int | str,
    failing: bool,
) -> None:
    """Roll ``name`` out, then to a new image (one that never pulls when ``failing``), checking
    the bounds on every event; a good rollout must complete, a failing one must stop where
    rolling.go stops it: old at replicas - maxUnavailable, new at min(maxSurge + maxUnavailable,
    replicas)."""
    api, d_rt = cluster.api, cluster.registry.by_plural("apps", "v1", "deployments")
    assert d_rt is not None
    body = deployment_body(
        name, replicas, surge=surge, unavailable=unavailable, template_annotations=FAST_PODS
    )
    api.create(d_rt, namespace, body, TEST)
    d = wait_complete(cluster, namespace, name)
    max_surge, max_unavailable = du.max_surge(d), du.max_unavailable(d)
    bounds, token = watch_pods(cluster, namespace, name, replicas + max_surge, replicas - max_unavailable)
    try:
        new = copy.deepcopy(d)
        new["spec"]["template"]["spec"]["containers"][0]["image"] = "bad:2" if failing else "nginx:1.28"
        api.update(d_rt, namespace, name, new, TEST)
        if failing:
            want = [replicas - max_unavailable, min(max_surge + max_unavailable, replicas)]

            def stalled() -> bool:
                rss = live_replica_sets(cluster, namespace, name)
                return [du.spec_replicas(rs) for rs in rss] == want and du.status_count(
                    rss[-1], "replicas"
                ) == want[1]

            wait_for(stalled, 30, f"the rollout to stall at {want}")
        else:
            d = wait_complete(cluster, namespace, name)
            assert d["status"]["updatedReplicas"] == d["status"]["availableReplicas"] == replicas
            old, current = live_replica_sets(cluster, namespace, name)
            assert du.spec_replicas(old) == 0 and du.status_count(old, "replicas") == 0
            assert du.spec_replicas(current) == replicas
    finally:
        cluster.store.unsubscribe(token)
    assert bounds.check() > 0


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable"),
    [(5, 2, 1), (4, "50%", "25%"), (3, 0, 1), (6, "25%", 0), (2, 0, "100%")],
)
def test_rolling_update_keeps_pods_within_bounds(
    live_cluster: LocalCluster, live_namespace: str, replicas: int, surge: int | str, unavailable: int | str
) -> None:
    exercise_rolling_update(live_cluster, live_namespace, "web", replicas, surge, unavailable, failing=False)


def test_failing_rolling_update_keeps_old_pods_available(
    live_cluster: LocalCluster, live_namespace: str
) -> None:
    exercise_rolling_update(live_cluster, live_namespace, "web", 5, 1, 2, failing=True)


def test_recreate_starts_new_pods_only_after_every_old_pod_is_gone(
    live_cluster: LocalCluster, live_namespace: str
) -> None:
    ns = live_namespace
    api, d_rt = live_cluster.api, live_cluster.registry.by_plural("apps", "v1", "deployments")
    assert d_rt is not None
    api.create(d_rt, ns, deployment_body("web", 3, strategy="Recreate", template_annotations=FAST_PODS), TEST)
    d = wait_complete(live_cluster, ns, "web")
    (old_rs,) = live_replica_sets(live_cluster, ns, "web")
    bounds, token = watch_pods(live_cluster, ns, "web", 3, 0)
    try:
        new = copy.deepcopy(d)
        new["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
        api.update(d_rt, ns, "web", new, TEST)
        wait_complete(live_cluster, ns, "web")
    finally:
        live_cluster.store.unsubscribe(token)
    old_uid = old_rs["metadata"]["uid"]
    pods: dict[str, Obj] = {}
    for event in bounds.events:
        if event.plural != "pods":
            continue
        if event.type == "DELETED":
            pods.pop(event.obj["metadata"]["name"], None)
        else:
            pods[event.obj["metadata"]["name"]] = event.obj
        owners = {(du.controller_of(p) or {}).get("uid") for p in pods.values()}
        assert not (old_uid in owners and len(owners - {old_uid}) > 0), (
            f"old and new pods together at rv {event.rv}"
        )


_SIZES = st.one_of(st.integers(0, 3), st.sampled_from(["0%", "25%", "50%", "100%"]))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(replicas=st.integers(1, 6), surge=_SIZES, unavailable=_SIZES, failing=st.booleans())
def test_rolling_update_property(
    live_cluster: LocalCluster,
    live_namespace: str,
    replicas: int,
    surge: int | str,
    unavailable: int | str,
    failing: bool,
) -> None:
    # Validation refuses maxSurge and maxUnavailable both 0 (K8S-API.md §6.2).
    assume(str(surge).rstrip("%") != "0" or str(unavailable).rstrip("%") != "0")
    name = f"p-{uuid.uuid4().hex[:8]}"
    exercise_rolling_update(live_cluster, live_namespace, name, replicas, surge, unavailable, failing)
    d_rt = live_cluster.registry.by_plural("apps", "v1", "deployments")
    assert d_rt is not None
    live_cluster.api.delete(d_rt, live_namespace, name, {})
