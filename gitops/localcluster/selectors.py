"""Label and field selectors as kube-apiserver 1.32 parses and matches them (pure).

Contract:

* :func:`parse_label_selector` is ``labels.Parse`` (``k8s.io/apimachinery/pkg/labels/selector.go``):
  the same lexer, the same recursive-descent parser, the same key/value validation
  (``util/validation``) and the same error texts. An empty string selects everything.
* :func:`label_selector_from_meta` is ``metav1.LabelSelectorAsSelector``: ``None`` selects
  nothing, ``{}`` selects everything.
* :func:`parse_field_selector` is ``fields.ParseSelector`` (``pkg/fields/selector.go``, with its
  backslash escaping) followed by the apiserver's ``Transform`` through the kind's field-label
  conversion (``Scheme.ConvertFieldLabel``), so an unsupported field fails exactly as on a
  real server. :meth:`FieldSelector.matches` evaluates the kind's ``GetAttrs`` field set
  (``pkg/registry/*/strategy.go``) on a v1 object.
* Every failure raises :class:`SelectorError` whose message is the text of the real server's
  ``400 BadRequest`` Status (the list handler wraps the raw error in ``NewBadRequest``).

Which fields each kind accepts is registered in ``pkg/apis/core/v1/conversion.go`` (Pod, Node,
Event, Namespace, Secret, Service) and ``pkg/apis/batch/v1/conversion.go`` (Job); every other
built-in kind falls back to ``runtime.DefaultMetaV1FieldSelectorConversion`` (``metadata.name``,
``metadata.namespace``). Note that apps/v1 registers no conversion, so ``status.replicas`` on
ReplicaSets is rejected although ``ReplicaSetToSelectableFields`` lists it (kubernetes#135136).
Custom resources follow ``crConverter.ConvertFieldLabel`` (apiextensions-apiserver
``pkg/apiserver/conversion/converter.go``): ``metadata.name``, ``metadata.namespace`` when
namespaced, and the version's ``selectableFields``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gitops.localcluster import validation

__all__ = [
    "FieldRequirement",
    "FieldSelector",
    "LabelSelector",
    "Requirement",
    "SelectorError",
    "field_set",
    "go_quote",
    "label_selector_from_meta",
    "parse_field_selector",
    "parse_label_selector",
]


class SelectorError(ValueError):
    """A selector the real server refuses; ``str(err)`` is the 400 Status message."""


# --- Go formatting helpers -------------------------------------------------------------------

_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(s: str) -> str:
    """Go's ``%q`` / ``strconv.Quote`` of a string (printable runes kept, others escaped)."""
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def _go_sharp_v_strings(values: list[str] | None) -> str:
    """``fmt.Sprintf("%#v", []string{...})``: how ``field.Invalid`` prints a bad value list."""
    if values is None:
        return "[]string(nil)"
    return "[]string{" + ", ".join(go_quote(v) for v in values) + "}"


# --- util/validation: IsQualifiedName, IsValidLabelValue live in validation.py ----------------


def _invalid(path: str, bad_value: str, detail: str) -> str:
    """``field.Invalid(path, value, detail).Error()`` for a string value."""
    return f"{path}: Invalid value: {bad_value}: {detail}"


def _aggregate(errors: list[str]) -> str:
    """``ErrorList.ToAggregate().Error()``: duplicates dropped, several errors bracketed."""
    unique = list(dict.fromkeys(errors))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


_INT64 = re.compile(r"[+-]?[0-9]+")


def _parse_int64(s: str) -> int | None:
    """``strconv.ParseInt(s, 10, 64)``, or ``None`` where Go returns an error."""
    if not _INT64.fullmatch(s):
        return None
    n = int(s)
    return n if -(2**63) <= n < 2**63 else None


# --- labels: Requirement, LabelSelector ------------------------------------------------------

# selection.Operator values; binaryOperators order feeds the "expected:" message.
_BINARY_OPERATORS = ("in", "notin", "=", "==", "!=", "gt", "lt")
_EXISTS, _DOES_NOT_EXIST = "exists", "!"


