"""``gitops daemon`` wired together: config, cluster, Git cache, history, metrics, leader
election, the scheduler and the HTTP server (uvicorn) in one process.

The CLI parses flags into :class:`DaemonSettings` and calls :func:`run`, which returns the
process's exit code once the server stopped (SIGTERM or SIGINT) and the running syncs finished
or were stopped at a safe point within the grace period.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import uvicorn

from gitops import config as config_mod
from gitops import errors
from gitops.cluster import Cluster, ClusterOptions
from gitops.cluster import client as cluster_client
from gitops.daemon import api, logs
from gitops.daemon.leader import LeaderElector
from gitops.daemon.metrics import Metrics
from gitops.daemon.service import Daemon, DaemonOptions
from gitops.engine import Engine
from gitops.git import GitOptions, Source, resolve_local
from gitops.history import History

log = logging.getLogger("gitops.daemon")


def default_identity() -> str:
    """The pod name in a cluster (its hostname), with the pid: unique per replica and restart."""
    return f"{socket.gethostname()}_{os.getpid()}"


def advertise_url(settings: DaemonSettings, environ: Mapping[str, str]) -> str:
    """Where the other replicas reach this one's API (the leader writes it in its Lease):
    ``--advertise-url``; else, listening on one address, that address (none for a loopback
    one: no other host reaches it); else, on a wildcard, ``http://$POD_IP:PORT`` in a pod (the
    chart sets POD_IP from the downward API). "" when there is none: a standby then handles
    webhooks itself, for the leader's next poll."""
    if settings.advertise_url:
        return settings.advertise_url.rstrip("/")
    if settings.host in ("", "0.0.0.0", "::"):
        host = environ.get("POD_IP", "")
    elif settings.host == "localhost" or _loopback(settings.host):
        host = ""
    else:
        host = settings.host
    if not host:
        return ""
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class DaemonSettings:
    """Everything ``gitops daemon`` takes from its command line and environment.

    ``in_cluster`` None means: in a pod (``KUBERNETES_SERVICE_HOST`` set and a service-account
    token present) use the service account, else the kubeconfig. ``lease_namespace`` None means
    the service account's namespace in a pod, else the kubeconfig context's namespace.
    """

    config_path: Path
    host: str = "127.0.0.1"
    port: int = 8080
    history_path: Path | None = None
    cache_dir: Path | None = None
    kubeconfig: Path | None = None
    context: str | None = None
    in_cluster: bool | None = None
    service_account_dir: Path = cluster_client.SERVICE_ACCOUNT_DIR
    leader_elect: bool = False
    lease_name: str = "gitops"
    lease_namespace: str | None = None
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    advertise_url: str = ""
    webhook_secret: str | None = None
    webhooks_insecure: bool = False
    api_token: str | None = None
    workers: int = 4
    grace: float = 30.0
    identity: str = ""
    events: bool = True
    log_format: str = "text"
    log_level: str = "info"


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT once its own shutdown is done (to end the process the
    default way), which would kill the daemon before its running syncs get their grace period
    and before history records how they ended. The daemon exits by itself afterwards."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def _connect(settings: DaemonSettings, identity: str) -> Cluster:
    in_cluster = settings.in_cluster
    if in_cluster is None:
        in_cluster = settings.kubeconfig is None and cluster_client.in_cluster_available(
            os.environ, settings.service_account_dir
        )
    options = ClusterOptions(
        kubeconfig=settings.kubeconfig,
        context=settings.context,
        in_cluster=in_cluster,
        service_account_dir=settings.service_account_dir,
        # The identity in the user agent tells replicas apart in the API server's audit log.
        user_agent=identity,
    )
    return Cluster.connect(options)


def run(settings: DaemonSettings) -> int:
    """Serve until stopped; the exit code: 0 after a clean stop, 2 when the config or the
    cluster configuration (kubeconfig, service account) cannot be loaded. An unreachable
    cluster or Git host is not fatal: it becomes each app's condition."""
    logs.configure(settings.log_format, settings.log_level)
    identity = settings.identity or default_identity()
    try:
        text = settings.config_path.read_text()
    except OSError as exc:
        log.error("cannot read the config %s: %s", settings.config_path, exc.strerror or exc)
        return 2
    try:
        parsed = config_mod.parse_config(text, str(settings.config_path), allow_no_apps=True)
        # A relative local repository is relative to the config file, as for gitops sync.
        base = settings.config_path.resolve().parent
        config = config_mod.Config(
            tuple(dataclasses.replace(a, repo=resolve_local(a.repo, base)) for a in parsed.apps)
        )
        cluster = _connect(settings, identity)
    except errors.GitopsError as exc:
        log.error("%s", exc)
        return exc.exit_code
    metrics = Metrics()
    cluster.observer = metrics.cluster_request
    history = History.open(settings.history_path)
    if history.recovered:
        log.warning("syncs interrupted by the previous process's end: %s", history.recovered)
    source = Source(GitOptions(cache_dir=settings.cache_dir))
    engine = Engine(cluster, source, history)
    namespace = settings.lease_namespace or cluster.namespace
    elector: LeaderElector | None = None
    if settings.leader_elect:
        elector = LeaderElector(
            cluster,
            namespace,
            settings.lease_name,
            identity,
            lease_duration=settings.lease_duration,
            renew_deadline=settings.renew_deadline,
            retry_period=settings.retry_period,
            advertise=advertise_url(settings, os.environ),
        )
        if not elector.advertise:
            log.warning(
                "leader election without an advertised URL (--advertise-url, or POD_IP): a webhook"
                " reaching a standby waits for the leader's next poll"
            )
    daemon = Daemon(
        config,
        engine,
        metrics,
        DaemonOptions(
            workers=settings.workers,
            identity=identity,
            # Events go where the daemon's pod is (its service account's namespace), which
            # is not always where --lease-namespace puts the Lease.
            events_namespace=cluster.namespace if settings.events else None,
            events_pod=os.environ.get("POD_NAME", ""),
        ),
        leading=(lambda: elector.is_leader) if elector is not None else None,
    )
    app = api.create_app(
        daemon,
        api.ApiSettings(
            webhook_secret=settings.webhook_secret,
            webhooks_insecure=settings.webhooks_insecure,
            api_token=settings.api_token,
            forward_to=(lambda: elector.leader_url) if elector is not None else None,
            leading=(lambda: elector.is_leader) if elector is not None else None,
            identity=identity,
        ),
        metrics,
    )
    server = _Server(
        uvicorn.Config(
            app, host=settings.host, port=settings.port, log_config=None, access_log=False, lifespan="off"
        )
    )
    daemon.start()
    if elector is not None:
        metrics.leader(False)

        def started() -> None:
            metrics.leader(True)
            log.info("leading (lease %s/%s)", namespace, settings.lease_name)
            daemon.became_leader()

        def stopped() -> None:
            metrics.leader(False)
            log.warning("not leading any more (lease %s/%s)", namespace, settings.lease_name)
            daemon.lost_leadership()

        elector.start(started, stopped)
    log.info(
        "serving on http://%s:%d (%d apps; identity %s)",
        settings.host,
        settings.port,
        len(config.apps),
        identity,
    )
    try:
        server.run()
    finally:
        cancelled = daemon.shutdown(settings.grace)
        if elector is not None:
            elector.stop(release=True)
        history.close()
        cluster.close()
        if cancelled:
            log.warning("stopped the running syncs of %s at a safe point", ", ".join(cancelled))
    return 0
