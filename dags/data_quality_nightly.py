"""
### data_quality_nightly — validates yesterday's event day in the lake with the Great Expectations suites

Every night: validates the newest complete event day of every table of the lake (bronze, silver, the
quarantine, gold, the stream's audit, the published CLV snapshot, the producer's dead letters) with batch
reads of the Delta tables, not the stream. The suites live in `expectations/`, generated from the rulebook
that the producer and the streaming job apply (`salesinsights/quality/`).

Every outcome goes to the Delta table `audit.dq_results` (one row per expectation per run) and into the
Data Docs site in `data/dq/data_docs/index.html` (its address is in the task log). A failed **critical**
expectation fails the run, naming each one; warnings are recorded only. The work runs in a process of its
own (`jobs/data_quality.py`); `make dq` runs the same validation by hand.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from salesinsights.airflow_notifier import FailureNotifier

log = logging.getLogger(__name__)


@dag(
    dag_id="data_quality_nightly",
    description="Great Expectations suites on the newest complete event day; fails on a critical failure.",
    doc_md=__doc__,
    schedule="30 3 * * *",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["salesinsights", "quality"],
    default_args={
        "owner": "salesinsights",
        "on_failure_callback": [FailureNotifier()],
        "retries": 1,
        "retry_delay": timedelta(minutes=10),
    },
)
def data_quality_nightly() -> None:
    @task(execution_timeout=timedelta(hours=1))
    def validate_day() -> None:
        """Runs the suites; a failed critical expectation fails the task without retries, naming it."""
        from salesinsights.ops import run_job
        from salesinsights.quality.context import data_docs_index
        from salesinsights.settings import get_settings

        settings = get_settings()
        try:
            # A failed critical expectation fails without retries: retrying cannot change the verdict.
            run_id = str(get_current_context()["run_id"])
            run_job(settings, "data_quality.py", "--run-id", run_id, verdict_error=AirflowFailException)
        finally:
            log.info("Data Docs: %s", data_docs_index(settings).as_uri())

    validate_day()


data_quality_nightly()
