"""Which live objects that left Git may be deleted, and why the others may not (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from gitops.diff import fields
from gitops.model import ResourceKey

TRACKING_LABEL: Final = "app.gitops.dev/name"
PRUNE_ANNOTATION: Final = "gitops.dev/prune"
PRUNE_DISABLED: Final = "disabled"
PRUNE_ENABLED: Final = "enabled"

# Kinds whose deletion takes data or other apps' objects with it: pruned only when the app lists
# them (config ``pruneKinds``, the same names as gitops.config.PRUNABLE_PROTECTED_KINDS).
PROTECTED_KINDS: Final[dict[tuple[str, str], str]] = {
    ("", "Namespace"): "Namespace",
    ("apiextensions.k8s.io", "CustomResourceDefinition"): "CustomResourceDefinition",
    ("", "PersistentVolumeClaim"): "PersistentVolumeClaim",
}

# Other tools' "keep this object" annotations, honoured so that what a team protected before
# moving to gitops stays protected: (annotation, predicate on its value, how to say it).
_FOREIGN_KEEP: Final = (
    ("argocd.argoproj.io/sync-options", lambda v: "prune=false" in v.lower().replace(" ", "")),
    ("kustomize.toolkit.fluxcd.io/prune", lambda v: v.strip().lower() == "disabled"),
    ("helm.sh/resource-policy", lambda v: v.strip().lower() == "keep"),
)


@dataclass(frozen=True)
class PruneContext:
    """What the prune decision depends on besides the object itself."""

    app: str
    manager: str = "gitops"
    prune: bool = True
    allow_empty: bool = False
    desired_empty: bool = False
    allowed_kinds: frozenset[str] = frozenset()


def _metadata(obj: Mapping[str, Any], field: str) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    value = meta.get(field) if isinstance(meta, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def tracked_by(obj: Mapping[str, Any]) -> str | None:
    """The app named by the object's tracking label, if any."""
    value = _metadata(obj, "labels").get(TRACKING_LABEL)
    return value if isinstance(value, str) else None


def keep_reason(obj: Mapping[str, Any]) -> str | None:
    """Why an annotation protects the object from prune; None when none does."""
    annotations = _metadata(obj, "annotations")
    ours = annotations.get(PRUNE_ANNOTATION)
    if ours is not None:
        if isinstance(ours, str) and ours.strip().lower() == PRUNE_ENABLED:
            return None
        if isinstance(ours, str) and ours.strip().lower() == PRUNE_DISABLED:
            return f"annotated {PRUNE_ANNOTATION}: {PRUNE_DISABLED}"
        return (
            f"annotated {PRUNE_ANNOTATION}: {ours!r}, which is neither {PRUNE_DISABLED!r} nor "
            f"{PRUNE_ENABLED!r}; kept to be safe"
        )
    for name, keeps in _FOREIGN_KEEP:
        value = annotations.get(name)
        if isinstance(value, str) and keeps(value):
            return f"annotated {name}: {value}"
    return None


def skip_reason(key: ResourceKey, obj: Mapping[str, Any], ctx: PruneContext) -> str | None:
    """Why a live object of this app that left Git must not be deleted; None to prune it.

    Object-level protections come first (they hold whatever the app says), then the app's own
    switches. The label alone proves nothing (it can be copied, e.g. by a controller copying
    pod-template labels): our field manager must have applied the object *and* still own the
    tracking label.
    """
    if not fields.applied_by(obj, ctx.manager):
        return (
            f"carries {TRACKING_LABEL}={ctx.app} but field manager {ctx.manager!r} never applied it "
            "(a copied label?); not pruned"
        )
    if not fields.owns(obj, ctx.manager, "metadata", "labels", TRACKING_LABEL):
        return (
            f"field manager {ctx.manager!r} no longer owns its {TRACKING_LABEL} label (another "
            "manager set it); not pruned"
        )
    reason = keep_reason(obj)
    if reason is not None:
        return f"{reason}; not pruned"
    protected = PROTECTED_KINDS.get((key.group, key.kind))
    if protected is not None and protected not in ctx.allowed_kinds:
        return f"{protected} objects are pruned only when the app allows it (pruneKinds); not pruned"
    meta = obj.get("metadata")
    if isinstance(meta, Mapping) and meta.get("deletionTimestamp"):
        return "already being deleted"
    if not ctx.prune:
        return "left Git, but prune is disabled for this app; not pruned"
    if ctx.desired_empty and not ctx.allow_empty:
        return "the desired set is empty (allowEmpty is off), so nothing is pruned"
    return None
