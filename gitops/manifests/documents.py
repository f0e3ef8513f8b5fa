"""Text to documents, exactly as kubectl reads a file (pure: no file or process I/O).

``kubectl apply -f`` reads a file through apimachinery's ``YAMLOrJSONDecoder``:

- a stream whose first non-space character is ``{`` is a stream of JSON values;
- anything else is split into documents on lines that *start with* ``---`` (only a comment may
  follow on that line), and each document is converted to JSON by sigs.k8s.io/yaml, which decodes
  with go-yaml v2: YAML 1.1 scalars (``yes``/``no``/``on``/``off``/``y``/``n`` are booleans,
  ``0755`` is octal, ``1_000`` is 1000, ``=`` is a string, timestamps stay the strings they were),
  non-string keys turned into strings (``true``, ``1``, ``1e+06``), merge keys with v2's
  semantics, and only the first YAML document of a chunk read;
- the JSON that goes to the API server is Go's encoding of those values, so ``1.0`` is sent as
  ``1`` and NaN or infinities cannot be sent at all.

This module reproduces that value for value with PyYAML's event parser (libyaml through the C
extension when available, so tabs and other odd spots are accepted or refused as libyaml and
go-yaml, its Go port, do) and its own resolver and builder, which also enforce what kubectl leaves
to chance or to the server:

- duplicate mapping keys are refused (``mapping key "x" already defined at line N``), as YAML
  requires and as kubectl's strict decoding reports them; JSON objects too;
- alias expansion is budgeted (``Budget``), so a billion-laughs document fails after a bounded
  amount of work instead of exhausting memory later, when its shared objects are serialized;
- nesting depth is bounded, so no later recursive walk can overflow.

Every document carries its 1-based line; errors never quote a value (it may be a Secret's).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

try:
    from yaml._yaml import CParser as _Parser

    LIBYAML = True
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    LIBYAML = False

_TAG = "tag:yaml.org,2002:"
_STR, _BINARY, _MERGE_TAG = _TAG + "str", _TAG + "binary", _TAG + "merge"
_BOOL, _INT, _FLOAT, _NULL, _TIMESTAMP = (_TAG + t for t in ("bool", "int", "float", "null", "timestamp"))
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1


class Budget:
    """How many nodes alias expansion may still add, shared by every document of one load: a
    per-document allowance would let ten thousand small bombs through."""

    def __init__(self, max_alias_nodes: int) -> None:
        self.limit = max_alias_nodes
        self.left = max_alias_nodes

    def spend(self, nodes: int) -> bool:
        """Takes ``nodes`` from the allowance; False (and nothing taken) when it would run out."""
        if nodes > self.left:
            return False
        self.left -= nodes
        return True


@dataclass(frozen=True)
class Document:
    """One document of a file: its index among the file's documents (0-based), the line where it
    starts (1-based; for an error, the line of the error), and its value (JSON-compatible; None
    for an empty document). ``error`` is set, and ``value`` None, when it could not be read.
    ``item_lines`` are the lines of the elements of a top-level ``items`` list (a ``kind: List``)."""

    index: int
    line: int
    value: Any = None
    error: str = ""
    item_lines: tuple[int, ...] = ()


def parse(text: str, *, budget: Budget, max_depth: int) -> list[Document]:
    """The documents of one file's text (already decoded, BOM removed), in order."""
    if text.lstrip()[:1] == "{":
        return _parse_json_stream(text, max_depth)
    docs = []
    for index, (line, chunk, error) in enumerate(_split(text)):
        if error:
            docs.append(Document(index, line, error=error))
        else:
            docs.append(_parse_yaml(chunk, index, line, budget, max_depth))
    return docs


def parse_one(text: str, *, budget: Budget, max_depth: int) -> Document:
    """The first YAML document of ``text``, as go-yaml's ``Unmarshal`` reads values files and
    kustomizations (no splitting on ``---``)."""
    return _parse_yaml(text, 0, 1, budget, max_depth)


# --- splitting, as apimachinery's YAMLReader does ------------------------------------------------


def _split(text: str) -> Iterator[tuple[int, str, str]]:
    """(first line, chunk, error) for each document. A line that starts with ``---`` ends a
    document; only spaces and a comment may follow on it. Lines end at ``\\n``; a ``\\r`` before
    it is dropped (Go's ``bufio.Reader.ReadLine``)."""
    buf: list[str] = []
    start = 1
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        line = line.removesuffix("\r")
        if line.startswith("---"):
            rest = line[3:].strip()
            if buf:
                yield start, "\n".join(buf) + "\n", ""
                buf = []
            if rest and not rest.startswith("#"):
                # kubectl: "invalid Yaml document separator" (we do not echo the text: it may be a value)
                yield number, "", "invalid document separator: only a comment may follow '---' on its line"
            start = number + 1
            continue
        if not buf:
            start = number
        buf.append(line)
    if buf:
        yield start, "\n".join(buf) + "\n", ""


