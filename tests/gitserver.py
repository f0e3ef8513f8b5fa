"""A git smart-HTTP server on loopback for tests: ``git http-backend`` behind a tiny
``ThreadingHTTPServer``, plus work clones that commit and push to it.

What it reproduces of a real Git host (GitHub, Gitea, a self-hosted nginx + http-backend):

- the smart HTTP protocol, v0 and v2 (the ``Git-Protocol`` header reaches http-backend as
  ``HTTP_GIT_PROTOCOL``), fetch *and* push (``http.receivepack`` is enabled on every repository
  made by :meth:`GitHttpServer.create_repo`);
- request bodies streamed into http-backend as they arrive: ``Transfer-Encoding: chunked`` (what
  git sends for a body larger than ``http.postBuffer``, i.e. every large push) is decoded here,
  ``Content-Encoding: gzip`` (what git sends for large fetch negotiations) is passed on as
  ``HTTP_CONTENT_ENCODING`` and inflated by http-backend itself;
- responses streamed back (chunked, HTTP/1.1 keep-alive), the CGI ``Status:`` header honoured;
- an optional token: without ``Authorization: Basic base64(<user>:<token>)`` (any user name, as
  GitHub accepts ``x-access-token``) or ``Authorization: Bearer <token>`` a request gets 401 and a
  ``WWW-Authenticate`` challenge, as every Git host answers;
- outages: :meth:`GitHttpServer.down` answers 503 to everything (or, with ``refuse=True``, closes
  the listening socket so connections are refused) until :meth:`GitHttpServer.up`.

Git runs with an environment of its own (:func:`git_env`): no system or global config (so nothing
on the machine, and nothing the tests do, touches ``~/.gitconfig``), a fixed identity, never a
terminal prompt.

Usage::

    with GitHttpServer(tmp_path / "repos", token="t0k3n") as server:
        work = make_repo(server, "apps", {"web/deploy.yaml": "..."})
        sha = work.commit_and_push({"web/deploy.yaml": "...", "old.yaml": None}, "bump image")
        server.url_for("apps")  # http://127.0.0.1:PORT/apps.git
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import IO, Any

GIT_TIMEOUT = 120

# Variables a test process may carry (a test run from inside a hook, a developer's shell) that
# would point git somewhere else than the command's own repository.
_GIT_LOCATION_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_NAMESPACE",
    "GIT_PROTOCOL",
    "GIT_QUARANTINE_PATH",
)

IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Lovelace",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Lovelace",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
}


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for every git command the helpers run: the caller's, minus anything
    that redirects git, with no system/global config, a fixed identity and no prompts."""
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}
    env.update(IDENTITY)
    env.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GCM_INTERACTIVE": "never",
        }
    )
    if extra:
        env.update(extra)
    return env


