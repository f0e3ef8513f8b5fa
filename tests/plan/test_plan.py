"""plan(): pairing desired with live, what gets applied, and the Plan's helpers."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from gitops import diff
from gitops.model import Action, Resource, ResourceKey
from gitops.plan import TRACKING_LABEL, PlanError, plan, with_tracking


def cm(name: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "shop"},
        "data": data,
    }


def applied(body: dict[str, Any], app: str = "shop", manager: str = "gitops") -> dict[str, Any]:
    """What the cluster stores after the engine applied ``body`` for ``app``."""
    live = copy.deepcopy(body)
    live["metadata"].setdefault("labels", {})[TRACKING_LABEL] = app
    fields: dict[str, Any] = {"f:metadata": {"f:labels": {f"f:{k}": {} for k in live["metadata"]["labels"]}}}
    if "data" in live:
        fields["f:data"] = {f"f:{k}": {} for k in live["data"]}
    live["metadata"].update(
        uid="u",
        resourceVersion="1",
        managedFields=[{"manager": manager, "operation": "Apply", "apiVersion": "v1", "fieldsV1": fields}],
    )
    return live


def key(name: str, kind: str = "ConfigMap") -> ResourceKey:
    return ResourceKey("", kind, "shop", name)


def test_objects_are_created_updated_or_left_alone() -> None:
    desired = [
        Resource.of(cm("new", a="1")),
        Resource.of(cm("same", a="1")),
        Resource.of(cm("changed", a="2")),
    ]
    live = {key("same"): applied(cm("same", a="1")), key("changed"): applied(cm("changed", a="1"))}
    p = plan(desired, live, app="shop")
    assert [(c.key.name, c.action, c.summary) for c in p.changes] == [
        ("changed", Action.UPDATE, ("data.a: '1' -> '2'",)),
        ("new", Action.CREATE, ()),
        ("same", Action.UNCHANGED, ()),
    ]
    assert p.writes == 2 and not p.is_noop
    assert [r.key.name for r in p.phases[0].to_apply()] == ["changed", "new"]
    assert all(c.phase == "configuration" for c in p.changes)


def test_a_plan_over_an_applied_app_is_a_noop() -> None:
    desired = [Resource.of(cm("a", x="1")), Resource.of(cm("b", y="2"))]
    live = {key("a"): applied(cm("a", x="1")), key("b"): applied(cm("b", y="2"))}
    p = plan(desired, live, app="shop")
    assert p.is_noop and p.writes == 0
    assert p.phases[0].to_apply() == ()


def test_applied_bodies_carry_the_tracking_label_and_it_is_no_difference() -> None:
    p = plan([Resource.of(cm("a", x="1"))], {}, app="shop")
    body = p.phases[0].objects[0].body
    assert body["metadata"]["labels"] == {TRACKING_LABEL: "shop"}
    again = plan([Resource.of(cm("a", x="1"))], {key("a"): applied(cm("a", x="1"))}, app="shop")
    assert again.is_noop


def test_with_tracking_copies_and_folds_secret_string_data() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {"k": "v"},
        "data": {"o": "eA=="},
    }
    original = copy.deepcopy(secret)
    out = with_tracking(Resource.of(secret), "shop")
    assert out.body["data"] == {"o": "eA==", "k": base64.b64encode(b"v").decode()}
    assert "stringData" not in out.body
    assert secret == original


def test_diffs_are_aligned_with_changes_and_objects() -> None:
    desired = [Resource.of(cm("a", x="1")), Resource.of(cm("b", x="1"))]
    p = plan(desired, {key("b"): applied(cm("b", x="2"))}, app="shop")
    phase = p.phases[0]
    assert [d.key for d in phase.diffs] == [c.key for c in phase.changes] == [o.key for o in phase.objects]
    d = p.diff_of(key("b"))
    assert d is not None and "-  x: '2'" in d.unified() and "+  x: '1'" in d.unified()
    assert p.diff_of(key("zzz")) is None


def test_ignore_rules_reach_the_diff() -> None:
    live = {key("a"): applied(cm("a", x="2"))}
    rule = diff.IgnoreRule(("/data/x",), kind="ConfigMap")
    assert plan([Resource.of(cm("a", x="1"))], live, app="shop", ignore=[rule]).is_noop


def test_duplicate_objects_are_refused() -> None:
    with pytest.raises(PlanError, match="ConfigMap/shop/a: defined twice"):
        plan([Resource.of(cm("a")), Resource.of(cm("a", x="1"))], {}, app="shop")


def test_an_object_tracked_by_another_app_is_flagged() -> None:
    live = {key("a"): applied(cm("a", x="1"), app="billing")}
    change = plan([Resource.of(cm("a", x="1"))], live, app="shop").changes.changes[0]
    assert change.action is Action.UPDATE
    assert change.message == "tracked by app 'billing'; applying moves it to 'shop'"


def test_plan_changes_are_json_records_without_secret_values() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "shop"},
        "stringData": {"k": "Zq9-plan-seed"},
    }
    live = applied({**secret, "data": {"k": base64.b64encode(b"old").decode()}, "stringData": None})
    del live["stringData"]
    p = plan([Resource.of(secret)], {key("s", "Secret"): live}, app="shop")
    text = repr(p) + repr([c.to_json() for c in p.changes]) + p.phases[0].diffs[0].unified()
    assert p.changes.changes[0].summary == ("data.k: changed",)
    assert "Zq9-plan-seed" not in text and base64.b64encode(b"Zq9-plan-seed").decode() not in text


def test_a_tracking_label_written_in_git_is_overridden_by_the_app() -> None:
    body = cm("a")
    body["metadata"]["labels"] = {TRACKING_LABEL: "someone-else", "tier": "web"}
    applied_body = with_tracking(Resource.of(body), "shop").body
    assert applied_body["metadata"]["labels"] == {TRACKING_LABEL: "shop", "tier": "web"}
    assert body["metadata"]["labels"][TRACKING_LABEL] == "someone-else"


def test_a_diff_memo_reuses_only_diffs_whose_inputs_did_not_change(monkeypatch: pytest.MonkeyPatch) -> None:
    from gitops.plan import DiffMemo

    calls: list[str] = []
    real = diff.diff

    def counting(body: Resource, live: Any, **kw: Any) -> diff.ObjectDiff:
        calls.append(body.key.name)
        return real(body, live, **kw)

    monkeypatch.setattr(diff, "diff", counting)
    memo = DiffMemo()
    desired = [Resource.of(cm("a", x="1")), Resource.of(cm("b", x="2"))]
    live = {key("a"): applied(cm("a", x="1")), key("b"): applied(cm("b", x="1"))}
    first = plan(desired, live, app="shop", memo=memo)
    memo.rotate()
    assert sorted(calls) == ["a", "b"]
    calls.clear()
    again = plan(desired, live, app="shop", memo=memo)
    memo.rotate()
    assert calls == []  # same bodies, same live uid and resourceVersion: nothing re-diffed
    assert [(c.key, c.action, c.summary) for c in again.changes] == [
        (c.key, c.action, c.summary) for c in first.changes
    ]
    # A write to "b" (new resourceVersion) and a change to "a" in Git are diffed again.
    live[key("b")] = applied(cm("b", x="2"))
    live[key("b")]["metadata"]["resourceVersion"] = "2"
    changed = [Resource.of(cm("a", x="9")), desired[1]]
    third = plan(changed, live, app="shop", memo=memo)
    assert sorted(calls) == ["a", "b"]
    assert {c.key.name: c.action for c in third.changes} == {"a": Action.UPDATE, "b": Action.UNCHANGED}
    # The same result as without a memo.
    assert third.changes == plan(changed, live, app="shop").changes
