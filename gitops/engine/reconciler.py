"""One sync end to end: source, render, validate, live set, plan, execute, record.

The steps (DESIGN.md "How data flows"), each safe to re-run: a crash or restart mid-sync resumes
by recomputing from Git and the cluster, never from half-written local state.

1. **Source**: the app's repository at its revision (a commit SHA, or ``dir:<hash>`` for a
   plain directory), exported to a temporary tree.
2. **Render and validate**: every document, every problem listed; one invalid document refuses
   the whole sync and nothing is written.
3. **Live set**: one LIST per kind the app uses or has used (from its last history entry),
   filtered by the app's tracking label; a desired object not found that way is looked up by
   name (it may exist without the label: adoption), which only happens for creates.
4. **Plan**: pairs, phases, prune candidates (``gitops.plan``).
5. **Execute**: server-side apply of what changed, in parallel within a phase (bounded); a phase
   starts when the previous one is applied, and CRDs are Established before anything later;
   the first failed phase stops the sync. Prune runs last, in reverse phase order.
   A phase with workloads is applied in order under the health gate (``gitops.engine.rollout``):
   every applied Deployment, StatefulSet, DaemonSet and Job must become healthy (watched, fail
   fast when Degraded, bounded by the app's rollout timeout) before the next phase, with at
   most ``maxConcurrent`` Deployments rolling out at once. Deployments without a strategy get
   the app's rollout policy in step 4 (an invalid one refuses the plan).
6. **Record**: a history entry whatever the outcome; the rendered manifests of a successful
   sync are kept for rollback (Secrets as keyed fingerprints, never values:
   ``gitops.engine.restore``).

Beyond one sync (issue 5): with the app's ``autoRollback``, workloads that fail the health gate
are restored from the last successful sync's manifests as an entry of its own
(:meth:`Engine.sync`); :meth:`Engine.rollback` restores a whole entry through the same plan
and execute path; ``SyncOptions.cancel`` stops the health gate's waits at once (a newer
revision arrived).

Secret values never leave this module in a message: server errors are scrubbed of every value
the desired Secrets carry, raw or base64.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gitops import errors, manifests
from gitops import plan as plan_mod
from gitops.cluster import Cluster
from gitops.config import App, app_to_config
from gitops.diff import canonical_json as diff_canonical_json
from gitops.diff import views as diff_views
from gitops.engine import restore, rollout
from gitops.engine.cancel import Cancel
from gitops.engine.threads import carrying_context
from gitops.git import Source, redact_url
from gitops.history import History
from gitops.model import (
    Action,
    Change,
    ChangeSet,
    Health,
    HealthState,
    Resource,
    ResourceKey,
    SyncRecord,
    SyncResult,
    Trigger,
)
from gitops.plan import Plan, pruning

log = logging.getLogger(__name__)

# Above this many missing objects of one kind, one unfiltered LIST beats a GET per object.
_GET_THRESHOLD = 10


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class SyncOptions:
    """How one sync runs. ``prune``/``allow_empty`` None means the app's own setting."""

    dry_run: bool = False  # server-side dry run of every write; nothing persists, no history
    prune: bool | None = None
    allow_empty: bool | None = None
    trigger: Trigger = Trigger.CLI
    parallelism: int = 8  # concurrent writes within a phase
    schema: bool = True  # schema-validate built-in kinds before any write
    crd_timeout: float = 60.0  # seconds to wait for applied CRDs to be Established
    # Wait for applied workloads to be healthy before the next phase (the health gate; the
    # app's rollout policy bounds it). Off only for clusters without controllers.
    wait: bool = True
    # Called with (writes done, writes planned) as the sync goes (the CLI's progress bar).
    progress: Callable[[int, int], None] | None = None
    # Cancelled (from any thread) when a newer revision arrived, or for the reason given: the
    # health gate's waits stop at once, and the sync ends Failed ("cancelled: <reason> while
    # waiting for <object>") before Services and prune, with no auto-rollback. Checked
    # before each phase and before prune too.
    cancel: Cancel | None = None
    # Called with the history entry's id as soon as it exists, on the sync's thread (the
    # daemon puts it on every log line of the sync).
    on_begin: Callable[[int], None] | None = None


@dataclass(frozen=True)
class Rendered:
    """An app's desired state at one revision."""

    revision: str
    author: str
    commit_date: str
    subject: str
    resources: tuple[Resource, ...]


