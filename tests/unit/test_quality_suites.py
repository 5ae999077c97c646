"""The Great Expectations suites: built from the rulebook, committed as JSON, passing on real and generated
data, and failing, naming the right expectation, on each injected defect.

The frames come from a small pandas medallion below: the producer's reader turns source lines into the raw
records bronze holds, the rulebook's Python interpreter sorts them into silver and quarantine, and pandas
aggregates gold, as the streaming job would (tests/e2e/test_streaming.py checks the job itself)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from great_expectations.data_context import AbstractDataContext
from great_expectations.expectations import Expectation

from salesinsights.catalog import SILVER_EVENTS, Table
from salesinsights.quality import frames
from salesinsights.quality import suites as S
from salesinsights.quality.context import ephemeral_context
from salesinsights.quality.export import expectations_dir, rendered_suites
from salesinsights.quality.from_rules import LATEST_EVENT_TIME
from salesinsights.quality.validate import validate_frames
from salesinsights.rules import FUTURE_TOLERANCE, RULES, Check, Stage
from salesinsights.spark.tables import spark_schema
from tests.medallion_frames import (
    INGESTED_AT,
    NOW,
    Frames,
    Generated,
    medallion,
    raw_records,
    write_day,
)
from tests.support import REAL_SAMPLE_DIR


def parameters(
    previous_silver_rows: int | None = None, previous_daily_rows: int | None = None
) -> dict[str, dict[str, object]]:
    def bounds(previous: int | None) -> dict[str, object]:
        low, high = S.ROW_COUNT_CHANGE
        return (
            {S.MIN_ROWS: 0, S.MAX_ROWS: None}
            if previous is None
            else {S.MIN_ROWS: int(previous * low), S.MAX_ROWS: int(previous * high)}
        )

    latest: dict[str, object] = {LATEST_EVENT_TIME: NOW + FUTURE_TOLERANCE}
    dataset: dict[str, object] = {
        S.DATASET_START: datetime(2019, 10, 1, tzinfo=UTC),
        S.DATASET_END: datetime(2020, 3, 1, tzinfo=UTC),
    }
    return {
        S.BRONZE: latest,
        S.SILVER: latest | dataset | bounds(previous_silver_rows),
        S.GOLD_DAILY: bounds(previous_daily_rows),
    }


def failures(
    context: AbstractDataContext, data: Frames, params: dict[str, dict[str, object]], *suites: str
) -> set[tuple[str, str]]:
    """(suite, rule) of every failed expectation of the given suites (default: all)."""
    chosen = {name: frame for name, frame in data.items() if not suites or name in suites}
    return {
        (outcome.suite, outcome.rule)
        for suite in validate_frames(context, chosen, params)
        for outcome in suite.expectations
        if not outcome.success
    }


@pytest.fixture(scope="module")
def context() -> AbstractDataContext:
    return ephemeral_context()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Frames, dict[str, dict[str, object]]]:
    """Clean generated data of 2019-10-02, with 2019-10-01 as the previous day for the row-count bounds."""
    folder = tmp_path_factory.mktemp("generated")
    previous = medallion(raw_records(write_day(folder / "events_20191001.csv", date(2019, 10, 1))))
    data = medallion(raw_records(write_day(folder / "events_20191002.csv", date(2019, 10, 2))))
    return data, parameters(len(previous[S.SILVER]), len(previous[S.GOLD_DAILY]))


# --- the suites and the rulebook -------------------------------------------------------------------------


def _meta(expectation: Expectation) -> dict[str, Any]:
    assert expectation.meta is not None
    return expectation.meta


def _rules_of(suite: str) -> set[str]:
    return {_meta(expectation)["rule"] for expectation in S.build_suite(suite).expectations}


def test_every_rule_is_an_expectation_of_bronze_and_every_value_rule_of_silver() -> None:
    assert {rule.reason for rule in RULES} <= _rules_of(S.BRONZE)
    # The event-time limit travels in the raw record only: silver has nothing to check it against.
    typed = {
        rule.reason
        for rule in RULES
        if rule.stage is Stage.VALUE and rule.check is not Check.NOT_AHEAD_OF_STREAM
    }
    assert typed <= _rules_of(S.SILVER)


def test_every_expectation_carries_severity_and_rule() -> None:
    for spec in S.SUITES:
        for expectation in S.build_suite(spec.name).expectations:
            meta = _meta(expectation)
            assert meta["severity"] in ("critical", "warning", "info"), spec.name
            assert meta["severity"] == expectation.severity.value
            assert meta["rule"] and expectation.description, spec.name


def test_committed_expectations_are_what_the_code_builds() -> None:
    committed = {path.name: path.read_text() for path in expectations_dir().glob("*.json")}
    assert committed == rendered_suites(), "expectations/ is stale: run `make expectations`"


# --- clean data passes -----------------------------------------------------------------------------------


def test_suites_pass_on_clean_generated_data(
    context: AbstractDataContext, generated: tuple[Frames, dict[str, dict[str, object]]]
) -> None:
    data, params = generated
    assert len(data[S.SILVER]) > 1000 and len(data[S.QUARANTINE]) == 0
    assert failures(context, data, params) == set()


@pytest.mark.parametrize("sample", sorted(path.name for path in REAL_SAMPLE_DIR.glob("*.csv.gz")))
def test_suites_pass_on_real_samples(context: AbstractDataContext, sample: str) -> None:
    data = medallion(raw_records(REAL_SAMPLE_DIR / sample))
    assert len(data[S.SILVER]) >= 10_000
    assert failures(context, data, parameters()) == set()


# --- each injected defect fails, naming the right expectation ----------------------------------------------

Inject = Callable[[Frames], None]


@dataclass(frozen=True)
class Defect:
    suite: str
    inject: Inject
    rules: frozenset[str]  # the rules of the expectations that must fail, and only they


def defect(suite: str, inject: Inject, *rules: str) -> Defect:
    return Defect(suite, inject, frozenset(rules))


def _set(suite: str, column: str, value: object) -> Inject:
    """The first row's column set to the value."""

    def inject(data: Frames) -> None:
        frame = data[suite]
        frame[column] = frame[column].astype(object)
        frame.at[frame.index[0], column] = value

    return inject


