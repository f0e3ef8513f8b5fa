"""The CronJob controller (``controllers/cronjob.py``) and its schedule parser.

Schedules follow ``cron.ParseStandard`` of ``github.com/robfig/cron/v3`` (what
``pkg/controller/cronjob`` uses): the expected activations below are what its ``Next`` returns.
Controller expectations come from ``cronjob_controllerv2.go`` (``syncCronJob``,
``cleanupFinishedJobs``) and ``utils.go`` (``mostRecentScheduleTime``, ``getJobFromTemplate2``).
The live tests move the simulated clock past schedule times with ``clock.advance``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gitops.localcluster import LocalCluster
from gitops.localcluster.clock import parse_time
from gitops.localcluster.controllers import cronjob as cronjob_mod
from gitops.localcluster.controllers import cronschedule
from tests.localcluster.controllers.workloads import (
    Obj,
    create,
    get,
    is_true,
    items,
    name_of,
    patch,
    wait_for,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def nexts(spec: str, start: datetime, count: int = 3) -> list[str]:
    schedule = cronschedule.parse(spec)
    out = []
    t: datetime | None = start
    for _ in range(count):
        assert t is not None
        t = schedule.next(t)
        out.append(t.strftime("%Y-%m-%d %H:%M %a") if t else "never")
    return out


# ---------------------------------------------------------------------------------- parser


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("*/15 * * * *", ["2024-05-01 12:15 Wed", "2024-05-01 12:30 Wed", "2024-05-01 12:45 Wed"]),
        ("5-10/5,59 * * * *", ["2024-05-01 12:05 Wed", "2024-05-01 12:10 Wed", "2024-05-01 12:59 Wed"]),
        ("0 9-17/4 * * mon-fri", ["2024-05-01 13:00 Wed", "2024-05-01 17:00 Wed", "2024-05-02 09:00 Thu"]),
        ("30 2 * JAN,jul SUN", ["2024-07-07 02:30 Sun", "2024-07-14 02:30 Sun", "2024-07-21 02:30 Sun"]),
        ("@hourly", ["2024-05-01 13:00 Wed", "2024-05-01 14:00 Wed", "2024-05-01 15:00 Wed"]),
        ("@daily", ["2024-05-02 00:00 Thu", "2024-05-03 00:00 Fri", "2024-05-04 00:00 Sat"]),
        ("@weekly", ["2024-05-05 00:00 Sun", "2024-05-12 00:00 Sun", "2024-05-19 00:00 Sun"]),
        ("@monthly", ["2024-06-01 00:00 Sat", "2024-07-01 00:00 Mon", "2024-08-01 00:00 Thu"]),
        ("@yearly", ["2025-01-01 00:00 Wed", "2026-01-01 00:00 Thu", "2027-01-01 00:00 Fri"]),
        # Both day fields restricted: either matches (dayMatches); one is "*": both must.
        ("0 0 13 * fri", ["2024-05-03 00:00 Fri", "2024-05-10 00:00 Fri", "2024-05-13 00:00 Mon"]),
        ("0 0 13 * *", ["2024-05-13 00:00 Mon", "2024-06-13 00:00 Thu", "2024-07-13 00:00 Sat"]),
        ("0 0 */10 * ?", ["2024-05-11 00:00 Sat", "2024-05-21 00:00 Tue", "2024-05-31 00:00 Fri"]),
        # Next looks five years ahead of where it starts: leap days are found every time.
        ("0 0 29 2 *", ["2028-02-29 00:00 Tue", "2032-02-29 00:00 Sun", "2036-02-29 00:00 Fri"]),
        ("0 0 30 2 *", ["never", "never", "never"]),
    ],
)
def test_schedules_activate_as_robfig_cron_does(spec: str, expected: list[str]) -> None:
    start = utc(2024, 5, 1, 12, 3, 30)
    got = []
    schedule = cronschedule.parse(spec)
    t: datetime | None = start
    for _ in range(3):
        t = schedule.next(t) if t is not None else None
        got.append(t.strftime("%Y-%m-%d %H:%M %a") if t else "never")
    assert got == expected


def test_time_zones_and_daylight_saving() -> None:
    # 09:00 in Paris is 07:00 UTC in summer, 08:00 in winter.
    assert nexts("TZ=Europe/Paris 0 9 * * *", utc(2024, 10, 26, 12, 0), 2) == [
        "2024-10-27 08:00 Sun",
        "2024-10-28 08:00 Mon",
    ]
    # 02:30 does not exist in Berlin on 2024-03-31: that day is skipped, as robfig skips it.
    assert nexts("CRON_TZ=Europe/Berlin 30 2 * * *", utc(2024, 3, 30, 12, 0), 2) == [
        "2024-04-01 00:30 Mon",
        "2024-04-02 00:30 Tue",
    ]
    # @every: a constant delay from the (second-truncated) last time.
    assert nexts("@every 1h30m", utc(2024, 5, 1, 12, 3, 30), 2) == [
        "2024-05-01 13:33 Wed",
        "2024-05-01 15:03 Wed",
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
        ("60 * * * *", "end of range (60) above maximum (59): 60"),
        ("* * * * 7", "end of range (7) above maximum (6): 7"),
        ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
        ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
        ("@fortnightly", "unrecognized descriptor: @fortnightly"),
        ("TZ=Mars/Olympus * * * * *", "provided bad location Mars/Olympus: unknown time zone Mars/Olympus"),
    ],
)
def test_bad_schedules_are_refused_with_robfig_messages(spec: str, message: str) -> None:
    with pytest.raises(cronschedule.ScheduleError) as info:
        cronschedule.parse(spec)
    assert str(info.value) == message


def test_most_recent_schedule_time_counts_missed_runs() -> None:
    cj = {"metadata": {"creationTimestamp": "2024-05-01T12:00:30Z"}, "spec": {}, "status": {}}
    schedule = cronschedule.parse("*/5 * * * *")
    now = utc(2024, 5, 1, 12, 22)
    earliest, most_recent, missed = cronjob_mod.most_recent_schedule_time(cj, now, schedule, True)
    assert earliest == utc(2024, 5, 1, 12, 0, 30) and most_recent == utc(2024, 5, 1, 12, 20) and missed == 4
    # startingDeadlineSeconds moves the earliest time considered up to now - deadline.
    cj["spec"] = {"startingDeadlineSeconds": 60}
    assert cronjob_mod.most_recent_schedule_time(cj, now, schedule, True)[1] is None
    # The next sync is due 100 ms after the next schedule time.
    cj["status"] = {"lastScheduleTime": "2024-05-01T12:20:00Z"}
    assert cronjob_mod.next_schedule_in(cj, now, schedule) == pytest.approx(180.1)
    # Job names are the scheduled minute since the epoch.
    assert (
        cronjob_mod.job_name({"metadata": {"name": "tick"}}, utc(2024, 5, 1, 12, 20)) == "tick-28576100"
    )  # 1714566000 s / 60


# ------------------------------------------------------------------------------------ live


def cronjob_body(name: str, schedule: str, annotations: dict[str, str] | None = None, **spec: Any) -> Obj:
    pod_meta: Obj = {"annotations": annotations} if annotations else {}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {
            "schedule": schedule,
            "jobTemplate": {
                "metadata": {"labels": {"team": "ops"}, "annotations": {"note": "from-template"}},
                "spec": {
                    "template": {
                        "metadata": pod_meta,
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "main", "image": "busybox:1.36"}],
                        },
                    }
                },
            },
            **spec,
        },
    }


def jobs_of(cluster: LocalCluster, ns: str, name: str) -> list[Obj]:
    return sorted(
        (j for j in items(cluster, "batch", "jobs", ns) if name_of(j).startswith(f"{name}-")),
        key=name_of,
    )


def cronjob(cluster: LocalCluster, ns: str, name: str) -> Obj:
    found = get(cluster, "batch", "cronjobs", ns, name)
    assert found is not None
    return found


def far_schedule(cluster: LocalCluster) -> str:
    """An hourly schedule whose next run is about half an hour of simulated time away, so the
    running clock never reaches it during a test: only :func:`advance_to_next` does."""
    minute = (int(cluster.clock.time()) // 60 + 30) % 60
    return f"{minute} * * * *"


def advance_to_next(cluster: LocalCluster, spec: str, seconds_after: float = 1.0) -> datetime:
    """Jump the simulated clock to just after the schedule's next run; returns that run."""
    now = cluster.clock.time()
    run = cronschedule.parse(spec).next(datetime.fromtimestamp(now, UTC))
    assert run is not None
    cluster.clock.advance(run.timestamp() + seconds_after - now)
    return run


