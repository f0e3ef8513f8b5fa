"""The HorizontalPodAutoscaler controller (``pkg/controller/podautoscaler``, autoscaling/v2).

There is no metrics pipeline: the metric values come from the HPA's annotation
``localcluster.gitops.dev/metric-value``, either one value for every metric (``"150"``) or one per
metric, ``name=value`` pairs separated by commas (``"cpu=150,requests_per_second=2k"``), where
the name is the resource name (``cpu``, ``memory``) for Resource and ContainerResource metrics
and ``metric.name`` for Pods, Object and External ones. Values are quantities (``500m``, ``2k``).
A value is what the metrics APIs would report: the average utilization in percent of the
requests for a Utilization target, the average per pod for an AverageValue target, the metric's
value for a Value target. A metric without a value is invalid, as one the metrics API does not
return (``FailedGetResourceMetric`` and kin).

Each HPA is processed every 15 simulated seconds (``--horizontal-pod-autoscaler-sync-period``; as
upstream, changes to the HPA wait for the next period, so a new HPA acts after 15 s) by
``reconcileAutoscaler``:

1. Read the target's ``/scale`` (AbleToScale ``SucceededGetScale``, or False
   ``FailedGetScale``). ``spec.replicas`` 0 disables autoscaling (ScalingActive False
   ``ScalingDisabled``); outside ``[minReplicas, maxReplicas]`` it is brought back inside.
2. Otherwise each metric proposes ``ceil(usageRatio x replicas)`` where ``usageRatio`` is the
   current value over the target, or keeps the replicas when the ratio is within 10 % of 1
   (``ReplicaCalculator``, tolerance 0.1; all current replicas are taken as ready pods). The
   highest proposal wins (ScalingActive ``ValidMetricFound``).
3. Without ``spec.behavior`` (``normalizeDesiredReplicas``): the highest recommendation of the
   last 300 s wins over a lower one (AbleToScale ``ScaleDownStabilized``), and a scale-up is at
   most ``max(2 x replicas, 4)`` (ScalingLimited ``ScaleUpLimit``, ``TooManyReplicas``,
   ``TooFewReplicas`` or ``DesiredWithinRange``). With ``spec.behavior``
   (``normalizeDesiredReplicasWithBehaviors``): recommendations are stabilized over each
   direction's ``stabilizationWindowSeconds`` (scale-down defaults to 300 s) and the change is
   limited by the Pods/Percent policies over their periods, picked by ``selectPolicy``.
4. A new replica count is written through the target's scale subresource with field manager
   ``kube-controller-manager``, so the target's managedFields record an ``Update`` of
   ``spec.replicas`` with ``subresource: scale`` (AbleToScale ``SucceededRescale``); then the
   status: ``currentReplicas``, ``desiredReplicas``, ``currentMetrics``, the conditions and
   ``lastScaleTime``.

The arithmetic is pure (module functions); :class:`HorizontalPodAutoscalerController` does the
I/O. No Events are recorded.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gitops.localcluster import errors, quantity
from gitops.localcluster.clock import format_time
from gitops.localcluster.controllers import podstate
from gitops.localcluster.controllers.manager import Context, Controller, Key
from gitops.localcluster.controllers.wakeups import Wakeups
from gitops.localcluster.resources import ResourceType
from gitops.localcluster.store import Event

Obj = dict[str, Any]

METRIC_ANNOTATION = "localcluster.gitops.dev/metric-value"
SYNC_PERIOD = 15.0  # --horizontal-pod-autoscaler-sync-period
DOWNSCALE_STABILIZATION = 300.0  # --horizontal-pod-autoscaler-downscale-stabilization
TOLERANCE = 0.1  # --horizontal-pod-autoscaler-tolerance
SCALE_UP_LIMIT_FACTOR = 2.0
SCALE_UP_LIMIT_MINIMUM = 4.0
_INT32_MAX = 2**31 - 1


class MetricError(Exception):
    """A metric could not be computed: ``reason`` is the ScalingActive condition's reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# ------------------------------------------------------------------------------ values


