"""The live sales query: purchases from the raw topic to per-product window totals on the gold topic, one hop.

This is the freshness path. It runs beside the archive query (stream.py) in the same Spark application, in a
scheduler pool of its own that gets the cores first, and does nothing but parse, keep valid purchases and
update window totals held in Spark's state store: no Delta commit and no Python in the loop, so a purchase
is on the gold topic about one short micro-batch after its file's transaction commits.

Exactly once: the window state lives in the query's checkpoint; each event is counted once per window
because the state keeps the set of event ids it summed (a replayed or re-produced file adds nothing).
The Kafka sink is at-least-once, but every record carries a window's absolute totals keyed by product and
window, so a repeat after a crash changes nothing for a consumer that keeps the newest value per key.
Late purchases (behind Spark's watermark, the stream's newest event time less the configured lateness)
are not windowed, as in gold.product_sales; the archive counts them in the daily table.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from salesinsights.schema import EVENT_ID
from salesinsights.settings import Settings
from salesinsights.spark.events import parse_records
from salesinsights.spark.kafka_source import raw_records, spark_duration
from salesinsights.spark.tables import SPARK_MONEY

LIVE_QUERY_NAME = "live_sales"
LIVE_POOL = "live"
_ISO_SECONDS = "yyyy-MM-dd'T'HH:mm:ss'Z'"
_ISO_MILLIS = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"


def live_window_totals(parsed: DataFrame, window: str, lateness: str) -> DataFrame:
    """Per product and event-time window: revenue, units and buyers of the valid purchases, each event id
    counted once. A streaming aggregation (one stateful operator, so it can emit updates as purchases
    arrive); on a static frame, the same totals in one pass."""
    purchases = parsed.where((F.size("reasons") == 0) & (F.col("event_type") == "purchase"))
    bought = F.col("bought")
    return (
        purchases.withWatermark("event_time", lateness)
        .groupBy("product_id", F.window("event_time", window).alias("window"))
        .agg(F.collect_set(F.struct(EVENT_ID, "price", "user_id")).alias("bought"))
        .select(
            "product_id",
            F.col("window.start").alias("window_start"),
            F.col("window.end").alias("window_end"),
            F.aggregate(
                bought["price"],
                F.lit(0).cast(SPARK_MONEY),
                lambda total, price: (total + price).cast(SPARK_MONEY),
            ).alias("revenue"),
            F.size(bought).alias("units"),
            F.array_sort(F.array_distinct(bought["user_id"])).alias("buyer_ids"),
        )
        .withColumn("distinct_buyers", F.size("buyer_ids"))
    )


def _iso(column: str) -> Column:
    return F.date_format(column, _ISO_SECONDS)


def window_key(product_id: Column, window_start: Column) -> Column:
    """`<product_id>|<window start, ISO UTC>`: one Kafka key per product and window."""
    return F.concat_ws("|", product_id.cast("string"), F.date_format(window_start, _ISO_SECONDS))


def window_records(totals: DataFrame) -> DataFrame:
    """Window totals as gold-topic records: JSON values (money as a decimal string) keyed by product and
    window, stamped with the moment they were computed."""
    value = F.to_json(
        F.struct(
            "product_id",
            _iso("window_start").alias("window_start"),
            _iso("window_end").alias("window_end"),
            F.col("revenue").cast("string").alias("revenue"),
            "units",
            "distinct_buyers",
            "buyer_ids",
            F.date_format(F.current_timestamp(), _ISO_MILLIS).alias("updated_at"),
        )
    )
    return totals.select(
        window_key(F.col("product_id"), F.col("window_start")).alias("key"), value.alias("value")
    )


def start_live_sales(spark: SparkSession, settings: Settings) -> StreamingQuery:
    """Starts the live query in its scheduler pool; returns at once."""
    config = settings.spark
    totals = live_window_totals(
        parse_records(raw_records(spark, settings, config.live_max_offsets_per_trigger)),
        spark_duration(config.window.total_seconds()),
        spark_duration(config.watermark.total_seconds()),
    )
    # Jobs inherit the pool of the thread that starts the query.
    spark.sparkContext.setLocalProperty("spark.scheduler.pool", LIVE_POOL)
    try:
        return (
            window_records(totals)
            .writeStream.queryName(LIVE_QUERY_NAME)
            .format("kafka")
            .outputMode("update")
            .option("kafka.bootstrap.servers", settings.kafka.bootstrap_servers)
            .option("topic", settings.kafka.gold_sales_topic)
            .option("checkpointLocation", settings.checkpoint_path(LIVE_QUERY_NAME))
            .trigger(processingTime=spark_duration(config.live_trigger_interval.total_seconds()))
            .start()
        )
    finally:
        spark.sparkContext.setLocalProperty("spark.scheduler.pool", None)  # type: ignore[arg-type]
