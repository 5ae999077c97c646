"""The abandonment aggregates over real Delta fact tables: the rate is a cohort's (the sessions that began
carting in the period, and those of them abandoned, whenever), so it never exceeds 1, also for a session that
began carting before midnight and was abandoned after it; value and units count when they happened. They are
recomputed at most once per interval, and days left pending by a dead application are found at the next
start."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pyspark.sql import SparkSession

from salesinsights.catalog import (
    GOLD_CART_ABANDONMENT,
    GOLD_CART_ABANDONMENT_DAILY,
    GOLD_CART_ABANDONMENT_HOURLY,
    GOLD_CART_SESSIONS,
    Table,
)
from salesinsights.settings import CartSettings, Settings
from salesinsights.spark.cart_tables import CartAggregates, ensure_cart_tables, touched_days
from salesinsights.spark.tables import spark_schema

DAY1, DAY2 = date(2019, 10, 1), date(2019, 10, 2)
NOW = datetime(2026, 1, 1, tzinfo=UTC)
FIGURES = (
    "carting_sessions",
    "abandoned_sessions",
    "abandonment_rate",
    "value_at_stake",
    "recovered_value",
)


def at(day: date, hour: int, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def started(session: str, first_cart: datetime) -> dict[str, Any]:
    return {
        "record_id": f"start-{session}",
        "user_session": session,
        "user_id": 1,
        "first_cart_time": first_cart,
        "event_date": first_cart.date(),
        "recorded_at": NOW,
    }


def outcome(kind: str, session: str, first_cart: datetime, when: datetime, value: str) -> dict[str, Any]:
    line = {"product_id": 7, "brand": "b", "units": 1, "price": Decimal(value), "value": Decimal(value)}
    return {
        "record_id": f"{kind}-{session}",
        "kind": kind,
        "user_session": session,
        "user_id": 1,
        "episode": 1,
        "lines": [line],
        "units": 1,
        "value": Decimal(value),
        "first_cart_time": first_cart,
        "last_event_time": first_cart,
        "event_time": when,
        "event_date": when.date(),
        "recorded_at": NOW,
    }


def append(spark: SparkSession, settings: Settings, table: Table, rows: list[dict[str, Any]]) -> None:
    frame = spark.createDataFrame(rows, spark_schema(table))
    frame.write.format("delta").mode("append").save(table.path(settings))


def figures(spark: SparkSession, settings: Settings, table: Table, key: str) -> dict[Any, tuple[Any, ...]]:
    rows = spark.read.format("delta").load(table.path(settings)).collect()
    return {row[key]: tuple(row[name] for name in FIGURES) for row in rows}


def test_the_rate_is_the_cohorts_and_never_above_one(spark: SparkSession, tmp_path: Any) -> None:
    settings = Settings(data_dir=tmp_path)
    ensure_cart_tables(spark, settings)
    # A began carting at 23:50 and was abandoned after midnight; B carted and bought; C began carting the next
    # day, was abandoned and bought a line back.
    late, b, c = at(DAY1, 23, 50), at(DAY1, 10, 0), at(DAY2, 1, 0)
    append(spark, settings, GOLD_CART_SESSIONS, [started("A", late), started("B", b), started("C", c)])
    append(spark, settings, GOLD_CART_ABANDONMENT, [outcome("abandoned", "C", c, at(DAY2, 1, 30), "4.00")])
    writer = CartAggregates(spark, settings)
    writer.recompute([DAY1, DAY2], "test:1")

    # The batch that abandons A touches its own day and the day A began carting.
    batch = [outcome("abandoned", "A", late, at(DAY2, 0, 20), "10.00")]
    batch.append(outcome("recovered", "C", c, at(DAY2, 3, 0), "4.00"))
    append(spark, settings, GOLD_CART_ABANDONMENT, batch)
    rows = spark.createDataFrame(batch, spark_schema(GOLD_CART_ABANDONMENT))
    assert touched_days(rows) == [DAY1, DAY2]
    writer.recompute(touched_days(rows), "test:2")

    assert figures(spark, settings, GOLD_CART_ABANDONMENT_DAILY, "event_date") == {
        DAY1: (2, 1, pytest.approx(0.5), Decimal("0.00"), Decimal("0.00")),
        DAY2: (1, 1, pytest.approx(1.0), Decimal("14.00"), Decimal("4.00")),
    }
    hourly = figures(spark, settings, GOLD_CART_ABANDONMENT_HOURLY, "hour_start")
    hour = {key.replace(tzinfo=UTC) if key.tzinfo is None else key: value for key, value in hourly.items()}
    assert hour[at(DAY1, 23, 0)] == (1, 1, pytest.approx(1.0), Decimal("0.00"), Decimal("0.00"))
    # After midnight: A's value at stake, but no cohort of its own, so no rate.
    assert hour[at(DAY2, 0, 0)] == (0, 0, None, Decimal("10.00"), Decimal("0.00"))
    assert all(rate is None or rate <= 1 for _, _, rate, _, _ in hourly.values())


def daily_days(spark: SparkSession, settings: Settings) -> set[date]:
    return set(figures(spark, settings, GOLD_CART_ABANDONMENT_DAILY, "event_date"))


def test_pending_days_wait_for_the_interval_and_a_restart_recomputes_what_a_dead_one_left(
    spark: SparkSession, tmp_path: Any
) -> None:
    settings = Settings(data_dir=tmp_path, carts=CartSettings(aggregates_interval=timedelta(hours=1)))
    ensure_cart_tables(spark, settings)
    append(spark, settings, GOLD_CART_SESSIONS, [started("A", at(DAY1, 10, 0))])
    first = CartAggregates(spark, settings)
    first.flush()  # its first: every day of the facts (the aggregates were never written)
    assert daily_days(spark, settings) == {DAY1}

    # A batch commits a fact of DAY2 and hands the day over; the interval has not passed.
    append(
        spark,
        settings,
        GOLD_CART_SESSIONS,
        [started("B", at(DAY2, 9, 0)) | {"recorded_at": datetime.now(UTC)}],
    )
    first.touched([DAY2], "test:2")
    first.flush()
    assert daily_days(spark, settings) == {DAY1}

    # The application dies with DAY2 pending; the next one's first flush finds it by when it was recorded.
    second = CartAggregates(spark, settings)
    second.flush()
    assert daily_days(spark, settings) == {DAY1, DAY2}
    assert figures(spark, settings, GOLD_CART_ABANDONMENT_DAILY, "event_date")[DAY2][0] == 1

    # A clean stop flushes what is pending whatever the interval.
    append(spark, settings, GOLD_CART_SESSIONS, [started("C", at(DAY2, 11, 0))])
    second.touched([DAY2], "test:3")
    second.start()
    second.close()
    assert figures(spark, settings, GOLD_CART_ABANDONMENT_DAILY, "event_date")[DAY2][0] == 2
