"""``gitops notify``: tell a running daemon that refs of a repository moved (push to deploy from a
self-hosted bare repository, through its ``post-receive`` hook; examples/hooks/post-receive).

One signed POST per updated ref to ``<url>/webhooks/generic``, the daemon's generic webhook::

    POST /webhooks/generic
    Content-Type: application/json
    X-Gitops-Delivery: <uuid4>                       (the daemon ignores a replayed id)
    X-Gitops-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes, keyed with the secret>

    {"repository": "<url or absolute path>", "ref": "refs/heads/main", "after": "<new sha>"}

Deleted refs (new SHA all zeros) are skipped: there is nothing to deploy. The secret comes from
``--secret-file`` or ``$GITOPS_WEBHOOK_SECRET`` and is never printed; ``--unsigned`` sends no
signature (only for a daemon whose generic webhook explicitly has no secret).

Exit codes: 0 every POST was answered 2xx (or there was nothing to notify), 1 at least one was
not (each failure is named on stderr; the others are still sent), 2 bad usage. A post-receive
hook's exit status does not change the push (the refs are already updated when it runs), so a
daemon that is down never fails a push; the daemon's poll picks the change up later.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import click

# the wire format is the daemon's: one definition of the header names and the signature
from gitops.cli.secrets import ENV_WEBHOOK_SECRET, read_secret
from gitops.daemon import webhooks
from gitops.model.sync import redact_url

ENV_URL = "GITOPS_URL"
ENV_SECRET = ENV_WEBHOOK_SECRET
ENV_SECRET_FILE = "GITOPS_WEBHOOK_SECRET_FILE"
ENDPOINT = "/webhooks/generic"
ZERO_SHA = re.compile(r"0{40}|0{64}")
_SHA = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")
_MAX_REASON = 200


@dataclass(frozen=True)
class Update:
    """One ref a push moved: ``after`` is the new SHA (all zeros when the ref was deleted)."""

    ref: str
    after: str

    @property
    def deleted(self) -> bool:
        return bool(ZERO_SHA.fullmatch(self.after))


def payload(repository: str, update: Update) -> bytes:
    """The exact body bytes that are signed and sent."""
    return json.dumps(
        {"repository": repository, "ref": update.ref, "after": update.after.lower()}, separators=(",", ":")
    ).encode()


def parse_hook_input(lines: Iterable[str]) -> Iterator[Update]:
    """``post-receive`` stdin: one ``<old-sha> <new-sha> <ref>`` line per updated ref."""
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 3 or not _SHA.fullmatch(fields[0]) or not _SHA.fullmatch(fields[1]):
            raise click.UsageError(
                f"stdin line {number}: expected '<old-sha> <new-sha> <ref>' (post-receive input), "
                f"got {line.strip()[:100]!r}"
            )
        yield Update(fields[2], fields[1])


def _pairs(args: tuple[str, ...]) -> list[Update]:
    if len(args) % 2:
        raise click.UsageError("give REF AFTER pairs (e.g. refs/heads/main 1a2b...), or none to read stdin")
    updates = [Update(args[i], args[i + 1]) for i in range(0, len(args), 2)]
    for u in updates:
        if not _SHA.fullmatch(u.after):
            raise click.UsageError(f"{u.ref}: {u.after!r} is not a full commit SHA")
    return updates


def _endpoint(url: str) -> str:
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"{redact_url(url)!r} is not an http(s) URL", param_hint="--url")
    path = parts.path.rstrip("/")
    if not path.endswith(ENDPOINT):
        path += ENDPOINT
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _default_repository() -> str:
    """The bare repository the hook runs in: ``$GIT_DIR`` (git sets it, often to ``.``, for
    hooks) or the current directory, as an absolute path."""
    return str(Path(os.environ.get("GIT_DIR") or ".").resolve())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect means a wrong URL: report it, never re-send the delivery elsewhere."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _scrub(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "***")
    return " ".join(text.split())[:_MAX_REASON]


def post(url: str, repository: str, update: Update, secret: str | None, timeout: float) -> tuple[bool, str]:
    """POST one update; (answered 2xx, a one-line account for the user)."""
    body = payload(repository, update)
    headers = {
        "Content-Type": webhooks.GENERIC_CONTENT_TYPE,
        webhooks.DELIVERY_HEADER: str(uuid.uuid4()),
        "User-Agent": "gitops-notify",
    }
    if secret is not None:
        headers[webhooks.SIGNATURE_HEADER] = webhooks.sign(body, secret)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    what = f"{update.ref} at {update.after[:12]}"
    try:
        with _opener.open(request, timeout=timeout) as answer:
            return True, f"notified {redact_url(url)} of {what} ({answer.status})"
    except urllib.error.HTTPError as exc:
        try:
            reason = exc.read(2048).decode("utf-8", "replace")
        except OSError:
            reason = ""
        reason = _scrub(reason or str(exc.reason), secret)
        return False, f"{redact_url(url)} refused {what}: HTTP {exc.code}{': ' + reason if reason else ''}"
    except urllib.error.URLError as exc:
        return False, f"cannot reach {redact_url(url)} for {what}: {_scrub(_why(exc.reason), secret)}"
    except OSError as exc:  # TimeoutError, a reset connection
        return False, f"cannot reach {redact_url(url)} for {what}: {_scrub(_why(exc), secret)}"


def _why(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


@click.command("notify")
@click.option(
    "--url",
    envvar=ENV_URL,
    required=True,
    help=f"The daemon's base URL (e.g. http://127.0.0.1:8080); {ENDPOINT} is appended. [env: {ENV_URL}]",
)
@click.option(
    "--secret-file",
    envvar=ENV_SECRET_FILE,
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"File holding the webhook secret [env: {ENV_SECRET_FILE}; or the secret itself in ${ENV_SECRET}].",
)
@click.option(
    "--unsigned", is_flag=True, help="Send no signature (only if the daemon's generic webhook has no secret)."
)
@click.option(
    "--repo",
    "repository",
    help="The repository as the apps config names it (clone URL or path) [default: $GIT_DIR or the "
    "current directory, absolute].",
)
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for each answer.")
@click.option("--quiet", "-q", is_flag=True, help="Print only failures.")
@click.argument("updates", nargs=-1, metavar="[REF AFTER]...")
def notify_cmd(
    url: str,
    secret_file: Path | None,
    unsigned: bool,
    repository: str | None,
    timeout: float,
    quiet: bool,
    updates: tuple[str, ...],
) -> None:
    """Tell the gitops daemon that refs moved: one signed POST per updated ref.

    With no REF AFTER pairs, reads post-receive's stdin ('<old> <new> <ref>' lines), so a bare
    repository's hooks/post-receive can be just:

        gitops notify --url http://gitops:8080 --secret-file /etc/gitops/webhook-secret

    Deleted refs are skipped. Exit codes: 0 all notified (or nothing to notify), 1 a POST
    failed or was refused, 2 bad usage. The secret is never printed.
    """
    endpoint = _endpoint(url)
    secret = read_secret(secret_file, ENV_SECRET, "webhook secret")
    if secret is None and not unsigned:
        raise click.UsageError(
            f"no webhook secret: pass --secret-file FILE or set ${ENV_SECRET} "
            "(or --unsigned if the daemon accepts unsigned deliveries)"
        )
    if unsigned:
        secret = None
    if updates:
        todo = _pairs(updates)
    else:
        stdin: IO[str] = sys.stdin
        if stdin.isatty():
            raise click.UsageError(
                "give REF AFTER pairs, or pipe post-receive input ('<old> <new> <ref>') in"
            )
        todo = list(parse_hook_input(stdin))
    repo = repository or _default_repository()
    failed = 0
    for update in todo:
        if update.deleted:
            if not quiet:
                click.echo(f"gitops: {update.ref} deleted, nothing to deploy", err=True)
            continue
        ok, message = post(endpoint, repo, update, secret, timeout)
        if not ok:
            failed += 1
            click.echo(f"gitops notify: {message}", err=True)
        elif not quiet:
            click.echo(f"gitops: {message}", err=True)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    notify_cmd(prog_name="gitops notify")
