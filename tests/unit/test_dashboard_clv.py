"""The dashboard's CLV status: the newest published run of gold.clv_model_runs (written with delta-rs as a
real table), whether it is provisional and why, and its report served beside the page."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import write_deltalake
from fastapi.testclient import TestClient

from salesinsights.catalog import GOLD_CLV_MODEL_RUNS
from salesinsights.clv.run_status import PUBLISHED, STAGED, SUPERSEDED
from salesinsights.dashboard.app import create_app
from salesinsights.lake import arrow_schema, arrow_type
from salesinsights.settings import Settings


def run(run_id: str, as_of: date, status: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(GOLD_CLV_MODEL_RUNS.column_names)
    return (
        row
        | {
            "run_id": run_id,
            "as_of_date": as_of,
            "status": status,
            "published_at": datetime(2020, 3, 1, tzinfo=UTC) if status != STAGED else None,
            "customers": 1000,
            "purchase_model": "pareto_nbd",
            "model_choice": "least purchases_mae on the holdout: pareto_nbd 0.75, bgnbd 0.79",
            "holdout_error": -0.12,
            "provisional": False,
            "provisional_reasons": "[]",
            "extrapolated_customers": 0,
        }
        | fields
    )


def client_over(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


def test_no_published_run_yet(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with client_over(settings) as client:
        assert client.get("/api/clv").json() == {"latest": None}
        write_deltalake(
            GOLD_CLV_MODEL_RUNS.path(settings),
            pa.Table.from_pylist(
                [run("staged", date(2020, 2, 29), STAGED)], arrow_schema(GOLD_CLV_MODEL_RUNS)
            ),
        )
        assert client.get("/api/clv").json() == {"latest": None}


def test_the_newest_published_run_with_its_trust_and_report(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    reasons = ["the calibration period is 7 day(s), under 25% of the 12-month horizon"]
    rows = [
        run("old", date(2020, 2, 27), PUBLISHED),
        run("replaced", date(2020, 2, 28), SUPERSEDED),
        run(
            "newest",
            date(2020, 2, 28),
            PUBLISHED,
            purchase_model="bgnbd",
            model_choice="no backtest: no customer bought up to 2020-01-03",
            holdout_error=None,
            provisional=True,
            provisional_reasons=json.dumps(reasons),
            extrapolated_customers=12,
        ),
        run("not-yet", date(2020, 2, 29), STAGED),
    ]
    write_deltalake(
        GOLD_CLV_MODEL_RUNS.path(settings), pa.Table.from_pylist(rows, arrow_schema(GOLD_CLV_MODEL_RUNS))
    )
    with client_over(settings) as client:
        latest = client.get("/api/clv").json()["latest"]
        assert latest["run_id"] == "newest" and latest["as_of_date"] == "2020-02-28"
        assert latest["purchase_model"] == "bgnbd" and latest["holdout_error"] is None
        assert latest["provisional"] is True and latest["provisional_reasons"] == reasons
        assert latest["extrapolated_customers"] == 12
        assert latest["report_url"] is None  # not written yet

        report = settings.data / "reports" / "clv" / "clv_2020-02-28.html"
        report.write_text(
            "<!DOCTYPE html><h1>Customer lifetime value as of 2020-02-28</h1>", encoding="utf-8"
        )
        latest = client.get("/api/clv").json()["latest"]
        assert latest["report_url"] == "/reports/clv/clv_2020-02-28.html"
        page = client.get(latest["report_url"])
        assert page.status_code == 200 and "as of 2020-02-28" in page.text
        assert "/api/clv" in client.get("/openapi.json").json()["paths"]
        assert 'id="clv"' in client.get("/").text


def test_a_run_from_before_the_backtest_is_unknown_not_trusted(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    # gold.clv_model_runs as an earlier release wrote it: none of the backtest's columns.
    kept = ("run_id", "as_of_date", "status", "published_at", "customers")
    old_columns = [column for column in GOLD_CLV_MODEL_RUNS.columns if column.name in kept]
    schema = pa.schema([pa.field(column.name, arrow_type(column.type)) for column in old_columns])
    row = {key: value for key, value in run("old", date(2020, 2, 29), PUBLISHED).items() if key in kept}
    write_deltalake(GOLD_CLV_MODEL_RUNS.path(settings), pa.Table.from_pylist([row], schema))
    with client_over(settings) as client:
        latest = client.get("/api/clv").json()["latest"]
    assert latest["run_id"] == "old" and latest["provisional"] is None and latest["purchase_model"] is None
