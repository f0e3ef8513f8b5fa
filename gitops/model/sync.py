"""What a sync does to each object, and what it amounts to."""

from __future__ import annotations

import json
import re
import urllib.parse
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
    """A history entry. ``id`` is 0 until stored. Times are RFC 3339 UTC strings.

    ``message`` says what a sync did beyond its changes, for an operator: a rollback names the
    entry it restored ("rolled back Deployment/shop/web from 1a2b3c4d to 5e6f7a8b (history
    #12)"), a failed sync what its auto-rollback did or why it did none. Empty for most syncs;
    ``error`` stays the reason a sync failed."""

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
    message: str = ""

    def to_row(self) -> dict[str, Any]:
        """The history table's columns (``id`` excluded: the database assigns it). ``changes`` is
        a JSON list of :meth:`Change.to_json`; the repository URL is redacted here, so no
        caller can store a token with it by mistake."""
        return {
            "app": self.app,
            "trigger": self.trigger.value,
            "result": self.result.value,
            "repo": redact_url(self.repo),
            "path": self.path,
            "revision": self.revision,
            "author": self.author,
            "commit_date": self.commit_date,
            "subject": self.subject,
            "started": self.started,
            "finished": self.finished,
            "changes": json.dumps([c.to_json() for c in self.changes], separators=(",", ":")),
            "error": self.error,
            "message": self.message,
        }

    def to_json(self) -> dict[str, Any]:
        """The record as ``gitops history -o json`` prints it and the daemon's API serves it
        (camelCase keys, the repository URL redacted)."""
        return {
            "id": self.id,
            "app": self.app,
            "trigger": self.trigger.value,
            "result": self.result.value,
            "repo": redact_url(self.repo),
            "path": self.path,
            "revision": self.revision,
            "author": self.author,
            "commitDate": self.commit_date,
            "subject": self.subject,
            "started": self.started,
            "finished": self.finished,
            "error": self.error,
            "message": self.message,
            "changes": [c.to_json() for c in self.changes],
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SyncRecord:
        """The inverse of :meth:`to_row`, plus ``id`` when the row has one. Raises ValueError
        for a result or trigger this version does not know."""
        return cls(
            app=row["app"],
            trigger=Trigger(row["trigger"]),
            started=row["started"],
            result=SyncResult(row["result"]),
            repo=row.get("repo") or "",
            path=row.get("path") or "",
            revision=row.get("revision") or "",
            author=row.get("author") or "",
            commit_date=row.get("commit_date") or "",
            subject=row.get("subject") or "",
            finished=row.get("finished") or "",
            changes=ChangeSet.from_iter(Change.from_json(c) for c in json.loads(row.get("changes") or "[]")),
            error=row.get("error") or "",
            id=int(row.get("id") or 0),
            message=row.get("message") or "",
        )


_SCP_LIKE = re.compile(r"^(?P<user>[^@/:]+(?::[^@/]*)?)@(?P<rest>[^/:]+:.*)$")


def redact_url(url: str) -> str:
    """A repository URL safe to show, log and store: no password, no token.

    ``https://user:token@host/r.git`` and ``https://token@host/r.git`` become
    ``https://host/r.git`` (over HTTP the user name is often the token itself); an SSH user
    name is kept (``ssh://git@host/r``, ``git@host:org/r``) but any password after it is
    dropped; query values are replaced by ``***``. Local paths come back unchanged."""
    m = _SCP_LIKE.match(url)
    if m and "://" not in url:
        return f"{m['user'].split(':', 1)[0]}@{m['rest']}"
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparseable URL>" if "@" in url else url
    if not parts.scheme or not parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = host
    if "@" in parts.netloc and parts.scheme.lower() in ("ssh", "git+ssh", "ssh+git"):
        user = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]
        netloc = f"{user}@{host}"
    query = parts.query
    if query:
        query = "&".join(f"{kv.split('=', 1)[0]}=***" if "=" in kv else kv for kv in query.split("&"))
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))
