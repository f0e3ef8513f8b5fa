"""The Deployment controller's arithmetic and bookkeeping, as functions of objects (pure).

Mirrors ``pkg/controller/deployment/util/deployment_util.go`` and the few helpers of
``pkg/controller/controller_utils.go`` the controller uses (Kubernetes 1.32): fenceposts
(``maxSurge``/``maxUnavailable``), the pod-template hash, revisions and the annotations carried
between a Deployment and its ReplicaSets, proportional scaling, conditions, and the status a
Deployment reports. Objects are the API's JSON dicts; every function here either only reads
them or, where its Go namesake mutates its argument, mutates the *copy* the caller passes and
says so. No function reads the clock: times come in as arguments.

The controller that uses them (``deployment.py``) is the I/O side.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

import orjson

from gitops.localcluster import clock

Obj = dict[str, Any]

# Annotations and labels (``deployment_util.go``, ``apps/v1/types.go``).
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
ROLLBACK_TO = "deprecated.deployment.rollback.to"  # apps.DeprecatedRollbackTo
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
HASH_LABEL = "pod-template-hash"  # apps.DefaultDeploymentUniqueLabelKey

# sync.go maxRevHistoryLengthInChars: the revision-history annotation keeps ~100 entries.
MAX_REV_HISTORY_CHARS = 2000

# math.MaxInt32 in progressDeadlineSeconds / revisionHistoryLimit means "no limit".
_MAX_INT32 = 2**31 - 1

# Annotations never copied from a Deployment to its ReplicaSets (annotationsToSkip).
_ANNOTATIONS_TO_SKIP = frozenset(
    {LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, ROLLBACK_TO}
)

# k8s.io/apimachinery/pkg/util/rand: the alphabet of SafeEncodeString (no vowels, no 0/1/3).
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


class Reason(StrEnum):
    """Reasons of Deployment conditions (``deployment_util.go``)."""

    REPLICA_SET_UPDATED = "ReplicaSetUpdated"
    FAILED_RS_CREATE = "ReplicaSetCreateError"
    NEW_REPLICA_SET = "NewReplicaSetCreated"
    FOUND_NEW_RS = "FoundNewReplicaSet"
    NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
    TIMED_OUT = "ProgressDeadlineExceeded"
    PAUSED = "DeploymentPaused"
    RESUMED = "DeploymentResumed"
    MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable"
    MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable"


AVAILABLE = "Available"
PROGRESSING = "Progressing"
REPLICA_FAILURE = "ReplicaFailure"


# --------------------------------------------------------------------------- accessors


def name_of(obj: Obj) -> str:
    return str(obj["metadata"]["name"])


def spec_replicas(obj: Obj) -> int:
    """``*spec.replicas``: the API defaults it to 1 for Deployments and ReplicaSets."""
    return int((obj.get("spec") or {}).get("replicas", 1))


def status_count(obj: Obj, field: str) -> int:
    """A status counter; Go omits zeros, so missing means 0."""
    return int((obj.get("status") or {}).get(field) or 0)


def annotations_of(obj: Obj) -> dict[str, str]:
    return obj.get("metadata", {}).get("annotations") or {}


def controller_of(obj: Obj | None) -> Obj | None:
    """``metav1.GetControllerOf``: the ownerReference with ``controller: true``, or None."""
    if obj is None:
        return None
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return dict(ref)
    return None


def is_rolling_update(d: Obj) -> bool:
    return bool(d["spec"].get("strategy", {}).get("type", "RollingUpdate") == "RollingUpdate")


def has_progress_deadline(d: Obj) -> bool:
    """``HasProgressDeadline``: set and not math.MaxInt32."""
    pds = d["spec"].get("progressDeadlineSeconds")
    return pds is not None and int(pds) != _MAX_INT32


def has_revision_history_limit(d: Obj) -> bool:
    limit = d["spec"].get("revisionHistoryLimit")
    return limit is not None and int(limit) != _MAX_INT32


# ------------------------------------------------------------------------- fenceposts


def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``: ints as they are, ``"N%"`` of ``total``
    rounded up or down. Any other string is an error (validation rejects it first)."""
    if value is None:
        raise ValueError("nil value for IntOrString")
    if isinstance(value, int):
        return value
    if not value.endswith("%"):
        raise ValueError(
            f"invalid value for IntOrString: invalid type: string is not a percentage: {value!r}"
        )
    try:
        percent = int(value[:-1])
    except ValueError as exc:
        raise ValueError(f"invalid value for IntOrString: invalid value {value!r}: {exc}") from exc
    product = percent * total
    return -(-product // 100) if round_up else product // 100


def resolve_fenceposts(
    max_surge: int | str | None, max_unavailable: int | str | None, desired: int
) -> tuple[int, int]:
    """``ResolveFenceposts``: surge rounded up, unavailable rounded down (unset means 0);
    when both come to 0, unavailable is 1, "on the theory that surge might not work due to
    quota"."""
    surge = scaled_value(0 if max_surge is None else max_surge, desired, True)
    unavailable = scaled_value(0 if max_unavailable is None else max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _rolling(d: Obj) -> Obj:
    return d["spec"].get("strategy", {}).get("rollingUpdate") or {}


def max_surge(d: Obj) -> int:
    """``MaxSurge``: 0 unless the strategy is RollingUpdate."""
    if not is_rolling_update(d):
        return 0
    rolling = _rolling(d)
    return resolve_fenceposts(rolling.get("maxSurge"), rolling.get("maxUnavailable"), spec_replicas(d))[0]


def max_unavailable(d: Obj) -> int:
    """``MaxUnavailable``: 0 unless RollingUpdate with replicas, and never more than replicas."""
    replicas = spec_replicas(d)
    if not is_rolling_update(d) or replicas == 0:
        return 0
    rolling = _rolling(d)
    unavailable = resolve_fenceposts(rolling.get("maxSurge"), rolling.get("maxUnavailable"), replicas)[1]
    return min(unavailable, replicas)


# ----------------------------------------------------------------------------- hashing


def _fnv32a(data: bytes, h: int = 0x811C9DC5) -> int:
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(s: str) -> str:
    """``rand.SafeEncodeString``: each character mapped into the vowel-free alphabet."""
    return "".join(_SAFE_ALPHABET[ord(c) % len(_SAFE_ALPHABET)] for c in s)


def compute_hash(template: Obj, collision_count: int | None) -> str:
    """``controller.ComputeHash``: fnv32a of the template, then of the collision count as 8
    little-endian bytes, printed in decimal and safe-encoded (at most 10 characters).

    Go feeds the hasher a spew dump of the Go struct; we feed it the template's canonical JSON
    (sorted keys), so the strings differ from a real cluster's while keeping their properties:
    stable for a template, different after any change, and changed by ``collisionCount``.
    """
    h = _fnv32a(orjson.dumps(template, option=orjson.OPT_SORT_KEYS))
    if collision_count is not None:
        h = _fnv32a((collision_count & 0xFFFFFFFF).to_bytes(4, "little") + bytes(4), h)
    return safe_encode(str(h))


def _meta_without_hash(template: Obj) -> Obj:
    meta = dict(template.get("metadata") or {})
    labels = {k: v for k, v in (meta.pop("labels", None) or {}).items() if k != HASH_LABEL}
    if labels:
        meta["labels"] = labels
    if not meta.get("annotations"):
        meta.pop("annotations", None)
    return meta


def equal_ignore_hash(t1: Obj, t2: Obj) -> bool:
    """``EqualIgnoreHash``: pod templates equal but for the ``pod-template-hash`` label.

    ``apiequality.Semantic.DeepEqual`` treats empty and missing maps alike, so empty
    ``labels``/``annotations`` count as absent.
    """
    if _meta_without_hash(t1) != _meta_without_hash(t2):
        return False
    keys = (set(t1) | set(t2)) - {"metadata"}
    return all(t1.get(k) == t2.get(k) for k in keys)


# --------------------------------------------------------------------------- revisions


def revision(obj: Obj) -> int | None:
    """``Revision``: the revision annotation (0 when missing), None when it is not a number."""
    value = annotations_of(obj).get(REVISION)
    if value is None:
        return 0
    try:
        return int(value)
    except ValueError:
        return None


def max_revision(rss: Iterable[Obj]) -> int:
    """``MaxRevision``; replica sets whose revision does not parse are skipped."""
    return max((v for v in map(revision, rss) if v is not None), default=0)


def last_revision(rss: Iterable[Obj]) -> int:
    """``LastRevision``: the second highest revision (what ``rollout undo`` goes back to)."""
    top, second = 0, 0
    for v in map(revision, rss):
        if v is None:
            continue
        if v >= top:
            top, second = v, top
        elif v > second:
            second = v
    return second


def set_deployment_revision(d: Obj, value: str) -> bool:
    """``SetDeploymentRevision`` on the caller's copy of ``d``; True when it changed."""
    anns = d["metadata"].setdefault("annotations", {})
    if anns.get(REVISION) != value:
        anns[REVISION] = value
        return True
    return False


def _skip_copy(key: str) -> bool:
    return key in _ANNOTATIONS_TO_SKIP


def copy_deployment_annotations_to_replica_set(d: Obj, rs: Obj) -> bool:
    """``copyDeploymentAnnotationsToReplicaSet`` into the caller's copy ``rs``."""
    changed = False
    rs_anns = rs["metadata"].setdefault("annotations", {})
    for k, v in annotations_of(d).items():
        if _skip_copy(k) or rs_anns.get(k) == v:
            continue
        rs_anns[k] = v
        changed = True
    return changed


def set_deployment_annotations_to(d: Obj, rollback_to: Obj) -> None:
    """``SetDeploymentAnnotationsTo``: on a rollback the Deployment takes the old replica
    set's annotations, keeping only its own skipped ones (revision, last-applied, ...)."""
    kept = {k: v for k, v in annotations_of(d).items() if _skip_copy(k)}
    kept.update({k: v for k, v in annotations_of(rollback_to).items() if not _skip_copy(k)})
    d["metadata"]["annotations"] = kept


def set_replicas_annotations(rs: Obj, desired: int, maximum: int) -> bool:
    """``SetReplicasAnnotations`` on the caller's copy ``rs``; True when it changed."""
    anns = rs["metadata"].setdefault("annotations", {})
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(maximum))):
        if anns.get(key) != value:
            anns[key] = value
            changed = True
    return changed


