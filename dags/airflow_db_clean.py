"""
### airflow_db_clean — keeps Airflow's own metadata bounded

The every-minute DAGs (file_drop, and streaming every five minutes) add thousands of DAG runs and task
instances a day to Airflow's metadata database. Every night this DAG runs `airflow db clean` on everything
older than `SALESINSIGHTS_SERVICES__AIRFLOW_METADATA_RETENTION` (default 14 days; Airflow keeps each DAG's
newest scheduled run), without an archive table. The DAGs themselves are kept, with their pause state.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, task

from salesinsights.airflow_notifier import task_defaults


@dag(
    dag_id="airflow_db_clean",
    description="Purges Airflow metadata older than the configured retention (airflow db clean).",
    doc_md=__doc__,
    schedule="45 4 * * *",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["salesinsights", "maintenance"],
    default_args=task_defaults(1, retry_delay=timedelta(minutes=10)),
)
def airflow_db_clean() -> None:
    @task(execution_timeout=timedelta(hours=1))
    def clean_metadata() -> None:
        from salesinsights.ops import run_checked
        from salesinsights.platform.airflow_env import db_clean_arguments, db_clean_environment
        from salesinsights.settings import get_settings

        settings = get_settings()
        command = [sys.executable, "-m", "airflow", *db_clean_arguments(settings, datetime.now(UTC))]
        # Any failure is retried.
        run_checked(command, settings.home, "airflow db clean", env=db_clean_environment(settings))

    clean_metadata()


airflow_db_clean()
