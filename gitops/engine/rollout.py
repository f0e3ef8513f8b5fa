"""Rollouts the engine controls (DESIGN.md steps 6-7): the app's rollout policy on Deployments,
and the health gate after the workloads phase.

- :func:`with_strategy`: a Deployment in Git without ``spec.strategy`` gets the app's default
  ``maxSurge``/``maxUnavailable`` (``App.rollout``), or its own annotations
  ``gitops.dev/max-surge``/``gitops.dev/max-unavailable``, as a RollingUpdate strategy in the
  applied body: server-side apply makes it ours, and the cluster's controller enforces it. An
  invalid combination (both zero, unavailable above 100%, a bad format) refuses the plan with a
  :class:`~gitops.plan.PlanError` naming every such object, before any write.
- :class:`Gate`: waits until one applied workload (Deployment, StatefulSet, DaemonSet, Job) is
  healthy, watching the object and its pods (a WATCH each, not polling); the pods' states come
  from that watch's LIST and events, never a request per pod. A Degraded workload (a pod that
  cannot pull its image, crash-loops, a progress deadline exceeded) fails at once; otherwise
  the app's rollout timeout bounds the wait. A Deployment is judged by the pods of its current
  ReplicaSet only (the one whose ``deployment.kubernetes.io/revision`` is the Deployment's,
  from a watch of its ReplicaSets): pods of older ReplicaSets being scaled away (a bad image a
  fix or a rollback replaces) never fail the rollout that replaces them. :meth:`Gate.cancel`
  (a newer revision arrived) ends every wait at once with a cancelled verdict.
"""

from __future__ import annotations

import copy
import queue
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from gitops import errors, health
from gitops.cluster import Cluster, Watch
from gitops.config import RolloutPolicy
from gitops.engine.threads import carrying_context
from gitops.model import Health, HealthState, Resource, ResourceKey
from gitops.plan import PlanError

MAX_SURGE_ANNOTATION: Final = "gitops.dev/max-surge"
MAX_UNAVAILABLE_ANNOTATION: Final = "gitops.dev/max-unavailable"

WORKLOAD_KINDS: Final = frozenset(
    {("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"), ("batch", "Job")}
)

_INT_OR_PERCENT = re.compile(r"(\d+)(%?)")
_REVISION: Final = "deployment.kubernetes.io/revision"
_TEMPLATE_HASH: Final = "pod-template-hash"


def is_workload(key: ResourceKey) -> bool:
    return (key.group, key.kind) in WORKLOAD_KINDS


def is_deployment(key: ResourceKey) -> bool:
    return key.group == "apps" and key.kind == "Deployment"


def _parse(value: object, what: str) -> int | str:
    """An int or ``N%`` (the API's IntOrString); ValueError naming ``what`` otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{what} {value!r} must be an integer or a percentage like 25%")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{what} {value} must be 0 or more")
        return value
    text = str(value).strip()
    m = _INT_OR_PERCENT.fullmatch(text)
    if m is None:
        raise ValueError(f"{what} {value!r} must be an integer or a percentage like 25%")
    return text if m.group(2) else int(m.group(1))


def _is_zero(value: int | str) -> bool:
    return value == 0 or value == "0%"


def strategy_for(surge: object, unavailable: object) -> dict[str, int | str]:
    """The ``rollingUpdate`` block for a policy; ValueError for an invalid combination."""
    s = _parse(surge, "maxSurge")
    u = _parse(unavailable, "maxUnavailable")
    if isinstance(u, str) and int(u[:-1]) > 100:
        raise ValueError(f"maxUnavailable {u} must not exceed 100%")
    if _is_zero(s) and _is_zero(u):
        raise ValueError("maxSurge and maxUnavailable cannot both be 0 (the rollout could never progress)")
    return {"maxSurge": s, "maxUnavailable": u}


def with_strategy(resources: Sequence[Resource], policy: RolloutPolicy) -> list[Resource]:
    """``resources`` with the rollout policy set on every Deployment without ``spec.strategy``
    (see the module docstring); raises PlanError listing every invalid one."""
    out: list[Resource] = []
    problems: list[str] = []
    for r in resources:
        if not is_deployment(r.key):
            out.append(r)
            continue
        spec = r.body.get("spec")
        if not isinstance(spec, Mapping) or spec.get("strategy") is not None:
            out.append(r)
            continue
        annotations = (r.body.get("metadata") or {}).get("annotations") or {}
        surge = annotations.get(MAX_SURGE_ANNOTATION, policy.max_surge)
        unavailable = annotations.get(MAX_UNAVAILABLE_ANNOTATION, policy.max_unavailable)
        try:
            rolling = strategy_for(surge, unavailable)
        except ValueError as exc:
            where = f" ({r.origin})" if r.origin is not None else ""
            problems.append(f"{r.key}{where}: invalid rollout policy: {exc}")
            continue
        body = copy.deepcopy(dict(r.body))
        body["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": rolling}
        out.append(Resource(r.key, body, r.origin))
    if problems:
        raise PlanError(problems)
    return out


def label_selector(selector: object) -> str:
    """A LabelSelector object as a label selector string ('' when there is none)."""
    if not isinstance(selector, Mapping):
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


@dataclass(frozen=True)
class Verdict:
    """How one workload's wait ended: healthy, or why not (``message`` names the object)."""

    key: ResourceKey
    health: Health
    message: str
    cancelled: bool = False  # the wait was cancelled (Gate.cancel), not judged

    @property
    def ok(self) -> bool:
        return self.health.healthy