@dataclass(frozen=True)
class SyncOutcome:
    """The history record of a sync and the plan it executed (None when it failed before).

    ``stopped_by`` is the class of the error that stopped the sync as a whole (invalid manifests,
    an unreachable cluster or repository, a refused plan); None when the sync ran to its end,
    whatever its writes did (a refused write is an entry of ``record.changes``). Only the class
    is kept: the message, scrubbed of Secret values, is ``record.error``, and an exception
    object here could carry an unscrubbed one to a log.

    ``rollback`` is the outcome of the auto-rollback that followed this failed sync (its own
    history entry, trigger ``auto-rollback``; its ``record.result`` says whether the workloads
    are healthy again), None when none ran (``record.message`` then says why, when it was
    wanted). ``rolled_back_from`` is this sync's revision when an auto-rollback ran, '' else:
    a daemon shows "rolled back from REV, waiting for a new commit" and does not sync that
    revision again. ``cancelled`` is True when ``SyncOptions.cancel`` stopped the sync.
    """

    record: SyncRecord
    plan: Plan | None = None
    stopped_by: type[errors.GitopsError] | None = None
    rollback: SyncOutcome | None = None
    cancelled: bool = False

    @property
    def rolled_back_from(self) -> str:
        return self.record.revision if self.rollback is not None else ""

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: the stopping error's (2 bad input, 3 cluster unreachable, ...),
        else the result's (0 ok or no change, 1 failed or degraded)."""
        if self.stopped_by is not None:
            return self.stopped_by.exit_code
        return self.record.result.exit_code


@dataclass(frozen=True)
class _Executed:
    """What executing a plan did: every change, whether it failed, and the error when no
    change carries it. ``unhealthy``: the workloads applied and not healthy when the health
    gate failed (empty when a write failed or the wait was cancelled)."""

    changes: list[Change]
    failed: bool
    error: str = ""
    unhealthy: tuple[ResourceKey, ...] = ()
    cancelled: bool = False


@dataclass(frozen=True)
class _AutoRollback:
    """What an auto-rollback restores (``target``'s stored bodies of ``resources``), and the
    note for the failed entry."""

    note: str
    target: SyncRecord | None
    resources: tuple[Resource, ...]


@dataclass(frozen=True)
class _RolledOut:
    results: dict[ResourceKey, Change]
    unhealthy: tuple[ResourceKey, ...] = ()
    cancelled: bool = False


def _short(revision: str) -> str:
    return revision[:8] if revision else "?"


