"""The Deployment controller's pure arithmetic, against cases from the Kubernetes source.

Cases come from ``pkg/controller/deployment/util/deployment_util{,_test}.go`` and
``pkg/controller/deployment/sync_test.go`` (TestScale), Kubernetes 1.32.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gitops.localcluster.controllers import deployment_util as du

Obj = dict[str, Any]

NEW = "2016-05-20T02:00:00Z"
OLD = "2016-05-20T01:00:00Z"
OLDER = "2016-05-20T00:00:00Z"


def deployment(
    replicas: int,
    max_surge: int | str | None = 0,
    max_unavailable: int | str | None = 0,
    *,
    strategy: str = "RollingUpdate",
    **spec: Any,
) -> Obj:
    """``newDeployment`` of deployment_controller_test.go: RollingUpdate with 0/0 unless told."""
    rolling = {}
    if max_surge is not None:
        rolling["maxSurge"] = max_surge
    if max_unavailable is not None:
        rolling["maxUnavailable"] = max_unavailable
    d: Obj = {
        "metadata": {"name": "foo", "namespace": "default", "uid": "d-uid", "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"foo": "bar"}},
            "strategy": {"type": strategy, "rollingUpdate": rolling}
            if strategy == "RollingUpdate"
            else {"type": strategy},
            "template": {
                "metadata": {"labels": {"foo": "bar"}},
                "spec": {"containers": [{"name": "c", "image": "foo/bar"}]},
            },
            **spec,
        },
    }
    return d


def rs(
    name: str,
    replicas: int,
    created: str = NEW,
    *,
    available: int | None = None,
    annotations: dict[str, str] | None = None,
) -> Obj:
    """``rs`` of deployment_controller_test.go: status shows every replica available."""
    return {
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "creationTimestamp": created,
            "annotations": dict(annotations or {}),
        },
        "spec": {"replicas": replicas, "template": {"metadata": {"labels": {"foo": "bar"}}}},
        "status": {"replicas": replicas, "availableReplicas": replicas if available is None else available},
    }


# ------------------------------------------------------------------------ fenceposts


@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "expected"),
    [
        # TestResolveFenceposts
        ("0%", "0%", 0, (0, 1)),
        ("39%", "39%", 10, (4, 3)),
        (None, "39%", 10, (0, 3)),
        ("39%", None, 10, (4, 0)),
        (None, None, 10, (0, 1)),
        # the examples in ResolveFenceposts' comment
        ("0%", "1%", 2, (0, 1)),
        ("0%", "1%", 1, (0, 1)),
        ("1%", "25%", 2, (1, 0)),
        ("1%", "0%", 2, (1, 0)),
        # the defaults (25%/25%): surge rounds up, unavailable down
        ("25%", "25%", 10, (3, 2)),
        ("25%", "25%", 3, (1, 0)),
        (2, 1, 5, (2, 1)),
    ],
)
def test_resolve_fenceposts_rounds_surge_up_and_unavailable_down(
    surge: str | None, unavailable: str | None, desired: int, expected: tuple[int, int]
) -> None:
    assert du.resolve_fenceposts(surge, unavailable, desired) == expected


@pytest.mark.parametrize(("surge", "unavailable"), [("oops", "39%"), ("55%", "urg"), ("5", "1%")])
def test_resolve_fenceposts_rejects_strings_that_are_not_percentages(surge: str, unavailable: str) -> None:
    with pytest.raises(ValueError, match="IntOrString"):
        du.resolve_fenceposts(surge, unavailable, 10)


def test_max_unavailable_is_capped_at_replicas_and_zero_for_recreate() -> None:
    assert du.max_unavailable(deployment(2, 0, 5)) == 2
    assert du.max_unavailable(deployment(0, 1, 1)) == 0
    assert du.max_unavailable(deployment(3, strategy="Recreate")) == 0
    assert du.max_surge(deployment(3, strategy="Recreate")) == 0
    assert du.max_surge(deployment(4, "50%", 0)) == 2


@pytest.mark.parametrize(
    ("strategy", "dep_replicas", "new_rs_replicas", "surge", "expected"),
    [
        # TestNewRSNewReplicas: another ReplicaSet already has 5 replicas.
        ("RollingUpdate", 1, 5, 1, 5),  # cannot scale up
        ("RollingUpdate", 6, 2, 10, 6),  # scale up to replicas
        ("Recreate", 3, 1, 1, 3),
    ],
)
def test_new_rs_new_replicas(
    strategy: str, dep_replicas: int, new_rs_replicas: int, surge: int, expected: int
) -> None:
    d = deployment(dep_replicas, surge, 1, strategy=strategy)
    new = rs("new", new_rs_replicas)
    assert du.new_rs_new_replicas(d, [rs("rs5", 5)], new) == expected


# --------------------------------------------------------------------------- hashing


def test_safe_encode_maps_digits_like_kubernetes() -> None:
    # Real pod-template-hash values use only these ten characters.
    assert du.safe_encode("0123456789") == "456789bcdf"


def test_compute_hash_is_stable_short_and_changed_by_template_and_collisions() -> None:
    template = deployment(1)["spec"]["template"]
    h = du.compute_hash(template, None)
    assert h == du.compute_hash(copy.deepcopy(template), None)
    assert 1 <= len(h) <= 10 and set(h) <= set("456789bcdf")
    changed = copy.deepcopy(template)
    changed["spec"]["containers"][0]["image"] = "foo/bar:2"
    assert du.compute_hash(changed, None) != h
    assert du.compute_hash(template, 1) != h
    assert du.compute_hash(template, 1) != du.compute_hash(template, 2)


def test_equal_ignore_hash_ignores_only_the_hash_label() -> None:
    t1 = deployment(1)["spec"]["template"]
    t2 = copy.deepcopy(t1)
    t2["metadata"]["labels"][du.HASH_LABEL] = "abc"
    assert du.equal_ignore_hash(t1, t2)
    t2["metadata"]["annotations"] = {}
    assert du.equal_ignore_hash(t1, t2)  # empty and missing maps are semantically equal
    t2["metadata"]["labels"]["other"] = "x"
    assert not du.equal_ignore_hash(t1, t2)
    t3 = copy.deepcopy(t1)
    t3["spec"]["containers"][0]["image"] = "other"
    assert not du.equal_ignore_hash(t1, t3)


# ------------------------------------------------------------------------- revisions


def test_max_and_last_revision_skip_unparsable_ones() -> None:
    rss = [
        rs("a", 0, annotations={du.REVISION: "3"}),
        rs("b", 0, annotations={du.REVISION: "x"}),
        rs("c", 0, annotations={du.REVISION: "7"}),
    ]
    assert du.max_revision(rss) == 7
    assert du.last_revision(rss) == 3
    assert du.last_revision([rs("a", 0, annotations={du.REVISION: "1"})]) == 0
    assert du.revision(rs("none", 0)) == 0


def test_new_replica_set_annotations_copy_the_deployment_but_not_skipped_keys() -> None:
    d = deployment(3, 1, 0)
    d["metadata"]["annotations"] = {
        "team": "a",
        du.LAST_APPLIED: "{}",
        du.REVISION: "9",
        du.ROLLBACK_TO: "1",
    }
    new = rs("new", 0)
    assert du.set_new_replica_set_annotations(d, new, "2", exists=False)
    assert new["metadata"]["annotations"] == {
        "team": "a",
        du.REVISION: "2",
        du.DESIRED_REPLICAS: "3",
        du.MAX_REPLICAS: "4",
    }
    # Nothing changes a second time.
    assert not du.set_new_replica_set_annotations(d, new, "2", exists=True)


def test_rolling_back_to_a_replica_set_moves_its_revision_into_the_history() -> None:
    d = deployment(1)
    old = rs("old", 0, annotations={du.REVISION: "1"})
    assert du.set_new_replica_set_annotations(d, old, "3", exists=True)
    assert old["metadata"]["annotations"][du.REVISION] == "3"
    assert old["metadata"]["annotations"][du.REVISION_HISTORY] == "1"
    assert du.set_new_replica_set_annotations(d, old, "5", exists=True)
    assert old["metadata"]["annotations"][du.REVISION_HISTORY] == "1,3"
    # A revision is only ever raised.
    assert not du.set_new_replica_set_annotations(d, old, "4", exists=True)


def test_revision_history_drops_the_oldest_entries_beyond_the_length_limit() -> None:
    d = deployment(1)
    old = rs("old", 0, annotations={du.REVISION: "13", du.REVISION_HISTORY: "10,11,12"})
    du.set_new_replica_set_annotations(d, old, "14", exists=True, history_limit_chars=8)
    assert old["metadata"]["annotations"][du.REVISION_HISTORY] == "11,12,13"  # 8 characters
    old = rs("old", 0, annotations={du.REVISION: "13", du.REVISION_HISTORY: "10,11,12"})
    du.set_new_replica_set_annotations(d, old, "14", exists=True, history_limit_chars=7)
    assert old["metadata"]["annotations"][du.REVISION_HISTORY] == "12,13"


def test_rollback_annotations_come_from_the_replica_set_except_skipped_ones() -> None:
    d = deployment(1)
    d["metadata"]["annotations"] = {"cause": "edit", du.REVISION: "2", du.LAST_APPLIED: "x"}
    old = rs("old", 0, annotations={"cause": "create", du.REVISION: "1", du.DESIRED_REPLICAS: "1"})
    du.set_deployment_annotations_to(d, old)
    assert d["metadata"]["annotations"] == {"cause": "create", du.REVISION: "2", du.LAST_APPLIED: "x"}


# ----------------------------------------------------------------- finding and order


def test_new_replica_set_is_the_oldest_with_the_template_and_old_ones_are_by_age() -> None:
    d = deployment(1)
    same_new = rs("same-new", 1, NEW)
    same_old = rs("same-old", 1, OLD)
    other = rs("other", 1, OLDER)
    other["spec"]["template"] = {"metadata": {"labels": {"foo": "bar"}}, "spec": {"containers": []}}
    for r in (same_new, same_old):
        r["spec"]["template"] = copy.deepcopy(d["spec"]["template"])
        r["spec"]["template"]["metadata"]["labels"][du.HASH_LABEL] = r["metadata"]["name"]
    assert du.find_new_replica_set(d, [same_new, other, same_old]) is same_old
    active, every = du.find_old_replica_sets(d, [same_new, other, same_old])
    assert [r["metadata"]["name"] for r in every] == ["other", "same-new"]
    assert active == every


def test_find_active_or_latest() -> None:
    assert du.find_active_or_latest(None, []) is None
    new, old = rs("new", 0, NEW), rs("old", 0, OLD)
    assert du.find_active_or_latest(new, [old]) is new
    assert du.find_active_or_latest(None, [rs("older", 0, OLDER), old]) is old
    busy = rs("busy", 2, OLDER)
    assert du.find_active_or_latest(new, [busy, old]) is busy
    assert du.find_active_or_latest(rs("n", 1), [busy]) is None


# ------------------------------------------------------------- proportional scaling


def annotate(d: Obj, rss: list[Obj]) -> None:
    """TestScale annotates every ReplicaSet with the old Deployment's size and max."""
    for r in rss:
        du.set_replicas_annotations(r, du.spec_replicas(d), du.spec_replicas(d) + du.max_surge(d))


