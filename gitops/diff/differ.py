"""One object's diff: normalize, fingerprint, and explain only when the fingerprints differ (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops.diff import canonical, mask, summary, views
from gitops.model import Action, Resource, ResourceKey


@dataclass(frozen=True)
class ObjectDiff:
    """The diff of one desired object against its live copy.

    ``action`` is CREATE (no live object), UPDATE (the views differ) or UNCHANGED. ``summary``
    is :func:`~gitops.diff.explain` of the views (empty unless UPDATE). The views are *masked*
    (Secret values replaced by markers), so an ObjectDiff can go to a log, a record or the CLI
    as it is; ``live_view`` is None for a create. The views are left out of ``repr``.
    """

    key: ResourceKey
    action: Action
    summary: tuple[str, ...] = ()
    desired_view: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    live_view: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def changed(self) -> bool:
        return self.action is not Action.UNCHANGED

    def unified(self, *, context: int = 3) -> str:
        """The unified YAML diff of the views (empty when unchanged)."""
        if self.action is Action.UNCHANGED:
            return ""
        return summary.unified(self.key, self.desired_view, self.live_view, context=context)


def diff(
    desired: Resource,
    live: Mapping[str, Any] | None,
    *,
    manager: str = "gitops",
    ignore: Sequence[views.IgnoreSpec] = (),
) -> ObjectDiff:
    """Compare one desired object with its live copy (None when it does not exist)."""
    want, have = views.normalize(desired.body, live, manager=manager, ignore=ignore)
    if live is None:
        return ObjectDiff(desired.key, Action.CREATE, (), _masked(want), None)
    if canonical.fingerprint(want) == canonical.fingerprint(have):
        return ObjectDiff(desired.key, Action.UNCHANGED, (), _masked(want), _masked(have))
    return ObjectDiff(desired.key, Action.UPDATE, summary.explain(want, have), _masked(want), _masked(have))


def _masked(view: dict[str, Any]) -> dict[str, Any]:
    # Views are fresh copies that nothing else holds: only Secrets need a masked copy.
    return mask.mask_secret(view) if mask.is_secret(view) else view
