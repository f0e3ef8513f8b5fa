"""The DaemonSet controller (``controllers/daemonset.py``) against Kubernetes 1.32 behaviour.

Expectations come from ``pkg/controller/daemon/daemon_controller.go`` (``podsShouldBeOnNode``,
``NodeShouldRunDaemonPod``, ``syncNodes``, ``updateDaemonSetStatus``), ``update.go``
(``rollingUpdate``, ``constructHistory``), ``util/daemonset_util.go``
(``AddOrUpdateDaemonPodTolerations``, ``ReplaceDaemonSetPodNodeNameNodeAffinity``) and kubectl's
``DaemonSetStatusViewer``. The tests run on their own three-node cluster; rollout bounds are
checked on every pod event.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops.localcluster import LocalCluster
from gitops.localcluster.controllers import daemonset
from gitops.localcluster.controllers.manager import Options
from gitops.localcluster.store import Event
from tests.conftest import Kubectl
from tests.localcluster.controllers.workloads import (
    TEST,
    Obj,
    create,
    get,
    items,
    name_of,
    patch,
    pod_ready,
    record,
    wait_for,
)

NODES = ["local-node-1", "local-node-2", "local-node-3"]


@pytest.fixture(scope="module")
def nodes3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    kubeconfig = tmp_path_factory.mktemp("ds") / "kubeconfig"
    with LocalCluster(kubeconfig=kubeconfig, clock_scale=20, options=Options(nodes=3)) as c:
        wait_for(
            lambda: sum(1 for n in c.store.items(("", "nodes")) if _ready(n)) == 3, what="three Ready nodes"
        )
        yield c


@pytest.fixture(scope="module")
def kubectl3(nodes3: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(nodes3.kubeconfig, Path(tmp_path_factory.mktemp("ds-kubectl-home")))


@pytest.fixture
def ns(nodes3: LocalCluster, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"ds-{abs(hash(request.node.name)) % 10**8}"
    create(nodes3, "", "v1", "namespaces", "", {"metadata": {"name": name}})
    yield name
    assert nodes3.controllers is not None and nodes3.controllers.errors == []


def _ready(node: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (node.get("status") or {}).get("conditions") or []
    )


def ds_body(name: str, image: str = "agent:1", **spec: Any) -> Obj:
    template_spec: Obj = {"containers": [{"name": "agent", "image": image}]}
    template_spec.update(spec.pop("template_spec", {}))
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": template_spec},
            **spec,
        },
    }


def pods_of(cluster: LocalCluster, ns: str, name: str) -> list[Obj]:
    return [p for p in items(cluster, "", "pods", ns) if p["metadata"].get("labels", {}).get("app") == name]


def ds(cluster: LocalCluster, ns: str, name: str) -> Obj:
    found = get(cluster, "apps", "daemonsets", ns, name)
    assert found is not None
    return found


def rolled_out(cluster: LocalCluster, ns: str, name: str, desired: int) -> Obj:
    """kubectl's DaemonSetStatusViewer done condition, with every pod at the current hash."""

    def done() -> Obj | None:
        d = ds(cluster, ns, name)
        status = d.get("status") or {}
        ok = (
            status.get("observedGeneration", 0) >= d["metadata"]["generation"]
            and status.get("desiredNumberScheduled") == desired
            and status.get("updatedNumberScheduled", 0) >= desired
            and status.get("numberAvailable", 0) >= desired
            and len(pods_of(cluster, ns, name)) == desired
        )
        return d if ok else None

    return wait_for(done, what=f"daemonset {name} rolled out")


def available_nodes(cluster: LocalCluster, ns: str, name: str) -> set[str]:
    return {
        p["spec"].get("nodeName", "")
        for p in pods_of(cluster, ns, name)
        if pod_ready(p) and not p["metadata"].get("deletionTimestamp")
    }


# ------------------------------------------------------------------------------ pure parts