TEST_SCALE = [
    # name, deployment, old deployment, new RS, old RSes, expected sizes (absent: not written)
    (
        "normal scaling event: 10 -> 12",
        deployment(12),
        deployment(10),
        ("foo-v1", 10, NEW),
        [],
        {"foo-v1": 12},
    ),
    ("normal scaling event: 10 -> 5", deployment(5), deployment(10), ("foo-v1", 10, NEW), [], {"foo-v1": 5}),
    (
        "proportional scaling: 5 -> 10",
        deployment(10),
        deployment(5),
        ("foo-v2", 2, NEW),
        [("foo-v1", 3, OLD)],
        {"foo-v2": 4, "foo-v1": 6},
    ),
    (
        "proportional scaling: 5 -> 3",
        deployment(3),
        deployment(5),
        ("foo-v2", 2, NEW),
        [("foo-v1", 3, OLD)],
        {"foo-v2": 1, "foo-v1": 2},
    ),
    (
        "proportional scaling: 9 -> 4",
        deployment(4),
        deployment(9),
        ("foo-v2", 8, NEW),
        [("foo-v1", 1, OLD)],
        {"foo-v2": 4, "foo-v1": 0},
    ),
    (
        "proportional scaling: 7 -> 10",
        deployment(10),
        deployment(7),
        ("foo-v3", 2, NEW),
        [("foo-v2", 3, OLD), ("foo-v1", 2, OLDER)],
        {"foo-v3": 3, "foo-v2": 4, "foo-v1": 3},
    ),
    (
        "proportional scaling: 13 -> 8",
        deployment(8),
        deployment(13),
        ("foo-v3", 2, NEW),
        [("foo-v2", 8, OLD), ("foo-v1", 3, OLDER)],
        {"foo-v3": 1, "foo-v2": 5, "foo-v1": 2},
    ),
    (
        "leftover distribution: 3 -> 4",
        deployment(4),
        deployment(3),
        ("foo-v3", 1, NEW),
        [("foo-v2", 1, OLD), ("foo-v1", 1, OLDER)],
        {"foo-v3": 2, "foo-v2": 1, "foo-v1": 1},
    ),
    (
        "leftover distribution: 3 -> 2",
        deployment(2),
        deployment(3),
        ("foo-v3", 1, NEW),
        [("foo-v2", 1, OLD), ("foo-v1", 1, OLDER)],
        {"foo-v3": 1, "foo-v2": 1, "foo-v1": 0},
    ),
    (
        "proportional scaling (no new rs): 4 -> 5",
        deployment(5),
        deployment(4),
        None,
        [("foo-v2", 2, OLD), ("foo-v1", 2, OLDER)],
        {"foo-v2": 3, "foo-v1": 2},
    ),
    (
        "proportional scaling: 6 -> 0",
        deployment(0),
        deployment(6),
        ("foo-v3", 3, NEW),
        [("foo-v2", 2, OLD), ("foo-v1", 1, OLDER)],
        {"foo-v3": 0, "foo-v2": 0, "foo-v1": 0},
    ),
    (
        "proportional scaling: 0 -> 6",
        deployment(6),
        deployment(6),
        ("foo-v3", 0, NEW),
        [("foo-v2", 0, OLD), ("foo-v1", 0, OLDER)],
        {"foo-v3": 6},
    ),
    (
        "deployment with surge pods",
        deployment(20, 2),
        deployment(10, 2),
        ("foo-v2", 6, NEW),
        [("foo-v1", 6, OLD)],
        {"foo-v2": 11, "foo-v1": 11},
    ),
    (
        "change both surge and size",
        deployment(50, 6),
        deployment(10, 3),
        ("foo-v2", 5, NEW),
        [("foo-v1", 8, OLD)],
        {"foo-v2": 22, "foo-v1": 34},
    ),
    (
        "change both size and template",
        deployment(14),
        deployment(10),
        None,
        [("foo-v2", 7, NEW), ("foo-v1", 3, OLD)],
        {"foo-v2": 10, "foo-v1": 4},
    ),
]


