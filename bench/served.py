"""``gitops local-cluster serve`` in its own process, for the benchmarks (shared by all)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import yaml


@contextlib.contextmanager
def served(*serve_args: str, workdir: Path | None = None) -> Iterator[tuple[str, Path]]:
    """Start the local cluster with ``serve_args`` (e.g. ``--no-controllers``); yield its URL and
    kubeconfig path; stop it on exit. The kubeconfig lives in ``workdir`` (a temporary dir when
    None)."""
    with contextlib.ExitStack() as stack:
        base = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        base.mkdir(parents=True, exist_ok=True)
        kubeconfig = base / "kubeconfig"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gitops.cli",
                "local-cluster",
                "serve",
                *serve_args,
                "--kubeconfig",
                str(kubeconfig),
            ],
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while not kubeconfig.exists():
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the local cluster did not start")
                time.sleep(0.05)
            yield str(yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]), kubeconfig
        finally:
            proc.terminate()
            proc.wait(timeout=10)
