"""The simulated kubelets' Node objects and leases (``controllers/nodes.py``).

Expectations: ``pkg/kubelet/nodestatus/setters.go`` (conditions, reasons and messages, addresses,
capacity), ``pkg/kubelet/kubelet_node_status.go`` (labels, status report every
``nodeStatusReportFrequency`` = 5 minutes when nothing changes), ``pkg/kubelet/nodelease``
(a Lease per node in ``kube-node-lease``, 40 s duration, renewed every 10 s, owned by the Node)
and kubectl's node table (``printNode``).
"""

from __future__ import annotations

import re
from pathlib import Path

from gitops.localcluster import LocalCluster
from gitops.localcluster.clock import parse_time
from tests.conftest import Kubectl
from tests.localcluster.controllers.simkit import advance, get, rt, sim_cluster, update


def _node(cluster: LocalCluster, name: str) -> dict[str, object]:
    node = get(cluster, "", "nodes", "", name)
    assert node is not None, name
    return node


def test_nodes_register_as_a_kind_cluster_kubelet_would(tmp_path: Path) -> None:
    with sim_cluster(tmp_path, nodes=3) as c:
        names = [n["metadata"]["name"] for n in c.store.items(("", "nodes"))]
        assert names == ["local-node-1", "local-node-2", "local-node-3"]
        first = _node(c, "local-node-1")
        labels = first["metadata"]["labels"]  # type: ignore[index]
        assert labels == {
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": "local-node-1",
            "kubernetes.io/os": "linux",
            "node-role.kubernetes.io/control-plane": "",
        }
        assert "node-role.kubernetes.io/worker" in _node(c, "local-node-2")["metadata"]["labels"]  # type: ignore[index]
        assert first["spec"]["podCIDR"] == "10.244.0.0/24"  # type: ignore[index]
        assert _node(c, "local-node-3")["spec"]["podCIDRs"] == ["10.244.2.0/24"]  # type: ignore[index]
        status = first["status"]  # type: ignore[index]
        assert status["addresses"] == [
            {"type": "InternalIP", "address": "172.18.0.2"},
            {"type": "Hostname", "address": "local-node-1"},
        ]
        assert status["capacity"] == status["allocatable"]
        assert status["capacity"]["cpu"] == "8" and status["capacity"]["pods"] == "110"
        conditions = [(x["type"], x["status"], x["reason"], x["message"]) for x in status["conditions"]]
        assert conditions == [
            (
                "MemoryPressure",
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ]
        info = status["nodeInfo"]
        assert info["kubeletVersion"] == "v1.32.0"
        assert info["operatingSystem"] == "linux" and info["architecture"] == "amd64"
        assert info["containerRuntimeVersion"].startswith("containerd://")

        kubectl = Kubectl(c.kubeconfig, tmp_path)
        rows = kubectl.run("get", "nodes", "--no-headers").stdout.splitlines()
        cells = [re.split(r"\s{2,}", row.strip()) for row in rows]
        assert [(x[0], x[1], x[2], x[4]) for x in cells] == [
            ("local-node-1", "Ready", "control-plane", "v1.32.0"),
            ("local-node-2", "Ready", "worker", "v1.32.0"),
            ("local-node-3", "Ready", "worker", "v1.32.0"),
        ]


def test_each_node_renews_its_lease_every_ten_seconds(tmp_path: Path) -> None:
    with sim_cluster(tmp_path, nodes=2) as c:
        lease = get(c, "coordination.k8s.io", "leases", "kube-node-lease", "local-node-2")
        assert lease is not None
        node = _node(c, "local-node-2")
        assert lease["spec"]["holderIdentity"] == "local-node-2"
        assert lease["spec"]["leaseDurationSeconds"] == 40
        assert lease["metadata"]["ownerReferences"] == [
            {"apiVersion": "v1", "kind": "Node", "name": "local-node-2", "uid": node["metadata"]["uid"]}  # type: ignore[index]
        ]
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", lease["spec"]["renewTime"])
        renewed = parse_time(lease["spec"]["renewTime"]).timestamp()
        advance(c, 5)
        same = get(c, "coordination.k8s.io", "leases", "kube-node-lease", "local-node-2")
        assert (
            same is not None and same["metadata"]["resourceVersion"] == lease["metadata"]["resourceVersion"]
        )
        advance(c, 6)
        later = get(c, "coordination.k8s.io", "leases", "kube-node-lease", "local-node-2")
        assert later is not None
        assert 10 <= parse_time(later["spec"]["renewTime"]).timestamp() - renewed <= 12


def test_node_status_is_reported_every_five_minutes_when_unchanged(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        before = _node(c, "local-node-1")
        ready = before["status"]["conditions"][-1]  # type: ignore[index]
        advance(c, 120)
        assert (
            _node(c, "local-node-1")["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
        )  # type: ignore[index]
        advance(c, 200)
        after = _node(c, "local-node-1")
        now_ready = after["status"]["conditions"][-1]  # type: ignore[index]
        assert now_ready["lastTransitionTime"] == ready["lastTransitionTime"]
        heartbeat = parse_time(now_ready["lastHeartbeatTime"]).timestamp()
        assert heartbeat - parse_time(ready["lastHeartbeatTime"]).timestamp() >= 300
        # After a long jump of the clock the heartbeat is fresh again.
        advance(c, 3600)
        latest = _node(c, "local-node-1")["status"]["conditions"][-1]  # type: ignore[index]
        assert c.clock.time() - parse_time(latest["lastHeartbeatTime"]).timestamp() < 300


def test_not_ready_annotation_makes_the_node_report_not_ready(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        update(
            c,
            "",
            "nodes",
            "",
            "local-node-1",
            lambda n: (
                n["metadata"]
                .setdefault("annotations", {})
                .update({"localcluster.gitops.dev/state": "NotReady"})
            ),
        )
        assert c.settle()
        ready = _node(c, "local-node-1")["status"]["conditions"][-1]  # type: ignore[index]
        assert (ready["type"], ready["status"], ready["reason"]) == ("Ready", "False", "KubeletNotReady")
        kubectl = Kubectl(c.kubeconfig, tmp_path)
        assert "NotReady" in kubectl.run("get", "nodes", "--no-headers").stdout
        update(
            c,
            "",
            "nodes",
            "",
            "local-node-1",
            lambda n: n["metadata"]["annotations"].pop("localcluster.gitops.dev/state"),
        )
        assert c.settle()
        back = _node(c, "local-node-1")["status"]["conditions"][-1]  # type: ignore[index]
        assert (back["status"], back["reason"]) == ("True", "KubeletReady")


def test_a_deleted_node_registers_again(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        old_uid = _node(c, "local-node-1")["metadata"]["uid"]  # type: ignore[index]
        c.api.delete(rt(c, "", "nodes"), "", "local-node-1", {})
        assert c.settle()
        fresh = _node(c, "local-node-1")
        assert fresh["metadata"]["uid"] != old_uid  # type: ignore[index]
        assert fresh["status"]["conditions"][-1]["status"] == "True"  # type: ignore[index]
        # The garbage collector removed the lease owned by the old Node; the kubelet made a new one.
        advance(c, 11)
        lease = get(c, "coordination.k8s.io", "leases", "kube-node-lease", "local-node-1")
        assert lease is not None
        assert lease["metadata"]["ownerReferences"][0]["uid"] == fresh["metadata"]["uid"]  # type: ignore[index]
