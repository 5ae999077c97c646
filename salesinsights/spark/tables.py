"""The Delta tables of the medallion: where each lives, its schema and partitioning, and its creation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from salesinsights.schema import EVENT_FIELDS, EVENT_ID, SOURCE_FILE, SOURCE_LINE
from salesinsights.settings import Settings
from salesinsights.spark.events import SILVER_TYPES

Layer = Literal["bronze", "silver", "gold", "audit"]
MONEY = T.DecimalType(18, 2)
# A silver event that was behind the archive's watermark when it arrived: gold.product_sales leaves it out.
ARRIVED_LATE = "arrived_late"


def _fields(*pairs: tuple[str, T.DataType]) -> list[T.StructField]:
    return [T.StructField(name, data_type) for name, data_type in pairs]


_KAFKA_PROVENANCE = _fields(
    ("kafka_partition", T.IntegerType()),
    ("kafka_offset", T.LongType()),
    ("kafka_timestamp", T.TimestampType()),
    ("ingested_at", T.TimestampType()),
)
# Which micro-batch last added to a gold row: a replayed batch finds its own mark and adds nothing again.
_GOLD_BOOKKEEPING = _fields(("updated_at", T.TimestampType()), ("last_batch", T.StringType()))


@dataclass(frozen=True)
class Table:
    layer: Layer
    name: str
    schema: T.StructType
    partition_by: tuple[str, ...] = ()
    description: str = ""
    properties: tuple[tuple[str, str], ...] = ()

    @property
    def qualified_name(self) -> str:
        return f"{self.layer}.{self.name}"

    def path(self, settings: Settings) -> str:
        return settings.table_path(self.layer, self.name)


BRONZE_EVENTS = Table(
    "bronze",
    "events_raw",
    T.StructType(
        _fields(
            ("key", T.BinaryType()),
            ("value", T.BinaryType()),
            ("topic", T.StringType()),
            ("kafka_partition", T.IntegerType()),
            ("kafka_offset", T.LongType()),
            ("kafka_timestamp", T.TimestampType()),
            ("ingested_at", T.TimestampType()),
            ("ingest_date", T.DateType()),
        )
    ),
    ("ingest_date",),
    "Every Kafka record of the raw topic as received, once.",
)

SILVER_EVENTS = Table(
    "silver",
    "events",
    T.StructType(
        [
            T.StructField(EVENT_ID, T.StringType(), nullable=False),
            *[T.StructField(f.name, SILVER_TYPES[f.kind], nullable=f.nullable) for f in EVENT_FIELDS],
            T.StructField("event_date", T.DateType(), nullable=False),
            *_fields((SOURCE_FILE, T.StringType()), (SOURCE_LINE, T.LongType())),
            *_KAFKA_PROVENANCE,
            T.StructField(ARRIVED_LATE, T.BooleanType()),
        ]
    ),
    ("event_date",),
    "Typed, validated events, one row per event_id (its first arrival); arrived_late marks those that were "
    "behind the watermark when they arrived.",
)

SILVER_QUARANTINE = Table(
    "silver",
    "events_quarantine",
    T.StructType(
        [
            *_fields(
                (EVENT_ID, T.StringType()),
                ("reason", T.StringType()),
                ("reasons", T.ArrayType(T.StringType())),
                ("raw_value", T.StringType()),
                (SOURCE_FILE, T.StringType()),
                (SOURCE_LINE, T.LongType()),
            ),
            *_KAFKA_PROVENANCE,
            T.StructField("ingest_date", T.DateType()),
        ]
    ),
    ("ingest_date",),
    "Records that broke a rule, with the first reason and all of them, and the raw value.",
)

GOLD_PRODUCT_SALES = Table(
    "gold",
    "product_sales",
    T.StructType(
        [
            *_fields(
                ("product_id", T.LongType()),
                ("window_start", T.TimestampType()),
                ("window_end", T.TimestampType()),
                ("window_date", T.DateType()),
                ("revenue", MONEY),
                ("units", T.LongType()),
                ("buyer_ids", T.ArrayType(T.LongType())),
                ("distinct_buyers", T.IntegerType()),
            ),
            *_GOLD_BOOKKEEPING,
        ]
    ),
    ("window_date",),
    "Revenue, units and distinct buyers per product per event-time window; purchases later than the "
    "watermark are left out here (and counted in audit.stream_batches.late_events).",
)

GOLD_PRODUCT_SALES_DAILY = Table(
    "gold",
    "product_sales_daily",
    T.StructType(
        [
            *_fields(
                ("event_date", T.DateType()),
                ("product_id", T.LongType()),
                ("revenue", MONEY),
                ("units", T.LongType()),
                ("views", T.LongType()),
                ("carts", T.LongType()),
                ("removals", T.LongType()),
                ("purchases", T.LongType()),
            ),
            *_GOLD_BOOKKEEPING,
        ]
    ),
    ("event_date",),
    "Per product and event date: revenue and units of every purchase (late or not), and the funnel "
    "counts (views, carts, removals, purchases; a purchase row is one unit, so purchases = units).",
)

AUDIT_STREAM_BATCHES = Table(
    "audit",
    "stream_batches",
    T.StructType(
        _fields(
            ("query_id", T.StringType()),
            ("batch_id", T.LongType()),
            ("started_at", T.TimestampType()),
            ("finished_at", T.TimestampType()),
            ("kafka_records", T.LongType()),
            ("silver_new", T.LongType()),
            ("replays_collapsed", T.LongType()),
            ("quarantined", T.LongType()),
            ("late_events", T.LongType()),
            ("max_event_time", T.TimestampType()),
            ("partition_high_marks", T.MapType(T.IntegerType(), T.TimestampType())),
            ("watermark", T.TimestampType()),
            ("offsets", T.StringType()),
        )
    ),
    (),
    "One row per micro-batch: the conservation terms (kafka_records = silver_new + replays_collapsed + "
    "quarantined), late events, the newest event time per Kafka partition, the watermark the batch was "
    "held to (the oldest partition's newest event, less the allowed lateness), and the offsets it covered.",
)

MEDALLION_TABLES: tuple[Table, ...] = (
    BRONZE_EVENTS,
    SILVER_EVENTS,
    SILVER_QUARANTINE,
    GOLD_PRODUCT_SALES,
    GOLD_PRODUCT_SALES_DAILY,
    AUDIT_STREAM_BATCHES,
)


def ensure_table(spark: SparkSession, settings: Settings, table: Table) -> None:
    """Creates the table at its path unless it exists (safe to call from several processes), and adds the
    columns that a table created by an earlier release lacks (their values are null in older rows)."""
    builder = (
        DeltaTable.createIfNotExists(spark)
        .location(table.path(settings))
        .addColumns(table.schema)
        .comment(table.description)
    )
    if table.partition_by:
        builder = builder.partitionedBy(*table.partition_by)
    for key, value in table.properties:
        builder = builder.property(key, value)
    builder.execute()
    stored = DeltaTable.forPath(spark, table.path(settings)).toDF().schema.fieldNames()
    missing = [field for field in table.schema.fields if field.name not in stored]
    if missing:
        columns = ", ".join(f"{field.name} {field.dataType.simpleString()}" for field in missing)
        spark.sql(f"ALTER TABLE delta.`{table.path(settings)}` ADD COLUMNS ({columns})")
