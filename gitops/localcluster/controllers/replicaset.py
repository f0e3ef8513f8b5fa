"""The ReplicaSet controller (``pkg/controller/replicaset/replica_set.go``; I/O via the Api).

Each sync of a ReplicaSet, as ``syncReplicaSet`` does:

1. **Claim** (``ControllerRefManager.ClaimPods``): of the active pods of the namespace (not
   terminal, not being deleted), keep those whose controller reference is this ReplicaSet and
   that match its selector; **release** owned pods that no longer match (strategic merge patch
   deleting the owner reference); **adopt** matching orphans (a patch adding a controller
   reference). A ReplicaSet being deleted neither adopts nor releases.
2. **Manage replicas** (unless being deleted): create the missing pods from the template
   (``GetPodFromTemplate``: the template's labels, annotations and finalizers, ``generateName``
   ``<rs>-``, a controller reference with ``blockOwnerDeletion``), at most 500 per sync, stopping
   at the first error; or delete the surplus, chosen by ``ActivePodsWithRanks`` (below).
3. **Status** (``calculateStatus``): ``replicas`` (the claimed active pods; terminating pods do
   not count), ``fullyLabeledReplicas`` (pods carrying every template label), ``readyReplicas``,
   ``availableReplicas`` (Ready for ``minReadySeconds``), ``observedGeneration``, and a
   ``ReplicaFailure`` condition (``FailedCreate``/``FailedDelete`` with the API error) while
   creating or deleting fails. Zero counts other than ``replicas`` are omitted, as Go's
   ``omitempty`` does. The sync runs again when a Ready pod's ``minReadySeconds`` ends.

Pods to delete first (``controller.ActivePodsWithRanks.Less`` with the 1.32 default gates
``PodDeletionCost`` and ``LogarithmicScaleDown``): unscheduled before scheduled; Pending before
Unknown before Running; not Ready before Ready; lower ``controller.kubernetes.io/pod-deletion-cost``;
more related pods (of the ReplicaSets sharing this one's owner) on the same node; Ready for less
time (compared on a log2 scale); more container restarts; created more recently (log2 scale);
then by uid.

Work is driven by events and indexes, never by scans of every pod: a pod event queues the
ReplicaSet named by its controller reference (old and new), or, for an orphan, the ReplicaSets of
its namespace whose selector matches it; an owned pod's update is ignored unless something the
status depends on changed.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from functools import cmp_to_key
from typing import Any

from gitops.localcluster import errors, selectors
from gitops.localcluster.api import NAMESPACE_TERMINATING_CAUSE
from gitops.localcluster.clock import parse_time
from gitops.localcluster.controllers import podstate
from gitops.localcluster.controllers.manager import Context, Controller, Key
from gitops.localcluster.controllers.wakeups import Wakeups
from gitops.localcluster.store import Event

Obj = dict[str, Any]


API_VERSION = "apps/v1"
KIND = "ReplicaSet"
BURST_REPLICAS = 500  # replicaset.BurstReplicas
RETRY_SECONDS = 10.0  # after a failed create or delete (simulated seconds)
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


def _selector(rs: Obj) -> selectors.LabelSelector | None:
    try:
        return selectors.label_selector_from_meta((rs.get("spec") or {}).get("selector"))
    except selectors.SelectorError:
        return None


def _is_rs_ref(ref: Obj | None) -> bool:
    return (
        ref is not None and ref.get("kind") == KIND and str(ref.get("apiVersion", "")).split("/")[0] == "apps"
    )


def _status_signature(pod: Obj | None) -> tuple[Any, ...]:
    """What a ReplicaSet's claim and status depend on."""
    if pod is None:
        return ()
    meta = pod.get("metadata") or {}
    ready = podstate.ready_condition(pod) or {}
    return (
        meta.get("labels"),
        meta.get("ownerReferences"),
        meta.get("deletionTimestamp"),
        podstate.is_terminal(pod),
        ready.get("status"),
        ready.get("lastTransitionTime"),
    )


def _time(value: Any) -> float | None:
    return parse_time(value).timestamp() if isinstance(value, str) and value else None


def _log_rank_diff(t1: float, t2: float, now: float) -> int:
    """``logarithmicRankDiff`` on durations in nanoseconds."""

    def rank(t: float) -> int:
        d = (now - t) * 1e9
        return int(math.log2(d)) if d > 0 else -1

    return rank(t1) - rank(t2)