class Engine:
    """Syncs apps from their sources into one cluster, recording each sync in ``history``."""

    def __init__(self, cluster: Cluster, source: Source, history: History | None = None) -> None:
        self.cluster = cluster
        self.source = source
        self.history = history
        # Per app, the diffs of its last plan (an engine that lives on, as the daemon's, diffs
        # only what changed since). One plan of an app at a time: the daemon runs one per app.
        self._memos: dict[str, plan_mod.DiffMemo] = {}
        self._memos_lock = threading.Lock()

    # ----------------------------------------------------------------------------- stages

    def render(self, app: App, *, schema: bool = True) -> Rendered:
        """Steps 1-2: the app's validated objects at its revision (raises on any problem)."""
        with self.source.checkout(app.repo, app.revision, app.path) as checkout:
            root = Path(checkout.root)
            app_path = str(Path(checkout.path).relative_to(root)) if Path(checkout.path) != root else "."
            loaded = manifests.load(
                root, app_path, manifests.LoadOptions(helm_release=app.name, helm_namespace=app.namespace)
            )
            commit = checkout.commit
        # Asked once per kind, not per object: a kind the server does not know yet (its CRD is
        # in this set) re-discovers at every miss.
        scope = functools.cache(self.cluster.scope)
        resources = manifests.validate(loaded, scope=scope, default_namespace=app.namespace, schema=schema)
        self._check_scope(app, resources)
        return Rendered(commit.sha, commit.author, commit.date, commit.subject, tuple(resources))

    def _check_scope(self, app: App, resources: Sequence[Resource]) -> None:
        problems = []
        for r in resources:
            if not r.key.namespace:
                if not app.cluster_scoped:
                    problems.append(
                        f"{r.origin}: {r.key}: cluster-scoped objects are not allowed for app {app.name}"
                    )
            elif app.allowed_namespaces and r.key.namespace not in app.allowed_namespaces:
                allowed = ", ".join(app.allowed_namespaces)
                problems.append(
                    f"{r.origin}: {r.key}: namespace {r.key.namespace} is not allowed for app {app.name} "
                    f"(allowed: {allowed})"
                )
        if problems:
            raise errors.ConfigError("\n".join(problems))

    def live(
        self, app: App, desired: Sequence[Resource], *, past_kinds: bool = True
    ) -> dict[ResourceKey, dict[str, Any]]:
        """Step 3: the app's objects, one LIST per kind used now or in the last recorded sync
        (``past_kinds`` False: the kinds of ``desired`` only, for a plan that prunes nothing).

        An app confined to ``allowedNamespaces`` LISTs a namespaced kind once per allowed
        namespace instead of across the cluster: it may be running with only namespaced RBAC
        (the Helm chart's default Roles), which cannot list across namespaces; an object in
        another namespace is not the app's anyway (the plan refuses it)."""
        kinds = {(r.key.group, r.key.kind) for r in desired}
        if self.history is not None and past_kinds:
            kinds |= self.history.last_kinds(app.name)
        # Discovery once for all kinds, re-discovered once when one is unknown (new CRDs), as
        # resource_for does for one: asking it per kind and per object re-discovered per miss.
        discovered = self.cluster.resources()
        if not kinds <= discovered.keys():
            discovered = self.cluster.resources(refresh=True)
        selector = f"{pruning.TRACKING_LABEL}={app.name}"
        found: dict[ResourceKey, dict[str, Any]] = {}

        def scopes(gk: tuple[str, str], wanted: Sequence[str] = ()) -> list[str]:
            res = discovered.get(gk)
            if not app.allowed_namespaces or res is None or not res.namespaced:
                return [""]
            return (
                sorted(set(wanted) & set(app.allowed_namespaces)) if wanted else list(app.allowed_namespaces)
            )

        listings = [(gk, ns) for gk in sorted(kinds) if gk in discovered for ns in scopes(gk)]

        def one_list(item: tuple[tuple[str, str], str]) -> list[dict[str, Any]]:
            (group, kind), ns = item
            return self.cluster.list(group, kind, selector, namespace=ns)

        with ThreadPoolExecutor(max_workers=8) as pool:
            for items in pool.map(carrying_context(one_list), listings):
                for obj in items:
                    found[ResourceKey.of(obj)] = obj
        # Desired objects missing from the labelled LISTs may exist without our label (adoption).
        # A few are looked up one by one; many of one kind (a first sync) cost one unfiltered
        # LIST of that kind instead of a GET each.
        missing: dict[tuple[str, str], list[ResourceKey]] = {}
        for r in desired:
            gk = (r.key.group, r.key.kind)
            if r.key not in found and gk in discovered:
                missing.setdefault(gk, []).append(r.key)

        def adopt(gk: tuple[str, str]) -> list[tuple[ResourceKey, dict[str, Any]]]:
            keys = missing[gk]
            if len(keys) > _GET_THRESHOLD:
                wanted = set(keys)
                return [
                    (k, o)
                    for ns in scopes(gk, [k.namespace for k in keys])
                    for o in self.cluster.list(gk[0], gk[1], namespace=ns)
                    if (k := ResourceKey.of(o)) in wanted
                ]
            out = []
            for key in keys:
                current = self.cluster.get(key)
                if current is not None:
                    out.append((key, current))
            return out

        if missing:
            with ThreadPoolExecutor(max_workers=8) as pool:
                for pairs in pool.map(carrying_context(adopt), sorted(missing)):
                    found.update(pairs)
        return found

    def plan(
        self, app: App, rendered: Rendered, options: SyncOptions | None = None, *, partial: bool = False
    ) -> Plan:
        """Step 4. ``partial``: ``rendered`` is part of the app (an auto-rollback's workloads):
        only its kinds are LISTed, nothing is pruned nor listed as a prune candidate, and its
        diffs do not replace the app's memo of its last full plan."""
        opts = options or SyncOptions()
        # The rollout policy is part of the desired state (refused here, before any write).
        desired = rollout.with_strategy(rendered.resources, app.rollout)
        live = self.live(app, desired, past_kinds=not partial)
        memo = None
        if not partial:
            with self._memos_lock:
                memo = self._memos.setdefault(app.name, plan_mod.DiffMemo())
        try:
            planned = plan_mod.plan(
                desired,
                live,
                app=app.name,
                manager=app.manager,
                prune=not partial and (app.prune if opts.prune is None else opts.prune),
                allow_empty=partial or (app.allow_empty if opts.allow_empty is None else opts.allow_empty),
                prune_allowed_kinds=app.prune_kinds,
                ignore=app.ignore_differences,
                memo=memo,
            )
        finally:
            if memo is not None:
                memo.rotate()
        return replace(planned, prune=()) if partial else planned

    # ------------------------------------------------------------------------------- sync

    def sync(
        self, app: App, options: SyncOptions | None = None, rendered: Rendered | None = None
    ) -> SyncOutcome:
        """Steps 1-6. Never raises for a failed sync: the outcome's record says what happened
        (result Failed, the error, the changes made before it); raises only for errors of the
        history itself. ``rendered``: a render of ``app`` the caller already holds (the
        daemon's drift check of the same commit), used instead of reaching Git again.

        With ``app.rollout.auto_rollback``, a sync whose workloads fail the health gate
        (Degraded, or not healthy by the timeout; not a refused write, not a cancelled wait)
        is followed by an auto-rollback (:meth:`_auto_rollback`): its own history entry, in
        the outcome's ``rollback``."""
        opts = options or SyncOptions()

        def produce() -> Rendered:
            return rendered if rendered is not None else self.render(app, schema=opts.schema)

        return self._run(app, opts, produce, auto_rollback=True)

    def rollback(self, app: App, to: int | None = None, options: SyncOptions | None = None) -> SyncOutcome:
        """Restore the state of history entry ``to`` (default: the newest successful entry
        before the current one whose manifests differ from it; the current one is the newest
        successful entry with manifests), recorded as a new entry with trigger ``rollback``
        (whatever ``options.trigger`` says: the CLI and the daemon's API both call this).

        The stored manifests are re-applied exactly (no render, no Git) through the same plan
        and execute path as a sync: phases, the rollout policy and health gate, and prune of
        what the entry did not have (the app's prune setting, or ``options.prune``, under the
        usual prune protections). Secret values are not in history: see
        :mod:`gitops.engine.restore` for how they come back (live values matching the stored
        fingerprint, else Git at the entry's revision, else the rollback fails before any
        write, naming the Secret).

        Raises RestoreError (a ConfigError) when there is no such entry or nothing to return
        to, before anything is recorded; any later failure is the outcome's record, as for
        :meth:`sync`."""
        opts = replace(options or SyncOptions(), trigger=Trigger.ROLLBACK)
        history = self.history
        if history is None:
            raise restore.RestoreError(f"{app.name}: rollback needs the sync history")
        target = self._rollback_target(history, app, to)
        stored = history.manifests(target.id)
        assert stored is not None  # _rollback_target only returns entries with manifests
        source_app = replace(app, revision=target.revision, path=target.path or app.path)
        where = f"revision {_short(target.revision)} of {redact_url(app.repo)}"
        resources = restore.stored_resources(stored)

        def produce() -> Rendered:
            resolved = resources
            if any(restore.needs_values(r) for r in resources):
                resolved = restore.resolve_secrets(
                    resources,
                    history.fingerprint_key,
                    self.cluster.get,
                    lambda: {r.key: r for r in self.render(source_app, schema=False).resources},
                    where,
                )
            return Rendered(
                target.revision, target.author, target.commit_date, target.subject, tuple(resolved)
            )

        def describe(result: SyncResult) -> str:
            done = "restored" if not result.failed else "tried to restore"
            return f"{done} history #{target.id} (revision {_short(target.revision)})"

        return self._run(source_app, opts, produce, describe=describe)

    def _rollback_target(self, history: History, app: App, to: int | None) -> SyncRecord:
        if to is not None:
            record = history.get(to)
            if record is None or record.app != app.name:
                raise restore.RestoreError(f"{app.name}: no history entry #{to} of this app")
            if record.result.failed or history.manifests_digest(to) is None:
                raise restore.RestoreError(
                    f"{app.name}: history entry #{to} ({record.result.value}, trigger {record.trigger.value}) "
                    "has no stored manifests to restore: only successful full syncs do"
                )
            return record
        current = history.restorable(app.name)
        if current is None:
            raise restore.RestoreError(f"{app.name}: no successful sync in history to roll back to")
        digest = history.manifests_digest(current.id)
        candidate = history.restorable(app.name, before=current.id, other_than=digest)
        if candidate is None:
            raise restore.RestoreError(
                f"{app.name}: no successful sync before history #{current.id} with other manifests "
                "to roll back to"
            )
        return candidate

    def _run(
        self,
        app: App,
        opts: SyncOptions,
        produce: Callable[[], Rendered],
        *,
        auto_rollback: bool = False,
        describe: Callable[[SyncResult], str] | None = None,
        partial: bool = False,
    ) -> SyncOutcome:
        """One recorded sync of what ``produce`` returns (rendered from Git, or restored from
        history): begin, plan, execute, finish. ``partial``: what ``produce`` returns is part of
        the app (an auto-rollback's workloads): it is applied and nothing is pruned; its entry
        then keeps no manifests, as it is no full state.
        ``describe`` gives the record's message from its result."""
        started = _now()
        record = SyncRecord(
            app=app.name,
            trigger=opts.trigger,
            started=started,
            result=SyncResult.FAILED,
            repo=redact_url(app.repo),
            path=app.path,
        )
        entry = None
        if self.history is not None and not opts.dry_run:
            entry = self.history.begin(
                app.name,
                opts.trigger,
                repo=app.repo,
                path=app.path,
                started=started,
                # the app's own, not this run's overrides (--no-prune, an auto-rollback's)
                settings=app_to_config(app),
            )
            if opts.on_begin is not None:
                opts.on_begin(entry)
        outcome_plan: Plan | None = None
        manifests_out: list[dict[str, Any]] | None = None
        secrets: list[str] = []
        stopped_by: type[errors.GitopsError] | None = None
        executed: _Executed | None = None
        rendered: Rendered | None = None
        try:
            rendered = produce()
            record = replace(
                record,
                revision=rendered.revision,
                author=rendered.author,
                commit_date=rendered.commit_date,
                subject=rendered.subject,
            )
            secrets = _secret_values(rendered.resources)
            outcome_plan = self.plan(app, rendered, opts, partial=partial)
            executed = self._execute(outcome_plan, app, opts, secrets)
            changes = executed.changes
            if executed.failed:
                result = SyncResult.FAILED
                error = next((c.message for c in changes if c.error), executed.error or "a write failed")
            else:
                result = SyncResult.NO_CHANGE if outcome_plan.is_noop else SyncResult.SUCCEEDED
                error = ""
                if not partial:
                    # The key file is made on first use: only for an app that stores Secrets.
                    has_secrets = any(
                        restore.is_secret(o.key) for p in outcome_plan.phases for o in p.objects
                    )
                    key = (
                        self.history.fingerprint_key
                        if self.history is not None and entry is not None and has_secrets
                        else None
                    )
                    manifests_out = [
                        restore.for_history(o, key) for p in outcome_plan.phases for o in p.objects
                    ]
            record = replace(record, result=result, changes=ChangeSet(tuple(changes)), error=error)
        except errors.GitopsError as exc:
            record = replace(record, result=SyncResult.FAILED, error=_scrub(str(exc), secrets))
            stopped_by = type(exc)
        if describe is not None:
            record = replace(record, message=describe(record.result))
        prepared: _AutoRollback | None = None
        if (
            auto_rollback
            and app.rollout.auto_rollback
            and executed is not None
            and rendered is not None
            and executed.unhealthy
            and entry is not None
            and outcome_plan is not None
            and not (opts.cancel is not None and opts.cancel.is_set())  # a cancel wins
        ):
            applied = {o.key: o for p in outcome_plan.phases for o in p.objects}
            prepared = self._prepare_auto_rollback(app, executed.unhealthy, rendered.revision, applied)
            record = replace(record, message=prepared.note)
        record = replace(record, finished=_now())
        if self.history is not None and entry is not None:
            record = self.history.finish(entry, record, manifests_out)
        outcome = SyncOutcome(
            record, outcome_plan, stopped_by, cancelled=bool(executed and executed.cancelled)
        )
        if prepared is not None and prepared.target is not None and prepared.resources:
            outcome = replace(outcome, rollback=self._auto_rollback(app, opts, prepared, record))
        return outcome

    def _prepare_auto_rollback(
        self,
        app: App,
        unhealthy: Sequence[ResourceKey],
        bad_revision: str,
        applied: Mapping[ResourceKey, Resource],
    ) -> _AutoRollback:
        """What an auto-rollback of ``unhealthy`` would restore, and the note for the failed
        entry: which workloads go back to which entry, or why none does (nothing is deleted:
        a workload new in this commit is left as it is; one whose stored manifest is what was
        just applied has nothing to go back to: the failure is not the commit's, e.g. a
        re-sync of the same revision while a registry is down)."""
        assert self.history is not None
        names = ", ".join(str(k) for k in unhealthy)
        target = self.history.restorable(app.name)
        stored = self.history.manifests(target.id) if target is not None else None
        if target is None or stored is None:
            return _AutoRollback(
                f"no auto-rollback of {names}: no earlier successful sync to roll back to", None, ()
            )
        by_key = {r.key: r for r in restore.stored_resources(stored)}
        unchanged = [
            k
            for k in unhealthy
            if k in by_key
            and k in applied
            and diff_canonical_json(by_key[k].body) == diff_canonical_json(applied[k].body)
        ]
        found = tuple(by_key[k] for k in unhealthy if k in by_key and k not in unchanged)
        new = [str(k) for k in unhealthy if k not in by_key]
        parts = []
        if found:
            keys = ", ".join(str(r.key) for r in found)
            parts.append(
                f"auto-rollback of {keys} from {_short(bad_revision)} to {_short(target.revision)} "
                f"(history #{target.id}) follows"
            )
        else:
            parts.append("no auto-rollback")
        if new:
            parts.append(
                f"{', '.join(new)} not rolled back: new in this commit (not in history #{target.id}), "
                "left as it is"
            )
        if unchanged:
            parts.append(
                f"{', '.join(str(k) for k in unchanged)} not rolled back: history #{target.id} has the "
                "same manifest (the failure is not this commit's)"
            )
        return _AutoRollback("; ".join(parts), target, found)

    def _auto_rollback(
        self, app: App, opts: SyncOptions, prepared: _AutoRollback, failed: SyncRecord
    ) -> SyncOutcome:
        """Re-apply the stored manifests of the workloads that failed, wait for them under the
        same health gate, and record it as its own entry (trigger auto-rollback)."""
        target = prepared.target
        assert target is not None
        keys = ", ".join(str(r.key) for r in prepared.resources)
        resources = prepared.resources

        def produce() -> Rendered:
            return Rendered(target.revision, target.author, target.commit_date, target.subject, resources)

        def describe(result: SyncResult) -> str:
            done = "rolled back" if not result.failed else "failed to roll back"
            return (
                f"{done} {keys} from {_short(failed.revision)} to {_short(target.revision)} "
                f"(history #{target.id}); the failed sync is #{failed.id}"
            )

        rollback_opts = replace(opts, trigger=Trigger.AUTO_ROLLBACK, prune=False, progress=None)
        return self._run(
            app,
            rollback_opts,
            produce,
            describe=describe,
            partial=True,
        )

    def _execute(self, plan: Plan, app: App, opts: SyncOptions, secrets: list[str]) -> _Executed:
        changes: list[Change] = []
        pretend = _created_in_pretence(plan) if opts.dry_run else None
        total, done = plan.writes, [0]
        done_lock = threading.Lock()

        def tick() -> None:
            if opts.progress is not None:
                with done_lock:
                    done[0] += 1
                    opts.progress(done[0], total)

        def not_reached(index: int, why: str) -> list[Change]:
            """The writes of phases after ``index`` and the prunes, which a failure stopped: in
            the record as SKIP with the reason, so it says what was not done."""
            later = [c for p in plan.phases[index + 1 :] for c in p.changes] + list(plan.prune)
            return [
                replace(
                    c,
                    action=Action.SKIP,
                    message=f"not {'pruned' if c.action is Action.PRUNE else 'applied'}: {why}",
                )
                for c in later
                if c.action.writes
            ]

        for index, phase in enumerate(plan.phases):
            if opts.cancel is not None and opts.cancel.is_set():
                reason = f"cancelled: {opts.cancel.reason} before the {phase.phase.label} phase"
                return _Executed(
                    changes + not_reached(index - 1, reason),
                    True,
                    reason,
                    cancelled=True,
                )
            to_apply = {o.key: o for o in phase.to_apply()}

            def apply_one(item: tuple[Resource, Change]) -> Change:
                resource, change = item
                reason = pretend.blocks(resource.key) if pretend is not None else None
                if reason is not None:
                    return replace(change, message=f"not dry-run on the server: {reason}")
                body = _respect_ignores(resource, change, app)
                try:
                    self.cluster.apply(body, manager=app.manager, force=True, dry_run=opts.dry_run)
                    return change
                except errors.ApplyError as exc:
                    if not _immutable(exc):
                        return replace(change, message=_scrub(str(exc), secrets), error=True)
                    if not app.recreate_on_immutable or opts.dry_run:
                        hint = (
                            " (an immutable field changed: the object must be deleted and recreated;"
                            " set recreateOnImmutable: true for this app to let gitops do it)"
                        )
                        return replace(change, message=_scrub(str(exc), secrets) + hint, error=True)
                    try:
                        self._recreate(resource.key, body, app)
                        return replace(change, message="recreated: an immutable field changed")
                    except errors.GitopsError as again:
                        return replace(change, message=_scrub(str(again), secrets), error=True)
                except errors.GitopsError as exc:
                    return replace(change, message=_scrub(str(exc), secrets), error=True)

            work = [(to_apply[c.key], c) for c in phase.changes if c.key in to_apply]
            results: dict[ResourceKey, Change] = {}
            gated = opts.wait and not opts.dry_run and any(rollout.is_workload(r.key) for r, _ in work)
            rolled = _RolledOut({})

            def apply_and_tick(item: tuple[Resource, Change]) -> Change:
                return _then(apply_one(item), tick)

            if gated:
                rolled = self._roll_out(work, apply_and_tick, app, opts.cancel)
                results = rolled.results
            elif work:
                with ThreadPoolExecutor(max_workers=max(1, opts.parallelism)) as pool:
                    results = {c.key: c for c in pool.map(carrying_context(apply_and_tick), work)}
            phase_changes = [results.get(c.key, c) for c in phase.changes]
            changes.extend(phase_changes)
            if rolled.cancelled or any(c.error for c in phase_changes):
                why = (
                    "the sync was cancelled" if rolled.cancelled else f"the {phase.phase.label} phase failed"
                )
                return _Executed(
                    changes + not_reached(index, why),
                    True,
                    f"cancelled: {opts.cancel.reason}" if rolled.cancelled and opts.cancel else "",
                    unhealthy=rolled.unhealthy,
                    cancelled=rolled.cancelled,
                )
            applied_crds = [
                k
                for k in to_apply
                if k.group == "apiextensions.k8s.io" and k.kind == "CustomResourceDefinition"
            ]
            if applied_crds and not opts.dry_run:
                failure = self._wait_established(applied_crds, opts.crd_timeout)
                if failure is not None:
                    changes.append(
                        Change(
                            failure,
                            Action.SKIP,
                            phase.phase.label,
                            message=f"{failure}: not Established within {opts.crd_timeout:g}s",
                            error=True,
                        )
                    )
                    return _Executed(changes + not_reached(index, f"{failure} is not Established"), True)
                self.cluster.resources(refresh=True)
        if (
            opts.cancel is not None
            and opts.cancel.is_set()
            and any(c.action is Action.PRUNE for c in plan.prune)
        ):
            reason = f"cancelled: {opts.cancel.reason} before prune"
            return _Executed(
                changes + not_reached(len(plan.phases) - 1, reason), True, reason, cancelled=True
            )
        for change in plan.prune:
            if change.action is not Action.PRUNE:
                changes.append(change)
                continue
            try:
                self.cluster.delete(change.key, propagation="Background", dry_run=opts.dry_run)
                changes.append(change)
                tick()
            except errors.GitopsError as exc:
                changes.append(replace(change, message=_scrub(str(exc), secrets), error=True))
                return _Executed(changes, True)
        return _Executed(changes, False)

    def _roll_out(
        self,
        work: Sequence[tuple[Resource, Change]],
        apply_one: Callable[[tuple[Resource, Change]], Change],
        app: App,
        cancel: Cancel | None = None,
    ) -> _RolledOut:
        """Apply a phase with workloads in order and wait for each applied workload to be
        healthy (the health gate), with at most ``maxConcurrent`` Deployments rolling out at
        once (0: no limit): the next Deployment is applied when a slot frees. The first failed
        rollout or write stops the phase: what was not applied yet says so, and the failed
        workload's change carries the error (naming it and its pods' state). ``cancel`` set
        stops every wait at once (and the phase: nothing more is applied).

        The result's ``unhealthy`` lists, when the gate failed a workload, every workload this
        phase applied that was not healthy by then (what an auto-rollback restores)."""
        limit = app.rollout.max_concurrent
        gate = rollout.Gate(self.cluster, app.rollout.timeout)
        cond = threading.Condition()
        rolling = [0]  # Deployments applied and not yet healthy
        pending = [0]  # workloads applied and not yet healthy
        failure: list[ResourceKey] = []
        gate_failed = [False]
        cancelled = [False]
        healthy: set[ResourceKey] = set()
        results: dict[ResourceKey, Change] = {}
        waiters = ThreadPoolExecutor(max_workers=max(1, len(work)), thread_name_prefix="gitops-rollout")

        def on_cancel(reason: str) -> None:
            # On the cancelling thread: the gate first, so a wait ending now says it was cancelled.
            gate.cancel(reason)
            with cond:
                cancelled[0] = True
                cond.notify_all()

        unsubscribe = cancel.subscribe(on_cancel) if cancel is not None else None

        def wait_healthy(key: ResourceKey, slot: bool) -> None:
            try:
                verdict = gate.wait(key)
            except errors.GitopsError as exc:
                verdict = rollout.Verdict(key, Health(HealthState.UNKNOWN, str(exc)), f"{key}: {exc}")
            with cond:
                pending[0] -= 1
                if slot:
                    rolling[0] -= 1
                if verdict.ok:
                    healthy.add(key)
                if not verdict.ok:
                    if not failure:
                        failure.append(key)
                        gate_failed[0] = not verdict.cancelled
                        cancelled[0] = cancelled[0] or verdict.cancelled
                        results[key] = replace(results[key], message=verdict.message, error=True)
                elif results[key].action in (Action.CREATE, Action.UPDATE) and not results[key].message:
                    results[key] = replace(results[key], message="rolled out: healthy")
                cond.notify_all()

        try:
            for resource, change in work:
                key = resource.key
                slot = limit > 0 and rollout.is_deployment(key)
                with cond:
                    if slot:
                        cond.wait_for(lambda: bool(failure) or cancelled[0] or rolling[0] < limit)
                    if failure or cancelled[0]:
                        break
                    if slot:
                        rolling[0] += 1
                done = apply_one((resource, change))
                with cond:
                    results[key] = done
                    if done.error:
                        if slot:
                            rolling[0] -= 1
                        failure.append(key)
                        break
                    if rollout.is_workload(key):
                        pending[0] += 1
                    elif slot:
                        rolling[0] -= 1
                if rollout.is_workload(key):
                    waiters.submit(carrying_context(wait_healthy), key, slot)
            with cond:
                cond.wait_for(lambda: bool(failure) or cancelled[0] or pending[0] == 0)
        finally:
            gate.close()  # fail fast: a failure stops the other waits at once
            waiters.shutdown(wait=True)
            if unsubscribe is not None:
                unsubscribe()
        stop = failure[0] if failure else None
        why_cancelled = f"cancelled: {cancel.reason}" if cancel is not None else ""
        if cancelled[0] and not any(c.error for c in results.values()):
            # Cancelled while no wait was in progress (between applies): the last workload
            # applied and not yet healthy carries the message, if any.
            waiting = [k for k in results if rollout.is_workload(k) and k not in healthy]
            if waiting:
                stop = waiting[-1]
                results[stop] = replace(
                    results[stop],
                    message=f"{why_cancelled} while waiting for {stop}",
                    error=True,
                )
        if stop is not None or cancelled[0]:
            why = why_cancelled if cancelled[0] else f"{stop} failed first"
            for resource, change in work:
                if resource.key not in results:
                    results[resource.key] = replace(change, action=Action.SKIP, message=f"not applied: {why}")
        unhealthy: tuple[ResourceKey, ...] = ()
        if gate_failed[0] and not cancelled[0]:
            unhealthy = tuple(
                r.key
                for r, _ in work
                if rollout.is_workload(r.key)
                and r.key not in healthy
                and r.key in results
                and results[r.key].action in (Action.CREATE, Action.UPDATE)
            )
        return _RolledOut(results, unhealthy, cancelled[0])

    def _recreate(self, key: ResourceKey, body: Mapping[str, Any], app: App, timeout: float = 60.0) -> None:
        """Delete (foreground: dependents first) and wait until gone, then apply again."""
        self.cluster.delete(key, propagation="Foreground")
        deadline = time.monotonic() + timeout
        delay = 0.05
        while self.cluster.get(key) is not None:
            if time.monotonic() > deadline:
                raise errors.ApplyError(str(key), f"still being deleted after {timeout:g}s; not recreated")
            time.sleep(delay)
            delay = min(1.0, delay * 2)
        self.cluster.apply(body, manager=app.manager, force=True)

    def _wait_established(self, crds: Sequence[ResourceKey], timeout: float) -> ResourceKey | None:
        """Wait until every CRD is Established; the first that is not by the deadline, or None."""
        deadline = time.monotonic() + timeout
        pending = list(crds)
        delay = 0.05
        while pending:
            still = []
            for key in pending:
                obj = self.cluster.get(key) or {}
                conds = {
                    c.get("type"): c.get("status") for c in (obj.get("status") or {}).get("conditions") or []
                }
                if conds.get("Established") != "True":
                    still.append(key)
            pending = still
            if not pending:
                return None
            if time.monotonic() > deadline:
                return pending[0]
            time.sleep(delay)
            delay = min(1.0, delay * 2)
        return None


