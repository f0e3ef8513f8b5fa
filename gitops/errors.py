"""The gitops exception tree (stdlib only).

::

    GitopsError
     +-- ConfigError            bad apps config or CLI input (exit code 2)
     +-- ClusterUnreachable     the API server cannot be reached (exit code 3)
     +-- ManifestError          the app's manifests cannot be rendered or are invalid; nothing was
                                written; ``problems`` lists every one, each a ``Problem`` (exit code 2)
     +-- ClusterError           the API server refused a request (status code, reason, message)
     |    +-- ApplyError        an object could not be applied; names the object first
     |    |    +-- AlreadyExists  a create found the name taken (409 AlreadyExists)
     |    |    +-- Conflict     a write lost a race: stale resourceVersion, or field conflicts (409)
     |    +-- ClusterAuthError  the server refused our credentials (401); names their source
     +-- GitError               a Git operation failed; names the (redacted) URL and revision
     |    +-- RepoUnreachable   the repository cannot be reached or read (retryable)
     |    |    +-- GitTimeout   a git command ran past its timeout and was killed (retryable)
     |    |    +-- GitAuthError the server refused our credentials (not retryable)
     |    +-- UnknownRevision   no branch, tag or commit of that name
     |    +-- PathNotFound      the app's path is not in the tree at that revision
     |    +-- GitCredentialsError  a token or SSH key file cannot be read
     +-- HistoryError           the history database failed; the write did not happen
          +-- HistoryBusy       another writer held the database past the busy timeout (retryable)
          +-- HistorySchemaError  the database's schema is newer than this gitops, or a migration failed

Third-party errors are converted at the boundary of the module that owns the library, into the
most specific class here, chained with ``from``. Errors worth retrying carry ``retryable``.
Later issues extend the tree under the same base.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class GitopsError(Exception):
    """Base of every error gitops raises on purpose."""

    exit_code = 1


class ConfigError(GitopsError):
    """The user's configuration or command line is invalid; nothing was done."""

    exit_code = 2


class ClusterUnreachable(GitopsError):
    """The Kubernetes API server could not be reached."""

    exit_code = 3


class ClusterError(GitopsError):
    """The API server answered with an error. ``code`` is the HTTP status, ``reason`` the
    Status reason (``Conflict``, ``Invalid``, ...), ``retryable`` says whether trying again
    later can help (429, 5xx, conflicts)."""

    def __init__(self, message: str, *, code: int = 0, reason: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.retryable = retryable


class ApplyError(ClusterError):
    """Applying one object failed; the message starts with the object's key."""

    def __init__(
        self, key: str, message: str, *, code: int = 0, reason: str = "", retryable: bool = False
    ) -> None:
        super().__init__(f"{key}: {message}", code=code, reason=reason, retryable=retryable)
        self.key = key


class AlreadyExists(ApplyError):
    """A create found an object of that name already there (409 ``AlreadyExists``). Whoever
    created it first won; read it and decide."""


class Conflict(ApplyError):
    """A write lost a race (409 ``Conflict``): an update carried a stale ``resourceVersion``
    (someone wrote the object since it was read), or a server-side apply met another manager's
    fields. Re-read and try again; a leader elector takes it as a lost election."""


class ClusterAuthError(ClusterError):
    """The API server refused our credentials (401 Unauthorized): a wrong, expired or revoked
    token. The message names where the credentials came from (the service account token file,
    a kubeconfig context), never the token itself. Retrying with the same credentials cannot
    help; an in-cluster token is re-read when the kubelet rotates it."""


class GitError(GitopsError):
    """A Git operation failed. ``url`` is redacted (no userinfo, no token) and ``revision`` is
    what was asked for; both are in the message. ``retryable`` says whether trying again later
    can help (network trouble, timeouts), as opposed to a fix in Git or in the config."""

    retryable_default = False

    def __init__(self, message: str, *, url: str = "", revision: str = "") -> None:
        super().__init__(message)
        self.url = url
        self.revision = revision
        self.retryable = self.retryable_default


class RepoUnreachable(GitError):
    """The repository could not be reached or read: no such path, DNS, connection refused,
    HTTP 5xx, repository not found. Retry at the next poll."""

    retryable_default = True


class GitTimeout(RepoUnreachable):
    """A git command ran past ``GitOptions.timeout``; it and its children were killed."""


class GitAuthError(RepoUnreachable):
    """The server refused the credentials (or asked for some and none were given). Retrying
    with the same credentials cannot help."""

    retryable_default = False


class UnknownRevision(GitError):
    """The repository has no branch, tag or commit matching the revision (a deleted branch
    lands here, even when an old copy is still cached)."""


class PathNotFound(GitError):
    """The app's path does not exist at the resolved revision, or leaves the repository."""


class GitCredentialsError(GitError):
    """A configured credential (token file, SSH key file) is missing or unreadable."""


class HistoryError(GitopsError):
    """The history database could not be read or written. A failed write changed nothing:
    every write is one transaction."""

    retryable = False


class HistoryBusy(HistoryError):
    """Another writer held the database lock past the busy timeout; try again."""

    retryable = True


class HistorySchemaError(HistoryError):
    """The database was written by a newer gitops (its schema version is unknown here), or a
    migration failed (the database is left at the previous version)."""


class Location(Protocol):
    """Where a problem was found: ``gitops.model.Origin`` (this module sits below the model layer,
    so it names the shape, not the class). ``line`` 0 means the whole file or path."""

    @property
    def path(self) -> str: ...

    @property
    def index(self) -> int: ...

    @property
    def line(self) -> int: ...


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the manifests: where (file, document, line), which object when it is
    known (a ``gitops.model.ResourceKey``, shown first as every message about an object is), and
    what. Messages name fields and keys, never values, so a Secret's data cannot leak through them."""

    origin: Location
    key: object | None
    message: str

    def __str__(self) -> str:
        o = self.origin
        where = f"{o.path} (document {o.index + 1}, line {o.line})" if o.line > 0 else o.path
        what = f"{self.key}: {self.message}" if self.key is not None else self.message
        return f"{where}: {what}"


class ManifestError(GitopsError):
    """The app's manifests could not be rendered or failed validation; nothing was written.

    ``problems`` holds every problem found (loading and validation collect them all rather than
    stopping at the first); ``str()`` lists them one per line as
    ``path (document N, line L): message``."""

    exit_code = 2

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
