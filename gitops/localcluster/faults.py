"""Fault injection: make the local cluster misbehave the way real API servers do.

Rules are installed at start (``LocalCluster(faults=...)``, ``gitops local-cluster serve --faults
FILE``), from Python (``cluster.faults.add(...)``) or over HTTP (``/debug/faults``). Each request
is checked against the rules in order; a rule that fires delays it, fails it with a ``Status``
error, drops its connection or ends its watch early. Every injected fault is counted by rule and
by effect, and the request's :class:`~gitops.localcluster.server.RequestRecord` carries it in
``fault`` (``""`` for a clean request), so a test can tell what the client lived through.

Rule format (JSON or YAML; a file holds ``{"seed": 0, "rules": [...]}`` or just the list)::

    - id: flaky-patches          # optional; "rule-N" when omitted. Counters are kept by id.
      # --- which requests (all given conditions must hold)
      verbs: [patch, update]     # get list watch create update patch delete deletecollection, or "*" (default)
      resources: [deployments.apps, configmaps, "*/status"]
                                 # plural[.group][/subresource]; "*" = any resource (the default).
                                 # "deployments" matches the plural in any group; without
                                 # "/sub" a resource matches its subresources too.
                                 # ""  = the non-resource API endpoints (/version, /api, /apis,
                                 # discovery, /openapi); never matched by "*".
      paths: [/version]          # URL path prefixes (any request); a rule with paths and no
                                 # resources matches only those paths. /healthz, /livez and
                                 # /readyz are matched only by paths; /debug/* is never faulted.
      namespace: shop            # glob (fnmatch); "" = cluster-scoped requests only
      name: web-*                # glob on the object's name (for create: metadata.name of the body)
      userAgent: kubectl         # prefix of the User-Agent header
      # --- how often
      rate: 0.5                  # probability per matching request (default 1)
      count: 3                   # inject at most N times, then the rule is spent
      skip: 2                    # let the first N matching requests through untouched
      window: [5, 15]            # active from 5 s to 15 s after the rule was installed
                                 # (rules given at start: after the server started); [5, null] = open
      seed: 7                    # this rule's random stream (default: derived from the
                                 # injector's seed and the rule id)
      # --- what happens (delay may accompany one of error / drop / watchClose)
      delay: 0.5                 # seconds, or [0.1, 0.5] for a uniform range; asyncio.sleep, so
                                 # the server keeps serving other requests meanwhile
      error: 503                 # or a reason ("ServiceUnavailable") or a mapping:
                                 #   {code: 429, retryAfterSeconds: 2, message: "...", reason: "...",
                                 #    plain: false}
      drop: reset                # reset | close | truncate
      phase: before              # before (default): the request is never processed;
                                 # after: it is processed (a write commits), then the client
                                 # gets the error or the dropped connection instead
      watchClose: {events: 3, seconds: 2.5, clean: true}
                                 # watch requests only: end the stream after N events (every
                                 # line counts, bookmarks included) or T seconds, whichever first

Errors are the ``Status`` objects kube-apiserver 1.32 sends (``apimachinery/pkg/api/errors``):

=====  ======================  ================================================================
code   reason                  default message / details
=====  ======================  ================================================================
500    ``InternalError``       ``Internal error occurred: etcdserver: leader changed``;
                               ``details.causes[{message}]`` (``NewInternalError``)
503    ``ServiceUnavailable``  ``the server is currently unable to handle the request``
429    ``TooManyRequests``     ``Too many requests, please try again later.``;
                               ``details.retryAfterSeconds`` (default 1) and a ``Retry-After``
                               header (``NewTooManyRequests`` + ``ErrorNegotiated``)
409    ``Conflict``            ``Operation cannot be fulfilled on deployments.apps "web": the
                               object has been modified; please apply your changes to the
                               latest version and try again``; ``details{name, group, kind}``
504    ``Timeout``             ``Timeout: request did not complete within requested timeout -
                               context deadline exceeded`` (the timeout filter); ``details: {}``
=====  ======================  ================================================================

``message`` replaces the whole Status message; ``retryAfterSeconds`` > 0 adds
``details.retryAfterSeconds`` and ``Retry-After`` on any code (0 sends neither). ``plain: true``
answers ``text/plain`` instead of a Status, as the apiserver's filters do (the APF / max-in-flight
429 ``Too many requests, please try again later.``, the aggregator's 503).

Drops: ``reset`` closes the connection with a TCP RST and no response (Python:
``ConnectionResetError`` inside urllib3's ``ProtocolError``; Go: ``connection reset by peer``);
``close`` closes it cleanly with no response (``RemoteDisconnected``; Go: ``EOF``); ``truncate``
processes the request, sends the status line, headers and half the body, then closes
(``IncompleteRead``; a watch gets its headers and then a stream with no terminating chunk).
``watchClose`` with ``clean: true`` ends the chunked stream properly, as kube-apiserver does when
a watch times out; ``clean: false`` cuts the connection instead.

A total outage is a rule matching everything, e.g. ``{id: outage, resources: ["*", ""],
window: [0, 10], error: 503}`` (add ``paths: [/healthz, /livez, /readyz]`` to fail health checks
too, ``drop: reset`` for a dead endpoint); :meth:`FaultInjector.outage` builds one.

Evaluation: rules are checked in order; a rule whose only effect is a delay adds it and the
search goes on; the first rule with an error, drop or watchClose that fires decides the request
and later rules are not consulted. Randomness is ``random.Random`` per rule, seeded from the rule's
``seed`` or from the injector's seed (default 0) and the rule id, so a given sequence of requests
meets the same faults on every run. The simulated controllers call the API in-process and are
never faulted.

HTTP (never faulted, never logged): ``GET /debug/faults`` (rules and counters), ``PUT`` (replace
all rules; body as the file), ``POST`` (add a rule or a list), ``DELETE`` (remove all rules),
``DELETE /debug/faults/rules/<id>``, ``GET|DELETE /debug/faults/counts`` (read or zero counters).

This module is I/O at the edge (ASGI, sockets); deciding which fault a request meets is
:meth:`FaultInjector.decide`, a function of the request, the clock and the seeded streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import fnmatch
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote

import orjson
import yaml
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from gitops.localcluster import errors, params, server

VERBS = frozenset({"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "*"})
HEALTH_PATHS = ("/healthz", "/livez", "/readyz")
DEBUG_PREFIX = "/debug/"
_DISCONNECT_WAIT = 5.0  # seconds to wait for uvicorn to notice a connection we closed


class FaultConfigError(ValueError):
    """A rule or fault file that cannot be understood; the message names the rule and field."""


# --------------------------------------------------------------------------------- the rule model


class Drop(enum.Enum):
    """How a dropped request's connection ends (see the module docstring for what clients see)."""

    RESET = "reset"
    CLOSE = "close"
    TRUNCATE = "truncate"

    @property
    def label(self) -> str:
        return f"drop:{self.value}"


