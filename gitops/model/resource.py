"""Identity and origin of Kubernetes objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, order=True)
class ResourceKey:
    """The identity of an object: API group (``""`` for core), kind, namespace (``""`` when
    cluster-scoped) and name. Versions are not part of identity: ``apps/v1`` and a future
    ``apps/v2`` Deployment with the same name are the same object."""

    group: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        kind = f"{self.kind}.{self.group}" if self.group and "." in self.group else self.kind
        return f"{kind}/{self.namespace}/{self.name}" if self.namespace else f"{kind}/{self.name}"

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ResourceKey:
        """The key of an object body (``apiVersion``, ``kind``, ``metadata.name/namespace``)."""
        api_version = str(obj.get("apiVersion") or "")
        group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
        meta = obj.get("metadata") or {}
        return cls(
            group, str(obj.get("kind") or ""), str(meta.get("namespace") or ""), str(meta.get("name") or "")
        )


@dataclass(frozen=True)
class Origin:
    """Where a document came from: a file relative to the repository root, its index in a
    multi-document file, and the line it starts on (1-based; 0 when the problem concerns a
    whole file)."""

    path: str
    index: int = 0
    line: int = 1

    def __str__(self) -> str:
        return f"{self.path} (document {self.index + 1}, line {self.line})"


@dataclass(frozen=True)
class Resource:
    """A desired object: its key, its body as rendered from Git, and where it came from."""

    key: ResourceKey
    body: Mapping[str, Any] = field(compare=False, repr=False)  # never in reprs: Secrets
    origin: Origin | None = field(default=None, compare=False)

    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion") or "")

    @classmethod
    def of(cls, body: Mapping[str, Any], origin: Origin | None = None) -> Resource:
        return cls(ResourceKey.of(body), body, origin)
