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
  reached at all is :class:`~gitops.errors.ClusterUnreachable`, one that refuses our credentials
  (401) :class:`~gitops.errors.ClusterAuthError` naming where they came from, never the token.
- In a pod (``ClusterOptions(in_cluster=True)``) the service account's token, CA and namespace
  are read from ``service_account_dir``; the token is re-read whenever the kubelet rotates the
  file (a ``stat`` before each request, plus once a minute), as client-go's in-cluster config does.
- ``observer`` sees every HTTP response (or connection failure) as ``(verb, status)``, for metrics.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import urllib3
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client import rest as k8s_rest
from kubernetes.config.config_exception import ConfigException

import gitops
from gitops import errors
from gitops.model import ResourceKey

log = logging.getLogger(__name__)

USER_AGENT = f"gitops/{gitops.__version__}"
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
_TOKEN_REREAD = 60.0  # seconds: re-read the token at least this often (client-go: one minute)
_VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_AGGREGATED_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)


@dataclass(frozen=True)
class ClusterOptions:
    """How to reach the cluster and how hard to try.

    ``kubeconfig``/``context`` select a kubeconfig entry (default: ``$KUBECONFIG`` or
    ``~/.kube/config``); ``in_cluster`` uses the pod's service account instead: the API server
    from ``KUBERNETES_SERVICE_HOST``/``KUBERNETES_SERVICE_PORT``, and ``token``, ``ca.crt`` and
    ``namespace`` from ``service_account_dir`` (tests point it elsewhere). ``user_agent`` is
    appended to :data:`USER_AGENT` as a comment (``gitops/0.1.0 (replica-a)``), so that two
    clients in one cluster can be told apart in audit logs and fault rules.
    """

    kubeconfig: Path | None = None
    context: str | None = None
    in_cluster: bool = False
    service_account_dir: Path = SERVICE_ACCOUNT_DIR
    user_agent: str = ""
    timeout: float = 30.0  # seconds per request
    retries: int = 5  # attempts after the first, for retryable failures
    backoff: float = 0.2  # first backoff in seconds, doubled each attempt (with jitter)
    max_backoff: float = 10.0
    # Connections kept open to the API server. The client's default (5 per CPU) is less than
    # one phase's parallel writes plus the health gate's watches (two per workload in flight),
    # and a full pool opens and discards a connection per request.
    pool_size: int = 64


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


def in_cluster_available(
    environ: Mapping[str, str] | None = None, service_account_dir: Path = SERVICE_ACCOUNT_DIR
) -> bool:
    """True when this process looks like it runs in a pod: ``KUBERNETES_SERVICE_HOST`` is set
    and the service account token is mounted (the CLI's auto-detection)."""
    env = os.environ if environ is None else environ
    return bool(env.get("KUBERNETES_SERVICE_HOST")) and (service_account_dir / "token").is_file()


def _join_host_port(host: str, port: str) -> str:
    """Go's ``net.JoinHostPort``: IPv6 literals go in brackets."""
    return f"[{host}]:{port}" if ":" in host or "%" in host else f"{host}:{port}"


