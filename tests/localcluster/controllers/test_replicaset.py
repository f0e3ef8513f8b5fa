"""The ReplicaSet controller (``controllers/replicaset.py``) against 1.32 behaviour.

Expectations: ``pkg/controller/replicaset/replica_set.go`` (``manageReplicas``,
``calculateStatus``, the minReadySeconds requeue), ``pkg/controller/controller_ref_manager.go``
(adoption and release), ``pkg/controller/controller_utils.go`` (``GetPodFromTemplate``,
``ActivePodsWithRanks``) and ``apps/v1`` ``ReplicaSetStatus`` JSON tags (``replicas`` always
present, the other counts ``omitempty``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gitops.localcluster import LocalCluster, errors
from gitops.localcluster.controllers import pods as podsim
from gitops.localcluster.controllers.replicaset import deletion_order
from tests.conftest import Kubectl
from tests.localcluster.controllers.simkit import (
    advance,
    create,
    get,
    pod,
    pod_body,
    pods,
    rt,
    sim_cluster,
    update,
    wait_for,
)

Obj = dict[str, Any]
NAME = re.compile(r"^web-[bcdfghjklmnpqrstvwxz2456789]{5}$")


def rs_body(replicas: int, annotations: dict[str, str] | None = None, **spec: Any) -> Obj:
    template_meta: Obj = {"labels": {"app": "web", "tier": "front"}}
    if annotations:
        template_meta["annotations"] = annotations
    body: Obj = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": template_meta,
                "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
            },
        },
    }
    body["spec"].update(spec)
    return body


def _rs(cluster: LocalCluster, namespace: str, name: str = "web") -> Obj:
    rs = get(cluster, "apps", "replicasets", namespace, name)
    assert rs is not None
    return rs


def _active(cluster: LocalCluster, namespace: str) -> list[Obj]:
    return [p for p in pods(cluster, namespace) if not p["metadata"].get("deletionTimestamp")]


def _scale(cluster: LocalCluster, namespace: str, replicas: int) -> None:
    update(
        cluster, "apps", "replicasets", namespace, "web", lambda r: r["spec"].update({"replicas": replicas})
    )


def test_replicaset_creates_pods_from_its_template(live_cluster: LocalCluster, live_namespace: str) -> None:
    rs = create(live_cluster, "apps", "replicasets", live_namespace, rs_body(3, annotations={"team": "shop"}))
    wait_for(lambda: len(pods(live_cluster, live_namespace)) == 3, what="3 pods")
    for p in pods(live_cluster, live_namespace):
        meta = p["metadata"]
        assert NAME.match(meta["name"]), meta["name"]
        assert meta["generateName"] == "web-"
        assert meta["labels"] == {"app": "web", "tier": "front"}
        assert meta["annotations"] == {"team": "shop"}
        assert meta["ownerReferences"] == [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web",
                "uid": rs["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        assert p["spec"]["containers"][0]["image"] == "nginx:1.27"

    def ready() -> Obj | None:
        status = _rs(live_cluster, live_namespace).get("status") or {}
        return status if status.get("availableReplicas") == 3 else None

    status = wait_for(ready, what="3 available")
    assert status == {
        "replicas": 3,
        "fullyLabeledReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "observedGeneration": 1,
    }


def test_replicaset_scales_down_and_zero_counts_are_omitted(
    live_cluster: LocalCluster, live_namespace: str
) -> None:
    create(live_cluster, "apps", "replicasets", live_namespace, rs_body(4))
    wait_for(lambda: (_rs(live_cluster, live_namespace).get("status") or {}).get("readyReplicas") == 4)
    _scale(live_cluster, live_namespace, 1)
    wait_for(lambda: len(pods(live_cluster, live_namespace)) == 1, what="surplus pods gone")
    _scale(live_cluster, live_namespace, 0)
    wait_for(lambda: not pods(live_cluster, live_namespace), what="no pods")
    wait_for(
        lambda: _rs(live_cluster, live_namespace).get("status") == {"replicas": 0, "observedGeneration": 3}
    )


def test_terminating_pods_do_not_count_and_are_replaced(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(c, "apps", "replicasets", "default", rs_body(2, annotations={podsim.TERMINATE_AFTER: "600"}))
        assert c.settle()
        advance(c, 3)
        victim = pods(c, "default")[0]["metadata"]["name"]
        c.api.delete(rt(c, "", "pods"), "default", victim, {})
        assert c.settle()
        assert len(pods(c, "default")) == 3  # the terminating pod and its replacement
        assert pod(c, "default", victim)["metadata"]["deletionTimestamp"]  # type: ignore[index]
        assert len(_active(c, "default")) == 2
        status = _rs(c, "default")["status"]
        assert status["replicas"] == 2 and status["readyReplicas"] == 1
        advance(c, 3)
        assert _rs(c, "default")["status"]["readyReplicas"] == 2


def test_min_ready_seconds_delays_availability(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(
            c,
            "apps",
            "replicasets",
            "default",
            rs_body(2, annotations={podsim.START_AFTER: "0", podsim.READY_AFTER: "5"}, minReadySeconds=60),
        )
        assert c.settle()
        advance(c, 6)
        status = _rs(c, "default")["status"]
        assert status["readyReplicas"] == 2 and "availableReplicas" not in status
        advance(c, 50)
        assert "availableReplicas" not in _rs(c, "default")["status"]
        advance(c, 12)  # Ready for more than 60 s (seconds precision of lastTransitionTime)
        assert _rs(c, "default")["status"]["availableReplicas"] == 2


def test_replicaset_adopts_matching_orphans_and_releases_pods_that_stop_matching(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(c, "", "pods", "default", pod_body("stray", labels={"app": "web", "tier": "front"}))
        create(c, "", "pods", "default", pod_body("other", labels={"app": "db"}))
        assert c.settle()
        rs = create(c, "apps", "replicasets", "default", rs_body(2))
        assert c.settle()
        stray = pod(c, "default", "stray")
        assert stray is not None
        assert [r["uid"] for r in stray["metadata"]["ownerReferences"]] == [rs["metadata"]["uid"]]
        assert stray["metadata"]["ownerReferences"][0]["controller"] is True
        assert "ownerReferences" not in pod(c, "default", "other")["metadata"]  # type: ignore[index]
        assert len(pods(c, "default")) == 3  # the stray counted as one replica
        # Relabel one owned pod: it is released and replaced.
        update(c, "", "pods", "default", "stray", lambda p: p["metadata"]["labels"].update({"app": "debug"}))
        assert c.settle()
        released = pod(c, "default", "stray")
        # (The real server drops the emptied list, omitempty; this one may keep ``[]``.)
        assert released is not None and not released["metadata"].get("ownerReferences")
        owned = [p for p in pods(c, "default") if p["metadata"].get("ownerReferences")]
        assert len(owned) == 2


def test_scale_down_deletes_the_least_useful_pods_first(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        labels = {"app": "web", "tier": "front"}
        create(
            c,
            "",
            "pods",
            "default",
            pod_body("unscheduled", labels=labels, annotations={podsim.STATE: "Pending"}),
        )
        create(
            c,
            "",
            "pods",
            "default",
            pod_body("creating", labels=labels, annotations={podsim.START_AFTER: "3600"}),
        )
        create(
            c,
            "",
            "pods",
            "default",
            pod_body("unready", labels=labels, annotations={podsim.STATE: "NotReady"}),
        )
        create(
            c, "", "pods", "default", pod_body("old", labels=labels, annotations={podsim.START_AFTER: "0"})
        )
        assert c.settle()
        advance(c, 100)
        create(
            c, "", "pods", "default", pod_body("young", labels=labels, annotations={podsim.START_AFTER: "0"})
        )
        assert c.settle()
        advance(c, 2)
        create(c, "apps", "replicasets", "default", rs_body(5))
        assert c.settle()
        assert len(pods(c, "default")) == 5  # all adopted, none created
        kept_after = {
            4: {"creating", "unready", "old", "young"},
            3: {"unready", "old", "young"},
            2: {"old", "young"},
            1: {"old"},  # ready for longer (log2 scale: 100 s vs 2 s)
        }
        for replicas, expected in kept_after.items():
            _scale(c, "default", replicas)
            assert c.settle()
            assert {p["metadata"]["name"] for p in _active(c, "default")} == expected


def test_replica_failure_condition_reports_create_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sim_cluster(tmp_path) as c:
        real_create = c.api.create
        quota = errors.forbidden(
            "pods",
            "",
            "web-abcde",
            "exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2",
        )

        def failing_create(rtype: Any, namespace: str, body: Any, opts: Any, **kw: Any) -> Any:
            if rtype.plural == "pods":
                raise quota
            return real_create(rtype, namespace, body, opts, **kw)

        monkeypatch.setattr(c.api, "create", failing_create)
        create(c, "apps", "replicasets", "default", rs_body(2))  # the helper calls through the patch
        assert c.settle()
        status = _rs(c, "default")["status"]
        failure = status["conditions"][0]
        assert (failure["type"], failure["status"], failure["reason"]) == (
            "ReplicaFailure",
            "True",
            "FailedCreate",
        )
        assert failure["message"] == quota.message
        assert status["replicas"] == 0
        monkeypatch.setattr(c.api, "create", real_create)
        _scale(c, "default", 3)
        assert c.settle()
        status = _rs(c, "default")["status"]
        assert "conditions" not in status
        assert len(pods(c, "default")) == 3


def test_deleting_a_replicaset_removes_its_pods(live_cluster: LocalCluster, live_namespace: str) -> None:
    create(live_cluster, "apps", "replicasets", live_namespace, rs_body(3))
    wait_for(lambda: (_rs(live_cluster, live_namespace).get("status") or {}).get("readyReplicas") == 3)
    live_cluster.api.delete(rt(live_cluster, "apps", "replicasets"), live_namespace, "web", {})
    wait_for(lambda: not pods(live_cluster, live_namespace), what="pods gone")


def test_kubectl_scale_and_get_replicasets(
    live_cluster: LocalCluster, live_kubectl: Kubectl, live_namespace: str
) -> None:
    create(live_cluster, "apps", "replicasets", live_namespace, rs_body(1))
    live_kubectl.run("scale", "rs", "web", "--replicas=3", "-n", live_namespace)
    wait_for(lambda: (_rs(live_cluster, live_namespace).get("status") or {}).get("readyReplicas") == 3)
    row = live_kubectl.run("get", "rs", "web", "-n", live_namespace, "--no-headers").stdout.split()
    assert row[:4] == ["web", "3", "3", "3"]


# ------------------------------------------------------------------- ranking, pure


def _pod(name: str, **kw: Any) -> Obj:
    status: Obj = {"phase": kw.get("phase", "Running")}
    if kw.get("ready_since"):
        status["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": kw["ready_since"]}]
    if kw.get("restarts") is not None:
        status["containerStatuses"] = [{"name": "app", "restartCount": kw["restarts"]}]
    meta: Obj = {
        "name": name,
        "uid": kw.get("uid", name),
        "creationTimestamp": kw.get("created", "2024-05-01T11:00:00Z"),
    }
    if kw.get("cost") is not None:
        meta["annotations"] = {"controller.kubernetes.io/pod-deletion-cost": str(kw["cost"])}
    spec: Obj = {}
    if kw.get("node", "n1"):
        spec["nodeName"] = kw.get("node", "n1")
    return {"metadata": meta, "spec": spec, "status": status}


NOW = 1714564800.0  # 2024-05-01T12:00:00Z


@pytest.mark.parametrize(
    ("first", "second", "rule"),
    [
        (_pod("a", node=""), _pod("b"), "unassigned < assigned"),
        (_pod("a", phase="Pending"), _pod("b", phase="Unknown"), "Pending < Unknown"),
        (_pod("a", phase="Unknown"), _pod("b", phase="Running"), "Unknown < Running"),
        (_pod("a"), _pod("b", ready_since="2024-05-01T11:00:00Z"), "not ready < ready"),
        (_pod("a", cost=-5), _pod("b", cost=10), "lower deletion cost first"),
        (
            _pod("a", ready_since="2024-05-01T11:59:58Z"),
            _pod("b", ready_since="2024-05-01T10:00:00Z"),
            "ready for less time first",
        ),
        (_pod("a", restarts=5), _pod("b", restarts=1), "more restarts first"),
        (_pod("a", created="2024-05-01T11:59:00Z"), _pod("b", created="2024-05-01T09:00:00Z"), "newer first"),
    ],
)
def test_deletion_order_follows_active_pods_with_ranks(first: Obj, second: Obj, rule: str) -> None:
    assert [p["metadata"]["name"] for p in deletion_order([second, first], [], NOW)] == ["a", "b"], rule
    assert [p["metadata"]["name"] for p in deletion_order([first, second], [], NOW)] == ["a", "b"], rule


def test_deletion_order_prefers_doubled_up_nodes_and_compares_times_on_a_log_scale() -> None:
    crowded = _pod("crowded", node="n1", ready_since="2024-05-01T10:00:00Z")
    alone = _pod("alone", node="n2", ready_since="2024-05-01T10:00:00Z")
    related = [crowded, alone, _pod("x", node="n1"), _pod("y", node="n1")]
    assert [p["metadata"]["name"] for p in deletion_order([alone, crowded], related, NOW)] == [
        "crowded",
        "alone",
    ]
    # 100 s and 120 s ago fall in the same power-of-two bucket of nanoseconds: the uid decides.
    a = _pod("a", uid="2", ready_since="2024-05-01T11:58:20Z")
    b = _pod("b", uid="1", ready_since="2024-05-01T11:58:00Z")
    assert [p["metadata"]["name"] for p in deletion_order([a, b], [], NOW)] == ["b", "a"]


def test_a_thousand_pod_replicaset_stays_responsive(tmp_path: Path) -> None:
    """1000 pods behind a Service: scheduled, started, ready and in endpoints within seconds,
    with the API answering meanwhile (controllers work from indexes, not scans of every pod)."""
    import time

    import httpx

    from gitops.localcluster.controllers import Options

    with LocalCluster(kubeconfig=tmp_path / "kubeconfig", clock_scale=20.0, options=Options(nodes=3)) as c:
        create(
            c,
            "",
            "services",
            "default",
            {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}},
        )
        started = time.monotonic()
        create(c, "apps", "replicasets", "default", rs_body(1000))
        slowest = 0.0
        with httpx.Client(base_url=c.url) as client:
            while (_rs(c, "default").get("status") or {}).get("readyReplicas") != 1000:
                assert time.monotonic() - started < 90, "1000 pods not ready in time"
                t = time.monotonic()
                assert client.get("/api/v1/namespaces/default/services/web").status_code == 200
                slowest = max(slowest, time.monotonic() - t)
                time.sleep(0.05)
        assert slowest < 2.0
        assert c.settle(60)
        assert len([s for s in c.store.items(("discovery.k8s.io", "endpointslices"), "default")]) == 10
        per_node: dict[str, int] = {}
        for p in pods(c, "default"):
            per_node[p["spec"]["nodeName"]] = per_node.get(p["spec"]["nodeName"], 0) + 1
        assert sorted(per_node.values()) == [333, 333, 334]
        assert len({p["status"]["podIP"] for p in pods(c, "default")}) == 1000
        _scale(c, "default", 0)
        wait_for(lambda: not pods(c, "default"), timeout=90, what="1000 pods gone")
        assert c.controllers is not None and c.controllers.errors == []
