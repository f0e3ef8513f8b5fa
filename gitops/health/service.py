"""Service health: a LoadBalancer waits for ``status.loadBalancer.ingress``; other types are Healthy.

Whether a Service has endpoints is the health of its workloads, reported there, not here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitops.health import registry
from gitops.model import health as model_health

_H = model_health.HealthState


@registry.register("", "Service")
def check(obj: Mapping[str, Any], pods: Sequence[Mapping[str, Any]] = ()) -> model_health.Health:
    stype = (obj.get("spec") or {}).get("type") or "ClusterIP"
    if stype != "LoadBalancer":
        return model_health.Health(_H.HEALTHY, f"the {stype} service has been applied")
    ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    addresses = [str(i.get("ip") or i.get("hostname")) for i in ingress if i.get("ip") or i.get("hostname")]
    if not addresses:
        return model_health.Health(
            _H.PROGRESSING,
            "waiting for a load balancer address; check that the cluster has a load-balancer controller",
        )
    return model_health.Health(_H.HEALTHY, f"the load balancer is ready at {', '.join(addresses)}")
