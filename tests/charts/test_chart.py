"""The gitops chart (charts/gitops), rendered with Helm's own engine through helm-python-sdk.

`helm lint --strict` passes with default and with full values; every rendered object is valid
for Kubernetes 1.32 (gitops.manifests.validate: names, labels, scope, strict OpenAPI schema);
bad values fail at install naming the field (values.schema.json) or the contradiction (a
template's ``fail``); the pod is hardened; the RBAC is namespaced unless cluster-scoped objects
are asked for, with only the verbs the engine uses.
"""

from __future__ import annotations

import base64
import copy
import re
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml

from gitops import config, errors, manifests, model
from tests.charts.render import CHART_DIR, find, lint, notes, one, render, render_files

REPO = Path(__file__).resolve().parents[2]
SEEDS = {"git-token": "ghp_SEEDtoken0123456789", "ssh": "-----BEGIN OPENSSH PRIVATE KEY-----\nSEEDkey\n"}

FULL: dict[str, Any] = {
    "replicaCount": 1,
    "image": {"repository": "registry.example.com/gitops", "tag": "0.1.0", "pullPolicy": "Always"},
    "imagePullSecrets": [{"name": "regcred"}],
    "apps": [
        {
            "name": "web",
            "repo": "https://git.example.com/team/deploy.git",
            "revision": "main",
            "path": "apps/web",
            "namespace": "web",
            "prune": True,
            "selfHeal": True,
            "interval": "3m",
            "allowEmpty": False,
            "allowedNamespaces": ["web", "web-canary"],
            "clusterScoped": True,
            "pruneKinds": ["Namespace"],
            "ignoreDifferences": [{"kind": "Deployment", "name": "web", "jsonPointers": ["/spec/replicas"]}],
            "rollout": {
                "maxSurge": "25%",
                "maxUnavailable": 0,
                "maxConcurrent": 4,
                "timeout": "10m",
                "autoRollback": True,
            },
            "recreateOnImmutable": True,
        },
        {"name": "api", "repo": "git@git.example.com:team/api.git", "namespace": "api", "interval": 60},
    ],
    "leaderElection": {"enabled": True, "leaseName": "gitops-leader"},
    "log": {"format": "text", "level": "debug"},
    "git": {
        "token": SEEDS["git-token"],
        "sshKey": SEEDS["ssh"],
        "knownHosts": "git.example.com ssh-ed25519 AAAAC3Nza",
    },
    "webhooks": {"secret": "SEEDwebhook", "insecure": False},
    "api": {"token": "SEEDapitoken"},
    "extraEnv": [{"name": "TZ", "value": "UTC"}],
    "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/gitops"}},
    "rbac": {
        "namespaces": ["api", "web", "web-canary"],
        "clusterScoped": True,
        "extraRules": [
            {"apiGroups": ["monitoring.coreos.com"], "resources": ["servicemonitors"], "verbs": ["get"]}
        ],
    },
    "history": {
        "persistence": {
            "enabled": True,
            "storageClassName": "fast-ssd",
            "accessModes": ["ReadWriteOncePod"],
            "size": "5Gi",
            "annotations": {"backup": "daily"},
        }
    },
    "service": {"type": "ClusterIP", "port": 8080, "annotations": {"a": "b"}},
    "ingress": {
        "enabled": True,
        "className": "nginx",
        "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "1m"},
        "hosts": ["gitops.example.com"],
        "tls": [{"secretName": "gitops-tls", "hosts": ["gitops.example.com"]}],
    },
    "serviceMonitor": {"enabled": True, "interval": "15s", "labels": {"release": "prometheus"}},
    "podAnnotations": {"team": "platform"},
    "podLabels": {"tier": "control"},
    "priorityClassName": "system-cluster-critical",
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "tolerations": [{"key": "control", "operator": "Exists", "effect": "NoSchedule"}],
    "affinity": {},
    "topologySpreadConstraints": [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "gitops"}},
        }
    ],
}

