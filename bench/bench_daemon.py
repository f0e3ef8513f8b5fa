"""Benchmark of the daemon (issue 6): push-to-live latency through a webhook, memory with many
objects, idle CPU with many polled apps.

Run: ``.venv/bin/python bench/bench_daemon.py [--pushes 20] [--idle-seconds 60]``; it prints a
Markdown section for bench/RESULTS.md.

Everything is a real process talking over loopback: the local cluster (``gitops local-cluster
serve``, simulated controllers, clock x50) in its own process, the bare repositories behind
``git http-backend`` (tests/gitserver.py) to which the benchmark ``git push``es, and ``gitops
daemon`` as a subprocess (tests/daemon/harness.py) reached over HTTP.

1. **Push to live**: a 1,000-object app (200 x Namespace, ConfigMap, Secret, Deployment,
   Service; bench_sync.small_app) tracked with a one-hour poll, so only the webhook can bring a
   change. Each of ``--pushes`` rounds changes one ConfigMap, commits, ``git push``es, delivers a
   signed GitHub push webhook and polls the ConfigMap (GET every 5 ms) until the new value is
   live. Reported: webhook-to-live and push-to-live (``git push`` included), p50/p95/max.
2. **Memory**: a second daemon with 10 apps x 500 objects (5,000 objects), after every app
   synced: VmRSS and VmHWM (peak) of the daemon process.
3. **Idle CPU**: that daemon with its 10 apps polled every 10 s, nothing changing: CPU seconds
   (user + system, /proc/PID/stat) over ``--idle-seconds`` of wall time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/ helpers

from bench_sync import small_app  # bench/ is on sys.path when run as a script
from served import served

from gitops.cluster import Cluster, ClusterOptions
from gitops.model import ResourceKey
from tests.daemon.harness import DaemonProcess, config_text
from tests.gitserver import GitHttpServer, make_repo
from tests.waiting import wait_for


def small_apps(first: int, count: int) -> dict[str, str]:
    """``count`` small apps' worth of objects (5 each), numbered from ``first``."""
    return {
        f"app/app-{i:03d}.yaml": yaml.safe_dump_all(small_app(i), sort_keys=False)
        for i in range(first, first + count)
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _proc_status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])  # kB
    return out


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def _all_synced(d: DaemonProcess, names: list[str]) -> bool:
    apps = {a["name"]: a for a in d.client.get("/api/v1/apps").json()}
    for n in names:
        if apps[n]["result"] == "Failed":
            raise RuntimeError(f"{n}: the sync failed: {apps[n]['errors']}")
    return all(d.synced(n) for n in names)


ELECTION = ["--leader-elect", "--lease-namespace", "default", "--retry-period", "0.5s"]


def bench_latency(base: Path, kubeconfig: Path, pushes: int, via_standby: bool = False) -> dict[str, Any]:
    """Push to live; ``via_standby``: two daemons with leader election, every webhook delivered
    to the standby, which hands it to the leader (the Service of a 2-replica install sends
    half the deliveries there)."""
    cluster = Cluster.connect(ClusterOptions(kubeconfig=kubeconfig))
    name = "standby" if via_standby else "latency"
    with GitHttpServer(base / f"repos-{name}") as server:
        work = make_repo(server, "big", small_apps(0, 200))
        config = config_text(
            [{"name": "big", "repo": work.url, "revision": "main", "path": "app", "interval": "1h"}]
        )
        args = [*ELECTION, "--lease-name", f"bench-{name}"] if via_standby else []
        d = DaemonProcess(base / name, config, kubeconfig, args=args, identity="leader")
        standby: DaemonProcess | None = None
        try:
            started = time.monotonic()
            wait_for(lambda: _all_synced(d, ["big"]), timeout=900, what="the first sync of 1,000 objects")
            first_sync = time.monotonic() - started
            if via_standby:
                standby = DaemonProcess(base / f"{name}-b", config, kubeconfig, args=args, identity="standby")
                ready = standby.client
                wait_for(
                    lambda: ready.get("/readyz").status_code == 200, timeout=60, what="the standby ready"
                )
                time.sleep(2.0)  # a few 0.5 s retry periods: the standby has read the leader's Lease
            receiver = standby or d
            key = ResourceKey("", "ConfigMap", "app-007", "web-config")
            to_live, push_to_live = [], []
            for n in range(1, pushes + 1):
                files = {"app/app-007.yaml": yaml.safe_dump_all(small_app(7, version=n), sort_keys=False)}
                t0 = time.monotonic()
                sha = work.commit_and_push(files, f"config v{n}")
                t1 = time.monotonic()
                r = receiver.github_push(work.url, sha)
                assert r.status_code == 202, r.text

                def live(version: int = n) -> bool:
                    obj = cluster.get(key) or {}
                    return (obj.get("data") or {}).get("VERSION") == str(version)

                wait_for(live, timeout=60, what=f"push {n} live", interval=0.005)
                t2 = time.monotonic()
                to_live.append(t2 - t1)
                push_to_live.append(t2 - t0)
                wait_for(
                    lambda sha=sha: d.synced("big", sha),
                    timeout=120,
                    what=f"sync {n} to finish",
                )
            history = d.history_of("big")
            webhook_syncs = sum(1 for h in history if h["trigger"] == "webhook")
        finally:
            if standby is not None:
                standby.kill()
            d.kill()
    cluster.close()
    return {
        "first_sync": first_sync,
        "webhook_to_live": to_live,
        "push_to_live": push_to_live,
        "webhook_syncs": webhook_syncs,
    }


