"""Server-side Tables as kube-apiserver 1.32 returns them to ``kubectl get`` (gitops.localcluster.tables).

Expectations come from the Kubernetes sources named in each docstring:
``pkg/printers/internalversion/printers.go`` and its ``printers_test.go`` fixtures (cited by test
name), ``apimachinery/pkg/util/duration/duration_test.go``, ``apiserver/pkg/registry/rest/table.go``
(the default convertor), apiextensions-apiserver ``registry/customresource/tableconvertor`` and
``apiserver/pkg/endpoints/handlers/response.go`` (``asTable``, ``includeObject``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gitops.localcluster import tables

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
S, M, H, D = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


def ago(d: timedelta) -> str:
    return (NOW - d).strftime("%Y-%m-%dT%H:%M:%SZ")


def rows(group: str, kind: str, *objs: dict[str, Any], **kw: Any) -> list[list[Any]]:
    return [
        r["cells"] for r in tables.table(group, kind, list(objs), now=NOW, resource_version="1", **kw)["rows"]
    ]


def cells(group: str, kind: str, obj: dict[str, Any], **kw: Any) -> list[Any]:
    return rows(group, kind, obj, **kw)[0]


def columns(group: str, kind: str, **kw: Any) -> list[tuple[str, str, int]]:
    t = tables.table(group, kind, [], now=NOW, resource_version="1", **kw)
    return [(c["name"], c["type"], c["priority"]) for c in t["columnDefinitions"]]


# --- HumanDuration -------------------------------------------------------------------------

MS = timedelta(milliseconds=1)
Y = 365 * D


@pytest.mark.parametrize(
    ("d", "want"),
    [
        (S, "1s"),
        (70 * S, "70s"),
        (190 * S, "3m10s"),
        (70 * M, "70m"),
        (47 * H, "47h"),
        (49 * H, "2d1h"),
        ((8 * 24 + 2) * H, "8d"),
        (367 * D, "367d"),
        ((365 * 2 * 24 + 25) * H, "2y1d"),
        ((365 * 8 * 24 + 2) * H, "8y"),
        # TestHumanDurationBoundaries
        (-2 * S, "<invalid>"),
        (-2 * S + timedelta(microseconds=1), "0s"),
        (timedelta(0), "0s"),
        (S - MS, "0s"),
        (2 * M - MS, "119s"),
        (2 * M, "2m"),
        (2 * M + S, "2m1s"),
        (10 * M - MS, "9m59s"),
        (10 * M, "10m"),
        (10 * M + S, "10m"),
        (3 * H - MS, "179m"),
        (3 * H, "3h"),
        (3 * H + M, "3h1m"),
        (8 * H - MS, "7h59m"),
        (8 * H, "8h"),
        (8 * H + 59 * M, "8h"),
        (2 * D - MS, "47h"),
        (2 * D, "2d"),
        (2 * D + H, "2d1h"),
        (8 * D - MS, "7d23h"),
        (8 * D, "8d"),
        (8 * D + 23 * H, "8d"),
        (2 * Y - MS, "729d"),
        (2 * Y, "2y"),
        (2 * Y + 24 * H - MS, "2y"),
        (2 * Y + 24 * H, "2y1d"),
        (3 * Y + 45 * D, "3y45d"),
        (8 * Y - MS, "7y364d"),
        (8 * Y, "8y"),
        (9 * Y, "9y"),
    ],
)
def test_human_duration(d: timedelta, want: str) -> None:
    """``TestHumanDuration`` and ``TestHumanDurationBoundaries`` (duration_test.go)."""
    assert tables.human_duration(d) == want


# --- the Table envelope and includeObject --------------------------------------------------

CM = {
    "metadata": {"name": "cfg", "namespace": "a", "creationTimestamp": ago(5 * S), "uid": "u1"},
    "data": {"k": "v"},
}


def test_table_envelope_carries_list_metadata() -> None:
    """``GenerateTable`` copies resourceVersion/continue/remainingItemCount from the list."""
    t = tables.table("", "ConfigMap", [CM], now=NOW, resource_version="42", continue_token="tok", remaining=3)
    assert t["kind"] == "Table" and t["apiVersion"] == "meta.k8s.io/v1"
    assert t["metadata"] == {"resourceVersion": "42", "continue": "tok", "remainingItemCount": 3}
    assert t["rows"][0]["cells"] == ["cfg", 1, "5s"]
    plain = tables.table("", "ConfigMap", [CM], now=NOW, resource_version="42")
    assert plain["metadata"] == {"resourceVersion": "42"}


def test_empty_list_still_has_column_definitions() -> None:
    """``GenerateTable`` always sets the handler's columns; the printers' lists make ``rows`` []."""
    t = tables.table("apps", "Deployment", [], now=NOW, resource_version="9")
    assert t["rows"] == []
    assert t["columnDefinitions"][0] == {
        "name": "Name",
        "type": "string",
        "format": "name",
        "description": t["columnDefinitions"][0]["description"],
        "priority": 0,
    }
    assert t["columnDefinitions"][0]["description"].startswith("Name must be unique within a namespace.")


def test_rows_embed_partial_object_metadata_by_default() -> None:
    """``asTable``: includeObject Metadata (kubectl's default) → ``PartialObjectMetadata``."""
    row = tables.table("", "ConfigMap", [CM], now=NOW, resource_version="1")["rows"][0]
    assert row["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": CM["metadata"],
    }


def test_include_object_full_and_none() -> None:
    """``asTable``: Object converts the object to the request version; None drops it."""
    full = tables.table(
        "", "ConfigMap", [CM], now=NOW, resource_version="1", include_object="Object", version="v1"
    )
    assert full["rows"][0]["object"] == {"kind": "ConfigMap", "apiVersion": "v1", **CM}
    none = tables.table("", "ConfigMap", [CM], now=NOW, resource_version="1", include_object="None")
    assert none["rows"][0]["object"] is None


def test_unknown_include_object_is_a_bad_request_only_when_there_are_rows() -> None:
    """``asTable`` checks ``includeObject`` inside the row loop."""
    with pytest.raises(tables.TableError, match=r'^unrecognized includeObject value: "All"$'):
        tables.table("", "ConfigMap", [CM], now=NOW, resource_version="1", include_object="All")
    assert (
        tables.table("", "ConfigMap", [], now=NOW, resource_version="1", include_object="All")["rows"] == []
    )


# --- Deployment ----------------------------------------------------------------------------

DEPLOYMENT = {
    "metadata": {"name": "web", "namespace": "shop", "creationTimestamp": ago(3 * M + 20 * S)},
    "spec": {
        "replicas": 3,
        "selector": {
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}],
        },
        "template": {
            "spec": {
                "containers": [{"name": "app", "image": "nginx:1.27"}, {"name": "log", "image": "busybox"}]
            }
        },
    },
    "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
}


