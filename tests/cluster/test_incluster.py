"""In-cluster configuration (issue 7): the service account's token, CA and namespace, as in a
pod, against the local cluster serving TLS with bearer-token authentication and RBAC."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from gitops import errors
from gitops.cluster import Cluster, ClusterOptions, in_cluster_available
from gitops.localcluster import LocalCluster
from gitops.model import ResourceKey

RBAC = "rbac.authorization.k8s.io/v1"


# ------------------------------------------------------------------------ without a server


def _sa_dir(tmp_path: Path, token: str = "t0ken", namespace: str | None = "shop") -> Path:
    d = tmp_path / "serviceaccount"
    d.mkdir()
    (d / "token").write_text(token)
    (d / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nnot parsed here\n-----END CERTIFICATE-----\n")
    if namespace is not None:
        (d / "namespace").write_text(namespace)
    return d


def test_in_cluster_available_needs_the_service_host_and_the_token(tmp_path: Path) -> None:
    d = _sa_dir(tmp_path)
    assert in_cluster_available({"KUBERNETES_SERVICE_HOST": "10.96.0.1"}, d)
    assert not in_cluster_available({}, d)
    assert not in_cluster_available({"KUBERNETES_SERVICE_HOST": ""}, d)
    (d / "token").unlink()
    assert not in_cluster_available({"KUBERNETES_SERVICE_HOST": "10.96.0.1"}, d)


def test_connect_takes_host_ca_token_and_namespace_from_the_pod(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = _sa_dir(tmp_path)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    kube = Cluster.connect(ClusterOptions(in_cluster=True, service_account_dir=d))
    assert kube.host == "https://10.96.0.1:443"
    assert kube.namespace == "shop"
    assert kube.api_client.configuration.ssl_ca_cert == str(d / "ca.crt")
    assert kube.api_client.configuration.get_api_key_with_prefix("BearerToken") == "Bearer t0ken"
    assert str(d / "token") in kube.credentials and "t0ken" not in kube.credentials


def test_ipv6_service_host_is_bracketed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = _sa_dir(tmp_path)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")
    kube = Cluster.connect(ClusterOptions(in_cluster=True, service_account_dir=d))
    assert kube.host == "https://[fd00:10:96::1]:6443"


def test_namespace_prefers_pod_namespace_and_defaults_to_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = _sa_dir(tmp_path, namespace=None)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    assert Cluster.connect(ClusterOptions(in_cluster=True, service_account_dir=d)).namespace == "default"
    monkeypatch.setenv("POD_NAMESPACE", "from-downward-api")
    (d / "namespace").write_text("shop")
    assert (
        Cluster.connect(ClusterOptions(in_cluster=True, service_account_dir=d)).namespace
        == "from-downward-api"
    )


@pytest.mark.parametrize(
    ("env", "remove", "expected"),
    [
        ({}, "", "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set"),
        ({"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}, "token", "token"),
        ({"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}, "ca.crt", "ca.crt"),
    ],
)
def test_incomplete_pod_configuration_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], remove: str, expected: str
) -> None:
    d = _sa_dir(tmp_path)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    if remove:
        (d / remove).unlink()
    with pytest.raises(errors.ConfigError, match=expected):
        Cluster.connect(ClusterOptions(in_cluster=True, service_account_dir=d))


# ---------------------------------------------------- against the local cluster (TLS, RBAC)


@pytest.fixture(scope="module")
def secure_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    kubeconfig = tmp_path_factory.mktemp("secure") / "kubeconfig"
    with LocalCluster(kubeconfig=kubeconfig, controllers=False, auth=True, tls=True) as c:
        yield c


@pytest.fixture(scope="module")
def admin(secure_cluster: LocalCluster) -> Iterator[Cluster]:
    """The kubeconfig's admin (token and CA from the kubeconfig): sets up what a test needs."""
    kube = Cluster.connect(ClusterOptions(kubeconfig=secure_cluster.kubeconfig, backoff=0.01))
    yield kube
    kube.close()