def bench_footprint(base: Path, kubeconfig: Path, idle_seconds: float) -> dict[str, Any]:
    with GitHttpServer(base / "repos10") as server:
        apps = []
        for k in range(10):
            work = make_repo(server, f"team-{k}", small_apps(100 + k * 100, 100))
            apps.append(
                {"name": f"team-{k}", "repo": work.url, "revision": "main", "path": "app", "interval": "10s"}
            )
        d = DaemonProcess(base / "footprint", config_text(apps), kubeconfig, args=["--workers", "4"])
        try:
            started = time.monotonic()
            names = [a["name"] for a in apps]
            wait_for(
                lambda: _all_synced(d, names), timeout=1800, what="10 apps x 500 objects synced", interval=0.5
            )
            synced_in = time.monotonic() - started
            memory = _proc_status(d.proc.pid)
            cpu0, t0 = _cpu_seconds(d.proc.pid), time.monotonic()
            time.sleep(idle_seconds)  # the measurement itself: wall time for the idle daemon
            cpu1, t1 = _cpu_seconds(d.proc.pid), time.monotonic()
            polls = sum(1 for ln in d.log_lines() if "drift" in ln.get("message", ""))
            after = _proc_status(d.proc.pid)
        finally:
            d.kill()
    return {
        "synced_in": synced_in,
        "rss_mb": memory["VmRSS"] / 1024,
        "hwm_mb": after["VmHWM"] / 1024,
        "rss_after_idle_mb": after["VmRSS"] / 1024,
        "idle_cpu_s": cpu1 - cpu0,
        "idle_wall_s": t1 - t0,
        "drift_lines": polls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=20)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--skip-footprint", action="store_true")
    parser.add_argument("--skip-standby", action="store_true")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        base = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        _, kubeconfig = stack.enter_context(
            served("--clock-scale", "50", "--nodes", "40", workdir=base / "cluster")
        )
        lat = bench_latency(base, kubeconfig, args.pushes)
        via = None if args.skip_standby else bench_latency(base, kubeconfig, args.pushes, via_standby=True)
        foot = None if args.skip_footprint else bench_footprint(base, kubeconfig, args.idle_seconds)
    w, p = lat["webhook_to_live"], lat["push_to_live"]
    print(
        f"### Daemon (issue 6) — {time.strftime('%Y-%m-%d')}, {platform.python_version()}, {os.cpu_count()} cores\n"
    )
    print(
        f"Command: `.venv/bin/python bench/bench_daemon.py --pushes {args.pushes} --idle-seconds {args.idle_seconds:g}`\n"
    )
    print(
        f"Push to live, 1,000-object app, one ConfigMap changed per push, {len(w)} pushes via a signed GitHub webhook"
    )
    print(
        f"(first sync of the 1,000 objects: {lat['first_sync']:.1f} s; webhook syncs recorded: {lat['webhook_syncs']}):\n"
    )
    print("| measured | p50 | p95 | max |\n|---|---|---|---|")
    rows = [("webhook delivered -> live", w), ("`git push` started -> live", p)]
    if via is not None:
        rows.append(("webhook delivered to a standby -> live (handed to the leader)", via["webhook_to_live"]))
    for label, values in rows:
        print(
            f"| {label} | {statistics.median(values) * 1000:.0f} ms | {_percentile(values, 0.95) * 1000:.0f} ms "
            f"| {max(values) * 1000:.0f} ms |"
        )
    if foot is not None:
        print(
            f"\n10 apps x 500 objects (5,000 objects), polled every 10 s, 4 workers: all synced in "
            f"{foot['synced_in']:.0f} s; RSS {foot['rss_mb']:.0f} MB after the syncs "
            f"(peak {foot['hwm_mb']:.0f} MB, {foot['rss_after_idle_mb']:.0f} MB after idling); idle CPU "
            f"{foot['idle_cpu_s']:.2f} s over {foot['idle_wall_s']:.0f} s "
            f"({100 * foot['idle_cpu_s'] / foot['idle_wall_s']:.1f}% of one core)."
        )


if __name__ == "__main__":
    main()