class _TokenFile:
    """A projected service account token, re-read when it changes.

    The kubelet rotates the token by writing a new file and swapping a symlink (``token`` ->
    ``..data/token``), so a change of the file's identity or mtime (one ``stat``, cheap enough to
    do before every request) says when to read it again; it is also re-read once a minute in case
    a filesystem hides the change. A token that cannot be read after the first read keeps the
    last good one (the swap is atomic, but a read racing it must not fail a request)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._signature: tuple[int, int, int, int] | None = None
        self._token = ""
        self._read_at = 0.0

    def current(self, force: bool = False) -> str:
        """The token to send now; raises ConfigError only when no token was ever read."""
        with self._lock:
            try:
                st = os.stat(self.path)
                signature = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
                stale = time.monotonic() - self._read_at > _TOKEN_REREAD
                token = (
                    self.path.read_text().strip() if force or stale or signature != self._signature else None
                )
            except OSError as exc:
                if self._token:
                    return self._token
                raise errors.ConfigError(
                    f"cannot read the service account token {self.path}: {exc.strerror}"
                ) from exc
            if token is None:
                return self._token
            if not token:
                if self._token:
                    return self._token
                raise errors.ConfigError(f"the service account token {self.path} is empty")
            if token != self._token and self._token:
                log.info("service account token %s changed; using the new one", self.path)
            self._token, self._signature, self._read_at = token, signature, time.monotonic()
            return self._token

    def refresh(self, configuration: Any) -> None:
        """``Configuration.refresh_api_key_hook``: the client calls it before each request."""
        configuration.api_key["BearerToken"] = self.current()


class Cluster:
    """One API server. Thread-safe: the transport is a pooled urllib3 manager."""

    #: Called with ``(verb, status)`` once per HTTP response, retries included; status 0 for a
    #: connection that failed. Verbs as Kubernetes names them: get, list, watch, create, update,
    #: patch, delete. It must be quick and thread-safe; an exception in it is logged, not raised.
    observer: Callable[[str, int], None] | None = None

    def __init__(
        self,
        api_client: Any,
        options: ClusterOptions | None = None,
        *,
        namespace: str = "default",
        credentials: str = "",
    ) -> None:
        self.api_client = api_client
        self.options = options or ClusterOptions()
        self.user_agent = USER_AGENT + (f" ({self.options.user_agent})" if self.options.user_agent else "")
        self.api_client.user_agent = self.user_agent
        configuration = getattr(self.api_client, "configuration", None)
        if configuration is not None and configuration.connection_pool_maxsize < self.options.pool_size:
            configuration.connection_pool_maxsize = self.options.pool_size
            self.api_client.rest_client = k8s_rest.RESTClientObject(configuration)
        #: This process's namespace: the service account's in a pod, else the kubeconfig
        #: context's (``default`` when it names none). Where the daemon keeps its Lease and Events.
        self.namespace = namespace
        #: Where the credentials come from, for error messages (never the credentials).
        self.credentials = credentials or "the client configuration"
        self._discovery: dict[tuple[str, str], ApiResource] | None = None
        self._discovery_lock = threading.Lock()
        self._discoveries = 0  # discoveries fetched so far (see resource_for)
        self.requests = 0  # requests sent, retries included (for metrics and tests)
        self._token: _TokenFile | None = None  # the in-cluster token, re-read on rotation

    @classmethod
    def connect(cls, options: ClusterOptions | None = None) -> Cluster:
        opts = options or ClusterOptions()
        if opts.in_cluster:
            return cls._connect_in_cluster(opts)
        config_file = str(opts.kubeconfig) if opts.kubeconfig else None
        try:
            api = k8s_config.new_client_from_config(  # type: ignore[no-untyped-call]
                config_file=config_file, context=opts.context
            )
            contexts, active = k8s_config.list_kube_config_contexts(config_file=config_file)  # type: ignore[no-untyped-call]
        except (ConfigException, OSError) as exc:
            raise errors.ConfigError(f"cannot load the cluster configuration: {exc}") from exc
        chosen = (
            next((c for c in contexts or [] if c.get("name") == opts.context), None)
            if opts.context
            else active
        )
        context = (chosen or {}).get("context") or {}
        where = config_file or os.environ.get("KUBECONFIG") or "~/.kube/config"
        name = (chosen or {}).get("name") or "?"
        return cls(
            api,
            opts,
            namespace=str(context.get("namespace") or "default"),
            credentials=f'the user of context "{name}" in the kubeconfig {where}',
        )

    @classmethod
    def _connect_in_cluster(cls, opts: ClusterOptions) -> Cluster:
        """The pod's service account (client-go ``rest.InClusterConfig``): https to the
        ``kubernetes`` Service's address from the environment, verified with the mounted CA,
        authenticated with the mounted token; the namespace from ``POD_NAMESPACE`` (downward
        API) or the mounted ``namespace`` file, else ``default``
        (``clientcmd``'s ``inClusterClientConfig.Namespace``)."""
        host = os.environ.get("KUBERNETES_SERVICE_HOST", "")
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "")
        if not host or not port:
            raise errors.ConfigError(
                "cannot load the in-cluster configuration: KUBERNETES_SERVICE_HOST and "
                "KUBERNETES_SERVICE_PORT must be set (is this process running in a pod?)"
            )
        sa_dir = opts.service_account_dir
        token = _TokenFile(sa_dir / "token")
        first = token.current()
        ca = sa_dir / "ca.crt"
        try:
            if not ca.read_bytes().strip():
                raise errors.ConfigError(
                    f"cannot load the in-cluster configuration: the CA file {ca} is empty"
                )
        except OSError as exc:
            raise errors.ConfigError(
                f"cannot load the in-cluster configuration: cannot read {ca}: {exc.strerror}"
            ) from exc
        namespace = os.environ.get("POD_NAMESPACE", "").strip()
        if not namespace:
            with contextlib.suppress(OSError):
                namespace = (sa_dir / "namespace").read_text().strip()
        configuration = k8s_client.Configuration()
        configuration.host = "https://" + _join_host_port(host, port)
        configuration.ssl_ca_cert = str(ca)
        configuration.api_key = {"BearerToken": first}
        configuration.api_key_prefix = {"BearerToken": "Bearer"}
        configuration.refresh_api_key_hook = token.refresh  # type: ignore[assignment]
        cluster = cls(
            k8s_client.ApiClient(configuration),
            opts,
            namespace=namespace or "default",
            credentials=f"the service account token file {token.path}",
        )
        cluster._token = token
        return cluster

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
        verb: str = "",
        timeout: float | None = None,
        retries: int | None = None,
    ) -> Response:
        """One API call with retries; returns the decoded JSON body of a 2xx answer.

        Statuses in ``ok`` are returned; others raise :class:`~gitops.errors.ClusterError`
        (or :class:`~gitops.errors.ApplyError` when ``what`` names an object; for a 409 its
        subclasses :class:`~gitops.errors.AlreadyExists` and :class:`~gitops.errors.Conflict`);
        a 401 raises :class:`~gitops.errors.ClusterAuthError`. ``verb`` is the Kubernetes verb
        reported to :attr:`observer` (default: from the method; a LIST passes ``list``).
        ``timeout`` and ``retries`` override the options for this call (a leader elector must
        not block past its renew deadline).
        """
        url_path = path + ("?" + urlencode(query) if query else "")
        headers = {"Accept": accept, "User-Agent": self.user_agent}
        verb = verb or _VERBS.get(method.upper(), method.lower())
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
        max_retries = opts.retries if retries is None else retries
        reauthenticated = False
        while True:
            attempt += 1
            try:
                _, url, hdrs, _, _ = self.api_client.param_serialize(
                    method, url_path, header_params=dict(headers), auth_settings=["BearerToken"]
                )
                self.requests += 1
                raw = self.api_client.call_api(
                    method,
                    url,
                    header_params=hdrs,
                    body=payload,
                    _request_timeout=opts.timeout if timeout is None else timeout,
                )
                data = raw.read()
                status = raw.status
                resp_headers = dict(raw.headers or {})
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                self._observe(verb, 0)
                if attempt > max_retries:
                    raise errors.ClusterUnreachable(
                        f"cannot reach the Kubernetes API at {self.host}: {type(exc).__name__}: {exc}"
                    ) from exc
                self._sleep(attempt, None)
                continue
            self._observe(verb, status)
            try:
                decoded: Any = json.loads(data) if data else None
            except ValueError:
                decoded = data.decode(errors="replace") if isinstance(data, bytes) else data
            if status in ok:
                return Response(status, decoded, resp_headers)
            retryable = status == 429 or status >= 500
            if retryable and attempt <= max_retries:
                self._sleep(attempt, resp_headers.get("Retry-After") or resp_headers.get("retry-after"))
                continue
            message, reason = _status_message(decoded, f"HTTP {status}")
            if status == 401:
                # A rotated token the stat check missed (same mtime and inode): read it again
                # and retry once before giving up.
                if self._token is not None and not reauthenticated:
                    reauthenticated = True
                    before = self.api_client.configuration.api_key.get("BearerToken")
                    if self._token.current(force=True) != before:
                        continue
                raise self._auth_error(message, reason, what)
            if what:
                if status == 409:
                    cls = errors.AlreadyExists if reason == "AlreadyExists" else errors.Conflict
                    raise cls(what, message, code=status, reason=reason, retryable=True)
                raise errors.ApplyError(what, message, code=status, reason=reason, retryable=retryable)
            raise errors.ClusterError(
                message, code=status, reason=reason, retryable=retryable or status == 409
            )

    def _auth_error(self, message: str, reason: str, what: str = "") -> errors.ClusterAuthError:
        """A 401: names the server and where the credentials came from, never the token (the
        server's message is a fixed text such as ``Unauthorized``)."""
        prefix = f"{what}: " if what else ""
        return errors.ClusterAuthError(
            f"{prefix}the Kubernetes API at {self.host} refused the credentials from "
            f"{self.credentials} (401 {reason or 'Unauthorized'}: {message})",
            code=401,
            reason=reason or "Unauthorized",
        )

    def _observe(self, verb: str, status: int) -> None:
        observer = self.observer
        if observer is not None:
            try:
                observer(verb, status)
            except Exception:  # metrics must never fail a request
                log.exception("the cluster request observer failed")

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
            body = self.request("GET", res.path(namespace), query=query, verb="list").body
            for item in body.get("items", []):
                item.setdefault("apiVersion", res.api_version)
                item.setdefault("kind", res.kind)
            yield body
            token = (body.get("metadata") or {}).get("continue")
            if not token:
                return
            query = {**query, "continue": token}

    def get(
        self, key: ResourceKey, *, timeout: float | None = None, retries: int | None = None
    ) -> dict[str, Any] | None:
        """One object, or None when there is none. ``timeout``/``retries`` as in :meth:`request`."""
        res = self._resource(key)
        resp = self.request(
            "GET",
            res.path(key.namespace, key.name),
            ok=(200, 404),
            what=str(key),
            timeout=timeout,
            retries=retries,
        )
        return resp.body if resp.status == 200 else None

    def create(
        self, body: Mapping[str, Any], *, timeout: float | None = None, retries: int | None = None
    ) -> dict[str, Any]:
        """POST a new object; returns what the server stored. A name already taken raises
        :class:`~gitops.errors.AlreadyExists`. ``timeout``/``retries`` as in :meth:`request`
        (a connection lost after the server committed makes a retry meet AlreadyExists)."""
        key = ResourceKey.of(body)
        res = self._resource(key)
        resp = self.request(
            "POST", res.path(key.namespace), body=dict(body), what=str(key), timeout=timeout, retries=retries
        )
        result: dict[str, Any] = resp.body
        return result

    def replace(
        self, body: Mapping[str, Any], *, timeout: float | None = None, retries: int | None = None
    ) -> dict[str, Any]:
        """PUT a whole object, conditional on the ``metadata.resourceVersion`` it carries (from
        the read it is based on); returns what the server stored. A write since that read
        raises :class:`~gitops.errors.Conflict`; a missing object an ApplyError with code 404.
        An unconditional replace would overwrite whatever someone else wrote, so a body
        without resourceVersion is a programming error (ValueError)."""
        key = ResourceKey.of(body)
        if not (body.get("metadata") or {}).get("resourceVersion"):
            raise ValueError(f"{key}: replace needs metadata.resourceVersion from the object it is based on")
        res = self._resource(key)
        resp = self.request(
            "PUT",
            res.path(key.namespace, key.name),
            body=dict(body),
            ok=(200, 201),
            what=str(key),
            timeout=timeout,
            retries=retries,
        )
        result: dict[str, Any] = resp.body
        return result

    def patch(
        self,
        key: ResourceKey,
        patch: Mapping[str, Any],
        *,
        content_type: str = "application/strategic-merge-patch+json",
        timeout: float | None = None,
        retries: int | None = None,
    ) -> dict[str, Any] | None:
        """PATCH one object (a strategic merge patch by default); what the server stored, or
        None when the object does not exist. ``timeout``/``retries`` as in :meth:`request`."""
        res = self._resource(key)
        resp = self.request(
            "PATCH",
            res.path(key.namespace, key.name),
            body=dict(patch),
            content_type=content_type,
            ok=(200, 404),
            what=str(key),
            timeout=timeout,
            retries=retries,
        )
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
            header_params={"Accept": "application/json", "User-Agent": self.cluster.user_agent},
            auth_settings=["BearerToken"],
        )
        self.cluster.requests += 1
        try:
            response = api.rest_client.pool_manager.request(
                "GET",
                url,
                headers=headers,
                preload_content=False,
                timeout=urllib3.Timeout(connect=self.cluster.options.timeout, read=seconds + 30),
            )
        except (urllib3.exceptions.HTTPError, OSError):
            self.cluster._observe("watch", 0)
            raise
        self.cluster._observe("watch", response.status)
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
                if response.status == 401:
                    raise self.cluster._auth_error(message, reason)
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
