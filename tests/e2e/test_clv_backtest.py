"""The backtest through the real job on CDNOW (calibration to 1997-09-30, the 39-week holdout to 1998-06-30):
CDNOW's transactions as silver purchases, `salesinsights clv backtest` and then the nightly run in processes
of their own, and what they stored in gold.clv_backtests and gold.clv_model_runs checked against the
published figures and the pandas cohort."""

from __future__ import annotations

import io
import json
from datetime import UTC, date
from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from salesinsights.catalog import (
    GOLD_CLV_BACKTESTS,
    GOLD_CLV_MODEL_RUNS,
    GOLD_CUSTOMER_LIFETIME_VALUE,
    SILVER_EVENTS,
)
from salesinsights.clv.progress import Progress
from salesinsights.clv.run_status import PUBLISHED
from salesinsights.clv.snapshot import ensure_clv_tables
from salesinsights.runs.clv.job import RunRequest, audit_run, publish_run, stage_run
from salesinsights.settings import ClvSettings, Settings
from salesinsights.spark.tables import ensure_table, spark_schema
from tests import cdnow
from tests.cdnow import PUBLISHED_PARETO_NBD
from tests.e2e.test_clv import job_env, run_python

HOLDOUT_DAYS = (cdnow.HOLDOUT_END - cdnow.CALIBRATION_END).days


def write_cdnow_silver(spark: SparkSession, settings: Settings) -> None:
    """One silver purchase per CDNOW transaction (of one product; the optional columns null), a view beside
    each."""
    transactions = cdnow.transactions()
    purchases = transactions.assign(
        event_id=[f"cdnow-{index}" for index in range(len(transactions))],
        event_time=pd.to_datetime(transactions["event_date"]).dt.tz_localize(UTC) + pd.Timedelta(hours=12),
        event_type="purchase",
        product_id=1,
    )
    views = purchases.assign(event_id=purchases["event_id"] + "-view", event_type="view")
    rows = pd.concat([purchases, views], ignore_index=True)
    schema = spark_schema(SILVER_EVENTS)
    silver = spark.createDataFrame(rows.reindex(columns=schema.fieldNames()).astype(object), schema)
    ensure_table(spark, settings, SILVER_EVENTS)
    silver.write.format("delta").mode("overwrite").save(SILVER_EVENTS.path(settings))


@pytest.fixture(scope="module")
def lake(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, str]]:
    data_dir = tmp_path_factory.mktemp("clv-cdnow")
    settings = Settings(data_dir=data_dir)
    write_cdnow_silver(spark, settings)
    return settings, job_env(data_dir, SALESINSIGHTS_CLV__HOLDOUT_DAYS=str(HOLDOUT_DAYS))


def table(spark: SparkSession, path: str) -> DataFrame:
    return spark.read.format("delta").load(path)


def backtests(spark: SparkSession, settings: Settings) -> dict[str, dict]:
    """The lake's backtest rows by model: those of one run, or the test fails."""
    rows = table(spark, GOLD_CLV_BACKTESTS.path(settings)).collect()
    assert len({row["run_id"] for row in rows}) == 1, [(row["run_id"], row["model"]) for row in rows]
    by_model = {row["model"]: row.asDict() for row in rows}
    assert len(by_model) == len(rows)
    return by_model


def test_backtest_by_hand_then_the_nightly_run(
    spark: SparkSession, lake: tuple[Settings, dict[str, str]]
) -> None:
    settings, env = lake
    as_of = f"--as-of={cdnow.HOLDOUT_END}"
    output = run_python(env, "-m", "salesinsights.cli", "clv", "backtest", as_of, "--run-id=by-hand")
    assert "actual 1,882" in output and "least purchases_mae" in output
    by_hand = backtests(spark, settings)
    assert set(by_hand) == {"bgnbd", "mbgnbd", "pareto_nbd"}
    cohort = cdnow.backtest_cohort()
    for name, row in by_hand.items():
        assert row["run_id"] == "by-hand" and row["as_of_date"] == cdnow.HOLDOUT_END
        assert row["calibration_end"] == cdnow.CALIBRATION_END and row["holdout_days"] == HOLDOUT_DAYS
        assert row["customers"] == cdnow.CUSTOMERS
        assert row["actual_purchases"] == cdnow.HOLDOUT_PURCHASES
        assert row["actual_spend"] == pytest.approx(cohort["holdout_spend"].sum())
        assert row["purchases_mae"] > 0 and row["spend_mae"] > 0, name
        expectation = json.loads(row["conditional_expectation"])
        assert sum(bin_["customers"] for bin_ in expectation) == cdnow.CUSTOMERS
        assert expectation[0]["actual"] == pytest.approx(
            cohort.loc[cohort["frequency"] == 0, "holdout_purchases"].mean(), abs=1e-4
        )
        assert (
            sum(bucket["customers"] for bucket in json.loads(row["p_alive_calibration"])) == cdnow.CUSTOMERS
        )
    pareto = json.loads(by_hand["pareto_nbd"]["parameters"])
    for name, published in vars(PUBLISHED_PARETO_NBD).items():
        assert pareto[name] == pytest.approx(published, rel=0.01), name
    chosen = [name for name, row in by_hand.items() if row["chosen"]]
    errors = {name: row["purchases_mae"] for name, row in by_hand.items()}
    assert chosen == [min(errors, key=errors.__getitem__)]

    # The nightly run backtests again, publishes the winner, and leaves one backtest for the date.
    run_python(env, "jobs/clv_nightly.py", as_of, "--run-id=nightly")
    nightly = backtests(spark, settings)
    assert {row["run_id"] for row in nightly.values()} == {"nightly"} and len(nightly) == 3
    run = table(spark, GOLD_CLV_MODEL_RUNS.path(settings)).where(F.col("run_id") == "nightly").first()
    assert run is not None and run["status"] == PUBLISHED
    assert run["purchase_model"] == chosen[0]
    assert all(f"{name} {error:.4g}" in run["model_choice"] for name, error in errors.items())
    assert run["calibration_end"] == cdnow.CALIBRATION_END
    assert run["holdout_error"] == pytest.approx(
        (nightly[chosen[0]]["predicted_purchases"] - cdnow.HOLDOUT_PURCHASES) / cdnow.HOLDOUT_PURCHASES
    )
    # 78 weeks of history, a converged fit, a holdout error near -12 %: nothing provisional.
    assert run["provisional"] is False and json.loads(run["provisional_reasons"]) == []
    snapshot = table(spark, GOLD_CUSTOMER_LIFETIME_VALUE.path(settings)).where(
        F.col("as_of_date") == F.lit(cdnow.HOLDOUT_END)
    )
    assert snapshot.where("provisional").count() == 0
    assert snapshot.count() == cdnow.CUSTOMERS  # one cohort: all first bought in the first 12 weeks
    report = Path(settings.data) / "reports" / "clv" / f"clv_{cdnow.HOLDOUT_END}.html"
    assert "How sure the model is" in report.read_text(encoding="utf-8")


