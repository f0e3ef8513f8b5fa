"""Rollouts the engine controls (issue 5): the app's rollout policy on Deployments, the health
gate after the workloads phase (watch-based, fail fast on Degraded), ``maxConcurrent``, a
failed rollout stopping the sync before Services, auto-rollback, and a cancelled wait.

While a test rolls out, :func:`pod_bounds` samples every pod and ReplicaSet event of its
Deployments (the server's own event stream, in order) and checks afterwards that total pods
never exceeded replicas + maxSurge and Ready ones never fell below replicas - maxUnavailable
(terminating and finished pods do not count, as for the Deployment controller): the checker of
the local cluster's own rolling-update tests (``PodBounds``).

One cluster with its simulated controllers for the module (20 simulated seconds a wall second).
Orders are read from the server's own event history: a WATCH from a resourceVersion taken before
the sync replays every event after it in resourceVersion order, whatever the timing of threads.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from gitops.config import RolloutPolicy
from gitops.engine import Cancel, SyncOptions, SyncOutcome, rollout
from gitops.history import History
from gitops.localcluster import LocalCluster
from gitops.localcluster.controllers import deployment_util as du
from gitops.model import Action, ResourceKey, SyncResult, Trigger
from tests.conftest import LIVE_CLOCK_SCALE, Kubectl
from tests.engine.conftest import ROOT, EngineEnv, GitRepo, make_env, unique
from tests.localcluster.controllers.workloads import PodBounds, watch_pods
from tests.waiting import wait_for


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    kubeconfig = tmp_path_factory.mktemp("rollout") / "kubeconfig"
    with LocalCluster(kubeconfig=kubeconfig, clock_scale=LIVE_CLOCK_SCALE) as c:
        yield c


@pytest.fixture
def live_env(
    live: LocalCluster, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EngineEnv]:
    yield from make_env(live, Kubectl(live.kubeconfig, tmp_path_factory.mktemp("kubectl-home")), tmp_path)
    assert live.controllers is not None
    assert live.controllers.errors == []


def deployment(
    name: str,
    ns: str,
    *,
    image: str = "nginx:1.27",
    replicas: int = 2,
    annotations: dict[str, str] | None = None,
    strategy: str = "",
    ready_after: str = "5",
) -> str:
    meta_annotations = "".join(f"\n    {k}: {v!r}" for k, v in (annotations or {}).items()) or " {}"
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
  annotations:{meta_annotations}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}{strategy}
  template:
    metadata:
      labels: {{app: {name}}}
      annotations:
        localcluster.gitops.dev/ready-after: "{ready_after}"
    spec:
      containers:
      - name: main
        image: {image}
"""


def service(name: str, ns: str, port: int = 80) -> str:
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {ns}
spec:
  selector: {{app: {name}}}
  ports:
  - port: {port}
    targetPort: 8080
"""


def current_rv(env: EngineEnv, ns: str) -> str:
    body = env.engine.cluster.request("GET", f"/api/v1/namespaces/{ns}/configmaps").body
    return str(body["metadata"]["resourceVersion"])


def replay(env: EngineEnv, group: str, kind: str, ns: str, since: str) -> list[tuple[str, dict[str, Any]]]:
    """Every event of a kind in ``ns`` after ``since``, in the server's order (a short watch)."""
    events: list[tuple[str, dict[str, Any]]] = []
    with env.engine.cluster.watch(group, kind, ns, resource_version=since, timeout=1) as w:
        events.extend(w)
    return events


def available(obj: dict[str, Any]) -> bool:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    replicas = int(spec.get("replicas", 1))
    return (
        int(status.get("observedGeneration") or 0) >= int(obj["metadata"].get("generation") or 0)
        and int(status.get("updatedReplicas") or 0) == replicas
        and int(status.get("availableReplicas") or 0) == replicas
        and int(status.get("replicas") or 0) == replicas
    )


def rv(obj: dict[str, Any]) -> int:
    return int(obj["metadata"]["resourceVersion"])


