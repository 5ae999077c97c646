"""One writer per data folder: an advisory lock that a second instance of a service cannot take.

The lock is the kernel's (flock) on data/run/<name>.lock, so it goes with its holder whatever way the
holder ends, SIGKILL included: no stale lock to clean up, and no pid that another process may have reused.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class AlreadyRunningError(RuntimeError):
    """Another process holds the lock."""


@contextmanager
def single_instance(run_dir: Path, name: str) -> Iterator[None]:
    """Holds data/run/<name>.lock for the block; raises AlreadyRunningError at once if another holds it."""
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = run_dir / f"{name}.lock"
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(descriptor)
        raise AlreadyRunningError(f"{name} is already running for {run_dir.parent} (pid {holder})") from None
    try:
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(descriptor)  # closing the last descriptor releases the lock


@contextmanager
def taken_in_turn(run_dir: Path, name: str) -> Iterator[None]:
    """Holds data/run/<name>.lock for the block, waiting while another process holds it (short critical
    sections, such as updating a ledger)."""
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(run_dir / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
