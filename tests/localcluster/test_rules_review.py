"""SelfSubjectRulesReview (``kubectl auth can-i --list``) with RBAC on (``LocalCluster(auth=True)``).

Expected behaviour is kube-apiserver 1.32's:
- the endpoint: ``pkg/registry/authorization/selfsubjectrulesreview/rest.go`` REST.Create
  (``spec.namespace`` required, else 400 ``no namespace on request``; the answer holds the status
  only; an evaluation error is reported in the status, not as a failure);
- the rules: ``plugin/pkg/auth/authorizer/rbac/rbac.go`` RBACAuthorizer.RulesFor over
  ``pkg/registry/rbac/validation/rule.go`` VisitRulesFor (ClusterRoleBindings, then the
  namespace's RoleBindings; rules with resources become ResourceRules, rules with
  nonResourceURLs NonResourceRules; role-resolution errors joined by ``utilerrors.NewAggregate``;
  ``incomplete`` is always false for RBAC);
- the chain: ``pkg/kubeapiserver/authorizer/reload.go`` registers the privileged-groups
  authorizer as an authorizer but not as a rule resolver, so ``system:masters`` sees RBAC's
  ``cluster-admin`` rules; ``union.go`` unionAuthzRulesHandler joins the resolvers;
- AlwaysAllow (auth off): ``apiserver/pkg/authorization/authorizerfactory/builtin.go``;
- kubectl's table: ``staging/src/k8s.io/kubectl/pkg/cmd/auth/cani.go`` RunAccessList /
  printStatus (kubectl sends the review as protobuf; it accepts JSON back).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

from gitops.localcluster import LocalCluster, protowire
from tests.conftest import Kubectl
from tests.localcluster import test_auth
from tests.localcluster.test_auth import _api, _bind, _http, _role, _sa

# test_auth.py's fixtures, requested by name: ``secure`` (module scope) is a cluster of this
# module's own with RBAC and TLS on; ``ns`` a new namespace in it per test.
secure = test_auth.secure
ns = test_auth.ns

RULES_REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"
HEADER = ["Resources", "Non-Resource URLs", "Resource Names", "Verbs"]
# bootstrappolicy/policy.go: system:basic-user, bound to system:authenticated.
BASIC_USER_ROWS = {
    ("selfsubjectaccessreviews.authorization.k8s.io", "[]", "[]", "[create]"),
    ("selfsubjectrulesreviews.authorization.k8s.io", "[]", "[]", "[create]"),
    ("selfsubjectreviews.authentication.k8s.io", "[]", "[]", "[create]"),
}
BASIC_USER_RULES = [
    {
        "verbs": ["create"],
        "apiGroups": ["authorization.k8s.io"],
        "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
    },
    {"verbs": ["create"], "apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"]},
]
# policy.go: system:discovery and system:public-info-viewer, both bound to system:authenticated.
DISCOVERY_URLS = [
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/healthz",
    "/livez",
    "/openapi",
    "/openapi/*",
    "/readyz",
    "/version",
    "/version/",
]
PUBLIC_INFO_URLS = ["/healthz", "/livez", "/readyz", "/version", "/version/"]
DISCOVERY_RULES = [
    {"verbs": ["get"], "nonResourceURLs": DISCOVERY_URLS},
    {"verbs": ["get"], "nonResourceURLs": PUBLIC_INFO_URLS},
]
ROLE_RULES = [
    {"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"], "verbs": ["get", "list"]},
    {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["settings"], "verbs": ["get"]},
]


def _kubectl_as(c: LocalCluster, token: str, home: Path) -> Kubectl:
    """kubectl with the cluster's kubeconfig, authenticating with ``token``."""
    kc = yaml.safe_load(c.kubeconfig.read_text())
    kc["users"][0]["user"] = {"token": token}
    path = home / "user.kubeconfig"
    path.write_text(yaml.safe_dump(kc))
    return Kubectl(path, home)


