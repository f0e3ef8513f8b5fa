"""Health of an object, ordered by severity."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class HealthState(Enum):
    """From best to worst; ``worst()`` of a set is the app's health."""

    HEALTHY = "Healthy"
    PROGRESSING = "Progressing"
    UNKNOWN = "Unknown"
    MISSING = "Missing"
    DEGRADED = "Degraded"

    @property
    def severity(self) -> int:
        return _ORDER.index(self)

    @staticmethod
    def worst(states: Iterable[HealthState]) -> HealthState:
        return max(states, key=lambda s: s.severity, default=HealthState.HEALTHY)


_ORDER = list(HealthState)


@dataclass(frozen=True)
class Health:
    """A state and one sentence an operator can act on."""

    state: HealthState
    message: str = ""

    @property
    def healthy(self) -> bool:
        return self.state is HealthState.HEALTHY
