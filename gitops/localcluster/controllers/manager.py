"""The controller manager: kube-controller-manager's role, in one background thread.

Controllers do not poll. The manager subscribes to every store event and asks each controller
that watches the event's type which keys to reconcile (``keys_for``); those keys go on a
de-duplicated work queue, served in order by a single worker thread, so controllers never race
each other. A reconcile may ask to be run again after some *simulated* seconds (a readiness
delay, a progress deadline, a crash-loop backoff); such timers follow the cluster's
:class:`~gitops.localcluster.clock.Clock`, so a scaled or advanced clock makes them fire early
in wall time.

Controllers write through :class:`~gitops.localcluster.api.Api` in-process, as another client
of the API server would: every write goes through the same pipeline, emits watch events, and
is visible to kubectl. Their writes are not HTTP requests, so they do not appear in the request
log and fault injection does not touch them.

``ControllerManager.settle()`` waits until no work is queued and no timer is due, for tests
that want "everything the controllers would do now is done".

``keys_for`` runs in the worker thread outside the manager's lock (the store calls the manager
with the store lock held, so the manager never holds its own lock while touching the store);
it should still be cheap: index lookups, not scans.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from gitops.localcluster import errors
from gitops.localcluster.api import Api, WriteOptions
from gitops.localcluster.clock import Clock, format_time
from gitops.localcluster.resources import ResourceType
from gitops.localcluster.store import Event, TypeKey

log = logging.getLogger(__name__)

Key = Hashable


@dataclass
class Options:
    """Knobs of the simulated cluster's controllers (documented in README, local cluster)."""

    nodes: int = 1  # v1 Node objects registered at start (DaemonSets run one pod per node)
    pod_start_seconds: float = 1.0  # scheduled -> Running (image pull and container start)
    pod_ready_seconds: float = 1.0  # Running -> Ready, unless the template says otherwise
    job_run_seconds: float = 2.0  # how long a Job's pod runs before it exits


class OwnerIndex:
    """owner uid -> the (type, namespace, name) of its dependents, kept from store events."""

    def __init__(self) -> None:
        self._by_owner: dict[str, set[tuple[TypeKey, str, str]]] = {}
        self._owners_of: dict[tuple[TypeKey, str, str], tuple[str, ...]] = {}

    def observe(self, event: Event) -> None:
        meta = event.obj.get("metadata", {})
        ref = ((event.group, event.plural), meta.get("namespace", ""), meta.get("name", ""))
        for uid in self._owners_of.pop(ref, ()):
            deps = self._by_owner.get(uid)
            if deps is not None:
                deps.discard(ref)
                if not deps:
                    del self._by_owner[uid]
        if event.type == "DELETED":
            return
        uids = tuple(r.get("uid", "") for r in meta.get("ownerReferences") or [])
        if uids:
            self._owners_of[ref] = uids
            for uid in uids:
                self._by_owner.setdefault(uid, set()).add(ref)

    def dependents(self, uid: str, tk: TypeKey | None = None) -> list[tuple[TypeKey, str, str]]:
        return sorted(d for d in self._by_owner.get(uid, ()) if tk is None or d[0] == tk)


class Controller:
    """Base of every simulated controller.

    Subclasses set ``name`` and ``watches`` and implement :meth:`keys_for` and
    :meth:`reconcile`. ``reconcile`` returns None, or the simulated seconds after which it wants
    to run again for the same key.
    """

    name = "controller"
    # The field manager of this controller's writes (the User-Agent prefix of the real binary).
    manager = "kube-controller-manager"
    watches: tuple[TypeKey, ...] = ()

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.opts = WriteOptions(manager=self.manager)

    def start(self) -> None:
        """Called once before the first event (seed objects, initial work)."""

    def keys_for(self, event: Event) -> Iterable[Key]:
        raise NotImplementedError

    def reconcile(self, key: Key) -> float | None:
        raise NotImplementedError


