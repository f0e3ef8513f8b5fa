"""The daemon "as in a pod": KUBERNETES_SERVICE_HOST/PORT point at the local cluster (bearer
tokens, RBAC and TLS on), and the service-account mount (token, ca.crt, namespace) is a temp
dir written as the kubelet projects it. The daemon runs with the RBAC the Helm chart renders,
syncs an app, takes its Lease and posts Events in its own namespace; a wrong token is refused
with 401 and reported as such."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from gitops.cluster import Cluster, ClusterOptions
from gitops.localcluster import LocalCluster
from gitops.model import ResourceKey
from tests.charts.render import render
from tests.daemon.harness import app_files, config_text, running
from tests.gitserver import GitHttpServer, make_repo
from tests.waiting import wait_for

pytestmark = pytest.mark.timeout(180)

RELEASE_NS = "gitops"
SA = "gitops"


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[LocalCluster]:
    with LocalCluster(kubeconfig=tmp_path / "admin.kubeconfig", auth=True, tls=True, clock_scale=20.0) as c:
        yield c


def _install_chart_rbac(cluster: LocalCluster, app_ns: str, repo: str) -> None:
    values: dict[str, Any] = {
        "apps": [{"name": "shop", "repo": repo, "path": "app", "namespace": app_ns}],
        "rbac": {"clusterScoped": True, "namespaces": [app_ns]},
    }
    objects = render(values, namespace=RELEASE_NS)
    kinds = ("ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")
    admin = Cluster.connect(ClusterOptions(kubeconfig=cluster.kubeconfig))
    try:
        for ns in (RELEASE_NS, app_ns):
            admin.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}, manager="admin")
        for obj in objects:
            if obj["kind"] in kinds:
                admin.apply(obj, manager="helm")
    finally:
        admin.close()


def _prepare(
    cluster: LocalCluster, tmp_path: Path, server: GitHttpServer, app_ns: str
) -> tuple[str, str, Path]:
    """A repository with the app, the chart's RBAC for it, the service-account mount; the
    daemon config, the pushed SHA and the mount directory."""
    work = make_repo(server, "shop", app_files(app_ns))
    _install_chart_rbac(cluster, app_ns, work.url)
    mount = cluster.write_service_account_files(tmp_path / "serviceaccount", RELEASE_NS, SA)
    app = {
        "name": "shop",
        "repo": work.url,
        "revision": "main",
        "path": "app",
        "namespace": app_ns,
        "allowedNamespaces": [app_ns],
        "interval": "1s",
    }
    return config_text([app]), work.head, mount


def _pod_env(cluster: LocalCluster) -> dict[str, str]:
    url = urlsplit(cluster.url)
    return {"KUBERNETES_SERVICE_HOST": str(url.hostname), "KUBERNETES_SERVICE_PORT": str(url.port)}


def test_in_a_pod_the_daemon_syncs_with_its_service_account(tmp_path: Path, secured: LocalCluster) -> None:
    app_ns = f"p-{uuid.uuid4().hex[:8]}"
    with GitHttpServer(tmp_path / "repos") as server:
        config, head, mount = _prepare(secured, tmp_path, server, app_ns)
        since = secured.requests.last_seq
        with running(
            tmp_path / "daemon",
            config,
            None,
            args=["--service-account-dir", str(mount), "--leader-elect", "--lease-name", "gitops"],
            env=_pod_env(secured),
            identity="pod-0",
        ) as d:
            status = wait_for(
                lambda: (s := d.app("shop"))["syncedRevision"] == head and s,
                timeout=90,
                what=f"the in-pod sync ({d.log()[-3000:]})",
            )
            assert status["condition"] == ""
            admin = Cluster.connect(ClusterOptions(kubeconfig=secured.kubeconfig))
            try:
                web = admin.get(ResourceKey("apps", "Deployment", app_ns, "web"))
                assert web is not None
                # The Lease and the Events are in the service account's namespace.
                lease = admin.get(ResourceKey("coordination.k8s.io", "Lease", RELEASE_NS, "gitops"))
                assert lease is not None and lease["spec"]["holderIdentity"] == "pod-0"
                events = wait_for(
                    lambda: [
                        e
                        for e in admin.list("", "Event", namespace=RELEASE_NS)
                        if e["reason"] == "SyncSucceeded"
                    ],
                    timeout=30,
                    what="a SyncSucceeded Event",
                )
                assert "shop" in events[0]["message"]
            finally:
                admin.close()
        user = f"system:serviceaccount:{RELEASE_NS}:{SA}"
        mine = [r for r in secured.requests.records(since) if r.user == user]
        assert any(r.verb == "patch" and r.resource == "deployments" for r in mine)
        assert all(r.code != 403 for r in mine), [
            (r.verb, r.resource, r.namespace) for r in mine if r.code == 403
        ]


def test_in_a_pod_a_wrong_token_is_refused_and_reported(tmp_path: Path, secured: LocalCluster) -> None:
    app_ns = f"p-{uuid.uuid4().hex[:8]}"
    with GitHttpServer(tmp_path / "repos") as server:
        config, _, mount = _prepare(secured, tmp_path, server, app_ns)
        token = "not-a-token-" + uuid.uuid4().hex
        (mount / "token").write_text(token)
        since = secured.requests.last_seq
        with running(
            tmp_path / "daemon",
            config,
            None,
            args=["--service-account-dir", str(mount)],
            env=_pod_env(secured),
        ) as d:
            status = wait_for(
                lambda: (s := d.app("shop"))["condition"] and s, timeout=60, what="the refusal reported"
            )
            assert status["condition"].startswith("cluster:")
            assert "401" in status["condition"] or "Unauthorized" in status["condition"]
            assert str(mount / "token") in status["condition"]
            assert status["syncedRevision"] == ""
            assert token not in d.log() and token not in str(status)
        assert secured.requests.writes(since) == []
