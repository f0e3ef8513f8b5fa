"""The StatefulSet controller (``pkg/controller/statefulset``) and a tiny PVC binder.

Each sync follows ``defaultStatefulSetControl.UpdateStatefulSet``:

1. **Revisions** (``getStatefulSetRevisions``): the update revision is the ControllerRevision whose
   data (``getPatch``: the pod template with ``$patch: replace``) equals the set's; an older equal
   one is rolled forward to the next revision number, else a new ``<set>-<hash>`` is created
   (``collisionCount`` bumps the hash when a name is taken by other data). The current revision
   is ``status.currentRevision``, or the update revision on first sync.
2. **Replicas** (``updateStatefulSet``): pods ``<set>-<ordinal>`` for ordinals ``[0, replicas)``
   are created at the current revision when their ordinal is below the partition, else at the
   update revision (``newVersionedStatefulSetPod``), each with its claims
   ``<claim>-<set>-<ordinal>`` first (``createPersistentVolumeClaims``). ``OrderedReady`` (the
   default, "monotonic") creates one pod at a time and goes on only once every lower ordinal is
   Running, Ready and available; ``Parallel`` creates and deletes all at once. Failed or
   Succeeded pods are deleted and recreated.
3. **Condemned** pods (ordinal ``>= replicas``) are deleted from the highest ordinal, one at a
   time in monotonic mode and only while the others are healthy (``processCondemned``).
4. **RollingUpdate** (``updateStatefulSet``'s tail, MaxUnavailableStatefulSet being alpha and off
   in 1.32): the highest-ordinal pod not at the update revision, down to the partition, is
   deleted once all pods above it are available; it comes back at the update revision.
   ``OnDelete`` only recreates pods that someone else deleted, at the update revision.
5. **Status** (``updateStatefulSetStatus``/``completeRollingUpdate``): counts from the pods; once
   every replica is updated and ready the update revision becomes the current one.
6. **History** (``truncateHistory``): revisions used by no pod and by neither status revision are
   deleted, oldest first, beyond ``revisionHistoryLimit``.

Differences from the real controller: orphan pods and revisions are not adopted, and no Events
are recorded.

:class:`ClaimBinder` stands in for the PersistentVolume controller and a dynamic provisioner:
every Pending claim becomes ``Bound`` with the capacity it requests (no PersistentVolume objects).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gitops.localcluster import errors
from gitops.localcluster.controllers import podstate, revisions
from gitops.localcluster.controllers.manager import Context, Controller, Key
from gitops.localcluster.controllers.wakeups import Wakeups
from gitops.localcluster.selectors import SelectorError, label_selector_from_meta
from gitops.localcluster.store import Event

Obj = dict[str, Any]

API_VERSION = "apps/v1"
KIND = "StatefulSet"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"  # apps.StatefulSetPodNameLabel
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"  # apps.PodIndexLabel (PodIndexLabel is beta, on)

_ORDINAL = re.compile(r"(.*)-([0-9]+)$")  # statefulPodRegex
_INT32_MAX = 2**31 - 1


def parent_and_ordinal(name: str) -> tuple[str, int]:
    """``getParentNameAndOrdinal``: ("", -1) for a name without a trailing ordinal."""
    match = _ORDINAL.match(name)
    if match is None:
        return "", -1
    ordinal = int(match.group(2))
    return match.group(1), ordinal if ordinal <= _INT32_MAX else -1


def ordinal_of(pod: Obj) -> int:
    return parent_and_ordinal(str(podstate.meta(pod).get("name", "")))[1]


def claim_name(claim_template: Obj, set_name: str, ordinal: int) -> str:
    """``getPersistentVolumeClaimName``."""
    return f"{podstate.meta(claim_template).get('name', '')}-{set_name}-{ordinal}"


def is_created(pod: Obj) -> bool:
    """``isCreated``: the API server has it (a pod the controller is about to create has no phase)."""
    return podstate.phase(pod) != ""


def is_running_and_ready(pod: Obj) -> bool:
    return podstate.phase(pod) == "Running" and podstate.is_ready(pod)


def is_unavailable(pod: Obj, min_ready_seconds: int, now: float) -> bool:
    """``isUnavailable``: not available, or terminating."""
    return not podstate.is_available(pod, min_ready_seconds, now) or podstate.is_terminating(pod)


def pod_revision(pod: Obj) -> str:
    return podstate.labels(pod).get(revisions.REVISION_LABEL, "")


@dataclass
class _Status:
    """The status fields ``updateStatefulSet`` computes."""

    observed_generation: int
    current_revision: str
    update_revision: str
    collision_count: int
    replicas: int = 0
    ready: int = 0
    available: int = 0
    current: int = 0
    updated: int = 0

    def count(self, pods: Iterable[Obj], min_ready_seconds: int, now: float) -> None:
        """``updateStatus``/``computeReplicaStatus`` over every pod list given."""
        self.replicas = self.ready = self.available = self.current = self.updated = 0
        for pod in pods:
            created = is_created(pod)
            if created:
                self.replicas += 1
            if is_running_and_ready(pod):
                self.ready += 1
                if podstate.is_available(pod, min_ready_seconds, now):
                    self.available += 1
            if created and not podstate.is_terminating(pod):
                revision = pod_revision(pod)
                if revision == self.current_revision:
                    self.current += 1
                if revision == self.update_revision:
                    self.updated += 1

    def to_dict(self, old: Obj) -> Obj:
        """The status as the apps/v1 JSON prints it (omitempty fields left out at zero)."""
        out: Obj = {}
        if self.observed_generation:
            out["observedGeneration"] = self.observed_generation
        out["replicas"] = self.replicas
        for key, value in (
            ("readyReplicas", self.ready),
            ("currentReplicas", self.current),
            ("updatedReplicas", self.updated),
        ):
            if value:
                out[key] = value
        if self.current_revision:
            out["currentRevision"] = self.current_revision
        if self.update_revision:
            out["updateRevision"] = self.update_revision
        out["collisionCount"] = self.collision_count
        if old.get("conditions"):
            out["conditions"] = copy.deepcopy(old["conditions"])
        out["availableReplicas"] = self.available
        return out


def _retention(sts: Obj) -> tuple[str, str]:
    """``getPersistentVolumeClaimRetentionPolicy``: (whenDeleted, whenScaled)."""
    policy = (sts.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
    return str(policy.get("whenDeleted") or "Retain"), str(policy.get("whenScaled") or "Retain")


def _in_range(pod: Obj, replicas: int, start: int) -> bool:
    ordinal = ordinal_of(pod)
    return start <= ordinal < start + replicas


class StatefulSetController(Controller):
    name = "statefulset-controller"
    watches = (("apps", "statefulsets"), ("", "pods"), ("apps", "controllerrevisions"))

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.sets = ctx.rt("apps", "statefulsets")
        self.pods = ctx.rt("", "pods")
        self.revisions = ctx.rt("apps", "controllerrevisions")
        self.claims = ctx.rt("", "persistentvolumeclaims")
        self._wakeups = Wakeups()
        self._again: float | None = None

    def keys_for(self, event: Event) -> Iterable[Key]:
        if event.plural == "statefulsets":
            return [podstate.object_key(event.obj)]
        key = podstate.controller_key(event.obj, API_VERSION, KIND)
        return [key] if key is not None else []

    # ------------------------------------------------------------------------ sync

    def reconcile(self, key: Key) -> float | None:
        namespace, name = podstate.split_key(key)
        now = self.ctx.now()
        self._wakeups.seen(key, now)
        sts = self.ctx.get("apps", "statefulsets", namespace, name)
        if sts is None:
            self._wakeups.forget(key)
            return None
        spec = sts.get("spec") or {}
        try:
            selector = label_selector_from_meta(spec.get("selector"))
        except SelectorError:
            return None
        pods = [
            p
            for p in self.ctx.dependents(sts, "", "pods")
            if podstate.is_controlled_by(p, sts)
            and selector.matches(podstate.labels(p))
            and parent_and_ordinal(str(podstate.meta(p).get("name", "")))[0] == name
        ]
        history = sorted(
            (
                r
                for r in self.ctx.dependents(sts, "apps", "controllerrevisions")
                if podstate.is_controlled_by(r, sts)
            ),
            key=revisions.sort_key,
        )
        current, update, collision_count = self._revisions(sts, history)
        self._again = None
        status = self._update(sts, current, update, collision_count, pods, now)
        self._write_status(sts, status)
        self._truncate_history(sts, pods, history, current, update)
        min_ready = int(spec.get("minReadySeconds") or 0)
        waits = [w + 0.01 for p in pods if (w := podstate.available_in(p, min_ready, now)) is not None]
        if self._again is not None:
            waits.append(self._again)
        return self._wakeups.after(key, now + min(waits) if waits else None, now)

    # ------------------------------------------------------------------- revisions

    def _revisions(self, sts: Obj, history: list[Obj]) -> tuple[Obj, Obj, int]:
        """``getStatefulSetRevisions``: (current, update, collisionCount)."""
        status = sts.get("status") or {}
        collision_count = int(status.get("collisionCount") or 0)
        data = revisions.template_patch(sts)
        candidate = revisions.new_revision(
            sts, API_VERSION, KIND, data, revisions.next_revision(history), collision_count
        )
        equal = [r for r in history if revisions.equal_revision(r, candidate)]
        if equal and revisions.equal_revision(history[-1], equal[-1]):
            update = history[-1]
        elif equal:
            # Rolling back to an earlier template: give that revision the next number.
            update = equal[-1]
            if int(update.get("revision") or 0) != candidate["revision"]:
                body = {**update, "revision": candidate["revision"]}
                update = self.ctx.api.update(
                    self.revisions,
                    podstate.meta(update)["namespace"],
                    podstate.meta(update)["name"],
                    body,
                    self.opts,
                ).obj
        else:
            update, collision_count = self._create_revision(sts, candidate, collision_count)
        current = next(
            (r for r in history if podstate.meta(r).get("name") == status.get("currentRevision")), update
        )
        return current, update, collision_count

    def _create_revision(self, sts: Obj, revision: Obj, collision_count: int) -> tuple[Obj, int]:
        """``history.CreateControllerRevision``: probe names until one is free or holds the
        same data."""
        namespace = podstate.meta(sts).get("namespace", "")
        while True:
            hash_ = revisions.hash_revision(revision["data"], collision_count)
            body = copy.deepcopy(revision)
            body["metadata"]["name"] = revisions.revision_name(podstate.meta(sts)["name"], hash_)
            try:
                return self.ctx.api.create(self.revisions, namespace, body, self.opts).obj, collision_count
            except errors.StatusError as err:
                if err.code != 409:
                    raise
                exists = self.ctx.get("apps", "controllerrevisions", namespace, body["metadata"]["name"])
                if exists is None:
                    raise
                if revisions.go_json(exists.get("data")) == revisions.go_json(revision["data"]):
                    return exists, collision_count
                collision_count += 1

    def _truncate_history(
        self, sts: Obj, pods: list[Obj], history: list[Obj], current: Obj, update: Obj
    ) -> None:
        """``truncateHistory``: drop non-live revisions beyond ``revisionHistoryLimit``."""
        live = {podstate.meta(current).get("name"), podstate.meta(update).get("name")}
        live.update(pod_revision(p) for p in pods)
        old = [r for r in history if podstate.meta(r).get("name") not in live]
        limit = int((sts.get("spec") or {}).get("revisionHistoryLimit", 10))
        if limit < 0 or len(old) <= limit:
            return
        for rev in old[: len(old) - limit]:
            self._delete(self.revisions, rev)

    # --------------------------------------------------------------------- update

    def _template_for(self, sts: Obj, revision: Obj) -> Obj:
        """``ApplyRevision``: the set as of ``revision``."""
        return {**sts, "spec": {**(sts.get("spec") or {}), "template": revisions.template_of(revision)}}

    def _update(
        self, sts: Obj, current: Obj, update: Obj, collision_count: int, pods: list[Obj], now: float
    ) -> _Status:
        """``updateStatefulSet``: create, delete and replace pods; returns the new status."""
        spec = sts.get("spec") or {}
        sts_meta = podstate.meta(sts)
        min_ready = int(spec.get("minReadySeconds") or 0)
        current_name = str(podstate.meta(current).get("name", ""))
        update_name = str(podstate.meta(update).get("name", ""))
        current_set = self._template_for(sts, current)
        update_set = self._template_for(sts, update)
        status = _Status(int(sts_meta.get("generation") or 0), current_name, update_name, collision_count)
        status.count(pods, min_ready, now)

        replica_count = int(spec.get("replicas", 1))
        start = int((spec.get("ordinals") or {}).get("start") or 0)
        replicas: list[Obj | None] = [None] * replica_count
        condemned: list[Obj] = []
        for pod in pods:
            ordinal = ordinal_of(pod)
            if start <= ordinal < start + replica_count:
                replicas[ordinal - start] = pod
            elif ordinal >= 0:
                condemned.append(pod)
        for i in range(replica_count):
            if replicas[i] is None:
                replicas[i] = self._versioned_pod(
                    current_set, update_set, current_name, update_name, start + i
                )
        live: list[Obj] = [p for p in replicas if p is not None]
        condemned.sort(key=ordinal_of, reverse=True)

        first_unavailable: Obj | None = next((p for p in live if is_unavailable(p, min_ready, now)), None)
        if first_unavailable is None:
            first_unavailable = next(
                (p for p in reversed(condemned) if is_unavailable(p, min_ready, now)), None
            )

        if sts_meta.get("deletionTimestamp"):
            return status
        monotonic = spec.get("podManagementPolicy") != "Parallel"

        for i in range(len(live)):
            if self._process_replica(sts, update_set, monotonic, live, i, now) and monotonic:
                status.count([*live, *condemned], min_ready, now)
                return status
        for pod in condemned:
            if not self._claims_match_policy(update_set, pod, replica_count, start):
                self._update_claims_for_policy(update_set, pod, replica_count, start)
        for pod in condemned:
            if self._process_condemned(sts, first_unavailable, monotonic, pod, now) and monotonic:
                status.count([*live, *condemned], min_ready, now)
                return status
        status.count([*live, *condemned], min_ready, now)

        strategy = spec.get("updateStrategy") or {}
        if strategy.get("type") == "OnDelete":
            return status
        rolling = strategy.get("rollingUpdate")
        update_min = int((rolling or {}).get("partition") or 0)
        for target in range(len(live) - 1, update_min - 1, -1):
            pod = live[target]
            if pod_revision(pod) != update_name and not podstate.is_terminating(pod):
                self._delete(self.pods, pod)
                status.current -= 1
                return status
            if is_unavailable(pod, min_ready, now):
                return status
        return status

    def _versioned_pod(
        self, current_set: Obj, update_set: Obj, current_name: str, update_name: str, ordinal: int
    ) -> Obj:
        """``newVersionedStatefulSetPod`` (Go's ``&&``/``||`` precedence kept)."""
        spec = current_set.get("spec") or {}
        strategy = spec.get("updateStrategy") or {}
        rolling = strategy.get("rollingUpdate")
        start = int((spec.get("ordinals") or {}).get("start") or 0)
        current_replicas = int((current_set.get("status") or {}).get("currentReplicas") or 0)
        at_current = (
            strategy.get("type") == "RollingUpdate" and rolling is None and ordinal < start + current_replicas
        ) or (rolling is not None and ordinal < start + int(rolling.get("partition") or 0))
        if at_current:
            pod = self._new_pod(current_set, ordinal)
            pod["metadata"]["labels"][revisions.REVISION_LABEL] = current_name
        else:
            pod = self._new_pod(update_set, ordinal)
            pod["metadata"]["labels"][revisions.REVISION_LABEL] = update_name
        return pod

    def _new_pod(self, sts: Obj, ordinal: int) -> Obj:
        """``newStatefulSetPod``: the template, identity (``initIdentity``) and storage."""
        name = podstate.meta(sts)["name"]
        spec = sts.get("spec") or {}
        pod = podstate.pod_from_template(
            spec.get("template") or {}, name, podstate.new_controller_ref(sts, API_VERSION, KIND)
        )
        pod_name = f"{name}-{ordinal}"
        pod["metadata"].pop("generateName", None)
        pod["metadata"]["name"] = pod_name
        pod["metadata"]["namespace"] = podstate.meta(sts).get("namespace", "")
        pod_labels = pod["metadata"].setdefault("labels", {})
        pod_labels[POD_NAME_LABEL] = pod_name
        pod_labels[POD_INDEX_LABEL] = str(ordinal)
        pod["spec"]["hostname"] = pod_name
        if spec.get("serviceName"):
            pod["spec"]["subdomain"] = spec["serviceName"]
        # updateStorage: a volume per claim template, then the template's other volumes.
        templates = spec.get("volumeClaimTemplates") or []
        claim_names = {podstate.meta(c).get("name") for c in templates}
        volumes = [
            {
                "name": podstate.meta(c).get("name"),
                "persistentVolumeClaim": {"claimName": claim_name(c, name, ordinal)},
            }
            for c in templates
        ]
        volumes += [v for v in pod["spec"].get("volumes") or [] if v.get("name") not in claim_names]
        if volumes:
            pod["spec"]["volumes"] = volumes
        return pod

    def _process_replica(
        self, sts: Obj, update_set: Obj, monotonic: bool, live: list[Obj], i: int, now: float
    ) -> bool:
        """``processReplica``: True when the sync must stop here (monotonic mode)."""
        pod = live[i]
        min_ready = int((sts.get("spec") or {}).get("minReadySeconds") or 0)
        if podstate.phase(pod) in ("Failed", "Succeeded"):
            if not podstate.is_terminating(pod):
                self._delete(self.pods, pod)
            return True
        if not is_created(pod):
            if self._claim_is_stale(sts, pod):
                self._again = 1.0
                return True
            created = self._create_pod(sts, pod)
            if created is None or monotonic:
                return True
            live[i] = pod = created
        if podstate.phase(pod) == "Pending" and not self._create_claims(sts, pod):
            return True
        if podstate.is_terminating(pod) and monotonic:
            return True
        if not is_running_and_ready(pod) and monotonic:
            return True
        if not podstate.is_available(pod, min_ready, now) and monotonic:
            return True
        replicas = int((sts.get("spec") or {}).get("replicas", 1))
        start = int(((sts.get("spec") or {}).get("ordinals") or {}).get("start") or 0)
        if not self._claims_match_policy(update_set, pod, replicas, start):
            self._update_claims_for_policy(update_set, pod, replicas, start)
        if not self._identity_matches(sts, pod):
            self._update_identity(sts, pod)
        return False

    def _process_condemned(
        self, sts: Obj, first_unavailable: Obj | None, monotonic: bool, pod: Obj, now: float
    ) -> bool:
        """``processCondemned``: delete a pod beyond the replica count."""
        min_ready = int((sts.get("spec") or {}).get("minReadySeconds") or 0)
        if podstate.is_terminating(pod):
            return monotonic
        healthy = is_running_and_ready(pod) and podstate.is_available(pod, min_ready, now)
        if monotonic and pod is not first_unavailable and not healthy:
            return True
        self._delete(self.pods, pod)
        return True

    # --------------------------------------------------------------------- pods

    def _create_pod(self, sts: Obj, pod: Obj) -> Obj | None:
        """``CreateStatefulPod``: claims first, then the pod, then the claims' owner references.
        None when a claim is still being deleted."""
        if not self._create_claims(sts, pod):
            return None
        namespace = podstate.meta(sts).get("namespace", "")
        created = self.ctx.api.create(self.pods, namespace, pod, self.opts).obj
        spec = sts.get("spec") or {}
        self._update_claims_for_policy(
            sts, created, int(spec.get("replicas", 1)), int((spec.get("ordinals") or {}).get("start") or 0)
        )
        return created

    def _identity_matches(self, sts: Obj, pod: Obj) -> bool:
        """``identityMatches``."""
        m = podstate.meta(pod)
        parent, ordinal = parent_and_ordinal(str(m.get("name", "")))
        return (
            ordinal >= 0
            and parent == podstate.meta(sts).get("name")
            and m.get("namespace") == podstate.meta(sts).get("namespace")
            and podstate.labels(pod).get(POD_NAME_LABEL) == m.get("name")
        )

    def _update_identity(self, sts: Obj, pod: Obj) -> None:
        """``updateIdentity`` for a live pod: its name and index labels."""
        m = podstate.meta(pod)
        new_labels = {
            **podstate.labels(pod),
            POD_NAME_LABEL: m["name"],
            POD_INDEX_LABEL: str(ordinal_of(pod)),
        }
        body = {**pod, "metadata": {**m, "labels": new_labels}}
        self.ctx.api.update(self.pods, m.get("namespace", ""), m["name"], body, self.opts)

    def _delete(self, rt: Any, obj: Obj) -> None:
        m = podstate.meta(obj)
        try:
            self.ctx.api.delete(rt, m.get("namespace", ""), m["name"], {})
        except errors.StatusError as err:
            if err.code != 404:
                raise

    # -------------------------------------------------------------------- claims

    def _claims_for(self, sts: Obj, ordinal: int) -> list[Obj]:
        """``getPersistentVolumeClaims``: the claims a pod of ``ordinal`` mounts."""
        spec = sts.get("spec") or {}
        sts_meta = podstate.meta(sts)
        selector_labels = (spec.get("selector") or {}).get("matchLabels") or {}
        out = []
        for template in spec.get("volumeClaimTemplates") or []:
            tmeta = podstate.meta(template)
            claim_meta: Obj = {
                "name": claim_name(template, sts_meta["name"], ordinal),
                "namespace": sts_meta.get("namespace", ""),
                "labels": {**(tmeta.get("labels") or {}), **selector_labels},
            }
            if tmeta.get("annotations"):
                claim_meta["annotations"] = dict(tmeta["annotations"])
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": claim_meta,
                    "spec": copy.deepcopy(template.get("spec") or {}),
                }
            )
        return out

    def _create_claims(self, sts: Obj, pod: Obj) -> bool:
        """``createPersistentVolumeClaims``: create the missing ones. False when a claim is
        being deleted: the pod waits until it is gone (the sync is retried in a second)."""
        namespace = podstate.meta(sts).get("namespace", "")
        ready = True
        for claim in self._claims_for(sts, ordinal_of(pod)):
            existing = self.ctx.get("", "persistentvolumeclaims", namespace, claim["metadata"]["name"])
            if existing is None:
                try:
                    self.ctx.api.create(self.claims, namespace, claim, self.opts)
                except errors.StatusError as err:
                    if err.code != 409:
                        raise
            elif podstate.is_terminating(existing):
                ready = False
        if not ready:
            self._again = 1.0
        return ready

    def _claim_is_stale(self, sts: Obj, pod: Obj) -> bool:
        """``PodClaimIsStale``: a claim still owned by an earlier pod of this name waits for the
        garbage collector (the pod about to be created has no uid yet, so any Pod owner is old)."""
        namespace = podstate.meta(sts).get("namespace", "")
        pod_name = podstate.meta(pod).get("name")
        for claim in self._claims_for(sts, ordinal_of(pod)):
            existing = self.ctx.get("", "persistentvolumeclaims", namespace, claim["metadata"]["name"])
            if existing is None:
                continue
            for ref in podstate.meta(existing).get("ownerReferences") or []:
                if ref.get("kind") == "Pod" and ref.get("name") == pod_name:
                    return True
        return False

    def _wanted_refs(self, sts: Obj, pod: Obj, replicas: int, start: int) -> list[Obj]:
        """``updateClaimOwnerRefForSetAndPod``: the owner references the retention policy asks
        for (the set when deleting it deletes claims, the pod when scaling down does)."""
        when_deleted, when_scaled = _retention(sts)
        scaled_down = not _in_range(pod, replicas, start)
        refs = []
        if when_deleted == "Delete" and not (when_scaled == "Delete" and scaled_down):
            refs.append(podstate.new_controller_ref(sts, API_VERSION, KIND))
        if when_scaled == "Delete" and scaled_down and podstate.meta(pod).get("uid"):
            refs.append(podstate.new_controller_ref(pod, "v1", "Pod"))
        return refs

    def _claims_match_policy(self, sts: Obj, pod: Obj, replicas: int, start: int) -> bool:
        """``ClaimsMatchRetentionPolicy``/``isClaimOwnerUpToDate``."""
        return not self._claims_to_fix(sts, pod, replicas, start)

    def _claims_to_fix(self, sts: Obj, pod: Obj, replicas: int, start: int) -> list[Obj]:
        namespace = podstate.meta(sts).get("namespace", "")
        ours = {podstate.meta(sts).get("uid"), podstate.meta(pod).get("uid")}
        wanted = self._wanted_refs(sts, pod, replicas, start)
        wanted_uids = {r["uid"] for r in wanted}
        out = []
        for claim in self._claims_for(sts, ordinal_of(pod)):
            existing = self.ctx.get("", "persistentvolumeclaims", namespace, claim["metadata"]["name"])
            if existing is None:
                continue
            refs = podstate.meta(existing).get("ownerReferences") or []
            have = {r.get("uid") for r in refs if r.get("uid") in ours}
            if have != wanted_uids:
                out.append(existing)
        return out

    def _update_claims_for_policy(self, sts: Obj, pod: Obj, replicas: int, start: int) -> None:
        """``UpdatePodClaimForRetentionPolicy``."""
        ours = {podstate.meta(sts).get("uid"), podstate.meta(pod).get("uid")}
        wanted = self._wanted_refs(sts, pod, replicas, start)
        for claim in self._claims_to_fix(sts, pod, replicas, start):
            m = podstate.meta(claim)
            refs = [r for r in m.get("ownerReferences") or [] if r.get("uid") not in ours] + wanted
            new_meta = {**m, "ownerReferences": refs}
            if not refs:
                new_meta.pop("ownerReferences")
            self.ctx.api.update(
                self.claims, m.get("namespace", ""), m["name"], {**claim, "metadata": new_meta}, self.opts
            )

    # -------------------------------------------------------------------- status

    def _write_status(self, sts: Obj, status: _Status) -> None:
        """``updateStatefulSetStatus``: complete a finished rolling update, then write the
        status when it changed."""
        spec = sts.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        if (
            (spec.get("updateStrategy") or {}).get("type") == "RollingUpdate"
            and status.updated == replicas
            and status.ready == replicas
            and status.replicas == replicas
        ):
            status.current = status.updated
            status.current_revision = status.update_revision
        old = sts.get("status") or {}
        new = status.to_dict(old)
        if new == old:
            return
        m = podstate.meta(sts)
        self.ctx.api.update(
            self.sets, m["namespace"], m["name"], {**sts, "status": new}, self.opts, subresource="status"
        )


