"""Tokens and SSH keys reach git, and nothing else: not URLs, logs, errors or command lines."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from gitops.errors import GitAuthError, GitCredentialsError
from gitops.git import GitOptions, Source, redact_url
from tests.git.conftest import GitHttpServer, Upstream

TOKEN = "s3cr3t-t0ken-value"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pa55w0rd@git.example.com/team/r.git", "https://git.example.com/team/r.git"),
        ("https://ghp_abcdef1234567890@github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://x-access-token:ghs_xyz@github.com:8443/o/r", "https://github.com:8443/o/r"),
        (
            "https://git.example.com/r.git?private_token=abc&x",
            "https://git.example.com/r.git?private_token=***&x",
        ),
        ("ssh://git@github.com/o/r.git", "ssh://git@github.com/o/r.git"),
        ("ssh://git:secret@github.com:22/o/r.git", "ssh://git@github.com:22/o/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("git:secret@github.com:o/r.git", "git@github.com:o/r.git"),
        ("/srv/git/r.git", "/srv/git/r.git"),
        ("file:///srv/git/r.git", "file:///srv/git/r.git"),
        ("https://github.com/o/r.git", "https://github.com/o/r.git"),
    ],
)
def test_redact_url_drops_passwords_and_tokens(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_token_is_sent_as_a_header_and_fetch_works(
    http_server: GitHttpServer, upstream: Upstream, cache_dir: Path
) -> None:
    sha = upstream.commit({"a.yaml": "v: 1"})
    source = Source(GitOptions(cache_dir=cache_dir, token=TOKEN))
    with source.checkout(http_server.url("upstream.git"), "main") as co:
        assert co.revision == sha and (co.root / "a.yaml").read_text() == "v: 1"
    assert http_server.requests
    assert all(TOKEN not in path for path, _ in http_server.requests)
    assert any(h.get("Authorization", "").startswith("Basic ") for _, h in http_server.requests)


def test_token_from_environment_and_file_rotation(
    http_server: GitHttpServer,
    upstream: Upstream,
    cache_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sha = upstream.commit({"a.yaml": "v: 1"})
    url = http_server.url("upstream.git")
    monkeypatch.setenv("GITOPS_GIT_TOKEN", TOKEN)
    assert Source(GitOptions(cache_dir=cache_dir)).ls_remote(url, "main") == sha
    monkeypatch.delenv("GITOPS_GIT_TOKEN")

    token_file = tmp_path / "token"
    token_file.write_text("old-token\n")
    monkeypatch.setenv("GITOPS_GIT_TOKEN_FILE", str(token_file))
    source = Source(GitOptions(cache_dir=cache_dir))
    with pytest.raises(GitAuthError):
        source.ls_remote(url, "main")
    token_file.write_text(TOKEN + "\n")  # the Secret was rotated: read again at the next command
    assert source.ls_remote(url, "main") == sha


def test_missing_token_file_is_a_credentials_error(
    upstream: Upstream, cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITOPS_GIT_TOKEN_FILE", str(tmp_path / "absent"))
    with pytest.raises(GitCredentialsError, match="absent"):
        Source(GitOptions(cache_dir=cache_dir)).resolve(upstream.url, "main")


def test_wrong_token_is_an_auth_error_that_never_shows_the_token(
    http_server: GitHttpServer, upstream: Upstream, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.commit({"a.yaml": "v: 1"})
    wrong = "wr0ng-t0ken-that-must-not-leak"
    caplog.set_level(logging.DEBUG)
    source = Source(GitOptions(cache_dir=cache_dir, token=wrong))
    with pytest.raises(GitAuthError) as err:
        source.resolve(http_server.url("upstream.git"), "main")
    assert not err.value.retryable
    assert "upstream.git" in str(err.value) and "main" in str(err.value)
    for text in (str(err.value), repr(err.value), caplog.text, repr(source.options)):
        assert wrong not in text


def test_userinfo_in_the_url_becomes_a_header_and_never_shows(
    http_server: GitHttpServer, upstream: Upstream, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sha = upstream.commit({"a.yaml": "v: 1"})
    caplog.set_level(logging.DEBUG)  # GitPython logs every command line at DEBUG
    source = Source(GitOptions(cache_dir=cache_dir))
    url = f"http://x-access-token:{TOKEN}@127.0.0.1:{http_server.port}/upstream.git"
    assert source.resolve(url, "main").sha == sha
    assert TOKEN not in caplog.text
    assert "git ls-remote" in caplog.text or "ls-remote" in caplog.text  # the logs were captured
    assert all(
        TOKEN not in p.read_text(errors="replace")
        for p in cache_dir.rglob("*")
        if p.is_file() and p.stat().st_size < 1 << 20
    )

    bad = f"http://x-access-token:{TOKEN}-bad@127.0.0.1:{http_server.port}/upstream.git"
    with pytest.raises(GitAuthError) as err:
        source.resolve(bad, "main")
    assert TOKEN not in str(err.value) and TOKEN not in caplog.text


def test_token_is_not_sent_to_other_hosts_over_plain_http(upstream: Upstream) -> None:
    from gitops.git.credentials import Credentials
    from gitops.git.remote import Remote

    creds = Credentials.load(GitOptions(token=TOKEN))
    with creds.environment(Remote.parse("http://git.example.com/r.git")) as env:
        assert not any(TOKEN in v or "Authorization" in v for v in env.values())
    with creds.environment(Remote.parse("https://git.example.com/r.git")) as env:
        assert env["GIT_CONFIG_KEY_0"] == "http.https://git.example.com/.extraHeader"
        assert env["GIT_CONFIG_VALUE_0"].startswith("Authorization: Basic ")


def test_ssh_key_is_used_with_identities_only_and_a_private_copy(
    upstream: Upstream, cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a fake ssh first on PATH records how git called it, then fails like an unreachable host
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "ssh-call"
    fake = bin_dir / "ssh"
    fake.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > {record}\n'
        'while [ "$#" -gt 0 ]; do if [ "$1" = -i ]; then '
        f'stat -c %a "$2" >> {record}; cat "$2" >> {record}; fi; shift; done\n'
        "echo 'ssh: connect to host git.example.com port 22: Connection refused' >&2\nexit 255\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    key = tmp_path / "id_ed25519"
    key.write_text("PRIVATE-KEY-MATERIAL\n")
    key.chmod(0o644)  # as a Kubernetes Secret is mounted by default: ssh would refuse it
    monkeypatch.setenv("GITOPS_GIT_SSH_KEY_FILE", str(key))

    source = Source(GitOptions(cache_dir=cache_dir, timeout=30))
    with pytest.raises(Exception) as err:
        source.resolve("ssh://git@git.example.com/team/deploy.git", "main")
    assert "Connection refused" in str(err.value)
    lines = record.read_text().splitlines()
    assert "IdentitiesOnly=yes" in lines and "BatchMode=yes" in lines
    key_copy = Path(lines[lines.index("-i") + 1])
    assert key_copy != key
    assert lines[-2:] == ["600", "PRIVATE-KEY-MATERIAL"]
    assert not key_copy.exists()  # removed after the command
    assert stat.S_IMODE(key.stat().st_mode) == 0o644  # the user's file is untouched
