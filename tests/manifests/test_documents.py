"""Reading text as kubectl reads it: go-yaml v2 scalars, sigs.k8s.io/yaml keys, apimachinery's
document splitting, Go's JSON number encoding; plus our limits (duplicates, aliases, depth)."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from gitops.manifests import documents


def parse(text: str, *, aliases: int = 1000, depth: int = 50) -> list[documents.Document]:
    return documents.parse(text, budget=documents.Budget(aliases), max_depth=depth)


def value(text: str) -> Any:
    [doc] = parse(text)
    assert not doc.error, doc.error
    return doc.value


@pytest.mark.parametrize(
    ("scalar", "expected"),
    [
        # YAML 1.1 booleans, as go-yaml v2 resolves them (kubectl sends true/false)
        ("yes", True),
        ("No", False),
        ("on", True),
        ("OFF", False),
        ("y", True),
        ("N", False),
        ("true", True),
        ("tRue", "tRue"),
        # null
        ("~", None),
        ("null", None),
        ("", None),
        # a bare "=" is a string (PyYAML's SafeLoader fails on it: tag:yaml.org,2002:value)
        ("=", "="),
        # integers: Go's ParseInt with base prefixes, underscores removed
        ("0755", 493),
        ("0o17", 15),
        ("0x1F", 31),
        ("-0b101", -5),
        ("+12", 12),
        ("1_000", 1000),
        ("09", 9),  # not octal, so a float 9.0, which Go's JSON encoder sends as 9
        # floats: integral ones are sent as integers by Go's JSON encoder
        ("1.0", 1),
        ("1e3", 1000),
        ("6.0e2", 600),
        (".5", 0.5),
        ("-1.25", -1.25),
        ("1e400", "1e400"),  # out of range for ParseFloat: stays a string
        # beyond int64: uint64 and bigger are decoded as floats by the API machinery
        ("12345678901234567890", 12345678901234567890.0),
        ("-9223372036854775808", -9223372036854775808),
        # no sexagesimal numbers (PyYAML's YAML 1.1 resolver makes 1:20 the integer 80)
        ("1:20", "1:20"),
        # timestamps stay the strings they were (go-yaml into interface{})
        ("2024-01-15", "2024-01-15"),
        ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
        # versions and other look-alikes
        ("1.10", 1.1),
        ("1.2.3", "1.2.3"),
        ("0.1.0", "0.1.0"),
        ("0x", "0x"),
        ("-x", "-x"),
        (".", "."),
    ],
)
def test_plain_scalars_resolve_as_go_yaml_v2_and_go_json_send_them(scalar: str, expected: Any) -> None:
    got = value(f"v: {scalar}\n")["v"]
    assert got == expected
    assert type(got) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('v: "yes"', "yes"),
        ("v: 'on'", "on"),
        ("v: !!str 1.10", "1.10"),
        ("v: !!int '12'", 12),
        ("v: !!float 1", 1),
        ("v: !!bool yes", True),
        ("v: ! 12", "12"),
        ("v: !custom 12", "12"),
        ("v: !!binary aGVsbG8=", "hello"),
        ("v: |\n  line\n", "line\n"),
    ],
)
def test_quoted_tagged_and_block_scalars(text: str, expected: Any) -> None:
    assert value(text + "\n")["v"] == expected


def test_a_tag_that_does_not_fit_the_value_is_an_error_without_the_value() -> None:
    [doc] = parse("v: !!int hunter2\n")
    assert doc.error == "cannot decode the value as !!int"
    assert doc.line == 1


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("yes", "true"),
        ("n", "false"),
        ("1", "1"),
        ("0x10", "16"),
        ("1.5", "1.5"),
        ("1.0", "1"),
        ("1e6", "1e+06"),
        ("123456.0", "123456"),
        ("0.0001", "0.0001"),
        ("0.00001", "1e-05"),
        (".inf", ".inf"),
        ('"1"', "1"),
    ],
)
def test_keys_become_strings_as_sigs_k8s_io_yaml_makes_them(key: str, expected: str) -> None:
    assert value(f"{key}: x\n") == {expected: "x"}


def test_a_null_key_is_refused() -> None:
    [doc] = parse("~: x\n")
    assert doc.error == "a mapping key may not be null"


def test_duplicate_keys_are_refused_with_both_lines() -> None:
    [doc] = parse("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert (doc.line, doc.error) == (4, 'mapping key "c" already defined at line 3')


def test_keys_that_collide_after_conversion_are_duplicates() -> None:
    [doc] = parse("yes: 1\n'true': 2\n")
    assert doc.error == 'mapping key "true" already defined at line 1'


def test_merge_keys_follow_go_yaml_v2() -> None:
    text = """
