"""Leader election on a ``coordination.k8s.io/v1`` Lease, as client-go does it (I/O: the
cluster, a thread, the clock).

With two daemons on one cluster only the leader syncs. :class:`LeaderElector` follows
client-go's ``tools/leaderelection/leaderelection.go`` (``tryAcquireOrRenew``, ``acquire``,
``renew``, ``release``; kubernetes/kubernetes ``staging/src/k8s.io/client-go``) and
../shared/K8S-API.md §8:

1. GET the Lease. Missing: create it holding it (``holderIdentity`` = us, ``acquireTime`` =
   ``renewTime`` = now, ``leaseDurationSeconds``, ``leaseTransitions`` 0).
2. Held by another identity and not expired: wait (``retry_period`` with client-go's 1.2
   jitter) and try again.
3. Otherwise PUT it with the resourceVersion we read: holder us, ``acquireTime`` now,
   ``leaseTransitions`` + 1. A 409 Conflict means another candidate wrote first: we lost the
   race and go back to waiting.
4. While leading, renew (PUT ``renewTime``, keeping ``acquireTime`` and transitions) every
   ``retry_period``; the leader first PUTs optimistically on the object it last wrote and only
   re-reads when that fails (client-go's fast path). If no renewal has succeeded for
   ``renew_deadline``, or the Lease turns out to be held by someone else, stop leading.
5. :meth:`LeaderElector.stop` with ``release`` writes ``holderIdentity: ""`` (with
   ``leaseDurationSeconds: 1``, as client-go's ``release``) so a standby takes over at once.

Expiry is never judged by comparing the Lease's timestamps with our wall clock (they were
written by another machine's clock). As client-go does with ``observedTime``, an elector
notes on its own monotonic clock when it last *saw the lease record change*, and the holder
counts as gone once ``leaseDurationSeconds`` passed since then without a change. This
tolerates any clock skew between replicas (not a skew *rate*: keep lease_duration /
renew_deadline comfortably above 1).

Differences from client-go, on purpose:

- ``leaseDurationSeconds`` is an integer in the API; client-go truncates its duration to whole
  seconds, we round up (never below 1), which keeps ``leaseDurationSeconds > renew_deadline``
  for sub-second test settings.
- A leader whose renewals fail calls ``on_stopped`` and goes back to campaigning as a standby
  (client-go's ``Run`` returns and binaries usually exit); the daemon keeps serving its API.
- :attr:`LeaderElector.is_leader` is also false once ``renew_deadline`` passed since the last
  successful renewal, even while a renewal request is still hanging, so work guarded by it
  stops in time whatever the network does. Every request carries a timeout no longer than the
  time left before that deadline and is not retried inside the client (this loop retries).
- Callbacks run in order on their own thread, so a slow ``on_started`` never delays renewals.

Our addition: a holder with an ``advertise`` URL writes it in the Lease's annotation
:data:`LEADER_URL_ANNOTATION` with every write (a takeover replaces the previous holder's, a
release removes it), and a standby reads it from the record it last observed
(:attr:`LeaderElector.leader_url`): a webhook that reaches a standby is handed to the leader
instead of waiting for the leader's next poll. Only the holder writes the Lease, so the
annotation never races a renewal.
"""

from __future__ import annotations

import logging
import math
import queue
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from gitops import errors
from gitops.cluster import Cluster
from gitops.model import ResourceKey

log = logging.getLogger(__name__)

JITTER_FACTOR = 1.2  # client-go leaderelection.JitterFactor
LEADER_URL_ANNOTATION = "gitops.dev/leader-url"  # where the holder serves its HTTP API
MICRO_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"  # metav1.MicroTime: RFC 3339 with microseconds, UTC


def micro_time(moment: datetime) -> str:
    """``metav1.MicroTime``'s JSON form (``2006-01-02T15:04:05.000000Z``)."""
    return moment.astimezone(UTC).strftime(MICRO_TIME)


