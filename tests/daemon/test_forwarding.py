"""A standby hands webhooks and sync requests to the leader (gitops.daemon.api): the leader is
a second daemon API served by uvicorn over real HTTP on loopback, the standby is driven through
Starlette's TestClient; both serve recording stub controllers. The leader verifies what it is
handed itself (the signature, the bearer token), so a standby adds no trust of its own."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

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


@pytest.fixture
def leader() -> Iterator[Leader]:
    controller = StubController(statuses={"web": web_status()}, matches=["web"])
    metrics = Metrics()
    app = api.create_app(controller, api.ApiSettings(webhook_secret=SECRET, api_token=TOKEN), metrics)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=10, what="the leader's API to listen")
    yield Leader(f"http://127.0.0.1:{port}", controller, metrics)
    server.should_exit = True
    thread.join(timeout=10)


def _standby(leader_url: str, controller: StubController, metrics: Metrics) -> TestClient:
    settings = api.ApiSettings(
        webhook_secret=SECRET, api_token=TOKEN, forward_to=lambda: leader_url, identity="standby-1"
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


def test_a_forged_webhook_is_refused_by_the_leader(leader: Leader) -> None:
    mine = StubController(matches=["web"])
    body = SAMPLES["github"]
    answer = _standby(leader.url, mine, Metrics()).post(
        "/webhooks/github", content=body, headers=provider_headers("github", body, "not-the-secret")
    )
    assert answer.status_code == 401
    assert leader.controller.pushes == [] and mine.pushes == []


def test_what_was_handed_on_once_is_never_handed_on_again(leader: Leader) -> None:
    # Two standbys that each think the other leads must not bounce a delivery between them.
    mine = StubController(matches=["web"])
    body = SAMPLES["github"]
    headers = provider_headers("github", body) | {api.FORWARDED_HEADER: "standby-2"}
    answer = _standby(leader.url, mine, Metrics()).post("/webhooks/github", content=body, headers=headers)
    assert answer.status_code == 202
    assert len(mine.pushes) == 1 and leader.controller.pushes == []


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
