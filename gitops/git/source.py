"""Source: a revision of a repository, resolved to a commit and exported to a directory (I/O).

One sync asks :meth:`Source.checkout` for ``(url, revision, path)`` and gets a
:class:`Checkout`: a fresh directory holding the repository's tree at the resolved commit, the
app's path inside it, and the commit. Every checkout is its own directory, so apps on one
repository at different revisions never see each other's files.

How a revision resolves (git's own precedence, ``refs.c: ref_rev_parse_rules``):

- ``""`` or ``HEAD``: the remote's default branch (what its HEAD points to);
- ``refs/...``: that exact ref;
- a name: ``refs/<name>``, then the tag ``refs/tags/<name>``, then the branch
  ``refs/heads/<name>``; annotated tags are peeled to their commit;
- a full SHA: that commit (no network at all once it is cached: commits never change);
- an abbreviated SHA (4 or more hex digits) that names no ref: the one commit whose id starts
  with it (this needs the full history, fetched once).

Network cost: :meth:`Source.resolve` asks the remote for the matching refs only
(``git ls-remote <url> <name>``) and fetches only when the commit is not cached yet, and then only
that ref, ``--depth=1`` when ``shallow``. Nothing is ever cloned twice. A deleted branch is an
``UnknownRevision`` even if an older copy is still cached: the remote is the truth.
"""

from __future__ import annotations

import collections
import logging
import re
import shutil
import tarfile
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO

import git
import platformdirs

from gitops.errors import (
    GitAuthError,
    GitCredentialsError,
    GitError,
    GitTimeout,
    PathNotFound,
    RepoUnreachable,
    UnknownRevision,
)
from gitops.git import cache as cache_
from gitops.git import command, localdir
from gitops.git import credentials as credentials_
from gitops.git import options as options_
from gitops.git import remote as remote_

log = logging.getLogger("gitops.git")

_FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def is_full_sha(revision: str) -> bool:
    """Whether ``revision`` is a full commit id, SHA-1 or SHA-256, in either case: what a
    revision pinned to a commit is read as (it is used as the commit, never looked up)."""
    return _FULL_SHA.fullmatch(revision.strip().lower()) is not None


_SHORT_SHA = re.compile(r"[0-9a-f]{4,63}")
_AUTH_FAILURE = re.compile(
    r"authentication failed|could not read (username|password)|terminal prompts disabled"
    r"|permission denied \(publickey|http (basic: )?access denied|returned error: 40[13]"
    r"|invalid credentials|host key verification failed",
    re.IGNORECASE,
)


class Checkout:
    """An exported tree. ``root`` is the tree's top, ``path`` the app's directory (or file) in
    it, ``commit`` what it was exported from. A context manager: leaving it removes the tree
    (:meth:`cleanup`). For a plain directory source ``root`` is that directory, and
    :meth:`cleanup` leaves it alone."""

    def __init__(self, root: Path, path: Path, commit: options_.Commit, *, temporary: bool) -> None:
        self.root = root
        self.path = path
        self.commit = commit
        self._temporary = temporary

    @property
    def revision(self) -> str:
        """The commit SHA, or ``dir:<sha256>`` for a plain directory."""
        return self.commit.sha

    def cleanup(self) -> None:
        """Remove the exported tree (idempotent)."""
        if self._temporary:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Checkout:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cleanup()

    def __repr__(self) -> str:
        return f"Checkout(root={str(self.root)!r}, path={str(self.path)!r}, revision={self.revision!r})"