# --- YAML ---------------------------------------------------------------------------------------


class _Error(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


_NO_KEY: Any = object()
_MERGE: Any = object()


@dataclass
class _Frame:
    value: dict[str, Any] | list[Any]
    anchor: str | None
    size: int = 1
    key: Any = _NO_KEY
    key_line: int = 0
    explicit: dict[str, int] = field(default_factory=dict)


def _new_parser(text: str) -> Any:
    if LIBYAML:
        return _Parser(text)

    class _PyParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)

    return _PyParser(text)


def _parse_yaml(chunk: str, index: int, first_line: int, budget: Budget, max_depth: int) -> Document:
    offset = first_line - 1
    parser = _new_parser(chunk)
    try:
        builder = _Builder(parser, budget, max_depth, offset)
        value, line = builder.document()
        return Document(index, line, value, item_lines=tuple(builder.item_lines))
    except _Error as e:
        return Document(index, e.line, error=e.message)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = offset + (mark.line + 1 if mark is not None else 1)
        column = f", column {mark.column + 1}" if mark is not None else ""
        what = e.problem or "invalid YAML"
        context = f" ({e.context})" if e.context else ""
        return Document(index, line, error=f"YAML syntax error{column}: {what}{context}")
    except yaml.reader.ReaderError as e:
        line = offset + chunk.count("\n", 0, max(e.position, 0)) + 1
        return Document(index, line, error=f"not YAML text: {e.reason} (character #x{e.character:04x})")
    except yaml.YAMLError as e:  # pragma: no cover - every PyYAML error above is marked or a ReaderError
        return Document(index, first_line, error=f"YAML error: {type(e).__name__}")
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()


class _Builder:
    """Builds one document's value from parser events, without recursion (depth is a limit, not a
    hazard). Anchored values are kept as built; each alias gets a deep copy, paid from the budget
    before copying, so nothing in the result is shared."""

    def __init__(self, parser: Any, budget: Budget, max_depth: int, offset: int) -> None:
        self.parser = parser
        self.budget = budget
        self.max_depth = max_depth
        self.offset = offset
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.root: Any = None
        self.root_line = offset + 1
        self.started = False
        self.item_lines: list[int] = []

    def _line(self, event: Any) -> int:
        return int(self.offset + event.start_mark.line + 1)

    def document(self) -> tuple[Any, int]:
        events = self.parser
        events.get_event()  # StreamStart
        ev = events.get_event()
        if isinstance(ev, yaml.StreamEndEvent):
            return None, self.root_line
        while True:
            ev = events.get_event()
            if isinstance(ev, yaml.DocumentEndEvent):
                return self.root, self.root_line
            line = self._line(ev)
            if isinstance(ev, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)):
                self._node_starts(line)
            if isinstance(ev, yaml.ScalarEvent):
                merge = ev.value == "<<" and ((ev.tag is None and ev.implicit[0]) or ev.tag == _MERGE_TAG)
                self._add(_scalar(ev, line), 1, line, ev.anchor, merge=merge)
            elif isinstance(ev, yaml.AliasEvent):
                self._alias(ev, line)
            elif isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(self.stack) >= self.max_depth:
                    raise _Error(
                        line, f"nested more than {self.max_depth} levels deep (LoadOptions.max_depth)"
                    )
                value: dict[str, Any] | list[Any] = {} if isinstance(ev, yaml.MappingStartEvent) else []
                self.stack.append(_Frame(value, ev.anchor))
            elif isinstance(ev, yaml.CollectionEndEvent):
                frame = self.stack.pop()
                self._add(frame.value, frame.size, line, frame.anchor, built=True)

    def _node_starts(self, line: int) -> None:
        if not self.started:
            self.started = True
            self.root_line = line
        # elements of the root mapping's ``items`` list: a List's objects get their own lines
        if (
            len(self.stack) == 2
            and self.stack[0].key == "items"
            and isinstance(self.stack[0].value, dict)
            and isinstance(self.stack[1].value, list)
        ):
            self.item_lines.append(line)

    def _alias(self, ev: Any, line: int) -> None:
        name = ev.anchor
        if name not in self.anchors:
            raise _Error(line, f"unknown anchor '{name}' referenced")
        value, size = self.anchors[name]
        if not self.budget.spend(size):
            raise _Error(
                line,
                f"excessive aliasing: expanding aliases would exceed {self.budget.limit} nodes "
                "(LoadOptions.max_alias_nodes)",
            )
        # an anchored scalar is kept as resolved; it is normalized where it lands, like any scalar
        self._add(_copy(value), size, line, None, built=isinstance(value, (dict, list)))

    def _add(
        self,
        value: Any,
        size: int,
        line: int,
        anchor: str | None,
        *,
        merge: bool = False,
        built: bool = False,
    ) -> None:
        if anchor is not None:
            self.anchors[anchor] = (value, size)
        if not self.stack:
            self.root = _value(value, line) if not built else value
            return
        top = self.stack[-1]
        top.size += size
        if isinstance(top.value, list):
            top.value.append(value if built else _value(value, line))
            return
        if top.key is _NO_KEY:
            top.key = _MERGE if merge else _key(value, line)
            top.key_line = line
            return
        key, top.key = top.key, _NO_KEY
        if key is _MERGE:
            _merge(top.value, value, line)
            return
        if key in top.explicit:
            raise _Error(top.key_line, f'mapping key "{key}" already defined at line {top.explicit[key]}')
        top.explicit[key] = top.key_line
        top.value[key] = value if built else _value(value, line)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _merge(target: dict[str, Any], source: Any, line: int) -> None:
    """go-yaml v2's ``<<``: a mapping, or a list of mappings of which the earlier win; merged keys
    overwrite keys set before the ``<<`` (v2 does; v3 and the YAML spec do not), keys after it
    overwrite merged ones."""
    if isinstance(source, dict):
        sources = [source]
    elif isinstance(source, list) and all(isinstance(s, dict) for s in source):
        sources = list(reversed(source))
    else:
        raise _Error(line, "map merge requires map or sequence of maps as the value")
    for s in sources:
        target.update(s)


