"""kube-scheduler and the kubelets: pods are placed on nodes and "run" (I/O via the Api).

No container runs. The scheduler binds pods to nodes; each node's kubelet walks its pods through
the states a real kubelet reports, on the simulated clock, steered by the image name and by pod
annotations (on a Deployment, ReplicaSet, StatefulSet, DaemonSet or Job they go on the pod
template, which is copied to the pods).

Steering conventions
--------------------
Image reference (any container):

- contains ``bad``: the image never pulls. When the containers would start, the container waits
  with ``ErrImagePull`` (message ``rpc error: code = NotFound desc = failed to pull and unpack
  image "docker.io/library/bad:1": failed to resolve reference …: not found``) for one second,
  then ``ImagePullBackOff`` (``Back-off pulling image "bad:1"``); the pull is retried 10 s,
  20 s, 40 s … (capped at 300 s) after each failure. The pod stays ``Pending`` (it has its IP).
- contains ``crash``: the container starts, runs for one second (or ``run-seconds`` when set)
  and exits with code 1 (``terminated``, reason ``Error``, shown as STATUS ``Error``). After the
  first exit the kubelet restarts it at its next sync (one second later); after each later exit
  it waits with reason ``CrashLoopBackOff`` (``back-off 10s restarting failed container=c
  pod=p_ns(uid)``) and ``lastState.terminated`` for the kubelet back-off, 10 s, 20 s, 40 s …
  capped at 300 s (reset once a run lasted ten minutes), then restarts it, ``restartCount`` + 1.
  A crashing container never becomes ready. With ``restartPolicy: Never`` the pod ends
  ``Failed``. An init container with such an image shows ``Init:Error``/``Init:CrashLoopBackOff``.

Pod annotations (``localcluster.gitops.dev/…``; seconds are simulated and may be fractional):

- ``start-after``: seconds from binding to the containers starting (default
  ``Options.pod_start_seconds``); meanwhile containers wait with ``ContainerCreating`` (or
  ``PodInitializing`` when there are init containers).
- ``ready-after``: seconds from a container starting to it being ready (default
  ``Options.pod_ready_seconds``). It plays the readiness probe, with or without one.
- ``state``: force one outcome, overriding the image rules:
  ``Running`` (runs and becomes ready, whatever the image), ``NotReady`` (runs, never ready),
  ``CrashLoopBackOff`` (every container crashes as above), ``ImagePullBackOff`` (no image pulls),
  ``Pending`` (the scheduler reports ``Unschedulable``: "0/N nodes are available: N Insufficient
  cpu. …"; a pod already bound keeps waiting in ``ContainerCreating``), ``Succeeded`` / ``Failed``
  (the containers exit after ``run-seconds`` with code 0 / ``exit-code`` or 1, are not
  restarted whatever the restart policy, and the pod ends in that phase).
- ``run-seconds``: how long containers of pods with ``restartPolicy`` ``Never`` or ``OnFailure``
  run before they exit (default ``Options.job_run_seconds``); ``Always`` pods run until deleted.
- ``exit-code``: their exit code (default 0, reason ``Completed``; otherwise ``Error``). Nonzero
  ends a ``Never`` pod ``Failed``; ``OnFailure`` restarts the container with the back-off above.
- ``terminate-after``: seconds the containers take to stop once the pod is deleted (default 1);
  capped by the grace period, after which they are killed with exit code 137.

Everything else follows the 1.32 kubelet (``pkg/kubelet/kubelet_pods.go`` ``generateAPIPodStatus``,
``getPhase``, ``convertToAPIContainerStatuses``; ``pkg/kubelet/status/generate.go`` and
``status_manager.go``):

- Conditions in the order ``PodReadyToStartContainers``, ``Initialized``, ``Ready``,
  ``ContainersReady``, ``PodScheduled`` (after conditions the kubelet does not own, such as
  readiness gates'), each with ``lastProbeTime: null`` and a ``lastTransitionTime`` that moves
  only when its status changes; ``Ready``/``ContainersReady`` False carry ``ContainersNotReady``
  and "containers with unready status: [a b]", or ``PodCompleted``/``PodFailed`` once terminal.
- Container statuses sorted by name (init containers in spec order): ``state``, ``lastState``
  (``{}`` when none), ``ready``, ``started``, ``restartCount``, ``image`` (the normalized
  reference, e.g. ``docker.io/library/nginx:1.27``, once pulled), ``imageID``
  (``…@sha256:<hex>``, ``""`` before), ``containerID`` ``containerd://<64 hex>``, and
  ``volumeMounts`` mirroring the spec's.
- ``startTime`` when the kubelet admits the pod; ``hostIP``/``hostIPs`` the node's InternalIP;
  ``podIP``/``podIPs`` once the sandbox exists, unique, from the node's ``10.244.<i-1>.0/24``
  (``.2`` up, round robin; then the overflow range ``10.244.128.0/17``), the node IP for
  ``hostNetwork`` pods; ``qosClass``.
- ``activeDeadlineSeconds`` fails the pod (reason ``DeadlineExceeded``) that long after
  ``startTime``.
- Deletion: the API keeps a bound pod with ``deletionTimestamp`` (graceful deletion, see
  ``Api._delete_pod_gracefully``); the kubelet stops the containers (exit 0 after
  ``terminate-after``, or 137 at the end of the grace period), posts the terminal phase and
  deletes the pod with ``gracePeriodSeconds: 0``. A terminating pod bound to a node that does not
  exist is force-deleted, as the pod garbage collector does.

The scheduler (``pkg/scheduler``) binds each pending pod whose ``schedulerName`` is
``default-scheduler`` and that has no ``nodeName``: the node must be Ready, schedulable
(``spec.unschedulable`` unset), tolerate the node's NoSchedule/NoExecute taints, match
``nodeSelector`` and required node affinity (``matchExpressions`` and ``matchFields`` on
``metadata.name``, as DaemonSet pods use), and have room for the pod's cpu and memory requests
(the pod count is not limited, so large test workloads fit on one node). Among those it picks
the node with the fewest pods. Otherwise it sets ``PodScheduled`` False, reason
``Unschedulable``, with the real message format, and retries when nodes or pods change. Pods
with ``schedulingGates`` get ``SchedulingGated``.
"""

from __future__ import annotations

import copy
import enum
import hashlib
import ipaddress
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gitops.localcluster import errors, quantity
from gitops.localcluster.clock import format_time, parse_time
from gitops.localcluster.controllers import nodes as nodes_mod
from gitops.localcluster.controllers import podstate
from gitops.localcluster.controllers.manager import Context, Controller, Key, Options
from gitops.localcluster.controllers.wakeups import Wakeups
from gitops.localcluster.store import Event

