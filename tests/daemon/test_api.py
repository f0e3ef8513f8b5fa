"""The HTTP layer against a recording stub Controller: routes, status codes, bearer auth, JSON
shapes and OpenAPI. The real scheduler behind the same routes is tested end to end in test_e2e."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace

import pytest
from fastapi.testclient import TestClient

from gitops.daemon import api
from gitops.daemon.interface import AppStatus, Push
from gitops.daemon.metrics import Metrics
from gitops.model import Action, Change, ChangeSet, ResourceKey, SyncRecord, SyncResult, Trigger

TOKEN = "api-token-5f1b9c"
SECRET = "webhook-secret-0a7e"


@dataclass
class StubController:
    """A Controller that records what the HTTP side asks of it."""

    statuses: dict[str, AppStatus] = field(default_factory=dict)
    records: dict[str, list[SyncRecord]] = field(default_factory=dict)
    is_live: bool = True
    is_ready: bool = True
    matches: list[str] = field(default_factory=list)  # what push() answers
    pushes: list[Push] = field(default_factory=list)
    sync_requests: list[tuple[str, Trigger]] = field(default_factory=list)
    history_calls: list[tuple[str, int, int | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def apps(self) -> Sequence[AppStatus]:
        return list(self.statuses.values())

    def app(self, name: str) -> AppStatus | None:
        return self.statuses.get(name)

    def history(self, name: str, limit: int = 20, before: int | None = None) -> Sequence[SyncRecord]:
        self.history_calls.append((name, limit, before))
        records = [r for r in self.records.get(name, []) if before is None or r.id < before]
        return records[:limit]

    def request_sync(self, name: str, trigger: Trigger) -> bool:
        with self.lock:
            self.sync_requests.append((name, trigger))
        return name in self.statuses

    def push(self, event: Push) -> list[str]:
        with self.lock:
            self.pushes.append(event)
        return list(self.matches)

    def ready(self) -> bool:
        return self.is_ready

    def live(self) -> bool:
        return self.is_live


def web_status(**kw: object) -> AppStatus:
    fields: dict[str, object] = {
        "name": "web",
        "repo": "https://git.example.com/team/deploy.git",
        "path": "apps/web",
        "revision": "main",
        "tracked_revision": "b" * 40,
        "synced_revision": "a" * 40,
        "result": "Succeeded",
        "health": "Healthy",
        "drift": False,
        "last_sync": "2024-05-01T12:00:05Z",
        "last_success": "2024-05-01T12:00:05Z",
        "reconciled": True,
        "self_heal": True,
        "interval": 180.0,
        "history_id": 7,
    }
    fields.update(kw)
    return AppStatus(**fields)  # type: ignore[arg-type]


def record(id: int, app: str = "web", **kw: object) -> SyncRecord:
    fields: dict[str, object] = {
        "app": app,
        "trigger": Trigger.WEBHOOK,
        "started": "2024-05-01T12:00:00.000Z",
        "result": SyncResult.SUCCEEDED,
        "repo": "https://git.example.com/team/deploy.git",
        "path": f"apps/{app}",
        "revision": "a" * 40,
        "author": "Ada Lovelace <ada@example.com>",
        "commit_date": "2024-05-01T11:59:00Z",
        "subject": "web: nginx 1.27",
        "finished": "2024-05-01T12:00:05.000Z",
        "changes": ChangeSet(
            (
                Change(
                    ResourceKey("apps", "Deployment", "web", "web"),
                    Action.UPDATE,
                    "workloads",
                    ("image: 1.26 -> 1.27",),
                ),
                Change(ResourceKey("", "Service", "web", "web"), Action.UNCHANGED, "exposure"),
            )
        ),
        "id": id,
    }
    fields.update(kw)
    return SyncRecord(**fields)  # type: ignore[arg-type]


def make_client(controller: StubController, metrics: Metrics | None = None, **settings: object) -> TestClient:
    options: dict[str, object] = {"webhook_secret": SECRET, "api_token": TOKEN}
    options.update(settings)
    app = api.create_app(controller, api.ApiSettings(**options), metrics or Metrics())  # type: ignore[arg-type]
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def controller() -> StubController:
    return StubController(statuses={"web": web_status()}, records={"web": [record(i) for i in (9, 8, 7)]})


@pytest.fixture
def client(controller: StubController) -> TestClient:
    return make_client(controller)


# --- health -----------------------------------------------------------------------------------


def test_healthz_follows_the_scheduler(controller: StubController, client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    controller.is_live = False
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "scheduler not running"


def test_readyz_flips_once_every_app_is_reconciled_and_names_the_waiting_ones(
    controller: StubController, client: TestClient
) -> None:
    controller.statuses["api"] = web_status(name="api", reconciled=False)
    controller.is_ready = False
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "not ready", "waiting": ["api"]}

    controller.statuses["api"] = web_status(name="api", reconciled=True)
    controller.is_ready = True
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "waiting": []}


# --- apps -------------------------------------------------------------------------------------


def test_apps_list_every_app_with_camel_case_fields(controller: StubController, client: TestClient) -> None:
    controller.statuses["api"] = web_status(name="api", drift=None, errors=("git: timeout",))
    answer = client.get("/api/v1/apps")
    assert answer.status_code == 200
    apps = answer.json()
    assert [a["name"] for a in apps] == ["web", "api"]
    web = apps[0]
    assert web["trackedRevision"] == "b" * 40
    assert web["syncedRevision"] == "a" * 40
    assert web["result"] == "Succeeded"
    assert web["health"] == "Healthy"
    assert web["drift"] is False
    assert web["lastSync"] == "2024-05-01T12:00:05Z"
    assert web["selfHeal"] is True
    assert web["historyId"] == 7
    assert apps[1]["drift"] is None
    assert apps[1]["errors"] == ["git: timeout"]


def test_app_repo_urls_never_carry_credentials(controller: StubController, client: TestClient) -> None:
    controller.statuses["web"] = web_status(repo="https://ci:s3cr3t-token@git.example.com/team/deploy.git")
    controller.records["web"] = [record(1, repo="https://s3cr3t-token@git.example.com/team/deploy.git")]
    texts = client.get("/api/v1/apps").text + client.get("/api/v1/apps/web").text
    texts += client.get("/api/v1/apps/web/history").text
    assert "s3cr3t-token" not in texts
    assert "git.example.com/team/deploy.git" in texts


def test_the_app_model_serves_every_app_status_field() -> None:
    # a field added to AppStatus must be added to AppModel too, or the API would drop it silently
    assert {f.name for f in fields(AppStatus)} == set(api.AppModel.model_fields)


def test_one_app_and_unknown_app_404(client: TestClient) -> None:
    assert client.get("/api/v1/apps/web").json()["name"] == "web"
    answer = client.get("/api/v1/apps/nope")
    assert answer.status_code == 404
    assert answer.json() == {"error": "no app named 'nope'"}


def test_history_is_the_cli_json_shape_and_pages(controller: StubController, client: TestClient) -> None:
    answer = client.get("/api/v1/apps/web/history", params={"limit": 2})
    assert answer.status_code == 200
    records = answer.json()
    assert [r["id"] for r in records] == [9, 8]
    first = records[0]
    assert set(first) == {
        "id",
        "app",
        "trigger",
        "result",
        "repo",
        "path",
        "revision",
        "author",
        "commitDate",
        "subject",
        "started",
        "finished",
        "error",
        "message",
        "changes",
    }
    assert first["trigger"] == "webhook"
    assert first["result"] == "Succeeded"
    assert first["changes"][0] == {
        "group": "apps",
        "kind": "Deployment",
        "namespace": "web",
        "name": "web",
        "action": "update",
        "phase": "workloads",
        "summary": ["image: 1.26 -> 1.27"],
        "message": "",
        "error": False,
    }
    assert [r["id"] for r in client.get("/api/v1/apps/web/history", params={"before": 9}).json()] == [8, 7]
    assert controller.history_calls[-1] == ("web", 20, 9)


def test_history_of_unknown_app_404_and_bad_limit_422(controller: StubController, client: TestClient) -> None:
    assert client.get("/api/v1/apps/nope/history").status_code == 404
    assert client.get("/api/v1/apps/web/history", params={"limit": 0}).status_code == 422
    assert client.get("/api/v1/apps/web/history", params={"limit": "many"}).status_code == 422
    assert all(call[0] == "web" for call in controller.history_calls)


# --- manual sync ------------------------------------------------------------------------------


def test_sync_with_the_bearer_token_queues_an_api_sync(
    controller: StubController, client: TestClient
) -> None:
    answer = client.post("/api/v1/apps/web/sync", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 202
    assert answer.json() == {"app": "web", "queued": True}
    assert controller.sync_requests == [("web", Trigger.API)]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN}],
    ids=["none", "wrong-token", "basic-scheme", "no-scheme"],
)
def test_sync_without_the_right_token_is_401_and_queues_nothing(
    controller: StubController, client: TestClient, headers: dict[str, str]
) -> None:
    answer = client.post("/api/v1/apps/web/sync", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert TOKEN not in answer.text
    assert controller.sync_requests == []


def test_sync_of_unknown_app_404_only_after_auth(controller: StubController, client: TestClient) -> None:
    assert client.post("/api/v1/apps/nope/sync").status_code == 401  # no existence leak
    answer = client.post("/api/v1/apps/nope/sync", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 404
    assert controller.sync_requests == []


def test_sync_is_disabled_403_when_no_token_is_configured(controller: StubController) -> None:
    client = make_client(controller, api_token=None)
    answer = client.post("/api/v1/apps/web/sync", headers={"Authorization": "Bearer anything"})
    assert answer.status_code == 403
    assert "no API token" in answer.json()["error"]
    assert controller.sync_requests == []


def test_settings_repr_hides_the_secret_and_token() -> None:
    text = repr(api.ApiSettings(webhook_secret=SECRET, api_token=TOKEN))
    assert SECRET not in text and TOKEN not in text


# --- metrics and OpenAPI ----------------------------------------------------------------------


def test_metrics_route_serves_the_exposition(controller: StubController) -> None:
    metrics = Metrics()
    metrics.drift("web", True)
    client = make_client(controller, metrics)
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert 'gitops_drift{app="web"} 1.0' in answer.text
    openmetrics = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.rstrip().endswith("# EOF")


def test_openapi_lists_every_route_with_response_models(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    paths = doc["paths"]
    for route in (
        "/healthz",
        "/readyz",
        "/api/v1/apps",
        "/api/v1/apps/{name}",
        "/api/v1/apps/{name}/history",
        "/api/v1/apps/{name}/sync",
        "/metrics",
        *(
            f"/webhooks/{p}"
            for p in ("github", "gitlab", "gitea", "forgejo", "bitbucket", "bitbucket-server", "generic")
        ),
    ):
        assert route in paths, route
    schemas = doc["components"]["schemas"]
    assert {"AppModel", "SyncRecordModel", "WebhookModel", "ErrorModel"} <= set(schemas)
    assert "trackedRevision" in schemas["AppModel"]["properties"]
    assert "HTTPBearer" in doc["components"]["securitySchemes"]
    generic = paths["/webhooks/generic"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert generic["required"] == ["repository", "ref"]
    assert client.get("/docs").status_code == 200


def test_a_controller_failure_is_500_without_details(controller: StubController) -> None:
    def boom(name: str) -> AppStatus | None:
        raise RuntimeError(f"database at /secret/{TOKEN} broke")

    controller.app = boom  # type: ignore[method-assign]
    answer = make_client(controller).get("/api/v1/apps/web")
    assert answer.status_code == 500
    assert TOKEN not in answer.text


def test_status_with_changed_fields_round_trips(controller: StubController, client: TestClient) -> None:
    controller.statuses["web"] = replace(
        web_status(), syncing=True, condition="git: cannot reach host", message="m"
    )
    body = client.get("/api/v1/apps/web").json()
    assert (body["syncing"], body["condition"], body["message"]) == (True, "git: cannot reach host", "m")
