"""What we load is what kubectl would send: ``kubectl apply --dry-run=client -o json -R -f DIR``
against the local cluster prints the objects as kubectl decoded them, and our load (with the
namespace ``validate`` defaults) must equal them value for value, in the same order."""

from __future__ import annotations

from typing import Any

import pytest

from gitops import manifests
from tests.conftest import Kubectl
from tests.manifests.conftest import GOOD, cluster_scope

pytestmark = pytest.mark.kubectl

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _kubectl_objects(kubectl: Kubectl, path: str) -> list[dict[str, Any]]:
    # --validate=false: we compare decoding; the local cluster cannot yet answer kubectl's
    # client-side validation of a kind: List document
    out = kubectl.json("apply", "--dry-run=client", "--validate=false", "-R", "-f", path)
    objects: list[dict[str, Any]] = out["items"] if out.get("kind") == "List" and "items" in out else [out]
    for obj in objects:
        meta = obj["metadata"]
        annotations = meta.get("annotations", {})
        annotations.pop(LAST_APPLIED, None)
        if not annotations:
            meta.pop("annotations", None)
    return objects


@pytest.mark.parametrize("case", ["plain-multi-doc", "list", "json", "nested", "yaml-quirks"])
def test_loaded_objects_equal_what_kubectl_sends(kubectl: Kubectl, case: str) -> None:
    ours = manifests.validate(manifests.load(GOOD / case), scope=cluster_scope, default_namespace="default")
    assert [r.body for r in ours] == _kubectl_objects(kubectl, str(GOOD / case))


def test_yaml_1_1_scalars_and_keys_equal_what_kubectl_sends(kubectl: Kubectl, tmp_path: Any) -> None:
    (tmp_path / "quirks.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: quirks\n"
        "  labels: &l {a: '1', b: '1'}\n  annotations:\n    b: '0'\n    <<: *l\n    a: '9'\n"
        "    ts: 2001-12-14t21:59:43.10-05:00\n    sexagesimal: 1:20\n    eq: =\n"
        "binaryData:\n  y: aGVsbG8=\n  1e6: aGVsbG8=\n  0x10: aGVsbG8=\n  1.5: aGVsbG8=\nimmutable: On\n"
    )
    [ours] = manifests.load(tmp_path)  # not validated: "1e+06" is no valid data key, but kubectl sends it
    expected = {**ours.body, "metadata": {**ours.body["metadata"], "namespace": "default"}}
    assert [expected] == _kubectl_objects(kubectl, str(tmp_path / "quirks.yaml"))
