"""Regenerate tests/health/fixtures/ from the local cluster: ``python -m tests.health.generate_fixtures``.

Each scenario applies manifests to a fresh namespace of a ``LocalCluster(clock_scale=20)`` with
its simulated controllers, waits until the object is in the state the fixture is named after,
and writes ``<kind>-<state>.yaml``: the object, then its pods, as YAML documents
(``managedFields`` dropped). The tests read the committed files, never the cluster.

States the simulated cluster does not produce are made as their controller would: a
LoadBalancer's ingress is set through the status subresource (there is no load-balancer
controller); pvc-pending is the claim with the status a cluster without a provisioner reports
(the local cluster binds every claim at once); crd-not-established is the established CRD with
the conditions a real API server reports in the moment before (``Installing``).
"""

from __future__ import annotations

import copy
import json
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from gitops.localcluster import LocalCluster

FIXTURES = Path(__file__).parent / "fixtures"
KUBECTL = "/usr/bin/kubectl"

Obj = dict[str, Any]


class Kube:
    def __init__(self, cluster: LocalCluster, home: str) -> None:
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": home,
            "KUBECONFIG": str(cluster.kubeconfig),
            "KUBECTL_COMMAND_HEADERS": "false",
        }

    def run(self, *args: str, input: str | None = None) -> str:
        proc = subprocess.run(
            [KUBECTL, *args], input=input, capture_output=True, text=True, env=self.env, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {proc.stderr}")
        return proc.stdout

    def apply(self, ns: str, *docs: Mapping[str, Any]) -> None:
        self.run("apply", "-n", ns, "-f", "-", input=yaml.safe_dump_all(list(docs)))

    def get(self, ns: str, kind: str, name: str) -> Obj:
        out: Obj = json.loads(self.run("get", "-n", ns, kind, name, "-o", "json"))
        return out

    def pods(self, ns: str) -> list[Obj]:
        items: list[Obj] = json.loads(self.run("get", "-n", ns, "pods", "-o", "json"))["items"]
        return sorted(items, key=lambda p: p["metadata"]["name"])


def wait(what: str, fn: Callable[[], bool], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fn():
            return
        time.sleep(0.1)
    raise TimeoutError(what)


def write(name: str, obj: Obj, pods: Sequence[Obj] = ()) -> None:
    docs = []
    for d in [obj, *pods]:
        d = copy.deepcopy(d)
        d["metadata"].pop("managedFields", None)
        docs.append(d)
    (FIXTURES / f"{name}.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    print("wrote", name)


def deployment(
    name: str, image: str = "nginx:1.27", replicas: int = 3, annotations: Mapping[str, str] = {}, **spec: Any
) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}, "annotations": dict(annotations)},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
            **spec,
        },
    }


def cond(obj: Obj, ctype: str) -> Mapping[str, Any]:
    for c in obj.get("status", {}).get("conditions") or []:
        if c["type"] == ctype:
            return dict(c)
    return {}


def restarts(pods: list[Obj], n: int) -> bool:
    return any(
        cs.get("restartCount", 0) >= n
        for p in pods
        for cs in p.get("status", {}).get("containerStatuses") or []
    )


def waiting(pods: list[Obj], reason: str) -> bool:
    return any(
        (cs.get("state") or {}).get("waiting", {}).get("reason") == reason
        for p in pods
        for cs in p.get("status", {}).get("containerStatuses") or []
    )


