"""Label and field selectors parsed and matched as kube-apiserver 1.32 does (gitops.localcluster.selectors).

Expectations come from the Kubernetes sources named in each docstring:
``k8s.io/apimachinery/pkg/labels/selector.go`` and its ``selector_test.go`` fixtures,
``pkg/util/validation`` (key and value rules), ``pkg/fields/selector.go``, the field-label
conversions of ``pkg/apis/core/v1/conversion.go`` and ``pkg/apis/batch/v1/conversion.go``,
``runtime.DefaultMetaV1FieldSelectorConversion``, apiextensions-apiserver ``crConverter``, and the
``GetAttrs`` field sets of ``pkg/registry/*/strategy.go``.
"""

from __future__ import annotations

from typing import Any

import pytest

from gitops.localcluster import selectors

QNAME_RULE = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation "
    "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
VALUE_RULE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
    "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
META_ONLY = '"{}" is not a known field selector: only "metadata.name", "metadata.namespace"'


def parse_error(selector: str) -> str:
    with pytest.raises(selectors.SelectorError) as err:
        selectors.parse_label_selector(selector)
    return str(err.value)


# --- label selectors: parsing --------------------------------------------------------------


@pytest.mark.parametrize(
    "selector", ["x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"]
)
def test_good_selectors_restring_without_spaces(selector: str) -> None:
    """``TestSelectorParse`` testGoodStrings: ``String()`` gives the input without spaces."""
    assert str(selectors.parse_label_selector(selector)) == selector.replace(" ", "")


@pytest.mark.parametrize("selector", ["x=a||y=b", "x==a==b", "!x=a", "x<a"])
def test_bad_selectors_are_refused(selector: str) -> None:
    """``TestSelectorParse`` testBadStrings."""
    with pytest.raises(selectors.SelectorError):
        selectors.parse_label_selector(selector)


def test_string_sorts_requirements_by_key_and_values() -> None:
    """``parse`` sorts requirements ``ByKey``; ``Requirement.String`` sorts set values (``safeSort``)."""
    sel = selectors.parse_label_selector("z, x in (b,a), !y, a==1")
    assert str(sel) == "a==1,x in (a,b),!y,z"
    assert str(selectors.parse_label_selector("x=a,a=x")) == str(selectors.parse_label_selector("a=x,x=a"))


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("x in ()", "x in ()"),  # "()" is the set {""}
        ("x in (abc,)", "x in (,abc)"),
        ("x notin (,)", "x notin ()"),
        ("notin=in", "notin=in"),  # in/notin are identifiers where a value is expected
        ("foo  in\t (abc)", "foo in (abc)"),
        ("\rx", "x"),
        ("this-is-a-dns.domain.com/key-with-dash", "this-is-a-dns.domain.com/key-with-dash"),
        (
            "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
            "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)",
        ),
    ],
)
def test_set_selector_forms(selector: str, expected: str) -> None:
    """``TestSetSelectorParser`` inputs: whitespace, empty values, DNS-prefixed keys."""
    assert str(selectors.parse_label_selector(selector)) == expected


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("app in", "unable to parse requirement: found '' expected: '('"),
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("x in (a", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"),
        ("x in =", "unable to parse requirement: found '=' expected: '('"),
        ("x in (=", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
        ("x in (a,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
        ("x=(", "unable to parse requirement: found '(', expected: identifier"),
        ("!!a", "unable to parse requirement: found '!', expected: identifier"),
        ("!=a", "found '!=', expected: !, identifier, or 'end of string'"),
        ("a,", "found '', expected: identifier after ','"),
        (",a", "found ',', expected: !, identifier, or 'end of string'"),
        ("!x=a", "found '=', expected: ',' or 'end of string'"),
        ("x==a==b", "found '==', expected: ',' or 'end of string'"),
    ],
)
def test_parse_errors_carry_the_servers_text(selector: str, message: str) -> None:
    """The ``fmt.Errorf`` texts of ``Parser.parse`` and friends; requirement errors are wrapped."""
    assert parse_error(selector) == message


def test_invalid_key_reports_a_nil_path() -> None:
    """``validateLabelKey(literal, p.path)`` with no path: ``field.Invalid(nil, …)`` prints ``<nil>``."""
    assert (
        parse_error("Inv@lid")
        == f'unable to parse requirement: <nil>: Invalid value: "Inv@lid": name part {QNAME_RULE}'
    )
    assert (
        parse_error("/a")
        == 'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty'
    )
    assert parse_error("a/b/c").startswith(
        'unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name '
    )


def test_invalid_value_is_reported_under_values_index_key() -> None:
    """``NewRequirement``: ``validateLabelValue(key, v, valuePath.Index(i))`` → ``values[i][key]``."""
    assert (
        parse_error("a=b@") == f'unable to parse requirement: values[0][a]: Invalid value: "b@": {VALUE_RULE}'
    )
    # values are sets.String.List(): sorted, so the bad one is at index 1
    assert parse_error("a in (z@, b)").startswith(
        'unable to parse requirement: values[1][a]: Invalid value: "z@"'
    )


def test_gt_lt_need_an_integer_that_is_also_a_label_value() -> None:
    """``NewRequirement``: Gt/Lt values must ``ParseInt``, and every value must be a label value."""
    assert parse_error("k>abc") == (
        'unable to parse requirement: values[0]: Invalid value: "abc": '
        "for 'Gt', 'Lt' operators, the value must be an integer"
    )
    assert (
        parse_error("k>-1") == f'unable to parse requirement: values[0][k]: Invalid value: "-1": {VALUE_RULE}'
    )


def test_key_length_is_limited_to_63_in_the_name_part() -> None:
    """``IsQualifiedName``: the name part is at most 63 characters (``TestRequirementConstructor``)."""
    assert parse_error("a" * 64) == (
        f'unable to parse requirement: <nil>: Invalid value: "{"a" * 64}": name part must be no more than 63 characters'
    )


# --- label selectors: matching -------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "labels", "match"),
    [
        ("", {"x": "y"}, True),
        ("x=y", {"x": "y"}, True),
        ("x=y,z=w", {"x": "y", "z": "w"}, True),
        ("x!=y,z!=w", {"x": "z", "z": "a"}, True),
        ("notin=in", {"notin": "in"}, True),
        ("x", {"x": "z"}, True),
        ("!x", {"y": "z"}, True),
        ("x>1", {"x": "2"}, True),
        ("x<1", {"x": "0"}, True),
        ("x=z", {}, False),
        ("x=y", {"x": "z"}, False),
        ("x=y,z=w", {"x": "w", "z": "w"}, False),
        ("x!=y,z!=w", {"x": "z", "z": "w"}, False),
        ("x", {"y": "z"}, False),
        ("!x", {"x": "z"}, False),
        ("x>1", {"x": "0"}, False),
        ("x<1", {"x": "2"}, False),
        ("x==y", {"x": "y"}, True),
        ("x in (a,b)", {"x": "b"}, True),
        ("x in (a,b)", {"x": "c"}, False),
        ("x in (a,b)", {}, False),
        ("x in ()", {"x": ""}, True),
        ("z>1", {"z": "v2"}, False),  # a non-integer label never satisfies gt/lt
        ("z<1", {}, False),
    ],
)
def test_matching(selector: str, labels: dict[str, str], match: bool) -> None:
    """``TestSelectorMatches`` and ``TestRequirementSelectorMatching``."""
    assert selectors.parse_label_selector(selector).matches(labels) is match


@pytest.mark.parametrize("selector", ["tier!=db", "tier notin (db,cache)", "x notin ()"])
def test_not_equals_and_notin_match_objects_lacking_the_key(selector: str) -> None:
    """``Requirement.Matches`` case (4): NotIn/NotEquals match when the label is absent."""
    sel = selectors.parse_label_selector(selector)
    assert sel.matches({})
    assert sel.matches({"app": "web"})
    assert not selectors.parse_label_selector("tier!=db").matches({"tier": "db"})


def test_label_selector_from_meta_none_selects_nothing_and_empty_everything() -> None:
    """``LabelSelectorAsSelector``: nil → ``labels.Nothing()``, no requirements → ``Everything()``."""
    assert not selectors.label_selector_from_meta(None).matches({"a": "b"})
    assert selectors.label_selector_from_meta({}).matches({"a": "b"})
    assert selectors.label_selector_from_meta({"matchLabels": {}, "matchExpressions": []}).empty


