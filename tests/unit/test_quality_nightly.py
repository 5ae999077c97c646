"""The nightly validation on Delta tables (written here with delta-rs, in the medallion's schemas): which rows
belong to a day, the stored results and their idempotence, the Data Docs, the job's exit status and message,
and the CLV gate."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from salesinsights.catalog import (
    AUDIT_STREAM_BATCHES,
    BRONZE_EVENTS,
    GOLD_CART_ABANDONED_PRODUCTS,
    GOLD_CART_ABANDONMENT,
    GOLD_CART_ABANDONMENT_DAILY,
    GOLD_CART_ABANDONMENT_HOURLY,
    GOLD_CART_SESSIONS,
    GOLD_CLV_STAGED,
    GOLD_CUSTOMER_LIFETIME_VALUE,
    GOLD_PRODUCT_SALES,
    GOLD_PRODUCT_SALES_DAILY,
    SILVER_EVENTS,
    SILVER_QUARANTINE,
    Table,
)
from salesinsights.lake import arrow_schema
from salesinsights.ops import Exit
from salesinsights.quality import suites as S
from salesinsights.quality.expect import CRITICAL
from salesinsights.quality.results import read_results
from salesinsights.quality.validate import validate_day, validate_days
from salesinsights.runs.clv.gate import validate_clv_snapshot
from salesinsights.runs.quality import DayRequest, airflow_request
from salesinsights.runs.quality import main as quality_main
from salesinsights.settings import Settings
from tests.medallion_frames import INGESTED_AT, Frames, medallion, raw_records, write_day
from tests.support import REPO, platform_env

DAYS = (date(2019, 10, 1), date(2019, 10, 2))
# Every table but the producer's dead letters, which live in Kafka (the end-to-end tests read them).
LAKE_TABLES = sorted({spec.table for spec in S.SUITES} - {S.DEAD_LETTERS})


def write_table(settings: Settings, table: Table, frame: pd.DataFrame) -> None:
    schema = arrow_schema(table)
    columns = {name: frame.get(name) for name in schema.names}
    rows = pa.Table.from_pandas(pd.DataFrame(columns, index=frame.index), schema=schema, preserve_index=False)
    write_deltalake(table.path(settings), rows, mode="append", partition_by=list(table.partition_by) or None)


def _bronze(values: list[bytes]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": [b"k"] * len(values),
            "value": values,
            "topic": "events.raw",
            "kafka_partition": 0,
            "kafka_offset": np.arange(len(values)),
            "kafka_timestamp": INGESTED_AT,
            "ingested_at": INGESTED_AT,
            "ingest_date": INGESTED_AT.date(),
        }
    )


def write_lake(settings: Settings, values: list[bytes], data: Frames) -> None:
    write_table(settings, BRONZE_EVENTS, _bronze(values))
    write_table(settings, SILVER_EVENTS, data[S.SILVER])
    write_table(settings, SILVER_QUARANTINE, data[S.QUARANTINE])
    write_table(settings, GOLD_PRODUCT_SALES_DAILY, data[S.GOLD_DAILY])
    write_table(settings, GOLD_PRODUCT_SALES, data[S.GOLD_WINDOWS])
    batches = data[S.STREAM_BATCHES].assign(started_at=INGESTED_AT, finished_at=INGESTED_AT)
    write_table(settings, AUDIT_STREAM_BATCHES, batches)
    write_table(settings, GOLD_CART_ABANDONMENT, data[S.CARTS])
    write_table(settings, GOLD_CART_ABANDONMENT_DAILY, data[S.CARTS_DAILY])
    for table in (GOLD_CART_SESSIONS, GOLD_CART_ABANDONMENT_HOURLY, GOLD_CART_ABANDONED_PRODUCTS):
        write_table(settings, table, pd.DataFrame())  # the schema suites read their columns


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Two clean days in the archive, ingested together today (a replay)."""
    folder = tmp_path_factory.mktemp("nightly")
    settings = Settings(data_dir=folder / "data")
    for day in DAYS:
        values = raw_records(write_day(folder / f"events_{day:%Y%m%d}.csv", day))
        write_lake(settings, values, medallion(values))
    return settings


def test_clean_day_passes_and_results_are_stored_once_per_run(lake: Settings) -> None:
    report = validate_day(lake, DAYS[1], "run-1", LAKE_TABLES)
    assert report.critical_failures == [] and report.warnings == []
    assert report.skipped.keys() == {S.CLV, S.schema_suite_name(GOLD_CUSTOMER_LIFETIME_VALUE)}
    silver = next(suite for suite in report.suites if suite.suite == S.SILVER)
    bronze = next(suite for suite in report.suites if suite.suite == S.BRONZE)
    # The day's records only, although both days arrived on the same ingest date.
    assert 1000 < silver.rows == bronze.rows
    assert report.data_docs is not None and report.data_docs.is_file()

    stored = read_results(lake, "run-1")
    assert stored.num_rows == sum(len(suite.expectations) for suite in report.suites)
    validate_day(lake, DAYS[1], "run-1", LAKE_TABLES)  # a retry of the same run replaces its rows
    assert read_results(lake, "run-1").num_rows == stored.num_rows
    assert set(stored.column("day").to_pylist()) == {DAYS[1]}


