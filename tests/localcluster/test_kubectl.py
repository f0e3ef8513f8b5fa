"""The real kubectl 1.32 against the local cluster: it must not tell it from a real API server.

Expected outputs are what kubectl prints against a real cluster (K8S-API.md §0, §3, §5; the
``kubectl/pkg/cmd/*`` printers: ``<resource>.<group>/<name> created|configured|unchanged``).
"""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.conftest import Kubectl

pytestmark = pytest.mark.kubectl


def deployment(
    ns: str, name: str = "web", replicas: int = 2, image: str = "nginx:1.25", cpu: str = "500m"
) -> str:
    return textwrap.dedent(
        f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {name}
          namespace: {ns}
          labels: {{app: {name}}}
        spec:
          replicas: {replicas}
          selector:
            matchLabels: {{app: {name}}}
          template:
            metadata:
              labels: {{app: {name}}}
            spec:
              containers:
              - name: main
                image: {image}
                ports:
                - containerPort: 80
                resources:
                  limits: {{cpu: "{cpu}", memory: 128Mi}}
        """
    )


def test_version_reports_1_32(kubectl: Kubectl) -> None:
    out = kubectl.run("version", "-o", "json").stdout
    server = json.loads(out)["serverVersion"]
    assert (server["major"], server["minor"]) == ("1", "32")


def test_get_namespaces_lists_the_builtin_ones_as_a_table(kubectl: Kubectl) -> None:
    out = kubectl.run("get", "namespaces").stdout
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "AGE"]
    names = {line.split()[0] for line in lines[1:]}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names
    assert all(line.split()[1] == "Active" for line in lines[1:] if line.split()[0] == "default")


def test_client_side_apply_twice_reports_unchanged(kubectl: Kubectl, namespace: str) -> None:
    manifest = deployment(namespace)
    first = kubectl.run("apply", "-f", "-", input=manifest).stdout.strip()
    assert first == "deployment.apps/web created"
    rv1 = kubectl.json("get", "deployment", "web", "-n", namespace)["metadata"]["resourceVersion"]
    second = kubectl.run("apply", "-f", "-", input=manifest).stdout.strip()
    assert second == "deployment.apps/web unchanged"
    rv2 = kubectl.json("get", "deployment", "web", "-n", namespace)["metadata"]["resourceVersion"]
    assert rv1 == rv2
    third = kubectl.run("apply", "-f", "-", input=deployment(namespace, image="nginx:1.26")).stdout.strip()
    assert third == "deployment.apps/web configured"
    obj = kubectl.json("get", "deployment", "web", "-n", namespace)
    assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    assert "kubectl.kubernetes.io/last-applied-configuration" in obj["metadata"]["annotations"]


def test_non_canonical_quantity_reapply_says_configured_but_writes_nothing(
    kubectl: Kubectl, namespace: str
) -> None:
    """kubernetes#116135: with ``cpu: "0.5"`` kubectl's three-way patch always carries the
    quantity (the server stores "500m"), so a re-apply prints "configured"; the server finds
    the result equal to the stored object and persists nothing."""
    manifest = deployment(namespace, cpu="0.5")
    kubectl.run("apply", "-f", "-", input=manifest)
    rv1 = kubectl.json("get", "deployment", "web", "-n", namespace)["metadata"]["resourceVersion"]
    assert kubectl.run("apply", "-f", "-", input=manifest).stdout.strip() == "deployment.apps/web configured"
    assert kubectl.json("get", "deployment", "web", "-n", namespace)["metadata"]["resourceVersion"] == rv1


def test_apply_stores_canonical_quantities_and_defaults(kubectl: Kubectl, namespace: str) -> None:
    kubectl.run("apply", "-f", "-", input=deployment(namespace, cpu="0.5"))
    obj = kubectl.json("get", "deployment", "web", "-n", namespace)
    container = obj["spec"]["template"]["spec"]["containers"][0]
    # resource.Quantity canonical form: "0.5" cpu is stored as "500m" (K8S-API.md, issue 2)
    assert container["resources"]["limits"] == {"cpu": "500m", "memory": "128Mi"}
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert obj["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    assert obj["metadata"]["generation"] == 1


def test_server_side_apply_conflict_then_force(kubectl: Kubectl, namespace: str) -> None:
    assert (
        kubectl.run(
            "apply", "--server-side", "-f", "-", input=deployment(namespace, replicas=2)
        ).stdout.strip()
        == "deployment.apps/web serverside-applied"
    )
    # Another manager (kubectl patch's "kubectl-patch") takes .spec.replicas ...
    kubectl.run(
        "patch", "deployment", "web", "-n", namespace, "--type", "merge", "-p", '{"spec":{"replicas":3}}'
    )
    # ... so applying a different value conflicts (K8S-API.md §5.3) ...
    ssa = kubectl.run(
        "apply", "--server-side", "-f", "-", input=deployment(namespace, replicas=5), check=False
    )
    assert ssa.returncode != 0
    assert (
        'Apply failed with 1 conflict: conflict with "kubectl-patch" using apps/v1: .spec.replicas'
        in ssa.stderr
    )
    assert kubectl.json("get", "deployment", "web", "-n", namespace)["spec"]["replicas"] == 3
    # ... until forced, which takes the field from the other manager.
    forced = kubectl.run(
        "apply", "--server-side", "--force-conflicts", "-f", "-", input=deployment(namespace, replicas=5)
    )
    assert forced.stdout.strip() == "deployment.apps/web serverside-applied"
    obj = kubectl.json("get", "deployment", "web", "-n", namespace, "--show-managed-fields")
    assert obj["spec"]["replicas"] == 5
    owners = {m["manager"]: m for m in obj["metadata"]["managedFields"]}
    assert "f:replicas" in owners["kubectl"]["fieldsV1"]["f:spec"]
    # kubectl-patch owned nothing else, so it is gone (K8S-API.md §5.3 step 5)
    assert "kubectl-patch" not in owners


def test_server_side_apply_after_client_side_apply_migrates_ownership(
    kubectl: Kubectl, namespace: str
) -> None:
    """kubectl 1.32 upgrades client-side-apply ownership before its first server-side apply
    (csaupgrade: a JSON patch of /metadata/managedFields, K8S-API.md §5.5), so the switch does
    not conflict with its own earlier client-side apply."""
    kubectl.run("apply", "-f", "-", input=deployment(namespace, replicas=2))
    out = kubectl.run("apply", "--server-side", "-f", "-", input=deployment(namespace, replicas=5))
    assert out.stdout.strip() == "deployment.apps/web serverside-applied"
    obj = kubectl.json("get", "deployment", "web", "-n", namespace, "--show-managed-fields")
    assert obj["spec"]["replicas"] == 5
    managers = {m["manager"] for m in obj["metadata"]["managedFields"]}
    assert "kubectl-client-side-apply" not in managers
    assert "kubectl" in managers


def test_get_output_formats_and_selectors(kubectl: Kubectl, namespace: str) -> None:
    kubectl.run("apply", "-f", "-", input=deployment(namespace, "a") + "---\n" + deployment(namespace, "b"))
    table = kubectl.run("get", "deployments", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert [line.split()[0] for line in table[1:]] == ["a", "b"]
    assert table[1].split()[1] == "0/2"
    selected = kubectl.json("get", "deployments", "-n", namespace, "-l", "app=b")
    assert [i["metadata"]["name"] for i in selected["items"]] == ["b"]
    not_a = kubectl.json("get", "deployments", "-n", namespace, "-l", "app notin (a)")
    assert [i["metadata"]["name"] for i in not_a["items"]] == ["b"]
    as_yaml = kubectl.run("get", "deployment", "a", "-n", namespace, "-o", "yaml").stdout
    assert "kind: Deployment" in as_yaml and "name: a" in as_yaml
    everywhere = kubectl.run("get", "deployments", "-A").stdout.splitlines()
    assert everywhere[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert any(line.split()[:2] == [namespace, "a"] for line in everywhere[1:])
    wide = kubectl.run("get", "deployments", "-n", namespace, "-o", "wide").stdout.splitlines()
    assert wide[0].split()[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]


def test_patch_label_annotate_scale(kubectl: Kubectl, namespace: str) -> None:
    kubectl.run("apply", "-f", "-", input=deployment(namespace))
    d = ["deployment", "web", "-n", namespace]
    assert kubectl.run("label", *d, "tier=front").stdout.strip() == "deployment.apps/web labeled"
    assert kubectl.run("annotate", *d, "note=hi").stdout.strip() == "deployment.apps/web annotated"
    merge = kubectl.run("patch", *d, "--type", "merge", "-p", '{"spec":{"minReadySeconds":3}}')
    assert merge.stdout.strip() == "deployment.apps/web patched"
    json_patch = kubectl.run(
        "patch",
        *d,
        "--type",
        "json",
        "-p",
        '[{"op":"replace","path":"/spec/revisionHistoryLimit","value":4}]',
    )
    assert json_patch.stdout.strip() == "deployment.apps/web patched"
    strategic = kubectl.run(
        "patch", *d, "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox"}]}}}}'
    )
    assert strategic.stdout.strip() == "deployment.apps/web patched"
    again = kubectl.run("patch", *d, "--type", "merge", "-p", '{"spec":{"minReadySeconds":3}}')
    assert again.stdout.strip() == "deployment.apps/web patched (no change)"
    assert kubectl.run("scale", *d, "--replicas=4").stdout.strip() == "deployment.apps/web scaled"
    obj = kubectl.json("get", *d)
    assert obj["metadata"]["labels"]["tier"] == "front"
    assert obj["metadata"]["annotations"]["note"] == "hi"
    assert obj["spec"]["minReadySeconds"] == 3
    assert obj["spec"]["revisionHistoryLimit"] == 4
    assert obj["spec"]["replicas"] == 4
    # strategic merge: containers merged by name, the original kept, and the new one placed
    # first as in the docs' "Update API Objects in Place Using kubectl patch" (patch-demo-ctr-2
    # lands above patch-demo-ctr)
    assert [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]] == ["side", "main"]


def test_wait_for_jsonpath(kubectl: Kubectl, namespace: str) -> None:
    kubectl.run("apply", "-f", "-", input=deployment(namespace, replicas=3))
    out = kubectl.run(
        "wait", "deployment/web", "-n", namespace, "--for=jsonpath={.spec.replicas}=3", "--timeout=10s"
    )
    assert out.stdout.strip() == "deployment.apps/web condition met"


def test_create_replace_delete(kubectl: Kubectl, namespace: str) -> None:
    cm = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: conf, namespace: {namespace}}}\ndata: {{a: '1'}}\n"
    assert kubectl.run("create", "-f", "-", input=cm).stdout.strip() == "configmap/conf created"
    again = kubectl.run("create", "-f", "-", input=cm, check=False)
    assert again.returncode != 0
    assert (
        'Error from server (AlreadyExists): error when creating "STDIN": configmaps "conf" already exists'
        in again.stderr
    )
    replaced = kubectl.run("replace", "-f", "-", input=cm.replace("'1'", "'2'"))
    assert replaced.stdout.strip() == "configmap/conf replaced"
    assert kubectl.json("get", "configmap", "conf", "-n", namespace)["data"] == {"a": "2"}
    deleted = kubectl.run("delete", "configmap", "conf", "-n", namespace)
    assert deleted.stdout.strip() == 'configmap "conf" deleted'
    missing = kubectl.run("get", "configmap", "conf", "-n", namespace, check=False)
    assert missing.returncode == 1
    assert 'Error from server (NotFound): configmaps "conf" not found' in missing.stderr


def test_server_dry_run_delete_keeps_the_object(kubectl: Kubectl, namespace: str) -> None:
    # kubectl (client-go) sends dryRun in the DeleteOptions body, not in the query
    cm = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: kept, namespace: {namespace}}}\ndata: {{a: '1'}}\n"
    kubectl.run("apply", "-f", "-", input=cm)
    out = kubectl.run("delete", "configmap", "kept", "-n", namespace, "--dry-run=server")
    assert out.stdout.strip() == 'configmap "kept" deleted (server dry run)'
    assert kubectl.json("get", "configmap", "kept", "-n", namespace)["data"] == {"a": "1"}


def test_delete_deployment_waits_and_is_gone(kubectl: Kubectl, namespace: str) -> None:
    kubectl.run("apply", "-f", "-", input=deployment(namespace))
    out = kubectl.run("delete", "deployment", "web", "-n", namespace, "--wait=true", "--timeout=20s")
    assert out.stdout.strip() == 'deployment.apps "web" deleted'
    assert kubectl.run("get", "deployment", "web", "-n", namespace, check=False).returncode == 1


def test_diff_reports_changes_with_exit_code(kubectl: Kubectl, namespace: str) -> None:
    kubectl.run("apply", "-f", "-", input=deployment(namespace))
    same = kubectl.run("diff", "-f", "-", input=deployment(namespace), check=False)
    assert same.returncode == 0, same.stderr
    assert same.stdout == ""
    changed = kubectl.run("diff", "-f", "-", input=deployment(namespace, image="nginx:2"), check=False)
    assert changed.returncode == 1, changed.stderr
    removed = [line for line in changed.stdout.splitlines() if line.startswith("-") and "image:" in line]
    added = [line for line in changed.stdout.splitlines() if line.startswith("+") and "image:" in line]
    assert [line.split("image:")[1].strip() for line in removed] == ["nginx:1.25"]
    assert [line.split("image:")[1].strip() for line in added] == ["nginx:2"]
    # diff is a dry run: nothing changed on the server
    obj = kubectl.json("get", "deployment", "web", "-n", namespace)
    assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"


def test_protobuf_generators_get_415_with_a_clear_message(kubectl: Kubectl, namespace: str) -> None:
    out = kubectl.run("create", "configmap", "gen", "-n", namespace, "--from-literal=a=b", check=False)
    assert out.returncode != 0
    assert "UnsupportedMediaType" in out.stderr or "unknown format" in out.stderr


def test_unknown_field_is_refused_by_default_strict_validation(kubectl: Kubectl, namespace: str) -> None:
    bad = deployment(namespace).replace("  replicas: 2\n", "  replicas: 2\n  bogus: 1\n")
    out = kubectl.run("apply", "-f", "-", input=bad, check=False)
    assert out.returncode != 0
    assert 'unknown field "spec.bogus"' in out.stderr
    assert kubectl.run("get", "deployment", "web", "-n", namespace, check=False).returncode == 1


def test_invalid_strategy_both_zero_is_422(kubectl: Kubectl, namespace: str) -> None:
    bad = deployment(namespace).replace(
        "  replicas: 2\n", "  replicas: 2\n  strategy:\n    rollingUpdate: {maxSurge: 0, maxUnavailable: 0}\n"
    )
    out = kubectl.run("apply", "-f", "-", input=bad, check=False)
    assert out.returncode != 0
    assert (
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"
        in out.stderr
    )


def test_custom_resource_served_after_crd(kubectl: Kubectl, namespace: str) -> None:
    crd = textwrap.dedent(
        """\
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: widgets.example.com}
        spec:
          group: example.com
          scope: Namespaced
          names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
          versions:
          - name: v1
            served: true
            storage: true
            additionalPrinterColumns:
            - {name: Size, type: integer, jsonPath: .spec.size}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      size: {type: integer}
        """
    )
    kubectl.run("apply", "-f", "-", input=crd)
    kubectl.run("wait", "crd/widgets.example.com", "--for=condition=Established", "--timeout=10s")
    widget = f"apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w1, namespace: {namespace}}}\nspec: {{size: 3}}\n"
    assert kubectl.run("apply", "-f", "-", input=widget).stdout.strip() == "widget.example.com/w1 created"
    table = kubectl.run("get", "wd", "-n", namespace).stdout.splitlines()
    # Declared printer columns replace the default Age column (the CRD docs' example declares
    # its own Age column for that reason).
    assert table[0].split() == ["NAME", "SIZE"]
    assert table[1].split()[:2] == ["w1", "3"]
