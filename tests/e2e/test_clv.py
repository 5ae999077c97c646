"""The nightly CLV job end to end on generated cosmetics data: silver built from the generator's lines, the
real job in a process of its own, and the results checked against ground truth computed with pandas from
the same lines. A second run of the same as-of date goes step by step through write-audit-publish and
leaves one snapshot; Delta's history still holds the first."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest
from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from salesinsights.catalog import GOLD_CLV_MODEL_RUNS, GOLD_CLV_STAGED, GOLD_CUSTOMER_LIFETIME_VALUE
from salesinsights.clv.progress import Progress
from salesinsights.clv.run_status import PUBLISHED, SUPERSEDED, report_path
from salesinsights.clv.snapshot import publish
from salesinsights.generator import generate_lines
from salesinsights.rules import Stage, violations
from salesinsights.runs.clv.job import RunRequest, audit_run, publish_run, stage_run
from salesinsights.schema import CSV_COLUMNS
from salesinsights.settings import ClvSettings, Settings
from tests.support import REPO

SEED, SCALE = 42, 0.02
# Four weeks of data; the as-of date leaves the last day out, which the snapshot must not count.
FIRST_DAY, LAST_DAY, AS_OF = date(2019, 10, 1), date(2019, 10, 28), date(2019, 10, 27)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Lake:
    settings: Settings
    env: dict[str, str]


def run_python(env: dict[str, str], *arguments: str, expect: int = 0) -> str:
    result = subprocess.run(
        [sys.executable, *arguments],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert result.returncode == expect, (
        f"exit {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
    )
    return result.stdout


def job_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a CLV job over the lake at `data_dir`: none of this machine's own settings, Spark
    small enough for the tests, and `settings` (SALESINSIGHTS_… variables)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SALESINSIGHTS_", "SI_"))}
    return env | {
        "SALESINSIGHTS_DATA_DIR": str(data_dir),
        "SALESINSIGHTS_SPARK__MASTER": "local[2]",
        "SALESINSIGHTS_SPARK__SHUFFLE_PARTITIONS": "2",
        **settings,
    }


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    data_dir = tmp_path_factory.mktemp("clv")
    env = job_env(data_dir)
    run_python(
        env,
        "-m",
        "salesinsights.bench.synthetic_silver",
        f"--first={FIRST_DAY}",
        f"--last={LAST_DAY}",
        f"--scale={SCALE}",
        f"--seed={SEED}",
    )
    return Lake(Settings(data_dir=data_dir), env)


def ground_truth_revenue() -> dict[int, Decimal]:
    """Revenue per customer up to the as-of date with pandas, from the generator's lines and the rulebook
    (silver keeps prices to the cent, rounding half up)."""
    days = [FIRST_DAY + timedelta(days=offset) for offset in range((AS_OF - FIRST_DAY).days + 1)]
    rows = [
        {column: (value or None) for column, value in zip(CSV_COLUMNS, fields, strict=True)}
        for day in days
        for fields in csv.reader(generate_lines(day, SEED, SCALE))
    ]
    events = pd.DataFrame([row for row in rows if not violations(row, frozenset(Stage))])
    purchases = events[events["event_type"] == "purchase"]
    prices = pd.Series([Decimal(text).quantize(CENT, ROUND_HALF_UP) for text in purchases["price"]])
    revenue = prices.groupby(purchases["user_id"].astype("int64").to_numpy()).agg(
        lambda p: sum(p, Decimal(0))
    )
    return {int(user): total for user, total in revenue.items()}


def read(spark: SparkSession, lake: Lake, table_path: str) -> DataFrame:
    return spark.read.format("delta").load(table_path)


@pytest.fixture(scope="module")
def first_run(lake: Lake) -> str:
    output = run_python(lake.env, "jobs/clv_nightly.py", f"--as-of={AS_OF}", "--run-id=first")
    assert "report:" in output and "FAIL" not in output
    return "first"


def test_historic_revenue_per_customer_equals_ground_truth(
    spark: SparkSession, lake: Lake, first_run: str
) -> None:
    snapshot = read(spark, lake, GOLD_CUSTOMER_LIFETIME_VALUE.path(lake.settings)).where(
        F.col("as_of_date") == F.lit(AS_OF)
    )
    rows = snapshot.select("user_id", "total_revenue", "run_id", "p_alive", "clv", "last_purchase").collect()
    expected = ground_truth_revenue()
    assert len(expected) > 100
    assert {row["user_id"]: row["total_revenue"] for row in rows} == expected
    assert {row["run_id"] for row in rows} == {first_run}
    assert max(row["last_purchase"] for row in rows) == AS_OF
    assert all(0 <= row["p_alive"] <= 1 and row["clv"] >= 0 for row in rows)
    run = (
        read(spark, lake, GOLD_CLV_MODEL_RUNS.path(lake.settings)).where(F.col("run_id") == first_run).first()
    )
    assert run is not None and run["status"] == PUBLISHED and run["customers"] == len(expected)
    # Four weeks of history: no 8-week holdout to backtest on, under a quarter of the horizon; published,
    # but provisional, with its reasons, on every row.
    assert run["provisional"] is True and "no backtest" in run["model_choice"]
    reasons = json.loads(run["provisional_reasons"])
    assert any("the history the models are fitted on is 27 day(s)" in reason for reason in reasons), reasons
    assert snapshot.where(~F.col("provisional")).count() == 0
    assert report_path(lake.settings, AS_OF).is_file()


def test_rerun_of_the_date_replaces_its_snapshot(spark: SparkSession, lake: Lake, first_run: str) -> None:
    gold_path = GOLD_CUSTOMER_LIFETIME_VALUE.path(lake.settings)
    customers = read(spark, lake, gold_path).where(F.col("as_of_date") == F.lit(AS_OF)).count()
    run_python(lake.env, "jobs/clv_nightly.py", "--step=stage", f"--as-of={AS_OF}", "--run-id=second")

    # Write-audit-publish: a staged run that has not passed its audit cannot be published.
    with pytest.raises(PermissionError, match="staged"):
        publish(spark, lake.settings, "second")
    progress = Progress(io.StringIO())
    assert all(result.passed for result in audit_run(spark, lake.settings, "second", progress))
    assert publish_run(spark, lake.settings, "second", progress) == AS_OF

    snapshot = read(spark, lake, gold_path).where(F.col("as_of_date") == F.lit(AS_OF))
    assert snapshot.count() == customers
    assert [row["run_id"] for row in snapshot.select("run_id").distinct().collect()] == ["second"]
    runs = {
        row["run_id"]: row["status"]
        for row in read(spark, lake, GOLD_CLV_MODEL_RUNS.path(lake.settings)).collect()
    }
    assert runs == {first_run: SUPERSEDED, "second": PUBLISHED}
    staged = read(spark, lake, GOLD_CLV_STAGED.path(lake.settings)).where(F.col("run_id") == "second")
    assert staged.count() == 0

    # The night before the re-run is still there in the table's history.
    latest = DeltaTable.forPath(spark, gold_path).history(1).first()
    assert latest is not None
    earlier = spark.read.format("delta").option("versionAsOf", latest["version"] - 1).load(gold_path)
    earlier_snapshot = earlier.where(F.col("as_of_date") == F.lit(AS_OF))
    assert earlier_snapshot.count() == customers
    assert [row["run_id"] for row in earlier_snapshot.select("run_id").distinct().collect()] == [first_run]


def test_a_one_week_calibration_is_provisional_with_its_reasons(
    spark: SparkSession, lake: Lake, first_run: str
) -> None:
    # A week of the shop (the lake's minimum history lowered to let it run): staged provisional, saying why.
    one_week = FIRST_DAY + timedelta(days=6)
    clv = ClvSettings(min_history_days=7)
    progress = Progress(io.StringIO())
    stage_run(spark, lake.settings, RunRequest("one-week", one_week, clv), progress)
    run = (
        read(spark, lake, GOLD_CLV_MODEL_RUNS.path(lake.settings))
        .where(F.col("run_id") == "one-week")
        .first()
    )
    assert run is not None and run["provisional"] is True
    reasons = json.loads(run["provisional_reasons"])
    assert any("the history the models are fitted on is 7 day(s)" in reason for reason in reasons), reasons
    assert any("no backtest" in reason for reason in reasons), reasons
    staged = read(spark, lake, GOLD_CLV_STAGED.path(lake.settings)).where(F.col("run_id") == "one-week")
    assert staged.count() > 0 and staged.where(~F.col("provisional")).count() == 0