class Context:
    """What controllers share: the API, the clock, the owner index and small helpers."""

    def __init__(self, manager: ControllerManager) -> None:
        self.manager = manager
        self.api: Api = manager.api
        self.clock: Clock = manager.clock
        self.store = manager.api.store
        self.owners = manager.owners
        self.options = manager.options

    def rt(self, group: str, plural: str) -> ResourceType:
        """The served type (preferred version) of a built-in resource."""
        for rt in self.api.registry.all():
            if rt.group == group and rt.plural == plural:
                return rt
        raise KeyError(f"{plural}.{group} is not served")

    def now(self) -> float:
        return self.clock.time()

    def now_str(self) -> str:
        return format_time(self.clock.now())

    def get(self, group: str, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.store.get((group, plural), (namespace, name))

    def items(self, group: str, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return self.store.items((group, plural), namespace)

    def dependents(self, owner: dict[str, Any], group: str, plural: str) -> list[dict[str, Any]]:
        """Live objects of a type whose ownerReferences name ``owner`` (by uid)."""
        uid = owner.get("metadata", {}).get("uid", "")
        out = []
        for _, ns, name in self.owners.dependents(uid, (group, plural)):
            obj = self.store.get((group, plural), (ns, name))
            if obj is not None:
                out.append(obj)
        return out

    def requeue(self, controller: Controller, key: Key, after: float = 0.0) -> None:
        self.manager.enqueue(controller, key, after)


class ControllerManager:
    def __init__(self, api: Api, clock: Clock, options: Options | None = None) -> None:
        self.api = api
        self.clock = clock
        self.options = options or Options()
        self.owners = OwnerIndex()
        self.controllers: list[Controller] = []
        self._by_type: dict[TypeKey, list[Controller]] = {}
        self._cond = threading.Condition()
        self._events: deque[Event] = deque()
        self._queue: deque[tuple[Controller, Key]] = deque()
        self._queued: set[tuple[str, Key]] = set()
        self._timers: list[tuple[float, int, Controller, Key]] = []
        self._seq = itertools.count()
        self._busy = False
        self._stop = False
        self._thread: threading.Thread | None = None
        self._token: int | None = None
        self.errors: list[str] = []  # unexpected reconcile failures, for tests to assert none
        clock.on_change(self._wake)

    def register(self, controller: Controller) -> None:
        self.controllers.append(controller)
        for tk in controller.watches:
            self._by_type.setdefault(tk, []).append(controller)

    def context(self) -> Context:
        return Context(self)

    # --------------------------------------------------------------------------- running

    def start(self) -> None:
        store = self.api.store
        with store.lock:
            for tk in store.type_keys():
                for obj in store.items(tk):
                    self.owners.observe(Event(0, "ADDED", tk[0], tk[1], obj, None))
            self._token, _ = store.subscribe(None, self._on_event)
            for tk, controllers in self._by_type.items():
                for obj in store.items(tk):
                    for c in controllers:
                        for key in c.keys_for(Event(0, "ADDED", tk[0], tk[1], obj, None)):
                            self._add(c, key)
        for c in self.controllers:
            c.start()
        self._thread = threading.Thread(target=self._run, name="controller-manager", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._token is not None:
            self.api.store.unsubscribe(self._token)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _on_event(self, event: Event) -> None:
        # Called under the store lock: only enqueue.
        with self._cond:
            self._events.append(event)
            self._cond.notify_all()

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def enqueue(self, controller: Controller, key: Key, after: float = 0.0) -> None:
        with self._cond:
            if after <= 0:
                self._add(controller, key)
            else:
                heapq.heappush(self._timers, (self.clock.time() + after, next(self._seq), controller, key))
            self._cond.notify_all()

    def _add(self, controller: Controller, key: Key) -> None:
        ident = (controller.name, key)
        if ident not in self._queued:
            self._queued.add(ident)
            self._queue.append((controller, key))

    def _keys_for(self, events: list[Event]) -> list[tuple[Controller, Key]]:
        """Map events to work, outside the manager's lock: ``keys_for`` may read the store, and
        the store calls :meth:`_on_event` with its own lock held (lock order: store, then
        manager; never the reverse)."""
        out: list[tuple[Controller, Key]] = []
        for event in events:
            self.owners.observe(event)
            for c in self._by_type.get((event.group, event.plural), ()):
                try:
                    out.extend((c, key) for key in c.keys_for(event))
                except Exception:
                    log.exception("%s: keys_for failed", c.name)
                    self.errors.append(f"{c.name}: keys_for failed")
        return out

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop:
                    due = bool(self._timers) and self._timers[0][0] <= self.clock.time()
                    if self._events or self._queue or due:
                        break
                    self._busy = False
                    self._cond.notify_all()
                    timeout = 1.0
                    if self._timers:
                        timeout = min(
                            1.0, max(0.0, self.clock.wall_seconds(self._timers[0][0] - self.clock.time()))
                        )
                    self._cond.wait(timeout)
                if self._stop:
                    return
                self._busy = True
                events = list(self._events)
                self._events.clear()
            work = self._keys_for(events)
            with self._cond:
                for c, key in work:
                    self._add(c, key)
                now = self.clock.time()
                while self._timers and self._timers[0][0] <= now:
                    _, _, c, key = heapq.heappop(self._timers)
                    self._add(c, key)
                if not self._queue:
                    continue
                controller, key = self._queue.popleft()
                self._queued.discard((controller.name, key))
            try:
                again = controller.reconcile(key)
            except errors.StatusError as err:
                # Conflicts and races with other writers: retry soon, as a workqueue would.
                again = 0.05 if err.code in (409, 404) else 1.0
                if err.code not in (409, 404):
                    log.warning("%s %s: %s", controller.name, key, err.message)
            except Exception as exc:  # a controller bug must not stop the cluster
                log.exception("%s %s failed", controller.name, key)
                self.errors.append(f"{controller.name} {key}: {type(exc).__name__}: {exc}")
                again = 5.0
            if again is not None:
                self.enqueue(controller, key, again)
            # Let the HTTP thread in between reconciles: a burst of controller work (a hundred
            # rollouts) must not hold the GIL for a client's unrelated GET.
            time.sleep(0)

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait (wall seconds) until nothing is queued or running and no timer is due now.

        True when settled; timers due later do not count, so a cluster waiting on a readiness
        delay is settled.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                due = bool(self._timers) and self._timers[0][0] <= self.clock.time()
                if not self._busy and not self._queue and not self._events and not due:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
