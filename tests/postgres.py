"""A throwaway PostgreSQL server for a test, from Debian's packages (which `.ci/run` installs): its own
cluster in a temporary folder, on the loopback address and a free port, stopped afterwards. Postgres refuses
to run as root, so as root the cluster belongs to the packages' `postgres` user."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support import free_port

# Debian's layout, one folder per major version: the newest last.
BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda folder: int(folder.parent.name))


@dataclass(frozen=True)
class Postgres:
    port: int
    socket_dir: Path

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Runs SQL as the superuser over the cluster's local socket; returns the unaligned rows."""
        command = [str(binary("psql")), "-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres"]
        command += ["-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql]
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=60).stdout


def binary(name: str) -> Path:
    found = [folder / name for folder in BINARIES if (folder / name).is_file()]
    if not found:
        raise FileNotFoundError(f"no {name} under /usr/lib/postgresql: apt-get install postgresql")
    return found[-1]


def as_cluster_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    # Not under pytest's temporary folders, which only their owner may enter.
    folder = Path(tempfile.mkdtemp(prefix="salesinsights-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, server = folder / "cluster", Postgres(free_port(), folder)
    initdb = [str(binary("initdb")), "-D", str(data), "-U", "postgres", "--auth-local=trust"]
    subprocess.run(as_cluster_owner([*initdb, "--auth-host=scram-sha-256"]), capture_output=True, check=True)
    options = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {folder}"
    pg_ctl = [str(binary("pg_ctl")), "-D", str(data), "-l", str(folder / "server.log")]
    subprocess.run(as_cluster_owner([*pg_ctl, "-o", options, "-w", "start"]), capture_output=True, check=True)
    try:
        yield server
    finally:
        subprocess.run(
            as_cluster_owner([*pg_ctl, "-m", "fast", "-w", "stop"]), capture_output=True, check=False
        )
