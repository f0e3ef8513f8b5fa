"""What history keeps of a sync's desired state, and how a rollback gets it back (issue 5).

History stores the manifests of every successful sync so that a rollback re-applies them
exactly, without re-rendering or reaching Git. Secret values are the exception: history never
holds one (DESIGN.md, "Secret leakage"). In their place each stored Secret keeps:

- its keys, every value replaced by ``<redacted>`` (so a reader sees which keys it had);
- under :data:`FINGERPRINT_FIELD`, a fingerprint of its data: HMAC-SHA256, keyed with the
  history's own key (``History.fingerprint_key``, a file beside the database), over the
  canonical JSON of the ``data`` map the server stores (``stringData`` folded in, base64
  values normalized). Keyed, so that a copy of the database cannot be brute-forced back to a
  weak password.

A rollback restores a Secret thus (:func:`resolve_secrets`), before anything is written:

1. the live Secret's data matches the fingerprint: its live values are the desired ones (the
   Secret is left as it is, unless its labels or annotations differ);
2. otherwise its values are read from Git at the entry's recorded revision (the entry's
   repository and path; the one render of the rollback), checked against the fingerprint and
   applied;
3. if neither gives data matching the fingerprint (the revision is gone from the repository,
   the Secret is no longer there, its values were rewritten in place, the key file was lost),
   the rollback fails with an error naming the Secret, and nothing is written.

A Secret stored before fingerprints were kept (values ``<redacted>``, no fingerprint) has
nothing to check against: the live Secret is kept as it is, a missing one is taken from Git at
the entry's revision, and the rollback fails naming it when Git cannot supply it.

An auto-rollback restores workloads only, so it never needs a Secret.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from gitops import errors
from gitops.diff import views as diff_views
from gitops.model import Resource, ResourceKey

REDACTED: Final = "<redacted>"
# A top-level field of a stored Secret manifest, never applied (removed when read back).
FINGERPRINT_FIELD: Final = "gitops.dev/dataFingerprint"


class RestoreError(errors.ConfigError):
    """A history entry cannot be restored (no such entry, no manifests, a Secret whose values
    cannot be recovered). Bad input: exit code 2; nothing was written."""


def is_secret(key: ResourceKey) -> bool:
    return key.group == "" and key.kind == "Secret"


def _data_of(body: Mapping[str, Any]) -> dict[str, str]:
    """The ``data`` map the server stores for a Secret body, as the diff normalizes it
    (:func:`gitops.diff.views.prepare`): ``stringData`` folded in (it wins, as on the server),
    base64 re-encoded the way the server prints it (line breaks of wrapped values dropped)."""
    data = diff_views.prepare(body, "", "Secret").get("data")
    if not isinstance(data, Mapping):
        return {}
    return {str(k): v if isinstance(v, str) else repr(v) for k, v in data.items()}


def fingerprint(body: Mapping[str, Any], key: bytes) -> str:
    """The keyed fingerprint of a Secret body's data (see the module docstring)."""
    canonical = json.dumps(_data_of(body), sort_keys=True, separators=(",", ":")).encode()
    return "hmac-sha256:" + hmac.new(key, canonical, hashlib.sha256).hexdigest()


def for_history(resource: Resource, key: bytes | None) -> dict[str, Any]:
    """The body kept in history for rollback: a Secret's values replaced by ``<redacted>`` and
    its fingerprint added (none without a key); every other body as applied."""
    body = dict(resource.body)
    if is_secret(resource.key):
        if key is not None:
            body[FINGERPRINT_FIELD] = fingerprint(body, key)
        for field in ("data", "stringData"):
            values = body.get(field)
            if isinstance(values, Mapping):
                body[field] = {k: REDACTED for k in values}
            elif values is not None:  # malformed, but it may still hold the values
                body[field] = REDACTED
        # kubectl's last-applied annotation (in YAML exported from a cluster) holds the values
        # in plain text.
        meta = body.get("metadata")
        annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
        if isinstance(annotations, Mapping) and diff_views.LAST_APPLIED in annotations:
            assert isinstance(meta, Mapping)
            body["metadata"] = {
                **meta,
                "annotations": {k: v for k, v in annotations.items() if k != diff_views.LAST_APPLIED},
            }
    return body


def stored_resources(manifests: Sequence[Mapping[str, Any]]) -> list[Resource]:
    """The stored manifests as desired resources (origin unknown: they are history's)."""
    return [Resource(ResourceKey.of(m), copy.deepcopy(dict(m)), None) for m in manifests]


def needs_values(resource: Resource) -> bool:
    """A stored Secret whose values history does not hold: with a fingerprint, or redacted
    without one (stored before fingerprints were kept)."""
    if not is_secret(resource.key):
        return False
    if FINGERPRINT_FIELD in resource.body:
        return True
    return any(
        v == REDACTED
        for field in ("data", "stringData")
        if isinstance(resource.body.get(field), Mapping)
        for v in resource.body[field].values()
    )


def resolve_secrets(
    resources: Sequence[Resource],
    key: bytes,
    live: Callable[[ResourceKey], Mapping[str, Any] | None],
    from_git: Callable[[], Mapping[ResourceKey, Resource]],
    where: str,
) -> list[Resource]:
    """``resources`` with every stored Secret's values restored (see the module docstring):
    live values that match its fingerprint, else Git's at the entry's revision (``from_git``,
    called at most once, may raise GitopsError). Raises RestoreError naming every Secret that
    neither can supply; ``where`` says which revision Git was asked for."""
    out: list[Resource] = []
    git: Mapping[ResourceKey, Resource] | None = None
    git_error = ""
    problems: list[str] = []
    for r in resources:
        if not needs_values(r):
            out.append(r)
            continue
        body = dict(r.body)
        body.pop("stringData", None)
        wanted = body.pop(FINGERPRINT_FIELD, None)
        current = live(r.key)
        if wanted is None:
            # Stored before fingerprints were kept: nothing to check values against. The live
            # Secret is kept as it is; a missing one comes from Git at the entry's revision.
            if current is not None:
                out.append(Resource(r.key, {**body, "data": _data_of(current)}, r.origin))
                continue
            wanted = ""
        if current is not None and hmac.compare_digest(fingerprint(current, key), str(wanted)):
            out.append(Resource(r.key, {**body, "data": _data_of(current)}, r.origin))
            continue
        if git is None and not git_error:
            try:
                git = from_git()
            except errors.GitopsError as exc:
                git_error = str(exc)
        found = (git or {}).get(r.key)
        if found is not None and (
            not wanted or hmac.compare_digest(fingerprint(found.body, key), str(wanted))
        ):
            out.append(Resource(r.key, {**body, "data": _data_of(found.body)}, r.origin))
            continue
        if git_error:
            why = f"Git cannot supply its values at {where}: {git_error}"
        elif found is None:
            why = f"it is not in Git at {where}"
        else:
            why = f"its values in Git at {where} differ from the ones this entry applied"
        problems.append(
            f"{r.key}: its values are not kept in history and cannot be restored: the live Secret "
            f"{'is missing' if current is None else 'has other values'} and {why}"
        )
    if problems:
        raise RestoreError("\n".join(problems))
    return out