# The scope of every kind the chart renders, as API discovery would answer it.
_SCOPES = {
    ("", "ConfigMap"): "Namespaced",
    ("", "Secret"): "Namespaced",
    ("", "Service"): "Namespaced",
    ("", "ServiceAccount"): "Namespaced",
    ("", "PersistentVolumeClaim"): "Namespaced",
    ("apps", "Deployment"): "Namespaced",
    ("networking.k8s.io", "Ingress"): "Namespaced",
    ("rbac.authorization.k8s.io", "Role"): "Namespaced",
    ("rbac.authorization.k8s.io", "RoleBinding"): "Namespaced",
    ("rbac.authorization.k8s.io", "ClusterRole"): "Cluster",
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): "Cluster",
    # A CRD of the Prometheus Operator: kubernetes-validate ships only the built-in kinds'
    # schemas, so gitops.manifests.schema knows none for it and checks names and scope only.
    ("monitoring.coreos.com", "ServiceMonitor"): "Namespaced",
}


def _scope(group: str, version: str, kind: str) -> str | None:
    return _SCOPES.get((group, kind))


def _validated(objects: list[dict]) -> list[model.Resource]:
    resources = [model.Resource.of(o, model.Origin("charts/gitops", i)) for i, o in enumerate(objects)]
    return manifests.validate(resources, scope=_scope, default_namespace="gitops", schema=True)


def _pod(objects: list[dict]) -> dict:
    return one(objects, "Deployment")["spec"]["template"]["spec"]


def _rules(objects: list[dict], kind: str, name: str, namespace: str | None = None) -> list[dict]:
    return one(objects, kind, name, namespace)["rules"]


# --------------------------------------------------------------------------- lint and render


@pytest.mark.parametrize("values", [None, FULL], ids=["defaults", "full"])
def test_helm_lint_strict_passes(values: dict | None) -> None:
    report = lint(values)
    assert report["errors"] == []
    serious = [m for m in report["messages"] if m["severity"] >= 2]  # 2 warning, 3 error
    assert serious == []


@pytest.mark.parametrize("values", [None, FULL], ids=["defaults", "full"])
def test_every_rendered_object_is_valid_for_kubernetes_1_32(values: dict | None) -> None:
    objects = render(values)
    resources = _validated(objects)  # raises ManifestError listing every problem
    assert len(resources) == len(objects)
    for o in objects:
        if o["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert o["metadata"]["namespace"], o["kind"]


def test_schema_validation_is_not_vacuous() -> None:
    objects = render()
    one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["securityContext"][
        "runAsUser"
    ] = "root"
    one(objects, "Role", "gitops")["rules"][0]["verb"] = ["get"]
    with pytest.raises(errors.ManifestError) as caught:
        _validated(objects)
    text = str(caught.value)
    assert "securityContext.runAsUser" in text and "rules[0]" in text


def test_default_values_render_the_minimal_release() -> None:
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in render())
    assert kinds == [
        ("ConfigMap", "gitops"),
        ("Deployment", "gitops"),
        ("PersistentVolumeClaim", "gitops"),
        ("Role", "gitops"),
        ("Role", "gitops-daemon"),
        ("RoleBinding", "gitops"),
        ("RoleBinding", "gitops-daemon"),
        ("Service", "gitops"),
        ("ServiceAccount", "gitops"),
    ]


def test_full_values_render_every_optional_object() -> None:
    objects = render(FULL)
    kinds = {o["kind"] for o in objects}
    assert {"Secret", "Ingress", "ServiceMonitor", "ClusterRole", "ClusterRoleBinding"} <= kinds
    assert one(objects, "PersistentVolumeClaim")["spec"]["storageClassName"] == "fast-ssd"


def test_replicas_with_leader_election_and_ephemeral_history() -> None:
    values = {"replicaCount": 3, "history": {"persistence": {"enabled": False}}}
    objects = render(values)
    assert one(objects, "Deployment")["spec"]["replicas"] == 3
    assert "strategy" not in one(objects, "Deployment")["spec"]  # rolling: no shared volume
    _validated(objects)