@pytest.mark.parametrize(
    ("d", "old_d", "new_spec", "old_specs", "expected"),
    [case[1:] for case in TEST_SCALE],
    ids=[c[0] for c in TEST_SCALE],
)
def test_scale_plan_matches_kubernetes_test_scale(
    d: Obj,
    old_d: Obj,
    new_spec: tuple[str, int, str] | None,
    old_specs: list[tuple[str, int, str]],
    expected: dict[str, int],
) -> None:
    new = rs(*new_spec) if new_spec else None
    olds = [rs(*spec) for spec in old_specs]
    annotate(old_d, [r for r in (new, *olds) if r is not None])
    targets, _ = du.scale_plan(d, new, olds)
    assert {r["metadata"]["name"]: size for r, size in targets} == expected


def test_saturated_but_broken_new_replica_set_does_not_affect_old_pods() -> None:
    d = deployment(2, 1, 1)
    new = rs("foo-v2", 2, NEW, available=0)
    old = rs("foo-v1", 1, OLD)
    annotate(d, [new, old])
    targets, operation = du.scale_plan(d, new, [old])
    assert {r["metadata"]["name"]: size for r, size in targets} == {"foo-v2": 2, "foo-v1": 1}
    assert operation == ""


def test_a_saturated_new_replica_set_retires_the_old_ones() -> None:
    d = deployment(2, 1, 1)
    new, old = rs("foo-v2", 2, NEW), rs("foo-v1", 1, OLD)
    annotate(d, [new, old])
    targets, operation = du.scale_plan(d, new, [old])
    assert [(r["metadata"]["name"], size) for r, size in targets] == [("foo-v1", 0)]
    assert operation is None


