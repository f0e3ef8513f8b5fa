"""Validation of a desired set before anything is written (pure, given the caller's ``scope``).

Every object must have an apiVersion, a kind and a name valid for its kind; labels and
annotations must be well formed; its scope must be known — from the cluster (the caller's
``scope`` function) or from a CustomResourceDefinition in the same set — so that namespaced
objects get the default namespace and cluster-scoped ones are refused a namespace; no two objects
may share a ``ResourceKey``; and, optionally, built-in kinds must match Kubernetes 1.32's schema
strictly. Every problem in the set is reported at once, each naming the file, document and line.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

from gitops import errors, model
from gitops.manifests import names, reader, schema

Scope = Callable[[str, str, str], str | None]
"""``scope(group, version, kind)``: ``"Namespaced"``, ``"Cluster"``, or None when the cluster does
not serve that kind (the engine answers it from API discovery)."""

NAMESPACED, CLUSTER = "Namespaced", "Cluster"
CRD_GROUP, CRD_KIND = "apiextensions.k8s.io", "CustomResourceDefinition"
MAX_ANNOTATIONS_BYTES = 256 * 1024  # the API server's TotalAnnotationSizeLimitB
_UNKNOWN = model.Origin("<unknown>", 0, 0)


def validate(
    resources: list[model.Resource],
    *,
    scope: Scope,
    default_namespace: str = "default",
    schema: bool = True,
) -> list[model.Resource]:
    """The resources, in the same order, with namespaced objects that have none given
    ``default_namespace`` (keys updated). Raises ``ManifestError`` listing every problem."""
    problems: list[errors.Problem] = []
    crds = _crd_scopes(resources)
    out: list[model.Resource] = []
    for resource in resources:
        checked = _Check(resource, problems).run(scope, crds, default_namespace, schema)
        out.append(checked)
    _duplicates(out, problems)
    if problems:
        raise errors.ManifestError(problems)
    return out


def _crd_scopes(resources: list[model.Resource]) -> dict[tuple[str, str], tuple[str, frozenset[str]]]:
    """(group, kind) -> (scope, versions) of the CustomResourceDefinitions in the set."""
    out: dict[tuple[str, str], tuple[str, frozenset[str]]] = {}
    for r in resources:
        body = r.body
        if r.key.group != CRD_GROUP or r.key.kind != CRD_KIND:
            continue
        spec = body.get("spec")
        if not isinstance(spec, dict):
            continue
        group, names_, scope, versions = (
            spec.get("group"),
            spec.get("names"),
            spec.get("scope"),
            spec.get("versions"),
        )
        kind = names_.get("kind") if isinstance(names_, dict) else None
        if isinstance(group, str) and isinstance(kind, str) and scope in (NAMESPACED, CLUSTER):
            served = frozenset(
                v["name"] for v in (versions or []) if isinstance(v, dict) and isinstance(v.get("name"), str)
            )
            out[(group, kind)] = (str(scope), served)
    return out


class _Check:
    """The checks of one object; appends to the shared problem list."""

    def __init__(self, resource: model.Resource, problems: list[errors.Problem]) -> None:
        self.resource = resource
        self.origin = resource.origin or _UNKNOWN
        self.key: model.ResourceKey | None = resource.key
        self.problems = problems

    def problem(self, message: str) -> None:
        self.problems.append(errors.Problem(self.origin, self.key, message))

    def run(
        self,
        scope: Scope,
        crds: Mapping[tuple[str, str], tuple[str, frozenset[str]]],
        default_namespace: str,
        with_schema: bool,
    ) -> model.Resource:
        body = self.resource.body
        api_version, kind, meta = body.get("apiVersion"), body.get("kind"), body.get("metadata")
        if not (self.resource.key.kind and self.resource.key.name):
            self.key = None  # "Job/" names nothing: the origin says where it is
        ok = True
        if not isinstance(api_version, str) or not api_version:
            self.problem(
                "apiVersion is missing" if api_version in (None, "") else "apiVersion must be a string"
            )
            ok = False
        elif api_version.count("/") > 1 or api_version.startswith("/") or api_version.endswith("/"):
            self.problem("apiVersion must be 'version' or 'group/version'")
            ok = False
        if not isinstance(kind, str) or not kind:
            self.problem("kind is missing" if kind in (None, "") else "kind must be a string")
            ok = False
        if meta is not None and not isinstance(meta, dict):
            self.problem("metadata must be a mapping")
            return self.resource
        meta = meta or {}
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            if meta.get("generateName") and not name:
                self.problem("metadata.generateName is not supported: an applied object needs metadata.name")
            else:
                self.problem(
                    "metadata.name is missing" if name in (None, "") else "metadata.name must be a string"
                )
        namespace = meta.get("namespace")
        if namespace is not None and not isinstance(namespace, str):
            self.problem("metadata.namespace must be a string")
            namespace = None
        self._labels(meta)
        if not ok:
            return self.resource
        assert isinstance(api_version, str) and isinstance(kind, str)
        group, _, version = api_version.rpartition("/")
        if isinstance(name, str) and name:
            for e in names.object_name(group, kind, name):
                self.problem(f"metadata.name: invalid {kind} name: {e}")
        scoped = scope(group, version, kind)
        if scoped is None and (group, kind) in crds:
            crd_scope, versions = crds[(group, kind)]
            if version in versions:
                scoped = crd_scope
            else:
                self.problem(
                    f"the CustomResourceDefinition for {kind}.{group} in this set does not define version {version}"
                )
                return self.resource
        new_body: Mapping[str, Any] = body
        if scoped is None:
            self.problem(
                f"unknown kind: the cluster serves no {kind} in {api_version}, and no CustomResourceDefinition in this set defines it"
            )
        elif scoped == CLUSTER:
            if namespace:
                self.problem(f"{kind} is cluster-scoped and cannot have metadata.namespace")
        else:
            if namespace:
                for e in names.dns1123_label(namespace):
                    self.problem(f"metadata.namespace: invalid namespace name: {e}")
            else:
                new_body = {**body, "metadata": {**meta, "namespace": default_namespace}}
        self._kind_rules(group, kind, body)
        if with_schema and isinstance(meta, dict):
            for message in schema.problems(group, version, kind, body):
                self.problem(message)
        if new_body is body:
            return self.resource
        return model.Resource(reader.key_of(dict(new_body)), new_body, self.resource.origin)

    def _labels(self, meta: Mapping[str, Any]) -> None:
        labels = meta.get("labels")
        if isinstance(labels, dict):
            for k, v in labels.items():
                for e in names.qualified_name(k):
                    self.problem(f"metadata.labels: invalid key '{k}': {e}")
                if isinstance(v, str):
                    for e in names.label_value(v):
                        self.problem(f"metadata.labels.{k}: invalid value: {e}")
                elif v is not None:
                    self.problem(f"metadata.labels.{k}: must be a string")
        elif labels is not None:
            self.problem("metadata.labels must be a mapping")
        annotations = meta.get("annotations")
        if isinstance(annotations, dict):
            size = 0
            for k, v in annotations.items():
                for e in names.qualified_name(k):
                    self.problem(f"metadata.annotations: invalid key '{k}': {e}")
                if isinstance(v, str):
                    size += len(k.encode()) + len(v.encode())
                elif v is not None:
                    self.problem(f"metadata.annotations.{k}: must be a string")
            if size > MAX_ANNOTATIONS_BYTES:
                self.problem(
                    f"metadata.annotations: may not be more than {MAX_ANNOTATIONS_BYTES} bytes in total"
                )
        elif annotations is not None:
            self.problem("metadata.annotations must be a mapping")

    def _kind_rules(self, group: str, kind: str, body: Mapping[str, Any]) -> None:
        if group == "" and kind in ("Secret", "ConfigMap"):
            binary_field = "data" if kind == "Secret" else "binaryData"
            for field in ("data", "stringData", "binaryData"):
                section = body.get(field)
                if not isinstance(section, dict):
                    continue
                for k, v in section.items():
                    for e in names.config_key(k):
                        self.problem(f"{field}: invalid key '{k}': {e}")
                    if field == binary_field and isinstance(v, str) and not _is_base64(v):
                        hint = "; use stringData for plain text" if kind == "Secret" else ""
                        self.problem(f"{field}.{k}: not valid base64{hint}")
            if (
                kind == "ConfigMap"
                and isinstance(body.get("data"), dict)
                and isinstance(body.get("binaryData"), dict)
            ):
                for k in sorted(set(body["data"]) & set(body["binaryData"])):
                    self.problem(f"binaryData.{k}: duplicate of key '{k}' in data")
        if group == CRD_GROUP and kind == CRD_KIND:
            spec = body.get("spec")
            meta = body.get("metadata")
            if isinstance(spec, dict) and isinstance(meta, dict):
                plural = spec.get("names", {}).get("plural") if isinstance(spec.get("names"), dict) else None
                if isinstance(plural, str) and isinstance(spec.get("group"), str):
                    expected = f"{plural}.{spec['group']}"
                    if meta.get("name") != expected:
                        self.problem(f'metadata.name: must be spec.names.plural+"."+spec.group ({expected})')


def _is_base64(value: str) -> bool:
    """Go's ``base64.StdEncoding``, which ignores line breaks, as the API server decodes ``data``."""
    try:
        base64.b64decode(value.replace("\n", "").replace("\r", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _duplicates(resources: list[model.Resource], problems: list[errors.Problem]) -> None:
    first: dict[model.ResourceKey, model.Resource] = {}
    for r in resources:
        if not r.key.kind or not r.key.name:
            continue
        if r.key in first:
            o = first[r.key].origin or _UNKNOWN
            problems.append(
                errors.Problem(r.origin or _UNKNOWN, r.key, f"duplicate object: also defined at {o}")
            )
        else:
            first[r.key] = r
