"""A standby hands webhooks and sync requests to the leader (gitops.daemon.api): the leader is
a second daemon API served by uvicorn over real HTTP on loopback, the standby is driven through
Starlette's TestClient; both serve recording stub controllers. The leader verifies what it is
handed itself (the signature, the bearer token), so a standby adds no trust of its own."""

from __future__ import annotations

import contextlib
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gitops.daemon import api
from gitops.daemon.metrics import Metrics
from gitops.model import Trigger
from tests.daemon.harness import free_port
from tests.daemon.test_api import SECRET, TOKEN, StubController, web_status
from tests.daemon.test_webhooks import SAMPLES, provider_headers
from tests.waiting import wait_for


@dataclass
class Leader:
    url: str
    controller: StubController
    metrics: Metrics


@contextmanager
def _serving(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on loopback, as the daemon serves it; its URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, timeout=10, what="the API to listen")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _leader(leading: bool = True) -> Iterator[Leader]:
    controller = StubController(statuses={"web": web_status()}, matches=["web"])
    metrics = Metrics()
    settings = api.ApiSettings(webhook_secret=SECRET, api_token=TOKEN, leading=lambda: leading)
    with _serving(api.create_app(controller, settings, metrics)) as url:
        yield Leader(url, controller, metrics)


@pytest.fixture
def leader() -> Iterator[Leader]:
    yield from _leader()


@pytest.fixture
def former_leader() -> Iterator[Leader]:
    """A replica whose lease was just released or taken over: it leads no more."""
    yield from _leader(leading=False)


def _standby(
    leader_url: str, controller: StubController, metrics: Metrics, timeout: float = 4.0
) -> TestClient:
    settings = api.ApiSettings(
        webhook_secret=SECRET,
        api_token=TOKEN,
        forward_to=lambda: leader_url,
        leading=lambda: False,
        identity="standby-1",
        forward_timeout=timeout,
    )
    return TestClient(api.create_app(controller, settings, metrics))


def _outcomes(metrics: Metrics) -> dict[str, float]:
    body, _ = metrics.render()
    return {
        s.labels["outcome"]: s.value
        for f in text_string_to_metric_families(body.decode())
        if f.name == "gitops_webhook_deliveries"
        for s in f.samples
        if s.name.endswith("_total") and s.value
    }


def test_a_standby_hands_a_webhook_to_the_leader_and_relays_its_answer(leader: Leader) -> None:
    mine, metrics = StubController(matches=["web"]), Metrics()
    body = SAMPLES["github"]
    answer = _standby(leader.url, mine, metrics).post(
        "/webhooks/github", content=body, headers=provider_headers("github", body)
    )
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"status": "accepted", "apps": ["web"], "message": ""}
    assert [p.provider for p in leader.controller.pushes] == ["github"] and mine.pushes == []
    assert _outcomes(metrics) == {"forwarded": 1.0} and _outcomes(leader.metrics) == {"accepted": 1.0}


def test_a_forged_webhook_never_reaches_the_leader(leader: Leader) -> None:
    # The standby checks the signature first: nobody unauthenticated makes it call the leader.
    mine, metrics = StubController(matches=["web"]), Metrics()
    body = SAMPLES["github"]
    answer = _standby(leader.url, mine, metrics).post(
        "/webhooks/github", content=body, headers=provider_headers("github", body, "not-the-secret")
    )
    assert answer.status_code == 401
    assert leader.controller.pushes == [] and mine.pushes == []
    assert _outcomes(metrics) == {"unauthorized": 1.0} and _outcomes(leader.metrics) == {}


def test_what_was_handed_on_once_is_never_handed_on_again(leader: Leader) -> None:
    # Two standbys that each think the other leads must not bounce a delivery between them:
    # one handed a delivery answers that it does not lead, and its sender handles it.
    mine = StubController(matches=["web"])
    body = SAMPLES["github"]
    headers = provider_headers("github", body) | {api.FORWARDED_HEADER: "standby-2"}
    answer = _standby(leader.url, mine, Metrics()).post("/webhooks/github", content=body, headers=headers)
    assert answer.status_code == 503 and answer.headers[api.NOT_LEADER_HEADER] == "1"
    assert mine.pushes == [] and leader.controller.pushes == []


def test_an_unreachable_leader_leaves_the_delivery_to_the_standby() -> None:
    mine, metrics = StubController(matches=["web"]), Metrics()
    body = SAMPLES["github"]
    gone = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    answer = _standby(gone, mine, metrics).post(
        "/webhooks/github", content=body, headers=provider_headers("github", body)
    )
    assert answer.status_code == 202
    assert len(mine.pushes) == 1 and _outcomes(metrics) == {"accepted": 1.0}


def test_a_sync_request_is_handed_to_the_leader_with_its_token(leader: Leader) -> None:
    mine = StubController(statuses={"web": web_status()})
    standby = _standby(leader.url, mine, Metrics())
    answer = standby.post("/api/v1/apps/web/sync", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"app": "web", "queued": True}
    assert leader.controller.sync_requests == [("web", Trigger.API)] and mine.sync_requests == []
    # the standby checks the token first: a wrong one never reaches the leader
    refused = standby.post("/api/v1/apps/web/sync", headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 401 and len(leader.controller.sync_requests) == 1


def test_a_former_leader_hands_the_delivery_back(former_leader: Leader) -> None:
    # The standby's view of the lease is a retry period old: the replica it names may have
    # released it. That one answers 503 instead of queuing the push where nobody syncs.
    mine, metrics = StubController(matches=["web"]), Metrics()
    body = SAMPLES["github"]
    answer = _standby(former_leader.url, mine, metrics).post(
        "/webhooks/github", content=body, headers=provider_headers("github", body)
    )
    assert answer.status_code == 202 and len(mine.pushes) == 1
    assert former_leader.controller.pushes == []
    assert _outcomes(former_leader.metrics) == {"not_leader": 1.0} and _outcomes(metrics) == {"accepted": 1.0}


class _Hung(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.server.release.wait(30)  # type: ignore[attr-defined]  # accepts, never answers


class _Redirecting(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.send_response(307)
        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def _raw_server(handler: type[socketserver.BaseRequestHandler]) -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.release = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.release.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("kind", ["hung", "redirect", "file", "malformed"])
def test_a_leader_that_gives_no_answer_leaves_the_delivery_to_the_standby(kind: str) -> None:
    mine, metrics = StubController(matches=["web"]), Metrics()
    body = SAMPLES["github"]
    with contextlib.ExitStack() as stack:
        url = {
            "hung": lambda: stack.enter_context(_raw_server(_Hung)),
            "redirect": lambda: stack.enter_context(_raw_server(_Redirecting)),
            "file": lambda: "file:///etc/hostname",
            "malformed": lambda: "http//no-host",
        }[kind]()
        answer = _standby(url, mine, metrics, timeout=0.5).post(
            "/webhooks/github", content=body, headers=provider_headers("github", body)
        )
    assert answer.status_code == 202, answer.text
    assert len(mine.pushes) == 1 and _outcomes(metrics) == {"accepted": 1.0}


def test_advertised_urls_must_be_http_with_a_host() -> None:
    assert api.valid_advertise_url("http://10.0.0.7:8080") and api.valid_advertise_url(
        "https://[fd00::7]:8443"
    )
    for bad in ("file:///etc/passwd", "http//x", "http://[::1", "ftp://h/x", "http://:8080", "http://h:port"):
        assert not api.valid_advertise_url(bad), bad
