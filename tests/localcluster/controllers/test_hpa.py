"""The HorizontalPodAutoscaler controller (``controllers/hpa.py``) against Kubernetes 1.32.

Expectations come from ``pkg/controller/podautoscaler/horizontal.go`` (``reconcileAutoscaler``,
``computeReplicasForMetrics``, ``normalizeDesiredReplicas``, ``convertDesiredReplicasWithRules``,
``stabilizeRecommendationWithBehaviors``, ``convertDesiredReplicasWithBehaviorRate``) and
``replica_calculator.go`` (the 0.1 tolerance). Most live tests run on a cluster whose clock runs
at wall speed and step it by the 15 s sync period with ``clock.advance``, so each step is exactly
one HPA sync. What matters most to the engine: the HPA's write of ``spec.replicas`` shows in the
target's managedFields as an ``Update`` through the ``scale`` subresource.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gitops.localcluster import LocalCluster
from gitops.localcluster.controllers import hpa
from tests.conftest import Kubectl
from tests.localcluster.controllers.workloads import Obj, condition, create, get, patch, wait_for

# ------------------------------------------------------------------------------ pure parts


def cpu(utilization: int) -> Obj:
    return {
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": utilization}},
    }


def test_metric_proposals_use_the_ratio_with_a_ten_percent_tolerance() -> None:
    def replicas(metric: Obj, value: str, current: int = 4, status: int = 4) -> int:
        return hpa.compute_metric(metric, hpa.parse_metric_values(value), current, status, {}, "ns").replicas

    assert replicas(cpu(50), "100") == 8  # ceil(4 x 100/50)
    assert replicas(cpu(50), "54") == 4  # ratio 1.08: within the tolerance
    assert replicas(cpu(50), "56") == 5  # ratio 1.12: ceil(4.48)
    assert replicas(cpu(50), "20") == 2  # ceil(4 x 0.4) = ceil(1.6)
    pods = {
        "type": "Pods",
        "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "10"}},
    }
    assert replicas(pods, "rps=25") == 10
    external = {
        "type": "External",
        "external": {"metric": {"name": "queue"}, "target": {"type": "AverageValue", "averageValue": "30"}},
    }
    # GetExternalPerPodMetricReplicas: ceil(total / target per pod).
    assert replicas(external, "queue=100") == 4  # ratio 100 / (30 x 4) = 0.83 -> ceil(3.33)
    assert replicas(external, "queue=125") == 4  # ratio 1.04: keep the 4 pods
    value_target = {
        "type": "Object",
        "object": {
            "describedObject": {"kind": "Service", "name": "front", "apiVersion": "v1"},
            "metric": {"name": "hits"},
            "target": {"type": "Value", "value": "2k"},
        },
    }
    assert replicas(value_target, "hits=3k") == 6


def test_metric_statuses_and_missing_values() -> None:
    proposal = hpa.compute_metric(cpu(50), {"": 90_000}, 2, 2, {"cpu": 200}, "ns")
    assert proposal.status == {
        "type": "Resource",
        "resource": {"name": "cpu", "current": {"averageValue": "180m", "averageUtilization": 90}},
    }
    assert proposal.name == "cpu resource utilization (percentage of request)"
    with pytest.raises(hpa.MetricError) as info:
        hpa.compute_metric(cpu(50), {"memory": 1}, 2, 2, {}, "ns")
    assert info.value.reason == "FailedGetResourceMetric"
    assert str(info.value) == (
        "failed to get cpu utilization: unable to get metrics for resource cpu: "
        "no metrics returned from resource metrics API"
    )


def test_replica_rules_limit_scale_up_and_keep_bounds() -> None:
    # calculateScaleUpLimit: max(2 x current, 4).
    assert hpa.convert_with_rules(1, 10, 1, 20) == (
        4,
        "ScaleUpLimit",
        "the desired replica count is increasing faster than the maximum scale rate",
    )
    assert hpa.convert_with_rules(5, 12, 1, 8)[:2] == (8, "TooManyReplicas")
    assert hpa.convert_with_rules(5, 0, 2, 8)[:2] == (2, "TooFewReplicas")
    assert hpa.convert_with_rules(5, 7, 2, 8)[:2] == (7, "DesiredWithinRange")


def test_stabilization_keeps_the_highest_recent_recommendation() -> None:
    recs = [hpa.Recommendation(6, 0.0)]
    assert hpa.stabilize(recs, 2, 100.0, 300.0) == 6
    assert hpa.stabilize(recs, 3, 301.0, 300.0) == 3  # the 6 expired; its slot is reused
    assert [r.replicas for r in recs] == [3, 2]


def test_behavior_policies_limit_the_rate_of_change() -> None:
    behavior = {
        "scaleUp": {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
        },
        "scaleDown": {
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
        },
    }
    ups = [hpa.ScaleEvent(1, 100.0)]
    # One pod was added 20 s ago: the period started at 2, so the limit is 3 -> no growth.
    assert hpa.convert_with_behavior_rate(3, 10, 1, 20, behavior, ups, [], 120.0)[:2] == (3, "ScaleUpLimit")
    assert hpa.convert_with_behavior_rate(3, 10, 1, 20, behavior, ups, [], 161.0)[:2] == (4, "ScaleUpLimit")
    # Percent 50 down: from 8 at most to 4.
    assert hpa.convert_with_behavior_rate(8, 1, 1, 20, behavior, [], [], 0.0)[:2] == (4, "ScaleDownLimit")
    disabled = {**behavior, "scaleDown": {"selectPolicy": "Disabled", "policies": []}}
    assert hpa.convert_with_behavior_rate(8, 1, 1, 20, disabled, [], [], 0.0)[0] == 8


# ------------------------------------------------------------------------------------ live


@pytest.fixture(scope="module")
def stepped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A cluster whose clock runs at wall speed: HPA syncs happen when the test advances it."""
    with LocalCluster(kubeconfig=tmp_path_factory.mktemp("hpa") / "kubeconfig", clock_scale=1) as c:
        yield c


