"""The daemon's metrics, read back through prometheus_client's own exposition parser."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gitops.daemon.metrics import SYNC_BUCKETS, Metrics
from gitops.model import SyncResult, Trigger


def samples(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition, keyed by (sample name, labels)."""
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return samples(metrics).get((name, frozenset(labels.items())))


def test_sync_counter_and_duration_histogram() -> None:
    m = Metrics()
    m.sync_finished("web", SyncResult.SUCCEEDED, Trigger.WEBHOOK, 1.5)
    m.sync_finished("web", "Succeeded", "webhook", 0.03)
    m.sync_finished("web", SyncResult.FAILED, Trigger.POLL, 700.0)
    assert value(m, "gitops_syncs_total", app="web", result="Succeeded", trigger="webhook") == 2
    assert value(m, "gitops_syncs_total", app="web", result="Failed", trigger="poll") == 1
    assert value(m, "gitops_sync_duration_seconds_count", app="web") == 3
    assert value(m, "gitops_sync_duration_seconds_sum", app="web") == pytest.approx(701.53)
    assert value(m, "gitops_sync_duration_seconds_bucket", app="web", le="0.05") == 1
    assert value(m, "gitops_sync_duration_seconds_bucket", app="web", le="2.5") == 2
    assert value(m, "gitops_sync_duration_seconds_bucket", app="web", le="600.0") == 2
    assert value(m, "gitops_sync_duration_seconds_bucket", app="web", le="+Inf") == 3
    assert SYNC_BUCKETS[0] == 0.05 and SYNC_BUCKETS[-1] == 600


def test_objects_by_health_reset_absent_states_to_zero() -> None:
    m = Metrics()
    m.objects("web", {"Healthy": 4, "Progressing": 1})
    m.objects("web", {"Healthy": 5})
    assert value(m, "gitops_objects", app="web", health="Healthy") == 5
    assert value(m, "gitops_objects", app="web", health="Progressing") == 0
    assert value(m, "gitops_objects", app="web", health="Degraded") == 0


def test_drift_condition_last_success_and_leader_gauges() -> None:
    m = Metrics()
    m.drift("web", True)
    m.condition("web", True)
    m.last_success("web", 1714564805.5)
    m.leader(True)
    assert value(m, "gitops_drift", app="web") == 1
    assert value(m, "gitops_app_condition", app="web") == 1
    assert value(m, "gitops_last_successful_sync_timestamp_seconds", app="web") == 1714564805.5
    assert value(m, "gitops_leader") == 1
    m.drift("web", False)
    m.condition("web", False)
    m.leader(False)
    assert value(m, "gitops_drift", app="web") == 0
    assert value(m, "gitops_app_condition", app="web") == 0
    assert value(m, "gitops_leader") == 0


def test_git_fetch_duration_and_errors() -> None:
    m = Metrics()
    m.git_fetch("web", 0.02, True)
    m.git_fetch("web", 30.0, False)
    assert value(m, "gitops_git_fetch_duration_seconds_count", app="web") == 2
    assert value(m, "gitops_git_fetch_duration_seconds_bucket", app="web", le="0.025") == 1
    assert value(m, "gitops_git_fetch_errors_total", app="web") == 1


def test_webhook_and_cluster_request_counters() -> None:
    m = Metrics()
    m.webhook("github", "accepted")
    m.webhook("github", "accepted")
    m.webhook("gitlab", "unauthorized")
    m.cluster_request("list", 200)
    m.cluster_request("patch", "409")
    m.cluster_request("list", 200)
    assert value(m, "gitops_webhook_deliveries_total", provider="github", outcome="accepted") == 2
    assert value(m, "gitops_webhook_deliveries_total", provider="gitlab", outcome="unauthorized") == 1
    assert value(m, "gitops_webhook_deliveries_total", provider="bitbucket", outcome="too_large") == 0
    assert value(m, "gitops_cluster_requests_total", verb="list", code="200") == 2
    assert value(m, "gitops_cluster_requests_total", verb="patch", code="409") == 1


def test_each_metrics_owns_its_registry() -> None:
    a, b = Metrics(), Metrics()
    a.drift("web", True)
    assert value(a, "gitops_drift", app="web") == 1
    assert value(b, "gitops_drift", app="web") is None


def test_openmetrics_when_asked() -> None:
    m = Metrics()
    body, content_type = m.render("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert body.rstrip().endswith(b"# EOF")