@dataclass(frozen=True)
class _Pretence:
    """What a dry run creates only in pretence: the Namespaces and the custom kinds (CRDs) that
    the plan creates. The server cannot dry-run an object inside them, as neither exists yet
    (it would answer 404 where the real sync succeeds), so such objects are left out of the
    server-side dry run and say why."""

    namespaces: frozenset[str]
    kinds: frozenset[tuple[str, str]]

    def blocks(self, key: ResourceKey) -> str | None:
        if key.namespace and key.namespace in self.namespaces:
            return f"its namespace {key.namespace} is created by this sync"
        if (key.group, key.kind) in self.kinds:
            return "its kind is defined by a CustomResourceDefinition this sync creates"
        return None


def _created_in_pretence(plan: Plan) -> _Pretence:
    namespaces: set[str] = set()
    kinds: set[tuple[str, str]] = set()
    for phase in plan.phases:
        for obj, change in zip(phase.objects, phase.changes, strict=True):
            if change.action is not Action.CREATE:
                continue
            key = obj.key
            if key.group == "" and key.kind == "Namespace":
                namespaces.add(key.name)
            elif key.group == "apiextensions.k8s.io" and key.kind == "CustomResourceDefinition":
                spec = obj.body.get("spec")
                names = spec.get("names") if isinstance(spec, Mapping) else None
                if isinstance(names, Mapping) and isinstance(spec, Mapping):
                    group, kind = spec.get("group"), names.get("kind")
                    if isinstance(group, str) and isinstance(kind, str):
                        kinds.add((group, kind))
    return _Pretence(frozenset(namespaces), frozenset(kinds))


