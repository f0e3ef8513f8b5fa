"""Server-side defaulting as a 1.32 API server does it (gitops.localcluster.defaults).

Expectations come from ``pkg/apis/core/v1/defaults.go`` (SetDefaults_PodSpec, _Container, _Probe,
_HTTPGetAction, _Volume, _Service, _Secret, _Namespace, _Pod...), ``pkg/apis/apps/v1/defaults.go``,
``pkg/apis/batch/v1/defaults.go``, ``pkg/apis/autoscaling/v2/defaults.go``,
``pkg/apis/networking/v1/defaults.go``, ``pkg/apis/rbac/v1/defaults.go``,
``pkg/apis/storage/v1/defaults.go``, ``pkg/apis/discovery/v1/defaults.go``,
apiextensions-apiserver ``pkg/apis/apiextensions/v1/defaults.go``, the ``+default`` markers of
``k8s.io/api/core/v1/types.go``, the ``PrepareForCreate`` of ``pkg/registry/*/*/strategy.go``
and K8S-API.md sections 6.1 and 7.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gitops.localcluster import defaults, resources


def _template(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}], **spec},
    }


def _deployment(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": _template(), **spec},
    }


def _defaulted(group: str, kind: str, obj: dict[str, Any], create: bool = True) -> dict[str, Any]:
    version = "v2" if group == "autoscaling" else "v1"
    if create:
        defaults.prepare_for_create(group, version, kind, obj)
    defaults.apply_defaults(group, version, kind, obj)
    return obj


def test_deployment_gets_the_section_6_1_defaults() -> None:
    """SetDefaults_Deployment, SetDefaults_PodSpec, SetDefaults_Container; 1.32 prints the
    template's zero creationTimestamp; PrepareForCreate resets status to {}."""
    obj = _defaulted("apps", "Deployment", _deployment())
    spec = obj["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["template"]["metadata"] == {"labels": {"app": "web"}, "creationTimestamp": None}
    pod = spec["template"]["spec"]
    assert {k: pod[k] for k in ("dnsPolicy", "restartPolicy", "schedulerName", "securityContext")} == {
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {},
    }
    assert pod["terminationGracePeriodSeconds"] == 30
    assert pod["containers"][0] == {
        "name": "c",
        "image": "nginx:1.25",
        "imagePullPolicy": "IfNotPresent",
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "resources": {},
    }
    assert obj["status"] == {}


def test_recreate_strategy_gets_no_rolling_update() -> None:
    obj = _defaulted("apps", "Deployment", _deployment(strategy={"type": "Recreate"}))
    assert obj["spec"]["strategy"] == {"type": "Recreate"}


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("localhost:5000/team/nginx", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("registry.example.com:443/nginx:1.25", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
        ("NGINX", "IfNotPresent"),  # does not parse: tag "" (parsers.ParseImageName error)
        ("", "IfNotPresent"),
    ],
)
def test_image_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    """SetDefaults_Container: Always for tag "latest" (also implied when no tag nor digest)."""
    dep = _deployment()
    dep["spec"]["template"]["spec"]["containers"][0]["image"] = image
    container = _defaulted("apps", "Deployment", dep)["spec"]["template"]["spec"]["containers"][0]
    assert container["imagePullPolicy"] == policy


def test_probes_ports_env_and_lifecycle_handlers_are_defaulted() -> None:
    """SetDefaults_Probe, SetDefaults_HTTPGetAction, ContainerPort +default="TCP",
    GRPCAction.Service +default="", SetDefaults_ObjectFieldSelector."""
    container = {
        "name": "c",
        "image": "nginx",
        "ports": [{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}],
        "livenessProbe": {"httpGet": {"port": 80}},
        "readinessProbe": {"grpc": {"port": 9000}, "periodSeconds": 5},
        "lifecycle": {"preStop": {"httpGet": {"port": "http", "path": "/stop"}}},
        "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
    }
    dep = _deployment()
    dep["spec"]["template"]["spec"]["containers"] = [container]
    c = _defaulted("apps", "Deployment", dep)["spec"]["template"]["spec"]["containers"][0]
    assert [p["protocol"] for p in c["ports"]] == ["TCP", "UDP"]
    assert c["livenessProbe"] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert c["readinessProbe"]["grpc"] == {"port": 9000, "service": ""}
    assert c["readinessProbe"]["periodSeconds"] == 5
    assert c["lifecycle"]["preStop"]["httpGet"] == {"port": "http", "path": "/stop", "scheme": "HTTP"}
    assert c["env"][0]["valueFrom"]["fieldRef"] == {"fieldPath": "spec.nodeName", "apiVersion": "v1"}


def test_volumes_get_default_modes_and_an_empty_dir_when_sourceless() -> None:
    """SetDefaults_Volume (emptyDir when no source), SetDefaults_{Secret,ConfigMap,DownwardAPI,
    Projected}VolumeSource (0644 = 420), ServiceAccountTokenProjection (3600s), HostPath type ""."""
    volumes = [
        {"name": "scratch"},
        {"name": "s", "secret": {"secretName": "x"}},
        {"name": "cm", "configMap": {"name": "x", "defaultMode": 256}},
        {
            "name": "d",
            "downwardAPI": {"items": [{"path": "l", "fieldRef": {"fieldPath": "metadata.labels"}}]},
        },
        {"name": "p", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
        {"name": "h", "hostPath": {"path": "/var"}},
    ]
    dep = _deployment()
    dep["spec"]["template"]["spec"]["volumes"] = volumes
    got = _defaulted("apps", "Deployment", dep)["spec"]["template"]["spec"]["volumes"]
    assert got[0] == {"name": "scratch", "emptyDir": {}}
    assert got[1]["secret"] == {"secretName": "x", "defaultMode": 420}
    assert got[2]["configMap"]["defaultMode"] == 256
    assert got[3]["downwardAPI"] == {
        "items": [{"path": "l", "fieldRef": {"fieldPath": "metadata.labels", "apiVersion": "v1"}}],
        "defaultMode": 420,
    }
    assert got[4]["projected"] == {
        "sources": [{"serviceAccountToken": {"path": "t", "expirationSeconds": 3600}}],
        "defaultMode": 420,
    }
    assert got[5]["hostPath"] == {"path": "/var", "type": ""}


def test_container_resources_are_rounded_up_to_milli_units() -> None:
    """SetDefaults_ResourceList: RoundUp(-3)."""
    dep = _deployment()
    dep["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": "100u", "memory": "64Mi"}
    }
    c = _defaulted("apps", "Deployment", dep)["spec"]["template"]["spec"]["containers"][0]
    assert c["resources"] == {"requests": {"cpu": "1m", "memory": "64Mi"}}


def test_deprecated_service_account_mirrors_service_account_name() -> None:
    """Convert_core_PodSpec_To_v1_PodSpec writes DeprecatedServiceAccount = ServiceAccountName."""
    dep = _deployment()
    dep["spec"]["template"]["spec"]["serviceAccountName"] = "builder"
    pod = _defaulted("apps", "Deployment", dep)["spec"]["template"]["spec"]
    assert pod["serviceAccount"] == "builder"


def test_pod_requests_default_to_limits_and_admission_defaults_apply() -> None:
    """SetDefaults_Pod (requests from limits, enableServiceLinks), podStrategy.PrepareForCreate
    (phase Pending, qosClass), DefaultTolerationSeconds and Priority admission."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {
            "containers": [
                {"name": "c", "image": "nginx:1", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}
            ]
        },
    }
    got = _defaulted("", "Pod", pod)
    assert got["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "1", "memory": "1Gi"}
    assert got["spec"]["enableServiceLinks"] is True
    assert got["spec"]["priority"] == 0
    assert got["spec"]["preemptionPolicy"] == "PreemptLowerPriority"
    assert got["spec"]["tolerations"] == [
        {
            "key": "node.kubernetes.io/not-ready",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        },
        {
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        },
    ]
    assert got["status"] == {"phase": "Pending", "qosClass": "Guaranteed"}


@pytest.mark.parametrize(
    ("resources", "qos"),
    [
        ({}, "BestEffort"),
        ({"requests": {"cpu": "100m"}}, "Burstable"),
        (
            {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}},
            "Burstable",
        ),
    ],
)
def test_pod_qos_class(resources: dict[str, Any], qos: str) -> None:
    """qos.GetPodQOS."""
    pod = {"spec": {"containers": [{"name": "c", "resources": resources}]}}
    assert defaults.pod_qos_class(pod) == qos


def test_service_defaults_for_cluster_ip_and_ip_families() -> None:
    """SetDefaults_Service and, on create, the service REST's single-stack IP family fields."""
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"app": "web"},
            "ports": [{"port": 80}, {"port": 53, "targetPort": "dns", "protocol": "UDP"}],
        },
    }
    spec = _defaulted("", "Service", svc)["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["sessionAffinity"] == "None"
    assert spec["internalTrafficPolicy"] == "Cluster"
    assert spec["ports"] == [
        {"port": 80, "protocol": "TCP", "targetPort": 80},
        {"port": 53, "targetPort": "dns", "protocol": "UDP"},
    ]
    assert spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["ipFamilies"] == ["IPv4"]
    assert "externalTrafficPolicy" not in spec
    assert "clusterIP" not in spec  # allocation is the server's
    assert svc["status"] == {"loadBalancer": {}}


def test_load_balancer_service_defaults() -> None:
    svc = {"spec": {"type": "LoadBalancer", "ports": [{"port": 443}], "sessionAffinity": "ClientIP"}}
    spec = _defaulted("", "Service", svc)["spec"]
    assert spec["externalTrafficPolicy"] == "Cluster"
    assert spec["allocateLoadBalancerNodePorts"] is True
    assert spec["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}


def test_external_name_service_has_no_traffic_policies_nor_ip_families() -> None:
    svc = {"spec": {"type": "ExternalName", "externalName": "example.com"}}
    spec = _defaulted("", "Service", svc)["spec"]
    assert spec == {"type": "ExternalName", "externalName": "example.com", "sessionAffinity": "None"}


def test_headless_service_without_selector_requires_dual_stack() -> None:
    spec = _defaulted("", "Service", {"spec": {"clusterIP": "None"}})["spec"]
    assert spec["ipFamilyPolicy"] == "RequireDualStack"


def test_secret_string_data_is_folded_into_data_and_dropped() -> None:
    """SetDefaults_Secret and Convert_v1_Secret_To_core_Secret (stringData overwrites data);
    []byte values print as canonical base64."""
    secret = {"data": {"user": "YWRt\naW4=", "pw": "b2xk"}, "stringData": {"pw": "hunter2"}}
    got = _defaulted("", "Secret", secret)
    assert got == {"data": {"user": "YWRtaW4=", "pw": "aHVudGVyMg=="}, "type": "Opaque"}


def test_namespace_create_effects() -> None:
    """SetDefaults_Namespace label, namespaceStrategy.PrepareForCreate (Active, kubernetes finalizer)."""
    ns = _defaulted("", "Namespace", {"metadata": {"name": "team-a"}})
    assert ns == {
        "metadata": {"name": "team-a", "labels": {"kubernetes.io/metadata.name": "team-a"}},
        "status": {"phase": "Active"},
        "spec": {"finalizers": ["kubernetes"]},
    }


def test_pvc_defaults() -> None:
    pvc = _defaulted(
        "",
        "PersistentVolumeClaim",
        {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}},
    )
    assert pvc["spec"]["volumeMode"] == "Filesystem"
    assert pvc["status"] == {"phase": "Pending"}


def test_stateful_set_defaults() -> None:
    """SetDefaults_StatefulSet: rollingUpdate only when the type was empty; PVC retention Retain."""
    sts = {
        "spec": {
            "template": _template(),
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {}}],
        }
    }
    spec = _defaulted("apps", "StatefulSet", sts)["spec"]
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert spec["replicas"] == 1
    assert spec["revisionHistoryLimit"] == 10
    claim = spec["volumeClaimTemplates"][0]
    assert claim["metadata"] == {"name": "data", "creationTimestamp": None}
    assert claim["spec"] == {"volumeMode": "Filesystem"}
    assert claim["status"] == {"phase": "Pending"}
    on_delete = _defaulted("apps", "StatefulSet", {"spec": {"updateStrategy": {"type": "OnDelete"}}})
    assert on_delete["spec"]["updateStrategy"] == {"type": "OnDelete"}


