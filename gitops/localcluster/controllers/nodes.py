"""The simulated nodes: what each node's kubelet does for its own Node object (I/O via the Api).

At start, ``Options.nodes`` kubelets register ``local-node-1`` … ``local-node-N`` as a kind
cluster's would (``pkg/kubelet/kubelet_node_status.go`` ``initialNode`` and the
``setNodeStatus`` setters in ``pkg/kubelet/nodestatus/setters.go``):

- labels ``kubernetes.io/hostname``, ``kubernetes.io/os=linux``, ``kubernetes.io/arch=amd64``
  (and the ``beta.kubernetes.io/`` twins), ``node-role.kubernetes.io/control-plane`` on the
  first node and ``node-role.kubernetes.io/worker`` on the others; no taints, so every node
  takes workloads, as a single-node kind cluster's control plane does;
- ``spec.podCIDR`` ``10.244.<i-1>.0/24``; addresses ``InternalIP`` ``172.18.0.<i+1>`` and
  ``Hostname``; capacity = allocatable: 8 CPUs, about 16 GiB, ``pods: 110``;
- conditions MemoryPressure, DiskPressure, PIDPressure False and Ready True with the
  kubelet's reasons and messages (``KubeletHasSufficientMemory`` … ``KubeletReady``,
  "kubelet is posting ready status"); ``nodeInfo`` with ``kubeletVersion`` ``v1.32.0``.

Heartbeats follow the 1.32 kubelet with node leases: the Lease ``kube-node-lease/<node>``
(holder the node, ``leaseDurationSeconds: 40``, owned by the Node) is renewed every 10
simulated seconds; the Node's status is posted when it changes and otherwise every 5 minutes
(``nodeStatusReportFrequency``), which moves the conditions' ``lastHeartbeatTime``. A deleted
Node or Lease is registered again, as a running kubelet does.

Steering: the node annotation ``localcluster.gitops.dev/state: NotReady`` makes the kubelet
report Ready ``False`` (reason ``KubeletNotReady``); the scheduler then places no new pod on it.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from gitops.localcluster import errors
from gitops.localcluster.clock import format_micro_time, format_time
from gitops.localcluster.controllers.manager import Context, Controller, Key
from gitops.localcluster.controllers.wakeups import Wakeups
from gitops.localcluster.store import Event

Obj = dict[str, Any]

LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION_SECONDS = 40
LEASE_RENEW_SECONDS = 10.0  # 0.25 x the lease duration (pkg/kubelet/nodelease)
STATUS_REPORT_SECONDS = 300.0  # nodeStatusReportFrequency
STATE_ANNOTATION = "localcluster.gitops.dev/state"
KUBELET_VERSION = "v1.32.0"

CAPACITY = {
    "cpu": "8",
    "ephemeral-storage": "102625208Ki",
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    "memory": "16373596Ki",
    "pods": "110",
}

# (type, status when healthy, reason, message) in the order the kubelet's setters add them.
_PRESSURE_CONDITIONS = (
    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
)
_NOT_READY_MESSAGE = (
    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
    "message:Network plugin returns error: cni plugin not initialized"
)


def node_name(index: int) -> str:
    """The name of the ``index``-th node (1-based)."""
    return f"local-node-{index}"


def node_index(name: str) -> int | None:
    prefix = "local-node-"
    if name.startswith(prefix) and name[len(prefix) :].isdigit():
        return int(name[len(prefix) :])
    return None


def internal_ip(index: int) -> str:
    return f"172.18.0.{index + 1}"


def pod_cidr(index: int) -> str:
    return f"10.244.{index - 1}.0/24"


def _stable_hex(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def node_object(index: int) -> Obj:
    """The Node a kubelet registers (without status: the API drops it on create)."""
    name = node_name(index)
    role = "control-plane" if index == 1 else "worker"
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                f"node-role.kubernetes.io/{role}": "",
            },
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": {
            "podCIDR": pod_cidr(index),
            "podCIDRs": [pod_cidr(index)],
            "providerID": f"kind://docker/local/{name}",
        },
    }


def node_status(index: int, ready: bool, heartbeat: str, transitions: dict[str, str], boot_id: str) -> Obj:
    """The status the kubelet posts; ``transitions`` holds each condition's lastTransitionTime."""
    name = node_name(index)
    conditions: list[Obj] = [
        {
            "type": ctype,
            "status": "False",
            "lastHeartbeatTime": heartbeat,
            "lastTransitionTime": transitions.get(ctype, heartbeat),
            "reason": reason,
            "message": message,
        }
        for ctype, reason, message in _PRESSURE_CONDITIONS
    ]
    conditions.append(
        {
            "type": "Ready",
            "status": "True" if ready else "False",
            "lastHeartbeatTime": heartbeat,
            "lastTransitionTime": transitions.get("Ready", heartbeat),
            "reason": "KubeletReady" if ready else "KubeletNotReady",
            "message": "kubelet is posting ready status" if ready else _NOT_READY_MESSAGE,
        }
    )
    return {
        "addresses": [
            {"type": "InternalIP", "address": internal_ip(index)},
            {"type": "Hostname", "address": name},
        ],
        "allocatable": dict(CAPACITY),
        "capacity": dict(CAPACITY),
        "conditions": conditions,
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "architecture": "amd64",
            "bootID": boot_id,
            "containerRuntimeVersion": "containerd://1.7.24",
            "kernelVersion": "6.8.0-1021-gcp",
            "kubeProxyVersion": KUBELET_VERSION,  # DisableNodeKubeProxyVersion is off in 1.32
            "kubeletVersion": KUBELET_VERSION,
            "machineID": _stable_hex(f"machine-{name}", 32),
            "operatingSystem": "linux",
            "osImage": "Debian GNU/Linux 12 (bookworm)",
            "systemUUID": str(uuid.UUID(_stable_hex(f"system-{name}", 32))),
        },
    }


