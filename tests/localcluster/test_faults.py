"""Fault injection: the local cluster misbehaves as a real API server does, and says so.

What a client lives through is asserted with the clients themselves: the official Python client
(``ApiException`` with the HTTP status, reason phrase, Status body and headers; urllib3 errors for
dropped connections; ``kubernetes.watch.Watch`` for watches) and the real kubectl 1.32, whose
client-go retries a 429 or 5xx carrying ``Retry-After`` (at most 10 times) and retries a GET whose
connection was reset. Timing is asserted by order and lower bounds only, never by tight limits.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import urllib3
from click.testing import CliRunner
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from gitops.cli.main import cli
from gitops.localcluster import LocalCluster
from gitops.localcluster.api import WriteOptions
from gitops.localcluster.faults import (
    Drop,
    ErrorSpec,
    FaultConfig,
    FaultConfigError,
    FaultInjector,
    RequestInfo,
    Rule,
    load_config,
)
from tests.conftest import Kubectl

STALE = "the object has been modified; please apply your changes to the latest version and try again"


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A cluster of this module's own: its fault rules must never reach other tests."""
    with LocalCluster(kubeconfig=tmp_path_factory.mktemp("faulty") / "kubeconfig", controllers=False) as c:
        yield c


@pytest.fixture(autouse=True)
def _no_rules_left(faulty: LocalCluster) -> Iterator[None]:
    faulty.faults.clear()
    faulty.faults.reset_counts()
    yield
    faulty.faults.clear()


@pytest.fixture(scope="module")
def core(faulty: LocalCluster) -> Iterator[client.CoreV1Api]:
    api_client = config.new_client_from_config(config_file=str(faulty.kubeconfig))
    yield client.CoreV1Api(api_client)
    api_client.close()


@pytest.fixture
def ns(faulty: LocalCluster) -> str:
    name = f"f-{uuid.uuid4().hex[:10]}"
    rt = faulty.registry.by_plural("", "v1", "namespaces")
    assert rt is not None
    faulty.api.create(rt, "", {"metadata": {"name": name}}, WriteOptions(manager="test-setup"))
    return name


@pytest.fixture(scope="module")
def fkubectl(faulty: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(faulty.kubeconfig, tmp_path_factory.mktemp("faulty-kubectl-home"))


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "data": data}


def exists(core: client.CoreV1Api, ns: str, name: str) -> bool:
    try:
        core.read_namespaced_config_map(name, ns)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def raises_api(fn: Callable[[], Any]) -> ApiException:
    with pytest.raises(ApiException) as info:
        fn()
    return info.value


def records_since(cluster: LocalCluster, seq: int, resource: str = "configmaps") -> list[Any]:
    return [r for r in cluster.requests.records(seq) if r.resource == resource]


# ------------------------------------------------------------------------------- Status errors


@pytest.mark.parametrize(
    ("error", "code", "phrase", "body"),
    [
        (
            500,
            500,
            "Internal Server Error",
            {
                "message": "Internal error occurred: etcdserver: leader changed",
                "reason": "InternalError",
                "details": {"causes": [{"message": "etcdserver: leader changed"}]},
            },
        ),
        (
            "ServiceUnavailable",
            503,
            "Service Unavailable",
            {
                "message": "the server is currently unable to handle the request",
                "reason": "ServiceUnavailable",
            },
        ),
        (
            504,
            504,
            "Gateway Timeout",
            {
                "message": "Timeout: request did not complete within requested timeout - context deadline exceeded",
                "reason": "Timeout",
                "details": {},
            },
        ),
    ],
)
def test_python_client_sees_injected_errors_as_status_exceptions(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str, error: Any, code: int, phrase: str, body: Any
) -> None:
    faulty.faults.add(verbs=["create"], resources=["configmaps"], namespace=ns, error=error)
    exc = raises_api(lambda: core.create_namespaced_config_map(ns, configmap("a")))
    assert (exc.status, exc.reason) == (code, phrase)
    assert exc.headers["Content-Type"] == "application/json"
    assert json.loads(exc.body) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        **body,
        "code": code,
    }
    assert not exists(core, ns, "a")  # rejected before it was processed


