"""Rendering an app's path: plain directories as ``kubectl apply -R -f`` reads them, kustomizations
through ``kubectl kustomize``, Helm charts through Helm's engine; paths and limits."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from gitops import manifests
from gitops.manifests import helm
from gitops.model import Resource
from tests.manifests.conftest import GOOD, cluster_scope


def keys(resources: list[Resource]) -> list[str]:
    return [str(r.key) for r in resources]


def origins(resources: list[Resource]) -> list[str]:
    return [str(r.origin) for r in resources]


def problems(error: pytest.ExceptionInfo[manifests.ManifestError]) -> list[str]:
    return [str(p) for p in error.value.problems]


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n"


def test_plain_multi_document_file_skips_empty_documents() -> None:
    rs = manifests.load(GOOD / "plain-multi-doc")
    assert keys(rs) == ["Deployment/web", "Service/web"]
    assert origins(rs) == ["web.yaml (document 1, line 3)", "web.yaml (document 3, line 26)"]
    deployment = rs[0].body
    labels = {"app.kubernetes.io/name": "web"}
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    assert deployment["spec"]["template"]["metadata"]["labels"] == labels


def test_lists_are_expanded_and_typed_list_items_take_their_kind() -> None:
    rs = manifests.load(GOOD / "list")
    assert keys(rs) == ["ConfigMap/one", "ConfigMap/two", "ConfigMap/three"]
    assert origins(rs) == [
        "configmaps.yaml (document 1, line 4)",
        "configmaps.yaml (document 1, line 9)",
        "configmaps.yaml (document 2, line 19)",
    ]
    assert rs[2].body["apiVersion"] == "v1" and rs[2].body["kind"] == "ConfigMap"


def test_json_streams_and_json_lists() -> None:
    rs = manifests.load(GOOD / "json")
    assert keys(rs) == ["ServiceAccount/runner", "ConfigMap/from-json", "Service/api"]
    assert rs[2].body["spec"]["ports"] == [{"port": 8080}]  # 8080.0 is sent as 8080
    assert type(rs[2].body["spec"]["ports"][0]["port"]) is int


def test_nested_directories_in_kubectl_walk_order_reading_only_manifest_extensions() -> None:
    rs = manifests.load(GOOD / "nested")
    assert origins(rs) == [
        "a/b/c/deep.yml (document 1, line 1)",
        "a/first.yaml (document 1, line 1)",
        "b.yaml (document 1, line 1)",
    ]


def test_yaml_quirks_load_as_kubectl_sends_them() -> None:
    [r] = manifests.validate(manifests.load(GOOD / "yaml-quirks"), scope=cluster_scope)
    body = r.body
    assert body["metadata"]["annotations"] == {
        "example.com/equals": "=",
        "example.com/date": "2024-01-15",
        "example.com/quoted-yes": "yes",
        "example.com/version": "1.10",
    }
    spec = body["spec"]
    assert (
        spec["paused"],
        spec["replicas"],
        spec["revisionHistoryLimit"],
        spec["progressDeadlineSeconds"],
    ) == (
        False,
        3,
        10,
        600,
    )
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Always" and pod["terminationGracePeriodSeconds"] == 30
    assert pod["containers"][0] == {
        "name": "app",
        "image": "busybox:1.36",
        "args": ["sleep", "3600"],
        "tty": True,
    }


def test_app_path_is_relative_to_the_root_and_origins_are_too() -> None:
    rs = manifests.load(GOOD, "nested/a")
    assert origins(rs) == [
        "nested/a/b/c/deep.yml (document 1, line 1)",
        "nested/a/first.yaml (document 1, line 1)",
    ]


def test_an_app_path_that_is_a_file_is_read_whatever_its_extension(tmp_path: Path) -> None:
    write(tmp_path, {"objects.txt": CM.format("a")})
    assert keys(manifests.load(tmp_path, "objects.txt")) == ["ConfigMap/a"]


@pytest.mark.parametrize("app_path", ["..", "../x", "a/../../x", "/etc"])
def test_an_app_path_leaving_the_repository_is_refused(tmp_path: Path, app_path: str) -> None:
    (tmp_path / "repo" / "a").mkdir(parents=True)
    with pytest.raises(manifests.ManifestError) as e:
        manifests.load(tmp_path / "repo", app_path)
    assert e.value.problems[0].origin.path == app_path
    assert "app path" in e.value.problems[0].message


def test_an_app_path_that_is_a_symlink_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"outside/cm.yaml": CM.format("secret")})
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "app").symlink_to(tmp_path / "outside")
    with pytest.raises(manifests.ManifestError) as e:
        manifests.load(tmp_path / "repo", "app")
    assert problems(e) == ["app: app path is a symlink that leads outside the repository; refused"]


def test_a_missing_app_path_or_checkout_is_reported(tmp_path: Path) -> None:
    with pytest.raises(manifests.ManifestError) as e:
        manifests.load(tmp_path, "nope")
    assert problems(e) == ["nope: app path does not exist in the repository"]
    with pytest.raises(manifests.ManifestError):
        manifests.load(tmp_path / "missing")


def test_symlinks_inside_the_checkout_files_read_directories_not_followed(tmp_path: Path) -> None:
    write(tmp_path, {"shared/cm.yaml": CM.format("shared"), "app/own.yaml": CM.format("own")})
    (tmp_path / "app" / "linked.yaml").symlink_to("../shared/cm.yaml")
    (tmp_path / "app" / "dir").symlink_to("../shared")
    rs = manifests.load(tmp_path, "app")
    assert origins(rs) == ["app/linked.yaml (document 1, line 1)", "app/own.yaml (document 1, line 1)"]


def test_git_metadata_is_never_read(tmp_path: Path) -> None:
    write(tmp_path, {".git/config.yaml": "not: [valid", "cm.yaml": CM.format("a")})
    assert keys(manifests.load(tmp_path)) == ["ConfigMap/a"]


def test_every_problem_of_every_file_is_reported(tmp_path: Path) -> None:
    write(tmp_path, {"a.yaml": "a: [1\n", "b.json": "{,}", "c.yaml": CM.format("fine") + "---\n- x\n"})
    with pytest.raises(manifests.ManifestError) as e:
        manifests.load(tmp_path)
    assert [p.origin.path for p in e.value.problems] == ["a.yaml", "b.json", "c.yaml"]


def test_limits_are_options(tmp_path: Path) -> None:
    write(tmp_path, {"a.yaml": "---\n".join(CM.format(f"c{i}") for i in range(5))})
    with pytest.raises(manifests.ManifestError) as e:
        manifests.load(tmp_path, options=manifests.LoadOptions(max_documents=3))
    assert "more than 3 objects (LoadOptions.max_documents)" in str(e.value)
    with pytest.raises(manifests.ManifestError) as e:
        manifests.load(tmp_path, options=manifests.LoadOptions(max_file_bytes=100))
    assert "(LoadOptions.max_file_bytes)" in str(e.value)


def test_utf16_and_bom_are_read(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(CM.format("sixteen").encode("utf-16"))
    (tmp_path / "b.yaml").write_bytes(b"\xef\xbb\xbf" + CM.format("bom").encode())
    assert keys(manifests.load(tmp_path)) == ["ConfigMap/sixteen", "ConfigMap/bom"]


# --- kustomize ---


def test_kustomize_overlay_over_a_base() -> None:
    rs = manifests.load(GOOD / "kustomize", "overlays/prod")
    assert keys(rs) == [
        "Namespace/prod",
        "ConfigMap/prod/prod-web-settings-tmk75tcf47",
        "Service/prod/prod-web",
        "Deployment/prod/prod-web",
    ]
    assert {r.origin.path for r in rs if r.origin} == {"overlays/prod/kustomization.yaml"}
    deployment = rs[3].body
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "web"}


def test_kustomize_is_killed_after_its_timeout(tmp_path: Path) -> None:
    fake = tmp_path / "kubectl"
    fake.write_text("#!/bin/sh\nsleep 5\n")
    fake.chmod(0o755)
    write(tmp_path / "repo", {"kustomization.yaml": "resources: []\n"})
    with pytest.raises(manifests.ManifestError) as e:
        manifests.load(
            tmp_path / "repo", options=manifests.LoadOptions(kubectl=str(fake), kustomize_timeout=0.5)
        )
    assert problems(e) == [
        "kustomization.yaml: kubectl kustomize did not finish within 0.5 s (LoadOptions.kustomize_timeout); killed"
    ]


def test_kustomize_sees_no_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "kubectl"
    fake.write_text("#!/bin/sh\nenv >&2\nexit 1\n")
    fake.chmod(0o755)
    write(tmp_path / "repo", {"kustomization.yaml": "resources: []\n"})
    monkeypatch.setenv("KUBECONFIG", "/secret/kubeconfig")
    with pytest.raises(manifests.ManifestError) as e:
        manifests.load(tmp_path / "repo", options=manifests.LoadOptions(kubectl=str(fake)))
    message = e.value.problems[0].message
    assert "PATH=/usr/bin:/bin" in message and "KUBECONFIG" not in message


def test_missing_kubectl_is_reported(tmp_path: Path) -> None:
    write(tmp_path, {"kustomization.yaml": "resources: []\n"})
    with pytest.raises(manifests.ManifestError) as e:
        manifests.load(tmp_path, options=manifests.LoadOptions(kubectl=str(tmp_path / "none")))
    assert "(LoadOptions.kubectl)" in str(e.value)


def test_a_kustomization_takes_precedence_over_a_chart(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources: [cm.yaml]\n",
            "Chart.yaml": "name: x\n",
            "cm.yaml": CM.format("k"),
        },
    )
    assert keys(manifests.load(tmp_path)) == ["ConfigMap/k"]


# --- helm ---


def _chart(**options: Any) -> list[Resource]:
    pytest.importorskip("helm_python")
    return manifests.load(GOOD / "helm", "web", manifests.LoadOptions(**options))


def test_helm_chart_renders_crds_first_without_tests_notes_or_partials() -> None:
    rs = _chart(helm_release="shop", helm_namespace="apps")
    assert keys(rs) == [
        "CustomResourceDefinition.apiextensions.k8s.io/widgets.example.com",
        "Deployment/shop",
        "Service/apps/shop",
        "Widget.example.com/shop",
    ]
    assert origins(rs) == [
        "web/crds/widgets.yaml (document 1, line 1)",
        "web/templates/deployment.yaml (document 1, line 1)",
        "web/templates/service.yaml (document 1, line 1)",
        "web/templates/widget.yaml (document 1, line 1)",
    ]
    deployment = rs[1].body
    assert deployment["spec"]["replicas"] == 1
    assert deployment["metadata"]["labels"] == {
        "app.kubernetes.io/name": "web",
        "app.kubernetes.io/instance": "shop",
    }
    # the CRD in the set makes the Widget's kind known
    desired = manifests.validate(rs, scope=cluster_scope, default_namespace="apps")
    assert str(desired[3].key) == "Widget.example.com/apps/shop"


def test_helm_values_files_merge_in_order_and_release_defaults_to_the_chart_name() -> None:
    rs = _chart(helm_values=("values-prod.yaml",))
    deployment = rs[1].body
    assert deployment["metadata"]["name"] == "web"
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27.1"


def test_helm_values_files_must_stay_in_the_repository() -> None:
    with pytest.raises(manifests.ManifestError) as e:
        _chart(helm_values=("../../../../../../etc/passwd", "missing.yaml"))
    assert problems(e) == [
        "../../../../../../etc/passwd: values file leads outside the repository; refused",
        "web/missing.yaml: values file not found",
    ]


def test_helm_chart_symlinks_out_of_the_repository_are_refused(tmp_path: Path) -> None:
    pytest.importorskip("helm_python")
    write(tmp_path / "outside", {"passwd": "root:x:0:0"})
    write(tmp_path / "repo", {"Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n"})
    (tmp_path / "repo" / "leak").symlink_to(tmp_path / "outside" / "passwd")
    with pytest.raises(manifests.ManifestError) as e:
        manifests.load(tmp_path / "repo")
    assert problems(e) == ["leak: symlink points outside the repository; refused"]


def test_helm_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "helm_python", None)
    with pytest.raises(manifests.ManifestError) as e:
        manifests.load(GOOD / "helm", "web")
    assert problems(e) == [
        "web/Chart.yaml: this app is a Helm chart, and rendering Helm charts needs the optional extra: "
        "pip install 'gitops[helm]'"
    ]


def test_helm_merge_values_is_helms_merge_maps() -> None:
    base = {"a": {"b": 1, "c": 2}, "l": [1], "s": "x"}
    assert helm.merge_values(base, {"a": {"c": 3}, "l": [2], "s": {"now": "map"}}) == {
        "a": {"b": 1, "c": 3},
        "l": [2],
        "s": {"now": "map"},
    }