def test_node_affinity_and_taints_decide_where_a_daemon_pod_runs() -> None:
    node = {
        "metadata": {"name": "n1", "labels": {"disk": "ssd"}},
        "spec": {},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }
    assert daemonset.should_run(ds_body("a"), node) == (True, True)
    assert daemonset.should_run(ds_body("a", template_spec={"nodeSelector": {"disk": "hdd"}}), node) == (
        False,
        False,
    )
    # An untolerated NoSchedule taint stops new pods but keeps a running one (NodeShouldRunDaemonPod).
    tainted = {**node, "spec": {"taints": [{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]}}
    assert daemonset.should_run(ds_body("a"), tainted) == (False, True)
    tolerant = ds_body("a", template_spec={"tolerations": [{"key": "dedicated", "operator": "Exists"}]})
    assert daemonset.should_run(tolerant, tainted) == (True, True)
    evicting = {**node, "spec": {"taints": [{"key": "dedicated", "effect": "NoExecute"}]}}
    assert daemonset.should_run(ds_body("a"), evicting) == (False, False)
    # A node that is not Ready counts as tainted not-ready:NoSchedule (TaintNodesByCondition).
    not_ready = {**node, "status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    assert daemonset.should_run(ds_body("a"), not_ready) == (False, True)
    # The daemon tolerations cover unschedulable nodes.
    cordoned = {**node, "spec": {"unschedulable": True}}
    assert daemonset.should_run(ds_body("a"), cordoned) == (True, True)
    required = {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}
                    ]
                }
            }
        }
    }
    assert daemonset.should_run(ds_body("a", template_spec=required), node) == (True, True)


# ------------------------------------------------------------------------------------ live


@pytest.mark.kubectl
def test_one_pod_per_node_pinned_with_node_affinity_and_daemon_tolerations(
    nodes3: LocalCluster, kubectl3: Kubectl, ns: str
) -> None:
    cluster = nodes3
    create(cluster, "apps", "v1", "daemonsets", ns, ds_body("agent"))
    out = kubectl3.run("rollout", "status", "-n", ns, "daemonset/agent", "--timeout=60s").stdout
    assert out.splitlines()[-1] == 'daemon set "agent" successfully rolled out'
    d = rolled_out(cluster, ns, "agent", 3)
    status = d["status"]
    assert status == {
        "currentNumberScheduled": 3,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 3,
        "numberReady": 3,
        "observedGeneration": 1,
        "updatedNumberScheduled": 3,
        "numberAvailable": 3,
    }
    history = items(cluster, "apps", "controllerrevisions", ns)
    assert len(history) == 1 and history[0]["revision"] == 1
    hash_ = history[0]["metadata"]["labels"]["controller-revision-hash"]
    assert name_of(history[0]) == f"agent-{hash_}"
    pods = pods_of(cluster, ns, "agent")
    assert sorted(p["spec"]["nodeName"] for p in pods) == NODES
    for pod in pods:
        node = pod["spec"]["nodeName"]
        assert pod["spec"]["affinity"] == {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
                    ]
                }
            }
        }
        assert pod["metadata"]["labels"]["controller-revision-hash"] == hash_
        assert pod["metadata"]["generateName"] == "agent-"
        tolerations = {(t["key"], t["effect"]) for t in pod["spec"]["tolerations"]}
        assert tolerations == {
            ("node.kubernetes.io/not-ready", "NoExecute"),
            ("node.kubernetes.io/unreachable", "NoExecute"),
            ("node.kubernetes.io/disk-pressure", "NoSchedule"),
            ("node.kubernetes.io/memory-pressure", "NoSchedule"),
            ("node.kubernetes.io/pid-pressure", "NoSchedule"),
            ("node.kubernetes.io/unschedulable", "NoSchedule"),
        }
        # The daemon tolerations have no tolerationSeconds: the pods survive node problems.
        assert all("tolerationSeconds" not in t for t in pod["spec"]["tolerations"])


def test_node_selector_and_not_ready_nodes_limit_the_desired_count(nodes3: LocalCluster, ns: str) -> None:
    cluster = nodes3
    selective = ds_body("pick", template_spec={"nodeSelector": {"kubernetes.io/hostname": "local-node-2"}})
    create(cluster, "apps", "v1", "daemonsets", ns, selective)
    rolled_out(cluster, ns, "pick", 1)
    assert [p["spec"]["nodeName"] for p in pods_of(cluster, ns, "pick")] == ["local-node-2"]

    node_rt = cluster.registry.by_plural("", "v1", "nodes")
    assert node_rt is not None
    state = {"metadata": {"annotations": {"localcluster.gitops.dev/state": "NotReady"}}}
    cluster.api.patch(node_rt, "", "local-node-3", "merge", state, TEST)
    try:
        wait_for(
            lambda: not _ready(get(cluster, "", "nodes", "", "local-node-3") or {}), what="node 3 NotReady"
        )
        create(cluster, "apps", "v1", "daemonsets", ns, ds_body("late"))
        rolled_out(cluster, ns, "late", 2)
        assert sorted(p["spec"]["nodeName"] for p in pods_of(cluster, ns, "late")) == NODES[:2]
    finally:
        back = {"metadata": {"annotations": {"localcluster.gitops.dev/state": None}}}
        cluster.api.patch(node_rt, "", "local-node-3", "merge", back, TEST)
    # Node Ready again: the DaemonSet follows the node event.
    rolled_out(cluster, ns, "late", 3)