def _apply(admin: Cluster, *objs: dict[str, Any]) -> None:
    for obj in objs:
        admin.apply(obj, manager="test-setup")


@pytest.fixture
def ns(admin: Cluster) -> str:
    """A namespace with ServiceAccounts ``gitops`` and ``other`` allowed to manage ConfigMaps
    and ``nobody`` allowed nothing."""
    name = f"ic-{uuid.uuid4().hex[:8]}"
    _apply(admin, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    for sa in ("gitops", "other", "nobody"):
        _apply(
            admin, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": name}}
        )
    _apply(
        admin,
        {
            "apiVersion": RBAC,
            "kind": "Role",
            "metadata": {"name": "configmaps", "namespace": name},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}],
        },
        {
            "apiVersion": RBAC,
            "kind": "RoleBinding",
            "metadata": {"name": "configmaps", "namespace": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "configmaps"},
            "subjects": [
                {"kind": "ServiceAccount", "name": "gitops", "namespace": name},
                {"kind": "ServiceAccount", "name": "other", "namespace": name},
            ],
        },
    )
    return name


@pytest.fixture
def in_pod(secure_cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment the kubelet gives a pod, pointing at the local cluster."""
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(secure_cluster.port))
    monkeypatch.delenv("POD_NAMESPACE", raising=False)


def _cm(ns: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "data": {"k": "v"},
    }


def _users(cluster: LocalCluster, since: int) -> list[str]:
    return [r.user for r in cluster.requests.records(since)]


def _rotate(sa_dir: Path, token: str) -> None:
    """Replace the token the way the kubelet's AtomicWriter does: a new timestamped directory,
    then an atomic swap of the ``..data`` symlink that ``token`` points through."""
    stamp = f"..{uuid.uuid4().hex[:8]}"
    (sa_dir / stamp).mkdir()
    (sa_dir / stamp / "token").write_text(token)
    tmp_link = sa_dir / "..data_tmp"
    tmp_link.symlink_to(stamp)
    os.replace(tmp_link, sa_dir / "..data")


def _projected(sa_dir: Path) -> None:
    """Turn a directory of plain files into the kubelet's layout (``token`` -> ``..data/token``)."""
    token = (sa_dir / "token").read_text()
    (sa_dir / "token").unlink()
    _rotate(sa_dir, token)
    (sa_dir / "token").symlink_to("..data/token")


@contextmanager
def _pod_client(sa_dir: Path) -> Iterator[Cluster]:
    """The engine's client as the daemon makes it in a pod, from the mount at ``sa_dir``."""
    kube = Cluster.connect(ClusterOptions(in_cluster=True, service_account_dir=sa_dir, backoff=0.01))
    try:
        yield kube
    finally:
        kube.close()


def test_in_cluster_client_syncs_over_tls_as_its_service_account(
    secure_cluster: LocalCluster, ns: str, in_pod: None, tmp_path: Path
) -> None:
    sa_dir = secure_cluster.write_service_account_files(tmp_path / "sa", ns, "gitops")
    with _pod_client(sa_dir) as kube:
        assert kube.host == f"https://127.0.0.1:{secure_cluster.port}"
        assert kube.namespace == ns
        since = secure_cluster.requests.last_seq
        kube.apply(_cm(ns, "a"), manager="gitops")
        assert kube.get(ResourceKey("", "ConfigMap", ns, "a")) is not None
        assert set(_users(secure_cluster, since)) == {f"system:serviceaccount:{ns}:gitops"}


def test_rotated_token_is_used_by_the_next_request(
    secure_cluster: LocalCluster, ns: str, in_pod: None, tmp_path: Path
) -> None:
    sa_dir = secure_cluster.write_service_account_files(tmp_path / "sa", ns, "gitops")
    _projected(sa_dir)
    with _pod_client(sa_dir) as kube:
        since = secure_cluster.requests.last_seq
        kube.apply(_cm(ns, "before"), manager="gitops")
        assert set(_users(secure_cluster, since)) == {f"system:serviceaccount:{ns}:gitops"}

        # A different account's token makes the switch visible on the server side.
        _rotate(sa_dir, secure_cluster.service_account_token(ns, "other"))
        since = secure_cluster.requests.last_seq
        kube.apply(_cm(ns, "after"), manager="gitops")
        assert set(_users(secure_cluster, since)) == {f"system:serviceaccount:{ns}:other"}


def test_token_rewritten_in_place_is_used_by_the_next_request(
    secure_cluster: LocalCluster, ns: str, in_pod: None, tmp_path: Path
) -> None:
    sa_dir = secure_cluster.write_service_account_files(tmp_path / "sa", ns, "gitops")
    with _pod_client(sa_dir) as kube:
        kube.apply(_cm(ns, "before"), manager="gitops")
        (sa_dir / "token").write_text(secure_cluster.service_account_token(ns, "other"))
        since = secure_cluster.requests.last_seq
        kube.apply(_cm(ns, "after"), manager="gitops")
        assert set(_users(secure_cluster, since)) == {f"system:serviceaccount:{ns}:other"}


def test_refused_token_is_a_clear_error_that_names_the_file_not_the_token(
    secure_cluster: LocalCluster, ns: str, in_pod: None, tmp_path: Path
) -> None:
    sa_dir = secure_cluster.write_service_account_files(tmp_path / "sa", ns, "gitops")
    bogus = "bogus-token-" + uuid.uuid4().hex
    (sa_dir / "token").write_text(bogus)
    with _pod_client(sa_dir) as kube:
        with pytest.raises(errors.ClusterAuthError) as info:
            kube.request("GET", f"/api/v1/namespaces/{ns}/configmaps")
        text = str(info.value)
        assert info.value.code == 401 and not info.value.retryable
        assert "refused the credentials" in text and str(sa_dir / "token") in text
        assert bogus not in text and bogus not in repr(info.value.args)
        with pytest.raises(errors.ClusterAuthError):  # discovery, the first request, says it
            kube.apply(_cm(ns, "x"), manager="gitops")


def test_refused_write_names_the_object_first(
    secure_cluster: LocalCluster, ns: str, in_pod: None, tmp_path: Path
) -> None:
    sa_dir = secure_cluster.write_service_account_files(tmp_path / "sa", ns, "gitops")
    with _pod_client(sa_dir) as kube:
        kube.resources()  # discovery done with the good token
        (sa_dir / "token").write_text("revoked")
        with pytest.raises(errors.ClusterAuthError, match=f"^ConfigMap/{ns}/x: .*refused the credentials"):
            kube.apply(_cm(ns, "x"), manager="gitops")


def test_forbidden_keeps_the_servers_message(
    secure_cluster: LocalCluster, ns: str, in_pod: None, tmp_path: Path
) -> None:
    sa_dir = secure_cluster.write_service_account_files(tmp_path / "sa", ns, "nobody")
    with _pod_client(sa_dir) as kube:
        with pytest.raises(errors.ClusterError) as info:
            kube.request("GET", f"/api/v1/namespaces/{ns}/secrets")
        assert info.value.code == 403
        assert f'User "system:serviceaccount:{ns}:nobody" cannot list resource "secrets"' in str(info.value)


def test_kubeconfig_with_token_and_ca_reaches_the_tls_cluster(
    admin: Cluster, secure_cluster: LocalCluster
) -> None:
    assert admin.host.startswith("https://")
    assert admin.namespace == "default"
    since = secure_cluster.requests.last_seq
    admin.request("GET", "/api/v1/namespaces/default")
    assert _users(secure_cluster, since) == ["kubernetes-super-admin"]