def _table(stdout: str) -> set[tuple[str, str, str, str]]:
    """The rows of ``kubectl auth can-i --list``: (Resources, Non-Resource URLs, Resource Names,
    Verbs), cut at the header's column starts (kubectl's tabwriter aligns the columns)."""
    lines = stdout.splitlines()
    header = lines[0]
    assert header.split() == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    starts = [header.index(name) for name in HEADER] + [None]
    rows = set()
    for line in lines[1:]:
        cells = [line[starts[i] : starts[i + 1]].strip() for i in range(len(HEADER))]
        rows.add((cells[0], cells[1], cells[2], cells[3]))
    return rows


def _non_resource_rows(urls: list[str], verbs: str = "[get]") -> set[tuple[str, str, str, str]]:
    return {("", f"[{url}]", "[]", verbs) for url in urls}


def _review(c: LocalCluster, token: str, body: dict[str, Any]) -> Any:
    with _http(c, token) as h:
        return h.post(RULES_REVIEWS, json=body)


def _sorted(rules: list[dict[str, Any]]) -> list[str]:
    """Rules as comparable strings: the API says their order is not significant."""
    return sorted(json.dumps(r, sort_keys=True) for r in rules)


def _bot_with_role(c: LocalCluster, ns: str) -> str:
    token = _sa(c, ns)
    _role(c, ns, "reader", ROLE_RULES)
    _bind(c, ns, "reader", "Role", "reader", [{"kind": "ServiceAccount", "name": "bot"}])
    return token


# ------------------------------------------------------------------------------- kubectl


def test_kubectl_list_shows_the_role_rules_in_its_namespace(
    secure: LocalCluster, ns: str, tmp_path: Path
) -> None:
    token = _bot_with_role(secure, ns)
    since = secure.requests.last_seq
    proc = _kubectl_as(secure, token, tmp_path).run("auth", "can-i", "--list", "-n", ns)
    assert proc.stderr == ""  # RBAC never reports the list as incomplete: no warning
    rows = _table(proc.stdout)
    # kubectl breaks rules down per resource and compacts verbs (cani.go printStatus).
    assert ("deployments.apps", "[]", "[]", "[get list]") in rows
    assert ("deployments.apps/scale", "[]", "[]", "[get list]") in rows
    assert ("configmaps", "[]", "[settings]", "[get]") in rows
    assert rows >= BASIC_USER_ROWS
    assert rows >= _non_resource_rows(DISCOVERY_URLS)
    assert rows == BASIC_USER_ROWS | _non_resource_rows(DISCOVERY_URLS) | {
        ("deployments.apps", "[]", "[]", "[get list]"),
        ("deployments.apps/scale", "[]", "[]", "[get list]"),
        ("configmaps", "[]", "[settings]", "[get]"),
    }
    # One protobuf POST, answered 201 for the ServiceAccount; no discovery needed.
    posts = [r for r in secure.requests.records(since) if r.resource == "selfsubjectrulesreviews"]
    assert [(r.verb, r.code, r.user) for r in posts] == [("create", 201, f"system:serviceaccount:{ns}:bot")]


def test_kubectl_list_in_another_namespace_shows_only_cluster_wide_rules(
    secure: LocalCluster, ns: str, tmp_path: Path
) -> None:
    token = _bot_with_role(secure, ns)
    proc = _kubectl_as(secure, token, tmp_path).run("auth", "can-i", "--list", "-n", "default")
    assert _table(proc.stdout) == BASIC_USER_ROWS | _non_resource_rows(DISCOVERY_URLS)


def test_kubectl_list_as_system_masters_shows_star(secure: LocalCluster, tmp_path: Path) -> None:
    proc = Kubectl(secure.kubeconfig, tmp_path).run("auth", "can-i", "--list", "-n", "default")
    rows = _table(proc.stdout)
    # From the cluster-admin ClusterRoleBinding: the privileged-groups authorizer lists nothing.
    assert ("*.*", "[]", "[]", "[*]") in rows
    assert ("", "[*]", "[]", "[*]") in rows


def test_kubectl_list_with_auth_off_is_always_allow(cluster: LocalCluster, kubectl: Kubectl) -> None:
    rows = _table(kubectl.run("auth", "can-i", "--list").stdout)
    assert rows == {("*.*", "[]", "[]", "[*]"), ("", "[*]", "[]", "[*]")}


