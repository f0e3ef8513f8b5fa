"""What a sync does to each object, and what it amounts to."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from gitops.model.resource import ResourceKey


class Action(Enum):
    """What happens (or would happen) to one object."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    PRUNE = "prune"
    SKIP = "skip"  # left alone on purpose: prune protection, ignored, not owned

    @property
    def writes(self) -> bool:
        return self in (Action.CREATE, Action.UPDATE, Action.PRUNE)


@dataclass(frozen=True)
class Change:
    """One object's entry in a sync: the action, its phase, a masked summary of what differs
    (paths, never Secret values), and a message (why skipped, the server's error, ...)."""

    key: ResourceKey
    action: Action
    phase: str = ""
    summary: tuple[str, ...] = ()
    message: str = ""
    error: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.key.group,
            "kind": self.key.kind,
            "namespace": self.key.namespace,
            "name": self.key.name,
            "action": self.action.value,
            "phase": self.phase,
            "summary": list(self.summary),
            "message": self.message,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Change:
        return cls(
            ResourceKey(d["group"], d["kind"], d["namespace"], d["name"]),
            Action(d["action"]),
            d.get("phase", ""),
            tuple(d.get("summary", ())),
            d.get("message", ""),
            bool(d.get("error", False)),
        )


@dataclass(frozen=True)
class ChangeSet:
    """Every object's change, in the order they were (or would be) made."""

    changes: tuple[Change, ...] = ()

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def with_(self, *more: Change) -> ChangeSet:
        return ChangeSet(self.changes + more)

    def of(self, *actions: Action) -> list[Change]:
        return [c for c in self.changes if c.action in actions]

    @property
    def writes(self) -> int:
        return sum(1 for c in self.changes if c.action.writes)

    @classmethod
    def from_iter(cls, changes: Iterable[Change]) -> ChangeSet:
        return cls(tuple(changes))


class SyncResult(Enum):
    """A sync's outcome; CLI exit codes follow it."""

    SUCCEEDED = "Succeeded"
    NO_CHANGE = "NoChange"
    DEGRADED = "Degraded"  # applied, but workloads are not healthy
    FAILED = "Failed"
    INTERRUPTED = "Interrupted"  # the process died mid-sync (found on the next start)

    @property
    def failed(self) -> bool:
        return self in (SyncResult.FAILED, SyncResult.DEGRADED, SyncResult.INTERRUPTED)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


class Trigger(Enum):
    CLI = "cli"
    POLL = "poll"
    WEBHOOK = "webhook"
    SELF_HEAL = "self-heal"
    ROLLBACK = "rollback"
    AUTO_ROLLBACK = "auto-rollback"
    API = "api"


@dataclass(frozen=True)
class SyncRecord:
    """A history entry. ``id`` is 0 until stored. Times are RFC 3339 UTC strings."""

    app: str
    trigger: Trigger
    started: str
    result: SyncResult
    repo: str = ""
    path: str = ""
    revision: str = ""
    author: str = ""
    commit_date: str = ""
    subject: str = ""
    finished: str = ""
    changes: ChangeSet = field(default_factory=ChangeSet)
    error: str = ""
    id: int = 0