def test_reruns_of_the_date_leave_one_snapshot_and_one_backtest(
    spark: SparkSession, lake: tuple[Settings, dict[str, str]]
) -> None:
    settings, _ = lake
    snapshot_path = GOLD_CUSTOMER_LIFETIME_VALUE.path(settings)
    on_the_date = F.col("as_of_date") == F.lit(cdnow.HOLDOUT_END)
    assert {row["run_id"] for row in table(spark, snapshot_path).where(on_the_date).collect()} == {"nightly"}
    progress = Progress(io.StringIO())
    clv = ClvSettings(holdout_days=HOLDOUT_DAYS)
    for run_id in ("rerun", "waiting"):
        stage_run(spark, settings, RunRequest(run_id, cdnow.HOLDOUT_END, clv), progress)
    # Staged, not yet published: the published run's backtest stays beside the new ones until publication.
    backtest_path = GOLD_CLV_BACKTESTS.path(settings)
    assert len(table(spark, backtest_path).collect()) == 9
    assert all(result.passed for result in audit_run(spark, settings, "rerun", progress))
    publish_run(spark, settings, "rerun", progress)
    # The superseded run's backtest is gone; the one still waiting to be published keeps its own.
    assert {row["run_id"] for row in table(spark, backtest_path).collect()} == {"rerun", "waiting"}
    publish_run(spark, settings, "rerun", progress)  # a retried publish changes nothing
    assert all(result.passed for result in audit_run(spark, settings, "waiting", progress))
    publish_run(spark, settings, "waiting", progress)
    assert {row["run_id"] for row in backtests(spark, settings).values()} == {"waiting"}
    snapshot = table(spark, snapshot_path).where(on_the_date)
    assert snapshot.count() == cdnow.CUSTOMERS  # one cohort: all first bought in the first 12 weeks
    assert {row["run_id"] for row in snapshot.select("run_id").distinct().collect()} == {"waiting"}


def test_a_short_history_is_provisional_with_its_reasons(
    spark: SparkSession, lake: tuple[Settings, dict[str, str]]
) -> None:
    settings, _ = lake
    # Four weeks of CDNOW: the holdout cannot be held out, and four weeks are under a quarter of a year.
    short = date(1997, 1, 28)
    progress = Progress(io.StringIO())
    ensure_clv_tables(spark, settings)
    stage_run(spark, settings, RunRequest("short", short, ClvSettings(holdout_days=HOLDOUT_DAYS)), progress)

    # Refused by setting: the audit rejects the run and it cannot be published.
    refusing = settings.model_copy(update={"clv": ClvSettings(on_provisional="refuse")})
    verdict = {result.check: result for result in audit_run(spark, refusing, "short", progress)}
    assert not verdict["not_provisional"].passed and "no backtest" in verdict["not_provisional"].detail
    with pytest.raises(PermissionError, match="rejected"):
        publish_run(spark, refusing, "short", progress)

    # Marked, by default: audited again, published, and provisional wherever it is read.
    assert all(result.passed for result in audit_run(spark, settings, "short", progress))
    publish_run(spark, settings, "short", progress)
    run = table(spark, GOLD_CLV_MODEL_RUNS.path(settings)).where(F.col("run_id") == "short").first()
    assert run is not None and run["status"] == PUBLISHED and run["provisional"] is True
    reasons = json.loads(run["provisional_reasons"])
    assert any("no backtest" in reason for reason in reasons)
    assert any("the history the models are fitted on is 28 day(s)" in reason for reason in reasons)
    assert run["purchase_model"] == "bgnbd" and "no backtest" in run["model_choice"]
    snapshot = table(spark, GOLD_CUSTOMER_LIFETIME_VALUE.path(settings)).where(
        F.col("as_of_date") == F.lit(short)
    )
    assert snapshot.count() > 0 and snapshot.where(~F.col("provisional")).count() == 0
