"""The resource types the local cluster serves (pure).

One :class:`ResourceType` per REST resource: its group/version/kind, plural and singular names,
scope, verbs, short names and categories as discovery reports them, its subresources, and the
rules that differ per kind (how ``metadata.generation`` moves, whether ``status`` is a
subresource). Built-in types are listed once in ``BUILTIN``; custom resources are added and
removed as their CustomResourceDefinitions come and go (:meth:`Registry.from_crd`).

Sources: ``kubectl api-resources`` of a 1.32 cluster for names, short names and categories;
``pkg/registry/*/strategy.go`` for generation and status rules (K8S-API.md §2).
"""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from gitops.localcluster import schema as schema_mod

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


class Generation(Enum):
    """How ``metadata.generation`` moves on writes (K8S-API.md §2)."""

    NONE = "none"  # ConfigMap, Secret, Service, Namespace, ServiceAccount, Pod: no generation
    SPEC = "spec"  # +1 when spec changes (ReplicaSet, StatefulSet, DaemonSet, Job, ...)
    SPEC_OR_ANNOTATIONS = "spec+annotations"  # Deployment
    NON_METADATA = "non-metadata"  # custom resources: anything but metadata (and status)


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    status_subresource: bool = False
    scale_subresource: bool = False
    generation: Generation = Generation.NONE
    # Custom resources only: the CRD version's openAPIV3Schema and scale paths.
    crd_schema: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    crd_scale: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    custom: bool = False

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        return self.group_version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def qualified_plural(self) -> str:
        """``deployments.apps`` (``configmaps`` for the core group), as error messages say it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """``Deployment.apps`` (``ConfigMap`` for the core group), as 422 messages say it."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def storage_version_hash(self) -> str:
        digest = hashlib.sha256(f"{self.group}/{self.version}/{self.kind}".encode()).digest()
        return base64.b64encode(digest[:8]).decode()

    def type_node(self) -> schema_mod.TypeNode:
        """The structural schema of this kind (untyped when unknown)."""
        if self.custom:
            cached: schema_mod.TypeNode | None = self.__dict__.get("_type_node")
            if cached is None:
                cached = schema_mod.for_crd_schema(self.crd_schema)
                object.__setattr__(self, "_type_node", cached)
            return cached
        node = schema_mod.for_kind(self.group, self.version, self.kind)
        return node if node is not None else schema_mod.untyped()


def _t(
    group: str,
    version: str,
    kind: str,
    plural: str,
    *,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    all_category: bool = False,
    status: bool = False,
    scale: bool = False,
    generation: Generation = Generation.NONE,
    verbs: tuple[str, ...] = ALL_VERBS,
) -> ResourceType:
    return ResourceType(
        group=group,
        version=version,
        kind=kind,
        plural=plural,
        singular=kind.lower(),
        namespaced=namespaced,
        short_names=short,
        categories=("all",) if all_category else (),
        verbs=verbs,
        status_subresource=status,
        scale_subresource=scale,
        generation=generation,
    )


_NAMESPACE_VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")