def milli_value(text: Any) -> int:
    """``Quantity.MilliValue``: the value in thousandths, rounded up."""
    q = quantity.parse(text)
    shift = q.exponent + 3
    mantissa = int(q.mantissa)
    if shift >= 0:
        return mantissa * int(10**shift)
    return -((-mantissa) // int(10 ** (-shift)))


def milli_quantity(value: int) -> str:
    """``resource.NewMilliQuantity(value, DecimalSI).String()``."""
    return str(quantity.Quantity(value, -3, quantity.DECIMAL_SI))


def parse_metric_values(text: str | None) -> dict[str, int]:
    """The annotation as {metric name: milli value}; "" is the value for every metric.

    Raises ValueError on a malformed annotation."""
    if text is None or not text.strip():
        return {}
    if "=" not in text:
        return {"": milli_value(text.strip())}
    out: dict[str, int] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"expected name=value, got {part.strip()!r}")
        out[name.strip()] = milli_value(value.strip())
    return out


# ------------------------------------------------------------------- replica arithmetic


@dataclass(frozen=True)
class Proposal:
    """One metric's replica proposal, its status entry and its description."""

    replicas: int
    status: Obj
    name: str


def _ratio_replicas(current: int, ratio: float) -> int:
    """``getUsageRatioReplicaCount`` with every current replica ready: keep ``current`` inside
    the tolerance, else ``ceil(ratio x current)`` (``ceil(ratio)`` from zero)."""
    if current == 0:
        return math.ceil(ratio)
    if abs(1.0 - ratio) <= TOLERANCE:
        return current
    return math.ceil(ratio * current)


def _per_pod_replicas(status_replicas: int, usage: int, target: int) -> tuple[int, int]:
    """``GetObjectPerPodMetricReplicas``/``GetExternalPerPodMetricReplicas``: (replicas, the
    average per pod)."""
    ratio = usage / (target * status_replicas) if status_replicas and target else math.inf
    replicas = status_replicas
    if abs(1.0 - ratio) > TOLERANCE:
        replicas = math.ceil(usage / target) if target else status_replicas
    average = math.ceil(usage / status_replicas) if status_replicas else usage
    return replicas, average


def _value(values: dict[str, int], name: str) -> int | None:
    if name in values:
        return values[name]
    return values.get("")


def _selector_text(selector: Obj | None) -> str:
    """Go's ``%+v`` of the metric's ``*metav1.LabelSelector`` (approximate when set)."""
    if selector is None:
        return "<nil>"
    labels = ",".join(f"{k}: {v}" for k, v in sorted((selector.get("matchLabels") or {}).items()))
    return f"&LabelSelector{{MatchLabels:map[string]string{{{labels},}},MatchExpressions:[]LabelSelectorRequirement{{}},}}"


