"""One pending wake-up per key, so that timer chains never multiply (pure bookkeeping, no I/O).

A reconcile returns the simulated seconds until it wants to run again, and the manager adds a
timer each time. A key reconciled because of an event (often the controller's own write) would
then start a second chain of timers beside the one already pending, and every further event
another. :class:`Wakeups` remembers the earliest wake-up already asked for each key: a reconcile
asks for a timer only when none is pending at or before the time it needs, so a key has one
live chain however many events it sees. A superseded later timer still fires once; the
reconcile it causes finds nothing due and asks for nothing.
"""

from __future__ import annotations

from collections.abc import Hashable

# Timers fire when the clock has reached them; this absorbs float rounding in the comparison.
_EPSILON = 1e-6


class Wakeups:
    def __init__(self) -> None:
        self._at: dict[Hashable, float] = {}

    def seen(self, key: Hashable, now: float) -> None:
        """Call at the start of a reconcile: a wake-up due by ``now`` has fired."""
        at = self._at.get(key)
        if at is not None and at <= now + _EPSILON:
            del self._at[key]

    def after(self, key: Hashable, when: float | None, now: float) -> float | None:
        """The reconcile's return value for a wish to run again at ``when`` (None: no wish).

        None when a wake-up at or before ``when`` is already pending; otherwise the seconds
        from ``now`` to ``when`` (at least a hair, so the timer fires after ``when``).
        """
        if when is None:
            return None
        pending = self._at.get(key)
        if pending is not None and pending <= when + _EPSILON:
            return None
        self._at[key] = when
        return max(when - now, 0.0) + _EPSILON

    def forget(self, key: Hashable) -> None:
        self._at.pop(key, None)
