"""The git smart-HTTP test server (tests/gitserver.py) against real git and gitops.git."""

from __future__ import annotations

import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops.errors import GitAuthError, RepoUnreachable
from gitops.git import GitOptions, Source
from tests.gitserver import GitHttpServer, git, git_env, make_repo

TOKEN = "s3cr3t-t0ken-f0r-tests"


@pytest.fixture(autouse=True)
def no_git_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("GITOPS_GIT_TOKEN", "GITOPS_GIT_TOKEN_FILE", "GIT_CONFIG_COUNT", "GIT_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitHttpServer]:
    with GitHttpServer(tmp_path / "repos") as s:
        yield s


@pytest.fixture
def token_server(tmp_path: Path) -> Iterator[GitHttpServer]:
    with GitHttpServer(tmp_path / "repos", token=TOKEN) as s:
        yield s


def source(tmp_path: Path, **options: object) -> Source:
    return Source(GitOptions(cache_dir=tmp_path / "cache", timeout=30, **options))  # type: ignore[arg-type]


def run_git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=git_env(), timeout=60)


def test_clone_push_and_ls_remote_over_http(server: GitHttpServer, tmp_path: Path) -> None:
    work = make_repo(server, "apps", {"web/deploy.yaml": "image: web:1\n", "old.yaml": "x\n"})
    first = work.head
    assert server.url_for("apps") == f"http://127.0.0.1:{server.port}/apps.git"
    assert server.url_for("apps.git") == server.url_for("apps")

    second = work.commit_and_push({"web/deploy.yaml": "image: web:2\n", "old.yaml": None}, "bump")
    assert second != first
    refs = git("ls-remote", server.url_for("apps"))
    assert f"{second}\tHEAD" in refs and f"{second}\trefs/heads/main" in refs

    clone = tmp_path / "clone"
    git("clone", "-q", server.url_for("apps"), str(clone))
    assert (clone / "web/deploy.yaml").read_text() == "image: web:2\n"
    assert not (clone / "old.yaml").exists()
    assert git("log", "--format=%s", cwd=clone).splitlines() == ["bump", "initial commit"]

    methods = {(r.method, r.status) for r in server.log}
    assert ("POST", 200) in methods and ("GET", 200) in methods
    assert server.requests == len(server.log) > 0


