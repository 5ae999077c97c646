"""Small Kafka-record DataFrames for testing the Spark transformations without a broker."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from salesinsights.producer.reader import event_id
from salesinsights.schema import CSV_COLUMNS

KAFKA_RECORD_SCHEMA = T.StructType(
    [
        T.StructField("key", T.BinaryType()),
        T.StructField("value", T.BinaryType()),
        T.StructField("topic", T.StringType()),
        T.StructField("partition", T.IntegerType()),
        T.StructField("offset", T.LongType()),
        T.StructField("timestamp", T.TimestampType()),
        T.StructField("timestampType", T.IntegerType()),
    ]
)


def csv_row(line: str) -> dict[str, str | None]:
    return {column: (value or None) for column, value in zip(CSV_COLUMNS, line.split(","), strict=True)}


def raw_value(row: Mapping[str, str | None], source_file: str, source_line: int) -> bytes:
    """A record value as the producer writes it."""
    record = {
        "event_id": event_id(source_file, source_line),
        "source_file": source_file,
        "source_line": source_line,
        **row,
    }
    return json.dumps(record).encode()


def kafka_records(
    spark: SparkSession, values: Sequence[bytes], partition: int = 0, first_offset: int = 0
) -> DataFrame:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        (b"k", value, "events.raw", partition, first_offset + index, at, 0)
        for index, value in enumerate(values)
    ]
    return spark.createDataFrame(rows, KAFKA_RECORD_SCHEMA)
