"""Helpers shared by the tests: the repository's places and the environment of a test platform."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from salesinsights.producer.service import LandingProducer
from salesinsights.settings import KafkaSettings, Settings, child_environment
from salesinsights.spark.sql_health import STATUS_FILE
from salesinsights.sql_client import beeline_command

REPO = Path(__file__).resolve().parents[1]
REAL_SAMPLE_DIR = REPO.parent / "shared" / "data" / "real_sample"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def platform_env(data_dir: Path, kafka: KafkaSettings, **extra: str) -> dict[str, str]:
    """The environment that points the project's scripts and modules at a test's own data and broker."""
    return child_environment(data_dir, kafka, **extra)


# The streaming application in tests: two cores, small shuffles. The live query takes the whole backlog in
# one batch: the files' Kafka partitions, split into batches, could put one partition's events behind the
# watermark that another's set.
STREAMING_TEST_ENV = {
    "SALESINSIGHTS_SPARK__MASTER": "local[2]",
    "SALESINSIGHTS_SPARK__SHUFFLE_PARTITIONS": "2",
    "SALESINSIGHTS_SPARK__MAX_OFFSETS_PER_TRIGGER": "60000",
    "SALESINSIGHTS_SPARK__LIVE_MAX_OFFSETS_PER_TRIGGER": "1000000",
}


def platform_command(env: dict[str, str], *arguments: str, timeout_s: float = 600) -> str:
    """`salesinsights platform …` (what `make up/down/status` run) in the test's environment; its output.
    Fails the test when it fails, with that output."""
    result = subprocess.run(
        [sys.executable, "-m", "salesinsights.cli", "platform", *arguments],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert result.returncode == 0, f"platform {' '.join(arguments)} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


def start_streaming(
    settings: Settings, max_offsets_per_trigger: int = 60_000, overrides: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """The streaming application on the test's data and topics, in a session of its own: killing the
    session takes the Spark JVM down with the Python driver, at once. `overrides` are settings variables."""
    env = platform_env(
        settings.data,
        settings.kafka,
        PYSPARK_PYTHON=sys.executable,
        **STREAMING_TEST_ENV
        | {"SALESINSIGHTS_SPARK__MAX_OFFSETS_PER_TRIGGER": str(max_offsets_per_trigger)}
        | dict(overrides or {}),
    )
    return start_job("streaming_medallion.py", env, settings.data / "streaming.log")


def start_job(script: str, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """One of jobs/ as the supervisor starts it, in a session of its own, its output appended to the log."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, f"jobs/{script}"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as `make down` sends it: the application finishes its micro-batches and exits cleanly."""
    process.send_signal(signal.SIGTERM)
    assert process.wait(180) == 0


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 1) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s}s waiting for {what}"
        time.sleep(poll_s)


def produce(settings: Settings) -> None:
    """Every file in the landing folder, produced as the producer service does."""
    producer = LandingProducer(settings, transactional_id=f"test-{settings.kafka.raw_topic}")
    for path in producer.pending_files():
        producer.produce_file(path)


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


PROMPT = re.compile(r"^\d+: jdbc:hive2://\S+> ")


def run_beeline(settings: Settings, *statements: str) -> subprocess.CompletedProcess[str]:
    """The statements through the JDBC endpoint with Hive's own client, as `make sql` opens it."""
    command = [*beeline_command(settings), "--outputformat=csv2", "--silent=true", "--showHeader=true"]
    command += ["-e", ";\n".join(statements)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def beeline(settings: Settings, query: str) -> list[list[str]]:
    """The query through beeline; the rows as text, header first."""
    done = run_beeline(settings, query)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # Beeline echoes its prompt ("0: jdbc:hive2://…> ") before the first line of output.
    lines = (PROMPT.sub("", line) for line in done.stdout.splitlines())
    return [line.split(",") for line in lines if "," in line]


@contextmanager
def sql_server(settings: Settings, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """The SQL endpoint's service as the supervisor runs it (`jobs/sql_server.py`), until it reports that it
    serves; stopped afterwards, which must end it cleanly."""
    log_path = settings.data / "sql-server.log"
    server = start_job("sql_server.py", env, log_path)
    try:
        status = settings.run_dir / STATUS_FILE
        wait_until(lambda: status.exists() or server.poll() is not None, 300, "the SQL endpoint to serve")
        assert server.poll() is None, log_path.read_text()[-4000:]
        yield server
    finally:
        server.terminate()
        assert server.wait(120) == 0, log_path.read_text()[-4000:]
