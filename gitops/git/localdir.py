"""A plain directory (not a Git repository) as a source (I/O: reads the files).

Its revision is ``dir:<sha256>`` of its content: every regular file and symlink under it, in
sorted order of their relative POSIX paths, each as (kind, path, content or link target), length
prefixed so no two different trees hash alike. Directories themselves, timestamps and
permissions other than the executable bit do not count, so the revision is stable across copies
and changes exactly when something a manifest loader could read changes. Symlinks are hashed by
their target, never followed.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

PREFIX = "dir:"


def revision(root: Path) -> str:
    digest = hashlib.sha256()

    def field(data: bytes) -> None:
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)

    entries: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        # a symlink to a directory shows up in dirnames; it is an entry, not a subtree
        for name in [*filenames, *(d for d in dirnames if (base / d).is_symlink())]:
            entries.append(((base / name).relative_to(root).as_posix(), base / name))
    for rel, path in sorted(entries):
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            field(b"link")
            field(os.fsencode(rel))
            field(os.fsencode(os.readlink(path)))
        elif stat.S_ISREG(st.st_mode):
            field(b"exec" if st.st_mode & 0o111 else b"file")
            field(os.fsencode(rel))
            inner = hashlib.sha256()
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    inner.update(chunk)
            field(inner.digest())
        # sockets, fifos and devices are not content
    return PREFIX + digest.hexdigest()