def job_for(name: str, run: datetime) -> str:
    return f"{name}-{int(run.timestamp()) // 60}"


def test_a_job_is_created_when_the_clock_passes_the_schedule(
    live_cluster: LocalCluster, live_namespace: str
) -> None:
    cluster, ns = live_cluster, live_namespace
    spec = far_schedule(cluster)
    created = create(cluster, "batch", "v1", "cronjobs", ns, cronjob_body("tick", spec))
    assert cluster.settle()
    assert jobs_of(cluster, ns, "tick") == []
    run = advance_to_next(cluster, spec)
    expected = job_for("tick", run)
    j = wait_for(lambda: get(cluster, "batch", "jobs", ns, expected), what=f"job {expected}")
    assert j["metadata"]["labels"]["team"] == "ops"
    assert j["metadata"]["annotations"]["note"] == "from-template"
    stamp = run.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert j["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == stamp
    ref = j["metadata"]["ownerReferences"][0]
    assert (ref["kind"], ref["name"], ref["uid"], ref["controller"]) == (
        "CronJob",
        "tick",
        created["metadata"]["uid"],
        True,
    )

    def active() -> Obj | None:
        status = cronjob(cluster, ns, "tick").get("status") or {}
        return status if status.get("active") else None

    status = wait_for(active, what="the job in status.active")
    assert status["lastScheduleTime"] == stamp
    assert status["active"] == [
        {
            "kind": "Job",
            "namespace": ns,
            "name": expected,
            "uid": j["metadata"]["uid"],
            "apiVersion": "batch/v1",
            "resourceVersion": status["active"][0]["resourceVersion"],
        }
    ]

    # The Job completes: it leaves the active list and its completion time is the last success.
    def completed() -> Obj | None:
        found = get(cluster, "batch", "jobs", ns, expected)
        return found if is_true(found, "Complete") else None

    done = wait_for(completed, what="the job complete")

    def recorded() -> Obj | None:
        status = cronjob(cluster, ns, "tick").get("status") or {}
        return status if "lastSuccessfulTime" in status and not status.get("active") else None

    status = wait_for(recorded, what="lastSuccessfulTime")
    assert status["lastSuccessfulTime"] == done["status"]["completionTime"]
    assert status["lastScheduleTime"] == stamp


def test_forbid_skips_runs_while_a_job_is_active(live_cluster: LocalCluster, live_namespace: str) -> None:
    cluster, ns = live_cluster, live_namespace
    slow = {"localcluster.gitops.dev/run-seconds": "100000"}
    spec = far_schedule(cluster)
    create(
        cluster, "batch", "v1", "cronjobs", ns, cronjob_body("solo", spec, slow, concurrencyPolicy="Forbid")
    )
    first = advance_to_next(cluster, spec)
    wait_for(
        lambda: [name_of(j) for j in jobs_of(cluster, ns, "solo")] == [job_for("solo", first)], what="run 1"
    )
    wait_for(lambda: cronjob(cluster, ns, "solo").get("status", {}).get("active"), what="run 1 active")
    advance_to_next(cluster, spec)
    assert cluster.settle()
    assert [name_of(j) for j in jobs_of(cluster, ns, "solo")] == [job_for("solo", first)]
    status = cronjob(cluster, ns, "solo")["status"]
    assert len(status["active"]) == 1 and status["lastScheduleTime"] == first.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_replace_deletes_the_running_job_for_the_new_one(
    live_cluster: LocalCluster, live_namespace: str
) -> None:
    cluster, ns = live_cluster, live_namespace
    slow = {"localcluster.gitops.dev/run-seconds": "100000"}
    spec = far_schedule(cluster)
    create(
        cluster, "batch", "v1", "cronjobs", ns, cronjob_body("swap", spec, slow, concurrencyPolicy="Replace")
    )
    first = job_for("swap", advance_to_next(cluster, spec))
    wait_for(lambda: cronjob(cluster, ns, "swap").get("status", {}).get("active"), what="run 1 active")
    second = job_for("swap", advance_to_next(cluster, spec))
    wait_for(lambda: [name_of(j) for j in jobs_of(cluster, ns, "swap")] == [second], what=f"{first} replaced")
    wait_for(
        lambda: [a["name"] for a in cronjob(cluster, ns, "swap")["status"].get("active") or []] == [second],
        what="status.active lists only the new job",
    )


def test_history_limits_keep_the_newest_finished_jobs(
    live_cluster: LocalCluster, live_namespace: str
) -> None:
    cluster, ns = live_cluster, live_namespace
    spec = far_schedule(cluster)
    create(cluster, "batch", "v1", "cronjobs", ns, cronjob_body("keep", spec, successfulJobsHistoryLimit=1))
    names = []
    for _ in range(3):
        name = job_for("keep", advance_to_next(cluster, spec))
        names.append(name)
        wait_for(
            lambda n=name: is_true(get(cluster, "batch", "jobs", ns, n), "Complete"), what=f"{name} complete"
        )  # type: ignore[misc]
    wait_for(
        lambda: [name_of(j) for j in jobs_of(cluster, ns, "keep")] == names[-1:], what="only the newest kept"
    )


def test_starting_deadline_and_suspend_prevent_runs(live_cluster: LocalCluster, live_namespace: str) -> None:
    cluster, ns = live_cluster, live_namespace
    spec = far_schedule(cluster)
    create(cluster, "batch", "v1", "cronjobs", ns, cronjob_body("late", spec, startingDeadlineSeconds=10))
    # Arriving 30 s after the schedule time with a 10 s deadline: that run is missed.
    advance_to_next(cluster, spec, seconds_after=30)
    assert cluster.settle()
    assert jobs_of(cluster, ns, "late") == []
    on_time = job_for("late", advance_to_next(cluster, spec))
    wait_for(lambda: get(cluster, "batch", "jobs", ns, on_time), what="the on-time run")

    patch(cluster, "batch", "v1", "cronjobs", ns, "late", {"spec": {"suspend": True}})
    assert cluster.settle()
    advance_to_next(cluster, spec)
    assert cluster.settle()
    assert [name_of(j) for j in jobs_of(cluster, ns, "late")] == [on_time]


def test_time_zone_sets_the_scheduled_timestamp_offset(
    live_cluster: LocalCluster, live_namespace: str
) -> None:
    cluster, ns = live_cluster, live_namespace
    spec = far_schedule(cluster)  # Tokyo's offset is whole hours: the minute is the same
    create(cluster, "batch", "v1", "cronjobs", ns, cronjob_body("tokyo", spec, timeZone="Asia/Tokyo"))
    run = advance_to_next(cluster, spec)
    j = wait_for(lambda: jobs_of(cluster, ns, "tokyo"), what="a job")[0]
    assert name_of(j) == job_for("tokyo", run)
    stamp = j["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    assert stamp.endswith("+09:00") and parse_time(stamp) == run