@dataclass(frozen=True)
class Requirement:
    """One ``labels.Requirement``: ``key``, a ``selection.Operator`` string, and its values."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """``Requirement.Matches``: ``!=`` and ``notin`` also match labels lacking the key."""
        op, has = self.operator, self.key in labels
        if op in ("in", "=", "=="):
            return has and labels[self.key] in self.values
        if op in ("notin", "!="):
            return not has or labels[self.key] not in self.values
        if op == _EXISTS:
            return has
        if op == _DOES_NOT_EXIST:
            return not has
        if op in ("gt", "lt"):
            if not has or len(self.values) != 1:
                return False
            have, want = _parse_int64(labels[self.key]), _parse_int64(self.values[0])
            if have is None or want is None:
                return False
            return have > want if op == "gt" else have < want
        return False

    def __str__(self) -> str:
        """``Requirement.String``: values sorted on output."""
        if self.operator == _DOES_NOT_EXIST:
            return "!" + self.key
        if self.operator == _EXISTS:
            return self.key
        values = ",".join(sorted(self.values))
        sep = {"=": "=", "==": "==", "!=": "!=", "gt": ">", "lt": "<"}.get(self.operator)
        if sep is not None:
            return f"{self.key}{sep}{values}"
        return f"{self.key} {self.operator} ({values})"


def _new_requirement(key: str, op: str, values: list[str] | None, path: str | None) -> Requirement:
    """``labels.NewRequirement``; ``path`` is the field path (``None`` prints ``<nil>``)."""
    errs: list[str] = []
    key_errs = validation.is_qualified_name(key)
    if key_errs:
        errs.append(_invalid(_child(path, "key"), go_quote(key), "; ".join(key_errs)))
    vals = values or []
    vpath = _child(path, "values")
    if op in ("in", "notin") and not vals:
        errs.append(
            _invalid(
                vpath, _go_sharp_v_strings(values), "for 'in', 'notin' operators, values set can't be empty"
            )
        )
    elif op in ("=", "==", "!=") and len(vals) != 1:
        errs.append(
            _invalid(
                vpath, _go_sharp_v_strings(values), "exact-match compatibility requires one single value"
            )
        )
    elif op in (_EXISTS, _DOES_NOT_EXIST) and vals:
        errs.append(
            _invalid(
                vpath, _go_sharp_v_strings(values), "values set must be empty for exists and does not exist"
            )
        )
    elif op in ("gt", "lt"):
        if len(vals) != 1:
            errs.append(
                _invalid(
                    vpath,
                    _go_sharp_v_strings(values),
                    "for 'Gt', 'Lt' operators, exactly one value is required",
                )
            )
        for i, v in enumerate(vals):
            if _parse_int64(v) is None:
                errs.append(
                    _invalid(
                        f"{vpath}[{i}]", go_quote(v), "for 'Gt', 'Lt' operators, the value must be an integer"
                    )
                )
    for i, v in enumerate(vals):
        value_errs = validation.is_valid_label_value(v)
        if value_errs:
            errs.append(_invalid(f"{vpath}[{i}][{key}]", go_quote(v), "; ".join(value_errs)))
    if errs:
        raise SelectorError(_aggregate(errs))
    return Requirement(key, op, tuple(vals))


def _child(path: str | None, name: str) -> str:
    return name if path is None else f"{path}.{name}"


@dataclass(frozen=True)
class LabelSelector:
    """A parsed label selector: the AND of its requirements, sorted by key as Go sorts them.

    ``nothing`` is ``labels.Nothing()`` (a ``None`` metav1 selector): it matches no object.
    """

    requirements: tuple[Requirement, ...] = ()
    nothing: bool = False

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.nothing:
            return False
        have = labels or {}
        return all(r.matches(have) for r in self.requirements)

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (``Selector.Empty``)."""
        return not self.nothing and not self.requirements

    def __str__(self) -> str:
        """``Selector.String()``: requirements joined by ``,`` (``""`` for everything/nothing)."""
        return ",".join(str(r) for r in self.requirements)


def _sorted_by_key(reqs: Iterable[Requirement]) -> tuple[Requirement, ...]:
    return tuple(sorted(reqs, key=lambda r: r.key.encode()))


# The lexer: tokens are (kind, literal). Kinds mirror selector.go's Token constants.
_SPECIAL = set("=!(),><")
_WHITESPACE = set(" \t\r\n")
_STRING2TOKEN = {
    ")": "CLOSED_PAR",
    ",": "COMMA",
    "!": "DOES_NOT_EXIST",
    "==": "DOUBLE_EQUALS",
    "=": "EQUALS",
    ">": "GREATER_THAN",
    "in": "IN",
    "<": "LESS_THAN",
    "!=": "NOT_EQUALS",
    "notin": "NOT_IN",
    "(": "OPEN_PAR",
}
_IDENT, _EOS = "IDENTIFIER", "END_OF_STRING"


