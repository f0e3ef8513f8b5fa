"""Health of every fixture in tests/health/fixtures/ (made by ``generate_fixtures``), and the registry.

Each fixture is YAML documents: the object, then its pods. Regenerating the fixtures renames
the pods, so the expected messages here change with them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops import health
from gitops.model import Health
from gitops.model import HealthState as H

FIXTURES = Path(__file__).parent / "fixtures"

CASES = [
    ("crd-established", H.HEALTHY, "it is established and its API is served"),
    ("crd-not-established", H.PROGRESSING, "waiting for the API server to establish it"),
    (
        "daemonset-crashloop",
        H.DEGRADED,
        "0 of 1 scheduled pods are available; pod logs-56228 is in CrashLoopBackOff (container app restarted 2 times, last exit code 1)",
    ),
    ("daemonset-healthy", H.HEALTHY, "1 scheduled pod updated and available"),
    (
        "daemonset-progressing",
        H.PROGRESSING,
        "0 of 1 scheduled pods are available; pod logs-4mzwf is running but not ready",
    ),
    (
        "deployment-crashloop",
        H.DEGRADED,
        "0 of 3 updated replicas are available; pod web-7d54c46568-7tpld is in CrashLoopBackOff (container app restarted 2 times, last exit code 1)",
    ),
    (
        "deployment-deadline-exceeded",
        H.DEGRADED,
        "the rollout made no progress within its 60s progress deadline; pod web-66545776b6-8sszz is Unschedulable: 0/1 nodes are available: 1 Insufficient cpu",
    ),
    ("deployment-healthy", H.HEALTHY, "3 replicas updated and available"),
    (
        "deployment-imagepullbackoff",
        H.DEGRADED,
        "0 of 3 updated replicas are available; pod web-795996456-mn47z is in ImagePullBackOff (image registry.example.com/bad:1.0)",
    ),
    (
        "deployment-paused",
        H.PROGRESSING,
        "the rollout is paused (0 of 3 new replicas have been updated); run kubectl rollout resume deployment/web",
    ),
    (
        "deployment-progressing",
        H.PROGRESSING,
        "0 of 3 updated replicas are available; pod web-58cd994cbf-9xmzl is running but not ready",
    ),
    ("job-complete", H.HEALTHY, "it completed with 1 succeeded pod"),
    (
        "job-failed",
        H.DEGRADED,
        "it failed after 2 failed pods (BackoffLimitExceeded: Job has reached the specified backoff limit)",
    ),
    ("job-running", H.PROGRESSING, "1 pod running, 0 of 1 succeeded"),
    (
        "pod-crashloop-first",
        H.PROGRESSING,
        "it is in CrashLoopBackOff (container app restarted 1 time, last exit code 1)",
    ),
    (
        "pod-crashloop",
        H.DEGRADED,
        "it is in CrashLoopBackOff (container app restarted 2 times, last exit code 1)",
    ),
    ("pod-imagepullbackoff", H.DEGRADED, "it is in ImagePullBackOff (image bad:1)"),
    ("pod-running", H.HEALTHY, "it is running and ready"),
    ("pod-unschedulable", H.PROGRESSING, "it is Unschedulable: 0/1 nodes are available: 1 Insufficient cpu"),
    ("pvc-bound", H.HEALTHY, "it is bound to a volume"),
    (
        "pvc-pending",
        H.PROGRESSING,
        "waiting for storage class standard to bind a volume (a WaitForFirstConsumer class binds only once a pod uses it)",
    ),
    ("service-clusterip", H.HEALTHY, "the ClusterIP service has been applied"),
    (
        "service-loadbalancer-pending",
        H.PROGRESSING,
        "waiting for a load balancer address; check that the cluster has a load-balancer controller",
    ),
    ("service-loadbalancer-ready", H.HEALTHY, "the load balancer is ready at 203.0.113.10"),
    ("statefulset-healthy", H.HEALTHY, "2 replicas ready and updated"),
    (
        "statefulset-imagepullbackoff",
        H.DEGRADED,
        "0 of 2 replicas are ready; pod db-0 is in ImagePullBackOff (image registry.example.com/bad:16)",
    ),
    (
        "statefulset-progressing",
        H.PROGRESSING,
        "0 of 2 replicas are ready; pod db-0 is running but not ready",
    ),
]


def load(fixture: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    obj, *pods = yaml.safe_load_all((FIXTURES / f"{fixture}.yaml").read_text())
    return obj, pods


@pytest.mark.parametrize(("fixture", "state", "message"), CASES)
def test_fixture_health_has_state_and_actionable_message(fixture: str, state: H, message: str) -> None:
    obj, pods = load(fixture)
    assert health.check(obj, pods) == Health(state, message)


def test_every_fixture_has_an_expectation() -> None:
    expected = {fixture for fixture, _, _ in CASES}
    assert {f.stem for f in FIXTURES.glob("*.yaml")} == expected


def test_missing_object_is_missing() -> None:
    assert health.check(None).state is H.MISSING


def test_object_being_deleted_is_progressing_and_names_finalizers() -> None:
    obj, _ = load("pvc-bound")
    obj["metadata"].update(
        deletionTimestamp="2026-01-01T00:00:00Z", finalizers=["kubernetes.io/pvc-protection"]
    )
    assert health.check(obj) == Health(
        H.PROGRESSING, "it is being deleted; waiting for finalizers kubernetes.io/pvc-protection"
    )


def test_kinds_without_a_check_are_healthy_once_applied() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}
    assert health.check(cm) == Health(H.HEALTHY, "it has been applied")


def test_unreadable_status_is_unknown() -> None:
    obj, pods = load("deployment-healthy")
    obj["status"]["updatedReplicas"] = "three"
    assert health.check(obj, pods).state is H.UNKNOWN


def test_crashloop_pods_do_not_degrade_a_completed_rollout() -> None:
    obj, _ = load("deployment-healthy")
    _, crashing = load("deployment-crashloop")
    assert health.check(obj, crashing).state is H.HEALTHY


def test_registry_finds_checkers_by_group_and_kind() -> None:
    assert health.checker_for("apps", "Deployment") is health.deployment.check
    assert health.checker_for("extensions.example.com", "Deployment") is not health.deployment.check


def test_register_adds_a_checker_and_refuses_a_second_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health.registry, "_CHECKERS", dict(health.registry._CHECKERS))

    def widget(obj: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> Health:
        return Health(H.DEGRADED, "widgets are always broken")

    health.register("example.com", "Widget")(widget)
    assert (
        health.check({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}).state
        is H.DEGRADED
    )
    with pytest.raises(ValueError, match="already registered"):
        health.register("example.com", "Widget")(widget)
