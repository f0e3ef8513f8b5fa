"""Pair desired with live objects, order them in phases, find prune candidates (pure: no I/O).

:func:`plan` pairs each desired object with its live copy by :class:`~gitops.model.ResourceKey`
and asks :func:`gitops.diff.diff` whether to create, update or leave it; live objects of the app
that left Git are prune candidates. The result is a frozen :class:`Plan`.

Phases
------
A sync applies phase after phase; a phase starts once the previous one is applied and healthy.

1. ``scaffolding``: Namespaces, CustomResourceDefinitions, ClusterRoles and their bindings,
   PriorityClasses, CSIDrivers, StorageClasses, PersistentVolumes, IngressClasses, RuntimeClasses.
2. ``configuration``: ConfigMaps, Secrets, then ServiceAccounts, Roles, RoleBindings, PVCs,
   ResourceQuotas, LimitRanges, NetworkPolicies and PodDisruptionBudgets. The last two are
   policies about pods rather than workloads: placed here they exist before the first pod
   starts, so no pod runs unisolated or unprotected from drains, and they have no rollout of
   their own to wait for.
3. ``workloads``: Deployments (rolled out under the app's rollout policy), then StatefulSets,
   DaemonSets, ReplicaSets, ReplicationControllers, Pods, Jobs, CronJobs, and last
   HorizontalPodAutoscalers: an HPA needs its target to exist, and after it the first rollout
   has used Git's replica count.
4. ``exposure``: Services, Endpoints, EndpointSlices, Ingresses, Gateway API routes. Services
   wait for healthy workloads so a changed selector or port only switches traffic to pods that
   are ready (Helm and Argo CD apply Services first; DESIGN.md explains why we do not).
5. ``other``: everything else. APIServices and admission webhooks come first, once the servers
   behind them (phases 3 and 4) are up, so a webhook never blocks this very sync's writes; then
   other built-in kinds; custom resources last.

Within a phase objects are ordered by their kind's rank above, then API group and kind, then
namespace and name: a stable order, the same for the same input.

The annotation ``gitops.dev/phase: <number or label>`` (``"5"``, ``workloads``) moves an object
to another phase, where it comes after that phase's own kinds. Any other value refuses the plan
with a :class:`PlanError` naming the object and where it came from.

Tracking and prune
------------------
Every applied object carries the tracking label ``app.gitops.dev/name: <app>``: the plan's
``objects`` are the bodies to apply, with the label set (and Secret ``stringData`` folded into
``data``, see :func:`with_tracking`); the diff compares those bodies, so the label is never noise.

A live object is a prune candidate when it carries this app's label and left Git. Prune runs
after all phases, in reverse phase order, and never deletes an object (each becomes a SKIP
change saying why):

- that our field manager never server-side applied, or whose tracking label it no longer owns
  (the label was copied, or someone else set it);
- annotated ``gitops.dev/prune: disabled`` (any value but ``enabled`` keeps it too, to be safe);
  the annotations teams used before gitops are honoured as well: Argo CD's
  ``argocd.argoproj.io/sync-options: Prune=false``, Flux's
  ``kustomize.toolkit.fluxcd.io/prune: disabled``, Helm's ``helm.sh/resource-policy: keep``;
- a Namespace, CustomResourceDefinition or PersistentVolumeClaim, unless the app lists the kind
  in ``prune_allowed_kinds`` (config ``pruneKinds``);
- already being deleted;
- when the app's prune is off;
- when the desired set is empty, unless ``allow_empty`` (an empty render is far more often a
  broken path or branch than a wish to delete everything).
"""

from gitops.plan.phases import PHASE_ANNOTATION, Phase, PlanError, default_phase, phase_of
from gitops.plan.planner import DiffMemo, PhasePlan, Plan, plan, with_tracking
from gitops.plan.pruning import (
    PROTECTED_KINDS,
    PRUNE_ANNOTATION,
    PRUNE_DISABLED,
    TRACKING_LABEL,
    keep_reason,
    skip_reason,
)

__all__ = [
    "PHASE_ANNOTATION",
    "PROTECTED_KINDS",
    "PRUNE_ANNOTATION",
    "PRUNE_DISABLED",
    "TRACKING_LABEL",
    "DiffMemo",
    "Phase",
    "PhasePlan",
    "Plan",
    "PlanError",
    "default_phase",
    "keep_reason",
    "phase_of",
    "plan",
    "skip_reason",
    "with_tracking",
]