def _lex(s: str) -> list[tuple[str, str]]:
    """``Lexer.Lex`` until end of string; a NUL ends the input as Go's ``read()`` does."""
    items: list[tuple[str, str]] = []
    pos, n = 0, len(s)

    def read() -> str:
        nonlocal pos
        if pos < n:
            pos += 1
            return s[pos - 1]
        return "\0"

    while True:
        ch = read()
        while ch in _WHITESPACE:
            ch = read()
        if ch == "\0":
            items.append((_EOS, ""))
            return items
        pos -= 1
        buf = ""
        if ch in _SPECIAL:
            last: tuple[str, str] | None = None
            while True:
                c = read()
                if c == "\0":
                    break
                if c not in _SPECIAL:
                    pos -= 1
                    break
                buf += c
                if buf in _STRING2TOKEN:
                    last = (_STRING2TOKEN[buf], buf)
                elif last is not None:
                    pos -= 1
                    break
            # every single special character is a token, so ``last`` is always set here
            assert last is not None
            items.append(last)
        else:
            while True:
                c = read()
                if c == "\0":
                    break
                if c in _SPECIAL or c in _WHITESPACE:
                    pos -= 1
                    break
                buf += c
            items.append((_STRING2TOKEN.get(buf, _IDENT), buf))


class _Parser:
    """``labels.Parser``: in the Values context ``in``/``notin`` read as identifiers."""

    def __init__(self, s: str) -> None:
        self.items = _lex(s)
        self.pos = 0

    def lookahead(self, values: bool = True) -> tuple[str, str]:
        tok, lit = self.items[self.pos]
        return (_IDENT if values and tok in ("IN", "NOT_IN") else tok), lit

    def consume(self, values: bool = True) -> tuple[str, str]:
        item = self.lookahead(values)
        self.pos += 1
        return item

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self.lookahead()
            if tok in (_IDENT, "DOES_NOT_EXIST"):
                try:
                    reqs.append(self.requirement())
                except SelectorError as err:
                    raise SelectorError(f"unable to parse requirement: {err}") from None
                tok, lit = self.consume()
                if tok == _EOS:
                    return reqs
                if tok != "COMMA":
                    raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
                tok2, lit2 = self.lookahead()
                if tok2 not in (_IDENT, "DOES_NOT_EXIST"):
                    raise SelectorError(f"found '{lit2}', expected: identifier after ','")
            elif tok == _EOS:
                return reqs
            else:
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def requirement(self) -> Requirement:
        key, op = self.key_and_operator()
        if op in (_EXISTS, _DOES_NOT_EXIST):
            return _new_requirement(key, op, [], None)
        tok, lit = self.consume(values=False)
        op = {
            "IN": "in",
            "EQUALS": "=",
            "DOUBLE_EQUALS": "==",
            "GREATER_THAN": "gt",
            "LESS_THAN": "lt",
            "NOT_IN": "notin",
            "NOT_EQUALS": "!=",
        }.get(tok, "")
        if not op:
            raise SelectorError(f"found '{lit}', expected: {', '.join(_BINARY_OPERATORS)}")
        values = self.set_values() if op in ("in", "notin") else self.exact_value()
        return _new_requirement(key, op, sorted(values, key=str.encode), None)  # sets.String.List()

    def key_and_operator(self) -> tuple[str, str]:
        op = ""
        tok, lit = self.consume()
        if tok == "DOES_NOT_EXIST":
            op = _DOES_NOT_EXIST
            tok, lit = self.consume()
        if tok != _IDENT:
            raise SelectorError(f"found '{lit}', expected: identifier")
        key_errs = validation.is_qualified_name(lit)
        if key_errs:
            raise SelectorError(_invalid("<nil>", go_quote(lit), "; ".join(key_errs)))
        if self.lookahead()[0] in (_EOS, "COMMA") and op != _DOES_NOT_EXIST:
            op = _EXISTS
        return lit, op

    def set_values(self) -> set[str]:
        tok, lit = self.consume()
        if tok != "OPEN_PAR":
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead()
        if tok in (_IDENT, "COMMA"):
            values = self.identifiers()
            if self.consume()[0] != "CLOSED_PAR":
                raise SelectorError(f"found '{lit}', expected: ')'")
            return values
        if tok == "CLOSED_PAR":  # "()"
            self.consume()
            return {""}
        raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")

    def identifiers(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self.consume()
            if tok == _IDENT:
                values.add(lit)
                tok2, lit2 = self.lookahead()
                if tok2 == "CLOSED_PAR":
                    return values
                if tok2 != "COMMA":
                    raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            elif tok == "COMMA":  # "(," ",," ",)" each stand for an empty value
                if not values:
                    values.add("")
                tok2 = self.lookahead()[0]
                if tok2 == "CLOSED_PAR":
                    values.add("")
                    return values
                if tok2 == "COMMA":
                    self.consume()
                    values.add("")
            else:
                raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def exact_value(self) -> set[str]:
        if self.lookahead()[0] in (_EOS, "COMMA"):
            return {""}
        tok, lit = self.consume()
        if tok == _IDENT:
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")


def parse_label_selector(s: str) -> LabelSelector:
    """``labels.Parse``: the ``labelSelector`` query parameter; ``""`` selects everything."""
    return LabelSelector(_sorted_by_key(_Parser(s).parse()))


_META_OPERATORS = {"In": "in", "NotIn": "notin", "Exists": _EXISTS, "DoesNotExist": _DOES_NOT_EXIST}


def label_selector_from_meta(sel: Mapping[str, Any] | None) -> LabelSelector:
    """``metav1.LabelSelectorAsSelector``: ``None`` matches nothing, ``{}`` everything."""
    if sel is None:
        return LabelSelector(nothing=True)
    match_labels: Mapping[str, str] = sel.get("matchLabels") or {}
    expressions: list[Mapping[str, Any]] = sel.get("matchExpressions") or []
    reqs = [_new_requirement(k, "=", [v], None) for k, v in match_labels.items()]
    for expr in expressions:
        op = _META_OPERATORS.get(expr.get("operator", ""))
        if op is None:
            raise SelectorError(
                f"{go_quote(str(expr.get('operator', '')))} is not a valid label selector operator"
            )
        values = list(expr.get("values") or []) or None  # append([]string(nil), ...) stays nil
        reqs.append(_new_requirement(str(expr.get("key", "")), op, values, None))
    return LabelSelector(_sorted_by_key(reqs))


# --- fields ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRequirement:
    """One field term: ``field`` compared with ``=`` or ``!=`` to an unescaped ``value``."""

    field: str
    operator: str  # "=" (also for "==") or "!="
    value: str


FieldsOf = Callable[[Mapping[str, Any]], dict[str, str]]


@dataclass(frozen=True)
class FieldSelector:
    """The AND of field terms, matched against the kind's ``GetAttrs`` field set."""

    requirements: tuple[FieldRequirement, ...]
    fields_of: FieldsOf = field(compare=False, repr=False)

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """``fields.Selector.Matches``: a field the kind does not expose reads as ``""``."""
        if not self.requirements:
            return True
        have = self.fields_of(obj)
        return all((have.get(r.field, "") == r.value) == (r.operator == "=") for r in self.requirements)

    def requires_exact_match(self, field_name: str) -> str | None:
        """The value an ``=`` term demands of ``field_name`` (``RequiresExactMatch``), else None."""
        for r in self.requirements:
            if r.field == field_name and r.operator == "=":
                return r.value
        return None

    @property
    def empty(self) -> bool:
        return not self.requirements


def _split_terms(selector: str) -> list[str]:
    """``splitTerms``: split on commas not escaped by a backslash."""
    if not selector:
        return []
    terms, start, in_slash = [], 0, False
    for i, c in enumerate(selector):
        if in_slash:
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c == ",":
            terms.append(selector[start:i])
            start = i + 1
    terms.append(selector[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    """``splitTerm``: the first ``!=``, ``==`` or ``=`` (checked in that order) splits the term."""
    for i in range(len(term)):
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op) :]
    return None


def _unescape(s: str) -> str:
    """``fields.UnescapeValue``: ``\\\\``, ``\\,`` and ``\\=`` are the only escapes."""
    if not any(c in s for c in "\\,="):
        return s
    out, in_slash = [], False
    for c in s:
        if in_slash:
            if c not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{c}")
            out.append(c)
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c in ",=":
            # UnescapedRune formats the rune with %v, which prints its code point
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(c)}")
        else:
            out.append(c)
    if in_slash:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