Obj = dict[str, Any]


PodKey = tuple[str, str]

ANNOTATION_PREFIX = "localcluster.gitops.dev/"
START_AFTER = ANNOTATION_PREFIX + "start-after"
READY_AFTER = ANNOTATION_PREFIX + "ready-after"
STATE = ANNOTATION_PREFIX + "state"
RUN_SECONDS = ANNOTATION_PREFIX + "run-seconds"
EXIT_CODE = ANNOTATION_PREFIX + "exit-code"
TERMINATE_AFTER = ANNOTATION_PREFIX + "terminate-after"

DEFAULT_TERMINATE_SECONDS = 1.0
CRASH_RUN_SECONDS = 1.0
# The kubelet's back-offs (pkg/kubelet/kubelet.go: backOffPeriod, MaxContainerBackOff; the image
# manager uses the same 10 s .. 300 s): doubled per failure; a container back-off entry expires
# when the last restart is more than 2 x the maximum ago.
BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 300.0
# How long a failed pull shows ErrImagePull, and a first exit shows its terminated state, before
# the next pod sync (simulated seconds).
SYNC_SECONDS = 1.0

_OVERFLOW_NET = ipaddress.ip_network("10.244.128.0/17")
_KUBELET_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")


class ForcedState(enum.Enum):
    """Values of the ``state`` annotation."""

    RUNNING = "Running"
    NOT_READY = "NotReady"
    CRASH_LOOP = "CrashLoopBackOff"
    IMAGE_PULL = "ImagePullBackOff"
    PENDING = "Pending"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"

    @classmethod
    def of(cls, value: Any) -> ForcedState | None:
        for state in cls:
            if state.value == value:
                return state
        return None


# ------------------------------------------------------------------------------ steering


def _seconds(annotations: dict[str, Any], key: str, default: float) -> float:
    try:
        value = float(annotations[key])
    except (KeyError, TypeError, ValueError):
        return default
    return value if math.isfinite(value) and value >= 0 else default


@dataclass(frozen=True)
class Steering:
    """What a pod's annotations ask of its simulation (defaults from :class:`Options`)."""

    start_after: float
    ready_after: float
    run_seconds: float
    run_seconds_set: bool
    exit_code: int
    terminate_after: float
    state: ForcedState | None

    @classmethod
    def of(cls, pod: Obj, options: Options) -> Steering:
        annotations = (pod.get("metadata") or {}).get("annotations") or {}
        try:
            exit_code = int(annotations.get(EXIT_CODE, 0))
        except (TypeError, ValueError):
            exit_code = 0
        return cls(
            start_after=_seconds(annotations, START_AFTER, options.pod_start_seconds),
            ready_after=_seconds(annotations, READY_AFTER, options.pod_ready_seconds),
            run_seconds=_seconds(annotations, RUN_SECONDS, options.job_run_seconds),
            run_seconds_set=RUN_SECONDS in annotations,
            exit_code=exit_code,
            terminate_after=_seconds(annotations, TERMINATE_AFTER, DEFAULT_TERMINATE_SECONDS),
            state=ForcedState.of(annotations.get(STATE)),
        )


class Role(enum.Enum):
    INIT = "init"  # a regular init container: runs to completion before the next one
    SIDECAR = "sidecar"  # an init container with restartPolicy Always
    MAIN = "main"


@dataclass(frozen=True)
class Plan:
    """How one container behaves each time it is started."""

    pulls: bool = True
    runs_for: float | None = None  # seconds until it exits; None: until stopped
    exit_code: int = 0
    becomes_ready: bool = True
    restarts: bool = True  # restarted after it exits (restart policy, or forced outcome)


def plan_for(container: Obj, role: Role, pod: Obj, steering: Steering) -> Plan:
    """The behaviour the image name, restart policy and annotations give a container."""
    image = str(container.get("image") or "")
    state = steering.state
    policy = (pod.get("spec") or {}).get("restartPolicy") or "Always"
    pull_fails = state is ForcedState.IMAGE_PULL or (state is None and "bad" in image)
    crash_run = steering.run_seconds if steering.run_seconds_set else CRASH_RUN_SECONDS
    if role is Role.INIT:
        if state is ForcedState.CRASH_LOOP or (state is None and "crash" in image):
            return Plan(not pull_fails, crash_run, 1, False, policy != "Never")
        return Plan(not pull_fails, 0.0, 0, False, policy != "Never")
    if state is ForcedState.SUCCEEDED:
        return Plan(True, steering.run_seconds, 0, True, False)
    if state is ForcedState.FAILED:
        return Plan(True, steering.run_seconds, steering.exit_code or 1, True, False)
    if state is ForcedState.CRASH_LOOP or (state is None and "crash" in image):
        return Plan(not pull_fails, crash_run, 1, False, role is Role.SIDECAR or policy != "Never")
    ready = state is not ForcedState.NOT_READY
    if role is Role.SIDECAR or policy == "Always" or state in (ForcedState.RUNNING, ForcedState.NOT_READY):
        return Plan(not pull_fails, None, 0, ready, True)
    code = steering.exit_code
    return Plan(not pull_fails, steering.run_seconds, code, ready, policy == "OnFailure" and code != 0)


# ------------------------------------------------------------------------- small helpers


def stamp(t: float) -> str:
    return format_time(datetime.fromtimestamp(t, UTC))


def go_duration(seconds: float) -> str:
    """``time.Duration.String`` for whole seconds: ``10s``, ``1m20s``, ``5m0s``."""
    total = int(seconds)
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{secs}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m{secs}s"


def go_list(names: list[str]) -> str:
    """``fmt.Sprintf("%s", []string{…})``: ``[a b]``."""
    return "[" + " ".join(names) + "]"


def normalize_image(image: str) -> str:
    """The reference containerd reports: docker.io and library/ filled in, ``:latest`` when
    neither tag nor digest is given (``reference.ParseNormalizedNamed`` + ``TagNameOnly``)."""
    name, _, digest = image.partition("@")
    first = name.split("/", 1)[0]
    if "/" not in name or ("." not in first and ":" not in first and first != "localhost"):
        name = "docker.io/" + (name if "/" in name else "library/" + name)
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and not digest:
        name += ":latest"
    return f"{name}@{digest}" if digest else name


def image_id(image: str) -> str:
    """A stable repo digest for an image: ``docker.io/library/nginx@sha256:<hex>``."""
    ref = normalize_image(image)
    repo = ref.split("@", 1)[0]
    last = repo.rsplit("/", 1)[-1]
    if ":" in last:
        repo = repo[: repo.rindex(":")]
    return f"{repo}@sha256:{hashlib.sha256(ref.encode()).hexdigest()}"


