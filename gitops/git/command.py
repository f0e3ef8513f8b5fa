"""Running one git command under a hard timeout (I/O).

GitPython builds and starts the process (its executable lookup, its ``LC_ALL=C`` environment);
we own the waiting. The command starts in a new session, so on timeout the whole process group
is killed with SIGKILL: git and every helper it started (``git-remote-https``, ``ssh``,
``index-pack``), which ``Popen.kill`` alone would leave running and holding our pipes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import git


class CommandTimeout(Exception):
    """The command ran past its timeout and was killed (internal: the caller adds context)."""


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


def run(
    args: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str],
    cwd: Path | None = None,
    consume_stdout: Callable[[IO[bytes]], None] | None = None,
) -> Completed:
    """Run ``git <args>``; stdout is returned as text, or streamed to ``consume_stdout`` (which
    must read until EOF). Raises :class:`CommandTimeout` once ``timeout`` seconds have passed,
    after killing the process group. A non-zero exit status is returned, not raised."""
    runner = git.cmd.Git(str(cwd) if cwd else None)
    handle = runner.execute(
        [git.cmd.Git.GIT_PYTHON_GIT_EXECUTABLE or "git", *args],
        as_process=True,
        env=dict(env),
        start_new_session=True,
    )
    assert isinstance(handle, git.cmd.Git.AutoInterrupt)
    proc = handle.proc
    assert proc is not None and proc.stdout is not None and proc.stderr is not None
    fired = threading.Event()
    done = threading.Lock()

    def kill() -> None:
        with done:
            if proc.returncode is None:
                fired.set()
                _killpg(proc.pid)

    watchdog = threading.Timer(timeout, kill)
    watchdog.daemon = True
    watchdog.start()
    try:
        if consume_stdout is None:
            out, err = proc.communicate()
        else:
            errbuf: list[bytes] = []
            stderr = proc.stderr
            reader = threading.Thread(target=lambda: errbuf.append(stderr.read()), daemon=True)
            reader.start()
            consume_stdout(proc.stdout)
            out = proc.stdout.read()  # whatever the consumer left (normally nothing)
            reader.join()
            proc.wait()
            err = b"".join(errbuf)
    except BaseException as exc:
        with done:
            if proc.returncode is None:
                _killpg(proc.pid)
        proc.wait()
        if fired.is_set():
            raise CommandTimeout(f"killed after {timeout:g}s") from exc
        raise
    finally:
        watchdog.cancel()
        with done:  # from here on, the watchdog cannot signal a reaped (reusable) pid
            pass
        for stream in (proc.stdout, proc.stderr):
            stream.close()
    if fired.is_set():
        raise CommandTimeout(f"killed after {timeout:g}s")
    return Completed(proc.returncode, _text(out), _text(err))


def _killpg(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, str):
        return data
    return data.decode("utf-8", errors="replace")
