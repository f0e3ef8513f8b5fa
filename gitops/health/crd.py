"""CustomResourceDefinition health: Established is Healthy; names not accepted is Degraded.

Custom resources of the CRD cannot be applied until it is Established, which is why the engine
waits for this before the next stage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitops.health import pods as pods_
from gitops.health import registry
from gitops.model import health as model_health

_H = model_health.HealthState


@registry.register("apiextensions.k8s.io", "CustomResourceDefinition")
def check(obj: Mapping[str, Any], pods: Sequence[Mapping[str, Any]] = ()) -> model_health.Health:
    conds = pods_.conditions(obj)
    names = conds.get("NamesAccepted") or {}
    if names.get("status") == "False":
        return model_health.Health(
            _H.DEGRADED, f"its names were not accepted ({names.get('reason')}: {names.get('message')})"
        )
    if pods_.condition_true(obj, "Established") is not None:
        return model_health.Health(_H.HEALTHY, "it is established and its API is served")
    return model_health.Health(_H.PROGRESSING, "waiting for the API server to establish it")
