"""Every Great Expectations suite of the archive, built in code: the row rules from the rulebook
(`from_rules`), the table-level checks here. `expectations/` holds them rendered as JSON (`export`).

A suite validates one frame of one event day (see `day` for how each frame is read): a table's rows, its
schema (one row per column), or a frame derived across tables (the reconciliation, the quarantine share).
Values that depend on the day or the moment are suite parameters, filled in at validation time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import great_expectations as gx
from great_expectations import expectations as gxe
from great_expectations.expectations import Expectation

from salesinsights.catalog import (
    AUDIT_STREAM_BATCHES,
    BRONZE_EVENTS,
    CART_MEASURE_NAMES,
    CART_TABLES,
    DAILY_MEASURES,
    GOLD_CART_ABANDONMENT,
    GOLD_CART_ABANDONMENT_DAILY,
    GOLD_CUSTOMER_LIFETIME_VALUE,
    GOLD_PRODUCT_SALES,
    GOLD_PRODUCT_SALES_DAILY,
    SILVER_EVENTS,
    SILVER_QUARANTINE,
    Table,
)
from salesinsights.quality.expect import CRITICAL, INFO, WARNING, expect
from salesinsights.quality.from_rules import Layout, rule_expectations
from salesinsights.rules import MISSING_EVENT_ID, NOT_AN_EVENT_RECORD, QUARANTINE_REASONS
from salesinsights.schema import CSV_COLUMNS, EVENT_ID, SOURCE_FILE, SOURCE_LINE
from salesinsights.spark.tables import spark_schema

# Suite parameters (besides from_rules.LATEST_EVENT_TIME).
MIN_ROWS, MAX_ROWS = "min_rows", "max_rows"  # from the previous day's row count and ROW_COUNT_CHANGE
DATASET_START, DATASET_END = "dataset_start", "dataset_end"  # the configured source's time range

# A day may hold a quarter of the previous day's rows, or four times as many (the real data's busiest day,
# Black Friday, has about three times an ordinary one's), before it is worth a look.
ROW_COUNT_CHANGE = (0.25, 4.0)
# Above this share of a day's records in quarantine, the source has changed or broken: hold the day back.
QUARANTINE_SHARE_MAX = 0.01

# The daily measures as the reconciliation compares them: money in whole cents.
GOLD_MEASURES = tuple("revenue_cents" if measure == "revenue" else measure for measure in DAILY_MEASURES)


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    table: str  # the table (or, for a derived frame, the table it guards) that results are filed under
    expectations: Callable[[], list[Expectation]]
    # Columns that identify a row: a failed expectation's results name its first offending rows by them.
    row_ids: tuple[str, ...] = ()


def _row_count_change() -> Expectation:
    low, high = ROW_COUNT_CHANGE
    return expect(
        gxe.ExpectTableRowCountToBeBetween,
        WARNING,
        "row_count_change",
        f"the day's row count lies within {low:g}x to {high:g}x of the previous day's",
        min_value={"$PARAMETER": MIN_ROWS},
        max_value={"$PARAMETER": MAX_ROWS},
    )


def _non_negative(*columns: str) -> list[Expectation]:
    return [
        expect(
            gxe.ExpectColumnValuesToBeBetween,
            CRITICAL,
            "non_negative",
            f"{column} >= 0",
            column=column,
            min_value=0,
        )
        for column in columns
    ]


def _unique(*columns: str) -> Expectation:
    description = f"one row per {', '.join(columns)}"
    if len(columns) == 1:
        return expect(gxe.ExpectColumnValuesToBeUnique, CRITICAL, "unique", description, column=columns[0])
    return expect(
        gxe.ExpectCompoundColumnsToBeUnique, CRITICAL, "unique", description, column_list=list(columns)
    )


def _bronze() -> list[Expectation]:
    # Bronze keeps whatever arrived; the stream quarantines the rows that break a rule. So a broken rule
    # here is a warning (with a count per rule), and the quarantine share is what gates the day.
    return [
        expect(
            gxe.ExpectColumnValuesToBeInSet,
            WARNING,
            NOT_AN_EVENT_RECORD,
            "the record's value is a JSON object of event fields",
            column="is_event_record",
            value_set=[True],
        ),
        expect(
            gxe.ExpectColumnValuesToNotBeNull, WARNING, MISSING_EVENT_ID, "event_id is set", column=EVENT_ID
        ),
        *rule_expectations(Layout.RAW, CSV_COLUMNS, WARNING),
    ]


def _silver() -> list[Expectation]:
    return [
        expect(
            gxe.ExpectColumnValuesToNotBeNull, CRITICAL, MISSING_EVENT_ID, "event_id is set", column=EVENT_ID
        ),
        _unique(EVENT_ID),
        *rule_expectations(Layout.TYPED, CSV_COLUMNS, CRITICAL),
        expect(
            gxe.ExpectColumnPairValuesToBeEqual,
            CRITICAL,
            "event_date_of_event_time",
            "event_date is the UTC date of event_time",
            column_A="event_date",
            column_B="event_time_date",
        ),
        expect(
            gxe.ExpectColumnValuesToBeBetween,
            WARNING,
            "within_dataset_range",
            "event_time lies within the source's time range",
            column="event_time",
            min_value={"$PARAMETER": DATASET_START},
            max_value={"$PARAMETER": DATASET_END},
            strict_max=True,
        ),
        _row_count_change(),
    ]


def _quarantine() -> list[Expectation]:
    return [
        expect(
            gxe.ExpectColumnValuesToNotBeNull, CRITICAL, "reason_recorded", "reason is set", column="reason"
        ),
        expect(
            gxe.ExpectColumnValuesToBeInSet,
            CRITICAL,
            "reason_known",
            "reason is a rulebook reason or a fault of the Kafka record",
            column="reason",
            value_set=list(QUARANTINE_REASONS),
        ),
        expect(
            gxe.ExpectColumnPairValuesToBeEqual,
            CRITICAL,
            "reason_first_of_reasons",
            "reason is the first of reasons",
            column_A="reason",
            column_B="first_of_reasons",
        ),
        expect(
            gxe.ExpectColumnValuesToNotBeNull,
            CRITICAL,
            "raw_value_kept",
            "the raw record is kept, so nothing is lost",
            column="raw_value",
        ),
        # Spark's verdict against the Python interpreter's on the same raw record: the two must not drift.
        expect(
            gxe.ExpectColumnPairValuesToBeEqual,
            WARNING,
            "reason_agrees_with_rulebook",
            "reason is what the rulebook's Python interpreter finds in the raw record",
            column_A="reason",
            column_B="rulebook_reason",
        ),
    ]


def _quarantine_share() -> list[Expectation]:
    # The frame: one row per reason, its records and their share of the day's records.
    return [
        expect(
            gxe.ExpectColumnSumToBeBetween,
            CRITICAL,
            "quarantine_share",
            f"at most {QUARANTINE_SHARE_MAX:.0%} of the day's records are quarantined",
            column="share",
            min_value=0,
            max_value=QUARANTINE_SHARE_MAX,
        ),
        expect(
            gxe.ExpectColumnValuesToBeBetween,
            WARNING,
            "no_quarantine",
            "no record of the day was quarantined (the unexpected rows list each reason with its count)",
            column="rows",
            max_value=0,
        ),
    ]


def _dead_letters() -> list[Expectation]:
    # The frame: one row per reason of the producer's dead letters written on the day.
    return [
        expect(
            gxe.ExpectColumnValuesToBeBetween,
            WARNING,
            "no_dead_letters",
            "the producer dead-lettered no line or file of the day "
            "(the unexpected rows list each reason with its count)",
            column="rows",
            max_value=0,
        )
    ]


def _gold_daily() -> list[Expectation]:
    return [
        expect(
            gxe.ExpectColumnValuesToNotBeNull,
            CRITICAL,
            "event_date_set",
            "event_date is set",
            column="event_date",
        ),
        *rule_expectations(Layout.TYPED, ["product_id"], CRITICAL),
        _unique("event_date", "product_id"),
        *_non_negative(*DAILY_MEASURES),
        expect(
            gxe.ExpectColumnPairValuesToBeEqual,
            CRITICAL,
            "purchases_are_units",
            "purchases = units (a purchase row is one unit)",
            column_A="purchases",
            column_B="units",
        ),
        _row_count_change(),
    ]


def _gold_windows() -> list[Expectation]:
    return [
        *rule_expectations(Layout.TYPED, ["product_id"], CRITICAL),
        _unique("product_id", "window_start"),
        *_non_negative("revenue"),
        expect(
            gxe.ExpectColumnValuesToBeBetween,
            CRITICAL,
            "units_positive",
            "units >= 1",
            column="units",
            min_value=1,
        ),
        expect(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB,
            CRITICAL,
            "buyers_within_units",
            "distinct_buyers <= units",
            column_A="units",
            column_B="distinct_buyers",
            or_equal=True,
        ),
        expect(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB,
            CRITICAL,
            "window_ordered",
            "window_end > window_start",
            column_A="window_end",
            column_B="window_start",
        ),
    ]


def _reconciliation() -> list[Expectation]:
    equal = [
        expect(
            gxe.ExpectColumnPairValuesToBeEqual,
            CRITICAL,
            f"reconciliation_{measure}",
            f"gold.product_sales_daily {measure} per product = the same day's silver events",
            column_A=f"gold_{measure}",
            column_B=f"silver_{measure}",
        )
        for measure in GOLD_MEASURES
    ]
    # The windows leave out purchases later than the watermark, never add any.
    windows = expect(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB,
        CRITICAL,
        "reconciliation_windows",
        "gold.product_sales revenue per product and day <= gold.product_sales_daily revenue",
        column_A="gold_revenue_cents",
        column_B="windows_revenue_cents",
        or_equal=True,
    )
    return [*equal, windows]


def _stream_batches() -> list[Expectation]:
    return [
        expect(
            gxe.ExpectColumnValuesToBeBetween,
            CRITICAL,
            "batch_conservation",
            "kafka_records = silver_new + replays_collapsed + quarantined in every micro-batch",
            column="unaccounted",
            min_value=0,
            max_value=0,
        ),
        # Late events are valid (kept in silver); the sum only makes their number visible.
        expect(
            gxe.ExpectColumnSumToBeBetween,
            INFO,
            "late_events",
            "events older than the watermark (kept in silver, left out of closed windows)",
            column="late_events",
            min_value=0,
        ),
    ]


def _clv() -> list[Expectation]:
    scores = [
        expect(
            gxe.ExpectColumnValuesToBeBetween,
            CRITICAL,
            "rfm_score_range",
            f"{score} in 1..5",
            column=score,
            min_value=1,
            max_value=5,
        )
        for score in ("r_score", "f_score", "m_score")
    ]
    return [
        expect(
            gxe.ExpectTableRowCountToBeBetween, CRITICAL, "not_empty", "at least one customer", min_value=1
        ),
        *rule_expectations(Layout.TYPED, ["user_id"], CRITICAL),
        _unique("user_id"),
        expect(
            gxe.ExpectColumnValuesToNotBeNull,
            CRITICAL,
            "as_of_date_set",
            "as_of_date is set",
            column="as_of_date",
        ),
        expect(
            gxe.ExpectColumnValuesToBeBetween,
            CRITICAL,
            "p_alive_probability",
            "p_alive in [0, 1]",
            column="p_alive",
            min_value=0,
            max_value=1,
        ),
        *_non_negative("clv", "expected_purchases", "total_revenue", "frequency", "occasions"),
        *scores,
        expect(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB,
            CRITICAL,
            "units_cover_occasions",
            "units >= occasions",
            column_A="units",
            column_B="occasions",
            or_equal=True,
        ),
        expect(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB,
            CRITICAL,
            "recency_within_age",
            "recency <= age",
            column_A="age",
            column_B="recency",
            or_equal=True,
        ),
        expect(
            gxe.ExpectColumnValuesToNotBeNull,
            CRITICAL,
            "rfm_segment_set",
            "rfm_segment is set",
            column="rfm_segment",
        ),
    ]


def schema_column_types(table: Table) -> list[str]:
    """`name: type` per column, in the Delta schema's JSON form (Delta's and Spark's are the same)."""
    return [
        f"{field['name']}: {type_text(field['type'])}" for field in spark_schema(table).jsonValue()["fields"]
    ]