def test_pending_days_are_the_complete_ones_no_run_has_validated(lake: Settings, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    shutil.copytree(lake.data, settings.data, ignore=shutil.ignore_patterns("dq_results"))
    pending = DayRequest(pending=True)
    assert pending.days(settings) == [DAYS[0]]  # DAYS[1], silver's newest, is still filling
    # A run of other suites alone (the CLV gate's, or `--tables bronze.events`) leaves the day pending.
    validate_day(settings, DAYS[0], "bronze-only", [BRONZE_EVENTS.qualified_name])
    assert read_results(settings, "bronze-only").num_rows > 0
    assert pending.days(settings) == [DAYS[0]]

    # One run over two days keeps a set of results per day; repeating it replaces them.
    reports = validate_days(settings, list(DAYS), "run-range", LAKE_TABLES)
    assert [report.day for report in reports] == list(DAYS)
    stored = read_results(settings, "run-range")
    per_day = Counter(stored.column("day").to_pylist())
    assert set(per_day) == set(DAYS) and per_day[DAYS[0]] == per_day[DAYS[1]] > 0
    validate_days(settings, list(DAYS), "run-range", LAKE_TABLES)
    assert Counter(read_results(settings, "run-range").column("day").to_pylist()) == per_day
    with pytest.raises(LookupError, match="every complete day has been validated"):
        pending.days(settings)


def test_which_days_an_airflow_run_validates() -> None:
    night = datetime(2019, 10, 3, 3, 30, tzinfo=UTC)
    assert airflow_request("backfill", night, {}).listed == (date(2019, 10, 2),)
    assert airflow_request("scheduled", night, {}) == DayRequest(pending=True)
    assert airflow_request("manual", None, {"day_from": None, "day_to": None}) == DayRequest(pending=True)
    form = airflow_request("manual", None, {"day_from": "2019-10-02", "day_to": "2019-10-04"})
    assert form.listed == (date(2019, 10, 2), date(2019, 10, 3), date(2019, 10, 4))
    assert airflow_request("backfill", night, {"day_from": "2019-10-05"}).listed == (date(2019, 10, 5),)
    with pytest.raises(ValueError, match="after its last day"):
        airflow_request("manual", None, {"day_from": "2019-10-04", "day_to": "2019-10-02"})


@pytest.mark.parametrize(
    "argv",
    [
        ["--day", "2019-10-02", "--pending"],
        ["--from", "2019-10-02"],
        ["--from", "2019-10-04", "--to", "2019-10-02"],
        ["--day", "2019-10-02", "--from", "2019-10-01", "--to", "2019-10-03"],
    ],
)
def test_the_job_refuses_contradictory_days(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        quality_main(argv)
    assert refused.value.code == Exit.USAGE


def test_nothing_to_validate_is_its_own_exit_status(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    job = subprocess.run(
        [sys.executable, "jobs/data_quality.py", "--pending"],
        cwd=REPO,
        env=platform_env(settings.data, settings.kafka),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert job.returncode == Exit.NOTHING_TO_DO, job.stderr
    assert "nothing to validate: silver holds no complete event day yet" in job.stderr


def test_a_critical_defect_fails_the_job_naming_the_expectation(lake: Settings, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    shutil.copytree(lake.data, settings.data)
    day = DAYS[1].isoformat()
    silver = DeltaTable(SILVER_EVENTS.path(settings)).to_pandas(partitions=[("event_date", "=", day)])
    write_table(settings, SILVER_EVENTS, silver.iloc[:1].assign(event_id="negative", price=Decimal("-1.00")))

    job = subprocess.run(
        [
            sys.executable,
            "jobs/data_quality.py",
            "--day",
            day,
            "--run-id",
            "run-bad",
            "--tables",
            "silver.events",
        ],
        cwd=REPO,
        env=platform_env(settings.data, settings.kafka),
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert job.returncode == Exit.FAILED_VERDICT, job.stderr
    assert f"data quality of {day} FAILED: silver.events[price_out_of_range]" in job.stderr
    assert (
        "FAILED silver.events: expect_column_values_to_be_between(price) [price_out_of_range]" in job.stdout
    )
    stored = read_results(settings, "run-bad").to_pylist()
    failed = {
        (row["suite"], row["rule"]) for row in stored if row["severity"] == CRITICAL and not row["success"]
    }
    assert failed == {(S.SILVER, "price_out_of_range")}


def test_clv_gate_passes_a_good_staged_run_and_stops_a_bad_one(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert validate_clv_snapshot(settings, DAYS[1], "clv-absent").skipped.keys() == {S.CLV}

    values = raw_records(write_day(tmp_path / "day.csv", DAYS[1]))
    snapshot = medallion(values)[S.CLV].assign(run_id="clv-good")
    write_table(settings, GOLD_CLV_STAGED, snapshot)
    write_table(settings, GOLD_CLV_STAGED, snapshot.assign(run_id="clv-bad", p_alive=1.5))

    assert validate_clv_snapshot(settings, DAYS[1], "clv-good").critical_failures == []
    failed = validate_clv_snapshot(settings, DAYS[1], "clv-bad").critical_failures
    assert {(outcome.suite, outcome.rule) for outcome in failed} == {(S.CLV, "p_alive_probability")}
