"""
### streaming — the continuously running streaming medallion, as Airflow sees it

The streaming application (the archive query, Kafka → Delta bronze/silver/gold, and the live query, Kafka →
window totals on the gold topic) runs under the platform's process supervisor, which restarts it whenever it
dies; the supervisor's watchdog restarts it when it hangs. This DAG does not run it and never signals it:
through the supervisor's control interface it

1. **start_stream** asks the supervisor to start the application if it is not up (after `make down` of the
   stream alone, or a `salesinsights platform stop streaming`), and
2. **report_health** writes each query's health to the task log — the process's state and uptime, the last
   progress time, input and processing rates, the last micro-batch's duration, the Kafka lag — and fails
   when the application is not running or a query is not active, so that the grid shows its health.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, task

from salesinsights.airflow_notifier import task_defaults

log = logging.getLogger(__name__)


@dag(
    dag_id="streaming",
    description="Starts the streaming medallion through the supervisor unless it is up; reports its health.",
    doc_md=__doc__,
    schedule=timedelta(minutes=5),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["salesinsights", "streaming"],
    default_args=task_defaults(0, execution_timeout=timedelta(minutes=5)),
)
def streaming() -> None:
    @task
    def start_stream() -> str:
        """The supervisor starts the application unless it is up; returns its state."""
        from salesinsights.platform.stream_service import ensure_stream
        from salesinsights.settings import get_settings

        return ensure_stream(get_settings())

    @task
    def report_health() -> dict[str, object]:
        """Each query's health in the log; fails when the application is not running or a query is down."""
        from salesinsights.platform.stream_service import stream_health
        from salesinsights.settings import get_settings

        health = stream_health(get_settings())
        for key, value in health.items():
            log.info("%s: %s", key, value)
        if not health["healthy"]:
            raise RuntimeError(f"the streaming application is not healthy: {health}")
        return health

    start_stream() >> report_health()


streaming()
