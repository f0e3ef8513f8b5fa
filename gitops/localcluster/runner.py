"""Start and stop a local cluster: the uvicorn server thread, the store, the workers.

``with LocalCluster() as cluster:`` serves on a free loopback port in this process and writes a
kubeconfig that kubectl and the Python client use as they are (``cluster.kubeconfig``).
``gitops local-cluster serve`` runs the same thing in the foreground.
"""

from __future__ import annotations

import base64
import socket
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
import yaml

from gitops.localcluster import rbac
from gitops.localcluster import tls as tls_mod
from gitops.localcluster.api import Api, WriteOptions
from gitops.localcluster.auth import Authenticator, TokenIssuer
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

    ``port=0`` picks a free port. ``state_file`` keeps objects across restarts, and the
    ServiceAccount signing key and the CA in ``<state_file>.pki/`` beside it (``tls.py``), so
    tokens and ``ca.crt`` files handed out before a restart keep working. ``kubeconfig``
    is where the kubeconfig is written (a temporary file when None). ``clock_scale`` speeds up
    simulated time for controllers. ``watch_history`` is how many events a watch can resume
    across; older resourceVersions get 410 Expired, as after an etcd compaction.
    ``controllers=False`` serves the API alone, as a kube-apiserver without
    kube-controller-manager, scheduler or kubelets; ``options`` tunes the simulated ones.
    ``faults`` are fault-injection rules to start with (``gitops.localcluster.faults``); change
    them at run time through ``cluster.faults`` or ``/debug/faults``.

    ``auth=True`` requires a bearer token on every request (``auth.py``) and authorizes it with
    RBAC (``rbac.py``); the kubeconfig then carries :attr:`admin_token` (``system:masters``), and
    :meth:`service_account_token` issues tokens for ServiceAccounts. ``tls=True`` serves HTTPS
    with a certificate issued at start by the CA (``tls.py``, :attr:`ca_file`): a new one held
    in memory, or the kept one with a state file. Both are off by default: plain local use is
    unauthenticated HTTP. A kept key file that cannot be used raises
    :class:`~gitops.localcluster.tls.KeyFileError` naming it.
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
        auth: bool = False,
        tls: bool = False,
    ) -> None:
        self.faults = FaultInjector.from_config(faults)  # --- fault injection (first: may reject)
        # Kept keys next: a bad key file is an error before any thread, file or socket exists.
        state = Path(state_file) if state_file else None
        keys = tls_mod.key_directory(state) if state is not None else None
        issuer = TokenIssuer(keys / tls_mod.SA_KEY if keys is not None else None)
        if auth and keys is not None:
            issuer.ensure_key()  # the kept layout is complete from the first start
        ca = tls_mod.kept_ca(keys) if tls and keys is not None else None
        self.clock = Clock(clock_scale)
        self.store = Store(state, history=watch_history)
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
        self.auth = auth
        self.tls = tls
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.authenticator = Authenticator(self.store, issuer)
        self.app = ClusterApp(
            self.api,
            self.requests,
            f"127.0.0.1:{self.port}",
            authenticator=self.authenticator,
            enforce_auth=auth,
        )
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        if kubeconfig is None or tls:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="gitops-localcluster-")
        if kubeconfig is None:
            assert self._tmpdir is not None
            kubeconfig = Path(self._tmpdir.name) / "kubeconfig"
        self.kubeconfig = Path(kubeconfig)
        self._pki: tls_mod.Pki | None = None
        if tls:
            assert self._tmpdir is not None
            self._pki = tls_mod.generate(Path(self._tmpdir.name) / "pki", ca)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------- lifecycle

    def start(self) -> LocalCluster:
        self.api.restore_crds()
        self._bootstrap()
        if self.auth:
            self._bootstrap_rbac()
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
            ssl_certfile=str(self._pki.cert_file) if self._pki is not None else None,
            ssl_keyfile=str(self._pki.key_file) if self._pki is not None else None,
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

    # -------------------------------------------------------------- auth and TLS helpers

    @property
    def admin_token(self) -> str:
        """The static bearer token of user ``kubernetes-super-admin`` (group ``system:masters``)."""
        return self.authenticator.admin_token

    @property
    def ca_file(self) -> Path:
        """The PEM of the CA that signed the serving certificate (``tls=True`` only)."""
        if self._pki is None:
            raise RuntimeError("the local cluster serves plain HTTP: start it with tls=True")
        return self._pki.ca_file

    def service_account_token(self, namespace: str, name: str, expiration_seconds: int = 3600) -> str:
        """A token for the ServiceAccount ``namespace/name``, as the TokenRequest API issues it
        (``system:serviceaccount:<ns>:<name>``); valid while that ServiceAccount exists.
        Raises :class:`~gitops.localcluster.errors.StatusError` 404 when it does not."""
        token, _exp = self.authenticator.token_for(namespace, name, expiration_seconds=expiration_seconds)
        return token

    def write_service_account_files(self, directory: str | Path, namespace: str, name: str) -> Path:
        """Write ``token``, ``ca.crt`` and ``namespace`` into ``directory``, as the kubelet
        projects them into ``/var/run/secrets/kubernetes.io/serviceaccount``. ``ca.crt`` needs
        ``tls=True`` (an in-cluster client speaks HTTPS). Returns ``directory``."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        (path / "token").write_text(self.service_account_token(namespace, name))
        (path / "ca.crt").write_bytes(self.ca_file.read_bytes())
        (path / "namespace").write_text(namespace)
        return path

    def _bootstrap_rbac(self) -> None:
        """The bootstrap ClusterRoles and ClusterRoleBindings (``rbac.bootstrap_policy``), as the
        apiserver's RBAC post-start hook reconciles them (created when missing)."""
        opts = WriteOptions(manager="kube-apiserver")
        roles, bindings = rbac.bootstrap_policy()
        for plural, objs in (("clusterroles", roles), ("clusterrolebindings", bindings)):
            rt = self.registry.by_plural(rbac.RBAC_GROUP, "v1", plural)
            assert rt is not None
            for obj in objs:
                if self.store.get((rbac.RBAC_GROUP, plural), ("", obj["metadata"]["name"])) is None:
                    self.api.create(rt, "", obj, opts)

    def kubeconfig_dict(self) -> dict[str, Any]:
        cluster: dict[str, Any] = {"server": self.url}
        if self._pki is not None:
            cluster["certificate-authority-data"] = base64.b64encode(self._pki.ca_pem).decode()
        user: dict[str, Any] = {"token": self.admin_token} if self.auth else {}
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "gitops-local", "cluster": cluster}],
            "users": [{"name": "gitops-local", "user": user}],
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
