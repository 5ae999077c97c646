"""The SparkSession, from settings alone: local[*] or a cluster master, local folders or object storage."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from pyspark.sql import SparkSession

from salesinsights.settings import Settings

# The live query's pool before the archive's (see the file).
SCHEDULER_POOLS = Path(__file__).with_name("fairscheduler.xml")
DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"


def fetched_jars(settings: Settings, pom: str) -> list[str]:
    """The jars that `make setup` fetched with Maven for jvm/<pom>/pom.xml."""
    folder = settings.jars / pom
    jars = sorted(str(path) for path in folder.glob("*.jar"))
    if not jars:
        raise FileNotFoundError(f"no jars in {folder}: run 'make setup' to fetch them with Maven")
    return jars


def local_jars(settings: Settings) -> list[str]:
    """The Delta and Kafka-connector jars that `make setup` fetched, plus any configured extra jars."""
    return fetched_jars(settings, "spark") + list(settings.spark.extra_jars)


def spark_conf(settings: Settings, app_name: str) -> dict[str, str]:
    spark = settings.spark
    retention = f"interval {int(spark.retention.total_seconds() // 3600)} hours"
    conf = {
        "spark.app.name": app_name,
        "spark.master": spark.master,
        "spark.jars": ",".join(local_jars(settings)),
        "spark.driver.memory": spark.driver_memory,
        "spark.sql.extensions": DELTA_EXTENSION,
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.shuffle.partitions": str(spark.shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        # Under data/, not a spark-warehouse/ folder wherever the process happens to start.
        "spark.sql.warehouse.dir": str(settings.warehouse_dir),
        # Concurrent jobs (the live query, gold beside the archive's writes) share the cores by pool.
        "spark.scheduler.mode": "FAIR",
        "spark.scheduler.allocation.file": str(SCHEDULER_POOLS),
        # MERGE sources here are checkpointed DataFrames already; Delta need not materialise them again.
        "spark.databricks.delta.merge.materializeSource": "none",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # Small local tables: Delta's default of 50 partitions for reading a table's log costs seconds.
        "spark.databricks.delta.snapshotPartitions": str(spark.shuffle_partitions),
        # VACUUM lists and deletes files in this many tasks (Spark's default, 10,000, is a minute of no-ops).
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": str(spark.shuffle_partitions),
        # New tables keep history for time travel for the configured retention.
        "spark.databricks.delta.properties.defaults.logRetentionDuration": retention,
        "spark.databricks.delta.properties.defaults.deletedFileRetentionDuration": retention,
        "spark.databricks.delta.retentionDurationCheck.enabled": "true",
    }
    if spark.master.startswith("local"):
        # Nothing outside this machine needs the driver: keep its ports on the loopback address.
        conf["spark.driver.bindAddress"] = conf["spark.driver.host"] = settings.services.bind_host
    return conf | spark.extra_conf


def build_spark(
    settings: Settings, app_name: str, extra_conf: Mapping[str, str] | None = None
) -> SparkSession:
    # Python workers must run the driver's interpreter (the venv), not whatever python3 is on PATH. PySpark
    # reads this from the environment only; the spark.pyspark.python setting reaches spark-submit alone.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder
    for key, value in (spark_conf(settings, app_name) | dict(extra_conf or {})).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    return session
