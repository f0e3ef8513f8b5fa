"""The history database's schema, as an ordered list of migrations (I/O: sqlite3).

Version ``n`` of the schema is what the first ``n`` scripts of :data:`MIGRATIONS` build; the
``schema_version`` table holds the version a database is at. Opening a database applies the
missing scripts in one ``BEGIN IMMEDIATE`` transaction (SQLite's DDL is transactional), so a
failed migration leaves the database at its previous version, and two processes opening an old
database at once migrate it exactly once. Scripts are append-only: never edit a released one,
add the next.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from gitops.errors import HistorySchemaError

MIGRATIONS: tuple[str, ...] = (
    # v1: one row per sync. ``result`` is 'Running' from begin() to finish(), then a
    # SyncResult value; ``owner`` names the History instance running it (see owner.py).
    """
    CREATE TABLE syncs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        app         TEXT NOT NULL,
        trigger     TEXT NOT NULL,
        result      TEXT NOT NULL,
        repo        TEXT NOT NULL DEFAULT '',
        path        TEXT NOT NULL DEFAULT '',
        revision    TEXT NOT NULL DEFAULT '',
        author      TEXT NOT NULL DEFAULT '',
        commit_date TEXT NOT NULL DEFAULT '',
        subject     TEXT NOT NULL DEFAULT '',
        started     TEXT NOT NULL,
        finished    TEXT NOT NULL DEFAULT '',
        changes     TEXT NOT NULL DEFAULT '[]',
        error       TEXT NOT NULL DEFAULT '',
        owner       TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX syncs_by_app ON syncs (app, id);
    CREATE INDEX syncs_running ON syncs (id) WHERE result = 'Running';
    """,
    # v2 (issue 5, rollback): the rendered manifests of successful syncs, zlib-compressed
    # canonical JSON, stored once per distinct content and shared by the syncs that rendered it.
    """
    CREATE TABLE manifest_blobs (
        digest TEXT PRIMARY KEY,
        data   BLOB NOT NULL
    );
    ALTER TABLE syncs ADD COLUMN manifests TEXT REFERENCES manifest_blobs (digest);
    CREATE INDEX syncs_by_manifests ON syncs (manifests) WHERE manifests IS NOT NULL;
    """,
    # v3 (issue 5, rollback): what a sync did beyond its changes (the entry a rollback restored,
    # what an auto-rollback did), for an operator; see SyncRecord.message.
    """
    ALTER TABLE syncs ADD COLUMN message TEXT NOT NULL DEFAULT '';
    """,
    # v4: the app's settings as the sync ran them (config.app_to_config, JSON; repository URL
    # without credentials), so that a rollback without the config file still honours the app's
    # ignoreDifferences, rollout policy and prune rules. '' for syncs recorded before v4.
    """
    ALTER TABLE syncs ADD COLUMN settings TEXT NOT NULL DEFAULT '';
    """,
)

VERSION = len(MIGRATIONS)


def statements(script: str) -> list[str]:
    """The statements of a script, split the way SQLite parses them (``complete_statement``),
    so they can run one by one inside our own transaction (``executescript`` would commit)."""
    out: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                out.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement: {pending.strip()[:80]}")
    return out


def current_version(conn: sqlite3.Connection) -> int:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if not exists:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(
    conn: sqlite3.Connection, migrations: Sequence[str] = MIGRATIONS, target: int | None = None
) -> int:
    """Bring the database to ``target`` (default: the newest version); the version it is at.
    ``conn`` must be in autocommit mode (``isolation_level=None``). Raises HistorySchemaError
    for a database newer than ``migrations`` or a failing script."""
    target = len(migrations) if target is None else target
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = current_version(conn)
        if version > len(migrations):
            raise HistorySchemaError(
                f"the history database is at schema version {version}, newer than this gitops knows "
                f"({len(migrations)}): upgrade gitops, or point it at another database"
            )
        if version < target:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            for number in range(version + 1, target + 1):
                try:
                    for statement in statements(migrations[number - 1]):
                        conn.execute(statement)
                except sqlite3.Error as exc:
                    raise HistorySchemaError(
                        f"migrating the history database to schema version {number} failed: {exc}"
                    ) from exc
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (target,))
            version = target
        conn.execute("COMMIT")
        return version
    except BaseException:
        conn.execute("ROLLBACK")
        raise