def _secret_values(resources: Sequence[Resource]) -> list[str]:
    """Every value the desired Secrets carry, in the forms an error message could quote."""
    out: list[str] = []
    for r in resources:
        if r.key.group != "" or r.key.kind != "Secret":
            continue
        for field in ("data", "stringData"):
            values = r.body.get(field)
            if not isinstance(values, Mapping):
                continue
            for v in values.values():
                if not isinstance(v, str) or len(v) < 3:
                    continue
                out.append(v)
                if field == "data":
                    with contextlib.suppress(ValueError):
                        out.append(base64.b64decode(v, validate=True).decode("utf-8", errors="ignore"))
                else:
                    out.append(base64.b64encode(v.encode()).decode())
    return sorted({v for v in out if len(v) >= 3}, key=len, reverse=True)


def _then(change: Change, callback: Callable[[], None]) -> Change:
    callback()
    return change


def _immutable(exc: errors.ApplyError) -> bool:
    """A 422 about a field the API does not let an update change (Deployment/Job selectors,
    Service clusterIP, immutable ConfigMaps and Secrets...)."""
    return exc.code == 422 and "immutable" in str(exc)


def _respect_ignores(resource: Resource, change: Change, app: App) -> Mapping[str, Any]:
    """The body to apply: for an existing object, without the fields ``ignoreDifferences``
    names, so the engine neither sets nor claims them (a new object gets the whole manifest)."""
    if change.action is not Action.UPDATE or not app.ignore_differences:
        return resource.body
    pointers = [
        p
        for rule in app.ignore_differences
        if diff_views.rule_matches(rule, resource.key)
        for p in rule.json_pointers
    ]
    if not pointers:
        return resource.body
    body = copy.deepcopy(dict(resource.body))
    for p in pointers:
        diff_views.remove_pointer(body, [s.replace("~1", "/").replace("~0", "~") for s in p.split("/")[1:]])
    return body


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for value in secrets:
        if value in text:
            text = text.replace(value, "<redacted>")
    return text
