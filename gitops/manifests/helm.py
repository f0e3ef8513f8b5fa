"""Helm charts, rendered with Helm's own engine through the optional ``helm-python-sdk`` package
(``pip install 'gitops[helm]'``) (I/O: reads the chart; Helm runs in-process, offline).

What ``helm install`` would create is what we apply: the chart's ``crds/`` first (as Helm installs
them, and as ``helm template --include-crds`` prints them), then every rendered template in path
order, without partials (``_*``), ``NOTES.txt`` or empty output. Test hooks (``helm.sh/hook: test``,
``test-success``, ``test-failure``) are dropped, as a sync never runs ``helm test``. Other hooks
are refused, naming the document: running them right needs hook phases, weights and delete
policies, which a GitOps sync does not have; applying them as plain objects would run a
``pre-install`` Job after the release, or on every sync. Remove the hook annotation to apply such
an object as an ordinary one.

Values: the chart's ``values.yaml``, then ``LoadOptions.helm_values`` (paths relative to the
chart, inside the checkout) merged in order as ``helm -f a -f b`` merges them. The whole chart
directory is checked first: no symlink leaving the checkout (Helm's loader follows symlinks and
would read the target into ``.Files``), no file over the size limit.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Any

from gitops import model
from gitops.manifests import documents, reader

TEST_HOOKS = frozenset({"test", "test-success", "test-failure"})
HOOK_ANNOTATION = "helm.sh/hook"
_EXTRA_HINT = "rendering Helm charts needs the optional extra: pip install 'gitops[helm]'"


def render(r: reader.Reader, chart_dir: Path) -> None:
    """Adds the objects the chart at ``chart_dir`` renders to, or problems."""
    chart_rel = r.rel(chart_dir)
    chart_yaml = posixpath.join(chart_rel, "Chart.yaml") if chart_rel != "." else "Chart.yaml"
    try:
        import helm_python
    except ImportError:
        r.problem(chart_yaml, f"this app is a Helm chart, and {_EXTRA_HINT}")
        return
    before = len(r.problems)
    r.check_tree(chart_dir, sizes=True)
    values = _values(r, chart_dir)
    if len(r.problems) > before:
        return
    try:
        with helm_python.Chart.load(str(chart_dir)) as chart:
            release = r.options.helm_release or chart.name
            helm_python.validate_release_name(release)
            crds = chart.crds
            rendered = chart.render(values, name=release, namespace=r.options.helm_namespace, is_install=True)
    except helm_python.HelmError as e:
        r.problem(chart_yaml, f"helm: {_clean(str(e.detail), r.root)}")
        return
    for crd in crds:
        r.add_text(crd["data"], _source(chart_rel, crd["filename"]))
    for name in sorted(rendered):
        base = posixpath.basename(name)
        text = rendered[name]
        if base.startswith("_") or name.endswith("NOTES.txt") or not text.strip():
            continue
        r.add_text(text, _source(chart_rel, name), keep=lambda body, origin: _not_a_hook(r, body, origin))


def _source(chart_rel: str, name: str) -> str:
    """Helm names outputs ``<chart name>/templates/x.yaml``; we name the file in the checkout."""
    inner = name.split("/", 1)[1] if "/" in name else name
    return inner if chart_rel == "." else posixpath.join(chart_rel, inner)


def _not_a_hook(r: reader.Reader, body: dict[str, Any], origin: model.Origin) -> bool:
    meta = body.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    hook = annotations.get(HOOK_ANNOTATION) if isinstance(annotations, dict) else None
    if not hook:
        return True
    events = {e.strip() for e in str(hook).split(",") if e.strip()}
    if events <= TEST_HOOKS:
        return False
    others = ", ".join(sorted(events - TEST_HOOKS))
    r.problem(
        origin.path,
        f"Helm hook '{others}' is not supported: a sync has no hook phases; remove the "
        f"{HOOK_ANNOTATION} annotation to apply it as an ordinary object, or drop the template",
        index=origin.index,
        line=origin.line,
        key=reader.key_of(body),
    )
    return False


def _values(r: reader.Reader, chart_dir: Path) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for name in r.options.helm_values:
        path = chart_dir / name
        rel = r.rel(path)
        if os.path.isabs(name) or not r.inside(path):
            r.problem(name, "values file leads outside the repository; refused")
            continue
        if not path.is_file():
            r.problem(rel, "values file not found")
            continue
        text = r.read_text(path)
        if text is None:
            continue
        doc = documents.parse_one(text, budget=r.budget, max_depth=r.options.max_depth)
        if doc.error:
            r.problem(rel, doc.error, line=doc.line)
        elif doc.value is not None and not isinstance(doc.value, dict):
            r.problem(rel, "values file must be a mapping", line=doc.line)
        elif doc.value:
            merged = merge_values(merged, doc.value)
    return merged


def merge_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's ``mergeMaps``: maps merge key by key, anything else replaces."""
    out = dict(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge_values(out[k], v)
        else:
            out[k] = v
    return out


def _clean(message: str, root: Path) -> str:
    return message.replace(str(root) + os.sep, "").replace(str(root), ".")