# Scheme.ConvertFieldLabel per (group, kind): the accepted labels, renames, and the error text.
_NOT_SUPPORTED = "field label not supported: {label}"
_CONVERSIONS: dict[tuple[str, str], tuple[frozenset[str], str]] = {
    ("", "Pod"): (
        frozenset(
            {
                "metadata.name",
                "metadata.namespace",
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.podIPs",
                "status.nominatedNodeName",
                "spec.host",  # old v1 clients; converted to spec.nodeName
            }
        ),
        _NOT_SUPPORTED,
    ),
    ("", "Node"): (frozenset({"metadata.name", "spec.unschedulable"}), _NOT_SUPPORTED),
    ("", "Event"): (
        frozenset(
            {
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
                "metadata.namespace",
                "metadata.name",
            }
        ),
        _NOT_SUPPORTED,
    ),
    ("", "Namespace"): (frozenset({"status.phase", "metadata.name"}), _NOT_SUPPORTED),
    ("", "Secret"): (frozenset({"type", "metadata.namespace", "metadata.name"}), _NOT_SUPPORTED),
    ("", "Service"): (
        frozenset({"metadata.namespace", "metadata.name", "spec.clusterIP", "spec.type"}),
        _NOT_SUPPORTED,
    ),
    ("batch", "Job"): (
        frozenset({"metadata.name", "metadata.namespace", "status.successful"}),
        "field label {quoted} not supported for batchv1.Job",
    ),
}


