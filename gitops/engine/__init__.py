"""One sync end to end (the reconciler) and, later, the rollout gate.

Imports the pure packages and the I/O packages' interfaces, and nothing above it.
"""

from gitops.engine.reconciler import Engine, Rendered, SyncOptions, SyncOutcome

__all__ = ["Engine", "Rendered", "SyncOptions", "SyncOutcome"]
