"""One sync end to end (the reconciler), the rollout gate (``rollout``), and what history keeps
for a rollback and how it is restored (``restore``).

Imports the pure packages and the I/O packages' interfaces, and nothing above it.
"""

from gitops.engine.cancel import Cancel
from gitops.engine.reconciler import Engine, Rendered, SyncOptions, SyncOutcome

__all__ = ["Cancel", "Engine", "Rendered", "SyncOptions", "SyncOutcome"]
