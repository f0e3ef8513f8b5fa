"""Sync phases and the order of objects within them (pure). See the package docstring."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, Final

from gitops import diff
from gitops.errors import GitopsError
from gitops.model import Resource, ResourceKey

PHASE_ANNOTATION: Final = "gitops.dev/phase"


class PlanError(GitopsError):
    """The desired set cannot be planned (an invalid phase annotation, a duplicate object);
    ``problems`` lists every one, each starting with the object's key. Nothing was applied."""

    def __init__(self, problems: list[str] | tuple[str, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


class Phase(Enum):
    """The phases of a sync, applied in ``order``; each waits for the previous one to be applied
    and healthy. ``label`` is what Change.phase, annotations and the CLI say."""

    SCAFFOLDING = (1, "scaffolding")
    CONFIGURATION = (2, "configuration")
    WORKLOADS = (3, "workloads")
    EXPOSURE = (4, "exposure")
    OTHER = (5, "other")

    def __init__(self, order: int, label: str) -> None:
        self.order = order
        self.label = label

    @classmethod
    def parse(cls, text: str) -> Phase:
        """A phase from its number (``"3"``) or label (``"workloads"``, any case); ValueError
        otherwise."""
        value = text.strip().lower()
        for phase in cls:
            if value in (str(phase.order), phase.label):
                return phase
        names = ", ".join(f"{p.order} or {p.label}" for p in cls)
        raise ValueError(f"{text!r} is not a phase (use {names})")

    def __str__(self) -> str:
        return f"{self.order}-{self.label}"


# Kinds of each phase, in the order they are applied within it (the rank). Keyed by API group
# too: a custom resource named "Service" (Knative) is not a core Service.
_KINDS: Final[dict[Phase, tuple[tuple[str, str], ...]]] = {
    Phase.SCAFFOLDING: (
        ("", "Namespace"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "VolumeAttributesClass"),
        ("", "PersistentVolume"),
        ("networking.k8s.io", "IngressClass"),
        ("node.k8s.io", "RuntimeClass"),
    ),
    Phase.CONFIGURATION: (
        ("", "ConfigMap"),
        ("", "Secret"),
        ("", "ServiceAccount"),
        ("rbac.authorization.k8s.io", "Role"),
        ("rbac.authorization.k8s.io", "RoleBinding"),
        ("", "PersistentVolumeClaim"),
        ("", "ResourceQuota"),
        ("", "LimitRange"),
        # Policies about pods, not pods: they exist before the first pod starts, so a pod never
        # runs unisolated (NetworkPolicy) or unprotected from drains (PodDisruptionBudget).
        ("networking.k8s.io", "NetworkPolicy"),
        ("policy", "PodDisruptionBudget"),
    ),
    Phase.WORKLOADS: (
        ("apps", "Deployment"),
        ("apps", "StatefulSet"),
        ("apps", "DaemonSet"),
        ("apps", "ReplicaSet"),
        ("", "ReplicationController"),
        ("", "Pod"),
        ("batch", "Job"),
        ("batch", "CronJob"),
        # After its target: the first rollout uses Git's replicas, then the HPA takes over.
        ("autoscaling", "HorizontalPodAutoscaler"),
    ),
    Phase.EXPOSURE: (
        ("", "Service"),
        ("", "Endpoints"),
        ("discovery.k8s.io", "EndpointSlice"),
        ("networking.k8s.io", "Ingress"),
        # Gateway API routes traffic like Ingress does (its CRDs come in phase 1).
        ("gateway.networking.k8s.io", "Gateway"),
        ("gateway.networking.k8s.io", "HTTPRoute"),
        ("gateway.networking.k8s.io", "GRPCRoute"),
        ("gateway.networking.k8s.io", "TLSRoute"),
        ("gateway.networking.k8s.io", "TCPRoute"),
        ("gateway.networking.k8s.io", "UDPRoute"),
    ),
    Phase.OTHER: (
        # Registered only once the servers behind them (phases 3 and 4) are up, so a webhook
        # with failurePolicy Fail never blocks the writes of this very sync.
        ("apiregistration.k8s.io", "APIService"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ),
}
_DEFAULT: Final[dict[tuple[str, str], tuple[Phase, int]]] = {
    gk: (phase, rank) for phase, kinds in _KINDS.items() for rank, gk in enumerate(kinds)
}
RANK_MOVED: Final = 500  # a kind moved by annotation into a phase that does not list it
RANK_BUILTIN_OTHER: Final = 600  # built-in kinds no phase lists
RANK_CUSTOM: Final = 1000  # custom resources: last in their phase


def default_phase(key: ResourceKey) -> tuple[Phase, int]:
    """The phase a kind belongs to and its rank there (lower applies first)."""
    found = _DEFAULT.get((key.group, key.kind))
    if found is not None:
        return found
    if key.group in diff.BUILTIN_GROUPS:
        return Phase.OTHER, RANK_BUILTIN_OTHER
    return Phase.OTHER, RANK_CUSTOM


def phase_of(key: ResourceKey, body: Mapping[str, Any]) -> tuple[Phase, int]:
    """The object's phase and rank, honouring a ``gitops.dev/phase`` annotation; ValueError
    (with the reason, not the key) when the annotation is not a phase."""
    phase, rank = default_phase(key)
    meta = body.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    value = annotations.get(PHASE_ANNOTATION) if isinstance(annotations, Mapping) else None
    if value is None:
        return phase, rank
    if not isinstance(value, str):
        raise ValueError(f"annotation {PHASE_ANNOTATION}: {value!r} must be a string")
    try:
        moved = Phase.parse(value)
    except ValueError as exc:
        raise ValueError(f"annotation {PHASE_ANNOTATION}: {exc}") from None
    if moved is phase:
        return phase, rank
    return moved, RANK_CUSTOM if rank == RANK_CUSTOM else RANK_MOVED


def sort_key(key: ResourceKey, rank: int) -> tuple[int, str, str, str, str]:
    """The order within a phase: kind rank, then group and kind (for kinds of equal rank), then
    namespace and name."""
    return (rank, key.group, key.kind, key.namespace, key.name)


def resource_phase(resource: Resource) -> tuple[Phase, int]:
    """:func:`phase_of` for a desired object; PlanError naming the object and its origin."""
    try:
        return phase_of(resource.key, resource.body)
    except ValueError as exc:
        where = f" ({resource.origin})" if resource.origin else ""
        raise PlanError([f"{resource.key}{where}: {exc}"]) from None
