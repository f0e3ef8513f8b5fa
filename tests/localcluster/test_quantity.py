"""Resource quantities parsed and printed as a 1.32 API server does (gitops.localcluster.quantity).

Expectations come from ``k8s.io/apimachinery/pkg/api/resource``: ``quantity.go`` (ParseQuantity,
its fast path that keeps canonical input verbatim, CanonicalizeBytes), ``suffix.go``,
``amount.go``, ``math.go`` and the tables of ``quantity_test.go`` (TestQuantityParse,
TestQuantityParseEmit, TestQuantityString).
"""

from __future__ import annotations

from typing import Any

import pytest

from gitops.localcluster import quantity, schema

FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


@pytest.mark.parametrize(
    ("given", "printed"),
    [
        # TestQuantityParseEmit
        ("1Ki", "1Ki"),
        ("1Mi", "1Mi"),
        ("1Gi", "1Gi"),
        ("1024Mi", "1Gi"),
        ("1000M", "1G"),
        (".001Ki", "1024m"),
        (".000001Ki", "1024u"),
        (".000000001Ki", "1024n"),
        (".000000000001Ki", "2n"),
        # cpu and memory as manifests write them
        ("0.5", "500m"),
        ("1000m", "1"),
        ("1500m", "1500m"),
        ("1.5", "1500m"),
        ("5000m", "5"),
        ("1000", "1k"),
        ("1.5Gi", "1536Mi"),
        ("0.5Mi", "512Ki"),
        ("0.1Gi", "107374182400m"),
        ("-1024Mi", "-1Gi"),
        ("1.5e3", "1500"),
        ("100.035Ki", "102435840m"),
        # rounding up to nano and the BinarySI cap (TestQuantityParse "things that saturate")
        ("3.001n", "4n"),
        ("0.0000000001", "1n"),
        ("9Ei", "9223372036854775807"),
        # zero in any form prints "0"
        ("0", "0"),
        ("00", "0"),
        ("0Gi", "0"),
        ("0m", "0"),
    ],
)
def test_canonical_form_is_what_the_server_prints(given: str, printed: str) -> None:
    """CanonicalizeBytes: the largest exponent without fractional digits, suffix family kept."""
    assert quantity.canonicalize(given) == printed


@pytest.mark.parametrize("given", ["+5", "05", "1.500", "1e3", "1E6", "1.", "1.G", "12E", "1025Ki", "129e6"])
def test_input_already_canonical_for_the_fast_path_is_kept_verbatim(given: str) -> None:
    """ParseQuantity keeps ``str`` when scale%3 == 0, no trailing "000" and no leading zero
    (BinarySI: value&7 != 0); MarshalJSON then writes it back unchanged."""
    assert quantity.canonicalize(given) == given


def test_decimal_si_past_exa_loses_its_suffix_as_in_1_32() -> None:
    """1.32's CanonicalizeBytes ignores the failed suffix lookup for 10^21 (fixed upstream later)."""
    assert quantity.canonicalize("1000E") == "1"


@pytest.mark.parametrize(("given", "printed"), [(1, "1"), (0.5, "500m"), (1.0, "1"), (2048, "2048")])
def test_json_numbers_are_parsed_from_their_text(given: int | float, printed: str) -> None:
    """UnmarshalJSON parses the raw number token like a string."""
    assert quantity.canonicalize(given) == printed


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", FORMAT_WRONG),
        ("aoeu", FORMAT_WRONG),
        ("1.1.M", FORMAT_WRONG),
        ("1+1.0M", FORMAT_WRONG),
        ("0.1am", FORMAT_WRONG),
        ("1 x", FORMAT_WRONG),
        (True, FORMAT_WRONG),
        ("0.1mi", "unable to parse quantity's suffix"),
        ("1i", "unable to parse quantity's suffix"),
        ("-3.01e-", "unable to parse quantity's suffix"),
        ("1K", "unable to parse quantity's suffix"),
        ("9999999999999999999", "unable to parse numeric part of quantity"),
    ],
)
def test_invalid_quantities_fail_with_the_go_error(given: Any, message: str) -> None:
    """ErrFormatWrong, ErrSuffix and ErrNumeric of quantity.go (the invalid list of TestQuantityParse)."""
    with pytest.raises(quantity.QuantityError) as err:
        quantity.canonicalize(given)
    assert err.value.detail == message
    assert isinstance(err.value, ValueError)


def test_surrounding_whitespace_is_trimmed_as_unmarshal_json_does() -> None:
    assert quantity.canonicalize(" 2Gi ") == "2Gi"


def test_round_up_to_milli_keeps_values_already_at_that_precision() -> None:
    """SetDefaults_ResourceList rounds with Quantity.RoundUp(-3), which keeps the cached string
    when the scale is already >= -3."""
    assert quantity.round_up_milli("100u") == "1m"
    assert quantity.round_up_milli("1500u") == "2m"
    assert quantity.round_up_milli("+5") == "+5"
    assert quantity.round_up_milli("0.5") == "500m"


def test_compare_orders_values_across_formats() -> None:
    assert quantity.parse("1Gi").cmp(quantity.parse("1G")) == 1
    assert quantity.parse("1000m").cmp(quantity.parse("1")) == 0
    assert quantity.parse("-1").cmp(quantity.parse("0")) == -1


def _deployment(resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "template": {"spec": {"containers": [{"name": "c", "image": "nginx", "resources": resources}]}}
        },
    }


def test_canonicalize_object_rewrites_every_quantity_the_schema_reaches() -> None:
    obj = _deployment(
        {"limits": {"cpu": 0.5, "memory": "1024Mi"}, "requests": {"cpu": "1000m", "memory": None}}
    )
    node = schema.for_kind("apps", "v1", "Deployment")
    assert node is not None
    quantity.canonicalize_object(obj, node)
    res = obj["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert res == {"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "0"}}


def test_canonicalize_object_names_the_field_of_a_bad_quantity() -> None:
    obj = _deployment({"limits": {"cpu": "lots"}})
    node = schema.for_kind("apps", "v1", "Deployment")
    assert node is not None
    with pytest.raises(quantity.QuantityError) as err:
        quantity.canonicalize_object(obj, node)
    assert err.value.field == "spec.template.spec.containers[0].resources.limits[cpu]"
    assert err.value.detail == FORMAT_WRONG


def test_canonicalize_object_covers_pvc_and_hpa_quantities() -> None:
    pvc = {"spec": {"resources": {"requests": {"storage": "1073741824"}}}}
    node = schema.for_kind("", "v1", "PersistentVolumeClaim")
    assert node is not None
    quantity.canonicalize_object(pvc, node)
    assert pvc["spec"]["resources"]["requests"]["storage"] == "1073741824"
    hpa = {
        "spec": {
            "metrics": [{"type": "Pods", "pods": {"target": {"type": "AverageValue", "averageValue": 0.25}}}]
        }
    }
    node = schema.for_kind("autoscaling", "v2", "HorizontalPodAutoscaler")
    assert node is not None
    quantity.canonicalize_object(hpa, node)
    assert hpa["spec"]["metrics"][0]["pods"]["target"]["averageValue"] == "250m"
