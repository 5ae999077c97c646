"""
### data_quality_nightly — validates the lake's event days with the Great Expectations suites

Every night: validates **every complete event day that no run has validated yet** (at one replayed day per
minute, that is every day that arrived since the last night; on a live shop, yesterday) in every table of
the lake (bronze, silver, the quarantine, gold, the stream's audit, the published CLV snapshot, the producer's
dead letters) with batch reads of the Delta tables, not the stream. The suites live in `expectations/`,
generated from the rulebook that the producer and the streaming job apply (`salesinsights/quality/`).

* **Trigger with a range** (`day_from`, `day_to`): re-validates those days.
* **Backfill** (UI or `airflow backfill create --dag-id data_quality_nightly --from-date … --to-date …`):
  the run of the night of day D + 1 validates day D, so a backfill re-validates its range, one day per run.
  A repeated run replaces its own results.
* **Nothing to validate** (an empty or one-day lake, or every day done): the task is *skipped*, saying why.

Every outcome goes to the Delta table `audit.dq_results` (one row per expectation per day per run) and into
the Data Docs site in `data/dq/data_docs/index.html` (its address is in the task log). A failed **critical**
expectation fails the run, naming each one; warnings are recorded only. A run with no failure updates the
asset `lake_validated` (its event names the days), on which **clv_nightly** is scheduled. The work runs in a
process of its own (`jobs/data_quality.py`); `make dq` runs the same validation by hand.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from salesinsights.airflow_assets import LAKE_VALIDATED
from salesinsights.airflow_notifier import task_defaults

log = logging.getLogger(__name__)


@dag(
    dag_id="data_quality_nightly",
    description="Great Expectations suites on every complete event day not yet validated; fails on a "
    "critical failure, else updates the lake_validated asset.",
    doc_md=__doc__,
    schedule="30 3 * * *",
    # The data set's first day, so that a backfill can reach any of its nights.
    start_date=datetime(2019, 10, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["salesinsights", "quality"],
    default_args=task_defaults(1, retry_delay=timedelta(minutes=10)),
    params={
        "day_from": Param(
            None,
            type=["null", "string"],
            format="date",
            title="First day",
            description="Re-validate from this event date (YYYY-MM-DD); empty: every day not yet validated.",
        ),
        "day_to": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Last day",
            description="Re-validate up to this event date, inclusive; empty: the first day alone.",
        ),
    },
)
def data_quality_nightly() -> None:
    @task(execution_timeout=timedelta(hours=4), outlets=[LAKE_VALIDATED])
    def validate_days() -> None:
        """Runs the suites on the run's days; a failed critical expectation fails the task without
        retries, naming it; nothing to validate skips it."""
        from salesinsights.ops import run_job
        from salesinsights.quality.context import data_docs_index
        from salesinsights.runs.quality import airflow_request
        from salesinsights.settings import get_settings

        settings = get_settings()
        context = get_current_context()
        try:
            request = airflow_request(context["dag_run"].run_type, context["logical_date"], context["params"])
            days = request.days(settings)
        except ValueError as bad:
            raise AirflowFailException(f"bad parameters: {bad}") from bad
        except LookupError as empty:
            raise AirflowSkipException(f"nothing to validate: {empty}") from empty
        log.info("validating %d day(s): %s..%s", len(days), days[0], days[-1])
        try:
            # A failed critical expectation fails without retries: retrying cannot change the verdict.
            run_job(
                settings,
                "data_quality.py",
                "--day",
                *(day.isoformat() for day in days),
                f"--run-id={context['run_id']}",
                verdict_error=AirflowFailException,
                skip_error=AirflowSkipException,
            )
        finally:
            log.info("Data Docs: %s", data_docs_index(settings).as_uri())
        context["outlet_events"][LAKE_VALIDATED].extra = {
            "days": [day.isoformat() for day in days],
            "newest_day": days[-1].isoformat(),
        }

    validate_days()


data_quality_nightly()
