"""The DaemonSet controller (``pkg/controller/daemon``).

Each sync follows ``DaemonSetsController.syncDaemonSet``:

1. **History** (``constructHistory``): the ControllerRevision whose data (the pod template with
   ``$patch: replace``) matches the DaemonSet is current, renumbered past every older one; when
   none matches a new ``<ds>-<hash>`` is created (``snapshot``). Its ``controller-revision-hash``
   label is the hash new pods carry.
2. **Manage** (``manage``/``podsShouldBeOnNode``): for every Node, ``NodeShouldRunDaemonPod``
   decides from the template's nodeName, nodeSelector and required node affinity, and the Node's
   taints against the pod's tolerations (NoSchedule and NoExecute; an untolerated NoSchedule
   taint only stops new pods). A Node whose Ready condition is not True counts as tainted
   ``node.kubernetes.io/not-ready:NoSchedule`` (``unreachable`` when Unknown), as the node
   lifecycle controller would taint it. Missing pods are created, pinned to their Node with a
   required node affinity on ``metadata.name`` (``ReplaceDaemonSetPodNodeNameNodeAffinity``) and
   given the daemon tolerations (``AddOrUpdateDaemonPodTolerations``); failed pods are deleted
   with a per-node backoff (1 s doubling to 15 min); extra pods on a node are deleted, oldest
   kept (two allowed while surging).
3. **RollingUpdate** (``rollingUpdate``), only in a sync that created or deleted nothing (the
   real controller waits for its expectations): without surge, old pods are deleted while no
   more than ``maxUnavailable`` nodes are unavailable; with ``maxSurge``, new pods start beside
   old ones on up to ``maxSurge`` nodes and an old pod goes once its node's new pod is available.
   ``OnDelete`` replaces only pods someone else deleted.
4. **Cleanup** (``cleanupHistory``) of revisions no pod uses beyond ``revisionHistoryLimit``, and
   **status** (``updateDaemonSetStatus``) counted from the oldest pod on each node.

Differences from the real controller: orphan pods are not adopted and no Events are recorded.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gitops.localcluster import api, errors
from gitops.localcluster.controllers import podstate, revisions
from gitops.localcluster.controllers.manager import Context, Controller, Key
from gitops.localcluster.controllers.wakeups import Wakeups
from gitops.localcluster.selectors import SelectorError, label_selector_from_meta
from gitops.localcluster.store import Event

Obj = dict[str, Any]

API_VERSION = "apps/v1"
KIND = "DaemonSet"
TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"  # extensions.DaemonSetTemplateGenerationKey
BURST_REPLICAS = 250  # --daemonset-controller burstReplicas
BACKOFF_INITIAL = 1.0  # failedPodsBackoff = flowcontrol.NewBackOff(1s, 15min)
BACKOFF_MAX = 15 * 60.0

# AddOrUpdateDaemonPodTolerations, in its order; the last one only with hostNetwork.
_DAEMON_TOLERATIONS = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
)
_NETWORK_UNAVAILABLE = ("node.kubernetes.io/network-unavailable", "NoSchedule")


# ------------------------------------------------------------------ scheduling predicates


def add_daemon_tolerations(spec: Obj) -> None:
    """``AddOrUpdateDaemonPodTolerations`` on a pod spec (changed in place: the caller's copy)."""
    wanted = list(_DAEMON_TOLERATIONS)
    if spec.get("hostNetwork"):
        wanted.append(_NETWORK_UNAVAILABLE)
    for key, effect in wanted:
        toleration = {"key": key, "operator": "Exists", "effect": effect}
        current = [t for t in spec.get("tolerations") or [] if isinstance(t, dict)]
        # AddOrUpdateTolerationInPodSpec: replace a toleration of the same key, operator,
        # value and effect (MatchToleration), else append.
        out, replaced = [], False
        for t in current:
            same = (
                t.get("key", "") == key
                and t.get("effect", "") == effect
                and (t.get("operator") or "Equal") == "Exists"
                and t.get("value", "") == ""
            )
            if same:
                out.append(toleration)
                replaced = True
            else:
                out.append(t)
        if not replaced:
            out.append(toleration)
        spec["tolerations"] = out


def node_taints(node: Obj) -> list[Obj]:
    """The Node's taints, plus the one the node lifecycle controller puts on a Node that is not
    Ready (``TaintNodesByCondition``) when it is not there yet."""
    taints = [t for t in (node.get("spec") or {}).get("taints") or [] if isinstance(t, dict)]
    ready = podstate.condition(node, "Ready")
    status = (ready or {}).get("status")
    if status != "True":
        key = "node.kubernetes.io/unreachable" if status == "Unknown" else "node.kubernetes.io/not-ready"
        if not any(t.get("key") == key and t.get("effect") == "NoSchedule" for t in taints):
            taints.append({"key": key, "effect": "NoSchedule"})
    if (node.get("spec") or {}).get("unschedulable") and not any(
        t.get("key") == "node.kubernetes.io/unschedulable" for t in taints
    ):
        taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"})
    return taints


def tolerates(toleration: Obj, taint: Obj) -> bool:
    """``Toleration.ToleratesTaint``."""
    if toleration.get("effect") and toleration.get("effect") != taint.get("effect"):
        return False
    if toleration.get("key") and toleration.get("key") != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    return operator == "Equal" and (toleration.get("value") or "") == (taint.get("value") or "")


def _untolerated(taints: list[Obj], tolerations: list[Obj], effects: tuple[str, ...]) -> bool:
    """``FindMatchingUntoleratedTaint`` restricted to ``effects``."""
    return any(
        taint.get("effect") in effects and not any(tolerates(t, taint) for t in tolerations)
        for taint in taints
    )


def _matches_requirement(value: str | None, operator: str, values: list[str]) -> bool:
    if operator == "In":
        return value is not None and value in values
    if operator == "NotIn":
        return value is None or value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and value is not None and len(values) == 1:
        try:
            have, want = int(value), int(values[0])
        except ValueError:
            return False
        return have > want if operator == "Gt" else have < want
    return False


def node_matches_affinity(pod_spec: Obj, node: Obj) -> bool:
    """``nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)``: the nodeSelector, and any
    one of the required node selector terms (a term with no requirements selects nothing)."""
    node_labels = podstate.labels(node)
    for k, v in (pod_spec.get("nodeSelector") or {}).items():
        if node_labels.get(k) != v:
            return False
    required = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or None
    if required is None:
        return True
    fields = {"metadata.name": str(podstate.meta(node).get("name", ""))}
    for term in required.get("nodeSelectorTerms") or []:
        exprs = term.get("matchExpressions") or []
        field_exprs = term.get("matchFields") or []
        if not exprs and not field_exprs:
            continue
        if all(
            _matches_requirement(
                node_labels.get(e.get("key", "")), e.get("operator", ""), e.get("values") or []
            )
            for e in exprs
        ) and all(
            _matches_requirement(fields.get(e.get("key", "")), e.get("operator", ""), e.get("values") or [])
            for e in field_exprs
        ):
            return True
    return False


def should_run(ds: Obj, node: Obj) -> tuple[bool, bool]:
    """``NodeShouldRunDaemonPod``: (shouldRun, shouldContinueRunning)."""
    spec = copy.deepcopy(((ds.get("spec") or {}).get("template") or {}).get("spec") or {})
    node_name = str(podstate.meta(node).get("name", ""))
    if spec.get("nodeName") and spec["nodeName"] != node_name:
        return False, False
    add_daemon_tolerations(spec)
    if not node_matches_affinity(spec, node):
        return False, False
    taints = node_taints(node)
    tolerations = [t for t in spec.get("tolerations") or [] if isinstance(t, dict)]
    if _untolerated(taints, tolerations, ("NoExecute", "NoSchedule")):
        return False, not _untolerated(taints, tolerations, ("NoExecute",))
    return True, True


def target_node(pod: Obj) -> str | None:
    """``GetTargetNodeName``: spec.nodeName, else the node the affinity pins it to."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in required.get("nodeSelectorTerms") or []:
        for expr in term.get("matchFields") or []:
            if expr.get("key") == "metadata.name" and expr.get("operator") == "In":
                values = expr.get("values") or []
                return str(values[0]) if len(values) == 1 else None
    return None


def pin_to_node(spec: Obj, node_name: str) -> None:
    """``ReplaceDaemonSetPodNodeNameNodeAffinity`` (the caller's copy is changed)."""
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}
    affinity = spec.setdefault("affinity", {})
    node_affinity = affinity.setdefault("nodeAffinity", {})
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [term]}
    else:
        required["nodeSelectorTerms"] = [term]