class Phase(enum.Enum):
    """Whether an error or drop replaces the processing of a request or only its response."""

    BEFORE = "before"
    AFTER = "after"


_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
_CODES_BY_REASON = {reason: code for code, reason in _REASONS.items()}
_INTERNAL_PREFIX = "Internal error occurred: "
_DEFAULT_MESSAGES = {
    500: _INTERNAL_PREFIX + "etcdserver: leader changed",
    503: "the server is currently unable to handle the request",
    429: "Too many requests, please try again later.",
    504: "Timeout: request did not complete within requested timeout - context deadline exceeded",
    # the rest as client-go words a bodiless answer (NewGenericServerResponse)
    400: "the server rejected our request for an unknown reason",
    401: "the server has asked for the client to provide credentials",
    404: "the server could not find the requested resource",
    405: "the server does not allow this method on the requested resource",
    422: "the server rejected our request due to an error in our request",
}


@dataclass(frozen=True)
class ErrorSpec:
    """An error answer. Empty ``message``/``reason`` and ``retry_after_seconds=None`` take the
    real apiserver's values for ``code`` (module docstring); ``plain`` answers text/plain."""

    code: int
    message: str = ""
    reason: str = ""
    retry_after_seconds: int | None = None
    plain: bool = False

    def __post_init__(self) -> None:
        if not 400 <= self.code <= 599:
            raise FaultConfigError(f"error code {self.code} is not a 4xx or 5xx HTTP status")
        if self.retry_after_seconds is not None and self.retry_after_seconds < 0:
            raise FaultConfigError("retryAfterSeconds must be >= 0")

    @property
    def label(self) -> str:
        return f"error:{self.code}"

    @property
    def retry_after(self) -> int:
        if self.retry_after_seconds is not None:
            return self.retry_after_seconds
        return 1 if self.code == 429 else 0

    def status_error(self, req: RequestInfo) -> errors.StatusError:
        """The ``Status`` error for ``req`` (409 names its object, as ``NewConflict`` does)."""
        code, retry = self.code, self.retry_after
        reason = self.reason or _REASONS.get(code, "")
        details: dict[str, Any] | None = None
        if code == 409 and req.resource_request:
            conflict = errors.conflict(req.resource, req.group, req.name, errors.STALE_RV)
            message, details = conflict.message, conflict.details
        else:
            message = _DEFAULT_MESSAGES.get(
                code, f"the server responded with the status code {code} but did not return more information"
            )
        message = self.message or message
        if code == 500:
            details = {"causes": [{"message": message.removeprefix(_INTERNAL_PREFIX)}]}
        elif code in (429, 504):
            details = {}  # Go sends the non-nil, otherwise empty StatusDetails
        headers: dict[str, str] = {}
        if retry > 0:
            details = {**(details or {}), "retryAfterSeconds": retry}
            headers["Retry-After"] = str(retry)
        return errors.StatusError(code, reason, message, details, headers)

    def response(self, req: RequestInfo) -> Response:
        err = self.status_error(req)
        if not self.plain:
            return _status(err)
        # http.Error: text/plain, nosniff, the message and a newline
        headers = {**err.headers, "X-Content-Type-Options": "nosniff"}
        return Response(
            (err.message + "\n").encode(),
            status_code=err.code,
            media_type="text/plain; charset=utf-8",
            headers=headers,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code}
        if self.message:
            out["message"] = self.message
        if self.reason:
            out["reason"] = self.reason
        if self.retry_after_seconds is not None:
            out["retryAfterSeconds"] = self.retry_after_seconds
        if self.plain:
            out["plain"] = True
        return out


