"""Pod health, for pods applied directly (workloads name their pods through :mod:`gitops.health.pods`).

Running and Ready or Succeeded is Healthy, Failed is Degraded, and a waiting container is judged
by the fail-fast threshold of :mod:`gitops.health.pods`. The sentence drops the pod's own name,
which the caller already prefixes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitops.health import pods as pods_
from gitops.health import registry
from gitops.model import health as model_health


@registry.register("", "Pod")
def check(obj: Mapping[str, Any], pods: Sequence[Mapping[str, Any]] = ()) -> model_health.Health:
    ph = pods_.diagnose(obj)
    name = (obj.get("metadata") or {}).get("name") or "?"
    message = ph.detail.removeprefix(f"pod {name} ")
    return model_health.Health(ph.state, f"it {message}")
