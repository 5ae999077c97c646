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
its crashed attempt committed. The dashboard's freshness does not wait for any of it: the live query
(live.py) puts window totals on the gold topic first.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from salesinsights.catalog import (
    ARRIVED_LATE,
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
from salesinsights.schema import SOURCE_FILE
from salesinsights.settings import Settings
from salesinsights.spark import medallion
from salesinsights.spark.delta_io import append_once, replace_partitions
from salesinsights.spark.events import parse_records
from salesinsights.spark.kafka_source import raw_records, spark_duration, starting_offsets
from salesinsights.spark.tables import ensure_table, spark_schema
from salesinsights.spark.watermark import PartitionWatermark

log = logging.getLogger(__name__)

QUERY_NAME = "medallion"
ARCHIVE_POOL = "archive"


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


class StaleCheckpointError(RuntimeError):
    """The query's checkpoint is older than what the lake records of the same query."""


@dataclass
class LakeProgress:
    """What the audit table says every batch before this one did: the Kafka offsets they account for (a
    record at or below its partition's mark is archived), the event-time watermark they reached, and the
    offsets beyond those marks that a crashed batch wrote into bronze or the quarantine (to be read
    again, and stored once)."""

    accounted: dict[int, int]
    watermark: PartitionWatermark
    remnants: dict[int, int] = field(default_factory=dict)

    def advance(self, offsets: dict[int, tuple[int, int]], high_marks: dict[int, datetime]) -> None:
        for partition, (_, last) in offsets.items():
            self.accounted[partition] = max(last, self.accounted.get(partition, -1))
        self.watermark.advance(high_marks)

    def overlaps_remnants(self, offsets: dict[int, tuple[int, int]]) -> bool:
        return any(first <= self.remnants.get(partition, -1) for partition, (first, _) in offsets.items())


def recorded_offsets(offsets_json: str | None) -> dict[int, tuple[int, int]]:
    """An audit row's `offsets` column: {"0": [first, last], …}."""
    return {
        int(partition): (span[0], span[1]) for partition, span in json.loads(offsets_json or "{}").items()
    }


def accounted_offsets(offsets_json: Iterable[str | None]) -> dict[int, int]:
    """Per Kafka partition, the last offset that audit rows' `offsets` columns cover."""
    marks: dict[int, int] = {}
    for value in offsets_json:
        for partition, (_, last) in recorded_offsets(value).items():
            marks[partition] = max(last, marks.get(partition, -1))
    return marks


class MedallionBatchWriter:
    """The foreachBatch function. Holds what the lake records of earlier batches (LakeProgress)."""

    def __init__(self, spark: SparkSession, settings: Settings) -> None:
        self.spark = spark
        self.settings = settings
        self.paths = {table: table.path(settings) for table in MEDALLION_TABLES}
        self.query_id = ""
        self._query_known = threading.Event()
        self._progress: LakeProgress | None = None
        self.last_stats: BatchStats | None = None
        self._step_seconds: dict[str, float] = {}
        self._archive_pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="archive-writes")

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
        progress = self._progress_before(batch_id, records)
        # Both kept: bronze needs the records as received, everything else their parsed form.
        records = medallion.fresh_records(records, progress.accounted).persist()
        parsed = parse_records(records).persist()
        try:
            with self._step("parse"):
                overview = BatchOverview.of(parsed)
            # A batch can hold nothing but transaction markers, or only records the lake already holds.
            if overview.records:
                self._write_batch(records, parsed, overview, batch_id, started, progress)
        finally:
            parsed.unpersist()
            records.unpersist()
        log.info("batch %d: %s in %.2fs", batch_id, self.last_stats, time.monotonic() - clock)

    @contextmanager
    def _step(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        yield
        self._step_seconds[name] = round(time.monotonic() - started, 3)

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
        with self._step("first_arrivals"):
            # An event id hashes its source file and line, so only silver rows of the batch's files (or of
            # none) can share one: Delta's file statistics skip the rest instead of reading whole days.
            silver_before = self._silver(overview.event_dates).where(
                F.col(SOURCE_FILE).isin(overview.source_files) | F.col(SOURCE_FILE).isNull()
            )
            valid = medallion.valid_events(parsed, started, watermark)
            # Materialised, lineage cut: recomputing them after silver's append would find other rows.
            new_events = medallion.first_arrivals(valid, silver_before).localCheckpoint(eager=True)
            stored = medallion.stored_earlier(valid, silver_before).localCheckpoint(eager=True)
            arrivals = new_events.unionByName(stored)
            per_partition = (
                arrivals.groupBy("kafka_partition")
                .agg(
                    F.count(F.lit(1)).alias("rows"),
                    F.max("event_time").alias("high"),
                    F.count_if(F.col(ARRIVED_LATE)).alias("late"),
                    F.collect_set("event_date").alias("dates"),
                )
                .collect()
            )
            high_marks = {row["kafka_partition"]: row["high"] for row in per_partition}
        with self._step("silver"):
            append_once(new_events, self.paths[SILVER_EVENTS], f"{self.query_id}:silver", batch_id)
        # Gold's days are aggregates over silver as it now stands, so they wait for silver's commit; bronze
        # and the quarantine are written beside them.
        mark = f"{self.query_id}:{batch_id}"
        dedupe = progress.overlaps_remnants(overview.offsets)
        dates = sorted({day for row in per_partition for day in row["dates"]})
        archive = [
            self._archive_pool.submit(
                self._write_records, records, parsed, overview, batch_id, started, dedupe
            )
        ]
        if dates:  # nothing new (a replayed file): gold is as it was
            archive.append(self._archive_pool.submit(self._write_daily, dates, mark))
            self._write_windows(dates, mark)
        for write in archive:
            write.result()
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
        progress.advance(overview.offsets, high_marks)
        self.last_stats = stats

    def _write_windows(self, dates: list[date], mark: str) -> None:
        """gold.product_sales: the window dates of the batch's events, recomputed over silver."""
        with self._step("gold_windows"):
            window = self.settings.spark.window
            read = windows = dates
            if timedelta(days=1) % window:  # a window that does not divide the day may span two
                windows = sorted({day + timedelta(days=shift) for day in dates for shift in (-1, 0)})
                read = sorted({day + timedelta(days=shift) for day in dates for shift in (-1, 0, 1)})
            totals = medallion.window_sales(self._silver(read), spark_duration(window.total_seconds()))
            replace_partitions(
                totals.where(F.col("window_date").isin(windows)),
                self.paths[GOLD_PRODUCT_SALES],
                "window_date",
                windows,
                mark,
            )

    def _write_daily(self, dates: list[date], mark: str) -> None:
        """gold.product_sales_daily: the days of the batch's events, recomputed over silver."""
        self.spark.sparkContext.setLocalProperty("spark.scheduler.pool", ARCHIVE_POOL)
        with self._step("gold_daily"):
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
        with self._step("bronze"):
            bronze = self._not_stored(medallion.bronze_rows(records, started), BRONZE_EVENTS, dedupe)
            append_once(bronze, self.paths[BRONZE_EVENTS], f"{app}:bronze", batch_id)
        with self._step("quarantine"):
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

    def _progress_before(self, batch_id: int, records: DataFrame) -> LakeProgress:
        """What the batches before this one recorded. Read from the audit table once per process (leaving
        out this very batch, which a crashed attempt may have recorded), then kept up to date."""
        if self._progress is None:
            audit = self.spark.read.format("delta").load(self.paths[AUDIT_STREAM_BATCHES])
            later = audit.where((F.col("query_id") == self.query_id) & (F.col("batch_id") > batch_id)).count()
            if later:
                raise StaleCheckpointError(
                    f"the checkpoint {self.settings.checkpoint_path(QUERY_NAME)} is at batch {batch_id}, but "
                    f"the lake records {later} later batches of the same query: it was restored from an "
                    "older copy. Run `salesinsights stream reset` (the stream then resumes from the lake)."
                )
            earlier = audit.where(~((F.col("query_id") == self.query_id) & (F.col("batch_id") == batch_id)))
            rows = earlier.select("partition_high_marks", "offsets").collect()
            progress = LakeProgress(
                accounted=accounted_offsets(row["offsets"] for row in rows),
                watermark=PartitionWatermark.from_history(
                    self.settings.spark.watermark, [row["partition_high_marks"] or {} for row in rows]
                ),
            )
            self._check_same_batch(audit, batch_id, medallion.fresh_records(records, progress.accounted))
            progress.remnants = self._remnants(progress.accounted)
            self._progress = progress
        return self._progress

    def _check_same_batch(self, audit: DataFrame, batch_id: int, records: DataFrame) -> None:
        """A batch id the lake has recorded for this query must come back with the same Kafka records (Spark
        replaying it after a crash); other records mean a checkpoint restored from an older copy, whose
        appends Delta would skip as repeats."""
        mine = (F.col("query_id") == self.query_id) & (F.col("batch_id") == batch_id)
        recorded = [recorded_offsets(row["offsets"]) for row in audit.where(mine).select("offsets").collect()]
        if not recorded:
            return
        planned = {
            row["partition"]: (row["first"], row["last"])
            for row in records.groupBy("partition")
            .agg(F.min("offset").alias("first"), F.max("offset").alias("last"))
            .collect()
        }
        if planned != recorded[0]:
            raise StaleCheckpointError(
                f"batch {batch_id} of the checkpoint {self.settings.checkpoint_path(QUERY_NAME)} covers "
                f"Kafka offsets {planned}, but the lake recorded {recorded[0]} for it: the checkpoint was "
                "restored from an older copy. Run `salesinsights stream reset` (the stream then resumes from "
                "the lake)."
            )

    def _remnants(self, accounted: dict[int, int]) -> dict[int, int]:
        """Per partition, the highest offset in bronze or the quarantine beyond the recorded batches."""
        remnants: dict[int, int] = {}
        for table in (BRONZE_EVENTS, SILVER_QUARANTINE):
            rows = (
                medallion.beyond(self.spark.read.format("delta").load(self.paths[table]), accounted)
                .groupBy("kafka_partition")
                .agg(F.max("kafka_offset").alias("last"))
                .collect()
            )
            for row in rows:
                remnants[row["kafka_partition"]] = max(row["last"], remnants.get(row["kafka_partition"], -1))
        return remnants

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
        frame = self.spark.createDataFrame([row], spark_schema(AUDIT_STREAM_BATCHES))
        append_once(frame, self.paths[AUDIT_STREAM_BATCHES], f"{self.query_id}:audit", batch_id)


def archived_offsets(spark: SparkSession, settings: Settings) -> dict[int, int]:
    """Per Kafka partition, the last offset that the audit table records as archived."""
    audit = spark.read.format("delta").load(AUDIT_STREAM_BATCHES.path(settings)).select("offsets")
    return accounted_offsets(row["offsets"] for row in audit.collect())


def start_medallion(spark: SparkSession, settings: Settings) -> StreamingQuery:
    """Creates the tables if needed and starts the query; returns at once. A new checkpoint starts after
    the offsets the lake has archived (an existing one goes on where it stopped)."""
    for table in MEDALLION_TABLES:
        ensure_table(spark, settings, table)
    ensure_topics(settings.kafka)
    partitions = topic_partitions(settings.kafka, settings.kafka.raw_topic)
    start = starting_offsets(settings.kafka.raw_topic, partitions, archived_offsets(spark, settings))
    log.info("a new checkpoint would start at %s", start)
    records = raw_records(spark, settings, settings.spark.max_offsets_per_trigger, start)
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
