"""The daemon's HTTP side: health, the apps API, push webhooks and /metrics (I/O: FastAPI).

Everything here serves a :class:`~gitops.daemon.interface.Controller`; nothing here schedules or
syncs. Routes::

    GET  /healthz                          200 while the scheduler runs, else 503
    GET  /readyz                           200 once every app was reconciled once, else 503
                                           naming the apps still waiting
    GET  /api/v1/apps                      every app's status
    GET  /api/v1/apps/{name}               one app (404 when unknown)
    GET  /api/v1/apps/{name}/history       its sync records, newest first (?limit=&before=)
    POST /api/v1/apps/{name}/sync          queue a sync (Authorization: Bearer <api token>) -> 202
    POST /webhooks/{provider}              github, gitlab, gitea, forgejo, bitbucket,
                                           bitbucket-server, generic (see gitops.daemon.webhooks)
    GET  /metrics                          Prometheus exposition
    GET  /docs, /openapi.json              OpenAPI

With leader election, a standby hands webhook deliveries and sync requests to the leader (at
the URL its Lease advertises, see ``gitops.daemon.leader``) unchanged, the signature or token
included, and answers with the leader's answer, so a push reaching any replica deploys at once;
it handles them itself when no leader is known or the leader cannot be reached. A request that
carries ``X-Gitops-Forwarded-By`` is never handed on again.

A webhook delivery goes: body read up to ``max_body_bytes`` (413) -> signature (401, nothing
triggered) -> delivery-id dedupe (200 duplicate) -> parse (400 naming the bad field; 200 for
pings and non-push events) -> ``controller.push`` per pushed ref -> 202 with the matched apps, or
200 with none. Every outcome is counted in ``gitops_webhook_deliveries_total``.

Errors answer ``{"error": "<sentence>"}``. No answer or log line carries the webhook secret,
the API token, a signature or a credential in a repository URL.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import http.client
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from starlette.concurrency import run_in_threadpool

import gitops
from gitops.daemon import webhooks
from gitops.daemon.interface import AppStatus, Controller
from gitops.daemon.metrics import Metrics
from gitops.model import SyncRecord, Trigger
from gitops.model.sync import redact_url

log = logging.getLogger(__name__)

MiB = 1024 * 1024
FORWARDED_HEADER = "X-Gitops-Forwarded-By"
NOT_LEADER_HEADER = "X-Gitops-Not-Leader"
# Hop-by-hop headers (RFC 9110 7.6.1), those urllib sets itself, and cookies are not handed on.
_NOT_FORWARDED = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}
    | {"proxy-authorization", "proxy-authenticate", "accept-encoding", "cookie"}
)
# Replica to replica: plain HTTP(S) only, no proxy, no redirects (a 3xx is no leader's answer),
# no file:, ftp: or data: URLs, whatever a Lease says.
_DIRECT = urllib.request.OpenerDirector()
for _handler in (
    urllib.request.HTTPHandler(),
    urllib.request.HTTPSHandler(),
    urllib.request.HTTPDefaultErrorHandler(),
    urllib.request.HTTPErrorProcessor(),
):
    _DIRECT.add_handler(_handler)
# Forwards run here, not in the server's pool: a leader that hangs costs the request its
# deadline, never a thread the other routes need.
_FORWARDERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="gitops-forward")


def valid_advertise_url(url: str) -> bool:
    """An http or https URL with a host (what a replica may advertise, and hand requests to)."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _forward(
    leader: str, path: str, headers: Mapping[str, str], body: bytes, settings: ApiSettings
) -> Response | None:
    """POST the request on to the leader at ``leader`` + ``path``: its answer, or None when it
    gave none (unreachable, a redirect, or it says it does not lead any more): this replica then
    handles the request itself."""
    out = {k: v for k, v in headers.items() if k.lower() not in _NOT_FORWARDED}
    out[FORWARDED_HEADER] = settings.identity or "standby"
    try:
        request = urllib.request.Request(leader.rstrip("/") + path, data=body, headers=out, method="POST")
        with _DIRECT.open(request, timeout=settings.forward_timeout) as answer:
            return Response(answer.read(), answer.status, media_type=answer.headers.get("Content-Type"))
    except urllib.error.HTTPError as answer:
        with answer:
            if answer.code < 400 or answer.headers.get(NOT_LEADER_HEADER):
                log.warning("the leader at %s answered %d: handling the request here", leader, answer.code)
                return None
            return Response(answer.read(), answer.code, media_type=answer.headers.get("Content-Type"))
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        log.warning("cannot hand the request to the leader at %s (%s): handling it here", leader, exc)
        return None


