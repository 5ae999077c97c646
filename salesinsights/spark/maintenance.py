"""Table care that runs beside the stream: compaction of small files and removal of old ones.

The stream appends to, and MERGEs into, the partition it is writing now. OPTIMIZE therefore leaves each
table's newest partition alone (a compaction that removed files a concurrent MERGE had read would fail one
of the two), and VACUUM keeps every file younger than the configured retention, so time travel within the
retention keeps working and no reader loses a file under it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from salesinsights.catalog import Table
from salesinsights.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MaintenanceResult:
    table: str
    files_compacted: int
    files_added: int
    partitions_skipped: str | None
    vacuumed: bool


def settled_partitions_predicate(
    spark: SparkSession, path: str, table: Table
) -> tuple[str | None, str | None]:
    """(predicate selecting every partition but the newest, the newest partition) — (None, None) for an
    unpartitioned table, which is small enough to compact whole."""
    if not table.partition_by:
        return None, None
    column = table.partition_by[0]
    newest = spark.read.format("delta").load(path).agg(F.max(column)).first()
    if newest is None or newest[0] is None:
        return "false", None
    return f"{column} < '{newest[0]}'", str(newest[0])


def maintain(spark: SparkSession, settings: Settings, table: Table, vacuum: bool = True) -> MaintenanceResult:
    path = table.path(settings)
    if not DeltaTable.isDeltaTable(spark, path):
        log.info("%s: no table at %s yet", table.qualified_name, path)
        return MaintenanceResult(table.qualified_name, 0, 0, None, False)
    delta = DeltaTable.forPath(spark, path)
    predicate, newest = settled_partitions_predicate(spark, path, table)
    optimizer = delta.optimize()
    if predicate is not None:
        optimizer = optimizer.where(predicate)
    metrics = optimizer.executeCompaction().select("metrics.numFilesRemoved", "metrics.numFilesAdded").first()
    removed, added = (int(metrics[0]), int(metrics[1])) if metrics else (0, 0)
    if vacuum:
        delta.vacuum(settings.spark.retention.total_seconds() / 3600)
    log.info(
        "%s: compacted %d files into %d (left the newest partition %s), vacuumed=%s",
        table.qualified_name,
        removed,
        added,
        newest,
        vacuum,
    )
    return MaintenanceResult(table.qualified_name, removed, added, newest, vacuum)
