"""Secrets the commands read from a file or the environment (the webhook secret, the API token):
one rule for ``gitops daemon`` and ``gitops notify``, so both sides of a webhook read the same
secret the same way. Values are never echoed."""

from __future__ import annotations

import os
from pathlib import Path

import click

ENV_WEBHOOK_SECRET = "GITOPS_WEBHOOK_SECRET"
ENV_API_TOKEN = "GITOPS_API_TOKEN"


def read_secret(file: Path | None, env: str, what: str) -> str | None:
    """The content of ``file`` without surrounding whitespace (a mounted Secret often ends with
    a newline), else ``$env`` as it is, else None. An unreadable, non-UTF-8 or empty file is a
    usage error naming the file and ``what`` it should hold."""
    if file is None:
        return os.environ.get(env) or None
    try:
        value = file.read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror or str(exc) if isinstance(exc, OSError) else "not UTF-8 text"
        raise click.ClickException(f"cannot read the {what} file {file}: {why}") from exc
    if not value:
        raise click.ClickException(f"the {what} file {file} is empty")
    return value
