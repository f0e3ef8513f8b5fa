"""Serving: the CLI, the kubeconfig, the state file across restarts and kills, request accounting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from gitops.localcluster import LocalCluster
from gitops.localcluster.api import WriteOptions
from tests.conftest import Kubectl
from tests.waiting import wait_for


def test_state_file_keeps_objects_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with LocalCluster(state_file=state, kubeconfig=tmp_path / "kc") as c:
        rt = c.registry.by_plural("", "v1", "configmaps")
        assert rt is not None
        made = c.api.create(
            rt, "default", {"metadata": {"name": "kept"}, "data": {"a": "1"}}, WriteOptions(manager="t")
        )
        rv = c.store.resource_version
    with LocalCluster(state_file=state, kubeconfig=tmp_path / "kc") as c:
        assert c.store.resource_version >= rv
        got = c.api.get(rt, "default", "kept")
        assert got["data"] == {"a": "1"} and got["metadata"]["uid"] == made.obj["metadata"]["uid"]


def test_crds_and_their_resources_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    crd = {
        "metadata": {"name": "things.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Cluster",
            "names": {"plural": "things", "singular": "thing", "kind": "Thing"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }
    with LocalCluster(state_file=state, kubeconfig=tmp_path / "kc") as c:
        crds = c.registry.by_plural("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        assert crds is not None
        c.api.create(crds, "", crd, WriteOptions(manager="t"))
        things = c.registry.by_plural("example.com", "v1", "things")
        assert things is not None
        c.api.create(things, "", {"metadata": {"name": "t1"}, "spec": {"x": 1}}, WriteOptions(manager="t"))
    with LocalCluster(state_file=state, kubeconfig=tmp_path / "kc") as c:
        things = c.registry.by_plural("example.com", "v1", "things")
        assert things is not None
        assert c.api.get(things, "", "t1")["spec"] == {"x": 1}


def test_killed_server_leaves_a_valid_state_file(tmp_path: Path) -> None:
    """SIGKILL mid-writes: the file is a complete earlier snapshot, never a torn one."""
    state = tmp_path / "state.json"
    kubeconfig = tmp_path / "kc"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gitops.cli",
            "local-cluster",
            "serve",
            "--state",
            str(state),
            "--kubeconfig",
            str(kubeconfig),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(kubeconfig.exists, what="kubeconfig")
        import yaml

        url = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
        with httpx.Client(base_url=url, timeout=10) as http:
            for i in range(30):
                r = http.post(
                    "/api/v1/namespaces/default/configmaps",
                    json={"metadata": {"name": f"c{i}"}, "data": {"i": str(i)}},
                )
                assert r.status_code == 201
            wait_for(lambda: state.exists() and b'"c29"' in state.read_bytes(), what="state flushed")
            for i in range(30, 200):  # keep writing while we kill it
                http.post("/api/v1/namespaces/default/configmaps", json={"metadata": {"name": f"c{i}"}})
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    data = json.loads(state.read_bytes())  # parses: not torn
    names = {o["metadata"]["name"] for _, plural, o in data["objects"] if plural == "configmaps"}
    assert {f"c{i}" for i in range(30)} <= names
    with LocalCluster(state_file=state, kubeconfig=tmp_path / "kc2") as c:
        rt = c.registry.by_plural("", "v1", "configmaps")
        assert rt is not None
        assert c.api.get(rt, "default", "c29")["data"] == {"i": "29"}


def test_cli_exec_runs_kubectl_against_a_fresh_cluster(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path)}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "gitops.cli",
            "local-cluster",
            "exec",
            "--",
            "kubectl",
            "get",
            "namespaces",
            "-o",
            "name",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [
        "namespace/default",
        "namespace/kube-node-lease",
        "namespace/kube-public",
        "namespace/kube-system",
    ]


def test_request_accounting_counts_by_verb_resource_and_user_agent(
    cluster: LocalCluster, kubectl: Kubectl, namespace: str
) -> None:
    since = cluster.requests.last_seq
    kubectl.run("get", "configmaps", "-n", namespace)
    kubectl.run(
        "create",
        "-f",
        "-",
        input=f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: acct, namespace: {namespace}}}\n",
    )
    records = [r for r in cluster.requests.records(since) if r.resource == "configmaps"]
    assert [(r.verb, r.code) for r in records] == [("list", 200), ("create", 201)]
    assert all(r.user_agent.startswith("kubectl") for r in records)
    writes = cluster.requests.writes(since)
    assert [(w.verb, w.name or w.namespace) for w in writes] == [("create", namespace)]
    over_http = httpx.get(f"{cluster.url}/debug/requests", params={"since": since}).json()
    assert any(c["verb"] == "create" and c["resource"] == "configmaps" for c in over_http["counters"])
    assert [r["verb"] for r in over_http["requests"] if r["resource"] == "configmaps"] == ["list", "create"]


def test_port_in_use_fails_clearly(cluster: LocalCluster, tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "gitops.cli",
            "local-cluster",
            "serve",
            "--port",
            str(cluster.port),
            "--kubeconfig",
            str(tmp_path / "kc"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode != 0
    assert f"cannot serve on 127.0.0.1:{cluster.port}" in out.stderr


@pytest.mark.parametrize("path", ["/version", "/healthz", "/openapi/v3"])
def test_non_resource_endpoints_answer(cluster: LocalCluster, path: str) -> None:
    assert httpx.get(cluster.url + path).status_code == 200