@pytest.fixture
def ns(stepped: LocalCluster, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"hpa-{abs(hash(request.node.name)) % 10**8}"
    create(stepped, "", "v1", "namespaces", "", {"metadata": {"name": name}})
    yield name
    assert stepped.controllers is not None and stepped.controllers.errors == []


def deployment(name: str, replicas: int) -> Obj:
    container = {"name": "main", "image": "nginx:1.27", "resources": {"requests": {"cpu": "200m"}}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}},
        },
    }


def hpa_body(
    target: str, value: str | None, minimum: int = 1, maximum: int = 10, kind: str = "Deployment", **spec: Any
) -> Obj:
    meta: Obj = {"name": target}
    if value is not None:
        meta["annotations"] = {hpa.METRIC_ANNOTATION: value}
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta,
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": target},
            "minReplicas": minimum,
            "maxReplicas": maximum,
            "metrics": [cpu(50)],
            **spec,
        },
    }


def sync(cluster: LocalCluster, seconds: float = hpa.SYNC_PERIOD) -> None:
    """Advance the clock by one sync period (or ``seconds``) and let the controllers finish
    (settling first, so that new objects were seen before the jump)."""
    assert cluster.settle()
    cluster.clock.advance(seconds)
    assert cluster.settle()


def replicas(cluster: LocalCluster, ns: str, name: str, plural: str = "deployments") -> int:
    obj = get(cluster, "apps", plural, ns, name)
    assert obj is not None
    return int(obj["spec"]["replicas"])


def hpa_status(cluster: LocalCluster, ns: str, name: str) -> Obj:
    obj = get(cluster, "autoscaling", "horizontalpodautoscalers", ns, name)
    assert obj is not None
    return dict(obj.get("status") or {})


def reason(cluster: LocalCluster, ns: str, name: str, ctype: str) -> tuple[str, str, str]:
    cond = condition(get(cluster, "autoscaling", "horizontalpodautoscalers", ns, name), ctype)
    assert cond is not None, f"no {ctype} condition"
    return cond["status"], cond["reason"], cond["message"]