def replicas_annotations_need_update(rs: Obj, desired: int, maximum: int) -> bool:
    anns = annotations_of(rs)
    return anns.get(DESIRED_REPLICAS) != str(desired) or anns.get(MAX_REPLICAS) != str(maximum)


def set_new_replica_set_annotations(
    d: Obj, rs: Obj, new_revision: str, exists: bool, history_limit_chars: int = MAX_REV_HISTORY_CHARS
) -> bool:
    """``SetNewReplicaSetAnnotations`` on the caller's copy ``rs``; True when it changed.

    Copies the Deployment's annotations, raises the revision to ``new_revision`` when it is
    lower (a rollback to this replica set moves its old revision into ``revision-history``),
    and for a replica set about to be created adds desired- and max-replicas.
    """
    changed = copy_deployment_annotations_to_replica_set(d, rs)
    anns = rs["metadata"].setdefault("annotations", {})
    had_revision = REVISION in anns
    old_revision = anns.get(REVISION, "")
    try:
        old_int = int(old_revision) if old_revision != "" else 0
    except ValueError:
        return False
    new_int = int(new_revision)
    if old_int < new_int:
        anns[REVISION] = new_revision
        changed = True
    if had_revision and old_int < new_int:
        history = anns.get(REVISION_HISTORY, "")
        old_revisions = history.split(",")
        if not old_revisions[0]:
            anns[REVISION_HISTORY] = old_revision
        else:
            total = len(history) + len(old_revision) + 1
            start = 0
            while total > history_limit_chars and start < len(old_revisions):
                total -= len(old_revisions[start]) + 1
                start += 1
            if total <= history_limit_chars:
                anns[REVISION_HISTORY] = ",".join([*old_revisions[start:], old_revision])
    if not exists and set_replicas_annotations(rs, spec_replicas(d), spec_replicas(d) + max_surge(d)):
        changed = True
    return changed


