"""`make bench-clv`: wall time of the whole nightly CLV job — backtest of every model on the 8-week holdout,
model choice, fit, scores, write, audit, publish, report — on the full five months and on a tenth of them
(target: the full job within 90 s), the model it published with its holdout error, and the same RFM summary
in Spark and in DuckDB on the same silver data.

Silver is built once per scale from the generator with Spark (batch, no Kafka) under
<data>/bench/clv/scale-<scale>, and reused while its recipe is unchanged (--rebuild forces it). The job runs
as `make clv` runs it: a process of its own, JVM start-up included. Ends with one line of key=value figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date

import duckdb
from deltalake import DeltaTable
from pyspark.sql import SparkSession

from salesinsights.bench.synthetic_silver import write_synthetic_silver
from salesinsights.catalog import GOLD_CLV_MODEL_RUNS, SILVER_EVENTS
from salesinsights.clv.summary import customer_summary, purchase_occasions, purchases_until
from salesinsights.settings import Settings, get_settings
from salesinsights.spark.session import build_spark

FIRST_DAY, LAST_DAY = date(2019, 10, 1), date(2020, 2, 29)
FULL, TENTH = 1.0, 0.1
RECIPE_FILE = "silver_recipe.json"

DUCKDB_SUMMARY = """
WITH occasions AS (
    SELECT user_id, event_date, sum(price) AS value, count(*) AS units
    FROM silver
    WHERE event_type = 'purchase' AND event_date <= $as_of
    GROUP BY user_id, event_date
)
SELECT
    user_id,
    min(event_date) AS first_purchase,
    max(event_date) AS last_purchase,
    count(*) AS occasions,
    sum(units) AS units,
    count(*) - 1 AS frequency,
    date_diff('day', min(event_date), max(event_date)) / $unit_days AS recency,
    date_diff('day', min(event_date), $as_of) / $unit_days AS age,
    CASE WHEN count(*) > 1 THEN (sum(value) - arg_min(value, event_date)) / (count(*) - 1) ELSE 0 END
        AS monetary_value,
    sum(value) AS total_revenue,
    date_diff('day', max(event_date), $as_of) AS days_since_last_purchase
FROM occasions
GROUP BY user_id
"""


def bench_settings(base: Settings, scale: float, bench: str = "clv") -> Settings:
    """A lake of the benchmark's own, per scale, under <data>/bench/<bench>/scale-<scale>."""
    return base.model_copy(
        update={"data_dir": base.data / "bench" / bench / f"scale-{scale:g}", "lake_root": None}
    )


def ensure_silver(spark: SparkSession, settings: Settings, scale: float, rebuild: bool) -> None:
    recipe = {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat(), "seed": settings.source.seed}
    recipe |= {"scale": scale}
    recipe_path = settings.data / RECIPE_FILE
    if not rebuild and recipe_path.is_file() and json.loads(recipe_path.read_text()) == recipe:
        print(f"silver at scale {scale:g}: reusing {SILVER_EVENTS.path(settings)}", flush=True)
        return
    print(f"silver at scale {scale:g}: generating {FIRST_DAY}..{LAST_DAY} with Spark ...", flush=True)
    began = time.perf_counter()
    recipe_path.unlink(missing_ok=True)
    write_synthetic_silver(spark, settings, FIRST_DAY, LAST_DAY, settings.source.seed, scale)
    recipe_path.parent.mkdir(parents=True, exist_ok=True)
    recipe_path.write_text(json.dumps(recipe))
    print(f"silver at scale {scale:g}: built in {time.perf_counter() - began:.0f}s", flush=True)


def spark_summary_seconds(spark: SparkSession, settings: Settings, unit_days: float) -> tuple[float, int]:
    """The summary materialised (noop sink) on a warm session: read, filter, both aggregations."""
    silver = spark.read.format("delta").load(SILVER_EVENTS.path(settings))
    summary = customer_summary(purchase_occasions(purchases_until(silver, LAST_DAY)), LAST_DAY, unit_days)
    summary.write.format("noop").mode("overwrite").save()  # warm-up: JIT, Delta log, file listing
    began = time.perf_counter()
    summary.write.format("noop").mode("overwrite").save()
    return time.perf_counter() - began, summary.count()


