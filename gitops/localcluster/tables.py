"""Server-side ``meta.k8s.io/v1`` Tables as kube-apiserver 1.32 builds them for ``kubectl get`` (pure).

Contract: :func:`table` turns a list of stored v1 objects into the Table a real server answers
to ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``, with the caller supplying ``now``
(the clock is an I/O concern). The rules come from:

* built-in kinds: ``pkg/printers/internalversion/printers.go`` (column definitions in
  ``AddHandlers``, one ``print<Kind>`` per kind) run through ``pkg/printers/storage``'s
  ``TableConvertor``, which always asks for ``Wide`` output, so priority-1 cells are present;
* kinds without a printer (Role, ClusterRole, CustomResourceDefinition, anything unknown):
  ``rest.NewDefaultTableConvertor`` (``Name`` and ``Created At``);
* custom resources (``crd_columns`` given, possibly empty): apiextensions-apiserver
  ``registry/customresource/tableconvertor`` with ``serveDefaultColumnsIfEmpty`` (an ``Age``
  column only when the CRD declares no ``additionalPrinterColumns``);
* ``includeObject``: ``endpoints/handlers/response.go`` ``asTable``.

Objects are read as the server reads them back from storage, so the v1 defaults that change a
printed cell (replicas 1, Job completions/parallelism, Service type, HPA minReplicas and metrics,
Secret type, Namespace and PVC phase, PVC volumeMode) are applied when a field is absent.
Ages use :func:`human_duration` (``apimachinery/pkg/util/duration.HumanDuration``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from gitops.localcluster import quantity, selectors

__all__ = ["TableError", "human_duration", "table"]

Obj = Mapping[str, Any]
Cell = Any  # str | int | float | bool | None, as JSON
_INCLUDE = ("Metadata", "", "Object", "None")


class TableError(ValueError):
    """A Table request the real server refuses with 400; ``str(err)`` is its message."""


# --- durations and times ---------------------------------------------------------------------


def human_duration(d: timedelta) -> str:
    """``duration.HumanDuration``: ~2-3 significant figures ("5s", "3m20s", "10m", "2d5h", "3y45d")."""
    ns = (d.days * 86_400 + d.seconds) * 10**9 + d.microseconds * 1000
    seconds = -(-ns // 10**9) if ns < 0 else ns // 10**9  # Go truncates toward zero
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        s = seconds % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def _parse_time(value: Any) -> datetime | None:
    """A ``metav1.Time``/``MicroTime`` (``time.RFC3339``); ``None`` stands for Go's zero time."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        return None
    return datetime.fromisoformat(value)


def _since(value: Any, now: datetime) -> str:
    """``translateTimestampSince``: ``<unknown>`` for a zero time."""
    t = value if isinstance(value, datetime) else _parse_time(value)
    return "<unknown>" if t is None else human_duration(now - t)


# --- reading v1 objects ----------------------------------------------------------------------


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _s(obj: Any, *path: str) -> str:
    v = _get(obj, *path)
    return v if isinstance(v, str) else ""


def _i(obj: Any, *path: str, default: int = 0) -> int:
    v = _get(obj, *path)
    return v if isinstance(v, int) and not isinstance(v, bool) else default


def _l(obj: Any, *path: str) -> list[Any]:
    v = _get(obj, *path)
    return v if isinstance(v, list) else []


def _m(obj: Any, *path: str) -> Mapping[str, Any]:
    v = _get(obj, *path)
    return v if isinstance(v, Mapping) else {}


def _has(obj: Any, *path: str) -> bool:
    """The field is present and not null: a Go pointer or struct that is non-nil."""
    return _get(obj, *path) is not None


def _containers(template_spec: Any) -> tuple[str, str]:
    """``layoutContainerCells``: names and images, comma-separated."""
    cs = [c for c in _l(template_spec, "containers") if isinstance(c, Mapping)]
    return ",".join(_s(c, "name") for c in cs), ",".join(_s(c, "image") for c in cs)


def _format_labels(labels: Any) -> str:
    """``labels.FormatLabels``: ``k=v`` pairs sorted as whole strings, ``<none>`` if empty."""
    pairs = sorted(
        (f"{k}={v}" for k, v in (labels if isinstance(labels, Mapping) else {}).items()), key=str.encode
    )
    return ",".join(pairs) or "<none>"


def _selector_string(sel: Any) -> str | None:
    """``LabelSelectorAsSelector(sel).String()``, or ``None`` when the selector is invalid."""
    try:
        return str(selectors.label_selector_from_meta(sel if isinstance(sel, Mapping) else None))
    except selectors.SelectorError:
        return None


def _format_label_selector(sel: Any) -> str:
    """``metav1.FormatLabelSelector``."""
    s = _selector_string(sel)
    return "<error>" if s is None else (s or "<none>")


def _int_or_string(v: Any) -> str:
    """``intstr.IntOrString.String()``."""
    return str(v) if isinstance(v, (int, str)) and not isinstance(v, bool) else ""


def _quantity(v: Any) -> str:
    """``resource.Quantity.String()`` of a stored quantity; ``<nil>`` for an absent pointer."""
    if v is None:
        return "<nil>"
    try:
        return quantity.canonicalize(v)
    except quantity.QuantityError:
        return str(v)


# --- column definitions ----------------------------------------------------------------------

