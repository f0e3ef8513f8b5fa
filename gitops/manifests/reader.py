"""The state of one ``load``: the checkout, its limits, and the problems and resources found so far
(I/O: reads files).

Every path that is read goes through here, so the rules hold everywhere: nothing outside the
checkout is read (symlinks are resolved and checked), no file above ``max_file_bytes`` is read,
alias expansion shares one budget, and the document count is bounded. Problems are collected,
not raised, so one load reports all of them.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops import errors, model
from gitops.manifests import documents


@dataclass(frozen=True)
class LoadOptions:
    """How ``load`` reads an app's path. The limits make a broken or hostile commit fail fast
    instead of exhausting the engine; every one is reported with the option's name.

    - ``max_file_bytes``: the largest file read (manifests, values files, chart files).
    - ``max_documents``: the most objects one load may produce (after ``List`` expansion).
    - ``max_alias_nodes``: the most nodes YAML alias expansion may add, across everything one
      load reads (a billion-laughs file fails after this much work).
    - ``max_depth``: the deepest nesting of mappings and sequences in a document.
    - ``kubectl``: the kubectl binary that builds kustomizations (``kubectl kustomize``).
    - ``kustomize_timeout``: seconds ``kubectl kustomize`` may run before it is killed.
    - ``kustomize_remote``: allow kustomize resources fetched from a URL at build time; off by
      default because they are not part of the commit being synced.
    - ``helm_values``: values files for a Helm chart, relative to the chart, applied in order
      (later files win, maps merge as ``helm -f`` merges them).
    - ``helm_release``: the release name templates see (``.Release.Name``); the chart's name
      when empty. Set it to the app's name, as Argo CD does.
    - ``helm_namespace``: ``.Release.Namespace``; set it to the namespace ``validate`` defaults to.
    """

    max_file_bytes: int = 5 * 1024 * 1024
    max_documents: int = 10_000
    max_alias_nodes: int = 1_000_000
    max_depth: int = 200
    kubectl: str = "/usr/bin/kubectl"
    kustomize_timeout: float = 60
    kustomize_remote: bool = False
    helm_values: tuple[str, ...] = ()
    helm_release: str = ""
    helm_namespace: str = "default"


MANIFEST_EXTENSIONS = (".json", ".yaml", ".yml")  # kubectl apply -f DIR reads these, and only these


class Reader:
    """One load's context. ``root`` is the resolved checkout; origins are relative to it."""

    def __init__(self, root: Path, options: LoadOptions) -> None:
        self.root = root
        self.options = options
        self.problems: list[errors.Problem] = []
        self.resources: list[model.Resource] = []
        self.budget = documents.Budget(options.max_alias_nodes)
        self.full = False  # max_documents reached: stop adding

    # --- paths ---

    def rel(self, path: Path | str) -> str:
        """``path`` relative to the checkout, with ``/`` separators (the checkout itself is ``.``)."""
        rel = os.path.relpath(path, self.root)
        return "." if rel == "." else Path(rel).as_posix()

    def inside(self, path: Path | str) -> bool:
        """Whether ``path``, with every symlink resolved, is the checkout or inside it."""
        real = os.path.realpath(path)
        return real == str(self.root) or real.startswith(str(self.root) + os.sep)

    def problem(
        self, path: str, message: str, *, index: int = 0, line: int = 0, key: model.ResourceKey | None = None
    ) -> None:
        """Records a problem; ``line`` 0 means the whole file or path."""
        self.problems.append(errors.Problem(model.Origin(path, index, line), key, message))

    def check_tree(self, top: Path, *, sizes: bool) -> None:
        """Refuses symlinks under ``top`` that lead outside the checkout, and (with ``sizes``)
        files over the size limit: for inputs a tool reads whole (a Helm chart)."""
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if d != ".git")
            for name in sorted(dirnames + filenames):
                path = os.path.join(dirpath, name)
                if os.path.islink(path) and not self.inside(path):
                    self.problem(self.rel(path), "symlink points outside the repository; refused")
                elif sizes and name in filenames and os.path.isfile(path):
                    size = os.path.getsize(path)
                    if size > self.options.max_file_bytes:
                        self.problem(self.rel(path), self._too_big(size))

    def _too_big(self, size: int) -> str:
        return f"file is {size} bytes, over the limit of {self.options.max_file_bytes} (LoadOptions.max_file_bytes)"

    # --- files ---

    def read_text(self, path: Path) -> str | None:
        """The text of a file in the checkout, or None (with a problem recorded) when it is outside
        the checkout, too big, unreadable or not text. UTF-8 with or without BOM, or UTF-16 with a
        BOM, as go-yaml accepts."""
        rel = self.rel(path)
        if not self.inside(path):
            self.problem(rel, "symlink points outside the repository; refused")
            return None
        limit = self.options.max_file_bytes
        try:
            with open(path, "rb") as f:
                data = f.read(limit + 1)
                if len(data) > limit:
                    self.problem(rel, self._too_big(os.fstat(f.fileno()).st_size))
                    return None
        except OSError as e:
            self.problem(rel, f"cannot read: {e.strerror or e}")
            return None
        return self.decode(data, rel)

    def decode(self, data: bytes, rel: str) -> str | None:
        try:
            if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                return data.decode("utf-16")
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = data.count(b"\n", 0, e.start) + 1
            self.problem(rel, "not UTF-8 text (invalid byte sequence)", line=line)
            return None

    # --- documents ---

    def add_text(
        self,
        text: str,
        rel: str,
        *,
        keep: Callable[[dict[str, Any], model.Origin], bool] | None = None,
    ) -> None:
        """Adds the objects of one file's text (or of a tool's output): every document, with
        ``List``-like documents expanded as kubectl does. ``keep`` may drop an object (and record
        a problem); it sees every object after expansion."""
        if self.full:
            return
        for doc in documents.parse(text, budget=self.budget, max_depth=self.options.max_depth):
            if doc.error:
                self.problem(rel, doc.error, index=doc.index, line=doc.line)
            elif doc.value is not None:
                self._add_object(doc.value, model.Origin(rel, doc.index, doc.line), doc.item_lines, keep)

    def _add_object(
        self,
        value: Any,
        origin: model.Origin,
        item_lines: tuple[int, ...],
        keep: Callable[[dict[str, Any], model.Origin], bool] | None,
    ) -> None:
        if self.full:
            return
        if not isinstance(value, dict):
            what = "a list" if isinstance(value, list) else "a scalar"
            self.problem(
                origin.path,
                f"document is {what}, not a Kubernetes object",
                index=origin.index,
                line=origin.line,
            )
            return
        if "items" in value:
            self._expand_list(value, origin, item_lines, keep)
            return
        if keep is not None and not keep(value, origin):
            return
        if len(self.resources) >= self.options.max_documents:
            self.problem(
                origin.path,
                f"more than {self.options.max_documents} objects (LoadOptions.max_documents); stopped reading",
                index=origin.index,
                line=origin.line,
            )
            self.full = True
            return
        self.resources.append(model.Resource(key_of(value), value, origin))

    def _expand_list(
        self,
        value: dict[str, Any],
        origin: model.Origin,
        item_lines: tuple[int, ...],
        keep: Callable[[dict[str, Any], model.Origin], bool] | None,
    ) -> None:
        """kubectl decodes any object with an ``items`` field as a list (``kind: List``,
        ``ConfigMapList``, ...) and applies its items; an item with neither kind nor apiVersion
        takes the list's apiVersion and its kind without the ``List`` suffix."""
        items = value["items"]
        if items is None:
            return
        if not isinstance(items, list):
            self.problem(origin.path, "items of a List must be a list", index=origin.index, line=origin.line)
            return
        api_version = value.get("apiVersion")
        kind = value.get("kind")
        item_kind = kind.removesuffix("List") if isinstance(kind, str) else ""
        for i, item in enumerate(items):
            line = item_lines[i] if i < len(item_lines) else origin.line
            item_origin = model.Origin(origin.path, origin.index, line)
            if isinstance(item, dict) and not item.get("kind") and not item.get("apiVersion"):
                item = {**item, "kind": item_kind, "apiVersion": api_version}
            self._add_object(item, item_origin, (), keep)


def key_of(body: dict[str, Any]) -> model.ResourceKey:
    """``ResourceKey.of``, tolerant of the malformed bodies validation reports later (a metadata
    that is not a mapping, a kind that is not a string)."""
    api_version = body.get("apiVersion")
    api_version = api_version if isinstance(api_version, str) else ""
    meta = body.get("metadata")
    meta = meta if isinstance(meta, dict) else {}

    def text(v: Any) -> str:
        return v if isinstance(v, str) else ""

    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return model.ResourceKey(
        group, text(body.get("kind")), text(meta.get("namespace")), text(meta.get("name"))
    )