def wants_ready(node: Obj) -> bool:
    """False when the steering annotation asks this node to report NotReady."""
    annotations = (node.get("metadata") or {}).get("annotations") or {}
    return annotations.get(STATE_ANNOTATION) != "NotReady"


def is_ready(node: Obj) -> bool:
    """The node's Ready condition is True (what the scheduler requires)."""
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return bool(cond.get("status") == "True")
    return False


class NodeKubelets(Controller):
    """Registers the nodes and keeps their leases and statuses fresh (one key per node)."""

    name = "nodes"
    manager = "kubelet"
    watches = (("", "nodes"), ("coordination.k8s.io", "leases"))

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.indexes = {node_name(i): i for i in range(1, ctx.options.nodes + 1)}
        self._renewed: dict[str, float] = {}
        self._reported: dict[str, float] = {}
        self._boot_ids = {name: str(uuid.uuid4()) for name in self.indexes}
        self._wakeups = Wakeups()

    def start(self) -> None:
        # Register before the first pod is scheduled; the wake-up chain starts here.
        for name in self.indexes:
            again = self.reconcile(name)
            if again is not None:
                self.ctx.requeue(self, name, again)

    def keys_for(self, event: Event) -> Iterable[Key]:
        meta = event.obj.get("metadata") or {}
        name = meta.get("name", "")
        if name not in self.indexes:
            return ()
        if event.plural == "leases":
            ours = meta.get("namespace") == LEASE_NAMESPACE and event.type == "DELETED"
            return (name,) if ours else ()
        return (name,)

    def reconcile(self, key: Key) -> float | None:
        name = str(key)
        index = self.indexes[name]
        now = self.ctx.now()
        self._wakeups.seen(name, now)
        node = self.ctx.get("", "nodes", "", name)
        if node is None:
            node = self.ctx.api.create(self.ctx.rt("", "nodes"), "", node_object(index), self.opts).obj
            self._reported.pop(name, None)
        node = self._post_status(index, node, now)
        self._renew_lease(name, node, now)
        due = min(
            self._renewed.get(name, now) + LEASE_RENEW_SECONDS,
            self._reported.get(name, now) + STATUS_REPORT_SECONDS,
        )
        return self._wakeups.after(name, due, now)

    def _post_status(self, index: int, node: Obj, now: float) -> Obj:
        """Post the status when it differs from the desired one or the report is due."""
        name = node_name(index)
        current = node.get("status") or {}
        ready = wants_ready(node)
        old_conditions = {c.get("type"): c for c in current.get("conditions") or []}
        heartbeat = format_time(datetime.fromtimestamp(now, UTC))
        transitions = {}
        for ctype, cond in old_conditions.items():
            if isinstance(ctype, str) and cond.get("lastTransitionTime"):
                transitions[ctype] = str(cond["lastTransitionTime"])
        ready_cond = old_conditions.get("Ready") or {}
        if ready_cond.get("status") != ("True" if ready else "False"):
            transitions["Ready"] = heartbeat
        last = self._reported.get(name)
        due = last is None or now - last >= STATUS_REPORT_SECONDS
        if not due:
            # Unchanged apart from heartbeats? Then keep the old heartbeat and write nothing.
            keep = str(ready_cond.get("lastHeartbeatTime") or heartbeat)
            desired = node_status(index, ready, keep, transitions, self._boot_ids[name])
            if desired == current:
                return node
        desired = node_status(index, ready, heartbeat, transitions, self._boot_ids[name])
        new = copy.deepcopy(node)
        new["status"] = desired
        result = self.ctx.api.update(self.ctx.rt("", "nodes"), "", name, new, self.opts, subresource="status")
        self._reported[name] = now
        return result.obj

    def _renew_lease(self, name: str, node: Obj, now: float) -> None:
        last = self._renewed.get(name)
        lease = self.ctx.get("coordination.k8s.io", "leases", LEASE_NAMESPACE, name)
        if lease is not None and last is not None and now - last < LEASE_RENEW_SECONDS:
            return
        rt = self.ctx.rt("coordination.k8s.io", "leases")
        renew = format_micro_time(datetime.fromtimestamp(now, UTC))
        owner = {
            "apiVersion": "v1",
            "kind": "Node",
            "name": name,
            "uid": node["metadata"]["uid"],
        }
        if lease is None:
            body: Obj = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": name, "namespace": LEASE_NAMESPACE, "ownerReferences": [owner]},
                "spec": {
                    "holderIdentity": name,
                    "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                    "renewTime": renew,
                },
            }
            try:
                self.ctx.api.create(rt, LEASE_NAMESPACE, body, self.opts)
            except errors.StatusError as err:
                if err.code != 409:
                    raise
                return  # someone created it meanwhile: renew at the next wake-up
        else:
            new = copy.deepcopy(lease)
            new["spec"]["renewTime"] = renew
            new["spec"]["holderIdentity"] = name
            new["spec"]["leaseDurationSeconds"] = LEASE_DURATION_SECONDS
            new["metadata"]["ownerReferences"] = [owner]
            self.ctx.api.update(rt, LEASE_NAMESPACE, name, new, self.opts)
        self._renewed[name] = now


CONTROLLERS = [NodeKubelets]
