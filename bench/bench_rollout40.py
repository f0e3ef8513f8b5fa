"""Benchmark: an app of 40 Deployments rolled out by the engine with maxConcurrent 1, 4 and 40.

Run: ``.venv/bin/python bench/bench_rollout40.py [--deployments 40] [--replicas 3]
[--ready-after 2] [--clock-scale 20] [--concurrency 1 4 40]``.

The cluster runs as ``gitops local-cluster serve`` in its own process with its simulated
controllers. For each maxConcurrent value, a new app in its own namespace (a Git repository made
here: a Namespace and N Deployments of R replicas whose pods are Ready ``--ready-after``
simulated seconds after starting) is synced once (created), then its image is changed in a new
commit and synced again under the app's rollout policy (maxSurge 25%, maxUnavailable 0, the
given maxConcurrent): that second sync is what is measured, by the engine itself (the health
gate waits until every Deployment is healthy). Meanwhile a watch on the namespace's pods counts
active pods (not terminating, not finished); surge pods are those beyond the sum of replicas,
and a Deployment is "in flight" while it has more active pods than replicas.

Simulated time is the wall time times the clock scale (the server's clock runs at that fixed
rate).
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from bench_sync import git  # bench/ is on sys.path when run as a script
from served import served  # bench/served.py (scripts run from bench/ on sys.path)

from gitops.cluster import Cluster, ClusterOptions
from gitops.config import App, RolloutPolicy
from gitops.engine import Engine, SyncOptions
from gitops.git import GitOptions, Source
from gitops.history import History
from gitops.localcluster.controllers import podstate
from gitops.model import SyncResult


def manifests(ns: str, n: int, replicas: int, ready_after: float, image: str) -> str:
    docs: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}]
    for i in range(n):
        name = f"d{i:02d}"
        docs.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name, "namespace": ns},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": {"app": name}},
                    "template": {
                        "metadata": {
                            "labels": {"app": name},
                            "annotations": {"localcluster.gitops.dev/ready-after": f"{ready_after:g}"},
                        },
                        "spec": {"containers": [{"name": "main", "image": image}]},
                    },
                },
            }
        )
    return yaml.safe_dump_all(docs, sort_keys=False)


def commit(repo: Path, text: str, message: str) -> None:
    (repo / "app.yaml").write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@dataclass
class SurgeWatch:
    """Counts active pods per Deployment from a watch on the namespace's pods."""

    replicas: int
    deployments: int
    pods: dict[str, tuple[str, bool]] = field(default_factory=dict)  # name -> (app, active)
    peak_surge: int = 0
    peak_in_flight: int = 0

    def on(self, event_type: str, pod: dict[str, Any]) -> None:
        meta = pod.get("metadata") or {}
        if event_type == "DELETED":
            self.pods.pop(meta["name"], None)
        else:
            self.pods[meta["name"]] = (str((meta.get("labels") or {}).get("app")), podstate.is_active(pod))
        per_app: dict[str, int] = {}
        for app, active in self.pods.values():
            if active:
                per_app[app] = per_app.get(app, 0) + 1
        total = sum(per_app.values())
        self.peak_surge = max(self.peak_surge, total - self.replicas * self.deployments)
        self.peak_in_flight = max(self.peak_in_flight, sum(1 for c in per_app.values() if c > self.replicas))


def run(
    engine: Engine, work: Path, ns: str, args: argparse.Namespace, concurrency: int
) -> tuple[float, SurgeWatch, SyncResult]:
    repo = work / ns
    repo.mkdir()
    git(repo, "init", "-q")
    commit(repo, manifests(ns, args.deployments, args.replicas, args.ready_after, "nginx:1.27"), "create")
    policy = RolloutPolicy(max_surge="25%", max_unavailable=0, max_concurrent=concurrency, timeout=600)
    app = App(name=ns, repo=str(repo), namespace=ns, prune=False, rollout=policy)
    first = engine.sync(app, SyncOptions())
    if first.record.result is not SyncResult.SUCCEEDED:
        raise RuntimeError(f"the first sync failed: {first.record.error}")
    commit(repo, manifests(ns, args.deployments, args.replicas, args.ready_after, "nginx:1.28"), "image")
    surge = SurgeWatch(args.replicas, args.deployments)
    rv = engine.cluster.request("GET", f"/api/v1/namespaces/{ns}/pods").body["metadata"]["resourceVersion"]
    watch = engine.cluster.watch("", "Pod", ns, resource_version=str(rv), timeout=3600)

    def pump() -> None:
        for event_type, pod in watch:
            surge.on(event_type, pod)

    # The watch starts from the list's resourceVersion: it replays every pod event after it.
    for pod in engine.cluster.list("", "Pod", namespace=ns):
        surge.on("ADDED", pod)
    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    start = time.perf_counter()
    outcome = engine.sync(app, SyncOptions())
    elapsed = time.perf_counter() - start
    time.sleep(0.5)  # let the watch deliver the last events (pods of old ReplicaSets terminating)
    watch.close()
    thread.join(timeout=10)
    return elapsed, surge, outcome.record.result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployments", type=int, default=40)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--ready-after", type=float, default=2.0, help="simulated seconds to Ready")
    parser.add_argument("--clock-scale", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 40])
    args = parser.parse_args()
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        served("--clock-scale", f"{args.clock_scale:g}") as (_, kubeconfig),
    ):
        work = Path(tmp)
        cluster = Cluster.connect(ClusterOptions(kubeconfig=kubeconfig))
        history = History(work / "history.db")
        engine = Engine(cluster, Source(GitOptions(cache_dir=work / "git-cache")), history)
        try:
            for n in args.concurrency:
                elapsed, surge, result = run(engine, work, f"bench-mc{n}", args, n)
                rows.append((n, elapsed, surge, result))
        finally:
            history.close()
            cluster.close()
    print(
        f"### Rollout of {args.deployments} Deployments x {args.replicas} replicas by the engine "
        f"(maxSurge 25% = 1 pod, maxUnavailable 0, pods Ready {args.ready_after:g} simulated s after "
        f"starting, clock scale {args.clock_scale:g}, {platform.python_implementation()} "
        f"{platform.python_version()})\n"
    )
    print(
        "| maxConcurrent | result | wall s | simulated s | peak surge pods | peak Deployments in flight |\n"
        "|---:|---|---:|---:|---:|---:|"
    )
    for n, elapsed, surge, result in rows:
        print(
            f"| {n} | {result.value} | {elapsed:.1f} | {elapsed * args.clock_scale:.0f} | {surge.peak_surge} "
            f"| {surge.peak_in_flight} |"
        )


if __name__ == "__main__":
    main()