@dataclass(frozen=True)
class WatchClose:
    """End a watch after ``events`` lines or ``seconds``, whichever comes first; ``clean=False``
    cuts the connection instead of ending the chunked stream."""

    events: int | None = None
    seconds: float | None = None
    clean: bool = True

    def __post_init__(self) -> None:
        if self.events is None and self.seconds is None:
            raise FaultConfigError("watchClose needs events or seconds")
        if (self.events is not None and self.events < 0) or (self.seconds is not None and self.seconds < 0):
            raise FaultConfigError("watchClose events and seconds must be >= 0")

    @property
    def label(self) -> str:
        return "watch-close" if self.clean else "watch-cut"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"clean": self.clean}
        if self.events is not None:
            out["events"] = self.events
        if self.seconds is not None:
            out["seconds"] = self.seconds
        return out


@dataclass(frozen=True)
class Rule:
    """One fault rule (the module docstring is its reference; Python names are snake_case).

    ``resources=None`` means ``("*",)`` unless ``paths`` are given, then ``()``.
    """

    id: str = ""
    verbs: tuple[str, ...] = ("*",)
    resources: tuple[str, ...] | None = None
    paths: tuple[str, ...] = ()
    namespace: str | None = None
    name: str | None = None
    user_agent: str = ""
    rate: float = 1.0
    count: int | None = None
    skip: int = 0
    window: tuple[float, float | None] | None = None
    seed: int | None = None
    delay: tuple[float, float] = (0.0, 0.0)
    error: ErrorSpec | None = None
    drop: Drop | None = None
    phase: Phase = Phase.BEFORE
    watch_close: WatchClose | None = None

    def __post_init__(self) -> None:
        where = f"rule {self.id!r}" if self.id else "rule"
        bad = [v for v in self.verbs if v not in VERBS]
        if bad:
            raise FaultConfigError(f"{where}: unknown verb {bad[0]!r} (one of {', '.join(sorted(VERBS))})")
        if not 0.0 <= self.rate <= 1.0:
            raise FaultConfigError(f"{where}: rate must be between 0 and 1")
        if (self.count is not None and self.count < 0) or self.skip < 0:
            raise FaultConfigError(f"{where}: count and skip must be >= 0")
        lo, hi = self.delay
        if lo < 0 or hi < lo:
            raise FaultConfigError(f"{where}: delay must be >= 0 and a range must be [low, high]")
        if self.window is not None and self.window[1] is not None and self.window[1] < self.window[0]:
            raise FaultConfigError(f"{where}: window ends before it starts")
        terminal = [e for e in (self.error, self.drop, self.watch_close) if e is not None]
        if len(terminal) > 1:
            raise FaultConfigError(f"{where}: give at most one of error, drop, watchClose")
        if not terminal and hi == 0:
            raise FaultConfigError(f"{where}: no effect (give delay, error, drop or watchClose)")
        if self.watch_close is not None and not {"watch", "*"} & set(self.verbs):
            raise FaultConfigError(f"{where}: watchClose applies to the watch verb only")
        if any(not p.startswith("/") for p in self.paths):
            raise FaultConfigError(f"{where}: paths must start with /")

    @property
    def targets(self) -> tuple[str, ...]:
        if self.resources is not None:
            return self.resources
        return () if self.paths else ("*",)

    @property
    def terminal(self) -> bool:
        return self.error is not None or self.drop is not None or self.watch_close is not None

    def matches(self, req: RequestInfo) -> bool:
        """Whether ``req`` is one this rule is about (rate, count and window aside)."""
        if "*" not in self.verbs and req.verb not in self.verbs:
            return False
        if self.watch_close is not None and req.verb != "watch":
            return False
        hit = any(req.path.startswith(p) for p in self.paths) or any(
            _target_matches(t, req) for t in self.targets
        )
        if not hit:
            return False
        if self.namespace is not None and not fnmatch.fnmatchcase(req.namespace, self.namespace):
            return False
        if self.name is not None and not fnmatch.fnmatchcase(req.name, self.name):
            return False
        return req.user_agent.startswith(self.user_agent)

    @classmethod
    def from_obj(cls, obj: Any) -> Rule:
        """A rule from its JSON/YAML form (camelCase; snake_case and singular keys also work)."""
        if not isinstance(obj, Mapping):
            raise FaultConfigError(f"a rule must be a mapping, not {type(obj).__name__}")
        raw = {_KEY_ALIASES.get(str(k), str(k)): v for k, v in obj.items()}
        unknown = set(raw) - _RULE_KEYS
        where = f"rule {raw.get('id')!r}" if raw.get("id") else "rule"
        if unknown:
            raise FaultConfigError(f"{where}: unknown field {sorted(unknown)[0]!r}")
        try:
            kwargs: dict[str, Any] = {}
            if "id" in raw:
                kwargs["id"] = str(raw["id"])
            for key in ("verbs", "resources", "paths"):
                if key in raw and raw[key] is not None:
                    kwargs[key] = _strings(raw[key])
            for key in ("namespace", "name"):
                if raw.get(key) is not None:
                    kwargs[key] = str(raw[key])
            if raw.get("user_agent") is not None:
                kwargs["user_agent"] = str(raw["user_agent"])
            if raw.get("rate") is not None:
                kwargs["rate"] = float(raw["rate"])
            if raw.get("count") is not None:
                kwargs["count"] = int(raw["count"])
            if raw.get("skip") is not None:
                kwargs["skip"] = int(raw["skip"])
            if raw.get("seed") is not None:
                kwargs["seed"] = int(raw["seed"])
            if raw.get("window") is not None:
                kwargs["window"] = _window(raw["window"])
            if raw.get("delay") is not None:
                kwargs["delay"] = _delay(raw["delay"])
            if raw.get("error") is not None:
                kwargs["error"] = _error(raw["error"])
            if raw.get("drop") is not None:
                kwargs["drop"] = raw["drop"] if isinstance(raw["drop"], Drop) else Drop(str(raw["drop"]))
            if raw.get("phase") is not None:
                kwargs["phase"] = (
                    raw["phase"] if isinstance(raw["phase"], Phase) else Phase(str(raw["phase"]))
                )
            if raw.get("watch_close") is not None:
                kwargs["watch_close"] = _watch_close(raw["watch_close"])
        except FaultConfigError as exc:
            raise FaultConfigError(f"{where}: {exc}") from exc
        except (TypeError, ValueError) as exc:
            raise FaultConfigError(f"{where}: {exc}") from exc
        return cls(**kwargs)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "verbs": list(self.verbs), "resources": list(self.targets)}
        if self.paths:
            out["paths"] = list(self.paths)
        for key, value in (("namespace", self.namespace), ("name", self.name)):
            if value is not None:
                out[key] = value
        if self.user_agent:
            out["userAgent"] = self.user_agent
        out["rate"] = self.rate
        if self.count is not None:
            out["count"] = self.count
        if self.skip:
            out["skip"] = self.skip
        if self.window is not None:
            out["window"] = list(self.window)
        if self.seed is not None:
            out["seed"] = self.seed
        if self.delay != (0.0, 0.0):
            out["delay"] = self.delay[0] if self.delay[0] == self.delay[1] else list(self.delay)
        if self.error is not None:
            out["error"] = self.error.to_json()
        if self.drop is not None:
            out["drop"] = self.drop.value
        if self.phase is not Phase.BEFORE:
            out["phase"] = self.phase.value
        if self.watch_close is not None:
            out["watchClose"] = self.watch_close.to_json()
        return out


