"""``gitops sync``, ``gitops diff``, ``gitops plan``, ``gitops history`` and ``gitops rollback``.

Exit codes (documented in every ``--help``): 0 synced or nothing to change, 1 the sync failed
or is degraded (``diff``: there are changes), 2 bad input or config, 3 cluster unreachable.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click
import platformdirs
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from gitops import errors
from gitops.cluster import Cluster, ClusterOptions
from gitops.config import App, app_from_config, parse_config
from gitops.engine import Engine, SyncOptions, SyncOutcome
from gitops.git import GitOptions, Source, resolve_local
from gitops.history import History
from gitops.model import Action, Change, SyncRecord, SyncResult, Trigger

DEFAULT_CONFIG = "gitops.yaml"
EXIT_CODES = (
    "Exit codes: 0 ok or no change, 1 sync failed or degraded, 2 bad input or config, 3 cluster unreachable."
)


@dataclass
class Target:
    """Which app(s) and which cluster a command works on."""

    apps: list[App]
    engine: Engine
    close: Callable[[], None]


def _default_local_state() -> Path:
    return platformdirs.user_state_path("gitops") / "local-cluster.json"


_Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _file_option(*names: str, help: str) -> _Decorator:
    return click.option(*names, type=click.Path(dir_okay=False, path_type=Path), help=help)


_HISTORY_DB_OPTION = _file_option("--history-db", help="History database [default: the user state dir].")
_OUTPUT_OPTION = click.option(
    "--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True
)


# What every command that works with a cluster and the history takes: what _connect reads,
# and how the outcome is printed.
_CONNECTION_OPTIONS: list[_Decorator] = [
    _file_option("--kubeconfig", help="Kubeconfig (default: $KUBECONFIG or ~/.kube/config)."),
    click.option("--context", help="Kubeconfig context."),
    click.option("--in-cluster", is_flag=True, help="Use the pod's service account."),
    click.option("--local", is_flag=True, help="Use the embedded local cluster (no Kubernetes needed)."),
    _file_option("--local-state", help="State file of the local cluster [default: the user state dir]."),
    _HISTORY_DB_OPTION,
    _OUTPUT_OPTION,
    click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors."),
]


def _with(options: list[_Decorator], f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` with ``options``, listed in ``--help`` in their order."""
    for option in reversed(options):
        f = option(f)
    return f


def _connection_options(f: Callable[..., Any]) -> Callable[..., Any]:
    return _with(_CONNECTION_OPTIONS, f)


def _app_options(f: Callable[..., Any]) -> Callable[..., Any]:
    options: list[_Decorator] = [
        click.argument("source", required=False),
        click.option(
            "--path",
            "path",
            default=".",
            show_default=True,
            help="Directory of the app inside the repository.",
        ),
        click.option("--revision", default="HEAD", show_default=True, help="Branch, tag or commit to sync."),
        click.option(
            "--app",
            "app_name",
            help="App name (tracking label); default: the directory name, or every app of --config.",
        ),
        click.option(
            "--namespace",
            default="default",
            show_default=True,
            help="Namespace for namespaced objects without one.",
        ),
        _file_option(
            "--config",
            "config_file",
            help="Apps config file [default: ./gitops.yaml when present and no SOURCE is given].",
        ),
        *_CONNECTION_OPTIONS,
    ]
    return _with(options, f)


@contextlib.contextmanager
def _target(params: dict[str, Any]) -> Iterator[Target]:
    if not params["config_file"] and not params["source"] and Path(DEFAULT_CONFIG).is_file():
        params = {**params, "config_file": Path(DEFAULT_CONFIG)}  # ./gitops.yaml, as documented
    if params["config_file"]:
        try:
            text = params["config_file"].read_text()
        except OSError as exc:
            raise errors.ConfigError(f"{params['config_file']}: {exc.strerror or exc}") from exc
        config = parse_config(text, str(params["config_file"]))
        apps = [config.app(params["app_name"])] if params["app_name"] else list(config.apps)
        base = params["config_file"].parent
        apps = [_resolve_repo(a, base) for a in apps]
    else:
        source = params["source"]
        if not source:
            raise errors.ConfigError(
                f"give a repository or directory (SOURCE), --config FILE, or run where {DEFAULT_CONFIG} is"
            )
        name = params["app_name"] or _default_name(source, params["path"])
        apps = [
            _resolve_repo(
                App(
                    name=name,
                    repo=source,
                    revision=params["revision"],
                    path=params["path"],
                    namespace=params["namespace"],
                    # an ad hoc app's prune setting is the flag it runs with (what history keeps)
                    prune=bool(params.get("prune")),
                ),
                Path.cwd(),
            )
        ]
    with _connect(params, apps) as target:
        yield target