def main() -> None:
    FIXTURES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as home, LocalCluster(clock_scale=20) as cluster:
        k = Kube(cluster, home)
        counter = iter(range(1000))

        def ns() -> str:
            name = f"h{next(counter)}"
            k.run(
                "apply",
                "-f",
                "-",
                input=yaml.safe_dump({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
            )
            return name

        # ---- Deployments
        n = ns()
        k.apply(n, deployment("web"))
        wait(
            "healthy",
            lambda: (
                k.get(n, "deploy", "web").get("status", {}).get("availableReplicas") == 3
                and cond(k.get(n, "deploy", "web"), "Progressing").get("reason") == "NewReplicaSetAvailable"
            ),
        )
        write("deployment-healthy", k.get(n, "deploy", "web"), k.pods(n))

        n = ns()
        k.apply(n, deployment("web", annotations={"localcluster.gitops.dev/ready-after": "3600"}))
        wait(
            "progressing",
            lambda: all(p["status"].get("phase") == "Running" for p in k.pods(n)) and len(k.pods(n)) == 3,
        )
        write("deployment-progressing", k.get(n, "deploy", "web"), k.pods(n))

        n = ns()
        k.apply(n, deployment("web", image="registry.example.com/crash:1.0"))
        wait("crashloop", lambda: restarts(k.pods(n), 2) and waiting(k.pods(n), "CrashLoopBackOff"))
        write("deployment-crashloop", k.get(n, "deploy", "web"), k.pods(n))

        n = ns()
        k.apply(n, deployment("web", image="registry.example.com/bad:1.0"))
        wait("imagepull", lambda: waiting(k.pods(n), "ImagePullBackOff"))
        write("deployment-imagepullbackoff", k.get(n, "deploy", "web"), k.pods(n))

        n = ns()
        k.apply(
            n,
            deployment(
                "web", annotations={"localcluster.gitops.dev/state": "Pending"}, progressDeadlineSeconds=60
            ),
        )
        wait(
            "deadline",
            lambda: (
                cond(k.get(n, "deploy", "web"), "Progressing").get("reason") == "ProgressDeadlineExceeded"
            ),
        )
        write("deployment-deadline-exceeded", k.get(n, "deploy", "web"), k.pods(n))

        n = ns()
        k.apply(n, deployment("web"))
        wait("rolled out", lambda: k.get(n, "deploy", "web").get("status", {}).get("availableReplicas") == 3)
        k.run("rollout", "pause", "-n", n, "deployment/web")
        k.run("set", "image", "-n", n, "deployment/web", "app=nginx:1.28")
        wait(
            "paused",
            lambda: (
                cond(k.get(n, "deploy", "web"), "Progressing").get("reason") == "DeploymentPaused"
                and k.get(n, "deploy", "web")["status"].get("observedGeneration")
                == k.get(n, "deploy", "web")["metadata"]["generation"]
            ),
        )
        write("deployment-paused", k.get(n, "deploy", "web"), k.pods(n))

        # ---- StatefulSets
        def sts(name: str, image: str = "postgres:16", annotations: Mapping[str, str] = {}) -> Obj:
            d = deployment(name, image=image, replicas=2, annotations=annotations, serviceName=name)
            d["kind"] = "StatefulSet"
            return d

        n = ns()
        k.apply(n, sts("db"))
        wait(
            "sts healthy",
            lambda: (
                k.get(n, "sts", "db").get("status", {}).get("readyReplicas") == 2
                and k.get(n, "sts", "db")["status"].get("currentRevision")
                == k.get(n, "sts", "db")["status"].get("updateRevision")
            ),
        )
        write("statefulset-healthy", k.get(n, "sts", "db"), k.pods(n))

        n = ns()
        k.apply(n, sts("db", annotations={"localcluster.gitops.dev/ready-after": "3600"}))
        wait(
            "sts progressing",
            lambda: len(k.pods(n)) == 1 and k.pods(n)[0]["status"].get("phase") == "Running",
        )
        write("statefulset-progressing", k.get(n, "sts", "db"), k.pods(n))

        n = ns()
        k.apply(n, sts("db", image="registry.example.com/bad:16"))
        wait("sts imagepull", lambda: waiting(k.pods(n), "ImagePullBackOff"))
        write("statefulset-imagepullbackoff", k.get(n, "sts", "db"), k.pods(n))

        # ---- DaemonSets
        def ds(name: str, annotations: Mapping[str, str] = {}, image: str = "fluent/fluent-bit:3.1") -> Obj:
            d = deployment(name, image=image, annotations=annotations)
            d["kind"] = "DaemonSet"
            del d["spec"]["replicas"]
            return d

        n = ns()
        k.apply(n, ds("logs"))
        wait("ds healthy", lambda: k.get(n, "ds", "logs").get("status", {}).get("numberAvailable") == 1)
        write("daemonset-healthy", k.get(n, "ds", "logs"), k.pods(n))

        n = ns()
        k.apply(n, ds("logs", annotations={"localcluster.gitops.dev/ready-after": "3600"}))
        wait(
            "ds progressing", lambda: len(k.pods(n)) == 1 and k.pods(n)[0]["status"].get("phase") == "Running"
        )
        write("daemonset-progressing", k.get(n, "ds", "logs"), k.pods(n))

        n = ns()
        k.apply(n, ds("logs", image="fluent/crash:3.1"))
        wait("ds crash", lambda: restarts(k.pods(n), 2) and waiting(k.pods(n), "CrashLoopBackOff"))
        write("daemonset-crashloop", k.get(n, "ds", "logs"), k.pods(n))

        # ---- Jobs
        def job(name: str, annotations: Mapping[str, str], **spec: Any) -> Obj:
            return {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"name": name},
                "spec": {
                    "template": {
                        "metadata": {"annotations": dict(annotations)},
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "migrate", "image": "migrate:2"}],
                        },
                    },
                    **spec,
                },
            }

        n = ns()
        k.apply(n, job("migrate", {}))
        wait("job complete", lambda: cond(k.get(n, "job", "migrate"), "Complete").get("status") == "True")
        write("job-complete", k.get(n, "job", "migrate"), k.pods(n))

        n = ns()
        k.apply(n, job("migrate", {"localcluster.gitops.dev/state": "Failed"}, backoffLimit=1))
        wait("job failed", lambda: cond(k.get(n, "job", "migrate"), "Failed").get("status") == "True")
        write("job-failed", k.get(n, "job", "migrate"), k.pods(n))

        n = ns()
        k.apply(n, job("migrate", {"localcluster.gitops.dev/run-seconds": "3600"}))
        wait("job running", lambda: len(k.pods(n)) == 1 and k.pods(n)[0]["status"].get("phase") == "Running")
        write("job-running", k.get(n, "job", "migrate"), k.pods(n))

        # ---- Pods
        def pod(name: str, image: str = "nginx:1.27", annotations: Mapping[str, str] = {}) -> Obj:
            return {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "annotations": dict(annotations)},
                "spec": {"containers": [{"name": "app", "image": image}]},
            }

        n = ns()
        k.apply(n, pod("debug"))
        wait("pod ready", lambda: cond(k.get(n, "pod", "debug"), "Ready").get("status") == "True")
        write("pod-running", k.get(n, "pod", "debug"))

        n = ns()
        k.apply(n, pod("debug", annotations={"localcluster.gitops.dev/state": "Pending"}))
        wait(
            "pod unschedulable",
            lambda: cond(k.get(n, "pod", "debug"), "PodScheduled").get("reason") == "Unschedulable",
        )
        write("pod-unschedulable", k.get(n, "pod", "debug"))

        n = ns()
        k.apply(n, pod("debug", image="crash:1"))
        wait(
            "pod crash",
            lambda: (
                restarts([k.get(n, "pod", "debug")], 2)
                and waiting([k.get(n, "pod", "debug")], "CrashLoopBackOff")
            ),
        )
        write("pod-crashloop", k.get(n, "pod", "debug"))

        n = ns()
        k.apply(n, pod("debug", image="crash:1"))
        wait("pod first crash", lambda: waiting([k.get(n, "pod", "debug")], "CrashLoopBackOff"))
        write("pod-crashloop-first", k.get(n, "pod", "debug"))

        n = ns()
        k.apply(n, pod("debug", image="bad:1"))
        wait("pod imagepull", lambda: waiting([k.get(n, "pod", "debug")], "ImagePullBackOff"))
        write("pod-imagepullbackoff", k.get(n, "pod", "debug"))

        # ---- Services
        def svc(name: str, stype: str) -> Obj:
            return {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name},
                "spec": {
                    "type": stype,
                    "selector": {"app": name},
                    "ports": [{"port": 80, "targetPort": 8080}],
                },
            }

        n = ns()
        k.apply(n, svc("web", "ClusterIP"))
        write("service-clusterip", k.get(n, "svc", "web"))
        k.apply(n, svc("lb", "LoadBalancer"))
        write("service-loadbalancer-pending", k.get(n, "svc", "lb"))
        k.run(
            "patch",
            "-n",
            n,
            "svc",
            "lb",
            "--subresource=status",
            "--type=merge",
            "-p",
            json.dumps({"status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}}),
        )
        write("service-loadbalancer-ready", k.get(n, "svc", "lb"))

        # ---- PVCs
        def pvc(name: str, **spec: Any) -> Obj:
            return {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": name},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                    **spec,
                },
            }

        n = ns()
        k.apply(n, pvc("data", storageClassName="standard"))
        wait("pvc bound", lambda: k.get(n, "pvc", "data").get("status", {}).get("phase") == "Bound")
        write("pvc-bound", k.get(n, "pvc", "data"))
        pending = copy.deepcopy(k.get(n, "pvc", "data"))
        pending["status"] = {"phase": "Pending"}
        write("pvc-pending", pending)

        # ---- CRDs
        crd = {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "names": {
                    "kind": "Widget",
                    "plural": "widgets",
                    "singular": "widget",
                    "listKind": "WidgetList",
                },
                "scope": "Namespaced",
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            }
                        },
                    }
                ],
            },
        }
        k.run("apply", "-f", "-", input=yaml.safe_dump(crd))
        wait(
            "crd",
            lambda: (
                cond(json.loads(k.run("get", "crd", "widgets.example.com", "-o", "json")), "Established").get(
                    "status"
                )
                == "True"
            ),
        )
        live = json.loads(k.run("get", "crd", "widgets.example.com", "-o", "json"))
        write("crd-established", live)
        installing = copy.deepcopy(live)
        for c in installing["status"]["conditions"]:
            if c["type"] == "Established":
                c.update(status="False", reason="Installing", message="the initial names have been accepted")
        write("crd-not-established", installing)


if __name__ == "__main__":
    main()