_RULE_KEYS = {
    "id",
    "verbs",
    "resources",
    "paths",
    "namespace",
    "name",
    "user_agent",
    "rate",
    "count",
    "skip",
    "window",
    "seed",
    "delay",
    "error",
    "drop",
    "phase",
    "watch_close",
}
_KEY_ALIASES = {
    "verb": "verbs",
    "resource": "resources",
    "path": "paths",
    "userAgent": "user_agent",
    "watchClose": "watch_close",
}


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable):
        return tuple(str(v) for v in value)
    raise FaultConfigError(f"expected a string or a list of strings, not {value!r}")


def _window(value: Any) -> tuple[float, float | None]:
    if isinstance(value, Mapping):
        start, end = value.get("start", 0), value.get("end")
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        start, end = value
    else:
        raise FaultConfigError(f"window must be [start, end] seconds, not {value!r}")
    return float(start or 0), None if end is None else float(end)


def _delay(value: Any) -> tuple[float, float]:
    if isinstance(value, int | float):
        return float(value), float(value)
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        return float(value[0]), float(value[1])
    raise FaultConfigError(f"delay must be seconds or [low, high], not {value!r}")


def _error(value: Any) -> ErrorSpec:
    if isinstance(value, ErrorSpec):
        return value
    if isinstance(value, bool):
        raise FaultConfigError(f"error must be a code, a reason or a mapping, not {value!r}")
    if isinstance(value, int):
        return ErrorSpec(value)
    if isinstance(value, str):
        if value.isdigit():
            return ErrorSpec(int(value))
        if value in _CODES_BY_REASON:
            return ErrorSpec(_CODES_BY_REASON[value])
        raise FaultConfigError(f"unknown error {value!r} (a code or one of {', '.join(_CODES_BY_REASON)})")
    if isinstance(value, Mapping):
        keys = {_ERROR_ALIASES.get(str(k), str(k)): v for k, v in value.items()}
        unknown = set(keys) - {"code", "message", "reason", "retry_after_seconds", "plain"}
        if unknown:
            raise FaultConfigError(f"unknown error field {sorted(unknown)[0]!r}")
        if "code" not in keys:
            if keys.get("reason") not in _CODES_BY_REASON:
                raise FaultConfigError("error needs a code")
            keys["code"] = _CODES_BY_REASON[keys["reason"]]
        retry = keys.get("retry_after_seconds")
        return ErrorSpec(
            code=int(keys["code"]),
            message=str(keys.get("message") or ""),
            reason=str(keys.get("reason") or ""),
            retry_after_seconds=None if retry is None else int(retry),
            plain=bool(keys.get("plain", False)),
        )
    raise FaultConfigError(f"error must be a code, a reason or a mapping, not {value!r}")


_ERROR_ALIASES = {"retryAfterSeconds": "retry_after_seconds", "retryAfter": "retry_after_seconds"}


