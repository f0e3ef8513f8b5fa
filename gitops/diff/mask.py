"""Secret values, masked (pure).

A masked value is ``<redacted:0123456789ab>``: 12 hex digits of HMAC-SHA256 over the Secret's
data key and its base64 value, keyed by 32 random bytes drawn once per process and never
written anywhere. So, within one process (one sync, one ``gitops diff``), the same value under
the same key masks alike on both sides and a changed value masks differently: a diff shows
*that* ``data.password`` changed, and nothing else. Without the process key nobody can test a
guess against a marker (a plain hash would let anyone with a history record brute-force short
passwords); markers from two processes are not comparable, and are not meant to be. The key
name is part of the MAC, so two keys holding the same value are not revealed as equal.

``stringData`` values are masked as the base64 they become, so a value masks alike whether Git
gives it in ``stringData`` or ``data``. The ``last-applied-configuration`` annotation (which
kubectl fills with the Secret's values in plain text) is removed.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Any, Final

from gitops.diff import views

_PROCESS_KEY: Final = secrets.token_bytes(32)
MARKER_PREFIX: Final = "<redacted:"
MARKER: Final = re.compile(r"<redacted:[0-9a-f]{12}>")
SECRET_FIELDS: Final = ("data", "stringData")


def is_secret(obj: Mapping[str, Any]) -> bool:
    """True for a core ``v1`` Secret (a custom resource named Secret is not one)."""
    return obj.get("kind") == "Secret" and obj.get("apiVersion") == "v1"


def marker(data_key: str, b64_value: str) -> str:
    """The mask of one ``data`` value (base64 text), for this process."""
    mac = hmac.new(_PROCESS_KEY, f"{data_key}\0{b64_value}".encode(), hashlib.sha256)
    return f"{MARKER_PREFIX}{mac.hexdigest()[:12]}>"


def keyed_digest(payload: bytes) -> str:
    """A process-keyed SHA-256 HMAC of ``payload``, for fingerprints of objects holding secrets."""
    return hmac.new(_PROCESS_KEY, payload, hashlib.sha256).hexdigest()


def mask_secret(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``obj``; for a Secret, every ``data``/``stringData`` value is replaced by
    its marker and the last-applied annotation is dropped. Other objects are copied unchanged.
    Masking a masked object changes nothing."""
    out: dict[str, Any] = copy.deepcopy(dict(obj))
    if not is_secret(out):
        return out
    meta = out.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
        meta["annotations"].pop(views.LAST_APPLIED, None)
    for field in SECRET_FIELDS:
        values = out.get(field)
        if not isinstance(values, dict):
            if values is not None:
                out[field] = _mask_any(field, values)
            continue
        for k, v in values.items():
            if isinstance(v, str) and MARKER.fullmatch(v):
                continue
            if field == "stringData" and isinstance(v, str):
                v = base64.b64encode(v.encode()).decode("ascii")
            values[k] = marker(str(k), v if isinstance(v, str) else repr(v))
    return out


def _mask_any(field: str, value: Any) -> str:
    """A malformed ``data`` (not a map) is masked whole: it may still hold the values."""
    return marker(field, repr(value))