def _new_container_id() -> str:
    return "containerd://" + uuid.uuid4().hex + uuid.uuid4().hex


def pull_error(image: str) -> str:
    """containerd's error for a tag that does not exist, as the kubelet reports it."""
    ref = normalize_image(image)
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
        f'failed to resolve reference "{ref}": {ref}: not found'
    )


def pod_requests(pod: Obj) -> tuple[int, int]:
    """(cpu millicores, memory bytes) the scheduler accounts for: the sum over containers, or
    the largest init container when larger (``resource.PodRequests``), plus the overhead."""

    def of(container: Obj) -> tuple[int, int]:
        requests = ((container.get("resources") or {}).get("requests")) or {}
        return _milli(requests.get("cpu")), _bytes(requests.get("memory"))

    spec = pod.get("spec") or {}
    cpu = mem = 0
    for c in spec.get("containers") or []:
        c_cpu, c_mem = of(c)
        cpu, mem = cpu + c_cpu, mem + c_mem
    for c in spec.get("initContainers") or []:
        c_cpu, c_mem = of(c)
        if c.get("restartPolicy") == "Always":
            cpu, mem = cpu + c_cpu, mem + c_mem
        else:
            cpu, mem = max(cpu, c_cpu), max(mem, c_mem)
    overhead = spec.get("overhead") or {}
    return cpu + _milli(overhead.get("cpu")), mem + _bytes(overhead.get("memory"))