def test_every_template_output_parses_as_yaml_mappings() -> None:
    for values in (None, FULL):
        for name, text in render_files(values).items():
            if name.endswith("NOTES.txt"):
                continue
            for doc in yaml.safe_load_all(text):
                assert doc is None or isinstance(doc, dict), name


def test_release_and_namespace_name_every_object() -> None:
    objects = render(
        {"apps": [{"name": "web", "repo": "x", "namespace": "shop"}]}, namespace="ops", release="cd"
    )
    assert one(objects, "Deployment")["metadata"] == one(objects, "Deployment")["metadata"] | {
        "name": "cd-gitops",
        "namespace": "ops",
    }
    assert one(objects, "RoleBinding", "cd-gitops", "shop")["subjects"] == [
        {"kind": "ServiceAccount", "name": "cd-gitops", "namespace": "ops"}
    ]


# --------------------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"replicaCount": 0}, "at '/replicaCount': minimum: got 0, want 1"),
        ({"replicaCount": "2"}, "at '/replicaCount': got string, want integer"),
        (
            {"image": {"repository": "x", "pullPolicy": "Sometimes"}},
            "at '/image/pullPolicy': value must be one of",
        ),
        ({"apps": [{"name": "web"}]}, "at '/apps/0': missing property 'repo'"),
        ({"apps": [{"repo": "x"}]}, "at '/apps/0': missing property 'name'"),
        ({"apps": [{"name": "Web", "repo": "x"}]}, "at '/apps/0/name'"),
        (
            {"apps": [{"name": "web", "repo": "x", "selfheal": True}]},
            "at '/apps/0': additional properties 'selfheal'",
        ),
        ({"apps": [{"name": "web", "repo": "x", "interval": "3 minutes"}]}, "at '/apps/0/interval'"),
        # gitops/config.py refuses these; the pod would crash-loop on its ConfigMap
        ({"apps": [{"name": "web", "repo": "x", "interval": 0}]}, "at '/apps/0/interval'"),
        ({"apps": [{"name": "web", "repo": "x", "interval": "0s"}]}, "at '/apps/0/interval'"),
        ({"apps": [{"name": "web", "repo": "x", "interval": 0.5}]}, "at '/apps/0/interval'"),
        ({"apps": [{"name": "web", "repo": "x", "resync": "0.5s"}]}, "at '/apps/0/resync'"),
        ({"apps": [{"name": "web", "repo": "x", "pruneKinds": ["Pod"]}]}, "at '/apps/0/pruneKinds/0'"),
        (
            {"apps": [{"name": "web", "repo": "x", "rollout": {"maxSurge": "150%"}}]},
            "at '/apps/0/rollout/maxSurge'",
        ),
        (
            {
                "replicaCount": 2,
                "leaderElection": {"enabled": False},
                "history": {"persistence": {"enabled": False}},
            },
            "at '/leaderElection/enabled': value must be true",
        ),
        ({"webhooks": {"insecure": "true"}}, "at '/webhooks/insecure': got string, want boolean"),
        ({"log": {"format": "xml", "level": "info"}}, "at '/log/format'"),
        (
            {"rbac": {"create": True, "clusterScoped": "yes"}},
            "at '/rbac/clusterScoped': got string, want boolean",
        ),
        (
            {"rbac": {"create": True, "clusterScoped": False, "namespaces": ["Shop"]}},
            "at '/rbac/namespaces/0'",
        ),
        ({"service": {"port": 70000}}, "at '/service/port'"),
        ({"history": {"persistence": {"enabled": True, "size": "lots"}}}, "at '/history/persistence/size'"),
        ({"replicas": 1}, "additional properties 'replicas' not allowed"),
    ],
    ids=lambda v: "" if isinstance(v, str) else re.sub(r"[^a-zA-Z0-9]+", "-", str(v))[:60],
)
def test_bad_values_fail_through_the_schema_naming_the_field(values: dict, message: str) -> None:
    with pytest.raises(helm_python.HelmValuesError) as caught:
        render(values)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"apps": [{"name": "web", "repo": "x", "clusterScoped": True}]},
            "apps[0] (web): clusterScoped is true but rbac.clusterScoped is false",
        ),
        (
            {
                "rbac": {"create": True, "clusterScoped": False, "namespaces": ["web"]},
                "apps": [{"name": "a", "repo": "x", "namespace": "shop"}],
            },
            'apps[0] (a): namespace "shop" is not in rbac.namespaces',
        ),
        (
            {"apps": [{"name": "web", "repo": "x"}, {"name": "web", "repo": "y"}]},
            'apps[1]: duplicate app name "web"',
        ),
        ({"replicaCount": 2}, "replicaCount > 1 cannot share history.persistence"),
        (
            {"webhooks": {"insecure": True, "secret": "s"}},
            "webhooks.insecure=true contradicts webhooks.secret",
        ),
        ({"ingress": {"enabled": True}}, "ingress.enabled=true needs at least one host"),
        ({"git": {"existingSecret": "creds"}}, "git.existingSecret needs git.tokenKey and/or git.sshKeyKey"),
    ],
    ids=[
        "cluster-scoped-app",
        "namespace-outside-rbac",
        "duplicate-app",
        "replicas-rwo",
        "insecure-and-secret",
        "ingress-no-host",
        "git-secret-no-keys",
    ],
)
def test_contradictory_values_fail_with_a_clear_message(values: dict, message: str) -> None:
    with pytest.raises(helm_python.HelmRenderError) as caught:
        render(values)
    assert message in str(caught.value)


