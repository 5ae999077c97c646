from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from salesinsights.rules import FORMAT_RULES, RULES, Check, FieldKind, Stage, parse_value, violations
from salesinsights.schema import CSV_COLUMNS, EVENT_FIELDS

NOW = datetime(2026, 1, 1, tzinfo=UTC)
VALID = {
    "event_time": "2019-10-01 00:00:07 UTC",
    "event_type": "purchase",
    "product_id": "5881589",
    "category_id": "2151191071051219817",
    "category_code": None,
    "brand": "lovely",
    "price": "13.48",
    "user_id": "429681830",
    "user_session": "49e8d843",
}


def reasons(row: dict[str, str | None], stages: frozenset[Stage] = frozenset(Stage)) -> list[str]:
    return [violation.rule.reason for violation in violations(row, stages, NOW)]


def test_valid_row_passes_every_rule() -> None:
    assert reasons(VALID) == []


def test_every_typed_field_has_a_format_rule_and_every_required_field_a_presence_rule() -> None:
    typed = {field.name for field in EVENT_FIELDS if field.kind is not FieldKind.TEXT}
    assert {rule.column for rule in FORMAT_RULES} == typed
    required = {field.name for field in EVENT_FIELDS if not field.nullable}
    assert {rule.column for rule in RULES if rule.check is Check.NOT_NULL} == required
    assert {rule.column for rule in RULES} <= set(CSV_COLUMNS)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"event_type": "refund"}, ["unknown_event_type"]),
        ({"price": "-0.01"}, ["price_out_of_range"]),
        ({"price": "1000000.01"}, ["price_out_of_range"]),
        ({"product_id": None}, ["missing_product_id"]),
        ({"user_id": None, "event_type": None}, ["missing_event_type", "missing_user_id"]),
        ({"user_id": "-5"}, ["negative_id"]),
        ({"event_time": "2026-01-01 00:06:00 UTC"}, ["event_from_future"]),
        ({"event_time": "2026-01-01 00:04:00 UTC"}, []),
        ({"event_time": "yesterday"}, ["bad_event_time"]),
        ({"category_id": "1.48e18"}, ["bad_category_id"]),
        ({"product_id": "99999999999999999999"}, ["bad_product_id"]),
        ({"price": "Infinity"}, ["bad_price"]),
        ({"price": "1e3"}, ["bad_price"]),
        ({"price": ".5"}, ["bad_price"]),
        ({"price": "1234567890123456"}, ["bad_price"]),
        # A field that does not parse is not checked further: one reason, not two.
        ({"price": "-x"}, ["bad_price"]),
    ],
)
def test_rule_reasons(change: dict[str, str | None], expected: list[str]) -> None:
    assert reasons(VALID | change) == expected


def test_format_stage_alone_ignores_semantic_faults() -> None:
    row = VALID | {"event_type": "refund", "price": "abc"}
    assert reasons(row, frozenset({Stage.FORMAT})) == ["bad_price"]


def test_parse_value_types() -> None:
    assert parse_value(FieldKind.DECIMAL, "2.6") == Decimal("2.6")
    assert parse_value(FieldKind.INTEGER, "1487580005134238553") == 1487580005134238553
    assert parse_value(FieldKind.TIMESTAMP, "2020-02-29 23:59:59 UTC") == datetime(
        2020, 2, 29, 23, 59, 59, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="not a valid time"):
        parse_value(FieldKind.TIMESTAMP, "2019-02-29 00:00:00 UTC")