def test_429_sends_retry_after_header_and_details(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str
) -> None:
    faulty.faults.add(verbs="create", resources="configmaps", error={"code": 429, "retryAfterSeconds": 3})
    exc = raises_api(lambda: core.create_namespaced_config_map(ns, configmap("a")))
    assert (exc.status, exc.reason) == (429, "Too Many Requests")
    assert exc.headers["Retry-After"] == "3"
    assert json.loads(exc.body) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Too many requests, please try again later.",
        "reason": "TooManyRequests",
        "details": {"retryAfterSeconds": 3},
        "code": 429,
    }


def test_plain_429_is_the_text_an_overloaded_apiserver_writes(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str
) -> None:
    faulty.faults.add(verbs="create", resources="configmaps", error={"code": 429, "plain": True})
    exc = raises_api(lambda: core.create_namespaced_config_map(ns, configmap("a")))
    assert exc.status == 429
    assert exc.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert exc.headers["Retry-After"] == "1"
    assert exc.body == "Too many requests, please try again later.\n"


def test_python_client_retries_a_get_on_429_with_retry_after_but_not_a_create(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str
) -> None:
    """urllib3's default Retry (the client sets none) honours Retry-After on 429/503 for
    idempotent methods, 3 retries at most; POST and PATCH get the 429 straight away."""
    core.create_namespaced_config_map(ns, configmap("a"))
    faulty.faults.add(
        id="throttle-get", verbs="get", resources="configmaps", namespace=ns, error=429, count=1
    )
    seq = faulty.requests.last_seq
    assert core.read_namespaced_config_map("a", ns).metadata.name == "a"
    assert [(r.code, r.fault) for r in records_since(faulty, seq)] == [(429, "error:429"), (200, "")]

    faulty.faults.add(id="throttle-all", verbs="get", resources="configmaps", namespace=ns, error=429)
    exc = raises_api(lambda: core.read_namespaced_config_map("a", ns))
    assert exc.status == 429
    assert faulty.faults.counts().by_rule["throttle-all"] == 4  # the request and 3 retries

    faulty.faults.add(id="throttle-create", verbs="create", resources="configmaps", error=429, count=1)
    assert raises_api(lambda: core.create_namespaced_config_map(ns, configmap("b"))).status == 429
    assert faulty.faults.counts().by_rule["throttle-create"] == 1


def test_conflict_names_the_object_as_new_conflict_does(faulty: LocalCluster, ns: str) -> None:
    api_client = config.new_client_from_config(config_file=str(faulty.kubeconfig))
    apps = client.AppsV1Api(api_client)
    labels = {"app": "web"}
    apps.create_namespaced_deployment(
        ns,
        {
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                },
            },
        },
    )
    faulty.faults.add(verbs=["patch"], resources=["deployments.apps"], name="web", error="Conflict")
    exc = raises_api(lambda: apps.patch_namespaced_deployment("web", ns, {"spec": {"replicas": 3}}))
    api_client.close()
    assert (exc.status, exc.reason) == (409, "Conflict")
    assert json.loads(exc.body) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'Operation cannot be fulfilled on deployments.apps "web": {STALE}',
        "reason": "Conflict",
        "details": {"name": "web", "group": "apps", "kind": "deployments"},
        "code": 409,
    }


def test_create_rules_match_the_name_in_the_body(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str
) -> None:
    faulty.faults.add(verbs="create", resources="configmaps", name="bad-*", error=409)
    core.create_namespaced_config_map(ns, configmap("good"))
    exc = raises_api(lambda: core.create_namespaced_config_map(ns, configmap("bad-one")))
    assert (
        json.loads(exc.body)["message"] == f'Operation cannot be fulfilled on configmaps "bad-one": {STALE}'
    )


def test_error_after_processing_commits_the_write_the_client_saw_fail(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str
) -> None:
    faulty.faults.add(verbs="create", resources="configmaps", error=504, phase="after")
    seq = faulty.requests.last_seq
    assert raises_api(lambda: core.create_namespaced_config_map(ns, configmap("a"))).status == 504
    faulty.faults.clear()
    assert exists(core, ns, "a")  # "Clients may retry, but the operation may still complete"
    assert records_since(faulty, seq)[0].code == 504
    assert records_since(faulty, seq)[0].fault == "error:504"