# --------------------------------------------------------------------------- the pod


@pytest.mark.parametrize("values", [None, FULL], ids=["defaults", "full"])
def test_the_pod_is_hardened(values: dict | None) -> None:
    pod = _pod(render(values))
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    [container] = pod["containers"]
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 10001
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "privileged" not in sc
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    # Writable paths on a read-only root: history, git cache, /tmp (HOME).
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    for path in ("/var/lib/gitops", "/var/cache/gitops", "/tmp"):
        assert not mounts[path].get("readOnly"), path
    assert mounts["/etc/gitops"]["readOnly"] is True
    assert "emptyDir" in volumes["cache"] and "emptyDir" in volumes["tmp"]
    assert {"name": "HOME", "value": "/tmp"} in container["env"]
    assert pod["enableServiceLinks"] is False


def test_the_daemon_runs_with_the_agreed_command_line() -> None:
    [container] = _pod(render())["containers"]
    assert container["args"] == [
        "--config=/etc/gitops/gitops.yaml",
        "--listen=0.0.0.0:8080",
        "--history=/var/lib/gitops/history.db",
        "--cache-dir=/var/cache/gitops",
        "--leader-elect",
        "--lease-name=gitops",
        "--log-format=json",
        "--log-level=info",
    ]
    [full] = _pod(render(FULL))["containers"]
    assert full["args"][4:] == [
        "--leader-elect",
        "--lease-name=gitops-leader",
        "--log-format=text",
        "--log-level=debug",
        "--webhook-secret-file=/etc/gitops/webhook/secret",
        "--api-token-file=/etc/gitops/api/token",
    ]
    assert full["image"] == "registry.example.com/gitops:0.1.0"


def test_leader_election_off_drops_the_flags_and_the_lease_rules() -> None:
    objects = render({"leaderElection": {"enabled": False}})
    [container] = _pod(objects)["containers"]
    assert not any(a.startswith(("--leader-elect", "--lease-name")) for a in container["args"])
    rules = _rules(objects, "Role", "gitops-daemon")
    assert not any("leases" in r["resources"] for r in rules)