# Descriptions are the SwaggerDoc()/OpenAPI texts of k8s.io/api v0.32 the printers reference.
_D_NAME = (
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name automatically. "
    "Name is primarily intended for creation idempotence and configuration definition. Cannot be "
    "updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_D_CREATED = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. It "
    "is not guaranteed to be set in happens-before order across separate operations. Clients may not "
    "set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. "
    "Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_D_CONTAINERS = "Names of each container in the template."
_D_IMAGES = "Images referenced by each container in the template."
_D_READY_PODS = "Number of the pod with ready state"
_LABEL_SELECTORS_DOC = (
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
)
_RC_DOC = "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller"
_DS_DOC = "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
_SVC_IPS_DOC = (
    "https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"
)
_D: dict[str, str] = {
    "PodStatus.podIP": "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
    "PodSpec.nodeName": (
        "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for "
        "scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for "
        "this node becomes responsible for the lifecycle of this pod. This field should not be used to "
        "express a desire for the pod to be scheduled on a specific node. "
        "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename"
    ),
    "PodStatus.nominatedNodeName": (
        "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be "
        "scheduled right away as preemption victims receive their graceful termination periods. This "
        "field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to "
        "place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to "
        "give the resources on this node to a higher priority pod that is created after preemption. As "
        "a result, this field may be different than PodSpec.nodeName when the pod is scheduled."
    ),
    "PodSpec.readinessGates": (
        "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all "
        "its containers are ready AND all conditions specified in the readiness gates have status equal "
        'to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates'
    ),
    "PodSpec.nodeSelector": (
        "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must "
        "match a node's labels for the pod to be scheduled on that node. More info: "
        "https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"
    ),
    "ReplicaSetSpec.replicas": (
        "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit "
        f"zero and unspecified. Defaults to 1. More info: {_RC_DOC}"
    ),
    "ReplicaSetStatus.replicas": f"Replicas is the most recently observed number of replicas. More info: {_RC_DOC}",
    "ReplicaSetStatus.readyReplicas": "readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition.",
    # extensions/v1beta1 selectors still describe the selector defaulting of that group
    "ReplicaSetSpec.selector": (
        "Selector is a label query over pods that should match the replica count. If the selector is "
        "empty, it is defaulted to the labels present on the pod template. Label keys and values that "
        f"must match in order to be controlled by this replica set. More info: {_LABEL_SELECTORS_DOC}"
    ),
    "DaemonSetStatus.desiredNumberScheduled": (
        "The total number of nodes that should be running the daemon pod (including nodes correctly "
        f"running the daemon pod). More info: {_DS_DOC}"
    ),
    "DaemonSetStatus.currentNumberScheduled": (
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon "
        f"pod. More info: {_DS_DOC}"
    ),
    "DaemonSetStatus.numberReady": (
        "numberReady is the number of nodes that should be running the daemon pod and have one or more "
        "of the daemon pod running with a Ready Condition."
    ),
    "DaemonSetStatus.updatedNumberScheduled": "The total number of nodes that are running updated daemon pod",
    "DaemonSetStatus.numberAvailable": (
        "The number of nodes that should be running the daemon pod and have one or more of the daemon "
        "pod running and available (ready for at least spec.minReadySeconds)"
    ),
    "DaemonSetSpec.selector": (
        "A label query over pods that are managed by the daemon set. Must match in order to be "
        f"controlled. If empty, defaulted to labels on Pod template. More info: {_LABEL_SELECTORS_DOC}"
    ),
    "JobStatus.succeeded": (
        "The number of pods which reached phase Succeeded. The value increases monotonically for a "
        "given spec. However, it may decrease in reaction to scale down of elastic indexed jobs."
    ),
    "JobSpec.selector": (
        "A label query over pods that should match the pod count. Normally, the system sets this field "
        f"for you. More info: {_LABEL_SELECTORS_DOC}"
    ),
    "CronJobSpec.schedule": "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
    "CronJobSpec.timeZone": (
        "The time zone name for the given schedule, see "
        "https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will "
        "default to the time zone of the kube-controller-manager process. The set of valid time zone "
        "names and the time zone offset is loaded from the system-wide time zone database by the API "
        "server during CronJob validation and the controller manager during execution. If no "
        "system-wide time zone database can be found a bundled version of the database is used "
        "instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a "
        "change in host configuration, the controller will stop creating new new Jobs and will create "
        "a system event with the reason UnknownTimeZone. More information can be found in "
        "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones"
    ),
    "CronJobSpec.suspend": (
        "This flag tells the controller to suspend subsequent executions, it does not apply to already "
        "started executions.  Defaults to false."
    ),
    "CronJobStatus.active": "A list of pointers to currently running jobs.",
    "CronJobStatus.lastScheduleTime": "Information when was the last time the job was successfully scheduled.",
    "ServiceSpec.type": (
        "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are "
        'ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal '
        "IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that "
        "is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If "
        'clusterIP is "None", no virtual IP is allocated and the endpoints are published as a set of '
        'endpoints rather than a virtual IP. "NodePort" builds on ClusterIP and allocates a port on '
        'every node which routes to the same endpoints as the clusterIP. "LoadBalancer" builds on '
        "NodePort and creates an external load-balancer (if supported in the current cloud) which routes "
        'to the same endpoints as the clusterIP. "ExternalName" aliases this service to the specified '
        "externalName. Several other fields do not apply to ExternalName services. More info: "
        "https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types"
    ),
    "ServiceSpec.clusterIP": (
        "clusterIP is the IP address of the service and is usually assigned randomly. If an address is "
        "specified manually, is in-range (as per system configuration), and is not in use, it will be "
        "allocated to the service; otherwise creation of the service will fail. This field may not be "
        "changed through updates unless the type field is also being changed to ExternalName (which "
        "requires this field to be blank) or the type field is being changed from ExternalName (in "
        "which case this field may optionally be specified, as describe above).  Valid values are "
        '"None", empty string (""), or a valid IP address. Setting this to "None" makes a "headless '
        'service" (no virtual IP), which is useful when direct endpoint connections are preferred and '
        "proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If "
        "this field is specified when creating a Service of type ExternalName, creation will fail. This "
        "field will be wiped when updating a Service to type ExternalName. More info: " + _SVC_IPS_DOC
    ),
    "ServiceSpec.externalIPs": (
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic "
        "for this service.  These IPs are not managed by Kubernetes.  The user is responsible for "
        "ensuring that traffic arrives at a node with this IP.  A common example is external "
        "load-balancers that are not part of the Kubernetes system."
    ),
    "ServiceSpec.ports": f"The list of ports that are exposed by this service. More info: {_SVC_IPS_DOC}",
    "ServiceSpec.selector": (
        "Route service traffic to pods with label keys and values matching this selector. If empty or "
        "not present, the service is assumed to have an external process managing its endpoints, which "
        "Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. "
        "Ignored if type is ExternalName. More info: "
        "https://kubernetes.io/docs/concepts/services-networking/service/"
    ),
    "Endpoints.subsets": (
        "The set of all endpoints is the union of all subsets. Addresses are placed into subsets "
        "according to the IPs they share. A single address with multiple ports, some of which are ready "
        "and some of which are not (because they come from different containers) will result in the "
        "address being displayed in different subsets for the different ports. No address will appear "
        "in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that "
        "comprise a service."
    ),
    "NodeSystemInfo.kubeletVersion": "Kubelet Version reported by the node.",
    "NodeStatus.addresses": (
        "List of addresses reachable to the node. Queried from cloud provider, if available. More info: "
        "https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared "
        "as mergeable, but the merge key is not sufficiently unique, which can cause data corruption "
        "when it is merged. Callers should instead use a full-replacement patch. See "
        "https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change "
        "during the lifetime of a Node. However, there are some exceptions where this may not be "
        "possible, such as Pods that inherit a Node's address in its own status or consumers of the "
        "downward API (status.hostIP)."
    ),
    "NodeSystemInfo.osImage": "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
    "NodeSystemInfo.kernelVersion": "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    "NodeSystemInfo.containerRuntimeVersion": (
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2)."
    ),
    "Event.lastTimestamp": "The time at which the most recent occurrence of this event was recorded.",
    "Event.type": "Type of this event (Normal, Warning), new types could be added in the future",
    "Event.reason": (
        "This should be a short, machine understandable string that gives the reason for the transition "
        "into the object's current status."
    ),
    "Event.involvedObject": "The object that this event is about.",
    "ObjectReference.fieldPath": (
        "If referring to a piece of an object instead of an entire object, this string should contain a "
        "valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, "
        "if the object reference is to a container within a pod, this would take on a value like: "
        '"spec.containers{name}" (where "name" refers to the name of the container that triggered the '
        'event) or if no container name is specified "spec.containers[2]" (container with index 2 in '
        "this pod). This syntax is chosen only to have some well-defined way of referencing a part of an "
        "object."
    ),
    "Event.source": "The component reporting this event. Should be a short machine understandable string.",
    "Event.message": "A human-readable description of the status of this operation.",
    "Event.firstTimestamp": "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
    "Event.count": "The number of times this event has occurred.",
    "Secret.type": (
        "Used to facilitate programmatic handling of secret data. More info: "
        "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types"
    ),
    "Secret.data": (
        "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or "
        "'.'. The serialized form of the secret data is a base64 encoded string, representing the "
        "arbitrary (possibly non-string) data value here. Described in "
        "https://tools.ietf.org/html/rfc4648#section-4"
    ),
    "ServiceAccount.secrets": (
        "Secrets is a list of the secrets in the same namespace that pods running using this "
        "ServiceAccount are allowed to use. Pods are only limited to this list if this service account "
        'has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". The '
        '"kubernetes.io/enforce-mountable-secrets" annotation is deprecated since v1.32. Prefer separate '
        "namespaces to isolate access to mounted secrets. This field should not be used to find "
        "auto-generated service account token secrets for use outside of pods. Instead, tokens can be "
        "requested directly using the TokenRequest API, or service account token secrets can be "
        "manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret"
    ),
    "PersistentVolumeClaimStatus.phase": "phase represents the current phase of PersistentVolumeClaim.",
    "PersistentVolumeClaimSpec.volumeName": "volumeName is the binding reference to the PersistentVolume backing this claim.",
    "PersistentVolumeClaimStatus.capacity": "capacity represents the actual resources of the underlying volume.",
    "PersistentVolumeClaimStatus.accessModes": (
        "accessModes contains the actual access modes the volume backing the PVC has. More info: "
        "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1"
    ),
    "PersistentVolumeClaimSpec.volumeMode": (
        "volumeMode defines what type of volume is required by the claim. Value of Filesystem is "
        "implied when not included in claim spec."
    ),
    "DeploymentStatus.updatedReplicas": (
        "Total number of non-terminated pods targeted by this deployment that have the desired template spec."
    ),
    "DeploymentStatus.availableReplicas": (
        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."
    ),
    "DeploymentSpec.selector": (
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones "
        "affected by this deployment."
    ),
    "HPASpec.scaleTargetRef": (
        "scaleTargetRef points to the target resource to scale, and is used to the pods for which "
        "metrics should be collected, as well as to actually change the replica count."
    ),
    "HPASpec.metrics": (
        "metrics contains the specifications for which to use to calculate the desired replica count "
        "(the maximum replica count across all metrics will be used).  The desired replica count is "
        "calculated multiplying the ratio between the target value and the current value by the current "
        "number of pods.  Ergo, metrics used must decrease as the pod count is increased, and "
        "vice-versa.  See the individual metric source types for more information about how each type "
        "of metric must respond. If not set, the default metric will be set to 80% average CPU "
        "utilization."
    ),
    "HPASpec.minReplicas": (
        "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale "
        "down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate "
        "HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling "
        "is active as long as at least one metric value is available."
    ),
    "HPASpec.maxReplicas": (
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. "
        "It cannot be less that minReplicas."
    ),
    "HPAStatus.currentReplicas": (
        "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen "
        "by the autoscaler."
    ),
    "ConfigMap.data": (
        "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', "
        "'_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored "
        "in Data must not overlap with the keys in the BinaryData field, this is enforced during "
        "validation process."
    ),
    "NetworkPolicySpec.podSelector": (
        "Selects the pods to which this NetworkPolicy object applies.  The array of ingress rules is "
        "applied to any pods selected by this field. Multiple network policies can select the same set "
        "of pods.  In this case, the ingress rules for each are combined additively. This field is NOT "
        "optional and follows standard label selector semantics. An empty podSelector matches all pods "
        "in this namespace."
    ),
    "RoleBinding.roleRef": (
        "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. "
        "If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable."
    ),
    "ClusterRoleBinding.roleRef": (
        "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be "
        "resolved, the Authorizer must return an error. This field is immutable."
    ),
    "LeaseSpec.holderIdentity": (
        "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader "
        "Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name "
        "field."
    ),
    "StorageClass.provisioner": "provisioner indicates the type of the provisioner.",
    "StorageClass.reclaimPolicy": (
        "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this "
        "storage class. Defaults to Delete."
    ),
    "StorageClass.volumeBindingMode": (
        "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When "
        "unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the "
        "VolumeScheduling feature."
    ),
    "StorageClass.allowVolumeExpansion": "allowVolumeExpansion shows whether the storage class allow volume expand.",
    "ControllerRevision.revision": "Revision indicates the revision of the state represented by Data.",
    "EndpointSlice.addressType": (
        "addressType specifies the type of address carried by this EndpointSlice. All addresses in this "
        "slice must be the same type. This field is immutable after creation. The following address "
        "types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 "
        "Address. * FQDN: Represents a Fully Qualified Domain Name."
    ),
    "EndpointSlice.ports": (
        "ports specifies the list of network ports exposed by each endpoint in this slice. Each port "
        "must have a unique name. When ports is empty, it indicates that there are no defined ports. "
        'When a port is defined with a nil port value, it indicates "all ports". Each slice may include '
        "a maximum of 100 ports."
    ),
    "EndpointSlice.endpoints": (
        "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints."
    ),
}


