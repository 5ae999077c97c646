"""
### clv_nightly — customer lifetime value, after each night's data-quality gate

Values every customer with a purchase up to the *as-of date*: BG/NBD, MBG/NBD and Pareto/NBD backtested on
the holdout before it and the best of them chosen, the RFM summary of silver purchases, the chosen model and
Gamma-Gamma (spend) fitted by maximum likelihood, P(alive), expected purchases and discounted CLV over the
horizon, provisional (with the reasons) where a guard against extrapolation says so. The result is one
snapshot per as-of date in `gold.customer_lifetime_value`, with the model choice, fitted parameters and
diagnostics in `gold.clv_model_runs` and the backtest in `gold.clv_backtests`.

**Write-audit-publish.** Each task runs one step of `jobs/clv_nightly.py` in a process of its own:

1. `stage` writes the run to `gold.customer_lifetime_value_staged` and a `staged` row to
   `gold.clv_model_runs`;
2. `audit` checks the staged rows (reconciliation of revenue and customers with silver, one row per
   customer, valid probabilities and values, converged fits) and marks the run `audited` or `rejected` —
   a rejected run fails this task, without retries, and is never published;
3. `publish` replaces the as-of date's snapshot in `gold.customer_lifetime_value` with the audited run (one
   Delta commit; a re-run of the date leaves one snapshot, the table's history keeps the earlier one);
4. `report` writes `data/reports/clv/clv_<as-of>.html`: CLV distribution, calibration, segments, top
   customers.

**Data-quality suite.** Its expectations join the audit in `salesinsights.clv.audit.audit_snapshot` (as more
check results on the staged rows), so a failing suite rejects the run here, and `publish` refuses any run
that is not `audited` however it is started.

**Scheduled on data, not on a clock**: a run starts when `data_quality_nightly` has validated event days
with no critical failure (the asset `lake_validated`), and values customers as of the newest of those
days — so silver's quality gates every snapshot. On a young lake (fewer than
`SALESINSIGHTS_CLV__MIN_HISTORY_DAYS` days of events, default 21) `stage` is *skipped*, saying why, and the
rest with it.

**Parameters** (trigger form): `as_of` (empty: the newest validated day of the triggering run, or by hand
the latest event date in silver), `horizon_months`, `discount_rate` (monthly). By hand: `make clv` or
`salesinsights clv --help`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from salesinsights.airflow_assets import LAKE_VALIDATED
from salesinsights.airflow_notifier import task_defaults
from salesinsights.settings import ClvSettings, get_settings

DEFAULTS: ClvSettings = get_settings().clv


def _run_step(step: str) -> None:
    # Imported here: the DAG file stays cheap to parse.
    from salesinsights.ops import run_job
    from salesinsights.runs.clv.nightly import as_of_date, clv_run_id, step_arguments

    context = get_current_context()
    params = context["params"]
    events = context["triggering_asset_events"].get(LAKE_VALIDATED, [])
    as_of = as_of_date(params.get("as_of"), [event.extra for event in events])
    arguments = step_arguments(
        step,
        clv_run_id(str(context["run_id"])),
        as_of,
        int(params["horizon_months"]),
        float(params["discount_rate"]),
    )
    # An audit that rejects the run fails without retries: retrying cannot change it on the same rows. Too
    # young a lake skips the run.
    run_job(
        get_settings(),
        "clv_nightly.py",
        *arguments,
        verdict_error=AirflowFailException,
        skip_error=AirflowSkipException,
    )


@dag(
    dag_id="clv_nightly",
    description="Nightly CLV: models backtested and chosen, RFM summary, audited snapshot in gold, report.",
    doc_md=__doc__,
    schedule=[LAKE_VALIDATED],
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=3),
    tags=["salesinsights", "gold", "clv"],
    # Every step is idempotent for its run, so a retry is safe.
    default_args=task_defaults(1, retry_delay=timedelta(minutes=5), execution_timeout=timedelta(hours=1)),
    params={
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date",
            title="As-of date",
            description="Last day of purchases to value customers on (YYYY-MM-DD); empty: the newest day "
            "the triggering data-quality run validated (by hand: the latest event date in silver).",
        ),
        "horizon_months": Param(
            DEFAULTS.horizon_months,
            type="integer",
            minimum=1,
            maximum=120,
            title="Horizon (months)",
            description="How far ahead expected purchases and CLV reach.",
        ),
        "discount_rate": Param(
            DEFAULTS.monthly_discount_rate,
            type="number",
            minimum=0,
            exclusiveMaximum=1,
            title="Monthly discount rate",
            description="Each month's expected value is discounted by (1 + rate) ** month, e.g. 0.01.",
        ),
    },
)
def clv_nightly() -> None:
    @task
    def stage() -> None:
        """Summary, fits and scores of every customer, written to staging."""
        _run_step("stage")

    @task
    def audit() -> None:
        """The checks a run must pass before it may be published; the place of the data-quality suite."""
        _run_step("audit")

    @task
    def publish() -> None:
        """The audited run becomes the as-of date's snapshot in gold.customer_lifetime_value."""
        _run_step("publish")

    @task
    def report() -> None:
        """The HTML report of the published run, in data/reports/clv/."""
        _run_step("report")

    stage() >> audit() >> publish() >> report()


clv_nightly()
