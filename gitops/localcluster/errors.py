"""Kubernetes ``Status`` errors as the API server sends them (K8S-API.md §4) (pure).

Every failure the local cluster answers is a :class:`StatusError`; its :meth:`StatusError.body`
is the ``metav1.Status`` object, with ``code``, ``reason``, ``message`` and ``details`` shaped as
``k8s.io/apimachinery/pkg/api/errors/errors.go`` builds them, because clients key on them (the
Python ``DynamicApiError``, kubectl's ``Error from server (<reason>): <message>``).
"""

from __future__ import annotations

from typing import Any


class StatusError(Exception):
    """A failed request: HTTP ``code``, Status ``reason``, ``message`` and optional ``details``."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:  # omitempty: StatusReasonUnknown is sent as no reason at all
            out["reason"] = self.reason
        if self.details is not None:
            out["details"] = self.details
        out["code"] = self.code
        return out


def _details(name: str, group: str, kind: str, **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    d["kind"] = kind
    d.update({k: v for k, v in extra.items() if v is not None})
    return d


def _qualified(plural: str, group: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(plural: str, group: str, name: str) -> StatusError:
    return StatusError(
        404, "NotFound", f'{_qualified(plural, group)} "{name}" not found', _details(name, group, plural)
    )


def already_exists(plural: str, group: str, name: str) -> StatusError:
    return StatusError(
        409,
        "AlreadyExists",
        f'{_qualified(plural, group)} "{name}" already exists',
        _details(name, group, plural),
    )


def conflict(plural: str, group: str, name: str, why: str) -> StatusError:
    return StatusError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {_qualified(plural, group)} "{name}": {why}',
        _details(name, group, plural),
    )


STALE_RV = "the object has been modified; please apply your changes to the latest version and try again"


def invalid(kind: str, group: str, name: str, causes: list[dict[str, str]], message: str) -> StatusError:
    return StatusError(422, "Invalid", message, _details(name, group, kind, causes=causes or None))


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def method_not_allowed(verb: str, plural: str) -> StatusError:
    return StatusError(
        405, "MethodNotAllowed", f'{verb} is not supported on resources of kind "{plural}"', {}
    )


def unsupported_media_type(content_type: str, supported: list[str]) -> StatusError:
    return StatusError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: {', '.join(supported)}",
        {},
    )


def forbidden(
    plural: str, group: str, name: str, message: str, cause_reason: str | None = None
) -> StatusError:
    causes = [{"reason": cause_reason, "message": message, "field": ""}] if cause_reason else None
    return StatusError(
        403,
        "Forbidden",
        f'{_qualified(plural, group)} "{name}" is forbidden: {message}',
        _details(name, group, plural, causes=causes),
    )


def gone(message: str) -> StatusError:
    return StatusError(410, "Expired", message)


def internal(message: str) -> StatusError:
    return StatusError(
        500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]}
    )


def request_entity_too_large(limit: int) -> StatusError:
    return StatusError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit}")