def compute_metric(
    metric: Obj,
    values: dict[str, int],
    spec_replicas: int,
    status_replicas: int,
    requests: dict[str, int],
    namespace: str,
) -> Proposal:
    """``computeReplicasForMetric`` for one metric spec; raises :class:`MetricError`.

    ``requests`` are the average per-pod requests (milli) by resource, to report the average
    value behind a utilization."""
    mtype = metric.get("type")
    if mtype in ("Resource", "ContainerResource"):
        key = "resource" if mtype == "Resource" else "containerResource"
        source = metric.get(key) or {}
        resource = str(source.get("name", ""))
        target = source.get("target") or {}
        container_text = " container" if mtype == "ContainerResource" else ""
        reason = "FailedGetResourceMetric" if mtype == "Resource" else "FailedGetContainerResourceMetric"
        usage = _value(values, resource)
        current: Obj = {}
        if target.get("averageValue") is not None:
            if usage is None:
                raise MetricError(
                    reason,
                    f"failed to get {resource} usage: unable to get metrics for resource {resource}: "
                    "no metrics returned from resource metrics API",
                )
            replicas = _ratio_replicas(spec_replicas, usage / max(milli_value(target["averageValue"]), 1))
            current["averageValue"] = milli_quantity(usage)
            name = f"{resource}{container_text} resource"
        elif target.get("averageUtilization") is not None:
            if usage is None:
                raise MetricError(
                    reason,
                    f"failed to get {resource} utilization: unable to get metrics for resource {resource}: "
                    "no metrics returned from resource metrics API",
                )
            utilization = usage // 1000  # the API reports whole percents
            replicas = _ratio_replicas(spec_replicas, utilization / max(int(target["averageUtilization"]), 1))
            if resource in requests:
                current["averageValue"] = milli_quantity(requests[resource] * utilization // 100)
            current["averageUtilization"] = utilization
            name = f"{resource}{container_text} resource utilization (percentage of request)"
        else:
            raise MetricError(
                reason,
                "invalid resource metric source: neither an average utilization target nor an average "
                "value (usage) target was set",
            )
        status_source: Obj = {"name": resource}
        if mtype == "ContainerResource":
            status_source["container"] = source.get("container", "")
        status_source["current"] = current
        return Proposal(replicas, {"type": mtype, key: status_source}, name)
    if mtype == "Pods":
        source = metric.get("pods") or {}
        metric_id = source.get("metric") or {}
        metric_name = str(metric_id.get("name", ""))
        usage = _value(values, metric_name)
        if usage is None:
            raise MetricError(
                "FailedGetPodsMetric",
                f"unable to get metric {metric_name}: no metrics returned from custom metrics API",
            )
        target = milli_value((source.get("target") or {}).get("averageValue", "0"))
        replicas = _ratio_replicas(spec_replicas, usage / max(target, 1))
        status = {
            "type": "Pods",
            "pods": {"metric": metric_id, "current": {"averageValue": milli_quantity(usage)}},
        }
        return Proposal(replicas, status, f"pods metric {metric_name}")
    if mtype in ("Object", "External"):
        key = "object" if mtype == "Object" else "external"
        source = metric.get(key) or {}
        metric_id = source.get("metric") or {}
        metric_name = str(metric_id.get("name", ""))
        target = source.get("target") or {}
        usage = _value(values, metric_name)
        if mtype == "Object":
            described = source.get("describedObject") or {}
            name = f"{described.get('kind', '')} metric {metric_name}"
            missing = (
                f"unable to get metric {metric_name}: {described.get('kind', '')} on {namespace} "
                f"{described.get('name', '')}/no metrics returned from custom metrics API"
            )
            reason = "FailedGetObjectMetric"
        else:
            name = f"external metric {metric_name}({_selector_text(metric_id.get('selector'))})"
            missing = (
                f"unable to get external metric {namespace}/{metric_name}/{_selector_text(metric_id.get('selector'))}: "
                "no metrics returned from external metrics API"
            )
            reason = "FailedGetExternalMetric"
        if usage is None:
            raise MetricError(reason, missing)
        current = {}
        if target.get("type") == "AverageValue" or (
            target.get("value") is None and target.get("averageValue")
        ):
            replicas, average = _per_pod_replicas(
                status_replicas, usage, milli_value(target.get("averageValue", "0"))
            )
            current["averageValue"] = milli_quantity(average)
        elif target.get("value") is not None:
            replicas = _ratio_replicas(spec_replicas, usage / max(milli_value(target["value"]), 1))
            current["value"] = milli_quantity(usage)
        else:
            raise MetricError(
                reason,
                f"invalid {key} metric source: neither a value target nor an average value target was set",
            )
        status_source = {"metric": metric_id, "current": current}
        if mtype == "Object":
            status_source = {"describedObject": source.get("describedObject") or {}, **status_source}
        return Proposal(replicas, {"type": mtype, key: status_source}, name)
    raise MetricError("InvalidMetricSourceType", f'unknown metric source type "{mtype}"')


def scale_up_limit(current: int) -> int:
    """``calculateScaleUpLimit``."""
    return int(max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM))


