"""Deletion that outlives the DELETE request: garbage collection and namespace termination.

A background thread plays kube-controller-manager's garbage collector and namespace controller
(``pkg/controller/garbagecollector``, ``pkg/controller/namespace/deletion``), woken whenever the
API deletes something or marks it with ``deletionTimestamp``:

- **Background** propagation: an object whose every owner (by ``ownerReferences[].uid``) is gone
  is deleted; one with some owners left loses the dangling references.
- **Foreground** (``foregroundDeletion`` finalizer): dependents are deleted first (foreground
  too); the owner goes once none remains.
- **Orphan** (``orphan`` finalizer): dependents lose their owner reference, then the owner goes.
- **Namespaces** in ``Terminating``: every object in them is deleted; when none remains the
  ``kubernetes`` finalizer is dropped and the namespace is removed.

Each pass rescans the store; passes repeat until nothing changes, so chains (Deployment ->
ReplicaSet -> Pod) finish within one wake-up.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from typing import Any

from gitops.localcluster import errors
from gitops.localcluster.api import Api, WriteOptions
from gitops.localcluster.resources import ResourceType

_GC = WriteOptions(manager="kube-controller-manager")


class LifecycleWorker:
    def __init__(self, api: Api) -> None:
        self.api = api
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gc-and-namespaces", daemon=True)
        api.on_delete = self.wake

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            if self._stop.is_set():
                return
            self._wake.clear()
            for _ in range(50):
                try:
                    changed = self.pass_once()
                except Exception:  # a bug here must not kill deletion for the server's lifetime
                    changed = False
                if not changed:
                    break

    def _types(self) -> dict[tuple[str, str], ResourceType]:
        out: dict[tuple[str, str], ResourceType] = {}
        for rt in self.api.registry.all():
            out.setdefault((rt.group, rt.plural), rt)
        return out

    def pass_once(self) -> bool:
        """One scan; True when it changed something (another pass may find more)."""
        store = self.api.store
        types = self._types()
        changed = False
        with store.lock:
            everything = [
                (types[tk], obj) for tk in store.type_keys() if tk in types for obj in store.items(tk)
            ]
        uids = {obj["metadata"].get("uid") for _, obj in everything}
        by_owner: dict[str, list[tuple[ResourceType, dict[str, Any]]]] = {}
        for rt, obj in everything:
            for ref in obj["metadata"].get("ownerReferences") or []:
                by_owner.setdefault(ref.get("uid", ""), []).append((rt, obj))
        for rt, obj in everything:
            meta = obj["metadata"]
            finalizers = meta.get("finalizers") or []
            if meta.get("deletionTimestamp"):
                if rt.group == "" and rt.plural == "namespaces":
                    changed |= self._terminate_namespace(rt, obj, everything)
                    continue
                dependents = by_owner.get(meta.get("uid", ""), [])
                if "orphan" in finalizers:
                    for drt, dep in dependents:
                        changed |= self._drop_owner(drt, dep, meta["uid"])
                    changed |= self._drop_finalizer(rt, obj, "orphan")
                elif "foregroundDeletion" in finalizers:
                    if dependents:
                        for drt, dep in dependents:
                            changed |= self._delete(drt, dep, "Foreground")
                    else:
                        changed |= self._drop_finalizer(rt, obj, "foregroundDeletion")
                continue
            refs = meta.get("ownerReferences") or []
            if refs:
                alive = [r for r in refs if r.get("uid") in uids]
                if not alive:
                    changed |= self._delete(rt, obj, "Background")
                elif len(alive) < len(refs):
                    changed |= self._set_owners(rt, obj, alive)
        return changed

    def _delete(self, rt: ResourceType, obj: dict[str, Any], policy: str) -> bool:
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            return False
        with contextlib.suppress(errors.StatusError):
            self.api.delete(rt, meta.get("namespace", ""), meta["name"], {"propagationPolicy": policy})
            return True
        return False

    def _drop_owner(self, rt: ResourceType, obj: dict[str, Any], uid: str) -> bool:
        refs = obj["metadata"].get("ownerReferences") or []
        return self._set_owners(rt, obj, [r for r in refs if r.get("uid") != uid])

    def _set_owners(self, rt: ResourceType, obj: dict[str, Any], refs: list[dict[str, Any]]) -> bool:
        new = copy.deepcopy(obj)
        if refs:
            new["metadata"]["ownerReferences"] = refs
        else:
            new["metadata"].pop("ownerReferences", None)
        return self._update(rt, new)

    def _drop_finalizer(self, rt: ResourceType, obj: dict[str, Any], finalizer: str) -> bool:
        new = copy.deepcopy(obj)
        rest = [f for f in new["metadata"].get("finalizers") or [] if f != finalizer]
        if rest:
            new["metadata"]["finalizers"] = rest
        else:
            new["metadata"].pop("finalizers", None)
        return self._update(rt, new)

    def _update(self, rt: ResourceType, new: dict[str, Any]) -> bool:
        meta = new["metadata"]
        with contextlib.suppress(errors.StatusError):
            self.api.update(rt, meta.get("namespace", ""), meta["name"], new, _GC)
            return True
        return False

    def _terminate_namespace(
        self, rt: ResourceType, ns: dict[str, Any], everything: list[tuple[ResourceType, dict[str, Any]]]
    ) -> bool:
        name = ns["metadata"]["name"]
        contents = [
            (crt, o) for crt, o in everything if crt.namespaced and o["metadata"].get("namespace") == name
        ]
        changed = False
        for crt, obj in contents:
            changed |= self._delete(crt, obj, "Background")
        if contents:
            return changed
        with self.api.store.lock:
            current = self.api.store.get(("", "namespaces"), ("", name))
            if current is None:
                return changed
            if (current.get("spec") or {}).get("finalizers"):
                new = copy.deepcopy(current)
                new["spec"]["finalizers"] = []
                rv = self.api.store.next_rv()
                new["metadata"]["resourceVersion"] = str(rv)
                self.api.store.put(("", "namespaces"), ("", name), new, rv)
                current = new
            if not current["metadata"].get("finalizers"):
                self.api._remove(rt, current)
        return True