def test_deployment_columns() -> None:
    """``deploymentColumnDefinitions`` (K8S-API.md §3.9)."""
    assert columns("apps", "Deployment") == [
        ("Name", "string", 0),
        ("Ready", "string", 0),
        ("Up-to-date", "string", 0),
        ("Available", "string", 0),
        ("Age", "string", 0),
        ("Containers", "string", 1),
        ("Images", "string", 1),
        ("Selector", "string", 1),
    ]


def test_deployment_row() -> None:
    """``printDeployment``: ``ready/desired``, counts as integers, wide cells, selector String()."""
    assert cells("apps", "Deployment", DEPLOYMENT) == [
        "web",
        "2/3",
        3,
        2,
        "3m20s",
        "app,log",
        "nginx:1.27,busybox",
        "app=web,tier in (be,fe)",
    ]


def test_deployment_defaults_and_empty_status() -> None:
    """A decoded Deployment has ``replicas`` 1 (apps/v1 defaults); zero counts are omitted in status."""
    bare = {
        "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"spec": {}}},
    }
    assert cells("apps", "Deployment", bare) == ["d", "0/1", 0, 0, "<unknown>", "", "", "a=b"]


# --- Pod -----------------------------------------------------------------------------------


def pod(
    status: dict[str, Any], containers: int = 1, init: list[dict[str, Any]] | None = None, **meta: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": f"c{i}"} for i in range(containers)]}
    if init is not None:
        spec["initContainers"] = init
    return {"metadata": {"name": "p", **meta}, "spec": spec, "status": status}


RUNNING: dict[str, Any] = {"running": {}}
TERMINATED_10S = {"terminated": {"finishedAt": ago(10 * S)}}


@pytest.mark.parametrize(
    ("obj", "ready", "status", "restarts"),
    [
        # TestPrintPod test1..test6
        (pod({"phase": "podPhase", "containerStatuses": [{"ready": True, "restartCount": 3, "state": RUNNING}, {"restartCount": 3}]}, 2), "1/2", "podPhase", "6"),
        (
            pod({"phase": "podPhase", "containerStatuses": [
                {"ready": True, "restartCount": 3, "state": RUNNING},
                {"restartCount": 3, "state": {"waiting": {"reason": "ContainerWaitingReason"}}},
            ]}, 2),
            "1/2", "ContainerWaitingReason", "6",
        ),
        (
            pod({"phase": "podPhase", "containerStatuses": [
                {"restartCount": 3, "state": {"waiting": {"reason": "ContainerWaitingReason"}}},
                {"restartCount": 3, "state": {"terminated": {"reason": "ContainerTerminatedReason"}}},
            ]}, 2),
            "0/2", "ContainerWaitingReason", "6",
        ),
        (pod({"phase": "podPhase", "reason": "podReason", "containerStatuses": [{"ready": True, "restartCount": 3, "state": RUNNING}, {"ready": True, "restartCount": 3}]}, 2), "1/2", "podReason", "6"),
        (
            pod({"phase": "Running", "containerStatuses": [
                {"ready": True, "restartCount": 3, "state": {"terminated": {"reason": "Completed", "exitCode": 0}}},
                {"ready": True, "restartCount": 3, "state": RUNNING},
            ]}, 2),
            "1/2", "NotReady", "6",
        ),
        (
            pod({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}], "containerStatuses": [
                {"ready": True, "restartCount": 3, "state": {"terminated": {"reason": "Completed", "exitCode": 0}}},
                {"ready": True, "restartCount": 3, "state": RUNNING},
            ]}, 2),
            "1/2", "Running", "6",
        ),
        # test7: an init container restarting, the app container waiting
        (
            pod({"phase": "podPhase",
                 "initContainerStatuses": [{"restartCount": 3, "state": RUNNING, "lastState": TERMINATED_10S}],
                 "containerStatuses": [{"state": {"waiting": {}}}]}, 1, [{"name": ""}]),
            "0/1", "Init:0/1", "3 (10s ago)",
        ),
        # test10: the first init container done (with restarts), the second restarting
        (
            pod({"phase": "podPhase",
                 "initContainerStatuses": [
                     {"restartCount": 2, "state": {"terminated": {}}, "lastState": {"terminated": {"finishedAt": ago(2 * M)}}},
                     {"restartCount": 3, "state": RUNNING, "lastState": TERMINATED_10S}],
                 "containerStatuses": [{"state": {"waiting": {}}}]}, 1, [{"name": ""}, {"name": ""}]),
            "0/1", "Init:1/2", "5 (10s ago)",
        ),
        # test11: init done, so only the app container's restarts count
        (
            pod({"phase": "Running",
                 "initContainerStatuses": [{"restartCount": 2, "state": {"terminated": {}}, "lastState": {"terminated": {"finishedAt": ago(2 * M)}}}],
                 "containerStatuses": [{"restartCount": 4, "state": RUNNING, "lastState": {"terminated": {"finishedAt": ago(20 * S)}}}]}, 1, [{"name": ""}]),
            "0/1", "Running", "4 (20s ago)",
        ),
        # test14: the most recent restart of all containers
        (
            pod({"phase": "Running", "containerStatuses": [
                {"ready": True, "restartCount": 6, "state": RUNNING, "lastState": {"terminated": {"finishedAt": ago(5 * D)}}},
                {"ready": True, "restartCount": 3, "state": RUNNING, "lastState": {"terminated": {"finishedAt": ago(20 * D)}}},
            ]}, 2),
            "2/2", "Running", "9 (5d ago)",
        ),
        # test15: scheduling gates
        (pod({"phase": "podPhase", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}, 2), "0/2", "SchedulingGated", "0"),
        # test19/test20: deletion of a pod that has not finished
        (pod({"phase": "Running", "containerStatuses": [{"state": RUNNING}]}, deletionTimestamp=ago(10 * S)), "0/1", "Terminating", "0"),
        (pod({"phase": "Pending"}, deletionTimestamp=ago(10 * S)), "0/1", "Terminating", "0"),
        # test18: a succeeded pod being deleted keeps its reason
        (pod({"phase": "Succeeded", "containerStatuses": [{"state": {"terminated": {"reason": "Completed"}}}]}, deletionTimestamp=ago(10 * S)), "0/1", "Completed", "0"),
        # a crash-looping container and a lost node
        (
            pod({"phase": "Running", "containerStatuses": [
                {"restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}, "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(5 * M)}}},
            ]}),
            "0/1", "CrashLoopBackOff", "3 (5m ago)",
        ),
        (pod({"phase": "Running", "reason": "NodeLost"}, deletionTimestamp=ago(S)), "0/1", "Unknown", "0"),
        (pod({"phase": "Pending", "containerStatuses": [{"state": {"waiting": {"reason": "ImagePullBackOff"}}}]}), "0/1", "ImagePullBackOff", "0"),
        (pod({"phase": "Failed", "containerStatuses": [{"state": {"terminated": {"exitCode": 137, "signal": 9}}}]}), "0/1", "Signal:9", "0"),
        (pod({"phase": "Pending", "initContainerStatuses": [{"state": {"terminated": {"exitCode": 2}}}]}, 1, [{"name": ""}]), "0/1", "Init:ExitCode:2", "0"),
        (pod({"phase": "Pending", "initContainerStatuses": [{"state": {"waiting": {"reason": "ErrImagePull"}}}]}, 1, [{"name": ""}]), "0/1", "Init:ErrImagePull", "0"),
    ],
)  # fmt: skip
def test_pod_ready_status_and_restarts(obj: dict[str, Any], ready: str, status: str, restarts: str) -> None:
    """``printPod`` (``TestPrintPod`` fixtures, with metav1 zero values as absent JSON fields)."""
    assert cells("", "Pod", obj)[:5] == ["p", ready, status, restarts, "<unknown>"]


