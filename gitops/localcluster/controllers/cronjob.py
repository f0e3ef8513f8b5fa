"""The CronJob controller (``pkg/controller/cronjob/cronjob_controllerv2.go`` and ``utils.go``).

Each sync follows ``ControllerV2.sync``/``syncCronJob``, on the simulated clock:

1. Jobs it owns that finished leave ``status.active``; the latest ``completionTime`` of a
   succeeded one becomes ``lastSuccessfulTime``; references to Jobs that are gone are dropped.
2. Nothing is started while the CronJob is being deleted, is suspended, has an unknown
   ``timeZone`` or an unparseable schedule.
3. The most recent unmet schedule time since ``lastScheduleTime`` (or the creation time) is found
   (``mostRecentScheduleTime``; with ``startingDeadlineSeconds``, no earlier than that many
   seconds ago). Too late for its deadline, already started, or (``Forbid``) a Job still active:
   nothing starts. ``Replace`` first deletes the active Jobs (background propagation).
4. The Job ``<cronjob>-<scheduled time in minutes since the epoch>`` is created from the job
   template with its labels and annotations, the annotation
   ``batch.kubernetes.io/cronjob-scheduled-timestamp`` (RFC 3339 in the CronJob's zone) and a
   controller reference; it joins ``status.active`` and ``lastScheduleTime`` moves.
5. Finished Jobs beyond ``successfulJobsHistoryLimit``/``failedJobsHistoryLimit`` are deleted,
   oldest start first (``cleanupFinishedJobs``).
6. The next sync is due 100 ms after the next schedule time (``nextScheduleTimeDuration``).

Schedules without ``timeZone`` run in UTC. No Events are recorded.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from gitops.localcluster import api, errors
from gitops.localcluster.clock import format_time, parse_time
from gitops.localcluster.controllers import cronschedule, podstate
from gitops.localcluster.controllers.manager import Context, Controller, Key
from gitops.localcluster.controllers.wakeups import Wakeups
from gitops.localcluster.store import Event

Obj = dict[str, Any]

API_VERSION = "batch/v1"
KIND = "CronJob"
SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
NEXT_SCHEDULE_DELTA = 0.1  # nextScheduleDelta
TOO_MANY_MISSED = 100


def format_schedule(cronjob: Obj) -> str:
    """``formatSchedule``: the schedule, prefixed ``TZ=<timeZone>`` when one is set (a
    schedule that names a zone itself keeps it)."""
    spec = cronjob.get("spec") or {}
    schedule = str(spec.get("schedule") or "")
    tz = spec.get("timeZone")
    if "TZ" in schedule or tz is None:
        return schedule
    try:
        cronschedule.load_location(str(tz))
    except cronschedule.ScheduleError:
        return schedule
    return f"TZ={tz} {schedule}"


def most_recent_schedule_time(
    cronjob: Obj, now: datetime, schedule: cronschedule.Schedule, with_deadline: bool
) -> tuple[datetime, datetime | None, int]:
    """``mostRecentScheduleTime``: (earliest time considered, the most recent unmet schedule
    time or None, how many were missed)."""
    meta = podstate.meta(cronjob)
    status = cronjob.get("status") or {}
    earliest = parse_time(str(meta.get("creationTimestamp")))
    if status.get("lastScheduleTime"):
        earliest = parse_time(status["lastScheduleTime"])
    deadline = (cronjob.get("spec") or {}).get("startingDeadlineSeconds")
    if with_deadline and deadline is not None:
        scheduling_deadline = now - timedelta(seconds=int(deadline))
        earliest = max(earliest, scheduling_deadline)
    t1 = schedule.next(earliest)
    if t1 is None or now < t1:
        return earliest, None, 0
    t2 = schedule.next(t1)
    if t2 is None or now < t2:
        return earliest, t1, 0
    between = round((t2 - t1).total_seconds())
    if between < 1:
        raise cronschedule.ScheduleError("time difference between two schedules is less than 1 second")
    missed = int((now - t1).total_seconds()) // between + 1
    most_recent: datetime | None = None
    t: datetime | None = schedule.next(t1 + timedelta(seconds=(missed - 2) * between))
    while t is not None and t <= now:
        most_recent = t
        t = schedule.next(t)
    return earliest, most_recent, missed


def next_schedule_in(cronjob: Obj, now: datetime, schedule: cronschedule.Schedule) -> float | None:
    """``nextScheduleTimeDuration``: seconds until 100 ms after the next schedule time."""
    try:
        earliest, most_recent, missed = most_recent_schedule_time(cronjob, now, schedule, False)
    except cronschedule.ScheduleError:
        most_recent = now
    else:
        if most_recent is None:
            most_recent = earliest if missed == 0 else now
    following = schedule.next(most_recent)
    if following is None:
        return None
    return (following - now).total_seconds() + NEXT_SCHEDULE_DELTA


def job_name(cronjob: Obj, scheduled: datetime) -> str:
    """``getJobName``: the scheduled time in minutes since the epoch names the Job."""
    return f"{podstate.meta(cronjob).get('name', '')}-{int(scheduled.timestamp()) // 60}"


def rfc3339(t: datetime) -> str:
    """Go's ``time.RFC3339``: ``Z`` for UTC, else the numeric offset."""
    text = t.replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if t.utcoffset() == timedelta(0) else text


