"""The Job controller (``pkg/controller/job``) and the TTL-after-finished controller
(``pkg/controller/ttlafterfinished``).

Each sync follows ``Controller.syncJob`` of 1.32, where JobPodReplacementPolicy, JobManagedBy and
JobSuccessPolicy are beta and on:

- Pods are created from the template with ``generateName: <job>-``, the template's labels (the
  API server put ``batch.kubernetes.io/controller-uid``, ``batch.kubernetes.io/job-name``,
  ``controller-uid`` and ``job-name`` there) and the finalizer ``batch.kubernetes.io/job-tracking``.
  Up to ``parallelism`` run at once and never more than the completions left (``manageJob``).
  After failures, new pods wait 10 s doubled per consecutive failure, up to 10 min
  (``backoffRecord.getRemainingTime``; meanwhile ``active`` reads 0, as upstream).
- Finished pods are counted through ``status.uncountedTerminatedPods``: their uids are recorded,
  their finalizers removed, then the counters move (``trackJobStatusAndRemoveFinalizers``). A
  deleted pod that had not succeeded counts as failed (podReplacementPolicy
  ``TerminatingOrFailed``).
- More failures than ``backoffLimit`` (or, with ``restartPolicy: OnFailure``, as many container
  restarts) add ``FailureTarget`` (``BackoffLimitExceeded``), running past
  ``activeDeadlineSeconds`` adds it with ``DeadlineExceeded``; active pods are deleted and, once
  none is left terminating, ``Failed`` follows with the same reason. Enough successes add
  ``SuccessCriteriaMet`` then ``Complete`` (``CompletionsReached``) and ``completionTime``.
- ``suspend`` deletes the active pods and sets ``Suspended``; resuming resets ``startTime``.
- Jobs whose ``spec.managedBy`` names another controller are left alone.

Differences from the real controller: Indexed completion, ``podFailurePolicy``, success
policies and backoffLimitPerIndex are not implemented (an Indexed Job runs like a NonIndexed
one), orphan pods are not adopted, and no Events are recorded.

:class:`TTLAfterFinishedController` deletes a finished Job (foreground propagation, uid
precondition) ``ttlSecondsAfterFinished`` after its Complete or Failed condition.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gitops.localcluster import api, errors
from gitops.localcluster.clock import format_time, parse_time
from gitops.localcluster.controllers import podstate
from gitops.localcluster.controllers.manager import Context, Controller, Key
from gitops.localcluster.controllers.wakeups import Wakeups
from gitops.localcluster.store import Event

Obj = dict[str, Any]

API_VERSION = "batch/v1"
KIND = "Job"
TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
JOB_CONTROLLER_NAME = "kubernetes.io/job-controller"  # batch.JobControllerName (spec.managedBy)
DEFAULT_POD_FAILURE_BACKOFF = 10.0  # DefaultJobPodFailureBackOff
MAX_POD_FAILURE_BACKOFF = 600.0  # MaxJobPodFailureBackOff
MAX_UNCOUNTED_PODS = 500  # MaxUncountedPods
MAX_POD_CREATE_DELETE_PER_SYNC = 500  # MaxPodCreateDeletePerSync

_STATUS_ORDER = (
    "conditions",
    "startTime",
    "completionTime",
    "active",
    "succeeded",
    "failed",
    "terminating",
    "completedIndexes",
    "failedIndexes",
    "uncountedTerminatedPods",
    "ready",
)
_OMIT_ZERO = ("active", "succeeded", "failed")


def is_finished(job: Obj) -> bool:
    """``util.IsJobFinished``: a Complete or Failed condition is True."""
    return podstate.condition_true(job, "Complete") or podstate.condition_true(job, "Failed")


def has_finalizer(pod: Obj) -> bool:
    return TRACKING_FINALIZER in (podstate.meta(pod).get("finalizers") or [])


def only_replace_failed(job: Obj) -> bool:
    """``onlyReplaceFailedPods``."""
    spec = job.get("spec") or {}
    return spec.get("podReplacementPolicy") == "Failed" or spec.get("podFailurePolicy") is not None


def is_pod_failed(pod: Obj, job: Obj) -> bool:
    """``isPodFailed``: Failed, or (unless only failed pods are replaced) deleted unsucceeded."""
    if podstate.phase(pod) == "Failed":
        return True
    if only_replace_failed(job):
        return False
    return podstate.is_terminating(pod) and podstate.phase(pod) != "Succeeded"


def finished_time(pod: Obj) -> float:
    """``getFinishedTime``: the last container's finish, the Ready=False transition, the
    deletion time, or the creation time."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    latest: float | None = None
    for cs in statuses:
        finished = ((cs.get("state") or {}).get("terminated") or {}).get("finishedAt")
        if not finished:
            latest = None
            break
        t = parse_time(finished).timestamp()
        latest = t if latest is None else max(latest, t)
    if latest is not None and statuses:
        return latest
    ready = podstate.ready_condition(pod)
    if ready is not None and ready.get("status") == "False" and ready.get("lastTransitionTime"):
        return parse_time(ready["lastTransitionTime"]).timestamp()
    m = podstate.meta(pod)
    if m.get("deletionTimestamp"):
        return parse_time(m["deletionTimestamp"]).timestamp() - float(
            m.get("deletionGracePeriodSeconds") or 0
        )
    return parse_time(m["creationTimestamp"]).timestamp() if m.get("creationTimestamp") else 0.0


