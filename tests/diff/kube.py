"""A small HTTP helper for integration tests: server-side apply and other managers' writes to the
local cluster over real HTTP (httpx), as the engine and kubectl do them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from gitops.localcluster import LocalCluster

APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"


class Kube:
    def __init__(self, cluster: LocalCluster) -> None:
        self.http = httpx.Client(base_url=cluster.url, timeout=30)
        self._plurals: dict[tuple[str, str], tuple[str, bool]] = {}

    def close(self) -> None:
        self.http.close()

    def _resource(self, api_version: str, kind: str) -> tuple[str, bool]:
        if (api_version, kind) not in self._plurals:
            base = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
            found = self.http.get(base).json()
            for r in found.get("resources", []):
                if "/" not in r["name"]:
                    self._plurals[(api_version, r["kind"])] = (r["name"], r["namespaced"])
        return self._plurals[(api_version, kind)]

    def url(self, obj: Mapping[str, Any], sub: str = "") -> str:
        api_version, kind = obj["apiVersion"], obj["kind"]
        plural, namespaced = self._resource(api_version, kind)
        base = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
        meta = obj["metadata"]
        ns = f"/namespaces/{meta['namespace']}" if namespaced else ""
        return f"{base}{ns}/{plural}/{meta['name']}" + (f"/{sub}" if sub else "")

    def apply(self, obj: Mapping[str, Any], manager: str = "gitops", force: bool = True) -> dict[str, Any]:
        """Server-side apply, as the engine does it; returns the stored object."""
        params = {"fieldManager": manager, "force": "true" if force else "false"}
        r = self.http.patch(
            self.url(obj), params=params, content=json.dumps(obj), headers={"content-type": APPLY}
        )
        assert r.status_code in (200, 201), r.text
        result: dict[str, Any] = r.json()
        return result

    def patch(
        self,
        obj: Mapping[str, Any],
        body: Mapping[str, Any],
        manager: str,
        content_type: str = MERGE,
        sub: str = "",
    ) -> dict[str, Any]:
        """A non-apply write by another manager (``kubectl edit``/``patch``/``scale`` style)."""
        r = self.http.patch(
            self.url(obj, sub),
            params={"fieldManager": manager},
            content=json.dumps(body),
            headers={"content-type": content_type},
        )
        assert r.status_code == 200, r.text
        return self.get(obj)

    def get(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        r = self.http.get(self.url(obj))
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    def raw_apply(self, obj: Mapping[str, Any], manager: str = "gitops") -> httpx.Response:
        return self.http.patch(
            self.url(obj),
            params={"fieldManager": manager, "force": "true"},
            content=json.dumps(obj),
            headers={"content-type": APPLY},
        )
