"""The ``gitops`` command line (click)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

import gitops


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(gitops.__version__, prog_name="gitops")
def cli() -> None:
    """gitops keeps a Kubernetes cluster equal to Git."""


@cli.group("local-cluster")
def local_cluster() -> None:
    """The local simulated Kubernetes API server (no containers run in it).

    It speaks the Kubernetes 1.32 REST API on 127.0.0.1, so kubectl and any client work against
    it through the kubeconfig it writes.
    """


def _start(  # type: ignore[no-untyped-def]
    port: int,
    state: Path | None,
    kubeconfig: Path | None,
    clock_scale: float,
    nodes: int = 1,
    controllers: bool = True,
    faults: Path | None = None,
    auth: bool = False,
    tls: bool = False,
):
    from gitops.localcluster import LocalCluster
    from gitops.localcluster import faults as fault_injection
    from gitops.localcluster.controllers import Options
    from gitops.localcluster.tls import KeyFileError

    try:  # --- fault injection: --faults FILE
        rules = fault_injection.load_config(faults) if faults is not None else None
    except fault_injection.FaultConfigError as exc:
        raise click.ClickException(f"--faults: {exc}") from exc
    try:
        return LocalCluster(
            port,
            state_file=state,
            kubeconfig=kubeconfig,
            clock_scale=clock_scale,
            controllers=controllers,
            options=Options(nodes=nodes),
            faults=rules,
            auth=auth,
            tls=tls,
        ).start()
    except KeyFileError as exc:  # a kept key or CA file beside --state that cannot be used
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}") from exc


_port = click.option("--port", default=0, show_default=True, help="Port on 127.0.0.1 (0 picks a free one).")
_state = click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep objects in this file across restarts (written atomically; a kill never corrupts it).",
)
_scale = click.option(
    "--clock-scale", default=1.0, show_default=True, help="Simulated seconds per wall second for controllers."
)
_nodes = click.option(
    "--nodes", default=1, show_default=True, help="Simulated Node objects (DaemonSets run one pod each)."
)
_controllers = click.option(
    "--controllers/--no-controllers",
    default=True,
    show_default=True,
    help="Run the simulated controllers (Deployments roll out, pods become ready); off serves the API alone.",
)

_auth = click.option(
    "--auth/--no-auth",
    default=False,
    show_default=True,
    help="Require bearer tokens and authorize with RBAC (the kubeconfig carries the admin token).",
)
_tls = click.option(
    "--tls/--no-tls",
    default=False,
    show_default=True,
    help="Serve HTTPS with a certificate from a CA generated at start (in the kubeconfig).",
)


@local_cluster.command("serve")
@_port
@_state
@click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("local-cluster.kubeconfig"),
    show_default=True,
    help="Where to write the kubeconfig for kubectl and clients.",
)
@_scale
@_nodes
@_controllers
@click.option(  # --- fault injection
    "--faults",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Fault-injection rules to start with (JSON or YAML; see gitops.localcluster.faults); "
    "change them at run time at /debug/faults.",
)
@_auth
@_tls
def serve(
    port: int,
    state: Path | None,
    kubeconfig: Path,
    clock_scale: float,
    nodes: int,
    controllers: bool,
    faults: Path | None,
    auth: bool,
    tls: bool,
) -> None:
    """Serve until interrupted (Ctrl-C).

    Example: gitops local-cluster serve --port 6443 --state cluster.json, then
    kubectl --kubeconfig local-cluster.kubeconfig get namespaces
    """
    # Switch threads more often than CPython's 5 ms default: requests are served by one
    # thread while controllers work in others, and a request should not wait a whole interval.
    sys.setswitchinterval(0.001)
    cluster = _start(port, state, kubeconfig, clock_scale, nodes, controllers, faults, auth, tls)
    click.echo(f"local cluster serving on {cluster.url}; kubeconfig: {cluster.kubeconfig}", err=True)
    try:
        cluster.serve_forever()
    finally:
        cluster.stop()


@local_cluster.command("exec", context_settings={"ignore_unknown_options": True})
@_port
@_state
@_scale
@_nodes
@_controllers
@_auth
@_tls
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def exec_(
    port: int,
    state: Path | None,
    clock_scale: float,
    nodes: int,
    controllers: bool,
    auth: bool,
    tls: bool,
    command: tuple[str, ...],
) -> None:
    """Start a local cluster, run COMMAND with KUBECONFIG pointing at it, then stop.

    Example: gitops local-cluster exec -- kubectl get namespaces
    """
    cluster = _start(port, state, None, clock_scale, nodes, controllers, auth=auth, tls=tls)
    try:
        env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}
        try:
            code = subprocess.call(list(command), env=env)
        except FileNotFoundError as exc:
            raise click.ClickException(f"{command[0]}: command not found") from exc
    finally:
        cluster.stop()
    sys.exit(code)


def _register() -> None:
    from gitops.cli import daemon, notify, sync

    for command in (sync.sync_cmd, sync.diff_cmd, sync.plan_cmd, sync.history_cmd, sync.rollback_cmd):
        cli.add_command(command)
    cli.add_command(daemon.daemon_cmd)
    cli.add_command(notify.notify_cmd)


_register()


def main() -> None:
    cli()
