"""Start and stop a local cluster: the uvicorn server thread, the store, the workers.

``with LocalCluster() as cluster:`` serves on a free loopback port in this process and writes a
kubeconfig that kubectl and the Python client use as they are (``cluster.kubeconfig``).
``gitops local-cluster serve`` runs the same thing in the foreground.
"""

from __future__ import annotations

import socket
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
import yaml

from gitops.localcluster.api import Api, WriteOptions
from gitops.localcluster.clock import Clock
from gitops.localcluster.controllers import ControllerManager, Options, build_manager
from gitops.localcluster.faults import FaultConfig, FaultInjector, FaultMiddleware, Rule
from gitops.localcluster.lifecycle import LifecycleWorker
from gitops.localcluster.resources import Registry
from gitops.localcluster.server import ClusterApp, RequestLog
from gitops.localcluster.store import Store

BUILTIN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class LocalCluster:
    """A local simulated Kubernetes API server on 127.0.0.1.

    ``port=0`` picks a free port. ``state_file`` keeps objects across restarts. ``kubeconfig``
    is where the kubeconfig is written (a temporary file when None). ``clock_scale`` speeds up
    simulated time for controllers. ``watch_history`` is how many events a watch can resume
    across; older resourceVersions get 410 Expired, as after an etcd compaction.
    ``controllers=False`` serves the API alone, as a kube-apiserver without
    kube-controller-manager, scheduler or kubelets; ``options`` tunes the simulated ones.
    ``faults`` are fault-injection rules to start with (``gitops.localcluster.faults``); change
    them at run time through ``cluster.faults`` or ``/debug/faults``.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        state_file: str | Path | None = None,
        kubeconfig: str | Path | None = None,
        clock_scale: float = 1.0,
        seed: int | None = None,
        watch_history: int = 50_000,
        controllers: bool = True,
        options: Options | None = None,
        faults: FaultConfig | Sequence[Rule | Mapping[str, Any]] | None = None,
    ) -> None:
        self.faults = FaultInjector.from_config(faults)  # --- fault injection (first: may reject)
        self.clock = Clock(clock_scale)
        self.store = Store(Path(state_file) if state_file else None, history=watch_history)
        self.registry = Registry()
        self.api = Api(self.store, self.registry, self.clock, seed=seed)
        self.requests = RequestLog()
        self.lifecycle = LifecycleWorker(self.api)
        self.controllers: ControllerManager | None = (
            build_manager(ControllerManager(self.api, self.clock, options)) if controllers else None
        )
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = ClusterApp(self.api, self.requests, f"127.0.0.1:{self.port}")
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        if kubeconfig is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="gitops-localcluster-")
            kubeconfig = Path(self._tmpdir.name) / "kubeconfig"
        self.kubeconfig = Path(kubeconfig)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------- lifecycle

    def start(self) -> LocalCluster:
        self.api.restore_crds()
        self._bootstrap()
        self.lifecycle.start()
        if self.controllers is not None:
            self.controllers.start()
        self.faults.rearm()  # --- fault injection: windows of rules given at start count from now
        config = uvicorn.Config(
            FaultMiddleware(self.app, self.faults),
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="httptools",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        self._sock.listen(512)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name=f"localcluster-{self.port}",
            daemon=True,
        )
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the local cluster server failed to start")
            self._thread.join(0.01)
        self.write_kubeconfig(self.kubeconfig)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.controllers is not None:
            self.controllers.stop()
        self.lifecycle.stop()
        self.store.close()
        self._sock.close()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until the controllers have nothing left to do right now (see ControllerManager)."""
        return self.controllers.settle(timeout) if self.controllers is not None else True

    def serve_forever(self) -> None:
        """Block until interrupted (the CLI's ``serve``)."""
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            pass

    # --------------------------------------------------------------------------- helpers

    def _bootstrap(self) -> None:
        """The objects every cluster has: the four namespaces and ``default/kubernetes``."""
        opts = WriteOptions(manager="kube-apiserver")
        namespaces = self.registry.by_plural("", "v1", "namespaces")
        services = self.registry.by_plural("", "v1", "services")
        assert namespaces is not None and services is not None
        for name in BUILTIN_NAMESPACES:
            if self.store.get(("", "namespaces"), ("", name)) is None:
                self.api.create(namespaces, "", {"metadata": {"name": name}}, opts)
        if self.store.get(("", "services"), ("default", "kubernetes")) is None:
            self.api.create(
                services,
                "default",
                {
                    "metadata": {
                        "name": "kubernetes",
                        "labels": {"component": "apiserver", "provider": "kubernetes"},
                    },
                    "spec": {
                        "clusterIP": "10.96.0.1",
                        "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                    },
                },
                opts,
            )

    def kubeconfig_dict(self) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "gitops-local", "cluster": {"server": self.url}}],
            "users": [{"name": "gitops-local", "user": {}}],
            "contexts": [
                {
                    "name": "gitops-local",
                    "context": {"cluster": "gitops-local", "user": "gitops-local", "namespace": "default"},
                }
            ],
            "current-context": "gitops-local",
            "preferences": {},
        }

    def write_kubeconfig(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(yaml.safe_dump(self.kubeconfig_dict(), sort_keys=False))
        tmp.replace(path)
