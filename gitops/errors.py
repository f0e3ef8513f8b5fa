"""The gitops exception tree (stdlib only).

::

    GitopsError
     +-- ConfigError            bad apps config or CLI input (exit code 2)
     +-- ClusterUnreachable     the API server cannot be reached (exit code 3)
     +-- ClusterError           the API server refused a request (status code, reason, message)
          +-- ApplyError        an object could not be applied; names the object first

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


class ClusterError(GitopsError):
    """The API server answered with an error. ``code`` is the HTTP status, ``reason`` the
    Status reason (``Conflict``, ``Invalid``, ...), ``retryable`` says whether trying again
    later can help (429, 5xx, conflicts)."""

    def __init__(self, message: str, *, code: int = 0, reason: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.retryable = retryable


class ApplyError(ClusterError):
    """Applying one object failed; the message starts with the object's key."""

    def __init__(
        self, key: str, message: str, *, code: int = 0, reason: str = "", retryable: bool = False
    ) -> None:
        super().__init__(f"{key}: {message}", code=code, reason=reason, retryable=retryable)
        self.key = key
