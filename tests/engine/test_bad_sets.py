"""Every broken manifest set under tests/data/bad refuses the whole sync before any write: a clear
error naming the file, exit code 2, zero write requests at the cluster, a Failed history entry.

Each set is synced as it is a user would, ``gitops sync DIR`` on a plain directory (the source
that keeps the sets' symlinks, which point outside the set, as they are), with the default
namespace the sets are written against (``duplicate-object`` is a duplicate only there)."""

from __future__ import annotations

import json

import pytest

from gitops.model import SyncResult
from tests.engine.conftest import BAD, EngineEnv, unique
from tests.manifests.test_bad_sets import EXPECTED, SECRETS

CASES = sorted(p.name for p in BAD.iterdir() if p.is_dir())


def test_the_engine_sees_every_bad_set() -> None:
    assert set(CASES) == set(EXPECTED)
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES)
def test_bad_set_fails_the_sync_with_exit_2_and_writes_nothing(env: EngineEnv, case: str) -> None:
    path, _line, words = EXPECTED[case]
    app = unique("bad")
    since = env.mark()

    result = env.cli("sync", BAD / case, "--app", app, "--prune", "--allow-empty")

    assert result.exit_code == 2, result.output
    assert "-> Failed" in result.stdout
    error = result.stdout[result.stdout.index("error: ") :]
    assert path in error and words in error, error
    for value in SECRETS:
        assert value not in result.output
    assert env.writes(since) == [], [(w.verb, w.path) for w in env.writes(since)]
    [record] = env.history.list(app)
    assert record.result is SyncResult.FAILED
    assert path in record.error and words in record.error
    assert record.changes.writes == 0

    as_json = env.cli("sync", BAD / case, "--app", app, "-o", "json")
    assert as_json.exit_code == 2
    parsed = json.loads(as_json.stdout)
    assert parsed["result"] == "Failed" and words in parsed["error"]
    diff = env.cli("diff", BAD / case, "--app", app)
    assert diff.exit_code == 2 and words in diff.stderr, diff.output
    assert env.writes(since) == []
