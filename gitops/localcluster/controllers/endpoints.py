"""The endpoints and EndpointSlice controllers (I/O via the Api).

For every Service with a selector (``spec.selector`` set; ExternalName services and services
without a selector are left alone, their endpoints being someone else's), from the pods of its
namespace that match the selector:

- **Endpoints** of the Service's name (``pkg/controller/endpoint/endpoints_controller.go``): one
  subset per distinct port set (``RepackSubsets``), ``addresses`` for Ready pods and
  ``notReadyAddresses`` for the others (all ready with ``publishNotReadyAddresses``); each
  address with ``ip``, ``nodeName``, ``targetRef`` (kind, namespace, name, uid) and
  ``hostname`` when the pod's ``hostname``/``subdomain`` name this service. Pods without an IP,
  terminal pods and (unless ``publishNotReadyAddresses``) terminating pods are left out
  (``ShouldPodBeInEndpoints``). Ports: each Service port whose ``targetPort`` resolves on the pod
  (a number as is, a name through the containers' named ports, ``FindPort``), with the Service
  port's name and protocol. Labels are the Service's plus ``service.kubernetes.io/headless`` for a
  headless Service; at most 1000 addresses (then the ``over-capacity: truncated`` annotation).
  The object is rewritten only when its subsets or labels change, stamping
  ``endpoints.kubernetes.io/last-change-trigger-time``. Deleting the Service deletes it.
- **EndpointSlices** (``pkg/controller/endpointslice``, ``staging/…/endpointslice/reconciler.go``):
  ``generateName: <svc>-``, labels ``kubernetes.io/service-name`` and
  ``endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io`` (plus the
  Service's), a controller ownerReference to the Service, ``addressType: IPv4``, ``endpoints``
  with ``conditions`` ``ready`` (Ready and not terminating), ``serving`` (Ready) and
  ``terminating`` (being deleted), ``nodeName``, ``targetRef``, and ``ports`` ``{name, port,
  protocol}``. Terminating pods stay in slices. One slice per distinct port set, split at 100
  endpoints (``maxEndpointsPerSlice``); endpoints stay in the slice they are in; a Service with
  no endpoints keeps one placeholder slice with no endpoints and no ports.

Work is event driven with per-namespace indexes (Services and their selectors, each Service's
member pods), so a pod change costs the Services of its namespace, not a scan of every pod.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from gitops.localcluster import errors
from gitops.localcluster.controllers import podstate
from gitops.localcluster.controllers.manager import Context, Controller, Key
from gitops.localcluster.store import Event

Obj = dict[str, Any]


SvcKey = tuple[str, str]

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
HEADLESS_LABEL = "service.kubernetes.io/headless"
TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"
MAX_ENDPOINTS = 1000  # maxCapacity of a v1 Endpoints
MAX_PER_SLICE = 100  # --max-endpoints-per-slice default


def _ports_key(ports: Any) -> str:
    """A port set's identity, independent of key order."""
    return json.dumps(ports or [], sort_keys=True)


def _selects(selector: dict[str, str] | None, labels: dict[str, str]) -> bool:
    return selector is not None and all(labels.get(k) == v for k, v in selector.items())


def _selector_of(svc: Obj) -> dict[str, str] | None:
    spec = svc.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return None
    selector = spec.get("selector")
    return {str(k): str(v) for k, v in selector.items()} if isinstance(selector, dict) else None


def _pod_signature(pod: Obj | None) -> tuple[Any, ...]:
    """What the endpoints of a pod depend on."""
    if pod is None:
        return ()
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    return (
        meta.get("uid"),
        meta.get("labels"),
        meta.get("deletionTimestamp"),
        spec.get("nodeName"),
        spec.get("hostname"),
        spec.get("subdomain"),
        status.get("podIP"),
        status.get("phase") in ("Succeeded", "Failed"),
        podstate.is_ready(pod),
    )


