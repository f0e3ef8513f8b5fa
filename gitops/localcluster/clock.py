"""The local cluster's clock: wall time, optionally scaled, and advanced by tests.

``scale=20`` makes 20 simulated seconds pass per wall second, so controllers' delays (readiness,
minReadySeconds, progress deadlines) elapse quickly; :meth:`Clock.advance` jumps forward at once.
Everything in the local cluster reads time from here, never from ``time`` directly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("clock scale must be positive")
        self._lock = threading.Lock()
        self._scale = scale
        self._base_wall = time.time()
        self._base_mono = time.monotonic()
        self._offset = 0.0
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever time jumps or its speed changes (controllers re-plan)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    @property
    def scale(self) -> float:
        return self._scale

    def time(self) -> float:
        """Simulated seconds since the epoch."""
        with self._lock:
            return self._base_wall + (time.monotonic() - self._base_mono) * self._scale + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def advance(self, seconds: float) -> None:
        """Jump ``seconds`` of simulated time forward and wake whoever waits on the clock."""
        with self._lock:
            self._offset += seconds
        self._changed()

    def set_scale(self, scale: float) -> None:
        if scale <= 0:
            raise ValueError("clock scale must be positive")
        with self._lock:
            now_sim = self._base_wall + (time.monotonic() - self._base_mono) * self._scale + self._offset
            self._base_wall, self._base_mono, self._offset = now_sim, time.monotonic(), 0.0
            self._scale = scale
        self._changed()

    def wall_seconds(self, simulated: float) -> float:
        """How long ``simulated`` seconds take in wall time."""
        return simulated / self._scale


def format_time(dt: datetime) -> str:
    """``metav1.Time``: RFC 3339 in UTC with whole seconds."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(dt: datetime) -> str:
    """``metav1.MicroTime``: RFC 3339 in UTC with six fractional digits."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str) -> datetime:
    """Accepts what clients send: ``Z`` or ``+00:00`` offsets, with or without fractions."""
    v = value.strip()
    if v.endswith("Z"):
        v = v[:-1] + "+00:00"
    dt = datetime.fromisoformat(v)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def age(then: str, now: datetime) -> timedelta:
    return now - parse_time(then)
