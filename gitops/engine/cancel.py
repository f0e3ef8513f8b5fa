"""A request to stop a sync at its next safe point, saying why (pure: threads, no I/O)."""

from __future__ import annotations

import threading
from collections.abc import Callable

NEWER_REVISION = "a newer revision arrived"


class Cancel:
    """Set from any thread to stop a sync: the health gate's waits end at once (their
    listener is called on the cancelling thread), and the engine checks :meth:`is_set` before
    each phase and before prune. The first reason given wins; history records it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reason = ""
        self._listeners: list[Callable[[str], None]] = []

    def cancel(self, reason: str = NEWER_REVISION) -> None:
        with self._lock:
            if self._reason:
                return
            self._reason = reason or NEWER_REVISION
            listeners = list(self._listeners)
        for listener in listeners:
            listener(self._reason)

    def is_set(self) -> bool:
        return bool(self.reason)

    @property
    def reason(self) -> str:
        """Why the sync was cancelled ("" while it is not)."""
        with self._lock:
            return self._reason

    def subscribe(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call ``listener(reason)`` when cancelled (now, if it already is); the function that
        unsubscribes it."""
        with self._lock:
            reason = self._reason
            if not reason:
                self._listeners.append(listener)
        if reason:
            listener(reason)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe
