"""The StatefulSet controller (``controllers/statefulset.py``) against Kubernetes 1.32 behaviour.

Expectations come from ``pkg/controller/statefulset/stateful_set_control.go``
(``updateStatefulSet``, ``processReplica``, ``processCondemned``, ``completeRollingUpdate``),
``stateful_set_utils.go`` (``newVersionedStatefulSetPod``, ``initIdentity``,
``getPersistentVolumeClaimName``, ``getPatch``), ``pkg/controller/history`` and kubectl's
``StatefulSetStatusViewer`` (``kubectl/pkg/polymorphichelpers/rollout_status.go``). Orderings are
checked on every store event as it happens, not on the final state only.
"""

from __future__ import annotations

from typing import Any

import pytest

from gitops.localcluster import LocalCluster
from gitops.localcluster.controllers import revisions, statefulset
from gitops.localcluster.store import Event
from tests.conftest import Kubectl
from tests.localcluster.controllers.workloads import (
    Obj,
    create,
    get,
    items,
    name_of,
    patch,
    pod_ready,
    record,
    wait_for,
)

IMAGE = "nginx:1.27"


def sts_body(name: str, replicas: int, image: str = IMAGE, **spec: Any) -> Obj:
    template_meta: Obj = {"labels": {"app": name}}
    if "template_annotations" in spec:
        template_meta["annotations"] = spec.pop("template_annotations")
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": template_meta,
                "spec": {"containers": [{"name": "main", "image": image}]},
            },
            **spec,
        },
    }


