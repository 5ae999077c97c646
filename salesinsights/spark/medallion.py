"""The medallion's transformations, pure functions over DataFrames (no I/O): testable on small fixtures.

Given one micro-batch of Kafka records, they derive the bronze rows, the quarantined rows and the events seen
for the first time (silver); gold's rows are aggregates over silver itself. Every result is a function of
the batch's Kafka records and of what the tables hold, never of which checkpoint or attempt runs it, so a
replayed batch, or records read again under a new checkpoint, derive nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from salesinsights.catalog import ARRIVED_LATE, COUNTED_EVENT_TYPES, SILVER_EVENTS
from salesinsights.schema import EVENT_ID
from salesinsights.spark.tables import SPARK_MONEY


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


def valid_events(parsed: DataFrame, ingested_at: datetime, watermark: datetime | None) -> DataFrame:
    """The rows that broke no rule, in silver's shape; `arrived_late` marks those behind the watermark."""
    late = F.col("event_time") < F.lit(watermark) if watermark is not None else F.lit(False)
    return parsed.where(F.size("reasons") == 0).select(
        *[
            F.to_date("event_time").alias(name) if name == "event_date" else F.col(name)
            for name in SILVER_EVENTS.column_names
            if name not in ("ingested_at", ARRIVED_LATE)
        ],
        F.lit(ingested_at).alias("ingested_at"),
        late.alias(ARRIVED_LATE),
    )


def _accounted(marks: Mapping[int, int], partition: str, offset: str) -> Column:
    seen = F.lit(False)
    for number, last in marks.items():
        seen = seen | ((F.col(partition) == number) & (F.col(offset) <= last))
    return seen


def fresh_records(records: DataFrame, accounted: Mapping[int, int]) -> DataFrame:
    """The Kafka records that no recorded batch accounts for: above their partition's archived high mark.
    A new checkpoint, or one restored from a copy, may bring records again that the lake already holds."""
    return records.where(~_accounted(accounted, "partition", "offset"))


def beyond(rows: DataFrame, accounted: Mapping[int, int]) -> DataFrame:
    """Rows of bronze, silver or the quarantine that no recorded batch accounts for: what a batch that
    crashed before its audit row wrote (kafka_partition and kafka_offset name the record)."""
    return rows.where(~_accounted(accounted, "kafka_partition", "kafka_offset"))


def first_arrivals(valid: DataFrame, silver_before: DataFrame) -> DataFrame:
    """Events of the batch that silver has not seen: the earliest record of each event_id in the batch,
    unless silver already holds that event_id (a replayed or re-produced file, or an earlier attempt)."""
    earliest = Window.partitionBy(EVENT_ID).orderBy("kafka_partition", "kafka_offset")
    deduplicated = valid.withColumn("_rank", F.row_number().over(earliest)).where("_rank = 1").drop("_rank")
    known = silver_before.select(EVENT_ID)
    return deduplicated.join(known, EVENT_ID, "left_anti")


def stored_earlier(valid: DataFrame, silver_before: DataFrame) -> DataFrame:
    """The silver rows that these very Kafka records put there on an earlier attempt of their batch, one that
    crashed before its audit row (under this checkpoint or one since lost): already stored, and this
    batch's to count and to total, as if it had written them itself."""
    provenance = [EVENT_ID, "kafka_partition", "kafka_offset"]
    return silver_before.join(valid.select(*provenance), provenance, "left_semi")


def _purchases(events: DataFrame) -> DataFrame:
    return events.where(F.col("event_type") == "purchase")


def window_sales(events: DataFrame, window: str) -> DataFrame:
    """gold.product_sales rows over silver's rows: per product and event-time window, the purchases that
    arrived before the watermark passed them."""
    purchases = _purchases(events).where(~F.coalesce(F.col(ARRIVED_LATE), F.lit(False)))
    windowed = purchases.withColumn("window", F.window("event_time", window))
    return (
        windowed.groupBy("product_id", "window")
        .agg(
            F.sum("price").cast(SPARK_MONEY).alias("revenue"),
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


def daily_product_sales(events: DataFrame) -> DataFrame:
    """gold.product_sales_daily rows over silver's rows: every event, late or not."""
    is_purchase = F.col("event_type") == "purchase"
    return events.groupBy("event_date", "product_id").agg(
        F.coalesce(F.sum(F.when(is_purchase, F.col("price"))), F.lit(0)).cast(SPARK_MONEY).alias("revenue"),
        _count_type("purchase").alias("units"),
        *[_count_type(event_type).alias(measure) for measure, event_type in COUNTED_EVENT_TYPES.items()],
    )
