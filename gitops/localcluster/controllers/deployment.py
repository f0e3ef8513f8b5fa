"""The Deployment controller: kube-controller-manager's ``deployment`` controller (I/O side).

A faithful port of ``pkg/controller/deployment/{deployment_controller,sync,rolling,recreate,
rollback,progress}.go`` (Kubernetes 1.32); each method names the Go function it follows. The
arithmetic lives in :mod:`~gitops.localcluster.controllers.deployment_util` (pure). In short,
each sync of a Deployment:

1. claims its ReplicaSets (owned ones through the owner index, orphans whose labels match by
   adoption) — never a scan of the namespace, so a sync costs O(its own ReplicaSets);
2. deleting: status only; paused: ``Progressing Unknown/DeploymentPaused`` and scaling only;
   a ``desired-replicas`` annotation on an active ReplicaSet that differs from
   ``spec.replicas`` (a scaling event): proportional scaling; otherwise a rollout step by
   strategy (RollingUpdate within ``maxSurge``/``maxUnavailable``, or Recreate);
3. writes the status and conditions, and asks to be run again at the progress deadline.

The new ReplicaSet is the one whose template equals the Deployment's; ``kubectl rollout undo``
puts an old template back, so that old ReplicaSet becomes the new one again and gets the next
revision. Writes go through :class:`~gitops.localcluster.api.Api` as
``kube-controller-manager``; objects read from the store are never mutated (copies are).

The Deployment's revision annotation is written with its status, as the real controller does
(``UpdateStatus``; ``deploymentStatusStrategy.PrepareForUpdate`` resets only spec and labels).
Should the API server keep metadata unchanged on ``/status`` writes, :meth:`_update_status`
follows up with a main-resource write of the annotations, which bumps ``generation`` (and the
next sync observes it).
"""

from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import Iterable
from typing import cast

from gitops.localcluster import errors
from gitops.localcluster.api import NAMESPACE_TERMINATING_CAUSE
from gitops.localcluster.controllers import deployment_util as du
from gitops.localcluster.controllers.deployment_util import Obj, Reason
from gitops.localcluster.controllers.manager import Context, Controller, Key
from gitops.localcluster.controllers.wakeups import Wakeups
from gitops.localcluster.resources import ResourceType
from gitops.localcluster.selectors import SelectorError, label_selector_from_meta
from gitops.localcluster.store import Event

log = logging.getLogger(__name__)

DEPLOYMENTS = ("apps", "deployments")
REPLICASETS = ("apps", "replicasets")
PODS = ("", "pods")


def _namespace_terminating(err: errors.StatusError) -> bool:
    """``errors.HasStatusCause(err, v1.NamespaceTerminatingCause)``."""
    causes = (err.details or {}).get("causes") or []
    return any(c.get("reason") == NAMESPACE_TERMINATING_CAUSE for c in causes)


def _editable(obj: Obj) -> Obj:
    """A copy of a stored object for this controller to change: new dicts for ``metadata``,
    its ``annotations`` and ``spec`` (whose keys it may replace) and a deep copy of ``status``;
    deeper parts (the pod template, ...) stay shared with the store and are only ever replaced,
    never changed in place. Deep-copying whole objects on every sync is what made this
    controller slow; the API server copies every body it receives anyway."""
    out = dict(obj)
    meta = out["metadata"] = dict(obj.get("metadata") or {})
    if meta.get("annotations") is not None:
        meta["annotations"] = dict(meta["annotations"])
    if obj.get("spec") is not None:
        out["spec"] = dict(obj["spec"])
    if obj.get("status") is not None:
        out["status"] = copy.deepcopy(obj["status"])
    return out


def _uid(obj: Obj | None) -> str | None:
    return None if obj is None else obj["metadata"].get("uid")


