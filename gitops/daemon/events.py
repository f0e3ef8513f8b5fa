"""Kubernetes Events for sync results: ``kubectl get events`` tells what gitops did.

:func:`sync_event` is pure: a history record in, a ``core/v1`` Event body out.
:meth:`Recorder.post` sends one (or counts it on an identical earlier one) and never raises: an
Event is a courtesy to operators, and failing to post it (RBAC, an API hiccup) must never fail
or delay the sync it describes. Failures are logged; every request, failed ones included, is
counted by verb and status code through ``Cluster.observer``, and ``post`` returns whether it
worked for callers that count more.

Events are "legacy" ``core/v1`` Events as client-go's ``tools/record`` recorder writes them
(``firstTimestamp``/``lastTimestamp``/``count``, ``source.component``, no ``eventTime``), which
every kubectl shows, plus ``reportingComponent``/``reportingInstance``. Messages name the app,
the revision's short SHA and the result; they carry the record's error and change messages,
which the engine has already masked (no Secret value reaches history, so none reaches here).
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from gitops import errors
from gitops.cluster import Cluster
from gitops.model import Action, ResourceKey, SyncRecord, SyncResult, Trigger

log = logging.getLogger(__name__)

COMPONENT = "gitops"
MAX_MESSAGE = 1024  # events.k8s.io caps a note at 1 kB; keep core Events as readable


class Reason(Enum):
    """An Event's reason for a sync (its type, Normal or Warning, is :func:`event_type`'s: it also
    depends on the trigger)."""

    SYNC_SUCCEEDED = "SyncSucceeded"
    SYNC_FAILED = "SyncFailed"
    NO_CHANGE = "NoChange"
    ROLLED_BACK = "RolledBack"

    @classmethod
    def of(cls, record: SyncRecord) -> Reason:
        if record.result.failed:
            return cls.SYNC_FAILED
        if record.trigger in (Trigger.ROLLBACK, Trigger.AUTO_ROLLBACK):
            return cls.ROLLED_BACK
        if record.result is SyncResult.NO_CHANGE:
            return cls.NO_CHANGE
        return cls.SYNC_SUCCEEDED


def event_type(record: SyncRecord) -> str:
    """``Warning`` for a failed sync and for an automatic rollback (something went wrong
    before it), ``Normal`` otherwise."""
    if record.result.failed or record.trigger is Trigger.AUTO_ROLLBACK:
        return "Warning"
    return "Normal"


def message(record: SyncRecord) -> str:
    """One line an operator can act on: app, short revision, result, what changed or why it
    failed. At most :data:`MAX_MESSAGE` characters."""
    app = record.app
    rev = record.revision[:7] or "an unknown revision"
    changes = record.changes
    counts = (
        f"{len(changes.of(Action.CREATE))} created, {len(changes.of(Action.UPDATE))} updated, "
        f"{len(changes.of(Action.PRUNE))} pruned"
    )
    reason = Reason.of(record)
    if reason is Reason.SYNC_FAILED:
        why = record.error or next((f"{c.key}: {c.message}" for c in changes if c.error), "")
        state = {
            SyncResult.DEGRADED: "applied but not healthy",
            SyncResult.INTERRUPTED: "was interrupted",
        }.get(record.result, "failed")
        text = f"app {app}: sync of {rev} {state}" + (f": {why}" if why else "")
    elif reason is Reason.ROLLED_BACK:
        text = f"app {app}: rolled back to {rev} ({counts})"
    elif reason is Reason.NO_CHANGE:
        text = f"app {app}: in sync at {rev}, nothing to change"
    else:
        text = f"app {app}: synced {rev} ({counts})"
    text = " ".join(text.split())  # one line
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def sync_event(
    record: SyncRecord,
    namespace: str,
    involved: ResourceKey | None = None,
    *,
    identity: str = COMPONENT,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The Event for a sync's history record, stored in ``namespace``.

    ``involved`` is the object it is about: the daemon's own Pod (it must live in
    ``namespace``: the API server requires an Event to share its involved object's
    namespace), or None for the Namespace ``namespace`` itself (for an Event in the app's
    namespace, pass that). ``identity`` is this daemon replica (``reportingInstance``)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    if involved is None:
        involved = ResourceKey("", "Namespace", "", namespace)
        involved_ref = {"apiVersion": "v1", "kind": "Namespace", "name": namespace, "namespace": namespace}
    else:
        if involved.namespace and involved.namespace != namespace:
            raise ValueError(
                f"{involved}: an Event about it must be stored in its namespace, not {namespace!r}"
            )
        api_version = f"{involved.group}/v1" if involved.group else "v1"
        involved_ref = {"apiVersion": api_version, "kind": involved.kind, "name": involved.name}
        if involved.namespace:
            involved_ref["namespace"] = involved.namespace
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    # client-go names Events "<involved name>.<unix nanoseconds in hex>"; a checksum of the app
    # keeps two apps' Events at the same instant apart.
    nanos = int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
    suffix = f".{nanos:x}{zlib.crc32(record.app.encode()) & 0xFFFF:04x}"
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": involved.name[: 253 - len(suffix)] + suffix,
            "namespace": namespace,
            "annotations": {"gitops.dev/app": record.app, "gitops.dev/revision": record.revision},
        },
        "involvedObject": involved_ref,
        "reason": Reason.of(record).value,
        "message": message(record),
        "type": event_type(record),
        "source": {"component": COMPONENT},
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "reportingComponent": COMPONENT,
        "reportingInstance": identity,
    }


@dataclass(frozen=True)
class _Observed:
    """client-go ``eventLog``: what the server holds of an Event posted before."""

    name: str
    count: int
    first_timestamp: str


class Recorder:
    """Posts Events as client-go's recorder does, de-duplicating like its EventCorrelator's
    ``eventLogger`` (``tools/record/events_cache.go``): an Event exactly like one posted before
    (``getEventKey``: source, involved object, type, reason, message) updates that object, with
    ``count`` + 1, a new ``lastTimestamp`` and the first one's ``firstTimestamp``, by a strategic
    merge PATCH, instead of adding another (``recordEvent``); if it was deleted meanwhile, it is
    created again. So a revision that keeps failing is one ``SyncFailed`` Event whose count
    grows, as ``kubectl get events`` shows a crash-looping pod's. An LRU of 4096 keys, as
    client-go's ``maxLruCacheEntries``.

    Not ported, on purpose: the aggregator (more than 10 Events differing only by message
    within 10 minutes become one "(combined from similar events)") and the spam filter (per
    source and involved object, a burst of 25, then one every 5 minutes). Every Event of a
    daemon is about its own Pod, so with a few apps both would merge or drop the Events of
    different apps; an exact repeat is what floods, and that is counted here."""

    def __init__(self, cluster: Cluster, max_entries: int = 4096) -> None:
        self.cluster = cluster
        self.max_entries = max_entries
        self._seen: OrderedDict[tuple[str, ...], _Observed] = OrderedDict()
        self._lock = threading.Lock()

    def post(self, event: dict[str, Any]) -> bool:
        """Create ``event``, or count it on its earlier twin; False (logged, never raised) when
        the server refuses it or cannot be reached. One short attempt: it runs on the sync's
        worker, and an Event that cannot be posted at once is not worth holding the app's next
        run for."""
        key = _event_key(event)
        with self._lock:
            # client-go eventObserve: the observation is recorded before the request, so a
            # repeat after a lost reply counts on (or re-creates) the same Event.
            last = self._seen.get(key)
            if last is not None:
                event = {
                    **event,
                    "metadata": {**event["metadata"], "name": last.name},
                    "firstTimestamp": last.first_timestamp,
                    "count": last.count + 1,
                }
            self._remember(
                key, _Observed(event["metadata"]["name"], int(event["count"]), str(event["firstTimestamp"]))
            )
        name = str(event["metadata"]["name"])
        try:
            stored = None
            if last is not None:
                patch = {k: event[k] for k in ("count", "lastTimestamp", "message")}
                stored = self.cluster.patch(ResourceKey.of(event), patch, timeout=3.0, retries=0)
            if stored is None:  # first of its kind, or deleted since
                stored = self.cluster.create(event, timeout=3.0, retries=0)
        except errors.GitopsError as exc:
            log.warning("cannot post the Event %s: %s", name, exc)
            return False
        except Exception:  # a bug here must not fail the sync either
            log.exception("cannot post the Event %s", name)
            return False
        with self._lock:  # client-go UpdateState: what the server holds now
            self._remember(
                key,
                _Observed(
                    str(stored["metadata"]["name"]),
                    int(stored.get("count") or 1),
                    str(stored.get("firstTimestamp") or ""),
                ),
            )
        return True

    def _remember(self, key: tuple[str, ...], observed: _Observed) -> None:
        """Record ``observed`` under ``key``, newest last, the least recent dropped past
        ``max_entries`` (the caller holds the lock)."""
        self._seen[key] = observed
        self._seen.move_to_end(key)
        while len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)


def _event_key(event: dict[str, Any]) -> tuple[str, ...]:
    """client-go ``getEventKey``."""
    source = event.get("source") or {}
    ref = event.get("involvedObject") or {}
    return (
        str(source.get("component", "")),
        str(source.get("host", "")),
        *(str(ref.get(f, "")) for f in ("kind", "namespace", "name", "fieldPath", "uid", "apiVersion")),
        str(event.get("type", "")),
        str(event.get("reason", "")),
        str(event.get("message", "")),
    )
