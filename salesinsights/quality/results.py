"""audit.dq_results: one row per expectation per validation run, written with delta-rs.

A run that is repeated (an Airflow retry, `make dq` again with the same --run-id) replaces its own rows for
the days and suites it validated, one Delta commit per day, and leaves every other run's rows alone.
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import TableNotFoundError

from salesinsights.catalog import AUDIT_DQ_RESULTS, SILVER_EVENTS
from salesinsights.lake import arrow_schema
from salesinsights.quality.outcomes import DayReport
from salesinsights.settings import Settings

DQ_RESULTS_SCHEMA = arrow_schema(AUDIT_DQ_RESULTS)


def results_path(settings: Settings) -> str:
    return AUDIT_DQ_RESULTS.path(settings)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _rows(report: DayReport) -> pa.Table:
    rows = [
        {
            "run_id": report.run_id,
            "day": report.day,
            "suite": outcome.suite,
            "table": outcome.table,
            "expectation_type": outcome.expectation_type,
            "column": outcome.column,
            "success": outcome.success,
            "severity": outcome.severity,
            "rule": outcome.rule,
            "description": outcome.description,
            "observed_value": outcome.observed_value,
            "unexpected_count": outcome.unexpected_count,
            "element_count": outcome.element_count,
            "validated_at": report.validated_at,
        }
        for suite in report.suites
        for outcome in suite.expectations
    ]
    return pa.Table.from_pylist(rows, DQ_RESULTS_SCHEMA)


def store_results(settings: Settings, report: DayReport) -> None:
    if not report.suites:
        return
    path = results_path(settings)
    rows = _rows(report)
    try:
        DeltaTable(path)
    except TableNotFoundError:
        write_deltalake(path, rows, mode="append")
        return
    suites = ", ".join(_literal(suite.suite) for suite in report.suites)
    mine = f"run_id = {_literal(report.run_id)} AND day = '{report.day.isoformat()}' AND suite IN ({suites})"
    write_deltalake(path, rows, mode="overwrite", predicate=mine)


def validated_days(settings: Settings) -> set[date]:
    """The event days whose lake some run has validated, passed or not (silver's suite ran on them; the CLV
    gate's runs, which validate only a snapshot, do not count)."""
    results = read_results(settings)
    silver = results.filter(pc.equal(results["suite"], SILVER_EVENTS.qualified_name))
    days = silver.column("day").unique().to_pylist()
    return {day for day in days if day is not None}


def read_results(settings: Settings, run_id: str | None = None) -> pa.Table:
    """The stored results (of one run); empty before the first run."""
    try:
        table = DeltaTable(results_path(settings))
    except TableNotFoundError:
        return DQ_RESULTS_SCHEMA.empty_table()
    filters = [("run_id", "=", run_id)] if run_id is not None else None
    return table.to_pyarrow_table(filters=filters)
