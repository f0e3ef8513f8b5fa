"""Kept keys: with a state file the ServiceAccount signing key and the CA outlive a restart.

A real kube-apiserver reads them from files (``--service-account-key-file``,
``--service-account-signing-key-file``, ``--tls-cert-file``, ``--client-ca-file``), so a token or
a ``ca.crt`` handed out before a restart still works after it. The local cluster keeps them in
``<state>.pki/`` (``gitops/localcluster/tls.py``); without a state file each run has its own.
"""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ec
from kubernetes import client
from kubernetes.config.incluster_config import InClusterConfigLoader

from gitops.cli.main import cli
from gitops.localcluster import LocalCluster
from gitops.localcluster import tls as tls_mod
from tests.localcluster.test_auth import KUBECTL, UNAUTHORIZED, _bind, _create, _http, _role, _sa


def _secure(state: Path | None, kubeconfig: Path) -> LocalCluster:
    return LocalCluster(state_file=state, kubeconfig=kubeconfig, controllers=False, auth=True, tls=True)


def _in_cluster_client(mount: Path, port: int) -> client.ApiClient:
    """The official client configured as a pod is, from a service-account mount."""
    cfg = client.Configuration()
    InClusterConfigLoader(
        token_filename=str(mount / "token"),
        cert_filename=str(mount / "ca.crt"),
        environ={"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(port)},
    ).load_and_set(cfg)
    return client.ApiClient(cfg)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A state file whose cluster (auth, TLS) has run once and been stopped."""
    path = tmp_path / "state.json"
    with _secure(path, tmp_path / "kc") as c:
        _sa(c, "default")
    return path


def test_service_account_token_and_ca_crt_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with _secure(state, tmp_path / "kc") as c:
        _create(c, "", "serviceaccounts", "default", {"metadata": {"name": "daemon"}})
        _role(c, "default", "r", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}])
        _bind(c, "default", "rb", "Role", "r", [{"kind": "ServiceAccount", "name": "daemon"}])
        mount = c.write_service_account_files(tmp_path / "sa", "default", "daemon")
        old_admin, old_ca = c.admin_token, (mount / "ca.crt").read_bytes()
        with _in_cluster_client(mount, c.port) as api:
            assert client.CoreV1Api(api).list_namespaced_config_map("default").items == []
    with _secure(state, tmp_path / "kc") as c:
        assert (mount / "ca.crt").read_bytes() == old_ca  # the mount is as it was written
        with _in_cluster_client(mount, c.port) as api:
            assert client.CoreV1Api(api).list_namespaced_config_map("default").items == []
            review = client.AuthenticationV1Api(api).create_self_subject_review(
                client.V1SelfSubjectReview(api_version="authentication.k8s.io/v1", kind="SelfSubjectReview")
            )
        assert review.status.user_info.username == "system:serviceaccount:default:daemon"
        # The admin token is random per start and not kept: the kubeconfig, rewritten at start,
        # carries the new one with the same CA.
        kc = yaml.safe_load((tmp_path / "kc").read_text())
        assert c.admin_token != old_admin and kc["users"][0]["user"] == {"token": c.admin_token}
        assert base64.b64decode(kc["clusters"][0]["cluster"]["certificate-authority-data"]) == old_ca
        with _http(c, old_admin) as h:
            assert h.get("/api/v1/namespaces").json() == UNAUTHORIZED


def test_kept_key_files_are_private_and_written_once(state: Path) -> None:
    keys = tls_mod.key_directory(state)
    assert keys == state.parent / "state.json.pki"
    assert sorted(p.name for p in keys.iterdir()) == ["ca.crt", "ca.key", "sa.key"]  # no temporaries
    assert _mode(keys) == 0o700
    assert (_mode(keys / "sa.key"), _mode(keys / "ca.key"), _mode(keys / "ca.crt")) == (0o600, 0o600, 0o644)
    before = {p.name: p.read_bytes() for p in keys.iterdir()}
    with _secure(state, state.parent / "kc2"):
        pass
    assert {p.name: p.read_bytes() for p in keys.iterdir()} == before


def test_a_state_file_without_auth_or_tls_keeps_no_keys_until_a_token_is_issued(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    keys = tls_mod.key_directory(state)
    with LocalCluster(state_file=state, kubeconfig=tmp_path / "kc", controllers=False) as c:
        assert not keys.exists()
        _sa(c, "default")  # TokenRequest works without auth; its token must outlive a restart too
        assert sorted(p.name for p in keys.iterdir()) == ["sa.key"]


def _corrupt(path: Path) -> None:
    lines = path.read_text().splitlines()
    middle = len(lines) // 2
    lines[middle] = lines[middle][:10] + ("A" if lines[middle][10] != "A" else "B") + lines[middle][11:]
    path.write_text("\n".join(lines) + "\n")


def _other_ec_key(path: Path) -> None:
    path.write_bytes(tls_mod.private_key_pem(ec.generate_private_key(ec.SECP256R1())))


def _garbage(path: Path) -> None:
    path.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")


def _make_a_directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize(
    ("name", "damage", "problem"),
    [
        ("sa.key", _corrupt, "is not a usable unencrypted PEM private key"),
        ("sa.key", _other_ec_key, "holds a "),  # an EC key cannot sign RS256
        ("sa.key", _make_a_directory, "cannot be read"),
        ("ca.key", _other_ec_key, "is not the key of ca.crt"),
        ("ca.key", Path.unlink, "is missing, and ca.crt beside it needs it"),
        ("ca.crt", _garbage, "is not a PEM certificate"),
    ],
)
def test_a_damaged_key_file_is_an_error_naming_it_not_a_new_key(
    state: Path, name: str, damage: Callable[[Path], object], problem: str
) -> None:
    path = tls_mod.key_directory(state) / name
    damage(path)
    left = {p.name: p.read_bytes() for p in path.parent.iterdir() if p.is_file()}
    with pytest.raises(tls_mod.KeyFileError) as err:
        _secure(state, state.parent / "kc2")
    assert err.value.path == path
    assert str(err.value).startswith(f"{path}: {problem}")
    assert f"delete {path.parent} to start with new keys" in str(err.value)
    assert {p.name: p.read_bytes() for p in path.parent.iterdir() if p.is_file()} == left  # not replaced


def test_a_ca_key_without_its_certificate_is_replaced(state: Path) -> None:
    # ca.key is written first and ca.crt last: a key alone is a crash between the two, and no
    # client can trust a CA whose certificate never existed.
    keys = tls_mod.key_directory(state)
    (keys / "ca.crt").unlink()
    old_key = (keys / "ca.key").read_bytes()
    with _secure(state, state.parent / "kc2") as c:
        assert c.ca_file.read_bytes() == (keys / "ca.crt").read_bytes()
    assert (keys / "ca.key").read_bytes() != old_key


def test_without_a_state_file_each_cluster_has_its_own_keys(tmp_path: Path) -> None:
    with _secure(None, tmp_path / "a") as a, _secure(None, tmp_path / "b") as b:
        assert a.ca_file.read_bytes() != b.ca_file.read_bytes()
        _sa(b, "default")
        token = _sa(a, "default")
        with _http(a, token) as h:
            assert h.get("/version").status_code == 200
        with _http(b, token) as h:
            assert h.get("/version").json() == UNAUTHORIZED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # nothing kept beside them


BOT = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "bot", "namespace": "default"}}


def test_cli_serve_with_state_keeps_tokens_and_the_ca_across_restarts(tmp_path: Path) -> None:
    """The user's path: ``gitops local-cluster`` with ``--state --auth --tls``, run twice; kubectl
    with the token and the CA of the first run authenticates against the second."""
    state = tmp_path / "s.json"
    kc = "$KUBECONFIG"
    first = (
        f"export HOME={tmp_path}; echo '{json.dumps(BOT)}' | {KUBECTL} apply -f -"
        f" && {KUBECTL} create token bot -n default > {tmp_path}/token"
        f" && {KUBECTL} --kubeconfig {kc} config view --raw -o jsonpath='{{.clusters[0].cluster.certificate-authority-data}}'"
        f" | base64 -d > {tmp_path}/old-ca.crt"
    )
    second = (
        f"export HOME={tmp_path}; SERVER=$({KUBECTL} config view -o jsonpath='{{.clusters[0].cluster.server}}');"
        f" : > {tmp_path}/empty; {KUBECTL} --kubeconfig {tmp_path}/empty --server $SERVER"
        f" --certificate-authority {tmp_path}/old-ca.crt --token $(cat {tmp_path}/token)"
        f" auth whoami -o json > {tmp_path}/whoami.json"
    )
    exec_ = ["local-cluster", "exec", "--state", str(state), "--no-controllers", "--auth", "--tls", "--"]
    for script in (first, second):
        result = CliRunner().invoke(cli, [*exec_, "sh", "-c", script])
        assert result.exit_code == 0, result.output
    who = json.loads((tmp_path / "whoami.json").read_text())
    assert who["status"]["userInfo"]["username"] == "system:serviceaccount:default:bot"


def test_cli_names_a_damaged_key_file_without_a_traceback(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    exec_ = ["local-cluster", "exec", "--state", str(state), "--no-controllers", "--auth", "--tls", "--"]
    assert CliRunner().invoke(cli, [*exec_, "true"]).exit_code == 0
    ca_key = Path(f"{state}.pki") / "ca.key"
    ca_key.write_text("not a key\n")
    result = CliRunner().invoke(cli, [*exec_, "true"])
    assert result.exit_code == 1, result.output
    assert str(ca_key) in result.output and "Traceback" not in result.output
    assert ca_key.read_text() == "not a key\n"  # left for the user to restore, not replaced
