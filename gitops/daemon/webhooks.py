"""Push webhooks: who signed a delivery, what it pushed, and which repository it names (pure).

Nothing here does I/O: :mod:`gitops.daemon.api` reads the request and hands this module the
headers and the raw body. The flow for one delivery is::

    verify(provider, headers, body, secret)   -> raises Unauthorized, or returns
    delivery_id(provider, headers)            -> "" when the sender sends none
    parse(provider, headers, body)            -> Event (push / ping / ignored), or raises BadPayload

How each provider signs (checked on the raw bytes, always with :func:`hmac.compare_digest`):

=================  ==================================  ==============================================
endpoint           header                              value
=================  ==================================  ==============================================
github             X-Hub-Signature-256                 ``sha256=`` + hex HMAC-SHA256 of the body [1]
gitea, forgejo     X-Forgejo-Signature or              hex HMAC-SHA256 of the body, no prefix [2]
                   X-Gitea-Signature
gitlab             X-Gitlab-Token                      the secret itself, compared as a token [3]
bitbucket          X-Hub-Signature                     ``sha256=`` + hex HMAC-SHA256 of the body [4]
bitbucket-server   X-Hub-Signature                     ``sha256=`` + hex HMAC-SHA256 of the body [5]
generic            X-Gitops-Signature                  ``sha256=`` + hex HMAC-SHA256 of the body
=================  ==================================  ==============================================

[1] https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
[2] https://forgejo.org/docs/latest/user/webhooks/ (Forgejo sends X-Forgejo-* and X-Gitea-*
    headers with the same values, so a Forgejo can also be pointed at the gitea endpoint);
    https://docs.gitea.com/usage/webhooks
[3] https://docs.gitlab.com/user/project/integrations/webhooks/#create-a-webhook ("Secret token")
[4] https://bitbucket.org/blog/enhanced-webhook-security and
    https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/ (secrets added in 2023;
    a webhook without a secret sends no X-Hub-Signature at all)
[5] https://confluence.atlassian.com/bitbucketserver/event-payload-938025882.html#Eventpayload-HTTPheaders

Delivery ids (for :class:`DeliveryDedupe`): X-GitHub-Delivery, X-Forgejo-Delivery /
X-Gitea-Delivery, X-Gitlab-Event-UUID (or Idempotency-Key), X-Request-UUID (Bitbucket Cloud),
X-Request-Id (Bitbucket Server), X-Gitops-Delivery (generic).

The generic endpoint is what ``gitops notify`` and post-receive hooks speak: a JSON body
``{"repository": "<url or path>", "ref": "refs/heads/main", "after": "<sha>"}`` signed with
:func:`sign` in :data:`SIGNATURE_HEADER`, with an optional :data:`DELIVERY_HEADER`.

Errors::

    GitopsError
     +-- WebhookError         a delivery was refused; ``status`` is the HTTP answer
          +-- Unauthorized    no or a wrong signature/token (401); nothing may be triggered
          +-- BadPayload      the body is not the event its headers announce (400); the message
                              names the missing or malformed field
"""

from __future__ import annotations

import collections
import functools
import hashlib
import hmac
import json
import os
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from gitops.daemon.interface import Push
from gitops.errors import GitopsError

# --- the generic endpoint's wire format (shared with ``gitops notify``) --------------------------

SIGNATURE_HEADER = "X-Gitops-Signature"
"""Header carrying ``sha256=<hex HMAC-SHA256 of the raw body>`` on generic deliveries."""
DELIVERY_HEADER = "X-Gitops-Delivery"
"""Header carrying a unique id per delivery (optional; enables replay protection)."""
SIGNATURE_PREFIX = "sha256="
GENERIC_CONTENT_TYPE = "application/json"

_ZERO_SHA = re.compile(r"^0+$")
_MAX_DELIVERY_ID = 200  # longer ids are cut: they are only dedupe keys and log fields


def sign(body: bytes, secret: str) -> str:
    """The :data:`SIGNATURE_HEADER` value for ``body``: ``sha256=`` + hex HMAC-SHA256 keyed with
    ``secret`` (UTF-8). GitHub's X-Hub-Signature-256 and Bitbucket's X-Hub-Signature have the same
    form, so tests use this for them too."""
    return SIGNATURE_PREFIX + _hmac_hex(body, secret)


