"""``gitops daemon``: flags and environment into :class:`gitops.daemon.runner.DaemonSettings`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from gitops.cli.secrets import ENV_API_TOKEN, ENV_WEBHOOK_SECRET, read_secret
from gitops.cluster.client import SERVICE_ACCOUNT_DIR
from gitops.config import parse_duration


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise click.BadParameter(f"{value!r}: expected HOST:PORT, e.g. 0.0.0.0:8080", param_hint="--listen")
    return host.strip("[]") or "0.0.0.0", int(port)


_F = TypeVar("_F", bound=Callable[..., Any])


def _advertise(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from gitops.daemon.api import valid_advertise_url

    if value and not valid_advertise_url(value):
        raise click.BadParameter(
            f"{value!r}: expected an http(s) URL with a host, e.g. http://10.0.0.7:8080", ctx, param
        )
    return value


def _duration(ctx: click.Context, param: click.Parameter, value: str) -> float:
    """Seconds, or a duration as the config file writes it: ``15``, ``15s``, ``1m30s``."""
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from exc


def _duration_option(flag: str, default: str, help: str) -> Callable[[_F], _F]:
    return click.option(
        flag, callback=_duration, metavar="DURATION", default=default, show_default=True, help=help
    )


_path = click.Path(path_type=Path)


@click.command("daemon")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("gitops.yaml"),
    show_default=True,
    help="The apps config.",
)
@click.option("--listen", default="127.0.0.1:8080", show_default=True, help="HOST:PORT of the HTTP API.")
@click.option("--history", "history_path", type=_path, help="History database [default: the user state dir].")
@click.option("--cache-dir", type=_path, help="Where Git clones are cached [default: the user cache dir].")
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), help="Kubeconfig file.")
@click.option("--context", help="Kubeconfig context.")
@click.option(
    "--in-cluster/--no-in-cluster",
    default=None,
    help="Use the pod's service account [default: when KUBERNETES_SERVICE_HOST is set and no --kubeconfig].",
)
@click.option(
    "--service-account-dir",
    type=_path,
    default=SERVICE_ACCOUNT_DIR,
    show_default=True,
    help="Where the service account's token, ca.crt and namespace are mounted.",
)
@click.option(
    "--leader-elect/--no-leader-elect", default=False, show_default=True, help="Lease-based leader election."
)
@click.option("--lease-name", default="gitops", show_default=True)
@click.option("--lease-namespace", help="[default: the service account's or kubeconfig context's namespace]")
@_duration_option(
    "--lease-duration", "15s", "How long a Lease nobody renews stays held before another replica takes it."
)
@_duration_option(
    "--renew-deadline", "10s", "How long the leader keeps failing to renew before it stops syncing."
)
@click.option(
    "--advertise-url",
    default="",
    callback=_advertise,
    help="Where the other replicas reach this one's API; the leader writes it in its Lease, and a"
    " standby hands webhooks and sync requests to it [default: http://HOST:PORT for one non-loopback"
    " --listen address; for a wildcard one, http://$POD_IP:PORT in a pod; else none].",
)
@_duration_option("--retry-period", "2s", "Between tries to take or renew.")
@click.option(
    "--webhook-secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"[or ${ENV_WEBHOOK_SECRET}]",
)
@click.option(
    "--insecure-webhooks",
    is_flag=True,
    help="Accept unsigned webhooks (only for a network nobody else reaches).",
)
@click.option(
    "--api-token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Bearer token for POST /api/v1/apps/NAME/sync [or ${ENV_API_TOKEN}].",
)
@click.option("--workers", default=4, show_default=True, help="Apps reconciled at once.")
@_duration_option("--grace", "30s", "How long a running sync gets to finish on SIGTERM (e.g. 30s, 2m).")
@click.option(
    "--identity", default="", help="This replica's name in the Lease and Events [default: hostname_pid]."
)
@click.option(
    "--events/--no-events", default=True, show_default=True, help="Post Kubernetes Events for syncs."
)
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info", show_default=True
)
def daemon_cmd(
    config_path: Path,
    listen: str,
    history_path: Path | None,
    cache_dir: Path | None,
    kubeconfig: Path | None,
    context: str | None,
    in_cluster: bool | None,
    service_account_dir: Path,
    leader_elect: bool,
    lease_name: str,
    lease_namespace: str | None,
    lease_duration: float,
    renew_deadline: float,
    retry_period: float,
    advertise_url: str,
    webhook_secret_file: Path | None,
    insecure_webhooks: bool,
    api_token_file: Path | None,
    workers: int,
    grace: float,
    identity: str,
    events: bool,
    log_format: str,
    log_level: str,
) -> None:
    """Keep every app of the config in sync: poll, webhooks, self-heal, HTTP API and metrics.

    Example: gitops daemon --config gitops.yaml --listen 0.0.0.0:8080 --webhook-secret-file secret
    """
    from gitops.daemon.runner import DaemonSettings, run

    host, port = _listen(listen)
    settings = DaemonSettings(
        config_path=config_path,
        host=host,
        port=port,
        history_path=history_path,
        cache_dir=cache_dir,
        kubeconfig=kubeconfig,
        context=context,
        in_cluster=in_cluster,
        service_account_dir=service_account_dir,
        leader_elect=leader_elect,
        lease_name=lease_name,
        lease_namespace=lease_namespace,
        lease_duration=lease_duration,
        renew_deadline=renew_deadline,
        retry_period=retry_period,
        advertise_url=advertise_url,
        webhook_secret=read_secret(webhook_secret_file, ENV_WEBHOOK_SECRET, "webhook secret"),
        webhooks_insecure=insecure_webhooks,
        api_token=read_secret(api_token_file, ENV_API_TOKEN, "API token"),
        workers=workers,
        grace=grace,
        identity=identity,
        events=events,
        log_format=log_format,
        log_level=log_level,
    )
    sys.exit(run(settings))