def test_label_selector_from_meta_combines_labels_and_expressions() -> None:
    sel = selectors.label_selector_from_meta(
        {
            "matchLabels": {"b": "1", "a": "2"},
            "matchExpressions": [
                {"key": "c", "operator": "In", "values": ["z", "y"]},
                {"key": "d", "operator": "DoesNotExist"},
                {"key": "e", "operator": "NotIn", "values": ["x"]},
                {"key": "f", "operator": "Exists"},
            ],
        }
    )
    assert str(sel) == "a=2,b=1,c in (y,z),!d,e notin (x),f"
    assert sel.matches({"a": "2", "b": "1", "c": "y", "f": ""})
    assert not sel.matches({"a": "2", "b": "1", "c": "y", "f": "", "d": "x"})


@pytest.mark.parametrize(
    ("sel", "message"),
    [
        (
            {"matchExpressions": [{"key": "c", "operator": "In"}]},
            "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
        ),
        (
            {"matchExpressions": [{"key": "c", "operator": "Exists", "values": ["a"]}]},
            'values: Invalid value: []string{"a"}: values set must be empty for exists and does not exist',
        ),
        (
            {"matchExpressions": [{"key": "c", "operator": "Foo"}]},
            '"Foo" is not a valid label selector operator',
        ),
        ({"matchLabels": {"k": "b@d"}}, f'values[0][k]: Invalid value: "b@d": {VALUE_RULE}'),
    ],
)
def test_label_selector_from_meta_errors(sel: dict[str, Any], message: str) -> None:
    """``NewRequirement`` errors with a nil path (``key``, ``values``) and the bad-operator error."""
    with pytest.raises(selectors.SelectorError) as err:
        selectors.label_selector_from_meta(sel)
    assert str(err.value) == message


# --- field selectors -----------------------------------------------------------------------

POD = {
    "metadata": {"name": "web-1", "namespace": "shop"},
    "spec": {
        "nodeName": "n1",
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "hostNetwork": True,
    },
    "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.7"}]},
}


@pytest.mark.parametrize(
    ("selector", "match"),
    [
        ("status.phase=Running", True),
        ("status.phase==Running", True),
        ("status.phase!=Running", False),
        ("spec.nodeName=n1,metadata.namespace=shop", True),
        ("spec.nodeName=n1,metadata.namespace!=shop", False),
        ("spec.hostNetwork=true", True),
        ("status.podIP=10.0.0.7", True),
        ("spec.serviceAccountName=", True),  # absent fields read as ""
        ("status.podIPs=10.0.0.7", False),  # accepted by the conversion, missing from GetAttrs
        ("spec.host=n1", True),  # old clients' spec.host is converted to spec.nodeName
        ("", True),
    ],
)
def test_pod_field_selectors(selector: str, match: bool) -> None:
    """Pod conversion (core/v1 ``conversion.go``) and ``pod.ToSelectableFields``."""
    assert selectors.parse_field_selector(selector, "", "Pod").matches(POD) is match


@pytest.mark.parametrize(
    ("group", "kind", "selector", "message"),
    [
        ("", "Pod", "foo=bar", "field label not supported: foo"),
        ("", "Namespace", "metadata.namespace=x", "field label not supported: metadata.namespace"),
        ("", "Node", "metadata.namespace=x", "field label not supported: metadata.namespace"),
        ("", "Secret", "data=x", "field label not supported: data"),
        ("", "Service", "spec.ports=x", "field label not supported: spec.ports"),
        (
            "batch",
            "Job",
            "status.succeeded=1",
            'field label "status.succeeded" not supported for batchv1.Job',
        ),
        ("apps", "Deployment", "x=y", META_ONLY.format("x")),
        # apps/v1 registers no conversion, so ReplicaSet's status.replicas is refused (kubernetes#135136)
        ("apps", "ReplicaSet", "status.replicas=0", META_ONLY.format("status.replicas")),
        ("", "ConfigMap", "data.x=y", META_ONLY.format("data.x")),
        ("apiextensions.k8s.io", "CustomResourceDefinition", "spec.group=x", META_ONLY.format("spec.group")),
    ],
)
def test_unknown_fields_fail_with_the_kinds_conversion_error(
    group: str, kind: str, selector: str, message: str
) -> None:
    with pytest.raises(selectors.SelectorError) as err:
        selectors.parse_field_selector(selector, group, kind)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("group", "kind", "obj", "selector"),
    [
        ("", "Secret", {"metadata": {"name": "s"}, "type": "kubernetes.io/tls"}, "type=kubernetes.io/tls"),
        ("", "Namespace", {"metadata": {"name": "a"}, "status": {"phase": "Active"}}, "status.phase=Active"),
        ("", "Node", {"metadata": {"name": "n"}, "spec": {}}, "spec.unschedulable=false"),
        ("", "Service", {"metadata": {"name": "s"}, "spec": {"type": "NodePort"}}, "spec.type=NodePort"),
        ("batch", "Job", {"metadata": {"name": "j"}, "status": {"succeeded": 2}}, "status.successful=2"),
        ("apps", "Deployment", {"metadata": {"name": "web", "namespace": "a"}}, "metadata.name=web"),
        ("rbac.authorization.k8s.io", "ClusterRole", {"metadata": {"name": "r"}}, "metadata.namespace="),
    ],
)
def test_kind_specific_fields_match(group: str, kind: str, obj: dict[str, Any], selector: str) -> None:
    """``GetAttrs`` per kind: secret ``type``, namespace/pod phase, node ``fmt.Sprint(bool)``, job count."""
    assert selectors.parse_field_selector(selector, group, kind).matches(obj)


