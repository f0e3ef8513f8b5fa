"""resolve_local: how the CLI and the daemon read a config's relative local repository."""

from __future__ import annotations

from pathlib import Path

from gitops.git import resolve_local


def test_a_relative_local_repository_is_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    assert resolve_local("deploy", tmp_path) == str((tmp_path / "deploy").resolve())
    assert resolve_local("./deploy", tmp_path) == str((tmp_path / "deploy").resolve())
    assert resolve_local("missing", tmp_path) == "missing"  # left for the source to report


def test_urls_ssh_addresses_and_absolute_paths_are_left_alone(tmp_path: Path) -> None:
    for repo in (
        "https://git.example.com/team/deploy.git",
        "ssh://git@git.example.com/team/deploy.git",
        "git@git.example.com:team/deploy.git",
        "file:///srv/git/deploy.git",
        str(tmp_path),
    ):
        assert resolve_local(repo, tmp_path) == repo