def job_from_template(cronjob: Obj, scheduled: datetime) -> Obj:
    """``getJobFromTemplate2``."""
    spec = cronjob.get("spec") or {}
    template = spec.get("jobTemplate") or {}
    tmeta = template.get("metadata") or {}
    annotations = dict(tmeta.get("annotations") or {})
    zone = cronschedule.load_location(str(spec.get("timeZone") or ""))
    annotations[SCHEDULED_TIMESTAMP_ANNOTATION] = rfc3339(scheduled.astimezone(zone))
    meta: Obj = {
        "name": job_name(cronjob, scheduled),
        "annotations": annotations,
        "ownerReferences": [podstate.new_controller_ref(cronjob, API_VERSION, KIND)],
    }
    if tmeta.get("labels"):
        meta["labels"] = dict(tmeta["labels"])
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def job_reference(j: Obj) -> Obj:
    """``ref.GetReference`` of a Job, as ``status.active`` lists it."""
    m = podstate.meta(j)
    return {
        "kind": "Job",
        "namespace": m.get("namespace", ""),
        "name": m.get("name", ""),
        "uid": m.get("uid", ""),
        "apiVersion": "batch/v1",
        "resourceVersion": m.get("resourceVersion", ""),
    }


def finished_type(j: Obj) -> str | None:
    """``getFinishedStatus``: "Complete", "Failed" or None."""
    for cond in (j.get("status") or {}).get("conditions") or []:
        if cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True":
            return str(cond["type"])
    return None


def _start_order(j: Obj) -> tuple[int, str, str]:
    """``byJobStartTime``: started ones first, oldest start first, then by name."""
    start = (j.get("status") or {}).get("startTime")
    return (0 if start else 1, str(start or ""), str(podstate.meta(j).get("name", "")))


