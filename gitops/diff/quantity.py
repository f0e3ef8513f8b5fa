"""Kubernetes resource quantities, compared by value (pure).

The API server decodes a quantity (``"0.5"``, ``1``, ``"1024Mi"``) into an exact number and
writes it back in its own spelling (``"500m"``, ``"1"``, ``"1Gi"``), so Git and the cluster
rarely spell the same value the same way. :func:`parse` reads what ``resource.ParseQuantity``
accepts (``apimachinery/pkg/api/resource/quantity.go``: ``[+-]digits[.digits]`` and a suffix
``n u m k M G T P E``, ``Ki Mi Gi Ti Pi Ei`` or ``e<int>``) into an exact :class:`~fractions.Fraction`,
rounded up (away from zero) to nano units as the server does. :func:`canonical` prints a value
one fixed way, so two spellings of one value print alike; it is deterministic, not the server's
exact text (the server remembers the suffix family of the input; we cannot, and need not).

Printing: zero is ``"0"``; a whole multiple of 1024 (at least 1024) takes the largest binary
suffix that keeps it whole (``1Gi``, ``1536Mi``); anything else takes the largest decimal
suffix with an exponent that is a multiple of 3 and keeps it whole (``500m``, ``1500M``, ``2``).
"""

from __future__ import annotations

import functools
import re
from fractions import Fraction

_FORMAT = re.compile(r"([+-]?)(\d+(?:\.\d*)?|\.\d+)([eEinumkKMGTP]*[-+]?\d*)")
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_BY_EXP = sorted(((e, s) for s, e in _DECIMAL.items()), reverse=True)
_BINARY_BY_EXP = sorted(((e, s) for s, e in _BINARY.items()), reverse=True)
NANO = Fraction(1, 10**9)
MILLI = Fraction(1, 1000)


class QuantityError(ValueError):
    """The value is not a quantity the API server would accept."""


def parse(value: object) -> Fraction:
    """The exact value of a quantity given as JSON text or number, rounded up to nano units.

    Raises :class:`QuantityError` for anything ``resource.ParseQuantity`` rejects (booleans,
    empty strings, unknown suffixes).
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise QuantityError(f"not a quantity: {value!r}")
    text = value.strip() if isinstance(value, str) else repr(value)
    m = _FORMAT.fullmatch(text)
    if m is None:
        raise QuantityError(f"quantities must match '[+-]<number><suffix>': {value!r}")
    sign, number, suffix = m.groups()
    amount = Fraction(number)
    if suffix in _DECIMAL:
        amount *= Fraction(10) ** _DECIMAL[suffix]
    elif suffix in _BINARY:
        amount *= 2 ** _BINARY[suffix]
    elif len(suffix) > 1 and suffix[0] in "eE" and re.fullmatch(r"[-+]?\d+", suffix[1:]):
        exponent = int(suffix[1:])
        if abs(exponent) > 400:  # far beyond int64 or nano: refuse rather than build huge numbers
            raise QuantityError(f"quantity exponent out of range: {value!r}")
        amount *= Fraction(10) ** exponent
    else:
        raise QuantityError(f"unknown quantity suffix {suffix!r}: {value!r}")
    return round_up(-amount if sign == "-" else amount, NANO)


def round_up(amount: Fraction, unit: Fraction) -> Fraction:
    """``amount`` rounded away from zero to a multiple of ``unit`` (``Quantity.RoundUp``)."""
    steps = amount / unit
    if steps.denominator == 1:
        return amount
    whole = -(-steps.numerator // steps.denominator) if amount > 0 else steps.numerator // steps.denominator
    return whole * unit


def canonical(amount: Fraction) -> str:
    """One fixed spelling of a value (see the module docstring)."""
    if amount == 0:
        return "0"
    sign = "-" if amount < 0 else ""
    magnitude = abs(amount)
    if magnitude.denominator == 1 and magnitude >= 1024 and magnitude.numerator % 1024 == 0:
        whole = magnitude.numerator
        for exponent, suffix in _BINARY_BY_EXP:
            if whole % (1 << exponent) == 0:
                return f"{sign}{whole >> exponent}{suffix}"
    for exponent, suffix in _DECIMAL_BY_EXP:
        scaled = magnitude / Fraction(10) ** exponent
        if scaled.denominator == 1:
            return f"{sign}{scaled.numerator}{suffix}"
    # Values finer than nano cannot come out of parse(); print them exactly anyway.
    return f"{sign}{float(magnitude)!r}"


def normalize(value: object, *, resource_list: bool = False) -> object:
    """``value`` in canonical spelling, or unchanged when it is not a valid quantity.

    ``resource_list`` values (container ``limits``/``requests``, ``overhead``, quota ``hard``...)
    are also rounded up to milli units, as ``SetDefaults_ResourceList`` does on the server.
    An invalid value is left for the server to reject and the diff to show.
    """
    if isinstance(value, (str, int, float)):
        return _normalize_cached(type(value).__name__, value, resource_list)
    return _normalize(value, resource_list)


@functools.lru_cache(maxsize=8192)
def _normalize_cached(_type: str, value: str | int | float, resource_list: bool) -> object:
    # The type is part of the key: 1 == 1.0 == True would otherwise share an entry.
    return _normalize(value, resource_list)


def _normalize(value: object, resource_list: bool) -> object:
    try:
        amount = parse(value)
    except QuantityError:
        return value
    if resource_list:
        amount = round_up(amount, MILLI)
    return canonical(amount)
