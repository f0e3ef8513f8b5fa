"""Pure helpers over pods and owner references shared by the workload controllers (no I/O).

They mirror kube-controller-manager's ``pkg/api/v1/pod`` (``IsPodReady``, ``IsPodAvailable``),
``pkg/controller/controller_utils.go`` (``FilterActivePods``, ``IsPodTerminating``,
``GetPodFromTemplate``) and ``apimachinery``'s ``metav1.NewControllerRef`` and
``intstr.GetScaledValueFromIntOrPercent``, over the JSON dicts the store keeps. Objects passed in
are never mutated; builders return new dicts.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Hashable
from typing import Any

from gitops.localcluster.clock import parse_time

Obj = dict[str, Any]


def split_key(key: Hashable) -> tuple[str, str]:
    """A controller's (namespace, name) work-queue key."""
    if not (isinstance(key, tuple) and len(key) == 2):
        raise TypeError(f"not a (namespace, name) key: {key!r}")
    return str(key[0]), str(key[1])


def object_key(obj: Obj) -> tuple[str, str]:
    """An object's (namespace, name) work-queue key."""
    m = meta(obj)
    return str(m.get("namespace", "")), str(m.get("name", ""))


def meta(obj: Obj) -> Obj:
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def labels(obj: Obj) -> dict[str, str]:
    value = meta(obj).get("labels")
    return value if isinstance(value, dict) else {}


def annotations_of(obj: Obj) -> dict[str, str]:
    value = meta(obj).get("annotations")
    return value if isinstance(value, dict) else {}


def phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def ready_condition(pod: Obj) -> Obj | None:
    """``GetPodReadyCondition``: the pod's Ready condition, or None."""
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond if isinstance(cond, dict) else None
    return None


def is_ready(pod: Obj) -> bool:
    """``IsPodReady``: the Ready condition is True (phase is not consulted)."""
    cond = ready_condition(pod)
    return cond is not None and cond.get("status") == "True"


def is_available(pod: Obj, min_ready_seconds: int, now: float) -> bool:
    """``IsPodAvailable``: Ready, and Ready for longer than ``min_ready_seconds`` (strictly)."""
    if not is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = ready_since(pod)
    return since is not None and since + min_ready_seconds < now


def ready_since(pod: Obj) -> float | None:
    """When the Ready condition last changed (seconds since the epoch), or None."""
    cond = ready_condition(pod)
    stamp = (cond or {}).get("lastTransitionTime")
    return parse_time(stamp).timestamp() if isinstance(stamp, str) and stamp else None


def available_in(pod: Obj, min_ready_seconds: int, now: float) -> float | None:
    """Seconds until a Ready pod becomes available (None when not Ready or already available)."""
    if min_ready_seconds <= 0 or not is_ready(pod):
        return None
    since = ready_since(pod)
    if since is None:
        return None
    left = since + min_ready_seconds - now
    return left if left >= 0 else None


def is_terminating(obj: Obj) -> bool:
    """Marked for deletion (``deletionTimestamp`` set)."""
    return bool(meta(obj).get("deletionTimestamp"))


def is_terminal(pod: Obj) -> bool:
    return phase(pod) in ("Succeeded", "Failed")


def is_active(pod: Obj) -> bool:
    """``FilterActivePods``: not terminal and not being deleted."""
    return not is_terminal(pod) and not is_terminating(pod)


def is_pod_terminating(pod: Obj) -> bool:
    """``controller.IsPodTerminating``: being deleted and not yet terminal."""
    return not is_terminal(pod) and is_terminating(pod)


def controller_ref(obj: Obj) -> Obj | None:
    """``metav1.GetControllerOf``: the owner reference with ``controller: true``."""
    for ref in meta(obj).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller") is True:
            return ref
    return None


def controller_key(obj: Obj, api_version: str, kind: str) -> tuple[str, str] | None:
    """(namespace, name) of the object's controller when it is of ``kind`` at ``api_version``'s
    group, else None (the work-queue key of the owner's controller)."""
    ref = controller_ref(obj)
    if ref is None or ref.get("kind") != kind:
        return None
    if str(ref.get("apiVersion", "")).split("/")[0] != api_version.split("/")[0]:
        return None
    return (str(meta(obj).get("namespace", "")), str(ref.get("name", "")))


def is_controlled_by(obj: Obj, owner: Obj) -> bool:
    ref = controller_ref(obj)
    return ref is not None and ref.get("uid") == meta(owner).get("uid")


def new_controller_ref(owner: Obj, api_version: str, kind: str) -> Obj:
    """``metav1.NewControllerRef``."""
    m = meta(owner)
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": m.get("name", ""),
        "uid": m.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def pods_prefix(controller_name: str) -> str:
    """``getPodsPrefix``: ``<name>-`` for generateName (a valid owner name always makes a valid
    prefix; the API server cuts it to 58 characters)."""
    return f"{controller_name}-"


def pod_from_template(template: Obj, owner_name: str, ref: Obj | None) -> Obj:
    """``GetPodFromTemplate``: labels, annotations and finalizers of the template's metadata, a
    copy of its spec, ``generateName`` from the owner, and the controller reference."""
    tmeta = template.get("metadata") or {}
    pod_meta: Obj = {"generateName": pods_prefix(owner_name)}
    for key in ("labels", "annotations"):
        if tmeta.get(key):
            pod_meta[key] = dict(tmeta[key])
    if tmeta.get("finalizers"):
        pod_meta["finalizers"] = list(tmeta["finalizers"])
    if ref is not None:
        pod_meta["ownerReferences"] = [dict(ref)]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": pod_meta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``: an int as is, or ``"N%"`` of ``total``."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ValueError(f"invalid value for IntOrString: {value!r}")
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%"):
        raise ValueError(f"invalid value for IntOrString: invalid type: string is not a percentage: {text}")
    try:
        percent = int(text[:-1])
    except ValueError as exc:
        raise ValueError(f"invalid value {text!r}: {exc}") from exc
    scaled = percent * total / 100
    return math.ceil(scaled) if round_up else math.floor(scaled)


def condition(obj: Obj, ctype: str) -> Obj | None:
    """The status condition of ``ctype``, or None."""
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == ctype:
            return cond
    return None


def condition_true(obj: Obj, ctype: str) -> bool:
    cond = condition(obj, ctype)
    return cond is not None and cond.get("status") == "True"
