"""The CLV snapshot's gate (write–audit–publish): its suites on a staged run, before it may be published.

The CLV audit (`salesinsights.clv.audit`) adds these outcomes to its own checks, so a failed critical
expectation rejects the run and `snapshot.publish` refuses it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from salesinsights.catalog import GOLD_CLV_STAGED, GOLD_CUSTOMER_LIFETIME_VALUE
from salesinsights.clv.audit import CheckResult
from salesinsights.quality import frames
from salesinsights.quality import suites as S
from salesinsights.quality.day import DayFrames, delta_fields, open_table, partition_frame
from salesinsights.quality.outcomes import DayReport
from salesinsights.quality.validate import render_data_docs, validate_day_frames
from salesinsights.settings import Settings

CLV_SCHEMA = S.schema_suite_name(GOLD_CUSTOMER_LIFETIME_VALUE)


def validate_clv_snapshot(settings: Settings, as_of: date, run_id: str | None = None) -> DayReport:
    """The CLV suites on the staged run `run_id` (before publication), or without one on the snapshot
    published as of `as_of`. Results are stored under the DQ run `dq-<run_id>` (or `dq-clv-<as_of>`).
    No snapshot to validate (the table or the run is absent) skips the suites, with the reason."""
    table, column, value = (
        (GOLD_CLV_STAGED, "run_id", run_id)
        if run_id
        else (GOLD_CUSTOMER_LIFETIME_VALUE, "as_of_date", as_of.isoformat())
    )
    day = DayFrames(as_of)
    delta = open_table(settings, table)
    snapshot = partition_frame(delta, table, column, value)
    if delta is None or snapshot.empty:
        day.skipped[S.CLV] = f"no rows in {table.qualified_name} where {column} = {value}"
    else:
        day.frames[S.CLV] = snapshot
        day.frames[CLV_SCHEMA] = frames.schema_frame(GOLD_CUSTOMER_LIFETIME_VALUE, delta_fields(delta))
    report = validate_day_frames(settings, f"dq-{run_id or f'clv-{as_of}'}", day, datetime.now(UTC))
    render_data_docs(settings)
    return report


def suite_checks(report: DayReport) -> list[CheckResult]:
    """The CLV audit's view of a suite run: one check per failed critical expectation, or one that passed.
    A skipped suite fails: a staged run without rows is nothing to publish."""
    checks = [
        CheckResult(f"dq_suite_skipped[{suite}]", False, reason) for suite, reason in report.skipped.items()
    ]
    checks += [
        CheckResult(f"dq_{outcome.expectation_type}[{outcome.rule}]", False, str(outcome))
        for outcome in report.critical_failures
    ]
    expectations = sum(len(suite.expectations) for suite in report.suites)
    warnings = len(report.warnings)
    return checks or [
        CheckResult(
            "dq_suites_passed",
            True,
            f"{expectations} expectations in {len(report.suites)} suites, {warnings} warnings",
        )
    ]
