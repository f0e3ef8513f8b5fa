"""What history gives a rollback (issue 5): the message of an entry, the entries a rollback can
return to, and the key of the Secret fingerprints."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from gitops.errors import HistoryError
from gitops.history import History
from gitops.model import ChangeSet, SyncResult
from tests.history.conftest import make_record


def test_the_message_of_an_entry_is_stored_by_finish_and_record(history: History) -> None:
    entry = history.begin("web", make_record().trigger)
    finished = history.finish(entry, make_record(message="restored history #3 (revision aaaaaaaa)"))
    recorded = history.record(make_record(result=SyncResult.FAILED, message="no auto-rollback"))

    assert history.get(finished.id) == finished
    assert [r.message for r in history.list("web")] == [
        "no auto-rollback",
        "restored history #3 (revision aaaaaaaa)",
    ]
    assert recorded.message == "no auto-rollback"


def test_restorable_is_the_newest_success_with_manifests_before_an_id(history: History) -> None:
    one = history.record(make_record(revision="1" * 40), [{"kind": "ConfigMap", "n": 1}])
    two = history.record(make_record(revision="2" * 40), [{"kind": "ConfigMap", "n": 2}])
    history.record(make_record(result=SyncResult.FAILED), [{"kind": "ConfigMap", "n": 3}])  # not kept
    partial = history.record(make_record(revision="1" * 40))  # an auto-rollback: no manifests

    assert history.restorable("web") == two
    assert history.restorable("web", before=two.id) == one
    assert history.restorable("web", before=one.id) is None
    assert history.restorable("other") is None
    assert history.manifests_digest(partial.id) is None
    digest = history.manifests_digest(two.id)
    assert digest is not None and digest != history.manifests_digest(one.id)
    # Entries of the same state are skipped in one query.
    assert history.restorable("web", other_than=digest) == one
    assert history.restorable("web", other_than=history.manifests_digest(one.id)) == two


def test_the_fingerprint_key_is_made_once_private_and_shared(db_path: Path, history: History) -> None:
    key_file = db_path.with_name(db_path.name + ".key")
    assert not key_file.exists()  # made on first use only
    keys: list[bytes] = []
    others = [History(db_path) for _ in range(4)]
    try:
        threads = [threading.Thread(target=lambda h=h: keys.append(h.fingerprint_key)) for h in others]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        keys.append(history.fingerprint_key)
    finally:
        for h in others:
            h.close()
    assert len(set(keys)) == 1 and len(keys[0]) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in db_path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_corrupt_fingerprint_key_is_an_error(db_path: Path, history: History) -> None:
    db_path.with_name(db_path.name + ".key").write_bytes(b"short")
    with pytest.raises(HistoryError, match="is corrupt"):
        _ = history.fingerprint_key


def test_last_kinds_include_the_last_full_state_after_a_partial_entry(history: History) -> None:
    history.record(make_record(), [{"kind": "Deployment"}])  # a Deployment, a Secret, a Service
    history.record(make_record(result=SyncResult.FAILED, changes=ChangeSet()))  # failed early

    assert history.last_kinds("web") == {("apps", "Deployment"), ("", "Secret"), ("", "Service")}
    assert history.last_kinds("other") == set()


def test_settings_are_the_newest_recorded_without_credentials(history: History) -> None:
    old = history.begin("web", make_record().trigger)  # as before history kept settings
    history.finish(old, make_record())
    assert history.settings("web") is None

    repo = "https://deploy:tok3n-s3cret@git.example.com/team/deploy.git"
    first = history.begin("web", make_record().trigger, repo=repo, settings={"name": "web", "repo": repo})
    history.finish(first, make_record())
    history.begin("web", make_record().trigger, settings={"name": "web", "repo": repo, "prune": False})
    history.begin("api", make_record().trigger, settings={"name": "api", "prune": True})

    assert history.settings("web") == {
        "name": "web",
        "repo": "https://git.example.com/team/deploy.git",
        "prune": False,
    }  # the newest, running or not
    assert history.settings("api") == {"name": "api", "prune": True}
    assert history.settings("nobody") is None
    files = [history.path, history.path.with_name(history.path.name + "-wal")]
    assert not any(b"tok3n-s3cret" in f.read_bytes() for f in files if f.exists())
