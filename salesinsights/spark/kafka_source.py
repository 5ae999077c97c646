"""The raw topic as a streaming source, read the same way by the archive query and the live query."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from pyspark.sql import DataFrame, SparkSession

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


def raw_records(
    spark: SparkSession, settings: Settings, max_offsets_per_trigger: int, start: str = EARLIEST
) -> DataFrame:
    """Every committed record of the raw topic from `start` (only for a new checkpoint: an existing one
    says where the query goes on)."""
    kafka = settings.kafka
    return (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", kafka.bootstrap_servers)
        .option("subscribe", kafka.raw_topic)
        .option("startingOffsets", start)
        # Only what the producer's transactions committed: a file is all in, or not yet at all.
        .option("kafka.isolation.level", "read_committed")
        .option("maxOffsetsPerTrigger", max_offsets_per_trigger)
        .load()
    )