def test_insecure_webhooks_only_with_an_explicit_true() -> None:
    [default] = _pod(render())["containers"]
    assert "--insecure-webhooks" not in default["args"]
    objects = render({"webhooks": {"insecure": True}})
    [container] = _pod(objects)["containers"]
    assert "--insecure-webhooks" in container["args"]
    assert not any(a.startswith("--webhook-secret-file") for a in container["args"])
    assert "WARNING: webhooks.insecure=true" in notes({"webhooks": {"insecure": True}})


def test_history_on_a_pvc_by_default_or_an_empty_dir() -> None:
    objects = render()
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}  # RWO: one pod at a time
    volumes = {v["name"]: v for v in _pod(objects)["volumes"]}
    assert volumes["history"] == {"name": "history", "persistentVolumeClaim": {"claimName": "gitops"}}
    pvc = one(objects, "PersistentVolumeClaim")
    assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert pvc["spec"]["resources"]["requests"]["storage"] == "1Gi"

    ephemeral = render({"history": {"persistence": {"enabled": False}}})
    assert find(ephemeral, "PersistentVolumeClaim") == []
    assert {v["name"]: v for v in _pod(ephemeral)["volumes"]}["history"] == {
        "name": "history",
        "emptyDir": {},
    }
    assert "strategy" not in one(ephemeral, "Deployment")["spec"]

    existing = render({"history": {"persistence": {"enabled": True, "existingClaim": "old-history"}}})
    assert find(existing, "PersistentVolumeClaim") == []
    volumes = {v["name"]: v for v in _pod(existing)["volumes"]}
    assert volumes["history"]["persistentVolumeClaim"] == {"claimName": "old-history"}


def test_a_values_change_rolls_the_pod() -> None:
    def checksum(values: dict | None) -> str:
        return one(render(values), "Deployment")["spec"]["template"]["metadata"]["annotations"][
            "checksum/config"
        ]

    base = checksum({"apps": [{"name": "web", "repo": "x"}]})
    assert base == checksum({"apps": [{"name": "web", "repo": "x"}]})
    assert base != checksum({"apps": [{"name": "web", "repo": "x", "revision": "v2"}]})
    assert base != checksum(
        {"apps": [{"name": "web", "repo": "x"}], "webhooks": {"secret": "s", "insecure": False}}
    )
    assert base != checksum(
        {"apps": [{"name": "web", "repo": "x"}], "git": {"knownHosts": "h ssh-ed25519 AAAA"}}
    )


# --------------------------------------------------------------------------- config and secrets


def test_the_configmap_is_a_valid_apps_config_told_what_the_rbac_allows() -> None:
    objects = render(FULL)
    text = one(objects, "ConfigMap")["data"]["gitops.yaml"]
    apps = {a.name: a for a in config.parse_config(text, source="gitops.yaml").apps}
    web, api = apps["web"], apps["api"]
    assert (web.repo, web.revision, web.path, web.namespace) == (
        "https://git.example.com/team/deploy.git",
        "main",
        "apps/web",
        "web",
    )
    assert web.self_heal and web.interval == 180 and web.rollout.auto_rollback and web.recreate_on_immutable
    assert web.allowed_namespaces == ("web", "web-canary") and web.cluster_scoped
    # An app that says nothing is confined to its namespace and, unless rbac.clusterScoped, to
    # namespaced objects: the engine refuses anything else before any write instead of a 403.
    assert api.allowed_namespaces == ("api",) and api.cluster_scoped is True  # rbac.clusterScoped is on here
    default = render({"apps": [{"name": "a", "repo": "x"}]})
    [a] = config.parse_config(one(default, "ConfigMap")["data"]["gitops.yaml"]).apps
    assert a.allowed_namespaces == ("default",) and a.cluster_scoped is False