base: &base {a: 1, b: 1}
extra: &extra {b: 2, c: 2}
before: {a: 0, <<: *base}
after: {<<: *base, a: 9}
many: {<<: [*base, *extra]}
"""
    v = value(text)
    assert v["before"] == {"a": 1, "b": 1}  # v2: a merge overwrites keys set before it
    assert v["after"] == {"a": 9, "b": 1}
    assert v["many"] == {"a": 1, "b": 1, "c": 2}  # earlier mappings in the list win
    assert value('m: {"<<": 1}\n') == {"m": {"<<": 1}}  # a quoted << is an ordinary key


def test_aliased_scalars_are_sent_like_any_scalar() -> None:
    assert value("a: &x 1.0\nb: *x\n&k 1e6: *k\n") == {"a": 1, "b": 1, "1e+06": 1000000}
    [doc] = parse("&x .nan : fine as a key\nb: [*x]\n")
    assert doc.line == 2 and "cannot be sent" in doc.error


def test_aliases_are_copies_not_shared_objects() -> None:
    v = value("a: &x {k: [1]}\nb: *x\n")
    assert v["a"] == v["b"]
    assert v["a"] is not v["b"] and v["a"]["k"] is not v["b"]["k"]


def test_billion_laughs_fails_fast_and_the_budget_is_shared_across_documents() -> None:
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [{','.join('*' + prev for _ in range(9))}]")
    started = time.monotonic()
    [doc] = documents.parse("\n".join(levels) + "\n", budget=documents.Budget(1_000_000), max_depth=50)
    assert time.monotonic() - started < 2
    assert doc.error.startswith("excessive aliasing")
    # many small documents cannot add up to a bomb either
    small = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\nb: [*a, *a, *a, *a]\n---\n" * 10
    docs = documents.parse(small, budget=documents.Budget(100), max_depth=50)
    assert [d.error != "" for d in docs] == [False, False] + [True] * 8


def test_depth_is_bounded_without_recursion() -> None:
    deep = "v: " + "[" * 500 + "]" * 500 + "\n"
    [doc] = parse(deep, depth=100)
    assert doc.error == "nested more than 100 levels deep (LoadOptions.max_depth)"
    # libyaml itself stops at 1000 levels
    [doc] = parse("v: " + "[" * 5000 + "]" * 5000 + "\n", depth=10_000)
    assert "exceeded maximum nesting depth" in doc.error


def test_documents_split_as_apimachinery_yaml_reader_splits_them() -> None:
    text = "---\n# comment\na: 1\n--- # a comment may follow\n\n---\nb: 2\n----\nc: 3\n"
    docs = parse(text)
    assert [(d.index, d.line, d.value, d.error != "") for d in docs] == [
        (0, 3, {"a": 1}, False),
        (1, 5, None, False),
        (2, 7, {"b": 2}, False),
        (3, 8, None, True),  # "----" starts with "---" and is followed by "-": kubectl refuses it
        (4, 9, {"c": 3}, False),
    ]


def test_only_the_first_yaml_document_of_a_chunk_is_read_as_go_yaml_unmarshal_does() -> None:
    assert [d.value for d in parse("a: 1\n...\n%YAML 1.1\n--- \nb: 2\n")] == [{"a": 1}, {"b": 2}]
    assert [d.value for d in parse("a: 1\n...\nb: 2\n")] == [{"a": 1}]


def test_crlf_line_endings_and_lines() -> None:
    docs = parse("a: 1\r\n---\r\nb: x\r\n")
    assert [(d.line, d.value) for d in docs] == [(1, {"a": 1}), (3, {"b": "x"})]


def test_tabs_are_accepted_where_libyaml_accepts_them() -> None:
    assert value("a:\tb\t\nc: [1,\t2]\n") == {"a": "b", "c": [1, 2]}
    [doc] = parse("a:\n\tb: 1\n")
    assert doc.line == 2 and "cannot start any token" in doc.error


def test_list_item_lines_are_recorded() -> None:
    [doc] = parse("kind: List\nitems:\n  - a: 1\n  -\n    b: 2\n  - c\n")
    assert doc.item_lines == (3, 5, 6)


def test_a_json_stream_is_read_when_the_text_starts_with_a_brace() -> None:
    docs = parse('  {"a": 1.0, "b": 1.5}{"c": [1]}\n\n{"d": null}\nnull\n')
    assert [(d.line, d.value) for d in docs] == [
        (1, {"a": 1, "b": 1.5}),
        (1, {"c": [1]}),
        (3, {"d": None}),
        (4, None),
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"a": 1, "a": 2}', 'duplicate key "a" in a JSON object'),
        ('{"a": NaN}', "NaN is not valid JSON"),
        ('{"a": 1e999}', "a number is out of range for a 64-bit float"),
        ('{"a": 1,}', "JSON syntax error, column 9: Expecting property name enclosed in double quotes"),
    ],
)
def test_json_errors(text: str, error: str) -> None:
    [doc] = parse(text)
    assert doc.error == error


def test_a_json_array_is_read_as_yaml_like_kubectl_does() -> None:
    assert value('[{"a": 1}]') == [{"a": 1}]


def test_infinity_as_a_value_is_refused_but_as_a_key_is_a_string() -> None:
    [doc] = parse("a: -.inf\n")
    assert "cannot be sent" in doc.error
    assert value(".nan: x\n") == {".nan": "x"}
    assert math.isnan(documents.resolve_plain(".NaN"))


def test_the_pure_python_parser_reads_the_same_values_when_libyaml_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "a: &a {x: yes, y: 0755}\nb: *a\nc: [1.0, =, '2']\nd: 1\nd: 2\n"
    with_libyaml = parse(text)
    monkeypatch.setattr(documents, "LIBYAML", False)
    assert parse(text) == with_libyaml
    [doc] = parse("a: 'x\n")
    assert doc.error.startswith("YAML syntax error")
