"""The catalogue of the platform's long-running services, in start order, and how each is launched: the
supervisor runs `python -m salesinsights.platform.launch <name>` for every one of them."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from salesinsights.platform.airflow_env import airflow_environment
from salesinsights.platform.kafka_server import server_command
from salesinsights.settings import Settings


@dataclass(frozen=True)
class Service:
    name: str
    summary: str
    # SIGTERM first; SIGKILL to the whole process group when it has not exited after this long.
    stop_wait_s: int
    # Whether SIGTERM goes to the whole process group, or to the launched process alone, which then stops
    # its children in its own order.
    stop_group: bool = True


AIRFLOW_PARTS = ("api-server", "scheduler", "dag-processor", "triggerer")

SERVICES: tuple[Service, ...] = (
    Service("kafka", "the KRaft broker", stop_wait_s=60),
    # The file in flight finishes its transaction; the micro-batch in flight completes.
    Service("producer", "landing folder → Kafka, one transaction per file", stop_wait_s=120),
    # The driver alone: it stops its queries once their micro-batches are done, then its JVM; a SIGTERM to the
    # JVM as well would shut Spark down under the batches in flight.
    Service(
        "streaming", "Kafka → Delta bronze/silver/gold and the gold topic", stop_wait_s=120, stop_group=False
    ),
    Service("dashboard", "live sales on FastAPI", stop_wait_s=20),
    Service(
        "sql", "SQL for BI tools: JDBC (Thrift) and Spark Connect over the lake's tables", stop_wait_s=60
    ),
    # The API server first: tasks report to it. The scheduler waits for its running tasks.
    *(Service(f"airflow-{part}", f"Airflow {part}", stop_wait_s=60) for part in AIRFLOW_PARTS),
    Service("watchdog", "restarts a hung stream and services left FATAL", stop_wait_s=10),
)
NAMES = tuple(service.name for service in SERVICES)
AIRFLOW = tuple(f"airflow-{part}" for part in AIRFLOW_PARTS)


def service(name: str) -> Service:
    for candidate in SERVICES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"unknown service {name!r}; the services are {', '.join(NAMES)}")


def launch_command(settings: Settings, name: str) -> tuple[list[str], dict[str, str]]:
    """The command line that runs the service in the foreground, and the variables it needs beside the
    supervisor's environment."""
    python = sys.executable
    spark = {"PYSPARK_PYTHON": python}
    if name == "kafka":
        return server_command(settings), {}
    if name == "producer":
        return [python, "-m", "salesinsights.producer"], {}
    if name == "streaming":
        return [python, str(settings.home / "jobs" / "streaming_medallion.py")], spark
    if name == "dashboard":
        return [python, "-m", "salesinsights.dashboard"], {}
    if name == "sql":
        return [python, str(settings.home / "jobs" / "sql_server.py")], spark
    if name == "watchdog":
        return [python, "-m", "salesinsights.platform.watchdog"], {}
    if name in AIRFLOW:
        part = name.removeprefix("airflow-")
        # --skip-serve-logs: the API server reads task logs from the local folder; Airflow's log server
        # would listen on every interface.
        options = ["--skip-serve-logs"] if part in ("scheduler", "triggerer") else []
        return [airflow_cli(), part, *options], airflow_environment(settings)
    raise KeyError(f"unknown service {name!r}; the services are {', '.join(NAMES)}")


def airflow_cli() -> str:
    return str(Path(sys.executable).parent / "airflow")