def _int_annotation(rs: Obj, key: str) -> int | None:
    value = annotations_of(rs).get(key)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def desired_replicas_annotation(rs: Obj) -> int | None:
    return _int_annotation(rs, DESIRED_REPLICAS)


# -------------------------------------------------------------------- ordering, finding


def _by_creation(a: Obj, b: Obj) -> int:
    """``ReplicaSetsByCreationTimestamp``: older first, then by name (timestamps have whole
    seconds, so replica sets made in the same second are ordered by name, as on a real
    cluster). RFC 3339 UTC strings sort chronologically."""
    ka = (a["metadata"].get("creationTimestamp") or "", a["metadata"]["name"])
    kb = (b["metadata"].get("creationTimestamp") or "", b["metadata"]["name"])
    return -1 if ka < kb else (1 if ka > kb else 0)


def by_creation(rss: Iterable[Obj]) -> list[Obj]:
    return sorted(rss, key=functools.cmp_to_key(_by_creation))


def _by_size(rss: Iterable[Obj], newer: bool) -> list[Obj]:
    """Larger first; among equals newer first (``newer``) or older first."""

    def cmp(a: Obj, b: Obj) -> int:
        ra, rb = spec_replicas(a), spec_replicas(b)
        if ra == rb:
            return _by_creation(b, a) if newer else _by_creation(a, b)
        return -1 if ra > rb else 1

    return sorted(rss, key=functools.cmp_to_key(cmp))