def test_hpa_scales_a_deployment_through_the_scale_subresource(stepped: LocalCluster, ns: str) -> None:
    cluster = stepped
    create(cluster, "apps", "v1", "deployments", ns, deployment("web", 2))
    create(cluster, "autoscaling", "v2", "horizontalpodautoscalers", ns, hpa_body("web", "100"))
    assert cluster.settle()
    # The HPA's work queue holds a new HPA for one sync period before the first sync.
    assert replicas(cluster, ns, "web") == 2
    sync(cluster)
    assert replicas(cluster, ns, "web") == 4  # ceil(2 x 100 / 50)

    target = get(cluster, "apps", "deployments", ns, "web")
    assert target is not None
    scale_entries = [m for m in target["metadata"]["managedFields"] if m.get("subresource") == "scale"]
    assert len(scale_entries) == 1
    entry = scale_entries[0]
    assert (entry["manager"], entry["operation"], entry["apiVersion"]) == (
        "kube-controller-manager",
        "Update",
        "apps/v1",
    )
    assert entry["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    # Nobody else owns spec.replicas any more: the create's manager lost it to the HPA.
    others = [m for m in target["metadata"]["managedFields"] if m is not entry]
    assert all("f:replicas" not in (m.get("fieldsV1") or {}).get("f:spec", {}) for m in others)

    status = hpa_status(cluster, ns, "web")
    assert status["currentReplicas"] == 2 and status["desiredReplicas"] == 4 and "lastScaleTime" in status
    assert status["currentMetrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "current": {"averageValue": "200m", "averageUtilization": 100}},
        }
    ]
    assert [c["type"] for c in status["conditions"]] == ["AbleToScale", "ScalingActive", "ScalingLimited"]
    assert reason(cluster, ns, "web", "AbleToScale") == (
        "True",
        "SucceededRescale",
        "the HPA controller was able to update the target scale to 4",
    )
    assert reason(cluster, ns, "web", "ScalingActive") == (
        "True",
        "ValidMetricFound",
        "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)",
    )
    assert reason(cluster, ns, "web", "ScalingLimited")[:2] == ("False", "DesiredWithinRange")

    sync(cluster)
    assert replicas(cluster, ns, "web") == 8
    sync(cluster)
    assert replicas(cluster, ns, "web") == 10  # maxReplicas
    assert reason(cluster, ns, "web", "ScalingLimited")[:2] == ("True", "TooManyReplicas")
    last_scale = hpa_status(cluster, ns, "web")["lastScaleTime"]
    sync(cluster)
    status = hpa_status(cluster, ns, "web")
    assert (
        status["currentReplicas"] == status["desiredReplicas"] == 10 and status["lastScaleTime"] == last_scale
    )
    assert reason(cluster, ns, "web", "AbleToScale")[1] == "ReadyForNewScale"


def test_scale_up_is_limited_to_double_or_four(stepped: LocalCluster, ns: str) -> None:
    cluster = stepped
    create(cluster, "apps", "v1", "deployments", ns, deployment("web", 1))
    create(cluster, "autoscaling", "v2", "horizontalpodautoscalers", ns, hpa_body("web", "500", maximum=20))
    sync(cluster)
    assert replicas(cluster, ns, "web") == 4  # wanted 10; max(2 x 1, 4)
    assert reason(cluster, ns, "web", "ScalingLimited") == (
        "True",
        "ScaleUpLimit",
        "the desired replica count is increasing faster than the maximum scale rate",
    )


def test_scale_down_waits_for_the_stabilization_window(stepped: LocalCluster, ns: str) -> None:
    cluster = stepped
    create(cluster, "apps", "v1", "deployments", ns, deployment("web", 4))
    create(cluster, "autoscaling", "v2", "horizontalpodautoscalers", ns, hpa_body("web", "25"))
    sync(cluster)
    assert replicas(cluster, ns, "web") == 4
    assert reason(cluster, ns, "web", "AbleToScale") == (
        "True",
        "ScaleDownStabilized",
        "recent recommendations were higher than current one, applying the highest recent recommendation",
    )
    assert hpa_status(cluster, ns, "web")["desiredReplicas"] == 4
    sync(cluster, 120)
    assert replicas(cluster, ns, "web") == 4
    sync(cluster, hpa.DOWNSCALE_STABILIZATION)
    assert replicas(cluster, ns, "web") == 2  # ceil(4 x 25 / 50)


