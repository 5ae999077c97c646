"""`make bench-sql`: typical BI queries over five months of the lake, through the SQL endpoint (JDBC/ODBC,
as a BI tool sends them) and in DuckDB over the same Delta files, in one run.

The lake is built once per scale under <data>/bench/sql/scale-<scale>: silver from the generator (as for
bench-clv), gold from silver with the medallion's own functions, one file per partition as the nightly
compaction leaves it; it is reused while its recipe is unchanged
(--rebuild forces it). The endpoint is the platform's `sql-server` job, started on free loopback ports over
that lake. Each query runs once cold and `--repeats` times warm on each engine; the figures are the warm
medians, the ratio endpoint / DuckDB per query and their geometric mean, and the endpoint's p95 over every
warm run of the gold queries (target ≤ 1 s). Both engines' answers are compared row for row.

With the platform up (`make up`), it also lands `--probes` purchases and measures the seconds from each
file landing to the purchase in the endpoint's answer. Ends with one line of key=value figures.
"""

from __future__ import annotations

import argparse
import math
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from salesinsights.bench.clv import FIRST_DAY, FULL, LAST_DAY, bench_settings, ensure_silver
from salesinsights.bench.freshness import nearest_rank
from salesinsights.bench.load import EventClock, LoadWriter
from salesinsights.catalog import GOLD_PRODUCT_SALES, GOLD_PRODUCT_SALES_DAILY, SILVER_EVENTS, Table
from salesinsights.settings import Settings, SqlSettings, child_environment, get_settings
from salesinsights.spark.sql_health import STATUS_FILE
from salesinsights.sql_client import Runner, endpoint, in_process

LAST = f"DATE '{LAST_DAY}'"
MONTH_AGO = f"DATE '{LAST_DAY - timedelta(days=30)}'"


@dataclass(frozen=True)
class BiQuery:
    name: str
    layer: str  # the layer it reads most: the target is on gold's
    sql: str


