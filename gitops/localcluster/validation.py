"""Request validation of a Kubernetes 1.32 API server (pure).

Contract:

- :func:`type_errors` — what decoding a JSON body into the Go types rejects (wrong JSON types,
  bad quantities, bad base64): the complete 400 message, first one first, as
  ``Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal
  string into Go struct field DeploymentSpec.spec.replicas of type int32``
  (``sigs.k8s.io/json``, ``apiserver/pkg/endpoints/handlers/rest.go`` transformDecodeError).
- :func:`unknown_fields` / :func:`prune_unknown` — fields no schema declares, with the paths of
  strict decoding errors (``spec.template.spec.containers[0].bogus``); dropped as decoding into
  Go structs or CRD structural pruning does (kept under ``x-kubernetes-preserve-unknown-fields``).
- :func:`validate` — the field errors of the kind's ``Validate``/``ValidateUpdate``
  (``pkg/apis/*/validation/validation.go``, ``apimachinery/pkg/api/validation``,
  ``pkg/registry/*/strategy.go``) run on the defaulted object, as :class:`Cause` values whose
  ``message`` is ``field.Error.ErrorBody()``; custom resources are checked against their CRD
  schema (types, required, enums). :func:`invalid_message` formats them as ``errors.NewInvalid``.

Values in messages are printed as Go's ``field.Error`` does: strings quoted, numbers plain,
``IntOrString`` through its ``String()``, maps and selectors in ``%#v`` syntax.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from gitops.localcluster import quantity, resources, schema
from gitops.localcluster.defaults import go_base64_decode

Obj = dict[str, Any]

INVALID = "FieldValueInvalid"
REQUIRED = "FieldValueRequired"
NOT_SUPPORTED = "FieldValueNotSupported"
DUPLICATE = "FieldValueDuplicate"
FORBIDDEN = "FieldValueForbidden"
TOO_LONG = "FieldValueTooLong"
NOT_FOUND = "FieldValueNotFound"

_TYPE_WORDS = {
    INVALID: "Invalid value",
    REQUIRED: "Required value",
    NOT_SUPPORTED: "Unsupported value",
    DUPLICATE: "Duplicate value",
    FORBIDDEN: "Forbidden",
    TOO_LONG: "Too long",
    NOT_FOUND: "Not found",
}


@dataclass(frozen=True)
class Cause:
    """One ``StatusCause`` of a 422: ``message`` is the error body without the field."""

    reason: str
    message: str
    field: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def invalid_message(qualified_kind: str, name: str, causes: list[Cause]) -> str:
    """``errors.NewInvalid``'s message: one cause inline, several as ``[a, b]`` (deduplicated)."""
    seen: list[str] = []
    for cause in causes:
        text = str(cause)
        if text not in seen:
            seen.append(text)
    head = f"{qualified_kind} {_q(name)} is invalid"
    if not seen:
        return head
    return f"{head}: {seen[0]}" if len(seen) == 1 else f"{head}: [{', '.join(seen)}]"


# ----------------------------------------------------------------- Go value printing


class GoText(str):
    """A value already printed the Go way (``%#v`` of a map, ``IntOrString.String()``)."""


_GO_ESCAPES = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t", "\v": r"\v"}


def _q(text: str) -> str:
    """strconv.Quote."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        elif not ch.isprintable() and ch != " ":
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _value(value: Any) -> str:
    if isinstance(value, GoText):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _q(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def go_map(m: Any) -> GoText:
    """``%#v`` of a ``map[string]string`` (Go prints maps with sorted keys)."""
    if not isinstance(m, dict):
        return GoText("map[string]string(nil)")
    body = ", ".join(f"{_q(str(k))}:{_q(str(m[k]))}" for k in sorted(m))
    return GoText(f"map[string]string{{{body}}}")


def go_strings(values: Any) -> GoText:
    if not isinstance(values, list):
        return GoText("[]string(nil)")
    return GoText("[]string{" + ", ".join(_q(str(v)) for v in values) + "}")


def go_selector(sel: Any) -> GoText | None:
    """``%#v`` of a ``*metav1.LabelSelector`` (as 1.32 prints it in field errors)."""
    if not isinstance(sel, dict):
        return None
    exprs = sel.get("matchExpressions")
    if isinstance(exprs, list):
        items = ", ".join(
            f"v1.LabelSelectorRequirement{{Key:{_q(str(e.get('key', '')))}, Operator:{_q(str(e.get('operator', '')))}, "
            f"Values:{go_strings(e.get('values'))}}}"
            for e in exprs
            if isinstance(e, dict)
        )
        expr_text = f"[]v1.LabelSelectorRequirement{{{items}}}"
    else:
        expr_text = "[]v1.LabelSelectorRequirement(nil)"
    return GoText(
        f"v1.LabelSelector{{MatchLabels:{go_map(sel.get('matchLabels'))}, MatchExpressions:{expr_text}}}"
    )


def int_or_string(value: Any) -> GoText:
    """``IntOrString.String()``."""
    return GoText(str(value if value is not None else 0))


# ------------------------------------------------------------------ error collection


class _Errors:
    def __init__(self) -> None:
        self.causes: list[Cause] = []

    def _add(self, reason: str, path: str, body: str) -> None:
        self.causes.append(Cause(reason, body, path))

    def invalid(self, path: str, value: Any, detail: str) -> None:
        self._add(INVALID, path, f"Invalid value: {_value(value)}" + (f": {detail}" if detail else ""))

    def required(self, path: str, detail: str = "") -> None:
        self._add(REQUIRED, path, "Required value" + (f": {detail}" if detail else ""))

    def forbidden(self, path: str, detail: str) -> None:
        self._add(FORBIDDEN, path, f"Forbidden: {detail}")

    def duplicate(self, path: str, value: Any) -> None:
        self._add(DUPLICATE, path, f"Duplicate value: {_value(value)}")

    def not_found(self, path: str, value: Any) -> None:
        self._add(NOT_FOUND, path, f"Not found: {_value(value)}")

    def not_supported(self, path: str, value: Any, valid: list[str]) -> None:
        detail = ": supported values: " + ", ".join(_q(v) for v in valid) if valid else ""
        self._add(NOT_SUPPORTED, path, f"Unsupported value: {_value(value)}{detail}")

    def too_long(self, path: str, max_length: int) -> None:
        unit = "byte" if max_length == 1 else "bytes"
        self._add(TOO_LONG, path, f"Too long: may not be more than {max_length} {unit}")

    def each(self, path: str, value: Any, messages: list[str]) -> None:
        for msg in messages:
            self.invalid(path, value, msg)


def _c(path: str, *names: str) -> str:
    for name in names:
        path = f"{path}.{name}" if path else name
    return path


def _i(path: str, index: int) -> str:
    return f"{path}[{index}]"


def _k(path: str, key: str) -> str:
    return f"{path}[{key}]"


def _d(parent: Any, key: str) -> Obj:
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}


def _l(parent: Any, key: str) -> list[Any]:
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, list) else []


def _s(parent: Any, key: str) -> str:
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, str) else ""


def _n(parent: Any, key: str) -> int:
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _indexed(items: list[Any]) -> Iterator[tuple[int, Obj]]:
    for i, item in enumerate(items):
        yield i, item if isinstance(item, dict) else {}


# --------------------------------------------- apimachinery/pkg/util/validation/validation.go


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    text = msg + " (e.g. "
    for i, example in enumerate(examples):
        if i > 0:
            text += " or "
        text += f"'{example}', "
    return text + f"regex used for validation is '{fmt}')"


def inclusive_range_error(lo: int, hi: int) -> str:
    return f"must be between {lo} and {hi}, inclusive"


_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME_ERR = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
_LABEL_VALUE_FMT = f"({_QUALIFIED_NAME_FMT})?"
_LABEL_VALUE_ERR = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_ERR = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_ERR = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_ERR = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character"
_CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_MAP_KEY_ERR = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
_PERCENT_FMT = "[0-9]+%"
_PERCENT_ERR = "a valid percent string must be a numeric string followed by an ending '%'"


def _full(fmt: str) -> re.Pattern[str]:
    return re.compile(f"^(?:{fmt})$")


