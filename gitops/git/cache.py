"""The clone cache: one bare repository per remote URL, shared by threads and processes (I/O).

Layout under the cache dir::

    <name>-<hash>.git/     a bare repository; refs mirror the remote's (refs/heads/*,
                           refs/tags/*), commits fetched by SHA are kept under refs/gitops/pins/*
    <name>-<hash>.git.lock the lock file every writer holds (flock) while it fetches
    <name>-<hash>.git.url  the redacted URL, for whoever looks at the directory

Writers (init, fetch) hold an exclusive ``flock`` on the lock file, which serializes threads
(each takes its own open file description) and processes alike, and which the kernel releases
when a holder dies. Readers (``cat-file``, ``archive``) take no lock: git publishes a pack only
once it is complete (``fetch.unpackLimit=1`` keeps every fetch a pack, so a killed fetch never
leaves a commit without its tree), and refs are replaced atomically.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import git

from gitops.git import remote as remote_

# git's own lock files, left behind when a fetch is killed (timeout, SIGKILL): under our flock
# no other git runs in this repository, so any of them is stale.
_GIT_LOCKS = ("shallow.lock", "packed-refs.lock", "config.lock", "HEAD.lock", "FETCH_HEAD.lock")


class LockTimeout(Exception):
    """Another writer held the cache lock past the timeout (internal)."""


class RepoCache:
    def __init__(self, root: Path, remote: remote_.Remote) -> None:
        self.root = root
        self.remote = remote
        self.path = root / remote.cache_key
        self._lock_path = root / f"{remote.cache_key}.lock"

    def exists(self) -> bool:
        return (self.path / "HEAD").is_file()

    @property
    def shallow(self) -> bool:
        return (self.path / "shallow").is_file()

    @contextmanager
    def locked(self, timeout: float) -> Iterator[None]:
        """Hold the writer lock; raises LockTimeout after ``timeout`` seconds of waiting."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + timeout
            delay = 0.005
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        raise LockTimeout(
                            f"the cache lock {self._lock_path} was held for {timeout:g}s"
                        ) from None
                    time.sleep(delay)  # polling a lock, not waiting for a result
                    delay = min(delay * 2, 0.1)
            yield
        finally:
            os.close(fd)  # releases the flock

    def init(self) -> None:
        """Create the bare repository (caller holds the lock). Built in a temporary directory
        and renamed into place, so a crash never leaves a half-made cache."""
        if self.exists():
            return
        if self.path.exists():  # debris of something that is not a repository
            shutil.rmtree(self.path)
        tmp = Path(tempfile.mkdtemp(prefix=".init-", dir=self.root))
        try:
            repo = git.Repo.init(tmp, bare=True)
            try:
                with repo.config_writer() as cw:
                    cw.set_value("fetch", "unpackLimit", "1")
                    cw.set_value("transfer", "unpackLimit", "1")
                    cw.set_value("gc", "autoDetach", "false")
                    cw.set_value("maintenance", "autoDetach", "false")
                    cw.set_value("core", "logAllRefUpdates", "false")
            finally:
                repo.close()
            # Highest-priority attributes: archive the tree as committed, whatever the repo's
            # own .gitattributes say (export-ignore would drop files, export-subst edit them).
            (tmp / "info").mkdir(exist_ok=True)
            (tmp / "info" / "attributes").write_text("* -export-ignore -export-subst\n")
            os.rename(tmp, self.path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        (self.root / f"{self.remote.cache_key}.url").write_text(self.remote.display + "\n")

    def clear_stale_git_locks(self) -> None:
        """Remove git lock files a killed fetch left (caller holds the lock)."""
        for name in _GIT_LOCKS:
            (self.path / name).unlink(missing_ok=True)
        refs = self.path / "refs"
        if refs.is_dir():
            for lock in refs.rglob("*.lock"):
                lock.unlink(missing_ok=True)
