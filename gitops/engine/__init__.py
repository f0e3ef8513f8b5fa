"""One sync end to end (the reconciler), the rollout gate (``rollout``), and what history keeps
for a rollback and how it is restored (``restore``).

Imports the pure packages and the I/O packages' interfaces, and nothing above it.
"""

from gitops.engine.reconciler import Engine, Rendered, SyncOptions, SyncOutcome

__all__ = ["Engine", "Rendered", "SyncOptions", "SyncOutcome"]
