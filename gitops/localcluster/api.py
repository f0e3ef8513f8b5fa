"""The API server's request semantics, independent of HTTP (K8S-API.md §2, §3, §5, §7).

:class:`Api` implements the verbs on parsed requests: it decodes nothing and speaks no HTTP (that
is ``server.py``), and it keeps no objects (that is ``store.py``). Every write goes through one
pipeline, in the order kube-apiserver's generic registry uses (``apiserver/pkg/registry/generic/
registry/store.go``, ``apiserver/pkg/endpoints/handlers/{create,update,patch}.go``):

1. build the new object (the body, a patched copy of the live object, or an apply merge);
2. metadata the server owns (uid, creationTimestamp, resourceVersion, generation, namespace);
3. decoding effects: unknown fields dropped (400 with ``fieldValidation=Strict``), quantities
   canonicalized; then defaulting and the kind's strategy (status reset, Secret stringData, ...);
4. validation (422 Invalid with causes);
5. managedFields (server-side apply computed them in step 1; every other write records an
   Update entry);
6. a write equal to the stored object is not persisted: same resourceVersion, no watch event.

Controllers and the garbage collector call the same methods in-process, as another client would.
"""

from __future__ import annotations

import copy
import ipaddress
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gitops.localcluster import (
    defaults,
    errors,
    managedfields,
    patch,
    quantity,
    validation,
)
from gitops.localcluster.clock import Clock, format_time, parse_time
from gitops.localcluster.resources import Generation, Registry, ResourceType
from gitops.localcluster.store import Store, TypeKey

# generateName's random suffix: apimachinery utilrand.String's alphabet (no vowels, no 0/1/3).
_GENERATE_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
NAMESPACE_TERMINATING_CAUSE = "NamespaceTerminating"
_SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")


@dataclass
class WriteOptions:
    """Query parameters every write understands."""

    manager: str = ""
    dry_run: bool = False
    field_validation: str = "Warn"  # Strict, Warn or Ignore
    force: bool = False
    # Called when a server-side apply is about to create the object; raises to refuse it. The
    # apiserver's createValidation of a patch (handlers/patch.go: withAuthorization with the
    # create attributes), so the server asks for create only when the object is missing.
    check_create: Callable[[], None] | None = None


@dataclass
class WriteResult:
    code: int
    obj: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def manager_from_user_agent(user_agent: str) -> str:
    """The default field manager: the User-Agent up to its first ``/`` (K8S-API.md §3.4)."""
    name = user_agent.split("/", 1)[0].strip()
    return name or "unknown"


def _ns_key(rt: ResourceType, namespace: str, name: str) -> tuple[str, str]:
    return (namespace if rt.namespaced else "", name)


def _tk(rt: ResourceType) -> TypeKey:
    return (rt.group, rt.plural)


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    """The body's ``metadata``, added when missing; 400 when it is not an object."""
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise errors.bad_request("metadata must be an object")
    return meta


def _check_name(meta: dict[str, Any], name: str) -> None:
    if meta.get("name") and meta["name"] != name:
        raise errors.bad_request(
            f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
        )


def _check_resource_version(rt: ResourceType, name: str, meta: dict[str, Any], old: dict[str, Any]) -> None:
    """Optimistic concurrency: 409 when the body names a resourceVersion other than the stored one."""
    sent_rv = meta.get("resourceVersion")
    if sent_rv and sent_rv != old["metadata"].get("resourceVersion"):
        raise errors.conflict(rt.plural, rt.group, name, errors.STALE_RV)


def _patch_options_invalid(field_name: str, reason: str, message: str) -> errors.StatusError:
    """422 for PatchOptions a patch may not carry (apimachinery ValidatePatchOptions)."""
    return errors.StatusError(
        422,
        "Invalid",
        f'PatchOptions.meta.k8s.io "" is invalid: {field_name}: {message}',
        {
            "group": "meta.k8s.io",
            "kind": "PatchOptions",
            "causes": [{"reason": reason, "message": message, "field": field_name}],
        },
    )