def test_behavior_policies_pace_the_scale_up(stepped: LocalCluster, ns: str) -> None:
    cluster = stepped
    behavior = {
        "scaleUp": {
            "stabilizationWindowSeconds": 0,
            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
        }
    }
    create(cluster, "apps", "v1", "deployments", ns, deployment("web", 2))
    create(
        cluster,
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        ns,
        hpa_body("web", "500", behavior=behavior),
    )
    sync(cluster)
    assert replicas(cluster, ns, "web") == 3
    sync(cluster)
    assert replicas(cluster, ns, "web") == 3  # one pod per 60 s
    assert reason(cluster, ns, "web", "ScalingLimited")[:2] == ("True", "ScaleUpLimit")
    sync(cluster, 60)
    assert replicas(cluster, ns, "web") == 4


def test_replicas_outside_the_bounds_are_brought_inside(stepped: LocalCluster, ns: str) -> None:
    cluster = stepped
    create(cluster, "apps", "v1", "deployments", ns, deployment("low", 1))
    create(cluster, "apps", "v1", "deployments", ns, deployment("off", 0))
    create(cluster, "autoscaling", "v2", "horizontalpodautoscalers", ns, hpa_body("low", None, minimum=3))
    create(cluster, "autoscaling", "v2", "horizontalpodautoscalers", ns, hpa_body("off", "100"))
    sync(cluster)
    assert replicas(cluster, ns, "low") == 3  # below minReplicas: no metric needed
    assert replicas(cluster, ns, "off") == 0
    assert reason(cluster, ns, "off", "ScalingActive") == (
        "False",
        "ScalingDisabled",
        "scaling is disabled since the replica count of the target is zero",
    )


def test_missing_metrics_and_targets_are_reported_in_conditions(stepped: LocalCluster, ns: str) -> None:
    cluster = stepped
    create(cluster, "apps", "v1", "deployments", ns, deployment("web", 2))
    create(cluster, "autoscaling", "v2", "horizontalpodautoscalers", ns, hpa_body("web", None))
    create(cluster, "autoscaling", "v2", "horizontalpodautoscalers", ns, hpa_body("nope", "100"))
    sync(cluster)
    assert replicas(cluster, ns, "web") == 2
    assert reason(cluster, ns, "web", "ScalingActive") == (
        "False",
        "FailedGetResourceMetric",
        "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics "
        "for resource cpu: no metrics returned from resource metrics API",
    )
    status = hpa_status(cluster, ns, "web")
    assert status["currentReplicas"] == 2 and status["currentMetrics"] == [{"type": ""}]
    assert reason(cluster, ns, "nope", "AbleToScale") == (
        "False",
        "FailedGetScale",
        'the HPA controller was unable to get the target\'s current scale: deployments.apps "nope" not found',
    )
    # The metric arrives: the next sync scales.
    patch(
        cluster,
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        ns,
        "web",
        {"metadata": {"annotations": {hpa.METRIC_ANNOTATION: "cpu=100"}}},
    )
    sync(cluster)
    assert replicas(cluster, ns, "web") == 4


@pytest.mark.kubectl
def test_hpa_scales_a_statefulset_that_then_runs_the_new_pod(
    live_cluster: LocalCluster, live_kubectl: Kubectl, live_namespace: str
) -> None:
    cluster, ns = live_cluster, live_namespace
    sts = deployment("db", 1)
    sts["kind"] = "StatefulSet"
    sts["spec"]["serviceName"] = "db"
    create(cluster, "apps", "v1", "statefulsets", ns, sts)
    create(
        cluster,
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        ns,
        hpa_body("db", "100", maximum=2, kind="StatefulSet"),
    )
    wait_for(lambda: replicas(cluster, ns, "db", "statefulsets") == 2, what="the HPA scaled the StatefulSet")

    def ready() -> bool:
        obj = get(cluster, "apps", "statefulsets", ns, "db")
        return obj is not None and (obj.get("status") or {}).get("readyReplicas") == 2

    wait_for(ready, what="db-1 ready")
    out = live_kubectl.run("get", "hpa", "-n", ns, "db").stdout
    assert "cpu: 100%/50%" in out and "StatefulSet/db" in out
