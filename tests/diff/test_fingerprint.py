"""Fingerprints find changes; they must be exact and fast."""

from __future__ import annotations

import copy
import time
from typing import Any

from gitops import diff
from tests.diff.conftest import manifest


def test_equal_views_have_equal_fingerprints_whatever_the_key_order() -> None:
    a = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c"}, "data": {"x": "1", "y": "2"}}
    b = {"apiVersion": "v1", "data": {"y": "2", "x": "1"}, "metadata": {"name": "c"}, "kind": "ConfigMap"}
    assert diff.fingerprint(a) == diff.fingerprint(b)
    assert diff.canonical_json(a) == diff.canonical_json(b)


def test_any_difference_changes_the_fingerprint() -> None:
    a: dict[str, Any] = {"spec": {"replicas": 1, "l": [1, 2]}}
    for change in (
        {"spec": {"replicas": 2, "l": [1, 2]}},
        {"spec": {"replicas": 1, "l": [2, 1]}},
        {"spec": {"replicas": "1", "l": [1, 2]}},
    ):
        assert diff.fingerprint(a) != diff.fingerprint(change)


def test_values_beyond_64_bits_still_fingerprint() -> None:
    assert diff.fingerprint({"n": 2**70}) != diff.fingerprint({"n": 2**70 + 1})


def test_fingerprinting_a_thousand_deployments_takes_well_under_100_ms() -> None:
    base = manifest("deployment-realistic", "shop")
    views = []
    for i in range(1000):
        obj = copy.deepcopy(base)
        obj["metadata"]["name"] = f"web-{i}"
        views.append(diff.normalize(obj, None)[0])
    best = min(_timed(views) for _ in range(3))
    assert best < 0.05, f"{best * 1000:.1f} ms for 1,000 objects"


def _timed(views: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    for v in views:
        diff.fingerprint(v)
    return time.perf_counter() - start
