"""What the dashboard's API must answer for a list of events, computed in plain Python: the expected side
of the dashboard tests."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.gold_lake import Event


def get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def purchases(events: list[Event]) -> list[Event]:
    return [event for event in events if event.event_type == "purchase"]


def latest_brands(events: list[Event]) -> dict[int, str]:
    """Each product's brand on its latest event that names one."""
    latest: dict[int, tuple[datetime, str]] = {}
    for event in events:
        if event.brand and (
            event.product_id not in latest or event.event_time >= latest[event.product_id][0]
        ):
            latest[event.product_id] = (event.event_time, event.brand)
    return {product: brand for product, (_, brand) in latest.items()}


def ranked_products(bought: list[Event]) -> list[tuple[int, Decimal, int, int]]:
    """(product, revenue, units, distinct buyers), by revenue, then product id."""
    revenue: dict[int, Decimal] = defaultdict(Decimal)
    units: dict[int, int] = defaultdict(int)
    buyers: dict[int, set[int]] = defaultdict(set)
    for event in bought:
        revenue[event.product_id] += event.price
        units[event.product_id] += 1
        buyers[event.product_id].add(event.user_id)
    order = sorted(revenue, key=lambda product: (-revenue[product], product))
    return [(product, revenue[product], units[product], len(buyers[product])) for product in order]


def money(value: float) -> Decimal:
    return Decimal(str(value))


def as_products(response: dict[str, Any]) -> list[tuple[int, Decimal, int, int]]:
    return [
        (row["product_id"], money(row["revenue"]), row["units"], row["buyers"])
        for row in response["products"]
    ]
