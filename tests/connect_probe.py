"""Run as a script by the SQL endpoint's test, in a process of its own (a Spark Connect client cannot share
one with the tests' local Spark session): what a notebook on `sc://host:port` can do to the lake. Prints
one JSON object: the rows it read, for each attempt to write or to run its own code the error, and the
error of a client with a wrong token."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any


def without_the_password(url: str) -> str | None:
    """The error of a query from a client that gives a wrong token (None if it was answered)."""
    from pyspark.sql import SparkSession

    try:
        SparkSession.builder.remote(url).create().range(1).collect()
    except Exception as error:
        return str(error)[:600]
    return None


def main(url: str, wrong_url: str, lake: str) -> dict[str, Any]:
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = SparkSession.builder.remote(url).getOrCreate()
    gold = spark.table("gold.product_sales_daily")
    path = f"{lake}/gold/product_sales_daily"

    def stream_into_the_lake() -> None:
        spark.readStream.format("rate").load().writeStream.format("delta").option(
            "checkpointLocation", f"{lake}/probe_checkpoint"
        ).start(path).awaitTermination(30)

    def python_function() -> None:
        plus_one = F.udf(lambda value: value + 1, "long")
        gold.select(plus_one("units")).collect()

    def pandas_map() -> None:
        gold.mapInPandas(lambda frames: frames, gold.schema).collect()

    def python_data_source() -> None:
        from pyspark.sql.datasource import DataSource, DataSourceReader

        class Reader(DataSourceReader):
            def read(self, partition: Any) -> Any:
                yield (1,)

        class Probe(DataSource):
            @classmethod
            def name(cls) -> str:
                return "probe"

            def schema(self) -> str:
                return "x int"

            def reader(self, schema: Any) -> DataSourceReader:
                return Reader()

        spark.dataSource.register(Probe)
        spark.read.format("probe").load().collect()

    attempts: dict[str, Callable[[], Any]] = {
        "overwrite by path": lambda: gold.limit(1).write.format("delta").mode("overwrite").save(path),
        "append by name": lambda: gold.limit(1).write.mode("append").saveAsTable("gold.product_sales_daily"),
        "delete": lambda: spark.sql("DELETE FROM gold.product_sales_daily").collect(),
        "stream into the lake": stream_into_the_lake,
        "python function": python_function,
        "pandas map": pandas_map,
        "python data source": python_data_source,
        "reflection": lambda: spark.sql("SELECT reflect('java.lang.System', 'getenv', 'HOME')").collect(),
    }
    refused: dict[str, str | None] = {}
    for name, attempt in attempts.items():
        try:
            attempt()
            refused[name] = None
        except Exception as error:
            refused[name] = str(error)[:600]
    revenue = gold.agg(F.sum("revenue").cast("string").alias("total")).first()
    total = revenue["total"] if revenue else None
    rows = gold.count()
    # Last: the new session becomes the active one.
    wrong_password = without_the_password(wrong_url)
    return {"rows": rows, "revenue": total, "refused": refused, "wrong_password": wrong_password}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