async def _hand_to_leader(
    settings: ApiSettings, headers: Mapping[str, str], path: str, body: bytes
) -> tuple[str, Response | None]:
    """For a standby: the leader's answer to this request (and the leader), or None to handle
    it here: no leader known, the request was already handed on once, or no answer from the
    leader within ``forward_timeout`` (its thread is abandoned, not waited for)."""
    if settings.forward_to is None or FORWARDED_HEADER.lower() in {k.lower() for k in headers}:
        return "", None
    leader = settings.forward_to()
    if not leader:
        return "", None
    if not valid_advertise_url(leader):
        log.warning("the leader advertises %r, not an http(s) URL: handling the request here", leader)
        return leader, None
    loop = asyncio.get_running_loop()
    pending = loop.run_in_executor(_FORWARDERS, _forward, leader, path, dict(headers), body, settings)
    try:
        return leader, await asyncio.wait_for(pending, settings.forward_timeout)
    except TimeoutError:
        log.warning(
            "the leader at %s did not answer within %gs: handling the request here",
            leader,
            settings.forward_timeout,
        )
        return leader, None


def _not_the_leader(settings: ApiSettings, headers: Mapping[str, str]) -> Response | None:
    """A request another replica handed on, reaching a replica that no longer leads (a lease
    just released or taken over): 503 with NOT_LEADER_HEADER, so the sender handles it itself
    rather than this replica queuing it where nobody syncs."""
    if settings.leading is None or FORWARDED_HEADER.lower() not in {k.lower() for k in headers}:
        return None
    if settings.leading():
        return None
    return _error(503, "this replica is not the leader (any more)", {NOT_LEADER_HEADER: "1"})


@dataclasses.dataclass(frozen=True)
class ApiSettings:
    """How the HTTP side authenticates and bounds requests.

    ``webhook_secret``: the shared secret every webhook must be signed with (GitLab: the secret
    token). With a secret, every delivery is verified. Without one, webhooks are refused (401,
    saying how to configure one) unless ``webhooks_insecure`` is set, which accepts unsigned
    deliveries: only for a daemon reachable by trusted senders alone.
    ``api_token``: the bearer token ``POST /api/v1/apps/{name}/sync`` requires; without one that
    route is disabled (403). The read-only routes need no token.
    ``max_body_bytes``: larger webhook bodies are refused with 413 before they are read in full
    (GitHub caps its payloads at 25 MB, but a push event is a few kB).
    ``dedupe_size``: how many recent delivery ids are remembered to refuse replays.
    """

    webhook_secret: str | None = None
    webhooks_insecure: bool = False
    api_token: str | None = None
    max_body_bytes: int = 5 * MiB
    dedupe_size: int = 1000
    #: The leader's URL while this replica is a standby ("" when it leads or none is known):
    #: webhooks and sync requests are handed to it. None without leader election.
    forward_to: Callable[[], str] | None = None
    #: Whether this replica leads (None without leader election): a request handed on to one
    #: that does not lead any more is answered 503 so that its sender handles it.
    leading: Callable[[], bool] | None = None
    identity: str = ""  # this replica's, in the header of what it hands on
    #: The whole hand-over to the leader, after which a standby handles the request itself:
    #: well under the 10 s GitHub waits for a webhook's answer.
    forward_timeout: float = 4.0

    def __repr__(self) -> str:  # the dataclass repr would print the secret and the token
        return (
            f"ApiSettings(webhook_secret={'***' if self.webhook_secret else None}, "
            f"webhooks_insecure={self.webhooks_insecure}, api_token={'***' if self.api_token else None}, "
            f"max_body_bytes={self.max_body_bytes}, dedupe_size={self.dedupe_size})"
        )