def test_rolling_update_keeps_unavailable_nodes_within_max_unavailable(nodes3: LocalCluster, ns: str) -> None:
    cluster = nodes3
    create(cluster, "apps", "v1", "daemonsets", ns, ds_body("agent"))
    old = rolled_out(cluster, ns, "agent", 3)

    def probe(event: Event) -> Any:
        return available_nodes(cluster, ns, "agent")

    with record(cluster, "", "pods", ns, probe) as log:
        patch(
            cluster,
            "apps",
            "v1",
            "daemonsets",
            ns,
            "agent",
            {"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "agent:2"}]}}}},
        )
        rolled_out(cluster, ns, "agent", 3)
    # maxUnavailable 1 (the default): at least two nodes keep an available pod at every moment.
    assert min(len(s.probe) for s in log.events) >= 2
    images = {p["spec"]["containers"][0]["image"] for p in pods_of(cluster, ns, "agent")}
    assert images == {"agent:2"}
    history = sorted(items(cluster, "apps", "controllerrevisions", ns), key=lambda r: r["revision"])
    assert [r["revision"] for r in history] == [1, 2]
    assert (
        old["status"]["observedGeneration"] == 1
        and ds(cluster, ns, "agent")["status"]["observedGeneration"] == 2
    )


def test_max_surge_starts_new_pods_before_old_ones_go(nodes3: LocalCluster, ns: str) -> None:
    cluster = nodes3
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    create(cluster, "apps", "v1", "daemonsets", ns, ds_body("surge", updateStrategy=strategy))
    rolled_out(cluster, ns, "surge", 3)

    def probe(event: Event) -> Any:
        live = [p for p in pods_of(cluster, ns, "surge") if not p["metadata"].get("deletionTimestamp")]
        per_node: dict[str, int] = {}
        for p in live:
            node = daemonset.target_node(p) or ""
            per_node[node] = per_node.get(node, 0) + 1
        return available_nodes(cluster, ns, "surge"), per_node

    with record(cluster, "", "pods", ns, probe) as log:
        body = {"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "agent:2"}]}}}}
        patch(cluster, "apps", "v1", "daemonsets", ns, "surge", body)
        rolled_out(cluster, ns, "surge", 3)
    # maxUnavailable 0: every node keeps an available pod; maxSurge 1: one node at a time has two.
    assert min(len(s.probe[0]) for s in log.events) == 3
    assert max(max(s.probe[1].values(), default=0) for s in log.events) == 2
    assert max(sum(1 for v in s.probe[1].values() if v > 1) for s in log.events) == 1


def test_on_delete_keeps_old_pods_until_they_are_deleted(nodes3: LocalCluster, ns: str) -> None:
    cluster = nodes3
    create(cluster, "apps", "v1", "daemonsets", ns, ds_body("od", updateStrategy={"type": "OnDelete"}))
    rolled_out(cluster, ns, "od", 3)
    body = {"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "agent:2"}]}}}}
    patch(cluster, "apps", "v1", "daemonsets", ns, "od", body)
    wait_for(
        lambda: ds(cluster, ns, "od")["status"].get("observedGeneration") == 2, what="generation 2 observed"
    )
    assert cluster.settle()
    assert {p["spec"]["containers"][0]["image"] for p in pods_of(cluster, ns, "od")} == {"agent:1"}
    assert ds(cluster, ns, "od")["status"].get("updatedNumberScheduled", 0) == 0
    victim = next(p for p in pods_of(cluster, ns, "od") if p["spec"]["nodeName"] == "local-node-2")
    cluster.api.delete(cluster.registry.by_plural("", "v1", "pods"), ns, name_of(victim), {})  # type: ignore[arg-type]

    def replaced() -> bool:
        on_node = [p for p in pods_of(cluster, ns, "od") if p["spec"].get("nodeName") == "local-node-2"]
        return (
            len(on_node) == 1
            and on_node[0]["spec"]["containers"][0]["image"] == "agent:2"
            and pod_ready(on_node[0])
        )

    wait_for(replaced, what="the deleted pod replaced at the new revision")
    # The DaemonSet's status follows the new pod's readiness on a later sync: wait for both.
    status = wait_for(
        lambda: (
            (s := ds(cluster, ns, "od")["status"]).get("updatedNumberScheduled") == 1
            and s.get("numberAvailable") == 3
            and s
        ),
        what="status: one updated pod, three available",
    )
    assert status["numberAvailable"] == 3 and status["updatedNumberScheduled"] == 1
