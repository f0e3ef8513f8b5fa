"""History: every sync, whatever its outcome, in SQLite (I/O).

A sync is written twice, each time in one short transaction: :meth:`History.begin` inserts a
``Running`` row as the sync starts, :meth:`History.finish` completes it. If the process dies in
between, the row stays ``Running`` with the id of a History that is gone (see ``owner.py``); the
next History opened on the database marks it ``Interrupted``. Rows of syncs that are still
running in another live process are left alone.

The database runs in WAL mode (readers never block the writer) with ``synchronous=FULL`` (a
committed sync survives a power cut) and a busy timeout, so threads and processes can write
concurrently: every write is ``BEGIN IMMEDIATE`` ... ``COMMIT``, taking the write lock up front
(no deadlocking read-to-write upgrades) and holding it for milliseconds.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
import os
import secrets
import sqlite3
import threading
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import platformdirs

from gitops.errors import HistoryBusy, HistoryError
from gitops.history import owner as owner_
from gitops.history import schema
from gitops.model.sync import SyncRecord, SyncResult, Trigger, redact_url

RUNNING = "Running"  # the result column while a sync runs; not a SyncResult: no sync ends so
_SUCCESSFUL = (SyncResult.SUCCEEDED.value, SyncResult.NO_CHANGE.value)
_COLUMNS = (
    "id, app, trigger, result, repo, path, revision, author, commit_date, subject, "
    "started, finished, changes, error, manifests, message"
)


@dataclass(frozen=True)
class HistoryOptions:
    """``retention``: finished entries kept per app (older ones are deleted as new ones are
    written; the newest successful entry with manifests is always kept, whatever its age).
    ``busy_timeout``: seconds a write waits for another writer before ``HistoryBusy``."""

    retention: int = 100
    busy_timeout: float = 30.0


def default_path() -> Path:
    """``history.db`` in the user's state dir (``~/.local/state/gitops`` on Linux)."""
    return platformdirs.user_state_path("gitops") / "history.db"


