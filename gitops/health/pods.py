"""Diagnose pods, so workload messages can name the worst pod and why it is stuck.

The fail-fast threshold
-----------------------
A pod is Degraded (and so is its workload, without waiting for a progress deadline) when a
container waits with a reason that does not fix itself by waiting: an image that cannot be
pulled (``ErrImagePull``, ``ImagePullBackOff``, ``InvalidImageName``, ``ErrImageNeverPull``),
a missing ConfigMap, Secret or key (``CreateContainerConfigError``, ``CreateContainerError``),
or a crash loop: waiting in ``CrashLoopBackOff``, or not ready after exiting with an error,
with ``restartCount >= CRASHLOOP_RESTARTS``. A first crash (restartCount 0 or 1) may be a
dependency still starting, so it is only Progressing. A pod that cannot be scheduled is
Progressing: capacity may arrive (autoscaler), and a Deployment's progress deadline turns it
Degraded if it does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitops.model import health as model_health

CRASHLOOP_RESTARTS = 2
"""Restarts after which a crashing container is a crash loop (Degraded), not a slow start."""

FATAL_WAITING_REASONS = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
        "CreateContainerError",
    }
)
"""Waiting reasons that waiting does not fix: the pod is Degraded at once."""

_H = model_health.HealthState


@dataclass(frozen=True)
class PodHealth:
    """One pod's state and a clause naming it (``pod web-7d9c-x2 is in CrashLoopBackOff``)."""

    state: model_health.HealthState
    detail: str


def conditions(obj: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """``status.conditions`` by type (the last one of a type wins, as the API keeps one)."""
    return {str(c.get("type")): c for c in (obj.get("status") or {}).get("conditions") or []}


def condition_true(obj: Mapping[str, Any], ctype: str) -> Mapping[str, Any] | None:
    """The condition ``ctype`` when its status is True, else None."""
    cond = conditions(obj).get(ctype)
    return cond if cond is not None and cond.get("status") == "True" else None


def diagnose(pod: Mapping[str, Any]) -> PodHealth:
    """The health of one pod, by the rules in the module docstring."""
    name = str((pod.get("metadata") or {}).get("name") or "?")
    status = pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return PodHealth(_H.PROGRESSING, f"pod {name} is terminating")
    if phase == "Succeeded":
        return PodHealth(_H.HEALTHY, f"pod {name} has completed")
    if phase == "Failed":
        why = status.get("reason") or _last_exit(status) or "its containers failed"
        return PodHealth(_H.DEGRADED, f"pod {name} failed ({why})")
    statuses = [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
    worst: PodHealth | None = None
    for cs in statuses:
        found = _container(name, cs)
        if found is not None and (worst is None or found.state.severity > worst.state.severity):
            worst = found
    if worst is not None:
        return worst
    scheduled = conditions(pod).get("PodScheduled")
    if scheduled is not None and scheduled.get("status") == "False":
        reason = scheduled.get("reason") or "Pending"
        message = _first_sentence(str(scheduled.get("message") or ""))
        return PodHealth(_H.PROGRESSING, f"pod {name} is {reason}" + (f": {message}" if message else ""))
    if phase == "Running" and condition_true(pod, "Ready") is not None:
        return PodHealth(_H.HEALTHY, f"pod {name} is running and ready")
    if phase == "Running":
        return PodHealth(_H.PROGRESSING, f"pod {name} is running but not ready")
    return PodHealth(_H.PROGRESSING, f"pod {name} is {phase}")


def worst(pods: Iterable[Mapping[str, Any]]) -> PodHealth | None:
    """The most severe unhealthy pod (the first in the given order on a tie), or None."""
    found: PodHealth | None = None
    for pod in pods:
        ph = diagnose(pod)
        if ph.state is not _H.HEALTHY and (found is None or ph.state.severity > found.state.severity):
            found = ph
    return found


def active(pods: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The pods that are neither terminating nor finished (what a rollout waits on)."""
    return [
        p
        for p in pods
        if not (p.get("metadata") or {}).get("deletionTimestamp")
        and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]


def _container(pod_name: str, cs: Mapping[str, Any]) -> PodHealth | None:
    state = cs.get("state") or {}
    restarts = int(cs.get("restartCount") or 0)
    waiting = state.get("waiting")
    if waiting:
        reason = str(waiting.get("reason") or "waiting")
        if reason in FATAL_WAITING_REASONS:
            return PodHealth(_H.DEGRADED, f"pod {pod_name} is in {reason}{_image(cs, reason)}")
        if reason == "CrashLoopBackOff":
            severity = _H.DEGRADED if restarts >= CRASHLOOP_RESTARTS else _H.PROGRESSING
            return PodHealth(severity, f"pod {pod_name} is in CrashLoopBackOff{_restarts(cs, restarts)}")
        return PodHealth(_H.PROGRESSING, f"pod {pod_name} is in {reason}")
    last = (cs.get("lastState") or {}).get("terminated") or {}
    if not cs.get("ready") and restarts >= CRASHLOOP_RESTARTS and last.get("exitCode"):
        # Between two back-offs a crash-looping container is briefly running: still a crash loop.
        return PodHealth(_H.DEGRADED, f"pod {pod_name} is crash-looping{_restarts(cs, restarts)}")
    return None


def _image(cs: Mapping[str, Any], reason: str) -> str:
    if "Image" in reason and cs.get("image"):
        return f" (image {cs['image']})"
    return ""


def _restarts(cs: Mapping[str, Any], restarts: int) -> str:
    last = (cs.get("lastState") or {}).get("terminated") or {}
    code = f", last exit code {last['exitCode']}" if last.get("exitCode") is not None else ""
    times = "time" if restarts == 1 else "times"
    return f" (container {cs.get('name')} restarted {restarts} {times}{code})"


def _last_exit(status: Mapping[str, Any]) -> str:
    for cs in status.get("containerStatuses") or []:
        term = (cs.get("state") or {}).get("terminated") or {}
        if term.get("exitCode"):
            return f"container {cs.get('name')} exited with code {term['exitCode']}"
    return ""


def _first_sentence(text: str) -> str:
    """Scheduler messages run to several sentences; a health message is one."""
    return text.split(". ", 1)[0].rstrip(".")


def count(n: int, noun: str) -> str:
    """``1 pod``, ``3 pods``: messages are read by people."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def with_pod(message: str, pod: PodHealth | None) -> str:
    """``message`` with the worst pod's clause after a semicolon, keeping one sentence."""
    return f"{message}; {pod.detail}" if pod is not None else message


def fail_fast(
    message: str, pods: Sequence[Mapping[str, Any]], fallback: model_health.HealthState
) -> model_health.Health:
    """Degraded when a live pod is past the fail-fast threshold, else ``fallback``; names the worst pod."""
    pod = worst(active(pods))
    state = _H.DEGRADED if pod is not None and pod.state is _H.DEGRADED else fallback
    return model_health.Health(state, with_pod(message, pod))


def observed(obj: Mapping[str, Any]) -> model_health.Health | None:
    """Progressing while the controller has not yet seen the latest spec (generation), else None."""
    generation = int((obj.get("metadata") or {}).get("generation") or 0)
    seen = int((obj.get("status") or {}).get("observedGeneration") or 0)
    if generation > seen:
        return model_health.Health(
            _H.PROGRESSING,
            f"waiting for the controller to observe generation {generation} (it has seen {seen})",
        )
    return None
