"""
### delta_maintenance — keeps the Delta tables healthy

Nightly: compacts the small files that one-second micro-batches leave behind (OPTIMIZE, bin-packing), then
removes files that no table version within the retention still uses (VACUUM). Each table's newest
partition, the one the stream writes to now, is left out of the compaction so the two never conflict; the
retention (`SALESINSIGHTS_SPARK__RETENTION`, 7 days by default) bounds how far back time travel reaches.
The work runs in a Spark job of its own (`jobs/delta_maintenance.py`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, task

from salesinsights.airflow_notifier import task_defaults


@dag(
    dag_id="delta_maintenance",
    description="OPTIMIZE and VACUUM the medallion's Delta tables, beside the running stream.",
    doc_md=__doc__,
    schedule="0 3 * * *",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["salesinsights", "maintenance"],
    default_args=task_defaults(1, retry_delay=timedelta(minutes=10)),
)
def delta_maintenance() -> None:
    @task(execution_timeout=timedelta(hours=2))
    def compact_and_vacuum() -> None:
        from salesinsights.ops import run_job
        from salesinsights.settings import get_settings

        run_job(get_settings(), "delta_maintenance.py")

    compact_and_vacuum()


delta_maintenance()
