"""The dashboard's JSON API on real Delta tables laid out as the streaming job writes them (three generated
days of the shop): every figure equals the ground truth computed straight from the events, and bad
parameters get a 4xx that says what is wrong. One end-to-end test reads gold written by Spark with the
stream's own MERGE."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from salesinsights.dashboard.app import create_app
from salesinsights.settings import Settings
from tests.dashboard_expected import as_products, get, latest_brands, money, purchases, ranked_products
from tests.gold_lake import (
    WINDOW,
    Event,
    GoldLake,
    generated_events,
)

DAYS = (date(2019, 10, 4), date(2019, 10, 5), date(2019, 10, 6))


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return [event for day in DAYS for event in generated_events(day)]


@pytest.fixture(scope="module")
def client(events: list[Event], tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("dashboard") / "data")
    lake = GoldLake(settings)
    for day in DAYS:  # one batch per day, as a replay of day files would
        lake.add(event for event in events if event.event_time.date() == day)
    app = create_app(settings)
    with TestClient(app) as test_client:
        app.state.catalogue.refresh()  # at once, not on the background thread's schedule
        yield test_client


def test_sales_of_the_newest_window_by_default(client: TestClient, events: list[Event]) -> None:
    newest = max(event.window_start for event in purchases(events))
    expected = ranked_products([event for event in purchases(events) if event.window_start == newest])

    response = get(client, "/api/sales")

    assert response["span"]["last_window_start"] == newest.isoformat().replace("+00:00", "Z")
    assert response["span"]["windows"] == 1
    assert response["span"]["window_seconds"] == 60
    assert as_products(response) == expected
    assert money(response["revenue"]) == sum((row[1] for row in expected), Decimal(0))


def test_sales_over_a_span_across_midnight_with_buyers_counted_once(
    client: TestClient, events: list[Event]
) -> None:
    last = datetime(2019, 10, 5, 6, 0, tzinfo=UTC)
    first = last - 1439 * WINDOW
    in_span = [event for event in purchases(events) if first <= event.window_start <= last]
    expected = ranked_products(in_span)
    assert {event.event_time.date() for event in in_span} == {date(2019, 10, 4), date(2019, 10, 5)}

    response = get(client, "/api/sales", window_start="2019-10-05T06:00:00Z", windows=1440, limit=1000)

    assert as_products(response) == expected
    assert response["products_total"] == len(expected)
    assert response["units"] == len(in_span)
    brands = latest_brands(events)
    assert [row["brand"] for row in response["products"]] == [brands.get(row[0]) for row in expected]


def test_sales_of_chosen_products_sorted_by_units_and_limited(
    client: TestClient, events: list[Event]
) -> None:
    day = [event for event in purchases(events) if event.event_time.date() == DAYS[-1]]
    chosen = sorted({event.product_id for event in day})[:3]
    last = max(event.window_start for event in day)

    response = get(
        client, "/api/sales", windows=1440, window_start=last.isoformat(), product_id=chosen, sort="units"
    )

    units = {product: sum(event.product_id == product for event in day) for product in chosen}
    assert [row["product_id"] for row in response["products"]] == sorted(chosen, key=lambda p: (-units[p], p))
    assert {row["product_id"]: row["units"] for row in response["products"]} == units
    assert len(get(client, "/api/sales", windows=1440, limit=2)["products"]) == 2


def test_top_products_and_brands_of_the_newest_day(client: TestClient, events: list[Event]) -> None:
    day = [event for event in purchases(events) if event.event_time.date() == DAYS[-1]]
    products = get(client, "/api/top", by="product", n=5)
    assert products["day"] == DAYS[-1].isoformat()
    expected = sorted(ranked_products(day), key=lambda row: (-row[1], -row[2], row[0]))[:5]
    assert [(e["product_id"], money(e["revenue"]), e["units"]) for e in products["entries"]] == [
        (product, revenue, units) for product, revenue, units, _ in expected
    ]

    brands = latest_brands(events)
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    units: dict[str, int] = defaultdict(int)
    unbranded = Decimal(0)
    for event in day:
        if event.product_id in brands:
            revenue[brands[event.product_id]] += event.price
            units[brands[event.product_id]] += 1
        else:
            unbranded += event.price
    expected_brands = sorted(revenue, key=lambda brand: (-revenue[brand], -units[brand], brand))[:5]
    by_brand = get(client, "/api/top", by="brand", n=5)
    assert [(e["brand"], money(e["revenue"]), e["units"]) for e in by_brand["entries"]] == [
        (brand, revenue[brand], units[brand]) for brand in expected_brands
    ]
    assert money(by_brand["unbranded_revenue"]) == unbranded


def test_a_products_series_on_an_older_day(client: TestClient, events: list[Event]) -> None:
    day = DAYS[0]  # not among the two cached days: read on demand
    bought = [event for event in purchases(events) if event.event_time.date() == day]
    product = max(
        {event.product_id for event in bought}, key=lambda p: sum(e.product_id == p for e in bought)
    )
    mine = [event for event in bought if event.product_id == product]

    series = get(client, f"/api/products/{product}/series", day=day.isoformat())

    per_window: dict[datetime, list[Event]] = defaultdict(list)
    for event in mine:
        per_window[event.window_start].append(event)
    assert [(p["window_start"], money(p["revenue"]), p["units"]) for p in series["points"]] == [
        (start.isoformat().replace("+00:00", "Z"), sum((e.price for e in bought), Decimal(0)), len(bought))
        for start, bought in sorted(per_window.items())
    ]
    seen = [event for event in events if event.event_time.date() == day and event.product_id == product]
    assert series["day_totals"]["views"] == sum(event.event_type == "view" for event in seen)
    assert series["day_totals"]["units"] == len(mine)


def test_timeline_and_funnel_of_the_newest_day(client: TestClient, events: list[Event]) -> None:
    day = [event for event in events if event.event_time.date() == DAYS[-1]]
    hourly: dict[int, Decimal] = defaultdict(Decimal)
    for event in purchases(day):
        hourly[event.event_time.hour] += event.price

    timeline = get(client, "/api/timeline", bucket_minutes=60)

    assert [money(point["revenue"]) for point in timeline["points"]] == [
        hourly[hour] for hour in range(max(hourly) + 1)
    ]
    assert timeline["points"][0]["start"] == f"{DAYS[-1].isoformat()}T00:00:00Z"

    funnel = get(client, "/api/funnel")
    counts = {kind: sum(event.event_type == kind for event in day) for kind in ("view", "cart", "purchase")}
    assert (funnel["views"], funnel["carts"], funnel["purchases"]) == tuple(counts.values())
    assert funnel["view_to_purchase"] == round(counts["purchase"] / counts["view"], 4)


def test_health_and_overview_agree_with_the_endpoints(client: TestClient) -> None:
    health = get(client, "/api/health")
    assert health["status"] == "ok"
    assert health["window_seconds"] == 60
    assert health["days_cached"] == [day.isoformat() for day in DAYS[1:]]
    assert health["brands_known"] > 0
    assert 0 <= health["freshness"]["gold_age_seconds"] < 60

    overview = get(client, "/api/overview", windows=60, top_n=5, bucket_minutes=60)
    assert overview["recent"] == get(client, "/api/sales", windows=60, limit=12)
    assert overview["latest_window"] == get(client, "/api/sales")
    assert overview["top_brands"] == get(client, "/api/top", by="brand", n=5)
    assert overview["timeline"] == get(client, "/api/timeline", bucket_minutes=60)
    assert overview["funnel"] == get(client, "/api/funnel")


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("/api/sales", {"windows": 0}, 422, "windows: Input should be greater than or equal to 1"),
        ("/api/sales", {"windows": "many"}, 422, "windows: Input should be a valid integer"),
        ("/api/sales", {"sort": "price"}, 422, "sort: Input should be 'revenue' or 'units'"),
        ("/api/sales", {"window_start": "yesterday"}, 422, "window_start: Input should be a valid datetime"),
        ("/api/sales", {"window_start": "2019-10-06T10:00:30Z"}, 400, "not the start of a window"),
        ("/api/sales", {"windows": 5000}, 422, "less than or equal to 1440"),
        ("/api/sales", {"product_id": -3}, 422, "product_id.0: Input should be greater than or equal to 0"),
        ("/api/sales", {"window": 5}, 400, "unknown query parameter(s) window"),
        ("/api/top", {"by": "category"}, 422, "by: Input should be 'product' or 'brand'"),
        ("/api/top", {"n": 101}, 422, "n: Input should be less than or equal to 100"),
        ("/api/funnel", {"day": "2019-13-01"}, 422, "day: Input should be a valid date"),
        ("/api/timeline", {"bucket_minutes": 0}, 422, "bucket_minutes"),
        ("/api/products/abc/series", {}, 422, "product_id: Input should be a valid integer"),
    ],
)
def test_bad_parameters_get_a_4xx_that_says_why(
    client: TestClient, path: str, params: dict[str, Any], status: int, says: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    assert says in response.json()["detail"]


def test_a_day_that_gold_does_not_hold_is_empty_not_an_error(client: TestClient) -> None:
    assert get(client, "/api/top", day="2020-02-29")["entries"] == []
    assert get(client, "/api/funnel", day="2020-02-29")["views"] == 0
    assert get(client, "/api/timeline", day="2020-02-29")["points"] == []


def test_page_assets_and_openapi_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "SalesInsights" in page.text
    for asset in ("app.js", "charts.js", "style.css"):
        assert client.get(f"/static/{asset}").status_code == 200
    paths = get(client, "/openapi.json")["paths"]
    assert {"/api/sales", "/api/top", "/api/products/{product_id}/series", "/api/health"} <= set(paths)


def test_before_gold_exists_the_service_answers_and_says_so(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path / "data"))) as empty:
        health = get(empty, "/api/health")
        assert health["status"] == "waiting_for_gold"
        assert get(empty, "/api/sales")["span"] is None
        overview = get(empty, "/api/overview")
        assert overview["day"] is None and overview["recent"]["products"] == []