SIDECARS = [{"name": "s1", "restartPolicy": "Always"}, {"name": "s2", "restartPolicy": "Always"}]


@pytest.mark.parametrize(
    ("status", "ready", "reason", "restarts"),
    [
        (
            {"phase": "Pending", "conditions": [{"type": "Initialized", "status": "False"}],
             "initContainerStatuses": [
                 {"name": "s1", "restartCount": 3, "state": RUNNING, "started": False, "lastState": TERMINATED_10S},
                 {"name": "s2", "state": {"waiting": {}}, "started": False}],
             "containerStatuses": [{"state": {"waiting": {}}}]},
            "0/3", "Init:0/2", "3 (10s ago)",
        ),
        (
            {"phase": "Pending", "conditions": [{"type": "Initialized", "status": "False"}],
             "initContainerStatuses": [
                 {"name": "s1", "restartCount": 3, "state": RUNNING, "started": True, "lastState": TERMINATED_10S},
                 {"name": "s2", "state": RUNNING, "started": False}],
             "containerStatuses": [{"state": {"waiting": {}}}]},
            "0/3", "Init:1/2", "3 (10s ago)",
        ),
        (
            {"phase": "Running", "conditions": [{"type": "Initialized", "status": "True"}],
             "initContainerStatuses": [
                 {"name": "s1", "restartCount": 3, "state": RUNNING, "started": True, "lastState": TERMINATED_10S},
                 {"name": "s2", "state": RUNNING, "started": True}],
             "containerStatuses": [{"ready": True, "restartCount": 4, "state": RUNNING, "lastState": {"terminated": {"finishedAt": ago(20 * S)}}}]},
            "1/3", "Running", "7 (10s ago)",
        ),
    ],
)  # fmt: skip
def test_pod_with_restartable_init_containers(
    status: dict[str, Any], ready: str, reason: str, restarts: str
) -> None:
    """``TestPrintPodWithRestartableInitContainer``: sidecars count as containers and restarts."""
    assert cells("", "Pod", pod(status, 1, SIDECARS))[1:4] == [ready, reason, restarts]