def _scaled(value: Any, shift: int) -> int:
    if value is None:
        return 0
    try:
        q = quantity.parse(value)
    except ValueError:
        return 0
    exponent = q.exponent + shift
    if exponent >= 0:
        return int(q.mantissa * 10**exponent)
    return int(-((-q.mantissa) // 10 ** (-exponent)))  # round up, as Quantity.MilliValue does


def _milli(value: Any) -> int:
    return _scaled(value, 3)


def _bytes(value: Any) -> int:
    return _scaled(value, 0)


# --------------------------------------------------------------------------- the scheduler


@dataclass
class _Usage:
    node: str
    cpu: int
    memory: int


def _counts(pod: Obj) -> bool:
    """A pod occupies its node from binding until it is gone or terminal."""
    phase = (pod.get("status") or {}).get("phase")
    return bool((pod.get("spec") or {}).get("nodeName")) and phase not in ("Succeeded", "Failed")


def _needs_scheduling(pod: Obj) -> bool:
    spec = pod.get("spec") or {}
    return (
        not spec.get("nodeName")
        and not (pod.get("metadata") or {}).get("deletionTimestamp")
        and (spec.get("schedulerName") or "default-scheduler") == "default-scheduler"
        and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    )


def _tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    """``v1helper.TolerationsTolerateTaint`` for one taint."""
    for t in tolerations:
        effect = t.get("effect") or ""
        if effect and effect != taint.get("effect"):
            continue
        key = t.get("key") or ""
        operator = t.get("operator") or "Equal"
        if not key and operator == "Exists":
            return True
        if key != taint.get("key"):
            continue
        if operator == "Exists" or (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def _match_node_term(term: Obj, node: Obj) -> bool:
    labels = (node.get("metadata") or {}).get("labels") or {}
    for expr in term.get("matchExpressions") or []:
        if not _match_expression(expr, labels.get(expr.get("key", "")), expr.get("key", "") in labels):
            return False
    name = (node.get("metadata") or {}).get("name", "")
    for expr in term.get("matchFields") or []:
        if expr.get("key") != "metadata.name" or not _match_expression(expr, name, True):
            return False
    return bool(term.get("matchExpressions") or term.get("matchFields"))


def _match_expression(expr: Obj, value: Any, present: bool) -> bool:
    operator = expr.get("operator")
    values = [str(v) for v in expr.get("values") or []]
    if operator == "In":
        return present and str(value) in values
    if operator == "NotIn":
        return not present or str(value) not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and len(values) == 1:
        try:
            have, want = int(str(value)), int(values[0])
        except ValueError:
            return False
        return have > want if operator == "Gt" else have < want
    return False


def node_affinity_matches(pod: Obj, node: Obj) -> bool:
    """``nodeSelector`` and required node affinity (NodeAffinity filter)."""
    spec = pod.get("spec") or {}
    labels = (node.get("metadata") or {}).get("labels") or {}
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if required:
        terms = required.get("nodeSelectorTerms") or []
        return any(_match_node_term(term, node) for term in terms)
    return True


def unschedulable_message(reasons: dict[str, int], unresolvable: dict[str, int], total: int) -> str:
    """``FitError.Error`` plus the default preemption plugin's message."""
    histogram = sorted(f"{count} {reason}" for reason, count in reasons.items())
    message = f"0/{total} nodes are available: {', '.join(histogram)}."
    preemption = []
    helpless = sum(unresolvable.values())
    victims = total - helpless
    if victims:
        preemption.append(f"{victims} No preemption victims found for incoming pod")
    if helpless:
        preemption.append(f"{helpless} Preemption is not helpful for scheduling")
    return message + f" preemption: 0/{total} nodes are available: {', '.join(sorted(preemption))}."


class Scheduler(Controller):
    """kube-scheduler: binds pending pods (key: (namespace, name))."""

    name = "scheduler"
    manager = "kube-scheduler"
    watches = (("", "pods"), ("", "nodes"))

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._usage: dict[PodKey, _Usage] = {}
        self._pods_on: dict[str, int] = {}
        self._cpu_on: dict[str, int] = {}
        self._mem_on: dict[str, int] = {}
        self._waiting: set[PodKey] = set()  # unschedulable pods, retried when something changes

    # -- bookkeeping from events (the worker thread; cheap) ------------------------------

    def _account(self, key: PodKey, pod: Obj | None) -> bool:
        """Update the per-node usage; True when room was freed."""
        old = self._usage.pop(key, None)
        if old is not None:
            self._pods_on[old.node] -= 1
            self._cpu_on[old.node] -= old.cpu
            self._mem_on[old.node] -= old.memory
        if pod is not None and _counts(pod):
            node = pod["spec"]["nodeName"]
            if old is not None and old.node == node:
                usage = _Usage(node, old.cpu, old.memory)
            else:
                cpu, memory = pod_requests(pod)
                usage = _Usage(node, cpu, memory)
            self._usage[key] = usage
            self._pods_on[node] = self._pods_on.get(node, 0) + 1
            self._cpu_on[node] = self._cpu_on.get(node, 0) + usage.cpu
            self._mem_on[node] = self._mem_on.get(node, 0) + usage.memory
            return old is not None and old.node != node
        return old is not None

    def keys_for(self, event: Event) -> Iterable[Key]:
        if event.plural == "nodes":
            return list(self._waiting)
        meta = event.obj.get("metadata") or {}
        key = (meta.get("namespace", ""), meta.get("name", ""))
        freed = self._account(key, None if event.type == "DELETED" else event.obj)
        keys: list[Key] = []
        if event.type == "DELETED":
            self._waiting.discard(key)
        elif _needs_scheduling(event.obj):
            keys.append(key)
        else:
            self._waiting.discard(key)
        if freed:
            keys.extend(k for k in self._waiting if k != key)
        return keys

    # -- scheduling ----------------------------------------------------------------------

    def reconcile(self, key: Key) -> float | None:
        ns, name = podstate.split_key(key)
        pod = self.ctx.get("", "pods", ns, name)
        if pod is None or not _needs_scheduling(pod):
            self._waiting.discard((ns, name))
            return None
        spec = pod.get("spec") or {}
        if spec.get("schedulingGates"):
            self._waiting.discard((ns, name))
            self._set_unscheduled(
                pod, "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates"
            )
            return None
        all_nodes = self.ctx.items("", "nodes")
        if not all_nodes:
            self._waiting.add((ns, name))
            self._set_unscheduled(pod, "Unschedulable", "no nodes available to schedule pods")
            return None
        forced_pending = Steering.of(pod, self.ctx.options).state is ForcedState.PENDING
        cpu, memory = pod_requests(pod)
        reasons: dict[str, int] = {}
        unresolvable: dict[str, int] = {}
        feasible: list[Obj] = []
        for node in all_nodes:
            failed = self._filter(pod, node, cpu, memory, forced_pending)
            if not failed:
                feasible.append(node)
                continue
            hard, found = failed
            for reason in found:
                reasons[reason] = reasons.get(reason, 0) + 1
            if hard:
                unresolvable[found[0]] = unresolvable.get(found[0], 0) + 1
        if not feasible:
            self._waiting.add((ns, name))
            self._set_unscheduled(
                pod, "Unschedulable", unschedulable_message(reasons, unresolvable, len(all_nodes))
            )
            return None
        best = min(
            feasible, key=lambda n: (self._pods_on.get(n["metadata"]["name"], 0), n["metadata"]["name"])
        )
        self._waiting.discard((ns, name))
        try:
            self.ctx.api.bind_pod(ns, name, best["metadata"]["name"], pod["metadata"].get("uid", ""))
        except errors.StatusError as err:
            if err.code not in (404, 409):
                raise
        return None

    def _filter(
        self, pod: Obj, node: Obj, cpu: int, memory: int, forced_pending: bool
    ) -> tuple[bool, list[str]] | None:
        """None when the pod fits; else (unresolvable by preemption, reasons) of the first
        failing filter, in the default plugin order."""
        spec = node.get("spec") or {}
        if spec.get("unschedulable"):
            return True, ["node(s) were unschedulable"]
        taints = list(spec.get("taints") or [])
        if not nodes_mod.is_ready(node):
            taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
        tolerations = (pod.get("spec") or {}).get("tolerations") or []
        for taint in taints:
            if taint.get("effect") in ("NoSchedule", "NoExecute") and not _tolerates(tolerations, taint):
                value = taint.get("value") or ""
                return True, [f"node(s) had untolerated taint {{{taint.get('key')}: {value}}}"]
        if not node_affinity_matches(pod, node):
            return True, ["node(s) didn't match Pod's node affinity/selector"]
        name = node["metadata"]["name"]
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        found = []
        if forced_pending or (cpu and self._cpu_on.get(name, 0) + cpu > _milli(allocatable.get("cpu"))):
            found.append("Insufficient cpu")
        if memory and self._mem_on.get(name, 0) + memory > _bytes(allocatable.get("memory")):
            found.append("Insufficient memory")
        return (False, found) if found else None

    def _set_unscheduled(self, pod: Obj, reason: str, message: str) -> None:
        status = pod.get("status") or {}
        conditions = list(status.get("conditions") or [])
        index = next((i for i, c in enumerate(conditions) if c.get("type") == "PodScheduled"), None)
        old = conditions[index] if index is not None else None
        if old is not None and (old.get("status"), old.get("reason"), old.get("message")) == (
            "False",
            reason,
            message,
        ):
            return
        cond = {
            "type": "PodScheduled",
            "status": "False",
            "lastProbeTime": None,
            "lastTransitionTime": old["lastTransitionTime"]
            if old is not None and old.get("status") == "False" and old.get("lastTransitionTime")
            else self.ctx.now_str(),
            "reason": reason,
            "message": message,
        }
        if index is None:
            conditions.append(cond)
        else:
            conditions[index] = cond
        new = copy.deepcopy(pod)
        new.setdefault("status", {})["conditions"] = conditions
        meta = pod["metadata"]
        self.ctx.api.update(
            self.ctx.rt("", "pods"), meta["namespace"], meta["name"], new, self.opts, "status"
        )


# ----------------------------------------------------------------------------- the kubelet


@dataclass
class _Container:
    """One container's runtime state, with exact simulated times."""

    name: str
    role: Role
    image: str
    state: str = "waiting"  # waiting, running, terminated
    reason: str = ""  # the waiting reason ("" = the default ContainerCreating/PodInitializing)
    message: str = ""
    restart_count: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    exit_code: int = 0
    term_reason: str = ""
    term_message: str = ""
    container_id: str = ""
    last_terminated: Obj | None = None
    ready: bool = False
    started_once: bool = False
    pulled: bool = False
    ready_at: float | None = None
    exit_at: float | None = None
    next_at: float | None = None  # a pending start, restart or pull retry
    next_kind: str = ""  # "start", "pull-backoff" (ErrImagePull -> ImagePullBackOff)
    pull_failures: int = 0
    pull_failed_at: float = 0.0
    backoff: float | None = None  # the container restart back-off entry (flowcontrol.Backoff)
    backoff_updated: float = 0.0
    plan: Plan = field(default_factory=Plan)


@dataclass
class _Run:
    """What one kubelet knows about one pod."""

    uid: str
    pod_ref: str  # format.Pod: name_namespace(uid)
    admitted_at: float
    start_at: float | None
    containers: dict[str, _Container]
    sandbox: bool = False
    pod_ip: str = ""
    ip_pool: str = ""
    force_terminal: bool = False  # killed (deletion, deadline) or forced outcome: no restarts
    kill_at: float | None = None
    kill_deadline: float | None = None
    killed: bool = False
    deadline_at: float | None = None
    deadline_exceeded: bool = False
    conditions: dict[str, tuple[str, str]] = field(default_factory=dict)  # type -> (status, LTT)


class _IPPools:
    """Pod IPs: per node round robin over its /24 (``.2`` up), then an overflow range."""

    def __init__(self) -> None:
        self._used: set[str] = set()
        self._next: dict[str, int] = {}

    def reserve(self, ip: str) -> None:
        self._used.add(ip)

    def release(self, ip: str) -> None:
        self._used.discard(ip)

    def allocate(self, cidr: str) -> str:
        for pool in (cidr, str(_OVERFLOW_NET)):
            try:
                net = ipaddress.ip_network(pool, strict=False)
            except ValueError:
                continue
            size = net.num_addresses - 3  # network, gateway (.1) and broadcast
            if size <= 0:
                continue
            start = self._next.get(pool, 0)
            for step in range(size):
                offset = (start + step) % size
                ip = str(net.network_address + 2 + offset)
                if ip not in self._used:
                    self._used.add(ip)
                    self._next[pool] = offset + 1
                    return ip
        raise RuntimeError("no pod IP left")


def _role_of(container: Obj, init: bool) -> Role:
    if not init:
        return Role.MAIN
    return Role.SIDECAR if container.get("restartPolicy") == "Always" else Role.INIT


def _spec_containers(pod: Obj) -> list[tuple[Obj, Role]]:
    spec = pod.get("spec") or {}
    out = [(c, _role_of(c, True)) for c in spec.get("initContainers") or []]
    out += [(c, Role.MAIN) for c in spec.get("containers") or []]
    return out


class Kubelets(Controller):
    """The kubelets of every simulated node (key: (namespace, name) of a pod)."""

    name = "kubelet"
    manager = "kubelet"
    watches = (("", "pods"),)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.nodes = {nodes_mod.node_name(i) for i in range(1, ctx.options.nodes + 1)}
        self._runs: dict[PodKey, _Run] = {}
        self._ips = _IPPools()
        self._wakeups = Wakeups()

    def start(self) -> None:
        # Pods restored from a state file keep their addresses.
        for pod in self.ctx.items("", "pods"):
            for entry in (pod.get("status") or {}).get("podIPs") or []:
                if entry.get("ip"):
                    self._ips.reserve(entry["ip"])

    def keys_for(self, event: Event) -> Iterable[Key]:
        meta = event.obj.get("metadata") or {}
        key = (meta.get("namespace", ""), meta.get("name", ""))
        if (event.obj.get("spec") or {}).get("nodeName") or key in self._runs:
            return (key,)
        return ()

    # -- one pod ---------------------------------------------------------------------------

    def reconcile(self, key: Key) -> float | None:
        ns, name = podstate.split_key(key)
        pkey = (ns, name)
        now = self.ctx.now()
        self._wakeups.seen(pkey, now)
        pod = self.ctx.get("", "pods", ns, name)
        run = self._runs.get(pkey)
        if run is not None and (pod is None or pod["metadata"].get("uid") != run.uid):
            self._forget(pkey)
            run = None
        if pod is None:
            self._wakeups.forget(pkey)
            return None
        meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
        node_name = spec.get("nodeName")
        if not node_name:
            return None
        deleting = bool(meta.get("deletionTimestamp"))
        if node_name not in self.nodes:
            if deleting:  # PodGC: pods bound to a node that does not exist are force-deleted
                self._delete_now(pod)
            return None
        node = self.ctx.get("", "nodes", "", node_name)
        if run is None:
            if status.get("phase") in ("Succeeded", "Failed"):
                return None
            if deleting:
                self._delete_now(pod)  # deleted before its kubelet admitted it: nothing to stop
                return None
            if node is None:
                return None  # the kubelet registers its node first
            run = self._admit(pod, now)
            self._runs[pkey] = run
        steering = Steering.of(pod, self.ctx.options)
        self._replan(run, pod, steering, now)
        if deleting and run.kill_at is None and not run.killed and not self._terminal(run, pod):
            deadline = parse_time(meta["deletionTimestamp"]).timestamp()
            run.kill_deadline = max(deadline, now)
            run.kill_at = min(now + steering.terminate_after, run.kill_deadline)
        due = self._advance(run, pod, steering, node, now)
        self._post(pod, run, node)
        if deleting and (run.killed or self._terminal(run, pod)):
            self._delete_now(pod)
            self._forget(pkey)
            return None
        return self._wakeups.after(pkey, due, now)

    def _forget(self, key: PodKey) -> None:
        run = self._runs.pop(key, None)
        if run is not None and run.pod_ip and run.ip_pool:
            self._ips.release(run.pod_ip)

    def _delete_now(self, pod: Obj) -> None:
        meta = pod["metadata"]
        try:
            self.ctx.api.delete(
                self.ctx.rt("", "pods"),
                meta["namespace"],
                meta["name"],
                {"gracePeriodSeconds": 0, "preconditions": {"uid": meta.get("uid")}},
            )
        except errors.StatusError as err:
            if err.code not in (404, 409):
                raise

    def _admit(self, pod: Obj, now: float) -> _Run:
        steering = Steering.of(pod, self.ctx.options)
        containers = {}
        for c, role in _spec_containers(pod):
            containers[str(c.get("name"))] = _Container(str(c.get("name")), role, str(c.get("image") or ""))
        start_at = None if steering.state is ForcedState.PENDING else now + steering.start_after
        meta = pod["metadata"]
        ref = f"{meta.get('name')}_{meta.get('namespace')}({meta.get('uid')})"
        run = _Run(meta.get("uid", ""), ref, now, start_at, containers)
        deadline = (pod.get("spec") or {}).get("activeDeadlineSeconds")
        if isinstance(deadline, int) and not isinstance(deadline, bool) and deadline > 0:
            run.deadline_at = now + deadline
        for cond in (pod.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("status") == "True":
                run.conditions["PodScheduled"] = ("True", str(cond.get("lastTransitionTime") or stamp(now)))
        self._recover(run, pod, now)
        return run

    def _recover(self, run: _Run, pod: Obj, now: float) -> None:
        """A pod that already ran (a restarted cluster): keep its address, start time and
        running containers; everything else starts over from now."""
        status = pod.get("status") or {}
        if status.get("startTime"):
            run.admitted_at = parse_time(status["startTime"]).timestamp()
        if status.get("podIP"):
            run.pod_ip, run.sandbox = str(status["podIP"]), True
            run.ip_pool = "" if (pod.get("spec") or {}).get("hostNetwork") else "pod"
            run.start_at = None
        else:
            return
        for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
            c = run.containers.get(cs.get("name"))
            if c is None:
                continue
            c.restart_count = int(cs.get("restartCount") or 0)
            c.container_id = str(cs.get("containerID") or "")
            c.last_terminated = (cs.get("lastState") or {}).get("terminated")
            state = cs.get("state") or {}
            if "running" in state:
                c.state, c.pulled, c.started_once = "running", True, True
                c.started_at = parse_time(state["running"]["startedAt"]).timestamp()
                c.ready = bool(cs.get("ready"))
            elif "terminated" in state and c.role is Role.INIT and state["terminated"].get("exitCode") == 0:
                t = state["terminated"]
                c.state, c.pulled, c.started_once, c.exit_code = "terminated", True, True, 0
                c.term_reason = "Completed"
                c.started_at = parse_time(t.get("startedAt") or stamp(now)).timestamp()
                c.finished_at = parse_time(t.get("finishedAt") or stamp(now)).timestamp()
            else:
                c.next_at, c.next_kind = now, "start"
        for ctype in _KUBELET_CONDITIONS:
            for cond in status.get("conditions") or []:
                if cond.get("type") == ctype:
                    run.conditions[ctype] = (str(cond.get("status")), str(cond.get("lastTransitionTime")))

    # -- the simulation ----------------------------------------------------------------------

    def _replan(self, run: _Run, pod: Obj, steering: Steering, now: float) -> None:
        """Apply the current annotations (they may change on a live pod)."""
        for c_spec, role in _spec_containers(pod):
            c = run.containers.get(str(c_spec.get("name")))
            if c is None:
                continue
            image = str(c_spec.get("image") or "")
            if image != c.image:
                # A changed image: the kubelet kills the container and starts the new image.
                c.image, c.pulled = image, False
                if c.state == "running" and not run.force_terminal:
                    self._exit(run, c, now, 0)
                    c.next_at, c.next_kind = now, "start"
                elif c.state == "waiting" and c.reason in ("ErrImagePull", "ImagePullBackOff"):
                    c.pull_failures, c.next_at, c.next_kind = 0, now, "start"
            plan = plan_for(c_spec, role, pod, steering)
            if plan == c.plan:
                continue
            c.plan = plan
            if c.state != "running" or run.force_terminal:
                continue
            if not plan.becomes_ready:
                c.ready, c.ready_at = False, None
            elif not c.ready and c.ready_at is None:
                c.ready_at = now + steering.ready_after
            if plan.runs_for is None:
                c.exit_at = None
            elif c.exit_at is None:
                c.exit_at = max(now, (c.started_at or now) + plan.runs_for)
        if steering.state in (ForcedState.SUCCEEDED, ForcedState.FAILED):
            run.force_terminal = True

    def _terminal(self, run: _Run, pod: Obj) -> bool:
        return self._phase(run, pod) in ("Succeeded", "Failed")

    def _advance(self, run: _Run, pod: Obj, steering: Steering, node: Obj | None, now: float) -> float | None:
        """Apply every event due by ``now`` in time order; the time of the next one, or None."""
        for _ in range(100_000):
            if self._terminal(run, pod):
                self._record_conditions(run, pod, now)
                return None
            event = self._next_event(run)
            if event is None or event[0] > now:
                self._record_conditions(run, pod, now)
                return event[0] if event is not None else None
            t, what, name = event
            self._apply(run, pod, steering, node, t, what, name)
            self._record_conditions(run, pod, t)
        return now + 1.0  # unreachable in practice: resume later rather than spin

    def _next_event(self, run: _Run) -> tuple[float, str, str] | None:
        candidates: list[tuple[float, int, str, str]] = []
        if run.kill_at is not None and not run.killed:
            candidates.append((run.kill_at, 0, "kill", ""))
        if run.deadline_at is not None and not run.deadline_exceeded and not run.killed:
            candidates.append((run.deadline_at, 1, "deadline", ""))
        if not run.killed and not run.deadline_exceeded:
            if run.start_at is not None and not run.sandbox:
                candidates.append((run.start_at, 2, "sandbox", ""))
            for i, c in enumerate(run.containers.values()):
                if c.state == "running":
                    if c.ready_at is not None:
                        candidates.append((c.ready_at, 10 + i, "ready", c.name))
                    if c.exit_at is not None:
                        candidates.append((c.exit_at, 10 + i, "exit", c.name))
                elif c.next_at is not None:
                    candidates.append((c.next_at, 10 + i, c.next_kind or "start", c.name))
        if not candidates:
            return None
        t, _, what, name = min(candidates)
        return t, what, name

    def _apply(
        self, run: _Run, pod: Obj, steering: Steering, node: Obj | None, t: float, what: str, name: str
    ) -> None:
        if what == "sandbox":
            run.sandbox = True
            self._assign_ip(run, pod, node)
            self._start_next(run, t)
        elif what == "kill":
            self._kill(run, t, graceful=run.kill_deadline is None or t < run.kill_deadline)
        elif what == "deadline":
            run.deadline_exceeded = True
            self._kill(run, t, graceful=False)
        else:
            c = run.containers[name]
            if what == "ready":
                c.ready, c.ready_at, c.started_once = True, None, True
            elif what == "exit":
                self._exit(run, c, t, c.plan.exit_code)
            elif what == "pull-backoff":
                c.reason = "ImagePullBackOff"
                c.message = f'Back-off pulling image "{c.image}"'
                c.next_at, c.next_kind = self._pull_retry_at(c), "start"
            else:  # start or restart
                self._start(run, c, steering, t)

    def _start_next(self, run: _Run, t: float) -> None:
        """Schedule what may start now: the next init container, else the main containers."""
        for c in run.containers.values():
            if c.role is Role.INIT:
                if c.state == "terminated" and c.exit_code == 0:
                    continue
                if c.state == "waiting" and c.next_at is None and c.reason == "":
                    c.next_at, c.next_kind = t, "start"
                return
            if c.role is Role.SIDECAR:
                if c.state == "running":
                    continue
                if c.state == "waiting" and c.next_at is None and c.reason == "":
                    c.next_at, c.next_kind = t, "start"
                return
        for c in run.containers.values():
            if c.role is Role.MAIN and c.state == "waiting" and c.next_at is None and c.reason == "":
                c.next_at, c.next_kind = t, "start"

    def _pull_retry_at(self, c: _Container) -> float:
        """The image back-off: the next pull 10 s, 20 s, ... 300 s after the last failure."""
        return c.pull_failed_at + min(BACKOFF_INITIAL * 2.0 ** (c.pull_failures - 1), BACKOFF_MAX)

    def _start(self, run: _Run, c: _Container, steering: Steering, t: float) -> None:
        c.next_at, c.next_kind = None, ""
        if not c.plan.pulls:
            c.pull_failures += 1
            c.pull_failed_at = t
            c.state, c.reason, c.message = "waiting", "ErrImagePull", pull_error(c.image)
            retry = self._pull_retry_at(c)
            if retry - t > SYNC_SECONDS:
                c.next_at, c.next_kind = t + SYNC_SECONDS, "pull-backoff"
            else:
                c.next_at, c.next_kind = retry, "start"
            return
        c.pulled = True
        c.pull_failures = 0
        if c.state == "terminated" or c.started_once or c.container_id:
            if c.container_id:  # a restart: the previous container becomes lastState
                c.restart_count += 1
                c.last_terminated = self._terminated_state(c)
            # flowcontrol.Backoff.Next at the restart
            if c.backoff is None or (c.finished_at or t) - c.backoff_updated > 2 * BACKOFF_MAX:
                c.backoff = BACKOFF_INITIAL
            else:
                c.backoff = min(c.backoff * 2, BACKOFF_MAX)
            c.backoff_updated = t
        c.state, c.reason, c.message = "running", "", ""
        c.started_at, c.finished_at = t, None
        c.container_id = _new_container_id()
        c.started_once = True
        c.ready = False
        c.ready_at = t + steering.ready_after if c.plan.becomes_ready and c.role is not Role.INIT else None
        c.exit_at = t + c.plan.runs_for if c.plan.runs_for is not None else None
        if c.role is Role.SIDECAR:
            self._start_next(run, t)

    def _terminated_state(self, c: _Container) -> Obj:
        term: Obj = {
            "exitCode": c.exit_code,
            "reason": c.term_reason,
            "startedAt": stamp(c.started_at or 0.0),
            "finishedAt": stamp(c.finished_at or 0.0),
            "containerID": c.container_id,
        }
        if c.term_message:
            term["message"] = c.term_message
        return term

    def _exit(self, run: _Run, c: _Container, t: float, code: int, reason: str = "") -> None:
        c.state, c.reason, c.message = "terminated", "", ""
        c.exit_code, c.finished_at = code, t
        c.term_reason = reason or ("Completed" if code == 0 else "Error")
        c.term_message = ""
        c.ready, c.ready_at, c.exit_at = c.role is Role.INIT and code == 0, None, None
        if c.role is Role.INIT and code == 0:
            self._start_next(run, t)
            return
        if run.force_terminal or run.killed or not c.plan.restarts:
            return
        in_backoff = c.backoff is not None and t - c.backoff_updated <= 2 * BACKOFF_MAX
        if not in_backoff:
            c.next_at, c.next_kind = t + SYNC_SECONDS, "start"  # restarted at the next sync
            return
        assert c.backoff is not None
        c.last_terminated = self._terminated_state(c)
        c.state, c.reason = "waiting", "CrashLoopBackOff"
        c.message = (
            f"back-off {go_duration(c.backoff)} restarting failed container={c.name} pod={run.pod_ref}"
        )
        c.next_at, c.next_kind = t + c.backoff, "start"

    def _kill(self, run: _Run, t: float, graceful: bool) -> None:
        """Stop every container (``killPodWithSyncResult``), then ``TerminatePod``'s defaults:
        once the pod has initialized, a container with no terminated state is reported as
        ``ContainerStatusUnknown`` with exit code 137."""
        run.killed, run.kill_at, run.force_terminal = True, None, True
        initialized = any(c.started_once for c in run.containers.values() if c.role is Role.MAIN)
        for c in run.containers.values():
            c.next_at, c.next_kind = None, ""
            if c.state == "running":
                self._exit(run, c, t, 0 if graceful else 137)
            elif c.state == "waiting" and initialized and c.role is Role.MAIN:
                if c.container_id:
                    c.last_terminated = c.last_terminated or self._terminated_state(c)
                c.state, c.exit_code, c.finished_at = "terminated", 137, t
                c.term_reason = "ContainerStatusUnknown"
                c.term_message = "The container could not be located when the pod was terminated"
                c.started_at = c.started_at or t

    def _assign_ip(self, run: _Run, pod: Obj, node: Obj | None) -> None:
        if run.pod_ip:
            return
        if (pod.get("spec") or {}).get("hostNetwork"):
            run.pod_ip = self._host_ip(node)
            return
        cidr = ((node or {}).get("spec") or {}).get("podCIDR") or str(_OVERFLOW_NET)
        run.pod_ip, run.ip_pool = self._ips.allocate(str(cidr)), "pod"

    @staticmethod
    def _host_ip(node: Obj | None) -> str:
        for address in ((node or {}).get("status") or {}).get("addresses") or []:
            if address.get("type") == "InternalIP":
                return str(address.get("address"))
        return ""

    # -- rendering (generateAPIPodStatus) -----------------------------------------------------

    def _phase(self, run: _Run, pod: Obj) -> str:
        """``getPhase`` over the simulated containers."""
        if run.deadline_exceeded:
            return "Failed"
        policy = (pod.get("spec") or {}).get("restartPolicy") or "Always"
        pending_init = failed_init = 0
        running = waiting = stopped = succeeded = unknown = 0
        for c in run.containers.values():
            if c.role is Role.INIT:
                if c.state == "running":
                    pending_init += 1
                elif c.state == "terminated":
                    failed_init += c.exit_code != 0
                elif c.last_terminated is not None:
                    failed_init += c.last_terminated.get("exitCode") != 0
                else:
                    pending_init += 1
            elif c.role is Role.SIDECAR:
                if c.state == "running":
                    running += 1
                    pending_init += not c.started_once
                elif c.state == "waiting" and c.last_terminated is None:
                    pending_init += 1
                    waiting += 1
            elif c.state == "running":
                running += 1
            elif c.state == "terminated":
                stopped += 1
                succeeded += c.exit_code == 0
            elif c.last_terminated is not None:
                stopped += 1
            else:
                waiting += 1
        main_started = any(c.started_once for c in run.containers.values() if c.role is Role.MAIN)
        if failed_init and policy == "Never":
            return "Failed"
        if (pending_init and not main_started) or waiting:
            return "Failed" if run.killed else "Pending"  # TerminatePod: never terminal Pending
        if running and not unknown:
            return "Running"
        if stopped and not unknown:
            if run.force_terminal:
                return "Succeeded" if stopped == succeeded else "Failed"
            if policy == "Always":
                return "Running"
            if stopped == succeeded:
                return "Succeeded"
            return "Failed" if policy == "Never" else "Running"
        return "Failed" if run.killed else "Pending"

    def _condition_statuses(self, run: _Run, pod: Obj, phase: str) -> dict[str, tuple[str, str, str]]:
        """type -> (status, reason, message) of the kubelet-owned conditions."""
        spec = pod.get("spec") or {}
        out: dict[str, tuple[str, str, str]] = {}
        terminal = phase in ("Succeeded", "Failed")
        out["PodReadyToStartContainers"] = ("True" if run.sandbox and not terminal else "False", "", "")
        incomplete = [
            c.name
            for c in run.containers.values()
            if (c.role is Role.INIT and not (c.state == "terminated" and c.exit_code == 0))
            or (c.role is Role.SIDECAR and c.state != "running")
        ]
        main_started = any(c.started_once for c in run.containers.values() if c.role is Role.MAIN)
        if phase == "Succeeded":
            out["Initialized"] = ("True", "PodCompleted", "")
        elif main_started or not incomplete:
            out["Initialized"] = ("True", "", "")
        else:
            out["Initialized"] = (
                "False",
                "ContainersNotInitialized",
                f"containers with incomplete status: {go_list(incomplete)}",
            )
        unready = [c.name for c in run.containers.values() if c.role is not Role.INIT and not c.ready]
        if phase == "Succeeded":
            containers = ("False", "PodCompleted", "")
        elif phase == "Failed":
            containers = ("False", "PodFailed", "")
        elif unready:
            containers = (
                "False",
                "ContainersNotReady",
                f"containers with unready status: {go_list(unready)}",
            )
        else:
            containers = ("True", "", "")
        ready = containers
        if containers[0] == "True":
            gates = []
            existing = {c.get("type"): c for c in (pod.get("status") or {}).get("conditions") or []}
            for gate in spec.get("readinessGates") or []:
                ctype = gate.get("conditionType")
                cond = existing.get(ctype)
                if cond is None:
                    gates.append(f'corresponding condition of pod readiness gate "{ctype}" does not exist.')
                elif cond.get("status") != "True":
                    gates.append(
                        f'the status of pod readiness gate "{ctype}" is not "True", but {cond.get("status")}'
                    )
            if gates:
                ready = ("False", "ReadinessGatesNotReady", ", ".join(gates))
        out["Ready"] = ready
        out["ContainersReady"] = containers
        out["PodScheduled"] = ("True", "", "")
        return out

    def _record_conditions(self, run: _Run, pod: Obj, t: float) -> None:
        """``updateLastTransitionTime``: a condition's time moves only when its status does."""
        phase = self._phase(run, pod)
        for ctype, (status, _, _) in self._condition_statuses(run, pod, phase).items():
            old = run.conditions.get(ctype)
            if old is None or old[0] != status:
                run.conditions[ctype] = (status, stamp(t))

    def _container_status(self, c: _Container, spec: Obj) -> Obj:
        status: Obj = {
            "name": c.name,
            "image": normalize_image(c.image) if c.pulled else c.image,
            "imageID": image_id(c.image) if c.pulled else "",
            "lastState": {"terminated": dict(c.last_terminated)} if c.last_terminated else {},
            "ready": c.ready,
            "restartCount": c.restart_count,
            "started": c.state == "running",
        }
        if c.container_id:
            status["containerID"] = c.container_id
        if c.state == "running":
            status["state"] = {"running": {"startedAt": stamp(c.started_at or 0.0)}}
        elif c.state == "terminated":
            status["state"] = {"terminated": self._terminated_state(c)}
        else:
            waiting: Obj = {"reason": c.reason or "ContainerCreating"}
            if c.message:
                waiting["message"] = c.message
            status["state"] = {"waiting": waiting}
        mounts = []
        for m in spec.get("volumeMounts") or []:
            entry: Obj = {"name": m.get("name"), "mountPath": m.get("mountPath")}
            if m.get("readOnly"):
                entry["readOnly"] = True
                entry["recursiveReadOnly"] = "Disabled"
            mounts.append(entry)
        if mounts:
            status["volumeMounts"] = mounts
        return status

    def _render(self, run: _Run, pod: Obj, node: Obj | None) -> Obj:
        old = pod.get("status") or {}
        phase = self._phase(run, pod)
        specs = {str(c.get("name")): c for c, _ in _spec_containers(pod)}
        has_init = any(c.role is not Role.MAIN for c in run.containers.values())
        statuses: list[Obj] = []
        init_statuses: list[Obj] = []
        for c in run.containers.values():
            cs = self._container_status(c, specs.get(c.name, {}))
            if c.state == "waiting" and not c.reason and has_init:
                cs["state"] = {"waiting": {"reason": "PodInitializing"}}
            (statuses if c.role is Role.MAIN else init_statuses).append(cs)
        statuses.sort(key=lambda s: str(s["name"]))
        status: Obj = {"phase": phase}
        conditions = [c for c in old.get("conditions") or [] if c.get("type") not in _KUBELET_CONDITIONS]
        for ctype, (value, reason, message) in self._condition_statuses(run, pod, phase).items():
            cond: Obj = {
                "type": ctype,
                "status": value,
                "lastProbeTime": None,
                "lastTransitionTime": run.conditions.get(ctype, (value, stamp(run.admitted_at)))[1],
            }
            if reason:
                cond["reason"] = reason
            if message:
                cond["message"] = message
            conditions.append(cond)
        status["conditions"] = conditions
        host_ip = self._host_ip(node) or str(old.get("hostIP") or "")
        if host_ip:
            status["hostIP"] = host_ip
            status["hostIPs"] = [{"ip": host_ip}]
        if run.pod_ip:
            status["podIP"] = run.pod_ip
            status["podIPs"] = [{"ip": run.pod_ip}]
        status["startTime"] = stamp(run.admitted_at)
        if init_statuses:
            status["initContainerStatuses"] = init_statuses
        status["containerStatuses"] = statuses
        if run.deadline_exceeded:
            status["reason"] = "DeadlineExceeded"
            status["message"] = "Pod was active on the node longer than the specified deadline"
        if old.get("qosClass"):
            status["qosClass"] = old["qosClass"]
        for kept in ("nominatedNodeName", "resize", "resourceClaimStatuses"):
            if kept in old:
                status[kept] = old[kept]
        return status

    def _post(self, pod: Obj, run: _Run, node: Obj | None) -> None:
        status = self._render(run, pod, node)
        if status == (pod.get("status") or {}):
            return
        new = copy.deepcopy(pod)
        new["status"] = status
        meta = pod["metadata"]
        self.ctx.api.update(
            self.ctx.rt("", "pods"), meta["namespace"], meta["name"], new, self.opts, "status"
        )


CONTROLLERS = [Scheduler, Kubelets]
