"""Helpers shared by the tests: the repository's places and the environment of a test platform."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


@contextmanager
def parsed_dags(airflow_home: Path, dag_folder: Path) -> Iterator[Any]:
    """A DagBag of `dag_folder` (a folder or one file), parsed with `airflow_home` as the Airflow home so
    that parsing never creates or reads a developer's ~/airflow. (If Airflow was imported earlier in this
    session it keeps its configuration, which is fine for parsing.)"""
    saved = {key: os.environ.get(key) for key in ("AIRFLOW_HOME", "AIRFLOW__CORE__LOAD_EXAMPLES")}
    os.environ["AIRFLOW_HOME"] = str(airflow_home)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    try:
        # Airflow 3.3: the file-parsing DagBag lives in airflow.dag_processing; given a folder it loads only
        # that folder (example DAGs are never mixed in).
        from airflow.dag_processing.dagbag import DagBag

        yield DagBag(dag_folder=dag_folder, safe_mode=False)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