def test_proportion_without_annotation_falls_back_to_the_deployment_status() -> None:
    d = deployment(10)
    d["status"] = {"replicas": 5}
    assert du.get_proportion(rs("a", 3), d, 5, 0) == 3  # 3 * 10 / 5 = 6


# ------------------------------------------------------------------ status, conditions


def test_calculate_status_omits_zero_counts_and_sets_available() -> None:
    d = deployment(3, 1, 0)
    d["metadata"]["generation"] = 4
    new = rs("new", 1, available=0)
    new["status"] = {"replicas": 1}
    old = rs("old", 3)
    old["status"]["readyReplicas"] = 3
    status = du.calculate_status([old, new], new, d, "2024-01-01T00:00:00Z")
    assert status == {
        "observedGeneration": 4,
        "replicas": 4,
        "updatedReplicas": 1,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "unavailableReplicas": 1,
        "conditions": [
            {
                "type": "Available",
                "status": "True",
                "lastUpdateTime": "2024-01-01T00:00:00Z",
                "lastTransitionTime": "2024-01-01T00:00:00Z",
                "reason": "MinimumReplicasAvailable",
                "message": "Deployment has minimum availability.",
            }
        ],
    }
    empty = du.calculate_status([], None, deployment(2), "t")
    assert list(empty) == ["observedGeneration", "conditions"]
    assert empty["conditions"][0]["reason"] == "MinimumReplicasUnavailable"
    assert empty["conditions"][0]["message"] == "Deployment does not have minimum availability."


