"""Benchmark: 100 Deployments x 10 replicas rolled out at once on the local cluster.

Run: ``.venv/bin/python bench/bench_rollout.py [--deployments 100] [--replicas 10] [--clock-scale 1]``.
The cluster runs as ``gitops local-cluster serve`` in its own process with its simulated
controllers (pods become ready after the default simulated delays). The script applies every
Deployment, then changes every image (a rolling update), and measures the wall time until
all report the new revision complete; meanwhile a second thread GETs an unrelated ConfigMap in a
loop, and the p50/p99 of those GETs are the API server's responsiveness under that load.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import threading
import time
from typing import Any

import httpx
from served import served  # bench/served.py (scripts run from bench/ on sys.path)


def deployment(name: str, replicas: int, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": image}]},
            },
        },
    }


def apply(http: httpx.Client, ns: str, obj: dict[str, Any]) -> None:
    r = http.patch(
        f"/apis/apps/v1/namespaces/{ns}/deployments/{obj['metadata']['name']}?fieldManager=bench&force=true",
        content=json.dumps(obj).encode(),
        headers={"content-type": "application/apply-patch+yaml"},
    )
    r.raise_for_status()


def complete(d: dict[str, Any]) -> bool:
    """kubectl rollout status's verdict (K8S-API.md §6.9)."""
    spec, status, meta = d["spec"], d.get("status", {}), d["metadata"]
    if status.get("observedGeneration", 0) < meta.get("generation", 0):
        return False
    want = spec.get("replicas", 1)
    return (
        status.get("updatedReplicas", 0) >= want
        and status.get("replicas", 0) <= status.get("updatedReplicas", 0)
        and status.get("availableReplicas", 0) >= status.get("updatedReplicas", 0)
    )


def wait_all(http: httpx.Client, ns: str, n: int, timeout: float) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        items = http.get(f"/apis/apps/v1/namespaces/{ns}/deployments").json()["items"]
        if len(items) == n and all(complete(d) for d in items):
            return time.perf_counter() - start
        time.sleep(0.2)
    raise RuntimeError(f"rollout did not finish in {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployments", type=int, default=100)
    parser.add_argument("--replicas", type=int, default=10)
    parser.add_argument("--clock-scale", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    latencies: list[float] = []
    stop = threading.Event()
    with (
        served("--clock-scale", str(args.clock_scale)) as (url, _),
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        ns = "rollout"
        http.post("/api/v1/namespaces", json={"metadata": {"name": ns}}).raise_for_status()
        http.post(
            f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": "probe"}}
        ).raise_for_status()

        def probe() -> None:
            with httpx.Client(base_url=url, timeout=60) as p:
                while not stop.is_set():
                    t = time.perf_counter()
                    p.get(f"/api/v1/namespaces/{ns}/configmaps/probe").raise_for_status()
                    latencies.append(time.perf_counter() - t)
                    time.sleep(0.01)

        names = [f"d{i:03d}" for i in range(args.deployments)]
        start = time.perf_counter()
        for name in names:
            apply(http, ns, deployment(name, args.replicas, "nginx:1.25"))
        first = wait_all(http, ns, len(names), args.timeout) + 0.0
        first_total = time.perf_counter() - start
        prober = threading.Thread(target=probe)
        prober.start()
        start = time.perf_counter()
        for name in names:
            apply(http, ns, deployment(name, args.replicas, "nginx:1.26"))
        wait_all(http, ns, len(names), args.timeout)
        rolling = time.perf_counter() - start
        stop.set()
        prober.join()
        pods = len(http.get(f"/api/v1/namespaces/{ns}/pods").json()["items"])
    q = statistics.quantiles(latencies, n=100)
    print(
        f"### Rollout of {args.deployments} Deployments x {args.replicas} replicas "
        f"(clock scale {args.clock_scale:g}, {platform.python_implementation()} {platform.python_version()}, "
        f"`python bench/bench_rollout.py --deployments {args.deployments} --replicas {args.replicas} "
        f"--clock-scale {args.clock_scale:g}`)\n"
    )
    print("| measurement | result |\n|---|---|")
    print(
        f"| first rollout (create, {args.deployments * args.replicas} pods ready) | {first_total:.1f} s wall "
        f"(waiting {first:.1f} s after the last apply) |"
    )
    print(f"| rolling update of every Deployment (new image) | {rolling:.1f} s wall |")
    print(f"| pods at the end | {pods} |")
    print(
        f"| unrelated GET during the rolling update ({len(latencies)} samples) | p50 {q[49] * 1000:.1f} ms, "
        f"p99 {q[98] * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms |"
    )


if __name__ == "__main__":
    main()