def _active_removal_order(pod: Obj) -> tuple[int, int, int, int]:
    """``controller.ActivePods`` ordering, those to delete first: unscheduled, pending, not
    ready, then the most restarted."""
    phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}.get(podstate.phase(pod), 1)
    restarts = sum(
        int(c.get("restartCount") or 0) for c in (pod.get("status") or {}).get("containerStatuses") or []
    )
    return (
        1 if (pod.get("spec") or {}).get("nodeName") else 0,
        phase_rank,
        1 if podstate.is_ready(pod) else 0,
        -restarts,
    )


@dataclass
class BackoffRecord:
    """``backoffRecord``: consecutive failures since the last success, and the last failure."""

    failures: int = 0
    last_failure: float | None = None

    def updated(self, succeeded: list[Obj], failed: list[Obj]) -> BackoffRecord:
        """``newBackoffRecord``."""
        if not succeeded and not failed:
            return self
        failed_times = sorted(finished_time(p) for p in failed)
        if not succeeded:
            return BackoffRecord(self.failures + len(failed), failed_times[-1])
        last_success = max(finished_time(p) for p in succeeded)
        record = BackoffRecord()
        for t in reversed(failed_times):
            if t <= last_success:
                break
            if record.last_failure is None:
                record.last_failure = t
            record.failures += 1
        return record

    def remaining(self, now: float) -> float:
        """``getRemainingTimeForFailuresCount``."""
        if self.failures == 0 or self.last_failure is None:
            return 0.0
        delay = DEFAULT_POD_FAILURE_BACKOFF
        for _ in range(1, self.failures):
            delay *= 2
            if delay >= MAX_POD_FAILURE_BACKOFF:
                delay = MAX_POD_FAILURE_BACKOFF
                break
        elapsed = now - self.last_failure
        return 0.0 if delay < elapsed else delay - elapsed


@dataclass
class _Sync:
    """``syncJobCtx``: what one sync learned about a Job."""

    job: Obj  # a private copy whose status this sync edits
    pods: list[Obj]
    active_pods: list[Obj]
    ready: int
    terminating: int
    succeeded: int = 0
    failed: int = 0
    finished: Obj | None = None  # the condition the Job is heading for
    backoff: BackoffRecord = field(default_factory=BackoffRecord)