class Source:
    """Repositories, through a cache of bare clones. Safe to share between threads; several
    processes may share one ``cache_dir``."""

    def __init__(self, options: options_.GitOptions | None = None) -> None:
        self.options = options or options_.GitOptions()
        self.cache_dir = self.options.cache_dir or platformdirs.user_cache_path("gitops") / "git"
        self._counts: collections.Counter[str] = collections.Counter()
        self._counts_lock = threading.Lock()

    # -- public API ---------------------------------------------------------------------------

    def resolve(self, url: str, revision: str = "HEAD") -> options_.Commit:
        """The commit ``revision`` names in ``url``, fetched into the cache if needed."""
        remote = remote_.Remote.parse(url)
        plain = self._plain_dir(remote, revision)
        if plain is not None:
            return options_.Commit(localdir.revision(plain))
        return self._resolve(remote, revision).commit()

    def checkout(self, url: str, revision: str = "HEAD", path: str = "") -> Checkout:
        """Export the tree at ``revision`` to a new directory; ``path`` (relative, POSIX) is
        the app's path in it. The caller owns the result: ``with source.checkout(...) as co``."""
        remote = remote_.Remote.parse(url)
        rel = _relative(path, remote, revision)
        plain = self._plain_dir(remote, revision)
        if plain is not None:
            target = plain / rel
            if not (target.exists() or target.is_symlink()):
                raise PathNotFound(
                    f"{remote.display}: path {rel.as_posix()!r} does not exist",
                    url=remote.display,
                    revision=revision,
                )
            return Checkout(plain, target, options_.Commit(localdir.revision(plain)), temporary=False)
        ctx = self._resolve(remote, revision)
        commit = ctx.commit()
        if not ctx.path_exists(rel.as_posix() if rel.parts else ""):
            raise ctx.error(PathNotFound, f"path {rel.as_posix()!r} does not exist at {commit.sha[:12]}")
        root = self._export(ctx, commit.sha)
        return Checkout(root, root / rel, commit, temporary=True)

    def ls_remote(self, url: str, ref: str = "HEAD") -> str | None:
        """The SHA the remote's ``ref`` (``HEAD``, a branch, a tag or ``refs/...``) points to
        now, peeled to a commit, or None when it has no such ref. Cheap: no fetch, no cache.
        For a plain directory, its current ``dir:`` revision."""
        remote = remote_.Remote.parse(url)
        plain = self._plain_dir(remote, ref)
        if plain is not None:
            return localdir.revision(plain)
        ctx = _Context(self, remote, self._credentials(remote, ref), ref)
        found = _pick_ref(self._ls_remote(ctx), ref.strip() or "HEAD")
        return found[1] if found else None

    def operation_counts(self) -> dict[str, int]:
        """How many git commands of each kind ran (``ls-remote``, ``fetch``, ``init``,
        ``archive``, ...): for metrics, and for tests that prove nothing was re-cloned."""
        with self._counts_lock:
            return dict(self._counts)

    # -- resolution -----------------------------------------------------------------------------

    def _plain_dir(self, remote: remote_.Remote, revision: str) -> Path | None:
        """The directory when ``remote`` is a local directory that is not a Git repository."""
        path = remote.local_path
        if path is None or not path.is_dir() or _is_repository(path):
            return None
        if revision.strip() not in ("", "HEAD"):
            raise UnknownRevision(
                f"{remote.display} (revision {revision}): a plain directory, not a Git repository, "
                "has no revisions (use HEAD or leave the revision out)",
                url=remote.display,
                revision=revision,
            )
        return path

    def _credentials(self, remote: remote_.Remote, revision: str) -> credentials_.Credentials:
        try:
            return credentials_.Credentials.load(self.options)
        except GitCredentialsError as exc:
            raise GitCredentialsError(
                f"{remote.display}: {exc}", url=remote.display, revision=revision
            ) from exc

    def _resolve(self, remote: remote_.Remote, revision: str) -> _Context:
        """A context whose ``sha`` is the commit ``revision`` names, now in the cache."""
        rev = revision.strip() or "HEAD"
        ctx = _Context(self, remote, self._credentials(remote, revision), revision)
        if is_full_sha(rev):
            rev = rev.lower()
            if not ctx.has_commit(rev):
                ctx.fetch_commit(rev)
            ctx.sha = rev
            return ctx
        found = _pick_ref(self._ls_remote(ctx), rev)
        if found is not None:
            ref, sha = found
            ctx.sha = sha if ctx.has_commit(sha) else ctx.fetch_ref(ref)
        elif _SHORT_SHA.fullmatch(rev):
            ctx.sha = ctx.expand_short_sha(rev)
        else:
            raise ctx.error(UnknownRevision, "no branch, tag or commit of that name")
        return ctx

    def _ls_remote(self, ctx: _Context) -> dict[str, str]:
        """Refs matching the revision (git's tail match), with ``<ref>^{}`` for peeled tags and
        ``HEAD->`` holding HEAD's target when HEAD is symbolic."""
        rev = ctx.revision.strip() or "HEAD"
        patterns = ["HEAD"] if rev == "HEAD" else [rev, f"{rev}^{{}}"]
        out = ctx.git("ls-remote", ["ls-remote", "--symref", ctx.remote.url, *patterns], network=True)
        refs: dict[str, str] = {}
        for line in out.splitlines():
            value, _, name = line.partition("\t")
            if value.startswith("ref: "):
                refs[f"{name}->"] = value[5:]
            elif name:
                refs[name] = value
        return refs

    def _export(self, ctx: _Context, sha: str) -> Path:
        """``git archive`` of the whole tree at ``sha`` into a new directory: the whole tree,
        because kustomize overlays reach ``../base``. Symlinks stay symlinks, whatever they
        point to (the manifest loader refuses escaping ones); tarfile's ``tar`` filter still
        refuses to write anything outside the directory."""
        base = self.options.checkout_dir
        if base is not None:
            base.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix=f"gitops-{sha[:12]}-", dir=base))

        def extract(stream: IO[bytes]) -> None:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                tar.extractall(root, filter="tar")

        try:
            ctx.git("archive", ["archive", "--format=tar", sha], consume_stdout=extract)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return root

    def _count(self, op: str) -> None:
        with self._counts_lock:
            self._counts[op] += 1


