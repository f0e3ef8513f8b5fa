"""``gitops notify`` and examples/hooks/post-receive: signed generic-webhook deliveries, one per
updated ref, checked by a stdlib HTTP receiver that verifies the HMAC as the daemon does; and the
real hook run by ``git push`` over smart HTTP (tests/gitserver.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gitops.cli import notify
from gitops.daemon import webhooks
from tests.daemon.harness import free_port
from tests.gitserver import GitHttpServer, git, git_env, make_repo
from tests.waiting import wait_for

SECRET = "wh-s3cret-value-9f8e7d"
HOOK = Path(__file__).resolve().parents[2] / "examples" / "hooks" / "post-receive"
NOTIFY_COMMAND = f"{sys.executable} -m gitops.cli.notify"
SHA_A = "a" * 40
SHA_B = "b" * 40
ZERO = "0" * 40


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("X-Gitops-Signature", ""))


@dataclass
class Receiver:
    """Records every POST; answers ``status`` with ``answer`` after ``delay`` seconds."""

    port: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    status: int = 202
    answer: bytes = b'{"accepted":true}'
    delay: float = 0.0
    location: str | None = None
    arrived: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait(self, count: int, timeout: float = 10) -> list[Delivery]:
        return list(
            wait_for(
                lambda: len(self.deliveries) >= count and list(self.deliveries),
                timeout,
                what=f"{count} deliveries",
            )
        )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            rec.deliveries.append(Delivery(self.path, dict(self.headers.items()), body))
            if rec.delay:
                time.sleep(rec.delay)
            self.send_response(rec.status)
            if rec.location:
                self.send_header("Location", rec.location)
            self.send_header("Content-Length", str(len(rec.answer)))
            self.end_headers()
            self.wfile.write(rec.answer)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    rec.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield rec
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (notify.ENV_URL, notify.ENV_SECRET, notify.ENV_SECRET_FILE, "GIT_DIR", "GITOPS_REPO"):
        monkeypatch.delenv(var, raising=False)
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "webhook-secret"
    path.write_text(SECRET + "\n")
    return path


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(notify.notify_cmd, list(args), input=input, env=env, catch_exceptions=False)


def output_of(result: Any) -> str:
    return str(result.stdout) + str(result.stderr)


# -- the command ---------------------------------------------------------------------------------


def test_one_signed_post_per_ref_pair(receiver: Receiver, secret_file: Path) -> None:
    result = invoke(
        "--url", receiver.url, "--secret-file", str(secret_file), "--repo", "https://git.example/apps.git",
        "refs/heads/main", SHA_A, "refs/tags/v1", SHA_B,
    )  # fmt: skip
    assert result.exit_code == 0, output_of(result)
    got = receiver.deliveries
    assert [d.json() for d in got] == [
        {"repository": "https://git.example/apps.git", "ref": "refs/heads/main", "after": SHA_A},
        {"repository": "https://git.example/apps.git", "ref": "refs/tags/v1", "after": SHA_B},
    ]
    for d in got:
        assert d.path == "/webhooks/generic"
        assert d.headers["Content-Type"] == "application/json"
        assert d.signed_with(SECRET)
        assert not d.signed_with(SECRET + "x")
        assert uuid.UUID(d.headers["X-Gitops-Delivery"]).version == 4
    assert got[0].headers["X-Gitops-Delivery"] != got[1].headers["X-Gitops-Delivery"]
    assert "refs/heads/main" in output_of(result)
    assert SECRET not in output_of(result)


def test_signature_is_over_the_exact_body(receiver: Receiver) -> None:
    body = notify.payload("/srv/git/apps.git", notify.Update("refs/heads/main", SHA_A))
    assert (
        body
        == b'{"repository":"/srv/git/apps.git","ref":"refs/heads/main","after":"' + SHA_A.encode() + b'"}'
    )
    expected = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert webhooks.sign(body, "k") == f"sha256={expected}"  # what notify sends (checked below)


def test_the_daemon_verifies_and_parses_what_notify_sends(receiver: Receiver, secret_file: Path) -> None:
    """The contract with gitops.daemon.webhooks: the generic endpoint's verifier and parser
    accept exactly these bytes and headers."""
    from gitops.daemon import webhooks

    result = invoke(
        "--url", receiver.url, "--secret-file", str(secret_file), "--repo", "/srv/apps.git", "main", SHA_A
    )
    assert result.exit_code == 0, output_of(result)
    (d,) = receiver.deliveries
    webhooks.verify("generic", d.headers, d.body, SECRET)
    with pytest.raises(webhooks.Unauthorized):
        webhooks.verify("generic", d.headers, d.body, SECRET + "-other")
    event = webhooks.parse("generic", d.headers, d.body)
    assert event.kind is webhooks.EventKind.PUSH
    (pushed,) = event.pushes
    assert (pushed.repo_urls, pushed.ref, pushed.after) == (("/srv/apps.git",), "main", SHA_A)
    assert pushed.delivery == d.headers["X-Gitops-Delivery"]
    assert d.headers[webhooks.SIGNATURE_HEADER] == webhooks.sign(d.body, SECRET)


def test_post_receive_stdin_skips_deletions(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(notify.ENV_SECRET, SECRET)
    stdin = (
        f"{ZERO} {SHA_A} refs/heads/main\n{SHA_A} {ZERO} refs/heads/old\n\n{SHA_A} {SHA_B} refs/heads/dev\n"
    )
    result = invoke("--url", receiver.url + "/", "--repo", "/srv/apps.git", input=stdin)
    assert result.exit_code == 0, output_of(result)
    assert [(d.json()["ref"], d.json()["after"]) for d in receiver.deliveries] == [
        ("refs/heads/main", SHA_A),
        ("refs/heads/dev", SHA_B),
    ]
    assert all(d.signed_with(SECRET) for d in receiver.deliveries)
    assert "refs/heads/old deleted" in output_of(result)
    assert SECRET not in output_of(result)


def test_repository_defaults_to_git_dir_made_absolute(
    receiver: Receiver, secret_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = tmp_path / "apps.git"
    bare.mkdir()
    monkeypatch.chdir(bare)
    monkeypatch.setenv("GIT_DIR", ".")  # what git sets for a bare repository's hooks
    assert invoke("--url", receiver.url, "--secret-file", str(secret_file), "main", SHA_A).exit_code == 0
    monkeypatch.delenv("GIT_DIR")
    assert invoke("--url", receiver.url, "--secret-file", str(secret_file), "main", SHA_B).exit_code == 0
    assert [d.json()["repository"] for d in receiver.deliveries] == [str(bare.resolve())] * 2


def test_url_that_already_names_the_endpoint(receiver: Receiver, secret_file: Path) -> None:
    url = receiver.url + "/webhooks/generic"
    assert (
        invoke("--url", url, "--secret-file", str(secret_file), "--repo", "r", "main", SHA_A).exit_code == 0
    )
    assert receiver.deliveries[0].path == "/webhooks/generic"


def test_refused_delivery_exits_1_and_still_sends_the_rest(receiver: Receiver, secret_file: Path) -> None:
    receiver.status = 401
    receiver.answer = f"bad signature for secret {SECRET}".encode()  # a server that echoes it
    result = invoke(
        "--url", receiver.url, "--secret-file", str(secret_file), "--repo", "r",
        "refs/heads/a", SHA_A, "refs/heads/b", SHA_B,
    )  # fmt: skip
    assert result.exit_code == 1
    assert len(receiver.deliveries) == 2
    out = output_of(result)
    assert "HTTP 401" in out and "refs/heads/a" in out and "refs/heads/b" in out
    assert SECRET not in out


def test_unreachable_daemon_exits_1_with_a_clear_message(secret_file: Path) -> None:
    port = free_port()  # nothing listens there
    result = invoke(
        "--url", f"http://127.0.0.1:{port}", "--secret-file", str(secret_file), "--repo", "r", "main", SHA_A
    )
    assert result.exit_code == 1
    assert f"cannot reach http://127.0.0.1:{port}/webhooks/generic" in output_of(result)
    assert "refused" in output_of(result).lower()


def test_slow_daemon_times_out(receiver: Receiver, secret_file: Path) -> None:
    receiver.delay = 3
    started = time.monotonic()
    result = invoke(
        "--url",
        receiver.url,
        "--secret-file",
        str(secret_file),
        "--timeout",
        "0.5",
        "--repo",
        "r",
        "main",
        SHA_A,
    )
    assert result.exit_code == 1
    assert time.monotonic() - started < receiver.delay  # gave up before the slow answer
    assert "timed out" in output_of(result)


def test_redirect_is_reported_not_followed(receiver: Receiver, secret_file: Path) -> None:
    receiver.status = 302
    receiver.location = "http://127.0.0.1:9/elsewhere"
    result = invoke("--url", receiver.url, "--secret-file", str(secret_file), "--repo", "r", "main", SHA_A)
    assert result.exit_code == 1
    assert "HTTP 302" in output_of(result)
    assert len(receiver.deliveries) == 1


def test_user_information_in_the_url_is_never_printed(receiver: Receiver, secret_file: Path) -> None:
    receiver.status = 500
    url = f"http://admin:hunter2pass@127.0.0.1:{receiver.port}"
    result = invoke("--url", url, "--secret-file", str(secret_file), "--repo", "r", "main", SHA_A)
    assert result.exit_code == 1
    assert "hunter2pass" not in output_of(result)


def test_secret_is_required_unless_unsigned(receiver: Receiver) -> None:
    result = invoke("--url", receiver.url, "--repo", "r", "main", SHA_A)
    assert result.exit_code == 2
    assert "GITOPS_WEBHOOK_SECRET" in output_of(result) and "--secret-file" in output_of(result)
    assert receiver.deliveries == []

    result = invoke("--url", receiver.url, "--unsigned", "--repo", "r", "main", SHA_A)
    assert result.exit_code == 0, output_of(result)
    assert "X-Gitops-Signature" not in receiver.deliveries[0].headers


def test_unreadable_or_empty_secret_file(receiver: Receiver, tmp_path: Path) -> None:
    result = invoke("--url", receiver.url, "--secret-file", str(tmp_path / "missing"), "main", SHA_A)
    assert result.exit_code == 1 and "cannot read the webhook secret file" in output_of(result)
    (tmp_path / "empty").write_text("\n")
    result = invoke("--url", receiver.url, "--secret-file", str(tmp_path / "empty"), "main", SHA_A)
    assert result.exit_code == 1 and "is empty" in output_of(result)
    assert receiver.deliveries == []


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["main"], None, "REF AFTER pairs"),
        (["main", "not-a-sha"], None, "not a full commit SHA"),
        ([], "garbage line\n", "stdin line 1"),
        ([], f"{SHA_A} {SHA_B}\n", "stdin line 1"),
    ],
)
def test_bad_input_is_a_usage_error(
    receiver: Receiver, secret_file: Path, args: list[str], stdin: str | None, message: str
) -> None:
    result = invoke("--url", receiver.url, "--secret-file", str(secret_file), *args, input=stdin)
    assert result.exit_code == 2
    assert message in output_of(result)
    assert receiver.deliveries == []


def test_bad_url_is_a_usage_error(secret_file: Path) -> None:
    result = invoke("--url", "ftp://host", "--secret-file", str(secret_file), "main", SHA_A)
    assert result.exit_code == 2 and "--url" in output_of(result)


def test_as_a_subprocess_with_environment_settings(
    receiver: Receiver, secret_file: Path, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        notify.ENV_URL: receiver.url,
        notify.ENV_SECRET_FILE: str(secret_file),
        "GIT_DIR": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "gitops.cli.notify"],
        input=f"{ZERO} {SHA_A} refs/heads/main\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert receiver.deliveries[0].json() == {
        "repository": str(tmp_path),
        "ref": "refs/heads/main",
        "after": SHA_A,
    }
    assert receiver.deliveries[0].signed_with(SECRET)
    assert SECRET not in proc.stdout + proc.stderr


# -- the real hook, run by git push over smart HTTP ------------------------------------------------


def install_hook(bare: Path) -> None:
    target = bare / "hooks" / "post-receive"
    shutil.copyfile(HOOK, target)
    target.chmod(0o755)


def push(work_dir: Path, *refspecs: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["git", "push", "--porcelain", "origin", *refspecs],
        cwd=work_dir,
        capture_output=True,
        text=True,
        env=git_env(),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def hook_server(tmp_path: Path, receiver: Receiver, secret_file: Path) -> Iterator[GitHttpServer]:
    env = {
        notify.ENV_URL: receiver.url,
        notify.ENV_SECRET_FILE: str(secret_file),
        "GITOPS_NOTIFY": NOTIFY_COMMAND,
    }
    with GitHttpServer(tmp_path / "repos", backend_env=env) as server:
        yield server


def test_hook_script_is_executable_posix_sh() -> None:
    assert os.access(HOOK, os.X_OK)
    assert HOOK.read_text().startswith("#!/bin/sh\n")
    assert subprocess.run(["sh", "-n", str(HOOK)], capture_output=True).returncode == 0


def test_git_push_runs_the_hook_which_notifies_the_daemon(
    hook_server: GitHttpServer, receiver: Receiver
) -> None:
    work = make_repo(hook_server, "apps", {"web/deploy.yaml": "image: web:1\n"})
    install_hook(work.bare)
    assert receiver.deliveries == []

    sha = work.commit({"web/deploy.yaml": "image: web:2\n"}, "bump web")
    proc = push(work.path, "HEAD:refs/heads/main")
    (delivery,) = receiver.wait(1)
    assert delivery.json() == {"repository": str(work.bare), "ref": "refs/heads/main", "after": sha}
    assert delivery.signed_with(SECRET)
    assert "remote: gitops: notified" in proc.stderr
    assert SECRET not in proc.stdout + proc.stderr

    # two refs in one push: two deliveries; a deleted branch: none
    work.git("tag", "v1")
    other = work.commit({"b.yaml": "b\n"}, "on dev")
    push(work.path, f"{other}:refs/heads/dev", "refs/tags/v1:refs/tags/v1")
    got = receiver.wait(3)
    assert sorted((d.json()["ref"], d.json()["after"]) for d in got[1:]) == [
        ("refs/heads/dev", other),
        ("refs/tags/v1", sha),
    ]
    assert all(d.signed_with(SECRET) for d in got)
    assert len({d.headers["X-Gitops-Delivery"] for d in got}) == 3

    # The hook runs notify synchronously and notify waits for each answer: any delivery of the
    # deletion would have arrived before the push returns.
    proc = push(work.path, ":refs/heads/dev")
    assert len(receiver.deliveries) == 3
    assert "refs/heads/dev deleted" in proc.stderr


def test_push_succeeds_when_the_daemon_is_down(tmp_path: Path, secret_file: Path) -> None:
    port = free_port()
    env = {
        notify.ENV_URL: f"http://127.0.0.1:{port}",
        notify.ENV_SECRET_FILE: str(secret_file),
        "GITOPS_NOTIFY": NOTIFY_COMMAND,
    }
    with GitHttpServer(tmp_path / "repos", backend_env=env) as server:
        work = make_repo(server, "apps", {"a.yaml": "1\n"})
        install_hook(work.bare)
        sha = work.commit({"a.yaml": "2\n"}, "two")
        proc = push(work.path, "HEAD:refs/heads/main")
        assert "remote: gitops notify: cannot reach" in proc.stderr
        assert SECRET not in proc.stdout + proc.stderr
        assert work.git("ls-remote", "origin", "refs/heads/main").split()[0] == sha


def test_hook_settings_from_the_repository_git_config(
    tmp_path: Path, receiver: Receiver, secret_file: Path
) -> None:
    with GitHttpServer(tmp_path / "repos", backend_env={"GITOPS_NOTIFY": NOTIFY_COMMAND}) as server:
        work = make_repo(server, "apps", {"a.yaml": "1\n"})
        install_hook(work.bare)
        for key, value in {
            "gitops.url": receiver.url,
            "gitops.secretFile": str(secret_file),
            "gitops.repo": "https://git.example.com/team/apps.git",
        }.items():
            git("config", key, value, cwd=work.bare)
        sha = work.commit_and_push({"a.yaml": "2\n"}, "two")
        (delivery,) = receiver.wait(1)
        assert delivery.json()["repository"] == "https://git.example.com/team/apps.git"
        assert delivery.json()["after"] == sha
        assert delivery.signed_with(SECRET)