class CronJobController(Controller):
    name = "cronjob-controller"
    watches = (("batch", "cronjobs"), ("batch", "jobs"))

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.cronjobs = ctx.rt("batch", "cronjobs")
        self.jobs = ctx.rt("batch", "jobs")
        self._wakeups = Wakeups()

    def keys_for(self, event: Event) -> Iterable[Key]:
        if event.plural == "cronjobs":
            return [podstate.object_key(event.obj)]
        key = podstate.controller_key(event.obj, API_VERSION, KIND)
        return [key] if key is not None else []

    def reconcile(self, key: Key) -> float | None:
        namespace, name = podstate.split_key(key)
        now_ts = self.ctx.now()
        self._wakeups.seen(key, now_ts)
        cronjob = self.ctx.get("batch", "cronjobs", namespace, name)
        if cronjob is None:
            self._wakeups.forget(key)
            return None
        jobs = [
            j for j in self.ctx.dependents(cronjob, "batch", "jobs") if podstate.is_controlled_by(j, cronjob)
        ]
        working = {**cronjob, "status": copy.deepcopy(cronjob.get("status") or {})}
        now = datetime.fromtimestamp(now_ts, UTC)
        again, changed = self._sync(working, jobs, now)
        if self._cleanup_finished(working, jobs):
            changed = True
        if changed:
            self._write_status(working)
        if again is None:
            return None
        return self._wakeups.after(key, now_ts + again, now_ts)

    def _sync(self, cronjob: Obj, jobs: list[Obj], now: datetime) -> tuple[float | None, bool]:
        """``syncCronJob``: (seconds until the next sync, whether the status changed)."""
        status = cronjob["status"]
        active: list[Obj] = status.setdefault("active", [])
        changed = False
        children = set()
        for j in jobs:
            uid = podstate.meta(j).get("uid")
            children.add(uid)
            listed = any(ref.get("uid") == uid for ref in active)
            finished = finished_type(j)
            if listed and finished is not None:
                active[:] = [ref for ref in active if ref.get("uid") != uid]
                changed = True
            elif finished == "Complete":
                completed = (j.get("status") or {}).get("completionTime")
                last = status.get("lastSuccessfulTime")
                if completed and (not last or parse_time(completed) > parse_time(last)):
                    status["lastSuccessfulTime"] = completed
                    changed = True
        for ref in list(active):
            if ref.get("uid") in children:
                continue
            if self.ctx.get("batch", "jobs", str(ref.get("namespace", "")), str(ref.get("name", ""))) is None:
                active[:] = [r for r in active if r.get("uid") != ref.get("uid")]
                changed = True

        spec = cronjob.get("spec") or {}
        if podstate.is_terminating(cronjob) or spec.get("suspend"):
            return None, changed
        if spec.get("timeZone") is not None:
            try:
                cronschedule.load_location(str(spec["timeZone"]))
            except cronschedule.ScheduleError:
                return None, changed  # UnknownTimeZone
        try:
            schedule = cronschedule.parse(format_schedule(cronjob))
        except cronschedule.ScheduleError:
            return None, changed  # UnparseableSchedule: wait for a spec change
        try:
            _, scheduled, _ = most_recent_schedule_time(cronjob, now, schedule, True)
        except cronschedule.ScheduleError:
            return None, changed  # InvalidSchedule
        if scheduled is None:
            return next_schedule_in(cronjob, now, schedule), changed
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and scheduled + timedelta(seconds=int(deadline)) < now:
            return next_schedule_in(cronjob, now, schedule), changed  # MissSchedule
        name = job_name(cronjob, scheduled)
        last = status.get("lastScheduleTime")
        if any(ref.get("name") == name for ref in active) or (last and parse_time(last) == scheduled):
            return next_schedule_in(cronjob, now, schedule), changed
        if spec.get("concurrencyPolicy") == "Forbid" and active:
            return next_schedule_in(cronjob, now, schedule), changed  # JobAlreadyActive
        if spec.get("concurrencyPolicy") == "Replace":
            for ref in list(active):
                existing = self.ctx.get(
                    "batch", "jobs", str(ref.get("namespace", "")), str(ref.get("name", ""))
                )
                if existing is None:
                    raise errors.not_found("jobs", "batch", str(ref.get("name", "")))
                self._delete_job(cronjob, existing)
                changed = True
        namespace = podstate.meta(cronjob).get("namespace", "")
        try:
            created = self.ctx.api.create(
                self.jobs, namespace, job_from_template(cronjob, scheduled), self.opts
            ).obj
        except errors.StatusError as err:
            if err.code == 403 and api.NAMESPACE_TERMINATING_CAUSE in str(err.body()):
                return None, changed
            if err.code != 409:
                raise
            existing = self.ctx.get("batch", "jobs", namespace, name)
            if existing is None:
                raise
            if not podstate.is_controlled_by(existing, cronjob):
                return None, changed
            if any(ref.get("uid") == podstate.meta(existing).get("uid") for ref in active):
                return None, changed
            created = existing
        active.append(job_reference(created))
        status["lastScheduleTime"] = format_time(scheduled)
        return next_schedule_in(cronjob, now, schedule), True

    def _delete_job(self, cronjob: Obj, j: Obj) -> None:
        """``deleteJob``: delete with background propagation and drop it from ``active``."""
        m = podstate.meta(j)
        try:
            self.ctx.api.delete(self.jobs, m["namespace"], m["name"], {"propagationPolicy": "Background"})
        except errors.StatusError as err:
            if err.code != 404:
                raise
        active = cronjob["status"].setdefault("active", [])
        active[:] = [ref for ref in active if ref.get("uid") != m.get("uid")]

    def _cleanup_finished(self, cronjob: Obj, jobs: list[Obj]) -> bool:
        """``cleanupFinishedJobs``/``removeOldestJobs``."""
        spec = cronjob.get("spec") or {}
        changed = False
        for kind, limit_key in (
            ("Complete", "successfulJobsHistoryLimit"),
            ("Failed", "failedJobsHistoryLimit"),
        ):
            limit = spec.get(limit_key)
            if limit is None:
                continue
            done = sorted((j for j in jobs if finished_type(j) == kind), key=_start_order)
            for j in done[: max(0, len(done) - int(limit))]:
                self._delete_job(cronjob, j)
                changed = True
        return changed

    def _write_status(self, cronjob: Obj) -> None:
        status = cronjob["status"]
        new: Obj = {}
        if status.get("active"):
            new["active"] = status["active"]
        for key in ("lastScheduleTime", "lastSuccessfulTime"):
            if status.get(key):
                new[key] = status[key]
        m = podstate.meta(cronjob)
        stored = self.ctx.get("batch", "cronjobs", m["namespace"], m["name"])
        if stored is not None and (stored.get("status") or {}) == new:
            return
        self.ctx.api.update(
            self.cronjobs,
            m["namespace"],
            m["name"],
            {**cronjob, "status": new},
            self.opts,
            subresource="status",
        )


CONTROLLERS = [CronJobController]