def _add(suite: str, column: str, amount: object) -> Inject:
    """The first row's column raised by the amount."""

    def inject(data: Frames) -> None:
        frame = data[suite]
        frame[column] = frame[column].astype(object)
        frame.at[frame.index[0], column] += amount

    return inject


def _replace(suite: str, frame: Callable[[], pd.DataFrame]) -> Inject:
    def inject(data: Frames) -> None:
        data[suite] = frame()

    return inject


def _bronze_text(field: str, text: str | None) -> Inject:
    """A raw record added to bronze, valid but for the text of one field."""
    record = {
        "event_id": "x",
        "event_time": "2019-10-02 10:00:00 UTC",
        "event_type": "view",
        "product_id": "1",
        "price": "1.00",
        "user_id": "2",
    }
    return _bronze_value(json.dumps(record | {field: text}).encode())


def _bronze_value(value: bytes) -> Inject:
    def inject(data: Frames) -> None:
        data[S.BRONZE] = pd.concat([data[S.BRONZE], frames.raw_event_frame([value])], ignore_index=True)

    return inject


def _duplicate_row(suite: str) -> Inject:
    def inject(data: Frames) -> None:
        data[suite] = pd.concat([data[suite], data[suite].iloc[[0]]], ignore_index=True)

    return inject


def _move_event(moment: datetime) -> Inject:
    """The first event moved to another moment, its event_date with it."""

    def inject(data: Frames) -> None:
        _set(S.SILVER, "event_time", pd.Timestamp(moment))(data)
        _set(S.SILVER, "event_date", moment.date())(data)
        _set(S.SILVER, "event_time_date", moment.date())(data)

    return inject


def _keep_silver(fraction: float) -> Inject:
    def inject(data: Frames) -> None:
        data[S.SILVER] = data[S.SILVER].iloc[: int(len(data[S.SILVER]) * fraction)]

    return inject


_REFUND = json.dumps(
    {
        "event_id": "e",
        "event_time": "2019-10-02 10:00:00 UTC",
        "event_type": "refund",
        "product_id": "1",
        "price": "1",
        "user_id": "2",
    }
)


