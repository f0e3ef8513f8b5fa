"""The clusterrole-aggregation controller (I/O via the Api).

Ported from kube-controller-manager's ``pkg/controller/clusterroleaggregation/
clusterroleaggregation_controller.go``. A ClusterRole with an ``aggregationRule`` gets as its
``rules`` the union of the rules of the ClusterRoles its ``clusterRoleSelectors`` match:

- selectors in order; for each, the matching ClusterRoles sorted by name (``byName``), the role
  itself skipped; their rules in order, each added unless an equal rule is already there
  (``ruleExists``, ``equality.Semantic.DeepEqual``: a missing list and an empty one are equal);
- when the union differs from the role's rules (order counts), it is written by server-side
  apply of ``{rules}`` only, field manager ``clusterrole-aggregation-controller``, force; an
  empty union applies no ``rules`` at all, which removes the field (``rules: null``);
- any ClusterRole event (add, update, delete) queues every aggregated ClusterRole, since which
  role feeds which is not tracked (``enqueue``: "the set of all clusterroles is small").

So the bootstrap ``admin``/``edit``/``view`` (``rbac.bootstrap_policy``) get their rules, ``view``
feeds ``edit`` feeds ``admin`` through their labels, and a user's ClusterRole labelled
``rbac.authorization.k8s.io/aggregate-to-edit: "true"`` (say, for a CRD) is folded into ``edit``
and ``admin`` — and taken out again when the label goes. A ClusterRole losing its
``aggregationRule`` keeps the rules it has. Without controllers (``LocalCluster(controllers=
False)``) aggregated roles keep ``rules: null``, as on a cluster without kube-controller-manager.

One difference: the apiserver rejects an invalid selector (an unknown operator) when the role
is written, so the real controller never meets one; here it is logged and the role waits for
the next ClusterRole change instead of being retried with back-off.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from gitops.localcluster import rbac
from gitops.localcluster.api import WriteOptions
from gitops.localcluster.controllers.manager import Context, Controller, Key
from gitops.localcluster.selectors import SelectorError, label_selector_from_meta
from gitops.localcluster.store import Event

log = logging.getLogger(__name__)

Obj = dict[str, Any]

CLUSTER_ROLES = (rbac.RBAC_GROUP, "clusterroles")
FIELD_MANAGER = "clusterrole-aggregation-controller"
# rbacv1.PolicyRule's lists, in the order of the Go struct (and of its apply configuration).
_RULE_FIELDS = ("verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs")


def canonical_rule(rule: Any) -> Obj:
    """A rule as the Go client holds it: the five PolicyRule lists, empty ones left out
    (``omitempty`` in the apply configuration; nil and empty are the same to Semantic.DeepEqual)."""
    if not isinstance(rule, dict):
        return {}
    return {f: list(rule[f]) for f in _RULE_FIELDS if isinstance(rule.get(f), list) and rule[f]}


def aggregate_rules(role: Obj, cluster_roles: Iterable[Obj]) -> list[Obj]:
    """``syncClusterRole``'s union for ``role`` over ``cluster_roles`` (in any order).

    Raises :class:`~gitops.localcluster.selectors.SelectorError` for an invalid selector.
    """
    by_name = sorted(cluster_roles, key=lambda r: str((r.get("metadata") or {}).get("name", "")))
    own_name = (role.get("metadata") or {}).get("name")
    selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
    rules: list[Obj] = []
    for selector in selectors:
        # A null entry decodes to the zero LabelSelector, which selects everything.
        matches = label_selector_from_meta(selector if isinstance(selector, dict) else {})
        for other in by_name:
            meta = other.get("metadata") or {}
            if meta.get("name") == own_name or not matches.matches(meta.get("labels")):
                continue
            for rule in other.get("rules") or []:
                candidate = canonical_rule(rule)
                if candidate not in rules:
                    rules.append(candidate)
    return rules


class ClusterRoleAggregation(Controller):
    """Keys are ClusterRole names; only roles with an ``aggregationRule`` are ever queued."""

    name = "clusterrole-aggregation"
    watches = (CLUSTER_ROLES,)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.apply_opts = WriteOptions(manager=FIELD_MANAGER, force=True)
        # Names of the ClusterRoles that aggregate, kept from events so keys_for never scans.
        self._aggregated: set[str] = set()

    def keys_for(self, event: Event) -> Iterable[Key]:
        name = str((event.obj.get("metadata") or {}).get("name", ""))
        if event.type != "DELETED" and event.obj.get("aggregationRule") is not None:
            self._aggregated.add(name)
        else:
            self._aggregated.discard(name)
        return sorted(self._aggregated)

    def reconcile(self, key: Key) -> float | None:
        role = self.ctx.get(*CLUSTER_ROLES, "", str(key))
        if role is None or role.get("aggregationRule") is None:
            return None
        try:
            rules = aggregate_rules(role, self.ctx.items(*CLUSTER_ROLES))
        except SelectorError as err:
            log.warning("ClusterRole/%s: aggregationRule: %s", key, err)
            return None
        if rules == [canonical_rule(r) for r in role.get("rules") or []]:
            return None
        body: Obj = {
            "apiVersion": f"{rbac.RBAC_GROUP}/v1",
            "kind": "ClusterRole",
            "metadata": {"name": str(key)},
        }
        if rules:
            body["rules"] = rules
        rt = self.ctx.rt(*CLUSTER_ROLES)
        self.ctx.api.patch(rt, "", str(key), "apply", body, self.apply_opts)
        return None


CONTROLLERS = [ClusterRoleAggregation]