class ClaimBinder(Controller):
    """Binds every Pending PersistentVolumeClaim at once, as a dynamic provisioner would: phase
    ``Bound``, the requested access modes and the requested storage as capacity."""

    name = "persistentvolume-binder-controller"
    watches = (("", "persistentvolumeclaims"),)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.claims = ctx.rt("", "persistentvolumeclaims")

    def keys_for(self, event: Event) -> Iterable[Key]:
        if event.type == "DELETED" or (event.obj.get("status") or {}).get("phase") == "Bound":
            return []
        return [podstate.object_key(event.obj)]

    def reconcile(self, key: Key) -> float | None:
        namespace, name = podstate.split_key(key)
        claim = self.ctx.get("", "persistentvolumeclaims", namespace, name)
        if claim is None or podstate.is_terminating(claim):
            return None
        status = claim.get("status") or {}
        if status.get("phase") == "Bound":
            return None
        spec = claim.get("spec") or {}
        new_status: Obj = {**status, "phase": "Bound"}
        if spec.get("accessModes"):
            new_status["accessModes"] = list(spec["accessModes"])
        storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        if storage is not None:
            new_status["capacity"] = {"storage": storage}
        self.ctx.api.update(
            self.claims, namespace, name, {**claim, "status": new_status}, self.opts, subresource="status"
        )
        return None


CONTROLLERS = [StatefulSetController, ClaimBinder]
