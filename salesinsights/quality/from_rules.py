"""The rulebook as expectations: each `Rule` of `salesinsights.rules.RULES` becomes the expectation that
accepts exactly the rows the streaming job accepts (compare `salesinsights.spark.events._rule_broken`).

Two layouts of a frame:
- RAW: the fields as the text the producer sent (`<field>_text`) beside their values parsed by the rulebook
  (`<field>`, null when the text is missing or does not parse), and for a text of the right form whether it
  converts (`<field>_converts`, null otherwise). Bronze and the quarantine look like this.
- TYPED: typed columns, as in silver and gold. A value that does not parse cannot be there (the table's type
  says so, and the schema suite checks the type), so PARSES has nothing to check.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from enum import Enum

from great_expectations import expectations as gxe
from great_expectations.expectations import Expectation

from salesinsights.quality.expect import Severity, expect
from salesinsights.rules import RULES, TEXT_PATTERNS, Check, Rule
from salesinsights.schema import EVENT_TIME_LIMIT, FIELD_BY_NAME

# Filled in at validation time: now + rules.FUTURE_TOLERANCE, as the streaming job's NOT_IN_FUTURE check.
LATEST_EVENT_TIME = "latest_event_time"


class Layout(Enum):
    RAW = "raw"
    TYPED = "typed"


def text_column(field: str) -> str:
    return f"{field}_text"


def converts_column(field: str) -> str:
    return f"{field}_converts"


def _number(value: Decimal | None) -> int | float | None:
    """A bound as JSON can hold it (the suites are stored as JSON)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _translate(rule: Rule, layout: Layout, severity: Severity) -> list[Expectation]:
    column = rule.column
    match rule.check:
        case Check.PARSES if layout is Layout.RAW:
            pattern = TEXT_PATTERNS[FIELD_BY_NAME[column].kind]
            # The form, as every interpreter matches it; then the conversion that a text of that form can
            # still fail (a 19-digit number above 2**63-1, 2019-02-30), as rules.parse_value does it.
            return [
                expect(
                    gxe.ExpectColumnValuesToMatchRegex,
                    severity,
                    rule.reason,
                    f"{rule.description}: its text has the form {pattern}",
                    column=text_column(column),
                    regex=f"^{pattern}$",
                ),
                expect(
                    gxe.ExpectColumnValuesToBeInSet,
                    severity,
                    rule.reason,
                    f"{rule.description}: a text of that form converts to a value",
                    column=converts_column(column),
                    value_set=[True],
                ),
            ]
        case Check.PARSES:
            return []
        case Check.NOT_NULL:
            # A present but unparsable text is not missing: it breaks PARSES instead.
            target = text_column(column) if layout is Layout.RAW else column
            return [
                expect(
                    gxe.ExpectColumnValuesToNotBeNull, severity, rule.reason, rule.description, column=target
                )
            ]
        case Check.IN_SET:
            return [
                expect(
                    gxe.ExpectColumnValuesToBeInSet,
                    severity,
                    rule.reason,
                    rule.description,
                    column=column,
                    value_set=list(rule.allowed),
                )
            ]
        case Check.BETWEEN:
            return [
                expect(
                    gxe.ExpectColumnValuesToBeBetween,
                    severity,
                    rule.reason,
                    rule.description,
                    column=column,
                    min_value=_number(rule.minimum),
                    max_value=_number(rule.maximum),
                )
            ]
        case Check.NOT_AHEAD_OF_STREAM if layout is Layout.RAW:
            return [
                expect(
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB,
                    severity,
                    rule.reason,
                    rule.description,
                    column_A=EVENT_TIME_LIMIT,
                    column_B=column,
                    or_equal=True,
                    ignore_row_if="either_value_is_missing",
                )
            ]
        case Check.NOT_AHEAD_OF_STREAM:
            # The limit travels in the raw record only (silver keeps no copy of it).
            return []
        case Check.NOT_IN_FUTURE:
            return [
                expect(
                    gxe.ExpectColumnValuesToBeBetween,
                    severity,
                    rule.reason,
                    rule.description,
                    column=column,
                    max_value={"$PARAMETER": LATEST_EVENT_TIME},
                )
            ]


def rule_expectations(layout: Layout, columns: Collection[str], severity: Severity) -> list[Expectation]:
    """The expectations of every rule about one of `columns` (the frame's event fields), in rulebook order."""
    return [
        expectation
        for rule in RULES
        if rule.column in columns
        for expectation in _translate(rule, layout, severity)
    ]
