"""silver.events written straight from the generator's lines with Spark, in batch (no landing files, no
Kafka): the data of the CLV benchmark and end-to-end tests.

Each Spark task generates whole days and parses them with pandas' CSV reader into silver's columns, the
event ids being the producer's. The streaming job's rulebook is not applied: the generator writes valid
events only (tests/e2e/test_clv.py checks the result against the lines with that rulebook).
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from salesinsights.catalog import SILVER_EVENTS
from salesinsights.generator import generate_lines
from salesinsights.producer.reader import event_id
from salesinsights.schema import CSV_COLUMNS, EVENT_ID, SOURCE_FILE, SOURCE_LINE
from salesinsights.settings import Settings, get_settings
from salesinsights.spark.session import build_spark
from salesinsights.spark.tables import ensure_table, spark_schema, spark_type

_INTEGER_COLUMNS = ("product_id", "category_id", "user_id")
# What the tasks hand to Spark: the integers typed, price and time as text for Spark's own casts.
_PARSED_SCHEMA = T.StructType(
    [
        T.StructField(EVENT_ID, T.StringType()),
        *[
            T.StructField(column, T.LongType() if column in _INTEGER_COLUMNS else T.StringType())
            for column in CSV_COLUMNS
        ],
        T.StructField(SOURCE_FILE, T.StringType()),
        T.StructField(SOURCE_LINE, T.LongType()),
    ]
)
SPARK_TIME_PATTERN = "yyyy-MM-dd HH:mm:ss 'UTC'"


def day_file_name(day: date) -> str:
    return f"events_{day:%Y%m%d}.csv"


def parse_day(day: date, lines: list[str]) -> pd.DataFrame:
    """A day's CSV lines as rows of _PARSED_SCHEMA; line 1 of the day's file would be its header."""
    frame = pd.read_csv(
        io.StringIO("\n".join(lines)),
        names=list(CSV_COLUMNS),
        header=None,
        dtype={column: "Int64" if column in _INTEGER_COLUMNS else "string" for column in CSV_COLUMNS},
        keep_default_na=False,
        na_values={column: [""] for column in CSV_COLUMNS},
    )
    source_file = day_file_name(day)
    numbers = range(2, len(lines) + 2)
    frame.insert(0, EVENT_ID, [event_id(source_file, number) for number in numbers])
    frame[SOURCE_FILE] = source_file
    frame[SOURCE_LINE] = list(numbers)
    return frame


def _day_parser(seed: int, scale: float) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    def generate(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            for day in batch["day"]:
                yield parse_day(day, generate_lines(day, seed, scale))

    return generate


def write_synthetic_silver(
    spark: SparkSession, settings: Settings, first: date, last: date, seed: int, scale: float
) -> None:
    """Replaces silver.events at the settings' lake with the generated days first..last, inclusive."""
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    parsed = (
        spark.createDataFrame([(day,) for day in days], "day date")
        .repartition(len(days))
        .mapInPandas(_day_parser(seed, scale), _PARSED_SCHEMA)
    )
    event_time = F.to_timestamp("event_time", SPARK_TIME_PATTERN)
    typed = {
        "event_time": event_time,
        "price": F.col("price").cast(spark_type(SILVER_EVENTS.column("price").type)),
        "event_date": F.to_date(event_time),
    }
    silver = parsed.select(
        *[
            typed.get(field.name, F.col(field.name) if field.name in parsed.columns else F.lit(None))
            .cast(field.dataType)
            .alias(field.name)
            for field in spark_schema(SILVER_EVENTS)
        ]
    )
    ensure_table(spark, settings, SILVER_EVENTS)
    silver.write.format("delta").mode("overwrite").save(SILVER_EVENTS.path(settings))


def main(argv: list[str] | None = None) -> int:
    """`python -m salesinsights.bench.synthetic_silver --first … --last … [--scale …]`, into the lake."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--first", type=date.fromisoformat, required=True, help="first day")
    parser.add_argument("--last", type=date.fromisoformat, required=True, help="last day, inclusive")
    parser.add_argument("--scale", type=float, default=get_settings().source.scale)
    parser.add_argument("--seed", type=int, default=get_settings().source.seed)
    args = parser.parse_args(argv)
    settings = get_settings()
    spark = build_spark(settings, "salesinsights-synthetic-silver")
    try:
        write_synthetic_silver(spark, settings, args.first, args.last, args.seed, args.scale)
    finally:
        spark.stop()
    print(f"silver.events of {args.first}..{args.last} at scale {args.scale}: {SILVER_EVENTS.path(settings)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