def new_condition(ctype: str, status: str, reason: str, message: str, now: str) -> Obj:
    """``newCondition``."""
    return {
        "type": ctype,
        "status": status,
        "lastProbeTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def ensure_condition(
    conditions: list[Obj], ctype: str, status: str, reason: str, message: str, now: str
) -> bool:
    """``ensureJobConditionStatus`` (in place); True when the list changed."""
    for i, cond in enumerate(conditions):
        if cond.get("type") == ctype:
            if (cond.get("status"), cond.get("reason", ""), cond.get("message", "")) != (
                status,
                reason,
                message,
            ):
                conditions[i] = new_condition(ctype, status, reason, message, now)
                return True
            return False
    if status != "False":
        conditions.append(new_condition(ctype, status, reason, message, now))
        return True
    return False


def normalized_status(status: Obj) -> Obj:
    """The JobStatus as batch/v1 prints it: Go's field order, omitempty counters left out."""
    out: Obj = {}
    for key in _STATUS_ORDER:
        if key not in status:
            continue
        value = status[key]
        if key in _OMIT_ZERO and not value:
            continue
        if key in ("conditions", "completedIndexes") and not value:
            continue
        if key == "uncountedTerminatedPods":
            value = {k: list(v) for k, v in (value or {}).items() if v}
        out[key] = value
    return out


