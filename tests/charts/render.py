"""The gitops chart rendered with Helm's own engine (helm-python-sdk, in-process, offline), as
`helm template` would: the objects of one release, for tests of the chart itself and for tests
that install its RBAC in the local cluster.

Bad values raise ``helm_python.HelmValuesError`` (values.schema.json) or
``helm_python.HelmRenderError`` (a template's ``fail``), with Helm's message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python
import yaml

CHART_DIR = Path(__file__).resolve().parents[2] / "charts" / "gitops"


def render_files(
    values: dict[str, Any] | None = None, namespace: str = "gitops", release: str = "gitops"
) -> dict[str, str]:
    """Every template's output by path (``gitops/templates/rbac.yaml``), NOTES.txt included."""
    with helm_python.Chart.load(str(CHART_DIR)) as chart:
        return chart.render(values or {}, name=release, namespace=namespace, is_install=True)


def render(
    values: dict[str, Any] | None = None, namespace: str = "gitops", release: str = "gitops"
) -> list[dict]:
    """The release's objects (what `helm install` would create), in template path order."""
    out: list[dict] = []
    for name, text in sorted(render_files(values, namespace, release).items()):
        if name.endswith("NOTES.txt") or Path(name).name.startswith("_"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc is None:
                continue
            if not isinstance(doc, dict):
                raise ValueError(f"{name}: a rendered document is not a mapping: {doc!r}")
            out.append(doc)
    return out


def notes(values: dict[str, Any] | None = None, namespace: str = "gitops", release: str = "gitops") -> str:
    """What `helm install` prints after installing (NOTES.txt)."""
    return render_files(values, namespace, release)["gitops/templates/NOTES.txt"]


def lint(values: dict[str, Any] | None = None, namespace: str = "gitops") -> dict[str, Any]:
    """`helm lint --strict` (missing value keys are errors, warnings count) for Kubernetes 1.32."""
    return helm_python.lint(
        str(CHART_DIR), values or {}, strict=True, namespace=namespace, kube_version="v1.32.0"
    )


def find(objects: list[dict], kind: str, name: str | None = None, namespace: str | None = None) -> list[dict]:
    """The objects of ``kind`` (and ``name``/``namespace`` when given)."""
    return [
        o
        for o in objects
        if o.get("kind") == kind
        and (name is None or o["metadata"]["name"] == name)
        and (namespace is None or o["metadata"].get("namespace") == namespace)
    ]


def one(objects: list[dict], kind: str, name: str | None = None, namespace: str | None = None) -> dict:
    found = find(objects, kind, name, namespace)
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]
