"""The raw topic as a streaming source, read the same way by the archive query and the live query."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from salesinsights.settings import Settings


def spark_duration(seconds: float) -> str:
    return f"{seconds:g} seconds"


def raw_records(spark: SparkSession, settings: Settings, max_offsets_per_trigger: int) -> DataFrame:
    """Every committed record of the raw topic from the earliest offset; a query's checkpoint then says
    where it goes on."""
    kafka = settings.kafka
    return (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", kafka.bootstrap_servers)
        .option("subscribe", kafka.raw_topic)
        .option("startingOffsets", "earliest")
        # Only what the producer's transactions committed: a file is all in, or not yet at all.
        .option("kafka.isolation.level", "read_committed")
        .option("maxOffsetsPerTrigger", max_offsets_per_trigger)
        .load()
    )