def type_text(delta_type: object) -> str:
    return delta_type if isinstance(delta_type, str) else json.dumps(delta_type, sort_keys=True)


def _schema(table: Table) -> Callable[[], list[Expectation]]:
    def expectations() -> list[Expectation]:
        return [
            expect(
                gxe.ExpectColumnValuesToBeInSet,
                CRITICAL,
                "schema",
                f"{table.qualified_name} has exactly its defined columns and types "
                "(a missing column shows as `name: (missing)`)",
                column="column_type",
                value_set=schema_column_types(table),
            )
        ]

    return expectations


def _cart_abandonment() -> list[Expectation]:
    return [
        _unique("record_id"),
        expect(
            gxe.ExpectColumnValuesToBeInSet,
            CRITICAL,
            "record_kind",
            "kind is abandoned or recovered",
            column="kind",
            value_set=["abandoned", "recovered"],
        ),
        expect(
            gxe.ExpectColumnValuesToBeBetween,
            CRITICAL,
            "units_positive",
            "units >= 1 (an abandoned cart holds a unit; a recovered line too)",
            column="units",
            min_value=1,
        ),
        *_non_negative("value"),
        expect(
            gxe.ExpectColumnValuesToNotBeNull,
            CRITICAL,
            "session_set",
            "user_session is set",
            column="user_session",
        ),
        expect(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB,
            CRITICAL,
            "after_the_first_cart_event",
            "event_time >= first_cart_time",
            column_A="event_time",
            column_B="first_cart_time",
            or_equal=True,
        ),
    ]


