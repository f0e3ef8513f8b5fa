"""A local directory that is not a repository is used as it is, with a content revision."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitops.errors import PathNotFound, UnknownRevision
from gitops.git import Source
from tests.git.conftest import Upstream, git


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    root = tmp_path / "manifests"
    (root / "apps" / "web").mkdir(parents=True)
    (root / "apps" / "web" / "deploy.yaml").write_text("replicas: 1")
    (root / "apps" / "web" / "svc.yaml").write_text("port: 80")
    (root / "base.yaml").write_text("base: 1")
    return root


def test_checkout_is_the_directory_itself(source: Source, plain: Path, cache_dir: Path) -> None:
    with source.checkout(str(plain), "HEAD", "apps/web") as co:
        assert co.root == plain and co.path == plain / "apps" / "web"
        assert co.revision.startswith("dir:") and len(co.revision) == 4 + 64
        assert co.commit.author == ""
    assert (plain / "apps" / "web" / "deploy.yaml").exists()  # cleanup leaves it alone
    assert not cache_dir.exists()  # no git, no cache


def test_file_url_of_a_plain_directory_works(source: Source, plain: Path) -> None:
    with source.checkout(f"file://{plain}", "", "apps/web") as co:
        assert co.path == plain / "apps" / "web"


def test_dir_revision_is_stable_and_follows_content(source: Source, plain: Path, tmp_path: Path) -> None:
    rev = source.resolve(str(plain)).sha
    assert source.resolve(str(plain)).sha == rev
    assert source.ls_remote(str(plain)) == rev

    os.utime(plain / "base.yaml", (0, 0))  # timestamps are not content
    assert source.resolve(str(plain)).sha == rev

    (plain / "base.yaml").write_text("base: 2")
    changed = source.resolve(str(plain)).sha
    assert changed != rev
    (plain / "base.yaml").write_text("base: 1")
    assert source.resolve(str(plain)).sha == rev

    (plain / "base.yaml").rename(plain / "renamed.yaml")
    assert source.resolve(str(plain)).sha not in (rev, changed)
    (plain / "renamed.yaml").rename(plain / "base.yaml")
    assert source.resolve(str(plain)).sha == rev


def test_dir_revision_is_the_same_for_a_copy_made_in_another_order(source: Source, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    names = ["z.yaml", "a/b.yaml", "a.yaml", "m/n/o.yaml"]
    for root, order in ((a, names), (b, list(reversed(names)))):
        for name in order:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(name)
    assert source.resolve(str(a)).sha == source.resolve(str(b)).sha


def test_dir_revision_counts_symlink_targets_without_following_them(source: Source, plain: Path) -> None:
    os.symlink("base.yaml", plain / "link.yaml")
    rev = source.resolve(str(plain)).sha
    os.remove(plain / "link.yaml")
    os.symlink("apps/web/svc.yaml", plain / "link.yaml")
    assert source.resolve(str(plain)).sha != rev
    with source.checkout(str(plain)) as co:
        assert (co.root / "link.yaml").is_symlink()


def test_plain_directory_has_no_named_revisions(source: Source, plain: Path) -> None:
    with pytest.raises(UnknownRevision, match="plain directory"):
        source.checkout(str(plain), "main", "apps/web")


def test_plain_directory_missing_path(source: Source, plain: Path) -> None:
    with pytest.raises(PathNotFound, match="apps/api"):
        source.checkout(str(plain), "HEAD", "apps/api")


def test_subdirectory_of_a_work_tree_is_a_plain_directory(source: Source, upstream: Upstream) -> None:
    upstream.commit({"apps/web/a.yaml": "v: 1"})
    (upstream.work / "apps" / "web" / "a.yaml").write_text("v: uncommitted")
    sub = upstream.work / "apps"
    with source.checkout(str(sub), "HEAD", "web") as co:
        assert (co.path / "a.yaml").read_text() == "v: uncommitted"
        assert co.revision.startswith("dir:")
    # the work tree's top is a repository: its committed content, not the edits
    with source.checkout(str(upstream.work), "HEAD", "apps/web") as co:
        assert (co.path / "a.yaml").read_text() == "v: 1"
        assert co.revision == git("rev-parse", "HEAD", cwd=upstream.work)