def _col(name: str, type_: str, description: str, priority: int = 0, fmt: str = "") -> dict[str, Any]:
    return {"name": name, "type": type_, "format": fmt, "description": description, "priority": priority}


_NAME = _col("Name", "string", _D_NAME, fmt="name")
_AGE = _col("Age", "string", _D_CREATED)
_WIDE_CONTAINERS = [_col("Containers", "string", _D_CONTAINERS, 1), _col("Images", "string", _D_IMAGES, 1)]


def _cols(*spec: tuple[str, str, str] | tuple[str, str, str, int] | dict[str, Any]) -> list[dict[str, Any]]:
    """Columns from ``(name, type, doc-key-or-text[, priority])`` tuples; dicts pass through."""
    out = []
    for s in spec:
        if isinstance(s, dict):
            out.append(s)
        else:
            name, type_, doc, *prio = s
            out.append(_col(name, type_, _D.get(doc, doc), prio[0] if prio else 0))
    return out


# --- row printers: one per kind, each returns the cells of one object ------------------------

Printer = Callable[[Obj, datetime], list[Cell]]


def _age(o: Obj, now: datetime) -> str:
    return _since(_get(o, "metadata", "creationTimestamp"), now)


def _name(o: Obj) -> str:
    return _s(o, "metadata", "name")


def _pod(pod: Obj, now: datetime) -> list[Cell]:
    """``printPod``: the Status reason logic (init containers, sidecars, waiting/terminated reasons,
    Completed→Running/NotReady, Terminating/Unknown) and ``Restarts`` with the last restart's age."""
    spec, status = _m(pod, "spec"), _m(pod, "status")
    restarts = sidecar_restarts = ready = 0
    total = len(_l(spec, "containers"))
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None
    phase = _s(status, "phase")
    reason = _s(status, "reason") or phase
    conditions = [c for c in _l(status, "conditions") if isinstance(c, Mapping)]
    for c in conditions:
        if _s(c, "type") == "PodScheduled" and _s(c, "reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_list = [c for c in _l(spec, "initContainers") if isinstance(c, Mapping)]
    init_specs = {_s(c, "name"): c for c in init_list}

    def restartable(c: Any) -> bool:  # podutil.IsRestartableInitContainer
        return c is not None and _s(c, "restartPolicy") == "Always"

    total += sum(1 for c in init_list if restartable(c))

    def later(current: datetime | None, cs: Any) -> datetime | None:  # lastRestartDate.Before(finishedAt)
        if not _has(cs, "lastState", "terminated"):
            return current
        finished = _parse_time(_get(cs, "lastState", "terminated", "finishedAt"))
        return finished if finished is not None and (current is None or current < finished) else current

    initializing = False
    for i, cs in enumerate(_l(status, "initContainerStatuses")):
        restarts += _i(cs, "restartCount")
        last_restart = later(last_restart, cs)
        sidecar = restartable(init_specs.get(_s(cs, "name")))
        if sidecar:
            sidecar_restarts += _i(cs, "restartCount")
            last_sidecar_restart = later(last_sidecar_restart, cs)
        terminated, waiting = _get(cs, "state", "terminated"), _get(cs, "state", "waiting")
        if terminated is not None and _i(terminated, "exitCode") == 0:
            continue
        if sidecar and _get(cs, "started") is True:
            ready += _get(cs, "ready") is True
            continue
        if terminated is not None:
            if _s(terminated, "reason"):
                reason = "Init:" + _s(terminated, "reason")
            elif _i(terminated, "signal") != 0:
                reason = f"Init:Signal:{_i(terminated, 'signal')}"
            else:
                reason = f"Init:ExitCode:{_i(terminated, 'exitCode')}"
        elif waiting is not None and _s(waiting, "reason") and _s(waiting, "reason") != "PodInitializing":
            reason = "Init:" + _s(waiting, "reason")
        else:
            reason = f"Init:{i}/{len(_l(spec, 'initContainers'))}"
        initializing = True
        break

    initialized = next(
        (_s(c, "status") == "True" for c in conditions if _s(c, "type") == "Initialized"), False
    )
    if not initializing or initialized:
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        has_running = False
        for cs in reversed(_l(status, "containerStatuses")):
            restarts += _i(cs, "restartCount")
            last_restart = later(last_restart, cs)
            terminated, waiting = _get(cs, "state", "terminated"), _get(cs, "state", "waiting")
            if waiting is not None and _s(waiting, "reason"):
                reason = _s(waiting, "reason")
            elif terminated is not None and _s(terminated, "reason"):
                reason = _s(terminated, "reason")
            elif terminated is not None:
                signal = _i(terminated, "signal")
                reason = f"Signal:{signal}" if signal else f"ExitCode:{_i(terminated, 'exitCode')}"
            elif _get(cs, "ready") is True and _has(cs, "state", "running"):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = any(_s(c, "type") == "Ready" and _s(c, "status") == "True" for c in conditions)
            reason = "Running" if pod_ready else "NotReady"

    deleting = _has(pod, "metadata", "deletionTimestamp")
    if deleting and _s(status, "reason") == "NodeLost":
        reason = "Unknown"
    elif deleting and phase not in ("Failed", "Succeeded"):
        reason = "Terminating"

    restarts_cell = str(restarts)
    if restarts != 0 and last_restart is not None:
        restarts_cell = f"{restarts} ({_since(last_restart, now)} ago)"

    gates = [g for g in _l(spec, "readinessGates") if isinstance(g, Mapping)]
    gates_cell = "<none>"
    if gates:
        true_count = 0
        for gate in gates:
            match = next((c for c in conditions if _s(c, "type") == _s(gate, "conditionType")), None)
            true_count += match is not None and _s(match, "status") == "True"
        gates_cell = f"{true_count}/{len(gates)}"
    return [
        _name(pod),
        f"{ready}/{total}",
        reason,
        restarts_cell,
        _age(pod, now),
        _pod_ip(status) or "<none>",
        _s(spec, "nodeName") or "<none>",
        _s(status, "nominatedNodeName") or "<none>",
        gates_cell,
    ]


def _pod_ip(status: Mapping[str, Any]) -> str:
    """The internal ``PodIPs[0]``: the v1→internal conversion lets ``podIP`` win over ``podIPs``."""
    ips = _l(status, "podIPs")
    return _s(status, "podIP") or (_s(ips[0], "ip") if ips else "")


_POD_CONDITIONS = {
    "Succeeded": [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ],
    "Failed": [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}],
}