def test_event_source_falls_back_to_reporting_component() -> None:
    """``event.ToSelectableFields``: ``source`` is ``source.component`` or ``reportingComponent``."""
    event = {
        "metadata": {"name": "e", "namespace": "a"},
        "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "a"},
        "reason": "Pulled",
        "type": "Normal",
        "reportingComponent": "kubelet",
    }
    sel = selectors.parse_field_selector(
        "involvedObject.kind=Pod,involvedObject.name=web-1,source=kubelet", "", "Event"
    )
    assert sel.matches(event)
    assert sel.requires_exact_match("involvedObject.name") == "web-1"


@pytest.mark.parametrize(
    ("selector", "value"),
    [
        ("metadata.name=a\\,b", "a,b"),
        ("metadata.name=a\\=b", "a=b"),
        ("metadata.name=a\\\\b", "a\\b"),
        ("metadata.name==x", "x"),  # "==" is tried before "="
    ],
)
def test_field_values_are_unescaped(selector: str, value: str) -> None:
    """``fields.UnescapeValue``: ``\\,``, ``\\=`` and ``\\\\`` are the only escapes."""
    sel = selectors.parse_field_selector(selector, "", "ConfigMap")
    assert sel.requirements == (selectors.FieldRequirement("metadata.name", "=", value),)


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("ab", "invalid selector: 'ab'; can't understand 'ab'"),
        ("a!b", "invalid selector: 'a!b'; can't understand 'a!b'"),
        ("a=b=c", "invalid field selector: unescaped character in value: 61"),  # the rune, printed with %v
        ("metadata.name=a\\x", "invalid field selector: invalid escape sequence: \\x"),
        ("metadata.name=x\\", "invalid field selector: invalid escape sequence: \\"),
    ],
)
def test_field_parse_errors(selector: str, message: str) -> None:
    """``parseSelector`` / ``UnescapeValue`` error texts."""
    with pytest.raises(selectors.SelectorError) as err:
        selectors.parse_field_selector(selector, "", "ConfigMap")
    assert str(err.value) == message


def test_terms_are_checked_in_sorted_order_parse_before_conversion() -> None:
    """``parseSelector`` sorts terms and parses all before ``Transform`` converts the labels."""
    with pytest.raises(selectors.SelectorError, match="field label not supported: a"):
        selectors.parse_field_selector("b=1,a=1", "", "Pod")
    with pytest.raises(selectors.SelectorError, match="invalid escape"):
        selectors.parse_field_selector("a=1,metadata.name=\\q", "", "Pod")


def test_custom_resources_accept_name_namespace_and_selectable_fields() -> None:
    """``crConverter.ConvertFieldLabel``: namespace only when namespaced; CRD ``selectableFields``."""
    shirt = {"metadata": {"name": "s1", "namespace": "a"}, "spec": {"color": "blue", "size": 3, "sale": True}}
    fields = [".spec.color", ".spec.size", ".spec.sale"]
    sel = selectors.parse_field_selector(
        "spec.color=blue,spec.size=3,spec.sale=true", "ex.com", "Shirt", custom=True, selectable_fields=fields
    )
    assert sel.matches(shirt)
    with pytest.raises(selectors.SelectorError, match=r"^field label not supported: spec\.weight$"):
        selectors.parse_field_selector(
            "spec.weight=1", "ex.com", "Shirt", custom=True, selectable_fields=fields
        )
    with pytest.raises(selectors.SelectorError, match=r"^field label not supported: metadata\.namespace$"):
        selectors.parse_field_selector(
            "metadata.namespace=a", "ex.com", "Cluster", custom=True, namespaced=False
        )
