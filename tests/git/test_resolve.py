"""Revisions resolve to commits the way git resolves them, against the remote's current state."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.errors import GitError, RepoUnreachable, UnknownRevision
from gitops.git import Commit, Source
from tests.git.conftest import Upstream


def test_branch_tag_annotated_tag_head_and_commit_resolve_to_their_commits(
    source: Source, upstream: Upstream
) -> None:
    first = upstream.commit({"a.yaml": "v: 1"}, "first")
    upstream.tag("v1", first, annotated=True)
    upstream.tag("light", first, annotated=False)
    feature = upstream.commit({"a.yaml": "v: f"}, "feature work", branch="feature")
    second = upstream.commit({"a.yaml": "v: 2"}, "second", branch="main")

    assert source.resolve(upstream.url, "main").sha == second
    assert source.resolve(upstream.url, "HEAD").sha == second
    assert source.resolve(upstream.url, "").sha == second
    assert source.resolve(upstream.url, "feature").sha == feature
    assert source.resolve(upstream.url, "refs/heads/feature").sha == feature
    assert source.resolve(upstream.url, "v1").sha == first  # annotated tag peeled to its commit
    assert source.resolve(upstream.url, "light").sha == first
    assert source.resolve(upstream.url, first).sha == first
    assert source.resolve(upstream.url, first.upper()).sha == first


def test_commit_carries_author_utc_date_and_subject(source: Source, upstream: Upstream) -> None:
    sha = upstream.commit({"a.yaml": "v: 1"}, "Deploy web 1.2\n\nlong body\nmore")
    commit = source.resolve(upstream.url, "main")
    # the fixture commits at 12:00 +02:00 on day 1
    assert commit == Commit(sha, "Ada Lovelace <ada@example.com>", "2024-01-01T10:00:00Z", "Deploy web 1.2")


def test_abbreviated_sha_resolves_after_fetching_history(source: Source, upstream: Upstream) -> None:
    old = upstream.commit({"a.yaml": "v: 1"}, "old")
    upstream.commit({"a.yaml": "v: 2"}, "new")
    source.resolve(upstream.url, "main")  # a shallow cache: only the tip
    assert source.resolve(upstream.url, old[:10]).sha == old


def test_commit_only_in_history_is_fetched_by_id(source: Source, upstream: Upstream) -> None:
    old = upstream.commit({"a.yaml": "v: 1"}, "old")
    upstream.commit({"a.yaml": "v: 2"}, "new")
    source.resolve(upstream.url, "main")
    commit = source.resolve(upstream.url, old)
    assert (commit.sha, commit.subject) == (old, "old")


def test_tag_wins_over_branch_of_the_same_name_as_in_git(source: Source, upstream: Upstream) -> None:
    tagged = upstream.commit({"a.yaml": "v: 1"}, "tagged")
    upstream.tag("release", tagged)
    branch_tip = upstream.commit({"a.yaml": "v: 2"}, "on the branch", branch="release")
    assert branch_tip != tagged
    assert source.resolve(upstream.url, "release").sha == tagged
    assert source.resolve(upstream.url, "refs/heads/release").sha == branch_tip


def test_unknown_revision_names_url_and_revision(source: Source, upstream: Upstream) -> None:
    upstream.commit({"a.yaml": "v: 1"})
    with pytest.raises(UnknownRevision) as err:
        source.resolve(upstream.url, "no-such-branch")
    assert "no-such-branch" in str(err.value) and str(upstream.bare) in str(err.value)
    assert err.value.revision == "no-such-branch"
    assert not err.value.retryable


def test_unknown_commit_sha_is_an_unknown_revision(source: Source, upstream: Upstream) -> None:
    upstream.commit({"a.yaml": "v: 1"})
    with pytest.raises(UnknownRevision, match="0123456789abcdef0123456789abcdef01234567"):
        source.resolve(upstream.url, "0123456789abcdef0123456789abcdef01234567")


def test_deleted_branch_is_unknown_even_though_it_is_cached(source: Source, upstream: Upstream) -> None:
    upstream.commit({"a.yaml": "v: 1"})
    upstream.commit({"a.yaml": "v: f"}, branch="feature")
    source.resolve(upstream.url, "feature")
    upstream.delete_branch("feature")
    with pytest.raises(UnknownRevision, match="feature"):
        source.resolve(upstream.url, "feature")
    assert source.ls_remote(upstream.url, "feature") is None


def test_force_push_resolves_to_the_rewritten_commit(source: Source, upstream: Upstream) -> None:
    base = upstream.commit({"a.yaml": "v: 1"}, "base")
    bad = upstream.commit({"a.yaml": "v: bad"}, "bad")
    assert source.resolve(upstream.url, "main").sha == bad
    upstream.reset_hard(base)
    fixed = upstream.commit({"a.yaml": "v: fixed"}, "fixed", push=False)
    upstream.push("main", force=True)
    commit = source.resolve(upstream.url, "main")
    assert (commit.sha, commit.subject) == (fixed, "fixed")
    with source.checkout(upstream.url, "main") as co:
        assert (co.root / "a.yaml").read_text() == "v: fixed"


def test_moved_tag_resolves_to_its_new_commit(source: Source, upstream: Upstream) -> None:
    first = upstream.commit({"a.yaml": "v: 1"})
    upstream.tag("stable", first)
    assert source.resolve(upstream.url, "stable").sha == first
    second = upstream.commit({"a.yaml": "v: 2"})
    upstream.tag("stable", second, force=True)
    assert source.resolve(upstream.url, "stable").sha == second


def test_local_path_and_file_url_resolve_alike(source: Source, upstream: Upstream) -> None:
    sha = upstream.commit({"a.yaml": "v: 1"})
    assert source.resolve(str(upstream.bare), "main").sha == sha
    assert source.resolve(upstream.url, "main").sha == sha
    # a non-bare repository's path works too
    assert source.resolve(str(upstream.work), "main").sha == sha


def test_missing_repository_is_unreachable_and_retryable(source: Source, tmp_path: Path) -> None:
    with pytest.raises(RepoUnreachable) as err:
        source.resolve(str(tmp_path / "nowhere.git"), "main")
    assert "nowhere.git" in str(err.value) and "main" in str(err.value)
    assert err.value.retryable


def test_refused_connection_is_unreachable(source: Source) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(RepoUnreachable, match=f"127.0.0.1:{port}"):
        source.resolve(f"http://127.0.0.1:{port}/repo.git", "main")


def test_empty_repository_has_no_revision(source: Source, upstream: Upstream) -> None:
    with pytest.raises(UnknownRevision):
        source.resolve(upstream.url, "HEAD")


def test_ls_remote_reports_current_tips_without_fetching(source: Source, upstream: Upstream) -> None:
    first = upstream.commit({"a.yaml": "v: 1"})
    upstream.tag("v1", first)
    second = upstream.commit({"a.yaml": "v: 2"})
    assert source.ls_remote(upstream.url, "main") == second
    assert source.ls_remote(upstream.url, "HEAD") == second
    assert source.ls_remote(upstream.url, "v1") == first
    assert source.ls_remote(upstream.url, "nope") is None
    counts = source.operation_counts()
    assert counts.get("fetch", 0) == 0 and counts.get("init", 0) == 0


def test_errors_are_git_errors(source: Source, tmp_path: Path) -> None:
    with pytest.raises(GitError):
        source.ls_remote(str(tmp_path / "missing"), "main")


def test_commit_a_server_will_not_serve_by_id_is_found_by_a_full_fetch(
    source: Source, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    # protocol v0 without uploadpack.allowReachableSHA1InWant: "want <sha>" of a commit that is
    # no ref tip is refused ("not our ref"), as some Git hosts do
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "protocol.version")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "0")
    old = upstream.commit({"a.yaml": "v: 1"}, "old")
    upstream.commit({"a.yaml": "v: 2"}, "new")
    source.resolve(upstream.url, "main")
    assert source.resolve(upstream.url, old).subject == "old"
    assert source.operation_counts()["fetch"] == 3  # main, the refused fetch by id, everything
