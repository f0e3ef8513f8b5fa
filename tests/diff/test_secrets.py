"""Secret values never leave as text: not in summaries, unified diffs, ObjectDiffs or
fingerprints, in plain text or base64. Every output is grepped for seeded values."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

from gitops import diff
from gitops.diff import mask
from gitops.model import Action, Resource

SEEDS = ("Zq9-seeded-password", "Zq9-seeded-token", "Zq9-rotated-password")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(**data: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"}, **data}


def assert_no_secret_in(*outputs: Any) -> None:
    text = "\n".join(o if isinstance(o, str) else repr(o) for o in outputs)
    for seed in SEEDS:
        for form in (seed, b64(seed), b64(seed).rstrip("="), hashlib.sha256(seed.encode()).hexdigest()[:12]):
            assert form not in text, f"{form!r} leaked"


def live_copy(obj: dict[str, Any]) -> dict[str, Any]:
    live = copy.deepcopy(obj)
    for k, v in live.pop("stringData", {}).items():
        live.setdefault("data", {})[k] = b64(v)
    live["metadata"]["annotations"] = {diff.LAST_APPLIED: json.dumps(obj) + "\n"}  # kubectl's copy
    return live


def test_secret_values_never_appear_in_explain_or_unified() -> None:
    live = live_copy(secret(stringData={"password": SEEDS[0]}, data={"token": b64(SEEDS[1])}))
    want = secret(stringData={"password": SEEDS[2]}, data={"token": b64(SEEDS[1]), "new": b64(SEEDS[0])})
    result = diff.diff(Resource.of(want), live)
    assert result.action is Action.UPDATE
    assert result.summary == ("data.new: added", "data.password: changed")
    w, h = diff.normalize(want, live)
    assert_no_secret_in(
        result,
        result.summary,
        result.unified(),
        result.desired_view,
        result.live_view,
        diff.explain(w, h),
        diff.unified(Resource.of(want).key, w, h),
        diff.fingerprint(w),
        [c for c in result.summary],
    )


def test_removed_and_created_secrets_show_no_values() -> None:
    want = secret(stringData={"password": SEEDS[0]})
    created = diff.diff(Resource.of(want), None)
    assert_no_secret_in(created, created.unified(), created.desired_view)
    _, h = diff.normalize(want, live_copy(want))
    assert_no_secret_in(diff.unified(Resource.of(want).key, None, h))
    assert_no_secret_in(diff.explain(secret(), h))


def test_mask_shows_that_a_key_changed_and_nothing_else() -> None:
    a = mask.mask_secret(secret(data={"k": b64(SEEDS[0]), "same": "c2FtZQ=="}))
    b = mask.mask_secret(secret(data={"k": b64(SEEDS[2]), "same": "c2FtZQ=="}))
    assert a["data"]["same"] == b["data"]["same"]
    assert a["data"]["k"] != b["data"]["k"]
    assert mask.MARKER.fullmatch(a["data"]["k"])
    assert_no_secret_in(a, b)


def test_markers_are_bound_to_the_key_so_equal_values_under_two_keys_are_not_revealed() -> None:
    m = mask.mask_secret(secret(data={"a": b64(SEEDS[0]), "b": b64(SEEDS[0])}))
    assert m["data"]["a"] != m["data"]["b"]


def test_string_data_masks_like_the_data_it_becomes() -> None:
    a = mask.mask_secret(secret(stringData={"k": SEEDS[0]}))
    b = mask.mask_secret(secret(data={"k": b64(SEEDS[0])}))
    assert a["stringData"]["k"] == b["data"]["k"]


def test_masking_is_idempotent_and_drops_last_applied() -> None:
    once = mask.mask_secret(live_copy(secret(stringData={"k": SEEDS[0]})))
    assert mask.mask_secret(once) == once
    assert "annotations" not in once["metadata"] or diff.LAST_APPLIED not in once["metadata"]["annotations"]


def test_markers_are_not_a_plain_hash_of_the_value() -> None:
    """Without the process key a marker cannot be checked against guesses."""
    marker = mask.mask_secret(secret(data={"k": b64("hunter2")}))["data"]["k"]
    digest = marker.removeprefix(mask.MARKER_PREFIX).removesuffix(">")
    for guess in ("hunter2", b64("hunter2"), "k\0" + b64("hunter2")):
        assert hashlib.sha256(guess.encode()).hexdigest()[:12] != digest


def test_fingerprints_of_secrets_are_keyed() -> None:
    view = secret(data={"k": b64("hunter2")})
    assert diff.fingerprint(view) != hashlib.sha256(diff.canonical_json(view)).hexdigest()
    assert diff.fingerprint(view) == diff.fingerprint(copy.deepcopy(view))


def test_other_kinds_are_not_masked() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}
    assert mask.mask_secret(cm) == cm
    crd_secret = {
        "apiVersion": "example.com/v1",
        "kind": "Secret",
        "metadata": {"name": "c"},
        "data": {"k": "v"},
    }
    assert mask.mask_secret(crd_secret) == crd_secret