def test_protocol_v2_reaches_http_backend(server: GitHttpServer) -> None:
    work = make_repo(server, "apps", {"a.yaml": "a\n"})
    proc = subprocess.run(
        ["git", "-c", "protocol.version=2", "ls-remote", server.url_for("apps")],
        capture_output=True,
        text=True,
        env=git_env({"GIT_TRACE_PACKET": "1"}),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert work.head in proc.stdout
    assert "version 2" in proc.stderr  # the server answered in protocol v2
    assert any(r.git_protocol == "version=2" for r in server.log)


def test_large_push_is_streamed_chunked_and_gzipped_fetch_works(
    server: GitHttpServer, tmp_path: Path
) -> None:
    work = make_repo(server, "big", {"README": "big\n"})
    blobs = {f"blob-{i}.bin": os.urandom(1 << 20) for i in range(4)}  # 4 MB, incompressible
    sha = work.commit_and_push(blobs, "four megabytes")
    # a pack larger than http.postBuffer (1 MiB) is sent with Transfer-Encoding: chunked
    assert any(r.chunked and "git-receive-pack" in r.path for r in server.log)

    # many branches: the fetch request lists >1 KiB of wants, which git gzips
    for i in range(40):
        work.commit({f"branch-{i}": f"{i}\n"}, f"branch {i}")
        work.push(refspec=f"HEAD:refs/heads/b{i}")
    clone = tmp_path / "clone"
    git("clone", "-q", "--no-single-branch", server.url_for("big"), str(clone))
    assert any(r.content_encoding == "gzip" for r in server.log)
    assert git("rev-parse", "origin/main", cwd=clone) == sha
    assert (clone / "blob-3.bin").read_bytes() == blobs["blob-3.bin"]
    assert len(git("branch", "-r", cwd=clone).splitlines()) >= 41


def test_force_push_rewrites_the_branch(server: GitHttpServer) -> None:
    work = make_repo(server, "apps", {"a.yaml": "1\n"})
    first = work.head
    work.commit_and_push({"a.yaml": "2\n"}, "two")
    work.force_push_reset(first)
    assert work.head == first
    assert git("ls-remote", server.url_for("apps"), "refs/heads/main").split()[0] == first


def test_token_required_without_it_401(token_server: GitHttpServer) -> None:
    make_repo(token_server, "apps", {"a.yaml": "1\n"})  # the helper's own pushes carry the token
    url = token_server.url_for("apps") + "/info/refs?service=git-upload-pack"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url, timeout=10)
    assert caught.value.code == 401
    assert caught.value.headers["WWW-Authenticate"].startswith("Basic")

    proc = run_git("ls-remote", token_server.url_for("apps"))
    assert proc.returncode != 0
    assert TOKEN not in proc.stderr

    bearer = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(bearer, timeout=10) as answer:
        assert answer.status == 200
    wrong = urllib.request.Request(url, headers={"Authorization": "Bearer nope"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(wrong, timeout=10)
    assert caught.value.code == 401


def test_gitops_source_without_token_is_an_auth_error(token_server: GitHttpServer, tmp_path: Path) -> None:
    make_repo(token_server, "apps", {"a.yaml": "1\n"})
    with pytest.raises(GitAuthError) as caught:
        source(tmp_path).ls_remote(token_server.url_for("apps"))
    assert token_server.url_for("apps") in str(caught.value)


def test_gitops_source_with_the_environment_token(
    token_server: GitHttpServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    work = make_repo(token_server, "apps", {"web/deploy.yaml": "image: web:1\n"})
    mark = len(token_server.log)  # the helper's own clone and push carried the token too
    monkeypatch.setenv("GITOPS_GIT_TOKEN", TOKEN)
    src = source(tmp_path)
    url = token_server.url_for("apps")
    assert src.ls_remote(url) == work.head
    assert src.ls_remote(url, "main") == work.head
    assert src.resolve(url, "main").sha == work.head
    with src.checkout(url, "main", "web") as co:
        assert (co.path / "deploy.yaml").read_text() == "image: web:1\n"
        assert co.revision == work.head
    authorized = [r for r in token_server.log[mark:] if r.authorization and r.status == 200]
    assert authorized, "gitops sent no Authorization header"
    assert TOKEN not in caplog.text


def test_down_is_a_clear_error_and_up_recovers(server: GitHttpServer, tmp_path: Path) -> None:
    work = make_repo(server, "apps", {"a.yaml": "1\n"})
    src = source(tmp_path)
    url = server.url_for("apps")
    assert src.resolve(url).sha == work.head

    server.down()
    second = work.commit({"a.yaml": "2\n"}, "two")  # committed, not pushed: the host is down
    with pytest.raises(RepoUnreachable) as caught:
        src.resolve(url)
    assert not isinstance(caught.value, GitAuthError)
    assert url in str(caught.value) and "503" in str(caught.value)
    assert any(r.status == 503 for r in server.log)

    server.up()
    work.push()
    assert src.resolve(url).sha == second


def test_refused_connections_while_down_then_same_url_again(server: GitHttpServer, tmp_path: Path) -> None:
    work = make_repo(server, "apps", {"a.yaml": "1\n"})
    url = server.url_for("apps")
    server.down(refuse=True)
    with pytest.raises(RepoUnreachable) as caught:
        source(tmp_path).ls_remote(url)
    assert "127.0.0.1" in str(caught.value)
    server.up()
    assert server.url_for("apps") == url
    assert source(tmp_path).ls_remote(url) == work.head
