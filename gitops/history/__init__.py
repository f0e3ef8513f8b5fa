"""The only code that uses sqlite3: schema, migrations, sync records (I/O).

:class:`History` keeps every sync, whatever its outcome, in one SQLite file (WAL mode; by default
``history.db`` in the user's state dir): app, trigger, repository (redacted), path, revision,
commit author, date and subject, start and end, result, per-object changes, error, and for
successful syncs the rendered manifests (compressed, shared between syncs that rendered the
same ones) that a rollback returns to.

A sync is ``begin()``-ed (a ``Running`` row, committed at once) and ``finish()``-ed; a process
that dies in between leaves a row the next :class:`History` marks ``Interrupted``. Retention
keeps the newest ``HistoryOptions.retention`` entries per app, and always the newest successful
one with manifests. Schema changes are numbered migrations (:mod:`gitops.history.schema`).
Errors are :class:`~gitops.errors.HistoryError`; a failed write changed nothing.
"""

from gitops.history.schema import MIGRATIONS
from gitops.history.store import History, HistoryOptions, default_path

__all__ = ["MIGRATIONS", "History", "HistoryOptions", "default_path"]
