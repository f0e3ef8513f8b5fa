"""Plan tests reuse the diff tests' fixture manifests and HTTP helper."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gitops.localcluster import LocalCluster
from tests.diff.kube import Kube


@pytest.fixture(scope="session")
def kube(cluster: LocalCluster) -> Iterator[Kube]:
    k = Kube(cluster)
    yield k
    k.close()