def by_size_newer(rss: Iterable[Obj]) -> list[Obj]:
    """``ReplicaSetsBySizeNewer``: larger first, newer first among equals."""
    return _by_size(rss, newer=True)


def by_size_older(rss: Iterable[Obj]) -> list[Obj]:
    """``ReplicaSetsBySizeOlder``: larger first, older first among equals."""
    return _by_size(rss, newer=False)


def by_revision(rss: Iterable[Obj]) -> list[Obj]:
    """``ReplicaSetsByRevision``: lower revision first; ties and unparsable ones by age."""

    def cmp(a: Obj, b: Obj) -> int:
        va, vb = revision(a), revision(b)
        if va is None or vb is None or va == vb:
            return _by_creation(a, b)
        return -1 if va < vb else 1

    return sorted(rss, key=functools.cmp_to_key(cmp))


def filter_active(rss: Iterable[Obj | None]) -> list[Obj]:
    """``controller.FilterActiveReplicaSets``: those with ``spec.replicas > 0``."""
    return [rs for rs in rss if rs is not None and spec_replicas(rs) > 0]


def find_new_replica_set(d: Obj, rss: Sequence[Obj]) -> Obj | None:
    """``FindNewReplicaSet``: the oldest replica set whose template is the Deployment's."""
    template = d["spec"]["template"]
    for rs in by_creation(rss):
        if equal_ignore_hash(rs["spec"]["template"], template):
            return rs
    return None


def find_old_replica_sets(d: Obj, rss: Sequence[Obj]) -> tuple[list[Obj], list[Obj]]:
    """``FindOldReplicaSets``: (old ones with replicas, all old ones), oldest first."""
    new = find_new_replica_set(d, rss)
    new_uid = new["metadata"].get("uid") if new is not None else None
    every = [rs for rs in by_creation(rss) if new is None or rs["metadata"].get("uid") != new_uid]
    return [rs for rs in every if spec_replicas(rs) != 0], every


