"""Benchmark of one sync (issue 4): a 1,000-object app against kubectl apply.

Run: ``.venv/bin/python bench/bench_sync.py [--apps 200] [--noop-runs 5] [--kubectl-noop-runs 1]
[--profile] [--skip-kubectl]``; it prints a Markdown section for bench/RESULTS.md (``--profile``
writes a cProfile of one warm gitops no-op to stderr). The default run takes about 5 minutes on
2 cores, nearly all of it kubectl's client-side apply (~60-85 s per 1,000-object run).

The app is ``--apps`` small apps' worth of objects (a Namespace, ConfigMap, Secret, Deployment
and Service each; 200 -> 1,000 objects), one multi-document file per small app (Namespace
first, so ``kubectl apply -R`` meets it before the objects in it), in a real Git repository
(``git init`` + commit) in a temp dir. Three scenarios per tool:

- **from scratch**: an empty cluster;
- **no-op**: the same content again (median of the no-op runs);
- **1% change**: ConfigMap data changed in one namespace in 20 (10 of 1,000 objects),
  committed.

Tools: the gitops engine (``Engine.sync``; a new Engine, Cluster and History per sync as the
CLI builds them, one git cache; plus a no-op on a warm Engine, as the daemon runs, and a no-op
through ``gitops sync`` in a new process, interpreter start included as kubectl's is),
``kubectl apply -f DIR -R`` (client-side) and ``kubectl apply --server-side -f DIR -R``. Each tool gets
a fresh ``gitops local-cluster serve --no-controllers`` process (same kind of server, same run),
so no tool sees another's objects. kubectl is /usr/bin/kubectl with an isolated HOME (its
discovery cache starts empty and stays warm across that tool's scenarios, as on a laptop) and
KUBECONFIG. Requests are counted by the server (``/debug/requests``) per user agent: kubectl's
start with ``kubectl``, ours with ``gitops/``; writes are create/update/patch/delete that are not
dry runs.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import functools
import io
import os
import platform
import pstats
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from served import served  # bench/served.py (scripts run from bench/ on sys.path)

from gitops.cluster import Cluster, ClusterOptions
from gitops.config import App
from gitops.engine.reconciler import Engine, SyncOptions
from gitops.git import GitOptions, Source
from gitops.history import History
from gitops.model import SyncResult

KUBECTL = "/usr/bin/kubectl"
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}
SCENARIOS = ("from scratch", "no-op", "1% change")


# ------------------------------------------------------------------------------- the app


def small_app(i: int, version: int = 0) -> list[dict[str, Any]]:
    """One small app: Namespace, ConfigMap, Secret, Deployment, Service in namespace app-NNN."""
    ns = f"app-{i:03d}"
    labels = {"app": "web"}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "web-config", "namespace": ns},
            "data": {"LOG_LEVEL": "info", "FEATURE_X": "on", "VERSION": str(version), "NOTE": "x" * 64},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "web-secret", "namespace": ns},
            "type": "Opaque",
            # data, not stringData: kubectl's client-side three-way merge would re-send
            # stringData on every apply (the live object never has it), which is not a no-op.
            "data": {"password": base64.b64encode(f"pw-{i:03d}".encode()).decode()},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": ns, "labels": labels},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {
                                "name": "web",
                                "image": "nginx:1.25",
                                "ports": [{"containerPort": 8080, "name": "http"}],
                                "envFrom": [{"configMapRef": {"name": "web-config"}}],
                                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                            }
                        ]
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": ns},
            "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
        },
    ]


def write_app(root: Path, apps: int, changed: frozenset[int] = frozenset()) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(apps):
        docs = small_app(i, version=1 if i in changed else 0)
        (root / f"app-{i:03d}.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))


def git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
    }
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


# ------------------------------------------------------------------------------- the cluster


class Requests:
    """The server's request log, read from ``/debug/requests`` (reading it is not counted)."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=60)

    def mark(self) -> int:
        return int(self.http.get("/debug/requests", params={"since": 1 << 60}).json()["lastSeq"])

    def since(self, seq: int, user_agent_prefix: str) -> list[dict[str, Any]]:
        reqs = self.http.get("/debug/requests", params={"since": seq}).json()["requests"]
        return [r for r in reqs if str(r["user_agent"]).startswith(user_agent_prefix)]


@dataclass
class Measure:
    seconds: float
    requests: int
    writes: int
    breakdown: Counter[str] = field(default_factory=Counter)
    note: str = ""


def measured(log: Requests, agent: str, run: Callable[[], str]) -> Measure:
    seq = log.mark()
    start = time.perf_counter()
    note = run()
    seconds = time.perf_counter() - start
    reqs = log.since(seq, agent)
    writes = [r for r in reqs if r["verb"] in WRITE_VERBS and not r["dry_run"]]
    breakdown: Counter[str] = Counter()
    for r in reqs:
        what = (r["group"] + "/" if r["group"] else "") + (r["resource"] or r["path"])
        breakdown[f"{r['verb']} {what} {r['code']}"] += 1
    return Measure(seconds, len(reqs), len(writes), breakdown, note)