def test_daemon_set_defaults() -> None:
    spec = _defaulted("apps", "DaemonSet", {"spec": {"template": _template()}})["spec"]
    assert spec["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    assert spec["revisionHistoryLimit"] == 10


def test_job_defaults_and_generated_selector() -> None:
    """SetDefaults_Job (1.32 adds podReplacementPolicy), and jobStrategy's generateSelector:
    legacy and batch.kubernetes.io labels on the template, selector on the controller uid; a
    later decode copies the template labels to the Job (SetDefaults_Job)."""
    job = {
        "metadata": {"name": "pi", "uid": "u-1"},
        "spec": {
            "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "perl"}]}}
        },
    }
    _defaulted("batch", "Job", job)
    defaults.job_defaults(job, "u-1")
    spec = job["spec"]
    assert {
        k: spec[k]
        for k in (
            "completions",
            "parallelism",
            "backoffLimit",
            "completionMode",
            "suspend",
            "podReplacementPolicy",
        )
    } == {
        "completions": 1,
        "parallelism": 1,
        "backoffLimit": 6,
        "completionMode": "NonIndexed",
        "suspend": False,
        "podReplacementPolicy": "TerminatingOrFailed",
    }
    labels = {
        "job-name": "pi",
        "batch.kubernetes.io/job-name": "pi",
        "controller-uid": "u-1",
        "batch.kubernetes.io/controller-uid": "u-1",
    }
    assert spec["template"]["metadata"]["labels"] == labels
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}}
    assert job["metadata"]["labels"] == labels
    assert job["status"] == {}


