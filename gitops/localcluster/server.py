"""HTTP for the local cluster: routing, content negotiation, watch streams, request accounting.

The ASGI app (Starlette, served by uvicorn on loopback) turns each request into a call on
:class:`~gitops.localcluster.api.Api` and the result into the bytes a real kube-apiserver 1.32
sends: JSON objects, ``Status`` errors with ``Content-Type: application/json``, server-side
``Table`` output when kubectl asks for it, aggregated discovery, chunked watch streams.

Every request is counted by (verb, resource, user agent) and logged in order, readable at
``/debug/requests`` and from Python (:class:`RequestLog`), so tests and benchmarks can count a
client's API calls and assert that no write happened.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import threading
import time
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import orjson
import yaml
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from gitops.localcluster import auth, discovery, errors, params, patch, protowire, rbac, selectors, tables
from gitops.localcluster.api import Api, WriteOptions, WriteResult, manager_from_user_agent
from gitops.localcluster.resources import ResourceType
from gitops.localcluster.store import Event, TooOld

MAX_BODY_BYTES = 3 * 1024 * 1024  # apiserver's MaxRequestBodyBytes
JSON = "application/json"
_PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+cbor": "apply-cbor",
}
# The watch cache's bookmarkFrequency (apiserver/pkg/storage/cacher: time.Minute).
BOOKMARK_FREQUENCY = 60.0
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
# --- fault injection (faults.py): set around a request it tampers with, read by RequestLog.record:
# (the fault label, the HTTP code the client saw instead of the server's own, or None).
injected_fault: ContextVar[tuple[str, int | None]] = ContextVar("injected_fault", default=("", None))
# The authenticated user of the request being served ("" when authentication is off), read by
# RequestLog.record.
request_user: ContextVar[str] = ContextVar("request_user", default="")


@dataclass(frozen=True)
class RequestRecord:
    seq: int
    time: float
    verb: str
    group: str
    resource: str
    subresource: str
    namespace: str
    name: str
    user_agent: str
    code: int
    dry_run: bool
    path: str
    fault: str = ""  # faults injected into this request (faults.py), e.g. "delay,error:503"
    user: str = ""  # the authenticated user (auth.py); "" when authentication is off


class RequestLog:
    """Counts and remembers the requests the server answered (bounded, thread-safe)."""

    def __init__(self, keep: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._log: deque[RequestRecord] = deque(maxlen=keep)
        self._seq = 0

    def record(self, **fields: Any) -> None:
        fault, seen_code = injected_fault.get()  # --- fault injection (faults.py)
        if fault and "fault" not in fields:
            fields["fault"] = fault
            if seen_code is not None:
                fields["code"] = seen_code
        fields.setdefault("user", request_user.get())
        with self._lock:
            self._seq += 1
            rec = RequestRecord(seq=self._seq, time=time.time(), **fields)
            self._log.append(rec)
            self._counts[(rec.verb, rec.resource, rec.user_agent)] += 1

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._log.clear()

    @property
    def last_seq(self) -> int:
        return self._seq

    def records(self, since: int = 0) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self._log if r.seq > since]

    def counts(self) -> dict[tuple[str, str, str], int]:
        with self._lock:
            return dict(self._counts)

    def writes(
        self, since: int = 0, user_agent_prefix: str = "", user: str | None = None
    ) -> list[RequestRecord]:
        """Persisting requests (dry runs excluded) since ``since``, optionally of one client
        (by User-Agent prefix) and one authenticated ``user``."""
        return [
            r
            for r in self.records(since)
            if r.verb in WRITE_VERBS
            and not r.dry_run
            and r.user_agent.startswith(user_agent_prefix)
            and (user is None or r.user == user)
        ]

    def to_json(self, since: int = 0) -> dict[str, Any]:
        counts = [
            {"verb": v, "resource": r, "userAgent": ua, "count": n}
            for (v, r, ua), n in sorted(self.counts().items())
        ]
        return {
            "lastSeq": self._seq,
            "counters": counts,
            "requests": [asdict(r) for r in self.records(since)],
        }


def _dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


def _json(
    obj: Any, code: int = 200, headers: dict[str, str] | None = None, media_type: str = JSON
) -> Response:
    return Response(_dumps(obj), status_code=code, media_type=media_type, headers=headers)


def _path_not_found() -> errors.StatusError:
    return errors.StatusError(404, "NotFound", "the server could not find the requested resource", {})


def _invalid_dry_run(value: Any) -> errors.StatusError:
    return errors.StatusError(400, "BadRequest", f'Invalid dryRun value: "{value}": supported values: "All"')


def _status(err: errors.StatusError) -> Response:
    headers = dict(err.headers)
    if err.code == 429 and err.details and err.details.get("retryAfterSeconds"):
        headers.setdefault("Retry-After", str(err.details["retryAfterSeconds"]))
    return _json(err.body(), err.code, headers)


@dataclass
class Route:
    group: str
    version: str
    namespace: str
    plural: str
    name: str
    subresource: str


def parse_resource_path(parts: list[str]) -> Route | None:
    """``/api/v1/...`` or ``/apis/g/v/...`` split into its parts, as RequestInfoFactory does
    (``apiserver/pkg/endpoints/request/requestinfo.go``), or None for a non-resource path."""
    if len(parts) >= 3 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in ("status", "finalize"):
            rest = rest[2:]
        else:
            # the namespaces resource itself: /namespaces/{name}[/status]
            return Route(group, version, "", "namespaces", rest[1], rest[2] if len(rest) > 2 else "")
    if len(rest) > 3:
        return Route(group, version, namespace, rest[0], rest[1], "/".join(rest[2:]))
    return Route(
        group, version, namespace, rest[0], rest[1] if len(rest) > 1 else "", rest[2] if len(rest) > 2 else ""
    )


def _wants_table(accept: str) -> bool:
    for part in accept.split(","):
        params = {
            p.split("=", 1)[0].strip(): p.split("=", 1)[1].strip() for p in part.split(";")[1:] if "=" in p
        }
        if params.get("as") == "Table" and params.get("g", "meta.k8s.io") == "meta.k8s.io":
            return True
        if part.strip().split(";")[0] in (JSON, "*/*", "application/*"):
            return False
    return False


class ClusterApp:
    """The ASGI application of one local cluster."""

    def __init__(
        self,
        api: Api,
        requests: RequestLog,
        server_address: str = "127.0.0.1",
        *,
        authenticator: auth.Authenticator | None = None,
        enforce_auth: bool = False,
    ) -> None:
        self.api = api
        self.requests = requests
        self.server_address = server_address
        self._discovery_cache: dict[tuple[str, int], tuple[bytes, str]] = {}
        # Issues ServiceAccount tokens (TokenRequest) always; checks them only with enforce_auth.
        self.authenticator = authenticator or auth.Authenticator(api.store)
        self.authorizer = rbac.Authorizer(api.store)
        self.enforce_auth = enforce_auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    # ------------------------------------------------------------------------ dispatch

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        parts = [p for p in path.split("/") if p]
        ua = request.headers.get("user-agent", "")
        route = parse_resource_path(parts)
        try:
            # A repeated parameter means its first value: metav1's ParameterCodec converts
            # []string to a scalar with (*in)[0] (runtime/conversion.go).
            query = {k: v[0] for k, v in parse_qs(request.url.query, keep_blank_values=True).items()}
            if route is None:
                return await self._recorded_non_resource(request, parts, query, ua)
            return await self._resource(request, route, query, ua)
        except errors.StatusError as err:
            return _status(err)
        except Exception as exc:  # never crash, never hang: answer a Status
            return _status(errors.internal(f"{type(exc).__name__}: {exc}"))

    # ------------------------------------------------------------------ authn / authz

    def _authorize(self, request: Request, query: dict[str, str]) -> rbac.Attributes | None:
        """Authenticate (401) and authorize (403) the request when auth is on; its attributes.

        The order of kube-apiserver's handler chain (``apiserver/pkg/server/config.go``
        DefaultBuildHandlerChain): authentication, then authorization, then the API handlers,
        so a refused request learns nothing, not even whether the resource exists.
        """
        if not self.enforce_auth or request.url.path.startswith("/debug/"):
            return None
        user = self.authenticator.authenticate(request.headers.get("authorization"))
        request_user.set(user.name)
        attrs = rbac.request_attributes(user, request.method, request.url.path, query)
        allowed, reason = self.authorizer.authorize(attrs)
        if not allowed:
            raise rbac.forbidden(attrs, reason)
        return attrs

    def _authorize_create(self, attrs: rbac.Attributes) -> None:
        """403 unless the user may also create: an apply that creates needs create as well."""
        allowed, reason = self.authorizer.authorize(replace(attrs, verb="create"))
        if not allowed:
            raise rbac.forbidden_create_on_update(attrs, reason)

    async def _auth_resource(
        self, request: Request, route: Route, verb: str, attrs: rbac.Attributes | None
    ) -> Response | None:
        """The authentication.k8s.io and authorization.k8s.io endpoints: TokenRequest
        (``serviceaccounts/token``), SelfSubjectAccessReview (``kubectl auth can-i``),
        SelfSubjectRulesReview (``kubectl auth can-i --list``) and SelfSubjectReview (``kubectl
        auth whoami``). None for every other resource.

        kubectl sends these bodies as protobuf and accepts JSON back (it asks for
        ``application/vnd.kubernetes.protobuf,application/json``), so answers are JSON."""
        group, plural = route.group, route.plural
        if (
            group == ""
            and route.version == "v1"
            and plural == "serviceaccounts"
            and route.subresource == "token"
        ):
            if verb != "create":
                raise errors.method_not_allowed(verb, "serviceaccounts/token")
            body = await self._auth_body(request, protowire.TOKEN_REQUEST)
            return _json(self._token_request(route.namespace, route.name, body), 201)
        reviews = {
            ("authorization.k8s.io", "selfsubjectaccessreviews"): protowire.SELF_SUBJECT_ACCESS_REVIEW,
            ("authorization.k8s.io", "selfsubjectrulesreviews"): protowire.SELF_SUBJECT_RULES_REVIEW,
            ("authentication.k8s.io", "selfsubjectreviews"): protowire.SELF_SUBJECT_REVIEW,
        }
        schema = reviews.get((group, plural))
        if schema is None or route.version != "v1" or route.name or route.namespace:
            return None
        if verb != "create":
            raise errors.method_not_allowed(verb, plural)
        body = await self._auth_body(request, schema)
        # With authentication off the server runs as --authorization-mode=AlwaysAllow with
        # anonymous requests: everything is allowed, and the user is system:anonymous.
        user = attrs.user if attrs is not None else auth.ANONYMOUS
        if plural == "selfsubjectreviews":
            return _json(rbac.self_subject_review(user), 201)
        authorizer = self.authorizer if attrs is not None else None
        if plural == "selfsubjectrulesreviews":
            return _json(rbac.rules_review(authorizer, user, body), 201)
        return _json(rbac.access_review(authorizer, user, body), 201)

    async def _auth_body(self, request: Request, schema: protowire.Schema) -> Any:
        """The body of an auth endpoint: JSON/YAML, or the protobuf kubectl's typed clients send."""
        ctype = request.headers.get("content-type", JSON).split(";")[0].strip().lower()
        if ctype != "application/vnd.kubernetes.protobuf":
            return await self._body(request, ctype)
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            raise errors.request_entity_too_large(MAX_BODY_BYTES)
        try:
            return protowire.decode_object(raw, schema)[2]
        except (protowire.ProtobufError, UnicodeDecodeError) as exc:
            raise errors.bad_request(f"error decoding request body: {exc}") from exc

    def _token_request(self, namespace: str, name: str, body: Any) -> dict[str, Any]:
        """``POST .../serviceaccounts/{name}/token`` (``pkg/registry/core/serviceaccount/storage/
        token.go``): a TokenRequest whose status carries the token and its expiry."""
        if not isinstance(body, dict):
            raise errors.bad_request("the request body must be a JSON object")
        # TokenREST.Create: the ServiceAccount first (404), then the request's validation.
        self.authenticator.service_account(namespace, name)
        spec = body.get("spec") or {}
        if not isinstance(spec, dict):
            raise errors.bad_request("spec must be an object")
        seconds = spec.get("expirationSeconds")
        if seconds is None:
            seconds = auth.DEFAULT_EXPIRATION_SECONDS
        if not isinstance(seconds, int) or isinstance(seconds, bool):
            raise errors.bad_request("spec.expirationSeconds must be an integer")
        # pkg/apis/authentication/validation ValidateTokenRequest.
        causes = []
        given_meta = body.get("metadata")
        meta: dict[str, Any] = given_meta if isinstance(given_meta, dict) else {}
        for field, want in (("name", name), ("namespace", namespace)):
            given = meta.get(field)
            if given and given != want:
                causes.append(
                    (
                        f"metadata.{field}",
                        f'Invalid value: "{given}": must match the service account {field} if specified',
                    )
                )
        if seconds < auth.MIN_EXPIRATION_SECONDS:
            causes.append(
                (
                    "spec.expirationSeconds",
                    f"Invalid value: {seconds}: may not specify a duration less than 10 minutes",
                )
            )
        elif seconds > auth.MAX_EXPIRATION_SECONDS:
            causes.append(
                (
                    "spec.expirationSeconds",
                    f"Invalid value: {seconds}: may not specify a duration larger than 2^32 seconds",
                )
            )
        if causes:
            # NewInvalid(gvk.GroupKind(), "", errs): the TokenRequest has no name of its own.
            listed = ", ".join(f"{f}: {m}" for f, m in causes)
            text = listed if len(causes) == 1 else f"[{listed}]"
            raise errors.invalid(
                "TokenRequest",
                "authentication.k8s.io",
                "",
                [{"reason": "FieldValueInvalid", "message": m, "field": f} for f, m in causes],
                f'TokenRequest.authentication.k8s.io "" is invalid: {text}',
            )
        audiences = spec.get("audiences") or list(auth.DEFAULT_AUDIENCES)
        token, exp = self.authenticator.token_for(
            namespace, name, expiration_seconds=seconds, audiences=tuple(str(a) for a in audiences)
        )
        return {
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "creationTimestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            "spec": {
                "audiences": list(audiences),
                "expirationSeconds": seconds,
                "boundObjectRef": spec.get("boundObjectRef"),
            },
            "status": {
                "token": token,
                "expirationTimestamp": datetime.fromtimestamp(exp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        }

    def _verb(self, method: str, route: Route, query: dict[str, str]) -> str:
        if method == "GET":
            if route.name:
                return "get"
            return "watch" if params.query_bool(query.get("watch")) else "list"
        return {
            "POST": "create",
            "PUT": "update",
            "PATCH": "patch",
            "DELETE": "delete" if route.name else "deletecollection",
        }.get(method, method.lower())

    @staticmethod
    def _dry_run(query: dict[str, str]) -> bool:
        value = query.get("dryRun")
        if value is None or value == "":
            return False
        if value != "All":
            raise _invalid_dry_run(value)
        return True

    # -------------------------------------------------------------------- non-resource

    async def _non_resource(self, request: Request, parts: list[str], query: dict[str, str]) -> Response:
        if request.method != "GET":
            if parts[:2] == ["debug", "requests"] and request.method == "DELETE":
                self.requests.reset()
                return _json({"reset": True})
            raise errors.StatusError(
                405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
            )
        reg = self.api.registry
        accept = request.headers.get("accept", "")
        if parts == ["version"]:
            return _json(discovery.version_info())
        if parts in (["healthz"], ["livez"], ["readyz"]):
            return Response(b"ok", media_type="text/plain")
        if parts[:2] == ["debug", "requests"]:
            return _json(self.requests.to_json(int(query.get("since", "0") or 0)))
        if parts in (["api"], ["apis"]):
            core = parts == ["api"]
            version = discovery.negotiate_aggregated(accept)
            if version is not None:
                return self._cached(
                    (f"aggregated-{core}-{version}", reg.generation),
                    lambda: discovery.aggregated_discovery(reg, core=core, version=version),
                    discovery.aggregated_content_type(version),
                )
            if core:
                return _json(discovery.api_versions(self.server_address))
            return _json(discovery.api_group_list(reg))
        if len(parts) == 2 and parts[0] == "apis":
            doc = discovery.api_group(reg, parts[1])
            if doc is not None:
                return _json(doc)
        if len(parts) == 2 and parts[0] == "api":
            doc = discovery.api_resource_list(reg, "", parts[1])
            if doc is not None:
                return _json(doc)
        if len(parts) == 3 and parts[0] == "apis":
            doc = discovery.api_resource_list(reg, parts[1], parts[2])
            if doc is not None:
                return _json(doc)
        if parts == ["openapi", "v3"]:
            return self._cached(
                ("openapi-index", reg.generation), lambda: discovery.openapi_v3_index(reg), JSON
            )
        if len(parts) > 2 and parts[:2] == ["openapi", "v3"]:
            # Served as the very bytes the index's hash was computed from.
            raw = discovery.openapi_v3_document_json(reg, "/".join(parts[2:]))
            if raw is not None:
                return Response(raw, media_type=JSON)
        # /openapi/v2 is not served: kubectl asks for it only when v3 is missing (K8S-API.md §1.5).
        raise _path_not_found()

    def _cached(self, key: tuple[str, int], build: Any, media_type: str) -> Response:
        hit = self._discovery_cache.get(key)
        if hit is None:
            hit = (_dumps(build()), media_type)
            self._discovery_cache[key] = hit
        return Response(hit[0], media_type=hit[1])

    # ------------------------------------------------------------------------ resources

    def _resolve(self, route: Route) -> ResourceType:
        rt = self.api.registry.by_plural(route.group, route.version, route.plural)
        if rt is None:
            raise _path_not_found()
        if route.namespace and not rt.namespaced:
            raise _path_not_found()
        if (
            route.subresource not in ("", "status", "scale")
            or (route.subresource == "status" and not rt.status_subresource)
            or (route.subresource == "scale" and not rt.scale_subresource)
        ):
            raise _path_not_found()
        return rt

    async def _recorded_non_resource(
        self, request: Request, parts: list[str], query: dict[str, str], ua: str
    ) -> Response:
        code = 500
        try:
            self._authorize(request, query)
            response = await self._non_resource(request, parts, query)
            code = response.status_code
            return response
        except errors.StatusError as err:
            code = err.code
            raise
        finally:
            if parts[:2] != ["debug", "requests"]:  # reading the counters does not count
                self.requests.record(
                    verb=request.method.lower(),
                    group="",
                    resource="",
                    subresource="",
                    namespace="",
                    name="",
                    user_agent=ua,
                    code=code,
                    dry_run=False,
                    path=request.url.path,
                )

    async def _resource(self, request: Request, route: Route, query: dict[str, str], ua: str) -> Response:
        code = 500
        verb = {"GET": "get" if route.name else "list"}.get(request.method, request.method.lower())
        dry_run = False
        try:
            attrs = self._authorize(request, query)  # authentication comes first in the chain
            verb = self._verb(request.method, route, query)
            dry_run = self._dry_run(query)
            if verb in ("delete", "deletecollection") and not dry_run:
                dry_run = await self._delete_dry_run(request)
            special = await self._auth_resource(request, route, verb, attrs)
            if special is not None:
                code = special.status_code
                return special
            rt = self._resolve(route)
            response = await self._dispatch(request, rt, route, verb, query, ua, dry_run, attrs)
            code = response.status_code
            return response
        except errors.StatusError as err:
            code = err.code
            raise
        finally:
            self.requests.record(
                verb=verb,
                group=route.group,
                resource=route.plural,
                subresource=route.subresource,
                namespace=route.namespace,
                name=route.name,
                user_agent=ua,
                code=code,
                dry_run=dry_run,
                path=request.url.path,
            )

    async def _body(self, request: Request, content_type: str) -> Any:
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            raise errors.request_entity_too_large(MAX_BODY_BYTES)
        if "protobuf" in content_type:
            raise errors.unsupported_media_type(
                content_type,
                [JSON, "application/yaml"],
            )
        if not raw.strip():
            raise errors.bad_request("the request body is empty")
        try:
            if "yaml" in content_type:
                return yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            return orjson.loads(raw)
        except (orjson.JSONDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
            raise errors.bad_request(f"error decoding request body: {exc}") from exc

    def _write_options(
        self, query: dict[str, str], ua: str, dry_run: bool, *, apply: bool = False
    ) -> WriteOptions:
        manager = query.get("fieldManager")
        if manager is not None and len(manager) > 128:
            raise errors.bad_request("fieldManager: Too long: may not be longer than 128 characters")
        fv = query.get("fieldValidation") or "Warn"
        if fv not in ("Strict", "Warn", "Ignore"):
            raise errors.bad_request(
                f'fieldValidation: Unsupported value: "{fv}": supported values: "Ignore", "Strict", "Warn"'
            )
        force = params.query_bool(query.get("force"))
        return WriteOptions(
            manager=manager if manager else ("" if apply else manager_from_user_agent(ua)),
            dry_run=dry_run,
            field_validation=fv,
            force=force,
        )

    async def _dispatch(
        self,
        request: Request,
        rt: ResourceType,
        route: Route,
        verb: str,
        query: dict[str, str],
        ua: str,
        dry_run: bool,
        attrs: rbac.Attributes | None = None,
    ) -> Response:
        api = self.api
        ns = route.namespace
        ctype = request.headers.get("content-type", JSON).split(";")[0].strip().lower()
        if (verb not in rt.verbs and verb != "watch") or (verb == "watch" and "watch" not in rt.verbs):
            raise errors.method_not_allowed(verb, rt.plural)
        if verb == "get":
            if route.subresource == "scale":
                return _json(api.get_scale(rt, ns, route.name))
            obj = api.get(rt, ns, route.name)
            if _wants_table(request.headers.get("accept", "")):
                return _json(self._table(rt, [obj], query, str(obj["metadata"].get("resourceVersion", ""))))
            return _json(obj)
        if verb == "list":
            return self._list(request, rt, ns, query)
        if verb == "watch":
            return self._watch(request, rt, ns, query)
        if verb == "create":
            if route.name:
                raise errors.method_not_allowed("create", rt.plural)
            if "force" in query:
                raise errors.bad_request("force: Forbidden: may not be specified for create")
            body = await self._body(request, ctype)
            return self._written(api.create(rt, ns, body, self._write_options(query, ua, dry_run)))
        if verb == "update":
            body = await self._body(request, ctype)
            opts = self._write_options(query, ua, dry_run)
            if route.subresource == "scale":
                return self._written(api.write_scale(rt, ns, route.name, lambda _cur: _as_dict(body), opts))
            return self._written(api.update(rt, ns, route.name, body, opts, route.subresource))
        if verb == "patch":
            patch_type = _PATCH_TYPES.get(ctype)
            if patch_type is None or patch_type == "apply-cbor":
                raise errors.unsupported_media_type(ctype, list(_PATCH_TYPES)[:4])
            body = await self._body(request, ctype)
            opts = self._write_options(query, ua, dry_run, apply=patch_type == "apply")
            if patch_type == "apply" and attrs is not None and not route.subresource:
                opts.check_create = functools.partial(self._authorize_create, attrs)
            if "force" in query and patch_type != "apply":
                opts.force = True
            if route.subresource == "scale":

                def mutate(cur: dict[str, Any]) -> dict[str, Any]:
                    if patch_type == "json":
                        return patch.apply_json_patch(cur, body)
                    return patch.apply_merge_patch(cur, body)

                return self._written(api.write_scale(rt, ns, route.name, mutate, opts))
            return self._written(api.patch(rt, ns, route.name, patch_type, body, opts, route.subresource))
        if verb == "delete":
            options = await self._delete_options(request, query)
            return self._written(api.delete(rt, ns, route.name, options, dry_run))
        if verb == "deletecollection":
            options = await self._delete_options(request, query)
            return self._delete_collection(rt, ns, query, options, dry_run)
        raise errors.method_not_allowed(verb, rt.plural)

    def _written(self, result: WriteResult) -> Response:
        headers = {}
        if result.warnings:
            headers["Warning"] = ", ".join(
                '299 - "' + w.replace("\\", "\\\\").replace('"', '\\"') + '"' for w in result.warnings
            )
        return _json(result.obj, result.code, headers)

    @staticmethod
    async def _delete_dry_run(request: Request) -> bool:
        """``DeleteOptions.dryRun`` in the body counts as the query parameter does: client-go,
        and so ``kubectl delete --dry-run=server``, send it there (``metav1.DeleteOptions``).
        A body that is not JSON is left to ``_delete_options`` to refuse."""
        raw = await request.body()
        if not raw.strip():
            return False
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return False
        value = body.get("dryRun") if isinstance(body, dict) else None
        if not value:
            return False
        if value != ["All"]:
            raise _invalid_dry_run(value)
        return True

    async def _delete_options(self, request: Request, query: dict[str, str]) -> dict[str, Any]:
        options: dict[str, Any] = {}
        raw = await request.body()
        if raw.strip():
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise errors.bad_request(f"error decoding DeleteOptions: {exc}") from exc
            if not isinstance(body, dict):
                raise errors.bad_request("DeleteOptions must be a JSON object")
            options.update(body)
        if "propagationPolicy" in query:
            options["propagationPolicy"] = query["propagationPolicy"]
        if "orphanDependents" in query:
            options["orphanDependents"] = params.query_bool(query["orphanDependents"])
        if "gracePeriodSeconds" in query:  # the Python client sends it as a query parameter
            try:
                options["gracePeriodSeconds"] = int(query["gracePeriodSeconds"])
            except ValueError as exc:
                raise errors.bad_request(
                    f'strconv.ParseInt: parsing "{query["gracePeriodSeconds"]}": invalid syntax'
                ) from exc
        return options

    # ----------------------------------------------------------------------- list/watch

    def _selectors(
        self, rt: ResourceType, query: dict[str, str]
    ) -> tuple[selectors.LabelSelector | None, selectors.FieldSelector | None]:
        try:
            ls = (
                selectors.parse_label_selector(query["labelSelector"]) if query.get("labelSelector") else None
            )
            fs = (
                selectors.parse_field_selector(
                    query["fieldSelector"],
                    rt.group,
                    rt.kind,
                    custom=rt.custom,
                    namespaced=rt.namespaced,
                    selectable_fields=[
                        f.get("jsonPath", "")
                        for f in (self._crd_version(rt) or {}).get("selectableFields") or []
                    ],
                )
                if query.get("fieldSelector")
                else None
            )
        except selectors.SelectorError as exc:
            raise errors.bad_request(str(exc)) from exc
        return ls, fs

    @staticmethod
    def _matches(
        obj: dict[str, Any], ls: selectors.LabelSelector | None, fs: selectors.FieldSelector | None
    ) -> bool:
        if ls is not None and not ls.matches(obj["metadata"].get("labels") or {}):
            return False
        return fs is None or fs.matches(obj)

    def _list(self, request: Request, rt: ResourceType, ns: str, query: dict[str, str]) -> Response:
        ls, fs = self._selectors(rt, query)
        limit = int(query.get("limit") or 0) if (query.get("limit") or "0").isdigit() else 0
        start_after: tuple[str, str] | None = None
        token = query.get("continue")
        store = self.api.store
        with store.lock:
            rv = store.resource_version
            if token:
                try:
                    decoded = orjson.loads(base64.urlsafe_b64decode(token.encode()))
                    token_rv, start_after = int(decoded["rv"]), (decoded["ns"], decoded["name"])
                except Exception as exc:
                    raise errors.bad_request(f"continue key is not valid: {exc}") from exc
                try:
                    store.check_resumable(token_rv)
                except TooOld as exc:
                    raise errors.gone(
                        "The provided continue parameter is too old to display a consistent list result. "
                        "You can start a new list without the continue parameter, or use the continue token "
                        "in this response to retrieve the remainder of the results. Continuing with the "
                        "provided token results in an inconsistent list - objects that were created, modified, "
                        "or deleted between the time the first chunk was returned and now may show up in the list."
                    ) from exc
                rv = token_rv
            items = store.items((rt.group, rt.plural), ns or None)
        if start_after is not None:
            items = [
                o for o in items if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > start_after
            ]
        if ls is not None or fs is not None:
            items = [o for o in items if self._matches(o, ls, fs)]
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if limit and len(items) > limit:
            last = items[limit - 1]["metadata"]
            meta["continue"] = base64.urlsafe_b64encode(
                orjson.dumps({"rv": rv, "ns": last.get("namespace", ""), "name": last["name"]})
            ).decode()
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        if _wants_table(request.headers.get("accept", "")):
            return _json(
                self._table(rt, items, query, str(rv), meta.get("continue"), meta.get("remainingItemCount"))
            )
        return _json(
            {
                "kind": rt.list_kind,
                "apiVersion": rt.api_version,
                "metadata": meta,
                "items": self._list_items(rt, items),
            }
        )

    def _list_items(self, rt: ResourceType, objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A list's items: custom resources at the requested version, built-ins without their
        kind and apiVersion (the list carries them)."""
        if rt.custom:
            return [self.api._as_version(rt, o) for o in objs]
        return [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in objs]

    def _table(
        self,
        rt: ResourceType,
        objs: list[dict[str, Any]],
        query: dict[str, str],
        rv: str,
        cont: str | None = None,
        remaining: int | None = None,
    ) -> dict[str, Any]:
        crd_columns = None
        if rt.custom:
            crd_columns = (self._crd_version(rt) or {}).get("additionalPrinterColumns") or []
        try:
            return tables.table(
                rt.group,
                rt.kind,
                objs,
                now=self.api.clock.now(),
                resource_version=rv,
                include_object=query.get("includeObject") or "Metadata",
                continue_token=cont,
                remaining=remaining,
                crd_columns=crd_columns,
                version=rt.version,
            )
        except tables.TableError as exc:
            raise errors.bad_request(str(exc)) from exc

    def _crd_version(self, rt: ResourceType) -> dict[str, Any] | None:
        """The CRD's entry for this custom resource version (None for built-ins)."""
        if not rt.custom:
            return None
        crd = self.api.store.get(
            ("apiextensions.k8s.io", "customresourcedefinitions"), ("", f"{rt.plural}.{rt.group}")
        )
        versions: list[dict[str, Any]] = (crd or {}).get("spec", {}).get("versions", [])
        # Read only (the stored CRD is shared): the callers take fields of it.
        return next((v for v in versions if v.get("name") == rt.version), None)

    def _watch(self, request: Request, rt: ResourceType, ns: str, query: dict[str, str]) -> Response:
        ls, fs = self._selectors(rt, query)
        bookmarks = params.query_bool(query.get("allowWatchBookmarks"))
        timeout_raw = query.get("timeoutSeconds") or ""
        timeout = float(timeout_raw) if timeout_raw.isdigit() else 1800.0
        rv_param = query.get("resourceVersion") or ""
        store = self.api.store
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Event] = asyncio.Queue()

        def deliver(event: Event) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, event)

        tk = (rt.group, rt.plural)
        initial: list[dict[str, Any]] = []
        too_old: TooOld | None = None
        with store.lock:
            if rv_param in ("", "0"):
                initial = [o for o in store.items(tk, ns or None) if self._matches(o, ls, fs)]
                token, backlog = store.subscribe(tk, deliver)
            else:
                if not rv_param.isdigit():
                    raise errors.bad_request(f'invalid resource version: "{rv_param}"')
                try:
                    token, backlog = store.subscribe(tk, deliver, since=int(rv_param))
                except TooOld as exc:
                    too_old, token, backlog = exc, -1, []

        api = self.api

        def line(kind: str, obj: dict[str, Any]) -> bytes:
            return orjson.dumps({"type": kind, "object": api._as_version(rt, obj)}) + b"\n"

        def translate(event: Event) -> bytes | None:
            if ns and event.obj["metadata"].get("namespace") != ns:
                return None
            if ls is None and fs is None:
                return line(event.type, event.obj)
            now_match = self._matches(event.obj, ls, fs)
            if event.type == "ADDED":
                return line("ADDED", event.obj) if now_match else None
            was = event.old is not None and self._matches(event.old, ls, fs)
            if event.type == "DELETED":
                return line("DELETED", event.obj) if (was or now_match) else None
            if was and now_match:
                return line("MODIFIED", event.obj)
            if was:
                return line("DELETED", event.obj)
            if now_match:
                return line("ADDED", event.obj)
            return None

        async def stream() -> AsyncIterator[bytes]:
            try:
                if too_old is not None:
                    err = errors.gone(str(too_old))
                    yield orjson.dumps({"type": "ERROR", "object": err.body()}) + b"\n"
                    return
                for obj in initial:
                    yield line("ADDED", obj)
                for ev in backlog:
                    out = translate(ev)
                    if out:
                        yield out
                deadline = loop.time() + timeout

                def next_bookmark_at(now: float) -> float | None:
                    # cacheWatcher.nextBookmarkTime: every bookmarkFrequency (a minute), and
                    # 2 s before the watch's deadline; none once that moment has passed.
                    at = min(now + BOOKMARK_FREQUENCY, deadline - 2.0)
                    return at if at >= now else None

                next_bookmark = next_bookmark_at(loop.time()) if bookmarks else None
                while True:
                    now = loop.time()
                    if now >= deadline:
                        return
                    if next_bookmark is not None and now >= next_bookmark:
                        next_bookmark = next_bookmark_at(now + 0.001)
                        yield (
                            orjson.dumps(
                                {
                                    "type": "BOOKMARK",
                                    "object": {
                                        "kind": rt.kind,
                                        "apiVersion": rt.api_version,
                                        "metadata": {"resourceVersion": str(store.resource_version)},
                                    },
                                }
                            )
                            + b"\n"
                        )
                        continue
                    wake = deadline if next_bookmark is None else min(deadline, next_bookmark)
                    try:
                        ev = await asyncio.wait_for(queue.get(), timeout=max(0.0, wake - now))
                    except TimeoutError:
                        continue
                    out = translate(ev)
                    if out:
                        yield out
            finally:
                if token >= 0:
                    store.unsubscribe(token)

        return StreamingResponse(stream(), media_type=JSON, headers={"Cache-Control": "no-cache, private"})

    def _delete_collection(
        self, rt: ResourceType, ns: str, query: dict[str, str], options: dict[str, Any], dry_run: bool
    ) -> Response:
        ls, fs = self._selectors(rt, query)
        deleted = []
        for obj in self.api.store.items((rt.group, rt.plural), ns or None):
            if not self._matches(obj, ls, fs):
                continue
            with contextlib.suppress(errors.StatusError):
                meta = obj["metadata"]
                self.api.delete(rt, meta.get("namespace", ""), meta["name"], options, dry_run)
                deleted.append(obj)
        items = self._list_items(rt, deleted)
        return _json(
            {
                "kind": rt.list_kind,
                "apiVersion": rt.api_version,
                "metadata": {"resourceVersion": str(self.api.store.resource_version)},
                "items": items,
            }
        )


def _as_dict(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise errors.bad_request("the request body must be a JSON object")
    return body
