"""The archive query's plan of one micro-batch, apart from its writes: what the batch holds (overview), which
of its events silver does not have yet (arrivals), the gold partitions they touch, the batch's statistics and
its audit row. Reads only; the writes are archive.py's."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from salesinsights.catalog import ARRIVED_LATE
from salesinsights.schema import SOURCE_FILE
from salesinsights.spark import medallion


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

    def silver_neighbours(self, silver: DataFrame) -> DataFrame:
        """The silver rows that can share an event id with the batch: an event id hashes its source file and
        line, so only rows of the batch's days and files (or of none) can, and Delta's file statistics skip
        the rest instead of reading whole days."""
        return silver.where(
            F.col("event_date").isin(self.event_dates)
            & (F.col(SOURCE_FILE).isin(self.source_files) | F.col(SOURCE_FILE).isNull())
        )


@dataclass(frozen=True)
class Arrivals:
    """The batch's valid events silver lacks (`new_events`) and those a crashed attempt of the same Kafka
    records already stored (`stored`), both materialised; per Kafka partition, their count, latest event
    time and late events; and the event dates they fall in (the gold partitions to recompute). Silver is
    searched for stored rows only when a crashed attempt may have left some (`after_crash`)."""

    new_events: DataFrame
    stored: DataFrame
    rows: int
    late: int
    high_marks: dict[int, datetime]
    dates: list[date]

    @classmethod
    def of(
        cls,
        parsed: DataFrame,
        silver_before: DataFrame,
        started: datetime,
        watermark: datetime | None,
        after_crash: bool,
    ) -> Arrivals:
        valid = medallion.valid_events(parsed, started, watermark)
        # Materialised, lineage cut: recomputing them after silver's append would find other rows.
        new_events = medallion.first_arrivals(valid, silver_before).localCheckpoint(eager=True)
        stored = (
            medallion.stored_earlier(valid, silver_before).localCheckpoint(eager=True)
            if after_crash
            else silver_before.limit(0)
        )
        per_partition = (
            new_events.unionByName(stored)
            .groupBy("kafka_partition")
            .agg(
                F.count(F.lit(1)).alias("rows"),
                F.max("event_time").alias("high"),
                F.count_if(F.col(ARRIVED_LATE)).alias("late"),
                F.collect_set("event_date").alias("dates"),
            )
            .collect()
        )
        return cls(
            new_events=new_events,
            stored=stored,
            rows=sum(row["rows"] for row in per_partition),
            late=sum(row["late"] for row in per_partition),
            high_marks={row["kafka_partition"]: row["high"] for row in per_partition},
            dates=sorted({day for row in per_partition for day in row["dates"]}),
        )


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

    @classmethod
    def of(
        cls, overview: BatchOverview, arrivals: Arrivals, watermark: datetime | None, steps: dict[str, float]
    ) -> BatchStats:
        return cls(
            kafka_records=overview.records,
            silver_new=arrivals.rows,
            quarantined=overview.quarantined,
            late_events=arrivals.late,
            max_event_time=max(arrivals.high_marks.values(), default=None),
            partition_high_marks=arrivals.high_marks,
            watermark=watermark,
            step_seconds=steps,
        )


def window_dates(dates: list[date], window: timedelta) -> tuple[list[date], list[date]]:
    """For the event dates a batch touched: the gold window dates to replace, and the silver dates to read
    for them. A window that does not divide the day may span midnight, so the day before is replaced too
    and the days around are read."""
    if not timedelta(days=1) % window:
        return dates, dates
    replaced = sorted({day + timedelta(days=shift) for day in dates for shift in (-1, 0)})
    read = sorted({day + timedelta(days=shift) for day in dates for shift in (-1, 0, 1)})
    return replaced, read


def audit_row(
    query_id: str,
    batch_id: int,
    started: datetime,
    finished: datetime,
    stats: BatchStats,
    offsets: dict[int, tuple[int, int]],
) -> dict[str, Any]:
    """The batch's row of audit.stream_batches."""
    return {
        "query_id": query_id,
        "batch_id": batch_id,
        "started_at": started,
        "finished_at": finished,
        "kafka_records": stats.kafka_records,
        "silver_new": stats.silver_new,
        "replays_collapsed": stats.kafka_records - stats.silver_new - stats.quarantined,
        "quarantined": stats.quarantined,
        "late_events": stats.late_events,
        "max_event_time": stats.max_event_time,
        "partition_high_marks": stats.partition_high_marks,
        "watermark": stats.watermark,
        "offsets": json.dumps({str(partition): list(span) for partition, span in sorted(offsets.items())}),
    }
