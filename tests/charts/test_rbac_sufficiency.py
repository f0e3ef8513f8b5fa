"""The chart's RBAC is exactly sufficient: a real sync of examples/repo, run as the chart's
ServiceAccount against the local cluster with authentication and RBAC on, succeeds with the
rendered rules, and fails with 403 when any single rule is taken away.

The scenario exercises every verb the engine uses: a first sync (adoption GETs, LISTs, creates
by server-side apply, the health gate's watches of Deployments and Pods), then a commit that
removes the api Deployment and Service (prune: delete). The daemon's own Role (Events, the
Lease) is checked the same way through the daemon's code paths.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops import errors
from gitops.cluster import Cluster, ClusterOptions
from gitops.config import App
from gitops.daemon import events
from gitops.daemon.leader import LeaderElector
from gitops.engine import Engine, SyncOptions
from gitops.git import GitOptions, Source
from gitops.history import History
from gitops.localcluster import LocalCluster
from gitops.model import ResourceKey, SyncRecord, SyncResult, Trigger
from tests.charts.render import render
from tests.waiting import wait_for

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "repo"
RELEASE_NS = "gitops"

# Only the kinds examples/repo holds: then every rendered rule must be needed by its sync.
VALUES: dict[str, Any] = {
    "apps": [{"name": "shop", "repo": "https://git.example.com/shop.git", "path": ".", "namespace": "shop"}],
    "rbac": {
        "clusterScoped": True,
        "namespaces": ["shop"],
        "managedResources": [
            {"apiGroup": "", "resources": ["configmaps", "secrets", "services"]},
            {"apiGroup": "apps", "resources": ["deployments"]},
            {"apiGroup": "networking.k8s.io", "resources": ["ingresses"]},
        ],
        "clusterResources": [{"apiGroup": "", "resources": ["namespaces"]}],
    },
}

RBAC_KINDS = ("ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")


def _rbac_objects() -> list[dict[str, Any]]:
    return [o for o in render(VALUES, namespace=RELEASE_NS) if o["kind"] in RBAC_KINDS]


def _rules() -> list[tuple[int, int, str]]:
    """(object index, rule index, description) of every rule of every rendered role."""
    out = []
    for i, obj in enumerate(_rbac_objects()):
        if obj["kind"] in ("Role", "ClusterRole"):
            for j, rule in enumerate(obj.get("rules") or []):
                where = obj["metadata"].get("namespace", "cluster")
                what = f"{obj['kind']}/{where}/{obj['metadata']['name']}: {rule.get('apiGroups')} {rule.get('resources')} {rule.get('verbs')}"
                out.append((i, j, what))
    return out


def _install(cluster: LocalCluster, objects: list[dict[str, Any]]) -> str:
    """Create the release's namespace, the app's namespace (a namespaced Role needs it) and the
    RBAC objects as the admin; a kubeconfig for the chart's ServiceAccount."""
    admin = Cluster.connect(ClusterOptions(kubeconfig=cluster.kubeconfig))
    try:
        for ns in (RELEASE_NS, "shop"):
            admin.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}, manager="admin")
        for obj in objects:
            admin.apply(obj, manager="helm")
    finally:
        admin.close()
    sa = next(o for o in objects if o["kind"] == "ServiceAccount")["metadata"]["name"]
    token = cluster.service_account_token(RELEASE_NS, sa)
    kubeconfig = Path(cluster.kubeconfig).with_name(f"sa-{sa}.kubeconfig")
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "local", "cluster": {"server": cluster.url}}],
                "users": [{"name": sa, "user": {"token": token}}],
                "contexts": [
                    {"name": "sa", "context": {"cluster": "local", "user": sa, "namespace": RELEASE_NS}}
                ],
                "current-context": "sa",
            }
        )
    )
    return str(kubeconfig)


@pytest.fixture
def rbac_cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    with LocalCluster(kubeconfig=tmp_path / "admin.kubeconfig", auth=True, clock_scale=20.0) as c:
        yield c