def median_of(runs: list[Measure]) -> Measure:
    best = sorted(runs, key=lambda m: m.seconds)[len(runs) // 2]
    spread = ", ".join(f"{m.seconds:.2f}" for m in runs)
    return Measure(best.seconds, best.requests, best.writes, best.breakdown, f"runs {spread} s")


# ------------------------------------------------------------------------------- the tools


def bench_gitops(
    tmp: Path, repo: Path, noop_runs: int, change: Callable[[], None], profile: bool
) -> tuple[dict[str, Measure], str]:
    out: dict[str, Measure] = {}
    prof_text = ""
    with served("--no-controllers", workdir=tmp / "gitops-cluster") as (url, kubeconfig):
        log = Requests(url)
        app = App(name="bench", repo=str(repo), path=".", namespace="default")
        source = Source(GitOptions(cache_dir=tmp / "git-cache"))  # one cache: a CLI's cache dir
        history_path = tmp / "history.db"

        def one_sync(expect: SyncResult) -> Callable[[], str]:
            def run() -> str:
                # What the CLI builds for one sync: a connection (discovery from cold) and the
                # history; the git cache persists between runs as it does on disk.
                cluster = Cluster.connect(ClusterOptions(kubeconfig=kubeconfig))
                with History(history_path) as history:
                    outcome = Engine(cluster, source, history).sync(app, SyncOptions())
                cluster.close()
                rec = outcome.record
                if rec.result is not expect:
                    raise RuntimeError(f"gitops sync: {rec.result} (expected {expect}): {rec.error}")
                actions = Counter(c.action.value for c in rec.changes.changes)
                return ", ".join(f"{a} {n}" for a, n in sorted(actions.items()))

            return run

        out["from scratch"] = measured(log, "gitops/", one_sync(SyncResult.SUCCEEDED))
        out["no-op"] = median_of(
            [measured(log, "gitops/", one_sync(SyncResult.NO_CHANGE)) for _ in range(noop_runs)]
        )

        # The daemon's no-op: one long-lived Engine (discovery cached, connections kept alive).
        cluster = Cluster.connect(ClusterOptions(kubeconfig=kubeconfig))
        with History(history_path) as history:
            engine = Engine(cluster, source, history)
            engine.sync(app, SyncOptions())  # warm up

            def warm() -> str:
                outcome = engine.sync(app, SyncOptions())
                if outcome.record.result is not SyncResult.NO_CHANGE:
                    raise RuntimeError(f"warm no-op: {outcome.record.result}: {outcome.record.error}")
                return ""

            out["no-op, warm engine"] = median_of([measured(log, "gitops/", warm) for _ in range(noop_runs)])
            if profile:
                prof = cProfile.Profile()
                prof.enable()
                engine.sync(app, SyncOptions())
                prof.disable()
                buf = io.StringIO()
                stats = pstats.Stats(prof, stream=buf)
                stats.sort_stats("cumulative").print_stats(45)
                stats.sort_stats("tottime").print_stats(25)
                prof_text = buf.getvalue()
        cluster.close()

        # The CLI's no-op: a new process (interpreter start and imports included, as kubectl's
        # numbers include its own start), its own git cache under an isolated HOME.
        env = {**os.environ, "HOME": str(tmp / "cli-home"), "XDG_CACHE_HOME": str(tmp / "cli-home" / "cache")}
        cli = [
            sys.executable, "-m", "gitops.cli", "sync", str(repo), "--app", app.name,
            "--kubeconfig", str(kubeconfig), "--history-db", str(history_path), "-q",
        ]  # fmt: skip

        def cli_sync() -> str:
            done = subprocess.run(cli, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"gitops sync: exit {done.returncode}: {done.stderr[-2000:]}")
            return ""

        cli_sync()  # fills the CLI's own git cache
        out["no-op, CLI process"] = median_of([measured(log, "gitops/", cli_sync) for _ in range(noop_runs)])

        change()
        out["1% change"] = measured(log, "gitops/", one_sync(SyncResult.SUCCEEDED))
    return out, prof_text


def bench_kubectl(
    tmp: Path, name: str, manifests: Path, noop_runs: int, change: Callable[[], None], server_side: bool
) -> dict[str, Measure]:
    out: dict[str, Measure] = {}
    home = tmp / f"{name}-home"
    home.mkdir()
    with served("--no-controllers", workdir=tmp / f"{name}-cluster") as (url, kubeconfig):
        log = Requests(url)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "KUBECONFIG": str(kubeconfig),
        }
        cmd = [KUBECTL, "apply", "-f", str(manifests), "-R"]
        if server_side:
            cmd.insert(2, "--server-side")

        def run() -> str:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)}: exit {done.returncode}: {done.stderr[-2000:]}")
            verbs = Counter(line.rsplit(" ", 1)[-1] for line in done.stdout.splitlines() if line.strip())
            throttled = done.stderr.count("client-side throttling")
            note = ", ".join(f"{v} {n}" for v, n in sorted(verbs.items()))
            return note + (f"; throttled {throttled}x" if throttled else "")

        out["from scratch"] = measured(log, "kubectl", run)
        out["no-op"] = median_of([measured(log, "kubectl", run) for _ in range(noop_runs)])
        change()
        out["1% change"] = measured(log, "kubectl", run)
    return out


