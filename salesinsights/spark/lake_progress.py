"""What the lake itself records of the archive query's earlier batches (the audit table), so that exactly
once does not rest on Spark's checkpoint: the Kafka offsets already archived, the event-time watermark they
reached, and what a crashed batch left in bronze or the quarantine."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from salesinsights.catalog import AUDIT_STREAM_BATCHES, BRONZE_EVENTS, SILVER_EVENTS, SILVER_QUARANTINE
from salesinsights.settings import Settings
from salesinsights.spark import medallion
from salesinsights.spark.watermark import PartitionWatermark

_RESET_ADVICE = "Run `salesinsights stream reset` (the stream then resumes from the lake)."


class StaleCheckpointError(RuntimeError):
    """The query's checkpoint is older than what the lake records of the same query."""


@dataclass
class LakeProgress:
    """What the audit table says every batch before this one did: the Kafka offsets they account for (a
    record at or below its partition's mark is archived), the event-time watermark they reached, and the
    offsets beyond those marks that a crashed batch wrote into silver, bronze or the quarantine (to be read
    again, and stored once). A batch whose records lie above every remnant needs no look for them."""

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


def archived_offsets(spark: SparkSession, settings: Settings) -> dict[int, int]:
    """Per Kafka partition, the last offset that the audit table records as archived."""
    audit = spark.read.format("delta").load(AUDIT_STREAM_BATCHES.path(settings)).select("offsets")
    return accounted_offsets(row["offsets"] for row in audit.collect())


def read_progress(
    spark: SparkSession, settings: Settings, checkpoint: str, query_id: str, batch_id: int, records: DataFrame
) -> LakeProgress:
    """What the batches before `batch_id` of `query_id` recorded, leaving out this very batch (which a
    crashed attempt may have recorded). Refuses a checkpoint restored from an older copy."""
    # One read of the audit table (a row per batch, small), sorted out here rather than by three queries.
    audit = (
        spark.read.format("delta")
        .load(AUDIT_STREAM_BATCHES.path(settings))
        .select("query_id", "batch_id", "partition_high_marks", "offsets")
        .collect()
    )
    later = sum(1 for row in audit if row["query_id"] == query_id and row["batch_id"] > batch_id)
    if later:
        raise StaleCheckpointError(
            f"the checkpoint {checkpoint} is at batch {batch_id}, but the lake records {later} later batches "
            f"of the same query: it was restored from an older copy. {_RESET_ADVICE}"
        )
    this_batch = [row for row in audit if row["query_id"] == query_id and row["batch_id"] == batch_id]
    rows = [row for row in audit if row["query_id"] != query_id or row["batch_id"] != batch_id]
    progress = LakeProgress(
        accounted=accounted_offsets(row["offsets"] for row in rows),
        watermark=PartitionWatermark.from_history(
            settings.spark.watermark, [row["partition_high_marks"] or {} for row in rows]
        ),
    )
    if this_batch:
        _check_same_batch(
            checkpoint,
            batch_id,
            recorded_offsets(this_batch[0]["offsets"]),
            medallion.fresh_records(records, progress.accounted),
        )
    progress.remnants = _remnants(spark, settings, progress.accounted)
    return progress


def _check_same_batch(
    checkpoint: str, batch_id: int, recorded: dict[int, tuple[int, int]], records: DataFrame
) -> None:
    """A batch id the lake has recorded for this query must come back with the same Kafka records (Spark
    replaying it after a crash); other records mean a checkpoint restored from an older copy, whose
    appends Delta would skip as repeats."""
    planned = {
        row["partition"]: (row["first"], row["last"])
        for row in records.groupBy("partition")
        .agg(F.min("offset").alias("first"), F.max("offset").alias("last"))
        .collect()
    }
    if planned != recorded:
        raise StaleCheckpointError(
            f"batch {batch_id} of the checkpoint {checkpoint} covers Kafka offsets {planned}, but the lake "
            f"recorded {recorded} for it: the checkpoint was restored from an older copy. {_RESET_ADVICE}"
        )


def _remnants(spark: SparkSession, settings: Settings, accounted: dict[int, int]) -> dict[int, int]:
    """Per partition, the highest offset in silver, bronze or the quarantine beyond the recorded batches."""
    provenance = ["kafka_partition", "kafka_offset"]
    beyond = [
        medallion.beyond(spark.read.format("delta").load(table.path(settings)), accounted).select(*provenance)
        for table in (SILVER_EVENTS, BRONZE_EVENTS, SILVER_QUARANTINE)
    ]
    rows = (
        reduce(DataFrame.unionByName, beyond)
        .groupBy("kafka_partition")
        .agg(F.max("kafka_offset").alias("last"))
        .collect()
    )
    return {row["kafka_partition"]: row["last"] for row in rows}
