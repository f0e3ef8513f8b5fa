"""Request validation as a 1.32 API server does it (gitops.localcluster.validation).

Expectations come from ``k8s.io/apimachinery/pkg/util/validation/validation.go`` (name, label and
key rules with their exact texts), ``pkg/util/validation/field/errors.go`` (error bodies),
``pkg/api/errors/errors.go`` (NewInvalid), ``pkg/api/validation/objectmeta.go``,
``pkg/apis/apps/validation/validation.go``, ``pkg/apis/core/validation/validation.go``,
``pkg/apis/batch/validation/validation.go``, apiextensions-apiserver
``pkg/apis/apiextensions/validation/validation.go``, ``pkg/registry/apps/deployment/strategy.go``,
the strict decoder of ``sigs.k8s.io/json`` and ``apiserver/pkg/endpoints/handlers/rest.go``
(transformDecodeError), and K8S-API.md sections 2, 3.6, 4 and 6.2.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gitops.localcluster import defaults, schema, validation

SUBDOMAIN_RULE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_RULE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_RULE = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
QNAME_RULE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)


def _deployment(**spec: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
            **spec,
        },
    }
    defaults.apply_defaults("apps", "v1", "Deployment", obj)
    return obj


def _messages(group: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
    version = "v2" if group == "autoscaling" else "v1"
    return [str(c) for c in validation.validate(group, version, kind, obj, old)]


def _defaulted(group: str, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    defaults.apply_defaults(group, "v1", kind, obj)
    return obj


# --- messages ------------------------------------------------------------------------------


def test_a_valid_deployment_has_no_causes() -> None:
    assert _messages("apps", "Deployment", _deployment()) == []


def test_invalid_message_formats_one_cause_inline_and_several_in_brackets() -> None:
    """errors.NewInvalid: ``<Kind.group> "<name>" is invalid: <field>: <body>``, ``[a, b]`` for several."""
    one = [validation.Cause("FieldValueRequired", "Required value", "spec.selector")]
    assert (
        validation.invalid_message("Deployment.apps", "web", one)
        == 'Deployment.apps "web" is invalid: spec.selector: Required value'
    )
    two = [
        *one,
        validation.Cause(
            "FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0", "spec.replicas"
        ),
    ]
    assert validation.invalid_message("Deployment.apps", "web", two) == (
        'Deployment.apps "web" is invalid: [spec.selector: Required value, '
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0]"
    )
    assert (
        validation.invalid_message("ConfigMap", "c", [*one, *one])
        == 'ConfigMap "c" is invalid: spec.selector: Required value'
    )


def test_max_surge_and_max_unavailable_both_zero() -> None:
    """K8S-API.md 6.2, ValidateRollingUpdateDeployment; IntOrString prints through String()."""
    obj = _deployment(
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}
    )
    causes = validation.validate("apps", "v1", "Deployment", obj)
    assert validation.invalid_message("Deployment.apps", "web", causes) == (
        'Deployment.apps "web" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: '
        "may not be 0 when `maxSurge` is 0"
    )
    assert causes[0].reason == "FieldValueInvalid"
    assert causes[0].field == "spec.strategy.rollingUpdate.maxUnavailable"
    assert causes[0].message == "Invalid value: 0: may not be 0 when `maxSurge` is 0"


def test_max_unavailable_above_100_percent() -> None:
    obj = _deployment(
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "110%"}}
    )
    assert _messages("apps", "Deployment", obj) == [
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 110%: must not be greater than 100%"
    ]


def test_missing_selector_reports_required_and_template_mismatch() -> None:
    """With a nil selector LabelSelectorAsSelector yields Nothing, which matches no labels."""
    obj = _deployment()
    del obj["spec"]["selector"]
    assert _messages("apps", "Deployment", obj) == [
        "spec.selector: Required value",
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    ]


def test_selector_must_match_template_labels_and_not_be_empty() -> None:
    obj = _deployment(selector={"matchLabels": {"app": "other"}})
    assert _messages("apps", "Deployment", obj) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`'
    ]
    empty = _deployment(selector={})
    assert _messages("apps", "Deployment", empty) == [
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"
    ]


def test_negative_replicas_and_containers_rules() -> None:
    obj = _deployment(replicas=-1)
    obj["spec"]["template"]["spec"]["containers"] = [
        {"name": "Bad_Name", "image": ""},
        {"name": "Bad_Name", "image": "x"},
    ]
    defaults.apply_defaults("apps", "v1", "Deployment", obj)
    assert _messages("apps", "Deployment", obj) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        f'spec.template.spec.containers[0].name: Invalid value: "Bad_Name": {LABEL_RULE}',
        "spec.template.spec.containers[0].image: Required value",
        f'spec.template.spec.containers[1].name: Invalid value: "Bad_Name": {LABEL_RULE}',
        'spec.template.spec.containers[1].name: Duplicate value: "Bad_Name"',
    ]


def test_containers_are_required() -> None:
    obj = _deployment()
    obj["spec"]["template"]["spec"]["containers"] = []
    assert _messages("apps", "Deployment", obj) == ["spec.template.spec.containers: Required value"]


def test_deployment_restart_policy_must_be_always() -> None:
    obj = _deployment()
    obj["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert _messages("apps", "Deployment", obj) == [
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'
    ]


def test_requests_may_not_exceed_limits() -> None:
    obj = _deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "limits": {"cpu": "1"},
        "requests": {"cpu": "2"},
    }
    assert _messages("apps", "Deployment", obj) == [
        'spec.template.spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'
    ]


def test_volume_mounts_must_name_a_volume() -> None:
    obj = _deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = [
        {"name": "data", "mountPath": "/data"}
    ]
    assert _messages("apps", "Deployment", obj) == [
        'spec.template.spec.containers[0].volumeMounts[0].name: Not found: "data"'
    ]


def test_selector_is_immutable() -> None:
    """deploymentStrategy.ValidateUpdate: ValidateImmutableField on spec.selector."""
    old = _deployment()
    new = _deployment(selector={"matchLabels": {"app": "web", "tier": "x"}})
    new["spec"]["template"]["metadata"]["labels"]["tier"] = "x"
    assert _messages("apps", "Deployment", new, old) == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"x"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
    ]


# --- metadata ------------------------------------------------------------------------------


def test_names_must_be_dns_subdomains() -> None:
    obj = _deployment()
    obj["metadata"]["name"] = "Web_1"
    assert _messages("apps", "Deployment", obj) == [
        f'metadata.name: Invalid value: "Web_1": {SUBDOMAIN_RULE}'
    ]
    obj["metadata"]["name"] = "a" * 254
    assert _messages("apps", "Deployment", obj) == [
        f'metadata.name: Invalid value: "{"a" * 254}": must be no more than 253 characters'
    ]


def test_name_or_generate_name_is_required() -> None:
    obj = _deployment()
    del obj["metadata"]["name"]
    assert _messages("apps", "Deployment", obj) == [
        "metadata.name: Required value: name or generateName is required"
    ]
    obj["metadata"]["generateName"] = "web-"  # a trailing dash is allowed in a prefix
    assert _messages("apps", "Deployment", obj) == [
        "metadata.name: Required value: name or generateName is required"
    ]


def test_service_names_are_dns1035_and_namespace_names_dns_labels() -> None:
    svc = _defaulted(
        "", "Service", {"metadata": {"name": "1web", "namespace": "d"}, "spec": {"ports": [{"port": 80}]}}
    )
    assert _messages("", "Service", svc) == [f'metadata.name: Invalid value: "1web": {DNS1035_RULE}']
    ns = _defaulted("", "Namespace", {"metadata": {"name": "team.a"}})
    assert _messages("", "Namespace", ns) == ['metadata.name: Invalid value: "team.a": must not contain dots']


def test_label_keys_values_and_annotation_size() -> None:
    obj = _deployment()
    obj["metadata"]["labels"] = {"bad key": "ok", "app": "x" * 64}
    obj["metadata"]["annotations"] = {"big": "x" * (256 * 1024)}
    assert _messages("apps", "Deployment", obj) == [
        f'metadata.labels: Invalid value: "bad key": {QNAME_RULE}',
        f'metadata.labels: Invalid value: "{"x" * 64}": must be no more than 63 characters',
        "metadata.annotations: Too long: may not be more than 262144 bytes",
    ]


def test_template_labels_are_reported_at_template_labels() -> None:
    """ValidatePodTemplateSpec validates labels at fldPath.Child("labels")."""
    obj = _deployment(selector={"matchLabels": {"app": "web"}})
    obj["spec"]["template"]["metadata"]["labels"]["job-name"] = "j" * 64
    assert _messages("apps", "Deployment", obj) == [
        f'spec.template.labels: Invalid value: "{"j" * 64}": must be no more than 63 characters'
    ]


# --- core/v1 -------------------------------------------------------------------------------


def _service(**spec: Any) -> dict[str, Any]:
    return _defaulted("", "Service", {"metadata": {"name": "web", "namespace": "d"}, "spec": spec})


def test_service_ports_rules() -> None:
    assert _messages("", "Service", _service(selector={"app": "web"})) == ["spec.ports: Required value"]
    assert _messages("", "Service", _service(clusterIP="None")) == []
    assert _messages("", "Service", _service(type="ExternalName", externalName="example.com")) == []
    ports = [{"port": 80}, {"port": 70000, "name": "b"}, {"port": 81, "name": "b"}]
    assert _messages("", "Service", _service(ports=ports)) == [
        "spec.ports[0].name: Required value",
        "spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
        "spec.ports[1].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        'spec.ports[2].name: Duplicate value: "b"',
    ]


def test_service_type_must_be_supported() -> None:
    assert _messages("", "Service", _service(type="Internal", ports=[{"port": 80}])) == [
        'spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'
    ]


def test_service_cluster_ip_may_not_change() -> None:
    old = _service(ports=[{"port": 80}], clusterIP="10.96.0.10", clusterIPs=["10.96.0.10"])
    new = _service(ports=[{"port": 80}], clusterIP="10.96.0.11", clusterIPs=["10.96.0.11"])
    assert _messages("", "Service", new, old) == [
        'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set'
    ]


def test_config_map_keys_and_size() -> None:
    cm = {"metadata": {"name": "c", "namespace": "d"}, "data": {"bad key": "1", "..x": "2"}}
    assert _messages("", "ConfigMap", cm) == [
        'data[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters, '
        "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        "data[..x]: Invalid value: \"..x\": must not start with '..'",
    ]
    big = {"metadata": {"name": "c", "namespace": "d"}, "data": {"a": "x" * (1024 * 1024 + 1)}}
    assert _messages("", "ConfigMap", big) == ["[]: Too long: may not be more than 1048576 bytes"]


def test_immutable_config_maps_and_secrets_keep_their_data() -> None:
    old = {"metadata": {"name": "c", "namespace": "d"}, "data": {"a": "1"}, "immutable": True}
    new = copy.deepcopy(old)
    new["data"]["a"] = "2"
    assert _messages("", "ConfigMap", new, old) == [
        "data: Forbidden: field is immutable when `immutable` is set"
    ]
    secret_old = {
        "metadata": {"name": "s", "namespace": "d"},
        "type": "Opaque",
        "data": {"a": "MQ=="},
        "immutable": True,
    }
    secret_new = {**copy.deepcopy(secret_old), "immutable": False, "type": "kubernetes.io/tls"}
    assert _messages("", "Secret", secret_new, secret_old) == [
        'type: Invalid value: "kubernetes.io/tls": field is immutable',
        "immutable: Forbidden: field is immutable when `immutable` is set",
        "data[tls.crt]: Required value",
        "data[tls.key]: Required value",
    ]


def test_secret_data_size() -> None:
    secret = {"metadata": {"name": "s", "namespace": "d"}, "type": "Opaque", "data": {"a": "QUFB" * 350000}}
    assert _messages("", "Secret", secret) == ["data: Too long: may not be more than 1048576 bytes"]


def test_pvc_spec_is_immutable_while_unbound() -> None:
    old = _defaulted(
        "",
        "PersistentVolumeClaim",
        {
            "metadata": {"name": "p", "namespace": "d"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        },
    )
    new = copy.deepcopy(old)
    new["spec"]["resources"]["requests"]["storage"] = "2Gi"
    causes = validation.validate("", "v1", "PersistentVolumeClaim", new, old)
    assert [c.field for c in causes] == ["spec"]
    assert causes[0].message.startswith(
        "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n"
    )


# --- batch, CRDs, others -------------------------------------------------------------------


def _job() -> dict[str, Any]:
    job = {
        "metadata": {"name": "pi", "namespace": "d", "uid": "u-1"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "perl"}]}}},
    }
    defaults.apply_defaults("batch", "v1", "Job", job)
    defaults.job_defaults(job, "u-1")
    return job


def test_job_restart_policy_must_be_on_failure_or_never() -> None:
    assert _messages("batch", "Job", _job()) == [
        'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'
    ]


def test_job_template_and_selector_are_immutable() -> None:
    old = _job()
    old["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "perl:2"
    assert _messages("batch", "Job", new, old) == [
        "spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable"
    ]


def _crd(**spec: Any) -> dict[str, Any]:
    crd = {
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                }
            ],
            **spec,
        },
    }
    defaults.apply_defaults("apiextensions.k8s.io", "v1", "CustomResourceDefinition", crd)
    return crd


def test_crd_basics() -> None:
    assert _messages("apiextensions.k8s.io", "CustomResourceDefinition", _crd()) == []
    crd = _crd(
        group="example",
        names={"plural": "Widgets", "kind": "Widget", "singular": "widget", "listKind": "WidgetList"},
    )
    assert _messages("apiextensions.k8s.io", "CustomResourceDefinition", crd) == [
        'metadata.name: Invalid value: "widgets.example.com": must be spec.names.plural+"."+spec.group',
        'spec.group: Invalid value: "example": should be a domain with at least one dot',
        f'spec.names.plural: Invalid value: "Widgets": {DNS1035_RULE}',
    ]
    two = _crd(
        versions=[
            {"name": "v1", "storage": True, "schema": {"openAPIV3Schema": {"type": "object"}}},
            {"name": "v2", "storage": True, "schema": {"openAPIV3Schema": {"type": "object"}}},
        ]
    )
    assert _messages("apiextensions.k8s.io", "CustomResourceDefinition", two) == [
        "spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion{...}: must have exactly one version marked as storage version"
    ]


def test_crd_schemas_are_required_and_structural() -> None:
    crd = _crd(
        versions=[
            {"name": "v1", "storage": True, "schema": {"openAPIV3Schema": {"properties": {"spec": {}}}}}
        ]
    )
    assert _messages("apiextensions.k8s.io", "CustomResourceDefinition", crd) == [
        "spec.versions[0].schema.openAPIV3Schema.type: Required value: must not be empty at the root",
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields",
    ]


def test_rbac_binding_role_ref() -> None:
    rb = {
        "metadata": {"name": "rb", "namespace": "d"},
        "roleRef": {"kind": "Group", "name": "r"},
        "subjects": [{"kind": "Robot", "name": "x"}],
    }
    defaults.apply_defaults("rbac.authorization.k8s.io", "v1", "RoleBinding", rb)
    assert _messages("rbac.authorization.k8s.io", "RoleBinding", rb) == [
        'roleRef.kind: Unsupported value: "Group": supported values: "Role", "ClusterRole"',
        'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
    ]


def test_hpa_replica_bounds() -> None:
    hpa = {
        "metadata": {"name": "h", "namespace": "d"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 3, "maxReplicas": 2},
    }
    assert _messages("autoscaling", "HorizontalPodAutoscaler", hpa) == [
        "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"
    ]


# --- decoding: unknown fields and wrong types ----------------------------------------------


def _node(group: str, version: str, kind: str) -> schema.TypeNode:
    node = schema.for_kind(group, version, kind)
    assert node is not None
    return node


def test_unknown_fields_use_the_strict_decoding_paths() -> None:
    """sigs.k8s.io/json strict errors: dotted fields, list indices in brackets, document order."""
    obj = _deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["bogus"] = 1
    obj["spec"]["foo"] = {"bar": 1}
    obj["metadata"]["lables"] = {}
    node = _node("apps", "v1", "Deployment")
    assert validation.unknown_fields(obj, node) == [
        "metadata.lables",
        "spec.template.spec.containers[0].bogus",
        "spec.foo",
    ]
    validation.prune_unknown(obj, node)
    assert validation.unknown_fields(obj, node) == []
    assert "foo" not in obj["spec"]


def test_custom_resources_keep_preserved_unknown_fields() -> None:
    node = schema.for_crd_schema(
        {
            "type": "object",
            "properties": {
                "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        }
    )
    obj = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 1, "colour": "red"},
        "config": {"any": {"thing": 1}},
    }
    assert validation.unknown_fields(obj, node) == ["spec.colour"]
    validation.prune_unknown(obj, node)
    assert obj["spec"] == {"size": 1}
    assert obj["config"] == {"any": {"thing": 1}}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda o: o["spec"].__setitem__("replicas", "3"),
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
        (
            lambda o: o["spec"].__setitem__("replicas", 1.5),
            "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
        (
            lambda o: o["spec"]["template"]["spec"]["containers"][0].__setitem__("image", 5),
            "json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image of type string",
        ),
        (
            lambda o: o["metadata"].__setitem__("labels", {"a": True}),
            "json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string",
        ),
        (
            lambda o: o["spec"]["template"]["spec"].__setitem__("containers", {"name": "c"}),
            "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container",
        ),
        (
            lambda o: o.__setitem__("spec", "x"),
            "json: cannot unmarshal string into Go struct field Deployment.spec of type v1.DeploymentSpec",
        ),
        (
            lambda o: o["spec"]["template"]["spec"]["containers"][0].__setitem__(
                "resources", {"limits": {"cpu": "2 cores"}}
            ),
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        ),
    ],
)
def test_type_errors_give_the_400_decode_message(mutate: Any, message: str) -> None:
    obj = _deployment()
    mutate(obj)
    assert validation.type_errors(obj, _node("apps", "v1", "Deployment")) == [
        f'Deployment in version "v1" cannot be handled as a Deployment: {message}'
    ]


def test_int_or_string_and_base64_type_errors() -> None:
    svc = {"apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"port": 80, "targetPort": True}]}}
    assert validation.type_errors(svc, _node("", "v1", "Service")) == [
        'Service in version "v1" cannot be handled as a Service: json: cannot unmarshal bool into Go struct field '
        "ServicePort.spec.ports.targetPort of type int32"
    ]
    secret = {"apiVersion": "v1", "kind": "Secret", "data": {"password": "hunter2!"}}
    assert validation.type_errors(secret, _node("", "v1", "Secret")) == [
        'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 7'
    ]


def test_well_typed_objects_have_no_type_errors() -> None:
    assert validation.type_errors(_deployment(), _node("apps", "v1", "Deployment")) == []


def test_custom_resources_are_validated_against_their_schema() -> None:
    """kube-openapi validation as the CRD handler reports it (422 causes)."""
    node = schema.for_crd_schema(
        {
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "required": ["size"],
                    "properties": {
                        "size": {"type": "integer"},
                        "mode": {"type": "string", "enum": ["a", "b"]},
                    },
                }
            },
        }
    )
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"mode": "c"}}
    assert [str(c) for c in validation.validate_custom(obj, node)] == [
        "spec.size: Required value",
        'spec.mode: Unsupported value: "c": supported values: "a", "b"',
    ]
    obj["spec"] = {"size": "big"}
    assert [str(c) for c in validation.validate_custom(obj, node)] == [
        'spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"'
    ]
