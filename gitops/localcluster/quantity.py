"""Kubernetes resource quantities, parsed and printed as the 1.32 API server does (pure).

Contract: :func:`parse` accepts what ``resource.ParseQuantity`` accepts and fails with its error
text (as :class:`QuantityError`, a ``ValueError``); :func:`canonicalize` returns the string a
1.32 server writes back for a quantity it decoded from JSON; :func:`canonicalize_object`
rewrites, in place, every quantity-typed value of an object its schema reaches.

The rules come from ``apimachinery/pkg/api/resource/{quantity,suffix,amount,math}.go``:

- a value is exact (``mantissa * 10**exponent``); parsing rounds up (away from zero) to
  nano units and caps BinarySI values at ``2**63-1``;
- the suffix family (DecimalSI ``k M G``, BinarySI ``Ki Mi Gi``, DecimalExponent ``e3``) is
  remembered and reused when printing (``CanonicalizeBytes``), except that BinarySI values
  below 1024 in magnitude or not whole print as DecimalSI;
- printing picks the largest exponent that is a multiple of 3 (of 10 for binary) with no
  fractional digits: ``0.5`` -> ``500m``, ``1024Mi`` -> ``1Gi``, ``0.1Gi`` -> ``107374182400m``;
- the "fast path" of ``ParseQuantity`` keeps the input string verbatim when it already looks
  canonical, so ``+5``, ``05`` and ``1.500`` come back unchanged while ``1000m`` becomes ``1``.

JSON numbers reach us already decoded by Python, so ``1e3`` sent as a number is seen as the float
``1000.0`` (printed ``1k``) where Go would have seen the text ``1e3``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops.localcluster import schema as schema_mod

QUANTITY_REF = "io.k8s.apimachinery.pkg.api.resource.Quantity"

SPLIT_RE = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT_WRONG = f"quantities must match the regular expression '{SPLIT_RE}'"
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"

DECIMAL_SI = "DecimalSI"
BINARY_SI = "BinarySI"
DECIMAL_EXPONENT = "DecimalExponent"

_DIGITS = "0123456789"
_SUFFIX_CHARS = "eEinumkKMGTP"
_DEC_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BIN_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DEC_BY_EXP = {e: s for s, e in _DEC_SUFFIXES.items()}
_BIN_BY_EXP = {e: s for s, e in _BIN_SUFFIXES.items()}
_MAX_INT64 = (1 << 63) - 1
_NANO = -9


class QuantityError(ValueError):
    """A value that is not a quantity; ``detail`` is the Go error text, ``field`` where it was."""

    def __init__(self, detail: str, field: str = "") -> None:
        super().__init__(f"{field}: {detail}" if field else detail)
        self.detail = detail
        self.field = field


@dataclass(frozen=True)
class Quantity:
    """An exact quantity: ``mantissa * 10**exponent`` printed in ``format``.

    ``cached`` is the input text that the Go fast path keeps verbatim (empty otherwise).
    """

    mantissa: int
    exponent: int
    format: str = DECIMAL_SI
    cached: str = ""

    def __str__(self) -> str:
        return self.cached or _canonical(self.mantissa, self.exponent, self.format)

    def sign(self) -> int:
        return (self.mantissa > 0) - (self.mantissa < 0)

    def cmp(self, other: Quantity) -> int:
        """-1, 0 or 1 as ``Quantity.Cmp``."""
        return _cmp(self.mantissa, self.exponent, other.mantissa, other.exponent)

    def round_up(self, scale: int) -> Quantity:
        """``Quantity.RoundUp(scale)``: round away from zero to a multiple of ``10**scale``.

        Like Go, a quantity already at that precision keeps its cached text.
        """
        if self.exponent >= scale:
            return self
        shift = scale - self.exponent
        q = _div_round_up(abs(self.mantissa), shift)
        return Quantity(q if self.mantissa >= 0 else -q, scale, self.format)


def _pow10(n: int) -> int:
    return int(10**n)


def _div_round_up(magnitude: int, shift: int) -> int:
    """ceil(magnitude / 10**shift) without building huge powers of ten."""
    if magnitude == 0:
        return 0
    if shift > len(str(magnitude)) + 1:
        return 1
    q, r = divmod(magnitude, _pow10(shift))
    return q + 1 if r else q


def _cmp(m1: int, e1: int, m2: int, e2: int) -> int:
    s1, s2 = (m1 > 0) - (m1 < 0), (m2 > 0) - (m2 < 0)
    if s1 != s2 or s1 == 0:
        return (s1 > s2) - (s1 < s2)
    d1, d2 = len(str(abs(m1))) + e1, len(str(abs(m2))) + e2
    if d1 != d2:
        return s1 if d1 > d2 else -s1
    e = min(e1, e2)
    a, b = m1 * _pow10(e1 - e), m2 * _pow10(e2 - e)
    return (a > b) - (a < b)


def _canonical(mantissa: int, exponent: int, fmt: str) -> str:
    """``Quantity.CanonicalizeBytes`` plus the suffix, for a value without cached text."""
    if mantissa == 0:
        return "0"
    sign = "-" if mantissa < 0 else ""
    magnitude = abs(mantissa)
    if fmt == BINARY_SI:
        if _cmp(magnitude, exponent, 1024, 0) < 0:
            fmt = DECIMAL_SI  # -1024 < q < 1024: "this avoids rounding and hopefully confusion"
        else:
            whole, frac = (
                (magnitude * _pow10(exponent), 0) if exponent >= 0 else divmod(magnitude, _pow10(-exponent))
            )
            if frac:
                fmt = DECIMAL_SI  # not exact at scale 0: "don't lose precision"
            else:
                times = 0
                while whole >= 1024 and whole % 1024 == 0:
                    whole //= 1024
                    times += 1
                return f"{sign}{whole}{_BIN_BY_EXP.get(times * 10, '')}"
    while magnitude >= 10 and magnitude % 10 == 0:
        magnitude //= 10
        exponent += 1
    rest = exponent % 3  # move down to the multiple of 3 below
    magnitude *= _pow10(rest)
    exponent -= rest
    if fmt == DECIMAL_SI:
        # 1.32 ignores the lookup failure past E (10^18): such values lose their suffix.
        return f"{sign}{magnitude}{_DEC_BY_EXP.get(exponent, '')}"
    return f"{sign}{magnitude}" + (f"e{exponent}" if exponent else "")


def _text(value: Any) -> str:
    """The text ``UnmarshalJSON`` would parse for a decoded JSON value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return value.strip()  # "TODO: Remove support for leading/trailing whitespace"
    raise QuantityError(ERR_FORMAT_WRONG)


