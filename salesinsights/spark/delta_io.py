"""Delta writes that a replayed micro-batch cannot repeat."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F


def append_once(rows: DataFrame, path: str, app_id: str, version: int) -> None:
    """Appends unless this (app_id, version) has been committed to the table before (Delta's idempotent
    writes: the transaction records the pair, a repeat is skipped)."""
    (
        rows.write.format("delta")
        .mode("append")
        .option("txnAppId", app_id)
        .option("txnVersion", version)
        .save(path)
    )


def add_increments(
    spark: SparkSession,
    path: str,
    increments: DataFrame,
    keys: Iterable[str],
    matched_updates: Mapping[str, str],
    batch_mark: str,
    partition_column: str,
    partition_values: Iterable[object],
) -> None:
    """MERGE that adds increments to existing rows (`matched_updates`: column → SQL over t. and s.) and
    inserts new ones. Each changed row is stamped with `batch_mark`; a row already stamped with it is left
    alone, so a replay of a batch whose MERGE committed changes nothing. The partition values bound the
    MERGE to the partitions that the increments touch."""
    source = increments.withColumn("last_batch", F.lit(batch_mark)).withColumn(
        "updated_at", F.current_timestamp()
    )
    values = ", ".join(f"'{value}'" for value in partition_values)
    condition = " AND ".join([*(f"t.{key} = s.{key}" for key in keys), f"t.{partition_column} IN ({values})"])
    (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(source.alias("s"), condition)
        .whenMatchedUpdate(
            condition="t.last_batch IS NULL OR t.last_batch <> s.last_batch",
            set={**matched_updates, "last_batch": "s.last_batch", "updated_at": "s.updated_at"},
        )
        .whenNotMatchedInsertAll()
        .execute()
    )
