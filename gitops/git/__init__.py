"""The only code that uses GitPython: clone cache, fetch, resolve, credentials (I/O).

:class:`Source` turns ``(repository URL, revision, path)`` into a :class:`Checkout`, a fresh
directory with the repository's tree at one commit. Repositories are cached as bare clones under
``GitOptions.cache_dir`` (one per URL, shared by threads and processes); fetches are incremental
and shallow, and nothing is fetched when the remote has not moved. Local paths and ``file://``
URLs work like any remote; a local directory that is not a repository is used as it is, with the
revision ``dir:<sha256 of its content>``.

Credentials (an HTTPS token, an SSH key; from :class:`GitOptions` or ``GITOPS_GIT_TOKEN``,
``GITOPS_GIT_TOKEN_FILE``, ``GITOPS_GIT_SSH_KEY_FILE``) never appear in a command line, a log
line, an error or a URL: :func:`redact_url` is the form to show and store. Every git command has
a timeout, after which it and its helpers are killed. Errors are :class:`~gitops.errors.GitError`
subclasses naming the redacted URL and the revision.

Modules: ``source`` (Source, Checkout, revision resolution, export), ``cache`` (the bare clones
and their lock), ``command`` (one git process under a timeout), ``credentials``, ``remote`` (URL
parsing, redaction), ``localdir`` (plain directories), ``options``.
"""

from gitops.git.options import Commit, GitOptions
from gitops.git.remote import redact_url, resolve_local
from gitops.git.source import Checkout, Source, is_full_sha

__all__ = ["Checkout", "Commit", "GitOptions", "Source", "is_full_sha", "redact_url", "resolve_local"]
