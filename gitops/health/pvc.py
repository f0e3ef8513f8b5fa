"""PersistentVolumeClaim health: ``Bound`` is Healthy, ``Lost`` Degraded, ``Pending`` Progressing.

A claim of a ``WaitForFirstConsumer`` storage class stays Pending until a pod uses it; we cannot
see the class from the claim alone, so the message names that case for the operator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitops.health import registry
from gitops.model import health as model_health

_H = model_health.HealthState


@registry.register("", "PersistentVolumeClaim")
def check(obj: Mapping[str, Any], pods: Sequence[Mapping[str, Any]] = ()) -> model_health.Health:
    spec = obj.get("spec") or {}
    phase = (obj.get("status") or {}).get("phase") or "Pending"
    volume = f"volume {spec['volumeName']}" if spec.get("volumeName") else "a volume"
    if phase == "Bound":
        return model_health.Health(_H.HEALTHY, f"it is bound to {volume}")
    if phase == "Lost":
        return model_health.Health(_H.DEGRADED, f"its {volume} is lost; restore it or recreate the claim")
    cls = spec.get("storageClassName")
    where = f"storage class {cls}" if cls else "the default storage class"
    return model_health.Health(
        _H.PROGRESSING,
        f"waiting for {where} to bind a volume (a WaitForFirstConsumer class binds only once a pod uses it)",
    )
