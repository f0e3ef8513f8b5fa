"""Normalize, fingerprint and explain differences; mask Secret values (pure: no I/O).

What users look at most, so it must say nothing when nothing changed: right after a successful
server-side apply, the diff of every manifest against its live object is empty.

The two views (:func:`normalize`)
---------------------------------
Both sides drop ``status``, server-written metadata (``uid``, ``resourceVersion``,
``generation``, ``creationTimestamp``, ``deletionTimestamp``, ``managedFields``, ...) and the
``kubectl.kubernetes.io/last-applied-configuration`` annotation, then are canonicalized:

- quantities of built-in kinds (container ``resources``, ``overhead``, ``emptyDir.sizeLimit``,
  quota ``hard``, LimitRange limits, PV ``capacity``, HPA targets, ``divisor``) are parsed and
  printed one way (``"0.5"`` and ``"500m"``, ``"1Gi"`` and ``"1024Mi"`` print alike);
  ResourceList values are rounded up to milli units as the server's defaulting does;
- a Secret's ``stringData`` is folded into ``data`` (base64), as the server does on write, and
  base64 values are re-encoded canonically;
- whole floats become ints (``1.0`` and ``1`` are one JSON number to the server);
- nulls, empty maps and empty lists are dropped: the server omits or ignores them.

Int-or-string fields are *not* coerced: the API never treats ``"80"`` as ``80``. A string
``targetPort``, probe ``port`` or NetworkPolicy port is a port *name* (validation rejects a
numeric string: "must contain at least one letter"), and a percentage field (``maxSurge``)
rejects ``"1"``. So ``"80"`` against ``80`` is a real difference, and the apply will say why.

The ownership rule
------------------
The live view keeps only the fields that **the desired object sets** or that **our field
manager owns** in an ``Apply`` entry of ``metadata.managedFields`` (``fieldsV1``: ``f:`` fields,
``k:`` associative-list items, ``v:`` set items, ``i:`` positions, ``.``, see ``fields``).

- A field Git sets is always compared, whoever owns it: a ``kubectl edit`` of the image, or an
  HPA scaling ``spec.replicas`` that Git also sets, is drift.
- A field Git no longer sets but our last apply did is kept, so it shows as a removal (the next
  apply removes it, or releases it to its co-owners).
- Everything else is dropped: server defaults (owned by nobody, or by the creating manager of
  an ``Update``), fields set by other managers (HPA-driven ``replicas``, annotations and
  sidecars injected by controllers or webhooks, ``kubectl label`` on a label Git does not set).

Lists are walked as the entries address them: by key for associative lists (containers,
ports, env...), by value for sets, whole for atomic lists. A struct owned as a single leaf while
Git sets a non-empty value there (a LabelSelector) is atomic and compared whole. Without any
managedFields, built-in kinds fall back to the associative-list keys of K8S-API.md §5.4.

One more case follows from ownership: a zero value Git sets (``paused: false``,
``minReadySeconds: 0``, ``subPath: ""``) that we own but the live object lacks was dropped by
the server (Go's ``omitempty``); it is dropped from the desired view too. A zero value we do not
own yet is a real addition and shows.

``ignore`` rules (:class:`IgnoreRule`, or the config's ``IgnoreDifference``) remove their
JSON pointers from both views of matching objects.

Secrets
-------
Secret values never appear in a summary, a unified diff or an :class:`ObjectDiff`: they are
replaced by process-keyed HMAC markers (``mask``), which show *that* a key changed and nothing
about the value. Fingerprints of Secrets are process-keyed too.

Finding and explaining
----------------------
:func:`fingerprint` (canonical JSON, SHA-256) finds changes; :func:`explain` (deepdiff) and
:func:`unified` (difflib, YAML) explain the few objects whose fingerprints differ.
:func:`diff` does all of it for one object and returns an :class:`ObjectDiff`.

Modules: ``views`` (normalize, ignore rules), ``fields`` (managedFields), ``quantity``,
``mask`` (Secret values), ``canonical`` (fingerprints), ``summary`` (explain, unified),
``differ`` (diff, ObjectDiff).
"""

from gitops.diff.canonical import canonical_json, fingerprint
from gitops.diff.differ import ObjectDiff, diff
from gitops.diff.mask import is_secret, mask_secret
from gitops.diff.quantity import QuantityError
from gitops.diff.summary import explain, unified
from gitops.diff.views import (
    BUILTIN_GROUPS,
    LAST_APPLIED,
    SERVER_METADATA,
    IgnoreRule,
    IgnoreSpec,
    normalize,
    rule_matches,
)

__all__ = [
    "BUILTIN_GROUPS",
    "LAST_APPLIED",
    "SERVER_METADATA",
    "IgnoreRule",
    "IgnoreSpec",
    "ObjectDiff",
    "QuantityError",
    "canonical_json",
    "diff",
    "explain",
    "fingerprint",
    "is_secret",
    "mask_secret",
    "normalize",
    "rule_matches",
    "unified",
]