def _cart_abandonment_daily() -> list[Expectation]:
    return [
        _unique("event_date"),
        *_non_negative(*CART_MEASURE_NAMES),
        # Sessions abandoned on a day mostly began on it; a share above one means the rules or the data broke.
        expect(
            gxe.ExpectColumnValuesToBeBetween,
            WARNING,
            "rate_is_a_share",
            "abandonment_rate in [0, 1]",
            column="abandonment_rate",
            min_value=0,
            max_value=1,
        ),
    ]


SCHEMA_TABLES: tuple[Table, ...] = (
    BRONZE_EVENTS,
    SILVER_EVENTS,
    SILVER_QUARANTINE,
    GOLD_PRODUCT_SALES_DAILY,
    GOLD_PRODUCT_SALES,
    AUDIT_STREAM_BATCHES,
    GOLD_CUSTOMER_LIFETIME_VALUE,
    *CART_TABLES,
)


def schema_suite_name(table: Table) -> str:
    return f"{table.qualified_name}.schema"


BRONZE = BRONZE_EVENTS.qualified_name
SILVER = SILVER_EVENTS.qualified_name
QUARANTINE = SILVER_QUARANTINE.qualified_name
QUARANTINE_SHARE = "silver.quarantine_share"
DEAD_LETTERS = "kafka.dead_letters"
GOLD_DAILY = GOLD_PRODUCT_SALES_DAILY.qualified_name
GOLD_WINDOWS = GOLD_PRODUCT_SALES.qualified_name
RECONCILIATION = "gold.reconciliation"
STREAM_BATCHES = AUDIT_STREAM_BATCHES.qualified_name
CLV = GOLD_CUSTOMER_LIFETIME_VALUE.qualified_name
CARTS = GOLD_CART_ABANDONMENT.qualified_name
CARTS_DAILY = GOLD_CART_ABANDONMENT_DAILY.qualified_name
_SOURCE_LINE = (SOURCE_FILE, SOURCE_LINE)