def find_active_or_latest(new_rs: Obj | None, old_rss: Sequence[Obj]) -> Obj | None:
    """``FindActiveOrLatest``: the only active replica set, the newest one when none is
    active, or None when several are (then scaling is proportional)."""
    if new_rs is None and not old_rss:
        return None
    newest_first = list(reversed(by_creation(old_rss)))
    active = filter_active([*newest_first, new_rs])
    if not active:
        return new_rs if new_rs is not None else newest_first[0]
    if len(active) == 1:
        return active[0]
    return None


def set_from_replica_set_template(d: Obj, template: Obj) -> None:
    """``SetFromReplicaSetTemplate`` on the caller's copy ``d``: the template without the
    hash label."""
    new = copy.deepcopy(template)
    labels = new.get("metadata", {}).get("labels")
    if labels is not None:
        labels.pop(HASH_LABEL, None)
    d["spec"]["template"] = new


# ------------------------------------------------------------------------------- counts


def replica_count(rss: Iterable[Obj | None]) -> int:
    """``GetReplicaCountForReplicaSets``: the sum of ``spec.replicas``."""
    return sum(spec_replicas(rs) for rs in rss if rs is not None)


def actual_replica_count(rss: Iterable[Obj | None]) -> int:
    return sum(status_count(rs, "replicas") for rs in rss if rs is not None)


def ready_replica_count(rss: Iterable[Obj | None]) -> int:
    return sum(status_count(rs, "readyReplicas") for rs in rss if rs is not None)


def available_replica_count(rss: Iterable[Obj | None]) -> int:
    return sum(status_count(rs, "availableReplicas") for rs in rss if rs is not None)


def new_rs_new_replicas(d: Obj, all_rss: Iterable[Obj | None], new_rs: Obj) -> int:
    """``NewRSNewReplicas``: what the new replica set may grow to now. RollingUpdate adds at
    most ``replicas + maxSurge - Σ spec.replicas``, never past ``replicas``; Recreate goes
    straight to ``replicas``."""
    replicas = spec_replicas(d)
    if not is_rolling_update(d):
        return replicas
    surge = scaled_value(_rolling(d).get("maxSurge"), replicas, True)
    current = replica_count(all_rss)
    max_total = replicas + surge
    if current >= max_total:
        return spec_replicas(new_rs)
    scale_up = min(max_total - current, replicas - spec_replicas(new_rs))
    return spec_replicas(new_rs) + scale_up


def is_saturated(d: Obj, rs: Obj | None) -> bool:
    """``IsSaturated``: the new replica set has, wants and runs available all replicas."""
    if rs is None:
        return False
    desired = desired_replicas_annotation(rs)
    if desired is None:
        return False
    replicas = spec_replicas(d)
    return (
        spec_replicas(rs) == replicas
        and desired == replicas
        and status_count(rs, "availableReplicas") == replicas
    )


def get_proportion(rs: Obj | None, d: Obj, to_add: int, added: int) -> int:
    """``GetProportion``: this replica set's share of a scaling event, bounded by what is
    left to add (or remove)."""
    if rs is None or spec_replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _replica_set_fraction(rs, d)
    allowed = to_add - added
    if fraction is None:
        return allowed
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def scale_plan(
    d: Obj, new_rs: Obj | None, old_rss: Sequence[Obj]
) -> tuple[list[tuple[Obj, int]], str | None]:
    """What ``scale`` (sync.go) does on a scaling event or a paused Deployment, as
    (ReplicaSet, new size) pairs in the order Go writes them, and the operation.

    The operation is None where Go calls ``scaleReplicaSetAndRecordEvent`` (a ReplicaSet
    already at its size is left alone), else "up", "down" or "" where it calls
    ``scaleReplicaSet`` for every active ReplicaSet (refreshing the replicas annotations):

    - one active ReplicaSet (or none: the newest) takes ``replicas``;
    - a saturated new ReplicaSet retires every active old one;
    - otherwise, for RollingUpdate, ``replicas + maxSurge - Σ spec.replicas`` is spread over
      the active ReplicaSets in proportion to their size (largest first; newer first when
      adding, older first when removing), leftovers on the first, so a scaling event never
      hastens or slows a rollout.
    """
    replicas = spec_replicas(d)
    active_or_latest = find_active_or_latest(new_rs, old_rss)
    if active_or_latest is not None:
        return [(active_or_latest, replicas)], None
    if is_saturated(d, new_rs):
        return [(old, 0) for old in filter_active(old_rss)], None
    if not is_rolling_update(d):
        return [], None
    active = filter_active([*old_rss, new_rs])
    allowed = replicas + max_surge(d) if replicas > 0 else 0
    to_add = allowed - replica_count(active)
    operation = ""
    if to_add > 0:
        active, operation = by_size_newer(active), "up"
    elif to_add < 0:
        active, operation = by_size_older(active), "down"
    added = 0
    sizes: list[int] = []
    for rs in active:
        proportion = get_proportion(rs, d, to_add, added) if to_add != 0 else 0
        sizes.append(spec_replicas(rs) + proportion)
        added += proportion
    if active and to_add != 0:
        sizes[0] = max(0, sizes[0] + to_add - added)
    return list(zip(active, sizes, strict=True)), operation


