"""The dashboard's live source on a real broker: gold-topic records laid over the Delta windows, served by
the API long before the archive's MERGE; older records and foreign ones kept out."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from confluent_kafka import Producer
from fastapi.testclient import TestClient

from salesinsights.dashboard.app import create_app
from salesinsights.dashboard.live import LiveWindows
from salesinsights.settings import Settings
from tests.gold_lake import GoldLake, purchase
from tests.support import free_port, wait_until

MOMENT = datetime(2019, 10, 5, 12, 0, 20, tzinfo=UTC)


def window_value(product_id: int, revenue: str, units: int, start: datetime = MOMENT) -> bytes:
    begin = start.replace(second=0)
    return json.dumps(
        {
            "product_id": product_id,
            "window_start": f"{begin:%Y-%m-%dT%H:%M:%SZ}",
            "window_end": f"{begin + timedelta(minutes=1):%Y-%m-%dT%H:%M:%SZ}",
            "revenue": revenue,
            "units": units,
            "distinct_buyers": 1,
            "buyer_ids": [7],
            "updated_at": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z",
        }
    ).encode()


def publish(settings: Settings, records: list[tuple[bytes, int | None]]) -> None:
    """(value, timestamp in ms or None for now) records on the gold topic."""
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers})
    for value, timestamp in records:
        producer.produce(settings.kafka.gold_sales_topic, value=value, key=b"k", timestamp=timestamp or 0)
    assert producer.flush(30) == 0


def test_live_totals_overlay_delta_and_reach_the_api(platform: Settings) -> None:
    lake = GoldLake(platform)
    lake.add([purchase(MOMENT, 1, "2.50"), purchase(MOMENT, 2, "4.00")])
    two_hours_ago = int((datetime.now(UTC) - timedelta(hours=2)).timestamp() * 1000)
    publish(platform, [(window_value(3, "99.00", 9), two_hours_ago)])  # before the lookback: in Delta

    live = LiveWindows(platform.kafka, lookback=timedelta(hours=1))
    with TestClient(create_app(platform, live=live)) as client:

        def sales() -> dict[int, tuple[float, int]]:
            response = client.get("/api/sales", params={"window_start": MOMENT.replace(second=0).isoformat()})
            assert response.status_code == 200
            return {row["product_id"]: (row["revenue"], row["units"]) for row in response.json()["products"]}

        assert sales() == {1: (2.5, 1), 2: (4.0, 1)}
        publish(
            platform,
            [
                (window_value(1, "5.00", 2), None),  # further than Delta: shown
                (window_value(2, "1.00", 0), None),  # behind Delta (an older total): Delta stays
                (window_value(4, "7.25", 1), None),  # only live so far
                (b"not a window record", None),
            ],
        )
        wait_until(lambda: 4 in sales(), 30, "the live record in the API")
        assert sales() == {1: (5.0, 2), 2: (4.0, 1), 4: (7.25, 1)}
        assert live.skipped == 1
        # The page's one request: every figure over the merged windows.
        overview = client.get("/api/overview")
        assert overview.status_code == 200, overview.text
        assert overview.json()["latest_window"]["revenue"] == 5.0 + 4.0 + 7.25
        health = client.get("/api/health").json()
        assert health["table_versions"]["live.gold_topic"] == live.version


def test_a_missing_broker_leaves_delta_serving(tmp_path_factory: pytest.TempPathFactory) -> None:
    settings = Settings(data_dir=tmp_path_factory.mktemp("nobroker") / "data")
    settings = settings.model_copy(
        update={"kafka": settings.kafka.model_copy(update={"bootstrap_servers": f"127.0.0.1:{free_port()}"})}
    )
    GoldLake(settings).add([purchase(MOMENT, 1, "2.50")])
    live = LiveWindows(settings.kafka, lookback=timedelta(hours=1))
    started = time.monotonic()
    assert live.poll() == 0  # the broker does not answer: no exception, a retry later
    assert live.poll() == 0  # and no second attempt before RETRY_SECONDS
    assert time.monotonic() - started < 15
    with TestClient(create_app(settings, live=live)) as client:
        rows = client.get("/api/sales", params={"window_start": MOMENT.replace(second=0).isoformat()}).json()
        assert [row["product_id"] for row in rows["products"]] == [1]
