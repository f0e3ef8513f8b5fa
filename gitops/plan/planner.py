"""Pair desired with live objects and order what to do (pure)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops import diff
from gitops.diff import views
from gitops.model import Action, Change, ChangeSet, Resource, ResourceKey
from gitops.plan import phases, pruning


@dataclass(frozen=True)
class PhasePlan:
    """One phase: ``objects`` are the bodies to apply (tracking label set, Secret ``stringData``
    folded into ``data``), in apply order; ``changes`` and ``diffs`` are aligned with them."""

    phase: phases.Phase
    changes: tuple[Change, ...]
    # Bodies hold Secret values: kept out of repr, so logging a plan never shows one.
    objects: tuple[Resource, ...] = field(repr=False)
    diffs: tuple[diff.ObjectDiff, ...] = field(default=(), repr=False, compare=False)

    @property
    def writes(self) -> int:
        return sum(1 for c in self.changes if c.action.writes)

    def to_apply(self) -> tuple[Resource, ...]:
        """The objects to create or update, in order (unchanged ones are left alone)."""
        return tuple(o for o, c in zip(self.objects, self.changes, strict=True) if c.action.writes)


@dataclass(frozen=True)
class Plan:
    """What a sync will do: non-empty ``phases`` in order, then ``prune`` (PRUNE and SKIP
    entries, in reverse phase order: what was applied last goes first)."""

    app: str
    phases: tuple[PhasePlan, ...]
    prune: tuple[Change, ...] = ()

    @property
    def changes(self) -> ChangeSet:
        """Every entry, in the order the sync makes them."""
        return ChangeSet(tuple(c for p in self.phases for c in p.changes) + self.prune)

    @property
    def writes(self) -> int:
        """Creates, updates and prunes: the number of writes the sync will make."""
        return self.changes.writes

    @property
    def is_noop(self) -> bool:
        """True when the sync has nothing to write (skipped prunes do not count)."""
        return self.writes == 0

    def diff_of(self, key: ResourceKey) -> diff.ObjectDiff | None:
        """The diff of a desired object (None for objects not in Git)."""
        for p in self.phases:
            for d in p.diffs:
                if d.key == key:
                    return d
        return None


def with_tracking(resource: Resource, app: str) -> Resource:
    """The body the engine applies: ``resource``'s with the app's tracking label (overriding a
    value Git may have put there), and for Secrets ``stringData`` folded into ``data``.

    Server-side apply cannot remove a key given in ``stringData``: the server never stores it,
    so the applier owns a field that does not exist while ``data.<key>`` is owned by no one
    (kubernetes/kubernetes#108008; Flux folds it too, fluxcd/kustomize-controller#576). Applying
    ``data`` keeps removal working.

    Only the maps on the changed paths are copied; the rest is shared with ``resource.body``,
    which neither side modifies.
    """
    body: dict[str, Any] = dict(resource.body)
    meta = body.get("metadata")
    meta = body["metadata"] = dict(meta) if isinstance(meta, Mapping) else {}
    labels = meta.get("labels")
    labels = meta["labels"] = dict(labels) if isinstance(labels, Mapping) else {}
    labels[pruning.TRACKING_LABEL] = app
    if resource.key.group == "" and resource.key.kind == "Secret" and "stringData" in body:
        if isinstance(body.get("data"), Mapping):
            body["data"] = dict(body["data"])
        views.fold_string_data(body)
    return Resource(resource.key, body, resource.origin)


class DiffMemo:
    """Diffs of the last plan of one app, for the next (owned by a long-lived caller: the
    daemon's engine). A diff is a function of the desired body, the live object and the options;
    a live object is identified by its uid and resourceVersion, which change with every write.
    So a resync after a one-file commit diffs only what changed. Holds the entries used by the
    last :func:`plan` only (its size is the app's)."""

    def __init__(self) -> None:
        self._last: dict[tuple[Any, ...], diff.ObjectDiff] = {}
        self._now: dict[tuple[Any, ...], diff.ObjectDiff] = {}

    def diff(
        self,
        body: Resource,
        current: Mapping[str, Any] | None,
        manager: str,
        ignore: Sequence[diff.IgnoreSpec],
    ) -> diff.ObjectDiff:
        meta = (current or {}).get("metadata") or {}
        uid, rv = meta.get("uid"), meta.get("resourceVersion")
        if not uid or not rv:
            return diff.diff(body, current, manager=manager, ignore=ignore)
        # A digest, not the body: the memo holds no Secret value and little memory.
        digest = hashlib.sha256(diff.canonical_json(body.body)).digest()
        key = (digest, uid, rv, manager, tuple(ignore))
        found = self._now.get(key) or self._last.get(key)
        if found is None:
            found = diff.diff(body, current, manager=manager, ignore=ignore)
        self._now[key] = found
        return found

    def rotate(self) -> None:
        """End of a plan: keep what it used, forget the rest."""
        self._last, self._now = self._now, {}


def plan(
    desired: Sequence[Resource],
    live: Mapping[ResourceKey, Mapping[str, Any]],
    *,
    app: str,
    manager: str = "gitops",
    prune: bool = True,
    allow_empty: bool = False,
    prune_allowed_kinds: frozenset[str] = frozenset(),
    ignore: Sequence[diff.IgnoreSpec] = (),
    memo: DiffMemo | None = None,
) -> Plan:
    """Pair ``desired`` with ``live`` (the app's objects and the desired keys' live copies) by key.
    ``memo`` reuses the diffs of the previous plan where neither side changed.

    Raises PlanError, listing every problem, for duplicate keys and invalid phase annotations.
    """
    problems: list[str] = []
    seen: dict[ResourceKey, Resource] = {}
    for r in desired:
        if r.key in seen:
            first = seen[r.key].origin
            problems.append(
                f"{r.key}: defined twice" + (f" ({first} and {r.origin})" if first and r.origin else "")
            )
        else:
            seen[r.key] = r
    placed: list[tuple[phases.Phase, int, Resource]] = []
    for r in seen.values():
        try:
            phase, rank = phases.resource_phase(r)
        except phases.PlanError as exc:
            problems.extend(exc.problems)
            continue
        placed.append((phase, rank, r))
    if problems:
        raise phases.PlanError(problems)

    placed.sort(key=lambda t: (t[0].order, phases.sort_key(t[2].key, t[1])))
    grouped: dict[phases.Phase, list[tuple[Change, Resource, diff.ObjectDiff]]] = {}
    for phase, _, r in placed:
        body = with_tracking(r, app)
        current = live.get(r.key)
        if memo is not None:
            d = memo.diff(body, current, manager, ignore)
        else:
            d = diff.diff(body, current, manager=manager, ignore=ignore)
        change = Change(r.key, d.action, phase.label, d.summary, _note(current, app))
        grouped.setdefault(phase, []).append((change, body, d))
    phase_plans = tuple(
        PhasePlan(
            phase,
            tuple(c for c, _, _ in entries),
            tuple(b for _, b, _ in entries),
            tuple(d for _, _, d in entries),
        )
        for phase, entries in grouped.items()
    )

    ctx = pruning.PruneContext(
        app=app,
        manager=manager,
        prune=prune,
        allow_empty=allow_empty,
        desired_empty=not seen,
        allowed_kinds=prune_allowed_kinds,
    )
    leftovers: list[tuple[phases.Phase, int, ResourceKey, Mapping[str, Any]]] = []
    for key, obj in live.items():
        if key in seen or pruning.tracked_by(obj) != app:
            continue
        try:
            phase, rank = phases.phase_of(key, obj)
        except ValueError:
            phase, rank = phases.default_phase(key)  # a live object's bad annotation blocks nothing
        leftovers.append((phase, rank, key, obj))
    leftovers.sort(key=lambda t: (t[0].order, phases.sort_key(t[2], t[1])), reverse=True)
    prune_changes = []
    for phase, _, key, obj in leftovers:
        reason = pruning.skip_reason(key, obj, ctx)
        if reason is None:
            prune_changes.append(Change(key, Action.PRUNE, phase.label, (), "left Git"))
        else:
            prune_changes.append(Change(key, Action.SKIP, phase.label, (), reason))
    return Plan(app, phase_plans, tuple(prune_changes))


def _note(current: Mapping[str, Any] | None, app: str) -> str:
    """What an operator should know about applying over this live object."""
    if current is None:
        return ""
    notes = []
    owner = pruning.tracked_by(current)
    if owner is not None and owner != app:
        notes.append(f"tracked by app {owner!r}; applying moves it to {app!r}")
    meta = current.get("metadata")
    if isinstance(meta, Mapping) and meta.get("deletionTimestamp"):
        notes.append("the live object is being deleted")
    return "; ".join(notes)
