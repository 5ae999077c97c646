"""What the archive query reads back from the lake before its first batch: the offsets recorded batches
account for, what a crashed batch left beyond them, and a checkpoint restored from an older copy, refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession

from salesinsights.catalog import AUDIT_STREAM_BATCHES, BRONZE_EVENTS, SILVER_EVENTS, SILVER_QUARANTINE
from salesinsights.settings import Settings
from salesinsights.spark.events import parse_records
from salesinsights.spark.lake_progress import LakeProgress, StaleCheckpointError, read_progress
from salesinsights.spark.medallion import valid_events
from salesinsights.spark.tables import ensure_table, spark_schema
from tests.spark_fixtures import csv_row, kafka_records, raw_value

LINE = "2019-10-01 10:00:00 UTC,view,1,1487580005134238553,,brand,2.50,7,s7"


def recorded(spark: SparkSession, settings: Settings, batch_id: int, offsets: dict[str, list[int]]) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    row = {
        "query_id": "q",
        "batch_id": batch_id,
        "started_at": at,
        "finished_at": at,
        "kafka_records": 10,
        "silver_new": 10,
        "replays_collapsed": 0,
        "quarantined": 0,
        "late_events": 0,
        "max_event_time": at,
        "partition_high_marks": {0: at},
        "watermark": None,
        "offsets": json.dumps(offsets),
    }
    frame = spark.createDataFrame([row], spark_schema(AUDIT_STREAM_BATCHES))
    frame.write.format("delta").mode("append").save(AUDIT_STREAM_BATCHES.path(settings))


def progress(spark: SparkSession, settings: Settings, batch_id: int, records: DataFrame) -> LakeProgress:
    return read_progress(spark, settings, "the checkpoint", "q", batch_id, records)


def test_a_replayed_batch_is_taken_and_one_with_other_records_is_refused(
    spark: SparkSession, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    for table in (AUDIT_STREAM_BATCHES, SILVER_EVENTS, BRONZE_EVENTS, SILVER_QUARANTINE):
        ensure_table(spark, settings, table)
    recorded(spark, settings, 4, {"0": [0, 9]})
    recorded(spark, settings, 5, {"0": [10, 19]})
    values = [raw_value(csv_row(LINE), "a.csv", line) for line in range(2, 32)]

    # Spark replays batch 5 after a crash, with the records it recorded: the batches before it account for
    # offsets up to 9.
    same = progress(spark, settings, 5, kafka_records(spark, values[:10], first_offset=10))
    assert same.accounted == {0: 9}
    # A checkpoint restored from a copy taken after batch 4 plans batch 5 anew, over more records.
    with pytest.raises(StaleCheckpointError, match="restored from an older copy"):
        progress(spark, settings, 5, kafka_records(spark, values[:20], first_offset=10))
    # One restored from a copy older still is refused at once.
    with pytest.raises(StaleCheckpointError, match="later batches"):
        progress(spark, settings, 4, kafka_records(spark, values[:10], first_offset=0))


def test_silver_rows_a_crashed_batch_left_are_remnants(spark: SparkSession, tmp_path: Path) -> None:
    """A batch that crashed after silver's append, before bronze's and its audit row: only the batches whose
    records reach down to those offsets look for stored rows."""
    settings = Settings(data_dir=tmp_path / "data")
    for table in (AUDIT_STREAM_BATCHES, SILVER_EVENTS, BRONZE_EVENTS, SILVER_QUARANTINE):
        ensure_table(spark, settings, table)
    recorded(spark, settings, 0, {"0": [0, 9]})
    values = [raw_value(csv_row(LINE), "a.csv", line) for line in range(2, 32)]
    crashed = kafka_records(spark, values[10:15], first_offset=10)
    silver = valid_events(parse_records(crashed), datetime(2026, 1, 1, tzinfo=UTC), None)
    silver.write.format("delta").mode("append").save(SILVER_EVENTS.path(settings))

    found = progress(spark, settings, 1, kafka_records(spark, values[10:20], first_offset=10))
    assert (found.accounted, found.remnants) == ({0: 9}, {0: 14})
    assert found.overlaps_remnants({0: (10, 19)})
    assert not found.overlaps_remnants({0: (15, 19)})
