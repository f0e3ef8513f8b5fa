"""Every broken manifest set under tests/data/bad is refused with a clear error naming the file
(and the line, where one applies). Each set is a checkout of its own: load it with default
options at ".", validate it against a 1.32 cluster's kinds; the engine's tests reuse these sets
to assert that none of them reaches the cluster."""

from __future__ import annotations

import importlib.util
import time

import pytest

from gitops import manifests
from tests.manifests.conftest import BAD, cluster_scope

HELM = importlib.util.find_spec("helm_python") is not None

# case -> (file, line or None when the problem is the whole file, words the message contains)
EXPECTED: dict[str, tuple[str, int | None, str]] = {
    "bad-merge-key": ("configmap.yaml", 5, "map merge requires map"),
    "bad-namespace-name": ("namespace.yaml", 1, "invalid Namespace name"),
    "bad-object-name": ("deployment.yaml", 1, "invalid Deployment name"),
    "billion-laughs": ("lol.yaml", 12, "excessive aliasing"),
    "crd-version-undefined": ("widget.yaml", 1, "does not define version v2"),
    "duplicate-key": ("deployment.yaml", 16, 'mapping key "image" already defined at line 15'),
    "duplicate-object": ("b.yaml", 2, "duplicate object: also defined at a.yaml (document 1, line 1)"),
    "generate-name": ("job.yaml", 1, "metadata.generateName is not supported"),
    "helm-broken-template": ("Chart.yaml", None, "configmap.yaml:4")
    if HELM
    else ("Chart.yaml", None, "pip install 'gitops[helm]'"),
    "helm-hook": ("templates/migrate.yaml", 1, "Helm hook 'pre-install, pre-upgrade' is not supported")
    if HELM
    else ("Chart.yaml", None, "pip install 'gitops[helm]'"),
    "invalid-label": ("configmap.yaml", 1, "metadata.labels: invalid key '-bad-key'"),
    "invalid-separator": ("configmaps.yaml", 5, "invalid document separator"),
    "json-duplicate-key": ("configmap.json", 1, 'duplicate key "name"'),
    "json-syntax": ("service.json", 5, "JSON syntax error"),
    "kustomize-broken": ("kustomization.yaml", None, "kubectl kustomize failed: accumulating resources"),
    "kustomize-escape": ("kustomization.yaml", 2, "leads outside the repository"),
    "kustomize-remote": ("kustomization.yaml", 2, "fetched from a remote location at build time"),
    "list-item-missing-kind": ("list.yaml", 8, "kind is missing"),
    "missing-apiversion": ("configmap.yaml", 2, "apiVersion is missing"),
    "missing-kind": ("configmap.yaml", 1, "kind is missing"),
    "missing-name": ("service-account.yaml", 1, "metadata.name is missing"),
    "namespace-on-cluster-scoped": (
        "clusterrole.yaml",
        1,
        "is cluster-scoped and cannot have metadata.namespace",
    ),
    "nan-value": ("hpa.yaml", 6, "NaN and infinite numbers cannot be sent"),
    "nested-kustomization": ("overlay", None, "is a kustomization inside a plain-manifest app"),
    "not-a-mapping": ("list.yaml", 6, "document is a list, not a Kubernetes object"),
    "not-utf8": ("configmap.yaml", 6, "not UTF-8 text"),
    "oversize": ("configmap.yaml", None, "over the limit of 5242880 (LoadOptions.max_file_bytes)"),
    "schema-unknown-field": ("deployment.yaml", 1, "spec.replica: unknown field"),
    "secret-bad-base64": ("secret.yaml", 1, "data.password: not valid base64"),
    "secret-schema-type": ("secret.yaml", 1, "stringData.pin: expected string, got integer"),
    "service-name-dns1035": ("service.yaml", 1, "a DNS-1035 label must consist of"),
    "symlink-dir-escape": ("shared", None, "symlink points outside the repository"),
    "symlink-escape": ("leak.yaml", None, "symlink points outside the repository"),
    "tabs-in-yaml": ("configmap.yaml", 4, "found character that cannot start any token"),
    "too-deep": ("configmap.yaml", 6, "nested more than 200 levels deep"),
    "unknown-anchor": ("configmap.yaml", 5, "unknown anchor 'defaults'"),
    "unknown-kind": (
        "widget.yaml",
        1,
        "unknown kind: the cluster serves no Widget in widgets.example.com/v1",
    ),
    "yaml-syntax": ("configmap.yaml", 7, "found unexpected end of stream"),
}

# values seeded in bad sets that must never appear in an error message
SECRETS = ["hunter2-not-base64!", "987654321", "s3cr3t-token-value"]


def test_every_bad_set_has_an_expectation() -> None:
    cases = {p.name for p in BAD.iterdir() if p.is_dir()}
    assert cases == set(EXPECTED)
    assert len(cases) >= 20


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_bad_set_is_refused_naming_file_and_line(case: str) -> None:
    path, line, words = EXPECTED[case]
    started = time.monotonic()
    with pytest.raises(manifests.ManifestError) as caught:
        manifests.validate(manifests.load(BAD / case), scope=cluster_scope)
    assert time.monotonic() - started < 10, "a broken set must fail fast"
    error = caught.value
    assert error.exit_code == 2
    matching = [p for p in error.problems if words in p.message]
    assert matching, f"no problem says {words!r}:\n{error}"
    problem = matching[0]
    assert problem.origin.path == path
    assert problem.origin.line == (line or 0)
    where = f"{path} (document {problem.origin.index + 1}, line {line})" if line else path
    assert f"{where}: " in str(error)
    for secret in SECRETS:
        assert secret not in str(error)