# ---------------------------------------------------------------------------------- connections


def test_reset_connection_is_a_protocol_error_and_nothing_is_written(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str
) -> None:
    faulty.faults.add(verbs="create", resources="configmaps", drop="reset")
    seq = faulty.requests.last_seq
    with pytest.raises(urllib3.exceptions.ProtocolError) as info:
        core.create_namespaced_config_map(ns, configmap("a"))
    assert isinstance(info.value.args[1], ConnectionResetError)
    faulty.faults.clear()
    assert not exists(core, ns, "a")
    assert records_since(faulty, seq)[0].code == 0
    assert records_since(faulty, seq)[0].fault == "drop:reset"


def test_closed_connection_is_remote_disconnected(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str
) -> None:
    faulty.faults.add(verbs="create", resources="configmaps", drop="close")
    with pytest.raises(
        urllib3.exceptions.ProtocolError, match="Remote end closed connection without response"
    ):
        core.create_namespaced_config_map(ns, configmap("a"))


def test_drop_after_processing_loses_the_answer_of_a_committed_write(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str
) -> None:
    faulty.faults.add(verbs="create", resources="configmaps", drop="reset", phase="after", count=1)
    with pytest.raises(urllib3.exceptions.ProtocolError):
        core.create_namespaced_config_map(ns, configmap("a"))
    # the retry a careful client makes finds the object already there
    assert raises_api(lambda: core.create_namespaced_config_map(ns, configmap("a"))).status == 409
    assert exists(core, ns, "a")


