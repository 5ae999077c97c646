"""The dashboard over gold written as the stream writes it: partitions replaced batch after batch, with the
audit rows beside them, read back exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from salesinsights.catalog import AUDIT_STREAM_BATCHES, GOLD_PRODUCT_SALES, GOLD_PRODUCT_SALES_DAILY, Table
from salesinsights.dashboard.app import create_app
from salesinsights.settings import Settings
from salesinsights.spark.delta_io import append_once, replace_partitions
from salesinsights.spark.tables import ensure_table, spark_schema
from tests.dashboard_expected import as_products, get, purchases, ranked_products
from tests.gold_lake import Event, audit_row, daily_rows, generated_events, window_rows

DAY = date(2019, 10, 6)


def replace_touched(
    spark: SparkSession, settings: Settings, table: Table, rows: list[dict[str, Any]], batch_id: int
) -> None:
    """What the stream does after a batch: the date partitions it touched, replaced by their totals over
    everything stored so far (`rows`, of every date), in one commit."""
    schema = T.StructType(
        [f for f in spark_schema(table).fields if f.name not in ("updated_at", "last_batch")]
    )
    (partition,) = table.partition_by
    dates = sorted({row[partition] for row in rows})
    replace_partitions(
        spark.createDataFrame(rows, schema), table.path(settings), partition, dates, f"test:{batch_id}"
    )


def test_gold_written_as_the_stream_writes_it_reads_exactly(spark: SparkSession, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    for table in (GOLD_PRODUCT_SALES, GOLD_PRODUCT_SALES_DAILY, AUDIT_STREAM_BATCHES):
        ensure_table(spark, settings, table)
    events = generated_events(DAY, scale=0.02)
    middle = len(events) // 2
    # The last batch changes rows that exist: their partitions rewritten.
    batches = [events[:middle], events[middle:], purchases(events)[:30]]
    stored: list[Event] = []
    for batch_id, batch in enumerate(batches):
        stored += batch
        replace_touched(spark, settings, GOLD_PRODUCT_SALES, window_rows(stored), batch_id)
        replace_touched(spark, settings, GOLD_PRODUCT_SALES_DAILY, daily_rows(stored), batch_id)
        audit = spark.createDataFrame(
            [audit_row(batch, batch_id, datetime.now(UTC))], spark_schema(AUDIT_STREAM_BATCHES)
        )
        append_once(audit, AUDIT_STREAM_BATCHES.path(settings), "test:audit", batch_id)
    everything = [event for batch in batches for event in batch]

    with TestClient(create_app(settings)) as client:
        day = get(client, "/api/sales", windows=1440, limit=1000)
        assert as_products(day) == ranked_products(purchases(everything))
        funnel = get(client, "/api/funnel")
        assert (funnel["views"], funnel["purchases"]) == (
            sum(event.event_type == "view" for event in everything),
            len(purchases(everything)),
        )
        health = get(client, "/api/health")
        assert health["status"] == "ok" and health["stream"]["last_batch_id"] == 2