class Gate:
    """Waits for applied workloads to be healthy, all under one deadline; :meth:`close` stops
    every wait in progress (their watches are shut down), :meth:`cancel` too, and the waits
    it stops say they were cancelled."""

    def __init__(self, cluster: Cluster, timeout: float) -> None:
        self.cluster = cluster
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self._watches: set[Watch] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._cancelled = threading.Event()
        self._reason = "a newer revision arrived"

    def cancel(self, reason: str = "") -> None:
        """Stop every wait now (and any later one at once); ``reason`` says why (default: a
        newer revision arrived), in each cancelled verdict's message."""
        if reason:
            self._reason = reason
        self._cancelled.set()
        self.close()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            watches = list(self._watches)
        for w in watches:
            w.close()

    def _open(self, w: Watch) -> Watch:
        with self._lock:
            self._watches.add(w)
        if self._closed.is_set():
            w.close()
        return w

    def _forget(self, w: Watch) -> None:
        w.close()
        with self._lock:
            self._watches.discard(w)

    def wait(self, key: ResourceKey) -> Verdict:
        """Block until ``key`` is Healthy (or Degraded, or the deadline passes)."""
        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        threads: list[threading.Thread] = []
        opened: list[Watch] = []

        def pump(source: str, w: Watch) -> None:
            try:
                for event_type, obj in w:
                    events.put((source, (event_type, obj)))
            except errors.GitopsError as exc:
                events.put(("error", exc))
            finally:
                events.put(("end", source))

        def start(source: str, w: Watch) -> None:
            opened.append(self._open(w))
            t = threading.Thread(
                target=carrying_context(pump), args=(source, w), daemon=True, name=f"gitops-watch-{key.name}"
            )
            threads.append(t)
            t.start()

        remaining = self.deadline - time.monotonic()
        obj: dict[str, Any] | None = None
        pods: dict[str, dict[str, Any]] = {}
        replica_sets: dict[str, dict[str, Any]] = {}
        pods_selector: str | None = None
        current = Health(HealthState.PROGRESSING, "waiting for the first status")
        try:
            start(
                "object",
                self.cluster.watch(
                    key.group, key.kind, key.namespace, name=key.name, timeout=max(remaining, 1)
                ),
            )
            while True:
                remaining = self.deadline - time.monotonic()
                if remaining <= 0 or self._closed.is_set():
                    break
                try:
                    source, payload = events.get(timeout=remaining)
                except queue.Empty:
                    break
                if source == "error":
                    return Verdict(key, Health(HealthState.UNKNOWN, str(payload)), f"{key}: {payload}")
                if source == "end":
                    continue
                event_type, item = payload
                if source == "object":
                    obj = None if event_type == "DELETED" else item
                    selector = label_selector(((obj or {}).get("spec") or {}).get("selector"))
                    if obj is not None and selector and pods_selector is None:
                        pods_selector = selector
                        start(
                            "pods",
                            self.cluster.watch(
                                "", "Pod", key.namespace, label_selector=selector, timeout=max(remaining, 1)
                            ),
                        )
                        if is_deployment(key):
                            start(
                                "replicasets",
                                self.cluster.watch(
                                    "apps",
                                    "ReplicaSet",
                                    key.namespace,
                                    label_selector=selector,
                                    timeout=max(remaining, 1),
                                ),
                            )
                else:
                    seen = pods if source == "pods" else replica_sets
                    name = str((item.get("metadata") or {}).get("name"))
                    if event_type == "DELETED":
                        seen.pop(name, None)
                    else:
                        seen[name] = item
                if obj is None:
                    continue
                judged: Sequence[Mapping[str, Any]] = sorted(pods.values(), key=_pod_order)
                if is_deployment(key):
                    judged = current_pods(obj, replica_sets.values(), judged)
                current = health.check(obj, judged)
                if current.healthy:
                    return Verdict(key, current, f"{key}: {current.message}")
                if current.state is HealthState.DEGRADED:
                    return Verdict(key, current, f"{key}: {current.message}")
            if self._cancelled.is_set():
                return Verdict(
                    key,
                    Health(HealthState.UNKNOWN, "the wait was cancelled"),
                    f"cancelled: {self._reason} while waiting for {key}",
                    cancelled=True,
                )
            if obj is None:
                current = Health(HealthState.MISSING, "it does not exist in the cluster")
            return Verdict(
                key,
                current,
                f"{key}: not healthy within the rollout timeout of {self.timeout:g}s: {current.message}",
            )
        finally:
            for w in opened:
                self._forget(w)
            for t in threads:
                t.join(timeout=5)


def current_pods(
    deployment: Mapping[str, Any],
    replica_sets: Iterable[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
) -> list[Mapping[str, Any]]:
    """The pods of ``deployment``'s current ReplicaSet: the one it owns whose revision
    annotation is the Deployment's (the controller sets both as it makes or adopts the new
    ReplicaSet, a rollback's old one included); none while that ReplicaSet is not known yet."""
    meta = deployment.get("metadata") or {}
    revision = (meta.get("annotations") or {}).get(_REVISION)
    uid = meta.get("uid")
    hashes = {
        ((rs.get("metadata") or {}).get("labels") or {}).get(_TEMPLATE_HASH)
        for rs in replica_sets
        if revision is not None
        and ((rs.get("metadata") or {}).get("annotations") or {}).get(_REVISION) == revision
        and any(o.get("uid") == uid for o in (rs.get("metadata") or {}).get("ownerReferences") or [])
    }
    hashes.discard(None)
    return [p for p in pods if ((p.get("metadata") or {}).get("labels") or {}).get(_TEMPLATE_HASH) in hashes]


def _pod_order(pod: Mapping[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("name") or "")