def _deletion_cost(pod: Obj) -> int:
    try:
        return int(podstate.annotations_of(pod).get(DELETION_COST, 0))
    except (TypeError, ValueError):
        return 0


def _max_restarts(pod: Obj) -> tuple[int, int]:
    status = pod.get("status") or {}
    regular = max((int(c.get("restartCount") or 0) for c in status.get("containerStatuses") or []), default=0)
    sidecars = {
        c.get("name")
        for c in (pod.get("spec") or {}).get("initContainers") or []
        if c.get("restartPolicy") == "Always"
    }
    sidecar = max(
        (
            int(c.get("restartCount") or 0)
            for c in status.get("initContainerStatuses") or []
            if c.get("name") in sidecars
        ),
        default=0,
    )
    return regular, sidecar


def deletion_order(pods: list[Obj], related: list[Obj], now: float) -> list[Obj]:
    """``getPodsToDelete``'s sort: the pods to delete first come first."""
    on_node: dict[str, int] = {}
    for pod in related:
        if podstate.is_active(pod):
            node = str((pod.get("spec") or {}).get("nodeName") or "")
            on_node[node] = on_node.get(node, 0) + 1
    rank = {id(p): on_node.get(str((p.get("spec") or {}).get("nodeName") or ""), 0) for p in pods}

    def newer(a: Obj, b: Obj, ta: float | None, tb: float | None) -> bool:
        """The time tie-break for ``ta != tb``: an unset time first, then the later time on
        the log scale, then by uid."""
        if ta is None or tb is None:
            return ta is None
        diff = _log_rank_diff(ta, tb, now)
        if diff == 0:
            return str(podstate.meta(a).get("uid", "")) < str(podstate.meta(b).get("uid", ""))
        return diff < 0

    def less(a: Obj, b: Obj) -> bool:
        na, nb = (a.get("spec") or {}).get("nodeName") or "", (b.get("spec") or {}).get("nodeName") or ""
        if na != nb and (not na or not nb):
            return not na
        pa, pb = _PHASE_ORDINAL.get(podstate.phase(a), 0), _PHASE_ORDINAL.get(podstate.phase(b), 0)
        if pa != pb:
            return pa < pb
        ra, rb = podstate.is_ready(a), podstate.is_ready(b)
        if ra != rb:
            return not ra
        ca, cb = _deletion_cost(a), _deletion_cost(b)
        if ca != cb:
            return ca < cb
        if rank[id(a)] != rank[id(b)]:
            return rank[id(a)] > rank[id(b)]
        if ra and rb:
            ta, tb = podstate.ready_since(a), podstate.ready_since(b)
            if ta != tb:
                return newer(a, b, ta, tb)
        xa, xb = _max_restarts(a), _max_restarts(b)
        if xa[0] != xb[0]:
            return xa[0] > xb[0]
        if xa[1] != xb[1]:
            return xa[1] > xb[1]
        ta2 = _time(podstate.meta(a).get("creationTimestamp"))
        tb2 = _time(podstate.meta(b).get("creationTimestamp"))
        if ta2 != tb2:
            return newer(a, b, ta2, tb2)
        return False

    def compare(a: Obj, b: Obj) -> int:
        return -1 if less(a, b) else (1 if less(b, a) else 0)

    return sorted(pods, key=cmp_to_key(compare))


def calculate_status(
    rs: Obj, pods: list[Obj], manage_error: str, failure_reason: str, now: float, now_str: str
) -> Obj:
    """``calculateStatus`` + ``observedGeneration``, in the JSON the real server returns."""
    spec = rs.get("spec") or {}
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    min_ready = int(spec.get("minReadySeconds") or 0)
    fully = ready = available = 0
    for pod in pods:
        labels = podstate.labels(pod)
        if all(labels.get(k) == v for k, v in template_labels.items()):
            fully += 1
        if podstate.is_ready(pod):
            ready += 1
            if podstate.is_available(pod, min_ready, now):
                available += 1
    old = rs.get("status") or {}
    conditions = [c for c in old.get("conditions") or [] if c.get("type") != "ReplicaFailure"]
    failure = next((c for c in old.get("conditions") or [] if c.get("type") == "ReplicaFailure"), None)
    if manage_error and failure is None:
        conditions.append(
            {
                "type": "ReplicaFailure",
                "status": "True",
                "lastTransitionTime": now_str,
                "reason": failure_reason,
                "message": manage_error,
            }
        )
    elif manage_error and failure is not None:
        conditions = list(old.get("conditions") or [])  # SetCondition keeps an existing one
    status: Obj = {"replicas": len(pods)}
    for key, value in (
        ("fullyLabeledReplicas", fully),
        ("readyReplicas", ready),
        ("availableReplicas", available),
        ("observedGeneration", int((rs.get("metadata") or {}).get("generation") or 0)),
    ):
        if value:
            status[key] = value
    if conditions:
        status["conditions"] = conditions
    return status