def _watch_close(value: Any) -> WatchClose:
    if isinstance(value, WatchClose):
        return value
    if not isinstance(value, Mapping):
        raise FaultConfigError(f"watchClose must be a mapping like {{events: 3}}, not {value!r}")
    unknown = set(value) - {"events", "seconds", "clean"}
    if unknown:
        raise FaultConfigError(f"unknown watchClose field {sorted(unknown)[0]!r}")
    events, seconds = value.get("events"), value.get("seconds")
    return WatchClose(
        events=None if events is None else int(events),
        seconds=None if seconds is None else float(seconds),
        clean=bool(value.get("clean", True)),
    )


def _target_matches(target: str, req: RequestInfo) -> bool:
    if not req.resource_request:
        return target == "" and not req.path.startswith(HEALTH_PATHS)
    if target == "":
        return False
    resource, _, sub = target.partition("/")
    if resource != "*":
        plural, dot, group = resource.partition(".")
        if plural != req.resource or (dot and group != req.group):
            return False
    if sub:
        return req.subresource != "" if sub == "*" else sub == req.subresource
    return True


@dataclass(frozen=True)
class FaultConfig:
    """The rules a cluster starts with, and the seed of their random streams."""

    rules: tuple[Rule, ...] = ()
    seed: int = 0

    @classmethod
    def from_obj(cls, obj: Any) -> FaultConfig:
        """From the file's form: a list of rules, or ``{"seed": N, "rules": [...]}``."""
        if obj is None:
            return cls()
        if isinstance(obj, Mapping):
            unknown = set(obj) - {"seed", "rules"}
            if unknown:
                raise FaultConfigError(f"unknown fault config field {sorted(unknown)[0]!r}")
            rules, seed = obj.get("rules") or [], int(obj.get("seed") or 0)
        else:
            rules, seed = obj, 0
        if isinstance(rules, str | bytes) or not isinstance(rules, Sequence):
            raise FaultConfigError("fault rules must be a list")
        return cls(tuple(r if isinstance(r, Rule) else Rule.from_obj(r) for r in rules), seed)


def load_config(path: str | Path) -> FaultConfig:
    """Read a fault file (JSON or YAML)."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise FaultConfigError(f"{path}: {exc.strerror or exc}") from exc
    try:
        return FaultConfig.from_obj(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise FaultConfigError(f"{path}: not JSON or YAML: {exc}") from exc
    except FaultConfigError as exc:
        raise FaultConfigError(f"{path}: {exc}") from exc


# ------------------------------------------------------------------------------------ decisions


@dataclass(frozen=True)
class RequestInfo:
    """What rules match on, taken from the request as the apiserver's RequestInfoFactory does.

    Non-resource requests have ``resource_request=False``, ``resource=""`` and the lowercase HTTP
    method as verb. ``name`` is the body's ``metadata.name`` for a create; ``route_name`` is the
    URL's (what the request log records)."""

    verb: str
    path: str
    user_agent: str = ""
    resource_request: bool = False
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    route_name: str = ""
    dry_run: bool = False


@dataclass(frozen=True)
class Decision:
    """The faults one request meets."""

    rules: tuple[str, ...]
    delay: float = 0.0
    error: ErrorSpec | None = None
    drop: Drop | None = None
    phase: Phase = Phase.BEFORE
    watch_close: WatchClose | None = None

    @property
    def effects(self) -> tuple[str, ...]:
        out = ["delay"] if self.delay > 0 else []
        for effect in (self.error, self.drop, self.watch_close):
            if effect is not None:
                out.append(effect.label)
        return tuple(out)

    @property
    def label(self) -> str:
        """The request log's ``fault`` field: the effects joined by commas."""
        return ",".join(self.effects)

    @property
    def seen_code(self) -> int | None:
        """The HTTP status the client gets, when it differs from the server's own answer
        (0: no answer at all); None when the server's answer goes out (maybe cut short)."""
        if self.error is not None:
            return self.error.code
        if self.drop in (Drop.RESET, Drop.CLOSE):
            return 0
        return None


@dataclass(frozen=True)
class FaultCounts:
    """Injected faults: requests touched, per rule id, per effect label; and how many requests
    each rule matched (before rate, skip and count). Counts survive the removal of their rule."""

    requests: int
    by_rule: Mapping[str, int]
    by_effect: Mapping[str, int]
    matched: Mapping[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "byRule": dict(self.by_rule),
            "byEffect": dict(self.by_effect),
            "matched": dict(self.matched),
        }


@dataclass
class _Installed:
    rule: Rule
    rng: random.Random
    since: float
    matched: int = 0
    injected: int = 0


@dataclass
class _Counters:
    requests: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    by_effect: Counter[str] = field(default_factory=Counter)
    matched: Counter[str] = field(default_factory=Counter)


