"""The daemon's Prometheus metrics (I/O side: prometheus-client).

:class:`Metrics` owns its own :class:`~prometheus_client.CollectorRegistry`, never the
process-global one: tests and embedders create many daemons in one process, and a metric
registered twice in the global registry is an error. Every label value is an app name, a fixed
word (result, trigger, health, outcome, verb) or an HTTP status code: never a URL, a message or
anything a secret could hide in.

=============================================== ========= ======================================
metric                                          type      labels
=============================================== ========= ======================================
gitops_syncs_total                              counter   app, result, trigger
gitops_sync_duration_seconds                    histogram app
gitops_objects                                  gauge     app, health
gitops_drift                                    gauge     app (1 = live differs from Git)
gitops_last_successful_sync_timestamp_seconds   gauge     app
gitops_git_fetch_duration_seconds               histogram app
gitops_git_fetch_errors_total                   counter   app
gitops_webhook_deliveries_total                 counter   provider, outcome
gitops_cluster_requests_total                   counter   verb, code
gitops_app_condition                            gauge     app (1 = a condition blocks the app)
gitops_leader                                   gauge     (1 = this replica holds the lease)
=============================================== ========= ======================================
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

from gitops.daemon import webhooks
from gitops.model import HealthState

# A no-op sync of a small app takes tens of milliseconds; a large app's rollout under a health
# gate can take the default rollout timeout (10 min).
SYNC_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
# An incremental fetch of an unchanged repository is a few milliseconds to a round trip; a first
# clone of a big repository can take minutes.
FETCH_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


def _label(value: object) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


class Metrics:
    """Every metric the daemon exports, and one method to record each. Thread-safe."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._syncs = Counter(
            "gitops_syncs_total",
            "Syncs finished, by app, result and trigger.",
            ["app", "result", "trigger"],
            registry=r,
        )
        self._sync_duration = Histogram(
            "gitops_sync_duration_seconds", "How long syncs took.", ["app"], buckets=SYNC_BUCKETS, registry=r
        )
        self._objects = Gauge(
            "gitops_objects", "Objects an app owns, by health.", ["app", "health"], registry=r
        )
        self._drift = Gauge(
            "gitops_drift", "1 when the live objects differ from Git, else 0.", ["app"], registry=r
        )
        self._last_success = Gauge(
            "gitops_last_successful_sync_timestamp_seconds",
            "When the app's last successful sync finished (Unix time).",
            ["app"],
            registry=r,
        )
        self._fetch_duration = Histogram(
            "gitops_git_fetch_duration_seconds",
            "How long polling the app's repository took.",
            ["app"],
            buckets=FETCH_BUCKETS,
            registry=r,
        )
        self._fetch_errors = Counter(
            "gitops_git_fetch_errors_total", "Failed polls of the app's repository.", ["app"], registry=r
        )
        self._webhooks = Counter(
            "gitops_webhook_deliveries_total",
            "Webhook deliveries, by provider and what became of them.",
            ["provider", "outcome"],
            registry=r,
        )
        self._cluster_requests = Counter(
            "gitops_cluster_requests_total",
            "Requests to the Kubernetes API, by verb and status code.",
            ["verb", "code"],
            registry=r,
        )
        self._condition = Gauge(
            "gitops_app_condition",
            "1 when a condition (Git or cluster unreachable...) blocks the app.",
            ["app"],
            registry=r,
        )
        self._leader = Gauge(
            "gitops_leader", "1 when this replica is the leader and syncs, else 0.", registry=r
        )
        # every provider/outcome pair starts at 0, so rate() and alerts see the series at once
        for provider in webhooks.PROVIDERS:
            for outcome in webhooks.Outcome:
                self._webhooks.labels(provider, outcome.value)

    def sync_finished(self, app: str, result: object, trigger: object, seconds: float) -> None:
        """One sync ended; ``result`` and ``trigger`` are SyncResult/Trigger (or their values)."""
        res, trig = _label(result), _label(trigger)
        self._syncs.labels(app, res, trig).inc()
        self._sync_duration.labels(app).observe(max(0.0, seconds))

    def objects(self, app: str, counts: Mapping[str, int]) -> None:
        """The app's objects by health (HealthState values as keys). Every known health state
        is exported, 0 when absent, so a state that empties drops to 0 instead of going stale."""
        seen = {_label(k): v for k, v in counts.items()}
        for state in HealthState:
            seen.setdefault(state.value, 0)
        for health, n in seen.items():
            self._objects.labels(app, health).set(n)

    def drift(self, app: str, drifted: bool) -> None:
        self._drift.labels(app).set(1 if drifted else 0)

    def last_success(self, app: str, epoch: float) -> None:
        """``epoch``: Unix time the last successful sync finished."""
        self._last_success.labels(app).set(epoch)

    def git_fetch(self, app: str, seconds: float, ok: bool) -> None:
        self._fetch_duration.labels(app).observe(max(0.0, seconds))
        if not ok:
            self._fetch_errors.labels(app).inc()

    def webhook(self, provider: str, outcome: webhooks.Outcome | str) -> None:
        self._webhooks.labels(provider, _label(outcome)).inc()

    def cluster_request(self, verb: str, code: int | str) -> None:
        """``code``: the HTTP status, 0 when no answer came (``Cluster.observer``'s convention)."""
        self._cluster_requests.labels(verb, str(code)).inc()

    def condition(self, app: str, blocked: bool) -> None:
        self._condition.labels(app).set(1 if blocked else 0)

    def leader(self, is_leader: bool) -> None:
        self._leader.set(1 if is_leader else 0)

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """The exposition (body, content type): the Prometheus text format, or OpenMetrics
        when the scraper's Accept header asks for it."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type
