"""Manifests of a small realistic app, as the files a team keeps in Git, for one namespace.

``web_app(ns)`` is a Namespace, a ConfigMap, a Secret, a Deployment, a Service and an Ingress in
four files; keyword arguments change what the tests change in Git.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import yaml

# The kinds web_app uses, as the local cluster's request log names them (plural, by phase).
PHASE_OF_RESOURCE = {
    "namespaces": 1,
    "configmaps": 2,
    "secrets": 2,
    "deployments": 3,
    "services": 4,
    "ingresses": 4,
}


def dump(*objects: Mapping[str, Any]) -> str:
    return yaml.safe_dump_all([dict(o) for o in objects], sort_keys=False)


def namespace(name: str, **annotations: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def configmap(
    ns: str,
    name: str,
    data: Mapping[str, str],
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": dict(data)}


def secret(
    ns: str,
    name: str,
    *,
    string_data: Mapping[str, str] | None = None,
    data: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A Secret; ``data`` values are given in clear and base64-encoded here."""
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": ns, **({"labels": dict(labels)} if labels else {})},
        "type": "Opaque",
    }
    if data:
        body["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    if string_data:
        body["stringData"] = dict(string_data)
    return body


def deployment(ns: str, name: str, *, image: str = "nginx:1.27", replicas: int | None = 2) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {
                "containers": [
                    {
                        "name": name,
                        "image": image,
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "envFrom": [{"configMapRef": {"name": f"{name}-config"}}],
                        "resources": {
                            "requests": {"cpu": "0.1", "memory": "64Mi"},
                            "limits": {"cpu": "500m", "memory": "0.25Gi"},
                        },
                        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
                    }
                ]
            },
        },
    }
    if replicas is not None:
        spec = {"replicas": replicas, **spec}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
        "spec": spec,
    }


def service(ns: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }


def ingress(ns: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "rules": [
                {
                    "host": f"{name}.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": name, "port": {"name": "http"}}},
                            }
                        ]
                    },
                }
            ]
        },
    }


def web_app(
    ns: str,
    *,
    log_level: str = "info",
    image: str = "nginx:1.27",
    replicas: int | None = 2,
    password: str = "correct-horse",
) -> dict[str, str]:
    """The app's files: ``namespace.yaml``, ``config.yaml``, ``web.yaml``, ``ingress.yaml``."""
    return {
        "namespace.yaml": dump(namespace(ns)),
        "config.yaml": dump(
            configmap(
                ns, "web-config", {"LOG_LEVEL": log_level, "FEATURES": "search"}, labels={"tier": "web"}
            ),
            secret(ns, "web-credentials", string_data={"DATABASE_PASSWORD": password}),
        ),
        "web.yaml": dump(deployment(ns, "web", image=image, replicas=replicas), service(ns, "web")),
        "ingress.yaml": dump(ingress(ns, "web")),
    }
