"""The gitops exception tree (stdlib only).

::

    GitopsError
     +-- ConfigError            bad apps config or CLI input (exit code 2)
     +-- ClusterUnreachable     the API server cannot be reached (exit code 3)

Third-party errors are converted at the boundary of the module that owns the library, into the
most specific class here, chained with ``from``. Later issues extend the tree (manifest, git,
apply and history errors) under the same base.
"""


class GitopsError(Exception):
    """Base of every error gitops raises on purpose."""

    exit_code = 1


class ConfigError(GitopsError):
    """The user's configuration or command line is invalid; nothing was done."""

    exit_code = 2


class ClusterUnreachable(GitopsError):
    """The Kubernetes API server could not be reached."""

    exit_code = 3
