"""Shared fixtures: a started local cluster and kubectl run against it.

``cluster`` is per test session (per xdist worker) and serves the API alone, without simulated
controllers (a kube-apiserver without kube-controller-manager), so API-semantics tests see only
their own writes; they isolate themselves with the ``namespace`` fixture. ``live_cluster`` runs
the simulated controllers with a 20x clock. Tests that change the API surface or need a
pristine server use ``fresh_cluster``. kubectl runs with its own HOME so its discovery cache (~/.kube/cache,
K8S-API.md §1.4) never leaks between clusters or from the developer's machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitops.localcluster import LocalCluster

KUBECTL = "/usr/bin/kubectl"


@dataclass
class Kubectl:
    """Runs the real kubectl against one local cluster with an isolated HOME."""

    kubeconfig: Path
    home: Path

    def run(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "KUBECONFIG": str(self.kubeconfig),
            "KUBECTL_COMMAND_HEADERS": "false",
        }
        proc = subprocess.run(
            [KUBECTL, *args], input=input, capture_output=True, text=True, env=env, timeout=timeout
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({proc.returncode}):\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
            )
        return proc

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    kubeconfig = tmp_path_factory.mktemp("cluster") / "kubeconfig"
    with LocalCluster(kubeconfig=kubeconfig, controllers=False) as c:
        yield c


@pytest.fixture
def fresh_cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    with LocalCluster(kubeconfig=tmp_path / "kubeconfig", controllers=False) as c:
        yield c


LIVE_CLOCK_SCALE = 20.0


@pytest.fixture(scope="session")
def live_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A cluster with its simulated controllers running, 20 simulated seconds per wall second."""
    kubeconfig = tmp_path_factory.mktemp("live") / "kubeconfig"
    with LocalCluster(kubeconfig=kubeconfig, clock_scale=LIVE_CLOCK_SCALE) as c:
        yield c


@pytest.fixture(scope="session")
def live_kubectl(live_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(live_cluster.kubeconfig, tmp_path_factory.mktemp("live-kubectl-home"))


@pytest.fixture
def live_namespace(live_cluster: LocalCluster) -> Iterator[str]:
    """A new namespace in the live cluster; its controllers must have logged no error."""
    from gitops.localcluster.api import WriteOptions

    name = f"l-{uuid.uuid4().hex[:10]}"
    rt = live_cluster.registry.by_plural("", "v1", "namespaces")
    assert rt is not None
    live_cluster.api.create(rt, "", {"metadata": {"name": name}}, WriteOptions(manager="test-setup"))
    yield name
    assert live_cluster.controllers is not None
    assert live_cluster.controllers.errors == []


@pytest.fixture(scope="session")
def kubectl(cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(cluster.kubeconfig, tmp_path_factory.mktemp("kubectl-home"))


@pytest.fixture
def namespace(cluster: LocalCluster) -> str:
    """A new namespace in the session cluster, for one test."""
    from gitops.localcluster.api import WriteOptions

    name = f"t-{uuid.uuid4().hex[:10]}"
    rt = cluster.registry.by_plural("", "v1", "namespaces")
    assert rt is not None
    cluster.api.create(rt, "", {"metadata": {"name": name}}, WriteOptions(manager="test-setup"))
    return name