def convert_with_rules(current: int, desired: int, minimum: int, maximum: int) -> tuple[int, str, str]:
    """``convertDesiredReplicasWithRules``: (replicas, ScalingLimited reason, message)."""
    limit = scale_up_limit(current)
    if maximum > limit:
        allowed_max = limit
        reason, message = (
            "ScaleUpLimit",
            "the desired replica count is increasing faster than the maximum scale rate",
        )
    else:
        allowed_max = maximum
        reason, message = (
            "TooManyReplicas",
            "the desired replica count is more than the maximum replica count",
        )
    if desired < minimum:
        return minimum, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
    if desired > allowed_max:
        return allowed_max, reason, message
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"


@dataclass
class ScaleEvent:
    """``timestampedScaleEvent``."""

    change: int
    at: float


def _change_in_period(period: float, events: list[ScaleEvent], now: float) -> int:
    """``getReplicasChangePerPeriod``."""
    return sum(e.change for e in events if e.at > now - period)


def scale_up_limit_with_rules(
    current: int, ups: list[ScaleEvent], downs: list[ScaleEvent], rules: Obj, now: float
) -> int:
    """``calculateScaleUpLimitWithScalingRules``."""
    select = rules.get("selectPolicy") or "Max"
    if select == "Disabled":
        return current
    pick = min if select == "Min" else max
    result: int | None = None
    for policy in rules.get("policies") or []:
        period = float(policy.get("periodSeconds") or 0)
        start = current - _change_in_period(period, ups, now) + _change_in_period(period, downs, now)
        value = int(policy.get("value") or 0)
        if policy.get("type") == "Pods":
            proposed = start + value
        else:
            proposed = math.ceil(start * (1 + value / 100))
        result = proposed if result is None else pick(result, proposed)
    if result is None:  # no policy: Go starts from MaxInt32 for Min, MinInt32 for Max
        return _INT32_MAX if select == "Min" else -_INT32_MAX - 1
    return result


def scale_down_limit_with_behaviors(
    current: int, ups: list[ScaleEvent], downs: list[ScaleEvent], rules: Obj, now: float
) -> int:
    """``calculateScaleDownLimitWithBehaviors``."""
    select = rules.get("selectPolicy") or "Max"
    if select == "Disabled":
        return current
    pick = max if select == "Min" else min
    result: int | None = None
    for policy in rules.get("policies") or []:
        period = float(policy.get("periodSeconds") or 0)
        start = current - _change_in_period(period, ups, now) + _change_in_period(period, downs, now)
        value = int(policy.get("value") or 0)
        if policy.get("type") == "Pods":
            proposed = start - value
        else:
            proposed = int(start * (1 - value / 100))
        result = proposed if result is None else pick(result, proposed)
    if result is None:  # no policy: Go starts from MinInt32 for Min, MaxInt32 for Max
        return -_INT32_MAX - 1 if select == "Min" else _INT32_MAX
    return result


def convert_with_behavior_rate(
    current: int,
    desired: int,
    minimum: int,
    maximum: int,
    behavior: Obj,
    ups: list[ScaleEvent],
    downs: list[ScaleEvent],
    now: float,
) -> tuple[int, str, str]:
    """``convertDesiredReplicasWithBehaviorRate``: (replicas, ScalingLimited reason, message)."""
    if desired > current:
        limit = max(
            scale_up_limit_with_rules(current, ups, downs, behavior.get("scaleUp") or {}, now), current
        )
        if maximum > limit:
            allowed, reason, message = (
                limit,
                "ScaleUpLimit",
                "the desired replica count is increasing faster than the maximum scale rate",
            )
        else:
            allowed, reason, message = (
                maximum,
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
            )
        if desired > allowed:
            return allowed, reason, message
    elif desired < current:
        limit = min(
            scale_down_limit_with_behaviors(current, ups, downs, behavior.get("scaleDown") or {}, now),
            current,
        )
        if minimum < limit:
            allowed, reason, message = (
                limit,
                "ScaleDownLimit",
                "the desired replica count is decreasing faster than the maximum scale rate",
            )
        else:
            allowed, reason, message = (
                minimum,
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
            )
        if desired < allowed:
            return allowed, reason, message
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"