@contextmanager
def pod_bounds(
    live: LocalCluster,
    ns: str,
    created: Mapping[str, tuple[int, int]] | None = None,
    updated: tuple[str, ...] = (),
) -> Iterator[list[PodBounds]]:
    """Sample the pods and ReplicaSets of Deployments in ``ns`` while the block rolls them out,
    then check the RollingUpdate bounds on every event. ``updated``: Deployments that exist
    (their bounds come from their live spec: replicas + maxSurge, replicas - maxUnavailable);
    ``created``: Deployments the block creates, with (replicas, maxSurge): their pods start
    unready, so only the upper bound applies."""
    bounds: list[tuple[PodBounds, int]] = []
    for name in updated:
        d = live.store.get(("apps", "deployments"), (ns, name))
        assert d is not None, name
        replicas = du.spec_replicas(d)
        bounds.append(
            watch_pods(live, ns, name, replicas + du.max_surge(d), replicas - du.max_unavailable(d))
        )
    for name, (replicas, surge) in (created or {}).items():
        bounds.append(watch_pods(live, ns, name, replicas + surge, 0))
    try:
        yield [b for b, _ in bounds]
    finally:
        for _, token in bounds:
            live.store.unsubscribe(token)
    for b, _ in bounds:
        assert b.check() > 0  # every event within bounds, and there were events


def replica_sets(env: EngineEnv, ns: str, name: str) -> dict[str, dict[str, Any]]:
    """The ReplicaSets of Deployment ``name``, by their pod-template-hash."""
    return {
        rs["metadata"]["labels"]["pod-template-hash"]: rs
        for rs in env.engine.cluster.list("apps", "ReplicaSet", namespace=ns)
        if any(o.get("name") == name for o in rs["metadata"].get("ownerReferences") or [])
    }


def test_default_strategy_is_applied_and_owned(live_env: EngineEnv, repo: GitRepo) -> None:
    env = live_env
    ns = env.create_namespace(unique("ro"))
    repo.commit(
        {
            "a.yaml": deployment("plain", ns, replicas=1),
            "b.yaml": deployment(
                "tuned",
                ns,
                replicas=1,
                annotations={rollout.MAX_SURGE_ANNOTATION: "1", rollout.MAX_UNAVAILABLE_ANNOTATION: "50%"},
            ),
            "c.yaml": deployment("own", ns, replicas=1, strategy="\n  strategy:\n    type: Recreate"),
        }
    )
    app = env.app(repo, unique("strategy"), ns, rollout=RolloutPolicy(max_surge="50%", max_unavailable=0))

    record = env.sync(app)

    assert record.result is SyncResult.SUCCEEDED, record.error
    plain = env.get("deployment", "plain", ns)
    tuned = env.get("deployment", "tuned", ns)
    own = env.get("deployment", "own", ns)
    assert plain and tuned and own
    assert plain["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "50%", "maxUnavailable": 0},
    }
    assert tuned["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": "50%"}
    assert own["spec"]["strategy"] == {"type": "Recreate"}
    stored = env.engine.cluster.get(ResourceKey("apps", "Deployment", ns, "plain"))
    assert stored is not None
    ours = [m for m in stored["metadata"]["managedFields"] if m["manager"] == app.manager]
    assert ours and ours[0]["operation"] == "Apply"
    strategy = ours[0]["fieldsV1"]["f:spec"]["f:strategy"]
    assert set(strategy["f:rollingUpdate"]) == {"f:maxSurge", "f:maxUnavailable"}
    # The injected strategy is the desired state: a second sync changes nothing.
    again = env.sync(app)
    assert again.result is SyncResult.NO_CHANGE, again.changes


