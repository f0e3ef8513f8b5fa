"""Authentication, RBAC and TLS of the local cluster (``LocalCluster(auth=True, tls=True)``).

Expected behaviour is kube-apiserver's:
- 401 body: ``apiserver/pkg/endpoints/handlers/responsewriters/status.go`` (Unauthorized);
- 403 messages: ``responsewriters/errors.go`` forbiddenMessage and ``apimachinery/pkg/api/errors``
  NewForbidden; RBAC reasons: ``plugin/pkg/auth/authorizer/rbac/rbac.go``;
- the create check of an apply that creates: ``apiserver/pkg/endpoints/handlers/update.go``
  withAuthorization (the error carries the authorizer's reason only);
- request attributes: ``apiserver/pkg/endpoints/request/requestinfo.go``.
Everything goes through real HTTPS: the official Python client and kubectl 1.32.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from kubernetes.config.incluster_config import InClusterConfigLoader

from gitops.localcluster import LocalCluster
from gitops.localcluster.api import WriteOptions

KUBECTL = "/usr/bin/kubectl"
RBAC = "rbac.authorization.k8s.io"
SETUP = WriteOptions(manager="test-setup")


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    kubeconfig = tmp_path_factory.mktemp("secure") / "kubeconfig"
    with LocalCluster(kubeconfig=kubeconfig, controllers=False, auth=True, tls=True) as c:
        yield c


def _create(c: LocalCluster, group: str, plural: str, ns: str, body: dict[str, Any]) -> dict[str, Any]:
    rt = c.registry.by_plural(group, "v1", plural)
    assert rt is not None
    return c.api.create(rt, ns, body, SETUP).obj


def _delete(c: LocalCluster, group: str, plural: str, ns: str, name: str) -> None:
    rt = c.registry.by_plural(group, "v1", plural)
    assert rt is not None
    c.api.delete(rt, ns, name, {}, False)


@pytest.fixture
def ns(secure: LocalCluster) -> str:
    name = f"a-{uuid.uuid4().hex[:8]}"
    _create(secure, "", "namespaces", "", {"metadata": {"name": name}})
    return name


def _sa(c: LocalCluster, ns: str, name: str = "bot") -> str:
    """Create a ServiceAccount; return a token for it."""
    _create(c, "", "serviceaccounts", ns, {"metadata": {"name": name}})
    return c.service_account_token(ns, name)


def _role(c: LocalCluster, ns: str, name: str, rules: list[dict[str, Any]]) -> None:
    if ns:
        _create(c, RBAC, "roles", ns, {"metadata": {"name": name}, "rules": rules})
    else:
        _create(c, RBAC, "clusterroles", "", {"metadata": {"name": name}, "rules": rules})


def _bind(
    c: LocalCluster, ns: str, name: str, role_kind: str, role: str, subjects: list[dict[str, Any]]
) -> None:
    body = {
        "metadata": {"name": name},
        "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role},
        "subjects": subjects,
    }
    _create(c, RBAC, "rolebindings" if ns else "clusterrolebindings", ns, body)


def _http(c: LocalCluster, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(
        base_url=c.url, headers=headers, verify=ssl.create_default_context(cafile=str(c.ca_file))
    )


def _api(c: LocalCluster, token: str) -> client.ApiClient:
    cfg = client.Configuration()
    cfg.host = c.url
    cfg.api_key = {"authorization": f"Bearer {token}"}
    cfg.ssl_ca_cert = str(c.ca_file)
    return client.ApiClient(cfg)


def _configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


def _deployment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }


def _forbidden(exc: ApiException) -> dict[str, Any]:
    assert exc.status == 403, exc.body
    body: dict[str, Any] = json.loads(exc.body)
    assert body["kind"] == "Status" and body["reason"] == "Forbidden" and body["code"] == 403
    return body


# ------------------------------------------------------------------------ authentication

UNAUTHORIZED = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "Unauthorized",
    "reason": "Unauthorized",
    "code": 401,
}


@pytest.mark.parametrize("token", ["not-a-token", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"])
def test_unknown_token_is_401_with_the_real_status(secure: LocalCluster, token: str) -> None:
    with _http(secure, token) as h:
        for path in ("/api/v1/namespaces", "/version", "/apis"):
            r = h.get(path)
            assert r.status_code == 401
            assert r.json() == UNAUTHORIZED


def test_no_token_is_system_anonymous_as_with_the_default_anonymous_auth(secure: LocalCluster) -> None:
    # kube-apiserver --anonymous-auth defaults to true (union.NewFailOnError(tokens, anonymous)):
    # no credentials is system:anonymous, which RBAC lets read /version and health only.
    with _http(secure, None) as h:
        assert h.get("/version").status_code == 200
        assert h.get("/healthz").status_code == 200
        r = h.get("/api/v1/namespaces")
        assert r.status_code == 403
        assert r.json()["message"] == (
            'namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" '
            'in API group "" at the cluster scope'
        )
        assert h.get("/apis").status_code == 403  # discovery is for system:authenticated


def test_authorization_header_is_split_as_bearertoken_does(secure: LocalCluster) -> None:
    # bearertoken.Authenticator: SplitN(header, " ", 3), the token is the second part; an empty
    # one (two spaces) is no token, so the request runs as system:anonymous instead of a 401.
    cases = {f"bearer {secure.admin_token} trailing": 200, f"Bearer  {secure.admin_token}": 403}
    with _http(secure, None) as h:
        for header, code in cases.items():
            assert h.get("/api/v1/namespaces", headers={"Authorization": header}).status_code == code


def test_admin_token_is_system_masters_and_written_into_the_kubeconfig(secure: LocalCluster) -> None:
    kc = yaml.safe_load(secure.kubeconfig.read_text())
    assert kc["users"][0]["user"] == {"token": secure.admin_token}
    with _http(secure, secure.admin_token) as h:
        r = h.post(
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        )
    assert r.status_code == 201
    assert r.json()["status"]["userInfo"] == {
        "username": "kubernetes-super-admin",
        "groups": ["system:masters", "system:authenticated"],
    }


def test_token_request_subresource(secure: LocalCluster, ns: str) -> None:
    _create(secure, "", "serviceaccounts", ns, {"metadata": {"name": "bot"}})
    with _http(secure, secure.admin_token) as h:
        url = f"/api/v1/namespaces/{ns}/serviceaccounts/bot/token"
        r = h.post(url, json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}})
        assert r.status_code == 201
        tr = r.json()
        assert tr["kind"] == "TokenRequest" and tr["apiVersion"] == "authentication.k8s.io/v1"
        assert tr["spec"]["expirationSeconds"] == 3600
        assert tr["status"]["expirationTimestamp"].endswith("Z")
        token = tr["status"]["token"]
        missing = h.post(f"/api/v1/namespaces/{ns}/serviceaccounts/nobody/token", json={"spec": {}})
        assert missing.status_code == 404
        assert missing.json()["message"] == 'serviceaccounts "nobody" not found'
        short = h.post(url, json={"spec": {"expirationSeconds": 60}})
        assert short.status_code == 422
        # TokenREST.Create: NewInvalid with an empty name; the ServiceAccount is looked up first.
        assert short.json()["message"] == (
            'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: '
            "Invalid value: 60: may not specify a duration less than 10 minutes"
        )
        gone = h.post(
            f"/api/v1/namespaces/{ns}/serviceaccounts/nobody/token", json={"spec": {"expirationSeconds": 60}}
        )
        assert gone.status_code == 404
        renamed = h.post(url, json={"metadata": {"name": "other"}, "spec": {}})
        assert renamed.status_code == 422
        assert (
            'metadata.name: Invalid value: "other": must match the service account name if specified'
            in renamed.json()["message"]
        )
        assert tr["metadata"]["creationTimestamp"].endswith("Z")
        other = h.post(url, json={"spec": {"audiences": ["vault"]}}).json()
        assert other["spec"]["audiences"] == ["vault"]
    with _http(secure, other["status"]["token"]) as h:
        assert h.get("/version").status_code == 401  # not meant for the API server
    with _http(secure, token) as h:
        who = h.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", json={"kind": "SelfSubjectReview"})
    info = who.json()["status"]["userInfo"]
    assert info["username"] == f"system:serviceaccount:{ns}:bot"
    assert info["groups"] == [
        "system:serviceaccounts",
        f"system:serviceaccounts:{ns}",
        "system:authenticated",
    ]


def test_token_of_a_deleted_service_account_is_rejected(secure: LocalCluster, ns: str) -> None:
    token = _sa(secure, ns)
    with _http(secure, token) as h:
        assert h.get("/version").status_code == 200  # system:public-info-viewer
        _delete(secure, "", "serviceaccounts", ns, "bot")
        assert h.get("/version").status_code == 401
        # A new ServiceAccount of the same name has another uid: the old token stays invalid.
        _create(secure, "", "serviceaccounts", ns, {"metadata": {"name": "bot"}})
        assert h.get("/version").status_code == 401


def test_authenticated_users_have_discovery(secure: LocalCluster, ns: str) -> None:
    token = _sa(secure, ns)
    with _http(secure, token) as h:
        for path in ("/version", "/api", "/apis", "/api/v1", "/apis/apps/v1", "/openapi/v3", "/healthz"):
            assert h.get(path).status_code == 200, path
        r = h.get("/debug/nothing-here")
        assert r.status_code == 404  # /debug/* is test machinery, outside auth
        assert h.delete("/version").status_code == 403


# ---------------------------------------------------------------------------- forbidden


def test_forbidden_messages(secure: LocalCluster, ns: str) -> None:
    token = _sa(secure, ns)
    user = f"system:serviceaccount:{ns}:bot"
    api = _api(secure, token)
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    cases = [
        (
            lambda: apps.patch_namespaced_deployment("web", ns, {"metadata": {"labels": {"a": "b"}}}),
            f'deployments.apps "web" is forbidden: User "{user}" cannot patch resource "deployments" '
            f'in API group "apps" in the namespace "{ns}"',
            {"name": "web", "group": "apps", "kind": "deployments"},
        ),
        (
            lambda: apps.list_namespaced_deployment(ns),
            f'deployments.apps is forbidden: User "{user}" cannot list resource "deployments" '
            f'in API group "apps" in the namespace "{ns}"',
            {"group": "apps", "kind": "deployments"},
        ),
        (
            lambda: core.list_namespace(),
            f'namespaces is forbidden: User "{user}" cannot list resource "namespaces" in API group "" '
            "at the cluster scope",
            {"kind": "namespaces"},
        ),
        (
            lambda: core.read_namespaced_config_map("c", ns),
            f'configmaps "c" is forbidden: User "{user}" cannot get resource "configmaps" in API group "" '
            f'in the namespace "{ns}"',
            {"name": "c", "kind": "configmaps"},
        ),
        (
            lambda: apps.read_namespaced_deployment_scale("web", ns),
            f'deployments.apps "web" is forbidden: User "{user}" cannot get resource "deployments/scale" '
            f'in API group "apps" in the namespace "{ns}"',
            {"name": "web", "group": "apps", "kind": "deployments"},
        ),
        (
            # requestinfo.go: a namespace's own name is its namespace attribute
            lambda: core.read_namespace(ns),
            f'namespaces "{ns}" is forbidden: User "{user}" cannot get resource "namespaces" in API group "" '
            f'in the namespace "{ns}"',
            {"name": ns, "kind": "namespaces"},
        ),
    ]
    for call, message, details in cases:
        with pytest.raises(ApiException) as err:
            call()
        body = _forbidden(err.value)
        assert body["message"] == message
        assert body["details"] == details
    with _http(secure, token) as h:
        r = h.get("/logs/x")
        assert r.status_code == 403
        assert r.json()["message"] == f'forbidden: User "{user}" cannot get path "/logs/x"'
        assert r.json()["details"] == {}
    api.close()


def test_missing_role_is_named_in_the_reason(secure: LocalCluster, ns: str) -> None:
    token = _sa(secure, ns)
    _bind(secure, ns, "rb", "ClusterRole", f"nope-{ns}", [{"kind": "ServiceAccount", "name": "bot"}])
    with _http(secure, token) as h:
        r = h.get(f"/api/v1/namespaces/{ns}/pods")
    assert r.status_code == 403
    assert r.json()["message"].endswith(
        f': RBAC: clusterrole.rbac.authorization.k8s.io "nope-{ns}" not found'
    )


def test_rolebinding_to_clusterrole_grants_only_in_its_namespace(secure: LocalCluster, ns: str) -> None:
    other = f"b-{uuid.uuid4().hex[:8]}"
    _create(secure, "", "namespaces", "", {"metadata": {"name": other}})
    token = _sa(secure, ns)
    _role(
        secure,
        "",
        f"cm-reader-{ns}",
        [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
    )
    # The ServiceAccount subject without a namespace takes the RoleBinding's (rule.go appliesToUser).
    _bind(secure, ns, "rb", "ClusterRole", f"cm-reader-{ns}", [{"kind": "ServiceAccount", "name": "bot"}])
    core = client.CoreV1Api(_api(secure, token))
    assert core.list_namespaced_config_map(ns).items == []
    with pytest.raises(ApiException) as err:
        core.list_namespaced_config_map(other)
    assert _forbidden(err.value)["message"].endswith(f'in the namespace "{other}"')
    with pytest.raises(ApiException) as err:
        core.list_config_map_for_all_namespaces()
    assert _forbidden(err.value)["message"].endswith("at the cluster scope")


def test_clusterrolebinding_user_group_and_service_account_subjects(secure: LocalCluster, ns: str) -> None:
    token = _sa(secure, ns)
    _role(secure, "", f"ns-reader-{ns}", [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}])
    core = client.CoreV1Api(_api(secure, token))
    with pytest.raises(ApiException):
        core.read_namespace("default")
    _bind(
        secure,
        "",
        f"crb-group-{ns}",
        "ClusterRole",
        f"ns-reader-{ns}",
        [{"kind": "Group", "apiGroup": RBAC, "name": f"system:serviceaccounts:{ns}"}],
    )
    assert core.read_namespace("default").metadata.name == "default"


def test_resource_names(secure: LocalCluster, ns: str) -> None:
    token = _sa(secure, ns)
    for name in ("allowed", "other"):
        _create(secure, "", "configmaps", ns, {"metadata": {"name": name}})
    _role(
        secure,
        ns,
        "one",
        [
            {
                "apiGroups": [""],
                "resources": ["configmaps"],
                "resourceNames": ["allowed"],
                "verbs": ["get", "list"],
            }
        ],
    )
    _bind(secure, ns, "rb", "Role", "one", [{"kind": "ServiceAccount", "name": "bot", "namespace": ns}])
    core = client.CoreV1Api(_api(secure, token))
    assert core.read_namespaced_config_map("allowed", ns).metadata.name == "allowed"
    with pytest.raises(ApiException) as err:
        core.read_namespaced_config_map("other", ns)
    _forbidden(err.value)
    with pytest.raises(ApiException):
        core.list_namespaced_config_map(ns)
    # requestinfo.go: a list narrowed by metadata.name authorizes as that name.
    items = core.list_namespaced_config_map(ns, field_selector="metadata.name=allowed").items
    assert [i.metadata.name for i in items] == ["allowed"]


def test_wildcards_and_subresources(secure: LocalCluster, ns: str) -> None:
    token = _sa(secure, ns)
    _create(secure, "apps", "deployments", ns, _deployment("web"))
    _role(
        secure,
        ns,
        "r",
        [
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]},
            {"apiGroups": ["*"], "resources": ["*/scale"], "verbs": ["get"]},
        ],
    )
    _bind(secure, ns, "rb", "Role", "r", [{"kind": "ServiceAccount", "name": "bot"}])
    apps = client.AppsV1Api(_api(secure, token))
    apps.patch_namespaced_deployment("web", ns, {"metadata": {"labels": {"x": "y"}}})
    assert apps.read_namespaced_deployment_scale("web", ns).spec.replicas == 1
    with pytest.raises(ApiException) as err:  # "deployments" does not cover deployments/scale
        apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 2}})
    assert 'cannot patch resource "deployments/scale"' in _forbidden(err.value)["message"]
    apps.delete_namespaced_deployment("web", ns)


def test_server_side_apply_that_creates_needs_create(secure: LocalCluster, ns: str) -> None:
    token = _sa(secure, ns)
    _create(secure, "", "configmaps", ns, {"metadata": {"name": "existing"}})
    _role(
        secure, ns, "patcher", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "patch"]}]
    )
    _bind(secure, ns, "rb", "Role", "patcher", [{"kind": "ServiceAccount", "name": "bot"}])
    with _http(secure, token) as h:
        headers = {"Content-Type": "application/apply-patch+yaml"}
        url = f"/api/v1/namespaces/{ns}/configmaps/%s?fieldManager=gitops"
        ok = h.patch(url % "existing", content=json.dumps(_configmap("existing")), headers=headers)
        assert ok.status_code == 200
        r = h.patch(url % "new", content=json.dumps(_configmap("new")), headers=headers)
        assert r.status_code == 403
        # handlers/update.go withAuthorization: NewForbidden(gr, name, reason), RBAC's reason is "".
        assert r.json() == {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": 'configmaps "new" is forbidden: ',
            "reason": "Forbidden",
            "details": {"name": "new", "kind": "configmaps"},
            "code": 403,
        }
        assert secure.store.get(("", "configmaps"), (ns, "new")) is None


def test_watch_needs_watch(secure: LocalCluster, ns: str) -> None:
    token = _sa(secure, ns)
    _role(secure, ns, "lister", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}])
    _bind(secure, ns, "rb", "Role", "lister", [{"kind": "ServiceAccount", "name": "bot"}])
    with _http(secure, token) as h:
        assert h.get(f"/api/v1/namespaces/{ns}/configmaps").status_code == 200
        r = h.get(f"/api/v1/namespaces/{ns}/configmaps?watch=true&timeoutSeconds=1")
        assert r.status_code == 403
        assert (
            f'cannot watch resource "configmaps" in API group "" in the namespace "{ns}"'
            in r.json()["message"]
        )


def test_request_log_records_the_user(secure: LocalCluster, ns: str) -> None:
    token = _sa(secure, ns)
    _role(secure, ns, "w", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]}])
    _bind(secure, ns, "rb", "Role", "w", [{"kind": "ServiceAccount", "name": "bot"}])
    since = secure.requests.last_seq
    core = client.CoreV1Api(_api(secure, token))
    core.create_namespaced_config_map(ns, _configmap("a"))
    core.create_namespaced_config_map(ns, _configmap("b"))
    admin = client.CoreV1Api(_api(secure, secure.admin_token))
    admin.create_namespaced_config_map(ns, _configmap("c"))
    user = f"system:serviceaccount:{ns}:bot"
    assert len(secure.requests.writes(since, user=user)) == 2
    assert len(secure.requests.writes(since, "OpenAPI-Generator", user="kubernetes-super-admin")) == 1


# --------------------------------------------------------------------- kubectl and TLS


def _kubectl(kubeconfig: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "KUBECONFIG": str(kubeconfig)}
    return subprocess.run([KUBECTL, *args], capture_output=True, text=True, env=env, timeout=60)


def test_kubectl_over_tls_with_the_written_kubeconfig(secure: LocalCluster, tmp_path: Path) -> None:
    kc = yaml.safe_load(secure.kubeconfig.read_text())
    assert kc["clusters"][0]["cluster"]["server"].startswith("https://127.0.0.1:")
    assert "certificate-authority-data" in kc["clusters"][0]["cluster"]
    proc = _kubectl(secure.kubeconfig, tmp_path, "get", "namespaces", "-o", "name")
    assert proc.returncode == 0, proc.stderr
    assert "namespace/kube-system" in proc.stdout.split()


def test_kubectl_auth_can_i(secure: LocalCluster, ns: str, tmp_path: Path) -> None:
    token = _sa(secure, ns)
    _role(secure, ns, "r", [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]}])
    _bind(secure, ns, "rb", "Role", "r", [{"kind": "ServiceAccount", "name": "bot"}])
    kc = yaml.safe_load(secure.kubeconfig.read_text())
    kc["users"][0]["user"] = {"token": token}
    path = tmp_path / "bot.kubeconfig"
    path.write_text(yaml.safe_dump(kc))
    yes = _kubectl(path, tmp_path, "auth", "can-i", "list", "deployments.apps", "-n", ns)
    assert (yes.returncode, yes.stdout.strip()) == (0, "yes")
    no = _kubectl(path, tmp_path, "auth", "can-i", "delete", "deployments.apps", "-n", ns)
    assert (no.returncode, no.stdout.strip()) == (1, "no")
    admin = _kubectl(secure.kubeconfig, tmp_path, "auth", "can-i", "delete", "nodes")
    assert (admin.returncode, admin.stdout.strip()) == (0, "yes")
    who = _kubectl(path, tmp_path, "auth", "whoami", "-o", "json")
    assert json.loads(who.stdout)["status"]["userInfo"]["username"] == f"system:serviceaccount:{ns}:bot"
    token_out = _kubectl(secure.kubeconfig, tmp_path, "create", "token", "bot", "-n", ns)
    assert token_out.returncode == 0, token_out.stderr
    assert token_out.stdout.count(".") == 2  # a JWT


def test_python_client_in_cluster_config_with_service_account_files(
    secure: LocalCluster, ns: str, tmp_path: Path
) -> None:
    _create(secure, "", "serviceaccounts", ns, {"metadata": {"name": "daemon"}})
    _role(secure, ns, "r", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}])
    _bind(secure, ns, "rb", "Role", "r", [{"kind": "ServiceAccount", "name": "daemon"}])
    mount = secure.write_service_account_files(tmp_path / "sa", ns, "daemon")
    assert sorted(p.name for p in mount.iterdir()) == ["ca.crt", "namespace", "token"]
    assert (mount / "namespace").read_text() == ns
    cfg = client.Configuration()
    InClusterConfigLoader(
        token_filename=str(mount / "token"),
        cert_filename=str(mount / "ca.crt"),
        environ={"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(secure.port)},
    ).load_and_set(cfg)
    with client.ApiClient(cfg) as api:
        assert client.CoreV1Api(api).list_namespaced_config_map(ns).items == []


def test_python_client_with_the_kubeconfig(secure: LocalCluster) -> None:
    api = config.new_client_from_config(config_file=str(secure.kubeconfig))
    names = [n.metadata.name for n in client.CoreV1Api(api).list_namespace().items]
    assert "kube-system" in names
    api.close()


def test_plain_http_without_auth_is_unaffected(cluster: LocalCluster, kubectl: Any) -> None:
    assert cluster.url.startswith("http://")
    kc = yaml.safe_load(cluster.kubeconfig.read_text())
    assert kc["users"][0]["user"] == {}
    assert "certificate-authority-data" not in kc["clusters"][0]["cluster"]
    since = cluster.requests.last_seq
    r = httpx.get(f"{cluster.url}/api/v1/namespaces")
    assert r.status_code == 200
    assert [rec.user for rec in cluster.requests.records(since)] == [""]
    with pytest.raises(RuntimeError):
        _ = cluster.ca_file
    # AlwaysAllow: kubectl auth can-i says yes to anything.
    assert kubectl.run("auth", "can-i", "delete", "nodes").stdout.strip() == "yes"


def test_cli_exec_with_auth_and_tls(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gitops.cli.main import cli

    out = tmp_path / "whoami.json"
    script = f"HOME={tmp_path} {KUBECTL} auth whoami -o json > {out} && {KUBECTL} config view --raw -o json >> {out}.kc"
    result = CliRunner().invoke(
        cli, ["local-cluster", "exec", "--no-controllers", "--auth", "--tls", "--", "sh", "-c", script]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["status"]["userInfo"]["username"] == "kubernetes-super-admin"
    kc = json.loads((tmp_path / "whoami.json.kc").read_text())
    assert kc["clusters"][0]["cluster"]["server"].startswith("https://")