def test_pod_wide_cells_and_columns() -> None:
    """``TestPrintPodwide``: IP (first podIPs), Node, Nominated Node, Readiness Gates true/total."""
    obj = pod(
        {
            "phase": "podPhase",
            "podIPs": [{"ip": "1.1.1.1"}, {"ip": "2001:db8::"}],
            "nominatedNodeName": "node1",
            "conditions": [
                {"type": "condition1", "status": "False"},
                {"type": "condition2", "status": "True"},
            ],
        }
    )
    obj["spec"]["nodeName"] = "test1"
    obj["spec"]["readinessGates"] = [{"conditionType": f"condition{i}"} for i in (1, 2, 3)]
    assert cells("", "Pod", obj)[5:] == ["1.1.1.1", "test1", "node1", "1/3"]
    assert cells("", "Pod", pod({"phase": "Pending"}))[5:] == ["<none>", "<none>", "<none>", "<none>"]
    assert columns("", "Pod") == [
        ("Name", "string", 0),
        ("Ready", "string", 0),
        ("Status", "string", 0),
        ("Restarts", "string", 0),
        ("Age", "string", 0),
        ("IP", "string", 1),
        ("Node", "string", 1),
        ("Nominated Node", "string", 1),
        ("Readiness Gates", "string", 1),
    ]


