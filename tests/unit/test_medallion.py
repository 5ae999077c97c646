"""The medallion's pure transformations on small fixtures."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from pyspark.sql import DataFrame, SparkSession

from salesinsights.spark import medallion
from salesinsights.spark.events import parse_records
from tests.spark_fixtures import csv_row, kafka_records, raw_value

AT = datetime(2026, 1, 1, tzinfo=UTC)


def line(time: str, event_type: str, product: int, price: str, user: int) -> str:
    return f"2019-10-01 {time} UTC,{event_type},{product},1487580005134238553,,brand,{price},{user},s{user}"


def events(
    spark: SparkSession,
    lines: list[str],
    source: str = "a.csv",
    first_offset: int = 0,
    watermark: datetime | None = None,
) -> DataFrame:
    values = [raw_value(csv_row(text), source, number) for number, text in enumerate(lines, start=2)]
    parsed = parse_records(kafka_records(spark, values, first_offset=first_offset))
    return medallion.valid_events(parsed, AT, watermark)


def test_first_arrivals_collapse_replays_but_keep_identical_rows(spark: SparkSession) -> None:
    day = [line("10:00:00", "purchase", 1, "2.50", 7), line("10:00:00", "purchase", 1, "2.50", 7)]
    first = events(spark, day)
    # Identical rows on two lines are two units.
    assert medallion.first_arrivals(first, first.limit(0)).count() == 2
    # The same file produced again (new offsets) brings nothing new, and is no earlier attempt of its own...
    replay = events(spark, day, first_offset=100)
    assert medallion.first_arrivals(replay, first).count() == 0
    assert medallion.stored_earlier(replay, first).count() == 0
    # ...while the very records read again (Spark's replay of a crashed batch, or a new checkpoint) find
    # the rows that their earlier attempt stored: nothing to append, both rows theirs to count.
    assert medallion.first_arrivals(first, first).count() == 0
    assert medallion.stored_earlier(first, first).count() == 2
    # Within one batch, the same event twice (a replay inside the batch) counts once.
    doubled = first.unionByName(replay)
    assert medallion.first_arrivals(doubled, first.limit(0)).count() == 2


def test_records_that_recorded_batches_account_for_are_left_out(spark: SparkSession) -> None:
    values = [raw_value(csv_row(line("10:00:00", "view", 1, "2.50", 7)), "a.csv", n) for n in range(2, 7)]
    records = kafka_records(spark, values, partition=0, first_offset=10).unionByName(
        kafka_records(spark, values, partition=1, first_offset=3)
    )
    fresh = medallion.fresh_records(records, {0: 12, 2: 99})
    assert sorted((row["partition"], row["offset"]) for row in fresh.collect()) == [
        (0, 13),
        (0, 14),
        *((1, offset) for offset in range(3, 8)),
    ]
    assert medallion.fresh_records(records, {}).count() == 10
    stored = medallion.bronze_rows(records, AT)
    assert sorted(row["kafka_offset"] for row in medallion.beyond(stored, {0: 13, 1: 5}).collect()) == [
        6,
        7,
        14,
    ]


def test_window_sales_leave_out_what_arrived_late(spark: SparkSession) -> None:
    timely = events(
        spark,
        [
            line("10:00:05", "purchase", 1, "2.50", 7),
            line("10:00:59", "purchase", 1, "1.25", 8),
            line("10:00:30", "purchase", 1, "1.25", 7),
            line("10:01:00", "purchase", 1, "4.00", 7),
            line("10:00:10", "view", 1, "2.50", 9),
        ],
    )
    late = events(
        spark,
        [line("09:40:00", "purchase", 2, "9.99", 9), line("10:00:01", "purchase", 1, "5.00", 9)],
        source="b.csv",
        watermark=datetime(2019, 10, 1, 10, 0, 30, tzinfo=UTC),
    )
    assert [row["arrived_late"] for row in late.orderBy("event_time").collect()] == [True, True]
    rows = medallion.window_sales(timely.unionByName(late), "60 seconds").collect()
    by_window = {(row["product_id"], row["window_start"].strftime("%H:%M")): row for row in rows}
    assert set(by_window) == {(1, "10:00"), (1, "10:01")}  # the late purchases count in no window
    ten = by_window[(1, "10:00")]
    assert (ten["revenue"], ten["units"], ten["buyer_ids"], ten["distinct_buyers"]) == (
        Decimal("5.00"),
        3,
        [7, 8],
        2,
    )
    assert ten["window_end"].strftime("%H:%M") == "10:01"
    assert str(ten["window_date"]) == "2019-10-01"


def test_daily_product_sales_counts_every_event_late_or_not(spark: SparkSession) -> None:
    batch = events(
        spark,
        [
            line("10:00:05", "purchase", 1, "2.50", 7),
            line("00:00:01", "purchase", 1, "1.25", 8),
            line("10:00:10", "view", 1, "2.50", 9),
            line("10:00:11", "cart", 1, "2.50", 9),
            line("10:00:12", "remove_from_cart", 1, "2.50", 9),
            line("10:00:13", "view", 2, "3.00", 9),
        ],
    )
    rows = {row["product_id"]: row.asDict() for row in medallion.daily_product_sales(batch).collect()}
    assert {key: rows[1][key] for key in ("revenue", "units", "views", "carts", "removals", "purchases")} == {
        "revenue": Decimal("3.75"),
        "units": 2,
        "views": 1,
        "carts": 1,
        "removals": 1,
        "purchases": 2,
    }
    assert (rows[2]["revenue"], rows[2]["views"], rows[2]["units"]) == (Decimal("0.00"), 1, 0)


def test_quarantine_rows_carry_the_first_reason_and_all(spark: SparkSession) -> None:
    bad = csv_row(line("10:00:05", "refund", 1, "-1", 7))
    parsed = parse_records(kafka_records(spark, [raw_value(bad, "b.csv", 9)]))
    [row] = medallion.quarantine_rows(parsed, AT).collect()
    assert (row["reason"], row["reasons"], row["source_file"], row["source_line"]) == (
        "unknown_event_type",
        ["unknown_event_type", "price_out_of_range"],
        "b.csv",
        9,
    )
    assert medallion.valid_events(parsed, AT, None).count() == 0
