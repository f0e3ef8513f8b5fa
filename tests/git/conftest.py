"""Real Git repositories for the Source tests: an upstream bare repository the tests push to,
a git smart-HTTP server (git http-backend behind a token check), and a server that accepts
connections and never answers.

Every test runs with its own HOME and no system git config, so nothing on the machine (a
user's ~/.gitconfig, credential helpers) changes what git does.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gitops.git import GitOptions, Source


def git(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


@pytest.fixture(autouse=True)
def git_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_SSH_COMMAND", "GIT_SSH", "GIT_CONFIG_COUNT"):
        monkeypatch.delenv(var, raising=False)
    for var in ("GITOPS_GIT_TOKEN", "GITOPS_GIT_TOKEN_FILE", "GITOPS_GIT_SSH_KEY_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Ada Lovelace")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "ada@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Ada Lovelace")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "ada@example.com")


@dataclass
class Symlink:
    target: str


@dataclass
class Upstream:
    """A bare repository (``url``) and a work clone that commits and pushes to it."""

    bare: Path
    work: Path
    tick: int = field(default=0)

    @property
    def url(self) -> str:
        return f"file://{self.bare}"

    def commit(
        self,
        files: dict[str, str | Symlink | None],
        message: str = "change",
        *,
        branch: str = "main",
        push: bool = True,
        executable: tuple[str, ...] = (),
    ) -> str:
        """Write (or with None, delete) files on ``branch``, commit, push; the new SHA."""
        if git("branch", "--list", branch, cwd=self.work):
            git("checkout", "-q", branch, cwd=self.work)
        else:
            git("checkout", "-q", "-b", branch, cwd=self.work)
        for name, content in files.items():
            path = self.work / name
            if content is None:
                git("rm", "-q", "-r", name, cwd=self.work)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink() or path.exists():
                path.unlink()
            if isinstance(content, Symlink):
                os.symlink(content.target, path)
            else:
                path.write_text(content)
                if name in executable:
                    path.chmod(0o755)
            git("add", name, cwd=self.work)
        self.tick += 1
        env_date = f"2024-01-{self.tick:02d}T12:00:00+02:00"
        subprocess.run(
            ["git", "commit", "-q", "--allow-empty", "-m", message],
            cwd=self.work,
            check=True,
            env={**os.environ, "GIT_AUTHOR_DATE": env_date, "GIT_COMMITTER_DATE": env_date},
        )
        if push:
            self.push(branch)
        return self.sha(f"refs/heads/{branch}")

    def sha(self, rev: str = "HEAD") -> str:
        return git("rev-parse", f"{rev}^{{commit}}", cwd=self.work)

    def push(self, branch: str = "main", *, force: bool = False) -> None:
        git(
            "push",
            "-q",
            *(["--force"] if force else []),
            "origin",
            f"refs/heads/{branch}:refs/heads/{branch}",
            cwd=self.work,
        )

    def tag(self, name: str, rev: str = "HEAD", *, annotated: bool = True, force: bool = False) -> None:
        args = ["tag", *(["-a", "-m", f"release {name}"] if annotated else []), *(["-f"] if force else [])]
        git(*args, name, rev, cwd=self.work)
        git("push", "-q", *(["--force"] if force else []), "origin", f"refs/tags/{name}", cwd=self.work)

    def delete_branch(self, name: str) -> None:
        git("push", "-q", "origin", f":refs/heads/{name}", cwd=self.work)

    def reset_hard(self, rev: str, branch: str = "main") -> None:
        git("checkout", "-q", branch, cwd=self.work)
        git("reset", "-q", "--hard", rev, cwd=self.work)


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    bare = tmp_path / "upstream.git"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    work = tmp_path / "work"
    git("clone", "-q", str(bare), str(work))
    git("checkout", "-q", "-b", "main", cwd=work)
    return Upstream(bare, work)


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def source(cache_dir: Path) -> Source:
    return Source(GitOptions(cache_dir=cache_dir, timeout=30))


@dataclass
class GitHttpServer:
    """``git http-backend`` over HTTP on loopback, serving every repository under ``root``;
    when ``token`` is set, requests without ``Authorization: Basic <user:token>`` get 401."""

    root: Path
    token: str | None
    port: int = 0
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    hang_fetches: bool = False  # pack requests (not ref listings) wait until ``released``
    released: threading.Event = field(default_factory=threading.Event)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"


def _handler(server: GitHttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks: list[bytes] = []
                while True:
                    size = int(self.rfile.readline().strip().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _serve(self) -> None:
            server.requests.append((self.path, dict(self.headers.items())))
            body = self._body()
            if server.token is not None:
                expected = "Basic " + base64.b64encode(f"x-access-token:{server.token}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            if server.hang_fetches and b"command=fetch" in body:
                server.released.wait(30)
                return  # closes the connection without an answer
            path, _, query = self.path.partition("?")
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "GIT_PROJECT_ROOT": str(server.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                "REMOTE_ADDR": "127.0.0.1",
            }
            proc = subprocess.run(
                ["git", "http-backend"], input=body, capture_output=True, env=env, timeout=60
            )
            head, _, payload = proc.stdout.partition(b"\r\n\r\n")
            status = 200
            headers = []
            for line in head.decode().split("\r\n"):
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.strip().split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@pytest.fixture
def http_server(tmp_path: Path, upstream: Upstream) -> Iterator[GitHttpServer]:
    """Serves ``upstream`` as ``/upstream.git``, with the token ``s3cr3t-t0ken-value``."""
    server = GitHttpServer(upstream.bare.parent, "s3cr3t-t0ken-value")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()


@dataclass
class SilentServer:
    """Accepts TCP connections and never answers; ``closed`` is set when a client goes away."""

    port: int
    accepted: threading.Event = field(default_factory=threading.Event)
    closed: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    server = SilentServer(sock.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.2)
        conns = []
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            server.accepted.set()
            conns.append(conn)
            threading.Thread(target=watch, args=(conn,), daemon=True).start()
        for conn in conns:
            conn.close()

    def watch(conn: socket.socket) -> None:
        # read (and drop) the request; recv returns b"" once the client's process is gone
        while True:
            try:
                if not conn.recv(65536):
                    break
            except OSError:
                break
        server.closed.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server
    stop.set()
    thread.join()
    sock.close()
