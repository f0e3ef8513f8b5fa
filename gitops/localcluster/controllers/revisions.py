"""ControllerRevision history for StatefulSets and DaemonSets (pure: builds dicts, no I/O).

Mirrors ``pkg/controller/history/controller_history.go`` and the controllers' ``getPatch``:

- A revision's ``data`` is a strategic merge patch that restores the pod template:
  ``{"spec": {"template": {..., "$patch": "replace"}}}`` (``statefulset.getPatch``,
  ``daemon.getPatch``). Go marshals it from a ``map[string]interface{}``, so the bytes are compact
  JSON with sorted keys; :func:`go_json` reproduces that encoding because the hash is over bytes.
- ``HashControllerRevision`` is FNV-1 (32 bit) over those bytes, then the collision count in
  decimal when given, printed in decimal and mapped through ``rand.SafeEncodeString``.
- ``controller.ComputeHash`` (the DaemonSet's ``controller-revision-hash``) is FNV-1a over Go's
  ``DeepHashObject`` dump of the template, which has no JSON equivalent; here it hashes
  :func:`go_json` of the template instead: stable and collision-aware, though not byte-identical
  to a real cluster's value (nothing may depend on the exact string).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from gitops.localcluster.controllers import podstate

Obj = dict[str, Any]

HASH_LABEL = "controller.kubernetes.io/hash"  # history.ControllerRevisionHashLabel
REVISION_LABEL = "controller-revision-hash"  # apps.ControllerRevisionHashLabelKey
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # rand.SafeEncodeString
_FNV32_OFFSET = 0x811C9DC5
_FNV32_PRIME = 0x01000193


def go_json(value: Any) -> str:
    """``json.Marshal`` of decoded JSON: compact, keys sorted, ``<``, ``>``, ``&``, U+2028 and
    U+2029 escaped as Go does (they only ever occur inside strings)."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def fnv32(data: bytes) -> int:
    """FNV-1, 32 bit (Go's ``fnv.New32``)."""
    h = _FNV32_OFFSET
    for b in data:
        h = (h * _FNV32_PRIME) & 0xFFFFFFFF
        h ^= b
    return h


def fnv32a(data: bytes) -> int:
    """FNV-1a, 32 bit (Go's ``fnv.New32a``)."""
    h = _FNV32_OFFSET
    for b in data:
        h ^= b
        h = (h * _FNV32_PRIME) & 0xFFFFFFFF
    return h


def safe_encode(text: str) -> str:
    """``rand.SafeEncodeString``: each character mapped into an alphabet without vowels."""
    return "".join(_SAFE_ALPHABET[ord(c) % len(_SAFE_ALPHABET)] for c in text)


def template_patch(owner: Obj) -> Obj:
    """``getPatch``: the revision data that replaces the owner's pod template."""
    template = copy.deepcopy((owner.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def template_of(revision: Obj) -> Obj:
    """The pod template a revision restores (``ApplyRevision`` of a ``$patch: replace``)."""
    template = copy.deepcopy(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template


def hash_revision(data: Obj, probe: int | None) -> str:
    """``HashControllerRevision``."""
    raw = go_json(data).encode()
    if probe is not None:
        raw += str(probe).encode()
    return safe_encode(str(fnv32(raw)))


def compute_hash(template: Obj, collision_count: int | None) -> str:
    """``controller.ComputeHash`` (see the module notes on its input)."""
    raw = go_json(template).encode()
    if collision_count is not None:
        raw += str(collision_count).encode()
    return safe_encode(str(fnv32a(raw)))


def revision_name(prefix: str, hash_: str) -> str:
    """``ControllerRevisionName``: ``<prefix>-<hash>``, the prefix cut to 223 characters."""
    return f"{prefix[:223]}-{hash_}"


def new_revision(
    owner: Obj,
    api_version: str,
    kind: str,
    data: Obj,
    revision: int,
    collision_count: int,
) -> Obj:
    """``history.NewControllerRevision`` plus the owner's annotations (``statefulset.newRevision``):
    template labels with the hash label, a controller reference, the data and the revision.
    The caller names it (:func:`revision_name`) when creating it."""
    template_labels = dict(
        ((owner.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
    )
    template_labels[HASH_LABEL] = hash_revision(data, collision_count)
    meta: Obj = {
        "namespace": podstate.meta(owner).get("namespace", ""),
        "labels": template_labels,
        "ownerReferences": [podstate.new_controller_ref(owner, api_version, kind)],
    }
    if podstate.annotations_of(owner):
        meta["annotations"] = dict(podstate.annotations_of(owner))
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": meta,
        "data": data,
        "revision": revision,
    }


def sort_key(revision: Obj) -> tuple[int, str, str]:
    """``history.SortControllerRevisions``: by revision, then creation time, then name."""
    m = podstate.meta(revision)
    return (int(revision.get("revision") or 0), str(m.get("creationTimestamp", "")), str(m.get("name", "")))


def equal_revision(a: Obj, b: Obj) -> bool:
    """``history.EqualRevision``: the same data (the hash labels only rule out quickly)."""
    ha, hb = podstate.labels(a).get(HASH_LABEL), podstate.labels(b).get(HASH_LABEL)
    if ha and hb and ha.isdigit() and hb.isdigit() and ha != hb:
        return False
    return go_json(a.get("data")) == go_json(b.get("data"))


def next_revision(revisions: list[Obj]) -> int:
    """``nextRevision``: one more than the highest (the list is sorted), or 1."""
    return int(revisions[-1].get("revision") or 0) + 1 if revisions else 1
