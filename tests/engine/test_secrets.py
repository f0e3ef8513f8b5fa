"""Seeded Secret values appear nowhere outside the cluster: not in any output of sync, diff, plan
or history (text and JSON), not in a log record at DEBUG, not in the history database (rows,
WAL and compressed manifests), not in an error message, even when the server's error quotes
the value (an admission webhook that echoes what it refused).

The test keeps everything it could leak through and greps all of it, once, at the end, for
every value and its base64 forms; a positive control proves the values did reach the cluster
and that the grep finds them where they are."""

from __future__ import annotations

import base64
import json
import logging
import re
import sqlite3
import zlib
from pathlib import Path

import pytest

from gitops.engine import SyncOptions
from gitops.model import Action, SyncResult
from tests.engine.apps import configmap, dump, namespace, secret
from tests.engine.conftest import EngineEnv, GitRepo, unique

pytestmark = pytest.mark.kubectl


def needles(value: str) -> list[str]:
    """The forms a value could leak in: as it is and base64 (standard and URL-safe, padded or not)."""
    raw = value.encode()
    forms = {value}
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        forms |= {encoded, encoded.rstrip("=")}
    return sorted(forms)


def leaks(text: str, values: list[str]) -> list[str]:
    return [n for v in values for n in needles(v) if n in text]


def app_files(
    ns: str, *, string_value: str, data_value: str, locked_value: str, label: str = ""
) -> dict[str, str]:
    labels = {label: "x"} if label else None
    locked = secret(ns, "locked", data={"api-key": locked_value})
    locked["immutable"] = True
    return {
        "namespace.yaml": dump(namespace(ns)),
        "secrets.yaml": dump(
            secret(ns, "web-secret", string_data={"password": string_value}, labels=labels),
            secret(ns, "web-token", data={"token": data_value}),
            locked,
        ),
        "config.yaml": dump(configmap(ns, "web-config", {"mode": "safe"})),
    }


def database_text(path: Path) -> str:
    """Everything the history keeps: the database and WAL files' bytes, and every stored
    manifest blob decompressed (compressed, a value would slip past a grep of the file)."""
    chunks = []
    for file in sorted(path.parent.glob(path.name + "*")):  # -wal, -shm
        if file.is_file():
            chunks.append(file.read_bytes().decode("latin-1"))
    with sqlite3.connect(path) as conn:
        for (blob,) in conn.execute("SELECT data FROM manifest_blobs"):
            chunks.append(zlib.decompress(blob).decode())
        for row in conn.execute("SELECT * FROM syncs"):
            chunks.append(repr(row))
    return "\n".join(chunks)