CLAIMS = [
    {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
]


def sts(cluster: LocalCluster, ns: str, name: str) -> Obj:
    found = get(cluster, "apps", "statefulsets", ns, name)
    assert found is not None
    return found


def pods_of(cluster: LocalCluster, ns: str, name: str) -> dict[str, Obj]:
    return {
        name_of(p): p
        for p in items(cluster, "", "pods", ns)
        if p["metadata"].get("labels", {}).get("app") == name
    }


def rolled_out(cluster: LocalCluster, ns: str, name: str, generation: int | None = None) -> Obj:
    """Wait for observedGeneration, all replicas ready, current == update revision."""

    def done() -> Obj | None:
        s = sts(cluster, ns, name)
        status = s.get("status") or {}
        replicas = s["spec"]["replicas"]
        ok = (
            status.get("observedGeneration", 0) >= (generation or s["metadata"]["generation"])
            and status.get("readyReplicas", 0) == replicas
            and status.get("updatedReplicas", 0) == replicas
            and status.get("currentRevision") == status.get("updateRevision")
            and len(pods_of(cluster, ns, name)) == replicas
        )
        return s if ok else None

    return wait_for(done, what=f"statefulset {name} rolled out")


def present(cluster: LocalCluster, ns: str, prefix: str) -> dict[str, tuple[bool, bool, str]]:
    """name -> (Running and Ready, terminating, revision) of the pods, read under the store lock."""
    return {
        name_of(p): (
            pod_ready(p),
            bool(p["metadata"].get("deletionTimestamp")),
            p["metadata"].get("labels", {}).get(revisions.REVISION_LABEL, ""),
        )
        for p in items(cluster, "", "pods", ns)
        if name_of(p).startswith(prefix)
    }


# ------------------------------------------------------------------------------ pure parts


def test_parent_and_ordinal_follow_the_pod_name_regex() -> None:
    # statefulPodRegex "(.*)-([0-9]+)$" with ParseInt(..., 10, 32)
    assert statefulset.parent_and_ordinal("web-0") == ("web", 0)
    assert statefulset.parent_and_ordinal("my-db-12") == ("my-db", 12)
    assert statefulset.parent_and_ordinal("web") == ("", -1)
    assert statefulset.parent_and_ordinal("web-x") == ("", -1)
    assert statefulset.parent_and_ordinal("web-99999999999") == ("web", -1)  # beyond int32


def test_revision_hash_is_fnv1_over_the_go_json_patch() -> None:
    # FNV-1 test vectors (hash/fnv): New32 of "a" is 0x050c5d7e, New32a of "a" is 0xe40c292c.
    assert revisions.fnv32(b"a") == 0x050C5D7E
    assert revisions.fnv32a(b"a") == 0xE40C292C
    # rand.SafeEncodeString maps each byte into "bcdfghjklmnpqrstvwxz2456789" (ord % 27), so
    # the decimal digits of a hash become 4-9, b, c, d, f (real names look like "web-6d6cf975d5").
    assert revisions.safe_encode("0123456789") == "456789bcdf"
    # getPatch marshals a map: sorted keys, compact, HTML-escaped, "$patch": "replace".
    data = revisions.template_patch({"spec": {"template": {"spec": {"x": "<&>"}, "metadata": {"a": 1}}}})
    assert revisions.go_json(data) == (
        '{"spec":{"template":{"$patch":"replace","metadata":{"a":1},"spec":{"x":"\\u003c\\u0026\\u003e"}}}}'
    )
    # The collision count is appended to the hashed bytes in decimal.
    assert revisions.hash_revision(data, 0) != revisions.hash_revision(data, 1)
    assert revisions.hash_revision(data, None) == revisions.safe_encode(
        str(revisions.fnv32(revisions.go_json(data).encode()))
    )


# ------------------------------------------------------------------------------------ live


@pytest.mark.kubectl
def test_ordered_ready_creates_pods_one_at_a_time_with_identity_and_claims(
    live_cluster: LocalCluster, live_kubectl: Kubectl, live_namespace: str
) -> None:
    cluster, ns = live_cluster, live_namespace

    def probe(event: Event) -> Any:
        return present(cluster, ns, "web-")

    with record(cluster, "", "pods", ns, probe) as log:
        create(cluster, "apps", "v1", "statefulsets", ns, sts_body("web", 3, volumeClaimTemplates=CLAIMS))
        out = live_kubectl.run("rollout", "status", "-n", ns, "statefulset/web", "--timeout=60s").stdout
    # kubectl's StatefulSetStatusViewer: the defaulted rollingUpdate {partition: 0} makes it
    # report a partitioned roll out.
    assert out.splitlines()[-1] == "partitioned roll out complete: 3 new pods have been updated..."
    assert log.names("ADDED") == ["web-0", "web-1", "web-2"]
    for seen in log.of("ADDED"):
        ordinal = statefulset.ordinal_of(seen.obj)
        for lower in range(ordinal):
            ready, terminating, _ = seen.probe[f"web-{lower}"]
            assert ready and not terminating, (
                f"web-{ordinal} created before web-{lower} was Running and Ready"
            )

    s = rolled_out(cluster, ns, "web")
    status = s["status"]
    revision = status["updateRevision"]
    assert status["currentRevision"] == revision and revision.startswith("web-")
    assert status["replicas"] == status["readyReplicas"] == status["availableReplicas"] == 3
    assert status["currentReplicas"] == status["updatedReplicas"] == 3
    assert status["observedGeneration"] == 1 and status["collisionCount"] == 0

    history = items(cluster, "apps", "controllerrevisions", ns)
    assert [name_of(r) for r in history] == [revision]
    assert history[0]["revision"] == 1
    assert history[0]["data"]["spec"]["template"]["$patch"] == "replace"
    assert history[0]["metadata"]["labels"]["app"] == "web"
    assert history[0]["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet"

    for ordinal, (pod_name, pod) in enumerate(sorted(pods_of(cluster, ns, "web").items())):
        assert pod_name == f"web-{ordinal}"
        assert pod["metadata"]["labels"] == {
            "app": "web",
            "controller-revision-hash": revision,
            "statefulset.kubernetes.io/pod-name": pod_name,
            "apps.kubernetes.io/pod-index": str(ordinal),
        }
        assert pod["spec"]["hostname"] == pod_name and pod["spec"]["subdomain"] == "web"
        assert {"name": "data", "persistentVolumeClaim": {"claimName": f"data-web-{ordinal}"}} in pod["spec"][
            "volumes"
        ]
        ref = pod["metadata"]["ownerReferences"][0]
        assert (ref["kind"], ref["name"], ref["controller"], ref["blockOwnerDeletion"]) == (
            "StatefulSet",
            "web",
            True,
            True,
        )
    claims = {name_of(c): c for c in items(cluster, "", "persistentvolumeclaims", ns)}
    assert sorted(claims) == ["data-web-0", "data-web-1", "data-web-2"]
    for claim in claims.values():
        assert claim["metadata"]["labels"] == {"app": "web"}  # template labels + selector
        assert claim["status"]["phase"] == "Bound"
        assert claim["status"]["capacity"] == {"storage": "1Gi"}
        assert "ownerReferences" not in claim["metadata"]  # retention policy Retain/Retain


def test_parallel_creates_every_pod_without_waiting_for_readiness(
    live_cluster: LocalCluster, live_namespace: str
) -> None:
    cluster, ns = live_cluster, live_namespace
    never_ready = {"localcluster.gitops.dev/state": "NotReady"}
    create(
        cluster,
        "apps",
        "v1",
        "statefulsets",
        ns,
        sts_body("par", 3, podManagementPolicy="Parallel", template_annotations=never_ready),
    )
    create(cluster, "apps", "v1", "statefulsets", ns, sts_body("ord", 3, template_annotations=never_ready))
    wait_for(lambda: len(pods_of(cluster, ns, "par")) == 3, what="three Parallel pods")
    assert cluster.settle()
    assert not any(pod_ready(p) for p in pods_of(cluster, ns, "par").values())
    # OrderedReady never gets past the unready first pod.
    assert sorted(pods_of(cluster, ns, "ord")) == ["ord-0"]
    assert sts(cluster, ns, "par")["status"]["replicas"] == 3


def test_scale_down_deletes_from_the_highest_ordinal_one_at_a_time(
    live_cluster: LocalCluster, live_namespace: str
) -> None:
    cluster, ns = live_cluster, live_namespace
    create(cluster, "apps", "v1", "statefulsets", ns, sts_body("db", 3, volumeClaimTemplates=CLAIMS))
    rolled_out(cluster, ns, "db")

    def probe(event: Event) -> Any:
        return present(cluster, ns, "db-")

    with record(cluster, "", "pods", ns, probe) as log:
        patch(cluster, "apps", "v1", "statefulsets", ns, "db", {"spec": {"replicas": 1}})
        wait_for(lambda: sorted(pods_of(cluster, ns, "db")) == ["db-0"], what="scaled down to db-0")
    marked = [s for s in log.of("MODIFIED") if s.obj["metadata"].get("deletionTimestamp")]
    first_marks: dict[str, Any] = {}
    for seen in marked:
        first_marks.setdefault(name_of(seen.obj), seen.probe)
    assert list(first_marks) == ["db-2", "db-1"]
    assert "db-2" not in first_marks["db-1"], "db-1 was deleted while db-2 was still there"
    s = rolled_out(cluster, ns, "db")
    assert s["status"]["replicas"] == 1
    # whenScaled: Retain keeps the claims of the removed ordinals.
    assert sorted(name_of(c) for c in items(cluster, "", "persistentvolumeclaims", ns)) == [
        "data-db-0",
        "data-db-1",
        "data-db-2",
    ]


@pytest.mark.kubectl
def test_rolling_update_goes_from_the_highest_ordinal_and_stops_at_the_partition(
    live_cluster: LocalCluster, live_kubectl: Kubectl, live_namespace: str
) -> None:
    cluster, ns = live_cluster, live_namespace
    create(cluster, "apps", "v1", "statefulsets", ns, sts_body("web", 3))
    old = rolled_out(cluster, ns, "web")["status"]["currentRevision"]

    def probe(event: Event) -> Any:
        return present(cluster, ns, "web-")

    with record(cluster, "", "pods", ns, probe) as log:
        patch(
            cluster,
            "apps",
            "v1",
            "statefulsets",
            ns,
            "web",
            {
                "spec": {
                    "updateStrategy": {"rollingUpdate": {"partition": 1}},
                    "template": {"spec": {"containers": [{"name": "main", "image": "nginx:1.28"}]}},
                }
            },
        )
        out = live_kubectl.run("rollout", "status", "-n", ns, "statefulset/web", "--timeout=60s").stdout
    assert out.splitlines()[-1] == "partitioned roll out complete: 2 new pods have been updated..."
    status = sts(cluster, ns, "web")["status"]
    new = status["updateRevision"]
    assert new != old and status["currentRevision"] == old
    assert status["updatedReplicas"] == 2 and status["currentReplicas"] == 1
    pods = present(cluster, ns, "web-")
    assert {n: rev for n, (_, _, rev) in pods.items()} == {"web-0": old, "web-1": new, "web-2": new}
    marks: dict[str, Any] = {}
    for seen in log.of("MODIFIED"):
        if seen.obj["metadata"].get("deletionTimestamp"):
            marks.setdefault(name_of(seen.obj), seen.probe)
    assert list(marks) == ["web-2", "web-1"]
    ready, _, revision = marks["web-1"]["web-2"]
    assert ready and revision == new, "web-1 was replaced before the new web-2 was ready"

    patch(
        cluster,
        "apps",
        "v1",
        "statefulsets",
        ns,
        "web",
        {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}},
    )
    done = rolled_out(cluster, ns, "web", generation=3)["status"]
    # completeRollingUpdate: every replica updated and ready makes the update revision current.
    assert done["currentRevision"] == done["updateRevision"] == new and done["currentReplicas"] == 3
    numbers = {name_of(r): r["revision"] for r in items(cluster, "apps", "controllerrevisions", ns)}
    assert numbers == {old: 1, new: 2}


def test_going_back_to_an_old_template_renumbers_its_revision(
    live_cluster: LocalCluster, live_namespace: str
) -> None:
    cluster, ns = live_cluster, live_namespace
    create(cluster, "apps", "v1", "statefulsets", ns, sts_body("web", 1))
    first = rolled_out(cluster, ns, "web")["status"]["currentRevision"]
    for image, generation in (("nginx:1.28", 2), (IMAGE, 3)):
        body = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": image}]}}}}
        patch(cluster, "apps", "v1", "statefulsets", ns, "web", body)
        rolled_out(cluster, ns, "web", generation=generation)
    status = sts(cluster, ns, "web")["status"]
    numbers = {name_of(r): r["revision"] for r in items(cluster, "apps", "controllerrevisions", ns)}
    # getStatefulSetRevisions: an equal earlier revision is reused with the next number.
    assert status["updateRevision"] == first and numbers[first] == 3
    assert sorted(numbers.values()) == [2, 3]


def test_on_delete_replaces_only_pods_that_are_deleted(
    live_cluster: LocalCluster, live_namespace: str
) -> None:
    cluster, ns = live_cluster, live_namespace
    create(cluster, "apps", "v1", "statefulsets", ns, sts_body("od", 2, updateStrategy={"type": "OnDelete"}))
    old = rolled_out(cluster, ns, "od")["status"]["currentRevision"]
    body = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "nginx:1.28"}]}}}}
    patch(cluster, "apps", "v1", "statefulsets", ns, "od", body)
    new = wait_for(
        lambda: (
            (s := sts(cluster, ns, "od")["status"]).get("observedGeneration") == 2 and s["updateRevision"]
        ),
        what="the new revision observed",
    )
    assert new != old
    assert cluster.settle()
    assert {n: rev for n, (_, _, rev) in present(cluster, ns, "od-").items()} == {"od-0": old, "od-1": old}
    uid = pods_of(cluster, ns, "od")["od-1"]["metadata"]["uid"]
    cluster.api.delete(cluster.registry.by_plural("", "v1", "pods"), ns, "od-1", {})  # type: ignore[arg-type]

    def replaced() -> bool:
        pod = pods_of(cluster, ns, "od").get("od-1")
        return pod is not None and pod["metadata"]["uid"] != uid and pod_ready(pod)

    wait_for(replaced, what="od-1 recreated")
    assert {n: rev for n, (_, _, rev) in present(cluster, ns, "od-").items()} == {"od-0": old, "od-1": new}
    status = sts(cluster, ns, "od")["status"]
    assert (
        status["currentRevision"] == old and status["updatedReplicas"] == 1 and status["currentReplicas"] == 1
    )


def test_when_scaled_delete_removes_the_claims_of_removed_ordinals(
    live_cluster: LocalCluster, live_namespace: str
) -> None:
    cluster, ns = live_cluster, live_namespace
    policy = {"whenScaled": "Delete", "whenDeleted": "Retain"}
    body = sts_body("kv", 2, volumeClaimTemplates=CLAIMS, persistentVolumeClaimRetentionPolicy=policy)
    create(cluster, "apps", "v1", "statefulsets", ns, body)
    rolled_out(cluster, ns, "kv")
    patch(cluster, "apps", "v1", "statefulsets", ns, "kv", {"spec": {"replicas": 1}})
    # updateClaimOwnerRefForSetAndPod: the scaled-down pod owns its claim, so the garbage
    # collector removes the claim with the pod.
    wait_for(
        lambda: [name_of(c) for c in items(cluster, "", "persistentvolumeclaims", ns)] == ["data-kv-0"],
        what="data-kv-1 deleted",
    )
    claim = get(cluster, "", "persistentvolumeclaims", ns, "data-kv-0")
    assert claim is not None and "ownerReferences" not in claim["metadata"]