def _deployment(o: Obj, now: datetime) -> list[Cell]:
    names, images = _containers(_m(o, "spec", "template", "spec"))
    selector = _selector_string(_get(o, "spec", "selector"))
    return [
        _name(o),
        f"{_i(o, 'status', 'readyReplicas')}/{_i(o, 'spec', 'replicas', default=1)}",
        _i(o, "status", "updatedReplicas"),
        _i(o, "status", "availableReplicas"),
        _age(o, now),
        names,
        images,
        "<invalid>" if selector is None else selector,
    ]


def _replica_set(o: Obj, now: datetime) -> list[Cell]:
    names, images = _containers(_m(o, "spec", "template", "spec"))
    return [
        _name(o),
        _i(o, "spec", "replicas", default=1),
        _i(o, "status", "replicas"),
        _i(o, "status", "readyReplicas"),
        _age(o, now),
        names,
        images,
        _format_label_selector(_get(o, "spec", "selector")),
    ]


def _stateful_set(o: Obj, now: datetime) -> list[Cell]:
    names, images = _containers(_m(o, "spec", "template", "spec"))
    ready = f"{_i(o, 'status', 'readyReplicas')}/{_i(o, 'spec', 'replicas', default=1)}"
    return [_name(o), ready, _age(o, now), names, images]


def _daemon_set(o: Obj, now: datetime) -> list[Cell]:
    names, images = _containers(_m(o, "spec", "template", "spec"))
    counts = (
        "desiredNumberScheduled",
        "currentNumberScheduled",
        "numberReady",
        "updatedNumberScheduled",
        "numberAvailable",
    )
    return [
        _name(o),
        *(_i(o, "status", c) for c in counts),
        _format_labels(_get(o, "spec", "template", "spec", "nodeSelector")),
        _age(o, now),
        names,
        images,
        _format_label_selector(_get(o, "spec", "selector")),
    ]


def _condition_true(o: Obj, type_: str) -> bool:
    """``hasJobCondition``: the first condition of the type decides."""
    for c in _l(o, "status", "conditions"):
        if _s(c, "type") == type_:
            return _s(c, "status") == "True"
    return False


def _job(o: Obj, now: datetime) -> list[Cell]:
    succeeded = _i(o, "status", "succeeded")
    completions, parallelism = _get(o, "spec", "completions"), _get(o, "spec", "parallelism")
    if completions is None and parallelism is None:  # batch/v1 SetDefaults_Job
        completions = 1
    parallelism = 1 if parallelism is None else parallelism
    if isinstance(completions, int):
        done = f"{succeeded}/{completions}"
    elif isinstance(parallelism, int) and parallelism > 1:
        done = f"{succeeded}/1 of {parallelism}"
    else:
        done = f"{succeeded}/1"
    start = _parse_time(_get(o, "status", "startTime"))
    took = ""
    if start is not None:  # running jobs count up to now, finished ones to completionTime
        end = _parse_time(_get(o, "status", "completionTime")) if _has(o, "status", "completionTime") else now
        took = human_duration((end or datetime.min.replace(tzinfo=UTC)) - start)
    if _condition_true(o, "Complete"):
        status = "Complete"
    elif _condition_true(o, "Failed"):
        status = "Failed"
    elif _has(o, "metadata", "deletionTimestamp"):
        status = "Terminating"
    elif _condition_true(o, "Suspended"):
        status = "Suspended"
    elif _condition_true(o, "FailureTarget"):
        status = "FailureTarget"
    else:
        status = "Running"
    names, images = _containers(_m(o, "spec", "template", "spec"))
    return [
        _name(o),
        status,
        done,
        took,
        _age(o, now),
        names,
        images,
        _format_label_selector(_get(o, "spec", "selector")),
    ]


def _cron_job(o: Obj, now: datetime) -> list[Cell]:
    last = _get(o, "status", "lastScheduleTime")
    suspend = _get(o, "spec", "suspend")
    job_spec = _m(o, "spec", "jobTemplate", "spec")
    names, images = _containers(_m(job_spec, "template", "spec"))
    return [
        _name(o),
        _s(o, "spec", "schedule"),
        _s(o, "spec", "timeZone") if _has(o, "spec", "timeZone") else "<none>",
        "True" if suspend is True else "False",  # printBoolPtr; v1 defaults suspend to false
        len(_l(o, "status", "active")),
        "<none>" if last is None else _since(last, now),
        _age(o, now),
        names,
        images,
        _format_label_selector(_get(job_spec, "selector")),
    ]


def _lb_ingress(ingress: list[Any]) -> str:
    """``loadBalancerStatusStringer`` with ``wide`` (the server always prints wide): sorted set."""
    found = {_s(i, "ip") or _s(i, "hostname") for i in ingress} - {""}
    return ",".join(sorted(found, key=str.encode))


def _service(o: Obj, now: datetime) -> list[Cell]:
    spec = _m(o, "spec")
    svc_type = _s(spec, "type") or "ClusterIP"
    ips = _l(spec, "clusterIPs")
    internal = (ips[0] if ips else _s(spec, "clusterIP")) or "<none>"
    external_ips = [ip for ip in _l(spec, "externalIPs") if isinstance(ip, str)]
    if svc_type in ("ClusterIP", "NodePort"):
        external = ",".join(external_ips) or "<none>"
    elif svc_type == "LoadBalancer":
        lb = _lb_ingress(_l(o, "status", "loadBalancer", "ingress"))
        if external_ips:
            external = ",".join([*(lb.split(",") if lb else []), *external_ips])
        else:
            external = lb or "<pending>"
    elif svc_type == "ExternalName":
        external = _s(spec, "externalName")
    else:
        external = "<unknown>"
    ports = []
    for p in _l(spec, "ports"):
        proto = _s(p, "protocol") or "TCP"
        node_port = _i(p, "nodePort")
        ports.append(f"{_i(p, 'port')}:{node_port}/{proto}" if node_port > 0 else f"{_i(p, 'port')}/{proto}")
    return [
        _name(o),
        svc_type,
        internal,
        external,
        ",".join(ports) or "<none>",
        _age(o, now),
        _format_labels(spec.get("selector")),
    ]


def _ingress(o: Obj, now: datetime) -> list[Cell]:
    rules = _l(o, "spec", "rules")
    hosts: list[str] = []
    more = False
    for rule in rules:  # formatHosts
        if len(hosts) == 3:
            more = True
        if not more and _s(rule, "host"):
            hosts.append(_s(rule, "host"))
    hosts_cell = ",".join(hosts) if hosts else "*"
    if hosts and more:
        hosts_cell += f" + {len(rules) - 3} more..."
    return [
        _name(o),
        _s(o, "spec", "ingressClassName") if _has(o, "spec", "ingressClassName") else "<none>",
        hosts_cell,
        _lb_ingress(_l(o, "status", "loadBalancer", "ingress")),
        "80, 443" if _l(o, "spec", "tls") else "80",
        _age(o, now),
    ]


def _ingress_class(o: Obj, now: datetime) -> list[Cell]:
    params = _get(o, "spec", "parameters")
    parameters = "<none>"
    if isinstance(params, Mapping):
        parameters = _s(params, "kind")
        if params.get("apiGroup") is not None:
            parameters += "." + _s(params, "apiGroup")
        parameters += "/" + _s(params, "name")
    return [_name(o), _s(o, "spec", "controller"), parameters, _age(o, now)]


def _join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _endpoints(o: Obj, now: datetime) -> list[Cell]:
    """``formatEndpoints(endpoints, nil)``: the first three addresses, then ``+ N more...``."""
    subsets = _l(o, "subsets")
    if not subsets:
        return [_name(o), "<none>", _age(o, now)]
    shown: list[str] = []
    more, count = False, 0
    for ss in subsets:
        addresses = [_s(a, "ip") for a in _l(ss, "addresses")]
        ports = _l(ss, "ports")
        for port in ports or [None]:
            count += len(addresses)
            for ip in addresses:
                if len(shown) == 3:
                    more = True
                    break
                shown.append(ip if port is None else _join_host_port(ip, _i(port, "port")))
    cell = ",".join(shown)
    if more:
        cell = f"{cell} + {count - 3} more..."
    return [_name(o), cell, _age(o, now)]


def _list_with_more(items: list[str], total: int) -> str:
    """``listWithMoreString`` over the first three items."""
    shown = ",".join(items[:3])
    if total > 3:
        return f"{shown} + {total - 3} more..."
    return shown or "<unset>"