def test_a_replaced_condition_moves_to_the_end_and_keeps_its_transition_time() -> None:
    status: Obj = {}
    du.set_condition(status, du.new_condition("Progressing", "True", du.Reason.NEW_REPLICA_SET, "m", "t1"))
    du.set_condition(
        status, du.new_condition("Available", "False", du.Reason.MINIMUM_REPLICAS_UNAVAILABLE, "m", "t1")
    )
    # Same status and reason: nothing changes, not even the times.
    du.set_condition(
        status, du.new_condition("Progressing", "True", du.Reason.NEW_REPLICA_SET, "other", "t2")
    )
    assert [c["type"] for c in status["conditions"]] == ["Progressing", "Available"]
    assert status["conditions"][0]["message"] == "m"
    du.set_condition(
        status, du.new_condition("Progressing", "True", du.Reason.NEW_RS_AVAILABLE, "done", "t3")
    )
    assert [c["type"] for c in status["conditions"]] == ["Available", "Progressing"]
    assert status["conditions"][1]["lastTransitionTime"] == "t1"
    assert status["conditions"][1]["lastUpdateTime"] == "t3"
    du.set_condition(status, du.new_condition("Progressing", "False", du.Reason.TIMED_OUT, "late", "t4"))
    assert status["conditions"][1]["lastTransitionTime"] == "t4"


def test_complete_progressing_and_timed_out() -> None:
    d = deployment(2)
    d["metadata"]["generation"] = 2
    done = {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}
    assert du.deployment_complete(d, done)
    assert not du.deployment_complete(d, {**done, "observedGeneration": 1})
    assert not du.deployment_complete(d, {**done, "replicas": 3})

    d["status"] = {"replicas": 3, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2}
    assert du.deployment_progressing(d, {**d["status"], "updatedReplicas": 2})
    assert du.deployment_progressing(d, {**d["status"], "replicas": 2})  # fewer old replicas
    assert not du.deployment_progressing(d, dict(d["status"]))

    d["spec"]["progressDeadlineSeconds"] = 60
    cond = du.new_condition("Progressing", "True", du.Reason.REPLICA_SET_UPDATED, "m", "2024-01-01T00:00:00Z")
    status = {"conditions": [cond]}
    start = du.condition_updated_at(cond)
    assert start is not None
    assert not du.deployment_timed_out(d, status, start + 60)
    assert du.deployment_timed_out(d, status, start + 60.5)
    finished = {"conditions": [{**cond, "reason": "NewReplicaSetAvailable"}]}
    assert not du.deployment_timed_out(d, finished, start + 1000)
    d["spec"]["progressDeadlineSeconds"] = 2**31 - 1  # math.MaxInt32: no deadline
    assert not du.deployment_timed_out(d, status, start + 10**9)