def find_port(pod: Obj, service_port: Obj) -> int | None:
    """``podutil.FindPort``: the target port number on this pod, or None."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    if isinstance(target, str):
        if target.isdigit():
            return int(target)
        protocol = service_port.get("protocol") or "TCP"
        for c in (pod.get("spec") or {}).get("containers") or []:
            for p in c.get("ports") or []:
                if p.get("name") == target and (p.get("protocol") or "TCP") == protocol:
                    return int(p.get("containerPort"))
    return None


def _endpoint_port(service_port: Obj, number: int, slice_form: bool) -> Obj:
    port: Obj = {}
    if slice_form or service_port.get("name"):
        port["name"] = service_port.get("name") or ""
    port["port"] = number
    port["protocol"] = service_port.get("protocol") or "TCP"
    if service_port.get("appProtocol"):
        port["appProtocol"] = service_port["appProtocol"]
    return port


def _pod_ports(svc: Obj, pod: Obj, slice_form: bool) -> list[Obj] | None:
    """The pod's ports for this Service; None when the pod offers none of them."""
    ports = (svc.get("spec") or {}).get("ports") or []
    out = []
    for sp in ports:
        number = find_port(pod, sp)
        if number is not None:
            out.append(_endpoint_port(sp, number, slice_form))
    if not ports:
        return []
    return out or None


def _hostname(svc: Obj, pod: Obj) -> str:
    spec = pod.get("spec") or {}
    if spec.get("hostname") and spec.get("subdomain") == svc["metadata"]["name"]:
        return str(spec["hostname"])
    return ""


def _target_ref(pod: Obj) -> Obj:
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"], "uid": meta.get("uid", "")}


def _in_endpoints(pod: Obj, include_terminating: bool) -> bool:
    """``ShouldPodBeInEndpoints``."""
    status = pod.get("status") or {}
    if podstate.is_terminal(pod):
        return False
    if not status.get("podIP") and not status.get("podIPs"):
        return False
    return include_terminating or not podstate.is_terminating(pod)


def _labels(svc: Obj, extra: dict[str, str]) -> dict[str, str]:
    labels = {
        k: v for k, v in podstate.labels(svc).items() if k not in (SERVICE_NAME_LABEL, MANAGED_BY_LABEL)
    }
    labels.pop(HEADLESS_LABEL, None)
    if (svc.get("spec") or {}).get("clusterIP") == "None":
        labels[HEADLESS_LABEL] = ""
    labels.update(extra)
    return labels


def build_subsets(svc: Obj, pods: list[Obj]) -> tuple[list[Obj], bool]:
    """The Endpoints subsets (repacked and sorted) and whether they were truncated."""
    spec = svc.get("spec") or {}
    publish = bool(spec.get("publishNotReadyAddresses"))
    groups: dict[str, tuple[list[Obj], list[Obj], list[Obj]]] = {}
    for pod in pods:
        if not _in_endpoints(pod, publish):
            continue
        ports = _pod_ports(svc, pod, slice_form=False)
        if ports is None or (not ports and spec.get("clusterIP") != "None"):
            continue
        address: Obj = {"ip": pod["status"]["podIP"]}
        hostname = _hostname(svc, pod)
        if hostname:
            address["hostname"] = hostname
        if (pod.get("spec") or {}).get("nodeName"):
            address["nodeName"] = pod["spec"]["nodeName"]
        address["targetRef"] = _target_ref(pod)
        ports = sorted(ports, key=lambda p: (str(p.get("name", "")), int(p["port"]), str(p["protocol"])))
        key = _ports_key(ports)
        ready, not_ready, _ = groups.setdefault(key, ([], [], ports))
        (ready if publish or podstate.is_ready(pod) else not_ready).append(address)
    subsets = []
    total = 0
    truncated = False
    for key in sorted(groups):
        ready, not_ready, ports = groups[key]
        ready.sort(key=lambda a: (a["ip"], a["targetRef"]["uid"]))
        not_ready.sort(key=lambda a: (a["ip"], a["targetRef"]["uid"]))
        room = MAX_ENDPOINTS - total
        if len(ready) + len(not_ready) > room:
            truncated = True
            ready = ready[:room]
            not_ready = not_ready[: max(0, room - len(ready))]
        total += len(ready) + len(not_ready)
        subset: Obj = {}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        if ports:
            subset["ports"] = ports
        if ready or not_ready:
            subsets.append(subset)
    return subsets, truncated


