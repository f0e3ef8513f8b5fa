"""Every git command has a timeout; past it git and its helpers are killed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gitops.errors import GitTimeout
from gitops.git import GitOptions, Source
from tests.git.conftest import GitHttpServer, SilentServer, Upstream


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def _wait_until(condition: object, timeout: float = 10.0) -> bool:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)  # polling a condition, not a fixed wait
    return bool(condition())


def test_server_that_never_answers_times_out_and_git_is_killed(
    silent_server: SilentServer, cache_dir: Path
) -> None:
    source = Source(GitOptions(cache_dir=cache_dir, timeout=1.5))
    started = time.monotonic()
    with pytest.raises(GitTimeout) as err:
        source.resolve(f"http://127.0.0.1:{silent_server.port}/repo.git", "main")
    elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 10
    assert err.value.retryable and "1.5s" in str(err.value) and "main" in str(err.value)
    assert silent_server.accepted.is_set()
    # git-remote-http, git's child, held the connection: it is closed because it was killed
    assert silent_server.closed.wait(10)


def test_hanging_ssh_helper_is_killed(
    upstream: Upstream, cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "ssh.pid"
    fake_ssh = tmp_path / "hang-ssh"
    fake_ssh.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 600\n")
    fake_ssh.chmod(0o755)
    monkeypatch.setenv("GIT_SSH_COMMAND", str(fake_ssh))
    source = Source(GitOptions(cache_dir=cache_dir, timeout=1))
    with pytest.raises(GitTimeout):
        source.ls_remote("ssh://git@git.example.com/team/deploy.git", "main")
    assert pid_file.exists()
    pid = int(pid_file.read_text())
    assert _wait_until(lambda: not _alive(pid)), f"the ssh helper {pid} still runs"


def test_a_killed_fetch_leaves_the_cache_usable(
    http_server: GitHttpServer, upstream: Upstream, cache_dir: Path
) -> None:
    upstream.commit({"a.yaml": "v: 1"})
    url = http_server.url("upstream.git")
    options = GitOptions(cache_dir=cache_dir, token="s3cr3t-t0ken-value", timeout=1.5)
    Source(options).resolve(url, "main")
    new = upstream.commit({"a.yaml": "v: 2"})

    http_server.hang_fetches = True  # ls-remote answers, the fetch of the new commit hangs
    with pytest.raises(GitTimeout, match="fetch"):
        Source(options).resolve(url, "main")
    http_server.hang_fetches = False
    http_server.released.set()

    source = Source(options)
    with source.checkout(url, "main") as co:
        assert co.revision == new and (co.root / "a.yaml").read_text() == "v: 2"
    assert "init" not in source.operation_counts()


def test_the_wait_for_another_fetch_is_bounded(upstream: Upstream, cache_dir: Path) -> None:
    from gitops.git.cache import RepoCache
    from gitops.git.remote import Remote

    upstream.commit({"a.yaml": "v: 1"})  # not cached yet: resolving needs the writer lock
    cache = RepoCache(cache_dir, Remote.parse(upstream.url))
    with cache.locked(5), pytest.raises(GitTimeout, match="another fetch"):
        Source(GitOptions(cache_dir=cache_dir, timeout=0.5)).resolve(upstream.url, "main")
