"""The raw topic as a streaming source, read the same way by every query: whole, or a partition at a time."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import DataStreamReader

from salesinsights.settings import Settings


def spark_duration(seconds: float) -> str:
    return f"{seconds:g} seconds"


EARLIEST = "earliest"
_EARLIEST_OFFSET = -2  # Spark's code for a partition's earliest offset in startingOffsets JSON


def starting_offsets(topic: str, partitions: Iterable[int], archived: Mapping[int, int]) -> str:
    """startingOffsets JSON for a new checkpoint: each partition after its last archived offset, or from its
    earliest one (Spark wants every partition of the topic named)."""
    return json.dumps(
        {topic: {str(p): archived[p] + 1 if p in archived else _EARLIEST_OFFSET for p in sorted(partitions)}}
    )


def _raw_topic_reader(
    spark: SparkSession, settings: Settings, max_offsets_per_trigger: int
) -> DataStreamReader:
    return (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka.bootstrap_servers)
        # Only what the producer's transactions committed: a file is all in, or not yet at all.
        .option("kafka.isolation.level", "read_committed")
        .option("maxOffsetsPerTrigger", max_offsets_per_trigger)
    )


def raw_records(
    spark: SparkSession, settings: Settings, max_offsets_per_trigger: int, start: str = EARLIEST
) -> DataFrame:
    """Every committed record of the raw topic from `start` (only for a new checkpoint: an existing one
    says where the query goes on)."""
    return (
        _raw_topic_reader(spark, settings, max_offsets_per_trigger)
        .option("subscribe", settings.kafka.raw_topic)
        .option("startingOffsets", start)
        .load()
    )


def raw_partition_records(
    spark: SparkSession, settings: Settings, partition: int, max_offsets_per_trigger: int
) -> DataFrame:
    """Every committed record of one partition of the raw topic, from its earliest (for a new checkpoint):
    a source of its own, with a watermark of its own downstream."""
    topic = settings.kafka.raw_topic
    return (
        _raw_topic_reader(spark, settings, max_offsets_per_trigger)
        .option("assign", json.dumps({topic: [partition]}))
        .option("startingOffsets", json.dumps({topic: {str(partition): _EARLIEST_OFFSET}}))
        .load()
    )
