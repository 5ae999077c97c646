"""The medallion's transformations, pure functions over DataFrames (no I/O): testable on small fixtures.

Given one micro-batch of Kafka records, they derive the bronze rows, the quarantined rows, the events seen
for the first time (silver), and the gold increments. Every result is a function of the batch and of the
tables as they were *before* the batch, so a replayed batch derives exactly the same rows.
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from salesinsights.schema import EVENT_ID
from salesinsights.spark.tables import MONEY, SILVER_EVENTS


def bronze_rows(records: DataFrame, ingested_at: datetime) -> DataFrame:
    """Kafka records as received, with the time this pipeline took them in."""
    return records.select(
        "key",
        "value",
        "topic",
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_timestamp"),
        F.lit(ingested_at).alias("ingested_at"),
        F.to_date(F.lit(ingested_at)).alias("ingest_date"),
    )


def quarantine_rows(parsed: DataFrame, ingested_at: datetime) -> DataFrame:
    return parsed.where(F.size("reasons") > 0).select(
        EVENT_ID,
        F.get("reasons", 0).alias("reason"),
        "reasons",
        "raw_value",
        "source_file",
        "source_line",
        "kafka_partition",
        "kafka_offset",
        "kafka_timestamp",
        F.lit(ingested_at).alias("ingested_at"),
        F.to_date(F.lit(ingested_at)).alias("ingest_date"),
    )


def valid_events(parsed: DataFrame, ingested_at: datetime) -> DataFrame:
    """The rows that broke no rule, in silver's shape."""
    return parsed.where(F.size("reasons") == 0).select(
        *[
            F.to_date("event_time").alias(name) if name == "event_date" else F.col(name)
            for name in SILVER_EVENTS.schema.fieldNames()
            if name != "ingested_at"
        ],
        F.lit(ingested_at).alias("ingested_at"),
    )


def from_other_batches(silver: DataFrame, offset_ranges: dict[int, tuple[int, int]]) -> DataFrame:
    """Silver without the rows that this batch's own Kafka records put there (on an earlier attempt)."""
    own = F.lit(False)
    for partition, (first, last) in offset_ranges.items():
        own = own | ((F.col("kafka_partition") == partition) & F.col("kafka_offset").between(first, last))
    return silver.where(~own)


def first_arrivals(valid: DataFrame, silver_before: DataFrame) -> DataFrame:
    """Events of the batch that silver has not seen: the earliest record of each event_id in the batch,
    unless an earlier batch already brought that event_id (a replayed or re-produced file)."""
    earliest = Window.partitionBy(EVENT_ID).orderBy("kafka_partition", "kafka_offset")
    deduplicated = valid.withColumn("_rank", F.row_number().over(earliest)).where("_rank = 1").drop("_rank")
    known = silver_before.select(EVENT_ID)
    return deduplicated.join(known, EVENT_ID, "left_anti")


def _purchases(events: DataFrame) -> DataFrame:
    return events.where(F.col("event_type") == "purchase")


def window_sales(new_events: DataFrame, window: str, watermark: datetime | None) -> DataFrame:
    """Increments of gold.product_sales: per product and event-time window, over the purchases at or after
    the watermark."""
    purchases = _purchases(new_events)
    if watermark is not None:
        purchases = purchases.where(F.col("event_time") >= F.lit(watermark))
    windowed = purchases.withColumn("window", F.window("event_time", window))
    return (
        windowed.groupBy("product_id", "window")
        .agg(
            F.sum("price").cast(MONEY).alias("revenue"),
            F.count(F.lit(1)).alias("units"),
            F.array_sort(F.collect_set("user_id")).alias("buyer_ids"),
        )
        .select(
            "product_id",
            F.col("window.start").alias("window_start"),
            F.col("window.end").alias("window_end"),
            F.to_date("window.start").alias("window_date"),
            "revenue",
            "units",
            "buyer_ids",
            F.size("buyer_ids").alias("distinct_buyers"),
        )
    )


def _count_type(event_type: str) -> Column:
    return F.count_if(F.col("event_type") == event_type)


def daily_product_sales(new_events: DataFrame) -> DataFrame:
    """Increments of gold.product_sales_daily: every new event, late or not."""
    is_purchase = F.col("event_type") == "purchase"
    return new_events.groupBy("event_date", "product_id").agg(
        F.coalesce(F.sum(F.when(is_purchase, F.col("price"))), F.lit(0)).cast(MONEY).alias("revenue"),
        _count_type("purchase").alias("units"),
        _count_type("view").alias("views"),
        _count_type("cart").alias("carts"),
        _count_type("remove_from_cart").alias("removals"),
        _count_type("purchase").alias("purchases"),
    )
