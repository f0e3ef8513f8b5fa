"""Verb details over raw HTTP: status subresource, deletecollection, bookmarks, finalizers,
dry-run updates, generateName (K8S-API.md §2, §3)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from gitops.localcluster import LocalCluster


@pytest.fixture(scope="module")
def http(cluster: LocalCluster) -> httpx.Client:
    return httpx.Client(base_url=cluster.url, timeout=10)


def _deployment(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }


def test_status_subresource_writes_only_status_and_main_writes_ignore_it(
    http: httpx.Client, namespace: str
) -> None:
    base = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    created = http.post(base, json={**_deployment("s"), "status": {"replicas": 9}}).json()
    assert created["status"] == {}  # status dropped on create (deployment strategy PrepareForCreate)
    merge = {"content-type": "application/merge-patch+json"}
    main = http.patch(
        f"{base}/s", content=b'{"status":{"replicas":5},"spec":{"replicas":4}}', headers=merge
    ).json()
    assert main["spec"]["replicas"] == 4 and main["status"] == {}
    status = http.patch(
        f"{base}/s/status", content=b'{"status":{"replicas":5},"spec":{"replicas":7}}', headers=merge
    ).json()
    assert status["status"]["replicas"] == 5 and status["spec"]["replicas"] == 4
    assert status["metadata"]["generation"] == main["metadata"]["generation"]  # status writes never bump it


def test_deletecollection_with_label_selector(http: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    for name, team in (("a", "x"), ("b", "x"), ("c", "y")):
        assert http.post(base, json={"metadata": {"name": name, "labels": {"team": team}}}).status_code == 201
    resp = http.request("DELETE", base, params={"labelSelector": "team=x"})
    assert resp.status_code == 200
    assert resp.json()["kind"] == "ConfigMapList"
    assert sorted(i["metadata"]["name"] for i in resp.json()["items"]) == ["a", "b"]
    left = http.get(base).json()["items"]
    assert [i["metadata"]["name"] for i in left] == ["c"]


def test_finalizers_hold_deletion_until_removed(http: httpx.Client, namespace: str) -> None:
    url = f"/api/v1/namespaces/{namespace}/configmaps"
    http.post(url, json={"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    resp = http.delete(f"{url}/held")
    assert resp.status_code == 200
    held = resp.json()
    assert held["metadata"]["deletionTimestamp"] and held["metadata"]["finalizers"] == ["example.com/hold"]
    assert http.get(f"{url}/held").status_code == 200
    adding = http.patch(
        f"{url}/held",
        content=json.dumps({"metadata": {"finalizers": ["example.com/hold", "example.com/more"]}}).encode(),
        headers={"content-type": "application/merge-patch+json"},
    )
    assert adding.status_code == 422  # no new finalizers while deleting
    http.patch(
        f"{url}/held",
        content=b'{"metadata":{"finalizers":null}}',
        headers={"content-type": "application/merge-patch+json"},
    )
    assert http.get(f"{url}/held").status_code == 404


def test_dry_run_update_returns_the_would_be_object_with_the_old_rv(
    http: httpx.Client, cluster: LocalCluster, namespace: str
) -> None:
    url = f"/api/v1/namespaces/{namespace}/configmaps"
    made = http.post(url, json={"metadata": {"name": "d"}, "data": {"a": "1"}}).json()
    rv = cluster.store.resource_version
    resp = http.put(f"{url}/d", params={"dryRun": "All"}, json={**made, "data": {"a": "2"}})
    assert resp.status_code == 200
    assert resp.json()["data"] == {"a": "2"}
    assert resp.json()["metadata"]["resourceVersion"] == made["metadata"]["resourceVersion"]
    assert cluster.store.resource_version == rv
    assert http.get(f"{url}/d").json()["data"] == {"a": "1"}


def test_generate_name_adds_five_characters_from_the_kubernetes_alphabet(
    http: httpx.Client, namespace: str
) -> None:
    made = http.post(
        f"/api/v1/namespaces/{namespace}/configmaps", json={"metadata": {"generateName": "gen-"}}
    ).json()
    name = made["metadata"]["name"]
    assert name.startswith("gen-") and len(name) == len("gen-") + 5
    assert set(name[4:]) <= set("bcdfghjklmnpqrstvwxz2456789")


def _bookmarks(http: httpx.Client, url: str, timeout_seconds: str) -> list[dict[str, Any]]:
    rv = http.get(url).json()["metadata"]["resourceVersion"]
    events = []
    with http.stream(
        "GET",
        url,
        params={
            "watch": "true",
            "resourceVersion": rv,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": timeout_seconds,
        },
    ) as stream:
        for line in stream.iter_lines():
            if line:
                events.append(json.loads(line))
    return events


def test_watch_with_bookmarks_sends_one_two_seconds_before_the_deadline(
    http: httpx.Client, namespace: str
) -> None:
    """cacheWatcher.nextBookmarkTime (apiserver/pkg/storage/cacher/cache_watcher.go): bookmarks
    come every minute and 2 s before the deadline, so a 3 s watch sees exactly one."""
    events = _bookmarks(http, f"/api/v1/namespaces/{namespace}/configmaps", "3")
    assert [e["type"] for e in events] == ["BOOKMARK"]
    assert set(events[0]["object"]["metadata"]) == {"resourceVersion"}
    assert events[0]["object"]["kind"] == "ConfigMap"


def test_watch_shorter_than_two_seconds_gets_no_bookmark(http: httpx.Client, namespace: str) -> None:
    """The pre-timeout moment is already past for a 1 s watch: no bookmark (nextBookmarkTime)."""
    assert _bookmarks(http, f"/api/v1/namespaces/{namespace}/configmaps", "1") == []


def test_watch_without_bookmarks_ends_at_timeout_with_nothing(http: httpx.Client, namespace: str) -> None:
    url = f"/api/v1/namespaces/{namespace}/configmaps"
    rv = http.get(url).json()["metadata"]["resourceVersion"]
    with http.stream(
        "GET", url, params={"watch": "1", "resourceVersion": rv, "timeoutSeconds": "1"}
    ) as stream:
        assert [line for line in stream.iter_lines() if line] == []


def test_table_for_list_carries_partial_object_metadata(http: httpx.Client, namespace: str) -> None:
    http.post(
        f"/api/v1/namespaces/{namespace}/configmaps", json={"metadata": {"name": "t"}, "data": {"a": "1"}}
    )
    resp = http.get(
        f"/api/v1/namespaces/{namespace}/configmaps",
        headers={"accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"},
    )
    table = resp.json()
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]
    row = table["rows"][0]
    assert row["cells"][:2] == ["t", 1]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["name"] == "t"