@contextlib.contextmanager
def _connect(params: dict[str, Any], apps: list[App]) -> Iterator[Target]:
    """The cluster (``--local``, ``--kubeconfig``/``--context``, ``--in-cluster``) and the
    history (``--history-db``) that a command works with, closed when it ends."""
    stack = contextlib.ExitStack()
    try:
        if params["local"]:
            from gitops.localcluster import LocalCluster

            state = params["local_state"] or _default_local_state()
            state.parent.mkdir(parents=True, exist_ok=True)
            local = stack.enter_context(LocalCluster(state_file=state))
            cluster_opts = ClusterOptions(kubeconfig=local.kubeconfig)
        else:
            cluster_opts = ClusterOptions(
                kubeconfig=params["kubeconfig"], context=params["context"], in_cluster=params["in_cluster"]
            )
        cluster = Cluster.connect(cluster_opts)
        stack.callback(cluster.close)
        history = History.open(params["history_db"])
        stack.callback(history.close)
        yield Target(apps, Engine(cluster, Source(GitOptions()), history), stack.close)
    finally:
        stack.close()


def _default_name(source: str, path: str) -> str:
    import re

    base = Path(path).name if path not in (".", "") else Path(source.rstrip("/")).name.removesuffix(".git")
    name = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-")[:63]
    return name or "app"


def _resolve_repo(app: App, base: Path) -> App:
    """Relative local repository paths are relative to the config file (or the cwd)."""
    return replace(app, repo=resolve_local(app.repo, base))


def _console(params: dict[str, Any]) -> Console:
    return Console(quiet=params["quiet"], highlight=False, soft_wrap=True)


def _fail(exc: errors.GitopsError, output: str) -> None:
    if output == "json":
        click.echo(json.dumps({"error": str(exc)}))
    else:
        click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


PROGRESS_MIN_WRITES = 30  # below this a sync is over before a bar would help