@dataclass
class Recommendation:
    """``timestampedRecommendation``."""

    replicas: int
    at: float


def stabilize(recommendations: list[Recommendation], desired: int, now: float, window: float) -> int:
    """``stabilizeRecommendation`` (no behavior): the highest recommendation within the
    downscale window; records ``desired``, reusing the slot of an expired one."""
    highest = desired
    old_index: int | None = None
    for i, rec in enumerate(recommendations):
        if rec.at < now - window:
            old_index = i
        elif rec.replicas > highest:
            highest = rec.replicas
    if old_index is not None:
        recommendations[old_index] = Recommendation(desired, now)
    else:
        recommendations.append(Recommendation(desired, now))
    return highest


def stabilize_with_behaviors(
    recommendations: list[Recommendation], current: int, desired: int, behavior: Obj, now: float
) -> tuple[int, str, str]:
    """``stabilizeRecommendationWithBehaviors``: (replicas, AbleToScale reason, message)."""
    up_window = float((behavior.get("scaleUp") or {}).get("stabilizationWindowSeconds") or 0)
    down_window = (behavior.get("scaleDown") or {}).get("stabilizationWindowSeconds")
    down_window = DOWNSCALE_STABILIZATION if down_window is None else float(down_window)
    up, down = desired, desired
    old_index: int | None = None
    for i, rec in enumerate(recommendations):
        if rec.at > now - up_window:
            up = min(rec.replicas, up)
        if rec.at > now - down_window:
            down = max(rec.replicas, down)
        if rec.at < now - up_window and rec.at < now - down_window:
            old_index = i
    recommendation = max(current, up)
    recommendation = min(recommendation, down)
    if old_index is not None:
        recommendations[old_index] = Recommendation(desired, now)
    else:
        recommendations.append(Recommendation(desired, now))
    if desired >= current:
        return (
            recommendation,
            "ScaleUpStabilized",
            "recent recommendations were lower than current one, applying the lowest recent recommendation",
        )
    return (
        recommendation,
        "ScaleDownStabilized",
        "recent recommendations were higher than current one, applying the highest recent recommendation",
    )


def set_condition(
    conditions: list[Obj], ctype: str, status: str, reason: str, message: str, now: str
) -> None:
    """``setConditionInList``: update in place; the transition time moves with the status."""
    for cond in conditions:
        if cond.get("type") == ctype:
            break
    else:
        cond = {"type": ctype}
        conditions.append(cond)
    if cond.get("status") != status:
        cond["lastTransitionTime"] = now
    cond["status"] = status
    cond["reason"] = reason
    cond["message"] = message
    for key in ("type", "status", "lastTransitionTime", "reason", "message"):
        cond[key] = cond.pop(key, "")


# ---------------------------------------------------------------------------- controller


@dataclass
class _State:
    """What the controller remembers per HPA between syncs (as the real one does in memory)."""

    due: float
    recommendations: list[Recommendation] = field(default_factory=list)
    ups: list[ScaleEvent] = field(default_factory=list)
    downs: list[ScaleEvent] = field(default_factory=list)


