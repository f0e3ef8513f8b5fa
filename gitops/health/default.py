"""The check for kinds with no status to wait for (ConfigMap, Secret, RBAC, ...)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitops.model import health as model_health


def check(obj: Mapping[str, Any], pods: Sequence[Mapping[str, Any]] = ()) -> model_health.Health:
    """Healthy once applied: the API server accepting the object is all there is to wait for."""
    return model_health.Health(model_health.HealthState.HEALTHY, "it has been applied")