SUITES: tuple[SuiteSpec, ...] = (
    SuiteSpec(BRONZE, BRONZE, _bronze, _SOURCE_LINE),
    SuiteSpec(SILVER, SILVER, _silver, _SOURCE_LINE),
    SuiteSpec(QUARANTINE, QUARANTINE, _quarantine, _SOURCE_LINE),
    SuiteSpec(QUARANTINE_SHARE, QUARANTINE, _quarantine_share, ("reason",)),
    SuiteSpec(DEAD_LETTERS, DEAD_LETTERS, _dead_letters, ("reason",)),
    SuiteSpec(GOLD_DAILY, GOLD_DAILY, _gold_daily, ("event_date", "product_id")),
    SuiteSpec(GOLD_WINDOWS, GOLD_WINDOWS, _gold_windows, ("product_id", "window_start")),
    SuiteSpec(RECONCILIATION, GOLD_DAILY, _reconciliation, ("product_id",)),
    SuiteSpec(STREAM_BATCHES, STREAM_BATCHES, _stream_batches, ("query_id", "batch_id")),
    SuiteSpec(CLV, CLV, _clv, ("user_id",)),
    SuiteSpec(CARTS, CARTS, _cart_abandonment, ("record_id",)),
    SuiteSpec(CARTS_DAILY, CARTS_DAILY, _cart_abandonment_daily, ("event_date",)),
    *(SuiteSpec(schema_suite_name(table), table.qualified_name, _schema(table)) for table in SCHEMA_TABLES),
)
SUITE_BY_NAME: dict[str, SuiteSpec] = {spec.name: spec for spec in SUITES}


def build_suite(name: str) -> gx.ExpectationSuite:
    spec = SUITE_BY_NAME[name]
    return gx.ExpectationSuite(
        name=spec.name,
        expectations=spec.expectations(),
        meta={"table": spec.table, "generated_by": __name__},
    )
