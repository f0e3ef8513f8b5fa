"""Polling with a wall-clock deadline, shared by the tests that wait on a live cluster."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(
    predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition", interval: float = 0.01
) -> Any:
    """Poll until ``predicate`` returns something truthy and return it.

    ``predicate`` is always called at least once; after ``timeout`` seconds without a truthy
    value, raise ``AssertionError`` naming ``what``.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)