class FaultInjector:
    """The installed rules and their counters. Thread-safe: tests change rules from their own
    thread while the server's event loop consults them."""

    def __init__(
        self, rules: Iterable[Rule] = (), *, seed: int = 0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._seed = seed
        self._rules: list[_Installed] = []
        self._counters = _Counters()
        self._serial = 0
        for rule in rules:
            self.add(rule)

    @classmethod
    def from_config(cls, config: FaultConfig | Sequence[Rule | Mapping[str, Any]] | None) -> FaultInjector:
        if config is None:
            return cls()
        if not isinstance(config, FaultConfig):
            config = FaultConfig.from_obj(list(config))
        return cls(config.rules, seed=config.seed)

    @property
    def active(self) -> bool:
        return bool(self._rules)

    @property
    def seed(self) -> int:
        return self._seed

    # ------------------------------------------------------------------------------ editing

    def add(self, rule: Rule | Mapping[str, Any] | None = None, /, **fields: Any) -> Rule:
        """Install a rule at the end; give a :class:`Rule`, its JSON form, or its fields as
        keywords (``add(verbs=["patch"], resources=["deployments.apps"], error=503, count=2)``).
        Returns the rule as installed (with its id)."""
        if rule is None:
            rule = Rule.from_obj(fields)
        elif fields:
            raise TypeError("give a rule or its fields, not both")
        elif not isinstance(rule, Rule):
            rule = Rule.from_obj(rule)
        with self._lock:
            return self._install(rule)

    def add_all(self, rules: Iterable[Rule | Mapping[str, Any]]) -> list[Rule]:
        parsed = [r if isinstance(r, Rule) else Rule.from_obj(r) for r in rules]
        with self._lock:
            ids = {i.rule.id for i in self._rules}
            for r in parsed:
                if r.id and r.id in ids:
                    raise FaultConfigError(f"rule {r.id!r} already exists")
                ids.add(r.id)
            return [self._install(r) for r in parsed]

    def replace(self, config: FaultConfig | Sequence[Rule | Mapping[str, Any]]) -> list[Rule]:
        """Remove every rule and install these (a :class:`FaultConfig` also sets the seed)."""
        if not isinstance(config, FaultConfig):
            config = FaultConfig.from_obj(list(config))
        new = FaultInjector(config.rules, seed=config.seed)  # validates ids before touching self
        with self._lock:
            self._seed = config.seed
            self._rules = []
            return [self._install(i.rule) for i in new._rules]

    def remove(self, rule_id: str) -> None:
        with self._lock:
            kept = [i for i in self._rules if i.rule.id != rule_id]
            if len(kept) == len(self._rules):
                raise KeyError(rule_id)
            self._rules = kept

    def clear(self) -> None:
        """Remove every rule (counters stay readable; :meth:`reset_counts` zeroes them)."""
        with self._lock:
            self._rules = []

    def reset_counts(self) -> None:
        with self._lock:
            self._counters = _Counters()
            for installed in self._rules:
                installed.matched = installed.injected = 0

    def rearm(self) -> None:
        """Restart every rule's window clock (the cluster calls this when it starts serving)."""
        with self._lock:
            now = self._clock()
            for installed in self._rules:
                installed.since = now

    def outage(
        self,
        seconds: float | None = None,
        *,
        start: float = 0.0,
        drop: bool = False,
        health: bool = False,
        rule_id: str = "outage",
    ) -> Rule:
        """Make the whole API unavailable from ``start`` to ``start + seconds`` (None: until the
        rule is removed): every resource and non-resource request gets a 503, or a connection
        reset with ``drop=True``; ``/healthz``, ``/livez`` and ``/readyz`` too with ``health``."""
        return self.add(
            Rule(
                id=rule_id,
                resources=("*", ""),
                paths=HEALTH_PATHS if health else (),
                window=(start, None if seconds is None else start + seconds),
                error=None if drop else ErrorSpec(503),
                drop=Drop.RESET if drop else None,
            )
        )

    def _install(self, rule: Rule) -> Rule:
        if not rule.id:
            ids = {i.rule.id for i in self._rules}
            while True:
                self._serial += 1
                candidate = f"rule-{self._serial}"
                if candidate not in ids:
                    break
            rule = dataclasses.replace(rule, id=candidate)
        elif any(i.rule.id == rule.id for i in self._rules):
            raise FaultConfigError(f"rule {rule.id!r} already exists")
        seed: int | str = rule.seed if rule.seed is not None else f"{self._seed}/{rule.id}"
        self._rules.append(_Installed(rule, random.Random(seed), self._clock()))
        return rule

    # ------------------------------------------------------------------------------ reading

    def rules(self) -> list[Rule]:
        with self._lock:
            return [i.rule for i in self._rules]

    def counts(self) -> FaultCounts:
        with self._lock:
            c = self._counters
            return FaultCounts(c.requests, dict(c.by_rule), dict(c.by_effect), dict(c.matched))

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            rules = [
                {
                    **i.rule.to_json(),
                    "status": {
                        "matched": i.matched,
                        "injected": i.injected,
                        "spent": i.rule.count is not None and i.injected >= i.rule.count,
                        "age": round(now - i.since, 3),
                    },
                }
                for i in self._rules
            ]
        return {"seed": self._seed, "rules": rules, "counts": self.counts().to_json()}

    # ----------------------------------------------------------------------------- deciding

    def decide(self, req: RequestInfo) -> Decision | None:
        """The faults ``req`` meets, counted; None for a clean request (module docstring)."""
        with self._lock:
            now = self._clock()
            fired: list[Rule] = []
            delay = 0.0
            terminal: Rule | None = None
            for installed in self._rules:
                rule = installed.rule
                if terminal is not None and rule.terminal:
                    continue
                if not rule.matches(req):
                    continue
                if rule.window is not None:
                    age = now - installed.since
                    start, end = rule.window
                    if age < start or (end is not None and age >= end):
                        continue
                installed.matched += 1
                self._counters.matched[rule.id] += 1
                if installed.matched <= rule.skip:
                    continue
                if rule.count is not None and installed.injected >= rule.count:
                    continue
                if rule.rate < 1.0 and installed.rng.random() >= rule.rate:
                    continue
                installed.injected += 1
                fired.append(rule)
                lo, hi = rule.delay
                delay += lo if lo == hi else installed.rng.uniform(lo, hi)
                if rule.terminal:
                    terminal = rule
            if not fired:
                return None
            decision = Decision(
                rules=tuple(r.id for r in fired),
                delay=delay,
                error=terminal.error if terminal else None,
                drop=terminal.drop if terminal else None,
                phase=terminal.phase if terminal else Phase.BEFORE,
                watch_close=terminal.watch_close if terminal else None,
            )
            self._counters.requests += 1
            for rule in fired:
                self._counters.by_rule[rule.id] += 1
            for effect in decision.effects:
                self._counters.by_effect[effect] += 1
            return decision


# ------------------------------------------------------------------------------------ the ASGI edge


def request_info(scope: Scope, body: bytes | None = None) -> RequestInfo:
    """Classify a request as the server does (``server.parse_resource_path``); ``body`` of a
    create supplies the object name."""
    path: str = scope["path"]
    method: str = scope["method"]
    headers = dict(scope.get("headers") or [])
    user_agent = headers.get(b"user-agent", b"").decode("latin-1")
    route = server.parse_resource_path([p for p in path.split("/") if p])
    if route is None:
        return RequestInfo(verb=method.lower(), path=path, user_agent=user_agent)
    query = {
        k: v[-1]
        for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True).items()
    }
    if method == "GET":
        verb = "get" if route.name else ("watch" if params.query_bool(query.get("watch")) else "list")
    else:
        verb = {
            "POST": "create",
            "PUT": "update",
            "PATCH": "patch",
            "DELETE": "delete" if route.name else "deletecollection",
        }.get(method, method.lower())
    name = route.name
    if verb == "create" and not name and body:
        name = _body_name(body, headers.get(b"content-type", b"").decode("latin-1"))
    return RequestInfo(
        verb=verb,
        path=path,
        user_agent=user_agent,
        resource_request=True,
        group=route.group,
        resource=route.plural,
        subresource=route.subresource,
        namespace=route.namespace,
        name=name,
        route_name=route.name,
        dry_run=query.get("dryRun") == "All",
    )


