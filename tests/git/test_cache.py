"""The clone cache: one bare repository per URL, fetched incrementally, never re-cloned."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gitops.errors import RepoUnreachable
from gitops.git import GitOptions, Source
from tests.git.conftest import Upstream, git


def _cache_repo(cache_dir: Path) -> Path:
    repos = [p for p in cache_dir.iterdir() if p.suffix == ".git" and p.is_dir()]
    assert len(repos) == 1, repos
    return repos[0]


def _objects(repo: Path) -> int:
    counts = dict(
        line.split(": ") for line in git("count-objects", "-v", cwd=repo).splitlines() if ": " in line
    )
    return int(counts["count"]) + int(counts["in-pack"])


def test_unchanged_remote_costs_one_ls_remote_and_no_fetch(
    source: Source, upstream: Upstream, cache_dir: Path
) -> None:
    upstream.commit({"a.yaml": "v: 1"})
    source.resolve(upstream.url, "main")
    before = source.operation_counts()
    assert (before["init"], before["fetch"]) == (1, 1)

    for _ in range(3):
        source.resolve(upstream.url, "main")
    after = source.operation_counts()
    assert after["init"] == 1 and after["fetch"] == 1
    assert after["ls-remote"] == before["ls-remote"] + 3


def test_new_commit_is_fetched_into_the_same_cache_without_recloning(
    source: Source, upstream: Upstream, cache_dir: Path
) -> None:
    upstream.commit({"a.yaml": "v: 1", "big.yaml": "x: " + "y" * 10000})
    source.resolve(upstream.url, "main")
    repo = _cache_repo(cache_dir)
    marker = repo / "gitops-test-marker"
    marker.write_text("still the same clone")
    inode = repo.stat().st_ino
    objects = _objects(repo)

    new = upstream.commit({"a.yaml": "v: 2"})
    assert source.resolve(upstream.url, "main").sha == new
    counts = source.operation_counts()
    assert (counts["init"], counts["fetch"]) == (1, 2)
    assert marker.read_text() == "still the same clone" and repo.stat().st_ino == inode
    # incremental: the new commit, its tree and one blob; big.yaml is not sent again
    assert 0 < _objects(repo) - objects <= 3


def test_cache_survives_a_new_source_instance(upstream: Upstream, cache_dir: Path) -> None:
    sha = upstream.commit({"a.yaml": "v: 1"})
    Source(GitOptions(cache_dir=cache_dir)).resolve(upstream.url, "main")
    again = Source(GitOptions(cache_dir=cache_dir))
    assert again.resolve(upstream.url, "main").sha == sha
    assert "init" not in again.operation_counts() and "fetch" not in again.operation_counts()


def test_url_spellings_share_one_cache(source: Source, upstream: Upstream, cache_dir: Path) -> None:
    upstream.commit({"a.yaml": "v: 1"})
    source.resolve(upstream.url, "main")
    source.resolve(str(upstream.bare), "main")
    source.resolve(f"{upstream.bare}/", "main")
    assert source.operation_counts()["init"] == 1
    _cache_repo(cache_dir)


def test_cached_full_sha_needs_no_network(source: Source, upstream: Upstream, tmp_path: Path) -> None:
    sha = upstream.commit({"a.yaml": "v: 1"})
    source.resolve(upstream.url, "main")
    upstream.bare.rename(tmp_path / "gone.git")  # the remote disappears
    with source.checkout(upstream.url, sha, "") as co:
        assert (co.root / "a.yaml").read_text() == "v: 1"
    with pytest.raises(RepoUnreachable):
        source.resolve(upstream.url, "main")  # a branch needs the remote


def test_cache_is_shallow_unless_configured(upstream: Upstream, tmp_path: Path) -> None:
    for i in range(3):
        upstream.commit({"a.yaml": f"v: {i}"})
    shallow = Source(GitOptions(cache_dir=tmp_path / "shallow"))
    shallow.resolve(upstream.url, "main")
    repo = _cache_repo(tmp_path / "shallow")
    assert git("rev-list", "--count", "refs/heads/main", cwd=repo) == "1"

    full = Source(GitOptions(cache_dir=tmp_path / "full", shallow=False))
    full.resolve(upstream.url, "main")
    assert git("rev-list", "--count", "refs/heads/main", cwd=_cache_repo(tmp_path / "full")) == "3"


def test_stale_git_lock_files_of_a_killed_fetch_do_not_block_the_next(
    source: Source, upstream: Upstream, cache_dir: Path
) -> None:
    upstream.commit({"a.yaml": "v: 1"})
    source.resolve(upstream.url, "main")
    repo = _cache_repo(cache_dir)
    (repo / "shallow.lock").write_text("")
    (repo / "refs" / "heads" / "main.lock").write_text("")
    new = upstream.commit({"a.yaml": "v: 2"})
    assert source.resolve(upstream.url, "main").sha == new


def test_default_cache_dir_is_the_users_cache_dir(
    upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    upstream.commit({"a.yaml": "v: 1"})
    source = Source()
    source.resolve(upstream.url, "main")
    assert source.cache_dir == tmp_path / "xdg-cache" / "gitops" / "git"
    _cache_repo(source.cache_dir)


def test_threads_fetching_new_commits_of_one_repo_agree(
    source: Source, upstream: Upstream, cache_dir: Path
) -> None:
    upstream.commit({"a.yaml": "v: 0"})
    source.resolve(upstream.url, "main")
    new = upstream.commit({"a.yaml": "v: 1"})
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        try:
            barrier.wait()
            results.append(source.resolve(upstream.url, "main").sha)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and results == [new] * 6
    assert source.operation_counts()["init"] == 1


def test_processes_sharing_a_cache_dir_fetch_safely(upstream: Upstream, cache_dir: Path) -> None:
    upstream.commit({"a.yaml": "v: 1"})
    code = (
        "import sys; from pathlib import Path; from gitops.git import GitOptions, Source;"
        "print(Source(GitOptions(cache_dir=Path(sys.argv[1]))).resolve(sys.argv[2], 'main').sha)"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(cache_dir), upstream.url], stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0] * 4
    assert set(outs) == {upstream.sha("main")}
    _cache_repo(cache_dir)