def slice_endpoint(svc: Obj, pod: Obj) -> Obj:
    """``podToEndpoint``."""
    serving = podstate.is_ready(pod)
    terminating = podstate.is_terminating(pod)
    publish = bool((svc.get("spec") or {}).get("publishNotReadyAddresses"))
    endpoint: Obj = {
        "addresses": [pod["status"]["podIP"]],
        "conditions": {
            "ready": publish or (serving and not terminating),
            "serving": serving,
            "terminating": terminating,
        },
    }
    hostname = _hostname(svc, pod)
    if hostname:
        endpoint["hostname"] = hostname
    if (pod.get("spec") or {}).get("nodeName"):
        endpoint["nodeName"] = pod["spec"]["nodeName"]
    endpoint["targetRef"] = _target_ref(pod)
    return endpoint


def _trigger_time(svc: Obj, pods: list[Obj]) -> str:
    """The latest change among the Service and its pods (creation or readiness), stable for a
    given state so that an unchanged state never rewrites the annotation."""
    times = [str(podstate.meta(svc).get("creationTimestamp") or "")]
    for pod in pods:
        times.append(str(podstate.meta(pod).get("creationTimestamp") or ""))
        cond = podstate.ready_condition(pod)
        if cond is not None:
            times.append(str(cond.get("lastTransitionTime") or ""))
    return max(times)