def test_the_apps_config_is_kept_verbatim_when_rbac_is_brought_by_the_user() -> None:
    app = {"name": "web", "repo": "x", "namespace": "shop"}
    objects = render({"apps": [app], "rbac": {"create": False, "clusterScoped": False}})
    assert yaml.safe_load(one(objects, "ConfigMap")["data"]["gitops.yaml"]) == {"apps": [app]}
    assert find(objects, "Role") == [] and find(objects, "RoleBinding") == []


def test_empty_apps_render_a_valid_empty_config() -> None:
    text = one(render(), "ConfigMap")["data"]["gitops.yaml"]
    assert yaml.safe_load(text) == {"apps": []}
    # gitops.config requires at least one app today: a release without apps runs a daemon that
    # cannot start until the config accepts an empty list (see the report of issue 7).
    with pytest.raises(errors.ConfigError):
        config.parse_config(text)


def test_credentials_come_from_a_created_secret_mounted_as_files() -> None:
    objects = render(FULL)
    secret = one(objects, "Secret")
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data == {
        "git-token": SEEDS["git-token"],
        "git-ssh-key": SEEDS["ssh"],
        "webhook-secret": "SEEDwebhook",
        "api-token": "SEEDapitoken",
    }
    pod = _pod(objects)
    [container] = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["GITOPS_GIT_TOKEN_FILE"] == "/etc/gitops/git/token"
    assert env["GITOPS_GIT_SSH_KEY_FILE"] == "/etc/gitops/git/ssh-key"
    projected = {v["name"]: v for v in pod["volumes"]}["config"]["projected"]
    paths = {
        item["path"]: (src.get("secret") or src.get("configMap"))["name"]
        for src in projected["sources"]
        for item in (src.get("secret") or src.get("configMap"))["items"]
    }
    assert paths == {
        "gitops.yaml": "gitops",
        "git/token": "gitops",
        "git/ssh-key": "gitops",
        "webhook/secret": "gitops",
        "api/token": "gitops",
    }
    assert projected["defaultMode"] == 0o440
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/etc/ssh/ssh_known_hosts"]["subPath"] == "known_hosts"
    # The seeded values appear in the Secret and nowhere else.
    for o in objects:
        if o["kind"] != "Secret":
            dumped = yaml.safe_dump(o)
            for seed in (SEEDS["git-token"], "SEEDkey", "SEEDwebhook", "SEEDapitoken"):
                assert seed not in dumped, (o["kind"], seed)
    assert not any(seed in notes(FULL) for seed in ("SEEDwebhook", "SEEDapitoken", SEEDS["git-token"]))


def test_existing_secrets_are_referenced_and_none_is_created() -> None:
    values = {
        "git": {"existingSecret": "git-creds", "tokenKey": "password", "sshKeyKey": "identity"},
        "webhooks": {"existingSecret": "hooks", "secretKey": "hmac", "insecure": False},
        "api": {"existingSecret": "api", "tokenKey": "bearer"},
    }
    objects = render(values)
    assert find(objects, "Secret") == []
    pod = _pod(objects)
    projected = {v["name"]: v for v in pod["volumes"]}["config"]["projected"]
    sources = [(s["secret"]["name"], s["secret"]["items"]) for s in projected["sources"] if "secret" in s]
    assert sources == [
        ("git-creds", [{"key": "password", "path": "git/token"}, {"key": "identity", "path": "git/ssh-key"}]),
        ("hooks", [{"key": "hmac", "path": "webhook/secret"}]),
        ("api", [{"key": "bearer", "path": "api/token"}]),
    ]
    [container] = pod["containers"]
    assert "--webhook-secret-file=/etc/gitops/webhook/secret" in container["args"]
    assert "Secret hooks" in notes(values)


def test_an_existing_git_secret_with_only_a_token_mounts_only_the_token() -> None:
    pod = _pod(render({"git": {"existingSecret": "creds", "tokenKey": "token"}}))
    [container] = pod["containers"]
    assert [e["name"] for e in container["env"]] == ["HOME", "POD_NAME", "POD_IP", "GITOPS_GIT_TOKEN_FILE"]
    sources = {v["name"]: v for v in pod["volumes"]}["config"]["projected"]["sources"]
    assert sources[1] == {"secret": {"name": "creds", "items": [{"key": "token", "path": "git/token"}]}}