# ----------------------------------------------------------------------------- the status


def test_status_lists_cluster_and_namespace_rules(secure: LocalCluster, ns: str) -> None:
    token = _bot_with_role(secure, ns)
    r = _review(
        secure,
        token,
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": ns},
        },
    )
    assert r.status_code == 201
    body = r.json()
    # rest.go builds a new review holding the status only.
    assert {k: v for k, v in body.items() if k != "status"} == {
        "kind": "SelfSubjectRulesReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": {},
    }
    status = body["status"]
    assert status["incomplete"] is False
    assert "evaluationError" not in status  # omitempty
    assert _sorted(status["resourceRules"]) == _sorted(
        [
            *BASIC_USER_RULES,
            {
                "verbs": ["get", "list"],
                "apiGroups": ["apps"],
                "resources": ["deployments", "deployments/scale"],
            },
            {"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["settings"]},
        ]
    )
    assert _sorted(status["nonResourceRules"]) == _sorted(DISCOVERY_RULES)


def test_python_client_in_another_namespace_sees_cluster_wide_rules_only(
    secure: LocalCluster, ns: str
) -> None:
    token = _bot_with_role(secure, ns)
    # A ClusterRole bound by a RoleBinding grants only in the binding's namespace.
    _role(secure, "", f"lister-{ns}", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}])
    _bind(secure, ns, "lister", "ClusterRole", f"lister-{ns}", [{"kind": "ServiceAccount", "name": "bot"}])
    api = _api(secure, token)
    authz = client.AuthorizationV1Api(api)

    def review(namespace: str) -> client.V1SubjectRulesReviewStatus:
        body = client.V1SelfSubjectRulesReview(spec=client.V1SelfSubjectRulesReviewSpec(namespace=namespace))
        status: client.V1SubjectRulesReviewStatus = authz.create_self_subject_rules_review(body).status
        return status

    def resources(status: client.V1SubjectRulesReviewStatus) -> list[tuple[str, ...]]:
        return sorted(
            (",".join(r.api_groups or []), ",".join(r.resources or []), ",".join(r.verbs))
            for r in status.resource_rules
        )

    home = review(ns)
    assert ("", "pods", "list") in resources(home)
    assert ("apps", "deployments,deployments/scale", "get,list") in resources(home)
    elsewhere = review("default")
    assert resources(elsewhere) == [
        ("authentication.k8s.io", "selfsubjectreviews", "create"),
        ("authorization.k8s.io", "selfsubjectaccessreviews,selfsubjectrulesreviews", "create"),
    ]
    assert sorted(tuple(r.non_resource_urls) for r in elsewhere.non_resource_rules) == sorted(
        [tuple(DISCOVERY_URLS), tuple(PUBLIC_INFO_URLS)]
    )
    assert elsewhere.incomplete is False and elsewhere.evaluation_error is None
    api.close()


def test_system_masters_sees_star_rules(secure: LocalCluster) -> None:
    r = _review(secure, secure.admin_token, {"spec": {"namespace": "default"}})
    assert r.status_code == 201
    status = r.json()["status"]
    assert {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]} in status["resourceRules"]
    assert {"verbs": ["*"], "nonResourceURLs": ["*"]} in status["nonResourceRules"]
    assert status["incomplete"] is False


def test_binding_to_a_missing_role_reports_the_evaluation_error(secure: LocalCluster, ns: str) -> None:
    token = _bot_with_role(secure, ns)
    _bind(secure, ns, "to-missing", "Role", "missing", [{"kind": "ServiceAccount", "name": "bot"}])
    status = _review(secure, token, {"spec": {"namespace": ns}}).json()["status"]
    # rule.go GetRoleReferenceRules: the Role lister's NotFound, as it words it. rbac.go RulesFor
    # returns incomplete=false whatever the error; the rules it did find are all still listed.
    assert status["evaluationError"] == 'role.rbac.authorization.k8s.io "missing" not found'
    assert status["incomplete"] is False
    assert {
        "verbs": ["get", "list"],
        "apiGroups": ["apps"],
        "resources": ["deployments", "deployments/scale"],
    } in status["resourceRules"]
    # Elsewhere the binding is not visited: no error.
    elsewhere = _review(secure, token, {"spec": {"namespace": "default"}}).json()["status"]
    assert "evaluationError" not in elsewhere


