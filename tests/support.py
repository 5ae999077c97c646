"""Helpers shared by the tests: the repository's places and the environment of a test platform."""

from __future__ import annotations

import socket
from pathlib import Path

from salesinsights.settings import KafkaSettings, child_environment

REPO = Path(__file__).resolve().parents[1]
REAL_SAMPLE_DIR = REPO.parent / "shared" / "data" / "real_sample"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def platform_env(data_dir: Path, kafka: KafkaSettings, **extra: str) -> dict[str, str]:
    """The environment that points the project's scripts and modules at a test's own data and broker."""
    return child_environment(data_dir, kafka, **extra)