class Api:
    """The verbs of the Kubernetes API over one :class:`Store` and :class:`Registry`."""

    def __init__(self, store: Store, registry: Registry, clock: Clock, *, seed: int | None = None) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self._rand = random.Random(seed)
        self._alloc_lock = threading.Lock()
        # Called after every committed deletion or deletionTimestamp (the lifecycle worker).
        self.on_delete: Callable[[], None] = lambda: None

    # ------------------------------------------------------------------------------- reads

    def get(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        obj = self.store.get(_tk(rt), _ns_key(rt, namespace, name))
        if obj is None:
            raise errors.not_found(rt.plural, rt.group, name)
        return self._as_version(rt, obj)

    def _as_version(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """Custom resources are served at every version (conversion strategy None)."""
        if rt.custom and obj.get("apiVersion") != rt.api_version:
            return {**obj, "apiVersion": rt.api_version}
        return obj

    def now(self) -> str:
        return format_time(self.clock.now())

    # ------------------------------------------------------------------------------ create

    def create(
        self, rt: ResourceType, namespace: str, body: Any, opts: WriteOptions, *, applied: bool = False
    ) -> WriteResult:
        """POST: 201 with the stored object (409 when the name exists).

        ``applied`` marks a server-side apply that creates: its managedFields are already set.
        """
        obj = self._check_body(rt, body)
        meta = _metadata(obj)
        self._place_namespace(rt, meta, namespace)
        warnings = self._decode_effects(rt, obj, opts)
        if not meta.get("name"):
            prefix = meta.get("generateName")
            if prefix:
                suffix = "".join(self._rand.choice(_GENERATE_NAME_ALPHABET) for _ in range(5))
                meta["name"] = str(prefix)[:58] + suffix
        name = str(meta.get("name") or "")
        if meta.get("resourceVersion"):
            raise errors.internal("resourceVersion should not be set on objects to be created")
        with self.store.lock:
            ns = meta.get("namespace", "")
            if rt.namespaced:
                self._require_namespace(rt, ns, name)
            if name and self.store.get(_tk(rt), _ns_key(rt, ns, name)) is not None:
                raise errors.already_exists(rt.plural, rt.group, name)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = self.now()
            for gone in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
                meta.pop(gone, None)
            if rt.generation is not Generation.NONE:
                meta["generation"] = 1
            else:
                meta.pop("generation", None)
            if rt.status_subresource:
                obj.pop("status", None)
            if not rt.custom:
                defaults.prepare_for_create(rt.group, rt.version, rt.kind, obj)
                defaults.apply_defaults(rt.group, rt.version, rt.kind, obj)
                self._allocate(rt, obj, None)
            else:
                defaults.apply_crd_defaults(obj, rt.crd_schema)
            _server_owned_metadata(rt, obj, None)
            self._validate(rt, obj, None)
            if not applied:
                meta["managedFields"] = managedfields.update(
                    None,
                    obj,
                    manager=opts.manager,
                    api_version=rt.api_version,
                    node=rt.type_node(),
                    now=self.now(),
                )
            if not meta.get("managedFields"):
                meta.pop("managedFields", None)
            if opts.dry_run:
                return WriteResult(201, obj, warnings)
            rv = self.store.next_rv()
            meta["resourceVersion"] = str(rv)
            self.store.put(_tk(rt), _ns_key(rt, ns, name), obj, rv)
            self._after_write(rt, None, obj)
            return WriteResult(201, self._as_version(rt, obj), warnings)

    # ------------------------------------------------------------------------------ update

    def update(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        body: Any,
        opts: WriteOptions,
        subresource: str = "",
    ) -> WriteResult:
        """PUT: optimistic concurrency on ``metadata.resourceVersion`` when the body has one."""
        obj = self._check_body(rt, body)
        meta = _metadata(obj)
        _check_name(meta, name)
        meta["name"] = name
        self._place_namespace(rt, meta, namespace)
        warnings = self._decode_effects(rt, obj, opts)
        with self.store.lock:
            old = self.store.get(_tk(rt), _ns_key(rt, namespace, name))
            if old is None:
                raise errors.not_found(rt.plural, rt.group, name)
            _check_resource_version(rt, name, meta, old)
            result = self._commit_update(rt, old, obj, opts, subresource, applied=False)
            result.warnings[:0] = warnings
            return result

    # ------------------------------------------------------------------------------- patch

    def patch(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        patch_type: str,
        body: Any,
        opts: WriteOptions,
        subresource: str = "",
    ) -> WriteResult:
        """PATCH with one of the four patch types (K8S-API.md §3.6)."""
        if patch_type == "apply":
            return self._apply(rt, namespace, name, body, opts, subresource)
        if opts.force:
            raise _patch_options_invalid(
                "force", "FieldValueForbidden", "Forbidden: may not be specified for non-apply patch"
            )
        if patch_type == "strategic" and rt.custom:
            raise errors.unsupported_media_type(
                "application/strategic-merge-patch+json",
                [
                    "application/json-patch+json",
                    "application/merge-patch+json",
                    "application/apply-patch+yaml",
                ],
            )
        with self.store.lock:
            old = self.store.get(_tk(rt), _ns_key(rt, namespace, name))
            if old is None:
                raise errors.not_found(rt.plural, rt.group, name)
            current = self._as_version(rt, old)
            try:
                if patch_type == "json":
                    new = patch.apply_json_patch(current, body)
                elif patch_type == "merge":
                    new = patch.apply_merge_patch(current, body)
                else:
                    if not isinstance(body, dict):
                        raise patch.PatchError("strategic merge patch must be a JSON object")
                    new = patch.apply_strategic_merge_patch(current, body, rt.type_node())
            except patch.PatchError as exc:
                raise errors.StatusError(exc.code, exc.reason, str(exc)) from exc
            if not isinstance(new, dict):
                raise errors.bad_request("the patched object is not a JSON object")
            new = self._check_body(rt, new)
            meta = _metadata(new)
            _check_resource_version(rt, name, meta, old)
            meta["name"] = name
            self._place_namespace(rt, meta, namespace)
            warnings = self._decode_effects(rt, new, opts)
            result = self._commit_update(rt, old, new, opts, subresource, applied=False)
            result.warnings[:0] = warnings
            return result

    def _apply(
        self, rt: ResourceType, namespace: str, name: str, body: Any, opts: WriteOptions, subresource: str
    ) -> WriteResult:
        """Server-side apply (K8S-API.md §5.3); creates the object when it is missing."""
        if not opts.manager or opts.manager == "unknown-explicit":
            raise _patch_options_invalid(
                "fieldManager", "FieldValueRequired", "Required value: is required for apply patch"
            )
        config = self._check_body(rt, body)
        meta = _metadata(config)
        _check_name(meta, name)
        meta["name"] = name
        self._place_namespace(rt, meta, namespace)
        warnings = self._decode_effects(rt, config, opts)
        node = rt.type_node()
        with self.store.lock:
            old = self.store.get(_tk(rt), _ns_key(rt, namespace, name))
            if old is not None:
                _check_resource_version(rt, name, meta, old)
            live = self._as_version(rt, old) if old is not None else None
            try:
                merged = managedfields.apply(
                    live,
                    config,
                    manager=opts.manager,
                    api_version=rt.api_version,
                    force=opts.force,
                    node=node,
                    now=self.now(),
                    subresource=subresource,
                    reset_paths=_reset_paths(rt, subresource),
                )
            except managedfields.SchemaError as exc:
                # The real server passes structured-merge-diff schema errors through as 500.
                raise errors.StatusError(500, "", str(exc)) from exc
            except ValueError as exc:  # e.g. "metadata.managedFields must be nil"
                raise errors.bad_request(str(exc)) from exc
            except managedfields.ApplyConflict as exc:
                message = exc.message()
                raise errors.StatusError(
                    409,
                    "Conflict",
                    message,
                    {"name": name, "group": rt.group, "kind": rt.plural, "causes": exc.causes()}
                    if rt.group
                    else {"name": name, "kind": rt.plural, "causes": exc.causes()},
                ) from exc
            if old is None:
                if opts.check_create is not None:
                    opts.check_create()
                merged.get("metadata", {}).pop("resourceVersion", None)
                result = self.create(rt, namespace, merged, opts, applied=True)
            else:
                result = self._commit_update(rt, old, merged, opts, subresource, applied=True)
            result.warnings[:0] = warnings
            return result

    # ------------------------------------------------------------------------------ delete

    def delete(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        options: dict[str, Any],
        dry_run: bool = False,
    ) -> WriteResult:
        """DELETE (K8S-API.md §3.7): immediate, or marked with deletionTimestamp while finalizers
        (including the ``foregroundDeletion``/``orphan`` ones the propagation policy adds) remain."""
        with self.store.lock:
            tk, key = _tk(rt), _ns_key(rt, namespace, name)
            old = self.store.get(tk, key)
            if old is None:
                raise errors.not_found(rt.plural, rt.group, name)
            self._check_preconditions(rt, old, options)
            policy = options.get("propagationPolicy")
            if policy is None and options.get("orphanDependents") is not None:
                policy = "Orphan" if options["orphanDependents"] else "Background"
            if policy not in (None, "Background", "Foreground", "Orphan"):
                raise errors.StatusError(
                    422,
                    "Invalid",
                    f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "{policy}": '
                    'supported values: "Foreground", "Background", "Orphan", "nil"',
                    {"group": "meta.k8s.io", "kind": "DeleteOptions"},
                )
            meta = old["metadata"]
            if rt.group == "" and rt.plural == "namespaces":
                return self._delete_namespace(rt, old, dry_run)
            finalizers = list(meta.get("finalizers") or [])
            if policy == "Foreground" and "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
            if policy == "Orphan" and "orphan" not in finalizers:
                finalizers.append("orphan")
            if rt.group == "" and rt.plural == "pods":
                graceful = self._delete_pod_gracefully(rt, old, options, finalizers, dry_run)
                if graceful is not None:
                    return graceful
            if finalizers:
                if meta.get("deletionTimestamp") and finalizers == list(meta.get("finalizers") or []):
                    return WriteResult(200, self._as_version(rt, old))
                new = copy.deepcopy(old)
                new["metadata"]["finalizers"] = finalizers
                new["metadata"].setdefault("deletionTimestamp", self.now())
                new["metadata"].setdefault("deletionGracePeriodSeconds", 0)
                if dry_run:
                    return WriteResult(200, new)
                rv = self.store.next_rv()
                new["metadata"]["resourceVersion"] = str(rv)
                self.store.put(tk, key, new, rv)
                self.on_delete()
                return WriteResult(200, self._as_version(rt, new))
            if dry_run:
                return WriteResult(200, self._deleted_body(rt, old))
            self._remove(rt, old)
            return WriteResult(200, self._deleted_body(rt, self._as_version(rt, old)))

    def _delete_pod_gracefully(
        self,
        rt: ResourceType,
        old: dict[str, Any],
        options: dict[str, Any],
        finalizers: list[str],
        dry_run: bool,
    ) -> WriteResult | None:
        """Graceful pod deletion: ``rest.BeforeDelete`` (apiserver/pkg/registry/rest/delete.go)
        with the pod strategy's ``CheckGracefulDelete`` (pkg/registry/core/pod/strategy.go).

        The grace period is ``DeleteOptions.gracePeriodSeconds``, else the pod's
        ``terminationGracePeriodSeconds``; it is 0 for a pod not bound to a node or already
        terminal, and 1 when negative. A positive period keeps the pod with ``deletionTimestamp``
        = now + period and ``deletionGracePeriodSeconds`` = period, for its kubelet to stop the
        containers and then delete it with ``gracePeriodSeconds: 0``. A second DELETE may only
        shorten the period (moving the timestamp back); 0 removes the pod now unless finalizers
        remain. Returns None when the caller's ordinary path applies (removal now, or the
        finalizer path for a pod that is not deleted gracefully).
        """
        meta = old["metadata"]
        spec = old.get("spec") or {}
        grace = options.get("gracePeriodSeconds")
        if grace is None:
            grace = spec.get("terminationGracePeriodSeconds") or 0
        if not isinstance(grace, int) or isinstance(grace, bool):
            raise errors.bad_request(f"invalid gracePeriodSeconds: {grace!r}")
        if not spec.get("nodeName") or (old.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            grace = 0
        if grace < 0:
            grace = 1
        current = meta.get("deletionGracePeriodSeconds")
        if meta.get("deletionTimestamp"):
            if not current:
                return None  # marked with no grace left (0 or unset): the ordinary path decides
            if grace >= current:
                return WriteResult(200, self._as_version(rt, old))  # graceful deletion pending
            deadline = parse_time(meta["deletionTimestamp"]).timestamp() - current + grace
        else:
            if grace == 0:
                return None
            deadline = self.clock.time() + grace
        if grace == 0 and not finalizers:
            return None
        new = copy.deepcopy(old)
        new["metadata"]["deletionTimestamp"] = format_time(datetime.fromtimestamp(deadline, UTC))
        new["metadata"]["deletionGracePeriodSeconds"] = grace
        if finalizers:
            new["metadata"]["finalizers"] = finalizers
        if dry_run:
            return WriteResult(200, new)
        rv = self.store.next_rv()
        new["metadata"]["resourceVersion"] = str(rv)
        self.store.put(_tk(rt), _ns_key(rt, meta.get("namespace", ""), meta["name"]), new, rv)
        self.on_delete()
        return WriteResult(200, self._as_version(rt, new))

    def bind_pod(self, namespace: str, name: str, node: str, uid: str = "") -> WriteResult:
        """``POST pods/{name}/binding``, in-process (the scheduler's write): set ``spec.nodeName``
        and a True ``PodScheduled`` condition (``BindingREST.setPodNodeAndMetadata`` in
        pkg/registry/core/pod/storage/storage.go). It bypasses update validation, which forbids
        changing ``spec.nodeName``, and records no managedFields entry, as the real binding
        writes storage directly. 409 when the pod is bound already or being deleted; 404 when
        gone, or replaced (``uid`` given and different)."""
        pods = self.registry.by_plural("", "v1", "pods")
        assert pods is not None
        with self.store.lock:
            old = self.store.get(("", "pods"), (namespace, name))
            if old is None or (uid and old["metadata"].get("uid") != uid):
                raise errors.not_found("pods", "", name)
            if old["metadata"].get("deletionTimestamp"):
                raise errors.conflict(
                    "pods/binding", "", name, f"pod {name} is being deleted, cannot be assigned to a host"
                )
            bound = (old.get("spec") or {}).get("nodeName")
            if bound:
                raise errors.conflict(
                    "pods/binding", "", name, f'pod {name} is already assigned to node "{bound}"'
                )
            new = copy.deepcopy(old)
            new["spec"]["nodeName"] = node
            status = new.setdefault("status", {})
            # podutil.UpdatePodCondition: replace the condition in place or append it.
            scheduled = {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": self.now(),
            }
            conditions = list(status.get("conditions") or [])
            index = next((i for i, c in enumerate(conditions) if c.get("type") == "PodScheduled"), None)
            if index is None:
                conditions.append(scheduled)
            else:
                conditions[index] = scheduled
            status["conditions"] = conditions
            rv = self.store.next_rv()
            new["metadata"]["resourceVersion"] = str(rv)
            self.store.put(("", "pods"), (namespace, name), new, rv)
            return WriteResult(201, self._as_version(pods, new))

    def _remove(self, rt: ResourceType, old: dict[str, Any]) -> None:
        meta = old["metadata"]
        rv = self.store.next_rv()
        last = {**old, "metadata": {**meta, "resourceVersion": str(rv)}}
        self.store.remove(_tk(rt), _ns_key(rt, meta.get("namespace", ""), meta["name"]), last, rv)
        if rt.group == "apiextensions.k8s.io" and rt.plural == "customresourcedefinitions":
            self._crd_removed(old)
        self.on_delete()

    def _deleted_body(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        # ReturnDeletedObject is set in the registries of pods, serviceaccounts, PVs and PVCs.
        if rt.group == "" and rt.plural in ("pods", "serviceaccounts", "persistentvolumeclaims"):
            return obj
        details: dict[str, Any] = {"name": obj["metadata"]["name"]}
        if rt.group:
            details["group"] = rt.group
        details["kind"] = rt.plural
        details["uid"] = obj["metadata"].get("uid", "")
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": details,
        }

    def _check_preconditions(self, rt: ResourceType, obj: dict[str, Any], options: dict[str, Any]) -> None:
        pre = options.get("preconditions") or {}
        meta = obj["metadata"]
        if pre.get("uid") and pre["uid"] != meta.get("uid"):
            raise errors.conflict(
                rt.plural,
                rt.group,
                meta["name"],
                f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta.get('uid')}",
            )
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
            raise errors.conflict(
                rt.plural,
                rt.group,
                meta["name"],
                f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                f"ResourceVersion in object meta: {meta.get('resourceVersion')}",
            )

    def _delete_namespace(self, rt: ResourceType, old: dict[str, Any], dry_run: bool) -> WriteResult:
        """Namespaces go Terminating; the lifecycle worker empties and then removes them."""
        if old["metadata"].get("deletionTimestamp"):
            return WriteResult(200, old)
        new = copy.deepcopy(old)
        new["metadata"]["deletionTimestamp"] = self.now()
        new["metadata"]["deletionGracePeriodSeconds"] = 0
        new.setdefault("status", {})["phase"] = "Terminating"
        if dry_run:
            return WriteResult(200, new)
        rv = self.store.next_rv()
        new["metadata"]["resourceVersion"] = str(rv)
        self.store.put(_tk(rt), ("", old["metadata"]["name"]), new, rv)
        self.on_delete()
        return WriteResult(200, new)

    # ------------------------------------------------------------------------ the pipeline

    def _check_body(self, rt: ResourceType, body: Any) -> dict[str, Any]:
        """A deep copy of the body, with kind/apiVersion defaulted from the URL (as the
        apiserver's decoder does) and refused when they name another type."""
        if not isinstance(body, dict):
            raise errors.bad_request(
                f"Object 'Kind' is missing in '{str(body)[:200]}'"
                if body is not None
                else "request body is empty"
            )
        obj = copy.deepcopy(body)
        kind = obj.get("kind") or rt.kind
        api_version = obj.get("apiVersion") or rt.api_version
        if kind != rt.kind or api_version != rt.api_version:
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version "
                f"({rt.api_version})"
                if kind == rt.kind
                else f'{rt.kind} in version "{rt.version}" cannot be handled as a {kind}: '
                f'no kind "{kind}" is registered for version "{api_version}"'
            )
        obj["kind"], obj["apiVersion"] = rt.kind, rt.api_version
        return obj

    def _place_namespace(self, rt: ResourceType, meta: dict[str, Any], namespace: str) -> None:
        if rt.namespaced:
            body_ns = meta.get("namespace") or ""
            if body_ns and namespace and body_ns != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = body_ns or namespace
            if not meta["namespace"]:
                raise errors.bad_request("the server could not find the requested resource")
        else:
            meta.pop("namespace", None)

    def _require_namespace(self, rt: ResourceType, namespace: str, name: str) -> None:
        ns = self.store.get(("", "namespaces"), ("", namespace))
        if ns is None:
            raise errors.not_found("namespaces", "", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(
                rt.plural,
                rt.group,
                name,
                f"unable to create new content in namespace {namespace} because it is being terminated",
                NAMESPACE_TERMINATING_CAUSE,
            )

    def _decode_effects(self, rt: ResourceType, obj: dict[str, Any], opts: WriteOptions) -> list[str]:
        """What decoding a body into the server's types does: unknown fields (400 when Strict,
        warnings when Warn), type errors (400), quantities canonicalized."""
        node = rt.type_node()
        warnings: list[str] = []
        type_problems = validation.type_errors(obj, node)
        if type_problems:
            raise errors.bad_request(type_problems[0])
        unknown = validation.unknown_fields(obj, node)
        if unknown:
            if opts.field_validation == "Strict":
                if len(unknown) == 1:
                    raise errors.bad_request(f'strict decoding error: unknown field "{unknown[0]}"')
                listed = ", ".join(f'unknown field "{u}"' for u in unknown)
                raise errors.bad_request(f"strict decoding error: {listed}")
            if opts.field_validation == "Warn":
                warnings.extend(f'unknown field "{u}"' for u in unknown)
            validation.prune_unknown(obj, node)
        try:
            quantity.canonicalize_object(obj, node)
        except ValueError as exc:
            raise errors.bad_request(str(exc)) from exc
        return warnings

    def _validate(self, rt: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        if rt.custom:
            # Custom resources: metadata rules plus their CRD's openAPIV3Schema.
            causes = validation.validate(rt.group, rt.version, rt.kind, obj, old)
            causes += validation.validate_custom(obj, rt.type_node())
        else:
            causes = validation.validate(rt.group, rt.version, rt.kind, obj, old)
        if causes:
            name = str(obj.get("metadata", {}).get("name", ""))
            raise errors.invalid(
                rt.kind,
                rt.group,
                name,
                [{"reason": c.reason, "message": c.message, "field": c.field} for c in causes],
                validation.invalid_message(rt.qualified_kind, name, causes),
            )

    def _commit_update(
        self,
        rt: ResourceType,
        old: dict[str, Any],
        new: dict[str, Any],
        opts: WriteOptions,
        subresource: str,
        *,
        applied: bool,
    ) -> WriteResult:
        """Steps 2-6 of the pipeline for an existing object; the caller holds the store lock."""
        old_meta = old["metadata"]
        meta = new["metadata"]
        # The server owns these; clients cannot change them (rest.BeforeUpdate).
        for kept in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ):
            if kept in old_meta:
                meta[kept] = old_meta[kept]
            else:
                meta.pop(kept, None)
        meta["resourceVersion"] = old_meta.get("resourceVersion")
        if subresource == "status":
            kept_status = new.get("status")
            if rt.custom:
                # Custom resources: a /status write changes status only.
                # (old's status is replaced, so it is not copied; the key keeps its place.)
                new = {k: kept_status if k == "status" else copy.deepcopy(v) for k, v in old.items()}
                if kept_status is None:
                    new.pop("status", None)
                else:
                    new["status"] = kept_status
                if "managedFields" in meta:
                    new["metadata"]["managedFields"] = meta["managedFields"]
            else:
                # Built-in status strategies reset the spec (and, for apps kinds, the labels) and
                # keep the rest of the metadata: the Deployment controller writes its revision
                # annotation with its status (pkg/registry/apps/deployment/strategy.go
                # deploymentStatusStrategy.PrepareForUpdate).
                rebuilt = {k: copy.deepcopy(v) for k, v in old.items() if k not in ("metadata", "status")}
                rebuilt["metadata"] = meta
                if kept_status is not None:
                    rebuilt["status"] = kept_status
                if rt.group == "apps":
                    if "labels" in old_meta:
                        meta["labels"] = copy.deepcopy(old_meta["labels"])
                    else:
                        meta.pop("labels", None)
                new = rebuilt
            meta = new["metadata"]
        elif rt.status_subresource:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        if old_meta.get("deletionTimestamp"):
            added = set(meta.get("finalizers") or []) - set(old_meta.get("finalizers") or [])
            if added:
                raise errors.invalid(
                    rt.kind,
                    rt.group,
                    meta["name"],
                    [
                        {
                            "reason": "FieldValueForbidden",
                            "message": "Forbidden: no new finalizers can be added if the object is being deleted",
                            "field": "metadata.finalizers",
                        }
                    ],
                    f'{rt.qualified_kind} "{meta["name"]}" is invalid: metadata.finalizers: Forbidden: '
                    "no new finalizers can be added if the object is being deleted",
                )
        if not rt.custom:
            defaults.apply_defaults(rt.group, rt.version, rt.kind, new)
            self._allocate(rt, new, old)
        else:
            defaults.apply_crd_defaults(new, rt.crd_schema)
        _server_owned_metadata(rt, new, old)
        if subresource != "status":  # status strategies never move generation
            self._bump_generation(rt, old, new)
        self._validate(rt, new, old)
        if not applied:
            mf = managedfields.update(
                old,
                new,
                manager=opts.manager,
                api_version=rt.api_version,
                node=rt.type_node(),
                now=self.now(),
                subresource=subresource,
                reset_paths=_reset_paths(rt, subresource),
            )
            if mf:
                meta["managedFields"] = mf
            else:
                meta.pop("managedFields", None)
        if not meta.get("managedFields"):
            meta.pop("managedFields", None)
        stored_view = self._as_version(rt, old)
        # A write that defaulting made identical differs only in managedFields times: keep the
        # stored ones so that it is not persisted (IgnoreManagedFieldsTimestampsTransformer).
        new = managedfields.ignore_managed_fields_timestamps(new, stored_view)
        meta = new["metadata"]
        if new == stored_view:
            return WriteResult(200, stored_view)
        if (
            old_meta.get("deletionTimestamp")
            and not meta.get("finalizers")
            and not old_meta.get("deletionGracePeriodSeconds")
        ):
            # Removing the last finalizer of an object being deleted deletes it, unless a
            # graceful deletion is pending (a pod's kubelet deletes it when its containers
            # stopped): registry Store.shouldDeleteDuringUpdate.
            if not opts.dry_run:
                self._remove(rt, new)
            return WriteResult(200, new)
        if opts.dry_run:
            return WriteResult(200, new)
        rv = self.store.next_rv()
        meta["resourceVersion"] = str(rv)
        self.store.put(_tk(rt), _ns_key(rt, meta.get("namespace", ""), meta["name"]), new, rv)
        self._after_write(rt, old, new)
        return WriteResult(200, self._as_version(rt, new))

    def _bump_generation(self, rt: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> None:
        policy = rt.generation
        if policy is Generation.NONE:
            new["metadata"].pop("generation", None)
            return
        gen = int(old["metadata"].get("generation") or 1)
        changed = old.get("spec") != new.get("spec")
        if policy is Generation.SPEC_OR_ANNOTATIONS:
            changed = changed or old["metadata"].get("annotations") != new["metadata"].get("annotations")
        elif policy is Generation.NON_METADATA:
            skip = {"metadata", "status"} if rt.status_subresource else {"metadata"}
            changed = any(old.get(k) != new.get(k) for k in set(old) | set(new) if k not in skip)
        new["metadata"]["generation"] = gen + 1 if changed else gen

    # ------------------------------------------------------------------ kind-specific state

    def _allocate(self, rt: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        """Stateful defaults: Service cluster IPs and node ports, Job selectors from the uid."""
        if rt.group == "" and rt.plural == "services":
            self._allocate_service(obj, old)
        elif rt.group == "batch" and rt.plural == "jobs" and old is None:
            defaults.job_defaults(obj, obj["metadata"]["uid"])

    def _allocate_service(self, svc: dict[str, Any], old: dict[str, Any] | None) -> None:
        spec = svc.setdefault("spec", {})
        stype = spec.get("type", "ClusterIP")
        old_spec = (old or {}).get("spec", {})
        if stype == "ExternalName":
            return
        if not spec.get("clusterIP"):
            spec["clusterIP"] = old_spec.get("clusterIP") or self._free_cluster_ip()
        for kept in ("clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            # Allocated and defaulted once at create; a PUT leaving them out keeps them.
            if kept not in spec and kept in old_spec:
                spec[kept] = copy.deepcopy(old_spec[kept])
        if spec["clusterIP"] != "None":
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
        else:
            spec.setdefault("clusterIPs", ["None"])
        if stype in ("NodePort", "LoadBalancer"):
            used = self._used_node_ports()
            old_ports = {
                (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                for p in old_spec.get("ports", [])
            }
            for p in spec.get("ports", []):
                if not p.get("nodePort"):
                    p["nodePort"] = old_ports.get(
                        (p.get("port"), p.get("protocol", "TCP"))
                    ) or self._free_node_port(used)
                    used.add(p["nodePort"])

    def _free_cluster_ip(self) -> str:
        used = {s.get("spec", {}).get("clusterIP") for s in self.store.items(("", "services"))}
        net = _SERVICE_CIDR
        with self._alloc_lock:
            for _ in range(1000):
                candidate = str(net.network_address + self._rand.randrange(2, net.num_addresses - 1))
                if candidate not in used:
                    return candidate
        raise errors.internal("failed to allocate a serviceIP: range is full")

    def _used_node_ports(self) -> set[int]:
        return {
            int(p["nodePort"])
            for s in self.store.items(("", "services"))
            for p in s.get("spec", {}).get("ports", [])
            if p.get("nodePort")
        }

    def _free_node_port(self, used: set[int]) -> int:
        for _ in range(5000):
            port = self._rand.randrange(30000, 32768)
            if port not in used:
                return port
        raise errors.internal("failed to allocate a nodePort: range is full")

    def _after_write(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
        if rt.group == "apiextensions.k8s.io" and rt.plural == "customresourcedefinitions":
            self._crd_written(new)

    # ------------------------------------------------------------------------------- CRDs

    def _crd_written(self, crd: dict[str, Any]) -> None:
        """Serve the CRD's versions and mark it NamesAccepted and Established at once, as a
        1.32 server does when the names are free (apiextensions-apiserver's establishing
        controller)."""
        types = Registry.from_crd(crd)
        name = crd["metadata"]["name"]
        if crd["metadata"].get("deletionTimestamp"):
            return
        self.registry.set_crd(name, types)
        status = crd.get("status") or {}
        conds = {c.get("type"): c for c in status.get("conditions", [])}
        if conds.get("Established", {}).get("status") == "True" and status.get("acceptedNames"):
            return
        now = self.now()
        new = copy.deepcopy(crd)
        new["status"] = {
            "acceptedNames": copy.deepcopy(crd["spec"]["names"]),
            "conditions": [
                {
                    "type": "NamesAccepted",
                    "status": "True",
                    "lastTransitionTime": now,
                    "reason": "NoConflicts",
                    "message": "no conflicts found",
                },
                {
                    "type": "Established",
                    "status": "True",
                    "lastTransitionTime": now,
                    "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted",
                },
            ],
            "storedVersions": [v["name"] for v in crd["spec"].get("versions", []) if v.get("storage")],
        }
        new["status"]["acceptedNames"].setdefault("singular", crd["spec"]["names"].get("kind", "").lower())
        new["status"]["acceptedNames"].setdefault("listKind", crd["spec"]["names"].get("kind", "") + "List")
        rv = self.store.next_rv()
        new["metadata"]["resourceVersion"] = str(rv)
        self.store.put(("apiextensions.k8s.io", "customresourcedefinitions"), ("", name), new, rv)

    def _crd_removed(self, crd: dict[str, Any]) -> None:
        spec = crd.get("spec", {})
        self.registry.set_crd(crd["metadata"]["name"], [])
        self.store.drop_type((spec.get("group", ""), spec.get("names", {}).get("plural", "")))

    def restore_crds(self) -> None:
        """Serve the CRDs found in a loaded state file."""
        for crd in self.store.items(("apiextensions.k8s.io", "customresourcedefinitions")):
            if not crd["metadata"].get("deletionTimestamp"):
                self.registry.set_crd(crd["metadata"]["name"], Registry.from_crd(crd))

    # --------------------------------------------------------------------------- scale

    def get_scale(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        return self._scale_of(rt, self.get(rt, namespace, name))

    def _scale_of(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        spec_replicas, status_replicas, selector = _scale_values(rt, obj)
        status: dict[str, Any] = {"replicas": status_replicas}
        if selector:
            status["selector"] = selector
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                k: meta[k]
                for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                if k in meta
            },
            "spec": {"replicas": spec_replicas},
            "status": status,
        }

    def write_scale(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        mutate: Callable[[dict[str, Any]], dict[str, Any]],
        opts: WriteOptions,
    ) -> WriteResult:
        """PUT or PATCH of ``/scale``: ``mutate`` turns the current Scale into the new one."""
        with self.store.lock:
            current = self.get(rt, namespace, name)
            scale = mutate(self._scale_of(rt, current))
            _check_resource_version(rt, name, scale.get("metadata") or {}, current)
            replicas = (scale.get("spec") or {}).get("replicas", 0)
            if not isinstance(replicas, int) or replicas < 0:
                raise errors.invalid(
                    "Scale",
                    "autoscaling",
                    name,
                    [
                        {
                            "reason": "FieldValueInvalid",
                            "message": "Invalid value: must be greater than or equal to 0",
                            "field": "spec.replicas",
                        }
                    ],
                    f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: {replicas}: '
                    "must be greater than or equal to 0",
                )
            new = copy.deepcopy(current)
            path = _spec_replicas_path(rt)
            target = new
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = replicas
            result = self._commit_update(
                rt,
                self.store.get(_tk(rt), _ns_key(rt, namespace, name)) or current,
                new,
                opts,
                "scale",
                applied=False,
            )
            return WriteResult(result.code, self._scale_of(rt, result.obj))


_TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"


def _server_owned_metadata(rt: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    """Metadata as the Go round trip and the kinds' strategies leave it.

    ObjectMeta's lists and maps are ``omitempty``: an emptied ``finalizers`` or ``labels`` is not
    stored. DaemonSets carry ``deprecated.daemonset.template.generation`` (Spec.TemplateGeneration:
    1 on create, +1 when the template changes; ``pkg/registry/apps/daemonset/strategy.go`` and the
    apps/v1 conversion that writes it as this annotation).
    """
    meta = obj["metadata"]
    for key in ("finalizers", "ownerReferences", "labels", "annotations"):
        if key in meta and not meta[key]:
            del meta[key]
    if rt.group == "apps" and rt.kind == "DaemonSet":
        generation = 1
        if old is not None:
            previous = (old["metadata"].get("annotations") or {}).get(_TEMPLATE_GENERATION, "1")
            generation = int(previous) if str(previous).isdigit() else 1
            if (old.get("spec") or {}).get("template") != (obj.get("spec") or {}).get("template"):
                generation += 1
        meta.setdefault("annotations", {})[_TEMPLATE_GENERATION] = str(generation)


def _reset_paths(rt: ResourceType, subresource: str) -> tuple[str, ...] | None:
    """Fields a write may not change, so no manager gains them: None lets managedfields use the
    built-in kinds' strategies; custom resources with a status subresource reset ``status`` on
    main writes and everything else on ``/status`` writes."""
    if not rt.custom or not rt.status_subresource:
        return None
    return ("spec", "metadata.labels", "metadata.annotations") if subresource == "status" else ("status",)


def _spec_replicas_path(rt: ResourceType) -> list[str]:
    if rt.custom and rt.crd_scale:
        return str(rt.crd_scale.get("specReplicasPath", ".spec.replicas")).lstrip(".").split(".")
    return ["spec", "replicas"]


def _scale_values(rt: ResourceType, obj: dict[str, Any]) -> tuple[int, int, str]:
    def dig(path: str) -> Any:
        cur: Any = obj
        for part in path.lstrip(".").split("."):
            if not isinstance(cur, dict):
                return None
            cur = cur.get(part)
        return cur

    if rt.custom and rt.crd_scale:
        spec_r = dig(rt.crd_scale.get("specReplicasPath", ".spec.replicas")) or 0
        status_r = dig(rt.crd_scale.get("statusReplicasPath", ".status.replicas")) or 0
        sel_path = rt.crd_scale.get("labelSelectorPath")
        selector = str(dig(sel_path) or "") if sel_path else ""
        return int(spec_r), int(status_r), selector
    spec = obj.get("spec", {})
    status = obj.get("status", {}) or {}
    sel = spec.get("selector") or {}
    return int(spec.get("replicas", 1)), int(status.get("replicas", 0)), _selector_string(sel)


def _selector_string(sel: dict[str, Any]) -> str:
    """metav1.FormatLabelSelector of a LabelSelector, as the Scale status carries it."""
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for expr in sel.get("matchExpressions") or []:
        op = expr.get("operator")
        key = expr.get("key")
        values = ",".join(sorted(expr.get("values") or []))
        if op == "In":
            parts.append(f"{key} in ({values})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({values})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)
