"""Which syncs are still running: one lock file per open History (I/O).

Every :class:`~gitops.history.History` holds an exclusive ``flock`` on a file of its own,
``<database>.owners/<owner id>.lock``, for as long as it is open, and stamps its owner id on the
rows it begins. The kernel drops a flock when its holder dies, however it dies (SIGKILL, OOM, a
node reboot), so "can I take this owner's lock?" answers "is the process that began this sync
gone?" without trusting pids (reused), hostnames (a restarted pod has a new one) or clocks. A
History in the same process holds its own open file, so it counts as alive too.

The file is created under a temporary name, locked, then renamed into place: a lock file is
never visible unlocked while its owner lives.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import time
import uuid
from pathlib import Path

_SUFFIX = ".lock"
_OPENING = "opening"  # no .lock suffix: sweep() never takes it for an owner
_STALE_TMP_SECONDS = 3600.0


class OwnerLock:
    """This process's (or History's) claim to be alive, held until :meth:`release`."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.id = uuid.uuid4().hex
        tmp = directory / f".{self.id}.tmp"
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # nobody else knows this file yet: never waits
            os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
            os.rename(tmp, self.path)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        self._fd: int | None = fd

    @property
    def path(self) -> Path:
        return self.directory / f"{self.id}{_SUFFIX}"

    def release(self) -> None:
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


def lock_opening(directory: Path, timeout: float) -> int:
    """Take the lock a History holds while it switches the database to WAL and migrates it, so
    one opener at a time (threads and processes alike) does that; the descriptor to close to
    release it. Two connections converting a rollback-journal database to WAL at once can
    deadlock on the upgrade from SHARED to EXCLUSIVE, and SQLite then answers SQLITE_BUSY at once
    instead of calling the busy handler: "If SQLite determines that invoking the busy handler
    could result in a deadlock, it will go ahead and return SQLITE_BUSY to the application"
    (https://www.sqlite.org/c3ref/busy_handler.html).

    Held for a few statements; the kernel drops it if the holder dies. Waits as SQLite's busy
    handler does (retries, backing off to 50 ms) and raises TimeoutError after ``timeout``
    seconds (a holder stopped with Ctrl-Z must not hang every other opener); OSError when the
    file cannot be opened. flock needs no write access: the file is opened read-only."""
    fd = os.open(directory / _OPENING, os.O_RDONLY | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() >= deadline:
                os.close(fd)
                if exc.errno in (errno.EAGAIN, errno.EACCES):
                    raise TimeoutError(f"another opener held the database for {timeout:g}s") from exc
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def alive(directory: Path, owner: str) -> bool:
    """Whether the History that stamped ``owner`` is still open (its lock is held)."""
    if not owner:
        return False
    path = directory / f"{owner}{_SUFFIX}"
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return True
        raise
    finally:
        os.close(fd)
    return False


def sweep(directory: Path) -> None:
    """Remove the lock files of owners that are gone (and temp files older than an hour)."""
    if not directory.is_dir():
        return
    for path in directory.iterdir():
        if path.suffix == _SUFFIX and not alive(directory, path.stem):
            path.unlink(missing_ok=True)
        elif path.name.startswith(".") and path.name.endswith(".tmp"):
            with contextlib.suppress(FileNotFoundError):
                if time.time() - path.stat().st_mtime > _STALE_TMP_SECONDS:
                    path.unlink(missing_ok=True)
