"""The daemon's scheduler: keeps every app of a config in sync (APScheduler 3).

One interval job per app (the app's ``interval``, with jitter; coalescing, at most one instance,
misfires folded into the next run) runs :meth:`Daemon._run` on a bounded worker pool, so a slow
repository or a failing app holds one worker and never delays the others. Each run:

1. **Poll** cheaply: ``git ls-remote`` of the tracked ref (no fetch). A Git host that is down
   becomes the app's condition (API, metrics, logs) and the run ends; the next one retries.
2. **Sync** when the revision moved since the last successful sync (a webhook or ``POST
   /sync`` only makes the run happen sooner; an API request syncs even when nothing moved). A
   revision that failed is retried with a doubling backoff, not every interval; one that was
   rolled back automatically is not retried at all: the app shows "rolled back from REV, waiting
   for a new commit" until Git moves.
3. **Drift**: at the app's resync interval (``resync``, default its ``interval``) the desired state (rendered once
   per revision and cached) is compared with the live one (one LIST per kind). With ``selfHeal``
   drift is synced away (trigger self-heal); without, it is only reported.

A new commit seen while a sync waits on a rollout (a webhook, or a poll that runs meanwhile)
cancels that wait and the new revision is synced next: a fix is never stuck behind a timeout.

With leader election only the leader runs syncs; a leader that loses its lease cancels running
waits (a safe point: no write is cut in half) and stops scheduling. :meth:`Daemon.shutdown`
(SIGTERM) starts no new sync and lets the running ones finish within a grace period, then
cancels them; history says which.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor as APThreadPool
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from gitops import errors
from gitops.config import App, Config
from gitops.daemon import events as events_mod
from gitops.daemon import logs, webhooks
from gitops.daemon.interface import AppStatus, Push
from gitops.daemon.metrics import Metrics
from gitops.engine import Cancel, Engine, SyncOptions
from gitops.engine.reconciler import Rendered, SyncOutcome
from gitops.git import is_full_sha, redact_url
from gitops.model import Action, ResourceKey, SyncRecord, Trigger

log = logging.getLogger("gitops.daemon")


@dataclass(frozen=True)
class DaemonOptions:
    """How the daemon schedules.

    ``workers``: apps reconciled at once. ``jitter``: up to this fraction of an app's interval is
    added at random to each poll, so apps with one interval do not poll in lock step.
    ``debounce``: seconds a push waits for the rest of its burst (one sync per burst).
    ``retry_backoff``: first delay before a failed revision is tried again by polling
    (doubling, capped at ``max_retry_backoff``). ``identity``: this process in Events and the
    Lease. ``events_namespace``: where sync Events are posted (None: none are), about the pod
    ``events_pod`` when known, else about that namespace.
    """

    workers: int = 4
    jitter: float = 0.1
    debounce: float = 0.1
    retry_backoff: float = 30.0
    max_retry_backoff: float = 600.0
    identity: str = "gitops"
    events_namespace: str | None = None
    events_pod: str = ""  # the daemon's pod (downward API POD_NAME): Events are about it


@dataclass
class _State:
    """One app's mutable state; every field is read and written under ``Daemon._lock``."""

    app: App
    running: bool = False
    pending: Trigger | None = None
    cancel: Cancel | None = None
    syncing_revision: str = ""
    tracked: str = ""
    synced: str = ""
    result: str = ""
    health: str = "Unknown"
    drift: bool | None = None
    last_sync: str = ""
    last_success: str = ""
    reconciled: bool = False
    condition: str = ""
    message: str = ""
    history_id: int = 0
    rolled_back_from: str = ""
    failed_revision: str = ""
    failures: int = 0
    retry_at: float = 0.0
    drift_checked: float = float("-inf")
    rendered: Rendered | None = None
    repo_key: str = ""
    recent_errors: list[str] = field(default_factory=list)

    def status(self) -> AppStatus:
        a = self.app
        return AppStatus(
            name=a.name,
            repo=redact_url(a.repo),
            path=a.path,
            revision=a.revision,
            tracked_revision=self.tracked,
            synced_revision=self.synced,
            result=self.result,
            health=self.health,
            drift=self.drift,
            last_sync=self.last_sync,
            last_success=self.last_success,
            syncing=self.running and self.cancel is not None,
            reconciled=self.reconciled,
            condition=self.condition,
            message=self.message,
            self_heal=a.self_heal,
            interval=a.interval,
            history_id=self.history_id,
            errors=tuple(self.recent_errors),
        )


