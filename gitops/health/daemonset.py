"""DaemonSet health: the rollout-complete rule of K8S-API.md §7 (``kubectl rollout status``).

Done when the controller has observed the spec and ``updatedNumberScheduled`` and
``numberAvailable`` both reach ``desiredNumberScheduled``. ``OnDelete`` updates wait for someone
to delete the pods, which the engine never does, so only availability counts for them. Pods
past the fail-fast threshold make it Degraded (:mod:`gitops.health.pods`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitops.health import pods as pods_
from gitops.health import registry
from gitops.model import health as model_health

_H = model_health.HealthState


@registry.register("apps", "DaemonSet")
def check(obj: Mapping[str, Any], pods: Sequence[Mapping[str, Any]] = ()) -> model_health.Health:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    unobserved = pods_.observed(obj)
    if unobserved is not None:
        return unobserved
    desired = int(status.get("desiredNumberScheduled") or 0)
    updated = int(status.get("updatedNumberScheduled") or 0)
    available = int(status.get("numberAvailable") or 0)
    on_delete = (spec.get("updateStrategy") or {}).get("type") == "OnDelete"
    if updated < desired and not on_delete:
        waiting = f"{updated} of {desired} scheduled pods have been updated"
    elif available < desired:
        waiting = f"{available} of {desired} scheduled pods are available"
    elif desired == 0:
        return model_health.Health(
            _H.HEALTHY, "no node matches its node selector and tolerations, so it runs no pods"
        )
    else:
        return model_health.Health(
            _H.HEALTHY, f"{pods_.count(desired, 'scheduled pod')} updated and available"
        )
    return pods_.fail_fast(waiting, pods, _H.PROGRESSING)