def test_no_credentials_no_secret_no_env() -> None:
    objects = render()
    assert find(objects, "Secret") == []
    [container] = _pod(objects)["containers"]
    assert [e["name"] for e in container["env"]] == ["HOME", "POD_NAME", "POD_IP"]
    sources = {v["name"]: v for v in _pod(objects)["volumes"]}["config"]["projected"]["sources"]
    assert sources == [
        {"configMap": {"name": "gitops", "items": [{"key": "gitops.yaml", "path": "gitops.yaml"}]}}
    ]


# --------------------------------------------------------------------------- RBAC

MANAGED_VERBS = ["get", "list", "create", "patch", "delete"]
DEFAULT_APP_RULES = [
    {
        "apiGroups": [""],
        "resources": ["configmaps", "secrets", "services", "serviceaccounts", "persistentvolumeclaims"],
        "verbs": MANAGED_VERBS,
    },
    {
        "apiGroups": ["apps"],
        "resources": ["deployments", "statefulsets", "daemonsets"],
        "verbs": MANAGED_VERBS,
    },
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": MANAGED_VERBS},
    {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": MANAGED_VERBS},
    {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "daemonsets"], "verbs": ["watch"]},
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["watch"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["list", "watch"]},
]
DAEMON_RULES = [
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["patch"]},
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
    {
        "apiGroups": ["coordination.k8s.io"],
        "resources": ["leases"],
        "resourceNames": ["gitops"],
        "verbs": ["get", "update"],
    },
]


def test_default_rbac_is_namespaced_only_with_the_engines_verbs() -> None:
    objects = render()
    assert find(objects, "ClusterRole") == [] and find(objects, "ClusterRoleBinding") == []
    assert _rules(objects, "Role", "gitops", "gitops") == DEFAULT_APP_RULES
    assert _rules(objects, "Role", "gitops-daemon", "gitops") == DAEMON_RULES
    verbs = {v for o in find(objects, "Role") for r in o["rules"] for v in r["verbs"]}
    assert verbs <= {"get", "list", "watch", "create", "patch", "update", "delete"}
    assert not any(
        "*" in r["verbs"] or "*" in r["resources"] for o in find(objects, "Role") for r in o["rules"]
    )
    assert not any(
        "rbac.authorization.k8s.io" in r["apiGroups"] for o in find(objects, "Role") for r in o["rules"]
    )


def test_one_role_per_namespace_the_apps_may_write() -> None:
    values = {
        "apps": [
            {"name": "web", "repo": "x", "allowedNamespaces": ["web", "web-canary"]},
            {"name": "api", "repo": "y", "namespace": "api"},
            {"name": "more", "repo": "z", "allowedNamespaces": ["web"]},
        ]
    }
    objects = render(values)
    roles = sorted(o["metadata"]["namespace"] for o in find(objects, "Role", "gitops"))
    bindings = sorted(o["metadata"]["namespace"] for o in find(objects, "RoleBinding", "gitops"))
    assert roles == bindings == ["api", "web", "web-canary"]
    assert one(objects, "Role", "gitops-daemon")["metadata"]["namespace"] == "gitops"
    explicit = render(
        {
            **values,
            "rbac": {
                "create": True,
                "clusterScoped": False,
                "namespaces": ["api", "web", "web-canary", "extra"],
            },
        }
    )
    assert sorted(o["metadata"]["namespace"] for o in find(explicit, "Role", "gitops")) == [
        "api",
        "extra",
        "web",
        "web-canary",
    ]