# Which trigger names a run when several asked for it: the most explicit wins.
_TRIGGER_RANK = {Trigger.POLL: 0, Trigger.SELF_HEAL: 1, Trigger.WEBHOOK: 2, Trigger.API: 3}


def _stronger(a: Trigger | None, b: Trigger) -> Trigger:
    if a is None:
        return b
    return a if _TRIGGER_RANK.get(a, 0) >= _TRIGGER_RANK.get(b, 0) else b


class Daemon:
    """Keeps the apps of ``config`` in sync through ``engine`` (see the module docstring).

    Implements :class:`gitops.daemon.interface.Controller` for the HTTP side. ``leading`` tells
    whether this replica may sync (leader election); None means always.
    """

    def __init__(
        self,
        config: Config,
        engine: Engine,
        metrics: Metrics,
        options: DaemonOptions | None = None,
        *,
        leading: Callable[[], bool] | None = None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.metrics = metrics
        self.options = options or DaemonOptions()
        self._leading = leading or (lambda: True)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._stopping = False
        self._started = False
        self._states = {a.name: _State(a, repo_key=webhooks.repo_key(a.repo)) for a in config.apps}
        self._events = events_mod.Recorder(engine.cluster)
        for st in self._states.values():
            if not st.repo_key:
                log.warning(
                    "app %s: no webhook can name its repository %s (not a URL or path we can parse);"
                    " it is synced by polling only",
                    st.app.name,
                    redact_url(st.app.repo),
                )
        self._scheduler = BackgroundScheduler(
            executors={"default": APThreadPool(max_workers=max(1, self.options.workers))},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone="UTC",
        )
        self._restore()

    # ------------------------------------------------------------------------- lifecycle

    def _restore(self) -> None:
        """What history says about each app: its last synced revision and result (a restart
        does not re-sync a revision that is already live)."""
        history = self.engine.history
        if history is None:
            return
        for st in self._states.values():
            good = history.last_successful(st.app.name)
            if good is not None:
                st.synced = good.revision
                st.last_success = good.finished
            last = history.list(st.app.name, limit=1)
            if last:
                st.result = last[0].result.value
                st.last_sync = last[0].finished
                st.history_id = last[0].id
                if last[0].trigger is Trigger.AUTO_ROLLBACK:
                    # The rollback entry is newest; the failed revision is in the entry before it.
                    before = history.list(st.app.name, limit=1, before=last[0].id)
                    if before and before[0].result.failed:
                        st.rolled_back_from = before[0].revision
                        st.message = _rolled_back_message(before[0].revision)

    def start(self) -> None:
        """Schedule every app (the first poll of each runs at once) and start the workers."""
        now = datetime.now(UTC)
        for st in self._states.values():
            a = st.app
            self._scheduler.add_job(
                self._run,
                IntervalTrigger(seconds=a.interval, jitter=max(0.0, a.interval * self.options.jitter)),
                args=[a.name],
                id=f"poll:{a.name}",
                name=f"poll {a.name}",
                next_run_time=now,
                misfire_grace_time=max(1, int(a.interval)),
            )
        self._scheduler.start()
        self._started = True
        log.info("daemon started: %d apps", len(self._states))

    def shutdown(self, grace: float = 30.0) -> list[str]:
        """Stop: no new sync starts; running ones get ``grace`` seconds to finish, then their
        waits are cancelled (a safe point). The names of the apps whose sync was cancelled."""
        with self._lock:
            self._stopping = True
        if self._started:
            self._scheduler.shutdown(wait=False)
        cancelled: list[str] = []
        deadline = time.monotonic() + grace
        with self._idle:
            self._idle.wait_for(lambda: not any(s.running for s in self._states.values()), timeout=grace)
            for st in self._states.values():
                if st.running and st.cancel is not None:
                    st.cancel.cancel("the daemon is shutting down")
                    cancelled.append(st.app.name)
            # The cancelled syncs record themselves; give them a moment to do so.
            self._idle.wait_for(
                lambda: not any(s.running for s in self._states.values()),
                timeout=max(5.0, deadline - time.monotonic()),
            )
        log.info("daemon stopped%s", f"; cancelled: {', '.join(cancelled)}" if cancelled else "")
        return cancelled

    def lost_leadership(self) -> None:
        """Called when the lease is lost: running waits stop at once (nothing half-written)."""
        with self._lock:
            for st in self._states.values():
                if st.cancel is not None:
                    st.cancel.cancel("this replica lost the leader lease")

    def became_leader(self) -> None:
        """Called when the lease is won: reconcile every app now."""
        for name in self._states:
            self._soon(name, Trigger.POLL, delay=0.0)

    # ------------------------------------------------------------------- Controller protocol

    def apps(self) -> Sequence[AppStatus]:
        with self._lock:
            return [st.status() for st in self._states.values()]

    def app(self, name: str) -> AppStatus | None:
        with self._lock:
            st = self._states.get(name)
            return st.status() if st is not None else None

    def history(self, name: str, limit: int = 20, before: int | None = None) -> Sequence[SyncRecord]:
        if self.engine.history is None or name not in self._states:
            return []
        return self.engine.history.list(name, limit=limit, before=before)

    def request_sync(self, name: str, trigger: Trigger) -> bool:
        if name not in self._states:
            return False
        self._soon(name, trigger, delay=0.0)
        return True

    def push(self, event: Push) -> list[str]:
        keys = webhooks.push_repo_keys(event)
        matched = []
        for name, st in self._states.items():
            if st.repo_key and st.repo_key in keys and _ref_matches(st.app.revision, event.ref):
                matched.append(name)
                if st.app.revision not in ("", "HEAD"):
                    # The push names the app's own ref: a running sync of another commit is
                    # overtaken. (An app on HEAD cannot tell from the push whether its default
                    # branch moved; the run queued below checks with ls-remote first.)
                    self._supersede(st, event.after)
                self._soon(name, Trigger.WEBHOOK, delay=self.options.debounce)
        log.info(
            "push from %s to %s: %s",
            event.provider,
            event.ref,
            ", ".join(matched) if matched else "no app tracks it",
        )
        return matched

    def ready(self) -> bool:
        """A follower (leader election on, lease held by another replica) is ready: it has
        nothing to reconcile, and a Deployment of several replicas must be able to finish its
        own rollout. Webhooks that reach a follower are handed to the leader (gitops.daemon.api),
        or, when it cannot be reached, left to its next poll."""
        if not self._leading():
            return self._started
        with self._lock:
            return all(st.reconciled for st in self._states.values())

    def live(self) -> bool:
        return self._started and not self._stopping and bool(self._scheduler.running)

    # ------------------------------------------------------------------------ scheduling

    def _soon(self, name: str, trigger: Trigger, delay: float) -> None:
        """Run app ``name`` after ``delay`` seconds; calls within the delay fold into one run."""
        with self._lock:
            if self._stopping:
                return
            st = self._states[name]
            st.pending = _stronger(st.pending, trigger)
        if not self._started:
            return
        with contextlib.suppress(Exception):  # the scheduler shut down meanwhile
            self._scheduler.add_job(
                self._run,
                "date",
                run_date=datetime.fromtimestamp(time.time() + delay, UTC),
                args=[name],
                id=f"now:{name}",
                replace_existing=True,
                misfire_grace_time=None,
            )

    def _supersede(self, st: _State, sha: str) -> None:
        """A push of ``sha`` arrived: a running sync of another revision stops waiting."""
        with self._lock:
            if st.cancel is not None and sha and st.syncing_revision and sha != st.syncing_revision:
                st.cancel.cancel(f"a newer revision ({sha[:12]}) arrived")

    def _run(self, name: str) -> None:
        """One app's run (a worker thread); never raises: failures become the app's state."""
        st = self._states[name]
        with self._lock:
            if self._stopping:
                return
            mine = not st.running
            if mine:
                st.running = True
            else:
                # A run is in flight: it runs again when done; meanwhile this poll only checks
                # whether the revision it is syncing (and waiting on) has been overtaken.
                overtaking = st.cancel is not None
                st.pending = _stronger(st.pending, Trigger.POLL)
        if not mine:
            if overtaking:
                self._check_overtaken(st)
            return
        try:
            while True:
                with self._lock:
                    trigger = st.pending or Trigger.POLL
                    st.pending = None
                    stop = self._stopping
                if stop:
                    break
                if not self._leading():
                    log.debug("%s: not the leader, not syncing", name)
                    break
                try:
                    self._reconcile(st, trigger)
                except Exception as exc:  # a bug must not kill the worker or the app's schedule
                    log.exception("%s: reconcile failed unexpectedly", name)
                    self._set(st, condition=f"internal error: {type(exc).__name__}", reconciled=True)
                with self._lock:
                    if st.pending is None or self._stopping:
                        break
        finally:
            with self._idle:
                st.running = False
                self._idle.notify_all()

    def _check_overtaken(self, st: _State) -> None:
        try:
            sha = self._ls_remote(st)
        except errors.GitError:
            return
        if sha:
            self._supersede(st, sha)

    # ------------------------------------------------------------------------- reconcile

    def _ls_remote(self, st: _State) -> str | None:
        app = st.app
        if is_full_sha(app.revision):
            # a pinned commit never moves; lower case, as history records the synced one
            return app.revision.lower()
        started = time.monotonic()
        try:
            sha = self.engine.source.ls_remote(app.repo, app.revision)
        except errors.GitError:
            self.metrics.git_fetch(app.name, time.monotonic() - started, False)
            raise
        self.metrics.git_fetch(app.name, time.monotonic() - started, True)
        return sha

    def _reconcile(self, st: _State, trigger: Trigger) -> None:
        app = st.app
        with logs.context(app=app.name):
            try:
                sha = self._ls_remote(st)
            except errors.GitError as exc:
                self._blocked(st, f"git: {exc}")
                return
            if sha is None:
                self._blocked(st, f"git: {redact_url(app.repo)} has no revision {app.revision!r}")
                return
            with self._lock:
                st.tracked = sha
                if st.condition.startswith("git:"):
                    st.condition = ""
                if st.rolled_back_from and sha != st.rolled_back_from:
                    st.rolled_back_from, st.message = "", ""
                waiting = bool(st.rolled_back_from)
                backing_off = sha == st.failed_revision and time.monotonic() < st.retry_at
            self.metrics.condition(app.name, bool(st.condition))
            with logs.context(revision=sha[:12]):
                moved = sha != st.synced
                if waiting and trigger is not Trigger.API:
                    log.debug("%s was rolled back; waiting for a new commit", sha[:12])
                    self._set(st, reconciled=True)
                    return
                if trigger is Trigger.API or (moved and not (backing_off and trigger is Trigger.POLL)):
                    self._sync(st, trigger)
                    return
                resync = app.resync or app.interval
                if time.monotonic() - st.drift_checked >= resync or trigger is Trigger.SELF_HEAL:
                    drifted = self._check_drift(st, sha)
                    if drifted and app.self_heal:
                        self._sync(st, Trigger.SELF_HEAL)
                        return
                self._set(st, reconciled=True)

    def _check_drift(self, st: _State, sha: str) -> bool | None:
        """Whether the live state differs from the revision's (None when it cannot be told)."""
        app = st.app
        try:
            rendered = st.rendered if st.rendered is not None and st.rendered.revision == sha else None
            if rendered is None:
                rendered = self.engine.render(app)
            plan = self.engine.plan(app, rendered)
        except errors.GitopsError as exc:
            self._blocked(st, _condition(exc))
            return None
        drift = not plan.is_noop
        with self._lock:
            st.rendered = rendered if rendered.revision == sha else None
            st.drift = drift
            st.drift_checked = time.monotonic()
            if st.condition and not st.condition.startswith("git:"):
                st.condition = ""
        self.metrics.drift(app.name, drift)
        if drift:
            what = ", ".join(str(c.key) for c in plan.changes if c.action.writes)
            log.info(
                "drift: %s%s",
                what,
                "; self-heal syncs it" if app.self_heal else " (selfHeal is off: reported only)",
            )
        return drift

    def _sync(self, st: _State, trigger: Trigger) -> None:
        app = st.app
        cancel = Cancel()
        with self._lock:
            st.cancel = cancel
            st.syncing_revision = st.tracked
            # Sync exactly the commit polled, not whatever the branch points to by the time
            # the engine fetches: what is being synced (and may be overtaken) is then known.
            target = dataclasses.replace(app, revision=st.tracked) if is_full_sha(st.tracked) else app
            # The drift check's render of this very commit (self-heal, a retry): no second export.
            cached = st.rendered if st.rendered is not None and st.rendered.revision == st.tracked else None
        started = time.monotonic()
        try:
            with logs.context(trigger=trigger.value):
                log.info("sync started (%s)", trigger.value)
                options = SyncOptions(
                    trigger=trigger, cancel=cancel, on_begin=lambda id: logs.bind(sync_id=id)
                )
                outcome = self.engine.sync(target, options, rendered=cached)
        except errors.GitopsError as exc:  # only the history itself raises
            self._blocked(st, f"history: {exc}")
            return
        finally:
            with self._lock:
                st.cancel = None
        self._record(st, outcome, time.monotonic() - started)

    def _record(self, st: _State, outcome: SyncOutcome, seconds: float) -> None:
        app = st.app
        record = outcome.record
        rollback = outcome.rollback
        self.metrics.sync_finished(app.name, record.result.value, record.trigger.value, seconds)
        with self._lock:
            st.result = record.result.value
            st.last_sync = record.finished
            st.history_id = record.id
            st.reconciled = True
            if not record.result.failed:
                st.synced = record.revision
                st.last_success = record.finished
                st.failed_revision, st.failures, st.retry_at = "", 0, 0.0
                st.health, st.drift = "Healthy", False
                st.drift_checked = time.monotonic()
                st.condition = ""
                st.message = ""
            elif outcome.stopped_by is not None and issubclass(outcome.stopped_by, _TRANSIENT):
                # The Git host or the API server failed us: that is the app's condition, and
                # the next poll simply tries again (no backoff: the revision is not at fault).
                st.condition = _short(_condition_text(outcome.stopped_by, record.error))
            else:
                # The revision itself failed (invalid manifests, a refused write, a rollout
                # that degraded): polling retries it with a doubling backoff, not every interval.
                if record.revision == st.failed_revision:
                    st.failures += 1
                else:
                    st.failed_revision, st.failures = record.revision, 1
                backoff = min(
                    self.options.max_retry_backoff, self.options.retry_backoff * 2 ** (st.failures - 1)
                )
                st.retry_at = time.monotonic() + backoff
                st.condition = "" if outcome.stopped_by is None else _short(record.error)
                st.health = "Degraded" if outcome.stopped_by is None else st.health
                st.recent_errors = [*st.recent_errors[-4:], _short(record.error)]
                if rollback is not None:
                    rb = rollback.record
                    st.history_id = rb.id
                    if not rb.result.failed:
                        st.rolled_back_from = record.revision
                        st.message = _rolled_back_message(record.revision)
                        st.health = "Healthy"
            synced_ok = not record.result.failed
        if synced_ok:
            self.metrics.last_success(app.name, time.time())
            self.metrics.drift(app.name, False)
        if outcome.stopped_by is None:
            self.metrics.objects(app.name, _health_counts(record))
        self.metrics.condition(app.name, bool(st.condition))
        level = logging.WARNING if record.result.failed else logging.INFO
        log.log(
            level,
            "sync %s: %s%s",
            record.id,
            record.result.value,
            f": {record.error}" if record.error else "",
            extra={"sync_id": record.id, "revision": record.revision[:12]},
        )
        if rollback is not None:
            rb = rollback.record
            self.metrics.sync_finished(app.name, rb.result.value, rb.trigger.value, _seconds(rb))
            log.warning("auto-rollback %s: %s %s", rb.id, rb.result.value, rb.error, extra={"sync_id": rb.id})
        self._post_event(record)
        if rollback is not None:
            self._post_event(rollback.record)

    def _post_event(self, record: SyncRecord) -> None:
        ns = self.options.events_namespace
        if not ns:
            return
        pod = self.options.events_pod
        involved = ResourceKey("", "Pod", ns, pod) if pod else None
        event = events_mod.sync_event(record, namespace=ns, involved=involved, identity=self.options.identity)
        self._events.post(event)

    def _blocked(self, st: _State, condition: str) -> None:
        """The app cannot be reconciled now: say why (API, metrics, logs); the next run retries."""
        log.warning("%s", condition)
        self._set(st, condition=_short(condition), reconciled=True)
        self.metrics.condition(st.app.name, True)

    def _set(self, st: _State, **changes: Any) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(st, k, v)


def _ref_matches(revision: str, ref: str) -> bool:
    """Whether a push to ``ref`` can move an app tracking ``revision``
    (:func:`webhooks.ref_matches`); an app on HEAD follows the default branch, which the push
    does not name: any branch push makes it poll (cheap)."""
    if revision in ("", "HEAD"):
        return ref.startswith("refs/heads/") or "/" not in ref
    return webhooks.ref_matches(ref, revision)


def _seconds(record: SyncRecord) -> float:
    """How long a recorded sync took, from its RFC 3339 times (0 when one is missing)."""
    try:
        return max(
            0.0,
            (
                datetime.fromisoformat(record.finished) - datetime.fromisoformat(record.started)
            ).total_seconds(),
        )
    except ValueError:
        return 0.0


def _rolled_back_message(revision: str) -> str:
    return f"rolled back from {revision[:12]}, waiting for a new commit"


def _short(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Failures of the infrastructure rather than of the revision: retried at the next poll.
_TRANSIENT = (errors.ClusterUnreachable, errors.ClusterError, errors.GitError, errors.HistoryBusy)


def _condition_text(kind: type[BaseException], message: str) -> str:
    if issubclass(kind, errors.ClusterUnreachable | errors.ClusterError):
        return f"cluster: {message}"
    if issubclass(kind, errors.GitError):
        return f"git: {message}"
    return message


def _condition(exc: errors.GitopsError) -> str:
    return _condition_text(type(exc), str(exc))


def _health_counts(record: SyncRecord) -> dict[str, int]:
    """The app's objects by health after a sync that ran to its end: those the gate found
    unhealthy (their change carries the error) Degraded, those not applied because of it
    Unknown, every other desired object Healthy (its workload passed the gate, or its kind is
    healthy once applied). Pruned objects are gone and not counted."""
    counts = {"Healthy": 0, "Degraded": 0, "Unknown": 0}
    for change in record.changes:
        if change.action is Action.PRUNE:
            continue
        if change.error:
            counts["Degraded"] += 1
        elif change.action is Action.SKIP and change.message.startswith("not applied"):
            counts["Unknown"] += 1
        else:
            counts["Healthy"] += 1
    return counts