def _hmac_hex(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- errors and results -----------------------------------------------------------------------


class WebhookError(GitopsError):
    """A delivery was refused. ``status`` is the HTTP status to answer with; the message is safe
    to send back (it never contains the secret, the signature or the token)."""

    status = 400


class Unauthorized(WebhookError):
    """No signature, or one that does not match the body and the configured secret."""

    status = 401


class BadPayload(WebhookError):
    """The body is not a well-formed event of the kind its headers announce."""

    status = 400


class Outcome(Enum):
    """What became of a delivery; the ``outcome`` label of ``gitops_webhook_deliveries_total``."""

    ACCEPTED = "accepted"  # matched apps, syncs queued
    IGNORED = "ignored"  # ping, non-push event, branch deletion
    DUPLICATE = "duplicate"  # a delivery id seen before
    UNAUTHORIZED = "unauthorized"
    BAD_REQUEST = "bad_request"
    NO_MATCH = "no_match"  # a valid push no app tracks
    TOO_LARGE = "too_large"
    FORWARDED = "forwarded"  # a standby handed it to the leader (which counts its own outcome)
    NOT_LEADER = "not_leader"  # handed on to a replica that no longer leads: 503, its sender handles it


class EventKind(Enum):
    PUSH = "push"
    PING = "ping"  # the provider checks the endpoint: acknowledge, trigger nothing
    IGNORED = "ignored"  # an event that is not a push, or a push that only deletes refs


@dataclass(frozen=True)
class Event:
    """A parsed delivery. ``pushes`` is empty unless ``kind`` is PUSH (one entry per ref the
    delivery moved; Bitbucket sends several in one). ``reason`` says why it was ignored."""

    provider: str
    kind: EventKind
    pushes: tuple[Push, ...] = ()
    reason: str = ""


# --- signatures -------------------------------------------------------------------------------


class _Headers:
    """Case-insensitive header lookup over any mapping (Starlette's, a dict in tests)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._h = {k.lower(): v for k, v in headers.items()}

    def get(self, *names: str) -> str:
        """The first of ``names`` present (stripped), or ""."""
        for name in names:
            value = self._h.get(name.lower())
            if value is not None:
                return value.strip()
        return ""

    def has(self, name: str) -> bool:
        return name.lower() in self._h


def _check_prefixed_hmac(header: str, h: _Headers, body: bytes, secret: str) -> None:
    value = h.get(header)
    if not value:
        raise Unauthorized(f"unsigned delivery: the {header} header is missing")
    algo, sep, digest = value.partition("=")
    if not sep or algo.lower() != "sha256":
        raise Unauthorized(f"{header} must be 'sha256=<hex HMAC-SHA256 of the body>'")
    if not hmac.compare_digest(digest.strip().lower().encode(), _hmac_hex(body, secret).encode()):
        raise Unauthorized(f"{header} does not match the body signed with the configured secret")


def _check_gitea_hmac(h: _Headers, body: bytes, secret: str) -> None:
    # Forgejo sends both headers with the same value; when X-Forgejo-Signature is present it
    # is the one checked, so a bad one is not rescued by the other.
    header = "X-Forgejo-Signature" if h.has("X-Forgejo-Signature") else "X-Gitea-Signature"
    value = h.get(header)
    if not value:
        raise Unauthorized(f"unsigned delivery: the {header} header is missing")
    if not hmac.compare_digest(value.lower().encode(), _hmac_hex(body, secret).encode()):
        raise Unauthorized(f"{header} does not match the body signed with the configured secret")


def _check_gitlab_token(h: _Headers, body: bytes, secret: str) -> None:
    token = h.get("X-Gitlab-Token")
    if not token:
        raise Unauthorized("unsigned delivery: the X-Gitlab-Token header is missing")
    if not hmac.compare_digest(token.encode(), secret.encode()):
        raise Unauthorized("X-Gitlab-Token does not match the configured secret")


def verify(provider: str, headers: Mapping[str, str], body: bytes, secret: str) -> None:
    """Raise :class:`Unauthorized` unless ``body`` carries ``provider``'s valid signature (or,
    for GitLab, token) for ``secret``. Comparisons are constant-time; messages name the header,
    never its value."""
    _provider(provider).verify(_Headers(headers), body, secret)


def delivery_id(provider: str, headers: Mapping[str, str]) -> str:
    """The provider's id of this delivery, "" when it sends none."""
    return _Headers(headers).get(*_provider(provider).delivery_headers)[:_MAX_DELIVERY_ID]


