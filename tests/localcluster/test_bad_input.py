"""Bad requests get the Status a real API server sends; the server never crashes or hangs and
never stores a half-applied object (K8S-API.md §3, §4)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops.localcluster import LocalCluster


@pytest.fixture(scope="module")
def http(cluster: LocalCluster) -> httpx.Client:
    return httpx.Client(base_url=cluster.url, timeout=10)


def _status(resp: httpx.Response) -> dict[str, Any]:
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert body["kind"] == "Status" and body["apiVersion"] == "v1"
    assert body["code"] == resp.status_code
    return body


def _cm_url(ns: str, name: str = "") -> str:
    return f"/api/v1/namespaces/{ns}/configmaps" + (f"/{name}" if name else "")


def test_malformed_json_is_400(http: httpx.Client, namespace: str) -> None:
    resp = http.post(
        _cm_url(namespace), content=b'{"metadata": {"name": ', headers={"content-type": "application/json"}
    )
    assert resp.status_code == 400
    assert _status(resp)["reason"] == "BadRequest"


def test_malformed_yaml_apply_is_400(http: httpx.Client, namespace: str) -> None:
    resp = http.patch(
        _cm_url(namespace, "x") + "?fieldManager=t",
        content=b"metadata: [unclosed",
        headers={"content-type": "application/apply-patch+yaml"},
    )
    assert resp.status_code == 400


def test_unknown_resource_is_404(http: httpx.Client) -> None:
    resp = http.get("/apis/example.com/v1/namespaces/default/nothings")
    assert resp.status_code == 404
    assert _status(resp)["reason"] == "NotFound"


def test_mismatched_namespace_is_400(http: httpx.Client, namespace: str) -> None:
    body = {"metadata": {"name": "m", "namespace": "default"}}
    resp = http.post(_cm_url(namespace), json=body)
    assert resp.status_code == 400
    assert _status(resp)["message"] == (
        "the namespace of the provided object does not match the namespace sent on the request"
    )


def test_missing_namespace_is_404(http: httpx.Client) -> None:
    resp = http.post(_cm_url("no-such-ns"), json={"metadata": {"name": "m"}})
    assert resp.status_code == 404
    assert _status(resp)["message"] == 'namespaces "no-such-ns" not found'


def test_invalid_name_is_422_with_cause(http: httpx.Client, namespace: str) -> None:
    resp = http.post(_cm_url(namespace), json={"metadata": {"name": "Not_Valid"}})
    assert resp.status_code == 422
    body = _status(resp)
    assert body["reason"] == "Invalid"
    assert body["message"].startswith(
        'ConfigMap "Not_Valid" is invalid: metadata.name: Invalid value: "Not_Valid": '
    )
    assert body["details"]["causes"][0]["field"] == "metadata.name"


def test_missing_name_is_422(http: httpx.Client, namespace: str) -> None:
    resp = http.post(_cm_url(namespace), json={"metadata": {}})
    assert resp.status_code == 422
    assert "metadata.name: Required value: name or generateName is required" in _status(resp)["message"]


def test_apply_without_field_manager_is_422(http: httpx.Client, namespace: str) -> None:
    resp = http.patch(
        _cm_url(namespace, "x"), content=b"{}", headers={"content-type": "application/apply-patch+yaml"}
    )
    assert resp.status_code == 422
    body = _status(resp)
    assert body["details"]["kind"] == "PatchOptions"
    assert "fieldManager: Required value: is required for apply patch" in body["message"]


def test_force_on_non_apply_patch_is_422(http: httpx.Client, namespace: str) -> None:
    http.post(_cm_url(namespace), json={"metadata": {"name": "f"}})
    resp = http.patch(
        _cm_url(namespace, "f") + "?force=true",
        content=b"{}",
        headers={"content-type": "application/merge-patch+json"},
    )
    assert resp.status_code == 422
    assert "force: Forbidden: may not be specified for non-apply patch" in _status(resp)["message"]


def test_max_surge_and_unavailable_both_zero_is_422(http: httpx.Client, namespace: str) -> None:
    body = {
        "metadata": {"name": "z"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }
    resp = http.post(f"/apis/apps/v1/namespaces/{namespace}/deployments", json=body)
    assert resp.status_code == 422
    assert (
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"
        in _status(resp)["message"]
    )
    assert http.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/z").status_code == 404


def test_oversize_body_is_413(http: httpx.Client, namespace: str) -> None:
    big = {"metadata": {"name": "big"}, "data": {"k": "x" * (3 * 1024 * 1024 + 10)}}
    resp = http.post(
        _cm_url(namespace), content=json.dumps(big).encode(), headers={"content-type": "application/json"}
    )
    assert resp.status_code == 413
    assert _status(resp)["reason"] == "RequestEntityTooLarge"


def test_protobuf_body_is_415(http: httpx.Client, namespace: str) -> None:
    resp = http.post(
        _cm_url(namespace),
        content=b"k8s\x00\x0a",
        headers={"content-type": "application/vnd.kubernetes.protobuf"},
    )
    assert resp.status_code == 415
    assert _status(resp)["reason"] == "UnsupportedMediaType"


def test_strategic_merge_patch_on_custom_resource_is_415(http: httpx.Client, cluster: LocalCluster) -> None:
    # A real server refuses strategic merge patches for CRs (K8S-API.md §3.6).
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "things.bad.example.com"},
        "spec": {
            "group": "bad.example.com",
            "scope": "Cluster",
            "names": {"plural": "things", "singular": "thing", "kind": "Thing"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }
    assert http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd).status_code == 201
    assert (
        http.post(
            "/apis/bad.example.com/v1/things", json={"metadata": {"name": "t"}, "spec": {"a": 1}}
        ).status_code
        == 201
    )
    resp = http.patch(
        "/apis/bad.example.com/v1/things/t",
        content=b'{"spec":{"a":2}}',
        headers={"content-type": "application/strategic-merge-patch+json"},
    )
    assert resp.status_code == 415


def test_invalid_label_selector_is_400(http: httpx.Client, namespace: str) -> None:
    resp = http.get(_cm_url(namespace), params={"labelSelector": "a in (b"})
    assert resp.status_code == 400


_paths = st.sampled_from(
    [
        "/api/v1/namespaces/default/configmaps",
        "/api/v1/namespaces/default/configmaps/x",
        "/apis/apps/v1/namespaces/default/deployments",
        "/apis/apps/v1/namespaces/default/deployments/x",
        "/apis/apps/v1/namespaces/default/deployments/x/scale",
        "/apis/apps/v1/namespaces/default/deployments/x/status",
        "/api/v1/namespaces",
        "/api/v1/namespaces/x",
        "/api/v1/nodes",
        "/apis/nope/v1/things",
    ]
)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
_bodies = st.one_of(
    st.binary(max_size=200),
    _json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {
            "metadata": st.fixed_dictionaries({"name": st.text(max_size=20)}),
            "spec": _json_values,
            "data": _json_values,
        }
    ).map(lambda v: json.dumps(v).encode()),
)
_content_types = st.sampled_from(
    [
        "application/json",
        "application/merge-patch+json",
        "application/json-patch+json",
        "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
        "text/plain",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["POST", "PUT", "PATCH", "DELETE", "GET"]),
    path=_paths,
    body=_bodies,
    content_type=_content_types,
    query=st.sampled_from(
        # watch=x is a watch (metav1's query booleans: only 0 and false are false)
        [
            "",
            "?fieldManager=fuzz",
            "?fieldManager=fuzz&force=true",
            "?dryRun=All",
            "?watch=x&timeoutSeconds=1",
        ]
    ),
)
def test_fuzzed_requests_always_get_an_answer(
    http: httpx.Client, method: str, path: str, body: bytes, content_type: str, query: str
) -> None:
    resp = http.request(method, path + query, content=body, headers={"content-type": content_type})
    if resp.status_code >= 400:
        status = _status(resp)
        # A real server passes some strategic-merge-patch errors through as 500 with an empty
        # reason; an InternalError would be an exception escaping our code.
        assert status["reason"] != "InternalError", status
    elif "watch" in query and method == "GET" and resp.headers.get("transfer-encoding") == "chunked":
        events = [json.loads(line) for line in resp.text.splitlines() if line.strip()]
        assert all(isinstance(e, dict) and "type" in e for e in events)
    else:
        assert isinstance(resp.json(), dict)


@pytest.mark.parametrize(
    ("value", "watches"),
    [
        ("yes", True),
        ("", True),
        ("t", True),
        ("1", True),
        ("0", False),
        ("FALSE", False),
        ("false", False),
        ("0&watch=true", False),
    ],
)
def test_query_booleans_are_decoded_as_metav1_does(http: httpx.Client, value: str, watches: bool) -> None:
    # apimachinery pkg/runtime/conversion.go Convert_Slice_string_To_bool: only "0" and "false"
    # (any case) are false; anything else, the empty string included, is true; never a 400.
    resp = http.get(f"/api/v1/namespaces/default/configmaps?watch={value}&timeoutSeconds=1")
    assert resp.status_code == 200
    if watches:
        assert resp.headers.get("transfer-encoding") == "chunked"
        assert all(json.loads(line)["type"] for line in resp.text.splitlines() if line.strip())
    else:
        assert resp.json()["kind"] == "ConfigMapList"
