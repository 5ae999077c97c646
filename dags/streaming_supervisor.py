"""
### streaming_supervisor — keeps the streaming medallion running

Every minute: starts the Spark streaming application (the archive query, Kafka → Delta bronze/silver/gold,
and the live query, Kafka → window totals on the gold topic) if it is not running — after a crash, a reboot
or a `make down` of the stream alone — and writes each query's health to the task log: the last progress
time, input and processing rates, the last micro-batch's duration and the Kafka lag.
A run fails when the application cannot be started or has stopped reporting.

The application runs in its own process (`scripts/streaming.sh`), not inside an Airflow task, so it keeps
no worker slot busy. `make down` stops Airflow first, so this DAG does not restart what is being stopped.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, task

log = logging.getLogger(__name__)


@dag(
    dag_id="streaming_supervisor",
    description="Starts the streaming medallion when it is not running and reports its health.",
    doc_md=__doc__,
    schedule="* * * * *",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["salesinsights", "streaming"],
    default_args={"owner": "salesinsights", "retries": 0, "execution_timeout": timedelta(minutes=5)},
)
def streaming_supervisor() -> None:
    @task
    def keep_running() -> dict[str, object]:
        """Start the application if needed, then report its health (fails when it is not healthy)."""
        from salesinsights.ops import run_script
        from salesinsights.settings import get_settings
        from salesinsights.spark.progress import STATUS_FILE

        settings = get_settings()
        run_script(settings, "streaming.sh", "ensure", timeout_s=240)
        health: dict[str, object] = json.loads((settings.run_dir / STATUS_FILE).read_text())
        for key, value in health.items():
            log.info("%s: %s", key, value)
        if not health.get("active"):
            raise RuntimeError(f"a streaming query is not active: {health.get('queries')}")
        return health

    keep_running()


streaming_supervisor()