class ReplicaSets(Controller):
    name = "replicaset"
    watches = (("apps", "replicasets"), ("", "pods"))

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._orphans: dict[str, set[str]] = {}  # namespace -> active pods without a controller
        # namespace -> ReplicaSet name -> selector. keys_for runs under the manager's lock and
        # must not take the store's (ctx.items would), so it keeps its own index.
        self._selectors: dict[str, dict[str, selectors.LabelSelector]] = {}
        self._wakeups = Wakeups()

    # -- which ReplicaSets an event concerns -------------------------------------------------

    def keys_for(self, event: Event) -> Iterable[Key]:
        meta = event.obj.get("metadata") or {}
        ns = str(meta.get("namespace", ""))
        if event.plural == "replicasets":
            by_name = self._selectors.setdefault(ns, {})
            selector = None if event.type == "DELETED" else _selector(event.obj)
            if selector is None:
                by_name.pop(str(meta.get("name", "")), None)
            else:
                by_name[str(meta.get("name", ""))] = selector
            return ((ns, meta.get("name", "")),)
        name = str(meta.get("name", ""))
        pod = None if event.type == "DELETED" else event.obj
        orphans = self._orphans.setdefault(ns, set())
        orphan = pod is not None and podstate.controller_ref(pod) is None and podstate.is_active(pod)
        if orphan:
            orphans.add(name)
        else:
            orphans.discard(name)
        keys: set[tuple[str, str]] = set()
        for obj in (event.obj, event.old):
            ref = podstate.controller_ref(obj) if obj is not None else None
            if _is_rs_ref(ref):
                assert ref is not None
                keys.add((ns, str(ref.get("name", ""))))
        if event.type == "MODIFIED" and keys and _status_signature(event.obj) == _status_signature(event.old):
            return ()  # e.g. a container restart: nothing a ReplicaSet shows changed
        if orphan or (event.old is not None and podstate.controller_ref(event.old) is None):
            for obj in (event.obj, event.old):
                if obj is None:
                    continue
                labels = podstate.labels(obj)
                for rs_name, selector in self._selectors.get(ns, {}).items():
                    if not selector.empty and selector.matches(labels):
                        keys.add((ns, rs_name))
        return keys

    # -- one ReplicaSet ------------------------------------------------------------------------

    def reconcile(self, key: Key) -> float | None:
        ns, name = podstate.split_key(key)
        now = self.ctx.now()
        self._wakeups.seen((ns, name), now)
        rs = self.ctx.get("apps", "replicasets", ns, name)
        if rs is None:
            self._wakeups.forget((ns, name))
            return None
        selector = _selector(rs)
        if selector is None:
            return None
        deleting = podstate.is_terminating(rs)
        pods = self._claim(rs, selector, deleting)
        manage_error, reason = "", ""
        if not deleting:
            manage_error, reason = self._manage(rs, pods, now)
        status = calculate_status(rs, pods, manage_error, reason, now, self.ctx.now_str())
        if status != (rs.get("status") or {}):
            new = copy.deepcopy(rs)
            new["status"] = status
            self.ctx.api.update(self.ctx.rt("apps", "replicasets"), ns, name, new, self.opts, "status")
        # Run again when a Ready pod becomes available.
        min_ready = int((rs.get("spec") or {}).get("minReadySeconds") or 0)
        waits = [w for w in (podstate.available_in(p, min_ready, now) for p in pods) if w is not None]
        due = now + min(waits) + 1.0 if waits else None  # lastTransitionTime has whole seconds
        if manage_error:
            # The work queue retries a failed sync with back-off; retry in a while.
            due = min(due, now + RETRY_SECONDS) if due is not None else now + RETRY_SECONDS
        return self._wakeups.after((ns, name), due, now)

    def _claim(self, rs: Obj, selector: selectors.LabelSelector, deleting: bool) -> list[Obj]:
        meta = rs["metadata"]
        ns, uid = meta["namespace"], meta["uid"]
        claimed: list[Obj] = []
        for pod in self.ctx.dependents(rs, "", "pods"):
            if not podstate.is_active(pod):
                continue
            ref = podstate.controller_ref(pod)
            if ref is None or ref.get("uid") != uid:
                continue  # owned by someone else; an orphan is handled below
            if selector.matches(podstate.labels(pod)):
                claimed.append(pod)
            elif not deleting:
                self._patch_owner(pod, {"$patch": "delete", "uid": uid})
        if deleting or selector.empty:
            return claimed
        for pod_name in sorted(self._orphans.get(ns, ())):
            orphan = self.ctx.get("", "pods", ns, pod_name)
            if (
                orphan is None
                or not podstate.is_active(orphan)
                or podstate.controller_ref(orphan) is not None
            ):
                continue
            if selector.matches(podstate.labels(orphan)):
                adopted = self._patch_owner(orphan, podstate.new_controller_ref(rs, API_VERSION, KIND))
                if adopted is not None:
                    claimed.append(adopted)
        return claimed

    def _patch_owner(self, pod: Obj, ref: Obj) -> Obj | None:
        """``AdoptPod``/``ReleasePod``: a strategic merge patch of ``ownerReferences`` carrying
        the pod's uid. Returns the patched pod, or None when it is gone."""
        meta = pod["metadata"]
        body = {"metadata": {"ownerReferences": [ref], "uid": meta.get("uid")}}
        try:
            return self.ctx.api.patch(
                self.ctx.rt("", "pods"), meta["namespace"], meta["name"], "strategic", body, self.opts
            ).obj
        except errors.StatusError as err:
            if err.code == 404:
                return None
            raise

    def _manage(self, rs: Obj, pods: list[Obj], now: float) -> tuple[str, str]:
        """``manageReplicas``: the error message and condition reason when a write failed."""
        spec = rs.get("spec") or {}
        want = int(spec.get("replicas", 1))
        diff = len(pods) - want
        meta = rs["metadata"]
        pod_rt = self.ctx.rt("", "pods")
        if diff < 0:
            ref = podstate.new_controller_ref(rs, API_VERSION, KIND)
            for _ in range(min(-diff, BURST_REPLICAS)):
                body = podstate.pod_from_template(spec.get("template") or {}, meta["name"], ref)
                try:
                    self.ctx.api.create(pod_rt, meta["namespace"], body, self.opts)
                except errors.StatusError as err:
                    causes = (err.details or {}).get("causes") or []
                    if any(c.get("reason") == NAMESPACE_TERMINATING_CAUSE for c in causes):
                        return "", ""
                    return err.message, "FailedCreate"
        elif diff > 0:
            related = self._related_pods(rs)
            for pod in deletion_order(pods, related, now)[: min(diff, BURST_REPLICAS)]:
                pmeta = pod["metadata"]
                try:
                    self.ctx.api.delete(pod_rt, pmeta["namespace"], pmeta["name"], {})
                except errors.StatusError as err:
                    if err.code != 404:
                        return err.message, "FailedDelete"
        return "", ""

    def _related_pods(self, rs: Obj) -> list[Obj]:
        """``getIndirectlyRelatedPods``: the pods of every ReplicaSet sharing this one's
        controller (a Deployment's ReplicaSets), or this one's own."""
        owner = podstate.controller_ref(rs)
        siblings = [rs]
        if owner is not None:
            siblings = [
                s
                for s in self.ctx.dependents({"metadata": {"uid": owner.get("uid")}}, "apps", "replicasets")
                if podstate.is_controlled_by(s, {"metadata": {"uid": owner.get("uid")}})
            ] or [rs]
        seen: dict[str, Obj] = {}
        for sibling in siblings:
            for pod in self.ctx.dependents(sibling, "", "pods"):
                seen.setdefault(str(pod["metadata"].get("uid")), pod)
        return list(seen.values())


CONTROLLERS = [ReplicaSets]
