"""What a repository URL is, how to show it, and where its cache lives (pure helpers).

Git's own rules decide what is a URL: ``scheme://...`` is a URL, ``[user@]host:path`` with no
slash before the colon is SSH's scp-like syntax, anything else is a local path (see
``git help clone``, GIT URLS). HTTP(S) userinfo is never passed to git: it is taken out of the
URL and sent as an ``Authorization`` header instead (see :mod:`gitops.git.credentials`), so no
command line, log line or error ever carries it.
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gitops.model.sync import redact_url

__all__ = ["Remote", "redact_url", "scrub"]

_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?[^/:]+:")
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


@dataclass(frozen=True)
class Remote:
    """A repository location, parsed once.

    ``url`` is what git is given (userinfo removed for HTTP); ``display`` is the redacted form
    for messages; ``local_path`` is set for local paths and ``file://`` URLs; ``username`` and
    ``password`` are HTTP(S) userinfo taken out of the URL (never shown)."""

    original: str
    url: str
    display: str
    scheme: str  # "file", "http", "https", "ssh", or another git transport
    local_path: Path | None = None
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> Remote:
        url = url.strip()
        if "://" not in url:
            if _SCP_LIKE.match(url):
                return cls(url, url, redact_url(url), "ssh")
            path = Path(url).expanduser().resolve()
            return cls(url, str(path), str(path), "file", local_path=path)
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "file":
            path = Path(urllib.parse.unquote(parts.path)).resolve()
            return cls(url, str(path), f"file://{path}", "file", local_path=path)
        if scheme in ("http", "https") and "@" in parts.netloc:
            userinfo, host = parts.netloc.rsplit("@", 1)
            user, _, password = userinfo.partition(":")
            clean = urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, ""))
            return cls(
                url,
                clean,
                redact_url(url),
                scheme,
                username=urllib.parse.unquote(user),
                password=urllib.parse.unquote(password),
            )
        return cls(url, url, redact_url(url), scheme)

    @property
    def is_http(self) -> bool:
        return self.scheme in ("http", "https")

    @property
    def is_ssh(self) -> bool:
        return self.scheme in ("ssh", "git+ssh", "ssh+git")

    @property
    def http_base(self) -> str:
        """``scheme://host[:port]/``: the prefix a header is scoped to (``http.<url>.*``)."""
        parts = urllib.parse.urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}/"

    @property
    def is_loopback(self) -> bool:
        host = urllib.parse.urlsplit(self.url).hostname or ""
        return host in _LOOPBACK_HOSTS or host.startswith("127.")

    @property
    def cache_key(self) -> str:
        """The cache directory's name: one clone per repository, whatever the credentials
        (which are not part of the key) and however the URL is spelled (trailing ``/`` or
        ``.git``, host case)."""
        if self.local_path is not None:
            ident = f"file://{self.local_path}"
        else:
            ident = self.display.rstrip("/")
            ident = ident[:-4] if ident.endswith(".git") else ident
            parts = urllib.parse.urlsplit(ident)
            if parts.scheme:
                ident = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.lower()))
        digest = hashlib.sha256(ident.encode()).hexdigest()[:16]
        tail = re.sub(r"[^A-Za-z0-9._-]+", "-", ident.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1])
        tail = tail[:-4] if tail.endswith(".git") else tail
        return f"{tail[:40] or 'repo'}-{digest}.git"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***`` and every URL in it redacted."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


def resolve_local(repo: str, base: Path) -> str:
    """``repo`` with a relative local path made absolute against ``base`` (the directory of the
    config file that names it), when that path exists; URLs, scp-like SSH addresses and
    absolute paths come back as they are. The CLI and the daemon read one config the same way."""
    if "://" in repo or _SCP_LIKE.match(repo) or Path(repo).expanduser().is_absolute():
        return repo
    candidate = (base / repo).resolve()
    return str(candidate) if candidate.exists() else repo
