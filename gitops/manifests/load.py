"""Render an app's path into objects: plain YAML/JSON, a kustomization, or a Helm chart (I/O:
reads files, runs ``kubectl kustomize``, calls Helm's engine in-process).

Which one is decided by the app's directory itself, as Argo CD decides: a kustomization file
(``kustomization.yaml``, ``kustomization.yml`` or ``Kustomization``) makes it a kustomization, else
a ``Chart.yaml`` makes it a Helm chart, else it is a directory of plain manifests read as
``kubectl apply -R -f DIR`` reads it: every ``.json``, ``.yaml`` and ``.yml`` file, recursively, in
``filepath.Walk`` order (names sorted byte-wise, a directory's files where its name sorts),
symlinked directories not followed (``filepath.Walk`` does not), empty documents skipped, any
other document an object (or an error). Two deliberate differences: ``.git`` is never read, and a
subdirectory that is a kustomization or a chart is reported as such rather than read as broken
manifests. An app path that is a single file is read whatever its extension, as kubectl does.
"""

from __future__ import annotations

import os
from pathlib import Path

from gitops import errors, model
from gitops.manifests import helm, kustomize, reader

LoadOptions = reader.LoadOptions
_DEFAULTS = LoadOptions()


def load(root: Path, app_path: str = ".", options: LoadOptions = _DEFAULTS) -> list[model.Resource]:
    """The objects of ``app_path`` in the checkout at ``root``, in a stable order, each with its
    origin (file relative to ``root``, document index, line).

    Raises ``ManifestError`` listing every problem found (syntax, limits, paths that leave the
    checkout, a kustomize or Helm failure); objects are not validated here (see ``validate``)."""
    try:
        top = Path(os.path.realpath(root, strict=True))
    except OSError:
        raise errors.ManifestError(
            [errors.Problem(model.Origin(str(root), 0, 0), None, "repository checkout not found")]
        ) from None
    r = reader.Reader(top, options)
    target = _app_dir(r, app_path)
    if target is not None:
        if target.is_file():
            text = r.read_text(target)
            if text is not None:
                r.add_text(text, r.rel(target))
        elif (kfile := kustomize.kustomization_file(target)) is not None:
            kustomize.build(r, target, kfile)
        elif (target / "Chart.yaml").is_file():
            helm.render(r, target)
        else:
            _plain_dir(r, target)
    if r.problems:
        raise errors.ManifestError(r.problems)
    return r.resources


def _app_dir(r: reader.Reader, app_path: str) -> Path | None:
    """The app's path inside the checkout, or None with a problem: absolute paths, ``..`` that
    climbs out, and symlinks that lead out are refused."""
    where = app_path or "."
    if os.path.isabs(where):
        r.problem(where, "app path must be relative to the repository")
        return None
    norm = os.path.normpath(where)
    if norm == ".." or norm.startswith(".." + os.sep):
        r.problem(where, "app path leaves the repository; refused")
        return None
    path = r.root / norm
    if not os.path.lexists(path):
        r.problem(where, "app path does not exist in the repository")
        return None
    if not r.inside(path):
        r.problem(where, "app path is a symlink that leads outside the repository; refused")
        return None
    if not (path.is_dir() or path.is_file()):
        r.problem(where, "app path is neither a directory nor a file")
        return None
    return Path(os.path.realpath(path))


def _plain_dir(r: reader.Reader, top: Path) -> None:
    for path in _walk(r, top):
        text = r.read_text(path)
        if text is not None:
            r.add_text(text, r.rel(path))


def _walk(r: reader.Reader, directory: Path) -> list[Path]:
    """Manifest files under ``directory`` in kubectl's order. Symlinks that lead outside the
    checkout are refused; symlinked directories inside it are not followed (kubectl's walk does
    not); a symlinked file is read as the file it points to."""
    out: list[Path] = []
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as e:
        r.problem(r.rel(directory), f"cannot list directory: {e.strerror or e}")
        return out
    for entry in entries:
        path = Path(entry.path)
        if entry.is_symlink():
            if not r.inside(path):
                r.problem(r.rel(path), "symlink points outside the repository; refused")
            elif path.is_file() and path.suffix in reader.MANIFEST_EXTENSIONS:
                out.append(path)
        elif entry.is_dir():
            if entry.name == ".git":
                continue
            if kustomize.kustomization_file(path) or (path / "Chart.yaml").is_file():
                what = "a kustomization" if kustomize.kustomization_file(path) else "a Helm chart"
                r.problem(
                    r.rel(path),
                    f"is {what} inside a plain-manifest app; it is not built here: point an app's path at it",
                )
                continue
            out.extend(_walk(r, path))
        elif entry.is_file() and path.suffix in reader.MANIFEST_EXTENSIONS:
            out.append(path)
    return out