class JobController(Controller):
    name = "job-controller"
    watches = (("batch", "jobs"), ("", "pods"))

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.jobs = ctx.rt("batch", "jobs")
        self.pods = ctx.rt("", "pods")
        self._backoff: dict[tuple[str, str], BackoffRecord] = {}
        self._wakeups = Wakeups()

    def keys_for(self, event: Event) -> Iterable[Key]:
        m = podstate.meta(event.obj)
        namespace = str(m.get("namespace", ""))
        if event.plural == "jobs":
            if event.type == "DELETED":
                # cleanupPodFinalizers: the pods of a deleted Job must not keep our finalizer.
                return [("deleted", namespace, str(m.get("uid", "")))]
            return [(namespace, str(m.get("name", "")))]
        key = podstate.controller_key(event.obj, API_VERSION, KIND)
        if key is None:
            return [("orphan", namespace, str(m.get("name", "")))] if has_finalizer(event.obj) else []
        job = self.ctx.get("batch", "jobs", key[0], key[1])  # a lock-free read
        ref = podstate.controller_ref(event.obj) or {}
        if has_finalizer(event.obj) and (job is None or podstate.meta(job).get("uid") != ref.get("uid")):
            return [("orphan", namespace, str(m.get("name", "")))]
        return [key]

    def reconcile(self, key: Key) -> float | None:
        if isinstance(key, tuple) and len(key) == 3:
            kind, namespace, what = key
            if kind == "deleted":
                for _, ns, pod_name in self.ctx.owners.dependents(what, ("", "pods")):
                    self._release_orphan(ns, pod_name)
            else:
                self._release_orphan(namespace, what)
            return None
        namespace, name = podstate.split_key(key)
        now = self.ctx.now()
        self._wakeups.seen(key, now)
        job = self.ctx.get("batch", "jobs", namespace, name)
        if job is None or is_finished(job):
            self._backoff.pop((namespace, name), None)
            self._wakeups.forget(key)
            return None
        managed_by = (job.get("spec") or {}).get("managedBy")
        if managed_by and managed_by != JOB_CONTROLLER_NAME:
            return None
        again = self._sync(job, now)
        return self._wakeups.after(key, None if again is None else now + again, now)

    def _release_orphan(self, namespace: str, pod_name: str) -> None:
        """``syncOrphanPod``: drop the finalizer of a pod whose Job is gone."""
        pod = self.ctx.get("", "pods", namespace, pod_name)
        if pod is None or not has_finalizer(pod):
            return
        ref = podstate.controller_ref(pod)
        if ref is not None and ref.get("kind") == KIND:
            job = self.ctx.get("batch", "jobs", namespace, str(ref.get("name", "")))
            if job is not None and podstate.meta(job).get("uid") == ref.get("uid"):
                return
        self._remove_finalizer(pod)

    # ------------------------------------------------------------------------ sync

    def _sync(self, shared: Obj, now: float) -> float | None:
        """``syncJob``; returns seconds until it must run again, or None."""
        job = {**shared, "status": copy.deepcopy(shared.get("status") or {})}
        spec = job.get("spec") or {}
        status = job["status"]
        status.setdefault("uncountedTerminatedPods", {})
        m = podstate.meta(job)
        key = (str(m.get("namespace", "")), str(m.get("name", "")))
        now_str = format_time(self.ctx.clock.now())
        pods = [p for p in self.ctx.dependents(shared, "", "pods") if podstate.is_controlled_by(p, shared)]
        active_pods = [p for p in pods if podstate.is_active(p)]
        sync = _Sync(
            job=job,
            pods=pods,
            active_pods=active_pods,
            ready=sum(1 for p in active_pods if podstate.is_ready(p)),
            terminating=sum(1 for p in pods if podstate.is_pod_terminating(p)),
        )
        uncounted = status["uncountedTerminatedPods"]
        uncounted_succeeded = set(uncounted.get("succeeded") or [])
        uncounted_failed = set(uncounted.get("failed") or [])
        new_succeeded = [
            p
            for p in pods
            if has_finalizer(p)
            and podstate.meta(p).get("uid") not in uncounted_succeeded
            and podstate.phase(p) == "Succeeded"
        ]
        new_failed = [
            p
            for p in pods
            if has_finalizer(p)
            and podstate.meta(p).get("uid") not in uncounted_failed
            and is_pod_failed(p, job)
        ]
        active = len(active_pods)
        sync.succeeded = int(status.get("succeeded") or 0) + len(new_succeeded) + len(uncounted_succeeded)
        sync.failed = int(status.get("failed") or 0) + len(new_failed) + len(uncounted_failed)
        suspended = bool(spec.get("suspend"))
        if status.get("startTime") is None and not suspended:
            status["startTime"] = now_str
        sync.backoff = self._backoff.get(key, BackoffRecord()).updated(new_succeeded, new_failed)
        again: list[float] = []

        backoff_limit = int(spec.get("backoffLimit", 6))
        sync.finished = podstate.condition(job, "SuccessCriteriaMet")
        if sync.finished is not None and sync.finished.get("status") != "True":
            sync.finished = None
        if sync.finished is None:
            target = podstate.condition(job, "FailureTarget")
            if target is not None and target.get("status") == "True":
                sync.finished = new_condition(
                    "Failed", "True", target.get("reason", ""), target.get("message", ""), now_str
                )
        if sync.finished is None:
            deadline = spec.get("activeDeadlineSeconds")
            if sync.failed > backoff_limit or self._past_backoff_limit_on_failure(job, pods):
                sync.finished = new_condition(
                    "FailureTarget",
                    "True",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                    now_str,
                )
            elif self._past_active_deadline(job, now):
                sync.finished = new_condition(
                    "FailureTarget",
                    "True",
                    "DeadlineExceeded",
                    "Job was active longer than specified deadline",
                    now_str,
                )
            elif deadline is not None and not suspended:
                started = parse_time(status["startTime"]).timestamp()
                again.append(max(0.0, float(deadline) - (now - started)) + 0.01)

        suspend_changed = False
        if sync.finished is not None:
            deleted_ready, deleted = self._delete_active(sync.active_pods)
            if deleted != active:
                sync.finished = None
            active -= deleted
            sync.terminating += deleted
            sync.ready -= deleted_ready
        else:
            manage_called = False
            if not podstate.is_terminating(job):
                active, wait = self._manage(sync, now)
                if wait is not None:
                    again.append(wait)
                manage_called = True
            completions = spec.get("completions")
            if completions is None:
                complete = sync.succeeded > 0 and active == 0
            else:
                complete = sync.succeeded >= int(completions) and active == 0
            if complete:
                sync.finished = new_condition(
                    "SuccessCriteriaMet",
                    "True",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                    now_str,
                )
            elif manage_called:
                conditions = status.setdefault("conditions", [])
                if suspended:
                    suspend_changed = ensure_condition(
                        conditions, "Suspended", "True", "JobSuspended", "Job suspended", now_str
                    )
                else:
                    suspend_changed = ensure_condition(
                        conditions, "Suspended", "False", "JobResumed", "Job resumed", now_str
                    )
                    if suspend_changed:
                        # ActiveDeadlineSeconds counts from the resume (startTime is reset).
                        status["startTime"] = now_str
        status["active"] = active
        status["ready"] = sync.ready
        status["terminating"] = sync.terminating
        # needsStatusUpdate: upstream compares active, ready, terminating and the Suspended
        # condition; comparing the whole status also persists a first startTime.
        needs_update = suspend_changed or normalized_status(status) != (shared.get("status") or {})
        self._track(sync, key, now_str, needs_update)
        return min(again) if again else None

    def _past_backoff_limit_on_failure(self, job: Obj, pods: list[Obj]) -> bool:
        """``pastBackoffLimitOnFailure``: container restarts of running pods (OnFailure only)."""
        spec = job.get("spec") or {}
        if ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy") != "OnFailure":
            return False
        restarts = 0
        for pod in pods:
            if podstate.phase(pod) in ("Running", "Pending"):
                status = pod.get("status") or {}
                for cs in (status.get("initContainerStatuses") or []) + (
                    status.get("containerStatuses") or []
                ):
                    restarts += int(cs.get("restartCount") or 0)
        limit = int(spec.get("backoffLimit", 6))
        return restarts > 0 if limit == 0 else restarts >= limit

    def _past_active_deadline(self, job: Obj, now: float) -> bool:
        """``pastActiveDeadline``."""
        spec = job.get("spec") or {}
        start = (job.get("status") or {}).get("startTime")
        if spec.get("activeDeadlineSeconds") is None or not start or spec.get("suspend"):
            return False
        return now - parse_time(start).timestamp() >= float(spec["activeDeadlineSeconds"])

    def _manage(self, sync: _Sync, now: float) -> tuple[int, float | None]:
        """``manageJob``: (active pods, seconds until pods may be created again)."""
        job = sync.job
        spec = job.get("spec") or {}
        active = len(sync.active_pods)
        parallelism = int(spec.get("parallelism", 1))
        if spec.get("suspend"):
            removed_ready, removed = self._delete_job_pods(sync.active_pods)
            sync.terminating += removed
            sync.ready -= removed_ready
            return active - removed, None
        completions = spec.get("completions")
        if completions is None:
            want = active if sync.succeeded > 0 else parallelism
        else:
            want = max(0, min(int(completions) - sync.succeeded, parallelism))
        excess = max(active - want, 0)
        if excess:
            victims = sorted(sync.active_pods, key=_active_removal_order)[:excess][
                :MAX_POD_CREATE_DELETE_PER_SYNC
            ]
            removed_ready, removed = self._delete_job_pods(victims)
            sync.terminating += removed
            sync.ready -= removed_ready
            return active - removed, None
        terminating = sync.terminating if only_replace_failed(job) else 0
        diff = want - terminating - active
        if diff <= 0:
            return active, None
        remaining = sync.backoff.remaining(now)
        if remaining > 0:
            return 0, remaining + 0.01
        diff = min(diff, MAX_POD_CREATE_DELETE_PER_SYNC)
        m = podstate.meta(job)
        template = copy.deepcopy(spec.get("template") or {})
        tmeta = template.setdefault("metadata", {})
        finalizers = list(tmeta.get("finalizers") or [])
        if TRACKING_FINALIZER not in finalizers:
            finalizers.append(TRACKING_FINALIZER)
        tmeta["finalizers"] = finalizers
        ref = podstate.new_controller_ref(job, API_VERSION, KIND)
        created = 0
        for _ in range(diff):
            pod = podstate.pod_from_template(template, m["name"], ref)
            try:
                self.ctx.api.create(self.pods, m["namespace"], pod, self.opts)
            except errors.StatusError as err:
                if err.code == 403 and api.NAMESPACE_TERMINATING_CAUSE in str(err.body()):
                    break
                raise
            created += 1
        return active + created, None

    # --------------------------------------------------------------------- pods

    def _delete_active(self, pods: list[Obj]) -> tuple[int, int]:
        """``deleteActivePods``: delete keeping the finalizers; (ready deleted, deleted)."""
        return self._delete_pods(pods, remove_finalizer=False)

    def _delete_job_pods(self, pods: list[Obj]) -> tuple[int, int]:
        """``deleteJobPods``: remove the finalizer, then delete; (ready deleted, deleted)."""
        return self._delete_pods(pods, remove_finalizer=True)

    def _delete_pods(self, pods: list[Obj], remove_finalizer: bool) -> tuple[int, int]:
        """Delete ``pods`` (a 404 counts as deleted); (ready deleted, deleted)."""
        ready = deleted = 0
        for pod in pods:
            if remove_finalizer:
                self._remove_finalizer(pod)
            m = podstate.meta(pod)
            try:
                self.ctx.api.delete(self.pods, m["namespace"], m["name"], {})
            except errors.StatusError as err:
                if err.code != 404:
                    raise
            deleted += 1
            ready += podstate.is_ready(pod)
        return ready, deleted

    def _remove_finalizer(self, pod: Obj) -> bool:
        """``removeTrackingFinalizerPatch`` as a strategic merge patch; True when it is gone."""
        if not has_finalizer(pod):
            return True
        m = podstate.meta(pod)
        patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER]}}
        try:
            self.ctx.api.patch(self.pods, m["namespace"], m["name"], "strategic", patch, self.opts)
        except errors.StatusError as err:
            if err.code != 404:
                raise
        return True

    # ------------------------------------------------------------------- tracking

    def _track(self, sync: _Sync, key: tuple[str, str], now: str, needs_flush: bool) -> None:
        """``trackJobStatusAndRemoveFinalizers`` and ``flushUncountedAndRemoveFinalizers``."""
        job = sync.job
        status = job["status"]
        uncounted = status["uncountedTerminatedPods"]
        uncounted.setdefault("succeeded", [])
        uncounted.setdefault("failed", [])
        with_finalizer = {str(podstate.meta(p).get("uid")) for p in sync.pods if has_finalizer(p)}
        needs_flush = self._clean_uncounted(status, with_finalizer) or needs_flush
        to_release: list[Obj] = []
        reached_max = False
        job_terminal = sync.finished is not None and sync.finished.get("type") != "SuccessCriteriaMet"
        for pod in sync.pods:
            if not has_finalizer(pod):
                continue
            failed = is_pod_failed(pod, job)
            if not (
                podstate.is_terminating(job)
                or sync.finished is not None
                or podstate.phase(pod) == "Succeeded"
                or failed
            ):
                continue  # canRemoveFinalizer
            to_release.append(pod)
            uid = podstate.meta(pod).get("uid")
            if podstate.phase(pod) == "Succeeded" and uid not in uncounted["failed"]:
                if uid not in uncounted["succeeded"]:
                    uncounted["succeeded"].append(uid)
                    needs_flush = True
            elif (failed or job_terminal) and uid not in uncounted["failed"]:
                uncounted["failed"].append(uid)
                needs_flush = True
            if len(uncounted["succeeded"]) + len(uncounted["failed"]) >= MAX_UNCOUNTED_PODS:
                reached_max = True
                break
        if sync.finished is not None and sync.finished.get("type") == "FailureTarget":
            status.setdefault("conditions", []).append(sync.finished)
            needs_flush = True
            sync.finished = new_condition(
                "Failed", "True", sync.finished["reason"], sync.finished["message"], now
            )
        if sync.finished is not None and sync.finished.get("type") == "SuccessCriteriaMet":
            if not podstate.condition_true(job, "SuccessCriteriaMet"):
                status.setdefault("conditions", []).append(sync.finished)
                needs_flush = True
            sync.finished = new_condition(
                "Complete", "True", sync.finished["reason"], sync.finished["message"], now
            )
        if needs_flush:
            job = self._flush(job)
            self._backoff[key] = sync.backoff
            needs_flush = False
        status = job["status"]
        status.setdefault("uncountedTerminatedPods", {})
        for pod in to_release:
            if self._remove_finalizer(pod):
                with_finalizer.discard(str(podstate.meta(pod).get("uid")))
        needs_flush = self._clean_uncounted(status, with_finalizer)
        if not reached_max and self._enact_finished(job, sync, now):
            needs_flush = True
        if needs_flush:
            self._flush(job)

    @staticmethod
    def _clean_uncounted(status: Obj, with_finalizer: set[str]) -> bool:
        """``cleanUncountedPodsWithoutFinalizers``: move released pods into the counters."""
        uncounted = status.setdefault("uncountedTerminatedPods", {})
        changed = False
        for kind in ("succeeded", "failed"):
            uids = list(uncounted.get(kind) or [])
            kept = [u for u in uids if u in with_finalizer]
            if len(kept) != len(uids):
                status[kind] = int(status.get(kind) or 0) + len(uids) - len(kept)
                uncounted[kind] = kept
                changed = True
        return changed

    def _enact_finished(self, job: Obj, sync: _Sync, now: str) -> bool:
        """``enactJobFinished``: add Complete or Failed once nothing is uncounted or
        terminating."""
        if sync.finished is None:
            return False
        uncounted = job["status"].get("uncountedTerminatedPods") or {}
        if uncounted.get("succeeded") or uncounted.get("failed") or sync.terminating > 0:
            return False
        cond = sync.finished
        conditions = job["status"].setdefault("conditions", [])
        ensure_condition(conditions, cond["type"], cond["status"], cond["reason"], cond["message"], now)
        if cond["type"] == "Complete":
            job["status"]["completionTime"] = next(
                c["lastTransitionTime"] for c in conditions if c.get("type") == "Complete"
            )
        return True

    def _flush(self, job: Obj) -> Obj:
        """Write the status; returns a private copy of the stored Job to go on editing."""
        m = podstate.meta(job)
        new_status = normalized_status(job["status"])
        stored = self.ctx.get("batch", "jobs", m["namespace"], m["name"])
        if stored is not None and stored.get("status") == new_status:
            written = stored
        else:
            body = {**job, "status": new_status}
            written = self.ctx.api.update(
                self.jobs, m["namespace"], m["name"], body, self.opts, subresource="status"
            ).obj
        return {**written, "status": copy.deepcopy(written.get("status") or {})}


