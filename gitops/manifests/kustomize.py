"""Kustomizations, built with ``kubectl kustomize DIR`` (I/O: runs a subprocess).

kubectl runs with a clean environment (no kubeconfig, no credentials, a throwaway HOME), a
timeout, and its default load restrictor (files must sit under the kustomization that names
them; kustomize enforces that itself, symlinks included). What kustomize does allow, and we refuse
before running it: a ``resources``/``bases``/``components`` directory that resolves outside the
checkout, and (unless ``LoadOptions.kustomize_remote``) a remote base fetched at build time, which
is not part of the commit being synced. Failures are reported with kubectl's own message.

The objects' origins name the kustomization file; their document index and line are those of the
build output (``kubectl kustomize DIR`` shows it).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from gitops.manifests import documents, reader

FILE_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")  # kustomize's own list
_STDERR_LIMIT = 4000
_KLOG = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ [^\]]+\] ")
_KLOG_ERR = re.compile(r'"command failed" err="(.*)"$')
_REMOTE = re.compile(r"^([a-z][a-z0-9+.-]*://|git@|gh:|[a-z0-9-]+(\.[a-z0-9-]+)+/)", re.IGNORECASE)


def kustomization_file(directory: Path) -> Path | None:
    """The directory's kustomization file, or None when it is not a kustomization."""
    for name in FILE_NAMES:
        path = directory / name
        if path.is_file():
            return path
    return None


def build(r: reader.Reader, directory: Path, kfile: Path) -> None:
    """Adds the objects ``kubectl kustomize directory`` builds, or problems."""
    rel = r.rel(kfile)
    before = len(r.problems)
    _check_references(r, directory, set())
    if len(r.problems) > before:
        return
    kubectl = r.options.kubectl
    if not os.access(kubectl, os.X_OK):
        r.problem(
            rel,
            f"building a kustomization needs kubectl, and {kubectl} is not executable (LoadOptions.kubectl)",
        )
        return
    with tempfile.TemporaryDirectory(prefix="gitops-kustomize-") as home:
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8"}
        try:
            proc = subprocess.run(
                [kubectl, "kustomize", str(directory)],
                capture_output=True,
                env=env,
                cwd=home,
                timeout=r.options.kustomize_timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            r.problem(
                rel,
                f"kubectl kustomize did not finish within {r.options.kustomize_timeout:g} s "
                "(LoadOptions.kustomize_timeout); killed",
            )
            return
        except OSError as e:
            r.problem(rel, f"cannot run {kubectl}: {e.strerror or e}")
            return
    if proc.returncode != 0:
        r.problem(rel, f"kubectl kustomize failed: {_clean(proc.stderr.decode('utf-8', 'replace'), r.root)}")
        return
    text = r.decode(proc.stdout, rel)
    if text is not None:
        r.add_text(text, rel)


def _clean(stderr: str, root: Path) -> str:
    """kubectl's message without klog's prefix or the checkout's absolute path, bounded."""
    lines = []
    for line in stderr.strip().splitlines():
        line = _KLOG.sub("", line)
        m = _KLOG_ERR.search(line)
        if m:
            line = m.group(1).replace('\\"', '"')
        lines.append(line.removeprefix("error: "))
    text = " ".join(lines).replace(str(root) + os.sep, "").replace(str(root), ".")
    if len(text) > _STDERR_LIMIT:
        text = text[:_STDERR_LIMIT] + " ..."
    return text or "(no message)"


def _check_references(r: reader.Reader, directory: Path, seen: set[str]) -> None:
    """Walks the kustomization graph (``resources``, ``bases``, ``components``) and refuses
    directories outside the checkout and, unless allowed, remote bases."""
    real = os.path.realpath(directory)
    if real in seen:
        return
    seen.add(real)
    kfile = kustomization_file(directory)
    if kfile is None:
        return
    text = r.read_text(kfile)
    if text is None:
        return
    doc = documents.parse_one(text, budget=r.budget, max_depth=r.options.max_depth)
    if not isinstance(doc.value, dict):
        return  # kustomize reports a broken kustomization better than we would
    rel = r.rel(kfile)
    for field in ("resources", "bases", "components"):
        entries: Any = doc.value.get(field)
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, str) or not entry:
                continue
            line = _line_of(text, entry)
            path = directory / entry
            if os.path.isabs(entry) or os.path.lexists(path):
                if not r.inside(path):
                    r.problem(
                        rel,
                        f"{field} entry '{entry}' leads outside the repository; refused",
                        index=0,
                        line=line,
                    )
                elif path.is_dir():
                    _check_references(r, path, seen)
            elif _REMOTE.match(entry) and not r.options.kustomize_remote:
                r.problem(
                    rel,
                    f"{field} entry '{entry}' is fetched from a remote location at build time, outside the commit "
                    "being synced; vendor it into the repository (or set LoadOptions.kustomize_remote)",
                    index=0,
                    line=line,
                )


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    return 1
