"""The Job controller (``controllers/job.py``) against Kubernetes 1.32 behaviour.

Expectations come from ``pkg/controller/job/job_controller.go`` (``syncJob``, ``manageJob``,
``trackJobStatusAndRemoveFinalizers``, ``enactJobFinished``, ``pastActiveDeadline``),
``backoff_utils.go`` and ``pkg/controller/ttlafterfinished``; status shapes from the 1.32 API
(``JobStatus``), and ``kubectl wait --for=condition=...`` from kubectl. Pods run on the
simulated kubelets; ``localcluster.gitops.dev/exit-code`` and ``run-seconds`` steer them.
"""

from __future__ import annotations

from typing import Any

import pytest

from gitops.localcluster import LocalCluster
from gitops.localcluster.clock import parse_time
from gitops.localcluster.controllers import job as job_mod
from gitops.localcluster.store import Event
from tests.conftest import Kubectl
from tests.localcluster.controllers.workloads import (
    Obj,
    condition,
    create,
    get,
    is_true,
    items,
    patch,
    record,
    wait_for,
)


def job_body(name: str, annotations: dict[str, str] | None = None, **spec: Any) -> Obj:
    template: Obj = {
        "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox:1.36"}]},
    }
    if annotations:
        template["metadata"] = {"annotations": annotations}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"template": template, **spec},
    }


def job(cluster: LocalCluster, ns: str, name: str) -> Obj:
    found = get(cluster, "batch", "jobs", ns, name)
    assert found is not None
    return found


def pods_of(cluster: LocalCluster, ns: str, name: str) -> list[Obj]:
    return [
        p
        for p in items(cluster, "", "pods", ns)
        if p["metadata"].get("labels", {}).get("batch.kubernetes.io/job-name") == name
    ]


def finished(cluster: LocalCluster, ns: str, name: str, ctype: str) -> Obj:
    return wait_for(
        lambda: j if is_true(j := job(cluster, ns, name), ctype) else None, what=f"job {name} {ctype}"
    )


# ------------------------------------------------------------------------------ pure parts


def test_pod_failure_backoff_doubles_from_ten_seconds_up_to_ten_minutes() -> None:
    record_ = job_mod.BackoffRecord(failures=1, last_failure=100.0)
    assert record_.remaining(100.0) == 10.0
    assert record_.remaining(104.0) == 6.0
    assert record_.remaining(111.0) == 0.0
    assert job_mod.BackoffRecord(failures=3, last_failure=0.0).remaining(0.0) == 40.0
    assert job_mod.BackoffRecord(failures=20, last_failure=0.0).remaining(0.0) == 600.0
    assert job_mod.BackoffRecord().remaining(0.0) == 0.0


def test_a_success_after_the_failures_resets_the_backoff() -> None:
    def pod(phase: str, finished_at: str) -> Obj:
        terminated = {"finishedAt": finished_at, "exitCode": 0 if phase == "Succeeded" else 1}
        return {
            "metadata": {"creationTimestamp": "2024-01-01T00:00:00Z"},
            "status": {"phase": phase, "containerStatuses": [{"state": {"terminated": terminated}}]},
        }

    failed = [pod("Failed", "2024-01-01T00:00:10Z"), pod("Failed", "2024-01-01T00:00:30Z")]
    succeeded = [pod("Succeeded", "2024-01-01T00:00:20Z")]
    record_ = job_mod.BackoffRecord().updated(succeeded, failed)
    # newBackoffRecord: only failures after the last success count.
    assert record_.failures == 1
    assert record_.last_failure == parse_time("2024-01-01T00:00:30Z").timestamp()


# ------------------------------------------------------------------------------------ live