def test_several_resolution_errors_are_aggregated(secure: LocalCluster, ns: str) -> None:
    token = _sa(secure, ns)
    bot = [{"kind": "ServiceAccount", "name": "bot"}]
    _bind(secure, ns, "a", "Role", "missing", bot)
    _bind(secure, ns, "b", "ClusterRole", f"gone-{ns}", bot)
    _bind(secure, ns, "c", "Role", "missing", bot)  # the same message: NewAggregate de-duplicates
    status = _review(secure, token, {"spec": {"namespace": ns}}).json()["status"]
    assert status["evaluationError"] == (
        f'[role.rbac.authorization.k8s.io "missing" not found, '
        f'clusterrole.rbac.authorization.k8s.io "gone-{ns}" not found]'
    )
    assert status["incomplete"] is False
    assert _sorted(status["resourceRules"]) == _sorted(BASIC_USER_RULES)


def test_a_cluster_role_binding_to_a_missing_role_errs_in_every_namespace(
    secure: LocalCluster, ns: str
) -> None:
    token = _sa(secure, ns)
    _bind(
        secure,
        "",
        f"crb-{ns}",
        "ClusterRole",
        f"absent-{ns}",
        [{"kind": "ServiceAccount", "name": "bot", "namespace": ns}],
    )
    for namespace in (ns, "default"):
        status = _review(secure, token, {"spec": {"namespace": namespace}}).json()["status"]
        assert status["evaluationError"] == f'clusterrole.rbac.authorization.k8s.io "absent-{ns}" not found'


# --------------------------------------------------------------------------------- errors


def test_missing_namespace_is_the_real_bad_request(secure: LocalCluster, ns: str) -> None:
    token = _sa(secure, ns)
    for body in ({"spec": {}}, {"spec": {"namespace": ""}}, {"kind": "SelfSubjectRulesReview"}):
        r = _review(secure, token, body)
        assert r.status_code == 400
        assert r.json() == {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "no namespace on request",
            "reason": "BadRequest",
            "code": 400,
        }
    api = _api(secure, token)
    with pytest.raises(ApiException) as err:
        client.AuthorizationV1Api(api).create_self_subject_rules_review(
            client.V1SelfSubjectRulesReview(spec=client.V1SelfSubjectRulesReviewSpec())
        )
    assert err.value.status == 400
    assert json.loads(err.value.body)["message"] == "no namespace on request"
    api.close()


def test_anonymous_may_not_review_rules(secure: LocalCluster) -> None:
    # system:basic-user is bound to system:authenticated only.
    with _http(secure, None) as h:
        r = h.post(RULES_REVIEWS, json={"spec": {"namespace": "default"}})
    assert r.status_code == 403
    assert r.json()["message"] == (
        'selfsubjectrulesreviews.authorization.k8s.io is forbidden: User "system:anonymous" cannot '
        'create resource "selfsubjectrulesreviews" in API group "authorization.k8s.io" at the cluster scope'
    )


def test_protobuf_body_as_kubectl_sends_it() -> None:
    # The bytes kubectl 1.32 sent for `auth can-i --list -n default` (its -v=8 request dump):
    # the k8s envelope, then SelfSubjectRulesReview {metadata: 1, spec: 2 {namespace: 1}, status: 3}.
    body = (
        b"k8s\x00\n1\n\x17authorization.k8s.io/v1\x12\x16SelfSubjectRulesReview"
        b"\x12#\n\x10\n\x00\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00\x12\t\n\x07default"
        b"\x1a\x04\x18\x00\x22\x00\x1a\x00\x22\x00"
    )
    api_version, kind, obj = protowire.decode_object(body, protowire.SELF_SUBJECT_RULES_REVIEW)
    assert (api_version, kind) == ("authorization.k8s.io/v1", "SelfSubjectRulesReview")
    assert obj["spec"] == {"namespace": "default"}
