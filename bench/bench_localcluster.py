"""Benchmark of the local cluster's API server: server-side apply throughput and large LISTs.

Run: ``.venv/bin/python bench/bench_localcluster.py [--applies N] [--list-size N] [--profile]``;
it prints a Markdown section for bench/RESULTS.md. The server runs as ``gitops local-cluster
serve`` in its own process on loopback (as kubectl and the daemon meet it); clients are httpx
with keep-alive, one connection per thread, so the numbers are the server's cost plus HTTP, not
the Python client's object model. One row measures the semantic pipeline alone (no HTTP), to
show where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import platform
import pstats
import statistics
import threading
import time
from typing import Any

import httpx
from served import served  # bench/served.py (scripts run from bench/ on sys.path)

from gitops.localcluster import LocalCluster
from gitops.localcluster.api import WriteOptions


def deployment(name: str, image: str = "nginx:1.25") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name, "app.kubernetes.io/managed-by": "gitops"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "main",
                            "image": image,
                            "ports": [{"containerPort": 8080, "name": "http"}],
                            "env": [{"name": "MODE", "value": "prod"}, {"name": "LOG", "value": "info"}],
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                        }
                    ]
                },
            },
        },
    }


def configmap(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"k": name, "v": "x" * 64},
    }


def apply_all(url: str, ns: str, objs: list[dict[str, Any]]) -> None:
    with httpx.Client(base_url=url, timeout=30) as http:
        for obj in objs:
            kind = obj["kind"]
            path = (
                f"/apis/apps/v1/namespaces/{ns}/deployments/{obj['metadata']['name']}"
                if kind == "Deployment"
                else f"/api/v1/namespaces/{ns}/configmaps/{obj['metadata']['name']}"
            )
            r = http.patch(
                path + "?fieldManager=bench&force=true",
                content=json.dumps(obj).encode(),
                headers={"content-type": "application/apply-patch+yaml"},
            )
            if r.status_code not in (200, 201):
                raise RuntimeError(f"{r.status_code}: {r.text}")


def throughput(url: str, ns: str, objs: list[dict[str, Any]], threads: int) -> float:
    chunks = [objs[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=apply_all, args=(url, ns, chunk)) for chunk in chunks]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return len(objs) / (time.perf_counter() - start)


def create_ns(url: str, name: str) -> None:
    httpx.post(f"{url}/api/v1/namespaces", json={"metadata": {"name": name}}).raise_for_status()


def pipeline_only(n: int) -> tuple[float, float]:
    """Server-side applies through the API object without HTTP: the semantic pipeline's cost."""
    with LocalCluster() as cluster:
        namespaces = cluster.registry.by_plural("", "v1", "namespaces")
        deployments = cluster.registry.by_plural("apps", "v1", "deployments")
        assert namespaces is not None and deployments is not None
        cluster.api.create(namespaces, "", {"metadata": {"name": "p"}}, WriteOptions(manager="bench"))
        opts = WriteOptions(manager="bench", force=True)
        objs = [deployment(f"p{i}") for i in range(n)]
        rates = []
        for _ in range(2):
            start = time.perf_counter()
            for o in objs:
                cluster.api.patch(deployments, "p", o["metadata"]["name"], "apply", o, opts)
            rates.append(n / (time.perf_counter() - start))
        return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applies", type=int, default=1000)
    parser.add_argument("--list-size", type=int, default=5000)
    parser.add_argument("--profile", action="store_true", help="print where the apply time goes")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    created, unchanged = pipeline_only(args.applies)
    rows.append(
        (
            f"SSA Deployment through the API object, no HTTP, {args.applies} objects",
            f"create {created:,.0f}/s, no-op {unchanged:,.0f}/s",
        )
    )
    with served() as (url, _):
        for kind, make in (("Deployment", deployment), ("ConfigMap", configmap)):
            for threads in (1, 4):
                ns = f"bench-{kind.lower()}-{threads}"
                create_ns(url, ns)
                objs = [make(f"o{i}") for i in range(args.applies)]
                created = throughput(url, ns, objs, threads)
                unchanged = throughput(url, ns, objs, threads)
                changed_objs = [make(f"o{i}") for i in range(args.applies)]
                for o in changed_objs:
                    if kind == "Deployment":
                        o["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26"
                    else:
                        o["data"]["v"] = "y"
                changed = throughput(url, ns, changed_objs, threads)
                rows.append(
                    (
                        f"SSA {kind}, {threads} client thread(s), {args.applies} objects",
                        f"create {created:,.0f}/s, no-op {unchanged:,.0f}/s, change {changed:,.0f}/s",
                    )
                )
        ns = "bench-list"
        create_ns(url, ns)
        apply_all(url, ns, [configmap(f"l{i:05d}") for i in range(args.list_size)])
        timings = []
        with httpx.Client(base_url=url, timeout=60) as http:
            for _ in range(7):
                start = time.perf_counter()
                r = http.get(f"/api/v1/namespaces/{ns}/configmaps")
                body = r.json()
                timings.append(time.perf_counter() - start)
                assert len(body["items"]) == args.list_size
        rows.append(
            (
                f"LIST {args.list_size} ConfigMaps (HTTP + JSON decode in the client)",
                f"median {statistics.median(timings) * 1000:.0f} ms, best {min(timings) * 1000:.0f} ms",
            )
        )
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        pipeline_only(300)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    print(
        f"### Local cluster API server ({platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}, `python bench/bench_localcluster.py --applies {args.applies} --list-size {args.list_size}`)\n"
    )
    print("| measurement | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
