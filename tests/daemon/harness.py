"""The daemon as a real process for end-to-end tests: ``python -m gitops.cli daemon`` with a
config, a history database and a kubeconfig for a local cluster, reached over HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import yaml

from gitops.daemon import webhooks
from tests.waiting import wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_files(
    namespace: str,
    image: str = "nginx:1.0",
    *,
    replicas: int = 1,
    pod_annotations: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A small app: its Namespace, a ConfigMap, a Deployment and a Service."""
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {
                    "labels": {"app": "web"},
                    **({"annotations": dict(pod_annotations)} if pod_annotations else {}),
                },
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    files = {
        "app/namespace.yaml": yaml.safe_dump(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        ),
        "app/config.yaml": yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": namespace},
                "data": {"mode": "prod"},
            }
        ),
        "app/web.yaml": yaml.safe_dump(deployment),
        "app/service.yaml": yaml.safe_dump(service),
    }
    return files


def config_text(apps: Sequence[Mapping[str, Any]]) -> str:
    return yaml.safe_dump({"apps": [dict(a) for a in apps]}, sort_keys=False)


class DaemonProcess:
    """One ``gitops daemon`` subprocess; its log goes to ``log_path``."""

    def __init__(
        self,
        workdir: Path,
        config: str,
        kubeconfig: Path | None,
        *,
        secret: str = "webhook-secret",
        api_token: str = "api-token",
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        history: Path | None = None,
        identity: str = "",
    ) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret = secret
        self.api_token = api_token
        self.identity = identity or f"daemon-{uuid.uuid4().hex[:6]}"
        (workdir / "gitops.yaml").write_text(config)
        (workdir / "secret").write_text(secret + "\n")
        (workdir / "token").write_text(api_token + "\n")
        self.history = history or workdir / "history.db"
        self.log_path = workdir / f"{self.identity}.log"
        self._log = self.log_path.open("wb")
        cmd = [
            sys.executable,
            "-m",
            "gitops.cli",
            "daemon",
            "--config",
            str(workdir / "gitops.yaml"),
            "--listen",
            f"127.0.0.1:{self.port}",
            "--history",
            str(self.history),
            "--cache-dir",
            str(workdir / "cache"),
            *(["--kubeconfig", str(kubeconfig)] if kubeconfig is not None else []),
            "--webhook-secret-file",
            str(workdir / "secret"),
            "--api-token-file",
            str(workdir / "token"),
            "--identity",
            self.identity,
            "--log-format",
            "json",
            # a loopback listener advertises nothing by default (no other host reaches it)
            *(["--advertise-url", self.url] if "--leader-elect" in args else []),
            *args,
        ]
        full_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("GITOPS_", "KUBERNETES_"))},
            "GIT_TERMINAL_PROMPT": "0",
            "TMPDIR": str(workdir),
            **(env or {}),
        }
        self.proc = subprocess.Popen(
            cmd, stdout=self._log, stderr=subprocess.STDOUT, env=full_env, cwd=workdir
        )
        self.client = httpx.Client(base_url=self.url, timeout=10)
        wait_for(self._healthy, timeout=30, what=f"the daemon to serve /healthz ({self.log()[-2000:]})")

    def _healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"the daemon exited with {self.proc.returncode}:\n{self.log()}")
        try:
            return self.client.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def log_lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log().splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    # --------------------------------------------------------------------------------- API

    def app(self, name: str) -> dict[str, Any]:
        r = self.client.get(f"/api/v1/apps/{name}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def history_of(self, name: str) -> list[dict[str, Any]]:
        r = self.client.get(f"/api/v1/apps/{name}/history", params={"limit": 50})
        assert r.status_code == 200, r.text
        body = r.json()
        return list(body["items"] if isinstance(body, dict) else body)

    def github_push(
        self,
        repo_url: str,
        after: str,
        *,
        ref: str = "refs/heads/main",
        delivery: str = "",
        secret: str | None = None,
    ) -> httpx.Response:
        body = json.dumps(
            {
                "ref": ref,
                "before": "0" * 40,
                "after": after,
                "repository": {"clone_url": repo_url, "html_url": repo_url.removesuffix(".git")},
            }
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        }
        if secret is None:
            secret = self.secret
        if secret:
            headers["X-Hub-Signature-256"] = webhooks.sign(body, secret)
        return self.client.post("/webhooks/github", content=body, headers=headers)

    def synced(self, name: str, sha: str = "") -> bool:
        """App ``name`` has finished syncing ``sha`` (any commit when ""), nothing running."""
        status = self.app(name)
        done = status["syncedRevision"] == sha if sha else bool(status["syncedRevision"])
        return bool(done and not status["syncing"])

    def metrics(self) -> str:
        return self.client.get("/metrics").text

    # ---------------------------------------------------------------------------- lifecycle

    def terminate(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self.close()

    def close(self) -> None:
        self.client.close()
        self._log.close()


@contextlib.contextmanager
def running(*args: Any, **kwargs: Any) -> Iterator[DaemonProcess]:
    d = DaemonProcess(*args, **kwargs)
    try:
        yield d
    finally:
        d.kill()