def test_secret_values_appear_in_no_output_log_history_or_error(
    env: EngineEnv, repo: GitRepo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ns = unique("secret")
    string_v1, string_v2, string_v3 = (unique(f"pw{i}-s3cr3t") for i in range(3))
    data_v1, data_v2 = unique("tok1-s3cr3t"), unique("tok2-s3cr3t")
    locked_v1, locked_v2 = unique("key1-s3cr3t"), unique("key2-s3cr3t")
    values = [string_v1, string_v2, string_v3, data_v1, data_v2, locked_v1, locked_v2]
    outputs: list[str] = []

    def cli(command: str, *args: str | Path, code: int | None = 0) -> str:
        result = env.cli(command, *args)
        outputs.append(result.output)
        if code is not None:
            assert result.exit_code == code, result.output
        return result.stdout

    def commit(message: str, **kw: str) -> None:
        values_now = {"string_value": string_v1, "data_value": data_v1, "locked_value": locked_v1, **kw}
        repo.commit(app_files(ns, **values_now), message)

    target = (repo.path, "--app", ns)
    commit("first")
    cli("plan", *target)
    cli("plan", *target, "-o", "json")
    cli("sync", *target, "--dry-run", "-v")
    cli("sync", *target, "-v")
    cli("sync", *target, "-o", "json")
    assert f"{ns}: no changes" in cli("diff", *target)
    cli("diff", *target, "-o", "json")

    # new values in Git: the diff says which keys change, never what they hold
    commit("rotate", string_value=string_v2, data_value=data_v2)
    diff = cli("diff", *target, code=1)
    assert f"Secret/{ns}/web-secret" in diff and f"Secret/{ns}/web-token" in diff
    changes = json.loads(cli("diff", *target, "-o", "json", code=1))["changes"]
    summaries = {c["object"]: c["summary"] for c in changes}
    assert summaries[f"Secret/{ns}/web-secret"] == ["data.password: changed"]
    assert summaries[f"Secret/{ns}/web-token"] == ["data.token: changed"]
    cli("plan", *target)
    cli("plan", *target, "-o", "json")
    cli("sync", *target, "--dry-run")
    assert "-> Succeeded" in cli("sync", *target, "-v")

    # the server refuses a change to an immutable Secret
    commit("rotate the locked key", string_value=string_v2, data_value=data_v2, locked_value=locked_v2)
    refused = cli("sync", *target, code=1)
    assert f"Secret/{ns}/locked" in refused and "field is immutable when `immutable` is set" in refused
    commit("back", string_value=string_v2, data_value=data_v2)

    # an admission webhook refuses the Secret and quotes the values it saw, in both encodings
    commit("rotate again", string_value=string_v3, data_value=data_v2)
    quoted = (
        f'data.password "{string_v3}" ({base64.b64encode(string_v3.encode()).decode()}) is a leaked password'
    )
    env.cluster.faults.add(
        {
            "id": f"webhook-{ns}",
            "verbs": ["patch"],
            "resources": ["secrets"],
            "namespace": ns,
            "error": {
                "code": 400,
                "reason": "BadRequest",
                "message": f'admission webhook "secrets.example.com" denied the request: {quoted}',
            },
        }
    )
    try:
        webhook = cli("sync", *target, code=1)
        as_json = json.loads(cli("sync", *target, "-o", "json", code=1))
    finally:
        env.cluster.faults.remove(f"webhook-{ns}")
    assert f"Secret/{ns}/web-secret" in webhook and "denied the request" in webhook
    assert "<redacted>" in webhook and "<redacted>" in as_json["error"]
    outcome = env.engine.sync(env.app(repo, ns), SyncOptions(dry_run=True))
    assert outcome.record.result is SyncResult.SUCCEEDED

    # an invalid label on the Secret: refused before any write, the error names the label
    commit("bad label", string_value=string_v3, data_value=data_v2, label="-bad-key")
    invalid = cli("sync", *target, code=2)
    assert "secrets.yaml" in invalid and "invalid key '-bad-key'" in invalid
    cli("diff", *target, code=2)
    cli("plan", *target, "-o", "json", code=2)

    stdout = cli("history", "-o", "json")
    ids = [entry["id"] for entry in json.loads(stdout)]
    assert len(ids) == 7  # dry runs record nothing
    cli("history")
    cli("history", ns, "--limit", "100")
    for entry in ids:
        cli("history", "show", str(entry))
        cli("history", "show", str(entry), "-o", "json")
    records = env.history.list(ns, limit=100)
    errors = [r.error for r in records if r.error]
    assert len(errors) >= 3  # immutable, webhook (twice), invalid label

    # positive control: the values did reach the cluster, where the grep finds them
    live = env.kubectl.run("get", "secrets", "-n", ns, "-o", "json").stdout
    assert leaks(live, [string_v2, data_v2, locked_v1])
    assert not leaks(live, [string_v3, locked_v2])  # both were refused

    logged = [
        f"{r.name}: {r.getMessage()}"
        + (f"\n{logging.Formatter().formatException(r.exc_info)}" if r.exc_info else "")
        for r in caplog.records
        if not r.name.startswith(("gitops.localcluster", "uvicorn"))  # the server side
    ]
    assert logged, "DEBUG logging was captured"
    places = {
        "CLI output": "\n".join(outputs),
        "log records": "\n".join(logged),
        "history database": database_text(env.history_db),
        "history records": repr(records),
        "errors": "\n".join(errors),
        "the engine's outcome": repr(outcome) + repr(outcome.plan),
    }
    for place, text in places.items():
        assert text, place
        assert leaks(text, values) == [], f"a Secret value leaked into the {place}"
    assert re.search(r"data\.password: changed", places["history records"])
    assert any(c.action is Action.UPDATE and c.key.kind == "Secret" for r in records for c in r.changes)