# --- response models (OpenAPI) ----------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class AppModel(_Model):
    """One app as the daemon knows it now. Times are RFC 3339 UTC ("" when never)."""

    name: str
    repo: str = Field(description="repository URL, credentials redacted")
    path: str
    revision: str = Field(description="what the app tracks: branch, tag or commit")
    tracked_revision: str = Field(description="the commit SHA Git has for it, as last polled")
    synced_revision: str = Field(description="the commit SHA of the last successful sync")
    result: str = Field(description="the last sync's result (Succeeded, NoChange, Degraded, Failed...)")
    health: str
    drift: bool | None = Field(description="live differs from Git; null until checked")
    last_sync: str
    last_success: str
    syncing: bool
    reconciled: bool
    condition: str = Field(description="what keeps the app from being reconciled, '' when nothing")
    message: str
    self_heal: bool
    interval: float = Field(description="poll interval in seconds")
    history_id: int = Field(description="id of the last history entry")
    errors: list[str]

    @classmethod
    def of(cls, s: AppStatus) -> AppModel:
        fields = dataclasses.asdict(s)
        fields["repo"] = redact_url(s.repo)
        fields["errors"] = list(s.errors)
        return cls(**fields)


class ChangeModel(_Model):
    group: str
    kind: str
    namespace: str
    name: str
    action: str
    phase: str
    summary: list[str]
    message: str
    error: bool


class SyncRecordModel(_Model):
    """A history entry, as ``gitops history -o json`` prints it."""

    id: int
    app: str
    trigger: str
    result: str
    repo: str
    path: str
    revision: str
    author: str
    commit_date: str
    subject: str
    started: str
    finished: str
    error: str
    message: str
    changes: list[ChangeModel]

    @classmethod
    def of(cls, r: SyncRecord) -> SyncRecordModel:
        return cls.model_validate(r.to_json())  # one shape with the CLI: SyncRecord.to_json


class ErrorModel(_Model):
    error: str


class StatusModel(_Model):
    status: str


class ReadyModel(_Model):
    status: str
    waiting: list[str] = Field(description="apps not reconciled yet")


class SyncQueuedModel(_Model):
    app: str
    queued: bool


class WebhookModel(_Model):
    status: str = Field(description="accepted, no_match, duplicate, ignored or pong")
    apps: list[str] = Field(description="apps whose sync the delivery queued")
    message: str = ""


# --- the app ----------------------------------------------------------------------------------


class _ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


_NO_SECRET = (
    "webhooks are refused: the daemon has no webhook secret. Configure a webhook secret in the "
    "daemon and the same secret in the Git host's webhook settings, or accept unsigned webhooks "
    "explicitly with the daemon's insecure-webhooks setting (trusted networks only)"
)
_NO_TOKEN = (
    "the sync API is disabled: the daemon has no API token. Configure one in the daemon and send "
    "it as 'Authorization: Bearer <token>'"
)

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorModel, "description": "malformed payload; the message names what is wrong"},
    401: {"model": ErrorModel, "description": "unsigned or forged delivery; nothing was triggered"},
    413: {"model": ErrorModel, "description": "body larger than the configured limit"},
}

# The request bodies the webhook routes take, for the OpenAPI document (they are read raw, since
# signatures are computed over the exact bytes).
_GENERIC_BODY = {
    "type": "object",
    "required": ["repository", "ref"],
    "properties": {
        "repository": {"type": "string", "description": "clone URL or local path of the pushed repository"},
        "ref": {"type": "string", "description": "refs/heads/main, refs/tags/v1, or a bare branch name"},
        "after": {"type": "string", "description": "the pushed commit SHA"},
    },
}


# Module level: with postponed annotations, FastAPI resolves ``Depends(_BEARER)`` by name here.
_BEARER = HTTPBearer(auto_error=False, description="the daemon's API token")