def _body_name(body: bytes, content_type: str) -> str:
    obj: Any = None
    with contextlib.suppress(Exception):
        obj = orjson.loads(body) if "yaml" not in content_type else yaml.safe_load(body)
    if isinstance(obj, dict) and isinstance(obj.get("metadata"), dict):
        return str(obj["metadata"].get("name") or "")
    return ""


class _Transport(Protocol):
    def get_extra_info(self, name: str, default: Any = None) -> Any: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


def _transport(send: Send) -> _Transport | None:
    """The connection under uvicorn's ``send`` (a bound method of its request cycle). ASGI has
    no way to drop a connection, so this reaches under it."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    return transport if hasattr(transport, "abort") else None


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands out ``body`` once, then defers to the connection's."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _wait_disconnect(receive: Receive) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(_DISCONNECT_WAIT):
            while (await receive())["type"] != "http.disconnect":
                pass


async def _cut(send: Send, how: Drop, receive: Receive | None) -> None:
    """Close the connection under ``send`` without (finishing) a response. With ``receive``,
    wait until uvicorn has seen the connection go, so it neither logs nor answers a 500."""
    transport = _transport(send)
    if transport is None:  # not uvicorn's httptools/h11 cycle: end it the only portable way
        raise ConnectionAbortedError("fault injection dropped the connection")
    if how is Drop.RESET:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()  # flushes what was written, then FIN
    if receive is not None:
        await _wait_disconnect(receive)


async def _dispose(body: AsyncIterable[Any]) -> None:
    """Run a response stream's cleanup without sending it: a watch unsubscribes from the store in
    its generator's ``finally``, which runs only once the generator has started."""
    stream = aiter(body)
    task = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()


async def _shortened(body: AsyncIterable[Any], close: WatchClose, send: Send) -> AsyncIterator[Any]:
    """``stream`` ended after ``close.events`` lines or ``close.seconds``. A clean end lets the
    response finish its chunked body; an unclean one cuts the connection and waits for the
    response to notice the disconnect (it cancels us)."""
    stream = aiter(body)
    loop = asyncio.get_running_loop()
    deadline = None if close.seconds is None else loop.time() + close.seconds
    sent = 0
    try:
        if close.events == 0:
            await _dispose(stream)
        else:
            while close.events is None or sent < close.events:
                try:
                    if deadline is None:
                        chunk = await anext(stream)
                    else:
                        chunk = await asyncio.wait_for(anext(stream), max(0.0, deadline - loop.time()))
                except (StopAsyncIteration, TimeoutError):
                    break
                yield chunk
                sent += 1
        if not close.clean:
            await _cut(send, Drop.CLOSE, None)
            await asyncio.sleep(_DISCONNECT_WAIT)
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