def _round_half_away(x: float) -> int:
    """``integer.RoundToInt32``: ``math.Round``, halves away from zero."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def _replica_set_fraction(rs: Obj, d: Obj) -> int | None:
    """``getReplicaSetFraction``: ``rs`` scaled by (new max replicas / annotated max).

    None where Go divides by zero (no max-replicas annotation and a Deployment whose status
    counts no replicas): Go's result is then an overflowed float-to-int conversion, so we let
    the caller take all that is allowed instead."""
    if spec_replicas(d) == 0:
        return -spec_replicas(rs)
    deployment_replicas = spec_replicas(d) + max_surge(d)
    annotated = _int_annotation(rs, MAX_REPLICAS)
    if annotated is None:
        # No annotation: the current size; inexact, but the min/max in get_proportion bound it.
        annotated = status_count(d, "replicas")
    if annotated == 0:
        return None
    new_size = spec_replicas(rs) * deployment_replicas / annotated
    return _round_half_away(new_size) - spec_replicas(rs)


# --------------------------------------------------------------------------- conditions


def new_condition(ctype: str, status: str, reason: Reason, message: str, now: str) -> Obj:
    """``NewDeploymentCondition`` (fields in the order Go serializes them)."""
    return {
        "type": ctype,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": str(reason),
        "message": message,
    }


def get_condition(status: Obj | None, ctype: str) -> Obj | None:
    for c in (status or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return dict(c)
    return None


def set_condition(status: Obj, condition: Obj) -> None:
    """``SetDeploymentCondition`` on the caller's status copy: no change when status and
    reason are the same; ``lastTransitionTime`` kept when only the reason changes; the new
    condition replaces the old one at the end of the list."""
    current = get_condition(status, condition["type"])
    if (
        current is not None
        and current.get("status") == condition["status"]
        and current.get("reason") == condition["reason"]
    ):
        return
    condition = dict(condition)
    if current is not None and current.get("status") == condition["status"]:
        condition["lastTransitionTime"] = current.get("lastTransitionTime")
    others = [c for c in status.get("conditions") or [] if c.get("type") != condition["type"]]
    status["conditions"] = [*others, condition]


def remove_condition(status: Obj, ctype: str) -> None:
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != ctype]
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)


def replica_set_to_deployment_condition(cond: Obj) -> Obj:
    """``ReplicaSetToDeploymentCondition``: lastUpdateTime is the lastTransitionTime."""
    return {
        "type": cond.get("type"),
        "status": cond.get("status"),
        "lastUpdateTime": cond.get("lastTransitionTime"),
        "lastTransitionTime": cond.get("lastTransitionTime"),
        "reason": cond.get("reason", ""),
        "message": cond.get("message", ""),
    }


# ------------------------------------------------------------------------------- status


def calculate_status(all_rss: Sequence[Obj | None], new_rs: Obj | None, d: Obj, now: str) -> Obj:
    """``calculateStatus`` (sync.go): counts from the replica sets, conditions carried over,
    and Available set by ``available >= replicas - maxUnavailable``. Zero counts are left
    out, as Go's ``omitempty`` does."""
    available = available_replica_count(all_rss)
    unavailable = max(0, replica_count(all_rss) - available)
    counts = {
        "observedGeneration": int(d["metadata"].get("generation") or 0),
        "replicas": actual_replica_count(all_rss),
        "updatedReplicas": actual_replica_count([new_rs]),
        "readyReplicas": ready_replica_count(all_rss),
        "availableReplicas": available,
        "unavailableReplicas": unavailable,
    }
    status: Obj = {k: v for k, v in counts.items() if v}
    old = d.get("status") or {}
    if old.get("conditions"):
        status["conditions"] = [dict(c) for c in old["conditions"]]
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if available >= spec_replicas(d) - max_unavailable(d):
        cond = new_condition(
            AVAILABLE, "True", Reason.MINIMUM_REPLICAS_AVAILABLE, "Deployment has minimum availability.", now
        )
    else:
        cond = new_condition(
            AVAILABLE,
            "False",
            Reason.MINIMUM_REPLICAS_UNAVAILABLE,
            "Deployment does not have minimum availability.",
            now,
        )
    set_condition(status, cond)
    return _ordered_status(status)