def now() -> str:
    """RFC 3339 UTC with milliseconds, as SyncRecord times are."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class History:
    """The sync history of every app, in one SQLite file. Safe to share between threads; any
    number of processes may open the same file. Opening migrates the schema and marks the
    syncs of dead processes ``Interrupted`` (:meth:`recover`). Close it (or use ``with``)."""

    def __init__(self, path: Path | str | None = None, options: HistoryOptions | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.options = options or HistoryOptions()
        if self.options.retention < 1:
            raise ValueError("retention must keep at least one entry per app")
        self._lock = threading.RLock()
        self._owners_dir = self.path.with_name(self.path.name + ".owners")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._owner = owner_.OwnerLock(self._owners_dir)
        except OSError as exc:
            raise HistoryError(f"cannot open the history database {self.path}: {exc}") from exc
        self._conn: sqlite3.Connection | None = None
        self._fingerprint_key: bytes | None = None
        try:
            try:
                opening = owner_.lock_opening(self._owners_dir, self.options.busy_timeout)
            except TimeoutError as exc:
                raise HistoryBusy(f"opening the history database {self.path}: {exc}") from exc
            except OSError as exc:
                raise HistoryError(f"cannot open the history database {self.path}: {exc}") from exc
            try:
                with _translate(f"opening the history database {self.path}"):
                    conn = sqlite3.connect(
                        self.path,
                        timeout=self.options.busy_timeout,
                        isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                        check_same_thread=False,  # our lock serializes the threads
                    )
                    self._conn = conn
                    conn.row_factory = sqlite3.Row
                    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                    if str(mode).lower() != "wal":
                        raise HistoryError(f"{self.path}: SQLite refused WAL mode (journal mode {mode})")
                    conn.execute("PRAGMA synchronous = FULL")
                    conn.execute("PRAGMA foreign_keys = ON")
                    conn.execute(f"PRAGMA busy_timeout = {int(self.options.busy_timeout * 1000)}")
                    schema.migrate(conn)
            finally:
                os.close(opening)  # releases the flock
            #: Ids of the syncs this open found cut off by a dead process (now Interrupted).
            self.recovered: list[int] = self.recover()
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(cls, path: Path | str | None = None, options: HistoryOptions | None = None) -> History:
        """The same as the constructor: the name says what a daemon does at start."""
        return cls(path, options)

    # -- writing --------------------------------------------------------------------------------

    def begin(
        self,
        app: str,
        trigger: Trigger,
        *,
        repo: str = "",
        path: str = "",
        revision: str = "",
        started: str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> int:
        """Record that a sync of ``app`` starts (committed at once); its id, for :meth:`finish`.
        The revision may still be unknown (the sync may fail to reach Git): pass it to finish.
        ``settings``: the app's settings as this sync runs them (config.app_to_config), kept
        for :meth:`settings`; a ``repo`` in them is stored without credentials."""
        stored = ""
        if settings is not None:
            clean = dict(settings)
            if isinstance(clean.get("repo"), str):
                clean["repo"] = redact_url(clean["repo"])
            stored = json.dumps(clean, sort_keys=True)
        with self._write("beginning a sync of " + app) as conn:
            cur = conn.execute(
                "INSERT INTO syncs (app, trigger, result, repo, path, revision, started, owner, settings)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    app,
                    trigger.value,
                    RUNNING,
                    redact_url(repo),
                    path,
                    revision,
                    started or now(),
                    self._owner.id,
                    stored,
                ),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def finish(
        self, id: int, record: SyncRecord, manifests: Sequence[Mapping[str, Any]] | None = None
    ) -> SyncRecord:
        """Complete the entry ``id`` with ``record`` (its ``id`` is ignored; an empty
        ``started`` keeps begin's, an empty ``finished`` becomes now) and apply retention, in
        one transaction. ``manifests`` are kept only when the result is not a failure: they are
        what a rollback returns to. Returns the record as stored.

        Raises HistoryError when ``id`` is unknown, already finished (or found interrupted), or
        belongs to another app; the entry is then unchanged."""
        blob = _encode_manifests(manifests) if manifests is not None and not record.result.failed else None
        row = record.to_row()
        row["finished"] = row["finished"] or now()
        with self._write(f"finishing sync {id} of {record.app}") as conn:
            current = conn.execute("SELECT app, result, started FROM syncs WHERE id = ?", (id,)).fetchone()
            if current is None:
                raise HistoryError(f"sync {id}: no such history entry")
            if current["result"] != RUNNING:
                raise HistoryError(f"sync {id} of {current['app']} is already finished ({current['result']})")
            if current["app"] != record.app:
                raise HistoryError(f"sync {id} belongs to {current['app']}, not {record.app}")
            row["started"] = row["started"] or current["started"]
            digest = self._store_blob(conn, blob)
            conn.execute(
                "UPDATE syncs SET trigger = :trigger, result = :result, repo = :repo, path = :path,"
                " revision = :revision, author = :author, commit_date = :commit_date,"
                " subject = :subject, started = :started, finished = :finished, changes = :changes,"
                " error = :error, manifests = :manifests, message = :message WHERE id = :id",
                {**row, "manifests": digest, "id": id},
            )
            self._retain(conn, record.app)
        return replace(record, id=id, started=row["started"], finished=row["finished"], repo=row["repo"])

    def record(self, record: SyncRecord, manifests: Sequence[Mapping[str, Any]] | None = None) -> SyncRecord:
        """Store a finished sync in one step (a one-shot CLI run, or a sync that failed before
        it could begin); the same rules as :meth:`finish`."""
        blob = _encode_manifests(manifests) if manifests is not None and not record.result.failed else None
        row = record.to_row()
        row["finished"] = row["finished"] or now()
        row["started"] = row["started"] or row["finished"]
        with self._write(f"recording a sync of {record.app}") as conn:
            digest = self._store_blob(conn, blob)
            cur = conn.execute(
                "INSERT INTO syncs (app, trigger, result, repo, path, revision, author, commit_date,"
                " subject, started, finished, changes, error, manifests, message) VALUES (:app,"
                " :trigger, :result, :repo, :path, :revision, :author, :commit_date, :subject,"
                " :started, :finished, :changes, :error, :manifests, :message)",
                {**row, "manifests": digest},
            )
            assert cur.lastrowid is not None
            new_id = cur.lastrowid
            self._retain(conn, record.app)
        return replace(record, id=new_id, started=row["started"], finished=row["finished"], repo=row["repo"])

    def recover(self) -> builtins.list[int]:
        """Mark ``Interrupted`` every running entry whose History is gone (its process died or
        closed it mid-sync); their ids. Runs when a History opens; a daemon may call it again."""
        with self._locked("recovering interrupted syncs") as conn:
            running = conn.execute("SELECT id, owner FROM syncs WHERE result = ?", (RUNNING,)).fetchall()
        dead = [
            r["id"]
            for r in running
            if r["owner"] != self._owner.id and not owner_.alive(self._owners_dir, r["owner"])
        ]
        if dead:
            with self._write("marking interrupted syncs") as conn:
                conn.executemany(
                    "UPDATE syncs SET result = ?, finished = ?, error = ? WHERE id = ? AND result = ?",
                    [
                        (
                            SyncResult.INTERRUPTED.value,
                            now(),
                            "interrupted: the gitops process running this sync stopped before it "
                            "finished; the cluster may be partly synced (the next sync completes it)",
                            id,
                            RUNNING,
                        )
                        for id in dead
                    ],
                )
        owner_.sweep(self._owners_dir)
        return dead

    # -- reading --------------------------------------------------------------------------------

    def list(self, app: str | None = None, limit: int = 20, before: int | None = None) -> list[SyncRecord]:
        """Finished entries, newest first: of ``app`` (or all apps), at most ``limit``, with an
        id below ``before`` (for paging). Running syncs are not listed (see :meth:`running`)."""
        where = ["result != ?"]
        args: list[Any] = [RUNNING]
        if app is not None:
            where.append("app = ?")
            args.append(app)
        if before is not None:
            where.append("id < ?")
            args.append(before)
        sql = f"SELECT {_COLUMNS} FROM syncs WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?"
        with self._locked("listing the history") as conn:
            rows = conn.execute(sql, (*args, limit)).fetchall()
        return [SyncRecord.from_row(dict(r)) for r in rows]

    def last_kinds(self, app: str) -> set[tuple[str, str]]:
        """The (group, kind) of every change of ``app``'s newest finished entry and of its
        newest restorable one (empty when it has none), without decoding the records. The
        newest entry alone may have seen only part of the app (a sync that failed early, an
        auto-rollback of its workloads); the restorable one saw all of it, so a kind that
        later leaves Git is still listed, and its objects pruned."""
        with self._locked(f"reading the last sync of {app}") as conn:
            rows = conn.execute(
                "SELECT changes FROM (SELECT changes FROM syncs WHERE app = ? AND result != ?"
                " ORDER BY id DESC LIMIT 1) UNION ALL SELECT changes FROM (SELECT changes FROM syncs"
                " WHERE app = ? AND result IN (?, ?) AND manifests IS NOT NULL ORDER BY id DESC LIMIT 1)",
                (app, RUNNING, app, *_SUCCESSFUL),
            ).fetchall()
        try:
            return {
                (str(c["group"]), str(c["kind"])) for row in rows for c in json.loads(row["changes"] or "[]")
            }
        except (ValueError, TypeError, KeyError) as exc:
            raise HistoryError(f"the last sync of {app}: the stored changes are corrupt: {exc}") from exc

    def get(self, id: int) -> SyncRecord | None:
        """The finished entry ``id``; None when there is none (or it is still running)."""
        with self._locked(f"reading sync {id}") as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM syncs WHERE id = ? AND result != ?", (id, RUNNING)
            ).fetchone()
        return SyncRecord.from_row(dict(row)) if row is not None else None

    def running(self, app: str | None = None) -> builtins.list[int]:
        """Ids of the entries begun and not finished yet (by this or another live process)."""
        sql = "SELECT id FROM syncs WHERE result = ?" + (" AND app = ?" if app is not None else "")
        with self._locked("listing running syncs") as conn:
            rows = conn.execute(
                sql + " ORDER BY id", (RUNNING, app) if app is not None else (RUNNING,)
            ).fetchall()
        return [int(r["id"]) for r in rows]

    def manifests(self, id: int) -> builtins.list[dict[str, Any]] | None:
        """The rendered manifests stored with entry ``id``, or None when it has none."""
        with self._locked(f"reading the manifests of sync {id}") as conn:
            row = conn.execute(
                "SELECT b.data FROM syncs s JOIN manifest_blobs b ON b.digest = s.manifests WHERE s.id = ?",
                (id,),
            ).fetchone()
        if row is None:
            return None
        try:
            value = json.loads(zlib.decompress(row["data"]))
        except (zlib.error, ValueError) as exc:
            raise HistoryError(f"sync {id}: the stored manifests are corrupt: {exc}") from exc
        return [dict(m) for m in value]

    def restorable(
        self, app: str, before: int | None = None, other_than: str | None = None
    ) -> SyncRecord | None:
        """The newest entry of ``app`` (with an id below ``before``) that succeeded and has its
        manifests stored: what a rollback can return to. Entries that restored only part of an
        app (an auto-rollback) store none, so they are never one. ``other_than``: skip entries
        whose manifests have this digest (:meth:`manifests_digest`), in the same query: a
        daemon's history holds many NoChange entries of one state."""
        sql = (
            f"SELECT {_COLUMNS} FROM syncs WHERE app = ? AND result IN (?, ?) AND manifests IS NOT NULL"
            + (" AND id < ?" if before is not None else "")
            + (" AND manifests != ?" if other_than is not None else "")
            + " ORDER BY id DESC LIMIT 1"
        )
        args: tuple[Any, ...] = (
            (app, *_SUCCESSFUL)
            + ((before,) if before is not None else ())
            + ((other_than,) if other_than is not None else ())
        )
        with self._locked(f"reading the last restorable sync of {app}") as conn:
            row = conn.execute(sql, args).fetchone()
        return SyncRecord.from_row(dict(row)) if row is not None else None

    def manifests_digest(self, id: int) -> str | None:
        """The digest of the manifests stored with entry ``id`` (None when it has none): two
        entries with the same digest describe the same desired state."""
        with self._locked(f"reading sync {id}") as conn:
            row = conn.execute("SELECT manifests FROM syncs WHERE id = ?", (id,)).fetchone()
        return None if row is None or row["manifests"] is None else str(row["manifests"])

    @property
    def fingerprint_key(self) -> bytes:
        """The key of the fingerprints history keeps of Secret data instead of the values
        (HMAC-SHA256; see ``gitops.engine.restore``): 32 random bytes in ``<database>.key``
        beside the database, readable by its owner only, made on first use. A copy of the
        database alone cannot be brute-forced back to a weak password through them; losing
        the file only means a rollback reads Secrets from Git without being able to check them
        against the fingerprint (it then refuses, naming the Secret)."""
        with self._lock:
            if self._fingerprint_key is None:
                self._fingerprint_key = _load_key(self.path.with_name(self.path.name + ".key"))
            return self._fingerprint_key

    def last_successful(self, app: str) -> SyncRecord | None:
        """The newest entry of ``app`` that succeeded (``Succeeded`` or ``NoChange``)."""
        with self._locked(f"reading the last successful sync of {app}") as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM syncs WHERE app = ? AND result IN (?, ?) ORDER BY id DESC LIMIT 1",
                (app, *_SUCCESSFUL),
            ).fetchone()
        return SyncRecord.from_row(dict(row)) if row is not None else None

    def settings(self, app: str) -> dict[str, Any] | None:
        """The settings ``app`` had at its newest sync that recorded them (see :meth:`begin`),
        or None (no such sync, or only syncs recorded before history kept settings)."""
        with self._locked(f"reading the settings of {app}") as conn:
            row = conn.execute(
                "SELECT settings FROM syncs WHERE app = ? AND settings != '' ORDER BY id DESC LIMIT 1",
                (app,),
            ).fetchone()
        if row is None:
            return None
        try:
            value = json.loads(row["settings"])
        except ValueError as exc:
            raise HistoryError(f"the settings stored for {app} are not valid JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise HistoryError(f"the settings stored for {app} are not a JSON object")
        return value

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database. Entries this History began and never finished are marked
        ``Interrupted`` now (nobody else could finish them). Idempotent."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute(
                        "UPDATE syncs SET result = ?, finished = ?, error = ? WHERE owner = ? AND result = ?",
                        (
                            SyncResult.INTERRUPTED.value,
                            now(),
                            "interrupted: the history was closed before the sync finished",
                            self._owner.id,
                            RUNNING,
                        ),
                    )
                    conn.execute("COMMIT")
                except sqlite3.Error:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    # the rows stay Running; the next History marks them (our lock is released)
                finally:
                    conn.close()
            owner = getattr(self, "_owner", None)
            if owner is not None:
                owner.release()

    def __enter__(self) -> History:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------------

    @contextmanager
    def _locked(self, what: str) -> Iterator[sqlite3.Connection]:
        with self._lock, _translate(what):
            if self._conn is None:
                raise HistoryError(f"{what}: the history database {self.path} is closed")
            yield self._conn

    @contextmanager
    def _write(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed, or none of it."""
        with self._locked(what) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @staticmethod
    def _store_blob(conn: sqlite3.Connection, blob: tuple[str, bytes] | None) -> str | None:
        if blob is None:
            return None
        digest, data = blob
        conn.execute("INSERT OR IGNORE INTO manifest_blobs (digest, data) VALUES (?, ?)", (digest, data))
        return digest

    def _retain(self, conn: sqlite3.Connection, app: str) -> None:
        """Keep the newest ``retention`` finished entries of ``app``, and always its newest
        successful entry with manifests (the rollback target); drop manifests nobody uses."""
        protected = conn.execute(
            "SELECT id FROM syncs WHERE app = ? AND result IN (?, ?) AND manifests IS NOT NULL"
            " ORDER BY id DESC LIMIT 1",
            (app, *_SUCCESSFUL),
        ).fetchone()
        deleted = conn.execute(
            "DELETE FROM syncs WHERE app = :app AND result != :running AND id != :protected AND id NOT IN"
            " (SELECT id FROM syncs WHERE app = :app AND result != :running ORDER BY id DESC LIMIT :keep)",
            {
                "app": app,
                "running": RUNNING,
                "protected": protected["id"] if protected else -1,
                "keep": self.options.retention,
            },
        ).rowcount
        if deleted:
            conn.execute(
                "DELETE FROM manifest_blobs WHERE NOT EXISTS"
                " (SELECT 1 FROM syncs WHERE syncs.manifests = manifest_blobs.digest)"
            )


def _encode_manifests(manifests: Sequence[Mapping[str, Any]]) -> tuple[str, bytes]:
    """(sha256 of the canonical JSON, zlib of it). Raises HistoryError before any write when
    the manifests are not JSON."""
    try:
        text = json.dumps(list(manifests), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise HistoryError(f"the manifests cannot be stored as JSON: {exc}") from exc
    raw = text.encode()
    return hashlib.sha256(raw).hexdigest(), zlib.compress(raw, 6)


def _load_key(path: Path) -> bytes:
    """The key in ``path``; made when there is none (32 random bytes, mode 0600), written to a
    temporary file and linked into place, so a reader never sees half a key and two processes
    making one at once agree on the first."""
    if not path.exists():
        tmp = path.with_name(f"{path.name}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, secrets.token_bytes(32))
                os.fsync(fd)
            finally:
                os.close(fd)
            with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
                os.link(tmp, path)
        except OSError as exc:
            raise HistoryError(f"cannot create the fingerprint key {path}: {exc.strerror or exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise HistoryError(f"cannot read the fingerprint key {path}: {exc.strerror or exc}") from exc
    if len(key) < 32:
        raise HistoryError(f"the fingerprint key {path} is corrupt ({len(key)} bytes)")
    return key


@contextmanager
def _translate(what: str) -> Iterator[None]:
    """sqlite3 errors become HistoryError (HistoryBusy when another writer held the lock)."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        message = str(exc)
        if "locked" in message or "busy" in message:
            raise HistoryBusy(f"{what}: the history database is busy ({message})") from exc
        raise HistoryError(f"{what}: {message}") from exc
    except sqlite3.Error as exc:
        raise HistoryError(f"{what}: {exc}") from exc