class FaultMiddleware:
    """ASGI wrapper of :class:`~gitops.localcluster.server.ClusterApp` that injects the faults
    :class:`FaultInjector` decides and serves ``/debug/faults``. Clean requests pass straight
    through."""

    def __init__(self, app: server.ClusterApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == "/debug/faults" or path.startswith("/debug/faults/"):
            response = await self._debug(Request(scope, receive))
            await response(scope, receive, send)
            return
        if not self.injector.active or path.startswith(DEBUG_PREFIX):
            await self.app(scope, receive, send)
            return
        body: bytes | None = None
        if scope["method"] == "POST":  # a create's name is in its body
            body = await _read_body(receive)
            receive = _replay(body, receive)
        req = request_info(scope, body)
        decision = self.injector.decide(req)
        if decision is None:
            await self.app(scope, receive, send)
            return
        token = server.injected_fault.set((decision.label, decision.seen_code))
        try:
            await self._inject(decision, req, scope, receive, send)
        finally:
            server.injected_fault.reset(token)

    async def _inject(
        self, decision: Decision, req: RequestInfo, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if decision.delay > 0:
            await asyncio.sleep(decision.delay)
        if decision.phase is Phase.BEFORE and (
            decision.error is not None or decision.drop in (Drop.RESET, Drop.CLOSE)
        ):
            await _read_body(receive)  # let the client finish sending: it then sees the fault
            self._record(req, decision)
            if decision.error is not None:
                await decision.error.response(req)(scope, receive, send)
            else:
                assert decision.drop is not None
                await _cut(send, decision.drop, receive)
            return
        response = await self.app.handle(Request(scope, receive))  # the request log is written here
        stream = response.body_iterator if isinstance(response, StreamingResponse) else None
        if decision.error is not None or decision.drop in (Drop.RESET, Drop.CLOSE):  # phase after
            if stream is not None:
                await _dispose(stream)
            if decision.error is not None:
                await decision.error.response(req)(scope, receive, send)
            else:
                assert decision.drop is not None
                await _cut(send, decision.drop, receive)
            return
        if decision.drop is Drop.TRUNCATE:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": response.raw_headers,
                }
            )
            if stream is not None:
                await _dispose(stream)  # headers, then a chunked stream that never ends
            else:
                await send(
                    {
                        "type": "http.response.body",
                        "body": response.body[: len(response.body) // 2],
                        "more_body": True,
                    }
                )
            await _cut(send, Drop.CLOSE, receive)
            return
        if decision.watch_close is not None and isinstance(response, StreamingResponse):
            assert stream is not None
            response.body_iterator = _shortened(stream, decision.watch_close, send)
        await response(scope, receive, send)

    def _record(self, req: RequestInfo, decision: Decision) -> None:
        """Log a request the server never saw (its fault and code come from ``injected_fault``)."""
        self.app.requests.record(
            verb=req.verb,
            group=req.group,
            resource=req.resource,
            subresource=req.subresource,
            namespace=req.namespace,
            name=req.route_name,
            user_agent=req.user_agent,
            code=decision.seen_code or 0,
            dry_run=req.dry_run,
            path=req.path,
        )

    # ------------------------------------------------------------------------- /debug/faults

    async def _debug(self, request: Request) -> Response:
        parts = [p for p in request.url.path.split("/") if p][2:]
        method = request.method
        injector = self.injector
        try:
            if parts == [] and method == "GET":
                return _json(injector.to_json())
            if parts == [] and method == "PUT":
                injector.replace(FaultConfig.from_obj(await _load_body(request)))
                return _json(injector.to_json())
            if parts == [] and method == "POST":
                obj = await _load_body(request)
                added = injector.add_all(obj if isinstance(obj, list) else [obj])
                return _json({"rules": [r.to_json() for r in added]}, 201)
            if parts == [] and method == "DELETE":
                injector.clear()
                return _json(injector.to_json())
            if parts == ["counts"] and method == "GET":
                return _json(injector.counts().to_json())
            if parts == ["counts"] and method == "DELETE":
                injector.reset_counts()
                return _json(injector.counts().to_json())
            if len(parts) == 2 and parts[0] == "rules" and method == "DELETE":
                try:
                    injector.remove(unquote(parts[1]))
                except KeyError:
                    return _status(
                        errors.StatusError(404, "NotFound", f'fault rule "{parts[1]}" not found', {})
                    )
                return _json(injector.to_json())
        except FaultConfigError as exc:
            return _status(errors.bad_request(str(exc)))
        if parts in ([], ["counts"]) or (len(parts) == 2 and parts[0] == "rules"):
            return _status(
                errors.StatusError(
                    405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
                )
            )
        return _status(
            errors.StatusError(404, "NotFound", "the server could not find the requested resource", {})
        )


async def _load_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise FaultConfigError(f"the body is not JSON or YAML: {exc}") from exc


def _json(obj: Any, code: int = 200) -> Response:
    return Response(orjson.dumps(obj), status_code=code, media_type=server.JSON)


def _status(err: errors.StatusError) -> Response:
    """A Status error as the server writes it (Content-Type exactly application/json)."""
    return Response(
        orjson.dumps(err.body()), status_code=err.code, media_type=server.JSON, headers=err.headers
    )