def duckdb_summary_seconds(settings: Settings, unit_days: float) -> tuple[float, int]:
    """The same summary in DuckDB over the same Delta table, read through delta-rs."""
    began = time.perf_counter()
    with duckdb.connect() as connection:
        connection.register("silver", DeltaTable(SILVER_EVENTS.path(settings)).to_pyarrow_dataset())
        # Materialised, so that no column of the summary can be optimised away.
        connection.execute(
            f"CREATE TEMP TABLE rfm AS {DUCKDB_SUMMARY}", {"as_of": LAST_DAY, "unit_days": unit_days}
        )
        seconds = time.perf_counter() - began
        customers = connection.execute("SELECT count(*) FROM rfm").fetchone()
    return seconds, int(customers[0]) if customers else 0


def job_seconds(settings: Settings, run_id: str) -> float:
    """`jobs/clv_nightly.py` for the last day, in a process of its own, its progress shown as it runs."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SALESINSIGHTS_LAKE_ROOT")}
    env["SALESINSIGHTS_DATA_DIR"] = str(settings.data)
    command = [
        sys.executable,
        str(settings.home / "jobs" / "clv_nightly.py"),
        "--as-of",
        LAST_DAY.isoformat(),
        f"--run-id={run_id}",
    ]
    began = time.perf_counter()
    subprocess.run(command, env=env, check=True)
    return time.perf_counter() - began


def published_run(settings: Settings, run_id: str) -> dict[str, object]:
    """The run's row of gold.clv_model_runs."""
    runs = DeltaTable(GOLD_CLV_MODEL_RUNS.path(settings)).to_pyarrow_table(filters=[("run_id", "=", run_id)])
    return runs.to_pylist()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m salesinsights.bench.clv", description=__doc__)
    parser.add_argument("--rebuild", action="store_true", help="generate silver again even if present")
    args = parser.parse_args(argv)
    base = get_settings()
    unit_days = base.clv.unit_days
    full, tenth = bench_settings(base, FULL), bench_settings(base, TENTH)

    spark = build_spark(full, "salesinsights-clv-bench")
    try:
        ensure_silver(spark, full, FULL, args.rebuild)
        ensure_silver(spark, tenth, TENTH, args.rebuild)
        spark_rfm_s, spark_customers = spark_summary_seconds(spark, full, unit_days)
    finally:
        spark.stop()
    duckdb_rfm_s, duckdb_customers = duckdb_summary_seconds(full, unit_days)
    if spark_customers != duckdb_customers:
        raise SystemExit(f"Spark and DuckDB disagree: {spark_customers} vs {duckdb_customers} customers")
    print(f"RFM summary of {spark_customers} customers: Spark {spark_rfm_s:.1f}s, DuckDB {duckdb_rfm_s:.1f}s")

    stamp = f"{time.time():.0f}"
    clv_10pct_s = job_seconds(tenth, f"bench-tenth-{stamp}")
    clv_full_s = job_seconds(full, f"bench-full-{stamp}")
    run = published_run(full, f"bench-full-{stamp}")
    print(f"whole CLV job: full {clv_full_s:.1f}s, 10% {clv_10pct_s:.1f}s (target: full within 90s)")
    error = run["holdout_error"]
    shown_error = "none (no backtest)" if error is None else f"{error:+.1%}"
    print(f"published {run['purchase_model']}: {run['model_choice']}")
    print(f"holdout error {shown_error}; provisional reasons: {run['provisional_reasons']}")
    print(
        f"clv_full_s={clv_full_s:.1f} clv_10pct_s={clv_10pct_s:.1f} spark_rfm_s={spark_rfm_s:.1f} "
        f"duckdb_rfm_s={duckdb_rfm_s:.1f} spark_vs_duckdb={spark_rfm_s / duckdb_rfm_s:.1f} "
        f"customers={spark_customers} model={run['purchase_model']} "
        f"holdout_error={'none' if error is None else f'{error:.4f}'} "
        f"provisional={str(run['provisional']).lower()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