@pytest.mark.parametrize(
    ("surge", "unavailable", "why"),
    [("0", "0", "cannot both be 0"), ("1", "150%", "must not exceed 100%"), ("1", "lots", "percentage like")],
)
def test_an_invalid_policy_is_refused_before_any_write(
    live_env: EngineEnv, repo: GitRepo, surge: str, unavailable: str, why: str
) -> None:
    env = live_env
    ns = env.create_namespace(unique("ro"))
    repo.commit(
        {
            "cm.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg, namespace: {ns}}}\n",
            "web.yaml": deployment(
                "web",
                ns,
                annotations={
                    rollout.MAX_SURGE_ANNOTATION: surge,
                    rollout.MAX_UNAVAILABLE_ANNOTATION: unavailable,
                },
            ),
        }
    )
    mark = env.mark()

    record = env.sync(env.app(repo, unique("refused"), ns))

    assert record.result is SyncResult.FAILED
    assert f"Deployment/{ns}/web" in record.error and why in record.error, record.error
    assert env.writes(mark) == []


def test_max_concurrent_rolls_deployments_out_one_after_another(
    live: LocalCluster, live_env: EngineEnv, repo: GitRepo
) -> None:
    env = live_env
    ns = env.create_namespace(unique("ro"))
    names = ["d1", "d2", "d3"]
    repo.commit(
        {
            **{f"{n}.yaml": deployment(n, ns) for n in names},
            **{f"{n}-svc.yaml": service(n, ns) for n in names},
        }
    )
    app = env.app(repo, unique("serial"), ns, rollout=RolloutPolicy(max_concurrent=1, timeout=600))
    since = current_rv(env, ns)
    mark = env.mark()

    started = time.monotonic()
    with pod_bounds(live, ns, created={n: (2, 1) for n in names}):  # 2 replicas, 25% surge: 1
        record = env.sync(app)

    assert record.result is SyncResult.SUCCEEDED, record.error
    assert time.monotonic() - started < 10
    deployments = replay(env, "apps", "Deployment", ns, since)
    created = {o["metadata"]["name"]: rv(o) for t, o in deployments if t == "ADDED"}
    ready: dict[str, int] = {}
    for t, o in deployments:
        if t == "MODIFIED" and available(o):
            ready.setdefault(o["metadata"]["name"], rv(o))
    assert set(created) == set(ready) == set(names)
    # Each Deployment was created only once the one before it was available.
    assert created["d1"] < ready["d1"] < created["d2"] < ready["d2"] < created["d3"] < ready["d3"]
    services = [o for t, o in replay(env, "", "Service", ns, since) if t == "ADDED"]
    assert len(services) == 3 and min(rv(o) for o in services) > max(ready.values())
    # The request log agrees: every Deployment's apply before the first Service's.
    patches = [(r.resource, r.name) for r in env.writes(mark) if r.verb == "patch"]
    assert patches[:3] == [("deployments", n) for n in names]
    assert sorted(patches[3:]) == [("services", n) for n in names]  # in parallel: any order
    assert all(c.message == "rolled out: healthy" for c in record.changes if c.key.kind == "Deployment")


def test_a_bad_image_fails_the_sync_fast_and_stops_it(
    live: LocalCluster, live_env: EngineEnv, repo: GitRepo
) -> None:
    env = live_env
    ns = env.create_namespace(unique("ro"))
    repo.commit({"web.yaml": deployment("web", ns), "svc.yaml": service("web", ns, port=80)})
    app = env.app(repo, unique("bad"), ns, prune=True, rollout=RolloutPolicy(timeout=600))
    assert env.sync(app).result is SyncResult.SUCCEEDED
    repo.commit(
        {
            "web.yaml": deployment("web", ns, image="registry.example/bad:1"),
            "svc.yaml": service("web", ns, port=8081),
            "extra.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: later, namespace: {ns}}}\n",
        }
    )
    mark = env.mark()

    started = time.monotonic()
    with pod_bounds(live, ns, updated=("web",)):
        record = env.sync(app)
    elapsed = time.monotonic() - started

    assert record.result is SyncResult.FAILED
    assert elapsed < 10  # far below the 600 s timeout (30 s of wall time at this clock)
    assert record.error.startswith(f"Deployment/{ns}/web: "), record.error
    assert "ImagePullBackOff" in record.error or "ErrImagePull" in record.error, record.error
    assert "pod web-" in record.error
    failed = [c for c in record.changes if c.error]
    assert [str(c.key) for c in failed] == [f"Deployment/{ns}/web"]
    # Services (a later phase) were not applied: the port is Git's previous one.
    svc = env.get("service", "web", ns)
    assert svc is not None and svc["spec"]["ports"][0]["port"] == 80
    written = {(r.resource, r.name) for r in env.writes(mark)}
    assert ("deployments", "web") in written
    assert not any(res == "services" for res, _ in written)
    # The record says so: the Service's update is there as SKIP, naming why.
    services = [c for c in record.changes if c.key.kind == "Service"]
    assert [(c.action, c.message) for c in services] == [
        (Action.SKIP, "not applied: the workloads phase failed")
    ]


