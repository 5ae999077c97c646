"""Write-audit-publish of CLV snapshots on Delta.

A run is written to gold.customer_lifetime_value_staged under its run_id, with a `staged` row in
gold.clv_model_runs. The audit marks the run `audited` or `rejected`. Publishing copies an audited run into
gold.customer_lifetime_value, replacing that as-of date's partition in one Delta commit (replaceWhere), so a
re-run of a date leaves exactly one snapshot and the table's history keeps every earlier night. Every step
can be repeated after a failure: each one only moves a run forward from the state it finds.

A run's backtest goes to gold.clv_backtests under its run_id when the run is staged (a repeated attempt
replaces its own rows); publishing the run removes the other backtests of its as-of date but those of runs
still waiting to be published, so a published date has one backtest, its snapshot's, as it has one snapshot.

The tables must exist: `ensure_clv_tables` once per process, before any step.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, Row, SparkSession
from pyspark.sql import functions as F

from salesinsights.catalog import (
    CLV_TABLES,
    GOLD_CLV_BACKTESTS,
    GOLD_CLV_MODEL_RUNS,
    GOLD_CLV_STAGED,
    GOLD_CUSTOMER_LIFETIME_VALUE,
    Table,
)
from salesinsights.clv.run_status import AUDITED, PUBLISHED, REJECTED, STAGED, SUPERSEDED
from salesinsights.settings import Settings
from salesinsights.spark.tables import ensure_table, spark_schema

# Run ids go into Delta predicates as literals: letters, digits and - _ . only.
_RUN_ID = re.compile(r"[A-Za-z0-9_.-]{1,100}")


def check_run_id(run_id: str) -> str:
    if not _RUN_ID.fullmatch(run_id):
        raise ValueError(f"a run id is 1-100 letters, digits, '-', '_' or '.': {run_id!r}")
    return run_id


def ensure_clv_tables(spark: SparkSession, settings: Settings) -> None:
    for table in CLV_TABLES:
        ensure_table(spark, settings, table)


def _table(spark: SparkSession, settings: Settings, table: Table) -> DeltaTable:
    return DeltaTable.forPath(spark, table.path(settings))


def _now() -> datetime:
    # Time-zone aware: PySpark would read a naive datetime in the machine's local zone.
    return datetime.now(UTC)


def stage(spark: SparkSession, settings: Settings, snapshot: DataFrame, run: dict[str, Any]) -> None:
    """Writes the run's snapshot to staging (replacing an earlier attempt of the same run) and records the
    run as staged with its parameters and fit."""
    run_id = check_run_id(run["run_id"])
    (
        snapshot.select(*GOLD_CUSTOMER_LIFETIME_VALUE.column_names)
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", f"run_id = '{run_id}'")
        .save(GOLD_CLV_STAGED.path(settings))
    )
    row = spark.createDataFrame(
        [{**run, "status": STAGED, "staged_at": _now(), "published_at": None, "audit": None}],
        spark_schema(GOLD_CLV_MODEL_RUNS),
    )
    runs = _table(spark, settings, GOLD_CLV_MODEL_RUNS)
    # Column by column, not *All: a table created by an earlier release keeps columns the catalogue dropped.
    columns: dict[str, str | Column] = {name: f"run.{name}" for name in GOLD_CLV_MODEL_RUNS.column_names}
    (
        runs.alias("runs")
        .merge(row.alias("run"), "runs.run_id = run.run_id")
        .whenMatchedUpdate(set=columns)
        .whenNotMatchedInsert(values=columns)
        .execute()
    )


def write_backtest(spark: SparkSession, settings: Settings, run_id: str, rows: list[dict[str, Any]]) -> None:
    """Replaces the run's backtest with `rows` (one per model; none: the run had no holdout to test on), in
    one Delta commit."""
    (
        spark.createDataFrame(rows, spark_schema(GOLD_CLV_BACKTESTS))
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", f"run_id = '{check_run_id(run_id)}'")
        .save(GOLD_CLV_BACKTESTS.path(settings))
    )


def run_row(spark: SparkSession, settings: Settings, run_id: str) -> Row:
    rows = (
        _table(spark, settings, GOLD_CLV_MODEL_RUNS)
        .toDF()
        .where(F.col("run_id") == check_run_id(run_id))
        .collect()
    )
    if not rows:
        raise LookupError(f"no CLV run {run_id!r} in {GOLD_CLV_MODEL_RUNS.path(settings)}")
    return rows[0]


def staged_snapshot(spark: SparkSession, settings: Settings, run_id: str) -> DataFrame:
    return _table(spark, settings, GOLD_CLV_STAGED).toDF().where(F.col("run_id") == check_run_id(run_id))


def record_audit(spark: SparkSession, settings: Settings, run_id: str, passed: bool, audit_json: str) -> None:
    _table(spark, settings, GOLD_CLV_MODEL_RUNS).update(
        F.col("run_id") == check_run_id(run_id),
        {"status": F.lit(AUDITED if passed else REJECTED), "audit": F.lit(audit_json)},
    )


def _tidy_after_publication(spark: SparkSession, settings: Settings, run_id: str, as_of: date) -> None:
    """What publication leaves behind, removed: the date's backtests of other runs that are not waiting to
    be published (still staged or audited), and the run's rows in staging. Repeatable."""
    runs = _table(spark, settings, GOLD_CLV_MODEL_RUNS).toDF()
    waiting = [
        row["run_id"]
        for row in runs.where(
            (F.col("as_of_date") == F.lit(as_of)) & F.col("status").isin(STAGED, AUDITED)
        ).collect()
    ]
    _table(spark, settings, GOLD_CLV_BACKTESTS).delete(
        (F.col("as_of_date") == F.lit(as_of)) & ~F.col("run_id").isin(run_id, *waiting)
    )
    _table(spark, settings, GOLD_CLV_STAGED).delete(F.col("run_id") == run_id)


def publish(spark: SparkSession, settings: Settings, run_id: str) -> date:
    """Publishes an audited run as its as-of date's snapshot; returns that date. A published run is only
    tidied after again, so a publish retried after a failure at any point ends as one that never failed."""
    run = run_row(spark, settings, run_id)
    if run["status"] == PUBLISHED:
        _tidy_after_publication(spark, settings, run_id, run["as_of_date"])
        return run["as_of_date"]
    if run["status"] != AUDITED:
        raise PermissionError(f"run {run_id} is {run['status']}, not {AUDITED}: it cannot be published")
    as_of: date = run["as_of_date"]
    (
        staged_snapshot(spark, settings, run_id)
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", f"as_of_date = '{as_of.isoformat()}'")
        .save(GOLD_CUSTOMER_LIFETIME_VALUE.path(settings))
    )
    runs = _table(spark, settings, GOLD_CLV_MODEL_RUNS)
    runs.update(
        (F.col("as_of_date") == F.lit(as_of)) & (F.col("status") == PUBLISHED) & (F.col("run_id") != run_id),
        {"status": F.lit(SUPERSEDED)},
    )
    runs.update(F.col("run_id") == run_id, {"status": F.lit(PUBLISHED), "published_at": F.lit(_now())})
    _tidy_after_publication(spark, settings, run_id, as_of)
    return as_of