@pytest.mark.kubectl
def test_job_runs_its_completions_within_parallelism_and_completes(
    live_cluster: LocalCluster, live_kubectl: Kubectl, live_namespace: str
) -> None:
    cluster, ns = live_cluster, live_namespace

    def probe(event: Event) -> Any:
        return sum(
            1
            for p in pods_of(cluster, ns, "work")
            if (p.get("status") or {}).get("phase") in ("Pending", "Running")
        )

    with record(cluster, "", "pods", ns, probe) as log:
        created = create(cluster, "batch", "v1", "jobs", ns, job_body("work", completions=4, parallelism=2))
        out = live_kubectl.run(
            "wait", "--for=condition=complete", "-n", ns, "job/work", "--timeout=60s"
        ).stdout
    assert out.strip() == "job.batch/work condition met"
    assert max(s.probe for s in log.events) == 2  # never more than parallelism at once
    assert len(log.of("ADDED")) == 4

    status = job(cluster, ns, "work")["status"]
    uid = created["metadata"]["uid"]
    assert [c["type"] for c in status["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    for cond in status["conditions"]:
        assert (cond["status"], cond["reason"], cond["message"]) == (
            "True",
            "CompletionsReached",
            "Reached expected number of succeeded pods",
        )
    assert status["succeeded"] == 4 and "failed" not in status and "active" not in status
    assert status["ready"] == 0 and status["terminating"] == 0 and status["uncountedTerminatedPods"] == {}
    assert status["completionTime"] == condition(job(cluster, ns, "work"), "Complete")["lastTransitionTime"]  # type: ignore[index]
    assert parse_time(status["completionTime"]) > parse_time(status["startTime"])

    pods = pods_of(cluster, ns, "work")
    assert len(pods) == 4
    for pod in pods:
        labels = pod["metadata"]["labels"]
        assert labels["batch.kubernetes.io/controller-uid"] == labels["controller-uid"] == uid
        assert labels["batch.kubernetes.io/job-name"] == labels["job-name"] == "work"
        assert pod["metadata"]["generateName"] == "work-"
        assert pod["metadata"]["ownerReferences"][0]["uid"] == uid
        assert pod["status"]["phase"] == "Succeeded"
        # The tracking finalizer is removed once the pod is counted.
        assert not pod["metadata"].get("finalizers")
    # Every pod carried the finalizer while it ran.
    assert all("batch.kubernetes.io/job-tracking" in s.obj["metadata"]["finalizers"] for s in log.of("ADDED"))


@pytest.mark.kubectl
def test_backoff_limit_fails_the_job_after_spaced_retries(
    live_cluster: LocalCluster, live_kubectl: Kubectl, live_namespace: str
) -> None:
    cluster, ns = live_cluster, live_namespace
    failing = {"localcluster.gitops.dev/exit-code": "3", "localcluster.gitops.dev/run-seconds": "1"}
    create(cluster, "batch", "v1", "jobs", ns, job_body("flaky", failing, backoffLimit=2))
    out = live_kubectl.run("wait", "--for=condition=failed", "-n", ns, "job/flaky", "--timeout=60s").stdout
    assert out.strip() == "job.batch/flaky condition met"
    j = job(cluster, ns, "flaky")
    status = j["status"]
    # backoffLimit 2: the third failure exceeds it; FailureTarget comes first, then Failed.
    assert status["failed"] == 3 and "succeeded" not in status
    assert [c["type"] for c in status["conditions"]] == ["FailureTarget", "Failed"]
    for cond in status["conditions"]:
        assert (cond["reason"], cond["message"]) == (
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
        )
    assert "completionTime" not in status and status["uncountedTerminatedPods"] == {}
    pods = sorted(pods_of(cluster, ns, "flaky"), key=lambda p: p["metadata"]["creationTimestamp"])
    assert [p["status"]["phase"] for p in pods] == ["Failed"] * 3
    assert not any(p["metadata"].get("finalizers") for p in pods)
    # Replacements wait 10 s, then 20 s, after the previous failure (DefaultJobPodFailureBackOff).
    finish = [
        parse_time(p["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"]).timestamp()
        for p in pods
    ]
    start = [parse_time(p["metadata"]["creationTimestamp"]).timestamp() for p in pods]
    assert start[1] - finish[0] >= 10 - 1
    assert start[2] - finish[1] >= 20 - 1


def test_active_deadline_fails_a_job_that_runs_too_long(
    live_cluster: LocalCluster, live_namespace: str
) -> None:
    cluster, ns = live_cluster, live_namespace
    slow = {"localcluster.gitops.dev/run-seconds": "100000"}
    create(cluster, "batch", "v1", "jobs", ns, job_body("slow", slow, activeDeadlineSeconds=5))
    j = finished(cluster, ns, "slow", "Failed")
    status = j["status"]
    assert [c["type"] for c in status["conditions"]] == ["FailureTarget", "Failed"]
    assert status["conditions"][-1]["reason"] == "DeadlineExceeded"
    assert status["conditions"][-1]["message"] == "Job was active longer than specified deadline"
    # The running pod was deleted and counted as failed.
    assert status["failed"] == 1 and status.get("active", 0) == 0 and status["terminating"] == 0
    elapsed = parse_time(status["conditions"][0]["lastTransitionTime"]) - parse_time(status["startTime"])
    assert elapsed.total_seconds() >= 5
    wait_for(lambda: not pods_of(cluster, ns, "slow"), what="the deleted pod gone")


def test_suspend_holds_the_pods_and_resume_starts_them(
    live_cluster: LocalCluster, live_namespace: str
) -> None:
    cluster, ns = live_cluster, live_namespace
    slow = {"localcluster.gitops.dev/run-seconds": "100000"}
    create(cluster, "batch", "v1", "jobs", ns, job_body("held", slow, suspend=True))
    j = wait_for(lambda: x if is_true(x := job(cluster, ns, "held"), "Suspended") else None, what="Suspended")
    cond = condition(j, "Suspended")
    assert cond is not None and (cond["reason"], cond["message"]) == ("JobSuspended", "Job suspended")
    assert "startTime" not in j["status"] and not pods_of(cluster, ns, "held")

    patch(cluster, "batch", "v1", "jobs", ns, "held", {"spec": {"suspend": False}})
    j = wait_for(
        lambda: (x := job(cluster, ns, "held"))["status"].get("ready") == 1 and x, what="a ready pod"
    )
    cond = condition(j, "Suspended")
    assert cond is not None and (cond["status"], cond["reason"], cond["message"]) == (
        "False",
        "JobResumed",
        "Job resumed",
    )
    assert j["status"]["active"] == 1 and "startTime" in j["status"]

    patch(cluster, "batch", "v1", "jobs", ns, "held", {"spec": {"suspend": True}})
    j = wait_for(
        lambda: (
            (x := job(cluster, ns, "held"))["status"].get("active", 0) == 0 and is_true(x, "Suspended") and x
        ),
        what="suspended again",
    )
    wait_for(lambda: not pods_of(cluster, ns, "held"), what="the pod deleted")
    assert not is_true(j, "Failed") and not is_true(j, "Complete")


def test_ttl_after_finished_deletes_the_finished_job(live_cluster: LocalCluster, live_namespace: str) -> None:
    cluster, ns = live_cluster, live_namespace
    create(cluster, "batch", "v1", "jobs", ns, job_body("brief", ttlSecondsAfterFinished=3600))
    done = finished(cluster, ns, "brief", "Complete")
    completed = parse_time(done["status"]["completionTime"]).timestamp()
    assert cluster.settle()
    assert get(cluster, "batch", "jobs", ns, "brief") is not None
    cluster.clock.advance(max(0.0, completed + 3600 - cluster.clock.time()) + 1)
    wait_for(lambda: get(cluster, "batch", "jobs", ns, "brief") is None, what="the job deleted")
    wait_for(lambda: not pods_of(cluster, ns, "brief"), what="its pods deleted (foreground)")


def test_deleting_a_running_job_releases_its_pods(live_cluster: LocalCluster, live_namespace: str) -> None:
    cluster, ns = live_cluster, live_namespace
    slow = {"localcluster.gitops.dev/run-seconds": "100000"}
    create(cluster, "batch", "v1", "jobs", ns, job_body("gone", slow, parallelism=2, completions=2))
    wait_for(lambda: job(cluster, ns, "gone")["status"].get("ready") == 2, what="two running pods")
    jobs_rt = cluster.registry.by_plural("batch", "v1", "jobs")
    assert jobs_rt is not None
    cluster.api.delete(jobs_rt, ns, "gone", {"propagationPolicy": "Background"})
    # The garbage collector deletes the pods; the Job controller drops their tracking finalizer
    # (the Job is gone), so they do not hang in Terminating.
    wait_for(lambda: not pods_of(cluster, ns, "gone"), what="the pods gone")


def test_on_failure_restarts_count_against_the_backoff_limit(
    live_cluster: LocalCluster, live_namespace: str
) -> None:
    cluster, ns = live_cluster, live_namespace
    failing = {"localcluster.gitops.dev/exit-code": "1", "localcluster.gitops.dev/run-seconds": "1"}
    body = job_body("restarts", failing, backoffLimit=1)
    body["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"
    create(cluster, "batch", "v1", "jobs", ns, body)
    # pastBackoffLimitOnFailure: the kubelet restarts the container in the same pod; one restart
    # reaches backoffLimit 1, and the running pod is deleted and counted as failed.
    status = finished(cluster, ns, "restarts", "Failed")["status"]
    assert status["conditions"][-1]["reason"] == "BackoffLimitExceeded"
    assert status["failed"] == 1 and len(pods_of(cluster, ns, "restarts")) <= 1
