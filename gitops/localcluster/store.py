"""The local cluster's object store: etcd's role, in memory (I/O only for the state file).

- One global ``resourceVersion`` counter for every kind, as etcd's revision (K8S-API.md §2).
- Stored objects are never mutated: every write stores a new dict. Readers may serialize stored
  dicts without copying, which is what makes a LIST of thousands of objects cheap.
- A bounded window of past events serves watches that resume from a resourceVersion; older
  versions get 410 Expired, as after an etcd compaction.
- Subscribers (HTTP watches, controllers) are called under the store lock with each event; they
  must only enqueue.
- With a state file, a background flusher writes a full snapshot at most every ``flush_interval``
  seconds by write-to-temporary, fsync and atomic rename: a crash or kill loses at most the last
  interval's writes and never leaves a torn file.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from gitops.localcluster import files

Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects
TypeKey = tuple[str, str]  # (group, plural)


@dataclass(frozen=True)
class Event:
    """One change: ``type`` is ADDED, MODIFIED or DELETED; ``old`` is the previous state."""

    rv: int
    type: str
    group: str
    plural: str
    obj: dict[str, Any]
    old: dict[str, Any] | None


class TooOld(Exception):
    """A watch or continue token asked for history the window no longer holds."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


Subscriber = Callable[[Event], None]


class Store:
    def __init__(
        self,
        state_file: Path | None = None,
        *,
        history: int = 50_000,
        flush_interval: float = 0.05,
    ) -> None:
        self.lock = threading.RLock()
        self._data: dict[TypeKey, dict[Key, dict[str, Any]]] = {}
        self._rv = 1
        self._events: deque[Event] = deque(maxlen=history)
        # The oldest resourceVersion a watch may resume from (the "compaction" point).
        self._compacted = 1
        self._subscribers: dict[int, tuple[TypeKey | None, Subscriber]] = {}
        self._next_sub = 0
        self._state_file = state_file
        self._flush_interval = flush_interval
        self._dirty = threading.Event()
        self._closed = threading.Event()
        self._flusher: threading.Thread | None = None
        if state_file is not None:
            self._load(state_file)
            self._flusher = threading.Thread(target=self._flush_loop, name="store-flusher", daemon=True)
            self._flusher.start()

    # -- reads -------------------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        return self._rv

    @property
    def oldest_resumable(self) -> int:
        return self._compacted

    def get(self, tk: TypeKey, key: Key) -> dict[str, Any] | None:
        """The stored object (shared: never mutate it), or None."""
        return self._data.get(tk, {}).get(key)

    def items(self, tk: TypeKey, namespace: str | None = None) -> list[dict[str, Any]]:
        """Stored objects of one type in key order (namespace, then name), as etcd lists them."""
        with self.lock:
            bucket = self._data.get(tk, {})
            keys = sorted(k for k in bucket if namespace is None or k[0] == namespace)
            return [bucket[k] for k in keys]

    def count(self, tk: TypeKey) -> int:
        return len(self._data.get(tk, {}))

    def type_keys(self) -> list[TypeKey]:
        with self.lock:
            return [tk for tk, bucket in self._data.items() if bucket]

    # -- writes ------------------------------------------------------------------------------

    def next_rv(self) -> int:
        """Reserve the resourceVersion of the next write (call with the lock held)."""
        self._rv += 1
        return self._rv

    def put(self, tk: TypeKey, key: Key, obj: dict[str, Any], rv: int) -> None:
        """Store ``obj`` (already carrying ``rv``) and notify; ADDED or MODIFIED by presence."""
        with self.lock:
            bucket = self._data.setdefault(tk, {})
            old = bucket.get(key)
            bucket[key] = obj
            self._emit(Event(rv, "MODIFIED" if old is not None else "ADDED", tk[0], tk[1], obj, old))

    def remove(self, tk: TypeKey, key: Key, last: dict[str, Any], rv: int) -> None:
        """Remove the object; the DELETED event carries ``last`` (its final state, with ``rv``)."""
        with self.lock:
            old = self._data.get(tk, {}).pop(key, None)
            self._emit(Event(rv, "DELETED", tk[0], tk[1], last, old))

    def drop_type(self, tk: TypeKey) -> list[dict[str, Any]]:
        """Forget every object of a type without events (a CRD's instances after it is deleted)."""
        with self.lock:
            bucket = self._data.pop(tk, {})
            self._dirty.set()
            return list(bucket.values())

    def _emit(self, event: Event) -> None:
        if len(self._events) == self._events.maxlen and self._events:
            self._compacted = self._events[0].rv
        self._events.append(event)
        for tk, fn in list(self._subscribers.values()):
            if tk is None or tk == (event.group, event.plural):
                fn(event)
        self._dirty.set()

    # -- watch -------------------------------------------------------------------------------

    def subscribe(
        self, tk: TypeKey | None, fn: Subscriber, since: int | None = None
    ) -> tuple[int, list[Event]]:
        """Subscribe ``fn`` to future events of ``tk`` (every type when None).

        With ``since``, also return the retained events after that resourceVersion, atomically
        with the subscription so that none is missed or seen twice. Raises :class:`TooOld` when
        the window no longer reaches back to ``since``.
        """
        with self.lock:
            backlog: list[Event] = []
            if since is not None and since < self._rv:
                # The window holds every event after ``_compacted``.
                if since < self._compacted:
                    raise TooOld(since, self._compacted)
                backlog = [
                    e for e in self._events if e.rv > since and (tk is None or (e.group, e.plural) == tk)
                ]
            self._next_sub += 1
            self._subscribers[self._next_sub] = (tk, fn)
            return self._next_sub, backlog

    def unsubscribe(self, token: int) -> None:
        with self.lock:
            self._subscribers.pop(token, None)

    def check_resumable(self, rv: int) -> None:
        """Raise :class:`TooOld` when ``rv`` is older than the event window."""
        if rv < self._compacted:
            raise TooOld(rv, self._compacted)

    # -- persistence -------------------------------------------------------------------------

    def _load(self, path: Path) -> None:
        if not path.exists():
            return
        raw = orjson.loads(path.read_bytes())
        self._rv = int(raw["resourceVersion"])
        self._compacted = self._rv
        for group, plural, obj in raw["objects"]:
            meta = obj.get("metadata", {})
            self._data.setdefault((group, plural), {})[(meta.get("namespace", ""), meta["name"])] = obj

    def snapshot(self) -> bytes:
        with self.lock:
            objects = [[tk[0], tk[1], obj] for tk, bucket in self._data.items() for obj in bucket.values()]
            return orjson.dumps({"resourceVersion": self._rv, "objects": objects})

    def flush(self) -> None:
        """Write the state file now (atomic replace); a no-op without a state file."""
        if self._state_file is None:
            return
        self._dirty.clear()
        data = self.snapshot()
        path = self._state_file
        path.parent.mkdir(parents=True, exist_ok=True)
        files.atomic_write(path, data)

    def _flush_loop(self) -> None:
        while not self._closed.is_set():
            self._dirty.wait()
            if self._closed.wait(self._flush_interval):
                break
            self.flush()

    def close(self) -> None:
        self._closed.set()
        self._dirty.set()
        if self._flusher is not None:
            self._flusher.join(timeout=5)
            self.flush()

    def load_objects(self, entries: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
        """Seed objects without events (the cluster's built-in objects at first start)."""
        with self.lock:
            for group, plural, obj in entries:
                meta = obj["metadata"]
                self._data.setdefault((group, plural), {})[(meta.get("namespace", ""), meta["name"])] = obj