def git(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    """Run git; its stdout, stripped. A failure raises AssertionError with git's stderr."""
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT, env=git_env(env)
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout.strip()


@dataclass(frozen=True)
class Request:
    """One request the server saw (after authentication and outage checks: ``status`` says)."""

    method: str
    path: str
    status: int
    git_protocol: str
    content_encoding: str
    chunked: bool
    authorization: bool


class GitHttpServer:
    """Serves every bare repository under ``root`` at ``http://127.0.0.1:PORT/<name>.git``.

    ``token``: when set, every request must carry it (Basic with any user name, or Bearer).
    ``backend_env``: extra environment for http-backend and so for the hooks it runs (a
    post-receive hook reads its settings from here in tests, as it would from a real server's
    environment). A context manager; :meth:`start`/:meth:`stop` for longer lives.
    """

    def __init__(
        self, root: Path, *, token: str | None = None, backend_env: Mapping[str, str] | None = None
    ) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.token = token
        self.backend_env = dict(backend_env or {})
        self.port = 0
        self.log: list[Request] = []
        self.backend_stderr: list[bytes] = []  # what http-backend (and the hooks it ran) printed
        self._lock = threading.Lock()
        self._down = False
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._workdirs: list[Path] = []

    # -- life cycle -----------------------------------------------------------------------------

    def start(self) -> GitHttpServer:
        self._listen(self.port)
        return self

    def stop(self) -> None:
        self._close()
        for work in self._workdirs:
            shutil.rmtree(work, ignore_errors=True)
        self._workdirs.clear()

    def __enter__(self) -> GitHttpServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def down(self, *, refuse: bool = False) -> None:
        """An outage: answer 503 to every request, or with ``refuse`` stop listening (connections
        are refused) until :meth:`up`, which listens again on the same port."""
        if refuse:
            self._close()
        else:
            self._down = True

    def up(self) -> None:
        self._down = False
        if self._httpd is None:
            self._listen(self.port)

    # -- addresses and repositories -------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_for(self, name: str) -> str:
        return f"{self.base_url}/{_repo_name(name)}"

    def path_for(self, name: str) -> Path:
        return self.root / _repo_name(name)

    def create_repo(self, name: str, *, branch: str = "main") -> Path:
        """An empty bare repository whose HEAD is ``branch``, open to pushes over HTTP."""
        path = self.path_for(name)
        git("init", "-q", "--bare", "-b", branch, str(path))
        git("config", "http.receivepack", "true", cwd=path)
        return path

    def new_workdir(self, name: str) -> Path:
        """A temporary directory removed at :meth:`stop`."""
        work = Path(tempfile.mkdtemp(prefix=f"gitops-work-{name}-"))
        self._workdirs.append(work)
        return work

    @property
    def requests(self) -> int:
        """How many HTTP requests arrived (counting refused-by-auth and 503 ones)."""
        with self._lock:
            return len(self.log)

    # -- internals ------------------------------------------------------------------------------

    def _listen(self, port: int) -> None:
        httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        httpd.daemon_threads = True
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(target=httpd.serve_forever, name="git-http", daemon=True)
        self._thread.start()

    def _close(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _record(self, request: Request) -> None:
        with self._lock:
            self.log.append(request)

    def _authorized(self, header: str | None) -> bool:
        if self.token is None:
            return True
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer":
            return hmac.compare_digest(value.encode(), self.token.encode())
        if scheme.lower() == "basic":
            try:
                _, _, password = base64.b64decode(value, validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return hmac.compare_digest(password.encode(), self.token.encode())
        return False

    def _user(self, header: str | None) -> str:
        if header and header.lower().startswith("basic "):
            try:
                return base64.b64decode(header[6:].strip()).decode().partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                return ""
        return "token" if header else ""


def _repo_name(name: str) -> str:
    return name if name.endswith(".git") else f"{name}.git"


def _handler(server: GitHttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _chunked(self) -> bool:
            return "chunked" in self.headers.get("Transfer-Encoding", "").lower()

        def _body_chunks(self) -> Iterator[bytes]:
            """The request body as it arrives, de-chunked (never the gzip: http-backend
            inflates that itself)."""
            if self._chunked():
                while True:
                    size = int(self.rfile.readline().strip().split(b";")[0], 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return
                    remaining = size
                    while remaining:
                        data = self.rfile.read(min(remaining, 65536))
                        if not data:
                            raise ConnectionError("client closed mid-chunk")
                        remaining -= len(data)
                        yield data
                    self.rfile.readline()
            else:
                remaining = int(self.headers.get("Content-Length") or 0)
                while remaining:
                    data = self.rfile.read(min(remaining, 65536))
                    if not data:
                        raise ConnectionError("client closed mid-body")
                    remaining -= len(data)
                    yield data

        def _record(self, status: int) -> None:
            server._record(
                Request(
                    method=self.command,
                    path=self.path,
                    status=status,
                    git_protocol=self.headers.get("Git-Protocol", ""),
                    content_encoding=self.headers.get("Content-Encoding", ""),
                    chunked=self._chunked(),
                    authorization=bool(self.headers.get("Authorization")),
                )
            )

        def _plain(self, status: int, text: str, headers: Mapping[str, str] | None = None) -> None:
            for _ in self._body_chunks():
                pass  # keep the connection usable
            self._record(status)
            payload = text.encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _serve(self) -> None:
            if server._down:
                self._plain(503, "service unavailable\n", {"Retry-After": "1"})
                return
            auth = self.headers.get("Authorization")
            if not server._authorized(auth):
                self._plain(401, "authentication required\n", {"WWW-Authenticate": 'Basic realm="git"'})
                return
            self._backend(auth)

        def _backend(self, auth: str | None) -> None:
            path, _, query = self.path.partition("?")
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                **{k: v for k, v in git_env().items() if k.startswith(("GIT_CONFIG", "GIT_TERMINAL"))},
                **server.backend_env,
                "GIT_PROJECT_ROOT": str(server.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "GATEWAY_INTERFACE": "CGI/1.1",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "REMOTE_ADDR": self.client_address[0],
                "HTTP_GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            }
            if "HOME" in os.environ:
                env.setdefault("HOME", os.environ["HOME"])
            user = server._user(auth) if server.token is not None else ""
            if user:
                env["REMOTE_USER"] = user
            if not self._chunked() and self.headers.get("Content-Length"):
                env["CONTENT_LENGTH"] = self.headers["Content-Length"]
            # else: no CONTENT_LENGTH, and http-backend reads stdin until EOF
            proc = subprocess.Popen(
                ["git", "http-backend"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
            assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
            drain = threading.Thread(target=_drain, args=(proc.stderr, server.backend_stderr), daemon=True)
            drain.start()
            feed = threading.Thread(target=_feed, args=(proc.stdin, self._body_chunks()), daemon=True)
            feed.start()
            try:
                status, headers = _cgi_headers(proc.stdout)
                self._record(status)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                while True:
                    data = proc.stdout.read1(65536)  # type: ignore[attr-defined]  # a BufferedReader
                    if not data:
                        break
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            finally:
                feed.join(GIT_TIMEOUT)
                proc.stdout.close()
                try:
                    proc.wait(GIT_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                drain.join(5)

    return Handler


def _feed(stdin: IO[bytes], chunks: Iterator[bytes]) -> None:
    """Copy the request body into http-backend; if it stops reading, read the rest of the
    body anyway so the connection stays usable."""
    try:
        for data in chunks:
            with contextlib.suppress(BrokenPipeError):
                stdin.write(data)
    except ConnectionError:
        pass
    finally:
        with contextlib.suppress(BrokenPipeError):
            stdin.close()


def _drain(stream: IO[bytes], into: list[bytes]) -> None:
    into.append(stream.read())


def _cgi_headers(stdout: IO[bytes]) -> tuple[int, list[tuple[str, str]]]:
    """The CGI response's status (``Status:``, default 200) and other headers."""
    status = 200
    headers: list[tuple[str, str]] = []
    while True:
        line = stdout.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "status":
            status = int(value.strip().split()[0])
        elif name.strip():
            headers.append((name.strip(), value.strip()))
    return status, headers


class WorkClone:
    """A working copy of one repository on a :class:`GitHttpServer`, pushing over HTTP."""

    def __init__(self, server: GitHttpServer, name: str, path: Path, branch: str = "main") -> None:
        self.server = server
        self.name = name
        self.path = path
        self.branch = branch
        self._tick = 0

    @property
    def url(self) -> str:
        return self.server.url_for(self.name)

    @property
    def bare(self) -> Path:
        return self.server.path_for(self.name)

    @property
    def head(self) -> str:
        """The SHA of the work clone's HEAD (what the last push sent)."""
        return self.git("rev-parse", "HEAD")

    def git(self, *args: str) -> str:
        return git(*args, cwd=self.path, env=self._auth_env())

    def commit(self, files: Mapping[str, str | bytes | None], message: str = "change") -> str:
        """Write (str or bytes) or delete (None) files, commit; the new SHA. Nothing is pushed."""
        for name, content in files.items():
            target = self.path / name
            if content is None:
                self.git("rm", "-q", "-r", "--ignore-unmatch", "--", name)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)
            self.git("add", "--", name)
        self._tick += 1
        # distinct, increasing commit dates: two commits of one second stay ordered
        date = f"2024-01-01T12:{self._tick // 60 % 60:02d}:{self._tick % 60:02d}+00:00"
        git(
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            message,
            cwd=self.path,
            env={"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date},
        )
        return self.head

    def push(self, *, force: bool = False, refspec: str | None = None) -> None:
        spec = refspec or f"HEAD:refs/heads/{self.branch}"
        self.git("push", "-q", *(["--force"] if force else []), "origin", spec)

    def commit_and_push(self, files: Mapping[str, str | bytes | None], message: str = "change") -> str:
        """Commit ``files`` (None deletes one) and push the branch; the new SHA."""
        sha = self.commit(files, message)
        self.push()
        return sha

    def force_push_reset(self, sha: str) -> None:
        """Reset the branch to ``sha`` (an ancestor, usually) and force-push: history rewritten."""
        self.git("reset", "-q", "--hard", sha)
        self.push(force=True)

    def _auth_env(self) -> dict[str, str]:
        """The token as an extra header for this server only, never in the URL or the config."""
        if self.server.token is None:
            return {}
        basic = base64.b64encode(f"x-access-token:{self.server.token}".encode()).decode()
        return {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"http.{self.server.base_url}/.extraHeader",
            "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
        }


def make_repo(
    server: GitHttpServer, name: str, files: Mapping[str, str | bytes | None], *, branch: str = "main"
) -> WorkClone:
    """A new bare repository ``name`` on ``server`` and a work clone (a temporary directory
    removed when the server stops) whose first commit of ``files`` is pushed over HTTP."""
    server.create_repo(name, branch=branch)
    path = server.new_workdir(_repo_name(name)[:-4]) / "work"
    work = WorkClone(server, name, path, branch)
    git("clone", "-q", server.url_for(name), str(path), env=work._auth_env())
    work.git("symbolic-ref", "HEAD", f"refs/heads/{branch}")
    work.commit_and_push(files, "initial commit")
    return work
