"""The dashboard's abandoned-carts panel: /api/carts over gold.cart_abandonment_daily and
gold.cart_abandoned_products (written with delta-rs as real tables): the newest day by default, another on
request, the top products and brands by value at stake, and a lake without cart sessions yet."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import write_deltalake
from fastapi.testclient import TestClient

from salesinsights.catalog import GOLD_CART_ABANDONED_PRODUCTS, GOLD_CART_ABANDONMENT_DAILY, Table
from salesinsights.dashboard.app import create_app
from salesinsights.lake import arrow_schema
from salesinsights.settings import Settings

DAY, EARLIER = date(2019, 10, 2), date(2019, 10, 1)
BOOKKEEPING = {"updated_at": datetime(2026, 1, 1, tzinfo=UTC), "last_batch": "q:1"}


def write(settings: Settings, table: Table, rows: list[dict[str, Any]]) -> None:
    frame = pa.Table.from_pylist(
        [dict.fromkeys(table.column_names) | row for row in rows], arrow_schema(table)
    )
    write_deltalake(table.path(settings), frame, mode="append", partition_by=list(table.partition_by))


def day_figures(day: date, carting: int, abandoned: int, at_stake: str) -> dict[str, Any]:
    return BOOKKEEPING | {
        "event_date": day,
        "carting_sessions": carting,
        "abandoned_sessions": abandoned,
        "abandonment_rate": abandoned / carting if carting else None,
        "abandoned_units": 2 * abandoned,
        "value_at_stake": Decimal(at_stake),
        "recovered_sessions": 1,
        "recovered_units": 1,
        "recovered_value": Decimal("3.50"),
    }


def product(
    day: date, product_id: int, brand: str | None, value: str, abandonments: int = 1
) -> dict[str, Any]:
    return BOOKKEEPING | {
        "event_date": day,
        "product_id": product_id,
        "brand": brand,
        "abandonments": abandonments,
        "abandoned_units": abandonments,
        "abandoned_value": Decimal(value),
        "recoveries": 0,
        "recovered_units": 0,
        "recovered_value": Decimal(0),
    }


def test_the_panel_shows_the_newest_days_figures_and_what_was_left_behind(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with TestClient(create_app(settings)) as client:
        empty = client.get("/api/carts").json()
        assert empty["day"] is None and empty["abandonment_rate"] is None and empty["top_products"] == []
        assert empty["idle_gap_minutes"] == 30

        write(
            settings,
            GOLD_CART_ABANDONMENT_DAILY,
            [day_figures(EARLIER, 10, 5, "50.00"), day_figures(DAY, 8, 6, "70.25")],
        )
        write(
            settings,
            GOLD_CART_ABANDONED_PRODUCTS,
            [
                product(DAY, 1, "alpha", "30.00", abandonments=3),
                product(DAY, 2, "beta", "25.25"),
                product(DAY, 3, "alpha", "10.00"),
                product(DAY, 4, None, "5.00"),
                product(DAY, 5, "beta", "0.00", abandonments=0),  # only bought back: not left behind
                product(EARLIER, 9, "gamma", "99.00"),
            ],
        )
        carts = client.get("/api/carts", params={"n": 3}).json()
        assert carts["day"] == DAY.isoformat()
        assert (carts["carting_sessions"], carts["abandoned_sessions"]) == (8, 6)
        assert carts["abandonment_rate"] == 0.75
        assert (carts["value_at_stake"], carts["recovered_value"]) == (70.25, 3.5)
        assert [(p["product_id"], p["value"]) for p in carts["top_products"]] == [
            (1, 30.0),
            (2, 25.25),
            (3, 10.0),
        ]
        assert [(b["brand"], b["value"], b["abandonments"]) for b in carts["top_brands"]] == [
            ("alpha", 40.0, 4),
            ("beta", 25.25, 1),
        ]
        earlier = client.get("/api/carts", params={"day": EARLIER.isoformat()}).json()
        assert earlier["abandonment_rate"] == 0.5 and [p["product_id"] for p in earlier["top_products"]] == [
            9
        ]
        none = client.get("/api/carts", params={"day": "2019-10-05"}).json()
        assert none["carting_sessions"] == 0 and none["top_products"] == []
        assert client.get("/api/carts", params={"n": 0}).status_code == 422
        assert "/api/carts" in client.get("/openapi.json").json()["paths"]