def _go_int64(text: str) -> int:
    """strconv.ParseInt(text, 10, 64); ValueError on syntax or range errors."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body or any(c not in _DIGITS for c in body):
        raise ValueError(text)
    n = int(text)
    if not -_MAX_INT64 - 1 <= n <= _MAX_INT64:
        raise ValueError(text)
    return n


def _scan(s: str) -> tuple[bool, str, str, str, str]:
    """``parseQuantityString``: (positive, value, num, denom, suffix)."""
    positive, pos, end = True, 0, len(s)
    if end and s[0] in "+-":
        positive = s[0] == "+"
        pos = 1
    while True:  # strip leading zeros
        if pos >= end:
            return positive, "0", "0", "", ""
        if s[pos] != "0":
            break
        pos += 1
    i = pos
    while i < end and s[i] in _DIGITS:
        i += 1
    if i >= end:
        return positive, s, s[pos:], "", ""
    num, pos = s[pos:i] or "0", i
    denom = ""
    if s[pos] == ".":
        pos += 1
        i = pos
        while i < end and s[i] in _DIGITS:
            i += 1
        if i >= end:
            return positive, s, num, s[pos:], ""
        denom, pos = s[pos:i], i
    value, suffix_start = s[:pos], pos
    while pos < end and s[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and s[pos] in "+-":
        pos += 1
    while pos < end and s[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise QuantityError(ERR_FORMAT_WRONG)
    return positive, value, num, denom, s[suffix_start:]


def _interpret(suffix: str) -> tuple[int, int, str]:
    """``quantitySuffixer.interpret``: (base, exponent, format)."""
    if suffix in _DEC_SUFFIXES:
        return 10, _DEC_SUFFIXES[suffix], DECIMAL_SI
    if suffix in _BIN_SUFFIXES:
        return 2, _BIN_SUFFIXES[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        try:
            parsed = _go_int64(suffix[1:])
        except ValueError:
            raise QuantityError(ERR_SUFFIX) from None
        return 10, (parsed + (1 << 31)) % (1 << 32) - (1 << 31), DECIMAL_EXPONENT  # int32(parsed)
    raise QuantityError(ERR_SUFFIX)


def parse(value: str | int | float) -> Quantity:
    """``resource.ParseQuantity`` of the text a JSON value carries; QuantityError on bad input."""
    text = _text(value)
    if not text:
        raise QuantityError(ERR_FORMAT_WRONG)
    if text == "0":
        return Quantity(0, 0, DECIMAL_SI, "0")
    positive, value_text, num, denom, suffix = _scan(text)
    base, exponent, fmt = _interpret(suffix)

    # The int64 fast path; the quantity keeps `text` when it is already in canonical form.
    mantissa, scale = 1, 0
    if fmt == BINARY_SI:
        if exponent >= 0 and not denom:
            mantissa = 1 << exponent
            precision = 15 - len(num) - exponent * 3 // 10 - 1
        else:
            precision = -1
    else:
        scale = exponent
        precision = 19 - (len(num) + len(denom))
    if precision >= 0:
        scale -= len(denom)
        if scale >= _NANO:
            shifted = num + denom
            try:
                parsed = _go_int64(shifted)
            except ValueError:
                raise QuantityError(ERR_NUMERIC) from None
            result = parsed * mantissa
            if result <= _MAX_INT64:
                if fmt == BINARY_SI:
                    keep = exponent % 10 == 0 and parsed & 0x07 != 0
                else:
                    keep = scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0"
                return Quantity(result if positive else -result, scale, fmt, text if keep else "")

    # The inf.Dec path: exact value, rounded up to nano, BinarySI capped at 2^63-1.
    if not any(c in _DIGITS for c in value_text):
        raise QuantityError(ERR_NUMERIC)
    magnitude, exp10 = int(num + denom), -len(denom)
    if base == 10:
        exp10 += exponent
    else:
        magnitude <<= exponent
    if magnitude and exp10 < _NANO:
        magnitude, exp10 = _div_round_up(magnitude, _NANO - exp10), _NANO
    if fmt == BINARY_SI:
        if _cmp(magnitude, exp10, _MAX_INT64, 0) > 0:
            magnitude, exp10 = _MAX_INT64, 0
        if magnitude and _cmp(magnitude, exp10, 1, 0) < 0:
            fmt = DECIMAL_SI
    return Quantity(magnitude if positive else -magnitude, exp10, fmt)


def canonicalize(value: str | int | float) -> str:
    """The string a 1.32 server stores for this JSON quantity value; QuantityError if invalid."""
    return str(parse(value))


def round_up_milli(value: str | int | float) -> str:
    """``SetDefaults_ResourceList``: a ResourceList value rounded up to milli units, printed."""
    return str(parse(value).round_up(-3))


def canonicalize_object(obj: Any, node: schema_mod.TypeNode, path: str = "") -> None:
    """Rewrite in place every value whose schema type is a Quantity, as decoding and encoding do.

    A null quantity in a map (a ResourceList) decodes to zero and prints ``"0"``; a null
    ``*Quantity`` struct field is dropped. Raises QuantityError naming the field path.
    """
    kind = node.kind
    if kind in ("struct", "map") and isinstance(obj, dict):
        for key in list(obj):
            child = node.field(key)
            if child is None:
                continue
            sub = f"{path}[{key}]" if kind == "map" else (f"{path}.{key}" if path else key)
            if child.ref_name == QUANTITY_REF:
                if obj[key] is None:
                    if kind == "map":
                        obj[key] = "0"
                    else:
                        del obj[key]
                    continue
                try:
                    obj[key] = canonicalize(obj[key])
                except QuantityError as err:
                    raise QuantityError(err.detail, sub) from None
            else:
                canonicalize_object(obj[key], child, sub)
    elif kind == "list" and isinstance(obj, list):
        items = node.items()
        for i, item in enumerate(obj):
            sub = f"{path}[{i}]"
            if items.ref_name == QUANTITY_REF:
                try:
                    obj[i] = canonicalize(item)
                except QuantityError as err:
                    raise QuantityError(err.detail, sub) from None
            else:
                canonicalize_object(item, items, sub)


__all__ = [
    "BINARY_SI",
    "DECIMAL_EXPONENT",
    "DECIMAL_SI",
    "ERR_FORMAT_WRONG",
    "ERR_NUMERIC",
    "ERR_SUFFIX",
    "QUANTITY_REF",
    "Quantity",
    "QuantityError",
    "canonicalize",
    "canonicalize_object",
    "parse",
    "round_up_milli",
]