def _quarantined(value: str | None, reason: str) -> Inject:
    row = {
        "event_id": "q",
        "reason": reason,
        "reasons": np.array([reason], dtype=object),
        "raw_value": value,
        "source_file": "f.csv",
        "source_line": 2,
        "ingested_at": INGESTED_AT,
        "ingest_date": INGESTED_AT.date(),
    }
    return _replace(S.QUARANTINE, lambda: frames.quarantine_frame(pd.DataFrame([row])))


def _schema(table: Table, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> Inject:
    fields = [dict(field) for field in spark_schema(table).jsonValue()["fields"]]
    return _replace(S.schema_suite_name(table), lambda: frames.schema_frame(table, change(fields)))


def _price_as_text(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [field | {"type": "string"} if field["name"] == "price" else field for field in fields]


def _reconciled(inject_into_gold: Inject) -> Inject:
    """A defect of gold, and the reconciliation recomputed from the changed gold."""

    def inject(data: Frames) -> None:
        inject_into_gold(data)
        silver = data[S.SILVER].drop(columns="event_time_date")
        data[S.RECONCILIATION] = frames.reconciliation_frame(silver, data[S.GOLD_DAILY], data[S.GOLD_WINDOWS])

    return inject


def _dead_letter(reason: str) -> bytes:
    return json.dumps(
        {"source_file": "f.csv", "source_line": 3, "reason": reason, "detail": "", "raw": ""}
    ).encode()


_NOT_A_RECORD_BREAKS = ("not_an_event_record", "missing_event_id", "missing_event_time", "missing_event_type")
DEFECTS: dict[str, Defect] = {
    # silver: the rulebook's value rules, and the table's own guarantees
    "null product_id": defect(S.SILVER, _set(S.SILVER, "product_id", None), "missing_product_id"),
    "null user_id": defect(S.SILVER, _set(S.SILVER, "user_id", None), "missing_user_id"),
    "unknown event_type": defect(S.SILVER, _set(S.SILVER, "event_type", "refund"), "unknown_event_type"),
    "negative price": defect(S.SILVER, _set(S.SILVER, "price", Decimal("-1.00")), "price_out_of_range"),
    "price above the maximum": defect(
        S.SILVER, _set(S.SILVER, "price", Decimal("2000000.00")), "price_out_of_range"
    ),
    "negative user_id": defect(S.SILVER, _set(S.SILVER, "user_id", -5), "negative_id"),
    "event from the future": defect(
        S.SILVER, _move_event(NOW + timedelta(days=1)), "event_from_future", "within_dataset_range"
    ),
    "event before the data set": defect(
        S.SILVER, _move_event(datetime(2019, 9, 30, 23, 59, tzinfo=UTC)), "within_dataset_range"
    ),
    "event_date not the event's date": defect(
        S.SILVER, _set(S.SILVER, "event_date", date(2019, 10, 3)), "event_date_of_event_time"
    ),
    "duplicate event_id": defect(S.SILVER, _duplicate_row(S.SILVER), "unique"),
    "row count collapse": defect(S.SILVER, _keep_silver(0.1), "row_count_change"),
    # bronze: the rulebook's format rules on the raw text
    "bad timestamp format": defect(
        S.BRONZE, _bronze_text("event_time", "2019/10/02 10:00:00"), "bad_event_time"
    ),
    "impossible date": defect(
        S.BRONZE, _bronze_text("event_time", "2019-02-30 10:00:00 UTC"), "bad_event_time"
    ),
    "non-numeric price": defect(S.BRONZE, _bronze_text("price", "abc"), "bad_price"),
    "id not an integer": defect(S.BRONZE, _bronze_text("product_id", "58815.89"), "bad_product_id"),
    "id beyond 64 bits": defect(S.BRONZE, _bronze_text("user_id", "9999999999999999999"), "bad_user_id"),
    "missing product_id in bronze": defect(S.BRONZE, _bronze_text("product_id", None), "missing_product_id"),
    "not an event record": defect(
        S.BRONZE,
        _bronze_value(b"[1, 2]"),
        *_NOT_A_RECORD_BREAKS,
        "missing_product_id",
        "missing_price",
        "missing_user_id",
    ),
    # the quarantine, its share of the day and the producer's dead letters
    "reason the rulebook disagrees with": defect(
        S.QUARANTINE, _quarantined(_REFUND, "price_out_of_range"), "reason_agrees_with_rulebook"
    ),
    "unknown reason": defect(
        S.QUARANTINE, _quarantined(_REFUND, "mystery"), "reason_known", "reason_agrees_with_rulebook"
    ),
    "raw value lost": defect(S.QUARANTINE, _quarantined(None, "not_an_event_record"), "raw_value_kept"),
    "a quarantined record": defect(
        S.QUARANTINE_SHARE,
        _replace(S.QUARANTINE_SHARE, lambda: frames.quarantine_share_frame(999, ["unknown_event_type"])),
        "no_quarantine",
    ),
    "quarantine share too high": defect(
        S.QUARANTINE_SHARE,
        _replace(S.QUARANTINE_SHARE, lambda: frames.quarantine_share_frame(950, ["bad_price"] * 50)),
        "no_quarantine",
        "quarantine_share",
    ),
    "a dead letter": defect(
        S.DEAD_LETTERS,
        _replace(S.DEAD_LETTERS, lambda: frames.dead_letter_frame([_dead_letter("bad_price")])),
        "no_dead_letters",
    ),
    # gold, and its reconciliation with silver
    "gold revenue off by a cent": defect(
        S.RECONCILIATION,
        _reconciled(_add(S.GOLD_DAILY, "revenue", Decimal("0.01"))),
        "reconciliation_revenue_cents",
    ),
    "gold units not purchases": defect(
        S.GOLD_DAILY, _set(S.GOLD_DAILY, "units", 10**6), "purchases_are_units"
    ),
    "gold row twice": defect(S.GOLD_DAILY, _duplicate_row(S.GOLD_DAILY), "unique"),
    "negative views": defect(S.GOLD_DAILY, _set(S.GOLD_DAILY, "views", -1), "non_negative"),
    "window revenue above the day's": defect(
        S.RECONCILIATION,
        _reconciled(_set(S.GOLD_WINDOWS, "revenue", Decimal("999999.00"))),
        "reconciliation_windows",
    ),
    "more buyers than units": defect(
        S.GOLD_WINDOWS, _set(S.GOLD_WINDOWS, "distinct_buyers", 10**6), "buyers_within_units"
    ),
    "window ends before it starts": defect(
        S.GOLD_WINDOWS,
        _set(S.GOLD_WINDOWS, "window_end", pd.Timestamp("2000-01-01", tz="UTC")),
        "window_ordered",
    ),
    # the stream's bookkeeping
    "batch loses a record": defect(
        S.STREAM_BATCHES, _set(S.STREAM_BATCHES, "unaccounted", 1), "batch_conservation"
    ),
    # schemas
    "price stored as text": defect(
        S.schema_suite_name(SILVER_EVENTS), _schema(SILVER_EVENTS, _price_as_text), "schema"
    ),
    "column missing": defect(
        S.schema_suite_name(SILVER_EVENTS), _schema(SILVER_EVENTS, lambda fields: fields[1:]), "schema"
    ),
    "extra column": defect(
        S.schema_suite_name(SILVER_EVENTS),
        _schema(SILVER_EVENTS, lambda fields: [*fields, {"name": "x", "type": "long"}]),
        "schema",
    ),
    # the CLV snapshot
    "p_alive above 1": defect(S.CLV, _set(S.CLV, "p_alive", 1.5), "p_alive_probability"),
    "customer twice": defect(S.CLV, _duplicate_row(S.CLV), "unique"),
    "negative clv": defect(S.CLV, _set(S.CLV, "clv", -1.0), "non_negative"),
}


@pytest.mark.parametrize("name", DEFECTS)
def test_each_defect_fails_naming_the_right_expectation(
    context: AbstractDataContext, generated: Generated, name: str
) -> None:
    clean, params = generated
    data = {suite: frame.copy() for suite, frame in clean.items()}
    case = DEFECTS[name]
    case.inject(data)
    assert failures(context, data, params, case.suite) == {(case.suite, rule) for rule in case.rules}
