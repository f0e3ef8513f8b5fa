"""What the daemon's HTTP side (API, webhooks) sees of the scheduler: one small protocol.

``gitops.daemon.service.Daemon`` implements :class:`Controller`; ``gitops.daemon.api`` serves it.
Keeping the boundary this narrow lets the API be tested against a stub and the scheduler
without HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from gitops.model import SyncRecord, Trigger


@dataclass(frozen=True)
class AppStatus:
    """One app as the daemon knows it now (the API's ``/api/v1/apps`` entry).

    Times are RFC 3339 UTC strings ("" when never). ``condition`` names what currently keeps the
    app from being reconciled ("git: cannot reach https://git.example.com/...: ...", "cluster:
    ...") or is "" when nothing does. ``message`` is the operator-facing state sentence, e.g.
    "rolled back from 1a2b3c4, waiting for a new commit".
    """

    name: str
    repo: str  # credentials redacted
    path: str
    revision: str  # what the app tracks (branch, tag, commit)
    tracked_revision: str = ""  # the commit SHA Git has for it, as last polled
    synced_revision: str = ""  # the commit SHA of the last successful sync
    result: str = ""  # the last sync's SyncResult value ("" before the first)
    health: str = "Unknown"  # HealthState value of the app as a whole
    drift: bool | None = None  # live differs from Git (None: not checked yet)
    last_sync: str = ""  # when the last sync finished
    last_success: str = ""  # when the last successful sync finished
    syncing: bool = False
    reconciled: bool = False  # reconciled at least once (or failed clearly): counts for /readyz
    condition: str = ""
    message: str = ""
    self_heal: bool = False
    interval: float = 0.0
    history_id: int = 0  # id of the last history entry
    errors: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Push:
    """A push event, from any provider's webhook or ``gitops notify``."""

    provider: str  # github, gitlab, gitea, bitbucket, bitbucket-server, generic, notify
    repo_urls: tuple[str, ...]  # every clone URL spelling the event names
    ref: str  # refs/heads/main, refs/tags/v1 (or a bare branch name from a generic sender)
    after: str = ""  # the pushed commit SHA when the event says it
    delivery: str = ""  # the provider's delivery id (dedupe)


class Controller(Protocol):
    """The daemon as the HTTP side drives it. Every method is thread-safe and quick: syncs are
    queued, never run on the caller's thread."""

    def apps(self) -> Sequence[AppStatus]: ...

    def app(self, name: str) -> AppStatus | None: ...

    def history(self, name: str, limit: int = 20, before: int | None = None) -> Sequence[SyncRecord]: ...

    def request_sync(self, name: str, trigger: Trigger) -> bool:
        """Queue a sync of app ``name`` now; False when there is no such app."""
        ...

    def push(self, event: Push) -> list[str]:
        """Queue a sync of every app whose repository and tracked ref the push matches; the
        names of those apps (empty when none matched)."""
        ...

    def ready(self) -> bool:
        """Every app was reconciled once, or failed clearly (/readyz)."""
        ...

    def live(self) -> bool:
        """The scheduler is running (/healthz)."""
        ...
