"""Table care on a real Delta table: compaction leaves the newest partition alone and keeps the data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from salesinsights.catalog import GOLD_PRODUCT_SALES_DAILY
from salesinsights.settings import Settings
from salesinsights.spark.maintenance import maintain
from salesinsights.spark.tables import ensure_table, spark_schema


def files_per_partition(spark: SparkSession, path: str) -> dict[str, int]:
    detail = DeltaTable.forPath(spark, path).toDF().select(F.input_file_name().alias("file")).distinct()
    counts: dict[str, int] = {}
    for row in detail.collect():
        partition = next(part for part in row["file"].split("/") if part.startswith("event_date="))
        counts[partition] = counts.get(partition, 0) + 1
    return counts


def test_compaction_merges_settled_partitions_only(spark: SparkSession, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    ensure_table(spark, settings, GOLD_PRODUCT_SALES_DAILY)
    path = GOLD_PRODUCT_SALES_DAILY.path(settings)
    schema = spark_schema(GOLD_PRODUCT_SALES_DAILY)
    for day in (1, 2):
        for product in range(4):  # one small file per micro-batch, as the stream leaves them
            row = (date(2019, 10, day), product, None, 1, 0, 0, 0, 1, None, f"q:{product}")
            spark.createDataFrame([row], schema).write.format("delta").mode("append").save(path)
    before = spark.read.format("delta").load(path).orderBy("event_date", "product_id").collect()
    assert files_per_partition(spark, path) == {"event_date=2019-10-01": 4, "event_date=2019-10-02": 4}

    result = maintain(spark, settings, GOLD_PRODUCT_SALES_DAILY, vacuum=True)

    assert (result.files_compacted, result.files_added, result.partitions_skipped) == (4, 1, "2019-10-02")
    assert files_per_partition(spark, path) == {"event_date=2019-10-01": 1, "event_date=2019-10-02": 4}
    assert spark.read.format("delta").load(path).orderBy("event_date", "product_id").collect() == before


def test_a_table_not_yet_created_is_skipped(spark: SparkSession, tmp_path: Path) -> None:
    result = maintain(spark, Settings(data_dir=tmp_path / "data"), GOLD_PRODUCT_SALES_DAILY)
    assert (result.files_compacted, result.vacuumed) == (0, False)