class DeploymentController(Controller):
    name = "deployment"
    watches = (DEPLOYMENTS, REPLICASETS, PODS)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        # namespace -> names of ReplicaSets without a controller: the candidates for adoption,
        # kept from events so that no sync has to scan a namespace.
        self._orphans: dict[str, set[str]] = {}
        self._rts: dict[tuple[str, str], ResourceType] = {}
        self._wakeups = Wakeups()

    def _rt(self, tk: tuple[str, str]) -> ResourceType:
        rt = self._rts.get(tk)
        if rt is None:
            rt = self._rts[tk] = self.ctx.rt(*tk)
        return rt

    # ------------------------------------------------------------------ events -> keys

    def keys_for(self, event: Event) -> Iterable[Key]:
        tk = (event.group, event.plural)
        if tk == DEPLOYMENTS:
            meta = event.obj["metadata"]
            return [(meta.get("namespace", ""), meta["name"])]
        if tk == REPLICASETS:
            return self._keys_for_replica_set(event)
        if event.type == "DELETED":
            return self._keys_for_deleted_pod(event.obj)
        return []

    def _resolve(self, namespace: str, ref: Obj | None) -> Obj | None:
        """``resolveControllerRef``: the Deployment a controller reference names, if its uid
        still matches."""
        if ref is None or ref.get("kind") != "Deployment":
            return None
        d = self.ctx.get(*DEPLOYMENTS, namespace, str(ref.get("name", "")))
        return d if d is not None and _uid(d) == ref.get("uid") else None

    def _key(self, d: Obj) -> Key:
        return (d["metadata"].get("namespace", ""), d["metadata"]["name"])

    def _keys_for_replica_set(self, event: Event) -> list[Key]:
        """``addReplicaSet``/``updateReplicaSet``/``deleteReplicaSet``: the owning Deployment,
        the previous owner when the controller reference changed, and for orphans every
        Deployment whose selector matches (it may adopt them)."""
        rs, meta = event.obj, event.obj["metadata"]
        ns, name = meta.get("namespace", ""), meta["name"]
        ref = du.controller_of(rs)
        orphans = self._orphans.setdefault(ns, set())
        if event.type != "DELETED" and ref is None and not meta.get("deletionTimestamp"):
            orphans.add(name)
        else:
            orphans.discard(name)
        keys: list[Key] = []
        if event.type == "DELETED":
            owner = self._resolve(ns, ref)
            return [self._key(owner)] if owner is not None else []
        old_ref = du.controller_of(event.old) if event.type == "MODIFIED" else None
        ref_changed = event.type == "MODIFIED" and old_ref != ref
        if ref_changed and old_ref is not None:
            previous = self._resolve(ns, old_ref)
            if previous is not None:
                keys.append(self._key(previous))
        if ref is not None:
            owner = self._resolve(ns, ref)
            if owner is not None:
                keys.append(self._key(owner))
            return keys
        if meta.get("deletionTimestamp"):
            return keys  # an orphan on its way out: nobody adopts it
        labels_changed = event.old is not None and (event.old["metadata"].get("labels") != meta.get("labels"))
        if event.type == "ADDED" or labels_changed or ref_changed:
            keys.extend(self._key(d) for d in self._deployments_selecting(ns, meta.get("labels") or {}))
        return keys

    def _deployments_selecting(self, namespace: str, labels: dict[str, str]) -> list[Obj]:
        """``GetDeploymentsForReplicaSet``: Deployments whose non-empty selector matches."""
        out = []
        for d in self.ctx.items(*DEPLOYMENTS, namespace):
            try:
                selector = label_selector_from_meta(d["spec"].get("selector"))
            except SelectorError:
                continue
            if not selector.empty and selector.matches(labels):
                out.append(d)
        return out

    def _keys_for_deleted_pod(self, pod: Obj) -> list[Key]:
        """``deletePod``: a Recreate Deployment waits for its old pods to be gone. (Go also
        checks that none is left before enqueueing; the sync checks that itself.)"""
        ns = pod["metadata"].get("namespace", "")
        ref = du.controller_of(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return []
        rs = self.ctx.get(*REPLICASETS, ns, str(ref.get("name", "")))
        if rs is None or _uid(rs) != ref.get("uid"):
            return []
        d = self._resolve(ns, du.controller_of(rs))
        if d is None or du.is_rolling_update(d):
            return []
        return [self._key(d)]

    # ------------------------------------------------------------------------- sync

    def reconcile(self, key: Key) -> float | None:
        namespace, name = cast(tuple[str, str], key)
        now = self.ctx.now()
        self._wakeups.seen(key, now)
        stored = self.ctx.get(*DEPLOYMENTS, namespace, name)
        if stored is None:
            self._wakeups.forget(key)
            return None  # deleted: its ReplicaSets go with it (garbage collection)
        try:
            due = self._sync_deployment(_editable(stored))
        except errors.StatusError as err:
            if _namespace_terminating(err):
                return None  # handleErr: nothing more can be created there
            raise
        # One pending progress check per Deployment, however many syncs ask for it.
        return self._wakeups.after(key, due, self.ctx.now())

    def _sync_deployment(self, d: Obj) -> float | None:
        """``syncDeployment``; returns when (simulated epoch seconds) to check the progress
        deadline again, or None."""
        if d["spec"].get("selector") == {}:
            # "This deployment is selecting all pods. A non-empty selector is required."
            status = d.setdefault("status", {})
            if int(status.get("observedGeneration") or 0) < int(d["metadata"].get("generation") or 0):
                status["observedGeneration"] = d["metadata"]["generation"]
                self._update_status(d)
            return None
        rs_list = self._get_replica_sets_for_deployment(d)
        if d["metadata"].get("deletionTimestamp"):
            self._sync_status_only(d, rs_list)
            return None
        self._check_paused_conditions(d)
        if d["spec"].get("paused"):
            self._sync(d, rs_list)
            return None
        if self._rollback_to(d) is not None:
            self._rollback(d, rs_list)
            return None
        if self._is_scaling_event(d, rs_list):
            self._sync(d, rs_list)
            return None
        if du.is_rolling_update(d):
            return self._rollout_rolling(d, rs_list)
        return self._rollout_recreate(d, rs_list)

    # ----------------------------------------------------------- claiming ReplicaSets

    def _get_replica_sets_for_deployment(self, d: Obj) -> list[Obj]:
        """``getReplicaSetsForDeployment`` (``ClaimReplicaSets``): owned ReplicaSets whose
        labels still match are kept, owned ones that stopped matching are released, orphans
        that match are adopted. Owned ones come from the owner index and orphans from the
        index kept by :meth:`keys_for`, not from listing the namespace."""
        meta = d["metadata"]
        ns, uid = meta.get("namespace", ""), meta.get("uid")
        selector = label_selector_from_meta(d["spec"].get("selector"))
        deleting = bool(meta.get("deletionTimestamp"))
        claimed: list[Obj] = []
        for rs in self.ctx.dependents(d, *REPLICASETS):
            ref = du.controller_of(rs)
            if ref is None or ref.get("uid") != uid:
                continue  # owned by someone else (or only a non-controller owner reference)
            if selector.matches(rs["metadata"].get("labels")):
                claimed.append(rs)
            elif not deleting:
                self._release(d, rs)
        if deleting:
            return claimed
        for name in sorted(self._orphans.get(ns, ())):
            orphan = self.ctx.get(*REPLICASETS, ns, name)
            if (
                orphan is None
                or du.controller_of(orphan) is not None
                or orphan["metadata"].get("deletionTimestamp")
            ):
                continue
            if selector.matches(orphan["metadata"].get("labels")):
                adopted = self._adopt(d, orphan)
                if adopted is not None:
                    claimed.append(adopted)
        return claimed

    def _owner_reference(self, d: Obj) -> Obj:
        """``metav1.NewControllerRef(d, controllerKind)``."""
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": d["metadata"]["name"],
            "uid": d["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def _adopt(self, d: Obj, rs: Obj) -> Obj | None:
        """``AdoptReplicaSet``, after ``RecheckDeletionTimestamp`` on a fresh read."""
        fresh = self.ctx.get(*DEPLOYMENTS, d["metadata"].get("namespace", ""), d["metadata"]["name"])
        if fresh is None or _uid(fresh) != _uid(d):
            raise errors.StatusError(
                409, "Conflict", f"original Deployment {d['metadata']['name']} is gone: got uid {_uid(fresh)}"
            )
        if fresh["metadata"].get("deletionTimestamp"):
            raise errors.StatusError(409, "Conflict", f"{d['metadata']['name']} has just been deleted")
        body = _editable(rs)
        body["metadata"]["ownerReferences"] = [
            *(body["metadata"].get("ownerReferences") or []),
            self._owner_reference(d),
        ]
        try:
            return self._write_rs(body)
        except errors.StatusError as err:
            if err.code == 404:
                return None
            raise

    def _release(self, d: Obj, rs: Obj) -> None:
        """``ReleaseReplicaSet``: drop our owner reference from a ReplicaSet that no longer
        matches the selector."""
        body = _editable(rs)
        refs = [r for r in body["metadata"].get("ownerReferences") or [] if r.get("uid") != _uid(d)]
        if refs:
            body["metadata"]["ownerReferences"] = refs
        else:
            body["metadata"].pop("ownerReferences", None)
        try:
            self._write_rs(body)
        except errors.StatusError as err:
            if err.code != 404:
                raise

    # ------------------------------------------------------------------------ writes

    def _write_rs(self, rs: Obj) -> Obj:
        """PUT a ReplicaSet (optimistic: its resourceVersion must be current)."""
        meta = rs["metadata"]
        return self.ctx.api.update(self._rt(REPLICASETS), meta["namespace"], meta["name"], rs, self.opts).obj

    def _update_status(self, d: Obj) -> None:
        """``UpdateStatus(d)``: status and the revision annotation; ``d`` (our working copy)
        then holds what was stored. See the module docstring for the annotation follow-up."""
        meta = d["metadata"]
        wanted = dict(meta.get("annotations") or {})
        rt = self._rt(DEPLOYMENTS)
        stored = self.ctx.api.update(
            rt, meta["namespace"], meta["name"], d, self.opts, subresource="status"
        ).obj
        if du.annotations_of(stored) != wanted:
            body = _editable(stored)
            if wanted:
                body["metadata"]["annotations"] = wanted
            else:
                body["metadata"].pop("annotations", None)
            stored = self.ctx.api.update(rt, meta["namespace"], meta["name"], body, self.opts).obj
        self._refresh(d, stored)

    def _update_deployment(self, d: Obj) -> None:
        meta = d["metadata"]
        stored = self.ctx.api.update(self._rt(DEPLOYMENTS), meta["namespace"], meta["name"], d, self.opts).obj
        self._refresh(d, stored)

    @staticmethod
    def _refresh(d: Obj, stored: Obj) -> None:
        d.clear()
        d.update(_editable(stored))

    # ------------------------------------------------------------------- sync.go

    def _sync_status_only(self, d: Obj, rs_list: list[Obj]) -> None:
        """``syncStatusOnly``: a Deployment being deleted only reports."""
        new_rs, old_rss = self._get_all_replica_sets_and_sync_revision(d, rs_list, False)
        self._sync_deployment_status([*old_rss, new_rs], new_rs, d)

    def _sync(self, d: Obj, rs_list: list[Obj]) -> None:
        """``sync``: scaling events and paused Deployments."""
        new_rs, old_rss = self._get_all_replica_sets_and_sync_revision(d, rs_list, False)
        self._scale(d, new_rs, old_rss)
        if d["spec"].get("paused") and self._rollback_to(d) is None:
            self._cleanup_deployment(old_rss, d)
        self._sync_deployment_status([*old_rss, new_rs], new_rs, d)

    def _check_paused_conditions(self, d: Obj) -> None:
        """``checkPausedConditions``: Progressing Unknown while paused and after resuming, so
        that a long pause does not count against the progress deadline."""
        if not du.has_progress_deadline(d):
            return
        status = d.setdefault("status", {})
        cond = du.get_condition(status, du.PROGRESSING)
        if cond is not None and cond.get("reason") == Reason.TIMED_OUT:
            return
        paused_cond = cond is not None and cond.get("reason") == Reason.PAUSED
        now = self.ctx.now_str()
        if d["spec"].get("paused") and not paused_cond:
            du.set_condition(
                status,
                du.new_condition(du.PROGRESSING, "Unknown", Reason.PAUSED, "Deployment is paused", now),
            )
        elif not d["spec"].get("paused") and paused_cond:
            du.set_condition(
                status,
                du.new_condition(du.PROGRESSING, "Unknown", Reason.RESUMED, "Deployment is resumed", now),
            )
        else:
            return
        self._update_status(d)

    def _get_all_replica_sets_and_sync_revision(
        self, d: Obj, rs_list: list[Obj], create: bool
    ) -> tuple[Obj | None, list[Obj]]:
        """``getAllReplicaSetsAndSyncRevision``: (new ReplicaSet or None, all old ones)."""
        _, all_old = du.find_old_replica_sets(d, rs_list)
        new_rs = self._get_new_replica_set(d, rs_list, all_old, create)
        return new_rs, all_old

    def _get_new_replica_set(
        self, d: Obj, rs_list: list[Obj], old_rss: list[Obj], create: bool
    ) -> Obj | None:
        """``getNewReplicaSet``: sync the new ReplicaSet's annotations (revision = max old + 1)
        and the Deployment's revision, or create the new ReplicaSet when ``create``."""
        existing = du.find_new_replica_set(d, rs_list)
        new_revision = str(du.max_revision(old_rss) + 1)
        status = d.setdefault("status", {})
        now = self.ctx.now_str()
        if existing is not None:
            rs_copy = _editable(existing)
            annotations_updated = du.set_new_replica_set_annotations(d, rs_copy, new_revision, True)
            min_ready = int(d["spec"].get("minReadySeconds") or 0)
            if annotations_updated or int(rs_copy["spec"].get("minReadySeconds") or 0) != min_ready:
                if min_ready:
                    rs_copy["spec"]["minReadySeconds"] = min_ready
                else:
                    rs_copy["spec"].pop("minReadySeconds", None)
                updated = self._write_rs(rs_copy)
                # Go's informer would show the update on the next sync; later steps of this
                # one see it now instead of failing on a stale resourceVersion.
                rs_list[:] = [updated if _uid(rs) == _uid(updated) else rs for rs in rs_list]
                return updated
            needs_update = du.set_deployment_revision(d, du.annotations_of(rs_copy).get(du.REVISION, ""))
            if du.has_progress_deadline(d) and du.get_condition(status, du.PROGRESSING) is None:
                msg = f'Found new replica set "{du.name_of(rs_copy)}"'
                du.set_condition(
                    status, du.new_condition(du.PROGRESSING, "True", Reason.FOUND_NEW_RS, msg, now)
                )
                needs_update = True
            if needs_update:
                self._update_status(d)
            return rs_copy
        if not create:
            return None
        return self._create_new_replica_set(d, rs_list, old_rss, new_revision)

    def _create_new_replica_set(
        self, d: Obj, rs_list: list[Obj], old_rss: list[Obj], new_revision: str
    ) -> Obj:
        """The create half of ``getNewReplicaSet``, with its hash-collision handling."""
        status = d.setdefault("status", {})
        template = copy.deepcopy(d["spec"]["template"])
        pod_hash = du.compute_hash(template, status.get("collisionCount"))
        template.setdefault("metadata", {})
        template["metadata"]["labels"] = {
            **(template["metadata"].get("labels") or {}),
            du.HASH_LABEL: pod_hash,
        }
        selector = copy.deepcopy(d["spec"]["selector"])
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), du.HASH_LABEL: pod_hash}
        name = f"{d['metadata']['name']}-{pod_hash}"
        spec: Obj = {"replicas": 0}
        if d["spec"].get("minReadySeconds"):
            spec["minReadySeconds"] = d["spec"]["minReadySeconds"]
        spec["selector"] = selector
        spec["template"] = template
        new_rs: Obj = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": d["metadata"]["namespace"],
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {},
                "ownerReferences": [self._owner_reference(d)],
            },
            "spec": spec,
        }
        spec["replicas"] = du.new_rs_new_replicas(d, [*old_rss, new_rs], new_rs)
        du.set_new_replica_set_annotations(d, new_rs, new_revision, False)
        already_exists = False
        try:
            created = self.ctx.api.create(
                self._rt(REPLICASETS), d["metadata"]["namespace"], new_rs, self.opts
            ).obj
        except errors.StatusError as err:
            if err.reason == "AlreadyExists":
                already_exists = True
                found = self.ctx.get(*REPLICASETS, d["metadata"]["namespace"], name)
                if found is None:
                    raise
                ref = du.controller_of(found)
                if (
                    ref is not None
                    and ref.get("uid") == _uid(d)
                    and du.equal_ignore_hash(d["spec"]["template"], found["spec"]["template"])
                ):
                    created = found
                else:
                    # A hash collision: bump collisionCount and let the retry pick a new name.
                    status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
                    self._update_status(d)
                    raise
            elif _namespace_terminating(err):
                raise
            else:
                if du.has_progress_deadline(d):
                    msg = f'Failed to create new replica set "{name}": {err.message}'
                    du.set_condition(
                        status,
                        du.new_condition(
                            du.PROGRESSING, "False", Reason.FAILED_RS_CREATE, msg, self.ctx.now_str()
                        ),
                    )
                    with contextlib.suppress(errors.StatusError):  # the create error is the one to report
                        self._update_status(d)
                raise
        rs_list.append(created)
        needs_update = du.set_deployment_revision(d, new_revision)
        if not already_exists and du.has_progress_deadline(d):
            msg = f'Created new replica set "{du.name_of(created)}"'
            du.set_condition(
                status,
                du.new_condition(du.PROGRESSING, "True", Reason.NEW_REPLICA_SET, msg, self.ctx.now_str()),
            )
            needs_update = True
        if needs_update:
            self._update_status(d)
        return created

    def _scale(self, d: Obj, new_rs: Obj | None, old_rss: list[Obj]) -> None:
        """``scale``: apply :func:`deployment_util.scale_plan`."""
        targets, operation = du.scale_plan(d, new_rs, old_rss)
        for rs, size in targets:
            if operation is None:
                self._scale_replica_set_and_record_event(rs, size, d)
            else:
                self._scale_replica_set(rs, size, d, operation)

    def _scale_replica_set_and_record_event(self, rs: Obj, new_scale: int, d: Obj) -> tuple[bool, Obj]:
        if du.spec_replicas(rs) == new_scale:
            return False, rs
        operation = "up" if du.spec_replicas(rs) < new_scale else "down"
        return self._scale_replica_set(rs, new_scale, d, operation)

    def _scale_replica_set(self, rs: Obj, new_scale: int, d: Obj, operation: str) -> tuple[bool, Obj]:
        """``scaleReplicaSet``: replicas plus the desired-/max-replicas annotations."""
        size_needs_update = du.spec_replicas(rs) != new_scale
        replicas = du.spec_replicas(d)
        maximum = replicas + du.max_surge(d)
        if not size_needs_update and not du.replicas_annotations_need_update(rs, replicas, maximum):
            return False, rs
        body = _editable(rs)
        body["spec"]["replicas"] = new_scale
        du.set_replicas_annotations(body, replicas, maximum)
        updated = self._write_rs(body)
        if size_needs_update:
            log.debug(
                "Deployment/%s/%s: Scaled %s replica set %s to %d from %d",
                d["metadata"]["namespace"],
                d["metadata"]["name"],
                operation,
                du.name_of(rs),
                new_scale,
                du.spec_replicas(rs),
            )
        return size_needs_update, updated

    def _cleanup_deployment(self, old_rss: list[Obj], d: Obj) -> None:
        """``cleanupDeployment``: delete the oldest scaled-down ReplicaSets beyond
        ``revisionHistoryLimit`` (only settled ones: no replicas, latest generation seen)."""
        if not du.has_revision_history_limit(d):
            return
        cleanable = [rs for rs in old_rss if not rs["metadata"].get("deletionTimestamp")]
        diff = len(cleanable) - int(d["spec"]["revisionHistoryLimit"])
        if diff <= 0:
            return
        for rs in du.by_revision(cleanable)[:diff]:
            settled = (
                du.status_count(rs, "replicas") == 0
                and du.spec_replicas(rs) == 0
                and int(rs["metadata"].get("generation") or 0) <= du.status_count(rs, "observedGeneration")
            )
            if not settled:
                continue
            try:
                self.ctx.api.delete(self._rt(REPLICASETS), rs["metadata"]["namespace"], du.name_of(rs), {})
            except errors.StatusError as err:
                if err.code != 404:
                    raise

    def _sync_deployment_status(self, all_rss: list[Obj | None], new_rs: Obj | None, d: Obj) -> None:
        """``syncDeploymentStatus``: counts and Available, without progress estimation."""
        new_status = du.calculate_status(all_rss, new_rs, d, self.ctx.now_str())
        if new_status == (d.get("status") or {}):
            return
        d["status"] = new_status
        self._update_status(d)

    def _is_scaling_event(self, d: Obj, rs_list: list[Obj]) -> bool:
        """``isScalingEvent``: an active ReplicaSet annotated for other ``desired-replicas``."""
        new_rs, old_rss = self._get_all_replica_sets_and_sync_revision(d, rs_list, False)
        replicas = du.spec_replicas(d)
        for rs in du.filter_active([*old_rss, new_rs]):
            desired = du.desired_replicas_annotation(rs)
            if desired is not None and desired != replicas:
                return True
        return False

    # ---------------------------------------------------------------- rolling.go

    def _rollout_rolling(self, d: Obj, rs_list: list[Obj]) -> float | None:
        """``rolloutRolling``: scale the new ReplicaSet up if we can, else the old ones down,
        else (complete) clean up old revisions; then the status."""
        new_rs, old_rss = self._get_all_replica_sets_and_sync_revision(d, rs_list, True)
        assert new_rs is not None
        all_rss: list[Obj | None] = [*old_rss, new_rs]
        if self._reconcile_new_replica_set(all_rss, new_rs, d):
            return self._sync_rollout_status(all_rss, new_rs, d)
        if self._reconcile_old_replica_sets(all_rss, du.filter_active(old_rss), new_rs, d):
            return self._sync_rollout_status(all_rss, new_rs, d)
        if du.deployment_complete(d, d.get("status") or {}):
            self._cleanup_deployment(old_rss, d)
        return self._sync_rollout_status(all_rss, new_rs, d)

    def _reconcile_new_replica_set(self, all_rss: list[Obj | None], new_rs: Obj, d: Obj) -> bool:
        """``reconcileNewReplicaSet``: toward ``replicas`` within ``replicas + maxSurge``."""
        replicas = du.spec_replicas(d)
        if du.spec_replicas(new_rs) == replicas:
            return False
        if du.spec_replicas(new_rs) > replicas:
            return self._scale_replica_set_and_record_event(new_rs, replicas, d)[0]
        count = du.new_rs_new_replicas(d, all_rss, new_rs)
        return self._scale_replica_set_and_record_event(new_rs, count, d)[0]

    def _reconcile_old_replica_sets(
        self, all_rss: list[Obj | None], old_rss: list[Obj], new_rs: Obj, d: Obj
    ) -> bool:
        """``reconcileOldReplicaSets``: scale old ReplicaSets down by at most
        ``Σ replicas - (replicas - maxUnavailable) - unavailable new replicas``, unhealthy
        replicas first. Errors end the step quietly, as in Go (the next sync retries)."""
        if du.replica_count(old_rss) == 0:
            return False
        all_pods = du.replica_count(all_rss)
        min_available = du.spec_replicas(d) - du.max_unavailable(d)
        new_unavailable = du.spec_replicas(new_rs) - du.status_count(new_rs, "availableReplicas")
        max_scaled_down = all_pods - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        try:
            old_rss, cleaned = self._cleanup_unhealthy_replicas(old_rss, d, max_scaled_down)
            scaled = self._scale_down_old_replica_sets_for_rolling_update([*old_rss, new_rs], old_rss, d)
        except errors.StatusError:
            return False
        return cleaned + scaled > 0

    def _cleanup_unhealthy_replicas(
        self, old_rss: list[Obj], d: Obj, max_cleanup: int
    ) -> tuple[list[Obj], int]:
        """``cleanupUnhealthyReplicas``: oldest first, drop replicas that are not available
        (the ReplicaSet controller deletes unready pods first), so they do not block."""
        old_rss = du.by_creation(old_rss)
        total = 0
        for i, rs in enumerate(old_rss):
            if total >= max_cleanup:
                break
            replicas = du.spec_replicas(rs)
            available = du.status_count(rs, "availableReplicas")
            if replicas == 0 or replicas == available:
                continue
            count = min(max_cleanup - total, replicas - available)
            _, old_rss[i] = self._scale_replica_set_and_record_event(rs, replicas - count, d)
            total += count
        return old_rss, total

    def _scale_down_old_replica_sets_for_rolling_update(
        self, all_rss: list[Obj | None], old_rss: list[Obj], d: Obj
    ) -> int:
        """``scaleDownOldReplicaSetsForRollingUpdate``: oldest first, by up to
        ``available - (replicas - maxUnavailable)``."""
        min_available = du.spec_replicas(d) - du.max_unavailable(d)
        available = du.available_replica_count(all_rss)
        if available <= min_available:
            return 0
        total, target = 0, available - min_available
        for rs in du.by_creation(old_rss):
            if total >= target:
                break
            replicas = du.spec_replicas(rs)
            if replicas == 0:
                continue
            count = min(replicas, target - total)
            self._scale_replica_set_and_record_event(rs, replicas - count, d)
            total += count
        return total

    # --------------------------------------------------------------- recreate.go

    def _rollout_recreate(self, d: Obj, rs_list: list[Obj]) -> float | None:
        """``rolloutRecreate``: old ReplicaSets to 0, wait until none of their pods runs,
        then the new ReplicaSet (created only now) straight to ``replicas``."""
        pod_map = self._pod_map(d, rs_list)
        new_rs, old_rss = self._get_all_replica_sets_and_sync_revision(d, rs_list, False)
        all_rss: list[Obj | None] = [*old_rss, new_rs]
        active_old = du.filter_active(old_rss)
        scaled_down = False
        for i, rs in enumerate(active_old):
            scaled, active_old[i] = self._scale_replica_set_and_record_event(rs, 0, d)
            scaled_down |= scaled
        if scaled_down:
            return self._sync_rollout_status(all_rss, new_rs, d)
        if self._old_pods_running(new_rs, old_rss, pod_map):
            return self._sync_rollout_status(all_rss, new_rs, d)
        if new_rs is None:
            new_rs, old_rss = self._get_all_replica_sets_and_sync_revision(d, rs_list, True)
            all_rss = [*old_rss, new_rs]
        assert new_rs is not None
        self._scale_replica_set_and_record_event(new_rs, du.spec_replicas(d), d)
        if du.deployment_complete(d, d.get("status") or {}):
            self._cleanup_deployment(old_rss, d)
        return self._sync_rollout_status(all_rss, new_rs, d)

    def _pod_map(self, d: Obj, rs_list: list[Obj]) -> dict[str, list[Obj]]:
        """``getPodMapForDeployment``: pods matching the selector, by the uid of the claimed
        ReplicaSet controlling them (from the owner index)."""
        selector = label_selector_from_meta(d["spec"].get("selector"))
        out: dict[str, list[Obj]] = {}
        for rs in rs_list:
            uid = str(_uid(rs))
            out[uid] = [
                pod
                for pod in self.ctx.dependents(rs, *PODS)
                if (du.controller_of(pod) or {}).get("uid") == uid
                and selector.matches(pod["metadata"].get("labels"))
            ]
        return out

    @staticmethod
    def _old_pods_running(new_rs: Obj | None, old_rss: list[Obj], pod_map: dict[str, list[Obj]]) -> bool:
        """``oldPodsRunning``: an old ReplicaSet reports pods, or one of its pods is not in a
        terminal phase."""
        if du.actual_replica_count(old_rss) > 0:
            return True
        new_uid = _uid(new_rs)
        for uid, pods in pod_map.items():
            if uid == new_uid:
                continue
            if any((p.get("status") or {}).get("phase") not in ("Failed", "Succeeded") for p in pods):
                return True
        return False

    # --------------------------------------------------------------- rollback.go

    @staticmethod
    def _rollback_to(d: Obj) -> int | None:
        """``getRollbackTo``: the deprecated rollbackTo revision, kept as an annotation."""
        value = du.annotations_of(d).get(du.ROLLBACK_TO)
        if not value:
            return None
        try:
            return int(value)
        except ValueError:
            return None

    def _rollback(self, d: Obj, rs_list: list[Obj]) -> None:
        """``rollback``: the extensions/v1beta1 ``rollbackTo`` (0 = the previous revision).
        ``kubectl rollout undo`` on apps/v1 patches the template instead and never gets here."""
        new_rs, all_old = self._get_all_replica_sets_and_sync_revision(d, rs_list, True)
        all_rss = [rs for rs in (*all_old, new_rs) if rs is not None]
        to_revision = self._rollback_to(d) or 0
        if to_revision == 0:
            to_revision = du.last_revision(all_rss)
            if to_revision == 0:
                log.info("Deployment/%s: Unable to find last revision.", d["metadata"]["name"])
                self._update_deployment_and_clear_rollback_to(d)
                return
        for rs in all_rss:
            if du.revision(rs) == to_revision:
                self._rollback_to_template(d, rs)
                return
        log.info("Deployment/%s: Unable to find the revision to rollback to.", d["metadata"]["name"])
        self._update_deployment_and_clear_rollback_to(d)

    def _rollback_to_template(self, d: Obj, rs: Obj) -> None:
        """``rollbackToTemplate``: the old template and its annotations back on the
        Deployment (the revision is bumped by the next sync, which finds that ReplicaSet)."""
        if not du.equal_ignore_hash(d["spec"]["template"], rs["spec"]["template"]):
            du.set_from_replica_set_template(d, rs["spec"]["template"])
            du.set_deployment_annotations_to(d, rs)
        self._update_deployment_and_clear_rollback_to(d)

    def _update_deployment_and_clear_rollback_to(self, d: Obj) -> None:
        anns = d["metadata"].get("annotations") or {}
        anns.pop(du.ROLLBACK_TO, None)
        self._update_deployment(d)

    # --------------------------------------------------------------- progress.go

    def _sync_rollout_status(self, all_rss: list[Obj | None], new_rs: Obj | None, d: Obj) -> float | None:
        """``syncRolloutStatus``: the status plus the Progressing condition (complete,
        progressing, or timed out) and ReplicaFailure copied from a ReplicaSet. Returns when
        when (epoch seconds) to check the progress deadline again (``requeueStuckDeployment``)."""
        now = self.ctx.now_str()
        new_status = du.calculate_status(all_rss, new_rs, d, now)
        if not du.has_progress_deadline(d):
            du.remove_condition(new_status, du.PROGRESSING)
        current = du.get_condition(d.get("status"), du.PROGRESSING)
        complete_before = (
            int(new_status.get("replicas") or 0) == int(new_status.get("updatedReplicas") or 0)
            and current is not None
            and current.get("reason") == Reason.NEW_RS_AVAILABLE
        )
        if du.has_progress_deadline(d) and not complete_before:
            name = (
                f'ReplicaSet "{du.name_of(new_rs)}"'
                if new_rs is not None
                else f'Deployment "{du.name_of(d)}"'
            )
            if du.deployment_complete(d, new_status):
                cond = du.new_condition(
                    du.PROGRESSING,
                    "True",
                    Reason.NEW_RS_AVAILABLE,
                    f"{name} has successfully progressed.",
                    now,
                )
                du.set_condition(new_status, cond)
            elif du.deployment_progressing(d, new_status):
                cond = du.new_condition(
                    du.PROGRESSING, "True", Reason.REPLICA_SET_UPDATED, f"{name} is progressing.", now
                )
                # Progress moves lastUpdateTime even when the reason stays the same.
                if current is not None:
                    if current.get("status") == "True":
                        cond["lastTransitionTime"] = current.get("lastTransitionTime")
                    du.remove_condition(new_status, du.PROGRESSING)
                du.set_condition(new_status, cond)
            elif du.deployment_timed_out(d, new_status, self.ctx.now()):
                cond = du.new_condition(
                    du.PROGRESSING, "False", Reason.TIMED_OUT, f"{name} has timed out progressing.", now
                )
                du.set_condition(new_status, cond)
        failures = self._replica_failures(all_rss, new_rs)
        if failures:
            du.set_condition(new_status, failures[0])
        else:
            du.remove_condition(new_status, du.REPLICA_FAILURE)
        if new_status == (d.get("status") or {}):
            return self._requeue_stuck_deployment(d, new_status)
        d["status"] = new_status
        self._update_status(d)
        return None  # our own write brings the Deployment back for the next check

    @staticmethod
    def _replica_failures(all_rss: list[Obj | None], new_rs: Obj | None) -> list[Obj]:
        """``getReplicaFailures``: the new ReplicaSet's ReplicaFailure conditions, else the
        old ones'."""

        def of(rs: Obj | None) -> list[Obj]:
            if rs is None:
                return []
            return [
                du.replica_set_to_deployment_condition(c)
                for c in (rs.get("status") or {}).get("conditions") or []
                if c.get("type") == du.REPLICA_FAILURE
            ]

        return of(new_rs) or [c for rs in all_rss for c in of(rs)]

    def _requeue_stuck_deployment(self, d: Obj, new_status: Obj) -> float | None:
        """``requeueStuckDeployment``: when (epoch seconds) the progress deadline will have
        passed, plus a second as Go adds against skew; None when there is nothing to time."""
        current = du.get_condition(d.get("status"), du.PROGRESSING)
        if not du.has_progress_deadline(d) or current is None:
            return None
        if du.deployment_complete(d, new_status) or current.get("reason") == Reason.TIMED_OUT:
            return None
        updated_at = du.condition_updated_at(current)
        if updated_at is None:
            return None
        deadline = updated_at + int(d["spec"]["progressDeadlineSeconds"])
        now = self.ctx.now()
        if deadline - now < 1:
            # Go requeues rate-limited (from 5 ms) until the deadline is strictly past.
            return max(deadline, now) + 0.005
        return deadline + 1.0


CONTROLLERS: list[type[Controller]] = [DeploymentController]

__all__ = ["CONTROLLERS", "DeploymentController"]
