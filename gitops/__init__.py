"""gitops: keeps a Kubernetes cluster equal to Git.

This module is the public API; it re-exports deliberately chosen names and nothing else.
The sync engine (issue 4) adds ``sync``, ``diff``, ``App`` and ``SyncResult`` here.
"""

from gitops.errors import GitopsError

__version__ = "0.1.0"

__all__ = ["GitopsError", "__version__"]
