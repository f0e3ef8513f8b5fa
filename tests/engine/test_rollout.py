"""Rollouts the engine controls (issue 5): the app's rollout policy on Deployments, the health
gate after the workloads phase (watch-based, fail fast on Degraded), ``maxConcurrent``, and a
failed rollout stopping the sync before Services.

One cluster with its simulated controllers for the module (20 simulated seconds a wall second).
Orders are read from the server's own event history: a WATCH from a resourceVersion taken before
the sync replays every event after it in resourceVersion order, whatever the timing of threads.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops.config import RolloutPolicy
from gitops.engine import rollout
from gitops.localcluster import LocalCluster
from gitops.model import Action, ResourceKey, SyncResult
from tests.conftest import LIVE_CLOCK_SCALE, Kubectl
from tests.engine.conftest import EngineEnv, GitRepo, make_env, unique


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
        localcluster.gitops.dev/ready-after: "5"
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


def test_max_concurrent_rolls_deployments_out_one_after_another(live_env: EngineEnv, repo: GitRepo) -> None:
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


def test_a_bad_image_fails_the_sync_fast_and_stops_it(live_env: EngineEnv, repo: GitRepo) -> None:
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
    assert not any(c.key.kind == "Service" and c.action is not Action.UNCHANGED for c in record.changes)