_QUALIFIED_NAME_RE = _full(_QUALIFIED_NAME_FMT)
_LABEL_VALUE_RE = _full(_LABEL_VALUE_FMT)
_DNS1123_LABEL_RE = _full(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN_RE = _full(_DNS1123_SUBDOMAIN_FMT)
_DNS1035_LABEL_RE = _full(_DNS1035_LABEL_FMT)
_CONFIG_MAP_KEY_RE = _full(_CONFIG_MAP_KEY_FMT)
_PERCENT_RE = _full(_PERCENT_FMT)
_PORT_NAME_CHARSET_RE = re.compile(r"^[-a-z0-9]+$")


def is_dns1123_label(value: str) -> list[str]:
    errs = [max_len_error(63)] if len(value.encode()) > 63 else []
    if not _DNS1123_LABEL_RE.match(value):
        if _DNS1123_SUBDOMAIN_RE.match(value):
            errs.append("must not contain dots")
        else:
            errs.append(regex_error(_DNS1123_LABEL_ERR, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    errs = [max_len_error(253)] if len(value.encode()) > 253 else []
    if not _DNS1123_SUBDOMAIN_RE.match(value):
        errs.append(regex_error(_DNS1123_SUBDOMAIN_ERR, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_dns1035_label(value: str) -> list[str]:
    errs = [max_len_error(63)] if len(value.encode()) > 63 else []
    if not _DNS1035_LABEL_RE.match(value):
        errs.append(regex_error(_DNS1035_LABEL_ERR, _DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def is_qualified_name(value: str) -> list[str]:
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in is_dns1123_subdomain(prefix))
    else:
        return [
            "a qualified name "
            + regex_error(_QUALIFIED_NAME_ERR, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name.encode()) > 63:
        errs.append("name part " + max_len_error(63))
    if not _QUALIFIED_NAME_RE.match(name):
        errs.append(
            "name part "
            + regex_error(_QUALIFIED_NAME_ERR, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def is_valid_label_value(value: str) -> list[str]:
    errs = [max_len_error(63)] if len(value.encode()) > 63 else []
    if not _LABEL_VALUE_RE.match(value):
        errs.append(regex_error(_LABEL_VALUE_ERR, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def is_config_map_key(value: str) -> list[str]:
    errs = [max_len_error(253)] if len(value.encode()) > 253 else []
    if not _CONFIG_MAP_KEY_RE.match(value):
        errs.append(regex_error(_CONFIG_MAP_KEY_ERR, _CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name"))
    if value == ".":
        errs.append("must not be '.'")
    elif value == "..":
        errs.append("must not be '..'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def is_valid_port_num(port: int) -> list[str]:
    return [] if 1 <= port <= 65535 else [inclusive_range_error(1, 65535)]


def is_valid_port_name(port: str) -> list[str]:
    errs = [max_len_error(15)] if len(port) > 15 else []
    if not _PORT_NAME_CHARSET_RE.match(port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def is_valid_percent(value: str) -> list[str]:
    return [] if _PERCENT_RE.match(value) else [regex_error(_PERCENT_ERR, _PERCENT_FMT, "1%", "93%")]


# ------------------------------------------------------- apimachinery/pkg/api/validation


NameFn = Callable[[str, bool], list[str]]


def _mask_trailing_dash(name: str) -> str:
    return name[:-2] + "a" if len(name) > 1 and name.endswith("-") else name


def name_is_dns_subdomain(name: str, prefix: bool) -> list[str]:
    return is_dns1123_subdomain(_mask_trailing_dash(name) if prefix else name)


def name_is_dns_label(name: str, prefix: bool) -> list[str]:
    return is_dns1123_label(_mask_trailing_dash(name) if prefix else name)


def name_is_dns1035_label(name: str, prefix: bool) -> list[str]:
    return is_dns1035_label(_mask_trailing_dash(name) if prefix else name)


def path_segment_name(name: str, prefix: bool) -> list[str]:
    """``path.ValidatePathSegmentName`` (RBAC object names)."""
    errs = [] if prefix else [f"may not be '{bad}'" for bad in (".", "..") if name == bad]
    errs += [f"may not contain '{bad}'" for bad in ("/", "%") if bad in name]
    return errs


def _validate_labels(e: _Errors, labels: Any, path: str) -> None:
    for key, value in (labels or {}).items() if isinstance(labels, dict) else ():
        e.each(path, key, is_qualified_name(key))
        e.each(path, value, is_valid_label_value(str(value)))


def _validate_annotations(e: _Errors, annotations: Any, path: str) -> None:
    if not isinstance(annotations, dict):
        return
    for key in annotations:
        e.each(path, key, is_qualified_name(key.lower()))
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in annotations.items())
    if size > 256 * 1024:
        e.too_long(path, 256 * 1024)


def _validate_object_meta(
    e: _Errors, meta: Obj, namespaced: bool, name_fn: NameFn, path: str = "metadata"
) -> None:
    generate_name = _s(meta, "generateName")
    if generate_name:
        e.each(_c(path, "generateName"), generate_name, name_fn(generate_name, True))
    name = _s(meta, "name")
    if not name:
        e.required(_c(path, "name"), "name or generateName is required")
    else:
        e.each(_c(path, "name"), name, name_fn(name, False))
    namespace = _s(meta, "namespace")
    if namespaced:
        if not namespace:
            e.required(_c(path, "namespace"))
        else:
            e.each(_c(path, "namespace"), namespace, name_is_dns_label(namespace, False))
    elif namespace:
        e.forbidden(_c(path, "namespace"), "not allowed on this type")
    if _n(meta, "generation") < 0:
        e.invalid(_c(path, "generation"), _n(meta, "generation"), "must be greater than or equal to 0")
    _validate_labels(e, meta.get("labels"), _c(path, "labels"))
    _validate_annotations(e, meta.get("annotations"), _c(path, "annotations"))
    refs_path = _c(path, "ownerReferences")
    controllers = []
    for _, ref in _indexed(_l(meta, "ownerReferences")):
        api_version = _s(ref, "apiVersion")
        if not api_version.rsplit("/", 1)[-1]:
            e.invalid(_c(refs_path, "apiVersion"), api_version, "version must not be empty")
        for key in ("kind", "name", "uid"):
            if not _s(ref, key):
                e.invalid(_c(refs_path, key), _s(ref, key), "must not be empty")
        if ref.get("controller") is True:
            controllers.append(_s(ref, "name"))
    if len(controllers) > 1:
        e.invalid(
            refs_path,
            GoText("[]v1.OwnerReference{...}"),
            f'Only one reference can have Controller set to true. Found "true" in references for {" and ".join(controllers)}',
        )
    finalizers = [f for f in _l(meta, "finalizers") if isinstance(f, str)]
    for finalizer in finalizers:
        e.each(_c(path, "finalizers"), finalizer, is_qualified_name(finalizer))
    if "orphan" in finalizers and "foregroundDeletion" in finalizers:
        e.invalid(
            _c(path, "finalizers"),
            go_strings(finalizers),
            "finalizer orphan and foregroundDeletion cannot be both set",
        )


def _validate_object_meta_update(e: _Errors, new: Obj, old: Obj, path: str = "metadata") -> None:
    for key in ("name", "namespace", "uid", "creationTimestamp"):
        if (new.get(key) or "") != (old.get(key) or ""):
            e.invalid(_c(path, key), new.get(key) or "", "field is immutable")
    if old.get("deletionTimestamp"):
        added = [f for f in _l(new, "finalizers") if f not in _l(old, "finalizers")]
        if added:
            e.forbidden(
                _c(path, "finalizers"), "no new finalizers can be added if the object is being deleted"
            )


# ------------------------------------------------------------------------- selectors


def _validate_label_selector(e: _Errors, sel: Any, path: str) -> None:
    if not isinstance(sel, dict):
        return
    _validate_labels(e, sel.get("matchLabels"), _c(path, "matchLabels"))
    for i, expr in _indexed(_l(sel, "matchExpressions")):
        p = _i(_c(path, "matchExpressions"), i)
        op, values = _s(expr, "operator"), _l(expr, "values")
        if op in ("In", "NotIn"):
            if not values:
                e.required(_c(p, "values"), "must be specified when `operator` is 'In' or 'NotIn'")
        elif op in ("Exists", "DoesNotExist"):
            if values:
                e.forbidden(
                    _c(p, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                )
        else:
            e.invalid(_c(p, "operator"), op, "not a valid selector operator")
        e.each(_c(p, "key"), _s(expr, "key"), is_qualified_name(_s(expr, "key")))
        for j, value in enumerate(values):
            e.each(_i(_c(p, "values"), j), value, is_valid_label_value(str(value)))


def selector_matches(sel: Any, labels: Any) -> bool | None:
    """``LabelSelectorAsSelector(sel).Matches(labels)``; None when the selector does not convert.

    A missing selector matches nothing, an empty one everything.
    """
    if not isinstance(sel, dict):
        return False
    labels = labels if isinstance(labels, dict) else {}
    for key, value in _d(sel, "matchLabels").items():
        if labels.get(key) != value:
            return False
    for _, expr in _indexed(_l(sel, "matchExpressions")):
        op, key, values = _s(expr, "operator"), _s(expr, "key"), _l(expr, "values")
        if op == "In":
            if not values:
                return None
            if key not in labels or labels[key] not in values:
                return False
        elif op == "NotIn":
            if not values:
                return None
            if key in labels and labels[key] in values:
                return False
        elif op == "Exists":
            if key not in labels:
                return False
        elif op == "DoesNotExist":
            if key in labels:
                return False
        else:
            return None
    return True


def _selector_is_empty(sel: Any) -> bool:
    return isinstance(sel, dict) and not _d(sel, "matchLabels") and not _l(sel, "matchExpressions")


# ----------------------------------------------------------------- core: pod specs

_PROTOCOLS = ["SCTP", "TCP", "UDP"]
_STANDARD_CONTAINER_RESOURCES = {"cpu", "memory", "ephemeral-storage"}
_STANDARD_RESOURCES = _STANDARD_CONTAINER_RESOURCES | {
    "requests.cpu", "requests.memory", "requests.ephemeral-storage", "limits.cpu", "limits.memory",
    "limits.ephemeral-storage", "pods", "services", "replicationcontrollers", "resourcequotas", "secrets",
    "persistentvolumeclaims", "configmaps", "storage", "requests.storage", "services.nodeports",
    "services.loadbalancers",
}  # fmt: skip


def _is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-") or name.startswith("requests.hugepages-")


def _is_native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _is_extended(name: str) -> bool:
    return (
        not _is_native(name)
        and not name.startswith("requests.")
        and not is_qualified_name("requests." + name)
    )


def _validate_resources(e: _Errors, res: Obj, path: str) -> None:
    """``ValidateResourceRequirements`` for a container."""
    limits, requests = _d(res, "limits"), _d(res, "requests")
    lim_path, req_path = _c(path, "limits"), _c(path, "requests")
    parsed: dict[tuple[str, str], quantity.Quantity] = {}
    for source, values, base in (("limits", limits, lim_path), ("requests", requests, req_path)):
        for name, value in values.items():
            p = _k(base, name)
            errs = is_qualified_name(name)
            e.each(p, name, errs)
            if not errs and "/" not in name:
                if name not in _STANDARD_RESOURCES and not _is_hugepages(name):
                    e.invalid(p, name, "must be a standard resource type or fully qualified")
                if name not in _STANDARD_CONTAINER_RESOURCES and not _is_hugepages(name):
                    e.invalid(p, name, "must be a standard resource for containers")
            elif not errs and not _is_native(name) and not _is_extended(name):
                e.invalid(p, name, "doesn't follow extended resource name standard")
            try:
                q = quantity.parse(value)
            except ValueError:
                continue
            parsed[(source, name)] = q
            if q.sign() < 0:
                e.invalid(p, str(q), "must be greater than or equal to 0")
            if _is_extended(name) and q.round_up(0).cmp(q) != 0:
                e.invalid(p, GoText(str(q)), "must be an integer")
    for name in requests:
        req = parsed.get(("requests", name))
        overcommit = _is_native(name) and not _is_hugepages(name)
        if name in limits:
            lim = parsed.get(("limits", name))
            if req is None or lim is None:
                continue
            if req.cmp(lim) != 0 and not overcommit:
                e.invalid(req_path, str(req), f"must be equal to {name} limit of {lim}")
            elif req.cmp(lim) > 0:
                e.invalid(req_path, str(req), f"must be less than or equal to {name} limit of {lim}")
        elif not overcommit:
            e.required(lim_path, "Limit must be set for non overcommitable resources")


def _validate_port_num_or_name(e: _Errors, port: Any, path: str) -> None:
    if isinstance(port, str):
        e.each(path, port, is_valid_port_name(port))
    elif isinstance(port, int) and not isinstance(port, bool):
        e.each(path, port, is_valid_port_num(port))


def _validate_handler(e: _Errors, handler: Obj, path: str, kinds: tuple[str, ...]) -> None:
    present = [k for k in kinds if handler.get(k) is not None]
    if not present:
        e.required(path, "must specify a handler type")
        return
    for extra in present[1:]:
        e.forbidden(_c(path, extra), "may not specify more than 1 handler type")
    get = _d(handler, "httpGet")
    if "httpGet" in present:
        p = _c(path, "httpGet")
        if not _s(get, "path"):
            e.required(_c(p, "path"))
        _validate_port_num_or_name(e, get.get("port"), _c(p, "port"))
        if _s(get, "scheme") not in ("HTTP", "HTTPS"):
            e.not_supported(_c(p, "scheme"), _s(get, "scheme"), ["HTTP", "HTTPS"])
    if "tcpSocket" in present:
        _validate_port_num_or_name(e, _d(handler, "tcpSocket").get("port"), _c(path, "tcpSocket", "port"))


def _validate_probe(e: _Errors, probe: Any, path: str, kind: str) -> None:
    if not isinstance(probe, dict):
        return
    _validate_handler(e, probe, path, ("exec", "httpGet", "tcpSocket", "grpc"))
    for key in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ):
        if _n(probe, key) < 0:
            e.invalid(_c(path, key), _n(probe, key), "must be greater than or equal to 0")
    grace = probe.get("terminationGracePeriodSeconds")
    if kind == "readiness":
        if grace is not None:
            e.invalid(_c(path, "terminationGracePeriodSeconds"), grace, "must not be set for readinessProbes")
    else:
        if isinstance(grace, int) and grace <= 0:
            e.invalid(_c(path, "terminationGracePeriodSeconds"), grace, "must be greater than 0")
        if _n(probe, "successThreshold") != 1:
            e.invalid(_c(path, "successThreshold"), _n(probe, "successThreshold"), "must be 1")


def _validate_container(e: _Errors, c: Obj, path: str, volumes: set[str]) -> None:
    """``validateContainerCommon``."""
    name = _s(c, "name")
    if not name:
        e.required(_c(path, "name"))
    else:
        e.each(_c(path, "name"), name, is_dns1123_label(name))
    if not _s(c, "image"):
        e.required(_c(path, "image"))
    policy = _s(c, "terminationMessagePolicy")
    if not policy:
        e.required(_c(path, "terminationMessagePolicy"))
    elif policy not in ("File", "FallbackToLogsOnError"):
        e.not_supported(_c(path, "terminationMessagePolicy"), policy, ["File", "FallbackToLogsOnError"])
    port_names: set[str] = set()
    for i, port in _indexed(_l(c, "ports")):
        p = _i(_c(path, "ports"), i)
        port_name = _s(port, "name")
        if port_name:
            msgs = is_valid_port_name(port_name)
            if msgs:
                e.each(_c(p, "name"), port_name, msgs)
            elif port_name in port_names:
                e.duplicate(_c(p, "name"), port_name)
            else:
                port_names.add(port_name)
        if not _n(port, "containerPort"):
            e.required(_c(p, "containerPort"))
        else:
            e.each(
                _c(p, "containerPort"),
                _n(port, "containerPort"),
                is_valid_port_num(_n(port, "containerPort")),
            )
        if _n(port, "hostPort"):
            e.each(_c(p, "hostPort"), _n(port, "hostPort"), is_valid_port_num(_n(port, "hostPort")))
        protocol = _s(port, "protocol")
        if not protocol:
            e.required(_c(p, "protocol"))
        elif protocol not in _PROTOCOLS:
            e.not_supported(_c(p, "protocol"), protocol, _PROTOCOLS)
    for i, env in _indexed(_l(c, "env")):
        p = _i(_c(path, "env"), i)
        env_name = _s(env, "name")
        if not env_name:
            e.required(_c(p, "name"))
        elif any(ord(ch) > 127 or not ch.isprintable() or ch == "=" for ch in env_name):
            # RelaxedEnvironmentVariableValidation is beta (on) in 1.32.
            e.invalid(
                _c(p, "name"),
                env_name,
                "a valid environment variable name must consist only of printable ASCII characters other than '='",
            )
        if _s(env, "value") and env.get("valueFrom") is not None:
            e.invalid(_c(p, "valueFrom"), "", "may not be specified when `value` is not empty")
    mount_paths: set[str] = set()
    for i, mount in _indexed(_l(c, "volumeMounts")):
        p = _i(_c(path, "volumeMounts"), i)
        mount_name, mount_path = _s(mount, "name"), _s(mount, "mountPath")
        if not mount_name:
            e.required(_c(p, "name"))
        if mount_name not in volumes:
            e.not_found(_c(p, "name"), mount_name)
        if not mount_path:
            e.required(_c(p, "mountPath"))
        if mount_path in mount_paths:
            e.invalid(_c(p, "mountPath"), mount_path, "must be unique")
        mount_paths.add(mount_path)
    pull = _s(c, "imagePullPolicy")
    if not pull:
        e.required(_c(path, "imagePullPolicy"))
    elif pull not in ("Always", "IfNotPresent", "Never"):
        e.not_supported(_c(path, "imagePullPolicy"), pull, ["Always", "IfNotPresent", "Never"])
    _validate_resources(e, _d(c, "resources"), _c(path, "resources"))


_VOLUME_REQUIRED = {
    "configMap": ("name",),
    "secret": ("secretName",),
    "persistentVolumeClaim": ("claimName",),
    "hostPath": ("path",),
    "nfs": ("server", "path"),
}


def _validate_volumes(e: _Errors, volumes: list[Any], path: str) -> set[str]:
    names: set[str] = set()
    sources = [k for k in schema.definitions()["io.k8s.api.core.v1.Volume"]["properties"] if k != "name"]
    for i, vol in _indexed(volumes):
        p = _i(path, i)
        local = _Errors()
        present = [k for k in sources if vol.get(k) is not None]
        if not present:
            local.required(p, "must specify a volume type")
        for extra in present[1:]:
            local.forbidden(_c(p, extra), "may not specify more than 1 volume type")
        for key in present[:1]:
            for required in _VOLUME_REQUIRED.get(key, ()):
                if not _s(_d(vol, key), required):
                    local.required(_c(p, key, required))
            mode = _d(vol, key).get("defaultMode")
            if isinstance(mode, int) and not 0 <= mode <= 0o777:
                local.invalid(
                    _c(p, key, "defaultMode"),
                    mode,
                    "must be a number between 0 and 0777 (octal), both inclusive",
                )
        name = _s(vol, "name")
        if not name:
            local.required(_c(p, "name"))
        else:
            local.each(_c(p, "name"), name, is_dns1123_label(name))
        if name in names:
            local.duplicate(_c(p, "name"), name)
        if local.causes:
            e.causes.extend(local.causes)
        else:
            names.add(name)
    return names


def _validate_pod_spec(e: _Errors, spec: Obj, path: str) -> None:
    volumes = _validate_volumes(e, _l(spec, "volumes"), _c(path, "volumes"))
    containers = _l(spec, "containers")
    if not containers:
        e.required(_c(path, "containers"))
    names: set[str] = set()
    for i, c in _indexed(containers):
        p = _i(_c(path, "containers"), i)
        _validate_container(e, c, p, volumes)
        if _s(c, "name") in names:
            e.duplicate(_c(p, "name"), _s(c, "name"))
        names.add(_s(c, "name"))
        for key, kind in (
            ("livenessProbe", "liveness"),
            ("readinessProbe", "readiness"),
            ("startupProbe", "startup"),
        ):
            _validate_probe(e, c.get(key), _c(p, key), kind)
        if c.get("restartPolicy") is not None:
            e.forbidden(_c(p, "restartPolicy"), "may not be set for non-init containers")
    for i, c in _indexed(_l(spec, "initContainers")):
        p = _i(_c(path, "initContainers"), i)
        _validate_container(e, c, p, volumes)
        if _s(c, "name") in names:
            e.duplicate(_c(p, "name"), _s(c, "name"))
        names.add(_s(c, "name"))
    restart = _s(spec, "restartPolicy")
    if not restart:
        e.required(_c(path, "restartPolicy"))
    elif restart not in ("Always", "OnFailure", "Never"):
        e.not_supported(_c(path, "restartPolicy"), restart, ["Always", "OnFailure", "Never"])
    dns = _s(spec, "dnsPolicy")
    if not dns:
        e.required(_c(path, "dnsPolicy"))
    elif dns not in ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"):
        e.not_supported(
            _c(path, "dnsPolicy"), dns, ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
        )
    _validate_labels(e, spec.get("nodeSelector"), _c(path, "nodeSelector"))
    account = _s(spec, "serviceAccountName")
    if account:
        e.each(_c(path, "serviceAccountName"), account, name_is_dns_subdomain(account, False))
    deadline = spec.get("activeDeadlineSeconds")
    if isinstance(deadline, int) and not 1 <= deadline <= 2**31 - 1:
        e.invalid(_c(path, "activeDeadlineSeconds"), deadline, inclusive_range_error(1, 2**31 - 1))
    for key in ("hostname", "subdomain"):
        if _s(spec, key):
            e.each(_c(path, key), _s(spec, key), is_dns1123_label(_s(spec, key)))


def _validate_pod_template(e: _Errors, template: Obj, path: str) -> None:
    """``ValidatePodTemplateSpec``: labels and annotations sit at ``template.labels``."""
    meta = _d(template, "metadata")
    _validate_labels(e, meta.get("labels"), _c(path, "labels"))
    _validate_annotations(e, meta.get("annotations"), _c(path, "annotations"))
    _validate_pod_spec(e, _d(template, "spec"), _c(path, "spec"))
    if _l(_d(template, "spec"), "ephemeralContainers"):
        e.forbidden(
            _c(path, "spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template"
        )


def _template_labels(template: Obj) -> Any:
    return _d(template, "metadata").get("labels")


def _validate_selector_spec(e: _Errors, spec: Obj, path: str, kind: str) -> None:
    """Selector required, valid, non-empty and matching the template (Deployment, ReplicaSet,
    StatefulSet)."""
    sel = spec.get("selector")
    if not isinstance(sel, dict):
        e.required(_c(path, "selector"))
    else:
        _validate_label_selector(e, sel, _c(path, "selector"))
        if _selector_is_empty(sel):
            e.invalid(_c(path, "selector"), go_selector(sel), f"empty selector is invalid for {kind}")
    template = _d(spec, "template")
    matches = selector_matches(sel, _template_labels(template))
    if matches is None:
        e.invalid(
            _c(path, "selector"), go_selector(sel), "invalid label selector" if kind != "statefulset" else ""
        )
    elif not _selector_is_empty(sel) and not matches:
        e.invalid(
            _c(path, "template", "metadata", "labels"),
            go_map(_template_labels(template)),
            "`selector` does not match template `labels`",
        )


def _nonnegative(e: _Errors, obj: Obj, key: str, path: str) -> None:
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        e.invalid(_c(path, key), value, "must be greater than or equal to 0")


def _always_restart(e: _Errors, template: Obj, path: str, kind: str, forbidden: bool = True) -> None:
    spec = _d(template, "spec")
    if _s(spec, "restartPolicy") != "Always":
        e.not_supported(_c(path, "template", "spec", "restartPolicy"), _s(spec, "restartPolicy"), ["Always"])
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None:
        p = _c(path, "template", "spec", "activeDeadlineSeconds")
        if forbidden:
            e.forbidden(p, f"activeDeadlineSeconds in {kind} is not Supported")
        else:
            e.invalid(p, deadline, f"activeDeadlineSeconds in {kind} is not Supported")


# ------------------------------------------------------------------- apps/v1, batch/v1


def _percent_value(value: Any) -> int | None:
    if isinstance(value, str) and not is_valid_percent(value):
        return int(value[:-1])
    return None


def _int_or_percent_value(value: Any) -> int:
    pct = _percent_value(value)
    if pct is not None:
        return pct
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return 0


def _positive_int_or_percent(e: _Errors, value: Any, path: str) -> None:
    if isinstance(value, str):
        e.each(path, int_or_string(value), is_valid_percent(value))
    elif isinstance(value, int) and value < 0:
        e.invalid(path, value, "must be greater than or equal to 0")


def _not_more_than_100(e: _Errors, value: Any, path: str) -> None:
    pct = _percent_value(value)
    if pct is not None and pct > 100:
        e.invalid(path, int_or_string(value), "must not be greater than 100%")


def _validate_deployment(e: _Errors, obj: Obj, old: Obj | None) -> None:
    spec, path = _d(obj, "spec"), "spec"
    _nonnegative(e, spec, "replicas", path)
    _validate_selector_spec(e, spec, path, "deployment")
    template = _d(spec, "template")
    if selector_matches(spec.get("selector"), _template_labels(template)) is not None:
        _validate_pod_template(e, template, _c(path, "template"))
        _always_restart(e, template, path, "ReplicaSet")
    strategy = _d(spec, "strategy")
    stype = _s(strategy, "type")
    spath = _c(path, "strategy")
    if stype == "Recreate":
        if strategy.get("rollingUpdate") is not None:
            e.forbidden(_c(spath, "rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")
    elif stype == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if not isinstance(rolling, dict):
            e.required(_c(spath, "rollingUpdate"), "this should be defaulted and never be nil")
        else:
            _validate_surge_and_unavailable(e, rolling, _c(spath, "rollingUpdate"))
    else:
        e.not_supported(
            spath,
            GoText(
                f"apps.DeploymentStrategy{{Type:{_q(stype)}, RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}}"
            ),
            ["Recreate", "RollingUpdate"],
        )
    _nonnegative(e, spec, "minReadySeconds", path)
    _nonnegative(e, spec, "revisionHistoryLimit", path)
    deadline = spec.get("progressDeadlineSeconds")
    if isinstance(deadline, int):
        _nonnegative(e, spec, "progressDeadlineSeconds", path)
        if deadline <= _n(spec, "minReadySeconds"):
            e.invalid(_c(path, "progressDeadlineSeconds"), deadline, "must be greater than minReadySeconds")
    if old is not None:
        _immutable_selector(e, spec, _d(old, "spec"))


def _immutable_selector(e: _Errors, spec: Obj, old_spec: Obj) -> None:
    if spec.get("selector") != old_spec.get("selector"):
        e.invalid("spec.selector", go_selector(spec.get("selector")), "field is immutable")


def _validate_replica_set(e: _Errors, obj: Obj, old: Obj | None) -> None:
    spec, path = _d(obj, "spec"), "spec"
    _nonnegative(e, spec, "replicas", path)
    _nonnegative(e, spec, "minReadySeconds", path)
    _validate_selector_spec(e, spec, path, "deployment")
    template = _d(spec, "template")
    if selector_matches(spec.get("selector"), _template_labels(template)) is not None:
        _validate_pod_template(e, template, _c(path, "template"))
        _always_restart(e, template, path, "ReplicaSet")
    if old is not None:
        _immutable_selector(e, spec, _d(old, "spec"))


_STS_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)


def _validate_stateful_set(e: _Errors, obj: Obj, old: Obj | None) -> None:
    spec, path = _d(obj, "spec"), "spec"
    policy = _s(spec, "podManagementPolicy")
    if not policy:
        e.required(_c(path, "podManagementPolicy"))
    elif policy not in ("OrderedReady", "Parallel"):
        e.invalid(_c(path, "podManagementPolicy"), policy, "must be 'OrderedReady' or 'Parallel'")
    update = _d(spec, "updateStrategy")
    utype = _s(update, "type")
    if not utype:
        e.required(_c(path, "updateStrategy"))
    elif utype == "OnDelete":
        if update.get("rollingUpdate") is not None:
            e.invalid(
                _c(path, "updateStrategy", "rollingUpdate"),
                GoText("&apps.RollingUpdateStatefulSetStrategy{...}"),
                "only allowed for updateStrategy 'RollingUpdate'",
            )
    elif utype == "RollingUpdate":
        rolling = _d(update, "rollingUpdate")
        _nonnegative(e, rolling, "partition", _c(path, "updateStrategy", "rollingUpdate"))
    else:
        e.invalid(
            _c(path, "updateStrategy"),
            GoText(f"apps.StatefulSetUpdateStrategy{{Type:{_q(utype)}}}"),
            "must be 'RollingUpdate' or 'OnDelete'",
        )
    retention = _d(spec, "persistentVolumeClaimRetentionPolicy")
    for key in ("whenDeleted", "whenScaled"):
        value = _s(retention, key)
        if value not in ("Retain", "Delete"):
            e.not_supported(
                _c(path, "persistentVolumeClaimRetentionPolicy", key), value, ["Retain", "Delete"]
            )
    _nonnegative(e, spec, "replicas", path)
    _nonnegative(e, spec, "minReadySeconds", path)
    _validate_selector_spec(e, spec, path, "statefulset")
    template = _d(spec, "template")
    if selector_matches(spec.get("selector"), _template_labels(template)) is not None:
        # ValidatePodTemplateSpecForStatefulSet checks only the template's labels and annotations:
        # its pod spec is not validated ("this will check volumes, which we know will fail" —
        # mounts may name volumeClaimTemplates), so neither do we.
        meta = _d(template, "metadata")
        _validate_labels(e, meta.get("labels"), _c(path, "template", "labels"))
        _validate_annotations(e, meta.get("annotations"), _c(path, "template", "annotations"))
    _always_restart(e, template, path, "StatefulSet")
    if old is not None:
        old_spec = _d(old, "spec")
        rest = {k: v for k, v in spec.items() if k not in _STS_MUTABLE}
        old_rest = {k: v for k, v in old_spec.items() if k not in _STS_MUTABLE}
        if rest != old_rest:
            e.forbidden(
                "spec",
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            )


def _validate_daemon_set(e: _Errors, obj: Obj, old: Obj | None) -> None:
    spec, path = _d(obj, "spec"), "spec"
    sel = spec.get("selector")
    _validate_label_selector(e, sel, _c(path, "selector"))
    template = _d(spec, "template")
    if selector_matches(sel, _template_labels(template)) is False:
        e.invalid(
            _c(path, "template", "metadata", "labels"),
            go_map(_template_labels(template)),
            "`selector` does not match template `labels`",
        )
    if _selector_is_empty(sel):
        e.invalid(_c(path, "selector"), go_selector(sel), "empty selector is invalid for daemonset")
    _validate_pod_template(e, template, _c(path, "template"))
    _always_restart(e, template, path, "DaemonSet", forbidden=False)
    _nonnegative(e, spec, "minReadySeconds", path)
    update = _d(spec, "updateStrategy")
    utype = _s(update, "type")
    if utype == "RollingUpdate":
        rolling = update.get("rollingUpdate")
        rpath = _c(path, "updateStrategy", "rollingUpdate")
        if not isinstance(rolling, dict):
            e.required(rpath)
        else:
            _validate_surge_and_unavailable(e, rolling, rpath)
    elif utype != "OnDelete":
        e.not_supported(
            _c(path, "updateStrategy"),
            GoText(f"apps.DaemonSetUpdateStrategy{{Type:{_q(utype)}}}"),
            ["OnDelete", "RollingUpdate"],
        )
    _nonnegative(e, spec, "revisionHistoryLimit", path)
    if old is not None:
        _immutable_selector(e, spec, _d(old, "spec"))


def _validate_job_spec(e: _Errors, spec: Obj, path: str, generated: bool) -> None:
    for key in (
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
    ):
        _nonnegative(e, spec, key, path)
    mode = spec.get("completionMode")
    if mode is not None and mode not in ("NonIndexed", "Indexed"):
        e.not_supported(_c(path, "completionMode"), mode, ["NonIndexed", "Indexed"])
    if mode == "Indexed" and spec.get("completions") is None:
        e.required(_c(path, "completions"), "when completion mode is Indexed")
    template = _d(spec, "template")
    sel = spec.get("selector")
    if generated:
        if not isinstance(sel, dict):
            e.required(_c(path, "selector"))
        else:
            _validate_label_selector(e, sel, _c(path, "selector"))
        if selector_matches(sel, _template_labels(template)) is False:
            e.invalid(
                _c(path, "template", "metadata", "labels"),
                go_map(_template_labels(template)),
                "`selector` does not match template `labels`",
            )
    _validate_pod_template(e, template, _c(path, "template"))
    restart = _s(_d(template, "spec"), "restartPolicy")
    if restart not in ("OnFailure", "Never"):
        e.required(_c(path, "template", "spec", "restartPolicy"), 'valid values: "OnFailure", "Never"')


def _validate_job(e: _Errors, obj: Obj, old: Obj | None) -> None:
    spec = _d(obj, "spec")
    _validate_job_spec(e, spec, "spec", True)
    meta = _d(obj, "metadata")
    if spec.get("manualSelector") is not True:
        labels = _template_labels(_d(spec, "template")) or {}
        uid = _s(meta, "uid")
        for key in ("controller-uid", "batch.kubernetes.io/controller-uid"):
            if uid and isinstance(labels, dict) and labels.get(key, uid) != uid:
                e.invalid(
                    _c("spec", "template", "metadata", "labels"),
                    go_map(labels),
                    "`selector` not auto-generated",
                )
    if old is not None:
        old_spec = _d(old, "spec")
        if spec.get("selector") != old_spec.get("selector"):
            e.invalid("spec.selector", go_selector(spec.get("selector")), "field is immutable")
        if spec.get("template") != old_spec.get("template") and not (
            old_spec.get("suspend") and spec.get("suspend")
        ):
            e.invalid("spec.template", GoText("core.PodTemplateSpec{...}"), "field is immutable")
        if spec.get("completions") != old_spec.get("completions") and spec.get("completionMode") != "Indexed":
            e.invalid("spec.completions", spec.get("completions"), "field is immutable")
        if spec.get("completionMode") != old_spec.get("completionMode"):
            e.invalid("spec.completionMode", spec.get("completionMode"), "field is immutable")


def _validate_cron_job(e: _Errors, obj: Obj, old: Obj | None) -> None:
    name = _s(_d(obj, "metadata"), "name")
    if len(name) > 52:
        e.invalid("metadata.name", name, "must be no more than 52 characters")
    spec, path = _d(obj, "spec"), "spec"
    if not _s(spec, "schedule"):
        e.required(_c(path, "schedule"))
    elif len(_s(spec, "schedule").split()) not in (5, 6) and not _s(spec, "schedule").startswith("@"):
        e.invalid(
            _c(path, "schedule"),
            _s(spec, "schedule"),
            f"expected exactly 5 fields, found {len(_s(spec, 'schedule').split())}: {_s(spec, 'schedule')}",
        )
    policy = _s(spec, "concurrencyPolicy")
    if policy not in ("Allow", "Forbid", "Replace"):
        e.not_supported(_c(path, "concurrencyPolicy"), policy, ["Allow", "Forbid", "Replace"])
    for key in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        _nonnegative(e, spec, key, path)
    job_template = _d(spec, "jobTemplate")
    jpath = _c(path, "jobTemplate")
    _validate_labels(e, _d(job_template, "metadata").get("labels"), _c(jpath, "metadata", "labels"))
    _validate_job_spec(e, _d(job_template, "spec"), _c(jpath, "spec"), False)


# -------------------------------------------------------------------- core/v1 others

_SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]


def _validate_service(e: _Errors, obj: Obj, old: Obj | None) -> None:
    spec, path = _d(obj, "spec"), "spec"
    stype = _s(spec, "type")
    headless = spec.get("clusterIP") == "None"
    ports = _l(spec, "ports")
    if old is not None:
        _validate_cluster_ip_update(e, spec, _d(old, "spec"))
    if not ports and not headless and stype != "ExternalName":
        e.required(_c(path, "ports"))
    if stype == "ExternalName":
        if not _s(spec, "externalName"):
            e.required(_c(path, "externalName"))
        else:
            external = _s(spec, "externalName").removesuffix(".")
            e.each(_c(path, "externalName"), external, is_dns1123_subdomain(external))
    names: set[str] = set()
    for i, port in _indexed(ports):
        p = _i(_c(path, "ports"), i)
        port_name = _s(port, "name")
        if len(ports) > 1 and not port_name:
            e.required(_c(p, "name"))
        elif port_name:
            e.each(_c(p, "name"), port_name, is_dns1123_label(port_name))
            if port_name in names:
                e.duplicate(_c(p, "name"), port_name)
            names.add(port_name)
        e.each(_c(p, "port"), _n(port, "port"), is_valid_port_num(_n(port, "port")))
        protocol = _s(port, "protocol")
        if not protocol:
            e.required(_c(p, "protocol"))
        elif protocol not in _PROTOCOLS:
            e.not_supported(_c(p, "protocol"), protocol, _PROTOCOLS)
        _validate_port_num_or_name(e, port.get("targetPort"), _c(p, "targetPort"))
        if port.get("nodePort") is not None and stype not in ("NodePort", "LoadBalancer"):
            e.forbidden(_c(p, "nodePort"), "may not be used when `type` is 'ClusterIP'")
        elif isinstance(port.get("nodePort"), int) and port["nodePort"]:
            e.each(_c(p, "nodePort"), port["nodePort"], is_valid_port_num(port["nodePort"]))
    if spec.get("selector") is not None:
        _validate_labels(e, spec.get("selector"), _c(path, "selector"))
    affinity = _s(spec, "sessionAffinity")
    if not affinity:
        e.required(_c(path, "sessionAffinity"))
    elif affinity not in ("ClientIP", "None"):
        e.not_supported(_c(path, "sessionAffinity"), affinity, ["ClientIP", "None"])
    if stype not in _SERVICE_TYPES:
        e.not_supported(_c(path, "type"), stype, _SERVICE_TYPES)
    etp = spec.get("externalTrafficPolicy")
    if etp not in (None, "", "Cluster", "Local"):
        e.not_supported(_c(path, "externalTrafficPolicy"), etp, ["Cluster", "Local"])
    itp = spec.get("internalTrafficPolicy")
    if itp is not None and itp not in ("Cluster", "Local"):
        e.not_supported(_c(path, "internalTrafficPolicy"), itp, ["Cluster", "Local"])


def _validate_cluster_ip_update(e: _Errors, spec: Obj, old_spec: Obj) -> None:
    """``validateUpgradeDowngradeClusterIPs``."""
    if "ExternalName" in (_s(spec, "type"), _s(old_spec, "type")):
        return
    if spec.get("clusterIP") == "None" and old_spec.get("clusterIP") == "None":
        return
    new_ips, old_ips = _l(spec, "clusterIPs"), _l(old_spec, "clusterIPs")
    p = "spec.clusterIPs[0]"
    if len(new_ips) == len(old_ips):
        for a, b in zip(old_ips, new_ips, strict=True):
            if a != b:
                e.invalid(p, go_strings(new_ips), "may not change once set")
    elif len(old_ips) > len(new_ips):
        if not new_ips:
            e.invalid(p, go_strings(new_ips), "primary clusterIP can not be unset")
        elif new_ips[0] != old_ips[0]:
            e.invalid(p, go_strings(new_ips), "may not change once set")
    elif old_ips and new_ips[0] != old_ips[0]:
        e.invalid(p, go_strings(new_ips), "may not change once set")


def _validate_config_map(e: _Errors, obj: Obj, old: Obj | None) -> None:
    if old is not None:  # ValidateConfigMapUpdate checks immutability before the new object
        _immutable_data(e, obj, old, ("data", "binaryData"))
    total = 0
    data, binary = _d(obj, "data"), _d(obj, "binaryData")
    for key, value in data.items():
        e.each(_k("data", key), key, is_config_map_key(key))
        if key in binary:
            e.invalid(_k("data", key), key, "duplicate of key present in binaryData")
        total += len(str(value).encode())
    for key, value in binary.items():
        e.each(_k("binaryData", key), key, is_config_map_key(key))
        try:
            total += len(go_base64_decode(str(value)))
        except ValueError:
            total += len(str(value)) * 3 // 4
    if total > 1024 * 1024:
        e.too_long("[]", 1024 * 1024)  # field.NewPath("") prints as "[]"


def _immutable_data(e: _Errors, obj: Obj, old: Obj, keys: tuple[str, ...]) -> None:
    if old.get("immutable") is True:
        if obj.get("immutable") is not True:
            e.forbidden("immutable", "field is immutable when `immutable` is set")
        for key in keys:
            if (obj.get(key) or None) != (old.get(key) or None):
                e.forbidden(key, "field is immutable when `immutable` is set")


def _validate_secret(e: _Errors, obj: Obj, old: Obj | None) -> None:
    if old is not None:  # ValidateSecretUpdate: type, then immutability, then the new object
        if _s(obj, "type") != _s(old, "type"):
            e.invalid("type", _s(obj, "type"), "field is immutable")
        _immutable_data(e, obj, old, ("data",))
    data = _d(obj, "data")
    total = 0
    for key, value in data.items():
        e.each(_k("data", key), key, is_config_map_key(key))
        with contextlib.suppress(ValueError):
            total += len(go_base64_decode(str(value)))
    if total > 1024 * 1024:
        e.too_long("data", 1024 * 1024)
    stype = _s(obj, "type")
    annotations = _d(_d(obj, "metadata"), "annotations")
    if stype == "kubernetes.io/service-account-token":
        if not annotations.get("kubernetes.io/service-account.name"):
            e.required("metadata.annotations[kubernetes.io/service-account.name]")
    elif stype in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
        key = ".dockercfg" if stype == "kubernetes.io/dockercfg" else ".dockerconfigjson"
        if key not in data:
            e.required(_k("data", key))
    elif stype == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            e.required(_k("data", "username"))
            e.required(_k("data", "password"))
    elif stype == "kubernetes.io/ssh-auth":
        if not data.get("ssh-privatekey"):
            e.required(_k("data", "ssh-privatekey"))
    elif stype == "kubernetes.io/tls":
        for key in ("tls.crt", "tls.key"):
            if key not in data:
                e.required(_k("data", key))


def _validate_namespace(e: _Errors, obj: Obj, old: Obj | None) -> None:
    for i, finalizer in enumerate(_l(_d(obj, "spec"), "finalizers")):
        text = str(finalizer)
        p = _i("spec.finalizers", i)
        e.each(p, text, is_qualified_name(text))
        if "/" not in text and text != "kubernetes":
            e.invalid(p, text, "name is neither a standard finalizer name nor is it fully qualified")


_ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]


def _validate_pvc_spec(e: _Errors, spec: Obj, path: str) -> None:
    modes = _l(spec, "accessModes")
    if not modes:
        e.required(_c(path, "accessModes"), "at least 1 access mode is required")
    for mode in modes:
        if mode not in _ACCESS_MODES:
            e.not_supported(_c(path, "accessModes"), mode, _ACCESS_MODES)
    requests = _d(_d(spec, "resources"), "requests")
    if "storage" not in requests:
        e.required(_c(path, "resources", "requests[storage]"))
    else:
        try:
            q = quantity.parse(requests["storage"])
            if q.sign() <= 0:
                e.invalid(_c(path, "resources", "requests[storage]"), str(q), "must be greater than zero")
        except ValueError:
            pass
    mode = spec.get("volumeMode")
    if mode is not None and mode not in ("Block", "Filesystem"):
        e.not_supported(_c(path, "volumeMode"), mode, ["Block", "Filesystem"])


def _validate_pvc(e: _Errors, obj: Obj, old: Obj | None) -> None:
    spec = _d(obj, "spec")
    _validate_pvc_spec(e, spec, "spec")
    if old is not None:
        old_spec = _d(old, "spec")
        bound = _s(_d(old, "status"), "phase") == "Bound"
        new_cmp, old_cmp = dict(spec), dict(old_spec)
        if bound:
            for d in (new_cmp, old_cmp):
                d.pop("volumeAttributesClassName", None)
                d["resources"] = {k: v for k, v in _d(d, "resources").items() if k != "requests"}
            if not old_spec.get("volumeName"):
                new_cmp.pop("volumeName", None)
        if new_cmp != old_cmp:
            e.forbidden(
                "spec",
                "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n"
                + _diff(old_spec, spec),
            )


def _diff(old: Obj, new: Obj) -> str:
    """A line-oriented summary of what changed; the real server prints a go-cmp diff of the
    internal structs, which cannot be reproduced byte for byte."""
    lines = ["  core.PersistentVolumeClaimSpec{"]
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            lines += [f"- \t{key}: {old.get(key)!r},", f"+ \t{key}: {new.get(key)!r},"]
    return "\n".join([*lines, "  }", ""])


def _validate_pod(e: _Errors, obj: Obj, old: Obj | None) -> None:
    _validate_pod_spec(e, _d(obj, "spec"), "spec")
    for i, c in _indexed(_l(_d(obj, "spec"), "ephemeralContainers")):
        _validate_container(e, c, _i("spec.ephemeralContainers", i), set())
    if old is not None:
        new_spec, old_spec = _mutable_pod_spec(_d(obj, "spec")), _mutable_pod_spec(_d(old, "spec"))
        if new_spec != old_spec:
            e.forbidden(
                "spec",
                "pod updates may not change fields other than `spec.containers[*].image`,"
                "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
                "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
                "(allow it to be set to 1 if it was previously negative)\n",
            )


def _mutable_pod_spec(spec: Obj) -> Obj:
    """The pod spec without the fields a pod update may change."""
    out = {
        k: v
        for k, v in spec.items()
        if k not in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds")
    }
    for key in ("containers", "initContainers"):
        out[key] = [{k: v for k, v in c.items() if k != "image"} for _, c in _indexed(_l(spec, key))]
    return out


def _validate_service_account(e: _Errors, obj: Obj, old: Obj | None) -> None:
    for i, ref in _indexed(_l(obj, "imagePullSecrets")):
        if not _s(ref, "name"):
            e.required(_c(_i("imagePullSecrets", i), "name"))


def _validate_endpoints(e: _Errors, obj: Obj, old: Obj | None) -> None:
    for i, subset in _indexed(_l(obj, "subsets")):
        p = _i("subsets", i)
        for j, port in _indexed(_l(subset, "ports")):
            pp = _i(_c(p, "ports"), j)
            if len(_l(subset, "ports")) > 1 and not _s(port, "name"):
                e.required(_c(pp, "name"))
            e.each(_c(pp, "port"), _n(port, "port"), is_valid_port_num(_n(port, "port")))


# ---------------------------------------------------------------------- other groups


def _validate_ingress(e: _Errors, obj: Obj, old: Obj | None) -> None:
    spec = _d(obj, "spec")
    if not _l(spec, "rules") and spec.get("defaultBackend") is None:
        e.invalid(
            "spec",
            GoText("networking.IngressSpec{...}"),
            "either `defaultBackend` or `rules` must be specified",
        )
    for i, rule in _indexed(_l(spec, "rules")):
        p = _i("spec.rules", i)
        host = _s(rule, "host")
        if host:
            check = host[2:] if host.startswith("*.") else host
            e.each(_c(p, "host"), host, is_dns1123_subdomain(check))
        for j, hpath in _indexed(_l(_d(rule, "http"), "paths")):
            pp = _i(_c(p, "http", "paths"), j)
            ptype = hpath.get("pathType")
            if ptype is None:
                e.required(_c(pp, "pathType"), "pathType must be specified")
            elif ptype not in ("Exact", "ImplementationSpecific", "Prefix"):
                e.not_supported(_c(pp, "pathType"), ptype, ["Exact", "ImplementationSpecific", "Prefix"])
            elif ptype in ("Exact", "Prefix") and not _s(hpath, "path").startswith("/"):
                e.invalid(_c(pp, "path"), _s(hpath, "path"), "must be an absolute path")
            service = _d(_d(hpath, "backend"), "service")
            if service:
                e.each(
                    _c(pp, "backend", "service", "name"),
                    _s(service, "name"),
                    is_dns1035_label(_s(service, "name")),
                )


def _validate_network_policy(e: _Errors, obj: Obj, old: Obj | None) -> None:
    spec = _d(obj, "spec")
    _validate_label_selector(e, spec.get("podSelector"), "spec.podSelector")
    for i, ptype in enumerate(_l(spec, "policyTypes")):
        if ptype not in ("Ingress", "Egress"):
            e.not_supported(_i("spec.policyTypes", i), ptype, ["Ingress", "Egress"])
    for direction in ("ingress", "egress"):
        for i, rule in _indexed(_l(spec, direction)):
            for j, port in _indexed(_l(rule, "ports")):
                pp = _i(_c(_i(f"spec.{direction}", i), "ports"), j)
                protocol = port.get("protocol")
                if protocol is not None and protocol not in _PROTOCOLS:
                    e.not_supported(_c(pp, "protocol"), protocol, _PROTOCOLS)
                if port.get("port") is not None:
                    _validate_port_num_or_name(e, port["port"], _c(pp, "port"))


_RBAC_GROUP = "rbac.authorization.k8s.io"


def _validate_role(e: _Errors, obj: Obj, old: Obj | None) -> None:
    cluster = obj.get("kind") == "ClusterRole"
    for i, rule in _indexed(_l(obj, "rules")):
        p = _i("rules", i)
        if not _l(rule, "verbs"):
            e.required(_c(p, "verbs"), "verbs must contain at least one value")
        if _l(rule, "nonResourceURLs"):
            if not cluster:
                e.invalid(
                    _c(p, "nonResourceURLs"),
                    go_strings(_l(rule, "nonResourceURLs")),
                    "namespaced rules cannot apply to non-resource URLs",
                )
            if _l(rule, "apiGroups") or _l(rule, "resources") or _l(rule, "resourceNames"):
                e.invalid(
                    _c(p, "nonResourceURLs"),
                    go_strings(_l(rule, "nonResourceURLs")),
                    "rules cannot apply to both regular resources and non-resource URLs",
                )
            continue
        if not _l(rule, "apiGroups"):
            e.required(_c(p, "apiGroups"), "resource rules must supply at least one api group")
        if not _l(rule, "resources"):
            e.required(_c(p, "resources"), "resource rules must supply at least one resource")


def _validate_binding(e: _Errors, obj: Obj, old: Obj | None) -> None:
    cluster = obj.get("kind") == "ClusterRoleBinding"
    ref = _d(obj, "roleRef")
    if _s(ref, "apiGroup") != _RBAC_GROUP:
        e.not_supported("roleRef.apiGroup", _s(ref, "apiGroup"), [_RBAC_GROUP])
    kinds = ["ClusterRole"] if cluster else ["Role", "ClusterRole"]
    if _s(ref, "kind") not in kinds:
        e.not_supported("roleRef.kind", _s(ref, "kind"), kinds)
    if not _s(ref, "name"):
        e.required("roleRef.name")
    else:
        e.each("roleRef.name", _s(ref, "name"), path_segment_name(_s(ref, "name"), False))
    for i, subject in _indexed(_l(obj, "subjects")):
        p = _i("subjects", i)
        name, kind, group = _s(subject, "name"), _s(subject, "kind"), _s(subject, "apiGroup")
        if not name:
            e.required(_c(p, "name"))
        if kind == "ServiceAccount":
            if name:
                e.each(_c(p, "name"), name, name_is_dns_subdomain(name, False))
            if group:
                e.not_supported(_c(p, "apiGroup"), group, [""])
            if cluster and not _s(subject, "namespace"):
                e.required(_c(p, "namespace"))
        elif kind in ("User", "Group"):
            if group != _RBAC_GROUP:
                e.not_supported(_c(p, "apiGroup"), group, [_RBAC_GROUP])
        else:
            e.not_supported(_c(p, "kind"), kind, ["ServiceAccount", "User", "Group"])
    if old is not None and obj.get("roleRef") != old.get("roleRef"):
        e.invalid(
            "roleRef",
            GoText(
                f"rbac.RoleRef{{APIGroup:{_q(_s(ref, 'apiGroup'))}, Kind:{_q(_s(ref, 'kind'))}, Name:{_q(_s(ref, 'name'))}}}"
            ),
            "cannot change roleRef",
        )


def _validate_lease(e: _Errors, obj: Obj, old: Obj | None) -> None:
    spec = _d(obj, "spec")
    duration = spec.get("leaseDurationSeconds")
    if isinstance(duration, int) and duration <= 0:
        e.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0")
    _nonnegative(e, spec, "leaseTransitions", "spec")


def _validate_endpoint_slice(e: _Errors, obj: Obj, old: Obj | None) -> None:
    address_type = _s(obj, "addressType")
    if address_type not in ("IPv4", "IPv6", "FQDN"):
        e.not_supported("addressType", address_type, ["FQDN", "IPv4", "IPv6"])
    for i, endpoint in _indexed(_l(obj, "endpoints")):
        addresses = _l(endpoint, "addresses")
        if not 1 <= len(addresses) <= 100:
            e.required(_c(_i("endpoints", i), "addresses"), "must contain at least 1 address")
    for i, port in _indexed(_l(obj, "ports")):
        name = _s(port, "name")
        if name:
            e.each(_c(_i("ports", i), "name"), name, is_dns1123_label(name))
    if old is not None and obj.get("addressType") != old.get("addressType"):
        e.invalid("addressType", address_type, "field is immutable")


def _validate_hpa(e: _Errors, obj: Obj, old: Obj | None) -> None:
    spec, path = _d(obj, "spec"), "spec"
    minimum = spec.get("minReplicas")
    maximum = _n(spec, "maxReplicas")
    if isinstance(minimum, int) and minimum < 1:
        e.invalid(_c(path, "minReplicas"), minimum, "must be greater than or equal to 1")
    if maximum < 1:
        e.invalid(_c(path, "maxReplicas"), maximum, "must be greater than 0")
    if isinstance(minimum, int) and maximum < minimum:
        e.invalid(_c(path, "maxReplicas"), maximum, "must be greater than or equal to `minReplicas`")
    ref = _d(spec, "scaleTargetRef")
    if not _s(ref, "kind"):
        e.required(_c(path, "scaleTargetRef", "kind"))
    else:
        e.each(_c(path, "scaleTargetRef", "kind"), _s(ref, "kind"), path_segment_name(_s(ref, "kind"), False))
    if not _s(ref, "name"):
        e.required(_c(path, "scaleTargetRef", "name"))
    else:
        e.each(_c(path, "scaleTargetRef", "name"), _s(ref, "name"), path_segment_name(_s(ref, "name"), False))


def _validate_pdb(e: _Errors, obj: Obj, old: Obj | None) -> None:
    spec = _d(obj, "spec")
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        e.invalid(
            "spec",
            GoText("policy.PodDisruptionBudgetSpec{...}"),
            "minAvailable and maxUnavailable cannot be both set",
        )
    for key in ("minAvailable", "maxUnavailable"):
        if spec.get(key) is not None:
            _positive_int_or_percent(e, spec[key], _c("spec", key))
            _not_more_than_100(e, spec[key], _c("spec", key))
    _validate_label_selector(e, spec.get("selector"), "spec.selector")
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in ("AlwaysAllow", "IfHealthyBudget"):
        e.not_supported("spec.unhealthyPodEvictionPolicy", policy, ["AlwaysAllow", "IfHealthyBudget"])


def _validate_storage_class(e: _Errors, obj: Obj, old: Obj | None) -> None:
    provisioner = _s(obj, "provisioner")
    if not provisioner:
        e.required("provisioner")
    elif len(provisioner) > 63:
        e.too_long("provisioner", 63)
    policy = obj.get("reclaimPolicy")
    if policy not in (None, "Delete", "Retain"):
        e.not_supported("reclaimPolicy", policy, ["Delete", "Retain"])
    mode = obj.get("volumeBindingMode")
    if mode not in (None, "Immediate", "WaitForFirstConsumer"):
        e.not_supported("volumeBindingMode", mode, ["Immediate", "WaitForFirstConsumer"])
    if old is not None:
        if obj.get("parameters") != old.get("parameters"):
            e.forbidden("parameters", "updates to parameters are forbidden.")
        if obj.get("provisioner") != old.get("provisioner"):
            e.forbidden("provisioner", "updates to provisioner are forbidden.")
        if obj.get("reclaimPolicy") != old.get("reclaimPolicy"):
            e.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden.")
        if obj.get("volumeBindingMode") != old.get("volumeBindingMode"):
            e.invalid("volumeBindingMode", obj.get("volumeBindingMode"), "field is immutable")


def _validate_ingress_class(e: _Errors, obj: Obj, old: Obj | None) -> None:
    controller = _s(_d(obj, "spec"), "controller")
    if not controller:
        e.required("spec.controller")
    if old is not None and controller != _s(_d(old, "spec"), "controller"):
        e.invalid("spec.controller", controller, "field is immutable")


def _validate_crd(e: _Errors, obj: Obj, old: Obj | None) -> None:
    spec = _d(obj, "spec")
    names, group = _d(spec, "names"), _s(spec, "group")
    path = "spec"
    if not group:
        e.required(_c(path, "group"))
    elif is_dns1123_subdomain(group):
        e.invalid(_c(path, "group"), group, ",".join(is_dns1123_subdomain(group)))
    elif len(group.split(".")) < 2:
        e.invalid(_c(path, "group"), group, "should be a domain with at least one dot")
    scope = _s(spec, "scope")
    if not scope:
        e.required(_c(path, "scope"))
    elif scope not in ("Cluster", "Namespaced"):
        e.not_supported(_c(path, "scope"), scope, ["Cluster", "Namespaced"])
    versions = _l(spec, "versions")
    storage = 0
    seen: set[str] = set()
    unique = True
    for i, version in _indexed(versions):
        vpath = _i(_c(path, "versions"), i)
        vname = _s(version, "name")
        storage += version.get("storage") is True
        unique = unique and vname not in seen
        seen.add(vname)
        errs = is_dns1035_label(vname)
        if errs:
            e.invalid(_c(vpath, "name"), vname, ",".join(errs))
        root = _d(_d(version, "schema"), "openAPIV3Schema")
        if not root:
            e.required(_c(vpath, "schema", "openAPIV3Schema"), "schemas are required")
        else:
            _validate_structural(e, root, _c(vpath, "schema", "openAPIV3Schema"), True)
    versions_value = GoText("[]apiextensions.CustomResourceDefinitionVersion{...}")
    if not unique:
        e.invalid(_c(path, "versions"), versions_value, "must contain unique version names")
    if storage != 1:
        e.invalid(
            _c(path, "versions"), versions_value, "must have exactly one version marked as storage version"
        )
    if not versions:
        e.required(_c(path, "versions"), "must have exactly one version marked as storage version")
    npath = _c(path, "names")
    for key in ("plural", "singular"):
        value = _s(names, key)
        if not value:
            e.required(_c(npath, key))
        elif is_dns1035_label(value):
            e.invalid(_c(npath, key), value, ",".join(is_dns1035_label(value)))
    for key in ("kind", "listKind"):
        value = _s(names, key)
        if not value:
            e.required(_c(npath, key))
        elif is_dns1035_label(value.lower()):
            e.invalid(
                _c(npath, key),
                value,
                "may have mixed case, but should otherwise match: "
                + ",".join(is_dns1035_label(value.lower())),
            )
    for i, short in enumerate(_l(names, "shortNames")):
        if is_dns1035_label(str(short)):
            e.invalid(_i(_c(npath, "shortNames"), i), short, ",".join(is_dns1035_label(str(short))))
    if _s(names, "kind") and _s(names, "kind") == _s(names, "listKind"):
        e.invalid(_c(npath, "listKind"), _s(names, "listKind"), "kind and listKind may not be the same")
    strategy = _s(_d(spec, "conversion"), "strategy")
    if strategy not in ("None", "Webhook"):
        e.not_supported(_c(path, "conversion", "strategy"), strategy, ["None", "Webhook"])
    if old is not None:
        if _s(spec, "scope") != _s(_d(old, "spec"), "scope"):
            e.invalid(_c(path, "scope"), scope, "field is immutable")
        if _s(names, "plural") != _s(_d(_d(old, "spec"), "names"), "plural"):
            e.invalid(_c(npath, "plural"), _s(names, "plural"), "field is immutable")


def _validate_structural(e: _Errors, node: Obj, path: str, root: bool) -> None:
    """The structural-schema rule that every specified node has a ``type`` (apiextensions
    ``schema.ValidateStructural``), except int-or-string and preserve-unknown-fields nodes."""
    untyped_ok = node.get("x-kubernetes-int-or-string") or node.get("x-kubernetes-preserve-unknown-fields")
    if not node.get("type") and not untyped_ok:
        if root:
            e.required(_c(path, "type"), "must not be empty at the root")
        else:
            e.required(_c(path, "type"), "must not be empty for specified object fields")
    for key, child in _d(node, "properties").items():
        if isinstance(child, dict):
            _validate_structural(e, child, _k(_c(path, "properties"), key), False)
    items = node.get("items")
    if isinstance(items, dict):
        if not items.get("type") and not (
            items.get("x-kubernetes-int-or-string") or items.get("x-kubernetes-preserve-unknown-fields")
        ):
            e.required(_c(path, "items", "type"), "must not be empty for specified array items")
        _validate_structural_children(e, items, _c(path, "items"))
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        _validate_structural_children(e, extra, _c(path, "additionalProperties"))


def _validate_structural_children(e: _Errors, node: Obj, path: str) -> None:
    for key, child in _d(node, "properties").items():
        if isinstance(child, dict):
            _validate_structural(e, child, _k(_c(path, "properties"), key), False)
    if isinstance(node.get("items"), dict):
        _validate_structural(e, node["items"], _c(path, "items"), False)


# ------------------------------------------------------------------------- dispatch

_Validator = Callable[[_Errors, Obj, Obj | None], None]

_NAME_FNS: dict[tuple[str, str], NameFn] = {
    ("", "Service"): name_is_dns1035_label,
    ("", "Namespace"): name_is_dns_label,
    ("rbac.authorization.k8s.io", "Role"): path_segment_name,
    ("rbac.authorization.k8s.io", "ClusterRole"): path_segment_name,
    ("rbac.authorization.k8s.io", "RoleBinding"): path_segment_name,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): path_segment_name,
}

_VALIDATORS: dict[tuple[str, str], _Validator] = {
    ("", "Pod"): _validate_pod,
    ("", "Service"): _validate_service,
    ("", "ConfigMap"): _validate_config_map,
    ("", "Secret"): _validate_secret,
    ("", "Namespace"): _validate_namespace,
    ("", "PersistentVolumeClaim"): _validate_pvc,
    ("", "ServiceAccount"): _validate_service_account,
    ("", "Endpoints"): _validate_endpoints,
    ("apps", "Deployment"): _validate_deployment,
    ("apps", "ReplicaSet"): _validate_replica_set,
    ("apps", "StatefulSet"): _validate_stateful_set,
    ("apps", "DaemonSet"): _validate_daemon_set,
    ("batch", "Job"): _validate_job,
    ("batch", "CronJob"): _validate_cron_job,
    ("networking.k8s.io", "Ingress"): _validate_ingress,
    ("networking.k8s.io", "IngressClass"): _validate_ingress_class,
    ("networking.k8s.io", "NetworkPolicy"): _validate_network_policy,
    ("rbac.authorization.k8s.io", "Role"): _validate_role,
    ("rbac.authorization.k8s.io", "ClusterRole"): _validate_role,
    ("rbac.authorization.k8s.io", "RoleBinding"): _validate_binding,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _validate_binding,
    ("coordination.k8s.io", "Lease"): _validate_lease,
    ("discovery.k8s.io", "EndpointSlice"): _validate_endpoint_slice,
    ("autoscaling", "HorizontalPodAutoscaler"): _validate_hpa,
    ("policy", "PodDisruptionBudget"): _validate_pdb,
    ("storage.k8s.io", "StorageClass"): _validate_storage_class,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _validate_crd,
}


def _builtin(group: str, version: str, kind: str) -> resources.ResourceType | None:
    for rt in resources.BUILTIN:
        if (rt.group, rt.version, rt.kind) == (group, version, kind):
            return rt
    return None


def validate(group: str, version: str, kind: str, obj: Obj, old: Obj | None = None) -> list[Cause]:
    """The field errors a 1.32 server finds on create (``old`` None) or update of a defaulted
    built-in object. Other kinds get the generic ObjectMeta checks only (custom resources:
    :func:`validate_custom`)."""
    e = _Errors()
    meta = _d(obj, "metadata")
    rt = _builtin(group, version, kind)
    namespaced = rt.namespaced if rt is not None else bool(meta.get("namespace"))
    name_fn = _NAME_FNS.get((group, kind), name_is_dns_subdomain)
    if (group, kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
        spec = _d(obj, "spec")
        required = f"{_s(_d(spec, 'names'), 'plural')}.{_s(spec, 'group')}"

        def name_fn(name: str, prefix: bool) -> list[str]:
            errs = name_is_dns_subdomain(name, prefix)
            return [*errs, 'must be spec.names.plural+"."+spec.group'] if name != required else errs

    if old is None:
        _validate_object_meta(e, meta, namespaced, name_fn)
    else:
        _validate_object_meta_update(e, meta, _d(old, "metadata"))
        _validate_object_meta(e, meta, namespaced, name_fn)
    validator = _VALIDATORS.get((group, kind))
    if validator is not None:
        validator(e, obj, old)
    return e.causes


# --------------------------------------------------------------------- custom resources

_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "null"


def validate_custom(obj: Obj, node: schema.TypeNode) -> list[Cause]:
    """OpenAPI schema validation of a custom resource (kube-openapi's validator as the CRD
    handler runs it): wrong types, missing required fields, enums. Messages as
    ``spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"``."""
    e = _Errors()
    _check_schema(e, obj, node.node, "", True)
    return e.causes


def _check_schema(e: _Errors, value: Any, node: Obj, path: str, root: bool) -> None:
    if value is None:
        if node.get("nullable"):
            return
        if not root:
            e._add(
                INVALID,
                path,
                f'Invalid value: "null": {path} in body must be of type {node.get("type", "object")}: "null"',
            )
        return
    expected = node.get("type")
    typed = (
        isinstance(expected, str) and expected in _JSON_TYPES and not node.get("x-kubernetes-int-or-string")
    )
    if typed and not _JSON_TYPES[str(expected)](value):
        kind = _json_kind(value)
        e._add(INVALID, path, f'Invalid value: "{kind}": {path} in body must be of type {expected}: "{kind}"')
        return
    if node.get("x-kubernetes-int-or-string") and not (
        isinstance(value, int | str) and not isinstance(value, bool)
    ):
        kind = _json_kind(value)
        e._add(
            INVALID, path, f'Invalid value: "{kind}": {path} in body must be of type integer,string: "{kind}"'
        )
        return
    enum = node.get("enum")
    if isinstance(enum, list) and value not in enum:
        e.not_supported(path, value, [str(v) for v in enum])
    if isinstance(value, dict):
        props = node.get("properties") if isinstance(node.get("properties"), dict) else {}
        for required in node.get("required") or []:
            if required not in value and not (root and required in ("apiVersion", "kind", "metadata")):
                e.required(_c(path, required))
        for key, child_value in value.items():
            if root and key in ("apiVersion", "kind", "metadata"):
                continue
            child = props.get(key) if props else None
            if child is None and isinstance(node.get("additionalProperties"), dict):
                child = node["additionalProperties"]
            if isinstance(child, dict):
                _check_schema(e, child_value, child, _c(path, key), False)
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for i, item in enumerate(value):
            _check_schema(e, item, node["items"], _i(path, i), False)


# ------------------------------------------------------------- decoding: unknown fields


def _embedded(node: schema.TypeNode) -> bool:
    return bool(node.node.get("x-kubernetes-embedded-resource"))


def _walk_unknown(obj: Any, node: schema.TypeNode, path: str, out: list[str], prune: bool) -> None:
    kind = node.kind
    if isinstance(obj, dict) and kind in ("struct", "map"):
        for key in list(obj):
            child = node.field(key)
            sub = _c(path, key)
            if child is None and _embedded(node) and key in ("apiVersion", "kind", "metadata"):
                child = schema.object_meta() if key == "metadata" else schema.untyped()
            if child is None:
                if prune:
                    del obj[key]
                elif sub not in out and len(out) < 100:
                    out.append(sub)
                continue
            _walk_unknown(obj[key], child, sub, out, prune)
    elif isinstance(obj, list) and kind == "list":
        items = node.items()
        for i, item in enumerate(obj):
            _walk_unknown(item, items, _i(path, i), out, prune)


def unknown_fields(obj: Obj, node: schema.TypeNode) -> list[str]:
    """Paths of fields the schema does not declare, in document order, as strict decoding
    reports them (``spec.template.spec.containers[0].bogus``; map keys join with dots)."""
    out: list[str] = []
    _walk_unknown(obj, node, "", out, False)
    return out


def prune_unknown(obj: Obj, node: schema.TypeNode) -> None:
    """Drop undeclared fields in place (decoding into Go structs; CRD structural pruning, which
    keeps everything under ``x-kubernetes-preserve-unknown-fields``)."""
    _walk_unknown(obj, node, "", [], True)


# ---------------------------------------------------------------- decoding: JSON types

_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def _go_type(node: schema.TypeNode) -> str:
    """The Go type a schema node decodes into, as ``reflect.Type.String()`` prints it."""
    if node.ref_name:
        parts = node.ref_name.split(".")
        if node.ref_name == quantity.QUANTITY_REF:
            return "resource.Quantity"
        if node.ref_name.endswith("util.intstr.IntOrString"):
            return "intstr.IntOrString"
        if node.kind == "struct":
            return f"{parts[-2]}.{parts[-1]}"
    kind = node.kind
    if kind == "list":
        return "[]" + _go_type(node.items())
    if kind == "map":
        return "map[string]" + _go_type(node.field("") or schema.untyped())
    types = node.scalar_types
    fmt = node.node.get("format")
    if "integer" in types:
        return str(fmt) if fmt in ("int32", "int64") else "int"
    if "number" in types:
        return "float64"
    if "boolean" in types:
        return "bool"
    if "string" in types:
        return "[]uint8" if fmt == "byte" else "string"
    if kind == "struct":
        return "struct"
    return "interface {}"


def _json_value_word(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _number_literal(value: int | float) -> str:
    return str(value) if isinstance(value, int) else repr(value)


class _DecodeError(Exception):
    pass


def _type_error(word: str, go_type: str, struct: str, fields: list[str]) -> _DecodeError:
    if struct or fields:
        return _DecodeError(
            f"json: cannot unmarshal {word} into Go struct field {struct}.{'.'.join(fields)} of type {go_type}"
        )
    return _DecodeError(f"json: cannot unmarshal {word} into Go value of type {go_type}")


def _check_types(value: Any, node: schema.TypeNode, struct: str, fields: list[str]) -> None:
    """Decode ``value`` into ``node``'s Go type; raise the first error encoding/json reports."""
    if value is None:
        return  # null decodes into anything (zero value or nil)
    ref = node.ref_name
    if ref == quantity.QUANTITY_REF:
        try:
            quantity.parse(value if isinstance(value, str | int | float) else "{")
        except ValueError as err:
            raise _DecodeError(getattr(err, "detail", str(err))) from None
        return
    if ref.endswith("util.intstr.IntOrString"):
        if isinstance(value, str):
            return
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and _INT_RANGES["int32"][0] <= value <= _INT_RANGES["int32"][1]
        ):
            return
        word = (
            f"number {_number_literal(value)}"
            if isinstance(value, int | float) and not isinstance(value, bool)
            else _json_value_word(value)
        )
        raise _type_error(word, "int32", struct, fields)
    if ref.endswith("apis.meta.v1.Time") or ref.endswith("apis.meta.v1.MicroTime"):
        if not isinstance(value, str):
            raise _type_error(_json_value_word(value), "string", struct, fields)
        return
    kind = node.kind
    word = _json_value_word(value)
    if kind == "untyped":
        return
    if kind == "struct":
        if not isinstance(value, dict):
            raise _type_error(word, _go_type(node), struct, fields)
        name = node.ref_name.split(".")[-1] if node.ref_name else struct
        for key, sub in value.items():
            child = node.field(key)
            if child is not None:
                _check_types(sub, child, name, [*fields, key])
        return
    if kind == "map":
        if not isinstance(value, dict):
            raise _type_error(word, _go_type(node), struct, fields)
        elem = node.field("") or schema.untyped()
        for sub in value.values():
            _check_types(sub, elem, struct, fields)
        return
    if kind == "list":
        if not isinstance(value, list):
            raise _type_error(word, _go_type(node), struct, fields)
        for item in value:
            _check_types(item, node.items(), struct, fields)
        return
    go_type = _go_type(node)
    if go_type in ("int32", "int64", "int"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _type_error(word, go_type, struct, fields)
        lo, hi = _INT_RANGES.get(go_type, _INT_RANGES["int64"])
        if isinstance(value, float) or not lo <= value <= hi:
            raise _type_error(f"number {_number_literal(value)}", go_type, struct, fields)
    elif go_type == "float64":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _type_error(word, go_type, struct, fields)
    elif go_type == "bool":
        if not isinstance(value, bool):
            raise _type_error(word, go_type, struct, fields)
    elif go_type == "[]uint8":
        if not isinstance(value, str):
            raise _type_error(word, go_type, struct, fields)
        try:
            go_base64_decode(value)
        except ValueError as err:
            raise _DecodeError(str(err)) from None
    elif go_type == "string" and not isinstance(value, str):
        raise _type_error(word, go_type, struct, fields)


def type_errors(obj: Obj, node: schema.TypeNode) -> list[str]:
    """The 400 message decoding ``obj`` into the built-in Go type fails with (empty when it
    decodes), e.g. ``Deployment in version "v1" cannot be handled as a Deployment: json: cannot
    unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32``.

    Custom resources decode into unstructured maps: their type problems are 422s from
    :func:`validate_custom` instead, so they get an empty list here.
    """
    if not node.ref_name:
        return []
    kind = _s(obj, "kind") or node.ref_name.split(".")[-1]
    api_version = _s(obj, "apiVersion")
    version = api_version.rsplit("/", 1)[-1]
    try:
        _check_types(obj, node, "", [])
    except _DecodeError as err:
        return [
            f"{kind} in version {_q(version)} cannot be handled as a {node.ref_name.split('.')[-1]}: {err}"
        ]
    return []


__all__ = [
    "Cause",
    "GoText",
    "go_map",
    "go_selector",
    "go_strings",
    "invalid_message",
    "is_config_map_key",
    "is_dns1035_label",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_qualified_name",
    "is_valid_label_value",
    "prune_unknown",
    "selector_matches",
    "type_errors",
    "unknown_fields",
    "validate",
    "validate_custom",
]


def _validate_surge_and_unavailable(e: _Errors, rolling: Obj, rpath: str) -> None:
    """maxSurge/maxUnavailable of a Deployment or DaemonSet rolling update (apps validation.go
    ValidateRollingUpdateDeployment / ValidateRollingUpdateDaemonSet share these rules)."""
    unavailable, surge = rolling.get("maxUnavailable", 0), rolling.get("maxSurge", 0)
    _positive_int_or_percent(e, unavailable, _c(rpath, "maxUnavailable"))
    _positive_int_or_percent(e, surge, _c(rpath, "maxSurge"))
    if _int_or_percent_value(unavailable) == 0 and _int_or_percent_value(surge) == 0:
        e.invalid(
            _c(rpath, "maxUnavailable"), int_or_string(unavailable), "may not be 0 when `maxSurge` is 0"
        )
    _not_more_than_100(e, unavailable, _c(rpath, "maxUnavailable"))