def test_cluster_role_only_with_cluster_scoped() -> None:
    objects = render({"rbac": {"create": True, "clusterScoped": True}})
    cluster_role = one(objects, "ClusterRole")
    assert cluster_role["metadata"]["name"] == "gitops-gitops"
    assert cluster_role["rules"] == [
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": MANAGED_VERBS},
        {
            "apiGroups": ["apiextensions.k8s.io"],
            "resources": ["customresourcedefinitions"],
            "verbs": MANAGED_VERBS,
        },
    ]
    binding = one(objects, "ClusterRoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "gitops-gitops",
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "gitops", "namespace": "gitops"}]
    # Namespaced kinds stay namespaced even then.
    assert _rules(objects, "Role", "gitops", "gitops") == DEFAULT_APP_RULES


def test_managed_resources_drive_the_rules_and_watch_only_workloads() -> None:
    values = {
        "rbac": {
            "create": True,
            "clusterScoped": False,
            "managedResources": [
                {"apiGroup": "", "resources": ["configmaps"]},
                {"apiGroup": "apps", "resources": ["deployments"]},
            ],
            "extraRules": [
                {"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get", "list", "patch"]}
            ],
        }
    }
    assert _rules(render(values), "Role", "gitops") == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": MANAGED_VERBS},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": MANAGED_VERBS},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["watch"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch"]},
        {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["list", "watch"]},
        {"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get", "list", "patch"]},
    ]
    no_workloads = copy.deepcopy(values)
    no_workloads["rbac"]["managedResources"] = [{"apiGroup": "", "resources": ["configmaps"]}]
    no_workloads["rbac"]["extraRules"] = []
    assert _rules(render(no_workloads), "Role", "gitops") == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": MANAGED_VERBS}
    ]


def test_the_watched_workloads_match_the_engines_health_gate() -> None:
    from gitops.engine import rollout

    helpers = (CHART_DIR / "templates" / "_helpers.tpl").read_text()
    block = helpers.split('define "gitops.watchedWorkloads"')[1].split("{{- end -}}")[0]
    watched = yaml.safe_load(block.split("-}}", 1)[1])
    plural = {
        "Deployment": "deployments",
        "StatefulSet": "statefulsets",
        "DaemonSet": "daemonsets",
        "Job": "jobs",
    }
    engine = {(g, plural[k]) for g, k in rollout.WORKLOAD_KINDS}
    assert {(g, r) for g, rs in watched.items() for r in rs} == engine


# --------------------------------------------------------------------------- NOTES, image


def test_notes_explain_github_and_gitlab_webhooks() -> None:
    text = notes(FULL)
    assert "Payload URL:   https://gitops.example.com/webhooks/github" in text
    assert "Content type:  application/json" in text
    assert "URL:           https://gitops.example.com/webhooks/gitlab" in text
    assert "Secret token:" in text
    default = notes()
    assert "http://gitops.gitops.svc:8080/webhooks/github" in default
    assert "No webhook secret is configured" in default


def test_dockerfile_is_non_root_and_runs_the_daemon() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert "apt-get install -y --no-install-recommends ca-certificates git openssh-client" in text
    assert "rm -rf /var/lib/apt/lists/*" in text
    assert re.search(r"^USER 10001:10001$", text, re.M)
    assert 'ENTRYPOINT ["gitops", "daemon"]' in text
    assert "EXPOSE 8080" in text
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".venv", ".git", "tests", "bench", ".pytest_cache", ".mypy_cache"} <= ignored


@pytest.mark.parametrize(
    ("interval", "resync"), [(1, 0), ("0.5m", "0s"), ("1h30m", "10m"), ("90", 1)], ids=str
)
def test_app_durations_the_schema_accepts_are_ones_the_daemon_accepts(interval: Any, resync: Any) -> None:
    from gitops.config import parse_config

    objects = render({"apps": [{"name": "web", "repo": "x", "interval": interval, "resync": resync}]})
    config_map = next(o for o in objects if o["kind"] == "ConfigMap")
    [app] = parse_config(config_map["data"]["gitops.yaml"]).apps
    assert app.interval >= 1 and (app.resync == 0 or app.resync >= 1)