def _convert_label(
    group: str, kind: str, label: str, *, custom: bool, namespaced: bool, selectable: frozenset[str]
) -> str:
    if custom:
        if label == "metadata.name" or (namespaced and label == "metadata.namespace") or label in selectable:
            return label
        raise SelectorError(_NOT_SUPPORTED.format(label=label))
    conversion = _CONVERSIONS.get((group, kind))
    if conversion is None:  # runtime.DefaultMetaV1FieldSelectorConversion
        if label in ("metadata.name", "metadata.namespace"):
            return label
        raise SelectorError(
            f'{go_quote(label)} is not a known field selector: only "metadata.name", "metadata.namespace"'
        )
    accepted, message = conversion
    if label not in accepted:
        raise SelectorError(message.format(label=label, quoted=go_quote(label)))
    return "spec.nodeName" if (group, kind, label) == ("", "Pod", "spec.host") else label


def parse_field_selector(
    s: str,
    group: str,
    kind: str,
    *,
    custom: bool = False,
    namespaced: bool = True,
    selectable_fields: Iterable[str] = (),
) -> FieldSelector:
    """Parse the ``fieldSelector`` query parameter for a list of ``group``/``kind``.

    For a custom resource pass ``custom=True``, its scope, and the served version's
    ``selectableFields[].jsonPath`` values (``.spec.color``); such fields are selected as
    ``spec.color``. Terms are validated in sorted order, parse errors before unknown fields,
    as ``parseSelector`` then ``Transform`` do.
    """
    terms = []
    for part in sorted(_split_terms(s), key=str.encode):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise SelectorError(f"invalid selector: '{s}'; can't understand '{part}'")
        lhs, op, rhs = split
        terms.append((lhs, "!=" if op == "!=" else "=", _unescape(rhs)))
    selectable = frozenset(p[1:] if p.startswith(".") else p for p in selectable_fields)
    reqs = []
    for lhs, op, value in terms:
        label = _convert_label(group, kind, lhs, custom=custom, namespaced=namespaced, selectable=selectable)
        reqs.append(FieldRequirement(label, op, value))
    return FieldSelector(tuple(reqs), _fields_function(group, kind, custom, tuple(sorted(selectable))))


# --- GetAttrs field sets ---------------------------------------------------------------------


def _get(obj: Mapping[str, Any], *path: str) -> Any:
    cur: Any = obj
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def _str(obj: Mapping[str, Any], *path: str) -> str:
    value = _get(obj, *path)
    return value if isinstance(value, str) else ""


def _go_bool(value: Any) -> str:
    return "true" if value is True else "false"