# ------------------------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, default=200, help="small apps of 5 objects each")
    parser.add_argument("--noop-runs", type=int, default=5, help="gitops no-op repetitions (median)")
    parser.add_argument(
        "--kubectl-noop-runs", type=int, default=1, help="kubectl no-op repetitions (~60 s each client-side)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one warm gitops no-op")
    parser.add_argument("--skip-kubectl", action="store_true")
    args = parser.parse_args()
    if not args.skip_kubectl and not os.access(KUBECTL, os.X_OK):
        parser.error(f"{KUBECTL} is not there (or use --skip-kubectl)")
    changed = frozenset(range(0, args.apps, 20))  # 1 namespace in 20: ConfigMap data, 1% of objects

    results: dict[str, dict[str, Measure]] = {}
    total_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp_str:
        tmp = Path(tmp_str)
        repo = tmp / "repo"
        write_app(repo, args.apps)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"{args.apps * 5} objects")

        def change_repo() -> None:
            write_app(repo, args.apps, changed)
            git(repo, "commit", "-q", "-am", f"change {len(changed)} ConfigMaps")

        results["gitops (engine, fresh per sync)"], prof_text = bench_gitops(
            tmp, repo, args.noop_runs, change_repo, args.profile
        )
        if not args.skip_kubectl:
            for name, server_side in (("kubectl apply", False), ("kubectl apply --server-side", True)):
                manifests = tmp / name.replace(" ", "_")
                write_app(manifests, args.apps)
                results[name] = bench_kubectl(
                    tmp,
                    name.replace(" ", "_"),
                    manifests,
                    args.kubectl_noop_runs,
                    functools.partial(write_app, manifests, args.apps, changed),
                    server_side,
                )
    total = time.perf_counter() - total_start

    g = results["gitops (engine, fresh per sync)"]
    warm = g.pop("no-op, warm engine")
    cli_noop = g.pop("no-op, CLI process")
    print(
        f"Command: `.venv/bin/python bench/bench_sync.py --apps {args.apps} --noop-runs {args.noop_runs} "
        f"--kubectl-noop-runs {args.kubectl_noop_runs}` "
        f"({args.apps * 5} objects; {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores; whole run {total:.0f} s)\n"
    )
    print("| tool | scenario | wall s | requests | writes | notes |\n|---|---|---:|---:|---:|---|")
    for tool, rows in results.items():
        for scen in SCENARIOS:
            m = rows[scen]
            print(f"| {tool} | {scen} | {m.seconds:.2f} | {m.requests} | {m.writes} | {m.note} |")
        if tool.startswith("gitops"):
            print(
                f"| gitops (warm engine, as the daemon) | no-op | {warm.seconds:.2f} | {warm.requests} | "
                f"{warm.writes} | {warm.note} |"
            )
            print(
                f"| `gitops sync` CLI (new process) | no-op | {cli_noop.seconds:.2f} | {cli_noop.requests} | "
                f"{cli_noop.writes} | {cli_noop.note} |"
            )
    if "kubectl apply" in results:
        csa = results["kubectl apply"]["no-op"].seconds
        ssa = results["kubectl apply --server-side"]["no-op"].seconds
        print(
            f"\nNo-op ratio: kubectl apply / gitops = {csa / g['no-op'].seconds:.1f}x (fresh engine), "
            f"{csa / warm.seconds:.1f}x (warm engine), {csa / cli_noop.seconds:.1f}x (CLI process); "
            f"kubectl apply --server-side / gitops = {ssa / g['no-op'].seconds:.1f}x (fresh), "
            f"{ssa / warm.seconds:.1f}x (warm), {ssa / cli_noop.seconds:.1f}x (CLI process)."
        )
    for label, m in (
        ("gitops no-op, fresh engine", g["no-op"]),
        ("gitops no-op, warm engine", warm),
        ("gitops sync CLI no-op", cli_noop),
    ):
        listed = ", ".join(f"{n} x `{what}`" for what, n in sorted(m.breakdown.items()))
        print(f"\nRequests of the {label} ({m.requests}): {listed}.")
    if prof_text:
        print("\n```\n" + prof_text + "\n```", file=sys.stderr)


if __name__ == "__main__":
    main()
