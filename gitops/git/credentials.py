"""HTTPS tokens and SSH keys for git commands (I/O: reads files and the environment).

Credentials never travel on a command line (``ps`` shows it, and GitPython logs it at DEBUG):
the HTTP header goes through git's ``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_n``/``GIT_CONFIG_VALUE_n``
environment (git >= 2.31), scoped to the repository's host with ``http.<url>.extraHeader``, so a
redirect or a submodule on another host never receives it. Over plain ``http://`` a token is only
sent to loopback addresses. SSH keys are copied to a private 0600 file for the command (ssh
refuses keys readable by others, which is how Kubernetes mounts Secrets by default) and removed
afterwards.
"""

from __future__ import annotations

import base64
import logging
import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gitops.errors import GitCredentialsError
from gitops.git import options as options_
from gitops.git import remote as remote_

log = logging.getLogger("gitops.git")

ENV_TOKEN = "GITOPS_GIT_TOKEN"
ENV_TOKEN_FILE = "GITOPS_GIT_TOKEN_FILE"
ENV_SSH_KEY_FILE = "GITOPS_GIT_SSH_KEY_FILE"

# Never prompt: a prompt would wait for the timeout instead of failing at once.
_BASE_ENV = {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never"}


@dataclass(frozen=True)
class Credentials:
    """What to authenticate with, resolved from the options, then the environment."""

    token: str | None = field(default=None, repr=False)
    token_username: str = "x-access-token"
    ssh_key_file: Path | None = None
    ssh_known_hosts_file: Path | None = None

    @classmethod
    def load(cls, options: options_.GitOptions, environ: Mapping[str, str] | None = None) -> Credentials:
        """Raises GitCredentialsError when a configured file cannot be read."""
        env = os.environ if environ is None else environ
        token = options.token or env.get(ENV_TOKEN) or None
        if token is None and env.get(ENV_TOKEN_FILE):
            token_file = Path(env[ENV_TOKEN_FILE])
            try:
                token = token_file.read_text().strip() or None
            except OSError as exc:
                raise GitCredentialsError(
                    f"cannot read the token file {token_file} (${ENV_TOKEN_FILE}): {exc.strerror}"
                ) from exc
        key: Path | None = options.ssh_key_file
        if key is None and env.get(ENV_SSH_KEY_FILE):
            key = Path(env[ENV_SSH_KEY_FILE])
        if key is not None and not os.access(key, os.R_OK):
            raise GitCredentialsError(f"cannot read the SSH key file {key}")
        return cls(token, options.token_username, key, options.ssh_known_hosts_file)

    def secrets(self, remote: remote_.Remote) -> list[str]:
        """Every string that must never appear in a message about ``remote``."""
        out = [s for s in (self.token, remote.password) if s]
        if remote.username and not remote.password and len(remote.username) >= 6:
            out.append(remote.username)  # https://TOKEN@host: the "user name" is the token
        header = self._basic(remote)
        if header:
            out.append(header)
        return out

    def _basic(self, remote: remote_.Remote) -> str | None:
        if remote.username is not None:
            user, password = remote.username, remote.password or ""
        elif self.token:
            user, password = self.token_username, self.token
        else:
            return None
        return base64.b64encode(f"{user}:{password}".encode()).decode()

    @contextmanager
    def environment(self, remote: remote_.Remote) -> Iterator[dict[str, str]]:
        """The environment additions for one git command against ``remote``."""
        env = dict(_BASE_ENV)
        basic = self._basic(remote) if remote.is_http else None
        if basic and remote.scheme == "http" and not remote.is_loopback:
            log.warning("not sending credentials to %s over plain http", remote.display)
            basic = None
        if basic:
            n = int(os.environ.get("GIT_CONFIG_COUNT", "0") or 0)
            env["GIT_CONFIG_COUNT"] = str(n + 1)
            env[f"GIT_CONFIG_KEY_{n}"] = f"http.{remote.http_base}.extraHeader"
            env[f"GIT_CONFIG_VALUE_{n}"] = f"Authorization: Basic {basic}"
        if not (remote.is_ssh and self.ssh_key_file):
            yield env
            return
        private = Path(tempfile.mkdtemp(prefix="gitops-ssh-"))
        try:
            key = private / "key"
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, self.ssh_key_file.read_bytes())
            except OSError as exc:
                raise GitCredentialsError(f"cannot read the SSH key file {self.ssh_key_file}") from exc
            finally:
                os.close(fd)
            cmd = ["ssh", "-i", str(key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"]
            if self.ssh_known_hosts_file is not None:
                cmd += [
                    "-o",
                    f"UserKnownHostsFile={self.ssh_known_hosts_file}",
                    "-o",
                    "StrictHostKeyChecking=yes",
                ]
            env["GIT_SSH_COMMAND"] = shlex.join(cmd)
            yield env
        finally:
            shutil.rmtree(private, ignore_errors=True)