def test_auto_rollback_restores_the_failed_deployment_and_records_it(
    live: LocalCluster, live_env: EngineEnv, repo: GitRepo
) -> None:
    env = live_env
    ns = env.create_namespace(unique("ro"))
    good = repo.commit({"web.yaml": deployment("web", ns), "svc.yaml": service("web", ns, port=80)})
    app = env.app(
        repo, unique("auto"), ns, prune=True, rollout=RolloutPolicy(timeout=600, auto_rollback=True)
    )
    first = env.sync(app)
    assert first.result is SyncResult.SUCCEEDED, first.error
    (serving,) = replica_sets(env, ns, "web")
    bad = repo.commit(
        {
            "web.yaml": deployment("web", ns, image="registry.example/bad:1"),
            "svc.yaml": service("web", ns, port=8081),
        }
    )

    with pod_bounds(live, ns, updated=("web",)):
        outcome = env.engine.sync(app, SyncOptions())

    failed, key = outcome.record, f"Deployment/{ns}/web"
    assert failed.result is SyncResult.FAILED and failed.error.startswith(f"{key}: "), failed.error
    assert failed.message == (
        f"auto-rollback of {key} from {bad[:8]} to {good[:8]} (history #{first.id}) follows"
    )
    assert outcome.rollback is not None and outcome.rolled_back_from == bad
    back = outcome.rollback.record
    assert back.result is SyncResult.SUCCEEDED, back.error
    assert (back.trigger, back.revision) == (Trigger.AUTO_ROLLBACK, good)
    assert back.message == (
        f"rolled back {key} from {bad[:8]} to {good[:8]} (history #{first.id}); the failed sync is #{failed.id}"
    )
    assert [(str(c.key), c.action) for c in back.changes] == [(key, Action.UPDATE)]
    # History: the good sync, the Failed one, then the auto-rollback (newest first).
    entries = env.history.list(app.name)
    assert [(r.id, r.trigger, r.result) for r in entries] == [
        (back.id, Trigger.AUTO_ROLLBACK, SyncResult.SUCCEEDED),
        (failed.id, Trigger.CLI, SyncResult.FAILED),
        (first.id, Trigger.CLI, SyncResult.SUCCEEDED),
    ]
    # The previous ReplicaSet serves again; the bad one is scaled to zero.
    web = env.get("deployment", "web", ns)
    assert web is not None and available(web)
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    sets = replica_sets(env, ns, "web")
    assert len(sets) == 2
    assert sets[serving]["spec"]["replicas"] == 2 and sets[serving]["status"].get("readyReplicas") == 2
    (other,) = set(sets) - {serving}
    assert sets[other]["spec"]["replicas"] == 0
    # Services were never touched: the port is still the good revision's.
    svc = env.get("service", "web", ns)
    assert svc is not None and svc["spec"]["ports"][0]["port"] == 80
    # A rollback entry is no full state: it keeps no manifests, and is never a rollback target.
    assert env.history.manifests(back.id) is None
    assert env.history.restorable(app.name) == env.history.get(first.id)