class TTLAfterFinishedController(Controller):
    """``pkg/controller/ttlafterfinished``: delete finished Jobs once their TTL has passed."""

    name = "ttl-after-finished-controller"
    watches = (("batch", "jobs"),)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.jobs = ctx.rt("batch", "jobs")
        self._wakeups = Wakeups()

    def keys_for(self, event: Event) -> Iterable[Key]:
        spec = event.obj.get("spec") or {}
        if (
            event.type == "DELETED"
            or spec.get("ttlSecondsAfterFinished") is None
            or not is_finished(event.obj)
        ):
            return []
        return [podstate.object_key(event.obj)]

    def reconcile(self, key: Key) -> float | None:
        namespace, name = podstate.split_key(key)
        now = self.ctx.now()
        self._wakeups.seen(key, now)
        job = self.ctx.get("batch", "jobs", namespace, name)
        if job is None or podstate.is_terminating(job) or not is_finished(job):
            self._wakeups.forget(key)
            return None
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        if ttl is None:
            return None
        finished_at = max(
            parse_time(c["lastTransitionTime"]).timestamp()
            for c in (job.get("status") or {}).get("conditions") or []
            if c.get("type") in ("Complete", "Failed")
            and c.get("status") == "True"
            and c.get("lastTransitionTime")
        )
        expire_at = finished_at + float(ttl)
        if now < expire_at:
            return self._wakeups.after(key, expire_at, now)
        m = podstate.meta(job)
        options = {"propagationPolicy": "Foreground", "preconditions": {"uid": m.get("uid")}}
        try:
            self.ctx.api.delete(self.jobs, namespace, name, options)
        except errors.StatusError as err:
            if err.code not in (404, 409):
                raise
        return None


CONTROLLERS = [JobController, TTLAfterFinishedController]