def _meta_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    """``generic.ObjectMetaFieldsSet``; cluster-scoped objects have an empty namespace."""
    return {
        "metadata.name": _str(obj, "metadata", "name"),
        "metadata.namespace": _str(obj, "metadata", "namespace"),
    }


def _pod_fields(pod: Mapping[str, Any]) -> dict[str, str]:
    """``pod.ToSelectableFields``; the v1→internal conversion makes ``status.podIP`` win."""
    ip = _str(pod, "status", "podIP")
    ips = _get(pod, "status", "podIPs")
    if not ip and isinstance(ips, list) and ips and isinstance(ips[0], Mapping):
        ip = _str(ips[0], "ip")
    return {
        **_meta_fields(pod),
        "spec.nodeName": _str(pod, "spec", "nodeName"),
        "spec.restartPolicy": _str(pod, "spec", "restartPolicy"),
        "spec.schedulerName": _str(pod, "spec", "schedulerName"),
        "spec.serviceAccountName": _str(pod, "spec", "serviceAccountName"),
        "spec.hostNetwork": _go_bool(_get(pod, "spec", "hostNetwork")),
        "status.phase": _str(pod, "status", "phase"),
        "status.podIP": ip,
        "status.nominatedNodeName": _str(pod, "status", "nominatedNodeName"),
    }


def _event_fields(ev: Mapping[str, Any]) -> dict[str, str]:
    """``event.ToSelectableFields``: ``source`` falls back to ``reportingComponent``."""
    involved = {k: _str(ev, "involvedObject", k) for k in ("kind", "namespace", "name", "uid", "apiVersion")}
    return {
        **_meta_fields(ev),
        **{f"involvedObject.{k}": v for k, v in involved.items()},
        "involvedObject.resourceVersion": _str(ev, "involvedObject", "resourceVersion"),
        "involvedObject.fieldPath": _str(ev, "involvedObject", "fieldPath"),
        "reason": _str(ev, "reason"),
        "reportingComponent": _str(ev, "reportingComponent"),
        "source": _str(ev, "source", "component") or _str(ev, "reportingComponent"),
        "type": _str(ev, "type"),
    }


def _int_field(obj: Mapping[str, Any], *path: str) -> str:
    value = _get(obj, *path)
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else "0"


_FIELD_SETS: dict[tuple[str, str], FieldsOf] = {
    ("", "Pod"): _pod_fields,
    ("", "Event"): _event_fields,
    ("", "Node"): lambda o: {
        **_meta_fields(o),
        "spec.unschedulable": _go_bool(_get(o, "spec", "unschedulable")),
    },
    ("", "Namespace"): lambda o: {
        **_meta_fields(o),
        "status.phase": _str(o, "status", "phase"),
        "name": _str(o, "metadata", "name"),  # "a bug, but we need to support it" (namespace strategy)
    },
    ("", "Secret"): lambda o: {**_meta_fields(o), "type": _str(o, "type")},
    ("", "Service"): lambda o: {
        **_meta_fields(o),
        "spec.clusterIP": _str(o, "spec", "clusterIP"),
        "spec.type": _str(o, "spec", "type"),
    },
    ("batch", "Job"): lambda o: {
        **_meta_fields(o),
        "status.successful": _int_field(o, "status", "succeeded"),
    },
    ("apps", "ReplicaSet"): lambda o: {
        **_meta_fields(o),
        "status.replicas": _int_field(o, "status", "replicas"),
    },
}


def _selectable_value(obj: Mapping[str, Any], name: str) -> str:
    """A CRD selectable field: string, boolean or integer at the path; absent reads as ``""``."""
    value = _get(obj, *name.split("."))
    if isinstance(value, bool):
        return _go_bool(value)
    if isinstance(value, (str, int)):
        return str(value)
    return ""


def _fields_function(group: str, kind: str, custom: bool, selectable: tuple[str, ...]) -> FieldsOf:
    if custom:
        return lambda o: {**_meta_fields(o), **{name: _selectable_value(o, name) for name in selectable}}
    return _FIELD_SETS.get((group, kind), _meta_fields)


def field_set(group: str, kind: str, obj: Mapping[str, Any]) -> dict[str, str]:
    """The fields a built-in ``kind`` exposes to field selectors, as its ``GetAttrs`` builds them."""
    return _FIELD_SETS.get((group, kind), _meta_fields)(obj)
