"""The engine's connection to a Kubernetes API server (I/O: the only user of ``kubernetes``).

:class:`Cluster` speaks the REST API through the official client's transport (kubeconfig,
in-cluster service account, TLS, auth plugins all come from ``kubernetes.config``) but encodes
and decodes JSON itself, because the engine works on plain dicts and a LIST of thousands of
objects must not be turned into generated model classes.

- Discovery maps (group, kind) to (version, plural, namespaced), fetched once and refreshed
  when a kind is missing (a CRD applied in the same sync).
- ``list`` is one LIST per kind (all namespaces) filtered by label selector: the hot path of a
  no-op sync is a handful of these and nothing else.
- ``apply`` is server-side apply under one field manager; ``delete`` uses Background
  propagation by default.
- Every request is retried with exponential backoff on 429 (honouring ``Retry-After``), 5xx and
  connection errors; conflicts are retried by the caller, which knows whether re-reading helps.
- Errors become :mod:`gitops.errors` classes naming the object first; a server that cannot be
  reached at all is :class:`~gitops.errors.ClusterUnreachable`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import urllib3
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException

import gitops
from gitops import errors
from gitops.model import ResourceKey

log = logging.getLogger(__name__)

USER_AGENT = f"gitops/{gitops.__version__}"
_AGGREGATED_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)


@dataclass(frozen=True)
class ClusterOptions:
    """How to reach the cluster and how hard to try.

    ``kubeconfig``/``context`` select a kubeconfig entry (default: ``$KUBECONFIG`` or
    ``~/.kube/config``); ``in_cluster`` uses the pod's service account instead.
    """

    kubeconfig: Path | None = None
    context: str | None = None
    in_cluster: bool = False
    timeout: float = 30.0  # seconds per request
    retries: int = 5  # attempts after the first, for retryable failures
    backoff: float = 0.2  # first backoff in seconds, doubled each attempt (with jitter)
    max_backoff: float = 10.0


@dataclass(frozen=True)
class ApiResource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str = "", name: str = "") -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.plural}"
        if name:
            base += f"/{quote(name, safe='')}"
        return base


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    headers: Mapping[str, str]


def _status_message(body: Any, fallback: str) -> tuple[str, str]:
    if isinstance(body, dict) and body.get("kind") == "Status":
        return str(body.get("message") or fallback), str(body.get("reason") or "")
    return fallback, ""


class Cluster:
    """One API server. Thread-safe: the transport is a pooled urllib3 manager."""

    def __init__(self, api_client: Any, options: ClusterOptions | None = None) -> None:
        self.api_client = api_client
        self.options = options or ClusterOptions()
        self.api_client.user_agent = USER_AGENT
        self._discovery: dict[tuple[str, str], ApiResource] | None = None
        self._discovery_lock = threading.Lock()
        self._discoveries = 0  # discoveries fetched so far (see resource_for)
        self.requests = 0  # requests sent, retries included (for metrics and tests)

    @classmethod
    def connect(cls, options: ClusterOptions | None = None) -> Cluster:
        opts = options or ClusterOptions()
        try:
            if opts.in_cluster:
                configuration = k8s_client.Configuration()
                k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
                api = k8s_client.ApiClient(configuration)
            else:
                api = k8s_config.new_client_from_config(  # type: ignore[no-untyped-call]
                    config_file=str(opts.kubeconfig) if opts.kubeconfig else None, context=opts.context
                )
        except (ConfigException, OSError) as exc:
            raise errors.ConfigError(f"cannot load the cluster configuration: {exc}") from exc
        return cls(api, opts)

    @property
    def host(self) -> str:
        return str(self.api_client.configuration.host)

    def close(self) -> None:
        self.api_client.close()

    # --------------------------------------------------------------------------- transport

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        ok: tuple[int, ...] = (200, 201),
        what: str = "",
        accept: str = "application/json",
    ) -> Response:
        """One API call with retries; returns the decoded JSON body of a 2xx answer.

        Statuses in ``ok`` are returned; others raise :class:`~gitops.errors.ClusterError`
        (or :class:`~gitops.errors.ApplyError` when ``what`` names an object).
        """
        url_path = path + ("?" + urlencode(query) if query else "")
        headers = {"Accept": accept, "User-Agent": USER_AGENT}
        payload: Any = None
        if body is not None:
            headers["Content-Type"] = content_type
            # The client's transport JSON-encodes dicts for JSON content types and sends bytes
            # as they are for the rest (apply patches).
            payload = body
            if content_type.endswith("+yaml") and not isinstance(body, (bytes, str)):
                payload = json.dumps(body).encode()
        attempt = 0
        opts = self.options
        while True:
            attempt += 1
            try:
                _, url, hdrs, _, _ = self.api_client.param_serialize(
                    method, url_path, header_params=dict(headers), auth_settings=["BearerToken"]
                )
                self.requests += 1
                raw = self.api_client.call_api(
                    method, url, header_params=hdrs, body=payload, _request_timeout=opts.timeout
                )
                data = raw.read()
                status = raw.status
                resp_headers = dict(raw.headers or {})
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if attempt > opts.retries:
                    raise errors.ClusterUnreachable(
                        f"cannot reach the Kubernetes API at {self.host}: {type(exc).__name__}: {exc}"
                    ) from exc
                self._sleep(attempt, None)
                continue
            try:
                decoded: Any = json.loads(data) if data else None
            except ValueError:
                decoded = data.decode(errors="replace") if isinstance(data, bytes) else data
            if status in ok:
                return Response(status, decoded, resp_headers)
            retryable = status == 429 or status >= 500
            if retryable and attempt <= opts.retries:
                self._sleep(attempt, resp_headers.get("Retry-After") or resp_headers.get("retry-after"))
                continue
            message, reason = _status_message(decoded, f"HTTP {status}")
            if what:
                raise errors.ApplyError(
                    what, message, code=status, reason=reason, retryable=retryable or status == 409
                )
            raise errors.ClusterError(
                message, code=status, reason=reason, retryable=retryable or status == 409
            )

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        opts = self.options
        delay = min(opts.max_backoff, opts.backoff * (2 ** (attempt - 1)))
        delay *= 0.5 + random.random()  # jitter: never a thundering herd of retries
        if retry_after:
            with contextlib.suppress(ValueError):  # an HTTP date: keep our own backoff
                delay = max(delay, float(retry_after))
        time.sleep(min(delay, opts.max_backoff))

    # --------------------------------------------------------------------------- discovery

    def resources(self, refresh: bool = False) -> dict[tuple[str, str], ApiResource]:
        """(group, kind) -> preferred version's resource: aggregated discovery (two requests,
        Kubernetes 1.30+), else the legacy documents (one request per group)."""
        with self._discovery_lock:
            if self._discovery is None or refresh:
                self._discover()
            assert self._discovery is not None
            return self._discovery

    def _discover(self) -> None:
        """Fetch discovery afresh (the caller holds ``_discovery_lock``)."""
        found = self._aggregated_discovery()
        if found is None:
            found = {}
            core = self.request("GET", "/api/v1").body
            self._add_resources(found, "", "v1", core)
            groups = self.request("GET", "/apis").body
            for group in groups.get("groups", []):
                preferred = (
                    group.get("preferredVersion", {}).get("version") or group["versions"][0]["version"]
                )
                doc = self.request("GET", f"/apis/{group['name']}/{preferred}", ok=(200, 404, 503)).body
                if isinstance(doc, dict) and doc.get("resources"):
                    self._add_resources(found, group["name"], preferred, doc)
        self._discovery = found
        self._discoveries += 1

    def _aggregated_discovery(self) -> dict[tuple[str, str], ApiResource] | None:
        """``/api`` and ``/apis`` as APIGroupDiscoveryList (K8S-API.md §1.3), or None when the
        server answers with the legacy documents; versions are listed preferred first."""
        found: dict[tuple[str, str], ApiResource] = {}
        for path in ("/api", "/apis"):
            resp = self.request("GET", path, accept=_AGGREGATED_ACCEPT)
            content_type = next((v for k, v in resp.headers.items() if k.lower() == "content-type"), "")
            if "as=APIGroupDiscoveryList" not in content_type or not isinstance(resp.body, dict):
                return None
            for group in resp.body.get("items") or []:
                name = str((group.get("metadata") or {}).get("name") or "")
                for version in group.get("versions") or []:
                    for r in version.get("resources") or []:
                        kind = str((r.get("responseKind") or {}).get("kind") or "")
                        if kind:
                            found.setdefault(
                                (name, kind),
                                ApiResource(
                                    name,
                                    str(version["version"]),
                                    kind,
                                    str(r["resource"]),
                                    r.get("scope") == "Namespaced",
                                ),
                            )
        return found

    @staticmethod
    def _add_resources(found: dict[tuple[str, str], ApiResource], group: str, version: str, doc: Any) -> None:
        for r in doc.get("resources", []):
            if "/" in r["name"]:
                continue  # subresources
            found.setdefault(
                (group, r["kind"]),
                ApiResource(group, version, r["kind"], r["name"], bool(r.get("namespaced"))),
            )

    def resource_for(self, group: str, kind: str) -> ApiResource | None:
        """The resource serving a kind; re-discovers once when it is unknown (new CRDs). Threads
        missing kinds at once share one re-discovery: a miss re-discovers only when nobody did
        since this call looked."""
        with self._discovery_lock:
            seen = self._discoveries
        found = self.resources().get((group, kind))
        if found is None:
            with self._discovery_lock:
                if self._discoveries == seen:
                    self._discover()
                assert self._discovery is not None
                found = self._discovery.get((group, kind))
        return found

    def scope(self, group: str, version: str, kind: str) -> str | None:
        """``Namespaced``, ``Cluster`` or None for an unknown kind (the manifests validator's view)."""
        found = self.resource_for(group, kind)
        if found is None:
            return None
        return "Namespaced" if found.namespaced else "Cluster"

    def _resource(self, key: ResourceKey) -> ApiResource:
        found = self.resource_for(key.group, key.kind)
        if found is None:
            raise errors.ApplyError(
                str(key), f'the server has no resource for kind "{key.kind}" in group "{key.group or "core"}"'
            )
        return found

    # --------------------------------------------------------------------------- verbs

    def list(
        self, group: str, kind: str, label_selector: str = "", namespace: str = ""
    ) -> list[dict[str, Any]]:
        """Every object of a kind (across namespaces unless ``namespace``) matching the selector,
        following ``continue`` tokens. An unknown kind has no objects."""
        res = self.resource_for(group, kind)
        if res is None:
            return []
        query = {"limit": "500"}
        if label_selector:
            query["labelSelector"] = label_selector
        return [item for body in self._pages(res, namespace, query) for item in body.get("items", [])]

    def _pages(self, res: ApiResource, namespace: str, query: dict[str, str]) -> Iterator[dict[str, Any]]:
        """The pages of one LIST (``continue`` tokens followed), their items given the
        ``apiVersion`` and ``kind`` a LIST leaves out."""
        while True:
            body = self.request("GET", res.path(namespace), query=query).body
            for item in body.get("items", []):
                item.setdefault("apiVersion", res.api_version)
                item.setdefault("kind", res.kind)
            yield body
            token = (body.get("metadata") or {}).get("continue")
            if not token:
                return
            query = {**query, "continue": token}

    def get(self, key: ResourceKey) -> dict[str, Any] | None:
        res = self._resource(key)
        resp = self.request("GET", res.path(key.namespace, key.name), ok=(200, 404), what=str(key))
        return resp.body if resp.status == 200 else None

    def apply(
        self, obj: Mapping[str, Any], *, manager: str, force: bool = True, dry_run: bool = False
    ) -> dict[str, Any]:
        """Server-side apply of one object; returns the object the server stored (or would)."""
        key = ResourceKey.of(obj)
        res = self._resource(key)
        query = {"fieldManager": manager, "force": "true" if force else "false"}
        if dry_run:
            query["dryRun"] = "All"
        body = json.dumps(obj, separators=(",", ":")).encode()
        resp = self.request(
            "PATCH",
            res.path(key.namespace, key.name),
            query=query,
            body=body,
            content_type="application/apply-patch+yaml",
            what=str(key),
        )
        result: dict[str, Any] = resp.body
        return result

    def delete(self, key: ResourceKey, *, propagation: str = "Background", dry_run: bool = False) -> bool:
        """Delete one object; False when it was already gone."""
        res = self._resource(key)
        body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
        query = {}
        if dry_run:
            # In the body (as client-go sends it) and in the query: a server or proxy that
            # misses one form must not turn a dry run into a real delete.
            body["dryRun"] = ["All"]
            query["dryRun"] = "All"
        resp = self.request(
            "DELETE",
            res.path(key.namespace, key.name),
            query=query,
            body=body,
            ok=(200, 202, 404),
            what=str(key),
        )
        return resp.status != 404

    # --------------------------------------------------------------------------- watch

    def watch(
        self,
        group: str,
        kind: str,
        namespace: str = "",
        *,
        name: str = "",
        label_selector: str = "",
        field_selector: str = "",
        resource_version: str = "",
        timeout: float = 60.0,
    ) -> Watch:
        """Events ``(type, object)`` of one kind (``name`` narrows it to one object) for
        ``timeout`` seconds: see :class:`Watch`. Without ``resource_version`` the current objects
        come first, as ADDED events from a LIST."""
        res = self._resource(ResourceKey(group, kind, namespace, name or "?"))
        fields = [f for f in (field_selector, f"metadata.name={name}" if name else "") if f]
        return Watch(self, res, namespace, label_selector, ",".join(fields), resource_version, timeout)


class Watch:
    """A watch that outlives its HTTP streams: an iterator of ``(type, object)`` (ADDED,
    MODIFIED, DELETED), over the API's chunked stream (one JSON event a line). A stream that
    ends is reopened from the last resourceVersion seen (bookmarks included); a resourceVersion
    too old (410 Gone) re-lists and yields every current object as ADDED again. Ends when
    ``timeout`` seconds have passed or :meth:`close` is called (from any thread: it shuts the
    open stream down, so a blocked read returns)."""

    def __init__(
        self,
        cluster: Cluster,
        res: ApiResource,
        namespace: str,
        label_selector: str,
        field_selector: str,
        resource_version: str,
        timeout: float,
    ) -> None:
        self.cluster = cluster
        self.res = res
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resource_version = resource_version
        self.deadline = time.monotonic() + timeout
        self._closed = threading.Event()
        self._response: Any = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            response = self._response
        if response is not None:
            with contextlib.suppress(Exception):
                response.shutdown()

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        return self._events()

    def _selectors(self) -> dict[str, str]:
        query = {}
        if self.label_selector:
            query["labelSelector"] = self.label_selector
        if self.field_selector:
            query["fieldSelector"] = self.field_selector
        return query

    def _list(self) -> Iterator[tuple[str, dict[str, Any]]]:
        body: dict[str, Any] = {}
        for body in self.cluster._pages(self.res, self.namespace, {**self._selectors(), "limit": "500"}):
            for item in body.get("items", []):
                yield "ADDED", item
        self.resource_version = str((body.get("metadata") or {}).get("resourceVersion") or "")

    def _events(self) -> Iterator[tuple[str, dict[str, Any]]]:
        if not self.resource_version:
            yield from self._list()
        failures = 0
        while not self._closed.is_set():
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                gone = False
                for event_type, obj in self._stream(remaining):
                    failures = 0
                    if event_type == "ERROR":
                        if obj.get("code") == 410:
                            gone = True
                            break
                        raise errors.ClusterError(
                            str(obj.get("message") or "watch error"), code=int(obj.get("code") or 0)
                        )
                    rv = (obj.get("metadata") or {}).get("resourceVersion")
                    if rv:
                        self.resource_version = str(rv)
                    if event_type == "BOOKMARK":
                        continue
                    obj.setdefault("apiVersion", self.res.api_version)
                    obj.setdefault("kind", self.res.kind)
                    yield event_type, obj
                if gone:
                    yield from self._list()
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if self._closed.is_set():
                    return
                failures += 1
                if failures > self.cluster.options.retries:
                    raise errors.ClusterUnreachable(
                        f"cannot watch {self.res.plural} at {self.cluster.host}: {type(exc).__name__}: {exc}"
                    ) from exc
                self.cluster._sleep(failures, None)

    def _stream(self, remaining: float) -> Iterator[tuple[str, dict[str, Any]]]:
        """One watch request: its events until the server ends the stream."""
        seconds = max(1, min(int(remaining), 300))
        query = {
            **self._selectors(),
            "watch": "true",
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(seconds),
            "resourceVersion": self.resource_version,
        }
        api = self.cluster.api_client
        _, url, headers, _, _ = api.param_serialize(
            "GET",
            self.res.path(self.namespace) + "?" + urlencode(query),
            header_params={"Accept": "application/json", "User-Agent": USER_AGENT},
            auth_settings=["BearerToken"],
        )
        self.cluster.requests += 1
        response = api.rest_client.pool_manager.request(
            "GET",
            url,
            headers=headers,
            preload_content=False,
            timeout=urllib3.Timeout(connect=self.cluster.options.timeout, read=seconds + 30),
        )
        with self._lock:
            self._response = response
        try:
            if response.status == 410:
                yield "ERROR", {"code": 410}
                return
            if response.status != 200:
                data = response.read()
                try:
                    decoded: Any = json.loads(data) if data else None
                except ValueError:
                    decoded = None
                message, reason = _status_message(decoded, f"HTTP {response.status}")
                if response.status == 429 or response.status >= 500:
                    raise urllib3.exceptions.HTTPError(message)
                raise errors.ClusterError(message, code=response.status, reason=reason)
            pending = b""
            for chunk in response.stream(64 * 1024):
                if self._closed.is_set():
                    return
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        event = json.loads(line)
                        yield str(event.get("type")), event.get("object") or {}
        finally:
            with self._lock:
                self._response = None
            response.close()  # a stream cut short must not go back to the pool half-read
            response.release_conn()
