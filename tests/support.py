"""Helpers shared by the tests: the repository's places and the environment of a test platform."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from salesinsights.settings import KafkaSettings

REPO = Path(__file__).resolve().parents[1]
REAL_SAMPLE_DIR = REPO.parent / "shared" / "data" / "real_sample"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def platform_env(data_dir: Path, kafka: KafkaSettings, **extra: str) -> dict[str, str]:
    """The environment that points the project's scripts and modules at a test's own data and broker."""
    isolated = ("SALESINSIGHTS_", "SI_", "AIRFLOW_", "AIRFLOW__")
    env = {key: value for key, value in os.environ.items() if not key.startswith(isolated)}
    env |= {
        "SALESINSIGHTS_DATA_DIR": str(data_dir),
        "SALESINSIGHTS_KAFKA__BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "SALESINSIGHTS_KAFKA__CONTROLLER_PORT": str(kafka.controller_port),
        "SALESINSIGHTS_KAFKA__RAW_TOPIC": kafka.raw_topic,
        "SALESINSIGHTS_KAFKA__DEAD_LETTER_TOPIC": kafka.dead_letter_topic,
        "SALESINSIGHTS_KAFKA__GOLD_SALES_TOPIC": kafka.gold_sales_topic,
        "SALESINSIGHTS_KAFKA__FILES_DONE_TOPIC": kafka.files_done_topic,
    }
    return env | extra