def _sync_scenario(kubeconfig: str, tmp_path: Path) -> list[SyncRecord]:
    """First sync of examples/repo, then a commit without the api Deployment and Service."""
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    app = App(name="shop", repo=str(repo), namespace="shop", allowed_namespaces=("shop",), prune=True)
    cluster = Cluster.connect(ClusterOptions(kubeconfig=Path(kubeconfig), retries=0))
    records = []
    try:
        with History.open(tmp_path / "history.db") as history:
            engine = Engine(cluster, Source(GitOptions(cache_dir=tmp_path / "cache")), history)
            first = engine.sync(app, SyncOptions(trigger=Trigger.CLI))
            records.append(first.record)
            if first.record.result.failed:
                return records
            (repo / "api.yaml").unlink()
            second = engine.sync(app, SyncOptions(trigger=Trigger.CLI))
            records.append(second.record)
    finally:
        cluster.close()
    return records


def test_the_rendered_rbac_is_sufficient_for_a_real_sync(rbac_cluster: LocalCluster, tmp_path: Path) -> None:
    kubeconfig = _install(rbac_cluster, _rbac_objects())
    since = rbac_cluster.requests.last_seq
    records = _sync_scenario(kubeconfig, tmp_path)
    assert [r.result for r in records] == [SyncResult.SUCCEEDED, SyncResult.SUCCEEDED], [
        r.error for r in records
    ]
    pruned = {(c.key.kind, c.key.name) for c in records[1].changes if c.action.value == "prune"}
    removed = {
        (d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all((EXAMPLE / "api.yaml").read_text())
    }
    assert ("Deployment", "api") in removed
    assert pruned == removed
    # Everything ran as the ServiceAccount, and nothing was refused.
    mine = [
        r
        for r in rbac_cluster.requests.records(since)
        if r.user == f"system:serviceaccount:{RELEASE_NS}:gitops"
    ]
    assert mine and all(r.code not in (401, 403) for r in mine)


@pytest.mark.parametrize("rule", _rules(), ids=lambda r: r[2] if isinstance(r, tuple) else str(r))
def test_without_any_single_rule_some_step_is_forbidden(
    rule: tuple[int, int, str], rbac_cluster: LocalCluster, tmp_path: Path
) -> None:
    objects = copy.deepcopy(_rbac_objects())
    index, rule_index, what = rule
    role = objects[index]
    del role["rules"][rule_index]
    kubeconfig = _install(rbac_cluster, objects)
    since = rbac_cluster.requests.last_seq
    if role["metadata"]["name"].endswith("-daemon"):
        refused = _daemon_steps(kubeconfig)
        assert refused, f"{what} was not needed: the daemon posted its Event and held the Lease"
    else:
        records = _sync_scenario(kubeconfig, tmp_path)
        assert records[-1].result is SyncResult.FAILED, (
            f"{what} was not needed: {[r.result for r in records]}"
        )
    forbidden = [r for r in rbac_cluster.requests.records(since) if r.code == 403]
    assert forbidden, f"removing {what} caused no 403"


def _daemon_steps(kubeconfig: str) -> list[Any]:
    """Post a sync Event and take the Lease as the daemon does; the refusals."""
    cluster = Cluster.connect(ClusterOptions(kubeconfig=Path(kubeconfig), retries=0))
    refused: list[Any] = []
    try:
        record = SyncRecord(
            app="shop", trigger=Trigger.POLL, started="2026-01-01T00:00:00Z", result=SyncResult.SUCCEEDED
        )
        recorder = events.Recorder(cluster)
        if not recorder.post(events.sync_event(record, namespace=RELEASE_NS)):
            refused.append("event")
        elif not recorder.post(events.sync_event(record, namespace=RELEASE_NS)):  # counted: a PATCH
            refused.append("event count")
        lease_name = "gitops"
        elector = LeaderElector(
            cluster, RELEASE_NS, lease_name, "me", lease_duration=2, renew_deadline=1.5, retry_period=0.2
        )
        elector.start(lambda: None, lambda: None)
        try:
            if not elector.wait_until_leader(5):
                refused.append("lease")
            else:
                # Renewal is a PUT (update): hold the lease past a few retry periods.
                lease = ResourceKey("coordination.k8s.io", "Lease", RELEASE_NS, lease_name)
                first = (cluster.get(lease) or {}).get("spec", {}).get("renewTime")
                try:
                    wait_for(
                        lambda: (cluster.get(lease) or {}).get("spec", {}).get("renewTime") != first,
                        timeout=5,
                        what="a renewal",
                    )
                except (AssertionError, errors.ClusterError):
                    refused.append("renew")
        finally:
            elector.stop(release=False)
    finally:
        cluster.close()
    return refused
