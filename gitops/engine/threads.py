"""Threads the engine starts carry the caller's context variables.

A sync runs in its caller's thread, but its LISTs, applies and health waits fan out to thread
pools and watch threads, and context variables do not cross into threads by themselves. What a
caller set for the sync (the daemon's log context: app, revision, sync id) would be missing from
every log line and every cluster-observer call made there, so the engine wraps what it hands to
a thread with :func:`carrying_context`, as ``asyncio.to_thread`` does for a coroutine's context.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def carrying_context(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn``, run in a copy of the context variables of the thread that called this. Each
    call gets its own copy: one Context cannot be entered by two threads at once."""
    context = contextvars.copy_context()

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return context.copy().run(fn, *args, **kwargs)

    return run
