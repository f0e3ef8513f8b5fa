"""`kubectl delete namespace` on a cluster with running workloads behaves as on a real one:
the namespace goes Terminating, its contents (Deployments, ReplicaSets, terminating pods) are
deleted, then the namespace itself (pkg/controller/namespace/deletion; kubectl waits for it)."""

from __future__ import annotations

import uuid

from gitops.localcluster import LocalCluster
from tests.conftest import Kubectl


def test_kubectl_delete_namespace_with_running_pods(
    live_cluster: LocalCluster, live_kubectl: Kubectl
) -> None:
    ns = f"doomed-{uuid.uuid4().hex[:6]}"
    live_kubectl.run("apply", "-f", "-", input=f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n")
    live_kubectl.run(
        "apply",
        "-f",
        "-",
        input=f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {ns}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: c, image: nginx}}]}}
""",
    )
    live_kubectl.run("rollout", "status", "deployment/web", "-n", ns, "--timeout=30s")
    assert len(live_cluster.store.items(("", "pods"), ns)) == 2
    out = live_kubectl.run("delete", "namespace", ns, "--timeout=60s")
    assert out.stdout.strip() == f'namespace "{ns}" deleted'
    gone = live_kubectl.run("get", "namespace", ns, check=False)
    assert gone.returncode == 1
    assert f'namespaces "{ns}" not found' in gone.stderr
    for plural, group in (("pods", ""), ("replicasets", "apps"), ("deployments", "apps")):
        assert live_cluster.store.items((group, plural), ns) == []
