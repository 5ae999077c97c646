"""The nightly run on the generator's whole five months (at a small scale): published, with a backtest of
every model on the 8 weeks before the as-of date, the winner the model of least holdout error, and the
history long enough for the horizon — the job in a process of its own, as `make clv` runs it."""

from __future__ import annotations

import json

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from salesinsights.catalog import (
    GOLD_CLV_BACKTESTS,
    GOLD_CLV_MODEL_RUNS,
    GOLD_CUSTOMER_LIFETIME_VALUE,
    SILVER_EVENTS,
)
from salesinsights.clv.run_status import PUBLISHED
from salesinsights.settings import Settings
from tests.e2e.test_clv import job_env, run_python

FIRST_DAY, LAST_DAY, SCALE, SEED = "2019-10-01", "2020-02-29", 0.003, 42


def test_five_months_publish_a_snapshot_with_a_backtest(
    spark: SparkSession, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_dir = tmp_path_factory.mktemp("clv-five-months")
    env = job_env(data_dir)
    synthetic = ("-m", "salesinsights.bench.synthetic_silver", f"--first={FIRST_DAY}", f"--last={LAST_DAY}")
    run_python(env, *synthetic, f"--scale={SCALE}", f"--seed={SEED}")
    run_python(env, "jobs/clv_nightly.py", f"--as-of={LAST_DAY}", "--run-id=five-months")

    settings = Settings(data_dir=data_dir)
    run = spark.read.format("delta").load(GOLD_CLV_MODEL_RUNS.path(settings)).first()
    assert run is not None and run["run_id"] == "five-months" and run["status"] == PUBLISHED
    assert str(run["calibration_end"]) == "2020-01-04"  # 56 days before the as-of date
    reasons = json.loads(run["provisional_reasons"])
    assert not any("history" in reason or "no backtest" in reason for reason in reasons), reasons

    backtests = spark.read.format("delta").load(GOLD_CLV_BACKTESTS.path(settings)).collect()
    assert {row["model"] for row in backtests} == {"bgnbd", "mbgnbd", "pareto_nbd"}
    assert {row["run_id"] for row in backtests} == {"five-months"}
    errors = {row["model"]: row["purchases_mae"] for row in backtests}
    assert run["purchase_model"] == min(errors, key=errors.__getitem__)
    assert [row["model"] for row in backtests if row["chosen"]] == [run["purchase_model"]]
    assert all(row["actual_purchases"] > 0 and row["customers"] > 0 for row in backtests)

    silver = spark.read.format("delta").load(SILVER_EVENTS.path(settings))
    purchasers = silver.where(F.col("event_type") == "purchase").select("user_id").distinct().count()
    snapshot = spark.read.format("delta").load(GOLD_CUSTOMER_LIFETIME_VALUE.path(settings))
    assert snapshot.count() == purchasers == run["customers"]
    assert snapshot.where(F.col("provisional") != F.lit(bool(reasons))).count() == 0
