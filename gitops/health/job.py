"""Job health: ``Complete`` is Healthy, ``Failed`` (or ``FailureTarget``) is Degraded.

While it runs it is Progressing, unless a pod is past the fail-fast threshold
(:mod:`gitops.health.pods`): an image that never pulls does not count toward ``backoffLimit``, so
the Job would otherwise wait forever. Failed pods of a running Job are not: retrying them is
the Job's business, up to ``backoffLimit``. A suspended Job is Progressing and says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitops.health import pods as pods_
from gitops.health import registry
from gitops.model import health as model_health

_H = model_health.HealthState


@registry.register("batch", "Job")
def check(obj: Mapping[str, Any], pods: Sequence[Mapping[str, Any]] = ()) -> model_health.Health:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    succeeded = int(status.get("succeeded") or 0)
    failed = int(status.get("failed") or 0)
    if pods_.condition_true(obj, "Complete") is not None:
        return model_health.Health(_H.HEALTHY, f"it completed with {pods_.count(succeeded, 'succeeded pod')}")
    failure = pods_.condition_true(obj, "Failed") or pods_.condition_true(obj, "FailureTarget")
    if failure is not None:
        return model_health.Health(
            _H.DEGRADED,
            f"it failed after {pods_.count(failed, 'failed pod')} ({failure.get('reason')}: {failure.get('message')})",
        )
    if spec.get("suspend"):
        return model_health.Health(_H.PROGRESSING, "it is suspended (spec.suspend is true)")
    completions = spec.get("completions")
    target = f"{succeeded} of {completions}" if completions is not None else f"{succeeded}"
    running = f"{pods_.count(int(status.get('active') or 0), 'pod')} running, {target} succeeded"
    if failed:
        running += f", {failed} failed (backoffLimit {spec.get('backoffLimit', 6)})"
    return pods_.fail_fast(running, pods, _H.PROGRESSING)
