"""Endpoints and EndpointSlices of selector Services (``controllers/endpoints.py``).

Expectations: ``pkg/controller/endpoint/endpoints_controller.go`` (addresses and
notReadyAddresses, ``RepackSubsets``, the headless label, the 1000-address cap),
``pkg/api/v1/pod/util.go`` (``FindPort``), ``pkg/controller/util/endpoint``
(``ShouldPodBeInEndpoints``) and ``pkg/controller/endpointslice`` /
``staging/src/k8s.io/endpointslice`` (``podToEndpoint`` conditions, labels, owner reference,
100 endpoints per slice, the placeholder slice).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitops.localcluster import LocalCluster
from gitops.localcluster.controllers import pods as podsim
from tests.conftest import Kubectl
from tests.localcluster.controllers.simkit import (
    advance,
    create,
    get,
    pod,
    pod_body,
    rt,
    sim_cluster,
    update,
    wait_for,
)

Obj = dict[str, Any]


def service(name: str = "web", selector: dict[str, str] | None = None, **spec: Any) -> Obj:
    body_spec: Obj = {"ports": [{"name": "http", "port": 80, "targetPort": "http"}]}
    if selector is not None:
        body_spec["selector"] = selector
    body_spec.update(spec)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": {"team": "shop"}},
        "spec": body_spec,
    }


def web_pod(name: str, annotations: dict[str, str] | None = None, **kw: Any) -> Obj:
    body = pod_body(name, labels={"app": "web"}, annotations=annotations, **kw)
    body["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": 8080}]
    return body


def _slices(cluster: LocalCluster, namespace: str, svc: str = "web") -> list[Obj]:
    return [
        s
        for s in cluster.store.items(("discovery.k8s.io", "endpointslices"), namespace)
        if s["metadata"].get("labels", {}).get("kubernetes.io/service-name") == svc
    ]


def _endpoints(cluster: LocalCluster, namespace: str, name: str = "web") -> Obj | None:
    return get(cluster, "", "endpoints", namespace, name)


def _ips(subset_list: list[Obj], key: str) -> list[str]:
    return sorted(a["ip"] for s in subset_list for a in s.get(key, []))


def test_endpoints_follow_pod_readiness(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        svc = create(c, "", "services", "default", service(selector={"app": "web"}))
        create(c, "", "pods", "default", web_pod("fast", {podsim.START_AFTER: "0", podsim.READY_AFTER: "0"}))
        create(c, "", "pods", "default", web_pod("slow", {podsim.START_AFTER: "0", podsim.READY_AFTER: "60"}))
        create(c, "", "pods", "default", web_pod("creating", {podsim.START_AFTER: "3600"}))
        create(
            c,
            "",
            "pods",
            "default",
            pod_body("unrelated", labels={"app": "db"}, annotations={podsim.START_AFTER: "0"}),
        )
        assert c.settle()
        fast, slow = pod(c, "default", "fast"), pod(c, "default", "slow")
        assert fast is not None and slow is not None
        ep = _endpoints(c, "default")
        assert ep is not None
        assert ep["metadata"]["labels"] == {"team": "shop"}
        assert "endpoints.kubernetes.io/last-change-trigger-time" in ep["metadata"]["annotations"]
        assert ep["subsets"] == [
            {
                "addresses": [
                    {
                        "ip": fast["status"]["podIP"],
                        "nodeName": "local-node-1",
                        "targetRef": {
                            "kind": "Pod",
                            "namespace": "default",
                            "name": "fast",
                            "uid": fast["metadata"]["uid"],
                        },
                    }
                ],
                "notReadyAddresses": [
                    {
                        "ip": slow["status"]["podIP"],
                        "nodeName": "local-node-1",
                        "targetRef": {
                            "kind": "Pod",
                            "namespace": "default",
                            "name": "slow",
                            "uid": slow["metadata"]["uid"],
                        },
                    }
                ],
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            }
        ]
        (eps,) = _slices(c, "default")
        meta = eps["metadata"]
        assert meta["name"].startswith("web-") and meta["generateName"] == "web-"
        assert meta["labels"] == {
            "team": "shop",
            "kubernetes.io/service-name": "web",
            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
        }
        assert meta["ownerReferences"] == [
            {
                "apiVersion": "v1",
                "kind": "Service",
                "name": "web",
                "uid": svc["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        assert eps["addressType"] == "IPv4"
        assert eps["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
        by_name = {e["targetRef"]["name"]: e for e in eps["endpoints"]}
        assert set(by_name) == {"fast", "slow"}
        assert by_name["fast"]["conditions"] == {"ready": True, "serving": True, "terminating": False}
        assert by_name["slow"]["conditions"] == {"ready": False, "serving": False, "terminating": False}
        assert by_name["fast"]["addresses"] == [fast["status"]["podIP"]]
        assert by_name["fast"]["nodeName"] == "local-node-1"

        advance(c, 61)
        ep = _endpoints(c, "default")
        assert ep is not None
        assert _ips(ep["subsets"], "addresses") == sorted([fast["status"]["podIP"], slow["status"]["podIP"]])
        assert _ips(ep["subsets"], "notReadyAddresses") == []
        (eps,) = _slices(c, "default")
        assert all(e["conditions"]["ready"] for e in eps["endpoints"])


def test_terminating_pods_leave_endpoints_but_stay_in_slices(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(c, "", "services", "default", service(selector={"app": "web"}))
        annotations = {podsim.START_AFTER: "0", podsim.READY_AFTER: "0", podsim.TERMINATE_AFTER: "20"}
        create(c, "", "pods", "default", web_pod("a", annotations))
        create(c, "", "pods", "default", web_pod("b", annotations))
        assert c.settle()
        c.api.delete(rt(c, "", "pods"), "default", "a", {})
        assert c.settle()
        ep = _endpoints(c, "default")
        assert ep is not None
        assert [a["targetRef"]["name"] for s in ep["subsets"] for a in s.get("addresses", [])] == ["b"]
        assert not any(s.get("notReadyAddresses") for s in ep["subsets"])
        (eps,) = _slices(c, "default")
        by_name = {e["targetRef"]["name"]: e["conditions"] for e in eps["endpoints"]}
        assert by_name == {
            "a": {"ready": False, "serving": True, "terminating": True},
            "b": {"ready": True, "serving": True, "terminating": False},
        }
        advance(c, 21)
        (eps,) = _slices(c, "default")
        assert [e["targetRef"]["name"] for e in eps["endpoints"]] == ["b"]


def test_ports_resolve_by_name_and_number(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        ports = [
            {"name": "http", "port": 80, "targetPort": "http"},
            {"name": "metrics", "port": 9090, "targetPort": 9100},
        ]
        create(c, "", "services", "default", service(selector={"app": "web"}, ports=ports))
        create(c, "", "pods", "default", web_pod("named", {podsim.START_AFTER: "0", podsim.READY_AFTER: "0"}))
        create(
            c,
            "",
            "pods",
            "default",
            pod_body(
                "unnamed",
                labels={"app": "web"},
                annotations={podsim.START_AFTER: "0", podsim.READY_AFTER: "0"},
            ),
        )
        assert c.settle()
        ep = _endpoints(c, "default")
        assert ep is not None
        subsets = {tuple(sorted(p["name"] for p in s["ports"])): s for s in ep["subsets"]}
        # The pod without an "http" port offers only the numeric target port.
        assert [a["targetRef"]["name"] for a in subsets[("http", "metrics")]["addresses"]] == ["named"]
        assert [a["targetRef"]["name"] for a in subsets[("metrics",)]["addresses"]] == ["unnamed"]
        assert sorted(subsets[("http", "metrics")]["ports"], key=lambda p: p["name"]) == [
            {"name": "http", "port": 8080, "protocol": "TCP"},
            {"name": "metrics", "port": 9100, "protocol": "TCP"},
        ]
        slices = _slices(c, "default")
        assert len(slices) == 2  # one per port set
        assert sorted(len(s["ports"]) for s in slices) == [1, 2]


def test_pods_leave_when_their_labels_stop_matching(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(c, "", "services", "default", service(selector={"app": "web"}))
        create(c, "", "pods", "default", web_pod("a", {podsim.START_AFTER: "0", podsim.READY_AFTER: "0"}))
        assert c.settle()
        assert _endpoints(c, "default")["subsets"]  # type: ignore[index]
        update(c, "", "pods", "default", "a", lambda p: p["metadata"]["labels"].update({"app": "other"}))
        assert c.settle()
        assert "subsets" not in _endpoints(c, "default")  # type: ignore[operator]
        (placeholder,) = _slices(c, "default")
        assert placeholder["endpoints"] is None and placeholder["ports"] is None


def test_services_without_selector_are_left_alone(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(c, "", "services", "default", service("external"))
        manual = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "external"},
            "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "ports": [{"name": "http", "port": 80}]}],
        }
        create(c, "", "endpoints", "default", manual)
        assert c.settle()
        ep = _endpoints(c, "default", "external")
        assert ep is not None and ep["subsets"][0]["addresses"] == [{"ip": "192.0.2.10"}]
        assert "annotations" not in ep["metadata"]
        assert _slices(c, "default", "external") == []


def test_deleting_a_service_removes_its_endpoints(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(c, "", "services", "default", service(selector={"app": "web"}))
        create(c, "", "pods", "default", web_pod("a", {podsim.START_AFTER: "0"}))
        assert c.settle()
        assert _endpoints(c, "default") is not None and _slices(c, "default")
        c.api.delete(rt(c, "", "services"), "default", "web", {})
        wait_for(
            lambda: _endpoints(c, "default") is None and not _slices(c, "default"), what="endpoints gone"
        )


def test_headless_and_publish_not_ready_services(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(
            c,
            "",
            "services",
            "default",
            service(selector={"app": "web"}, clusterIP="None", publishNotReadyAddresses=True),
        )
        create(
            c,
            "",
            "pods",
            "default",
            web_pod(
                "db-0", {podsim.START_AFTER: "0", podsim.STATE: "NotReady"}, hostname="db-0", subdomain="web"
            ),
        )
        assert c.settle()
        ep = _endpoints(c, "default")
        assert ep is not None
        assert ep["metadata"]["labels"] == {"team": "shop", "service.kubernetes.io/headless": ""}
        (address,) = ep["subsets"][0]["addresses"]  # published although not ready
        assert address["hostname"] == "db-0"
        (eps,) = _slices(c, "default")
        assert eps["metadata"]["labels"]["service.kubernetes.io/headless"] == ""
        (endpoint,) = eps["endpoints"]
        assert endpoint["conditions"] == {"ready": True, "serving": False, "terminating": False}
        assert endpoint["hostname"] == "db-0"


def test_endpoints_are_not_rewritten_when_nothing_they_show_changed(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(c, "", "services", "default", service(selector={"app": "web"}))
        create(
            c,
            "",
            "pods",
            "default",
            web_pod("flaky", {podsim.START_AFTER: "0", podsim.STATE: "CrashLoopBackOff"}),
        )
        assert c.settle()
        advance(c, 3)
        ep = _endpoints(c, "default")
        (eps,) = _slices(c, "default")
        before = pod(c, "default", "flaky")
        advance(c, 30)  # restarts, readiness unchanged
        after = pod(c, "default", "flaky")
        assert (
            after["status"]["containerStatuses"][0]["restartCount"]
            > before["status"]["containerStatuses"][0]["restartCount"]
        )  # type: ignore[index]
        assert _endpoints(c, "default")["metadata"]["resourceVersion"] == ep["metadata"]["resourceVersion"]  # type: ignore[index]
        assert _slices(c, "default")[0]["metadata"]["resourceVersion"] == eps["metadata"]["resourceVersion"]


def test_large_services_split_into_slices_of_one_hundred(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(c, "", "services", "default", service(selector={"app": "web"}))
        for i in range(105):
            create(
                c,
                "",
                "pods",
                "default",
                web_pod(f"p{i:03}", {podsim.START_AFTER: "0", podsim.READY_AFTER: "0"}),
            )
        assert c.settle(30)
        slices = _slices(c, "default")
        assert sorted(len(s["endpoints"]) for s in slices) == [5, 100]
        names = [e["targetRef"]["name"] for s in slices for e in s["endpoints"]]
        assert len(set(names)) == 105
        ep = _endpoints(c, "default")
        assert ep is not None and len(ep["subsets"][0]["addresses"]) == 105


def test_kubectl_shows_endpoints(
    live_cluster: LocalCluster, live_kubectl: Kubectl, live_namespace: str
) -> None:
    create(live_cluster, "", "services", live_namespace, service(selector={"app": "web"}))
    create(live_cluster, "", "pods", live_namespace, web_pod("a"))

    def address() -> str | None:
        p = pod(live_cluster, live_namespace, "a")
        ep = _endpoints(live_cluster, live_namespace)
        if p is None or ep is None or not ep.get("subsets") or not ep["subsets"][0].get("addresses"):
            return None
        return str(p["status"]["podIP"])

    ip = wait_for(address, what="a ready endpoint")
    row = live_kubectl.run("get", "endpoints", "web", "-n", live_namespace, "--no-headers").stdout.split()
    assert row[:2] == ["web", f"{ip}:8080"]
