"""Gold, silver and audit tables as the streaming job lays them out (schemas from salesinsights.spark.tables,
written with delta-rs), built from plain events for the dashboard's tests; and the tests of the dashboard's
reader on them: newest partitions only, new versions picked up, money exact to the cent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from pyspark.sql import types as T

from salesinsights.catalog import (
    AUDIT_STREAM_BATCHES,
    DAILY_MEASURES,
    GOLD_PRODUCT_SALES,
    GOLD_PRODUCT_SALES_DAILY,
    SILVER_EVENTS,
    Table,
)
from salesinsights.dashboard.brands import BrandCatalogue
from salesinsights.dashboard.models import DayTotals
from salesinsights.dashboard.reader import (
    BATCH_COLUMNS,
    DAILY_COLUMNS,
    WINDOW_COLUMNS,
    GoldReader,
)
from salesinsights.lake import arrow_schema
from salesinsights.spark.tables import spark_schema
from tests.gold_lake import (
    WINDOW,
    Event,
    GoldLake,
    lake_settings,
    purchase,
)


def test_the_reader_reads_columns_of_the_catalogue() -> None:
    for table, columns in (
        (GOLD_PRODUCT_SALES, WINDOW_COLUMNS),
        (GOLD_PRODUCT_SALES_DAILY, DAILY_COLUMNS),
        (AUDIT_STREAM_BATCHES, BATCH_COLUMNS),
    ):
        assert set(columns) <= set(table.column_names), table.qualified_name
    # The API's day totals are the daily table's measures.
    assert tuple(DayTotals.model_fields) == GOLD_PRODUCT_SALES_DAILY.measures == DAILY_MEASURES


def test_reader_waits_for_tables_then_reads_the_newest_two_days_in_cents(tmp_path: Path) -> None:
    settings = lake_settings(tmp_path)
    reader = GoldReader(settings, min_interval=0)
    assert not reader.snapshot().ready

    lake = GoldLake(settings)
    start = datetime(2019, 10, 5, 23, 58, tzinfo=UTC)
    lake.add(
        [
            purchase(datetime(2019, 10, 3, 12, 0, 5, tzinfo=UTC), 1, "9.99"),
            purchase(start, 1, "0.10"),
            purchase(start + timedelta(seconds=30), 1, "0.20", user_id=2),
            purchase(start + timedelta(minutes=3), 2, "1234567.89"),
        ]
    )
    snapshot = reader.snapshot()
    assert list(snapshot.windows_by_day) == [date(2019, 10, 5), date(2019, 10, 6)]
    assert sorted(snapshot.windows["revenue_cents"]) == [30, 123456789]
    assert snapshot.daily["event_date"].min() == date(2019, 10, 5)
    # Older days are read on demand, with a partition filter.
    older = reader.windows_on(snapshot, [date(2019, 10, 3)])
    assert older["revenue_cents"].tolist() == [999]


def test_reader_follows_new_versions_and_shares_a_snapshot_between_them(tmp_path: Path) -> None:
    settings = lake_settings(tmp_path)
    lake = GoldLake(settings)
    moment = datetime(2019, 10, 5, 12, 0, tzinfo=UTC)
    lake.add([purchase(moment, 1, "1.00")])
    reader = GoldReader(settings, min_interval=3600)
    first = reader.snapshot()
    lake.add([purchase(moment + WINDOW, 2, "2.00")])
    assert reader.snapshot() is first  # within min_interval: no look at the tables

    reader.min_interval = 0
    second = reader.snapshot()
    assert second.key != first.key
    assert sorted(second.windows["product_id"]) == [1, 2]
    assert len(second.batches) == 2


def test_brand_catalogue_takes_each_products_latest_brand_and_reads_new_days_only(tmp_path: Path) -> None:
    settings = lake_settings(tmp_path)
    lake = GoldLake(settings)
    day = datetime(2019, 10, 5, 8, tzinfo=UTC)
    lake.add(
        [
            Event(day, "view", 1, "old", Decimal("1"), 1),
            Event(day + timedelta(hours=1), "view", 1, "new", Decimal("1"), 1),
            Event(day + timedelta(hours=2), "view", 1, None, Decimal("1"), 1),
            Event(day, "view", 2, None, Decimal("1"), 1),
        ]
    )
    catalogue = BrandCatalogue(SILVER_EVENTS.path(settings))
    catalogue.refresh()
    assert catalogue.brands.to_dict() == {1: "new"}

    lake.add([Event(day + timedelta(days=1), "cart", 2, "late-brand", Decimal("1"), 1)])
    catalogue.refresh()
    assert catalogue.brands.to_dict() == {1: "new", 2: "late-brand"}


@pytest.mark.parametrize("table", [GOLD_PRODUCT_SALES, GOLD_PRODUCT_SALES_DAILY, AUDIT_STREAM_BATCHES])
def test_arrow_and_spark_schemas_follow_the_catalogue(table: Table) -> None:
    assert arrow_schema(table).names == spark_schema(table).fieldNames() == table.column_names
    revenue = table.column("revenue") if "revenue" in table.column_names else None
    if revenue is not None:  # money is exact in both engines
        assert arrow_schema(table).field("revenue").type == pa.decimal128(18, 2)
        assert spark_schema(table)["revenue"].dataType == T.DecimalType(18, 2)


def test_a_refresh_that_fails_keeps_serving_the_last_rows(tmp_path: Path) -> None:
    settings = lake_settings(tmp_path)
    lake = GoldLake(settings)
    moment = datetime(2019, 10, 5, 12, 0, tzinfo=UTC)
    lake.add([purchase(moment, 1, "1.00")])
    reader = GoldReader(settings, min_interval=0)
    assert reader.snapshot().windows["product_id"].tolist() == [1]

    lake.add([purchase(moment + WINDOW, 2, "2.00")])
    table = GOLD_PRODUCT_SALES.path(settings)
    newest_file = max(Path(table).rglob("*.parquet"), key=lambda path: path.stat().st_mtime)
    newest_file.unlink()  # as if removed under the reader's feet

    assert reader.snapshot().windows["product_id"].tolist() == [1]
