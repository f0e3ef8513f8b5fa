"""The pure side of rollback (issue 5): what history keeps of a Secret, how a rollback gets its
values back, and which pods the health gate judges a Deployment by."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import pytest

from gitops import errors
from gitops.engine import restore, rollout
from gitops.model import Resource, ResourceKey

KEY = b"k" * 32
SECRET = ResourceKey("", "Secret", "shop", "db")


def secret(data: Mapping[str, str] | None = None, string_data: Mapping[str, str] | None = None) -> Resource:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "shop"},
    }
    if data is not None:
        body["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    if string_data is not None:
        body["stringData"] = dict(string_data)
    return Resource(SECRET, body)


def test_history_keeps_keys_and_a_keyed_fingerprint_never_a_value() -> None:
    stored = restore.for_history(secret({"password": "hunter22"}), KEY)

    assert stored["data"] == {"password": "<redacted>"}
    assert "hunter22" not in repr(stored) and base64.b64encode(b"hunter22").decode() not in repr(stored)
    assert stored[restore.FINGERPRINT_FIELD].startswith("hmac-sha256:")
    # The same data, however it is spelled (stringData, data), has one fingerprint; another
    # key or value another.
    same = restore.fingerprint(secret(string_data={"password": "hunter22"}).body, KEY)
    assert stored[restore.FINGERPRINT_FIELD] == same
    assert restore.fingerprint(secret({"password": "hunter22"}).body, b"x" * 32) != same
    assert restore.fingerprint(secret({"password": "hunter23"}).body, KEY) != same


def stored(*resources: Resource) -> list[Resource]:
    return restore.stored_resources([restore.for_history(r, KEY) for r in resources])


def test_a_matching_live_secret_is_kept_and_git_is_never_asked() -> None:
    live = secret({"password": "hunter22"}).body

    def no_git() -> dict[ResourceKey, Resource]:
        raise AssertionError("Git was asked")

    (out,) = restore.resolve_secrets(
        stored(secret({"password": "hunter22"})), KEY, lambda k: live, no_git, "rev"
    )

    assert out.body["data"] == live["data"] and restore.FINGERPRINT_FIELD not in out.body


def test_other_live_values_are_replaced_by_gits_when_they_match() -> None:
    asked: list[int] = []

    def git() -> dict[ResourceKey, Resource]:
        asked.append(1)
        return {SECRET: secret(string_data={"password": "hunter22"})}

    changed = secret({"password": "rotated"}).body
    resources = stored(secret({"password": "hunter22"}))
    (out,) = restore.resolve_secrets(resources, KEY, lambda k: changed, git, "rev")

    assert base64.b64decode(out.body["data"]["password"]) == b"hunter22" and "stringData" not in out.body
    assert asked == [1]


@pytest.mark.parametrize(
    ("git", "why"),
    [
        ({}, "it is not in Git at revision abc"),
        ({SECRET: secret({"password": "other"})}, "its values in Git at revision abc differ"),
        (
            errors.GitError("repository gone"),
            "Git cannot supply its values at revision abc: repository gone",
        ),
    ],
)
def test_a_secret_neither_live_nor_git_can_supply_is_refused_by_name(git: Any, why: str) -> None:
    def from_git() -> dict[ResourceKey, Resource]:
        if isinstance(git, Exception):
            raise git
        return dict(git)

    with pytest.raises(restore.RestoreError) as caught:
        restore.resolve_secrets(
            stored(secret({"password": "hunter22"})), KEY, lambda k: None, from_git, "revision abc"
        )

    message = str(caught.value)
    assert message.startswith("Secret/shop/db: its values are not kept in history") and why in message
    assert "the live Secret is missing" in message and "hunter22" not in message


def test_a_secret_stored_before_fingerprints_keeps_the_live_one_or_takes_gits() -> None:
    legacy = restore.stored_resources([restore.for_history(secret({"password": "hunter22"}), None)])
    assert restore.FINGERPRINT_FIELD not in legacy[0].body and restore.needs_values(legacy[0])
    live = secret({"password": "rotated"}).body
    git = {SECRET: secret({"password": "hunter22"})}

    (kept,) = restore.resolve_secrets(legacy, KEY, lambda k: live, lambda: git, "rev")
    (taken,) = restore.resolve_secrets(legacy, KEY, lambda k: None, lambda: git, "rev")

    assert kept.body["data"] == live["data"]
    assert base64.b64decode(taken.body["data"]["password"]) == b"hunter22"
    with pytest.raises(restore.RestoreError, match=r"Secret/shop/db: .* it is not in Git at rev"):
        restore.resolve_secrets(legacy, KEY, lambda k: None, dict, "rev")


def rs(name: str, revision: str, owner: str = "uid-1") -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"web-{name}",
            "labels": {"pod-template-hash": name},
            "annotations": {"deployment.kubernetes.io/revision": revision},
            "ownerReferences": [{"uid": owner}],
        }
    }


def pod(name: str, template: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"pod-template-hash": template}}}


def test_a_deployment_is_judged_by_its_current_replicaset_pods_only() -> None:
    deployment = {"metadata": {"uid": "uid-1", "annotations": {"deployment.kubernetes.io/revision": "3"}}}
    pods = [pod("old-1", "aaa"), pod("new-1", "bbb"), pod("stranger", "ccc")]
    sets = [rs("aaa", "2"), rs("bbb", "3"), rs("ccc", "3", owner="uid-2")]

    assert [p["metadata"]["name"] for p in rollout.current_pods(deployment, sets, pods)] == ["new-1"]
    # Before the controller has made (or adopted) the ReplicaSet of this revision: no pod counts.
    assert rollout.current_pods(deployment, sets[:1], pods) == []


def test_wrapped_base64_has_the_fingerprint_of_what_the_server_stores() -> None:
    # `base64` wraps at 76 columns (certificates in Git often are); the server decodes skipping
    # line breaks and prints the value unwrapped.
    value = "x" * 120
    wrapped = base64.encodebytes(value.encode()).decode()
    assert "\n" in wrapped.strip()
    in_git = secret().body | {"data": {"tls.crt": wrapped}}
    live = secret({"tls.crt": value}).body
    assert restore.fingerprint(in_git, KEY) == restore.fingerprint(live, KEY)


def test_history_drops_the_last_applied_annotation_and_malformed_data_of_a_secret() -> None:
    body = secret({"password": "hunter22"}).body
    body["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"password":"aHVudGVyMjI="}}',
        "team": "db",
    }
    kept = restore.for_history(Resource(SECRET, body), KEY)
    assert kept["metadata"]["annotations"] == {"team": "db"}
    assert body["metadata"]["annotations"]["team"] == "db"  # the input is left as it was
    malformed = restore.for_history(Resource(SECRET, secret().body | {"stringData": ["hunter22"]}), KEY)
    assert malformed["stringData"] == "<redacted>"
    assert "hunter22" not in repr(kept) + repr(malformed)
