"""The CLI's contract: ``--output json`` that parses for every command, documented exit codes,
and errors that say what is wrong (an unreachable cluster, a bad config file's field)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gitops.cli.sync import EXIT_CODES
from tests.engine.apps import web_app
from tests.engine.conftest import EngineEnv, GitRepo, run_cli, unique


def test_output_json_parses_for_sync_diff_plan_and_history(env: EngineEnv, repo: GitRepo) -> None:
    ns = unique("json")
    sha = repo.commit(web_app(ns), "first")
    target = (repo.path, "--app", ns)

    plan = json.loads(env.cli("plan", *target, "-o", "json").stdout)
    assert plan["app"] == ns and plan["revision"] == sha
    assert {c["action"] for c in plan["changes"]} == {"create"}

    sync = env.cli("sync", *target, "-o", "json")
    assert sync.exit_code == 0
    record = json.loads(sync.stdout)
    assert (record["result"], record["revision"], record["subject"], record["dryRun"]) == (
        "Succeeded",
        sha,
        "first",
        False,
    )
    assert len(record["changes"]) == 6 and record["id"] > 0

    clean = env.cli("diff", *target, "-o", "json")
    assert clean.exit_code == 0
    assert json.loads(clean.stdout) == {"app": ns, "revision": sha, "changes": []}
    repo.commit(web_app(ns, log_level="debug"), "debug")
    changed = env.cli("diff", *target, "-o", "json")
    assert changed.exit_code == 1
    assert json.loads(changed.stdout)["changes"] == [
        {
            "object": f"ConfigMap/{ns}/web-config",
            "action": "update",
            "summary": ["data.LOG_LEVEL: info -> debug"],
        }
    ]

    listed = json.loads(env.cli("history", ns, "-o", "json").stdout)
    assert [e["id"] for e in listed] == [record["id"]]
    shown = json.loads(env.cli("history", "show", str(record["id"]), "-o", "json").stdout)
    assert shown == listed[0]
    text = env.cli("history", "show", str(record["id"]))
    assert text.exit_code == 0 and f"sync #{record['id']} of {ns}" in text.stdout
    missing = env.cli("history", "show", "9999", "-o", "json")
    assert missing.exit_code == 2 and json.loads(missing.stdout) == {"error": "no history entry 9999"}


def test_history_takes_options_after_the_app(env: EngineEnv, repo: GitRepo) -> None:
    ns = unique("hist")
    repo.commit(web_app(ns), "first [skip ci]")
    assert env.cli("sync", repo.path, "--app", ns).exit_code == 0

    listed = run_cli("history", ns, "--history-db", env.history_db, "--limit", "5")

    assert listed.exit_code == 0, listed.output
    assert ns in listed.stdout and "Succeeded" in listed.stdout
    assert "first [skip ci]" in listed.stdout  # a bracketed subject is not taken for markup
    bad = run_cli("history", "show", "--history-db", env.history_db)
    assert bad.exit_code == 2 and "gitops history show ID" in bad.output


def test_every_command_documents_its_exit_codes() -> None:
    for command in ("sync", "plan", "history"):
        assert EXIT_CODES.removeprefix("Exit codes: ")[:30] in run_cli(command, "--help").stdout
    assert "0 no changes, 1 changes, 2 bad input" in run_cli("diff", "--help").stdout


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_cluster_exits_3_with_a_clear_message(repo: GitRepo, tmp_path: Path) -> None:
    ns = unique("down")
    repo.commit(web_app(ns), "first")
    port = _closed_port()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "gone", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
                "users": [{"name": "gone", "user": {}}],
                "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "gone"}}],
                "current-context": "gone",
            }
        )
    )
    common = [
        str(repo.path),
        "--app",
        ns,
        "--kubeconfig",
        str(kubeconfig),
        "--history-db",
        str(tmp_path / "h.db"),
    ]
    commands = {
        "sync": ["sync", *common],
        "sync-json": ["sync", *common, "-o", "json"],
        "diff": ["diff", *common],
        "plan": ["plan", *common],
    }
    # in parallel, as processes: each retries the connection for a few seconds before giving up
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "gitops.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "COLUMNS": "250"},
        )
        for name, args in commands.items()
    }
    results = {name: (p.wait(timeout=60), *p.communicate()) for name, p in procs.items()}

    message = f"cannot reach the Kubernetes API at http://127.0.0.1:{port}"
    for name, (code, stdout, stderr) in results.items():
        assert code == 3, (name, stdout, stderr)
        assert message in stdout + stderr, (name, stdout, stderr)
        assert "Traceback" not in stderr
    assert json.loads(results["sync-json"][1])["result"] == "Failed"


@pytest.mark.parametrize(
    ("config", "complaint"),
    [
        ({"apps": [{"name": "web", "repo": ".", "intervl": "3m"}]}, "apps[0].intervl: unknown field"),
        ({"apps": [{"name": "Web_1", "repo": "."}]}, "apps[0].name: 'Web_1' must be a DNS-1123 label"),
        (
            {"apps": [{"name": "web", "repo": ".", "interval": "soon"}]},
            "apps[0].interval: invalid duration 'soon'",
        ),
        (
            {"apps": [{"name": "web", "repo": ".", "prune": "sometimes"}]},
            "apps[0].prune: Input should be a valid boolean",
        ),
        ({"apps": [{"name": "web"}]}, "apps[0].repo: Field required"),
        ({"apps": []}, "apps: List should have at least 1 item"),
    ],
)
def test_bad_config_file_exits_2_naming_the_field(
    env: EngineEnv, tmp_path: Path, config: dict[str, object], complaint: str
) -> None:
    path = tmp_path / "gitops.yaml"
    path.write_text(yaml.safe_dump(config))
    since = env.mark()

    for command in ("sync", "diff", "plan"):
        result = env.cli(command, "--config", path)
        assert result.exit_code == 2, result.output
        assert f"{path}: {complaint}" in result.stderr, result.stderr
        as_json = env.cli(command, "--config", path, "-o", "json")
        assert as_json.exit_code == 2 and complaint in json.loads(as_json.stdout)["error"]
    assert env.requests(since) == []  # refused before the cluster is asked anything


def test_missing_config_file_and_missing_source_exit_2(env: EngineEnv, tmp_path: Path) -> None:
    result = env.cli("sync", "--config", tmp_path / "nope.yaml")
    assert result.exit_code == 2 and "nope.yaml: No such file or directory" in result.stderr
    result = env.cli("sync")
    assert (
        result.exit_code == 2
        and "give a repository or directory (SOURCE), --config FILE, or run where gitops.yaml is"
        in result.stderr
    )


def test_progress_is_reported_per_write_for_large_syncs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The engine reports (done, planned) after every write: what the CLI's progress bar shows."""
    from gitops.cluster import Cluster, ClusterOptions
    from gitops.config import App
    from gitops.engine import Engine, SyncOptions
    from gitops.git import GitOptions, Source
    from gitops.history import History
    from gitops.localcluster import LocalCluster

    app_dir = tmp_path / "many"
    app_dir.mkdir()
    docs = [
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: default}}\ndata: {{i: '{i}'}}\n"
        for i in range(40)
    ]
    (app_dir / "cms.yaml").write_text("---\n".join(docs))
    with LocalCluster(kubeconfig=tmp_path / "kc", controllers=False) as c:
        kube = Cluster.connect(ClusterOptions(kubeconfig=c.kubeconfig))
        engine = Engine(kube, Source(GitOptions(cache_dir=tmp_path / "cache")), History(tmp_path / "h.db"))
        seen: list[tuple[int, int]] = []
        engine.sync(
            App(name="many", repo=str(app_dir)), SyncOptions(progress=lambda d, t: seen.append((d, t)))
        )
        kube.close()
    assert [t for _, t in seen] == [40] * 40
    assert sorted(d for d, _ in seen) == list(range(1, 41))


def test_gitops_yaml_in_the_working_directory_is_the_default_config(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from gitops.cli.main import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "gitops.yaml").write_text("apps:\n- name: Bad_Name\n  repo: .\n")
    result = CliRunner().invoke(cli, ["plan", "--kubeconfig", str(tmp_path / "missing-kubeconfig")])
    assert result.exit_code == 2
    assert "gitops.yaml: apps[0].name: 'Bad_Name' must be a DNS-1123 label" in result.output