# The same text for both engines: SQL that Spark and DuckDB read alike.
QUERIES = (
    BiQuery(
        "top_products_last_day",
        "gold",
        f"SELECT product_id, revenue, units FROM gold.product_sales_daily WHERE event_date = {LAST} "
        "ORDER BY revenue DESC, product_id LIMIT 10",
    ),
    BiQuery(
        "revenue_per_day",
        "gold",
        "SELECT event_date, sum(revenue) AS revenue, sum(units) AS units FROM gold.product_sales_daily "
        "GROUP BY event_date ORDER BY event_date",
    ),
    BiQuery(
        "top_products_30_days",
        "gold",
        "SELECT product_id, sum(revenue) AS revenue FROM gold.product_sales_daily "
        f"WHERE event_date > {MONTH_AGO} GROUP BY product_id ORDER BY revenue DESC, product_id LIMIT 20",
    ),
    BiQuery(
        "funnel_per_month",
        "gold",
        "SELECT year(event_date) AS y, month(event_date) AS m, sum(views) AS views, sum(carts) AS carts, "
        "sum(purchases) AS purchases FROM gold.product_sales_daily GROUP BY 1, 2 ORDER BY 1, 2",
    ),
    BiQuery(
        "last_day_by_minute",
        "gold",
        f"SELECT window_start, sum(revenue) AS revenue, sum(units) AS units FROM gold.product_sales "
        f"WHERE window_date = {LAST} GROUP BY window_start ORDER BY window_start",
    ),
    BiQuery(
        "revenue_by_brand_30_days",
        "silver",
        "SELECT coalesce(brand, '-') AS brand, count(*) AS units, sum(price) AS revenue FROM silver.events "
        f"WHERE event_type = 'purchase' AND event_date > {MONTH_AGO} GROUP BY 1 ORDER BY revenue DESC, brand "
        "LIMIT 20",
    ),
    BiQuery(
        "buyers_per_day",
        "silver",
        "SELECT event_date, count(DISTINCT user_id) AS buyers FROM silver.events "
        "WHERE event_type = 'purchase' GROUP BY event_date ORDER BY event_date",
    ),
    BiQuery(
        "category_funnel",
        "silver",
        "SELECT coalesce(category_code, '-') AS category, count(DISTINCT user_session) AS sessions, "
        "count(DISTINCT CASE WHEN event_type = 'purchase' THEN user_session END) AS buying_sessions "
        "FROM silver.events GROUP BY 1 ORDER BY sessions DESC, category LIMIT 20",
    ),
    BiQuery(
        "brand_revenue_from_gold_by_product",
        "silver",
        "SELECT coalesce(b.brand, '-') AS brand, sum(g.revenue) AS revenue FROM gold.product_sales_daily g "
        "JOIN (SELECT product_id, max(brand) AS brand FROM silver.events GROUP BY product_id) b "
        f"ON b.product_id = g.product_id WHERE g.event_date > {MONTH_AGO} GROUP BY 1 "
        "ORDER BY revenue DESC, brand LIMIT 20",
    ),
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def log(message: str) -> None:
    print(f"bench-sql: {message}", file=sys.stderr, flush=True)


def ensure_lake(settings: Settings, scale: float, rebuild: bool) -> None:
    """Silver from the generator, gold from silver with the medallion's functions, each once per recipe."""
    from pyspark.sql import functions as F

    from salesinsights.spark import medallion
    from salesinsights.spark.session import build_spark
    from salesinsights.spark.tables import ensure_table

    spark = build_spark(settings, "salesinsights-bench-sql")
    try:
        ensure_silver(spark, settings, scale, rebuild)
        if not rebuild and all(
            _built(settings, table) for table in (GOLD_PRODUCT_SALES, GOLD_PRODUCT_SALES_DAILY)
        ):
            return
        began = time.perf_counter()
        silver = spark.read.format("delta").load(SILVER_EVENTS.path(settings))
        stamp = {"updated_at": F.current_timestamp(), "last_batch": F.lit("bench-sql")}
        gold = {
            GOLD_PRODUCT_SALES: medallion.window_sales(silver, "1 minute"),
            GOLD_PRODUCT_SALES_DAILY: medallion.daily_product_sales(silver),
        }
        for table, rows in gold.items():
            ensure_table(spark, settings, table)
            # One file per partition, as the nightly compaction leaves the platform's gold.
            (
                rows.withColumns(stamp)
                .repartition(*table.partition_by)
                .write.format("delta")
                .mode("overwrite")
                .partitionBy(*table.partition_by)
                .save(table.path(settings))
            )
        log(f"gold built from silver in {time.perf_counter() - began:.0f}s")
    finally:
        spark.stop()


def _built(settings: Settings, table: Table) -> bool:
    from deltalake import DeltaTable

    path = table.path(settings)
    return DeltaTable.is_deltatable(path) and DeltaTable(path).version() > 0


def start_endpoint(settings: Settings) -> subprocess.Popen[bytes]:
    """The platform's SQL endpoint over the bench's lake, on free loopback ports."""
    env = child_environment(
        settings.data,
        settings.kafka,
        SALESINSIGHTS_SQL__THRIFT_PORT=str(settings.sql.thrift_port),
        SALESINSIGHTS_SQL__CONNECT_PORT=str(settings.sql.connect_port),
        SALESINSIGHTS_SQL__METASTORE_PORT=str(settings.sql.metastore_port),
        SALESINSIGHTS_SQL__DRIVER_MEMORY=settings.sql.driver_memory,
    )
    status = settings.run_dir / STATUS_FILE
    status.unlink(missing_ok=True)
    log_file = (settings.data / "sql-server.log").open("ab")
    server = subprocess.Popen(
        [sys.executable, "-m", "salesinsights.cli", "sql-server"], env=env, stdout=log_file, stderr=log_file
    )
    deadline = time.monotonic() + 300
    while not status.exists():
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise SystemExit(f"the SQL endpoint did not start: see {settings.data / 'sql-server.log'}")
        time.sleep(1)
    return server


@dataclass
class Timing:
    cold_s: float
    warm_s: list[float]
    rows: list[tuple[Any, ...]]

    @property
    def median_s(self) -> float:
        return statistics.median(self.warm_s)


def timed(run: Runner, sql: str, repeats: int) -> Timing:
    began = time.perf_counter()
    answer = run(sql)
    cold = time.perf_counter() - began
    warm = []
    for _ in range(repeats):
        began = time.perf_counter()
        run(sql)
        warm.append(time.perf_counter() - began)
    return Timing(cold, warm, answer.rows)


def comparable(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows as both engines' drivers give them: numbers to 2 decimals, dates and times as ISO text."""

    def value(cell: Any) -> Any:
        if isinstance(cell, float | Decimal):
            return round(float(cell), 2)
        if isinstance(cell, datetime):
            return cell.replace(tzinfo=None).isoformat(sep=" ")
        return str(cell) if cell is not None and not isinstance(cell, int | str) else cell

    return [tuple(value(cell) for cell in row) for row in rows]


# The endpoint's floor: a round trip that reads nothing.
FLOOR = BiQuery("round_trip", "none", "SELECT 1")


def measure(settings: Settings, repeats: int) -> dict[str, tuple[Timing, Timing]]:
    """Each query's timings through the endpoint and in DuckDB, the round trip's first."""
    timings: dict[str, tuple[Timing, Timing]] = {}
    with in_process(settings) as duck:
        in_duckdb = {query.name: timed(duck, query.sql, repeats) for query in (FLOOR, *QUERIES)}
    server = start_endpoint(settings)
    try:
        with endpoint(settings) as jdbc:
            for query in (FLOOR, *QUERIES):
                timings[query.name] = (timed(jdbc, query.sql, repeats), in_duckdb[query.name])
    finally:
        server.terminate()
        server.wait(120)
    return timings


def landing_to_endpoint_seconds(platform: Settings, probes: int, timeout_s: float) -> list[float] | None:
    """Seconds from each probe purchase's file landing to its row in the running platform's endpoint; None
    when the platform's endpoint does not listen."""
    address = (platform.services.client_host, platform.sql.thrift_port)
    try:
        socket.create_connection(address, timeout=2).close()
    except OSError as error:
        log(f"no platform endpoint at {address[0]}:{address[1]} ({error}): start it (make up) to measure")
        return None
    with endpoint(platform) as jdbc:
        # Probes at gold's newest event time are not late.
        newest = jdbc("SELECT max(window_end) FROM gold.product_sales").rows[0][0]
        start = newest.replace(tzinfo=UTC) if isinstance(newest, datetime) else datetime.now(UTC)
        writer = LoadWriter(
            platform.landing_dir, EventClock(start), 1, 1, platform.source.start, platform.source.seed
        )
        seconds = []
        for _ in range(probes):
            (probe,) = writer.write_file(with_probes=True)
            lookup = f"SELECT units FROM gold.product_sales_daily WHERE product_id = {probe.product_id}"
            found = _poll(jdbc, lookup, timeout_s)
            if found is not None:
                seconds.append(found - probe.landed_at)
        return seconds


def _poll(run: Runner, sql: str, timeout_s: float) -> float | None:
    """The wall-clock time of the first answer with a row; None after the timeout."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if run(sql).rows:
            return time.time()
        time.sleep(0.2)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench-sql", description=__doc__)
    parser.add_argument("--scale", type=float, default=FULL, help="of the five months (default 1.0)")
    parser.add_argument("--repeats", type=int, default=3, help="warm runs per query and engine")
    parser.add_argument("--probes", type=int, default=5, help="purchases landed on a running platform")
    parser.add_argument("--probe-timeout", type=float, default=120)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the lake even if its recipe matches")
    args = parser.parse_args(argv)
    platform = get_settings()
    settings = bench_settings(platform, args.scale, "sql").model_copy(
        update={
            "sql": SqlSettings(
                thrift_port=free_port(),
                connect_port=free_port(),
                metastore_port=free_port(),
                driver_memory="4g",
            )
        }
    )
    ensure_lake(settings, args.scale, args.rebuild)
    timings = measure(settings, args.repeats)

    ratios, gold_runs, equal = [], [], True
    print(f"{'query':<36} {'layer':<6} {'endpoint_s':>10} {'cold_s':>7} {'duckdb_s':>9} {'ratio':>6}  rows")
    for query in QUERIES:
        jdbc, duck = timings[query.name]
        ratio = jdbc.median_s / duck.median_s
        ratios.append(ratio)
        if query.layer == "gold":
            gold_runs += jdbc.warm_s
        same = comparable(jdbc.rows) == comparable(duck.rows)
        equal &= same
        print(
            f"{query.name:<36} {query.layer:<6} {jdbc.median_s:>10.3f} {jdbc.cold_s:>7.2f} "
            f"{duck.median_s:>9.3f} {ratio:>6.1f}  {len(jdbc.rows)}{'' if same else ' (answers differ)'}"
        )
    geomean = math.exp(sum(math.log(ratio) for ratio in ratios) / len(ratios))
    gold_p95 = nearest_rank(gold_runs, 0.95)
    floor_s = timings[FLOOR.name][0].median_s
    print(f"the endpoint's round trip (SELECT 1): {floor_s:.3f}s")
    print(
        f"geometric mean of endpoint/DuckDB: {geomean:.1f}; endpoint p95 on gold {gold_p95:.3f}s (target 1 s)"
    )
    freshness = (
        landing_to_endpoint_seconds(platform, args.probes, args.probe_timeout) if args.probes else None
    )
    if freshness:
        print(f"landing to the endpoint's answer: {', '.join(f'{s:.1f}' for s in freshness)} s")
    fresh = (
        f"landing_to_sql_p50_s={statistics.median(freshness):.1f} landing_to_sql_max_s={max(freshness):.1f} "
        f"landing_to_sql_seen={len(freshness)}/{args.probes}"
        if freshness
        else "landing_to_sql_p50_s=na"
    )
    print(
        f"scale={args.scale:g} days={(LAST_DAY - FIRST_DAY).days + 1} queries={len(QUERIES)} "
        f"gold_p95_s={gold_p95:.3f} ratio_geomean={geomean:.2f} endpoint_floor_s={floor_s:.3f} "
        f"answers_equal={str(equal).lower()} {fresh}"
    )
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