@dataclass(frozen=True)
class LeaseRecord:
    """The election state a Lease's spec holds (client-go ``LeaderElectionRecord``)."""

    holder: str = ""
    duration: int = 0  # leaseDurationSeconds
    acquire_time: str = ""
    renew_time: str = ""
    transitions: int = 0

    @classmethod
    def of(cls, lease: Mapping[str, Any]) -> LeaseRecord:
        spec = lease.get("spec") or {}
        return cls(
            holder=str(spec.get("holderIdentity") or ""),
            duration=int(spec.get("leaseDurationSeconds") or 0),
            acquire_time=str(spec.get("acquireTime") or ""),
            renew_time=str(spec.get("renewTime") or ""),
            transitions=int(spec.get("leaseTransitions") or 0),
        )

    def spec(self) -> dict[str, Any]:
        return {
            "holderIdentity": self.holder,
            "leaseDurationSeconds": self.duration,
            "acquireTime": self.acquire_time,
            "renewTime": self.renew_time,
            "leaseTransitions": self.transitions,
        }


class LeaderElector:
    """Campaign for the Lease ``namespace/name`` as ``identity`` (see the module docstring).

    ``lease_duration``: how long standbys wait without seeing the lease change before taking
    it over. ``renew_deadline``: how long the leader keeps trying to renew before it stops
    leading. ``retry_period``: the pause between attempts. client-go's rules hold:
    ``lease_duration > renew_deadline > 1.2 * retry_period > 0`` (else ConfigError).
    """

    def __init__(
        self,
        cluster: Cluster,
        namespace: str,
        name: str,
        identity: str,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        advertise: str = "",
    ) -> None:
        if not identity:
            raise errors.ConfigError("leader election needs an identity")
        if retry_period <= 0 or renew_deadline <= 0 or lease_duration <= 0:
            raise errors.ConfigError(
                "lease duration, renew deadline and retry period must be greater than zero"
            )
        if lease_duration <= renew_deadline:
            raise errors.ConfigError("the lease duration must be greater than the renew deadline")
        if renew_deadline <= JITTER_FACTOR * retry_period:
            raise errors.ConfigError(
                f"the renew deadline must be greater than the retry period x {JITTER_FACTOR} (jitter)"
            )
        self.cluster = cluster
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.advertise = advertise
        self.key = ResourceKey("coordination.k8s.io", "Lease", namespace, name)
        self._duration_seconds = max(1, math.ceil(lease_duration))
        self._clock: Callable[[], float] = time.monotonic
        self._lock = threading.Lock()
        self._observed: LeaseRecord | None = None  # the record last seen or written
        self._observed_at = 0.0  # monotonic time when it last changed (client-go observedTime)
        self._lease: dict[str, Any] | None = None  # the object last read or written (its RV)
        self._leading = False
        self._renewed_at = 0.0  # monotonic time the last successful write was *sent*
        self._leader_event = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._callbacks: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._callback_thread: threading.Thread | None = None
        self._on_started: Callable[[], None] = _nothing
        self._on_stopped: Callable[[], None] = _nothing

    def __repr__(self) -> str:
        return f"LeaderElector({self.namespace}/{self.name} as {self.identity})"

    # ------------------------------------------------------------------------------ public

    @property
    def is_leader(self) -> bool:
        """True while this elector holds the lease and its last renewal is younger than the
        renew deadline. Check it before every write that only the leader may make."""
        with self._lock:
            return (
                self._leading
                and self._observed is not None
                and self._observed.holder == self.identity
                and self._clock() - self._renewed_at < self.renew_deadline
            )

    @property
    def leader(self) -> str:
        """The holder this elector last observed ("" when none): for status pages and logs."""
        with self._lock:
            return self._observed.holder if self._observed is not None else ""

    @property
    def leader_url(self) -> str:
        """Where the current leader serves its API, as its Lease advertises it; "" when this
        elector leads, when nobody holds a valid lease, or when the holder advertises nothing."""
        with self._lock:
            if self._leading or self._observed is None or self._lease is None:
                return ""
            if self._observed.holder in ("", self.identity) or not self._lease_valid():
                return ""
            annotations = (self._lease.get("metadata") or {}).get("annotations") or {}
            return str(annotations.get(LEADER_URL_ANNOTATION) or "")

    def start(self, on_started: Callable[[], None], on_stopped: Callable[[], None]) -> None:
        """Campaign on a background thread. ``on_started`` runs each time this elector starts
        leading, ``on_stopped`` each time it stops (renewals failed, the lease was lost, or
        :meth:`stop`); they run in that order on a thread of their own."""
        if self._thread is not None:
            raise RuntimeError(f"{self!r} was already started")
        self._on_started, self._on_stopped = on_started, on_stopped
        self._callback_thread = threading.Thread(
            target=self._run_callbacks, name=f"leader-callbacks-{self.name}", daemon=True
        )
        self._callback_thread.start()
        self._thread = threading.Thread(target=self._run, name=f"leader-election-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, release: bool = True) -> None:
        """Stop campaigning. When leading: ``on_stopped`` runs (and has returned when this
        returns), then, with ``release``, the lease is released so a standby takes over at
        once. Call it only once the work the lease guards has stopped. ``release=False``
        leaves the lease to expire, as a killed process would."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        was_leading = self._stop_leading("stopped")
        if self._callback_thread is not None:
            self._callbacks.put(None)
            if threading.current_thread() is not self._callback_thread:  # stop() from a callback
                self._callback_thread.join()
        if was_leading and release:
            self._release()

    def wait_until_leader(self, timeout: float) -> bool:
        """Block until this elector leads or ``timeout`` seconds pass; whether it leads."""
        self._leader_event.wait(timeout)
        return self.is_leader

    # ---------------------------------------------------------------------------- the loop

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if not self._acquire():
                    return
                self._start_leading()
                self._renew()
                if self._stop.is_set():
                    return  # stop() ends the leadership (callbacks, release)
                self._stop_leading("lost")
        except Exception:  # the campaign must not die silently while leading
            log.exception("%r: leader election failed", self)
            self._stop_leading("failed")

    def _acquire(self) -> bool:
        """client-go ``acquire``: try, then wait a jittered retry period, until it works
        (True) or :meth:`stop` is called (False)."""
        log.info("%r: trying to acquire the lease", self)
        while not self._stop.is_set():
            attempt = self._clock()
            if self._try_acquire_or_renew(timeout=self.renew_deadline):
                with self._lock:
                    self._renewed_at = attempt
                return True
            delay = self.retry_period * (1 + random.random() * JITTER_FACTOR)  # wait.JitterUntil
            if self._stop.wait(delay):
                break
        return False

    def _renew(self) -> None:
        """client-go ``renew``: renew every retry period; return when renewals have not
        succeeded for the renew deadline, when another holder shows up, or on stop."""
        while not self._stop.wait(self.retry_period):
            with self._lock:
                remaining = self._renewed_at + self.renew_deadline - self._clock()
            if remaining <= 0:
                log.warning("%r: no renewal succeeded for %gs", self, self.renew_deadline)
                return
            attempt = self._clock()
            if self._try_acquire_or_renew(timeout=remaining):
                with self._lock:
                    self._renewed_at = attempt
                continue
            with self._lock:
                holder = self._observed.holder if self._observed is not None else ""
                expired = self._clock() - self._renewed_at >= self.renew_deadline
            if holder != self.identity:
                log.warning("%r: the lease is held by %r now", self, holder)
                return
            if expired:
                log.warning("%r: no renewal succeeded for %gs", self, self.renew_deadline)
                return

    def _try_acquire_or_renew(self, timeout: float) -> bool:
        """client-go ``tryAcquireOrRenew``: one attempt to take or keep the lease."""
        stamp = micro_time(datetime.now(UTC))
        desired = LeaseRecord(self.identity, self._duration_seconds, stamp, stamp, 0)
        timeout = max(0.05, timeout)

        # 1. Fast path: the leader updates the object it last wrote, assuming nobody else did.
        with self._lock:
            observed, lease = self._observed, self._lease
            valid = self._lease_valid()
        if observed is not None and lease is not None and observed.holder == self.identity and valid:
            record = replace(desired, acquire_time=observed.acquire_time, transitions=observed.transitions)
            try:
                self._written(
                    record, self.cluster.replace(self._body(lease, record), timeout=timeout, retries=0)
                )
                return True
            except errors.GitopsError as exc:
                log.info("%r: optimistic renewal failed, re-reading the lease: %s", self, exc)

        # 2. Read the lease, or create it.
        try:
            current_lease = self.cluster.get(self.key, timeout=timeout, retries=0)
        except errors.GitopsError as exc:
            log.warning("%r: cannot read the lease: %s", self, exc)
            return False
        if current_lease is None:
            new: dict[str, Any] = {"metadata": {"name": self.name, "namespace": self.namespace}}
            body = self._body({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", **new}, desired)
            try:
                self._written(desired, self.cluster.create(body, timeout=timeout, retries=0))
            except errors.AlreadyExists:
                log.info("%r: another candidate created the lease first", self)
                return False
            except errors.GitopsError as exc:
                log.warning("%r: cannot create the lease: %s", self, exc)
                return False
            log.info("%r: created the lease and leads", self)
            return True

        # 3. Note when the record last changed, on our clock; held by another and fresh: wait.
        current = LeaseRecord.of(current_lease)
        with self._lock:
            self._lease = current_lease
            if current != self._observed:
                self._observed, self._observed_at = current, self._clock()
            valid = self._lease_valid()
        if current.holder and current.holder != self.identity and valid:
            return False

        # 4. Take it over (or renew it the slow way) with the resourceVersion just read.
        if current.holder == self.identity:
            record = replace(desired, acquire_time=current.acquire_time, transitions=current.transitions)
        else:
            record = replace(desired, transitions=current.transitions + 1)
        try:
            self._written(
                record, self.cluster.replace(self._body(current_lease, record), timeout=timeout, retries=0)
            )
        except errors.Conflict:
            log.info("%r: lost the race for the lease", self)
            return False
        except errors.GitopsError as exc:
            log.warning("%r: cannot update the lease: %s", self, exc)
            return False
        if current.holder != self.identity:
            log.info("%r: took the lease over from %r", self, current.holder or "nobody")
        return True

    def _release(self) -> None:
        """client-go ``release``: hand the lease back (holder "", duration 1 s) if we hold it."""
        with self._lock:
            observed, lease = self._observed, self._lease
        if observed is None or lease is None or observed.holder != self.identity:
            return
        stamp = micro_time(datetime.now(UTC))
        record = LeaseRecord("", 1, stamp, stamp, observed.transitions)
        try:
            self._written(
                record,
                self.cluster.replace(self._body(lease, record), timeout=self.renew_deadline, retries=0),
            )
            log.info("%r: released the lease", self)
        except errors.GitopsError as exc:
            log.warning("%r: cannot release the lease (it expires by itself): %s", self, exc)

    # ----------------------------------------------------------------------------- helpers

    def _body(self, lease: Mapping[str, Any], record: LeaseRecord) -> dict[str, Any]:
        """The lease to PUT for ``record``, its leader-URL annotation ours when we hold it
        (none when we advertise nothing, or release it)."""
        body = _with_spec(lease, record)
        metadata = dict(body.get("metadata") or {})
        annotations = dict(metadata.get("annotations") or {})
        annotations.pop(LEADER_URL_ANNOTATION, None)
        if record.holder == self.identity and self.advertise:
            annotations[LEADER_URL_ANNOTATION] = self.advertise
        if annotations:
            metadata["annotations"] = annotations
        else:
            metadata.pop("annotations", None)
        body["metadata"] = metadata
        return body

    def _lease_valid(self) -> bool:
        """client-go ``isLeaseValid`` (the caller holds the lock): the observed record changed
        less than its leaseDurationSeconds ago, on our monotonic clock."""
        if self._observed is None:
            return False
        return self._clock() < self._observed_at + self._observed.duration

    def _written(self, record: LeaseRecord, stored: dict[str, Any]) -> None:
        """client-go ``setObservedRecord`` after a successful write."""
        with self._lock:
            self._observed, self._observed_at, self._lease = record, self._clock(), stored

    def _start_leading(self) -> None:
        with self._lock:
            self._leading = True
        self._leader_event.set()
        log.info("%r: leading", self)
        self._callbacks.put(self._on_started)

    def _stop_leading(self, why: str) -> bool:
        """Leave the leading state once (whoever gets here first); whether we were leading."""
        with self._lock:
            was, self._leading = self._leading, False
        if was:
            self._leader_event.clear()
            log.warning("%r: not leading any more (%s)", self, why)
            self._callbacks.put(self._on_stopped)
        return was

    def _run_callbacks(self) -> None:
        while True:
            callback = self._callbacks.get()
            if callback is None:
                return
            try:
                callback()
            except Exception:
                log.exception("%r: a leader election callback failed", self)


def _with_spec(lease: Mapping[str, Any], record: LeaseRecord) -> dict[str, Any]:
    """The lease object to PUT: as read (its resourceVersion makes the write conditional),
    with the election fields of the spec set (client-go ``LeaseLock.Update``; fields it does not
    manage, such as ``strategy``, are kept as its record carries them)."""
    body = dict(lease)
    body.setdefault("apiVersion", "coordination.k8s.io/v1")
    body.setdefault("kind", "Lease")
    body["spec"] = {**(lease.get("spec") or {}), **record.spec()}
    return body


def _nothing() -> None:
    return None