@pytest.mark.parametrize(
    ("phase", "condition"),
    [
        ("Succeeded", {"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}),
        ("Failed", {"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}),
    ],
)  # fmt: skip
def test_finished_pods_carry_a_completed_row_condition(phase: str, condition: dict[str, str]) -> None:
    """``TestPrintPodConditions``: podSuccessConditions / podFailedConditions."""
    row = tables.table("", "Pod", [pod({"phase": phase})], now=NOW, resource_version="1")["rows"][0]
    assert row["conditions"] == [condition]
    running = tables.table("", "Pod", [pod({"phase": "Running"})], now=NOW, resource_version="1")["rows"][0]
    assert "conditions" not in running


# --- Service, Secret, Namespace, and other built-ins ---------------------------------------


def svc(spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": "s", "creationTimestamp": ago(10 * M)}, "spec": spec, "status": status or {}}


@pytest.mark.parametrize(
    ("obj", "want"),
    [
        (
            svc({"type": "LoadBalancer", "clusterIPs": ["1.5.6.7"], "selector": {"foo": "bar"},
                 "ports": [{"port": 80, "protocol": "TCP"}, {"port": 8090, "protocol": "UDP"}, {"port": 8000, "protocol": "TCP"}]},
                {"loadBalancer": {"ingress": [{"ip": "2.3.4.5"}, {"ip": "3.4.5.6"}, {"ip": "5.6.7.8", "hostname": "host5678"}]}}),
            ["s", "LoadBalancer", "1.5.6.7", "2.3.4.5,3.4.5.6,5.6.7.8", "80/TCP,8090/UDP,8000/TCP", "10m", "foo=bar"],
        ),
        (
            svc({"type": "LoadBalancer", "clusterIPs": ["1.3.4.5"], "ports": [{"port": 80, "protocol": "TCP"}, {"port": 7777, "protocol": "SCTP"}]}),
            ["s", "LoadBalancer", "1.3.4.5", "<pending>", "80/TCP,7777/SCTP", "10m", "<none>"],
        ),
        (
            svc({"type": "NodePort", "clusterIP": "10.96.0.9", "clusterIPs": ["10.96.0.9"], "externalIPs": ["9.9.9.9"],
                 "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}], "selector": {"a-b": "1", "a": "2"}}),
            ["s", "NodePort", "10.96.0.9", "9.9.9.9", "80:30080/TCP", "10m", "a-b=1,a=2"],
        ),
        (svc({"clusterIP": "None", "clusterIPs": ["None"]}), ["s", "ClusterIP", "None", "<none>", "<none>", "10m", "<none>"]),
        (svc({"type": "ExternalName", "externalName": "db.example.com"}), ["s", "ExternalName", "<none>", "db.example.com", "<none>", "10m", "<none>"]),
    ],
)  # fmt: skip
def test_service_rows(obj: dict[str, Any], want: list[Any]) -> None:
    """``printService`` (``TestPrintServiceLoadBalancer`` wide case): the server always prints wide,
    so load-balancer addresses are not clipped; ``FormatLabels`` sorts whole ``k=v`` strings."""
    assert cells("", "Service", obj) == want


def test_secret_rows() -> None:
    """``printSecret``: type (defaulted to Opaque on decode) and the number of data keys."""
    tls = {
        "metadata": {"name": "tls", "creationTimestamp": ago(2 * D + 5 * H)},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "", "tls.key": ""},
    }
    bare = {"metadata": {"name": "s", "creationTimestamp": ago(3 * H)}}
    assert rows("", "Secret", tls, bare) == [
        ["tls", "kubernetes.io/tls", 2, "2d5h"],
        ["s", "Opaque", 0, "3h"],
    ]
    assert columns("", "Secret") == [
        ("Name", "string", 0),
        ("Type", "string", 0),
        ("Data", "string", 0),
        ("Age", "string", 0),
    ]


def test_namespace_rows() -> None:
    """``printNamespace``: the phase (Active by default), Terminating while deleting."""
    active = {"metadata": {"name": "shop", "creationTimestamp": ago(400 * D)}, "status": {"phase": "Active"}}
    leaving = {
        "metadata": {"name": "old", "creationTimestamp": ago(5 * S)},
        "status": {"phase": "Terminating"},
    }
    assert rows("", "Namespace", active, leaving) == [
        ["shop", "Active", "400d"],
        ["old", "Terminating", "5s"],
    ]


def test_node_rows() -> None:
    """``TestPrintNodeInternalIP``/``ExternalIP`` plus Ready, SchedulingDisabled and roles."""
    node = {
        "metadata": {"name": "n1", "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "infra"}},
        "spec": {"unschedulable": True},
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "2.2.2.2"}, {"type": "ExternalIP", "address": "3.3.3.3"}, {"type": "InternalIP", "address": "4.4.4.4"}],
            "nodeInfo": {"kubeletVersion": "v1.32.0"},
        },
    }  # fmt: skip
    assert cells("", "Node", node) == [
        "n1",
        "Ready,SchedulingDisabled",
        "control-plane,infra",
        "<unknown>",
        "v1.32.0",
        "2.2.2.2",
        "3.3.3.3",
        "<unknown>",
        "<unknown>",
        "<unknown>",
    ]


def test_workload_rows() -> None:
    """``printReplicaSet``, ``printStatefulSet``, ``printDaemonSet``: counts and selectors."""
    template = {"spec": {"containers": [{"name": "c", "image": "i"}], "nodeSelector": {"os": "linux"}}}
    rs = {
        "metadata": {"name": "rs"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"a": "b"}}, "template": template},
        "status": {"replicas": 2, "readyReplicas": 1},
    }
    sts = {
        "metadata": {"name": "db"},
        "spec": {"replicas": 3, "template": template},
        "status": {"readyReplicas": 3},
    }
    ds = {
        "metadata": {"name": "ds"},
        "spec": {"selector": {}, "template": template},
        "status": {"desiredNumberScheduled": 2, "numberReady": 1},
    }
    assert cells("apps", "ReplicaSet", rs) == ["rs", 2, 2, 1, "<unknown>", "c", "i", "a=b"]
    assert cells("apps", "StatefulSet", sts) == ["db", "3/3", "<unknown>", "c", "i"]
    assert cells("apps", "DaemonSet", ds) == [
        "ds",
        2,
        0,
        1,
        0,
        0,
        "os=linux",
        "<unknown>",
        "c",
        "i",
        "<none>",
    ]


@pytest.mark.parametrize(
    ("spec", "status", "want"),
    [
        ({}, {}, ["Running", "0/1", ""]),
        ({"completions": 3, "parallelism": 2}, {"succeeded": 1, "startTime": ago(90 * S)}, ["Running", "1/3", "90s"]),
        ({"parallelism": 4}, {"succeeded": 2}, ["Running", "2/1 of 4", ""]),
        (
            {"completions": 1},
            {"succeeded": 1, "startTime": ago(H), "completionTime": ago(H - 12 * S), "conditions": [{"type": "Complete", "status": "True"}]},
            ["Complete", "1/1", "12s"],
        ),
        ({}, {"conditions": [{"type": "Failed", "status": "True"}]}, ["Failed", "0/1", ""]),
        ({}, {"conditions": [{"type": "Suspended", "status": "True"}]}, ["Suspended", "0/1", ""]),
        ({}, {"conditions": [{"type": "FailureTarget", "status": "True"}]}, ["FailureTarget", "0/1", ""]),
    ],
)  # fmt: skip
def test_job_status_completions_and_duration(
    spec: dict[str, Any], status: dict[str, Any], want: list[str]
) -> None:
    """``printJob``: the condition-derived status, completions (batch/v1 defaults) and duration."""
    job = {"metadata": {"name": "j"}, "spec": {**spec, "template": {"spec": {}}}, "status": status}
    assert cells("batch", "Job", job)[1:4] == want


def test_ingress_and_ingress_class() -> None:
    """``TestPrintIngress`` and ``TestPrintIngressClass``."""
    ing = {
        "metadata": {"name": "test1", "creationTimestamp": ago(10 * 365 * D)},
        "spec": {"ingressClassName": "foo", "defaultBackend": {"service": {"name": "default-backend"}}},
        "status": {"loadBalancer": {"ingress": [{"ip": "2.3.4.5", "hostname": "localhost.localdomain"}]}},
    }
    assert cells("networking.k8s.io", "Ingress", ing) == ["test1", "foo", "*", "2.3.4.5", "80", "10y"]
    klass = {
        "metadata": {"name": "test1", "creationTimestamp": ago(10 * 365 * D)},
        "spec": {
            "controller": "example.com/controller",
            "parameters": {"apiGroup": "example.com", "kind": "customgroup", "name": "example"},
        },
    }
    assert cells("networking.k8s.io", "IngressClass", klass) == [
        "test1",
        "example.com/controller",
        "customgroup.example.com/example",
        "10y",
    ]


def test_event_row() -> None:
    """``printEvent`` (wide): last seen, type, reason, ``kind/name`` object, source, trimmed message."""
    ev = {
        "metadata": {"name": "web.1"},
        "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{app}"},
        "type": "Normal",
        "reason": "Pulled",
        "message": " Pulled image \n",
        "source": {"component": "kubelet", "host": "n1"},
        "firstTimestamp": ago(5 * M),
        "lastTimestamp": ago(M),
        "count": 3,
    }
    assert cells("", "Event", ev) == [
        "60s",
        "Normal",
        "Pulled",
        "pod/web-1",
        "spec.containers{app}",
        "kubelet, n1",
        "Pulled image",
        "5m",
        3,
        "web.1",
    ]


# --- kinds without printers and custom resources -------------------------------------------


def test_kinds_without_a_printer_use_name_and_created_at() -> None:
    """``rest.NewDefaultTableConvertor`` (Role, ClusterRole, CRDs): RFC 3339 ``Created At``; an
    empty list leaves ``Rows`` nil."""
    role = {"metadata": {"name": "reader", "creationTimestamp": "2024-05-01T11:00:00Z"}}
    t = tables.table("rbac.authorization.k8s.io", "Role", [role], now=NOW, resource_version="1")
    assert [(c["name"], c["type"]) for c in t["columnDefinitions"]] == [
        ("Name", "string"),
        ("Created At", "date"),
    ]
    assert t["rows"][0]["cells"] == ["reader", "2024-05-01T11:00:00Z"]
    empty = tables.table(
        "apiextensions.k8s.io", "CustomResourceDefinition", [], now=NOW, resource_version="1"
    )
    assert empty["rows"] is None and len(empty["columnDefinitions"]) == 2


WIDGET = {
    "apiVersion": "ex.com/v1",
    "kind": "Widget",
    "metadata": {"name": "w1", "creationTimestamp": ago(3 * H)},
    "spec": {"size": 3, "ratio": 0.5, "big": 1500000.0, "enabled": True, "labels": {"b": 1, "a": "<x>"}},
    "status": {
        "conditions": [{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}],
        "since": ago(2 * M),
    },
}


def test_custom_resource_without_columns_gets_age() -> None:
    """``serveDefaultColumnsIfEmpty``: Name plus a ``date`` Age column."""
    t = tables.table("ex.com", "Widget", [WIDGET], now=NOW, resource_version="5", crd_columns=[])
    assert [(c["name"], c["type"]) for c in t["columnDefinitions"]] == [("Name", "string"), ("Age", "date")]
    assert t["rows"][0]["cells"] == ["w1", "3h"]


def test_custom_resource_printer_columns() -> None:
    """``tableconvertor.New``/``cellForJSONValue``: JSONPath with filters, typed cells, null when
    missing, Go's text for strings; the declared columns replace the default Age."""
    crd_columns: list[dict[str, Any]] = [
        {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
        {"name": "Ratio", "type": "number", "jsonPath": ".spec.ratio", "priority": 1},
        {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
        {"name": "Enabled", "type": "boolean", "jsonPath": ".spec.enabled"},
        {"name": "Big", "type": "string", "jsonPath": ".spec.big"},
        {"name": "Labels", "type": "string", "jsonPath": ".spec.labels"},
        {"name": "Missing", "type": "string", "jsonPath": ".spec.nope"},
        {"name": "Since", "type": "date", "jsonPath": ".status.since", "description": "When it settled"},
    ]
    t = tables.table("ex.com", "Widget", [WIDGET], now=NOW, resource_version="5", crd_columns=crd_columns)
    assert t["rows"][0]["cells"] == [
        "w1",
        3,
        0.5,
        "True",
        True,
        "1.5e+06",
        '{"a":"\\u003cx\\u003e","b":1}',
        None,
        "2m",
    ]
    defs = t["columnDefinitions"]
    assert [c["name"] for c in defs] == [
        "Name",
        "Size",
        "Ratio",
        "Ready",
        "Enabled",
        "Big",
        "Labels",
        "Missing",
        "Since",
    ]
    assert defs[2]["priority"] == 1
    assert defs[1]["description"] == "Custom resource definition column (in JSONPath format): .spec.size"
    assert defs[8]["description"] == "When it settled"
