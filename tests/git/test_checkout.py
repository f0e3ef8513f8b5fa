"""Checkouts: the tree at one commit, in a directory of its own, exactly as committed."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from gitops.errors import PathNotFound
from gitops.git import Source
from tests.git.conftest import Symlink, Upstream


def test_checkout_exports_the_tree_at_the_revision(source: Source, upstream: Upstream) -> None:
    v1 = upstream.commit({"apps/web/deploy.yaml": "replicas: 1", "apps/db/db.yaml": "db: 1"})
    upstream.tag("v1", v1)
    upstream.commit({"apps/web/deploy.yaml": "replicas: 3", "apps/web/svc.yaml": "svc: 1"})

    with (
        source.checkout(upstream.url, "v1", "apps/web") as old,
        source.checkout(upstream.url, "main", "apps/web") as new,
    ):
        assert old.path == old.root / "apps" / "web" and old.commit.sha == v1 and old.revision == v1
        assert sorted(p.name for p in old.path.iterdir()) == ["deploy.yaml"]
        assert (old.path / "deploy.yaml").read_text() == "replicas: 1"
        assert sorted(p.name for p in new.path.iterdir()) == ["deploy.yaml", "svc.yaml"]
        assert (new.path / "deploy.yaml").read_text() == "replicas: 3"
        # the whole tree is there: kustomize overlays reach outside the app's path
        assert (new.root / "apps" / "db" / "db.yaml").read_text() == "db: 1"
        assert old.root != new.root


def test_cleanup_removes_the_tree_and_leaves_the_cache(source: Source, upstream: Upstream) -> None:
    upstream.commit({"a.yaml": "v: 1"})
    co = source.checkout(upstream.url, "main", "")
    assert (co.root / "a.yaml").exists()
    co.cleanup()
    co.cleanup()  # idempotent
    assert not co.root.exists()
    with source.checkout(upstream.url, "main") as again:
        assert (again.root / "a.yaml").exists()
    assert source.operation_counts()["fetch"] == 1


def test_symlinks_stay_symlinks_even_when_they_escape(source: Source, upstream: Upstream) -> None:
    upstream.commit(
        {
            "base/cm.yaml": "kind: ConfigMap",
            "app/inside.yaml": Symlink("../base/cm.yaml"),
            "app/escape.yaml": Symlink("../../../../etc/passwd"),
            "app/absolute.yaml": Symlink("/etc/hostname"),
            "app/linkdir": Symlink("../base"),
            "app/run.sh": "#!/bin/sh\n",
        },
        executable=("app/run.sh",),
    )
    with source.checkout(upstream.url, "main", "app") as co:
        for name, target in {
            "inside.yaml": "../base/cm.yaml",
            "escape.yaml": "../../../../etc/passwd",
            "absolute.yaml": "/etc/hostname",
            "linkdir": "../base",
        }.items():
            assert (co.path / name).is_symlink(), name
            assert os.readlink(co.path / name) == target
        assert (co.path / "inside.yaml").read_text() == "kind: ConfigMap"
        assert os.access(co.path / "run.sh", os.X_OK)


def test_export_ignore_attributes_do_not_hide_manifests(source: Source, upstream: Upstream) -> None:
    upstream.commit(
        {
            ".gitattributes": "secret.yaml export-ignore\nsubst.yaml export-subst\n",
            "secret.yaml": "kind: Secret",
            "subst.yaml": "rev: $Format:%H$",
        }
    )
    with source.checkout(upstream.url, "main") as co:
        assert (co.root / "secret.yaml").read_text() == "kind: Secret"
        assert (co.root / "subst.yaml").read_text() == "rev: $Format:%H$"


def test_missing_path_names_url_revision_and_path(source: Source, upstream: Upstream) -> None:
    upstream.commit({"apps/web/a.yaml": "v: 1"})
    with pytest.raises(PathNotFound) as err:
        source.checkout(upstream.url, "main", "apps/api")
    message = str(err.value)
    assert "apps/api" in message and "main" in message and str(upstream.bare) in message


def test_path_that_was_deleted_at_the_revision_is_missing(source: Source, upstream: Upstream) -> None:
    first = upstream.commit({"apps/web/a.yaml": "v: 1"})
    upstream.commit({"apps/web/a.yaml": None})
    with source.checkout(upstream.url, first, "apps/web") as co:
        assert (co.path / "a.yaml").exists()
    with pytest.raises(PathNotFound):
        source.checkout(upstream.url, "main", "apps/web")


@pytest.mark.parametrize("path", ["../outside", "/etc", "apps/../../x"])
def test_path_must_stay_inside_the_repository(source: Source, upstream: Upstream, path: str) -> None:
    upstream.commit({"apps/a.yaml": "v: 1"})
    with pytest.raises(PathNotFound, match="inside the repository"):
        source.checkout(upstream.url, "main", path)


def test_no_checkout_directory_is_left_after_an_error(
    upstream: Upstream, tmp_path: Path, cache_dir: Path
) -> None:
    from gitops.git import GitOptions

    out = tmp_path / "checkouts"
    source = Source(GitOptions(cache_dir=cache_dir, checkout_dir=out))
    upstream.commit({"a.yaml": "v: 1"})
    with pytest.raises(PathNotFound):
        source.checkout(upstream.url, "main", "missing")
    with source.checkout(upstream.url, "main") as co:
        assert co.root.parent == out
    assert list(out.iterdir()) == []


def test_two_apps_on_one_repo_at_different_revisions_concurrently(source: Source, upstream: Upstream) -> None:
    revisions: dict[str, str] = {}
    for i in range(4):
        sha = upstream.commit({"apps/web/a.yaml": f"v: {i}", "apps/api/b.yaml": f"v: {i}"})
        upstream.tag(f"v{i}", sha)
        revisions[f"v{i}"] = f"v: {i}"
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def app(rev: str, path: str, name: str) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                with source.checkout(upstream.url, rev, path) as co:
                    assert (co.path / name).read_text() == revisions[rev]
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=app, args=(rev, path, name))
        for rev in revisions
        for path, name in (("apps/web", "a.yaml"), ("apps/api", "b.yaml"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