def _value(value: Any, line: int) -> Any:
    """A scalar as Go's JSON encoder sends it: integral floats become ints (``1.0`` is sent as
    ``1``), integers beyond int64 become floats (the API machinery decodes them so); NaN and
    infinities cannot be encoded at all."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if _INT64_MIN <= value <= _INT64_MAX else float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Error(line, "NaN and infinite numbers cannot be sent to the API server (JSON has none)")
        if value.is_integer() and _INT64_MIN <= value <= _INT64_MAX:
            return int(value)
    return value


def _key(value: Any, line: int) -> str:
    """A mapping key as sigs.k8s.io/yaml turns it into a JSON object key."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float32_g(value)
    if value is None:
        raise _Error(line, "a mapping key may not be null")
    raise _Error(line, "a mapping key must be a scalar, not a sequence or a mapping")


def _go_float32_g(f: float) -> str:
    """Go's ``strconv.FormatFloat(f, 'g', -1, 32)``, with go-yaml's names for NaN and infinities."""
    if math.isnan(f):
        return ".nan"
    try:
        f32 = struct.unpack("f", struct.pack("f", f))[0]
    except OverflowError:
        f32 = math.inf if f > 0 else -math.inf
    if math.isinf(f32):
        return ".inf" if f32 > 0 else "-.inf"
    if f32 == 0:
        return "-0" if math.copysign(1, f32) < 0 else "0"
    for precision in range(9):  # the shortest decimal that reads back as the same float32
        text = f"{f32:.{precision}e}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == f32:
            break
    mantissa, exp_text = text.split("e")
    sign = "-" if mantissa.startswith("-") else ""
    digits = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    exp = int(exp_text)
    if exp < -4 or exp >= 6:  # %e form; shortest 'g' switches at an exponent of 6
        frac = f".{digits[1:]}" if len(digits) > 1 else ""
        return f"{sign}{digits[0]}{frac}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    decimals = max(len(digits) - (exp + 1), 0)
    return f"{sign}{abs(f32):.{decimals}f}"


