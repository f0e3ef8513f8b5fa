"""StatefulSet health: the rollout-complete rule of K8S-API.md §7 (``kubectl rollout status``).

Done when the controller has observed the spec, ``readyReplicas >= replicas`` and the update
has reached every pod it may (``updatedReplicas >= replicas - partition`` with a partition,
else ``updateRevision == currentRevision``). ``OnDelete`` updates wait for someone to delete the
pods, which the engine never does, so only readiness counts for them. Pods past the fail-fast
threshold make it Degraded (:mod:`gitops.health.pods`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitops.health import pods as pods_
from gitops.health import registry
from gitops.model import health as model_health

_H = model_health.HealthState


@registry.register("apps", "StatefulSet")
def check(obj: Mapping[str, Any], pods: Sequence[Mapping[str, Any]] = ()) -> model_health.Health:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    unobserved = pods_.observed(obj)
    if unobserved is not None:
        return unobserved
    replicas = int(spec.get("replicas", 1))
    ready = int(status.get("readyReplicas") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    strategy = spec.get("updateStrategy") or {}
    partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
    if ready < replicas:
        waiting = f"{ready} of {replicas} replicas are ready"
    elif strategy.get("type") == "OnDelete":
        return model_health.Health(_H.HEALTHY, f"{pods_.count(replicas, 'replica')} ready (OnDelete updates)")
    elif partition > 0 and updated < replicas - partition:
        waiting = (
            f"{updated} of {replicas - partition} replicas above partition {partition} have been updated"
        )
    elif partition == 0 and status.get("updateRevision") != status.get("currentRevision"):
        waiting = (
            f"{updated} of {replicas} replicas have been updated to revision {status.get('updateRevision')}"
        )
    else:
        return model_health.Health(_H.HEALTHY, f"{pods_.count(replicas, 'replica')} ready and updated")
    return pods_.fail_fast(waiting, pods, _H.PROGRESSING)