# --- payloads ---------------------------------------------------------------------------------


def _decode(headers: _Headers, body: bytes) -> dict[str, Any]:
    """The JSON object in ``body``. GitHub, Gitea and Forgejo can also post a form with the JSON
    in its ``payload`` field (content type application/x-www-form-urlencoded)."""
    ctype = headers.get("Content-Type").split(";", 1)[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadPayload(f"the body is not UTF-8: {exc.reason} at byte {exc.start}") from exc
    if ctype == "application/x-www-form-urlencoded":
        form = urllib.parse.parse_qs(text)
        if "payload" not in form:
            raise BadPayload("a form-encoded delivery must carry the JSON event in its 'payload' field")
        text = form["payload"][0]
    if not text.strip():
        raise BadPayload("the body is empty; a JSON object was expected")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadPayload(
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    if not isinstance(doc, dict):
        raise BadPayload(f"the body must be a JSON object, not {type(doc).__name__}")
    return doc


def _at(doc: Any, path: str) -> Any:
    """``doc`` followed along a dotted path; None when any step is missing or not an object."""
    for part in path.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def _required_str(doc: Any, path: str) -> str:
    value = _at(doc, path)
    if not isinstance(value, str) or not value:
        what = "missing" if value is None else f"not a non-empty string ({type(value).__name__})"
        raise BadPayload(f"'{path}' is {what}")
    return value


def _optional_str(doc: Any, path: str) -> str:
    value = _at(doc, path)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadPayload(f"'{path}' must be a string, not {type(value).__name__}")
    return value


def _urls(doc: Any, paths: Sequence[str], extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Every non-empty string at ``paths`` (and ``extra``), once each, in order; BadPayload when
    there is none, since then no app can be matched."""
    values = [_at(doc, path) for path in paths]
    found = _usable_urls([*values, *extra])
    if not found:
        raise BadPayload(f"the payload names no usable repository URL (looked at {', '.join(paths)})")
    return found


def _usable_urls(values: Iterable[object]) -> tuple[str, ...]:
    """The strings among ``values`` that :func:`normalize_repo_url` accepts, once each, in
    order: one unparseable spelling must not fail the match of the others."""
    found: dict[str, None] = {}
    for value in values:
        if not isinstance(value, str) or not value.strip():
            continue
        try:
            normalize_repo_url(value)
        except ValueError:
            continue
        found.setdefault(value.strip(), None)
    return tuple(found)


def _deleted(after: str) -> bool:
    return bool(_ZERO_SHA.match(after))


def _push_event(provider: str, pushes: list[Push], deletions: int) -> Event:
    if pushes:
        return Event(provider, EventKind.PUSH, tuple(pushes))
    if deletions:
        return Event(provider, EventKind.IGNORED, reason="the push only deletes refs")
    return Event(provider, EventKind.IGNORED, reason="the push moves no ref")


def _parse_github_like(provider: str, doc: dict[str, Any], delivery: str, url_paths: Sequence[str]) -> Event:
    ref = _required_str(doc, "ref")
    after = _optional_str(doc, "after")
    urls = _urls(doc, url_paths)
    if doc.get("deleted") is True or _deleted(after):
        return _push_event(provider, [], 1)
    return _push_event(provider, [Push(provider, urls, ref, after, delivery)], 0)


_GITHUB_URLS = (
    "repository.clone_url",
    "repository.ssh_url",
    "repository.git_url",
    "repository.html_url",
    "repository.url",
)
_GITEA_URLS = ("repository.clone_url", "repository.ssh_url", "repository.html_url")
_GITLAB_URLS = (
    "project.git_http_url",
    "project.git_ssh_url",
    "project.http_url",
    "project.ssh_url",
    "project.web_url",
    "project.url",
    "repository.git_http_url",
    "repository.git_ssh_url",
    "repository.url",
    "repository.homepage",
)


def _parse_github(h: _Headers, body: bytes, delivery: str) -> Event:
    event = h.get("X-GitHub-Event")
    if not event:
        raise BadPayload("the X-GitHub-Event header is missing")
    if event == "ping":
        return Event("github", EventKind.PING, reason="ping")
    if event != "push":
        return Event("github", EventKind.IGNORED, reason=f"event {event!r} is not a push")
    return _parse_github_like("github", _decode(h, body), delivery, _GITHUB_URLS)


def _parse_gitea(provider: str, h: _Headers, body: bytes, delivery: str) -> Event:
    event = h.get("X-Forgejo-Event", "X-Gitea-Event", "X-Gogs-Event")
    if not event:
        raise BadPayload("the X-Gitea-Event (or X-Forgejo-Event) header is missing")
    if event != "push":
        return Event(provider, EventKind.IGNORED, reason=f"event {event!r} is not a push")
    return _parse_github_like(provider, _decode(h, body), delivery, _GITEA_URLS)


def _parse_gitlab(h: _Headers, body: bytes, delivery: str) -> Event:
    event = h.get("X-Gitlab-Event")
    if not event:
        raise BadPayload("the X-Gitlab-Event header is missing")
    if event not in ("Push Hook", "Tag Push Hook", "System Hook"):
        return Event("gitlab", EventKind.IGNORED, reason=f"event {event!r} is not a push")
    doc = _decode(h, body)
    kind = doc.get("object_kind") or doc.get("event_name")
    if kind not in ("push", "tag_push"):
        # a system hook announces many kinds of event under one header
        return Event("gitlab", EventKind.IGNORED, reason=f"event {kind!r} is not a push")
    return _parse_github_like("gitlab", doc, delivery, _GITLAB_URLS)


def _parse_bitbucket(h: _Headers, body: bytes, delivery: str) -> Event:
    event = h.get("X-Event-Key")
    if not event:
        raise BadPayload("the X-Event-Key header is missing")
    if event != "repo:push":
        return Event("bitbucket", EventKind.IGNORED, reason=f"event {event!r} is not a push")
    doc = _decode(h, body)
    html = _optional_str(doc, "repository.links.html.href")
    full_name = _optional_str(doc, "repository.full_name")
    extra = []
    if full_name:
        host = urllib.parse.urlsplit(html).netloc.rsplit("@", 1)[-1] if html else "bitbucket.org"
        extra = [f"https://{host}/{full_name}.git", f"git@{host}:{full_name}.git"]
    urls = _urls(doc, ("repository.links.html.href",), extra)
    changes = _at(doc, "push.changes")
    if not isinstance(changes, list):
        raise BadPayload("'push.changes' is missing or not a list")
    pushes: list[Push] = []
    deletions = 0
    for i, change in enumerate(changes):
        new = _at(change, "new")
        if new is None:  # the ref was deleted (closed)
            deletions += 1
            continue
        kind = _required_str(new, "type")
        name = _required_str(new, "name")
        after = _optional_str(new, "target.hash")
        if kind in ("branch", "named_branch"):
            ref = f"refs/heads/{name}"
        elif kind == "tag":
            ref = f"refs/tags/{name}"
        else:
            raise BadPayload(f"'push.changes[{i}].new.type' is {kind!r}, not branch or tag")
        pushes.append(Push("bitbucket", urls, ref, after, delivery))
    return _push_event("bitbucket", pushes, deletions)


def _parse_bitbucket_server(h: _Headers, body: bytes, delivery: str) -> Event:
    event = h.get("X-Event-Key")
    if not event:
        raise BadPayload("the X-Event-Key header is missing")
    if event == "diagnostics:ping":  # "Test connection" in the webhook settings
        return Event("bitbucket-server", EventKind.PING, reason="ping")
    if event != "repo:refs_changed":
        return Event("bitbucket-server", EventKind.IGNORED, reason=f"event {event!r} is not a push")
    doc = _decode(h, body)
    clone = _at(doc, "repository.links.clone")
    hrefs = [c.get("href") for c in clone if isinstance(c, dict)] if isinstance(clone, list) else []
    urls = _usable_urls(hrefs)
    if not urls:
        raise BadPayload("the payload names no repository URL ('repository.links.clone[].href')")
    changes = doc.get("changes")
    if not isinstance(changes, list):
        raise BadPayload("'changes' is missing or not a list")
    pushes: list[Push] = []
    deletions = 0
    for i, change in enumerate(changes):
        ref = _at(change, "refId") or _at(change, "ref.id")
        if not isinstance(ref, str) or not ref:
            raise BadPayload(f"'changes[{i}].refId' is missing")
        after = _optional_str(change, "toHash")
        if _at(change, "type") == "DELETE" or _deleted(after):
            deletions += 1
            continue
        pushes.append(Push("bitbucket-server", urls, ref, after, delivery))
    return _push_event("bitbucket-server", pushes, deletions)


def _parse_generic(h: _Headers, body: bytes, delivery: str) -> Event:
    doc = _decode(h, body)
    repository = _required_str(doc, "repository").strip()
    try:
        normalize_repo_url(repository)
    except ValueError as exc:
        raise BadPayload(f"'repository': {exc}") from exc
    ref = _required_str(doc, "ref")
    after = _optional_str(doc, "after")
    if _deleted(after):
        return _push_event("generic", [], 1)
    return _push_event("generic", [Push("generic", (repository,), ref, after, delivery)], 0)


def parse(provider: str, headers: Mapping[str, str], body: bytes) -> Event:
    """What a (verified) delivery to ``/webhooks/<provider>`` announces. Raises
    :class:`BadPayload` naming what is wrong when the body does not fit the announced event."""
    return _provider(provider).parse(_Headers(headers), body, delivery_id(provider, headers))


# --- the providers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Provider:
    """What one endpoint checks and reads: its signature, its delivery-id headers (first
    present wins) and its payload parser (headers, body, delivery id)."""

    verify: Callable[[_Headers, bytes, str], None]
    delivery_headers: tuple[str, ...]
    parse: Callable[[_Headers, bytes, str], Event]


_GITEA_DELIVERY = ("X-Forgejo-Delivery", "X-Gitea-Delivery")
_HUB_SIGNATURE = functools.partial(_check_prefixed_hmac, "X-Hub-Signature")  # both Bitbuckets

_PROVIDERS: dict[str, _Provider] = {
    "github": _Provider(
        functools.partial(_check_prefixed_hmac, "X-Hub-Signature-256"), ("X-GitHub-Delivery",), _parse_github
    ),
    # the event UUID is shared by every hook the event fires and kept on retries; the
    # Idempotency-Key (GitLab 17.4+) is kept on retries of one hook
    "gitlab": _Provider(_check_gitlab_token, ("X-Gitlab-Event-UUID", "Idempotency-Key"), _parse_gitlab),
    "gitea": _Provider(_check_gitea_hmac, _GITEA_DELIVERY, functools.partial(_parse_gitea, "gitea")),
    "forgejo": _Provider(_check_gitea_hmac, _GITEA_DELIVERY, functools.partial(_parse_gitea, "forgejo")),
    "bitbucket": _Provider(_HUB_SIGNATURE, ("X-Request-UUID",), _parse_bitbucket),
    "bitbucket-server": _Provider(_HUB_SIGNATURE, ("X-Request-Id",), _parse_bitbucket_server),
    "generic": _Provider(
        functools.partial(_check_prefixed_hmac, SIGNATURE_HEADER), (DELIVERY_HEADER,), _parse_generic
    ),
}

PROVIDERS: tuple[str, ...] = tuple(_PROVIDERS)
"""Every webhook endpoint, ``/webhooks/<provider>``."""


def _provider(name: str) -> _Provider:
    try:
        return _PROVIDERS[name]
    except KeyError:
        raise ValueError(f"unknown webhook provider {name!r}") from None


# --- matching ---------------------------------------------------------------------------------

_DEFAULT_PORTS = {"http": 80, "https": 443, "ssh": 22, "git+ssh": 22, "ssh+git": 22, "git": 9418}
# Hosts that treat owner and repository names case-insensitively; a webhook's canonical
# "Team/Deploy" must match an app configured as "team/deploy".
_CASE_INSENSITIVE_HOSTS = frozenset({"github.com", "gitlab.com", "bitbucket.org", "codeberg.org"})
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/]+)@)?(?P<host>\[[^\]/]+\]|[^:/\[\]@]+):(?P<path>(?!//).*)$")


def normalize_repo_url(url: str) -> str:
    """One canonical spelling per repository, for matching a push to the apps that track it.

    Remote URLs become ``host[:port]/path``: the scheme and any ``user:password@`` are dropped
    (https, http, ssh:// and scp-like ``git@host:org/repo`` name the same repository on a Git
    host), the host is lower-cased, default ports (80, 443, 22, 9418) are dropped, and a trailing
    slash and ``.git`` are removed. On hosts known to ignore case (github.com, gitlab.com,
    bitbucket.org, codeberg.org) the path is lower-cased too. A non-default port is kept: a
    host's SSH on 2222 and HTTPS on 443 spell different URLs, and providers send both.

    Local paths and ``file://`` URLs become ``file://`` + the absolute path with symlinks
    resolved, ``.git`` kept: ``/srv/app`` and ``/srv/app.git`` are different directories.
    Relative paths resolve against the current directory. Raises ValueError for an empty or
    unparseable URL (a bad port)."""
    s = url.strip()
    if not s:
        raise ValueError("empty repository URL")
    if s.lower().startswith("file://"):
        path = urllib.parse.unquote(urllib.parse.urlsplit(s).path)
        return _local(path or "/")
    if "://" in s:
        parts = urllib.parse.urlsplit(s)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        if not host:
            raise ValueError(f"repository URL has no host: {_safe(s)}")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"repository URL has an invalid port: {_safe(s)}") from exc
        path = urllib.parse.unquote(parts.path)
    else:
        m = _SCP_LIKE.match(s)
        # "C:/x" is a Windows drive, not a host called C; git makes the same call
        if m is None or (len(m["host"]) == 1 and m["host"].isalpha()):
            return _local(s)
        scheme, host, port, path = "ssh", m["host"].strip("[]").lower(), None, m["path"]
    if port is not None and port == _DEFAULT_PORTS.get(scheme):
        port = None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    path = re.sub(r"/{2,}", "/", path).strip("/")
    path = path.removesuffix(".git").rstrip("/")
    if host in _CASE_INSENSITIVE_HOSTS:
        path = path.lower()
    return f"{netloc}/{path}"


def _local(path: str) -> str:
    return "file://" + os.path.realpath(os.path.expanduser(path))


def _safe(url: str) -> str:
    """``url`` without credentials, for error messages."""
    try:
        parts = urllib.parse.urlsplit(url)
        return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))
    except ValueError:
        return "<unparseable URL>"


def repo_key(url: str) -> str:
    """:func:`normalize_repo_url`, or ``""`` for an empty or unparseable URL: it names no
    repository, so it matches nothing (and never fails the delivery that carried it)."""
    try:
        return normalize_repo_url(url)
    except ValueError:
        return ""


def push_repo_keys(push: Push) -> set[str]:
    """The repositories a push names, normalized; its unparseable URLs left out (a provider
    that sends one odd clone link beside good ones still matches the apps by the good ones)."""
    return {key for key in map(repo_key, push.repo_urls) if key}


def ref_matches(ref: str, revision: str) -> bool:
    """Whether a push to ``ref`` moves what an app tracking ``revision`` follows.

    ``revision`` is a branch or tag name (``main``, ``v1``) or a full ref (``refs/heads/main``);
    ``ref`` is a full ref, or a bare branch name from a generic sender. An app pinned to a commit
    SHA never matches: a push cannot move it."""
    if not ref or not revision:
        return False
    if ref == revision:
        return True
    if revision.startswith("refs/"):
        return ref == revision or f"refs/heads/{ref}" == revision
    return ref in (f"refs/heads/{revision}", f"refs/tags/{revision}")


# --- replay protection ------------------------------------------------------------------------


class DeliveryDedupe:
    """The last ``size`` delivery ids, least recently seen first out (thread-safe).

    Providers retry a delivery with the same id, and an attacker who captured a signed one can
    replay it (no provider signs a timestamp): a repeat triggers nothing."""

    def __init__(self, size: int = 1000) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self._size = size
        self._seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._lock = threading.Lock()

    def seen(self, delivery: str) -> bool:
        """True when ``delivery`` was seen before; otherwise remember it and return False. An
        empty id is never a duplicate (the sender did not give one)."""
        if not delivery:
            return False
        with self._lock:
            if delivery in self._seen:
                self._seen.move_to_end(delivery)
                return True
            self._seen[delivery] = None
            if len(self._seen) > self._size:
                self._seen.popitem(last=False)
            return False

    def forget(self, delivery: str) -> None:
        """Drop ``delivery``, so a retry of a delivery that failed on our side is processed."""
        with self._lock:
            self._seen.pop(delivery, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)
