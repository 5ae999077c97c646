"""Delta writes that a replayed micro-batch cannot repeat."""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import DataFrame
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


def replace_partitions(
    rows: DataFrame, path: str, partition_column: str, partition_values: Iterable[object], batch_mark: str
) -> None:
    """Overwrites the given partitions with `rows` (which must lie in them) in one commit, each row stamped
    with the batch that wrote it: gold's partitions recomputed over silver, so writing them twice changes
    nothing, and readers see the old or the new partition whole."""
    values = ", ".join(f"'{value}'" for value in partition_values)
    (
        rows.withColumn("last_batch", F.lit(batch_mark))
        .withColumn("updated_at", F.current_timestamp())
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", f"{partition_column} IN ({values})")
        .save(path)
    )
