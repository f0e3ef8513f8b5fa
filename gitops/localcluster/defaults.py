"""Server-side defaulting of the built-in kinds, as a Kubernetes 1.32 API server does it (pure).

Contract:

- :func:`apply_defaults` mutates an object the way decoding a request body into the server's Go
  types does, on every write: the ``SetDefaults_*`` functions of ``pkg/apis/*/v1/defaults.go``,
  the ``+default=`` markers compiled into ``zz_generated.defaults.go``, the conversion that folds
  Secret ``stringData`` into ``data``, and the zero values Go prints for non-pointer structs
  (container ``resources: {}``, template ``metadata.creationTimestamp: null``). It is idempotent.
- :func:`prepare_for_create` applies the pure effects of the registry strategies'
  ``PrepareForCreate`` (``pkg/registry/*/*/strategy.go``): status reset to what a new object
  shows (``status: {}``, Namespace ``Active``, PVC ``Pending``...), the Namespace ``kubernetes``
  finalizer, Service IP family fields, and the deterministic admission defaults of Pods.
- :func:`job_defaults` is the Job strategy's ``generateSelector``, which needs the new uid.

Stateful allocation (cluster IPs, node ports, names) is the server's, not ours.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import re
from collections.abc import Callable
from typing import Any

from gitops.localcluster import quantity, schema

Obj = dict[str, Any]

# ---------------------------------------------------------------------------------- helpers


def _dict(parent: Any, key: str) -> Obj | None:
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else None


def _dicts(parent: Any, key: str) -> list[Obj]:
    value = parent.get(key) if isinstance(parent, dict) else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _unset(obj: Obj, key: str, value: Any) -> None:
    """Default a pointer field (Go ``if x == nil``): absent or null."""
    if obj.get(key) is None:
        obj[key] = value


def _empty(obj: Obj, key: str, value: Any) -> None:
    """Default a value field (Go ``if x == ""`` / ``== 0``): absent, null or the zero value."""
    if obj.get(key) in (None, "", 0) and obj.get(key) is not False:
        obj[key] = value


def _struct(obj: Obj, key: str) -> Obj:
    """A non-pointer struct field: Go always has one, and prints it even when empty."""
    value = obj.get(key)
    if not isinstance(value, dict):
        value = obj[key] = {}
    return value


def _template_meta(tpl: Obj) -> None:
    """A nested ObjectMeta prints ``creationTimestamp: null`` (a zero metav1.Time) in 1.32."""
    meta = _struct(tpl, "metadata")
    meta.setdefault("creationTimestamp", None)


def _resource_list(parent: Any, key: str) -> None:
    """``SetDefaults_ResourceList``: values are rounded up to milli units."""
    values = _dict(parent, key)
    if values is None:
        return
    for name, value in values.items():
        if value is None or isinstance(value, bool):
            continue
        with contextlib.suppress(ValueError):  # bad values are the decoder's to report
            values[name] = quantity.round_up_milli(value)


def _resources(parent: Any, key: str) -> None:
    res = _dict(parent, key)
    _resource_list(res, "limits")
    _resource_list(res, "requests")


# ----------------------------------------------------------------------- core/v1 pieces

# docker/distribution reference grammar (vendored by kubelet's parsers.ParseImageName).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_REFERENCE = re.compile(
    rf"^(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$"
)


def image_tag(image: str) -> str:
    """The tag ``parsers.ParseImageName`` finds: ``latest`` when neither tag nor digest is given,
    empty when the reference does not parse (so the pull policy defaults to IfNotPresent)."""
    m = _REFERENCE.match(image)
    if m is None or len(image.split(":")[0].split("@")[0]) > 255:
        return ""
    if m.group("tag"):
        return m.group("tag")
    return "" if m.group("digest") else "latest"


def _http_get(handler: Obj | None) -> None:
    get = _dict(handler, "httpGet")
    if get is not None:  # SetDefaults_HTTPGetAction
        _empty(get, "path", "/")
        _empty(get, "scheme", "HTTP")


def _probe(probe: Obj | None) -> None:
    if probe is None:
        return
    for key, value in (
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ):
        _empty(probe, key, value)  # SetDefaults_Probe
    _http_get(probe)
    grpc = _dict(probe, "grpc")
    if grpc is not None:
        _unset(grpc, "service", "")  # GRPCAction.Service +default=""


def _field_ref(holder: Obj | None) -> None:
    ref = _dict(holder, "fieldRef")
    if ref is not None:
        _empty(ref, "apiVersion", "v1")  # SetDefaults_ObjectFieldSelector


def _container(c: Obj) -> None:
    if not c.get("imagePullPolicy"):  # SetDefaults_Container
        tag = image_tag(str(c.get("image") or ""))
        c["imagePullPolicy"] = "Always" if tag == "latest" else "IfNotPresent"
    _empty(c, "terminationMessagePath", "/dev/termination-log")
    _empty(c, "terminationMessagePolicy", "File")
    for port in _dicts(c, "ports"):
        _empty(port, "protocol", "TCP")  # ContainerPort.Protocol +default="TCP"
    for env in _dicts(c, "env"):
        _field_ref(_dict(env, "valueFrom"))
    _struct(c, "resources")
    _resources(c, "resources")
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(_dict(c, key))
    lifecycle = _dict(c, "lifecycle")
    for key in ("postStart", "preStop"):
        _http_get(_dict(lifecycle, key))


@functools.cache
def _volume_sources() -> tuple[str, ...]:
    props = schema.definitions()["io.k8s.api.core.v1.Volume"]["properties"]
    return tuple(k for k in props if k != "name")


def _pvc_spec(spec: Obj | None) -> None:
    if spec is None:
        return
    _unset(spec, "volumeMode", "Filesystem")  # SetDefaults_PersistentVolumeClaimSpec
    _resources(spec, "resources")


def _volume(v: Obj) -> None:
    if all(v.get(k) is None for k in _volume_sources()):
        v["emptyDir"] = {}  # SetDefaults_Volume
    host_path = _dict(v, "hostPath")
    if host_path is not None:
        _unset(host_path, "type", "")
    for key in ("secret", "configMap", "downwardAPI", "projected"):
        src = _dict(v, key)
        if src is not None:
            _unset(src, "defaultMode", 420)  # 0644
    for item in _dicts(_dict(v, "downwardAPI"), "items"):
        _field_ref(item)
    for source in _dicts(_dict(v, "projected"), "sources"):
        for item in _dicts(_dict(source, "downwardAPI"), "items"):
            _field_ref(item)
        token = _dict(source, "serviceAccountToken")
        if token is not None:
            _unset(token, "expirationSeconds", 3600)
    iscsi = _dict(v, "iscsi")
    if iscsi is not None:
        _empty(iscsi, "iscsiInterface", "default")
    rbd = _dict(v, "rbd")
    if rbd is not None:
        _empty(rbd, "pool", "rbd")
        _empty(rbd, "user", "admin")
        _empty(rbd, "keyring", "/etc/ceph/keyring")
    azure = _dict(v, "azureDisk")
    if azure is not None:
        for key, value in (
            ("cachingMode", "ReadWrite"),
            ("fsType", "ext4"),
            ("readOnly", False),
            ("kind", "Shared"),
        ):
            _unset(azure, key, value)
    scaleio = _dict(v, "scaleIO")
    if scaleio is not None:
        _empty(scaleio, "storageMode", "ThinProvisioned")
        _empty(scaleio, "fsType", "xfs")
    template = _dict(_dict(v, "ephemeral"), "volumeClaimTemplate")
    if template is not None:
        _template_meta(template)
        _pvc_spec(_dict(template, "spec"))


def _pod_spec(spec: Obj) -> None:
    _empty(spec, "dnsPolicy", "ClusterFirst")  # SetDefaults_PodSpec
    _empty(spec, "restartPolicy", "Always")
    _unset(spec, "securityContext", {})
    _unset(spec, "terminationGracePeriodSeconds", 30)
    _empty(spec, "schedulerName", "default-scheduler")
    # v1 <-> internal conversion keeps the deprecated serviceAccount equal to serviceAccountName.
    if not spec.get("serviceAccountName") and spec.get("serviceAccount"):
        spec["serviceAccountName"] = spec["serviceAccount"]
    if spec.get("serviceAccountName"):
        spec["serviceAccount"] = spec["serviceAccountName"]
    else:
        spec.pop("serviceAccount", None)
    for v in _dicts(spec, "volumes"):
        _volume(v)
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for c in _dicts(spec, key):
            _container(c)
    _resource_list(spec, "overhead")
    _resources(spec, "resources")


def _pod_template(parent: Obj, key: str = "template") -> None:
    tpl = _struct(parent, key)
    _template_meta(tpl)
    _pod_spec(_struct(tpl, "spec"))


def _pvc(pvc: Obj) -> None:
    status = _dict(pvc, "status")
    if status is not None:
        _empty(status, "phase", "Pending")  # SetDefaults_PersistentVolumeClaim
        _resource_list(status, "capacity")
        _resource_list(status, "allocatedResources")
    _pvc_spec(_dict(pvc, "spec"))


# ------------------------------------------------------------------------- per kind


def _pod(obj: Obj) -> None:
    spec = _struct(obj, "spec")
    _pod_spec(spec)
    # SetDefaults_Pod: only real pods, not templates.
    for key in ("containers", "initContainers"):
        for c in _dicts(spec, key):
            res = _dict(c, "resources")
            limits = _dict(res, "limits")
            if res is not None and limits is not None:
                requests = res.get("requests")
                if not isinstance(requests, dict):
                    requests = res["requests"] = {}
                for name, value in limits.items():
                    requests.setdefault(name, value)
    _unset(spec, "enableServiceLinks", True)
    if spec.get("hostNetwork") is True:
        for key in ("containers", "initContainers"):
            for c in _dicts(spec, key):
                for port in _dicts(c, "ports"):
                    _empty(port, "hostPort", port.get("containerPort"))


def _service(obj: Obj) -> None:
    spec = _struct(obj, "spec")  # SetDefaults_Service
    _empty(spec, "sessionAffinity", "None")
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        client_ip = _dict(_dict(spec, "sessionAffinityConfig"), "clientIP")
        if client_ip is None or client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    _empty(spec, "type", "ClusterIP")
    for port in _dicts(spec, "ports"):
        _empty(port, "protocol", "TCP")
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port", 0)
    stype = spec["type"]
    externally_accessible = stype in ("LoadBalancer", "NodePort") or (
        stype == "ClusterIP" and bool(spec.get("externalIPs"))
    )
    if externally_accessible:
        _empty(spec, "externalTrafficPolicy", "Cluster")
    if stype in ("NodePort", "LoadBalancer", "ClusterIP"):
        _unset(spec, "internalTrafficPolicy", "Cluster")
    if stype == "LoadBalancer":
        _unset(spec, "allocateLoadBalancerNodePorts", True)
        for ingress in _dicts(_dict(_dict(obj, "status"), "loadBalancer"), "ingress"):
            if ingress.get("ip") and ingress.get("ipMode") is None:
                ingress["ipMode"] = "VIP"


def _secret(obj: Obj) -> None:
    _empty(obj, "type", "Opaque")  # SetDefaults_Secret
    # Convert_v1_Secret_To_core_Secret: stringData overwrites data and is never stored.
    string_data = obj.pop("stringData", None)
    data = _dict(obj, "data")
    if data is not None:
        for key, value in data.items():
            if isinstance(value, str):
                # []byte round trip: the server prints canonical padded base64.
                with contextlib.suppress(ValueError):
                    data[key] = base64.b64encode(go_base64_decode(value)).decode()
    if isinstance(string_data, dict) and string_data:
        if data is None:
            data = obj["data"] = {}
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value if value is not None else "").encode()).decode()


def _namespace(obj: Obj) -> None:
    name = (_dict(obj, "metadata") or {}).get("name")
    if name:  # SetDefaults_Namespace; generateName namespaces get it in Canonicalize
        meta = obj["metadata"]
        labels = meta.get("labels")
        if not isinstance(labels, dict):
            labels = meta["labels"] = {}
        labels["kubernetes.io/metadata.name"] = name
    status = _dict(obj, "status")
    if status is not None:
        _empty(status, "phase", "Active")  # SetDefaults_NamespaceStatus


def _endpoints(obj: Obj) -> None:
    for subset in _dicts(obj, "subsets"):
        for port in _dicts(subset, "ports"):
            _empty(port, "protocol", "TCP")


def _node(obj: Obj) -> None:
    status = _dict(obj, "status")
    if status is not None and status.get("allocatable") is None and isinstance(status.get("capacity"), dict):
        status["allocatable"] = dict(status["capacity"])  # SetDefaults_NodeStatus
    _resource_list(status, "capacity")
    _resource_list(status, "allocatable")


def _event(obj: Obj) -> None:
    # Non-omitempty fields of core/v1 Event that Go always prints.
    for key in ("firstTimestamp", "lastTimestamp", "eventTime"):
        obj.setdefault(key, None)
    obj.setdefault("reportingComponent", "")
    obj.setdefault("reportingInstance", "")
    _struct(obj, "involvedObject")
    _struct(obj, "source")


def _deployment(obj: Obj) -> None:
    spec = _struct(obj, "spec")  # SetDefaults_Deployment
    _unset(spec, "replicas", 1)
    strategy = _struct(spec, "strategy")
    _empty(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _dict(strategy, "rollingUpdate")
        if rolling is None:
            rolling = strategy["rollingUpdate"] = {}
        _unset(rolling, "maxUnavailable", "25%")
        _unset(rolling, "maxSurge", "25%")
    _unset(spec, "revisionHistoryLimit", 10)
    _unset(spec, "progressDeadlineSeconds", 600)
    _pod_template(spec)


def _replica_set(obj: Obj) -> None:
    spec = _struct(obj, "spec")
    _unset(spec, "replicas", 1)
    _pod_template(spec)


def _stateful_set(obj: Obj) -> None:
    spec = _struct(obj, "spec")  # SetDefaults_StatefulSet
    _empty(spec, "podManagementPolicy", "OrderedReady")
    update = _struct(spec, "updateStrategy")
    if not update.get("type"):
        update["type"] = "RollingUpdate"
        _unset(update, "rollingUpdate", {})
    rolling = _dict(update, "rollingUpdate")
    if update["type"] == "RollingUpdate" and rolling is not None:
        _unset(rolling, "partition", 0)
    retention = _dict(spec, "persistentVolumeClaimRetentionPolicy")
    if retention is None:
        retention = spec["persistentVolumeClaimRetentionPolicy"] = {}
    _empty(retention, "whenDeleted", "Retain")
    _empty(retention, "whenScaled", "Retain")
    _unset(spec, "replicas", 1)
    _unset(spec, "revisionHistoryLimit", 10)
    _pod_template(spec)
    for claim in _dicts(spec, "volumeClaimTemplates"):
        # apps/v1 conversion writes the embedded claims' TypeMeta (see the module notes).
        claim.setdefault("apiVersion", "v1")
        claim.setdefault("kind", "PersistentVolumeClaim")
        _template_meta(claim)
        _struct(claim, "status")
        _pvc(claim)


def _daemon_set(obj: Obj) -> None:
    spec = _struct(obj, "spec")  # SetDefaults_DaemonSet
    update = _struct(spec, "updateStrategy")
    _empty(update, "type", "RollingUpdate")
    if update["type"] == "RollingUpdate":
        rolling = _dict(update, "rollingUpdate")
        if rolling is None:
            rolling = update["rollingUpdate"] = {}
        _unset(rolling, "maxUnavailable", 1)
        _unset(rolling, "maxSurge", 0)
    _unset(spec, "revisionHistoryLimit", 10)
    _pod_template(spec)


def _job_spec(spec: Obj) -> None:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    _unset(spec, "parallelism", 1)
    _unset(spec, "backoffLimit", 6)
    _unset(spec, "completionMode", "NonIndexed")
    _unset(spec, "suspend", False)
    # JobPodReplacementPolicy is beta (on) in 1.32.
    _unset(
        spec,
        "podReplacementPolicy",
        "Failed" if spec.get("podFailurePolicy") is not None else "TerminatingOrFailed",
    )
    for rule in _dicts(_dict(spec, "podFailurePolicy"), "rules"):
        for pattern in _dicts(rule, "onPodConditions"):
            _empty(pattern, "status", "True")


def _job(obj: Obj) -> None:
    spec = _struct(obj, "spec")  # SetDefaults_Job
    _job_spec(spec)
    labels = (_dict(_dict(spec, "template"), "metadata") or {}).get("labels")
    meta = _struct(obj, "metadata")
    if isinstance(labels, dict) and not meta.get("labels"):
        meta["labels"] = dict(labels)
    _pod_template(spec)


def _cron_job(obj: Obj) -> None:
    spec = _struct(obj, "spec")  # SetDefaults_CronJob
    _empty(spec, "concurrencyPolicy", "Allow")
    _unset(spec, "suspend", False)
    _unset(spec, "successfulJobsHistoryLimit", 3)
    _unset(spec, "failedJobsHistoryLimit", 1)
    job_template = _struct(spec, "jobTemplate")
    _template_meta(job_template)
    _pod_template(_struct(job_template, "spec"))


def _hpa(obj: Obj) -> None:
    spec = _struct(obj, "spec")  # autoscaling/v2 SetDefaults_HorizontalPodAutoscaler
    _unset(spec, "minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
            }
        ]
    behavior = _dict(spec, "behavior")
    if behavior is not None:
        up = {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15},
            ],
        }
        down = {"selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}
        for key, default in (("scaleUp", up), ("scaleDown", down)):
            given = _dict(behavior, key) or {}
            behavior[key] = {**default, **{k: v for k, v in given.items() if v is not None}}


def _network_policy(obj: Obj) -> None:
    spec = _struct(obj, "spec")  # SetDefaults_NetworkPolicy
    for direction in ("ingress", "egress"):
        for rule in _dicts(spec, direction):
            for port in _dicts(rule, "ports"):
                _unset(port, "protocol", "TCP")  # SetDefaults_NetworkPolicyPort
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


def _ingress_class(obj: Obj) -> None:
    params = _dict(_dict(obj, "spec"), "parameters")
    if params is not None:
        _unset(params, "scope", "Cluster")


def _role(obj: Obj) -> None:
    obj.setdefault("rules", None)  # `json:"rules"` without omitempty


def _binding(obj: Obj) -> None:
    ref = _struct(obj, "roleRef")
    _empty(ref, "apiGroup", "rbac.authorization.k8s.io")
    for subject in _dicts(obj, "subjects"):  # SetDefaults_Subject
        if not subject.get("apiGroup"):
            if subject.get("kind") in ("User", "Group"):
                subject["apiGroup"] = "rbac.authorization.k8s.io"
            elif subject.get("kind") == "ServiceAccount":
                subject["apiGroup"] = ""


def _lease(obj: Obj) -> None:
    _struct(obj, "spec")


def _endpoint_slice(obj: Obj) -> None:
    obj.setdefault("endpoints", None)  # `json:"endpoints"` and `json:"ports"`, no omitempty
    obj.setdefault("ports", None)
    for endpoint in _dicts(obj, "endpoints"):
        _struct(endpoint, "conditions")
    for port in _dicts(obj, "ports"):  # SetDefaults_EndpointPort
        _unset(port, "name", "")
        _unset(port, "protocol", "TCP")


def _storage_class(obj: Obj) -> None:
    _unset(obj, "reclaimPolicy", "Delete")  # SetDefaults_StorageClass
    _unset(obj, "volumeBindingMode", "Immediate")


def _crd(obj: Obj) -> None:
    spec = _struct(obj, "spec")  # SetDefaults_CustomResourceDefinitionSpec
    names = _struct(spec, "names")
    kind = names.get("kind") or ""
    _empty(names, "singular", str(kind).lower())
    if kind:
        _empty(names, "listKind", f"{kind}List")
    conversion = _dict(spec, "conversion")
    if conversion is None:
        conversion = spec["conversion"] = {"strategy": "None"}
    service = _dict(_dict(_dict(conversion, "webhook"), "clientConfig"), "service")
    if service is not None:
        _unset(service, "port", 443)  # SetDefaults_ServiceReference
    status = _dict(obj, "status")
    if status is not None and not status.get("storedVersions"):
        for version in _dicts(spec, "versions"):
            if version.get("storage"):
                status["storedVersions"] = [version.get("name")]
                break


_DEFAULTERS: dict[tuple[str, str, str], Callable[[Obj], None]] = {
    ("", "v1", "Pod"): _pod,
    ("", "v1", "Service"): _service,
    ("", "v1", "Secret"): _secret,
    ("", "v1", "Namespace"): _namespace,
    ("", "v1", "Endpoints"): _endpoints,
    ("", "v1", "PersistentVolumeClaim"): _pvc,
    ("", "v1", "Node"): _node,
    ("", "v1", "Event"): _event,
    ("apps", "v1", "Deployment"): _deployment,
    ("apps", "v1", "ReplicaSet"): _replica_set,
    ("apps", "v1", "StatefulSet"): _stateful_set,
    ("apps", "v1", "DaemonSet"): _daemon_set,
    ("batch", "v1", "Job"): _job,
    ("batch", "v1", "CronJob"): _cron_job,
    ("autoscaling", "v2", "HorizontalPodAutoscaler"): _hpa,
    ("networking.k8s.io", "v1", "NetworkPolicy"): _network_policy,
    ("networking.k8s.io", "v1", "IngressClass"): _ingress_class,
    ("rbac.authorization.k8s.io", "v1", "Role"): _role,
    ("rbac.authorization.k8s.io", "v1", "ClusterRole"): _role,
    ("rbac.authorization.k8s.io", "v1", "RoleBinding"): _binding,
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"): _binding,
    ("coordination.k8s.io", "v1", "Lease"): _lease,
    ("discovery.k8s.io", "v1", "EndpointSlice"): _endpoint_slice,
    ("storage.k8s.io", "v1", "StorageClass"): _storage_class,
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"): _crd,
}


def apply_defaults(group: str, version: str, kind: str, obj: Obj) -> None:
    """Default ``obj`` in place as decoding it into the 1.32 Go types does (kinds without
    defaulters, e.g. ConfigMap or ServiceAccount, are left as they are)."""
    defaulter = _DEFAULTERS.get((group, version, kind))
    if defaulter is not None:
        defaulter(obj)


# ----------------------------------------------------------------------- PrepareForCreate

_CREATE_STATUS: dict[tuple[str, str], Obj] = {
    # Status structs of a new object as Go prints them (fields without omitempty show as 0).
    ("apps", "Deployment"): {},
    ("apps", "ReplicaSet"): {"replicas": 0},
    ("apps", "StatefulSet"): {"availableReplicas": 0, "replicas": 0},
    ("apps", "DaemonSet"): {
        "currentNumberScheduled": 0,
        "desiredNumberScheduled": 0,
        "numberMisscheduled": 0,
        "numberReady": 0,
    },
    ("batch", "Job"): {},
    ("batch", "CronJob"): {},
    ("networking.k8s.io", "Ingress"): {"loadBalancer": {}},
    ("policy", "PodDisruptionBudget"): {
        "currentHealthy": 0,
        "desiredHealthy": 0,
        "disruptionsAllowed": 0,
        "expectedPods": 0,
    },
    ("autoscaling", "HorizontalPodAutoscaler"): {"desiredReplicas": 0},
    ("", "Service"): {"loadBalancer": {}},
    ("", "PersistentVolumeClaim"): {"phase": "Pending"},
    ("", "Namespace"): {"phase": "Active"},
}

_NOT_READY_TOLERATIONS = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
)


def pod_qos_class(pod: Obj) -> str:
    """``qos.GetPodQOS``: Guaranteed when every container limits cpu and memory to its requests,
    BestEffort when nothing is requested or limited, Burstable otherwise."""
    spec = _dict(pod, "spec") or {}
    containers = _dicts(spec, "containers") + _dicts(spec, "initContainers")
    requests: dict[str, quantity.Quantity] = {}
    limits: dict[str, quantity.Quantity] = {}
    guaranteed = True
    for c in containers:
        res = _dict(c, "resources") or {}
        names_limited: set[str] = set()
        for source, into in (("requests", requests), ("limits", limits)):
            for name, value in (_dict(res, source) or {}).items():
                if name not in ("cpu", "memory"):
                    continue
                try:
                    q = quantity.parse(value)
                except ValueError:
                    continue
                if q.sign() == 0:
                    continue
                prev = into.get(name)
                into[name] = q if prev is None else quantity.Quantity(0, 0)
                if source == "limits":
                    names_limited.add(name)
        if names_limited != {"cpu", "memory"}:
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed:
        for c in containers:
            res = _dict(c, "resources") or {}
            reqs, lims = _dict(res, "requests") or {}, _dict(res, "limits") or {}
            for name in ("cpu", "memory"):
                if name in reqs and name in lims:
                    try:
                        if quantity.parse(reqs[name]).cmp(quantity.parse(lims[name])) != 0:
                            guaranteed = False
                    except ValueError:
                        guaranteed = False
    return "Guaranteed" if guaranteed else "Burstable"


def _prepare_pod(pod: Obj) -> None:
    spec = _struct(pod, "spec")
    # DefaultTolerationSeconds admission: tolerate not-ready/unreachable nodes for 300s.
    tolerations = spec.get("tolerations")
    if not isinstance(tolerations, list):
        tolerations = []
    for key, effect in _NOT_READY_TOLERATIONS:
        if not any(
            isinstance(t, dict) and t.get("key") in (key, "", None) and t.get("effect") in (effect, "", None)
            for t in tolerations
        ):
            tolerations.append({"key": key, "operator": "Exists", "effect": effect, "tolerationSeconds": 300})
    spec["tolerations"] = tolerations
    # Priority admission without a PriorityClass: priority 0, preempt lower priority.
    _unset(spec, "priority", 0)
    _unset(spec, "preemptionPolicy", "PreemptLowerPriority")
    pod["status"] = {"phase": "Pending", "qosClass": pod_qos_class(pod)}  # podStrategy.PrepareForCreate


def _prepare_service(svc: Obj) -> None:
    spec = _struct(svc, "spec")
    if spec.get("type") == "ExternalName":
        spec.pop("ipFamilyPolicy", None)
        spec.pop("ipFamilies", None)
        return
    # A single-stack IPv4 cluster (the service REST's initIPFamilyFields): headless services
    # without a selector default to RequireDualStack, all others to SingleStack.
    headless_without_selector = spec.get("clusterIP") == "None" and not spec.get("selector")
    _unset(spec, "ipFamilyPolicy", "RequireDualStack" if headless_without_selector else "SingleStack")
    if not spec.get("ipFamilies"):
        spec["ipFamilies"] = ["IPv4"]


def _prepare_namespace(ns: Obj) -> None:
    spec = _struct(ns, "spec")
    finalizers = spec.get("finalizers")
    if not isinstance(finalizers, list):
        finalizers = []
    if "kubernetes" not in finalizers:
        finalizers.append("kubernetes")
    spec["finalizers"] = finalizers


def _prepare_crd(crd: Obj) -> None:
    status: Obj = {"acceptedNames": {"kind": "", "plural": ""}, "storedVersions": []}
    for version in _dicts(_dict(crd, "spec"), "versions"):
        if version.get("storage"):
            status["storedVersions"] = [version.get("name")]
            break
    crd["status"] = status


def prepare_for_create(group: str, version: str, kind: str, obj: Obj) -> None:
    """The pure effects of ``PrepareForCreate`` (and of the deterministic admission plugins
    for Pods) on a new object."""
    status = _CREATE_STATUS.get((group, kind))
    if status is not None:
        obj["status"] = dict(status)
    if (group, kind) == ("", "Pod"):
        _prepare_pod(obj)
    elif (group, kind) == ("", "Service"):
        _prepare_service(obj)
    elif (group, kind) == ("", "Namespace"):
        _prepare_namespace(obj)
    elif (group, kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
        _prepare_crd(obj)


def job_defaults(obj: Obj, uid: str) -> None:
    """The Job strategy's ``generateSelector`` (run from ``Validate``, once the uid exists):
    unless ``spec.manualSelector`` is true, label the template with the job name and uid (legacy
    and ``batch.kubernetes.io/`` keys, never overwriting) and select on the controller uid."""
    spec = _struct(obj, "spec")
    if spec.get("manualSelector") is True:
        return
    name = str((_dict(obj, "metadata") or {}).get("name") or "")
    template = _struct(spec, "template")
    meta = _struct(template, "metadata")
    labels = meta.get("labels")
    if not isinstance(labels, dict):
        labels = meta["labels"] = {}
    for key in ("job-name", "batch.kubernetes.io/job-name"):
        labels.setdefault(key, name)
    for key in ("controller-uid", "batch.kubernetes.io/controller-uid"):
        labels.setdefault(key, uid)
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        selector = spec["selector"] = {}
    match = selector.get("matchLabels")
    if not isinstance(match, dict):
        match = selector["matchLabels"] = {}
    match.setdefault("batch.kubernetes.io/controller-uid", uid)
    # Every read decodes the stored Job again, and SetDefaults_Job then copies the template
    # labels (now with the generated ones) to a Job that has none: real Jobs show them.
    _job(obj)


# ------------------------------------------------------------------- base64 as Go does it

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_INDEX = {c: i for i, c in enumerate(_B64)}


def go_base64_decode(text: str) -> bytes:
    """``base64.StdEncoding.Decode`` as ``encoding/json`` uses it for ``[]byte`` fields.

    Raises ValueError with Go's message, ``illegal base64 data at input byte N``; like Go,
    ``\\r`` and ``\\n`` are skipped and padding is required.
    """
    src = text.encode()
    out = bytearray()
    si, n = 0, len(src)

    def corrupt(at: int) -> ValueError:
        return ValueError(f"illegal base64 data at input byte {at}")

    while si < n:
        buf: list[int] = []
        dlen = 4
        j = 0
        while j < 4:
            if si == n:
                if j == 0:
                    return bytes(out)
                raise corrupt(si - j)
            ch = src[si]
            si += 1
            value = _B64_INDEX.get(chr(ch)) if ch < 128 else None
            if value is not None:
                buf.append(value)
                j += 1
                continue
            if ch in (10, 13):
                continue
            if ch != 61:  # '='
                raise corrupt(si - 1)
            if j in (0, 1):
                raise corrupt(si - 1)
            if j == 2:
                while si < n and src[si] in (10, 13):
                    si += 1
                if si == n:
                    raise corrupt(n)
                if src[si] != 61:
                    raise corrupt(si - 1)
                si += 1
            while si < n and src[si] in (10, 13):
                si += 1
            if si < n:
                raise corrupt(si)
            dlen = j
            break
        buf += [0] * (4 - len(buf))
        val = buf[0] << 18 | buf[1] << 12 | buf[2] << 6 | buf[3]
        out += bytes(((val >> 16) & 0xFF, (val >> 8) & 0xFF, val & 0xFF))[: dlen - 1]
    return bytes(out)


def apply_crd_defaults(obj: Any, schema: dict[str, Any] | None) -> None:
    """Structural-schema defaulting of a custom resource, in place (apiextensions-apiserver
    ``structuraldefaulting.Default``): a missing property whose schema has ``default`` gets a
    copy of it, recursively through properties, ``items`` and ``additionalProperties``. Defaults
    apply only under objects that exist: ``spec.x`` is defaulted only when ``spec`` is present
    (or itself defaulted)."""
    if not isinstance(schema, dict):
        return
    if isinstance(obj, dict):
        props = schema.get("properties")
        if isinstance(props, dict):
            for name, sub in props.items():
                if not isinstance(sub, dict):
                    continue
                if name not in obj and "default" in sub:
                    obj[name] = copy.deepcopy(sub["default"])
                if name in obj:
                    apply_crd_defaults(obj[name], sub)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key, value in obj.items():
                if not (isinstance(props, dict) and key in props):
                    apply_crd_defaults(value, extra)
    elif isinstance(obj, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for item in obj:
                apply_crd_defaults(item, items)