def test_job_with_manual_selector_keeps_its_labels() -> None:
    job = {
        "metadata": {"name": "pi"},
        "spec": {"manualSelector": True, "selector": {"matchLabels": {"a": "b"}}},
    }
    defaults.job_defaults(job, "u-1")
    assert job["spec"]["selector"] == {"matchLabels": {"a": "b"}}


def test_cron_job_defaults() -> None:
    cj = _defaulted(
        "batch",
        "CronJob",
        {"spec": {"schedule": "@hourly", "jobTemplate": {"spec": {"template": _template()}}}},
    )
    spec = cj["spec"]
    assert (
        spec["concurrencyPolicy"],
        spec["suspend"],
        spec["successfulJobsHistoryLimit"],
        spec["failedJobsHistoryLimit"],
    ) == ("Allow", False, 3, 1)
    assert spec["jobTemplate"]["metadata"] == {"creationTimestamp": None}
    assert spec["jobTemplate"]["spec"]["template"]["metadata"]["creationTimestamp"] is None
    assert "backoffLimit" not in spec["jobTemplate"]["spec"]  # SetDefaults_Job runs on Jobs only


def test_hpa_defaults() -> None:
    """autoscaling/v2 SetDefaults_HorizontalPodAutoscaler and its behavior rules."""
    hpa = _defaulted(
        "autoscaling",
        "HorizontalPodAutoscaler",
        {"spec": {"maxReplicas": 5, "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}},
    )
    spec = hpa["spec"]
    assert spec["minReplicas"] == 1
    assert spec["metrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
        }
    ]
    assert spec["behavior"]["scaleDown"] == {
        "selectPolicy": "Max",
        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
        "stabilizationWindowSeconds": 60,
    }
    assert spec["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert [p["type"] for p in spec["behavior"]["scaleUp"]["policies"]] == ["Pods", "Percent"]
    assert hpa["status"] == {"desiredReplicas": 0}


def test_network_policy_types_follow_egress_rules() -> None:
    np = _defaulted(
        "networking.k8s.io",
        "NetworkPolicy",
        {"spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}},
    )
    assert np["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert np["spec"]["egress"][0]["ports"][0]["protocol"] == "TCP"
    only_ingress = _defaulted("networking.k8s.io", "NetworkPolicy", {"spec": {"podSelector": {}}})
    assert only_ingress["spec"]["policyTypes"] == ["Ingress"]


def test_rbac_defaults() -> None:
    rb = _defaulted(
        "rbac.authorization.k8s.io",
        "RoleBinding",
        {
            "roleRef": {"kind": "Role", "name": "r"},
            "subjects": [{"kind": "User", "name": "a"}, {"kind": "ServiceAccount", "name": "sa"}],
        },
    )
    assert rb["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io"
    assert rb["subjects"][0]["apiGroup"] == "rbac.authorization.k8s.io"
    assert rb["subjects"][1]["apiGroup"] == ""
    assert _defaulted("rbac.authorization.k8s.io", "ClusterRole", {})["rules"] is None


def test_storage_class_endpoint_slice_lease_and_crd_defaults() -> None:
    sc = _defaulted("storage.k8s.io", "StorageClass", {"provisioner": "x"})
    assert (sc["reclaimPolicy"], sc["volumeBindingMode"]) == ("Delete", "Immediate")
    es = _defaulted("discovery.k8s.io", "EndpointSlice", {"addressType": "IPv4", "ports": [{"port": 80}]})
    assert es["ports"] == [{"port": 80, "name": "", "protocol": "TCP"}]
    assert es["endpoints"] is None
    assert _defaulted("coordination.k8s.io", "Lease", {})["spec"] == {}
    crd = {
        "spec": {
            "group": "example.com",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "storage": True}],
        }
    }
    crd = _defaulted("apiextensions.k8s.io", "CustomResourceDefinition", crd)
    assert crd["spec"]["names"] == {
        "plural": "widgets",
        "kind": "Widget",
        "singular": "widget",
        "listKind": "WidgetList",
    }
    assert crd["spec"]["conversion"] == {"strategy": "None"}
    assert crd["status"] == {"acceptedNames": {"kind": "", "plural": ""}, "storedVersions": ["v1"]}


MINIMAL: dict[str, dict[str, Any]] = {
    "Pod": {"spec": {"containers": [{"name": "c", "image": "x", "resources": {"limits": {"cpu": "1"}}}]}},
    "Service": {"spec": {"ports": [{"port": 80}], "type": "NodePort"}},
    "Secret": {"stringData": {"a": "b"}},
    "Job": {"metadata": {"name": "j"}, "spec": {"template": _template()}},
    "StatefulSet": {"spec": {"template": _template(), "volumeClaimTemplates": [{"spec": {}}]}},
    "HorizontalPodAutoscaler": {"spec": {"behavior": {}}},
}


@pytest.mark.parametrize("rt", resources.BUILTIN, ids=lambda rt: rt.kind)
def test_defaulting_is_idempotent_for_every_served_kind(rt: resources.ResourceType) -> None:
    """Defaults of defaults change nothing (the server decodes stored objects again)."""
    obj = copy.deepcopy(MINIMAL.get(rt.kind, {"spec": {"template": _template()}}))
    obj.setdefault("metadata", {"name": "x"})
    defaults.prepare_for_create(rt.group, rt.version, rt.kind, obj)
    defaults.apply_defaults(rt.group, rt.version, rt.kind, obj)
    if rt.kind == "Job":
        defaults.job_defaults(obj, "uid")
    again = copy.deepcopy(obj)
    defaults.apply_defaults(rt.group, rt.version, rt.kind, again)
    assert again == obj


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("my-secret", "illegal base64 data at input byte 2"),
        ("YWJj=", "illegal base64 data at input byte 4"),
        ("YQ", "illegal base64 data at input byte 0"),
        ("YWJjZA=x", "illegal base64 data at input byte 6"),
    ],
)
def test_go_base64_errors_name_the_offending_byte(text: str, error: str) -> None:
    """encoding/base64 StdEncoding.Decode (CorruptInputError), as []byte fields decode."""
    with pytest.raises(ValueError, match=error):
        defaults.go_base64_decode(text)


def test_go_base64_skips_newlines() -> None:
    assert defaults.go_base64_decode("YWJj\r\nZGVm") == b"abcdef"
    assert defaults.go_base64_decode("YQ==") == b"a"


def test_crd_schema_defaults_fill_missing_fields_under_present_objects() -> None:
    """apiextensions structural defaulting: defaults apply to missing properties of objects that
    exist, recursively (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/
    custom-resource-definitions/#defaulting)."""
    from gitops.localcluster.defaults import apply_crd_defaults

    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "replicas": {"type": "integer", "default": 1},
                    "ports": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"protocol": {"type": "string", "default": "TCP"}},
                        },
                    },
                    "nested": {"type": "object", "properties": {"x": {"type": "string", "default": "y"}}},
                },
            },
            "status": {"type": "object", "properties": {"phase": {"type": "string", "default": "New"}}},
        },
    }
    obj = {"spec": {"ports": [{"port": 80}, {"port": 81, "protocol": "UDP"}]}}
    apply_crd_defaults(obj, schema)
    assert obj == {
        "spec": {"replicas": 1, "ports": [{"port": 80, "protocol": "TCP"}, {"port": 81, "protocol": "UDP"}]}
    }