_STATUS_ORDER = (
    "observedGeneration",
    "replicas",
    "updatedReplicas",
    "readyReplicas",
    "availableReplicas",
    "unavailableReplicas",
    "conditions",
    "collisionCount",
)


def _ordered_status(status: Obj) -> Obj:
    """DeploymentStatus in Go's field order, so JSON output reads as a real server's."""
    out = {k: status[k] for k in _STATUS_ORDER if k in status}
    out.update({k: v for k, v in status.items() if k not in out})
    return out


def deployment_complete(d: Obj, status: Obj) -> bool:
    """``DeploymentComplete``: every replica updated and available, no old one left, and
    the latest generation observed."""
    replicas = spec_replicas(d)
    return (
        int(status.get("updatedReplicas") or 0) == replicas
        and int(status.get("replicas") or 0) == replicas
        and int(status.get("availableReplicas") or 0) == replicas
        and int(status.get("observedGeneration") or 0) >= int(d["metadata"].get("generation") or 0)
    )


def deployment_progressing(d: Obj, new_status: Obj) -> bool:
    """``DeploymentProgressing``: more updated, ready or available replicas, or fewer old
    ones, than the Deployment's current status says."""
    old = d.get("status") or {}

    def n(s: Obj, k: str) -> int:
        return int(s.get(k) or 0)

    old_old = n(old, "replicas") - n(old, "updatedReplicas")
    new_old = n(new_status, "replicas") - n(new_status, "updatedReplicas")
    return (
        n(new_status, "updatedReplicas") > n(old, "updatedReplicas")
        or new_old < old_old
        or n(new_status, "readyReplicas") > n(old, "readyReplicas")
        or n(new_status, "availableReplicas") > n(old, "availableReplicas")
    )


def condition_updated_at(cond: Obj) -> float | None:
    """A condition's ``lastUpdateTime`` in epoch seconds (None when missing)."""
    value = cond.get("lastUpdateTime")
    return clock.parse_time(value).timestamp() if value else None


def deployment_timed_out(d: Obj, new_status: Obj, now: float) -> bool:
    """``DeploymentTimedOut``: the Progressing condition of ``new_status`` was last updated
    more than ``progressDeadlineSeconds`` before ``now`` (epoch seconds). A completed rollout
    never times out; a timed-out one stays so."""
    if not has_progress_deadline(d):
        return False
    cond = get_condition(new_status, PROGRESSING)
    if cond is None:
        return False
    if cond.get("reason") == Reason.NEW_RS_AVAILABLE:
        return False
    if cond.get("reason") == Reason.TIMED_OUT:
        return True
    last_update = condition_updated_at(cond)
    if last_update is None:
        return False
    return last_update + int(d["spec"]["progressDeadlineSeconds"]) < now