class _Context:
    """One operation on one remote: its credentials, its cache, the revision asked for (what
    every error names) and, once resolved, the commit's ``sha``."""

    def __init__(
        self, source: Source, remote: remote_.Remote, creds: credentials_.Credentials, revision: str
    ) -> None:
        self.source = source
        self.remote = remote
        self.creds = creds
        self.cache = cache_.RepoCache(source.cache_dir, remote)
        self.revision = revision
        self.timeout = source.options.timeout
        self.sha = ""

    def error(self, cls: type[GitError], what: str) -> GitError:
        """``cls`` with a message that names the URL and revision first."""
        rev = f" (revision {self.revision})" if self.revision.strip() else ""
        return cls(f"{self.remote.display}{rev}: {what}", url=self.remote.display, revision=self.revision)

    def git(
        self,
        op: str,
        args: Sequence[str],
        *,
        network: bool = False,
        check: bool = True,
        consume_stdout: Callable[[IO[bytes]], None] | None = None,
    ) -> str:
        """Run one git command (in the cache, except ``ls-remote``); a failure becomes an error
        naming the URL and revision, with every secret scrubbed from git's own words. With
        ``check=False`` a failure returns ``""``."""
        self.source._count(op)
        cwd = None if op == "ls-remote" else self.cache.path
        log.debug("git %s %s%s", op, self.remote.display, f" ({self.revision})" if self.revision else "")
        secrets = self.creds.secrets(self.remote)
        try:
            # credentials only for commands that talk to the remote, not for reads of the cache
            creds = self.creds if network else credentials_.Credentials()
            with creds.environment(self.remote) as env:
                done = command.run(
                    args, timeout=self.timeout, env=env, cwd=cwd, consume_stdout=consume_stdout
                )
        except command.CommandTimeout as exc:
            raise self.error(
                GitTimeout, f"git {op} did not finish in {self.timeout:g}s and was killed"
            ) from exc
        except (OSError, tarfile.TarError, git.GitCommandNotFound) as exc:
            raise self.error(GitError, f"git {op} failed: {remote_.scrub(str(exc), secrets)}") from exc
        if done.returncode == 0:
            return done.stdout
        if not check:
            return ""
        reason = _reason(remote_.scrub(done.stderr, secrets))
        if network:
            cls: type[GitError] = GitAuthError if _AUTH_FAILURE.search(done.stderr) else RepoUnreachable
            raise self.error(cls, f"cannot {op}: {reason}")
        raise self.error(GitError, f"git {op} in the cache ({self.cache.path}) failed: {reason}")

    def has_commit(self, sha: str) -> bool:
        if not self.cache.exists():
            return False
        return bool(self.git("cat-file", ["cat-file", "-t", f"{sha}^{{commit}}"], check=False).strip())

    def commit(self) -> options_.Commit:
        """The resolved commit's metadata (author date in UTC, subject as git shows it)."""
        out = self.git("show", ["show", "-s", "--format=%H%x00%an <%ae>%x00%at%x00%s", self.sha], check=False)
        fields = out.rstrip("\n").split("\0")
        if len(fields) != 4:
            raise self.error(UnknownRevision, f"{self.sha[:12]} is not a commit")
        sha, author, when, subject = fields
        date = datetime.fromtimestamp(int(when), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return options_.Commit(sha, author, date, subject)

    def path_exists(self, path: str) -> bool:
        """Whether ``path`` (a directory, file or symlink) is in the resolved commit's tree."""
        spec = f"{self.sha}^{{tree}}" if not path else f"{self.sha}:{path}"
        return bool(self.git("cat-file", ["cat-file", "-t", spec], check=False).strip())

    def _fetch(self, refspecs: Sequence[str], *, depth: bool, unshallow: bool = False) -> None:
        args = ["fetch", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules"]
        if unshallow:
            args.append("--unshallow")
        elif depth:
            args.append("--depth=1")
        args += [self.remote.url, *refspecs]
        with self.locked():
            if not self.cache.exists():
                self.source._count("init")
                log.info("caching %s in %s", self.remote.display, self.cache.path)
                self.cache.init()
            self.cache.clear_stale_git_locks()
            log.info("fetching %s %s", self.remote.display, " ".join(refspecs))
            self.git("fetch", args, network=True)

    def fetch_ref(self, ref: str) -> str:
        """Fetch one ref into the same name here; the commit it points to now (the remote may
        have moved since ``ls-remote``: the fetched commit is the newest truth)."""
        local = "refs/gitops/HEAD" if ref == "HEAD" else ref
        self._fetch([f"+{ref}:{local}"], depth=self.source.options.shallow)
        sha = self.git("rev-parse", ["rev-parse", "--verify", "--quiet", f"{local}^{{commit}}"], check=False)
        if not sha.strip():
            raise self.error(UnknownRevision, f"{ref} does not point to a commit")
        return sha.strip()

    def fetch_commit(self, sha: str) -> None:
        """Fetch a commit by id (pinned under refs/gitops/pins so gc keeps it). A server that
        will not serve an unadvertised object gets a full fetch instead."""
        try:
            self._fetch([f"+{sha}:refs/gitops/pins/{sha}"], depth=self.source.options.shallow)
        except RepoUnreachable as exc:
            if isinstance(exc, (GitAuthError, GitTimeout)):
                raise
            log.info("%s would not serve %s by id; fetching every branch and tag", self.remote.display, sha)
            self.fetch_all()
        if not self.has_commit(sha):
            raise self.error(UnknownRevision, f"no commit {sha}")

    def fetch_all(self) -> None:
        """Every branch and tag with full history: the only way to find commits by prefix."""
        self._fetch(
            ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
            depth=False,
            unshallow=self.cache.shallow,
        )

    def expand_short_sha(self, prefix: str) -> str:
        self.fetch_all()
        out = self.git("rev-parse", ["rev-parse", "--verify", "--quiet", f"{prefix}^{{commit}}"], check=False)
        if not _FULL_SHA.fullmatch(out.strip()):
            raise self.error(
                UnknownRevision, "no branch or tag of that name, and no single commit whose id starts with it"
            )
        return out.strip()

    def locked(self) -> _Locked:
        return _Locked(self)


class _Locked:
    """The cache's writer lock as a context manager, its wait bounded by the timeout."""

    def __init__(self, ctx: _Context) -> None:
        self._ctx = ctx
        self._cm = ctx.cache.locked(ctx.timeout)

    def __enter__(self) -> None:
        try:
            self._cm.__enter__()
        except cache_.LockTimeout as exc:
            raise self._ctx.error(
                GitTimeout, f"waited {self._ctx.timeout:g}s for another fetch to finish"
            ) from exc

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._cm.__exit__(exc_type, exc, tb)


def _pick_ref(refs: Mapping[str, str], rev: str) -> tuple[str, str] | None:
    """(ref, peeled SHA) that ``rev`` names among ``refs``, by git's precedence."""
    if rev == "HEAD":
        if "HEAD" not in refs:
            return None  # an empty repository
        target = refs.get("HEAD->")  # the default branch, when HEAD is symbolic
        return (target, refs["HEAD"]) if target else ("HEAD", refs["HEAD"])
    candidates = (
        [rev] if rev.startswith("refs/") else [f"refs/{rev}", f"refs/tags/{rev}", f"refs/heads/{rev}"]
    )
    for ref in candidates:
        if ref in refs:
            return ref, refs.get(f"{ref}^{{}}", refs[ref])
    return None


def _relative(path: str, remote: remote_.Remote, revision: str) -> PurePosixPath:
    p = PurePosixPath(path.strip() or ".")
    if p.is_absolute() or ".." in p.parts:
        raise PathNotFound(
            f"{remote.display}: path {path!r} must be relative and stay inside the repository",
            url=remote.display,
            revision=revision,
        )
    return PurePosixPath(*[part for part in p.parts if part != "."])


def _is_repository(path: Path) -> bool:
    """Whether ``path`` itself is a Git repository (a work tree's top or a bare repository);
    a directory inside someone else's work tree is a plain directory."""
    try:
        with git.Repo(path, search_parent_directories=False) as repo:
            top = Path(repo.working_tree_dir or repo.git_dir).resolve()
            return top == path.resolve()
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return False


_BOILERPLATE = ("please make sure you have the correct access rights", "and the repository exists.")


def _reason(stderr: str) -> str:
    """git's explanation: its last few lines (a helper's own words, such as ssh's, come before
    git's ``fatal:``), without the generic advice git appends."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.lower().startswith(_BOILERPLATE)]
    text = "; ".join(lines[-4:]) or "git gave no reason"
    return text[:800]