def test_auto_rollback_leaves_a_workload_new_in_the_commit(live_env: EngineEnv, repo: GitRepo) -> None:
    env = live_env
    ns = env.create_namespace(unique("ro"))
    repo.commit({"web.yaml": deployment("web", ns, replicas=1)})
    app = env.app(repo, unique("new"), ns, prune=True, rollout=RolloutPolicy(timeout=600, auto_rollback=True))
    first = env.sync(app)
    assert first.result is SyncResult.SUCCEEDED, first.error
    repo.commit({"fresh.yaml": deployment("fresh", ns, replicas=1, image="registry.example/bad:2")})

    outcome = env.engine.sync(app, SyncOptions())

    assert outcome.record.result is SyncResult.FAILED
    assert outcome.record.error.startswith(f"Deployment/{ns}/fresh: "), outcome.record.error
    assert outcome.record.message == (
        f"no auto-rollback; Deployment/{ns}/fresh not rolled back: new in this commit "
        f"(not in history #{first.id}), left as it is"
    )
    assert outcome.rollback is None and outcome.rolled_back_from == ""
    assert env.get("deployment", "fresh", ns) is not None  # nothing destructive
    assert [r.result for r in env.history.list(app.name)] == [SyncResult.FAILED, SyncResult.SUCCEEDED]


def test_auto_rollback_without_an_earlier_success_does_nothing(live_env: EngineEnv, repo: GitRepo) -> None:
    env = live_env
    ns = env.create_namespace(unique("ro"))
    repo.commit({"web.yaml": deployment("web", ns, replicas=1, image="registry.example/bad:3")})
    app = env.app(repo, unique("first"), ns, rollout=RolloutPolicy(timeout=600, auto_rollback=True))

    outcome = env.engine.sync(app, SyncOptions())

    assert outcome.record.result is SyncResult.FAILED
    assert outcome.record.message == (
        f"no auto-rollback of Deployment/{ns}/web: no earlier successful sync to roll back to"
    )
    assert outcome.rollback is None
    assert env.get("deployment", "web", ns) is not None
    assert len(env.history.list(app.name)) == 1


@pytest.mark.parametrize(
    ("reason", "why"),
    [(None, "a newer revision arrived"), ("the daemon is shutting down", "the daemon is shutting down")],
)
def test_a_cancelled_wait_ends_the_sync_at_once_and_never_rolls_back(
    live: LocalCluster, live_env: EngineEnv, repo: GitRepo, reason: str | None, why: str
) -> None:
    env = live_env
    ns = env.create_namespace(unique("ro"))
    repo.commit({"web.yaml": deployment("web", ns, replicas=1), "svc.yaml": service("web", ns, port=80)})
    app = env.app(
        repo, unique("cancel"), ns, prune=True, rollout=RolloutPolicy(timeout=600, auto_rollback=True)
    )
    assert env.sync(app).result is SyncResult.SUCCEEDED
    # The new pods take 10^6 simulated seconds to become ready: the gate would wait its 600 s.
    repo.commit(
        {
            "web.yaml": deployment("web", ns, replicas=1, image="nginx:1.28", ready_after="1000000"),
            "svc.yaml": service("web", ns, port=8081),
        }
    )
    cancel = Cancel()
    outcomes: list[SyncOutcome] = []
    worker = threading.Thread(
        target=lambda: outcomes.append(env.engine.sync(app, SyncOptions(cancel=cancel)))
    )
    worker.start()
    try:

        def new_pod_running() -> bool:
            return any(
                p["spec"]["containers"][0]["image"] == "nginx:1.28" and p["status"].get("phase") == "Running"
                for p in live.store.items(("", "pods"), ns)
            )

        wait_for(new_pod_running, 30, "the rollout to begin")
        if reason is None:
            cancel.cancel()
        else:
            cancel.cancel(reason)
    finally:
        worker.join(timeout=60)  # far below the rollout timeout of 600 s
    assert not worker.is_alive(), "the cancelled sync is still waiting"

    (outcome,) = outcomes
    record = outcome.record
    assert record.result is SyncResult.FAILED
    assert record.error == f"cancelled: {why} while waiting for Deployment/{ns}/web"
    assert outcome.cancelled and outcome.rollback is None and record.message == ""
    svc = env.get("service", "web", ns)
    assert svc is not None and svc["spec"]["ports"][0]["port"] == 80  # Services not applied
    services = [c for c in record.changes if c.key.kind == "Service"]
    assert [(c.action, c.message) for c in services] == [(Action.SKIP, "not applied: the sync was cancelled")]
    assert [r.trigger for r in env.history.list(app.name)] == [Trigger.CLI, Trigger.CLI]


