"""The dashboard's view of bad input, read from real Delta tables: quarantine reasons and the newest nightly
data-quality run, and the Data Docs site. (The dead-letter tally needs the broker: tests/e2e/test_bad_input.py
checks it.)"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
from deltalake import write_deltalake
from fastapi.testclient import TestClient

from salesinsights.dashboard.app import create_app
from salesinsights.dashboard.quality import last_validation, quarantine_reasons
from salesinsights.quality.outcomes import DayReport, ExpectationOutcome, SuiteOutcome
from salesinsights.quality.results import results_path, store_results
from salesinsights.settings import Settings


def outcome(suite: str, rule: str, success: bool, severity: str) -> ExpectationOutcome:
    return ExpectationOutcome(
        suite=suite,
        table=suite,
        expectation_type="expect_column_values_to_not_be_null",
        column="user_id",
        success=success,
        severity=severity,
        rule=rule,
        description="",
        observed_value="{}",
        unexpected_count=0,
        element_count=10,
    )


def report(run_id: str, at: datetime, *outcomes: ExpectationOutcome) -> DayReport:
    return DayReport(
        run_id, date(2019, 10, 2), at, [SuiteOutcome("silver.events", "silver.events", 10, list(outcomes))]
    )


def test_quarantine_counts_by_reason_most_frequent_first(tmp_path: Path) -> None:
    path = str(tmp_path / "quarantine")
    assert quarantine_reasons(path) == {}
    reasons = ["negative_price", "unknown_event_type", "negative_price", "bad_timestamp", "negative_price"]
    write_deltalake(path, pa.table({"reason": reasons, "raw_value": ["x"] * len(reasons)}))
    found = quarantine_reasons(path)
    assert found == {"negative_price": 3, "bad_timestamp": 1, "unknown_event_type": 1}
    assert list(found) == ["negative_price", "bad_timestamp", "unknown_event_type"]


def test_last_validation_is_the_newest_run_with_its_critical_failures(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert last_validation(results_path(settings)) is None
    store_results(
        settings, report("older", datetime(2026, 1, 1, tzinfo=UTC), outcome("s", "a", False, "critical"))
    )
    newest = datetime(2026, 1, 2, tzinfo=UTC)
    store_results(
        settings,
        report(
            "newer",
            newest,
            outcome("silver.events", "user_id_present", False, "critical"),
            outcome("silver.events", "price_bounds", False, "warning"),
            outcome("silver.events", "event_type_known", True, "critical"),
        ),
    )
    last = last_validation(results_path(settings))
    assert last is not None
    assert (last.run_id, last.day, last.validated_at, last.expectations, last.warnings) == (
        "newer",
        date(2019, 10, 2),
        newest,
        3,
        1,
    )
    assert last.critical_failures == ["silver.events [user_id_present]: expect_column_values_to_not_be_null"]


def test_the_data_docs_site_is_served_once_rendered(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    client = TestClient(create_app(settings))  # no lifespan: no background refresh needed here
    assert client.get("/data-docs/").status_code == 404
    site = settings.data_docs_dir
    (site / "index.html").write_text("<title>Data Docs</title>", encoding="utf-8")
    page = client.get("/data-docs/")
    assert page.status_code == 200 and "Data Docs" in page.text
