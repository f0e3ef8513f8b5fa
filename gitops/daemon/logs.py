"""Structured logs for the daemon: every line carries the app, revision, trigger and sync id
it is about (from a context set around each reconcile), as text or one JSON object per line.

Secret values never reach a log line: the engine scrubs them from every message it makes and
history records are masked; what this module adds is only names, SHAs and ids.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Final

FIELDS: Final = ("app", "revision", "trigger", "sync_id")

_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("gitops_log_context", default={})  # noqa: B039


@contextlib.contextmanager
def context(**values: Any) -> Iterator[None]:
    """Within the block, log records of this thread carry ``values`` (nested blocks add up)."""
    token = _context.set({**_context.get(), **values})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**values: Any) -> None:
    """Add ``values`` to the current context until the enclosing :func:`context` block ends
    (for a value learnt inside the block, such as the sync id once history gave it)."""
    _context.set({**_context.get(), **values})


class ContextFilter(logging.Filter):
    """Copies the current context onto each record (``record.app`` ...), without overriding
    what a call passed in ``extra``."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context fields present, and
    the exception text when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in FIELDS:
            value = getattr(record, key, None)
            if value not in (None, ""):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level [app@revision #sync] message``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        tags = []
        app = getattr(record, "app", None)
        if app:
            rev = getattr(record, "revision", None)
            tags.append(f"{app}@{rev}" if rev else str(app))
        sync_id = getattr(record, "sync_id", None)
        if sync_id:
            tags.append(f"#{sync_id}")
        line = super().format(record)
        if tags:
            head, _, rest = line.partition(record.levelname)
            line = f"{head}{record.levelname} [{' '.join(tags)}]{rest}"
        return line


def configure(fmt: str = "text", level: str = "info") -> None:
    """Route the ``gitops`` loggers (and uvicorn's) to stderr in ``fmt`` (text or json)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    # Third-party chatter below WARNING is noise in a daemon's log.
    for name in ("apscheduler", "urllib3", "git", "kubernetes"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # APScheduler warns each time a poll finds the app's previous run still going: that is the
    # designed behaviour (one run per app at a time; a long rollout wait spans many intervals).
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