def test_a_sync_killed_mid_rollout_is_interrupted_and_the_next_sync_converges(
    live: LocalCluster, live_env: EngineEnv, repo: GitRepo, tmp_path: Path
) -> None:
    env = live_env
    ns = env.create_namespace(unique("ro"))
    # Ready 60 simulated seconds after starting: a rollout of a few wall seconds.
    repo.commit({"web.yaml": deployment("web", ns, ready_after="60")})
    name, db = unique("killed"), tmp_path / "killed.db"
    command = [sys.executable, "-m", "gitops.cli", "sync", repo.url, "--app", name]
    command += ["--kubeconfig", str(live.kubeconfig), "--history-db", str(db), "-o", "json"]
    proc = subprocess.Popen(
        command, cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:

        def running() -> list[tuple[int, str]]:
            if not db.exists():
                return []
            with contextlib.closing(sqlite3.connect(db)) as conn:  # not a History: that would recover
                try:
                    return list(conn.execute("SELECT id, result FROM syncs WHERE app = ?", (name,)))
                except sqlite3.OperationalError:  # the CLI is creating the schema right now
                    return []

        def rolling_out() -> bool:
            web = live.store.get(("apps", "deployments"), (ns, "web"))
            return (
                running() == [(1, "Running")]
                and web is not None
                and not available(web)
                and any(p["metadata"]["name"].startswith("web-") for p in live.store.items(("", "pods"), ns))
                and proc.poll() is None
            )

        wait_for(rolling_out, 30, "the CLI's rollout to begin")
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    # Nobody has opened the history since: the entry is still Running...
    assert running() == [(1, "Running")]

    # ... until the next sync (a new CLI process) opens it: History.recover marks it Interrupted.
    again = subprocess.run(
        command, cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=120
    )

    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["result"] in ("Succeeded", "NoChange")
    with History(db) as history:
        entries = history.list(name)
    assert [(r.id, r.result) for r in entries][1:] == [(1, SyncResult.INTERRUPTED)]
    assert entries[1].error.startswith("interrupted: the gitops process running this sync stopped")
    assert entries[0].result in (SyncResult.SUCCEEDED, SyncResult.NO_CHANGE)

    def converged() -> bool:
        web = live.store.get(("apps", "deployments"), (ns, "web"))
        return web is not None and available(web)

    wait_for(converged, 30, "the Deployment to be available")


SYNC_ID: contextvars.ContextVar[str] = contextvars.ContextVar("sync_id", default="")


def test_the_callers_context_reaches_every_thread_of_a_sync(live_env: EngineEnv, repo: GitRepo) -> None:
    # The daemon's log context (app, revision, sync id) lives in context variables: the
    # LISTs, applies and health watches the engine fans out to other threads must see it.
    env = live_env
    ns = env.create_namespace(unique("ctx"))
    repo.commit({"web.yaml": deployment("web", ns, replicas=1), "svc.yaml": service("web", ns, port=80)})
    app = env.app(repo, unique("ctx"), ns, prune=True)
    seen: list[tuple[str, str, str]] = []
    env.engine.cluster.observer = lambda verb, status: seen.append(
        (verb, threading.current_thread().name, SYNC_ID.get())
    )
    token = SYNC_ID.set("sync-42")
    try:
        assert env.sync(app).result is SyncResult.SUCCEEDED
    finally:
        SYNC_ID.reset(token)
        env.engine.cluster.observer = None

    threads = {name for _, name, _ in seen}
    assert any(name.startswith("gitops-watch-") for name in threads)  # the health gate's
    assert any(name.startswith("ThreadPoolExecutor") for name in threads)  # LISTs, applies
    assert {verb for verb, _, _ in seen} >= {"list", "patch", "watch"}
    assert [(verb, name) for verb, name, value in seen if value != "sync-42"] == []
