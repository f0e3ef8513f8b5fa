"""The official Python client (typed APIs, DynamicClient, Watch) against the local cluster.

Behaviour expected is a real API server's (K8S-API.md §2-§5); the client raises ``ApiException``
with ``.status`` and a Status ``.body`` exactly as it would against one.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config, dynamic, watch
from kubernetes.client.rest import ApiException

from gitops.localcluster import LocalCluster


@pytest.fixture(scope="module")
def api_client(cluster: LocalCluster) -> Iterator[client.ApiClient]:
    c = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    yield c
    c.close()


def _deployment(name: str, image: str = "nginx:1.25", replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": image}]},
            },
        },
    }


def test_typed_core_api_crud_and_status_errors(api_client: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api_client)
    created = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm"), data={"k": "v"})
    )
    assert created.metadata.uid and created.metadata.resource_version
    assert created.metadata.creation_timestamp is not None
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map(
            namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm"))
        )
    assert exc.value.status == 409
    body = json.loads(exc.value.body)
    assert body["reason"] == "AlreadyExists" and body["message"] == 'configmaps "cm" already exists'
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("nope", namespace)
    assert missing.value.status == 404
    assert json.loads(missing.value.body)["details"] == {"name": "nope", "kind": "configmaps"}


def test_update_with_stale_resource_version_conflicts(api_client: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api_client)
    cm = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="occ"), data={"a": "1"})
    )
    cm.data = {"a": "2"}
    updated = core.replace_namespaced_config_map("occ", namespace, cm)
    assert int(updated.metadata.resource_version) > int(cm.metadata.resource_version)
    cm.data = {"a": "3"}  # still carries the old resourceVersion
    with pytest.raises(ApiException) as exc:
        core.replace_namespaced_config_map("occ", namespace, cm)
    assert exc.value.status == 409
    assert json.loads(exc.value.body)["message"] == (
        'Operation cannot be fulfilled on configmaps "occ": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )


def test_secret_string_data_is_merged_into_data_and_never_stored(
    api_client: client.ApiClient, namespace: str
) -> None:
    core = client.CoreV1Api(api_client)
    s = core.create_namespaced_secret(
        namespace,
        client.V1Secret(metadata=client.V1ObjectMeta(name="s"), string_data={"password": "hunter2"}),
    )
    assert s.type == "Opaque"
    assert s.data == {"password": "aHVudGVyMg=="}
    assert s.string_data is None


def test_apps_api_generation_and_annotation_bump(api_client: client.ApiClient, namespace: str) -> None:
    apps = client.AppsV1Api(api_client)
    d = apps.create_namespaced_deployment(namespace, _deployment("gen"))
    assert d.metadata.generation == 1
    labelled = apps.patch_namespaced_deployment("gen", namespace, {"metadata": {"labels": {"x": "y"}}})
    assert labelled.metadata.generation == 1  # labels do not bump a Deployment's generation
    annotated = apps.patch_namespaced_deployment("gen", namespace, {"metadata": {"annotations": {"x": "y"}}})
    assert annotated.metadata.generation == 2  # annotations do (K8S-API.md §0.6)
    scaled = apps.patch_namespaced_deployment_scale("gen", namespace, {"spec": {"replicas": 3}})
    assert scaled.spec.replicas == 3 and scaled.status.selector == "app=gen"
    assert apps.read_namespaced_deployment("gen", namespace).metadata.generation == 3


def test_server_side_apply_is_idempotent_without_watch_events(
    cluster: LocalCluster, api_client: client.ApiClient, namespace: str
) -> None:
    dyn = dynamic.DynamicClient(api_client)
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    body = _deployment("idem")
    body["metadata"]["namespace"] = namespace
    first = deployments.server_side_apply(body=body, namespace=namespace, field_manager="gitops")
    rv = first.metadata.resourceVersion
    store_rv = cluster.store.resource_version
    events: list[dict[str, Any]] = []
    w = watch.Watch()
    stream_ready = threading.Event()

    def consume() -> None:
        core = client.AppsV1Api(api_client)
        stream_ready.set()
        for ev in w.stream(
            core.list_namespaced_deployment, namespace, resource_version=rv, timeout_seconds=2
        ):
            events.append(ev)

    t = threading.Thread(target=consume)
    t.start()
    stream_ready.wait()
    for _ in range(3):
        again = deployments.server_side_apply(body=body, namespace=namespace, field_manager="gitops")
        assert again.metadata.resourceVersion == rv
    t.join()
    assert events == []
    assert cluster.store.resource_version == store_rv
    managed = first.metadata.managedFields
    assert [(m["manager"], m["operation"]) for m in managed] == [("gitops", "Apply")]


def test_dynamic_client_on_custom_resources(
    fresh_cluster: LocalCluster, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the DynamicClient's discovery cache (K8S-API.md §1.4)
    api = config.new_client_from_config(config_file=str(fresh_cluster.kubeconfig))
    dyn = dynamic.DynamicClient(api)
    crds = dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    crds.create(
        body={
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "gadgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "properties": {
                                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}
                                },
                            }
                        },
                    }
                ],
            },
        }
    )
    crd = crds.get(name="gadgets.example.com")
    conditions = {c["type"]: c["status"] for c in crd.status.conditions}
    assert conditions["Established"] == "True"
    dyn = dynamic.DynamicClient(api)  # fresh discovery
    gadgets = dyn.resources.get(api_version="example.com/v1", kind="Gadget")
    made = gadgets.create(
        body={
            "apiVersion": "example.com/v1",
            "kind": "Gadget",
            "metadata": {"name": "g"},
            "spec": {"size": 2},
        },
        namespace="default",
    )
    assert made.metadata.generation == 1
    listed = gadgets.get(namespace="default")
    assert [i.metadata.name for i in listed.items] == ["g"]
    assert listed.items[0].kind == "Gadget"  # custom resource list items keep kind
    custom = client.CustomObjectsApi(api)
    patched = custom.patch_namespaced_custom_object(
        "example.com", "v1", "default", "gadgets", "g", {"spec": {"size": 5}}
    )
    assert patched["spec"]["size"] == 5 and patched["metadata"]["generation"] == 2
    api.close()


def test_watch_from_list_rv_sees_changes_and_label_transitions(
    api_client: client.ApiClient, namespace: str
) -> None:
    core = client.CoreV1Api(api_client)
    listed = core.list_namespaced_config_map(namespace, label_selector="team=a")
    rv = listed.metadata.resource_version
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w", labels={"team": "a"}))
    )
    core.patch_namespaced_config_map("w", namespace, {"metadata": {"labels": {"team": "b"}}})
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="other", labels={"team": "b"}))
    )
    seen = []
    for ev in watch.Watch().stream(
        core.list_namespaced_config_map,
        namespace,
        label_selector="team=a",
        resource_version=rv,
        timeout_seconds=1,
    ):
        seen.append((ev["type"], ev["object"].metadata.name))
    # leaving the selector is a DELETED event for this watch (K8S-API.md §3.3)
    assert seen == [("ADDED", "w"), ("DELETED", "w")]


def test_watch_too_old_resource_version_gets_410(tmp_path: Any) -> None:
    with LocalCluster(kubeconfig=tmp_path / "kc", watch_history=10) as small:
        api = config.new_client_from_config(config_file=str(small.kubeconfig))
        core = client.CoreV1Api(api)
        first = core.create_namespaced_config_map(
            "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c0"))
        )
        for i in range(1, 20):  # push the first write out of the 10-event window
            core.create_namespaced_config_map(
                "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"c{i}"))
            )
        with pytest.raises(ApiException) as exc:
            for _ in watch.Watch().stream(
                core.list_namespaced_config_map,
                "default",
                resource_version=first.metadata.resource_version,
                timeout_seconds=1,
            ):
                pass
        assert exc.value.status == 410
        assert "too old resource version" in str(exc.value.reason)
        api.close()


def test_list_pagination_with_limit_and_continue(api_client: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api_client)
    for i in range(7):
        core.create_namespaced_config_map(
            namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"p{i}"))
        )
    names: list[str] = []
    page = core.list_namespaced_config_map(namespace, limit=3)
    assert page.metadata.remaining_item_count == 4
    names += [i.metadata.name for i in page.items]
    while page.metadata._continue:
        page = core.list_namespaced_config_map(namespace, limit=3, _continue=page.metadata._continue)
        names += [i.metadata.name for i in page.items]
    assert names == [f"p{i}" for i in range(7)]


def test_field_selector_and_unknown_field_selector(api_client: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="tls"),
            type="kubernetes.io/tls",
            data={"tls.crt": "", "tls.key": ""},
        ),
    )
    core.create_namespaced_secret(namespace, client.V1Secret(metadata=client.V1ObjectMeta(name="plain")))
    tls = core.list_namespaced_secret(namespace, field_selector="type=kubernetes.io/tls")
    assert [s.metadata.name for s in tls.items] == ["tls"]
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_config_map(namespace, field_selector="spec.bogus=1")
    assert exc.value.status == 400
    assert '"spec.bogus" is not a known field selector' in json.loads(exc.value.body)["message"]


def test_namespace_deletion_terminates_then_removes_contents(
    api_client: client.ApiClient, cluster: LocalCluster
) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="doomed")))
    core.create_namespaced_config_map("doomed", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x")))
    ns = core.read_namespace("doomed")
    assert ns.metadata.labels == {"kubernetes.io/metadata.name": "doomed"}
    assert ns.spec.finalizers == ["kubernetes"] and ns.status.phase == "Active"
    core.delete_namespace("doomed")
    w = watch.Watch()
    for ev in w.stream(core.list_namespace, field_selector="metadata.name=doomed", timeout_seconds=10):
        if ev["type"] == "DELETED":
            w.stop()
    with pytest.raises(ApiException) as gone:
        core.read_namespace("doomed")
    assert gone.value.status == 404
    assert cluster.store.items(("", "configmaps"), "doomed") == []


def test_garbage_collection_follows_owner_references(
    api_client: client.ApiClient, cluster: LocalCluster, namespace: str
) -> None:
    core = client.CoreV1Api(api_client)
    owner = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owner"))
    )
    ref = client.V1OwnerReference(api_version="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid)
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="child", owner_references=[ref]))
    )
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="orphaned", owner_references=[ref]))
    )
    core.delete_namespaced_config_map("owner", namespace, propagation_policy="Orphan")
    w = watch.Watch()
    for ev in w.stream(
        core.list_namespaced_config_map, namespace, field_selector="metadata.name=owner", timeout_seconds=10
    ):
        if ev["type"] == "DELETED":
            w.stop()
    child = core.read_namespaced_config_map("child", namespace)
    assert child.metadata.owner_references is None  # orphaned, not deleted

    owner2 = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owner2"))
    )
    ref2 = client.V1OwnerReference(api_version="v1", kind="ConfigMap", name="owner2", uid=owner2.metadata.uid)
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="dependent", owner_references=[ref2]))
    )
    core.delete_namespaced_config_map("owner2", namespace)  # Background
    w = watch.Watch()
    for ev in w.stream(
        core.list_namespaced_config_map,
        namespace,
        field_selector="metadata.name=dependent",
        timeout_seconds=10,
    ):
        if ev["type"] == "DELETED":
            w.stop()
    with pytest.raises(ApiException):
        core.read_namespaced_config_map("dependent", namespace)


def test_dry_run_create_persists_nothing(
    api_client: client.ApiClient, cluster: LocalCluster, namespace: str
) -> None:
    core = client.CoreV1Api(api_client)
    rv = cluster.store.resource_version
    made = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="dry")), dry_run="All"
    )
    assert made.metadata.uid and made.metadata.resource_version is None
    assert cluster.store.resource_version == rv
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_config_map("dry", namespace)
    assert exc.value.status == 404