def _endpoint_slice(o: Obj, now: datetime) -> list[Cell]:
    ports = []
    for p in _l(o, "ports"):
        ports.append(str(p["port"]) if _has(p, "port") else (_s(p, "name") if _has(p, "name") else "*"))
    addresses = [a for e in _l(o, "endpoints") for a in _l(e, "addresses")]
    return [
        _name(o),
        _s(o, "addressType"),
        _list_with_more(ports, len(ports)),
        _list_with_more(addresses, len(addresses)),
        _age(o, now),
    ]


def _node(o: Obj, now: datetime) -> list[Cell]:
    conditions = {_s(c, "type"): c for c in _l(o, "status", "conditions")}  # the last of a type wins
    status = []
    if "Ready" in conditions:
        status.append("Ready" if _s(conditions["Ready"], "status") == "True" else "NotReady")
    else:
        status.append("Unknown")
    if _get(o, "spec", "unschedulable") is True:
        status.append("SchedulingDisabled")
    roles = set()
    for k, v in _m(o, "metadata", "labels").items():
        if k.startswith("node-role.kubernetes.io/") and k[len("node-role.kubernetes.io/") :]:
            roles.add(k[len("node-role.kubernetes.io/") :])
        elif k == "kubernetes.io/role" and v:
            roles.add(v)
    info = _m(o, "status", "nodeInfo")

    def address(kind: str) -> str:
        return next(
            (_s(a, "address") for a in _l(o, "status", "addresses") if _s(a, "type") == kind), "<none>"
        )

    return [
        _name(o),
        ",".join(status),
        ",".join(sorted(roles, key=str.encode)) or "<none>",
        _age(o, now),
        _s(info, "kubeletVersion"),
        address("InternalIP"),
        address("ExternalIP"),
        _s(info, "osImage") or "<unknown>",
        _s(info, "kernelVersion") or "<unknown>",
        _s(info, "containerRuntimeVersion") or "<unknown>",
    ]


def _event(o: Obj, now: datetime) -> list[Cell]:
    first = _since(_get(o, "firstTimestamp"), now)
    if _parse_time(_get(o, "firstTimestamp")) is None:
        first = _since(_get(o, "eventTime"), now)
    last = first if _parse_time(_get(o, "lastTimestamp")) is None else _since(_get(o, "lastTimestamp"), now)
    count = _i(o, "count")
    if _has(o, "series"):
        last = _since(_get(o, "series", "lastObservedTime"), now)
        count = _i(o, "series", "count")
    elif count == 0:
        count = 1  # singleton events have no count in the new API
    kind = _s(o, "involvedObject", "kind").lower()
    target = f"{kind}/{_s(o, 'involvedObject', 'name')}" if _s(o, "involvedObject", "name") else kind
    component = _s(o, "source", "component") or _s(o, "reportingComponent")
    instance = _s(o, "source", "host") or _s(o, "reportingInstance")
    return [
        last,
        _s(o, "type"),
        _s(o, "reason"),
        target,
        _s(o, "involvedObject", "fieldPath"),
        f"{component}, {instance}" if instance else component,
        _s(o, "message").strip(),
        first,
        count,
        _name(o),
    ]


def _pvc(o: Obj, now: datetime) -> list[Cell]:
    phase = (
        "Terminating" if _has(o, "metadata", "deletionTimestamp") else (_s(o, "status", "phase") or "Pending")
    )
    volume = _s(o, "spec", "volumeName")
    capacity = access = ""
    if volume:
        access = _access_modes(_l(o, "status", "accessModes"))
        capacity = (
            _quantity(_get(o, "status", "capacity", "storage"))
            if _has(o, "status", "capacity", "storage")
            else "0"
        )
    annotations = _m(o, "metadata", "annotations")
    if "volume.beta.kubernetes.io/storage-class" in annotations:
        storage_class = str(annotations["volume.beta.kubernetes.io/storage-class"])
    else:
        storage_class = _s(o, "spec", "storageClassName")
    vac = (
        _s(o, "spec", "volumeAttributesClassName")
        if _has(o, "spec", "volumeAttributesClassName")
        else "<unset>"
    )
    mode = _s(o, "spec", "volumeMode") if _has(o, "spec", "volumeMode") else "Filesystem"
    return [_name(o), phase, volume, capacity, access, storage_class, vac, _age(o, now), mode]


def _access_modes(modes: list[Any]) -> str:
    """``helper.GetAccessModesAsString``: a fixed order, whatever the object's."""
    short = {
        "ReadWriteOnce": "RWO",
        "ReadOnlyMany": "ROX",
        "ReadWriteMany": "RWX",
        "ReadWriteOncePod": "RWOP",
    }
    return ",".join(abbr for mode, abbr in short.items() if mode in modes)


_DEFAULT_HPA_METRICS = [
    {
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
    }
]


_METRIC_SOURCES = {
    "External": "external",
    "Pods": "pods",
    "Object": "object",
    "Resource": "resource",
    "ContainerResource": "containerResource",
}


def _hpa_metrics(specs: list[Any], statuses: list[Any]) -> str:
    """``formatHPAMetrics``: ``current/target`` per metric, two shown, ``+ N more...``."""
    if not specs:
        return "<none>"
    out = []
    for i, spec in enumerate(specs):
        status = statuses[i] if i < len(statuses) else {}
        kind = _s(spec, "type")
        source_key = _METRIC_SOURCES.get(kind)
        if source_key is None:
            out.append("<unknown type>")
            continue
        target, current = _m(spec, source_key, "target"), _get(status, source_key)
        name = _s(spec, source_key, "name")
        prefix = f"{name}: " if kind in ("Resource", "ContainerResource") else ""
        if kind == "Pods":
            cur = _quantity(_get(current, "current", "averageValue")) if current is not None else "<unknown>"
            out.append(f"{cur}/{_quantity(target.get('averageValue'))}")
        elif target.get("averageValue") is not None:
            has = current is not None and (
                kind in ("Resource", "ContainerResource") or _has(current, "current", "averageValue")
            )
            cur = _quantity(_get(current, "current", "averageValue")) if has else "<unknown>"
            suffix = " (avg)" if kind in ("External", "Object") else ""
            out.append(f"{prefix}{cur}/{_quantity(target['averageValue'])}{suffix}")
        elif kind in ("External", "Object"):
            cur = _quantity(_get(current, "current", "value")) if current is not None else "<unknown>"
            out.append(f"{cur}/{_quantity(target.get('value'))}")
        else:
            util = _get(current, "current", "averageUtilization")
            cur = f"{util}%" if isinstance(util, int) else "<unknown>"
            want = target.get("averageUtilization")
            out.append(f"{prefix}{cur}/{f'{want}%' if isinstance(want, int) else '<auto>'}")
    joined = ", ".join(out[:2])
    return f"{joined} + {len(out) - 2} more..." if len(out) > 2 else joined


def _hpa(o: Obj, now: datetime) -> list[Cell]:
    ref = _m(o, "spec", "scaleTargetRef")
    metrics = _l(o, "spec", "metrics") or _DEFAULT_HPA_METRICS  # autoscaling/v2 SetDefaults
    min_replicas = _get(o, "spec", "minReplicas")
    return [
        _name(o),
        f"{_s(ref, 'kind')}/{_s(ref, 'name')}",
        _hpa_metrics(metrics, _l(o, "status", "currentMetrics")),
        str(min_replicas) if isinstance(min_replicas, int) else "1",
        _i(o, "spec", "maxReplicas"),
        _i(o, "status", "currentReplicas"),
        _age(o, now),
    ]


def _pdb(o: Obj, now: datetime) -> list[Cell]:
    def bound(key: str) -> str:
        return _int_or_string(_get(o, "spec", key)) if _has(o, "spec", key) else "N/A"

    return [
        _name(o),
        bound("minAvailable"),
        bound("maxUnavailable"),
        _i(o, "status", "disruptionsAllowed"),
        _age(o, now),
    ]


def _binding(o: Obj, now: datetime) -> list[Cell]:
    users, groups, sas = [], [], []
    for s in _l(o, "subjects"):  # rbac.SubjectsStrings
        kind = _s(s, "kind")
        if kind == "ServiceAccount":
            sas.append(f"{_s(s, 'namespace')}/{_s(s, 'name')}")
        elif kind == "User":
            users.append(_s(s, "name"))
        elif kind == "Group":
            groups.append(_s(s, "name"))
    role = f"{_s(o, 'roleRef', 'kind')}/{_s(o, 'roleRef', 'name')}"
    return [_name(o), role, _age(o, now), ", ".join(users), ", ".join(groups), ", ".join(sas)]


