"""The archive query: the raw topic into the Delta medallion, one micro-batch pipeline.

Each micro-batch appends silver's new events, then recomputes over silver the gold partitions (event dates)
they fall in, beside the appends of bronze and the quarantine, then records the batch's audit row. Exactly
once does not rest on Spark's checkpoint: the lake's own keys make every write harmless to repeat.
- A Kafka record at or below the offsets that the audit table records as archived is skipped, so a new,
  moved or restored checkpoint re-reads nothing into the tables (and a new one starts after those offsets).
- silver takes an event id once; rows that a crashed attempt stored count as the batch's own (same Kafka
  record), rows with another record's provenance as a replay. bronze and the quarantine leave out records
  that a crashed batch already stored.
- gold's date partitions that the batch's events fall in are recomputed over silver and replaced whole, never
  incremented: writing them again changes nothing, and they always equal silver.
Appends also carry Delta's txnAppId/txnVersion (query id, batch id), so Spark's replay of a batch skips what
its crashed attempt committed. What a batch holds and what it adds is planned in archive_plan.py; this module
writes it. The dashboard's freshness does not wait for any of it: the live query (live.py) puts window totals
on the gold topic first.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from salesinsights.catalog import (
    AUDIT_STREAM_BATCHES,
    BRONZE_EVENTS,
    GOLD_PRODUCT_SALES,
    GOLD_PRODUCT_SALES_DAILY,
    MEDALLION_TABLES,
    SILVER_EVENTS,
    SILVER_QUARANTINE,
    Table,
)
from salesinsights.kafka_admin import ensure_topics, topic_partitions
from salesinsights.settings import Settings
from salesinsights.spark import medallion
from salesinsights.spark.archive_plan import Arrivals, BatchOverview, BatchStats, audit_row, window_dates
from salesinsights.spark.delta_io import append_once, replace_partitions
from salesinsights.spark.events import parse_records
from salesinsights.spark.kafka_source import raw_records, spark_duration, starting_offsets
from salesinsights.spark.lake_progress import LakeProgress, archived_offsets, read_progress
from salesinsights.spark.steps import StepClock
from salesinsights.spark.tables import ensure_table, spark_schema

log = logging.getLogger(__name__)

# The checkpoint folder's name (data/checkpoints/medallion), kept from before the query had its own word.
ARCHIVE_QUERY_NAME = "medallion"
ARCHIVE_POOL = "archive"


class ArchiveBatchWriter:
    """The foreachBatch function. Holds what the lake records of earlier batches (LakeProgress)."""

    def __init__(self, spark: SparkSession, settings: Settings) -> None:
        self.spark = spark
        self.settings = settings
        self.paths = {table: table.path(settings) for table in MEDALLION_TABLES}
        self.query_id = ""
        self._query_known = threading.Event()
        self._progress: LakeProgress | None = None
        self.last_stats: BatchStats | None = None
        self._steps = StepClock()
        self._writes = ThreadPoolExecutor(max_workers=3, thread_name_prefix="archive-writes")

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
        self._steps = StepClock()
        if self._progress is None:  # read once per process, then kept up to date
            checkpoint = self.settings.checkpoint_path(ARCHIVE_QUERY_NAME)
            with self._steps.step("progress"):
                self._progress = read_progress(
                    self.spark, self.settings, checkpoint, self.query_id, batch_id, records
                )
        progress = self._progress
        # Both kept: bronze needs the records as received, everything else their parsed form.
        records = medallion.fresh_records(records, progress.accounted).persist()
        parsed = parse_records(records).persist()
        try:
            with self._steps.step("parse"):
                overview = BatchOverview.of(parsed)
            # A batch can hold nothing but transaction markers, or only records the lake already holds.
            if overview.records:
                self._write_batch(records, parsed, overview, batch_id, started, progress)
        finally:
            parsed.unpersist()
            records.unpersist()
        log.info("batch %d: %s in %.2fs", batch_id, self.last_stats, time.monotonic() - clock)

    def _silver(self, dates: list[date]) -> DataFrame:
        return (
            self.spark.read.format("delta")
            .load(self.paths[SILVER_EVENTS])
            .where(F.col("event_date").isin(dates))
        )

    def _write_batch(
        self,
        records: DataFrame,
        parsed: DataFrame,
        overview: BatchOverview,
        batch_id: int,
        started: datetime,
        progress: LakeProgress,
    ) -> None:
        watermark = progress.watermark.current()
        # Only records that a crashed attempt may have stored (above the recorded batches, up to the
        # highest offset the lake holds) are looked for in the tables.
        after_crash = progress.overlaps_remnants(overview.offsets)
        with self._steps.step("first_arrivals"):
            silver = overview.silver_neighbours(
                self.spark.read.format("delta").load(self.paths[SILVER_EVENTS])
            )
            arrivals = Arrivals.of(parsed, silver, started, watermark, after_crash)
        with self._steps.step("silver"):
            append_once(arrivals.new_events, self.paths[SILVER_EVENTS], f"{self.query_id}:silver", batch_id)
        # Gold's days are aggregates over silver as it now stands, so they wait for silver's commit; bronze
        # and the quarantine are written beside them.
        mark = f"{self.query_id}:{batch_id}"
        writes = [
            self._writes.submit(
                self._write_records, records, parsed, overview, batch_id, started, after_crash
            )
        ]
        if arrivals.dates:  # nothing new (a replayed file): gold is as it was
            writes.append(self._writes.submit(self._write_daily, arrivals.dates, mark))
            self._write_windows(arrivals.dates, mark)
        for write in writes:
            write.result()
        stats = BatchStats.of(overview, arrivals, watermark, self._steps.seconds)
        # Last: a batch's audit row says that everything it wrote is committed.
        with self._steps.step("audit"):
            row = audit_row(self.query_id, batch_id, started, datetime.now(UTC), stats, overview.offsets)
            frame = self.spark.createDataFrame([row], spark_schema(AUDIT_STREAM_BATCHES))
            append_once(frame, self.paths[AUDIT_STREAM_BATCHES], f"{self.query_id}:audit", batch_id)
        progress.advance(overview.offsets, arrivals.high_marks)
        self.last_stats = stats

    def _write_windows(self, dates: list[date], mark: str) -> None:
        """gold.product_sales: the window dates of the batch's events, recomputed over silver."""
        with self._steps.step("gold_windows"):
            window = self.settings.spark.window
            replaced, read = window_dates(dates, window)
            totals = medallion.window_sales(self._silver(read), spark_duration(window.total_seconds()))
            replace_partitions(
                totals.where(F.col("window_date").isin(replaced)),
                self.paths[GOLD_PRODUCT_SALES],
                "window_date",
                replaced,
                mark,
            )

    def _write_daily(self, dates: list[date], mark: str) -> None:
        """gold.product_sales_daily: the days of the batch's events, recomputed over silver."""
        self.spark.sparkContext.setLocalProperty("spark.scheduler.pool", ARCHIVE_POOL)
        with self._steps.step("gold_daily"):
            totals = medallion.daily_product_sales(self._silver(dates))
            replace_partitions(totals, self.paths[GOLD_PRODUCT_SALES_DAILY], "event_date", dates, mark)

    def _write_records(
        self,
        records: DataFrame,
        parsed: DataFrame,
        overview: BatchOverview,
        batch_id: int,
        started: datetime,
        dedupe: bool,
    ) -> None:
        """bronze and the quarantine, each idempotent for the batch; records that a crashed batch already
        stored (under a checkpoint since lost) are left out."""
        self.spark.sparkContext.setLocalProperty("spark.scheduler.pool", ARCHIVE_POOL)
        app = self.query_id
        with self._steps.step("bronze"):
            bronze = self._not_stored(medallion.bronze_rows(records, started), BRONZE_EVENTS, dedupe)
            append_once(bronze, self.paths[BRONZE_EVENTS], f"{app}:bronze", batch_id)
        with self._steps.step("quarantine"):
            if overview.quarantined:
                quarantine = self._not_stored(
                    medallion.quarantine_rows(parsed, started), SILVER_QUARANTINE, dedupe
                )
                append_once(quarantine, self.paths[SILVER_QUARANTINE], f"{app}:quarantine", batch_id)

    def _not_stored(self, rows: DataFrame, table: Table, dedupe: bool) -> DataFrame:
        if not dedupe:
            return rows
        assert self._progress is not None
        stored = medallion.beyond(
            self.spark.read.format("delta").load(self.paths[table]), self._progress.accounted
        ).select("kafka_partition", "kafka_offset")
        return rows.join(stored, ["kafka_partition", "kafka_offset"], "left_anti")


def start_archive(spark: SparkSession, settings: Settings) -> StreamingQuery:
    """Creates the tables if needed and starts the query; returns at once. A new checkpoint starts after
    the offsets the lake has archived (an existing one goes on where it stopped)."""
    for table in MEDALLION_TABLES:
        ensure_table(spark, settings, table)
    ensure_topics(settings.kafka)
    partitions = topic_partitions(settings.kafka, settings.kafka.raw_topic)
    start = starting_offsets(settings.kafka.raw_topic, partitions, archived_offsets(spark, settings))
    log.info("a new checkpoint would start at %s", start)
    records = raw_records(spark, settings, settings.spark.max_offsets_per_trigger, start)
    writer = ArchiveBatchWriter(spark, settings)
    query = (
        records.writeStream.queryName(ARCHIVE_QUERY_NAME)
        .foreachBatch(writer)
        .option("checkpointLocation", settings.checkpoint_path(ARCHIVE_QUERY_NAME))
        .trigger(processingTime=spark_duration(settings.spark.trigger_interval.total_seconds()))
        .start()
    )
    writer.bind(query)
    return query
