"""The archive query: the raw topic into the Delta medallion, one micro-batch pipeline.

Each micro-batch MERGEs the gold windows beside the appends of silver, bronze and the quarantine and the
daily MERGE, then records the batch's audit row. Each write is idempotent for the batch (Delta transaction
ids for appends, batch-stamped MERGEs for gold), so a batch that Spark replays after a crash completes what
the crashed attempt left undone and repeats nothing. The dashboard's freshness does not wait for it: the live
query (live.py) puts window totals on the gold topic first.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from salesinsights.schema import SOURCE_FILE
from salesinsights.settings import Settings
from salesinsights.spark import medallion
from salesinsights.spark.delta_io import add_increments, append_once
from salesinsights.spark.events import parse_records
from salesinsights.spark.kafka_source import raw_records, spark_duration
from salesinsights.spark.tables import (
    AUDIT_STREAM_BATCHES,
    BRONZE_EVENTS,
    GOLD_PRODUCT_SALES,
    GOLD_PRODUCT_SALES_DAILY,
    MEDALLION_TABLES,
    SILVER_EVENTS,
    SILVER_QUARANTINE,
    ensure_table,
)
from salesinsights.spark.watermark import PartitionWatermark

log = logging.getLogger(__name__)

QUERY_NAME = "medallion"
ARCHIVE_POOL = "archive"

_SUMS = ("revenue", "units", "views", "carts", "removals", "purchases")
DAILY_UPDATES = {column: f"t.{column} + s.{column}" for column in _SUMS}
WINDOW_UPDATES = {
    "revenue": "t.revenue + s.revenue",
    "units": "t.units + s.units",
    "buyer_ids": "array_sort(array_union(t.buyer_ids, s.buyer_ids))",
    "distinct_buyers": "size(array_union(t.buyer_ids, s.buyer_ids))",
}


@dataclass(frozen=True)
class BatchStats:
    kafka_records: int
    silver_new: int
    quarantined: int
    late_events: int
    max_event_time: datetime | None
    partition_high_marks: dict[int, datetime]
    watermark: datetime | None
    step_seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchOverview:
    """What one aggregation over the parsed batch tells: its Kafka offsets, sizes, event dates and the
    source files of its valid events."""

    offsets: dict[int, tuple[int, int]]
    records: int
    quarantined: int
    event_dates: list[date]
    source_files: list[str]

    @classmethod
    def of(cls, parsed: DataFrame) -> BatchOverview:
        valid = F.size("reasons") == 0
        rows = (
            parsed.groupBy("kafka_partition")
            .agg(
                F.min("kafka_offset").alias("first"),
                F.max("kafka_offset").alias("last"),
                F.count(F.lit(1)).alias("records"),
                F.count_if(~valid).alias("quarantined"),
                F.collect_set(F.when(valid, F.to_date("event_time"))).alias("dates"),
                F.collect_set(F.when(valid, F.col(SOURCE_FILE))).alias("files"),
            )
            .collect()
        )
        return cls(
            offsets={row["kafka_partition"]: (row["first"], row["last"]) for row in rows},
            records=sum(row["records"] for row in rows),
            quarantined=sum(row["quarantined"] for row in rows),
            event_dates=sorted({day for row in rows for day in row["dates"]}),
            source_files=sorted({name for row in rows for name in row["files"]}),
        )


class MedallionBatchWriter:
    """The foreachBatch function. Holds the event-time high-water mark between batches."""

    def __init__(self, spark: SparkSession, settings: Settings) -> None:
        self.spark = spark
        self.settings = settings
        self.paths = {table: table.path(settings) for table in MEDALLION_TABLES}
        self.query_id = ""
        self._query_known = threading.Event()
        self._watermark: PartitionWatermark | None = None
        self.last_stats: BatchStats | None = None
        self._step_seconds: dict[str, float] = {}
        self._archive_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-writes")

    def bind(self, query: StreamingQuery) -> None:
        """The query id (kept in the checkpoint, so stable across restarts) scopes the idempotent writes."""
        self.query_id = str(query.id)
        self._query_known.set()

    def __call__(self, records: DataFrame, batch_id: int) -> None:
        self._query_known.wait()
        # Below the live query's pool: the archive takes the cores the freshness path leaves.
        self.spark.sparkContext.setLocalProperty("spark.scheduler.pool", ARCHIVE_POOL)
        started = datetime.now(UTC)
        clock = time.monotonic()
        self._step_seconds = {}
        # Both kept: bronze needs the records as received, everything else their parsed form.
        records = records.persist()
        parsed = parse_records(records).persist()
        try:
            with self._step("parse"):
                overview = BatchOverview.of(parsed)
            if overview.records:  # a batch can hold nothing but transaction markers
                self._write_batch(records, parsed, overview, batch_id, started)
        finally:
            parsed.unpersist()
            records.unpersist()
        log.info("batch %d: %s in %.2fs", batch_id, self.last_stats, time.monotonic() - clock)

    @contextmanager
    def _step(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        yield
        self._step_seconds[name] = round(time.monotonic() - started, 3)

    def _write_batch(
        self, records: DataFrame, parsed: DataFrame, overview: BatchOverview, batch_id: int, started: datetime
    ) -> None:
        spark, paths, mark = self.spark, self.paths, f"{self.query_id}:{batch_id}"
        with self._step("first_arrivals"):
            # An event id hashes its source file and line, so only silver rows of the batch's files (or of
            # none) can share one: Delta's file statistics skip the rest instead of reading whole days.
            silver_before = medallion.from_other_batches(
                spark.read.format("delta")
                .load(paths[SILVER_EVENTS])
                .where(
                    F.col("event_date").isin(overview.event_dates)
                    & (F.col(SOURCE_FILE).isin(overview.source_files) | F.col(SOURCE_FILE).isNull())
                ),
                overview.offsets,
            )
            valid = medallion.valid_events(parsed, started)
            # Materialised, lineage cut: recomputing it after silver's append would find nothing new.
            new_events = medallion.first_arrivals(valid, silver_before).localCheckpoint(eager=True)
            watermark = self._watermark_before(batch_id)
            late = F.count_if(F.col("event_time") < F.lit(watermark)) if watermark else F.lit(0)
            per_partition = (
                new_events.groupBy("kafka_partition")
                .agg(F.count(F.lit(1)).alias("rows"), F.max("event_time").alias("high"), late.alias("late"))
                .collect()
            )
            high_marks = {row["kafka_partition"]: row["high"] for row in per_partition}
            window_increments = medallion.window_sales(
                new_events, spark_duration(self.settings.spark.window.total_seconds()), watermark
            ).localCheckpoint(eager=True)
            window_dates = [
                row["window_date"] for row in window_increments.select("window_date").distinct().collect()
            ]
        # The archive's writes run beside gold's, so that a purchase waits for nothing but its own window.
        archive = self._archive_pool.submit(
            self._write_archive, records, parsed, new_events, overview, batch_id, started
        )
        with self._step("gold_windows"):
            if window_dates:
                add_increments(
                    spark,
                    paths[GOLD_PRODUCT_SALES],
                    window_increments,
                    ("product_id", "window_start"),
                    WINDOW_UPDATES,
                    mark,
                    "window_date",
                    window_dates,
                )
        archive.result()
        stats = BatchStats(
            kafka_records=overview.records,
            silver_new=sum(row["rows"] for row in per_partition),
            quarantined=overview.quarantined,
            late_events=sum(row["late"] for row in per_partition),
            max_event_time=max(high_marks.values(), default=None),
            partition_high_marks=high_marks,
            watermark=watermark,
            step_seconds=self._step_seconds,
        )
        # Last: a batch's audit row says that everything it wrote is committed.
        with self._step("audit"):
            self._record_batch(batch_id, started, stats, overview.offsets)
        assert self._watermark is not None
        self._watermark.advance(high_marks)
        self.last_stats = stats

    def _write_archive(
        self,
        records: DataFrame,
        parsed: DataFrame,
        new_events: DataFrame,
        overview: BatchOverview,
        batch_id: int,
        started: datetime,
    ) -> None:
        """silver, the daily gold table, bronze and the quarantine: each idempotent for the batch."""
        self.spark.sparkContext.setLocalProperty("spark.scheduler.pool", ARCHIVE_POOL)
        app = self.query_id
        with self._step("silver"):
            append_once(new_events, self.paths[SILVER_EVENTS], f"{app}:silver", batch_id)
        with self._step("gold_daily"):
            if overview.event_dates:
                add_increments(
                    self.spark,
                    self.paths[GOLD_PRODUCT_SALES_DAILY],
                    medallion.daily_product_sales(new_events),
                    ("event_date", "product_id"),
                    DAILY_UPDATES,
                    f"{app}:{batch_id}",
                    "event_date",
                    overview.event_dates,
                )
        with self._step("bronze"):
            bronze = medallion.bronze_rows(records, started)
            append_once(bronze, self.paths[BRONZE_EVENTS], f"{app}:bronze", batch_id)
        with self._step("quarantine"):
            if overview.quarantined:
                quarantine = medallion.quarantine_rows(parsed, started)
                append_once(quarantine, self.paths[SILVER_QUARANTINE], f"{app}:quarantine", batch_id)

    def _watermark_before(self, batch_id: int) -> datetime | None:
        """The watermark after every batch before this one. Read from the audit table once per process
        (leaving out this batch and later ones, which a crashed attempt may have recorded), then kept."""
        if self._watermark is None:
            earlier = (
                self.spark.read.format("delta")
                .load(self.paths[AUDIT_STREAM_BATCHES])
                .where(~((F.col("query_id") == self.query_id) & (F.col("batch_id") >= batch_id)))
                .select("partition_high_marks")
                .collect()
            )
            self._watermark = PartitionWatermark.from_history(
                self.settings.spark.watermark, [row["partition_high_marks"] or {} for row in earlier]
            )
        return self._watermark.current()

    def _record_batch(
        self, batch_id: int, started: datetime, stats: BatchStats, offsets: dict[int, tuple[int, int]]
    ) -> None:
        row = {
            "query_id": self.query_id,
            "batch_id": batch_id,
            "started_at": started,
            "finished_at": datetime.now(UTC),
            "kafka_records": stats.kafka_records,
            "silver_new": stats.silver_new,
            "replays_collapsed": stats.kafka_records - stats.silver_new - stats.quarantined,
            "quarantined": stats.quarantined,
            "late_events": stats.late_events,
            "max_event_time": stats.max_event_time,
            "partition_high_marks": stats.partition_high_marks,
            "watermark": stats.watermark,
            "offsets": json.dumps(
                {str(partition): list(span) for partition, span in sorted(offsets.items())}
            ),
        }
        frame = self.spark.createDataFrame([row], AUDIT_STREAM_BATCHES.schema)
        append_once(frame, self.paths[AUDIT_STREAM_BATCHES], f"{self.query_id}:audit", batch_id)


def start_medallion(spark: SparkSession, settings: Settings) -> StreamingQuery:
    """Creates the tables if needed and starts the query; returns at once."""
    for table in MEDALLION_TABLES:
        ensure_table(spark, settings, table)
    records = raw_records(spark, settings, settings.spark.max_offsets_per_trigger)
    writer = MedallionBatchWriter(spark, settings)
    query = (
        records.writeStream.queryName(QUERY_NAME)
        .foreachBatch(writer)
        .option("checkpointLocation", settings.checkpoint_path(QUERY_NAME))
        .trigger(processingTime=spark_duration(settings.spark.trigger_interval.total_seconds()))
        .start()
    )
    writer.bind(query)
    return query