def _storage_class(o: Obj, now: datetime) -> list[Cell]:
    annotations = _m(o, "metadata", "annotations")
    default = "true" in (
        annotations.get("storageclass.kubernetes.io/is-default-class"),
        annotations.get("storageclass.beta.kubernetes.io/is-default-class"),
    )
    return [
        _name(o) + (" (default)" if default else ""),
        _s(o, "provisioner"),
        _s(o, "reclaimPolicy") if _has(o, "reclaimPolicy") else "Delete",
        _s(o, "volumeBindingMode") if _has(o, "volumeBindingMode") else "Immediate",
        _get(o, "allowVolumeExpansion") is True,
        _age(o, now),
    ]


def _controller_revision(o: Obj, now: datetime) -> list[Cell]:
    owner = next((r for r in _l(o, "metadata", "ownerReferences") if _get(r, "controller") is True), None)
    controller = "<none>"
    if owner is not None:
        api_version = _s(owner, "apiVersion")
        group = api_version.split("/")[0] if "/" in api_version else ""
        kind = _s(owner, "kind")
        group_kind = f"{kind}.{group}" if group else kind
        controller = _s(owner, "name") if not group_kind else f"{group_kind.lower()}/{_s(owner, 'name')}"
    return [_name(o), controller, _i(o, "revision"), _age(o, now)]


def _simple(*cells: Callable[[Obj], Cell]) -> Printer:
    """A printer whose cells are Name, the given extractors, then Age."""
    return lambda o, now: [_name(o), *(f(o) for f in cells), _age(o, now)]


@dataclass(frozen=True)
class _Kind:
    columns: list[dict[str, Any]]
    cells: Printer