@contextlib.contextmanager
def _progress(console: Console, app: str, *, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar for syncs of more than a few dozen writes, on terminals only."""
    if not enabled or console.quiet or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn(f"syncing {app}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task: list[Any] = []

    def update(done: int, total: int) -> None:
        if total < PROGRESS_MIN_WRITES:
            return
        if not task:
            bar.start()
            task.append(bar.add_task("sync", total=total))
        bar.update(task[0], completed=done)

    try:
        yield update
    finally:
        if task:
            bar.stop()


_ACTION_STYLE = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.PRUNE: "red",
    Action.UNCHANGED: "dim",
    Action.SKIP: "magenta",
}


def _changes_table() -> Table:
    """PHASE, ACTION, OBJECT, DETAILS. Cells are folded, never cut short: an object's name or a
    summary ending in an ellipsis tells a reader in a narrow terminal or a CI log nothing."""
    table = Table(box=None, pad_edge=False)
    for col in ("PHASE", "ACTION", "OBJECT", "DETAILS"):
        table.add_column(col, overflow="fold")
    return table


def _add_change(table: Table, c: Change, details: str) -> None:
    """One row of a changes table: the details are data, escaped (see ``_print_record``)."""
    style = "bold red" if c.error else _ACTION_STYLE[c.action]
    table.add_row(c.phase, f"[{style}]{c.action.value}[/]", str(c.key), escape(details))


def _print_record(console: Console, record: SyncRecord, *, verbose: bool, dry_run: bool = False) -> None:
    # Messages, summaries and errors are data (``containers[name=web]``, a server's words):
    # escaped, so rich never takes a bracketed part of them for markup and drops it.
    shown = [c for c in record.changes if verbose or c.action is not Action.UNCHANGED or c.error]
    if shown:
        table = _changes_table()
        for c in shown:
            details = (
                c.message if c.error else "; ".join(c.summary[:3]) + (" ..." if len(c.summary) > 3 else "")
            )
            _add_change(table, c, details or c.message)
        console.print(table)
    counts = {a: sum(1 for c in record.changes if c.action is a) for a in Action}
    rev = record.revision[:12] if record.revision else "?"
    color = "red" if record.result.failed else "green"
    console.print(
        f"{record.app} @ {rev}: {counts[Action.CREATE]} created, {counts[Action.UPDATE]} updated, "
        f"{counts[Action.PRUNE]} pruned, {counts[Action.UNCHANGED]} unchanged, {counts[Action.SKIP]} skipped "
        f"-> [{color}]{record.result.value}[/]"
        + (f" (history #{record.id})" if record.id else "")
        + (" (dry run: nothing was changed or recorded)" if dry_run else "")
    )
    if record.error:
        console.print(f"[red]error:[/] {escape(record.error)}")
    if record.message:
        console.print(escape(record.message))


@click.command("sync", epilog=EXIT_CODES)
@_app_options
@click.option(
    "--prune/--no-prune",
    default=None,
    help="Delete objects of the app that left Git (default: off here, on in app configs).",
)
@click.option("--allow-empty", is_flag=True, help="Allow syncing (and pruning to) an empty set of objects.")
@click.option(
    "--dry-run", is_flag=True, help="Server-side dry run of every write; nothing is changed or recorded."
)
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Wait for applied workloads to be healthy before the next phase (the health gate).",
)
@click.option("--verbose", "-v", is_flag=True, help="List unchanged objects too.")
def sync_cmd(**params: Any) -> None:
    """Make the cluster equal to SOURCE (a Git repository URL or path, or a plain directory).

    Objects are applied with server-side apply in phases (Namespaces and CRDs, configuration,
    workloads, Services and Ingresses, the rest); with --prune, objects of this app that left
    Git are deleted afterwards. Every sync is recorded in the history.

    Example: gitops sync ./deploy --path apps/web --app web --prune
    """
    output = params["output"]
    console = _console(params)
    worst = 0
    try:
        with _target(params) as target:
            for app in target.apps:
                with _progress(console, app.name, enabled=output == "text") as progress:
                    opts = SyncOptions(
                        dry_run=params["dry_run"],
                        prune=params["prune"],
                        allow_empty=params["allow_empty"] or None,
                        progress=progress,
                        wait=params["wait"],
                    )
                    outcome = target.engine.sync(app, opts)
                _print_outcome(console, outcome, output, params["verbose"], params["dry_run"])
                # 2 for invalid manifests, 3 for an unreachable cluster, 1 for a failed write
                worst = max(worst, outcome.exit_code)
    except errors.GitopsError as exc:
        _fail(exc, output)
    sys.exit(worst)


def _print_outcome(console: Console, outcome: SyncOutcome, output: str, verbose: bool, dry_run: bool) -> None:
    """A sync's record, and the auto-rollback's after it (JSON: under ``rollback``)."""
    record = outcome.record
    if output == "json":
        body = {**record.to_json(), "dryRun": dry_run}
        if outcome.rollback is not None:
            body["rollback"] = outcome.rollback.record.to_json()
            body["rolledBackFrom"] = outcome.rolled_back_from
        click.echo(json.dumps(body))
        return
    _print_record(console, record, verbose=verbose, dry_run=dry_run)
    if outcome.rollback is not None:
        console.print("auto-rollback:")
        _print_record(console, outcome.rollback.record, verbose=verbose)


@click.command("rollback", epilog=EXIT_CODES)
@click.argument("app_name", metavar="APP")
@click.option(
    "--to",
    "to",
    type=int,
    help="History entry to restore [default: the last successful one before the current state].",
)
@_file_option(
    "--config",
    "config_file",
    help="Apps config file (the app's prune rules, rollout policy ...) [default: ./gitops.yaml if it"
    " has APP, else the settings of the app's newest sync, which history keeps].",
)
@_connection_options
@click.option(
    "--prune/--no-prune",
    default=None,
    help="Delete objects of the app that the entry did not have [default: the app's prune setting].",
)
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Wait for restored workloads to be healthy before the next phase (the health gate).",
)
@click.option("--verbose", "-v", is_flag=True, help="List unchanged objects too.")
def rollback_cmd(**params: Any) -> None:
    """Restore APP to the state of a history entry (default: the last successful one before the
    current state), recorded as a new entry with trigger rollback.

    The entry's stored manifests are re-applied exactly (no render, no Git) in phases under
    the health gate, and objects of the app that the entry did not have are pruned when the
    app's prune setting (or --prune) says so, under the usual prune protections. Secret values are never kept in history:
    a Secret whose live values match the entry's fingerprint stays as it is, any other is read
    from Git at the entry's revision and checked; if neither works, nothing is written.

    The app's settings (ignoreDifferences, rollout policy, prune rules) come from --config, or
    ./gitops.yaml when it has APP, or else from history, which keeps them with every sync.

    Example: gitops rollback web --to 12 --kubeconfig ~/.kube/config
    """
    output = params["output"]
    console = _console(params)
    name = params["app_name"]
    try:
        apps = _rollback_config(params["config_file"], name)
        with _connect(params, apps) as target:
            history = target.engine.history
            assert history is not None
            app = apps[0] if apps else _app_from_history(history, name)
            opts = SyncOptions(trigger=Trigger.ROLLBACK, prune=params["prune"], wait=params["wait"])
            outcome = target.engine.rollback(app, params["to"], opts)
        _print_outcome(console, outcome, output, params["verbose"], False)
    except errors.GitopsError as exc:
        _fail(exc, output)
        return
    sys.exit(outcome.exit_code)


def _rollback_config(config_file: Path | None, name: str) -> list[App]:
    """The app ``name`` of --config (which must have it), or of ./gitops.yaml when that has it
    (as ``sync`` reads it); else none, and the rollback takes the app as history keeps it."""
    explicit = config_file is not None
    if config_file is None:
        if not Path(DEFAULT_CONFIG).is_file():
            return []
        config_file = Path(DEFAULT_CONFIG)
    try:
        try:
            text = config_file.read_text()
        except OSError as exc:
            raise errors.ConfigError(f"{config_file}: {exc.strerror or exc}") from exc
        config = parse_config(text, str(config_file))
    except errors.ConfigError as exc:
        if explicit:
            raise
        # Someone else's gitops.yaml (another tool's, or a broken one): not this app's config.
        first = str(exc).splitlines()[0]
        click.echo(f"warning: not using {config_file} ({first}): the app as history keeps it", err=True)
        return []
    if not explicit and all(a.name != name for a in config.apps):
        return []
    return [_resolve_repo(config.app(name), config_file.parent)]


def _app_from_history(history: History, name: str) -> App:
    """The app as its newest sync ran it (settings history keeps: its ignoreDifferences,
    rollout policy and prune rules); for entries older than that, its repository and path."""
    settings = history.settings(name)
    if settings is not None:
        return app_from_config(settings, f"the settings history keeps for {name}")
    last = history.list(name, limit=1)
    if not last:
        raise errors.ConfigError(f"no history of an app named {name}")
    return App(name=name, repo=last[0].repo, path=last[0].path or ".", prune=True)


@click.command(
    "diff", epilog="Exit codes: 0 no changes, 1 changes, 2 bad input or config, 3 cluster unreachable."
)
@_app_options
def diff_cmd(**params: Any) -> None:
    """Show what a sync would change: a unified YAML diff per object (Secret values masked).

    Example: gitops diff ./deploy --path apps/web --app web -o json
    """
    output = params["output"]
    console = _console(params)
    changed = False
    try:
        with _target(params) as target:
            for app in target.apps:
                rendered = target.engine.render(app)
                plan = target.engine.plan(app, rendered, SyncOptions(prune=True))
                # The unified text is made only when printed: JSON output has no use for it.
                entries = [d for phase in plan.phases for d in phase.diffs if d.changed]
                prunes = [c for c in plan.prune if c.action is Action.PRUNE]
                changed = changed or bool(entries) or bool(prunes)
                if output == "json":
                    click.echo(
                        json.dumps(
                            {
                                "app": app.name,
                                "revision": rendered.revision,
                                "changes": [
                                    {
                                        "object": str(d.key),
                                        "action": d.action.value,
                                        "summary": list(d.summary),
                                    }
                                    for d in entries
                                ]
                                + [{"object": str(c.key), "action": "prune", "summary": []} for c in prunes],
                            }
                        )
                    )
                    continue
                for d in entries:
                    console.print(Syntax(d.unified(), "diff", theme="ansi_dark", background_color="default"))
                for c in prunes:
                    console.print(f"[red]- {c.key} (left Git: deleted by a sync with --prune)[/]")
                n = len(entries) + len(prunes)
                console.print(f"{app.name}: {n} object(s) differ" if n else f"{app.name}: no changes")
    except errors.GitopsError as exc:
        _fail(exc, output)
    sys.exit(1 if changed else 0)


@click.command("plan", epilog=EXIT_CODES)
@_app_options
@click.option("--prune/--no-prune", default=None, help="Plan prune too (default: the app's setting).")
def plan_cmd(**params: Any) -> None:
    """Show what a sync would do, phase by phase, without writing anything."""
    output = params["output"]
    console = _console(params)
    try:
        with _target(params) as target:
            for app in target.apps:
                rendered = target.engine.render(app)
                plan = target.engine.plan(app, rendered, SyncOptions(prune=params["prune"]))
                if output == "json":
                    click.echo(
                        json.dumps(
                            {
                                "app": app.name,
                                "revision": rendered.revision,
                                "changes": [c.to_json() for c in plan.changes],
                            }
                        )
                    )
                    continue
                table = _changes_table()
                for c in plan.changes:
                    _add_change(table, c, "; ".join(c.summary[:3]) or c.message)
                console.print(table)
                console.print(f"{app.name} @ {rendered.revision[:12]}: {plan.writes} write(s) planned")
    except errors.GitopsError as exc:
        _fail(exc, output)


@click.command("history", epilog=EXIT_CODES)
@click.argument("args", nargs=-1, metavar="[APP | show ID]")
@click.option("--limit", default=20, show_default=True, help="How many entries to list.")
@_HISTORY_DB_OPTION
@_OUTPUT_OPTION
def history_cmd(args: tuple[str, ...], limit: int, history_db: Path | None, output: str) -> None:
    """List recorded syncs, newest first (every app, or APP); `history show ID` shows one in full.

    Options go before or after the arguments. Example: gitops history web --limit 5 -o json

    (One command rather than a group with a subcommand: a group's optional APP argument would
    swallow the word ``show``, and options after APP would be taken for a subcommand.)
    """
    if args and args[0] == "show":
        if len(args) != 2 or not args[1].isdigit():
            raise click.UsageError("show takes the number of a history entry: gitops history show ID")
        _history_show(int(args[1]), history_db, output)
        return
    if len(args) > 1:
        raise click.UsageError(f"expected at most one APP, got {' '.join(args)}")
    app = args[0] if args else None
    try:
        history = History.open(history_db)
        try:
            records = history.list(app, limit=limit)
        finally:
            history.close()
    except errors.GitopsError as exc:
        _fail(exc, output)
    if output == "json":
        click.echo(json.dumps([r.to_json() for r in records]))
        return
    table = Table(box=None, pad_edge=False)
    for col in ("ID", "APP", "TRIGGER", "RESULT", "REVISION", "STARTED", "CHANGES", "SUBJECT"):
        table.add_column(col, overflow="fold")  # folded in a narrow terminal, never cut short
    for r in records:
        writes = sum(1 for c in r.changes if c.action.writes)
        color = "red" if r.result.failed else ("dim" if r.result is SyncResult.NO_CHANGE else "green")
        table.add_row(
            str(r.id),
            r.app,
            r.trigger.value,
            f"[{color}]{r.result.value}[/]",
            r.revision[:12],
            r.started,
            str(writes),
            escape(r.subject[:50]),
        )
    Console(highlight=False).print(table)


def _history_show(id: int, history_db: Path | None, output: str) -> None:
    """One recorded sync in full."""
    try:
        history = History.open(history_db)
        try:
            record = history.get(id)
        finally:
            history.close()
    except errors.GitopsError as exc:
        _fail(exc, output)
    if record is None:
        _fail(errors.ConfigError(f"no history entry {id}"), output)
        return
    if output == "json":
        click.echo(json.dumps(record.to_json()))
        return
    console = Console(highlight=False)
    console.print(
        f"sync #{record.id} of {record.app} ({record.trigger.value}) {record.started} -> {record.finished}"
    )
    console.print(escape(f"repo {record.repo} path {record.path} revision {record.revision}"))
    if record.subject:
        console.print(escape(f"commit by {record.author} on {record.commit_date}: {record.subject}"))
    _print_record(console, record, verbose=True)
