"""Deployment health: the rules of ``kubectl rollout status`` (K8S-API.md §6.9), plus failures.

In order: a spec the controller has not observed is Progressing; the Progressing condition with
reason ``ProgressDeadlineExceeded``, or a ``ReplicaFailure`` condition, is Degraded; then the
rollout counts (updated, old pending termination, available), where a pod past the fail-fast
threshold (:mod:`gitops.health.pods`) makes it Degraded at once; else Healthy.

Paused: a paused Deployment whose rollout is complete is Healthy; one paused mid-rollout is
Progressing and says so. Argo CD calls both Suspended; we have no such state, and neither
alternative is right for both cases: Healthy would let the engine move on (Services after
workloads) while half the replicas run the old template, and Progressing for a finished
rollout would hold a sync on a Deployment that is serving exactly what Git says. The paused
half-rollout never times out (the controller stops its deadline while paused), so the message
tells the operator the one command that ends the wait.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitops.health import pods as pods_
from gitops.health import registry
from gitops.model import health as model_health

_H = model_health.HealthState


@registry.register("apps", "Deployment")
def check(obj: Mapping[str, Any], pods: Sequence[Mapping[str, Any]] = ()) -> model_health.Health:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    name = (obj.get("metadata") or {}).get("name") or "?"
    unobserved = pods_.observed(obj)
    if unobserved is not None:
        return unobserved
    progressing = pods_.conditions(obj).get("Progressing") or {}
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        deadline = spec.get("progressDeadlineSeconds", 600)
        pod = pods_.worst(pods_.active(pods))
        return model_health.Health(
            _H.DEGRADED,
            pods_.with_pod(f"the rollout made no progress within its {deadline}s progress deadline", pod),
        )
    failure = pods_.condition_true(obj, "ReplicaFailure")
    if failure is not None:
        return model_health.Health(
            _H.DEGRADED, f"pods cannot be created ({failure.get('reason')}: {failure.get('message')})"
        )
    replicas = int(spec.get("replicas", 1))
    total = int(status.get("replicas") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    if updated < replicas:
        waiting = f"{updated} of {replicas} new replicas have been updated"
    elif total > updated:
        waiting = f"{total - updated} old replicas are pending termination"
    elif available < updated:
        waiting = f"{available} of {updated} updated replicas are available"
    else:
        return model_health.Health(_H.HEALTHY, f"{pods_.count(replicas, 'replica')} updated and available")
    if spec.get("paused"):
        return model_health.Health(
            _H.PROGRESSING, f"the rollout is paused ({waiting}); run kubectl rollout resume deployment/{name}"
        )
    return pods_.fail_fast(waiting, pods, _H.PROGRESSING)
