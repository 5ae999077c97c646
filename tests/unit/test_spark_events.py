"""The rulebook as Spark columns agrees with the Python interpreter, row for row and reason for reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from pyspark.sql import SparkSession

from salesinsights.rules import MISSING_EVENT_ID, NOT_AN_EVENT_RECORD, Stage, violations
from salesinsights.spark.events import parse_records
from salesinsights.spark.kafka_source import starting_offsets
from tests.spark_fixtures import csv_row, kafka_records, raw_value

GOOD = "2019-10-01 00:00:07 UTC,purchase,5881589,2151191071051219817,,lovely,13.48,429681830,49e8d843"
VARIANTS: list[dict[str, str | None]] = [
    {},
    {"event_type": "refund"},
    {"event_type": None},
    {"price": "-0.01"},
    {"price": "1000000.01"},
    {"price": "999999999999999"},
    {"price": "abc"},
    {"price": "1e3"},
    {"price": "2.625"},
    {"price": "0"},
    {"product_id": None},
    {"product_id": "58815.89"},
    {"product_id": "99999999999999999999"},
    {"product_id": "9999999999999999999"},
    {"user_id": "-4"},
    {"user_id": None, "event_type": "x"},
    {"category_id": "1.48e18"},
    {"category_id": None, "brand": None, "user_session": None},
    {"event_time": "2019-02-29 10:00:00 UTC"},
    {"event_time": "2019-10-01T00:00:07Z"},
    {"event_time": "2019-10-01 24:00:00 UTC"},
    {"event_time": "2999-01-01 00:00:00 UTC"},
    {"event_time": None},
    {"event_time": "1970-01-01 00:00:00 UTC", "event_type": "view", "price": "0.00"},
]


def test_spark_and_python_give_the_same_reasons_and_values(spark: SparkSession) -> None:
    rows = [csv_row(GOOD) | variant for variant in VARIANTS]
    records = kafka_records(spark, [raw_value(row, "f.csv", line) for line, row in enumerate(rows, start=2)])
    parsed = {row["source_line"]: row for row in parse_records(records).collect()}
    now = datetime.now(UTC)
    for line, row in enumerate(rows, start=2):
        expected = [violation.rule.reason for violation in violations(row, frozenset(Stage), now)]
        assert parsed[line]["reasons"] == expected, f"row {row}"
        if not expected:
            # Silver keeps two decimals, rounded half up as Spark's decimal cast does.
            price = Decimal(row["price"] or "0").quantize(Decimal("0.01"), ROUND_HALF_UP)
            assert parsed[line]["price"] == price
            assert parsed[line]["product_id"] == int(row["product_id"] or 0)


def test_records_that_are_not_events(spark: SparkSession) -> None:
    not_json = b"\x00garbage"
    no_id = json.dumps(csv_row(GOOD)).encode()
    parsed = parse_records(kafka_records(spark, [not_json, no_id])).orderBy("kafka_offset").collect()
    assert [row["reasons"] for row in parsed] == [[NOT_AN_EVENT_RECORD], [MISSING_EVENT_ID]]
    assert parsed[0]["raw_value"].endswith("garbage")


def test_a_new_checkpoint_starts_after_the_archived_offsets() -> None:
    assert json.loads(starting_offsets("events.raw", [2, 0, 1], {0: 41, 2: 7})) == {
        "events.raw": {"0": 42, "1": -2, "2": 8}
    }