def create_app(controller: Controller, settings: ApiSettings, metrics: Metrics) -> FastAPI:
    """The daemon's HTTP application, serving ``controller``."""
    app = FastAPI(
        title="gitops daemon",
        version=gitops.__version__,
        description="Status, history and manual syncs of the apps the daemon reconciles; push webhooks; metrics.",
    )
    dedupe = webhooks.DeliveryDedupe(settings.dedupe_size)

    @app.exception_handler(_ApiError)
    async def _api_error(request: Request, exc: _ApiError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.headers)

    def known(name: str) -> AppStatus:
        status = controller.app(name)
        if status is None:
            raise _ApiError(404, f"no app named {name!r}")
        return status

    @app.get("/healthz", response_model=StatusModel, responses={503: {"model": StatusModel}}, tags=["health"])
    def healthz() -> Any:
        """Liveness: 200 while the scheduler runs."""
        if controller.live():
            return StatusModel(status="ok")
        return JSONResponse({"status": "scheduler not running"}, status_code=503)

    @app.get("/readyz", response_model=ReadyModel, responses={503: {"model": ReadyModel}}, tags=["health"])
    def readyz() -> Any:
        """Readiness: 200 once every app was reconciled once (or failed clearly)."""
        if controller.ready():
            return ReadyModel(status="ready", waiting=[])
        waiting = [a.name for a in controller.apps() if not a.reconciled]
        return JSONResponse({"status": "not ready", "waiting": waiting}, status_code=503)

    @app.get("/api/v1/apps", response_model=list[AppModel], tags=["apps"])
    def list_apps() -> list[AppModel]:
        """Every app: tracked and synced revision, last result, health, drift, last sync."""
        return [AppModel.of(a) for a in controller.apps()]

    @app.get(
        "/api/v1/apps/{name}", response_model=AppModel, responses={404: {"model": ErrorModel}}, tags=["apps"]
    )
    def get_app(name: str) -> AppModel:
        return AppModel.of(known(name))

    @app.get(
        "/api/v1/apps/{name}/history",
        response_model=list[SyncRecordModel],
        responses={404: {"model": ErrorModel}},
        tags=["apps"],
    )
    def get_history(
        name: str,
        limit: Annotated[int, Query(ge=1, le=1000, description="at most this many records")] = 20,
        before: Annotated[
            int | None, Query(ge=1, description="only records with an id below this one (paging)")
        ] = None,
    ) -> list[SyncRecordModel]:
        """The app's sync records, newest first."""
        known(name)
        return [SyncRecordModel.of(r) for r in controller.history(name, limit, before)]

    @app.post(
        "/api/v1/apps/{name}/sync",
        status_code=202,
        response_model=SyncQueuedModel,
        responses={
            401: {"model": ErrorModel, "description": "no or a wrong bearer token"},
            403: {"model": ErrorModel, "description": "no API token is configured"},
            404: {"model": ErrorModel},
        },
        tags=["apps"],
    )
    async def sync_app(
        name: str,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    ) -> SyncQueuedModel | Response:
        """Queue a sync of the app now (trigger ``api``)."""
        if not settings.api_token:
            raise _ApiError(403, _NO_TOKEN)
        challenge = {"WWW-Authenticate": "Bearer"}
        if credentials is None:
            raise _ApiError(401, "missing 'Authorization: Bearer <token>' header", challenge)
        if not hmac.compare_digest(credentials.credentials.encode(), settings.api_token.encode()):
            raise _ApiError(401, "the bearer token is not the daemon's API token", challenge)
        known(name)
        if (refusal := _not_the_leader(settings, request.headers)) is not None:
            return refusal
        leader, answer = await _hand_to_leader(settings, request.headers, f"/api/v1/apps/{name}/sync", b"")
        if answer is not None:
            log.info(
                "sync of %s requested through the API: handed to the leader at %s (%d)",
                name,
                leader,
                answer.status_code,
            )
            return answer
        if not controller.request_sync(name, Trigger.API):
            raise _ApiError(404, f"no app named {name!r}")
        log.info("sync of %s requested through the API", name)
        return SyncQueuedModel(app=name, queued=True)

    for provider in webhooks.PROVIDERS:
        body_schema = _GENERIC_BODY if provider == "generic" else {"type": "object"}
        app.add_api_route(
            f"/webhooks/{provider}",
            _webhook_route(provider, controller, settings, metrics, dedupe),
            methods=["POST"],
            name=f"webhook_{provider.replace('-', '_')}",
            summary=f"{provider} push webhook",
            response_model=WebhookModel,
            status_code=202,
            responses={
                200: {
                    "model": WebhookModel,
                    "description": "ping, ignored event, duplicate or no app matched",
                },
                **_ERRORS,
            },
            openapi_extra={
                "requestBody": {"required": True, "content": {"application/json": {"schema": body_schema}}}
            },
            tags=["webhooks"],
        )

    @app.get("/metrics", response_class=Response, tags=["metrics"])
    def get_metrics(request: Request) -> Response:
        """Prometheus exposition (OpenMetrics when the Accept header asks for it)."""
        body, content_type = metrics.render(request.headers.get("accept", ""))
        return Response(body, media_type=content_type)

    return app


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it exceeds ``limit`` bytes (never buffered beyond it)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _webhook_route(
    provider: str,
    controller: Controller,
    settings: ApiSettings,
    metrics: Metrics,
    dedupe: webhooks.DeliveryDedupe,
) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    async def receive(request: Request) -> Response:
        def done(outcome: webhooks.Outcome, response: Response, detail: str = "") -> Response:
            metrics.webhook(provider, outcome)
            log.info(
                "webhook %s delivery %r: %s%s",
                provider,
                delivery or "-",
                outcome.value,
                f" ({detail})" if detail else "",
            )
            return response

        delivery = ""
        body = await _read_limited(request, settings.max_body_bytes)
        if body is None:
            return done(
                webhooks.Outcome.TOO_LARGE,
                _error(413, f"the body is larger than the limit of {settings.max_body_bytes} bytes"),
            )
        headers = request.headers
        delivery = webhooks.delivery_id(provider, headers)
        if settings.webhook_secret:
            try:
                webhooks.verify(provider, headers, body, settings.webhook_secret)
            except webhooks.Unauthorized as exc:
                return done(webhooks.Outcome.UNAUTHORIZED, _error(exc.status, str(exc)), str(exc))
        elif not settings.webhooks_insecure:
            return done(
                webhooks.Outcome.UNAUTHORIZED, _error(401, _NO_SECRET), "no webhook secret configured"
            )
        # Checked here first, so nobody unauthenticated makes this replica call the leader.
        if (refusal := _not_the_leader(settings, headers)) is not None:
            return done(
                webhooks.Outcome.NOT_LEADER, refusal, "handed on here, but this replica does not lead"
            )
        leader, answer = await _hand_to_leader(settings, headers, request.url.path, body)
        if answer is not None:
            detail = f"handed to the leader at {leader}, which answered {answer.status_code}"
            return done(webhooks.Outcome.FORWARDED, answer, detail)

        dedupe_key = f"{provider}:{delivery}" if delivery else ""  # no id: never a duplicate
        if dedupe.seen(dedupe_key):
            return done(
                webhooks.Outcome.DUPLICATE,
                JSONResponse(
                    {
                        "status": "duplicate",
                        "apps": [],
                        "message": f"delivery {delivery} was already processed",
                    }
                ),
            )
        try:
            event = webhooks.parse(provider, headers, body)
        except webhooks.BadPayload as exc:
            return done(webhooks.Outcome.BAD_REQUEST, _error(exc.status, str(exc)), str(exc))

        if event.kind is webhooks.EventKind.PING:
            return done(
                webhooks.Outcome.IGNORED,
                JSONResponse({"status": "pong", "apps": [], "message": "ping received"}),
            )
        if event.kind is webhooks.EventKind.IGNORED:
            return done(
                webhooks.Outcome.IGNORED,
                JSONResponse({"status": "ignored", "apps": [], "message": event.reason}),
                event.reason,
            )
        try:
            matched: dict[str, None] = {}
            for push in event.pushes:
                for name in await run_in_threadpool(controller.push, push):
                    matched.setdefault(name, None)
        except Exception:
            # let the provider's retry through: it is not a replay
            dedupe.forget(dedupe_key)
            raise
        refs = ", ".join(p.ref for p in event.pushes)
        if not matched:
            return done(
                webhooks.Outcome.NO_MATCH,
                JSONResponse(
                    {"status": "no_match", "apps": [], "message": f"no app tracks the pushed {refs}"}
                ),
                refs,
            )
        apps = list(matched)
        return done(
            webhooks.Outcome.ACCEPTED,
            JSONResponse({"status": "accepted", "apps": apps, "message": ""}, status_code=202),
            f"{refs} -> {', '.join(apps)}",
        )

    receive.__doc__ = (
        f"A {provider} push: verified, deduplicated, matched to the apps that track the pushed ref."
    )
    return receive
