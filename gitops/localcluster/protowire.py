"""Decode the few protobuf request bodies the auth endpoints receive (pure).

kubectl's typed clients send protobuf only (K8S-API.md §0.2): ``kubectl auth can-i``
(SelfSubjectAccessReview), ``kubectl auth can-i --list`` (SelfSubjectRulesReview), ``kubectl
auth whoami`` (SelfSubjectReview) and ``kubectl create token`` (TokenRequest). A body is the
Kubernetes envelope (``apimachinery/pkg/runtime/serializer/protobuf``: the magic ``k8s\\x00``
then a ``runtime.Unknown`` whose field 2 is the object's bytes), the object encoded by its
``generated.proto`` (``k8s.io/api/authorization/v1``, ``k8s.io/api/authentication/v1``). This
module reads the protobuf wire format for those messages into the JSON shape the handlers already
take; everything else stays JSON-only (415).
"""

from __future__ import annotations

from typing import Any

MAGIC = b"k8s\x00"

# field number -> (json name, "string" | "int" | "bool" | nested schema, repeated)
Schema = dict[int, tuple[str, Any, bool]]

_RESOURCE_ATTRIBUTES: Schema = {
    1: ("namespace", "string", False),
    2: ("verb", "string", False),
    3: ("group", "string", False),
    4: ("version", "string", False),
    5: ("resource", "string", False),
    6: ("subresource", "string", False),
    7: ("name", "string", False),
}
_NON_RESOURCE_ATTRIBUTES: Schema = {1: ("path", "string", False), 2: ("verb", "string", False)}
SELF_SUBJECT_ACCESS_REVIEW: Schema = {
    2: (
        "spec",
        {
            1: ("resourceAttributes", _RESOURCE_ATTRIBUTES, False),
            2: ("nonResourceAttributes", _NON_RESOURCE_ATTRIBUTES, False),
        },
        False,
    ),
}
# authorization/v1 SelfSubjectRulesReview: spec = 2, SelfSubjectRulesReviewSpec.namespace = 1
# (metadata = 1 and status = 3 are skipped: the server ignores them).
SELF_SUBJECT_RULES_REVIEW: Schema = {2: ("spec", {1: ("namespace", "string", False)}, False)}
TOKEN_REQUEST: Schema = {
    2: (
        "spec",
        {
            1: ("audiences", "string", True),
            4: ("expirationSeconds", "int", False),
            3: (
                "boundObjectRef",
                {
                    1: ("kind", "string", False),
                    2: ("apiVersion", "string", False),
                    3: ("name", "string", False),
                    4: ("uid", "string", False),
                },
                False,
            ),
        },
        False,
    ),
}
SELF_SUBJECT_REVIEW: Schema = {}


class ProtobufError(ValueError):
    pass


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("varint too long")


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ProtobufError("truncated field")
            out.append((number, data[pos : pos + length]))
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
    return out


def _decode(data: bytes, schema: Schema) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, raw in _fields(data):
        if number not in schema:
            continue
        name, kind, repeated = schema[number]
        value: Any
        if kind == "string":
            if not isinstance(raw, bytes):
                raise ProtobufError(f"field {name}: expected bytes")
            value = raw.decode()
        elif kind == "int":
            if not isinstance(raw, int):
                raise ProtobufError(f"field {name}: expected a varint")
            value = raw - (1 << 64) if raw >= 1 << 63 else raw
        elif kind == "bool":
            value = bool(raw)
        else:
            if not isinstance(raw, bytes):
                raise ProtobufError(f"field {name}: expected a message")
            value = _decode(raw, kind)
        if repeated:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def decode_object(body: bytes, schema: Schema) -> tuple[str, str, dict[str, Any]]:
    """(apiVersion, kind, object as JSON) of an enveloped protobuf body."""
    if not body.startswith(MAGIC):
        raise ProtobufError("the body does not start with the Kubernetes protobuf prefix")
    api_version = kind = ""
    raw = b""
    for number, value in _fields(body[len(MAGIC) :]):
        if number == 1 and isinstance(value, bytes):
            for n, v in _fields(value):
                if n == 1 and isinstance(v, bytes):
                    api_version = v.decode()
                elif n == 2 and isinstance(v, bytes):
                    kind = v.decode()
        elif number == 2 and isinstance(value, bytes):
            raw = value
    obj = _decode(raw, schema)
    obj["apiVersion"], obj["kind"] = api_version, kind
    return api_version, kind, obj