def test_truncated_response_is_an_incomplete_read(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_config_map(ns, configmap("a", k="v" * 100))
    faulty.faults.add(verbs="get", resources="configmaps", namespace=ns, drop="truncate")
    with pytest.raises(urllib3.exceptions.ProtocolError) as info:
        core.read_namespaced_config_map("a", ns)
    assert "IncompleteRead" in str(info.value)


def test_urllib3_retries_a_get_whose_connection_was_reset(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_config_map(ns, configmap("a"))
    faulty.faults.add(id="once", verbs="get", resources="configmaps", namespace=ns, drop="reset", count=1)
    seq = faulty.requests.last_seq
    assert core.read_namespaced_config_map("a", ns).metadata.name == "a"
    assert [(r.code, r.fault) for r in records_since(faulty, seq)] == [(0, "drop:reset"), (200, "")]

    faulty.faults.add(id="always", verbs="get", resources="configmaps", namespace=ns, drop="reset")
    with pytest.raises(urllib3.exceptions.MaxRetryError) as info:
        core.read_namespaced_config_map("a", ns)
    assert isinstance(info.value.reason, urllib3.exceptions.ProtocolError)
    assert faulty.faults.counts().by_rule["always"] == 4


# -------------------------------------------------------------------------------------- watches


def _names(events: list[dict[str, Any]]) -> list[str]:
    return [f"{e['type']}:{e['object'].metadata.name}" for e in events]


def test_watch_ends_cleanly_after_n_events(faulty: LocalCluster, core: client.CoreV1Api, ns: str) -> None:
    for name in ("a", "b", "c", "d"):
        core.create_namespaced_config_map(ns, configmap(name))
    faulty.faults.add(verbs="watch", resources="configmaps", namespace=ns, watch_close={"events": 2})
    started = time.monotonic()
    events = list(watch.Watch().stream(core.list_namespaced_config_map, ns, timeout_seconds=60))
    assert _names(events) == ["ADDED:a", "ADDED:b"]
    assert time.monotonic() - started < 30  # ended by the fault, not by timeoutSeconds
    assert faulty.faults.counts().by_effect == {"watch-close": 1}


def test_watch_ends_cleanly_after_some_seconds(faulty: LocalCluster, core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, configmap("a"))
    faulty.faults.add(verbs="watch", resources="configmaps", namespace=ns, watch_close={"seconds": 0.5})
    started = time.monotonic()
    events = list(watch.Watch().stream(core.list_namespaced_config_map, ns, timeout_seconds=60))
    elapsed = time.monotonic() - started
    assert _names(events) == ["ADDED:a"]
    assert 0.5 <= elapsed < 30


def test_watch_without_timeout_resumes_from_the_last_resource_version(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str
) -> None:
    """The Python Watch re-issues a watch that ended, from the last resourceVersion it saw."""
    core.create_namespaced_config_map(ns, configmap("a"))
    faulty.faults.add(verbs="watch", resources="configmaps", namespace=ns, watch_close={"events": 1}, count=1)
    seq = faulty.requests.last_seq
    w = watch.Watch()
    seen = []
    for event in w.stream(core.list_namespaced_config_map, ns):
        seen.append(event)
        if event["object"].metadata.name == "a":
            core.create_namespaced_config_map(ns, configmap("b"))
        else:
            w.stop()
    assert _names(seen) == ["ADDED:a", "ADDED:b"]
    watches = [r for r in records_since(faulty, seq) if r.verb == "watch"]
    assert [r.fault for r in watches] == ["watch-close", ""]


def test_cut_watch_is_a_protocol_error(faulty: LocalCluster, core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, configmap("a"))
    faulty.faults.add(
        verbs="watch", resources="configmaps", namespace=ns, watch_close={"events": 1, "clean": False}
    )
    seen = []
    with pytest.raises(urllib3.exceptions.ProtocolError, match="Response ended prematurely"):
        for event in watch.Watch().stream(core.list_namespaced_config_map, ns, timeout_seconds=60):
            seen.append(event)
    assert _names(seen) == ["ADDED:a"]


@pytest.mark.parametrize(
    "rule",
    [
        {"watchClose": {"events": 0}},
        {"watchClose": {"events": 1}},
        {"drop": "truncate"},
        {"error": 500, "phase": "after"},
        {"drop": "reset", "phase": "after"},
    ],
)
def test_faulted_watches_release_their_store_subscription(
    faulty: LocalCluster, ns: str, rule: dict[str, Any]
) -> None:
    subscribers = faulty.store._subscribers  # white box: a leaked subscription is invisible outside
    before = len(subscribers)
    faulty.faults.add({"verbs": ["watch"], "resources": ["configmaps"], "namespace": ns, **rule})
    with httpx.Client(base_url=faulty.url, timeout=10) as http, contextlib.suppress(httpx.TransportError):
        http.get(f"/api/v1/namespaces/{ns}/configmaps", params={"watch": "1", "timeoutSeconds": "60"})
    deadline = time.monotonic() + 10
    while len(subscribers) > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(subscribers) == before


# -------------------------------------------------------------------------------------- latency


def test_latency_delays_only_matched_requests_and_the_server_serves_others_meanwhile(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_config_map(ns, configmap("slow"))
    core.create_namespaced_config_map(ns, configmap("fast"))
    faulty.faults.add(verbs="get", resources="configmaps", name="slow", delay=1.0)
    finished: dict[str, float] = {}

    def read(name: str) -> None:
        started = time.monotonic()
        core.read_namespaced_config_map(name, ns)
        finished[name] = time.monotonic() - started

    slow = threading.Thread(target=read, args=("slow",))
    slow.start()
    time.sleep(0.1)
    read("fast")
    assert slow.is_alive()  # the fast one was answered while the slow one waited
    slow.join(30)
    assert finished["slow"] >= 1.0
    assert finished["fast"] < finished["slow"]
    assert faulty.faults.counts().by_effect == {"delay": 1}


def test_delay_range_and_error_combine(faulty: LocalCluster, core: client.CoreV1Api, ns: str) -> None:
    faulty.faults.add(verbs="create", resources="configmaps", delay=[0.2, 0.3], error=503)
    seq = faulty.requests.last_seq
    started = time.monotonic()
    assert raises_api(lambda: core.create_namespaced_config_map(ns, configmap("a"))).status == 503
    assert time.monotonic() - started >= 0.2
    assert [r.fault for r in records_since(faulty, seq)] == ["delay,error:503"]


# ------------------------------------------------------------------------ counting and matching


def test_count_faults_exactly_the_first_n_matching_requests(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str
) -> None:
    faulty.faults.add(
        id="first-three", verbs="create", resources="configmaps", namespace=ns, error=500, count=3
    )
    outcomes = []
    for i in range(8):
        try:
            core.create_namespaced_config_map(ns, configmap(f"c{i}"))
            outcomes.append("ok")
        except ApiException as exc:
            outcomes.append(str(exc.status))
    assert outcomes == ["500"] * 3 + ["ok"] * 5
    counts = faulty.faults.counts()
    assert (counts.by_rule, counts.matched, counts.by_effect, counts.requests) == (
        {"first-three": 3},
        {"first-three": 8},
        {"error:500": 3},
        3,
    )


def test_skip_lets_the_first_requests_through(faulty: LocalCluster, core: client.CoreV1Api, ns: str) -> None:
    faulty.faults.add(verbs="create", resources="configmaps", error=500, skip=2, count=1)
    outcomes = []
    for i in range(4):
        try:
            core.create_namespaced_config_map(ns, configmap(f"c{i}"))
            outcomes.append("ok")
        except ApiException:
            outcomes.append("fail")
    assert outcomes == ["ok", "ok", "fail", "ok"]


def test_a_seed_makes_probabilistic_faults_reproducible(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str
) -> None:
    def pattern(seed: int) -> list[bool]:
        faulty.faults.replace(
            FaultConfig(
                rules=(Rule(id="coin", verbs=("create",), rate=0.5, error=ErrorSpec(503)),), seed=seed
            )
        )
        out = []
        for _ in range(24):
            try:
                core.create_namespaced_config_map(ns, {"metadata": {"generateName": "c-"}})
                out.append(False)
            except ApiException:
                out.append(True)
        return out

    first = pattern(7)
    assert 0 < sum(first) < 24
    assert pattern(7) == first
    assert pattern(8) != first


def test_rules_only_touch_the_resources_verbs_and_clients_they_name(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_config_map(ns, configmap("a"))
    faulty.faults.add(verbs=["list"], resources=["configmaps"], namespace=ns, error=503)
    faulty.faults.add(verbs=["*"], resources=["secrets"], user_agent="someone-else", error=503)
    assert raises_api(lambda: core.list_namespaced_config_map(ns)).status == 503
    assert core.read_namespaced_config_map("a", ns).metadata.name == "a"
    assert core.list_namespaced_secret(ns).items == []
    assert core.list_namespaced_config_map("default").kind == "ConfigMapList"


def test_non_resource_endpoints_are_faulted_only_by_rules_that_ask_for_them(faulty: LocalCluster) -> None:
    with httpx.Client(base_url=faulty.url, timeout=10) as http:
        faulty.faults.add(resources=["*"], error=503)
        assert [http.get(p).status_code for p in ("/version", "/apis", "/openapi/v3", "/healthz")] == [
            200
        ] * 4
        assert http.get("/api/v1/namespaces").status_code == 503

        faulty.faults.replace([{"paths": ["/version"], "error": 500}])
        assert http.get("/version").status_code == 500
        assert http.get("/apis").status_code == 200
        assert http.get("/api/v1/namespaces").status_code == 200

        faulty.faults.replace([{"resources": [""], "error": 503}])
        assert [http.get(p).status_code for p in ("/version", "/api", "/apis/apps/v1", "/openapi/v3")] == [
            503
        ] * 4
        assert http.get("/healthz").status_code == 200
        assert http.get("/api/v1/namespaces").status_code == 200


def test_an_outage_fails_everything_and_health_checks_only_when_asked(faulty: LocalCluster) -> None:
    with httpx.Client(base_url=faulty.url, timeout=10) as http:
        faulty.faults.outage(60)
        assert [http.get(p).status_code for p in ("/version", "/apis", "/api/v1/namespaces")] == [503] * 3
        assert http.get("/healthz").status_code == 200
        assert http.get("/debug/requests").status_code == 200  # the test's own window stays open

        faulty.faults.clear()
        faulty.faults.outage(60, health=True, drop=True)
        for path in ("/readyz", "/api/v1/namespaces"):
            with pytest.raises(httpx.TransportError):
                http.get(path)
        faulty.faults.clear()
        assert http.get("/readyz").status_code == 200


def test_request_log_marks_only_the_faulted_requests(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str
) -> None:
    faulty.faults.add(verbs="create", resources="configmaps", name="x", error=503)
    seq = faulty.requests.last_seq
    core.create_namespaced_config_map(ns, configmap("ok"))
    raises_api(lambda: core.create_namespaced_config_map(ns, configmap("x")))
    log = httpx.get(f"{faulty.url}/debug/requests", params={"since": seq}).json()["requests"]
    assert [(r["code"], r["fault"]) for r in log if r["resource"] == "configmaps"] == [
        (201, ""),
        (503, "error:503"),
    ]


# ------------------------------------------------------------------------------ configuration


def test_faults_configured_over_http_take_effect(
    faulty: LocalCluster, core: client.CoreV1Api, ns: str
) -> None:
    with httpx.Client(base_url=f"{faulty.url}/debug/faults", timeout=10) as http:
        put = http.put(
            "",
            json={
                "seed": 3,
                "rules": [{"id": "no-cm", "verbs": ["create"], "resources": ["configmaps"], "error": 503}],
            },
        )
        assert put.status_code == 200
        assert put.json()["seed"] == 3
        assert raises_api(lambda: core.create_namespaced_config_map(ns, configmap("a"))).status == 503

        added = http.post(
            "", content="verbs: [list]\nresources: [secrets]\nerror: {code: 429, retryAfterSeconds: 0}\n"
        )
        assert added.status_code == 201
        rule_id = added.json()["rules"][0]["id"]
        assert raises_api(lambda: core.list_namespaced_secret(ns)).status == 429

        state = http.get("").json()
        assert [r["id"] for r in state["rules"]] == ["no-cm", rule_id]
        assert state["rules"][0]["status"] == {
            "matched": 1,
            "injected": 1,
            "spent": False,
            "age": state["rules"][0]["status"]["age"],
        }
        assert state["counts"]["byRule"] == {"no-cm": 1, rule_id: 1}
        assert http.get("/counts").json()["byEffect"] == {"error:503": 1, "error:429": 1}

        assert http.delete(f"/rules/{rule_id}").status_code == 200
        assert core.list_namespaced_secret(ns).items == []
        assert http.delete("/rules/nope").status_code == 404

        assert http.delete("").json()["rules"] == []
        core.create_namespaced_config_map(ns, configmap("a"))
        assert http.delete("/counts").json()["requests"] == 0


def test_bad_rules_are_rejected_with_a_message_naming_the_field(faulty: LocalCluster) -> None:
    with httpx.Client(base_url=f"{faulty.url}/debug/faults", timeout=10) as http:
        answer = http.post("", json={"id": "x", "verbs": ["get"], "errror": 500})
        assert answer.status_code == 400
        assert answer.json()["message"] == "rule 'x': unknown field 'errror'"
        assert http.post("", json={"verbs": ["fetch"], "error": 500}).status_code == 400
        assert http.put("", json=[{"error": 500}, {"error": 500, "drop": "reset"}]).status_code == 400
        assert http.get("").json()["rules"] == []  # a rejected replace changes nothing
        assert http.patch("").status_code == 405
    with pytest.raises(FaultConfigError, match="at most one of error, drop, watchClose"):
        Rule.from_obj({"error": 500, "drop": "reset"})
    with pytest.raises(FaultConfigError, match="watch verb only"):
        Rule.from_obj({"verbs": ["get"], "watchClose": {"events": 1}})
    with pytest.raises(FaultConfigError, match="no effect"):
        Rule.from_obj({"verbs": ["get"]})


def test_rules_given_at_start_apply_from_the_first_request(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text("seed: 1\nrules:\n- {id: ro, verbs: [create, update, patch, delete], error: 503}\n")
    with LocalCluster(kubeconfig=tmp_path / "kubeconfig", controllers=False, faults=load_config(path)) as c:
        api_client = config.new_client_from_config(config_file=str(c.kubeconfig))
        api = client.CoreV1Api(api_client)
        assert api.list_namespace().items
        assert raises_api(lambda: api.create_namespace({"metadata": {"name": "n"}})).status == 503
        assert c.faults.counts().by_rule == {"ro": 1}
        api_client.close()


def test_serve_loads_a_fault_file(tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    path.write_text(json.dumps([{"id": "slow-version", "paths": ["/version"], "delay": 0.01}]))
    kubeconfig = tmp_path / "kubeconfig"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from gitops.cli.main import main; main()",
            "local-cluster",
            "serve",
            "--no-controllers",
            "--faults",
            str(path),
            "--kubeconfig",
            str(kubeconfig),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        url = line.split("serving on ")[1].split(";")[0]
        assert httpx.get(f"{url}/version").status_code == 200
        state = httpx.get(f"{url}/debug/faults").json()
        assert [r["id"] for r in state["rules"]] == ["slow-version"]
        assert state["counts"]["byEffect"] == {"delay": 1}
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_rejects_a_bad_fault_file(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text("- {verbs: [get], error: 999}\n")
    result = CliRunner().invoke(cli, ["local-cluster", "serve", "--faults", str(path)])
    assert result.exit_code == 1
    assert "--faults: " in result.output
    assert "error code 999 is not a 4xx or 5xx HTTP status" in result.output


# ------------------------------------------------------------------- the decision, without HTTP


def _get(name: str = "a", **kw: Any) -> RequestInfo:
    fields: dict[str, Any] = {
        "verb": "get",
        "path": f"/api/v1/namespaces/ns/configmaps/{name}",
        "resource_request": True,
        "resource": "configmaps",
        "namespace": "ns",
        "name": name,
        "route_name": name,
    }
    return RequestInfo(**{**fields, **kw})


def test_window_opens_and_closes_on_the_injector_clock() -> None:
    now = [100.0]
    injector = FaultInjector(clock=lambda: now[0])
    injector.add(id="w", error=500, window=[5, 10])
    hits = []
    for t in (0, 4.9, 5, 9.9, 10, 20):
        now[0] = 100.0 + t
        hits.append(injector.decide(_get()) is not None)
    assert hits == [False, False, True, True, False, False]
    injector.rearm()  # the cluster does this when it starts serving
    now[0] += 5
    assert injector.decide(_get()) is not None


def test_same_seed_same_decisions_different_rule_ids_different_streams() -> None:
    def run(seed: int, rule_id: str) -> list[bool]:
        injector = FaultInjector([Rule(id=rule_id, rate=0.3, error=ErrorSpec(500))], seed=seed)
        return [injector.decide(_get()) is not None for _ in range(50)]

    assert run(1, "r") == run(1, "r")
    assert run(1, "r") != run(2, "r")
    assert run(1, "r") != run(1, "s")

    def pinned(injector_seed: int) -> list[bool]:
        injector = FaultInjector([Rule(id="p", rate=0.3, seed=42, error=ErrorSpec(500))], seed=injector_seed)
        return [injector.decide(_get()) is not None for _ in range(50)]

    assert pinned(1) == pinned(9)  # a rule's own seed wins over the injector's


def test_delay_rules_accumulate_and_the_first_firing_terminal_rule_decides() -> None:
    injector = FaultInjector(
        [
            Rule(id="slow", delay=(0.1, 0.1)),
            Rule(id="spent", error=ErrorSpec(500), count=0),
            Rule(id="reset", drop=Drop.RESET, name="a"),
            Rule(id="never", error=ErrorSpec(503)),
            Rule(id="slower", delay=(0.2, 0.2)),
        ]
    )
    decision = injector.decide(_get("a"))
    assert decision is not None
    assert (decision.rules, decision.label, decision.seen_code) == (
        ("slow", "reset", "slower"),
        "delay,drop:reset",
        0,
    )
    assert decision.delay == pytest.approx(0.3)
    other = injector.decide(_get("b"))
    assert other is not None and (other.rules, other.label) == (
        ("slow", "never", "slower"),
        "delay,error:503",
    )
    assert injector.counts().matched == {"slow": 2, "spent": 2, "reset": 1, "never": 1, "slower": 2}


@pytest.mark.parametrize(
    ("target", "request_info", "hit"),
    [
        ("deployments.apps", _get(resource="deployments", group="apps"), True),
        ("deployments.apps", _get(resource="deployments", group="extensions"), False),
        ("deployments", _get(resource="deployments", group="apps"), True),
        ("deployments.apps", _get(resource="deployments", group="apps", subresource="scale"), True),
        ("deployments.apps/status", _get(resource="deployments", group="apps", subresource="scale"), False),
        ("*/status", _get(subresource="status"), True),
        ("configmaps/*", _get(), False),
        ("*", RequestInfo(verb="get", path="/version"), False),
        ("", RequestInfo(verb="get", path="/version"), True),
        ("", RequestInfo(verb="get", path="/livez"), False),
        ("", _get(), False),
    ],
)
def test_resource_targets(target: str, request_info: RequestInfo, hit: bool) -> None:
    assert Rule(resources=(target,), error=ErrorSpec(500)).matches(request_info) is hit


def test_rules_round_trip_through_their_json_form() -> None:
    rule = Rule.from_obj(
        {
            "id": "r",
            "verb": "patch",
            "resource": "deployments.apps",
            "namespace": "shop",
            "userAgent": "kubectl",
            "rate": 0.5,
            "count": 2,
            "skip": 1,
            "window": [1, None],
            "seed": 3,
            "delay": [0.1, 0.2],
            "error": {"code": 429, "retryAfterSeconds": 5, "plain": True},
            "phase": "after",
        }
    )
    assert Rule.from_obj(rule.to_json()) == rule
    assert FaultConfig.from_obj(None) == FaultConfig()


# ------------------------------------------------------------------------------------- kubectl


@pytest.mark.kubectl
def test_kubectl_retries_429_with_retry_after_as_client_go_does(
    faulty: LocalCluster, fkubectl: Kubectl, ns: str
) -> None:
    faulty.faults.add(verbs="list", resources="configmaps", user_agent="kubectl/", error=429, count=2)
    seq = faulty.requests.last_seq
    fkubectl.run("get", "configmaps", "-n", ns)
    lists = [r for r in records_since(faulty, seq) if r.verb == "list"]
    assert [(r.code, r.fault) for r in lists] == [(429, "error:429"), (429, "error:429"), (200, "")]
    assert lists[2].time - lists[0].time >= 2  # it waited Retry-After (1 s) before each retry


@pytest.mark.kubectl
def test_kubectl_prints_too_many_requests_when_no_retry_after_is_given(
    faulty: LocalCluster, fkubectl: Kubectl, ns: str
) -> None:
    faulty.faults.add(verbs="list", resources="configmaps", error={"code": 429, "retryAfterSeconds": 0})
    seq = faulty.requests.last_seq
    proc = fkubectl.run("get", "configmaps", "-n", ns, check=False)
    assert proc.returncode == 1
    assert (
        proc.stderr.strip()
        == "Error from server (TooManyRequests): Too many requests, please try again later."
    )
    assert len([r for r in records_since(faulty, seq) if r.verb == "list"]) == 1


@pytest.mark.kubectl
def test_kubectl_prints_injected_server_errors(faulty: LocalCluster, fkubectl: Kubectl, ns: str) -> None:
    faulty.faults.add(verbs="create", resources="configmaps", error=500)
    proc = fkubectl.run(
        "create",
        "-f",
        "-",
        "-n",
        ns,
        check=False,
        input=json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}),
    )
    assert proc.returncode == 1
    assert "Error from server (InternalError): " in proc.stderr
    assert "Internal error occurred: etcdserver: leader changed" in proc.stderr


@pytest.mark.kubectl
def test_kubectl_retries_a_get_whose_connection_was_reset(
    faulty: LocalCluster, fkubectl: Kubectl, ns: str
) -> None:
    faulty.api.create(
        faulty.registry.by_plural("", "v1", "configmaps"),  # type: ignore[arg-type]
        ns,
        configmap("a"),
        WriteOptions(manager="test-setup"),
    )
    faulty.faults.add(verbs="get", resources="configmaps", namespace=ns, drop="reset", count=2)
    seq = faulty.requests.last_seq
    out = fkubectl.run("get", "configmap", "a", "-n", ns, "-o", "name").stdout
    assert out.strip() == "configmap/a"
    assert [(r.code, r.fault) for r in records_since(faulty, seq)] == [
        (0, "drop:reset"),
        (0, "drop:reset"),
        (200, ""),
    ]
