"""Options of the Git source and the commit it resolves to (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class GitOptions:
    """How :class:`~gitops.git.Source` reaches repositories.

    ``cache_dir``: where the bare clones live, one per repository URL (default: the user's cache
    dir, ``~/.cache/gitops/git`` on Linux). Several processes may share it.
    ``timeout``: seconds allowed to each git command (and to waiting for another process's
    fetch of the same repository); past it the command is killed and ``GitTimeout`` raised.
    ``shallow``: fetch only the commits asked for (``--depth=1``); full history is fetched only
    to resolve an abbreviated SHA or a commit the server will not serve by id.
    ``token``: an HTTPS token, sent as an ``Authorization: Basic`` header (user name
    ``token_username``; GitHub takes ``x-access-token``, GitLab any name, Bitbucket
    ``x-token-auth``). Defaults to ``$GITOPS_GIT_TOKEN`` or the content of
    ``$GITOPS_GIT_TOKEN_FILE`` (read again at every command, so a rotated secret is picked up).
    ``ssh_key_file``: a private key for SSH URLs (default ``$GITOPS_GIT_SSH_KEY_FILE``), used
    with ``IdentitiesOnly=yes``; ``ssh_known_hosts_file`` pins the server's host keys
    (``StrictHostKeyChecking=yes``), otherwise ssh's own known_hosts apply.
    ``checkout_dir``: where exported trees are written (default: the system temp dir).
    """

    cache_dir: Path | None = None
    timeout: float = 60
    shallow: bool = True
    token: str | None = field(default=None, repr=False)
    ssh_key_file: Path | None = None
    token_username: str = "x-access-token"
    ssh_known_hosts_file: Path | None = None
    checkout_dir: Path | None = None


@dataclass(frozen=True)
class Commit:
    """A resolved revision: the full SHA, ``Name <email>`` of the author, the author date as
    RFC 3339 UTC (``2024-05-01T12:00:00Z``) and the first line of the message. For a plain
    directory ``sha`` is ``dir:<sha256 of the content>`` and the other fields are empty."""

    sha: str
    author: str = ""
    date: str = ""
    subject: str = ""