_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
_GO_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)")
_TIMESTAMP_RE = re.compile(
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"([Tt][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?([Zz]|[-+][0-9]{2}:[0-9]{2})"
    r"| [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?)?"
)
_RESOLVE_MAP: dict[str, Any] = {
    **dict.fromkeys(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"], True),
    **dict.fromkeys(["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"], False),
    **dict.fromkeys(["", "~", "null", "Null", "NULL"], None),
    **dict.fromkeys([".nan", ".NaN", ".NAN"], math.nan),
    **dict.fromkeys([".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"], math.inf),
    **dict.fromkeys(["-.inf", "-.Inf", "-.INF"], -math.inf),
}


def _go_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)`` without its range check: None on a syntax error."""
    if not _GO_INT.fullmatch(text):
        return None
    sign = -1 if text[0] == "-" else 1
    body = text[1:] if text[0] in "+-" else text
    if len(body) > 1 and body[0] == "0" and body[1].isdigit():
        return sign * int(body, 8)  # a leading 0 is octal in Go
    return sign * int(body, 0)


def resolve_plain(text: str) -> Any:
    """go-yaml v2's ``resolve("", text)`` for a plain (unquoted, untagged) scalar."""
    if text == "":
        return None
    first = text[0]
    if first in "yYnNtTfFoO~":
        return _RESOLVE_MAP.get(text, text)
    if first == ".":
        if text in _RESOLVE_MAP:
            return _RESOLVE_MAP[text]
        if _DOT_FLOAT.fullmatch(text):
            f = float(text)
            if math.isfinite(f):
                return f
        return text
    if first in "+-0123456789":
        if text in _RESOLVE_MAP:
            return _RESOLVE_MAP[text]
        # timestamps are tried first in go-yaml, but decoded into interface{} they stay the
        # original string, which is what falls out below anyway (no timestamp parses as a number)
        plain = text.replace("_", "")
        number = _go_int(plain)
        unsigned = plain[:1] not in ("+", "-")
        if number is not None and (
            _INT64_MIN <= number <= _INT64_MAX or (unsigned and 0 <= number <= _UINT64_MAX)
        ):
            return number
        if _YAML_FLOAT.fullmatch(plain):
            f = float(plain)
            if math.isfinite(f):  # Go's ParseFloat fails with a range error instead
                return f
        if number is not None and unsigned:
            return number  # go-yaml's big.Int fallback (hex, octal or binary beyond 64 bits)
    return text


def _scalar(ev: Any, line: int) -> Any:
    tag, text = ev.tag, ev.value
    if tag is None:
        return resolve_plain(text) if ev.implicit[0] else text
    if tag == _BINARY:
        try:
            data = base64.b64decode(text.replace("\n", "").replace("\r", ""), validate=True)
        except (binascii.Error, ValueError):
            raise _Error(line, "!!binary value contains invalid base64 data") from None
        return data.decode("utf-8", "replace")
    if tag not in (_BOOL, _INT, _FLOAT, _NULL, _TIMESTAMP):
        return text  # !!str, the non-specific "!", and tags go-yaml cannot resolve: the text itself
    value = resolve_plain(text)
    ok = {
        _BOOL: isinstance(value, bool),
        _INT: isinstance(value, int) and not isinstance(value, bool),
        _FLOAT: isinstance(value, (int, float)) and not isinstance(value, bool),
        _NULL: value is None,
        _TIMESTAMP: isinstance(value, str) and _TIMESTAMP_RE.fullmatch(value) is not None,
    }[tag]
    if not ok:
        raise _Error(line, f"cannot decode the value as !!{tag.removeprefix(_TAG)}")
    return float(value) if tag == _FLOAT else value


# --- JSON ---------------------------------------------------------------------------------------


class _JSONDuplicate(ValueError):
    pass


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _JSONDuplicate(f'duplicate key "{k}" in a JSON object')
        out[k] = v
    return out


def _json_float(text: str) -> Any:
    f = float(text)
    if not math.isfinite(f):
        raise ValueError("a number is out of range for a 64-bit float")
    return _value(f, 0)


def _json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_json_object,
    parse_float=_json_float,
    parse_int=lambda text: _value(int(text), 0),
    parse_constant=_json_constant,
)


def _parse_json_stream(text: str, max_depth: int) -> list[Document]:
    """A stream of JSON values, as Go's ``json.Decoder`` reads them (one after another, separated
    by optional whitespace). Reading stops at the first error: a JSON stream cannot resynchronize."""
    docs: list[Document] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos >= len(text):
            return docs
        line = text.count("\n", 0, pos) + 1
        index = len(docs)
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            docs.append(Document(index, e.lineno, error=f"JSON syntax error, column {e.colno}: {e.msg}"))
            return docs
        except (_JSONDuplicate, ValueError) as e:
            docs.append(Document(index, line, error=str(e)))
            return docs
        except RecursionError:
            docs.append(Document(index, line, error=f"nested more than {max_depth} levels deep"))
            return docs
        if _depth(value) > max_depth:
            docs.append(
                Document(
                    index, line, error=f"nested more than {max_depth} levels deep (LoadOptions.max_depth)"
                )
            )
            return docs
        item_lines: tuple[int, ...] = ()
        if isinstance(value, dict) and isinstance(value.get("items"), list):
            item_lines = (line,) * len(value["items"])
        docs.append(Document(index, line, value, item_lines=item_lines))
        pos = end


def _depth(value: Any) -> int:
    deepest, todo = 0, [(value, 0)]
    while todo:
        v, d = todo.pop()
        if isinstance(v, (dict, list)):
            deepest = max(deepest, d + 1)
            todo.extend((c, d + 1) for c in (v.values() if isinstance(v, dict) else v))
    return deepest