_PRINTERS: dict[tuple[str, str], _Kind] = {
    ("", "Pod"): _Kind(
        _cols(
            _NAME,
            ("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
            ("Status", "string", "The aggregate status of the containers in this pod."),
            (
                "Restarts",
                "string",
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
            _AGE,
            ("IP", "string", "PodStatus.podIP", 1),
            ("Node", "string", "PodSpec.nodeName", 1),
            ("Nominated Node", "string", "PodStatus.nominatedNodeName", 1),
            ("Readiness Gates", "string", "PodSpec.readinessGates", 1),
        ),
        _pod,
    ),
    ("", "Namespace"): _Kind(
        _cols(_NAME, ("Status", "string", "The status of the namespace"), _AGE),
        _simple(lambda o: _s(o, "status", "phase") or "Active"),
    ),
    ("", "ConfigMap"): _Kind(
        _cols(_NAME, ("Data", "string", "ConfigMap.data"), _AGE),
        _simple(lambda o: len(_m(o, "data")) + len(_m(o, "binaryData"))),
    ),
    ("", "Secret"): _Kind(
        _cols(_NAME, ("Type", "string", "Secret.type"), ("Data", "string", "Secret.data"), _AGE),
        _simple(lambda o: _s(o, "type") or "Opaque", lambda o: len(_m(o, "data"))),
    ),
    ("", "ServiceAccount"): _Kind(
        _cols(_NAME, ("Secrets", "string", "ServiceAccount.secrets"), _AGE),
        _simple(lambda o: len(_l(o, "secrets"))),
    ),
    ("", "Service"): _Kind(
        _cols(
            _NAME,
            ("Type", "string", "ServiceSpec.type"),
            ("Cluster-IP", "string", "ServiceSpec.clusterIP"),
            ("External-IP", "string", "ServiceSpec.externalIPs"),
            ("Port(s)", "string", "ServiceSpec.ports"),
            _AGE,
            ("Selector", "string", "ServiceSpec.selector", 1),
        ),
        _service,
    ),
    ("", "Endpoints"): _Kind(_cols(_NAME, ("Endpoints", "string", "Endpoints.subsets"), _AGE), _endpoints),
    ("", "Event"): _Kind(
        _cols(
            ("Last Seen", "string", "Event.lastTimestamp"),
            ("Type", "string", "Event.type"),
            ("Reason", "string", "Event.reason"),
            ("Object", "string", "Event.involvedObject"),
            ("Subobject", "string", "ObjectReference.fieldPath", 1),
            ("Source", "string", "Event.source", 1),
            ("Message", "string", "Event.message"),
            ("First Seen", "string", "Event.firstTimestamp", 1),
            ("Count", "string", "Event.count", 1),
            _col("Name", "string", _D_NAME, 1, fmt="name"),
        ),
        _event,
    ),
    ("", "PersistentVolumeClaim"): _Kind(
        _cols(
            _NAME,
            ("Status", "string", "PersistentVolumeClaimStatus.phase"),
            ("Volume", "string", "PersistentVolumeClaimSpec.volumeName"),
            ("Capacity", "string", "PersistentVolumeClaimStatus.capacity"),
            ("Access Modes", "string", "PersistentVolumeClaimStatus.accessModes"),
            ("StorageClass", "string", "StorageClass of the pvc"),
            ("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
            _AGE,
            ("VolumeMode", "string", "PersistentVolumeClaimSpec.volumeMode", 1),
        ),
        _pvc,
    ),
    ("", "Node"): _Kind(
        _cols(
            _NAME,
            ("Status", "string", "The status of the node"),
            ("Roles", "string", "The roles of the node"),
            _AGE,
            ("Version", "string", "NodeSystemInfo.kubeletVersion"),
            ("Internal-IP", "string", "NodeStatus.addresses", 1),
            ("External-IP", "string", "NodeStatus.addresses", 1),
            ("OS-Image", "string", "NodeSystemInfo.osImage", 1),
            ("Kernel-Version", "string", "NodeSystemInfo.kernelVersion", 1),
            ("Container-Runtime", "string", "NodeSystemInfo.containerRuntimeVersion", 1),
        ),
        _node,
    ),
    ("apps", "Deployment"): _Kind(
        _cols(
            _NAME,
            ("Ready", "string", _D_READY_PODS),
            ("Up-to-date", "string", "DeploymentStatus.updatedReplicas"),
            ("Available", "string", "DeploymentStatus.availableReplicas"),
            _AGE,
            *_WIDE_CONTAINERS,
            ("Selector", "string", "DeploymentSpec.selector", 1),
        ),
        _deployment,
    ),
    ("apps", "ReplicaSet"): _Kind(
        _cols(
            _NAME,
            ("Desired", "integer", "ReplicaSetSpec.replicas"),
            ("Current", "integer", "ReplicaSetStatus.replicas"),
            ("Ready", "integer", "ReplicaSetStatus.readyReplicas"),
            _AGE,
            *_WIDE_CONTAINERS,
            ("Selector", "string", "ReplicaSetSpec.selector", 1),
        ),
        _replica_set,
    ),
    ("apps", "StatefulSet"): _Kind(
        _cols(_NAME, ("Ready", "string", _D_READY_PODS), _AGE, *_WIDE_CONTAINERS), _stateful_set
    ),
    ("apps", "DaemonSet"): _Kind(
        _cols(
            _NAME,
            ("Desired", "integer", "DaemonSetStatus.desiredNumberScheduled"),
            ("Current", "integer", "DaemonSetStatus.currentNumberScheduled"),
            ("Ready", "integer", "DaemonSetStatus.numberReady"),
            ("Up-to-date", "integer", "DaemonSetStatus.updatedNumberScheduled"),
            ("Available", "integer", "DaemonSetStatus.numberAvailable"),
            ("Node Selector", "string", "PodSpec.nodeSelector"),
            _AGE,
            *_WIDE_CONTAINERS,
            ("Selector", "string", "DaemonSetSpec.selector", 1),
        ),
        _daemon_set,
    ),
    ("apps", "ControllerRevision"): _Kind(
        _cols(
            _NAME,
            ("Controller", "string", "Controller of the object"),
            ("Revision", "string", "ControllerRevision.revision"),
            _AGE,
        ),
        _controller_revision,
    ),
    ("batch", "Job"): _Kind(
        _cols(
            _NAME,
            ("Status", "string", "Status of the job."),
            ("Completions", "string", "JobStatus.succeeded"),
            ("Duration", "string", "Time required to complete the job."),
            _AGE,
            *_WIDE_CONTAINERS,
            ("Selector", "string", "JobSpec.selector", 1),
        ),
        _job,
    ),
    ("batch", "CronJob"): _Kind(
        _cols(
            _NAME,
            ("Schedule", "string", "CronJobSpec.schedule"),
            ("Timezone", "string", "CronJobSpec.timeZone"),
            ("Suspend", "boolean", "CronJobSpec.suspend"),
            ("Active", "integer", "CronJobStatus.active"),
            ("Last Schedule", "string", "CronJobStatus.lastScheduleTime"),
            _AGE,
            *_WIDE_CONTAINERS,
            ("Selector", "string", "JobSpec.selector", 1),
        ),
        _cron_job,
    ),
    ("networking.k8s.io", "Ingress"): _Kind(
        _cols(
            _NAME,
            (
                "Class",
                "string",
                "The name of the IngressClass resource that should be used for additional configuration",
            ),
            ("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
            ("Address", "string", "Address is a list containing ingress points for the load-balancer"),
            ("Ports", "string", "Ports of TLS configurations that open"),
            _AGE,
        ),
        _ingress,
    ),
    ("networking.k8s.io", "IngressClass"): _Kind(
        _cols(
            _NAME,
            ("Controller", "string", "Controller that is responsible for handling this class"),
            ("Parameters", "string", "A reference to a resource with additional parameters"),
            _AGE,
        ),
        _ingress_class,
    ),
    ("networking.k8s.io", "NetworkPolicy"): _Kind(
        _cols(_NAME, ("Pod-Selector", "string", "NetworkPolicySpec.podSelector"), _AGE),
        _simple(lambda o: _format_label_selector(_get(o, "spec", "podSelector") or {})),
    ),
    ("rbac.authorization.k8s.io", "RoleBinding"): _Kind(
        _cols(
            _NAME,
            ("Role", "string", "RoleBinding.roleRef"),
            _AGE,
            ("Users", "string", "Users in the roleBinding", 1),
            ("Groups", "string", "Groups in the roleBinding", 1),
            ("ServiceAccounts", "string", "ServiceAccounts in the roleBinding", 1),
        ),
        _binding,
    ),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _Kind(
        _cols(
            _NAME,
            ("Role", "string", "ClusterRoleBinding.roleRef"),
            _AGE,
            ("Users", "string", "Users in the clusterRoleBinding", 1),
            ("Groups", "string", "Groups in the clusterRoleBinding", 1),
            ("ServiceAccounts", "string", "ServiceAccounts in the clusterRoleBinding", 1),
        ),
        _binding,
    ),
    ("coordination.k8s.io", "Lease"): _Kind(
        _cols(_NAME, ("Holder", "string", "LeaseSpec.holderIdentity"), _AGE),
        _simple(lambda o: _s(o, "spec", "holderIdentity")),
    ),
    ("discovery.k8s.io", "EndpointSlice"): _Kind(
        _cols(
            _NAME,
            ("AddressType", "string", "EndpointSlice.addressType"),
            ("Ports", "string", "EndpointSlice.ports"),
            ("Endpoints", "string", "EndpointSlice.endpoints"),
            _AGE,
        ),
        _endpoint_slice,
    ),
    ("policy", "PodDisruptionBudget"): _Kind(
        _cols(
            _NAME,
            ("Min Available", "string", "The minimum number of pods that must be available."),
            ("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
            (
                "Allowed Disruptions",
                "integer",
                "Calculated number of pods that may be disrupted at this time.",
            ),
            _AGE,
        ),
        _pdb,
    ),
    ("autoscaling", "HorizontalPodAutoscaler"): _Kind(
        _cols(
            _NAME,
            ("Reference", "string", "HPASpec.scaleTargetRef"),
            ("Targets", "string", "HPASpec.metrics"),
            ("MinPods", "string", "HPASpec.minReplicas"),
            ("MaxPods", "string", "HPASpec.maxReplicas"),
            ("Replicas", "string", "HPAStatus.currentReplicas"),
            _AGE,
        ),
        _hpa,
    ),
    ("storage.k8s.io", "StorageClass"): _Kind(
        _cols(
            _NAME,
            ("Provisioner", "string", "StorageClass.provisioner"),
            ("ReclaimPolicy", "string", "StorageClass.reclaimPolicy"),
            ("VolumeBindingMode", "string", "StorageClass.volumeBindingMode"),
            ("AllowVolumeExpansion", "string", "StorageClass.allowVolumeExpansion"),
            _AGE,
        ),
        _storage_class,
    ),
}


# --- the default and custom-resource convertors ----------------------------------------------

_DEFAULT_COLUMNS = [_NAME, _col("Created At", "date", _D_CREATED)]


def _created_at(o: Obj) -> str:
    """``GetCreationTimestamp().Time.UTC().Format(time.RFC3339)``; Go's zero time if absent."""
    t = _parse_time(_get(o, "metadata", "creationTimestamp"))
    return "0001-01-01T00:00:00Z" if t is None else t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Go's text forms of JSON values, for string-typed printer columns.


def _float_digits(f: float) -> tuple[str, int]:
    """Shortest round-trip digits of ``|f|`` and the decimal point position (Go and Python agree)."""
    _, digits, exp = Decimal(repr(abs(f))).normalize().as_tuple()
    assert isinstance(exp, int)
    text = "".join(map(str, digits))
    return text, len(text) + exp


def _go_float(f: float, *, json_style: bool) -> str:
    """``fmt.Sprint(f)`` (``%g``, exponent below 1e-4 or from 1e6) or ``json.Marshal(f)``."""
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 and not json_style else "0"
    digits, dp = _float_digits(f)
    x = dp - 1
    use_e = (abs(f) < 1e-6 or abs(f) >= 1e21) if json_style else (x < -4 or x >= 6)
    neg = "-" if f < 0 else ""
    if use_e:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        exponent = f"{abs(x):02d}" if not (json_style and x < 0) else str(abs(x))
        return f"{neg}{mantissa}e{'-' if x < 0 else '+'}{exponent}"
    if dp <= 0:
        return f"{neg}0.{'0' * -dp}{digits}"
    if dp >= len(digits):
        return neg + digits + "0" * (dp - len(digits))
    return f"{neg}{digits[:dp]}.{digits[dp:]}"


def _go_json(v: Any) -> str:
    """``json.Marshal``: compact, map keys sorted, ``<``, ``>`` and ``&`` escaped."""
    if isinstance(v, Mapping):
        return "{" + ",".join(f"{_go_json(str(k))}:{_go_json(v[k])}" for k in sorted(v, key=str.encode)) + "}"
    if isinstance(v, list):
        return "[" + ",".join(_go_json(x) for x in v) + "]"
    if isinstance(v, float):
        return _go_float(v, json_style=True)
    text = json.dumps(v, ensure_ascii=False)
    for ch, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(ch, esc)
    return text


def _go_text(v: Any) -> str:
    """client-go ``JSONPath.PrintResults`` of one value: JSON for maps and lists, else ``fmt.Fprint``."""
    if isinstance(v, (Mapping, list)):
        return _go_json(v)
    if v is None:
        return "<no value>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _go_float(v, json_style=False)
    return str(v)


# --- JSONPath (the client-go ``util/jsonpath`` subset printer columns use) -------------------


class _PathError(Exception):
    """Any evaluation error: the custom-resource convertor then prints a null cell."""


Step = tuple[Any, ...]
_ARRAY = re.compile(r"(-?\d*)(?::(-?\d*))?(?::(-?\d*))?")
_FILTER = re.compile(r"([^!<>=]+)([!<>=]+)(.+?)")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _parse_path(text: str) -> list[Step]:
    """Steps of a ``.a.b[0]['c'][*][?(@.x=="y")]`` path; ``ValueError`` on what client-go rejects."""
    steps: list[Step] = []
    text = text.strip()
    i = 0
    while i < len(text):
        if text.startswith("..", i):
            steps.append(("recurse",))
            i += 1
        elif text[i] == ".":
            j = i + 1
            while j < len(text) and text[j] not in ".[":
                j += 1
            name = text[i + 1 : j]
            steps.append(("wild",) if name == "*" else ("field", name))
            i = j
        elif text[i] == "[":
            if text.startswith("[?(", i):
                j = text.find(")]", i)
                if j < 0:
                    raise ValueError("unterminated filter")
                steps.append(_parse_filter(text[i + 3 : j]))
                i = j + 2
                continue
            j = text.find("]", i)
            if j < 0:
                raise ValueError("unterminated array")
            inner = text[i + 1 : j].strip()
            if inner[:1] in "'\"" and len(inner) > 1 and inner[-1] == inner[0]:
                steps.append(("field", inner[1:-1]))
            else:
                m = _ARRAY.fullmatch(":" if inner == "*" else inner)
                if m is None or not inner:
                    raise ValueError(f"invalid array index {inner}")
                start, end, step = (int(g) if g else None for g in m.groups())
                derived = m.group(2) is None and ":" not in inner
                if derived and start is not None:
                    end = start + 1
                steps.append(("array", start, end, step, derived))
            i = j + 1
        elif text[i].isspace():
            i += 1
        else:
            raise ValueError(f"unrecognized character in action: {text[i]}")
    return steps


def _parse_operand(text: str) -> list[Step] | Any:
    text = text.strip()
    if text.startswith("@"):
        return _parse_path(text[1:])
    if text[:1] in "'\"" and len(text) > 1 and text[-1] == text[0]:
        return ("literal", text[1:-1])
    if _NUMBER.fullmatch(text):
        return ("literal", float(text) if "." in text else int(text))
    if text in ("true", "false"):
        return ("literal", text == "true")
    raise ValueError(f"unrecognized filter operand {text}")


def _parse_filter(text: str) -> Step:
    m = _FILTER.fullmatch(text)
    if m is None:
        return ("filter", _parse_operand(text), "exists", None)
    return ("filter", _parse_operand(m.group(1)), m.group(2), _parse_operand(m.group(3)))


def _kind_of(v: Any) -> str:
    """text/template ``basicKind``: values of different kinds do not compare."""
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    raise _PathError("invalid type for comparison")


def _compare(left: Any, op: str, right: Any) -> bool:
    kind = _kind_of(left)
    if kind != _kind_of(right):
        raise _PathError("incompatible types for comparison")
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if kind == "bool" or op not in ("<", ">", "<=", ">="):
        raise _PathError(f"unrecognized filter operator {op}")
    return bool({"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op])


def _operand(spec: Any, item: Any) -> list[Any]:
    if isinstance(spec, tuple) and spec[:1] == ("literal",):
        return [spec[1]]
    return _eval_path(spec, [item])


def _eval_path(steps: Sequence[Step], values: list[Any]) -> list[Any]:
    for st in steps:
        out: list[Any] = []
        if st[0] == "field":
            for v in values:
                if isinstance(v, Mapping) and st[1] in v:
                    out.append(v[st[1]])
        elif st[0] == "wild":
            for v in values:
                if isinstance(v, Mapping):
                    out.extend(v[k] for k in sorted(v, key=str.encode))
                elif isinstance(v, list):
                    out.extend(v)
        elif st[0] == "recurse":
            out = _recurse(values)
        elif st[0] == "array":
            out = _eval_array(values, *st[1:])
        else:
            out = _eval_filter(values, st[1], st[2], st[3])
        values = out
    return values


def _recurse(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        children = (
            [v[k] for k in sorted(v, key=str.encode)]
            if isinstance(v, Mapping)
            else v
            if isinstance(v, list)
            else []
        )
        if children:
            out.append(v)
            out.extend(_recurse(children))
    return out


def _eval_array(
    values: list[Any], start: int | None, end: int | None, step: int | None, derived: bool
) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v is None:
            continue
        if not isinstance(v, list):
            raise _PathError("not array or slice")
        n = len(v)
        s = 0 if start is None else start + (n if start < 0 else 0)
        e = n if end is None else end
        if e < 0 or (e == 0 and derived):
            e += n
        if e == s:
            return out  # JSONPath.evalArray returns at once when zero elements are requested
        if not 0 <= s < n or not 0 <= e <= n or s > e:
            raise _PathError("array index out of bounds")
        if step is not None and step <= 0:
            raise _PathError("step must be > 0")
        out.extend(v[s : e : step or 1])
    return out


def _eval_filter(values: list[Any], left: Any, op: str, right: Any) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if not isinstance(v, list):
            raise _PathError("not array or slice and cannot be filtered")
        for item in v:
            lefts = _operand(left, item)
            if op == "exists":
                if lefts:
                    out.append(item)
                continue
            if len(lefts) != 1:
                if lefts:
                    raise _PathError("can only compare one element at a time")
                continue
            rights = _operand(right, item)
            if len(rights) != 1:
                if rights:
                    raise _PathError("can only compare one element at a time")
                continue
            if _compare(lefts[0], op, rights[0]):
                out.append(item)
    return out


def _custom_cell(type_: str, steps: Sequence[Step], obj: Obj, now: datetime) -> Cell:
    """One ``additionalPrinterColumns`` cell (``tableconvertor.ConvertToTable``/``cellForJSONValue``)."""
    try:
        results = _eval_path(steps, [obj])
    except _PathError:
        return None
    if not results:
        return None
    value = results[0]
    if type_ == "string":
        return _go_text(value)
    if value is None:
        return None
    if type_ == "integer" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if type_ == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if type_ == "boolean" and isinstance(value, bool):
        return value
    if type_ == "date" and isinstance(value, str):
        if value in ("", "null"):
            return "<unknown>"
        t = _parse_time(value)
        return "<invalid>" if t is None else human_duration(now - t)
    return None


def _custom_resource(crd_columns: Sequence[Mapping[str, Any]]) -> _Kind:
    """``tableconvertor.New`` over the version's columns, or the default ``Age`` column."""
    columns = list(crd_columns) or [
        {"name": "Age", "type": "date", "description": _D_CREATED, "jsonPath": ".metadata.creationTimestamp"}
    ]
    defs, paths = [_NAME], []
    for c in columns:
        json_path = str(c.get("jsonPath", ""))
        try:
            paths.append((str(c.get("type", "")), _parse_path(json_path)))
        except ValueError:
            break  # New returns what it built so far; the handler serves it anyway
        description = str(
            c.get("description") or f"Custom resource definition column (in JSONPath format): {json_path}"
        )
        defs.append(
            _col(
                str(c.get("name", "")),
                str(c.get("type", "")),
                description,
                int(c.get("priority", 0)),
                str(c.get("format", "")),
            )
        )

    def cells(o: Obj, now: datetime) -> list[Cell]:
        return [_name(o), *(_custom_cell(type_, steps, o, now) for type_, steps in paths)]

    return _Kind(defs, cells)


_DEFAULT = _Kind(_DEFAULT_COLUMNS, lambda o, now: [_name(o), _created_at(o)])


# --- the Table -------------------------------------------------------------------------------


def table(
    rt_group: str,
    kind: str,
    objects: Sequence[Obj],
    *,
    now: datetime,
    resource_version: str,
    include_object: str = "Metadata",
    continue_token: str | None = None,
    remaining: int | None = None,
    crd_columns: Sequence[Mapping[str, Any]] | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    """The ``meta.k8s.io/v1`` Table for ``objects`` of ``rt_group``/``kind``.

    Pass ``crd_columns`` (the served version's ``additionalPrinterColumns``, ``[]`` for none)
    for custom resources only. ``include_object`` is the ``includeObject`` query value:
    ``Metadata`` (or empty; kubectl's default) embeds a ``PartialObjectMetadata``, ``Object`` the
    whole object (``version`` fills ``apiVersion`` when the stored object lacks it), ``None``
    a null. Raises :class:`TableError` for any other value when there is a row, as the server
    only checks it per row. Without a printer or columns the rows of an empty list are ``None``
    (``rest.defaultTableConvertor`` never allocates them) where printers return ``[]``.
    """
    now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    if crd_columns is not None:
        printer = _custom_resource(crd_columns)
    else:
        printer = _PRINTERS.get((rt_group, kind), _DEFAULT)
    if objects and include_object not in _INCLUDE:
        raise TableError(f"unrecognized includeObject value: {selectors.go_quote(include_object)}")
    rows: list[dict[str, Any]] | None = [] if objects or printer is not _DEFAULT else None
    for obj in objects:
        row: dict[str, Any] = {"cells": printer.cells(obj, now)}
        if printer.cells is _pod and _s(obj, "status", "phase") in _POD_CONDITIONS:
            row["conditions"] = [dict(c) for c in _POD_CONDITIONS[_s(obj, "status", "phase")]]
        row["object"] = _row_object(obj, include_object, rt_group, kind, version)
        assert rows is not None
        rows.append(row)
    metadata: dict[str, Any] = {"resourceVersion": resource_version}
    if continue_token:
        metadata["continue"] = continue_token
    if remaining is not None:
        metadata["remainingItemCount"] = remaining
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": [dict(c) for c in printer.columns],
        "rows": rows,
    }


def _row_object(obj: Obj, include: str, group: str, kind: str, version: str | None) -> dict[str, Any] | None:
    """``asTable``'s per-row object for the ``includeObject`` policy."""
    if include == "None":
        return None
    if include == "Object":
        api_version = obj.get("apiVersion") or (f"{group}/{version}" if group else version)
        rest = {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}
        return {"kind": obj.get("kind") or kind, "apiVersion": api_version, **rest}
    metadata = dict(_m(obj, "metadata"))
    metadata.setdefault("creationTimestamp", None)  # ObjectMeta always serializes it
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata}