class ServiceEndpoints(Controller):
    """Endpoints and EndpointSlices of selector Services (key: (namespace, service name))."""

    name = "endpoints"
    watches = (("", "services"), ("", "pods"), ("", "endpoints"), ("discovery.k8s.io", "endpointslices"))

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._selectors: dict[str, dict[str, dict[str, str]]] = {}  # ns -> service -> selector
        self._members: dict[SvcKey, set[str]] = {}  # (ns, service) -> pod names
        self._pods: dict[str, set[str]] = {}  # ns -> pod names

    # -- indexes --------------------------------------------------------------------------

    def keys_for(self, event: Event) -> Iterable[Key]:
        meta = event.obj.get("metadata") or {}
        ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        if event.plural == "services":
            return self._service_changed(event, ns, name)
        if event.plural == "pods":
            return self._pod_changed(event, ns, name)
        if event.plural == "endpoints":
            # Someone else's write (or deletion) of an Endpoints object we manage.
            return ((ns, name),) if name in self._selectors.get(ns, {}) else ()
        service = podstate.labels(event.obj).get(SERVICE_NAME_LABEL)
        managed = podstate.labels(event.obj).get(MANAGED_BY_LABEL) == MANAGED_BY
        if service and managed and service in self._selectors.get(ns, {}):
            return ((ns, service),)
        return ()

    def _service_changed(self, event: Event, ns: str, name: str) -> Iterable[Key]:
        services = self._selectors.setdefault(ns, {})
        selector = None if event.type == "DELETED" else _selector_of(event.obj)
        old = services.get(name)
        if selector is None:
            services.pop(name, None)
            self._members.pop((ns, name), None)
        elif selector != old or (ns, name) not in self._members:
            services[name] = selector
            members = set()
            for pod_name in self._pods.get(ns, ()):
                pod = self.ctx.get("", "pods", ns, pod_name)
                if pod is not None and _selects(selector, podstate.labels(pod)):
                    members.add(pod_name)
            self._members[(ns, name)] = members
        return ((ns, name),)

    def _pod_changed(self, event: Event, ns: str, name: str) -> Iterable[Key]:
        names = self._pods.setdefault(ns, set())
        if event.type == "DELETED":
            names.discard(name)
        else:
            names.add(name)
        keys = []
        for svc, selector in self._selectors.get(ns, {}).items():
            members = self._members.setdefault((ns, svc), set())
            now_in = event.type != "DELETED" and _selects(selector, podstate.labels(event.obj))
            was_in = name in members
            if now_in:
                members.add(name)
            else:
                members.discard(name)
            if now_in != was_in or (
                now_in
                and (event.type != "MODIFIED" or _pod_signature(event.obj) != _pod_signature(event.old))
            ):
                keys.append((ns, svc))
        return keys

    # -- one Service ------------------------------------------------------------------------

    def reconcile(self, key: Key) -> float | None:
        ns, name = podstate.split_key(key)
        svc = self.ctx.get("", "services", ns, name)
        if svc is None:
            self._delete_endpoints(ns, name)
            return None
        if _selector_of(svc) is None:
            return None
        pods = []
        for pod_name in sorted(self._members.get((ns, name), ())):
            pod = self.ctx.get("", "pods", ns, pod_name)
            if pod is not None and _selects(_selector_of(svc), podstate.labels(pod)):
                pods.append(pod)
        self._sync_endpoints(svc, pods)
        self._sync_slices(svc, pods)
        return None

    def _delete_endpoints(self, ns: str, name: str) -> None:
        if self.ctx.get("", "endpoints", ns, name) is None:
            return
        try:
            self.ctx.api.delete(self.ctx.rt("", "endpoints"), ns, name, {})
        except errors.StatusError as err:
            if err.code != 404:
                raise

    def _sync_endpoints(self, svc: Obj, pods: list[Obj]) -> None:
        meta = svc["metadata"]
        ns, name = meta["namespace"], meta["name"]
        subsets, truncated = build_subsets(svc, pods)
        labels = _labels(svc, {})
        current = self.ctx.get("", "endpoints", ns, name)
        rt = self.ctx.rt("", "endpoints")
        if current is not None:
            cur_annotations = podstate.annotations_of(current)
            if (
                (current.get("subsets") or []) == subsets
                and podstate.labels(current) == labels
                and (OVER_CAPACITY in cur_annotations) == truncated
            ):
                return
            new = copy.deepcopy(current)
        else:
            new = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": ns}}
        annotations = {k: v for k, v in podstate.annotations_of(new).items() if k != OVER_CAPACITY}
        annotations[TRIGGER_TIME] = _trigger_time(svc, pods)
        if truncated:
            annotations[OVER_CAPACITY] = "truncated"
        new["metadata"]["annotations"] = annotations
        if labels:
            new["metadata"]["labels"] = labels
        else:
            new["metadata"].pop("labels", None)
        if subsets:
            new["subsets"] = subsets
        else:
            new.pop("subsets", None)
        if current is None:
            try:
                self.ctx.api.create(rt, ns, new, self.opts)
            except errors.StatusError as err:
                if err.code != 409 and not _namespace_terminating(err):
                    raise
        else:
            self.ctx.api.update(rt, ns, name, new, self.opts)

    def _sync_slices(self, svc: Obj, pods: list[Obj]) -> None:
        meta = svc["metadata"]
        ns, name = meta["namespace"], meta["name"]
        rt = self.ctx.rt("discovery.k8s.io", "endpointslices")
        existing = sorted(
            (
                s
                for s in self.ctx.dependents(svc, "discovery.k8s.io", "endpointslices")
                if podstate.labels(s).get(MANAGED_BY_LABEL) == MANAGED_BY
            ),
            key=lambda s: str(s["metadata"]["name"]),
        )
        # Desired endpoints by port set, keyed by pod uid.
        groups: dict[str, tuple[list[Obj] | None, dict[str, Obj]]] = {}
        for pod in pods:
            if not _in_endpoints(pod, True):
                continue
            ports = _pod_ports(svc, pod, slice_form=True)
            if ports is None:
                continue
            key = _ports_key(ports)
            _, members = groups.setdefault(key, (ports, {}))
            members[str(pod["metadata"].get("uid"))] = slice_endpoint(svc, pod)
        trigger = _trigger_time(svc, pods)
        labels = _labels(svc, {SERVICE_NAME_LABEL: name, MANAGED_BY_LABEL: MANAGED_BY})
        desired: list[tuple[Obj | None, list[Obj] | None, list[Obj]]] = []  # (existing, ports, endpoints)
        unused = list(existing)
        for key in sorted(groups):
            ports, members = groups[key]
            mine = [sl for sl in unused if _ports_key(sl.get("ports")) == key]
            placed: set[str] = set()
            chunks: list[tuple[Obj | None, list[Obj]]] = []
            for sl in mine:
                unused.remove(sl)
                kept: list[Obj] = []
                for endpoint in sl.get("endpoints") or []:
                    uid = str((endpoint.get("targetRef") or {}).get("uid", ""))
                    if uid in members and uid not in placed and len(kept) < MAX_PER_SLICE:
                        kept.append(members[uid])
                        placed.add(uid)
                chunks.append((sl, kept))
            rest = [members[u] for u in members if u not in placed]
            rest.sort(key=lambda e: str(e["targetRef"]["name"]))
            for i, (held, kept) in enumerate(chunks):
                room = MAX_PER_SLICE - len(kept)
                chunks[i] = (held, kept + rest[:room])
                rest = rest[room:]
            while rest:
                chunks.append((None, rest[:MAX_PER_SLICE]))
                rest = rest[MAX_PER_SLICE:]
            for held, endpoints in chunks:
                if endpoints:
                    desired.append((held, ports, endpoints))
                elif held is not None:
                    unused.append(held)
        # Reuse leftover slices (a placeholder, or one of another port set) before creating.
        for i, (held, ports, endpoints) in enumerate(desired):
            if held is None and unused:
                desired[i] = (unused.pop(0), ports, endpoints)
        if not desired:
            placeholder = unused.pop(0) if unused else None
            desired.append((placeholder, None, []))
        for sl in unused:
            try:
                self.ctx.api.delete(rt, ns, sl["metadata"]["name"], {})
            except errors.StatusError as err:
                if err.code != 404:
                    raise
        owner = {
            "apiVersion": "v1",
            "kind": "Service",
            "name": name,
            "uid": meta.get("uid", ""),
            "controller": True,
            "blockOwnerDeletion": True,
        }
        for s, ports, endpoints in desired:
            body: Obj = (
                copy.deepcopy(s)
                if s is not None
                else {
                    "apiVersion": "discovery.k8s.io/v1",
                    "kind": "EndpointSlice",
                    "metadata": {"generateName": f"{name}-", "namespace": ns},
                }
            )
            same = (
                s is not None
                and (s.get("endpoints") or []) == endpoints
                and (s.get("ports") or None) == (ports or None)
                and podstate.labels(s) == labels
                and s.get("addressType") == "IPv4"
            )
            if same:
                continue
            body["metadata"]["labels"] = labels
            annotations = dict(podstate.annotations_of(body))
            annotations[TRIGGER_TIME] = trigger
            body["metadata"]["annotations"] = annotations
            body["metadata"]["ownerReferences"] = [owner]
            body["addressType"] = "IPv4"
            body["endpoints"] = endpoints or None
            body["ports"] = ports or None
            if s is None:
                try:
                    self.ctx.api.create(rt, ns, body, self.opts)
                except errors.StatusError as err:
                    if not _namespace_terminating(err):
                        raise
            else:
                self.ctx.api.update(rt, ns, s["metadata"]["name"], body, self.opts)


def _namespace_terminating(err: errors.StatusError) -> bool:
    causes = (err.details or {}).get("causes") or []
    return any(c.get("reason") == "NamespaceTerminating" for c in causes)


CONTROLLERS = [ServiceEndpoints]
