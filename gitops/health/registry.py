"""The registry of health checkers by ``(group, kind)``, and :func:`check`, which uses it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gitops.health import default
from gitops.model import health as model_health
from gitops.model import resource

Checker = Callable[[Mapping[str, Any], Sequence[Mapping[str, Any]]], model_health.Health]
"""A pure function of the live object and its pods (empty for kinds without pods)."""

_CHECKERS: dict[tuple[str, str], Checker] = {}


def register(group: str, kind: str) -> Callable[[Checker], Checker]:
    """Decorator: make ``fn`` the checker of ``(group, kind)`` (``""`` is the core group).

    Registering a kind twice is a programming error (two modules would disagree), so it raises.
    """

    def decorate(fn: Checker) -> Checker:
        if (group, kind) in _CHECKERS:
            raise ValueError(f"a health check for {kind} in group {group!r} is already registered")
        _CHECKERS[(group, kind)] = fn
        return fn

    return decorate


def checker_for(group: str, kind: str) -> Checker:
    """The checker of ``(group, kind)``; the default (Healthy once applied) when none is registered."""
    return _CHECKERS.get((group, kind), default.check)


def check(obj: Mapping[str, Any] | None, pods: Sequence[Mapping[str, Any]] = ()) -> model_health.Health:
    """The health of ``obj``; ``None`` means it is not in the cluster (Missing).

    ``pods`` are the workload's pods, so a message can name the worst one; the engine passes
    them for Deployments, StatefulSets, DaemonSets and Jobs and may leave them empty.
    """
    if obj is None:
        return model_health.Health(model_health.HealthState.MISSING, "it does not exist in the cluster")
    meta = obj.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        finalizers = meta.get("finalizers") or []
        waiting = f"; waiting for finalizers {', '.join(map(str, finalizers))}" if finalizers else ""
        return model_health.Health(model_health.HealthState.PROGRESSING, f"it is being deleted{waiting}")
    key = resource.ResourceKey.of(obj)
    try:
        return checker_for(key.group, key.kind)(obj, pods)
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        return model_health.Health(
            model_health.HealthState.UNKNOWN, f"its status could not be read ({type(e).__name__}: {e})"
        )
