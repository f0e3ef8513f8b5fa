"""Immutable-field changes are explained (or recreated when the app allows it), and
ignoreDifferences is honoured by apply as well as by diff."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gitops.cluster import Cluster, ClusterOptions
from gitops.config import App, IgnoreDifference
from gitops.engine import Engine, SyncOptions
from gitops.git import GitOptions, Source
from gitops.history import History
from gitops.localcluster import LocalCluster
from gitops.model import Action, ResourceKey, SyncResult


def _deployment(selector: str, replicas: int = 2) -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: default}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {selector}}}}}
  template:
    metadata: {{labels: {{app: {selector}}}}}
    spec: {{containers: [{{name: c, image: nginx}}]}}
"""


# The cluster runs no controllers: no workload would ever become healthy.
NO_WAIT = SyncOptions(wait=False)


@pytest.fixture
def engine(tmp_path: Path) -> tuple[Engine, LocalCluster]:
    c = LocalCluster(kubeconfig=tmp_path / "kc", controllers=False).start()
    kube = Cluster.connect(ClusterOptions(kubeconfig=c.kubeconfig))
    e = Engine(kube, Source(GitOptions(cache_dir=tmp_path / "cache")), History(tmp_path / "h.db"))
    yield e, c
    kube.close()
    c.stop()


def test_immutable_selector_change_is_explained_and_not_forced(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    e, c = engine
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "d.yaml").write_text(_deployment("a"))
    app = App(name="imm", repo=str(app_dir))
    assert e.sync(app, NO_WAIT).record.result is SyncResult.SUCCEEDED
    (app_dir / "d.yaml").write_text(_deployment("b"))
    record = e.sync(app, NO_WAIT).record
    assert record.result is SyncResult.FAILED
    failed = [ch for ch in record.changes if ch.error]
    assert [str(ch.key) for ch in failed] == ["Deployment/default/web"]
    assert "field is immutable" in failed[0].message
    assert "recreateOnImmutable: true" in failed[0].message
    rt = c.registry.by_plural("apps", "v1", "deployments")
    assert rt is not None
    assert c.api.get(rt, "default", "web")["spec"]["selector"] == {"matchLabels": {"app": "a"}}

    recreating = replace(app, recreate_on_immutable=True)
    record = e.sync(recreating, NO_WAIT).record
    assert record.result is SyncResult.SUCCEEDED, record.error
    assert [ch.message for ch in record.changes if ch.action is Action.UPDATE] == [
        "recreated: an immutable field changed"
    ]
    assert c.api.get(rt, "default", "web")["spec"]["selector"] == {"matchLabels": {"app": "b"}}


def test_ignored_fields_are_neither_diffed_nor_applied(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    e, c = engine
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "d.yaml").write_text(_deployment("a", replicas=2))
    app = App(
        name="ign",
        repo=str(app_dir),
        ignore_differences=(IgnoreDifference(("/spec/replicas",), kind="Deployment"),),
    )
    assert e.sync(app, NO_WAIT).record.result is SyncResult.SUCCEEDED
    rt = c.registry.by_plural("apps", "v1", "deployments")
    assert rt is not None
    # Someone (an autoscaler, a person) scales it; Git says 2 but the app ignores replicas.
    from gitops.localcluster.api import WriteOptions

    c.api.write_scale(
        rt, "default", "web", lambda s: {**s, "spec": {"replicas": 5}}, WriteOptions(manager="scaler")
    )
    assert e.sync(app, NO_WAIT).record.result is SyncResult.NO_CHANGE
    # A real change elsewhere is applied without touching the ignored field.
    (app_dir / "d.yaml").write_text(_deployment("a", replicas=2).replace("image: nginx", "image: nginx:2"))
    record = e.sync(app, NO_WAIT).record
    assert record.result is SyncResult.SUCCEEDED
    live = c.api.get(rt, "default", "web")
    assert live["spec"]["replicas"] == 5
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"
    assert [ch.key for ch in record.changes if ch.action is Action.UPDATE] == [
        ResourceKey("apps", "Deployment", "default", "web")
    ]
