"""The simulated kube-scheduler and kubelets (``controllers/pods.py``) against 1.32 behaviour.

Expectations come from ``pkg/kubelet/kubelet_pods.go`` (``generateAPIPodStatus``, ``getPhase``,
``convertToAPIContainerStatuses``), ``pkg/kubelet/status/generate.go`` (condition reasons and
messages), ``pkg/kubelet/kuberuntime/kuberuntime_manager.go`` (``doBackOff``: the
CrashLoopBackOff message and the 10 s doubling back-off capped at 5 minutes),
``pkg/kubelet/images/image_manager.go`` (``Back-off pulling image``),
``pkg/registry/core/pod/strategy.go`` (``CheckGracefulDelete``), ``apiserver/pkg/registry/rest/
delete.go`` (``BeforeDelete``) and ``pkg/scheduler`` (``FitError``). Most tests run on a
real-speed clock moved by ``clock.advance`` (see ``simkit``), so delays are exact.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import time
import uuid
from pathlib import Path

import pytest

from gitops.localcluster import LocalCluster, errors
from gitops.localcluster.clock import parse_time
from gitops.localcluster.controllers import pods as podsim
from tests.conftest import Kubectl
from tests.localcluster.controllers.simkit import (
    TEST,
    Recorder,
    advance,
    condition,
    container_state,
    create,
    pod,
    pod_body,
    pods,
    rt,
    sim_cluster,
    update,
    wait_for,
    waiting_reason,
)

KUBELET_CONDITIONS = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
CONTAINER_ID = re.compile(r"^containerd://[0-9a-f]{64}$")
NGINX_IMAGE = "nginx:1.27"


def _t(value: str) -> float:
    return parse_time(value).timestamp()


def _kubectl(cluster: LocalCluster, tmp_path: Path) -> Kubectl:
    home = tmp_path / "kubectl-home"
    home.mkdir(exist_ok=True)
    return Kubectl(cluster.kubeconfig, home)


def _status_column(kubectl: Kubectl, namespace: str) -> dict[str, tuple[str, str, str]]:
    """NAME -> (READY, STATUS, RESTARTS) from ``kubectl get pods``."""
    out = kubectl.run("get", "pods", "-n", namespace, "--no-headers").stdout
    rows = {}
    for line in out.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = (cells[1], cells[2], cells[3])
    return rows


# --------------------------------------------------------------------------- pod lifecycle


def test_pod_is_scheduled_then_starts_then_becomes_ready_after_the_delays(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(
            c,
            "",
            "pods",
            "default",
            pod_body(
                "web",
                annotations={podsim.START_AFTER: "30", podsim.READY_AFTER: "120"},
                volumes=[{"name": "cfg", "emptyDir": {}}],
                containers=[
                    {
                        "name": "app",
                        "image": "nginx:1.27",
                        "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg", "readOnly": True}],
                    }
                ],
            ),
        )
        assert c.settle()
        admitted = pod(c, "default", "web")
        assert admitted is not None
        status = admitted["status"]
        assert admitted["spec"]["nodeName"] == "local-node-1"
        # generateAPIPodStatus: the kubelet-owned conditions, in this order.
        assert [cond["type"] for cond in status["conditions"]] == KUBELET_CONDITIONS
        assert [cond["status"] for cond in status["conditions"]] == [
            "False",
            "True",
            "False",
            "False",
            "True",
        ]
        ready = condition(admitted, "Ready")
        assert ready is not None
        assert ready["reason"] == "ContainersNotReady"
        assert ready["message"] == "containers with unready status: [app]"
        assert all(cond["lastProbeTime"] is None for cond in status["conditions"])
        assert status["phase"] == "Pending"
        assert status["hostIP"] == "172.18.0.2" and status["hostIPs"] == [{"ip": "172.18.0.2"}]
        assert "podIP" not in status  # no sandbox yet
        assert status["qosClass"] == "BestEffort"
        start_time = _t(status["startTime"])
        cs = container_state(admitted)
        assert cs["state"] == {"waiting": {"reason": "ContainerCreating"}}
        assert cs["image"] == "nginx:1.27" and cs["imageID"] == ""
        assert cs["ready"] is False and cs["started"] is False and cs["restartCount"] == 0
        assert cs["lastState"] == {}
        assert "containerID" not in cs
        assert cs["volumeMounts"] == [
            {"name": "cfg", "mountPath": "/etc/cfg", "readOnly": True, "recursiveReadOnly": "Disabled"}
        ]

        advance(c, 29)
        assert container_state(pod(c, "default", "web"))["state"] == {
            "waiting": {"reason": "ContainerCreating"}
        }

        advance(c, 2)
        running = pod(c, "default", "web")
        assert running is not None
        cs = container_state(running)
        assert running["status"]["phase"] == "Running"
        assert set(cs["state"]) == {"running"}
        started_at = _t(cs["state"]["running"]["startedAt"])
        assert 29 <= started_at - start_time <= 31
        assert CONTAINER_ID.match(cs["containerID"])
        assert cs["image"] == "docker.io/library/nginx:1.27"
        assert re.match(r"^docker\.io/library/nginx@sha256:[0-9a-f]{64}$", cs["imageID"])
        assert cs["started"] is True and cs["ready"] is False
        assert ipaddress.ip_address(running["status"]["podIP"]) in ipaddress.ip_network("10.244.0.0/24")
        assert running["status"]["podIPs"] == [{"ip": running["status"]["podIP"]}]
        ready_to_start = condition(running, "PodReadyToStartContainers")
        assert ready_to_start is not None and ready_to_start["status"] == "True"
        assert condition(running, "Ready")["status"] == "False"  # type: ignore[index]
        # Initialized has not changed, so its lastTransitionTime has not moved.
        assert condition(running, "Initialized") == condition(admitted, "Initialized")

        advance(c, 118)
        assert condition(pod(c, "default", "web"), "Ready")["status"] == "False"  # type: ignore[index]
        advance(c, 2)
        done = pod(c, "default", "web")
        ready = condition(done, "Ready")
        assert ready == {
            "type": "Ready",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": ready["lastTransitionTime"],  # type: ignore[index]
        }
        assert 119 <= _t(ready["lastTransitionTime"]) - started_at <= 121  # type: ignore[index]
        assert condition(done, "ContainersReady")["status"] == "True"  # type: ignore[index]
        cs = container_state(done)
        assert cs["ready"] is True and cs["containerID"] == container_state(running)["containerID"]


def test_the_default_delays_come_from_the_options(tmp_path: Path) -> None:
    with sim_cluster(tmp_path, pod_start_seconds=10, pod_ready_seconds=50) as c:
        create(c, "", "pods", "default", pod_body("web"))
        assert c.settle()
        advance(c, 9)
        assert waiting_reason(pod(c, "default", "web")) == "ContainerCreating"
        advance(c, 2)
        assert pod(c, "default", "web")["status"]["phase"] == "Running"  # type: ignore[index]
        advance(c, 48)
        assert condition(pod(c, "default", "web"), "Ready")["status"] == "False"  # type: ignore[index]
        advance(c, 2)
        assert condition(pod(c, "default", "web"), "Ready")["status"] == "True"  # type: ignore[index]


def test_pod_ips_are_unique_and_come_from_each_nodes_cidr(
    live_cluster: LocalCluster, live_namespace: str
) -> None:
    for i in range(40):
        create(
            live_cluster, "", "pods", live_namespace, pod_body(f"p{i}", annotations={podsim.START_AFTER: "0"})
        )
    running = wait_for(
        lambda: (
            [p for p in pods(live_cluster, live_namespace) if p["status"].get("podIP")]
            if all(p["status"].get("podIP") for p in pods(live_cluster, live_namespace))
            else None
        ),
        what="pod IPs",
    )
    ips = [p["status"]["podIP"] for p in running]
    assert len(set(ips)) == 40
    all_ips = [
        p["status"]["podIP"] for p in live_cluster.store.items(("", "pods")) if p["status"].get("podIP")
    ]
    assert len(set(all_ips)) == len(all_ips)
    for ip in ips:
        assert ipaddress.ip_address(ip) in ipaddress.ip_network("10.244.0.0/16")


def test_host_network_pods_use_the_node_address(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(
            c,
            "",
            "pods",
            "default",
            pod_body("agent", annotations={podsim.START_AFTER: "0"}, hostNetwork=True),
        )
        assert c.settle()
        status = pod(c, "default", "agent")["status"]  # type: ignore[index]
        assert status["podIP"] == status["hostIP"] == "172.18.0.2"


# ---------------------------------------------------------------------------- steering


def test_bad_image_goes_err_image_pull_then_image_pull_back_off_with_growing_retries(tmp_path: Path) -> None:
    image = "registry.example.com/shop/bad-build:1.0"
    with sim_cluster(tmp_path) as c, Recorder(c, "pods", "default") as rec:
        create(c, "", "pods", "default", pod_body("web", image=image, annotations={podsim.START_AFTER: "0"}))
        assert c.settle()
        first = pod(c, "default", "web")
        cs = container_state(first)
        assert cs["state"]["waiting"]["reason"] == "ErrImagePull"
        assert cs["state"]["waiting"]["message"] == (
            f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
            f'failed to resolve reference "{image}": {image}: not found'
        )
        assert cs["image"] == image and cs["imageID"] == "" and "containerID" not in cs
        advance(c, 1)
        cs = container_state(pod(c, "default", "web"))
        assert cs["state"] == {
            "waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}
        }
        # The image back-off: the next pull 10 s after the failure, then 20 s, ...
        advance(c, 8)
        assert waiting_reason(pod(c, "default", "web")) == "ImagePullBackOff"
        advance(c, 1.5)
        assert waiting_reason(pod(c, "default", "web")) == "ErrImagePull"
        advance(c, 1)
        advance(c, 17)
        assert waiting_reason(pod(c, "default", "web")) == "ImagePullBackOff"
        advance(c, 2)
        assert waiting_reason(pod(c, "default", "web")) == "ErrImagePull"
        final = pod(c, "default", "web")
        assert final["status"]["phase"] == "Pending"  # type: ignore[index]
        assert final["status"]["podIP"]  # type: ignore[index]  # the sandbox exists
        assert condition(final, "PodReadyToStartContainers")["status"] == "True"  # type: ignore[index]
        assert rec.waiting_reasons("web")[:5] == [
            "ErrImagePull",
            "ImagePullBackOff",
            "ErrImagePull",
            "ImagePullBackOff",
            "ErrImagePull",
        ]


def test_crash_image_crash_loops_with_the_kubelet_back_off(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c, Recorder(c, "pods", "default") as rec:
        created = create(
            c,
            "",
            "pods",
            "default",
            pod_body("job", image="example/crash:2", annotations={podsim.START_AFTER: "0"}),
        )
        uid = created["metadata"]["uid"]
        assert c.settle()
        assert set(container_state(pod(c, "default", "job"))["state"]) == {"running"}
        advance(c, 1)  # exits with code 1: shown terminated until the next sync restarts it
        cs = container_state(pod(c, "default", "job"))
        assert cs["state"]["terminated"]["exitCode"] == 1
        assert cs["state"]["terminated"]["reason"] == "Error"
        first_id = cs["containerID"]
        advance(c, 1)  # restarted at once the first time
        cs = container_state(pod(c, "default", "job"))
        assert set(cs["state"]) == {"running"} and cs["restartCount"] == 1
        assert cs["lastState"]["terminated"]["containerID"] == first_id
        assert cs["containerID"] != first_id
        advance(c, 1)  # exits again: now in back-off
        expected = [("10s", 1), ("20s", 2), ("40s", 3), ("1m20s", 4), ("2m40s", 5), ("5m0s", 6), ("5m0s", 7)]
        for i, (backoff, restarts) in enumerate(expected):
            current = pod(c, "default", "job")
            cs = container_state(current)
            assert cs["state"]["waiting"] == {
                "reason": "CrashLoopBackOff",
                "message": f"back-off {backoff} restarting failed container=app pod=job_default({uid})",
            }
            assert cs["restartCount"] == restarts
            assert cs["ready"] is False and cs["started"] is False
            last = cs["lastState"]["terminated"]
            assert last["exitCode"] == 1 and last["reason"] == "Error"
            assert _t(last["finishedAt"]) - _t(last["startedAt"]) == 1
            assert current["status"]["phase"] == "Running"  # type: ignore[index]
            assert condition(current, "Ready")["status"] == "False"  # type: ignore[index]
            seconds = {"10s": 10, "20s": 20, "40s": 40, "1m20s": 80, "2m40s": 160, "5m0s": 300}[backoff]
            advance(c, seconds - 0.5)
            assert container_state(pod(c, "default", "job"))["restartCount"] == restarts, f"step {i}"
            advance(c, 0.5)  # restarted
            assert container_state(pod(c, "default", "job"))["restartCount"] == restarts + 1
            advance(c, 1)  # and crashed again
        assert "CrashLoopBackOff" in rec.waiting_reasons("job")
        rows = _status_column(_kubectl(c, tmp_path), "default")
        assert rows["job"][:2] == ("0/1", "CrashLoopBackOff")
        assert rows["job"][2].startswith("8 (")


def test_forced_states_override_the_image(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        for name, state, image in [
            ("runs", "Running", "example/crash:1"),
            ("unready", "NotReady", NGINX_IMAGE),
            ("crashes", "CrashLoopBackOff", NGINX_IMAGE),
            ("pulls", "ImagePullBackOff", NGINX_IMAGE),
            ("done", "Succeeded", NGINX_IMAGE),
            ("failed", "Failed", NGINX_IMAGE),
        ]:
            create(
                c,
                "",
                "pods",
                "default",
                pod_body(name, image=image, annotations={podsim.STATE: state, podsim.START_AFTER: "0"}),
            )
        assert c.settle()
        advance(c, 5)
        rows = _status_column(_kubectl(c, tmp_path), "default")
        assert rows["runs"][:2] == ("1/1", "Running")
        assert rows["unready"][:2] == ("0/1", "Running")
        assert rows["crashes"][1] == "CrashLoopBackOff"
        assert rows["pulls"][1] == "ImagePullBackOff"
        assert rows["done"][:2] == ("0/1", "Completed")
        assert rows["failed"][:2] == ("0/1", "Error")
        done = pod(c, "default", "done")
        assert done["status"]["phase"] == "Succeeded"  # type: ignore[index]
        failed = pod(c, "default", "failed")
        assert failed["status"]["phase"] == "Failed"  # type: ignore[index]
        assert container_state(failed)["state"]["terminated"]["exitCode"] == 1


def test_forced_state_change_on_a_running_pod_takes_effect(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(
            c,
            "",
            "pods",
            "default",
            pod_body("web", annotations={podsim.START_AFTER: "0", podsim.READY_AFTER: "0"}),
        )
        assert c.settle()
        assert condition(pod(c, "default", "web"), "Ready")["status"] == "True"  # type: ignore[index]
        update(
            c,
            "",
            "pods",
            "default",
            "web",
            lambda p: p["metadata"]["annotations"].update({podsim.STATE: "NotReady"}),
        )
        assert c.settle()
        assert condition(pod(c, "default", "web"), "Ready")["status"] == "False"  # type: ignore[index]
        assert pod(c, "default", "web")["status"]["phase"] == "Running"  # type: ignore[index]


def test_pending_state_leaves_the_pod_unschedulable_until_removed(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(c, "", "pods", "default", pod_body("web", annotations={podsim.STATE: "Pending"}))
        assert c.settle()
        waiting = pod(c, "default", "web")
        assert "nodeName" not in waiting["spec"]  # type: ignore[index]
        assert condition(waiting, "PodScheduled") == {
            "type": "PodScheduled",
            "status": "False",
            "lastProbeTime": None,
            "lastTransitionTime": condition(waiting, "PodScheduled")["lastTransitionTime"],  # type: ignore[index]
            "reason": "Unschedulable",
            "message": "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
            "1 No preemption victims found for incoming pod.",
        }
        assert _status_column(_kubectl(c, tmp_path), "default")["web"][1] == "Pending"
        update(c, "", "pods", "default", "web", lambda p: p["metadata"]["annotations"].pop(podsim.STATE))
        assert c.settle()
        bound = pod(c, "default", "web")
        assert bound["spec"]["nodeName"] == "local-node-1"  # type: ignore[index]
        scheduled = condition(bound, "PodScheduled")
        assert scheduled is not None and scheduled["status"] == "True" and "reason" not in scheduled


# ------------------------------------------------------------------- run-to-completion pods


def test_never_pods_exit_succeeded_or_failed_after_run_seconds(tmp_path: Path) -> None:
    with sim_cluster(tmp_path, job_run_seconds=7) as c:
        create(
            c,
            "",
            "pods",
            "default",
            pod_body("ok", annotations={podsim.START_AFTER: "0"}, restartPolicy="Never"),
        )
        create(
            c,
            "",
            "pods",
            "default",
            pod_body(
                "bad",
                annotations={podsim.START_AFTER: "0", podsim.RUN_SECONDS: "3", podsim.EXIT_CODE: "3"},
                restartPolicy="Never",
            ),
        )
        assert c.settle()
        advance(c, 3.5)
        failed = pod(c, "default", "bad")
        assert failed["status"]["phase"] == "Failed"  # type: ignore[index]
        term = container_state(failed)["state"]["terminated"]
        assert term["exitCode"] == 3 and term["reason"] == "Error"
        assert _t(term["finishedAt"]) - _t(term["startedAt"]) == 3
        assert condition(failed, "Ready")["reason"] == "PodFailed"  # type: ignore[index]
        assert pod(c, "default", "ok")["status"]["phase"] == "Running"  # type: ignore[index]
        advance(c, 4)
        done = pod(c, "default", "ok")
        assert done["status"]["phase"] == "Succeeded"  # type: ignore[index]
        term = container_state(done)["state"]["terminated"]
        assert term["exitCode"] == 0 and term["reason"] == "Completed"
        assert CONTAINER_ID.match(term["containerID"])
        assert {
            k: (v["status"], v.get("reason"))
            for k, v in ((t, condition(done, t)) for t in KUBELET_CONDITIONS)
        } == {  # type: ignore[index]
            "PodReadyToStartContainers": ("False", None),
            "Initialized": ("True", "PodCompleted"),
            "Ready": ("False", "PodCompleted"),
            "ContainersReady": ("False", "PodCompleted"),
            "PodScheduled": ("True", None),
        }
        rows = _status_column(_kubectl(c, tmp_path), "default")
        assert rows["ok"][:3] == ("0/1", "Completed", "0")
        assert rows["bad"][:3] == ("0/1", "Error", "0")
        # Terminal: nothing changes later.
        rv = done["metadata"]["resourceVersion"]  # type: ignore[index]
        advance(c, 600)
        assert pod(c, "default", "ok")["metadata"]["resourceVersion"] == rv  # type: ignore[index]


def test_on_failure_pods_restart_a_failing_container(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(
            c,
            "",
            "pods",
            "default",
            pod_body(
                "retry",
                annotations={podsim.START_AFTER: "0", podsim.RUN_SECONDS: "2", podsim.EXIT_CODE: "2"},
                restartPolicy="OnFailure",
            ),
        )
        assert c.settle()
        advance(c, 2)
        advance(c, 1)
        advance(c, 2)
        current = pod(c, "default", "retry")
        cs = container_state(current)
        assert current["status"]["phase"] == "Running"  # type: ignore[index]
        assert cs["restartCount"] == 1 and cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        assert cs["lastState"]["terminated"]["exitCode"] == 2


def test_active_deadline_fails_the_pod(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(
            c,
            "",
            "pods",
            "default",
            pod_body("slow", annotations={podsim.START_AFTER: "0"}, activeDeadlineSeconds=30),
        )
        assert c.settle()
        advance(c, 31)
        failed = pod(c, "default", "slow")
        assert failed["status"]["phase"] == "Failed"  # type: ignore[index]
        assert failed["status"]["reason"] == "DeadlineExceeded"  # type: ignore[index]
        assert failed["status"]["message"] == "Pod was active on the node longer than the specified deadline"  # type: ignore[index]
        assert container_state(failed)["state"]["terminated"]["exitCode"] == 137


def test_init_containers_run_before_the_app(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        body = pod_body("web", annotations={podsim.START_AFTER: "20"})
        body["spec"]["initContainers"] = [{"name": "migrate", "image": "example/migrate:1"}]
        create(c, "", "pods", "default", body)
        assert c.settle()
        waiting = pod(c, "default", "web")
        init = waiting["status"]["initContainerStatuses"][0]  # type: ignore[index]
        assert init["state"] == {"waiting": {"reason": "PodInitializing"}}
        assert container_state(waiting)["state"] == {"waiting": {"reason": "PodInitializing"}}
        initialized = condition(waiting, "Initialized")
        assert initialized is not None
        assert (initialized["status"], initialized["reason"], initialized["message"]) == (
            "False",
            "ContainersNotInitialized",
            "containers with incomplete status: [migrate]",
        )
        assert _status_column(_kubectl(c, tmp_path), "default")["web"][1] == "Init:0/1"
        advance(c, 21)
        running = pod(c, "default", "web")
        init = running["status"]["initContainerStatuses"][0]  # type: ignore[index]
        assert (
            init["state"]["terminated"]["exitCode"] == 0
            and init["state"]["terminated"]["reason"] == "Completed"
        )
        assert init["ready"] is True
        assert condition(running, "Initialized")["status"] == "True"  # type: ignore[index]
        assert set(container_state(running)["state"]) == {"running"}


def test_kubectl_status_column_shows_the_kubelets_reasons(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(c, "", "pods", "default", pod_body("creating", annotations={podsim.START_AFTER: "3600"}))
        create(c, "", "pods", "default", pod_body("running", annotations={podsim.START_AFTER: "0"}))
        create(
            c,
            "",
            "pods",
            "default",
            pod_body("badimage", image="bad:1", annotations={podsim.START_AFTER: "0"}),
        )
        create(
            c,
            "",
            "pods",
            "default",
            pod_body("stopping", annotations={podsim.START_AFTER: "0", podsim.TERMINATE_AFTER: "3600"}),
        )
        assert c.settle()
        advance(c, 2)
        c.api.delete(rt(c, "", "pods"), "default", "stopping", {})
        assert c.settle()
        rows = _status_column(_kubectl(c, tmp_path), "default")
        assert rows["creating"][:2] == ("0/1", "ContainerCreating")
        assert rows["running"][:2] == ("1/1", "Running")
        assert rows["badimage"][:2] == ("0/1", "ImagePullBackOff")
        assert rows["stopping"][:2] == ("1/1", "Terminating")


# ---------------------------------------------------------------------------- deletion


def test_deleting_a_running_pod_stops_it_then_removes_it(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c, Recorder(c, "pods", "default") as rec:
        create(
            c,
            "",
            "pods",
            "default",
            pod_body("web", annotations={podsim.START_AFTER: "0", podsim.TERMINATE_AFTER: "5"}),
        )
        assert c.settle()
        before = c.clock.time()
        result = c.api.delete(rt(c, "", "pods"), "default", "web", {})
        marked = result.obj
        assert marked["metadata"]["deletionGracePeriodSeconds"] == 30
        assert 29 <= _t(marked["metadata"]["deletionTimestamp"]) - before <= 31
        assert c.settle()
        assert pod(c, "default", "web") is not None  # still stopping
        advance(c, 4)
        assert pod(c, "default", "web") is not None
        advance(c, 1.5)
        assert pod(c, "default", "web") is None
        events = rec.of("web")
        assert events[-1].type == "DELETED"
        last = events[-2].obj  # the status the kubelet posted before deleting
        assert last["status"]["phase"] == "Succeeded"
        term = container_state(last)["state"]["terminated"]
        assert term["exitCode"] == 0 and term["reason"] == "Completed"


def test_containers_outliving_the_grace_period_are_killed(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c, Recorder(c, "pods", "default") as rec:
        body = pod_body("web", annotations={podsim.START_AFTER: "0", podsim.TERMINATE_AFTER: "3600"})
        body["spec"]["terminationGracePeriodSeconds"] = 10
        create(c, "", "pods", "default", body)
        assert c.settle()
        c.api.delete(rt(c, "", "pods"), "default", "web", {})
        assert c.settle()
        advance(c, 9)
        assert pod(c, "default", "web") is not None
        advance(c, 2)
        assert pod(c, "default", "web") is None
        last = rec.of("web")[-2].obj
        assert last["status"]["phase"] == "Failed"
        assert container_state(last)["state"]["terminated"]["exitCode"] == 137


def test_kubectl_delete_pod_returns_once_the_pod_is_gone(
    live_cluster: LocalCluster, live_kubectl: Kubectl, live_namespace: str
) -> None:
    create(live_cluster, "", "pods", live_namespace, pod_body("web"))
    wait_for(
        lambda: (pod(live_cluster, live_namespace, "web") or {}).get("status", {}).get("phase") == "Running"
    )
    started = time.monotonic()
    out = live_kubectl.run("delete", "pod", "web", "-n", live_namespace, timeout=60)
    assert out.stdout.strip() == 'pod "web" deleted'
    assert time.monotonic() - started < 30
    assert pod(live_cluster, live_namespace, "web") is None


def test_force_delete_removes_a_stopping_pod_at_once(
    live_cluster: LocalCluster, live_kubectl: Kubectl, live_namespace: str
) -> None:
    create(
        live_cluster,
        "",
        "pods",
        live_namespace,
        pod_body("web", annotations={podsim.TERMINATE_AFTER: "100000"}),
    )
    wait_for(
        lambda: (pod(live_cluster, live_namespace, "web") or {}).get("status", {}).get("phase") == "Running"
    )
    live_cluster.api.delete(rt(live_cluster, "", "pods"), live_namespace, "web", {})
    assert (pod(live_cluster, live_namespace, "web") or {})["metadata"]["deletionTimestamp"]
    out = live_kubectl.run("delete", "pod", "web", "-n", live_namespace, "--grace-period=0", "--force")
    assert 'pod "web" force deleted' in out.stdout
    assert pod(live_cluster, live_namespace, "web") is None


def test_deleting_a_namespace_waits_for_its_pods_to_stop(live_cluster: LocalCluster) -> None:
    ns = f"l-{uuid.uuid4().hex[:10]}"
    create(live_cluster, "", "namespaces", "", {"metadata": {"name": ns}})
    for i in range(3):
        create(live_cluster, "", "pods", ns, pod_body(f"p{i}"))
    wait_for(
        lambda: (
            all(p["status"].get("phase") == "Running" for p in pods(live_cluster, ns))
            and len(pods(live_cluster, ns)) == 3
        )
    )
    live_cluster.api.delete(rt(live_cluster, "", "namespaces"), "", ns, {})
    wait_for(lambda: live_cluster.store.get(("", "namespaces"), ("", ns)) is None, what="namespace gone")


# ------------------------------------------------------- graceful deletion in the API server


def _bound_pod(cluster: LocalCluster, namespace: str, name: str, **spec: object) -> dict[str, object]:
    return create(cluster, "", "pods", namespace, pod_body(name, nodeName="somewhere", **spec))


def test_api_keeps_a_bound_pod_with_a_deletion_timestamp(cluster: LocalCluster, namespace: str) -> None:
    pods_rt = rt(cluster, "", "pods")
    _bound_pod(cluster, namespace, "web")
    now = cluster.clock.time()
    marked = cluster.api.delete(pods_rt, namespace, "web", {"propagationPolicy": "Background"}).obj
    meta = marked["metadata"]
    assert meta["deletionGracePeriodSeconds"] == 30
    assert 29 <= _t(meta["deletionTimestamp"]) - now <= 31
    assert (
        cluster.api.get(pods_rt, namespace, "web")["metadata"]["deletionTimestamp"]
        == meta["deletionTimestamp"]
    )
    # Again with no options: graceful deletion is pending, nothing changes.
    again = cluster.api.delete(pods_rt, namespace, "web", {}).obj
    assert again["metadata"]["resourceVersion"] == meta["resourceVersion"]
    # A longer grace period is ignored, a shorter one moves the deadline back.
    cluster.api.delete(pods_rt, namespace, "web", {"gracePeriodSeconds": 60})
    shorter = cluster.api.delete(pods_rt, namespace, "web", {"gracePeriodSeconds": 10}).obj
    assert shorter["metadata"]["deletionGracePeriodSeconds"] == 10
    assert _t(meta["deletionTimestamp"]) - _t(shorter["metadata"]["deletionTimestamp"]) == 20
    # The kubelet's final delete.
    cluster.api.delete(
        pods_rt, namespace, "web", {"gracePeriodSeconds": 0, "preconditions": {"uid": meta["uid"]}}
    )
    with pytest.raises(errors.StatusError) as err:
        cluster.api.get(pods_rt, namespace, "web")
    assert err.value.code == 404


def test_api_deletes_unbound_and_terminal_pods_at_once(cluster: LocalCluster, namespace: str) -> None:
    pods_rt = rt(cluster, "", "pods")
    create(cluster, "", "pods", namespace, pod_body("unbound"))
    cluster.api.delete(pods_rt, namespace, "unbound", {})
    assert pod(cluster, namespace, "unbound") is None
    done = _bound_pod(cluster, namespace, "done")
    finished = copy.deepcopy(done)
    finished["status"] = {"phase": "Succeeded"}
    cluster.api.update(pods_rt, namespace, "done", finished, TEST, "status")
    cluster.api.delete(pods_rt, namespace, "done", {})
    assert pod(cluster, namespace, "done") is None


def test_api_grace_period_comes_from_the_pod_spec_and_negative_means_one(
    cluster: LocalCluster, namespace: str
) -> None:
    pods_rt = rt(cluster, "", "pods")
    _bound_pod(cluster, namespace, "quick", terminationGracePeriodSeconds=5)
    assert (
        cluster.api.delete(pods_rt, namespace, "quick", {}).obj["metadata"]["deletionGracePeriodSeconds"] == 5
    )
    _bound_pod(cluster, namespace, "negative")
    marked = cluster.api.delete(pods_rt, namespace, "negative", {"gracePeriodSeconds": -3}).obj
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 1


def test_api_grace_period_query_parameter(cluster: LocalCluster, namespace: str) -> None:
    import httpx

    _bound_pod(cluster, namespace, "web")
    response = httpx.delete(f"{cluster.url}/api/v1/namespaces/{namespace}/pods/web?gracePeriodSeconds=0")
    assert response.status_code == 200
    assert pod(cluster, namespace, "web") is None


def test_api_pod_with_finalizer_waits_for_it_after_grace(cluster: LocalCluster, namespace: str) -> None:
    pods_rt = rt(cluster, "", "pods")
    body = pod_body("held", nodeName="somewhere")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    create(cluster, "", "pods", namespace, body)
    cluster.api.delete(pods_rt, namespace, "held", {})
    cluster.api.delete(pods_rt, namespace, "held", {"gracePeriodSeconds": 0})
    held = pod(cluster, namespace, "held")
    assert held is not None and held["metadata"]["deletionGracePeriodSeconds"] == 0
    update(cluster, "", "pods", namespace, "held", lambda p: p["metadata"].pop("finalizers"))
    assert pod(cluster, namespace, "held") is None


def test_api_pod_losing_its_finalizer_during_grace_waits_for_its_kubelet(
    cluster: LocalCluster, namespace: str
) -> None:
    # Store.shouldDeleteDuringUpdate: no finalizer left, but a grace period is pending.
    pods_rt = rt(cluster, "", "pods")
    body = pod_body("held", nodeName="somewhere")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    create(cluster, "", "pods", namespace, body)
    cluster.api.delete(pods_rt, namespace, "held", {})
    update(cluster, "", "pods", namespace, "held", lambda p: p["metadata"].pop("finalizers"))
    held = pod(cluster, namespace, "held")
    assert held is not None and held["metadata"]["deletionGracePeriodSeconds"] == 30
    cluster.api.delete(pods_rt, namespace, "held", {"gracePeriodSeconds": 0})
    assert pod(cluster, namespace, "held") is None


def test_api_binding_sets_the_node_once(cluster: LocalCluster, namespace: str) -> None:
    create(cluster, "", "pods", namespace, pod_body("web"))
    cluster.api.bind_pod(namespace, "web", "node-a")
    bound = pod(cluster, namespace, "web")
    assert bound is not None and bound["spec"]["nodeName"] == "node-a"
    scheduled = condition(bound, "PodScheduled")
    assert scheduled is not None and scheduled["status"] == "True" and scheduled["lastProbeTime"] is None
    with pytest.raises(errors.StatusError) as err:
        cluster.api.bind_pod(namespace, "web", "node-b")
    assert err.value.code == 409
    assert err.value.message == (
        'Operation cannot be fulfilled on pods/binding "web": pod web is already assigned to node "node-a"'
    )


# ---------------------------------------------------------------------------- scheduler


def test_scheduler_spreads_pods_over_nodes(tmp_path: Path) -> None:
    with sim_cluster(tmp_path, nodes=3) as c:
        for i in range(9):
            create(c, "", "pods", "default", pod_body(f"p{i}"))
        assert c.settle()
        per_node: dict[str, int] = {}
        for p in pods(c, "default"):
            per_node[p["spec"]["nodeName"]] = per_node.get(p["spec"]["nodeName"], 0) + 1
        assert per_node == {"local-node-1": 3, "local-node-2": 3, "local-node-3": 3}


def test_scheduler_honours_node_selectors_and_affinity(tmp_path: Path) -> None:
    with sim_cluster(tmp_path, nodes=3) as c:
        create(
            c,
            "",
            "pods",
            "default",
            pod_body("selected", nodeSelector={"kubernetes.io/hostname": "local-node-3"}),
        )
        # A DaemonSet pod: required node affinity on the node's name (matchFields).
        affinity = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchFields": [
                                {"key": "metadata.name", "operator": "In", "values": ["local-node-2"]}
                            ]
                        }
                    ]
                }
            }
        }
        create(c, "", "pods", "default", pod_body("daemon", affinity=affinity))
        create(c, "", "pods", "default", pod_body("pinned", nodeName="local-node-1"))
        assert c.settle()
        assert pod(c, "default", "selected")["spec"]["nodeName"] == "local-node-3"  # type: ignore[index]
        assert pod(c, "default", "daemon")["spec"]["nodeName"] == "local-node-2"  # type: ignore[index]
        pinned = pod(c, "default", "pinned")
        assert pinned["spec"]["nodeName"] == "local-node-1"  # type: ignore[index]
        assert condition(pinned, "PodScheduled")["status"] == "True"  # type: ignore[index]


def test_unmatched_selector_is_unschedulable_until_a_node_matches(tmp_path: Path) -> None:
    with sim_cluster(tmp_path, nodes=2) as c:
        create(c, "", "pods", "default", pod_body("gpu", nodeSelector={"example.com/gpu": "true"}))
        assert c.settle()
        waiting = pod(c, "default", "gpu")
        scheduled = condition(waiting, "PodScheduled")
        assert scheduled is not None and scheduled["reason"] == "Unschedulable"
        assert scheduled["message"] == (
            "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. "
            "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        )
        update(
            c,
            "",
            "nodes",
            "",
            "local-node-2",
            lambda n: n["metadata"]["labels"].update({"example.com/gpu": "true"}),
        )
        assert c.settle()
        assert pod(c, "default", "gpu")["spec"]["nodeName"] == "local-node-2"  # type: ignore[index]


def test_requests_beyond_allocatable_are_unschedulable(tmp_path: Path) -> None:
    with sim_cluster(tmp_path, nodes=2) as c:
        body = pod_body("huge")
        body["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "6", "memory": "1Gi"}}
        create(c, "", "pods", "default", body)
        body2 = copy.deepcopy(body)
        body2["metadata"]["name"] = "huge2"
        create(c, "", "pods", "default", body2)
        body3 = copy.deepcopy(body)
        body3["metadata"]["name"] = "huge3"
        create(c, "", "pods", "default", body3)
        assert c.settle()
        assert {pod(c, "default", n)["spec"].get("nodeName") for n in ("huge", "huge2")} == {  # type: ignore[index]
            "local-node-1",
            "local-node-2",
        }
        third = pod(c, "default", "huge3")
        assert "nodeName" not in third["spec"]  # type: ignore[index]
        assert condition(third, "PodScheduled")["message"] == (  # type: ignore[index]
            "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: "
            "2 No preemption victims found for incoming pod."
        )
        # Room frees up when a pod goes.
        c.api.delete(rt(c, "", "pods"), "default", "huge", {})
        assert c.settle()
        advance(c, 2)
        assert pod(c, "default", "huge3")["spec"]["nodeName"] == "local-node-1"  # type: ignore[index]


def test_cordoned_and_not_ready_nodes_get_no_new_pods(tmp_path: Path) -> None:
    with sim_cluster(tmp_path, nodes=3) as c:
        update(c, "", "nodes", "", "local-node-1", lambda n: n["spec"].update({"unschedulable": True}))
        update(
            c,
            "",
            "nodes",
            "",
            "local-node-2",
            lambda n: (
                n["metadata"]
                .setdefault("annotations", {})
                .update({"localcluster.gitops.dev/state": "NotReady"})
            ),
        )
        assert c.settle()
        for i in range(4):
            create(c, "", "pods", "default", pod_body(f"p{i}"))
        assert c.settle()
        assert {p["spec"]["nodeName"] for p in pods(c, "default")} == {"local-node-3"}


def test_scheduling_gates_hold_the_pod(tmp_path: Path) -> None:
    with sim_cluster(tmp_path) as c:
        create(c, "", "pods", "default", pod_body("gated", schedulingGates=[{"name": "example.com/wait"}]))
        assert c.settle()
        gated = pod(c, "default", "gated")
        scheduled = condition(gated, "PodScheduled")
        assert scheduled is not None
        assert (scheduled["reason"], scheduled["message"]) == (
            "SchedulingGated",
            "Scheduling is blocked due to non-empty scheduling gates",
        )
        assert _status_column(_kubectl(c, tmp_path), "default")["gated"][1] == "SchedulingGated"
