"""Value types shared by every layer (pure, stdlib only).

``ResourceKey`` is the identity of every object; ``Resource`` is a manifest with its origin;
``Change`` is what a sync did (or would do) to one object; ``ChangeSet`` groups them;
``Health`` is a workload's state with a sentence an operator can act on; ``SyncResult`` is a
sync's outcome and ``SyncRecord`` its history entry. All are frozen: change them with
``dataclasses.replace``.
"""

from gitops.model.health import Health, HealthState
from gitops.model.resource import Origin, Resource, ResourceKey
from gitops.model.sync import Action, Change, ChangeSet, SyncRecord, SyncResult, Trigger

__all__ = [
    "Action",
    "Change",
    "ChangeSet",
    "Health",
    "HealthState",
    "Origin",
    "Resource",
    "ResourceKey",
    "SyncRecord",
    "SyncResult",
    "Trigger",
]
