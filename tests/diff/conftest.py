"""Fixtures for diff tests: manifests from ``fixtures/<kind>-<state>.yaml`` and an HTTP helper
for the session's local cluster (see tests/conftest.py)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.localcluster import LocalCluster
from tests.diff.kube import Kube

FIXTURES = Path(__file__).parent / "fixtures"


def manifest(name: str, namespace: str | None = None, **replace: str) -> dict[str, Any]:
    """A fixture manifest; ``namespace`` is set on it, ``replace`` substitutes placeholders."""
    text = (FIXTURES / f"{name}.yaml").read_text()
    for old, new in replace.items():
        text = text.replace(old, new)
    obj: dict[str, Any] = yaml.safe_load(text)
    if namespace is not None:
        obj["metadata"]["namespace"] = namespace
    return copy.deepcopy(obj)


@pytest.fixture(scope="session")
def kube(cluster: LocalCluster) -> Iterator[Kube]:
    k = Kube(cluster)
    yield k
    k.close()