def _creation_order(pod: Obj) -> tuple[int, str, str]:
    """``podByCreationTimestampAndPhase``: scheduled first, then oldest, then by name."""
    m = podstate.meta(pod)
    scheduled = 0 if (pod.get("spec") or {}).get("nodeName") else 1
    return (scheduled, str(m.get("creationTimestamp", "")), str(m.get("name", "")))


def is_updated(pod: Obj, hash_: str, generation: str | None) -> bool:
    """``IsPodUpdated``: the pod carries the current hash (or template generation)."""
    pod_labels = podstate.labels(pod)
    by_generation = generation is not None and pod_labels.get(TEMPLATE_GENERATION_LABEL) == generation
    return (bool(hash_) and pod_labels.get(revisions.REVISION_LABEL) == hash_) or by_generation


@dataclass
class _Backoff:
    delay: float
    updated: float


class DaemonSetController(Controller):
    name = "daemonset-controller"
    watches = (("apps", "daemonsets"), ("", "pods"), ("", "nodes"), ("apps", "controllerrevisions"))

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.daemonsets = ctx.rt("apps", "daemonsets")
        self.pods = ctx.rt("", "pods")
        self.revisions = ctx.rt("apps", "controllerrevisions")
        # Every DaemonSet seen, for node events (keys_for runs under the manager's lock and must
        # not read the store's listings).
        self._known: set[tuple[str, str]] = set()
        self._backoff: dict[str, _Backoff] = {}
        self._wakeups = Wakeups()
        # should_run per node name, for the DaemonSet of the reconcile under way.
        self._runs: dict[str, tuple[bool, bool]] = {}
        self._again: float | None = None

    def keys_for(self, event: Event) -> Iterable[Key]:
        if event.plural == "daemonsets":
            key = podstate.object_key(event.obj)
            if event.type == "DELETED":
                self._known.discard(key)
            else:
                self._known.add(key)
            return [key]
        if event.plural == "nodes":
            return sorted(self._known) if _node_changed(event) else []
        owner = podstate.controller_key(event.obj, API_VERSION, KIND)
        return [owner] if owner is not None else []

    # ------------------------------------------------------------------------ sync

    def reconcile(self, key: Key) -> float | None:
        namespace, name = podstate.split_key(key)
        now = self.ctx.now()
        self._wakeups.seen(key, now)
        ds = self.ctx.get("apps", "daemonsets", namespace, name)
        if ds is None:
            self._wakeups.forget(key)
            return None
        self._runs = {}
        self._again = None
        again = self._sync(ds, now)
        return self._wakeups.after(key, None if again is None else now + again, now)

    def _should_run(self, ds: Obj, node: Obj) -> tuple[bool, bool]:
        name = str(podstate.meta(node).get("name", ""))
        if name not in self._runs:
            self._runs[name] = should_run(ds, node)
        return self._runs[name]

    def _sync(self, ds: Obj, now: float) -> float | None:
        """``syncDaemonSet``; returns seconds until it must run again, or None."""
        spec = ds.get("spec") or {}
        selector_meta = spec.get("selector")
        if not selector_meta or not (
            selector_meta.get("matchLabels") or selector_meta.get("matchExpressions")
        ):
            return None  # SelectingAll: "A non-empty selector is required."
        if podstate.is_terminating(ds):
            return None
        try:
            selector = label_selector_from_meta(selector_meta)
        except SelectorError:
            return None
        nodes = self.ctx.items("", "nodes")
        cur, old = self._construct_history(ds)
        if cur is None:
            return 0.05  # a hash collision bumped collisionCount: try again with the new hash
        hash_ = podstate.labels(cur).get(revisions.REVISION_LABEL, "")

        def pods() -> dict[str, list[Obj]]:
            return self._node_to_pods(ds, selector)

        acted = self._manage(ds, nodes, pods(), hash_, now)
        strategy = spec.get("updateStrategy") or {}
        if not acted and strategy.get("type") == "RollingUpdate":
            self._rolling_update(ds, nodes, pods(), hash_, now)
        self._cleanup_history(ds, old, pods())
        self._update_status(ds, nodes, pods(), hash_, now)

        waits = [] if self._again is None else [self._again]
        min_ready = int(spec.get("minReadySeconds") or 0)
        for node_pods in pods().values():
            for pod in node_pods:
                left = podstate.available_in(pod, min_ready, now)
                if left is not None:
                    waits.append(left + 0.01)
        return min(waits) if waits else None

    def _node_to_pods(self, ds: Obj, selector: Any) -> dict[str, list[Obj]]:
        """``getNodesToDaemonPods``: the DaemonSet's pods by the node they are for."""
        out: dict[str, list[Obj]] = {}
        for pod in self.ctx.dependents(ds, "", "pods"):
            if not podstate.is_controlled_by(pod, ds) or not selector.matches(podstate.labels(pod)):
                continue
            node = target_node(pod)
            if node is not None:
                out.setdefault(node, []).append(pod)
        return out

    # -------------------------------------------------------------------- history

    def _construct_history(self, ds: Obj) -> tuple[Obj | None, list[Obj]]:
        """``constructHistory``: (current revision, older ones); None when a collision needs a
        retry."""
        data = revisions.template_patch(ds)
        current: list[Obj] = []
        old: list[Obj] = []
        for history in self.ctx.dependents(ds, "apps", "controllerrevisions"):
            if not podstate.is_controlled_by(history, ds):
                continue
            if revisions.REVISION_LABEL not in podstate.labels(history):
                m = podstate.meta(history)
                body = {
                    **history,
                    "metadata": {
                        **m,
                        "labels": {**podstate.labels(history), revisions.REVISION_LABEL: m["name"]},
                    },
                }
                history = self.ctx.api.update(self.revisions, m["namespace"], m["name"], body, self.opts).obj
            if revisions.go_json(history.get("data")) == revisions.go_json(data):
                current.append(history)
            else:
                old.append(history)
        next_number = max((int(h.get("revision") or 0) for h in old), default=0) + 1
        if not current:
            return self._snapshot(ds, data, next_number), old
        cur = self._dedup(ds, current)
        if int(cur.get("revision") or 0) < next_number:
            m = podstate.meta(cur)
            cur = self.ctx.api.update(
                self.revisions, m["namespace"], m["name"], {**cur, "revision": next_number}, self.opts
            ).obj
        return cur, old

    def _snapshot(self, ds: Obj, data: Obj, revision: int) -> Obj | None:
        """``snapshot``: create the revision, or bump collisionCount when its name is taken."""
        m = podstate.meta(ds)
        status = ds.get("status") or {}
        collision = status.get("collisionCount")
        hash_ = revisions.compute_hash((ds.get("spec") or {}).get("template") or {}, collision)
        name = f"{m['name']}-{hash_}"
        labels = {**(((ds.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels", {})}
        labels[revisions.REVISION_LABEL] = hash_
        meta: Obj = {
            "name": name,
            "namespace": m.get("namespace", ""),
            "labels": labels,
            "ownerReferences": [podstate.new_controller_ref(ds, API_VERSION, KIND)],
        }
        if podstate.annotations_of(ds):
            meta["annotations"] = dict(podstate.annotations_of(ds))
        body = {
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": meta,
            "data": data,
            "revision": revision,
        }
        try:
            return self.ctx.api.create(self.revisions, m["namespace"], body, self.opts).obj
        except errors.StatusError as err:
            if err.code != 409:
                raise
        existing = self.ctx.get("apps", "controllerrevisions", m["namespace"], name)
        if existing is not None and revisions.go_json(existing.get("data")) == revisions.go_json(data):
            return existing
        new_status = {**status, "collisionCount": int(collision or 0) + 1}
        self.ctx.api.update(
            self.daemonsets,
            m["namespace"],
            m["name"],
            {**ds, "status": new_status},
            self.opts,
            subresource="status",
        )
        return None

    def _dedup(self, ds: Obj, current: list[Obj]) -> Obj:
        """``dedupCurHistories``: keep the highest revision, relabel pods, delete the others."""
        if len(current) == 1:
            return current[0]
        keep = max(current, key=lambda h: int(h.get("revision") or 0))
        keep_hash = podstate.labels(keep).get(revisions.REVISION_LABEL, "")
        for pod in self.ctx.dependents(ds, "", "pods"):
            if podstate.labels(pod).get(revisions.REVISION_LABEL) != keep_hash:
                m = podstate.meta(pod)
                patch = {"metadata": {"labels": {revisions.REVISION_LABEL: keep_hash}}}
                self.ctx.api.patch(self.pods, m["namespace"], m["name"], "merge", patch, self.opts)
        for history in current:
            if history is not keep:
                self._delete(self.revisions, history)
        return keep

    def _cleanup_history(self, ds: Obj, old: list[Obj], node_to_pods: dict[str, list[Obj]]) -> None:
        """``cleanupHistory``: delete unused old revisions beyond ``revisionHistoryLimit``."""
        to_kill = len(old) - int((ds.get("spec") or {}).get("revisionHistoryLimit", 10))
        if to_kill <= 0:
            return
        live = {
            podstate.labels(p).get(revisions.REVISION_LABEL)
            for pods in node_to_pods.values()
            for p in pods
            if podstate.labels(p).get(revisions.REVISION_LABEL)
        }
        for history in sorted(old, key=lambda h: int(h.get("revision") or 0)):
            if to_kill <= 0:
                break
            if podstate.labels(history).get(revisions.REVISION_LABEL) in live:
                continue
            self._delete(self.revisions, history)
            to_kill -= 1

    # --------------------------------------------------------------------- manage

    def _manage(
        self, ds: Obj, nodes: list[Obj], node_to_pods: dict[str, list[Obj]], hash_: str, now: float
    ) -> bool:
        """``manage``: True when it created or deleted pods."""
        to_create: list[str] = []
        to_delete: list[Obj] = []
        for node in nodes:
            create, delete = self._pods_should_be_on_node(ds, node, node_to_pods, hash_, now)
            to_create += create
            to_delete += delete
        known = {podstate.meta(n).get("name") for n in nodes}
        for node_name, pods in node_to_pods.items():
            if node_name not in known:
                to_delete += [p for p in pods if not (p.get("spec") or {}).get("nodeName")]
        return self._sync_nodes(ds, to_delete, to_create, hash_)

    def _pods_should_be_on_node(
        self, ds: Obj, node: Obj, node_to_pods: dict[str, list[Obj]], hash_: str, now: float
    ) -> tuple[list[str], list[Obj]]:
        """``podsShouldBeOnNode``: (nodes needing a pod, pods to delete) for one node."""
        node_name = str(podstate.meta(node).get("name", ""))
        run, keep_running = self._should_run(ds, node)
        pods = node_to_pods.get(node_name)
        create: list[str] = []
        delete: list[Obj] = []
        if run and pods is None:
            return [node_name], []
        if keep_running:
            running = []
            for pod in pods or []:
                if podstate.is_terminating(pod):
                    continue
                if podstate.phase(pod) == "Failed":
                    backoff_key = f"{podstate.meta(ds).get('uid')}/{(ds.get('status') or {}).get('observedGeneration', 0)}/{node_name}"
                    wait = self._in_backoff(backoff_key, now)
                    if wait is not None:
                        self._again = min(self._again or wait, wait)
                        continue
                    self._next_backoff(backoff_key, now)
                    delete.append(pod)
                elif podstate.phase(pod) == "Succeeded":
                    delete.append(pod)
                else:
                    running.append(pod)
            running.sort(key=_creation_order)
            if not _surge(ds):
                return create, delete + running[1:]
            if len(running) <= 1:
                if not running and run:
                    create.append(node_name)
                return create, delete
            oldest_new = oldest_old = None
            for pod in running:
                if podstate.labels(pod).get(revisions.REVISION_LABEL) == hash_:
                    if oldest_new is None:
                        oldest_new = pod
                        continue
                elif oldest_old is None:
                    oldest_old = pod
                    continue
                delete.append(pod)
            if oldest_new is not None and oldest_old is not None:
                min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
                if not podstate.is_ready(oldest_old) or podstate.is_available(oldest_new, min_ready, now):
                    delete.append(oldest_old)
        elif pods:
            delete += [p for p in pods if not podstate.is_terminating(p)]
        return create, delete

    def _in_backoff(self, key: str, now: float) -> float | None:
        """``Backoff.IsInBackOffSinceUpdate``: seconds left, or None."""
        entry = self._backoff.get(key)
        if entry is None or now - entry.updated >= entry.delay:
            return None
        return entry.delay - (now - entry.updated)

    def _next_backoff(self, key: str, now: float) -> None:
        """``Backoff.Next``: start at 1 s, double up to 15 min, forget after 2x max idle."""
        entry = self._backoff.get(key)
        if entry is None or now - entry.updated > 2 * BACKOFF_MAX:
            self._backoff[key] = _Backoff(BACKOFF_INITIAL, now)
        else:
            self._backoff[key] = _Backoff(min(entry.delay * 2, BACKOFF_MAX), now)

    def _sync_nodes(self, ds: Obj, to_delete: list[Obj], to_create: list[str], hash_: str) -> bool:
        """``syncNodes``: create pinned pods on nodes and delete pods (at most 250 each)."""
        m = podstate.meta(ds)
        template = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
        add_daemon_tolerations(template.setdefault("spec", {}))
        tlabels = template.setdefault("metadata", {}).get("labels") or {}
        generation = podstate.annotations_of(ds).get(TEMPLATE_GENERATION_ANNOTATION)
        if generation is not None:
            tlabels[TEMPLATE_GENERATION_LABEL] = generation
        if hash_:
            tlabels[revisions.REVISION_LABEL] = hash_
        template["metadata"]["labels"] = tlabels
        ref = podstate.new_controller_ref(ds, API_VERSION, KIND)
        for node_name in to_create[:BURST_REPLICAS]:
            pod = podstate.pod_from_template(template, m["name"], ref)
            pin_to_node(pod["spec"], node_name)
            try:
                self.ctx.api.create(self.pods, m["namespace"], pod, self.opts)
            except errors.StatusError as err:
                if err.code == 403 and api.NAMESPACE_TERMINATING_CAUSE in str(err.body()):
                    return True
                raise
        for pod in to_delete[:BURST_REPLICAS]:
            self._delete(self.pods, pod)
        return bool(to_create or to_delete)

    def _delete(self, rt: Any, obj: Obj) -> None:
        m = podstate.meta(obj)
        try:
            self.ctx.api.delete(rt, m.get("namespace", ""), m["name"], {})
        except errors.StatusError as err:
            if err.code != 404:
                raise

    # ------------------------------------------------------------- rolling update

    def _counts(self, ds: Obj, nodes: list[Obj], node_to_pods: dict[str, list[Obj]]) -> tuple[int, int, int]:
        """``updatedDesiredNodeCounts``: (maxSurge, maxUnavailable, desiredNumberScheduled); adds
        an empty entry for each node that should run a pod and has none."""
        desired = 0
        for node in nodes:
            if not self._should_run(ds, node)[0]:
                continue
            desired += 1
            node_to_pods.setdefault(str(podstate.meta(node).get("name", "")), [])
        rolling = ((ds.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate") or {}
        max_unavailable = podstate.scaled_value(rolling.get("maxUnavailable"), desired, True)
        max_surge = podstate.scaled_value(rolling.get("maxSurge"), desired, True)
        if desired > 0 and max_unavailable == 0 and max_surge == 0:
            max_unavailable = 1
        return max_surge, max_unavailable, desired

    def _rolling_update(
        self, ds: Obj, nodes: list[Obj], node_to_pods: dict[str, list[Obj]], hash_: str, now: float
    ) -> None:
        """``rollingUpdate``."""
        max_surge, max_unavailable, desired = self._counts(ds, nodes, node_to_pods)
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        generation = podstate.annotations_of(ds).get(TEMPLATE_GENERATION_ANNOTATION)
        by_name = {str(podstate.meta(n).get("name", "")): n for n in nodes}

        def available(pod: Obj) -> bool:
            return podstate.is_available(pod, min_ready, now)

        if max_surge == 0:
            unavailable = 0
            replacements: list[Obj] = []
            candidates: list[Obj] = []
            for node_name in sorted(node_to_pods):
                found = _split_pods(node_to_pods[node_name], hash_, generation)
                if found is None:
                    unavailable += 1
                    continue
                new, old = found
                if (old is None) == (new is None):
                    unavailable += 1
                elif new is not None:
                    if not available(new):
                        unavailable += 1
                elif old is not None and not available(old):
                    replacements.append(old)
                    unavailable += 1
                elif unavailable < max_unavailable and old is not None:
                    candidates.append(old)
            remaining = max(0, min(max_unavailable - unavailable, len(candidates)))
            self._sync_nodes(ds, replacements + candidates[:remaining], [], hash_)
            return

        old_to_delete: list[Obj] = []
        should_not_run: list[Obj] = []
        candidate_nodes: list[str] = []
        allowed_nodes: list[str] = []
        surge = available_count = 0
        for node_name in sorted(node_to_pods):
            found = _split_pods(node_to_pods[node_name], hash_, generation)
            if found is None:
                surge += 1
                continue
            new, old = found
            if old is not None:
                available_count += available(old)
            elif new is not None:
                available_count += available(new)
            if old is None:
                continue
            if new is None:
                node = by_name.get(node_name)
                runs = node is not None and self._should_run(ds, node)[0]
                if not available(old):
                    if not runs:
                        old_to_delete.append(old)
                        continue
                    allowed_nodes.append(node_name)
                else:
                    if not runs:
                        should_not_run.append(old)
                        continue
                    if surge >= max_surge:
                        continue
                    candidate_nodes.append(node_name)
            elif not available(new):
                surge += 1
            else:
                old_to_delete.append(old)
        deletable = available_count - desired
        if deletable > 0:
            old_to_delete += should_not_run[:deletable]
        remaining = max(0, min(max_surge - surge, len(candidate_nodes)))
        self._sync_nodes(ds, old_to_delete, allowed_nodes + candidate_nodes[:remaining], hash_)

    # --------------------------------------------------------------------- status

    def _update_status(
        self, ds: Obj, nodes: list[Obj], node_to_pods: dict[str, list[Obj]], hash_: str, now: float
    ) -> None:
        """``updateDaemonSetStatus``/``storeDaemonSetStatus``."""
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        generation = podstate.annotations_of(ds).get(TEMPLATE_GENERATION_ANNOTATION)
        desired = current = misscheduled = ready = updated = available = 0
        for node in nodes:
            run = self._should_run(ds, node)[0]
            pods = node_to_pods.get(str(podstate.meta(node).get("name", ""))) or []
            if run:
                desired += 1
                if not pods:
                    continue
                current += 1
                pod = min(pods, key=_creation_order)
                if podstate.is_ready(pod):
                    ready += 1
                    if podstate.is_available(pod, min_ready, now):
                        available += 1
                if is_updated(pod, hash_, generation):
                    updated += 1
            elif pods:
                misscheduled += 1
        old = ds.get("status") or {}
        new: Obj = {
            "currentNumberScheduled": current,
            "numberMisscheduled": misscheduled,
            "desiredNumberScheduled": desired,
            "numberReady": ready,
        }
        observed = int(podstate.meta(ds).get("generation") or 0)
        if observed:
            new["observedGeneration"] = observed
        for key, value in (
            ("updatedNumberScheduled", updated),
            ("numberAvailable", available),
            ("numberUnavailable", desired - available),
        ):
            if value:
                new[key] = value
        for key in ("collisionCount", "conditions"):
            if key in old:
                new[key] = copy.deepcopy(old[key])
        if new == old:
            return
        m = podstate.meta(ds)
        self.ctx.api.update(
            self.daemonsets, m["namespace"], m["name"], {**ds, "status": new}, self.opts, subresource="status"
        )


def _surge(ds: Obj) -> bool:
    """``AllowsSurge``: a RollingUpdate with a maxSurge above zero (of one node)."""
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    if strategy.get("type") != "RollingUpdate":
        return False
    value = (strategy.get("rollingUpdate") or {}).get("maxSurge")
    try:
        return bool(value) and podstate.scaled_value(value, 1, True) > 0
    except ValueError:
        return False


def _split_pods(pods: list[Obj], hash_: str, generation: str | None) -> tuple[Obj | None, Obj | None] | None:
    """``findUpdatedPodsOnNode``: (new pod, old pod) among the live ones, None for several of
    either."""
    new = old = None
    for pod in pods:
        if podstate.is_terminating(pod):
            continue
        if is_updated(pod, hash_, generation):
            if new is not None:
                return None
            new = pod
        else:
            if old is not None:
                return None
            old = pod
    return new, old


def _node_changed(event: Event) -> bool:
    """``shouldIgnoreNodeUpdate`` inverted: only a change of what scheduling reads matters, not
    heartbeats."""
    if event.type != "MODIFIED" or event.old is None:
        return True

    def view(node: Obj) -> Any:
        spec = node.get("spec") or {}
        conds = sorted(
            (c.get("type"), c.get("status")) for c in (node.get("status") or {}).get("conditions") or []
        )
        return (podstate.labels(node), spec.get("taints"), spec.get("unschedulable"), conds)

    return bool(view(event.obj) != view(event.old))


CONTROLLERS = [DaemonSetController]