class HorizontalPodAutoscalerController(Controller):
    name = "horizontal-pod-autoscaler"
    watches = (("autoscaling", "horizontalpodautoscalers"),)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.hpas = ctx.rt("autoscaling", "horizontalpodautoscalers")
        self._state: dict[tuple[str, str], _State] = {}
        self._wakeups = Wakeups()
        self._failed_statuses: list[Obj] = []  # the metric statuses of the last failed sync

    def keys_for(self, event: Event) -> Iterable[Key]:
        return [podstate.object_key(event.obj)]

    def reconcile(self, key: Key) -> float | None:
        namespace, name = podstate.split_key(key)
        now = self.ctx.now()
        self._wakeups.seen(key, now)
        hpa = self.ctx.get("autoscaling", "horizontalpodautoscalers", namespace, name)
        if hpa is None:
            self._state.pop((namespace, name), None)
            self._wakeups.forget(key)
            return None
        state = self._state.get((namespace, name))
        if state is None:
            # The rate-limited queue holds every HPA for one sync period before processing it.
            state = self._state[(namespace, name)] = _State(due=now + SYNC_PERIOD)
        if now + 1e-6 >= state.due:
            state.due = now + SYNC_PERIOD
            self._reconcile_autoscaler(hpa, state, now)
        return self._wakeups.after(key, state.due, now)

    def _target_type(self, ref: Obj) -> ResourceType:
        group = str(ref.get("apiVersion", "")).rpartition("/")[0]
        kind = str(ref.get("kind", ""))
        for rt in self.ctx.api.registry.all():
            if rt.group == group and rt.kind == kind and rt.scale_subresource:
                return rt
        raise MetricError("FailedGetScale", f'no matches for kind "{kind}" in group "{group}"')

    def _reconcile_autoscaler(self, hpa: Obj, state: _State, now: float) -> None:
        """``reconcileAutoscaler``."""
        m = podstate.meta(hpa)
        namespace = str(m.get("namespace", ""))
        spec = hpa.get("spec") or {}
        original = hpa.get("status") or {}
        status = copy.deepcopy(original)
        conditions: list[Obj] = status.setdefault("conditions", [])
        now_str = format_time(self.ctx.clock.now())
        ref = spec.get("scaleTargetRef") or {}
        try:
            rt = self._target_type(ref)
            target = self.ctx.api.get(rt, namespace, str(ref.get("name", "")))
        except (MetricError, errors.StatusError) as exc:
            detail = exc.message if isinstance(exc, errors.StatusError) else str(exc)
            set_condition(
                conditions,
                "AbleToScale",
                "False",
                "FailedGetScale",
                f"the HPA controller was unable to get the target's current scale: {detail}",
                now_str,
            )
            self._write_status(hpa, status, original)
            return
        scale = self.ctx.api.get_scale(rt, namespace, str(ref.get("name", "")))
        set_condition(
            conditions,
            "AbleToScale",
            "True",
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale",
            now_str,
        )
        current = int((scale.get("spec") or {}).get("replicas") or 0)
        if not state.recommendations:
            state.recommendations.append(Recommendation(current, now))  # recordInitialRecommendation
        minimum = int(spec.get("minReplicas") or 1)
        maximum = int(spec.get("maxReplicas") or 0)
        metric_statuses: list[Obj] | None = None
        rescale = True
        if current == 0 and minimum != 0:
            desired = 0
            rescale = False
            set_condition(
                conditions,
                "ScalingActive",
                "False",
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
                now_str,
            )
        elif current > maximum:
            desired = maximum
        elif current < minimum:
            desired = minimum
        else:
            computed = self._compute_replicas(hpa, scale, target, conditions, now_str)
            if computed is None:
                return self._fail_metrics(hpa, status, original, current)
            metric_desired, metric_statuses = computed
            desired = max(0, metric_desired)
            behavior = spec.get("behavior")
            if behavior is None:
                desired = self._normalize(state, conditions, current, desired, minimum, maximum, now, now_str)
            else:
                desired = self._normalize_with_behaviors(
                    state, conditions, behavior, current, desired, minimum, maximum, now, now_str
                )
            rescale = desired != current
        if rescale:
            try:
                self._write_scale(rt, namespace, str(ref.get("name", "")), scale, desired)
            except errors.StatusError as err:
                set_condition(
                    conditions,
                    "AbleToScale",
                    "False",
                    "FailedUpdateScale",
                    f"the HPA controller was unable to update the target scale: {err.message}",
                    now_str,
                )
                status["currentReplicas"] = current
                if metric_statuses is not None:
                    status["currentMetrics"] = metric_statuses
                self._write_status(hpa, status, original)
                return
            set_condition(
                conditions,
                "AbleToScale",
                "True",
                "SucceededRescale",
                f"the HPA controller was able to update the target scale to {desired}",
                now_str,
            )
            if spec.get("behavior") is not None:
                self._store_scale_event(state, spec["behavior"], current, desired, now)
        else:
            desired = current
        new_status: Obj = {}
        if original.get("observedGeneration") is not None:
            new_status["observedGeneration"] = original["observedGeneration"]
        last_scale = now_str if rescale else original.get("lastScaleTime")
        if last_scale:
            new_status["lastScaleTime"] = last_scale
        if current:
            new_status["currentReplicas"] = current
        new_status["desiredReplicas"] = desired
        if metric_statuses:
            new_status["currentMetrics"] = metric_statuses
        if conditions:
            new_status["conditions"] = conditions
        self._write_status(hpa, new_status, original)

    def _compute_replicas(
        self, hpa: Obj, scale: Obj, target: Obj, conditions: list[Obj], now_str: str
    ) -> tuple[int, list[Obj]] | None:
        """``computeReplicasForMetrics``: (the highest proposal, the metric statuses), or None
        when too many metrics are invalid (the condition says why)."""
        self._failed_statuses = []
        if not (scale.get("status") or {}).get("selector"):
            set_condition(
                conditions,
                "ScalingActive",
                "False",
                "InvalidSelector",
                "the HPA target's scale is missing a selector",
                now_str,
            )
            return None
        spec = hpa.get("spec") or {}
        metrics = spec.get("metrics") or []
        try:
            values = parse_metric_values(podstate.annotations_of(hpa).get(METRIC_ANNOTATION))
        except (ValueError, quantity.QuantityError):
            values = {}
        spec_replicas = int((scale.get("spec") or {}).get("replicas") or 0)
        status_replicas = int((scale.get("status") or {}).get("replicas") or 0)
        requests = _average_requests(target)
        statuses: list[Obj] = [{"type": ""} for _ in metrics]
        replicas = 0
        best_name = ""
        invalid = 0
        first_error: MetricError | None = None
        namespace = str(podstate.meta(hpa).get("namespace", ""))
        for i, metric in enumerate(metrics):
            try:
                proposal = compute_metric(metric, values, spec_replicas, status_replicas, requests, namespace)
            except MetricError as exc:
                if first_error is None:
                    first_error = exc
                invalid += 1
                continue
            statuses[i] = proposal.status
            if replicas == 0 or proposal.replicas > replicas:
                replicas, best_name = proposal.replicas, proposal.name
        if first_error is not None and (invalid >= len(metrics) or replicas < spec_replicas):
            set_condition(
                conditions,
                "ScalingActive",
                "False",
                first_error.reason,
                f"the HPA was unable to compute the replica count: {first_error}",
                now_str,
            )
            self._failed_statuses = statuses
            return None
        if not metrics:
            return None
        set_condition(
            conditions,
            "ScalingActive",
            "True",
            "ValidMetricFound",
            f"the HPA was able to successfully calculate a replica count from {best_name}",
            now_str,
        )
        return replicas, statuses

    def _fail_metrics(self, hpa: Obj, status: Obj, original: Obj, current: int) -> None:
        """``setCurrentReplicasAndMetricsInStatus`` and the status write of a failed sync."""
        status["currentReplicas"] = current
        if self._failed_statuses:
            status["currentMetrics"] = self._failed_statuses
        else:
            status.pop("currentMetrics", None)
        if not current:
            status.pop("currentReplicas", None)
        self._write_status(hpa, status, original)

    def _normalize(
        self,
        state: _State,
        conditions: list[Obj],
        current: int,
        desired: int,
        minimum: int,
        maximum: int,
        now: float,
        now_str: str,
    ) -> int:
        """``normalizeDesiredReplicas``."""
        stabilized = stabilize(state.recommendations, desired, now, DOWNSCALE_STABILIZATION)
        if stabilized != desired:
            set_condition(
                conditions,
                "AbleToScale",
                "True",
                "ScaleDownStabilized",
                "recent recommendations were higher than current one, applying the highest recent recommendation",
                now_str,
            )
        else:
            set_condition(
                conditions,
                "AbleToScale",
                "True",
                "ReadyForNewScale",
                "recommended size matches current size",
                now_str,
            )
        replicas, reason, message = convert_with_rules(current, stabilized, minimum, maximum)
        limited = "False" if replicas == stabilized else "True"
        set_condition(conditions, "ScalingLimited", limited, reason, message, now_str)
        return replicas

    def _normalize_with_behaviors(
        self,
        state: _State,
        conditions: list[Obj],
        behavior: Obj,
        current: int,
        desired: int,
        minimum: int,
        maximum: int,
        now: float,
        now_str: str,
    ) -> int:
        """``normalizeDesiredReplicasWithBehaviors``."""
        stabilized, reason, message = stabilize_with_behaviors(
            state.recommendations, current, desired, behavior, now
        )
        if stabilized != desired:
            set_condition(conditions, "AbleToScale", "True", reason, message, now_str)
        else:
            set_condition(
                conditions,
                "AbleToScale",
                "True",
                "ReadyForNewScale",
                "recommended size matches current size",
                now_str,
            )
        replicas, reason, message = convert_with_behavior_rate(
            current, stabilized, minimum, maximum, behavior, state.ups, state.downs, now
        )
        limited = "False" if replicas == stabilized else "True"
        set_condition(conditions, "ScalingLimited", limited, reason, message, now_str)
        return replicas

    @staticmethod
    def _store_scale_event(state: _State, behavior: Obj, previous: int, new: int, now: float) -> None:
        """``storeScaleEvent``: remember the change; forget those older than the longest policy
        period of that direction."""
        rules = behavior.get("scaleUp" if new > previous else "scaleDown") or {}
        longest = max((float(p.get("periodSeconds") or 0) for p in rules.get("policies") or []), default=0.0)
        events = state.ups if new > previous else state.downs
        events[:] = [e for e in events if e.at > now - longest]
        events.append(ScaleEvent(abs(new - previous), now))

    def _write_scale(self, rt: ResourceType, namespace: str, name: str, scale: Obj, desired: int) -> None:
        """``Scales().Update``: a PUT of the Scale read at the start of the sync (its
        resourceVersion guards against a concurrent change)."""
        read_rv = (scale.get("metadata") or {}).get("resourceVersion")

        def mutate(current: Obj) -> Obj:
            new = {**current, "spec": {**(current.get("spec") or {}), "replicas": desired}}
            new["metadata"] = {**(current.get("metadata") or {}), "resourceVersion": read_rv}
            return new

        self.ctx.api.write_scale(rt, namespace, name, mutate, self.opts)

    def _write_status(self, hpa: Obj, status: Obj, original: Obj) -> None:
        """``updateStatusIfNeeded``."""
        if not status.get("conditions"):
            status.pop("conditions", None)
        if status == original:
            return
        m = podstate.meta(hpa)
        self.ctx.api.update(
            self.hpas, m["namespace"], m["name"], {**hpa, "status": status}, self.opts, subresource="status"
        )


def _average_requests(target: Obj) -> dict[str, int]:
    """The pod template's requests per pod by resource (milli), for utilization reports."""
    template_spec = ((target.get("spec") or {}).get("template") or {}).get("spec") or {}
    totals: dict[str, int] = {}
    for container in template_spec.get("containers") or []:
        for resource, value in ((container.get("resources") or {}).get("requests") or {}).items():
            try:
                totals[resource] = totals.get(resource, 0) + milli_value(value)
            except quantity.QuantityError:
                continue
    return totals


CONTROLLERS = [HorizontalPodAutoscalerController]