BUILTIN: tuple[ResourceType, ...] = (
    # core/v1
    _t(
        "",
        "v1",
        "Namespace",
        "namespaces",
        namespaced=False,
        short=("ns",),
        status=True,
        verbs=_NAMESPACE_VERBS,
    ),
    _t("", "v1", "ConfigMap", "configmaps", short=("cm",)),
    _t("", "v1", "Secret", "secrets"),
    _t("", "v1", "Service", "services", short=("svc",), all_category=True, status=True),
    _t("", "v1", "ServiceAccount", "serviceaccounts", short=("sa",)),
    _t("", "v1", "Pod", "pods", short=("po",), all_category=True, status=True),
    _t("", "v1", "Endpoints", "endpoints", short=("ep",)),
    _t("", "v1", "Event", "events", short=("ev",)),
    _t("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", short=("pvc",), status=True),
    _t("", "v1", "Node", "nodes", namespaced=False, short=("no",), status=True),
    # apps/v1
    _t(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        short=("deploy",),
        all_category=True,
        status=True,
        scale=True,
        generation=Generation.SPEC_OR_ANNOTATIONS,
    ),
    _t(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        short=("rs",),
        all_category=True,
        status=True,
        scale=True,
        generation=Generation.SPEC,
    ),
    _t(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        short=("sts",),
        all_category=True,
        status=True,
        scale=True,
        generation=Generation.SPEC,
    ),
    _t(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        short=("ds",),
        all_category=True,
        status=True,
        generation=Generation.SPEC,
    ),
    _t("apps", "v1", "ControllerRevision", "controllerrevisions"),
    # batch/v1
    _t("batch", "v1", "Job", "jobs", all_category=True, status=True, generation=Generation.SPEC),
    _t(
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        short=("cj",),
        all_category=True,
        status=True,
        generation=Generation.SPEC,
    ),
    # networking.k8s.io/v1
    _t(
        "networking.k8s.io",
        "v1",
        "Ingress",
        "ingresses",
        short=("ing",),
        status=True,
        generation=Generation.SPEC,
    ),
    _t("networking.k8s.io", "v1", "IngressClass", "ingressclasses", namespaced=False),
    _t(
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        short=("netpol",),
        generation=Generation.SPEC,
    ),
    # rbac.authorization.k8s.io/v1
    _t("rbac.authorization.k8s.io", "v1", "Role", "roles"),
    _t("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings"),
    _t("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced=False),
    _t("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", namespaced=False),
    # coordination.k8s.io/v1
    _t("coordination.k8s.io", "v1", "Lease", "leases"),
    # discovery.k8s.io/v1
    _t("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
    # policy/v1
    _t(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        short=("pdb",),
        status=True,
        generation=Generation.SPEC,
    ),
    # autoscaling/v2
    _t(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        short=("hpa",),
        all_category=True,
        status=True,
    ),
    # storage.k8s.io/v1
    _t("storage.k8s.io", "v1", "StorageClass", "storageclasses", namespaced=False, short=("sc",)),
    # apiextensions.k8s.io/v1
    _t(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        namespaced=False,
        short=("crd", "crds"),
        status=True,
        generation=Generation.SPEC,
    ),
)


class Registry:
    """The resource types served right now: the built-ins plus every established CRD version.

    Thread-safe; lookups are by (group, version, plural) as URLs name them, or by
    (group, version, kind) as object bodies do.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_plural: dict[tuple[str, str, str], ResourceType] = {}
        self._by_kind: dict[tuple[str, str, str], ResourceType] = {}
        self._by_crd: dict[str, list[ResourceType]] = {}
        self.generation = 0  # bumped on every change; discovery documents are cached by it
        for rt in BUILTIN:
            self._add(rt)

    def _add(self, rt: ResourceType) -> None:
        self._by_plural[(rt.group, rt.version, rt.plural)] = rt
        self._by_kind[(rt.group, rt.version, rt.kind)] = rt

    def by_plural(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_plural.get((group, version, plural))

    def by_kind(self, group: str, version: str, kind: str) -> ResourceType | None:
        return self._by_kind.get((group, version, kind))

    def all(self) -> list[ResourceType]:
        with self._lock:
            return list(self._by_plural.values())

    def group_versions(self) -> dict[str, list[str]]:
        """group -> versions, preferred first, in registration order (core group is ``""``)."""
        out: dict[str, list[str]] = {}
        for rt in self.all():
            versions = out.setdefault(rt.group, [])
            if rt.version not in versions:
                versions.append(rt.version)
        return out

    def set_crd(self, crd_name: str, types: list[ResourceType]) -> None:
        """Serve exactly ``types`` for the CRD ``crd_name`` (an empty list stops serving it)."""
        with self._lock:
            for old in self._by_crd.pop(crd_name, []):
                self._by_plural.pop((old.group, old.version, old.plural), None)
                self._by_kind.pop((old.group, old.version, old.kind), None)
            for rt in types:
                self._add(rt)
            if types:
                self._by_crd[crd_name] = types
            self.generation += 1

    @staticmethod
    def from_crd(crd: dict[str, Any]) -> list[ResourceType]:
        """The resource types a CRD object serves: one per version with ``served: true``.

        The storage version is listed first so that discovery prefers it, as a 1.32 server
        sorts served versions by Kubernetes version priority (v1 > v1beta1 > v1alpha1).
        """
        spec = crd.get("spec", {})
        names = spec.get("names", {})
        namespaced = spec.get("scope", "Namespaced") == "Namespaced"
        versions = [v for v in spec.get("versions", []) if v.get("served", True)]
        versions.sort(key=lambda v: _version_priority(str(v.get("name", ""))), reverse=True)
        types = []
        for v in versions:
            subresources = v.get("subresources") or {}
            types.append(
                ResourceType(
                    group=str(spec.get("group", "")),
                    version=str(v.get("name", "")),
                    kind=str(names.get("kind", "")),
                    plural=str(names.get("plural", "")),
                    singular=str(names.get("singular") or str(names.get("kind", "")).lower()),
                    namespaced=namespaced,
                    short_names=tuple(names.get("shortNames") or ()),
                    categories=tuple(names.get("categories") or ()),
                    status_subresource="status" in subresources,
                    scale_subresource="scale" in subresources,
                    generation=Generation.NON_METADATA,
                    crd_schema=(v.get("schema") or {}).get("openAPIV3Schema"),
                    crd_scale=subresources.get("scale"),
                    custom=True,
                )
            )
        return types


def _version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes version ordering: GA > beta > alpha, then by major and minor number.

    (``apimachinery/pkg/version/helpers.go`` CompareKubeAwareVersionStrings.)
    """
    import re

    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not m:
        return (-1, 0, 0)
    stability = {"alpha": 0, "beta": 1, None: 2}[m.group(2)]
    return (stability, int(m.group(1)), int(m.group(3) or 0))
