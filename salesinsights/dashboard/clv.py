"""The newest published CLV snapshot for the dashboard: which model, how far to trust it (provisional or
not, and why; the backtest's holdout error) and where its report is. gold.clv_model_runs is one small row per
run, read with delta-rs when asked (the page asks once a minute): it changes nightly."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from deltalake import DeltaTable

from salesinsights.catalog import GOLD_CLV_MODEL_RUNS
from salesinsights.clv.run_status import PUBLISHED, report_path
from salesinsights.dashboard.address import CLV_REPORTS_ROUTE
from salesinsights.dashboard.models import ClvStatus, PublishedClv
from salesinsights.settings import Settings


def clv_status(settings: Settings) -> ClvStatus:
    path = GOLD_CLV_MODEL_RUNS.path(settings)
    if not DeltaTable.is_deltatable(path):
        return ClvStatus(latest=None)
    published = DeltaTable(path).to_pyarrow_table(filters=[("status", "=", PUBLISHED)]).to_pylist()
    if not published:
        return ClvStatus(latest=None)
    # publish supersedes a date's earlier runs, so one published run per date; the time breaks a tie anyway.
    run = max(
        published,
        key=lambda row: (row["as_of_date"], row["published_at"] or datetime.min.replace(tzinfo=UTC)),
    )
    report = report_path(settings, run["as_of_date"])
    return ClvStatus(
        latest=PublishedClv(
            as_of_date=run["as_of_date"],
            run_id=run["run_id"],
            published_at=run["published_at"],
            customers=run["customers"],
            # A run of a release before the backtest lacks these columns, or has them null: unknown.
            purchase_model=run.get("purchase_model"),
            model_choice=run.get("model_choice"),
            holdout_error=run.get("holdout_error"),
            provisional=run.get("provisional"),
            provisional_reasons=json.loads(run.get("provisional_reasons") or "[]"),
            extrapolated_customers=run.get("extrapolated_customers"),
            report_url=f"{CLV_REPORTS_ROUTE}/{report.name}" if report.is_file() else None,
        )
    )
