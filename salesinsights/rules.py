"""The row rulebook: every check an event must pass, defined once.

The producer applies the FORMAT rules (a row it cannot read as an event goes to the dead-letter topic); the
streaming job applies all of them (a failing row goes to quarantine with the rule's reason); the Great
Expectations suites are generated from the same list. Each interpreter only translates a `Check`; none of
them adds rules of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum

from salesinsights.schema import EVENT_FIELDS, EVENT_TIME_FORMAT, EVENT_TIME_LIMIT, EVENT_TYPES, FieldKind


class Stage(Enum):
    FORMAT = "format"  # the text does not parse as the field's type
    VALUE = "value"  # parsed, but not a valid event


class Check(Enum):
    PARSES = "parses"
    NOT_NULL = "not_null"
    IN_SET = "in_set"
    BETWEEN = "between"
    NOT_IN_FUTURE = "not_in_future"
    # Not later than the record's event_time_limit: the stream's event time plus the allowed lead.
    NOT_AHEAD_OF_STREAM = "not_ahead_of_stream"


@dataclass(frozen=True)
class Rule:
    reason: str
    column: str
    check: Check
    stage: Stage
    allowed: tuple[str, ...] = ()
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    @property
    def description(self) -> str:
        match self.check:
            case Check.PARSES:
                return f"{self.column} must parse as {_kind(self.column).value}"
            case Check.NOT_NULL:
                return f"{self.column} is required"
            case Check.IN_SET:
                return f"{self.column} must be one of {', '.join(self.allowed)}"
            case Check.BETWEEN if self.maximum is None:
                return f"{self.column} must be at least {self.minimum}"
            case Check.BETWEEN:
                return f"{self.column} must lie in [{self.minimum}, {self.maximum}]"
            case Check.NOT_IN_FUTURE:
                return f"{self.column} must not be later than now + {FUTURE_TOLERANCE}"
            case Check.NOT_AHEAD_OF_STREAM:
                return f"{self.column} must not pass the stream's event time + its lead ({EVENT_TIME_LIMIT})"


PRICE_MIN = Decimal("0")
PRICE_MAX = Decimal("1000000")
# Clocks of the shop's servers and ours may disagree a little; later than this is an event from the future.
FUTURE_TOLERANCE = timedelta(minutes=5)
INT64_MAX = 2**63 - 1


def _kind(column: str) -> FieldKind:
    return next(field.kind for field in EVENT_FIELDS if field.name == column)


def _format_rules() -> tuple[Rule, ...]:
    return tuple(
        Rule(f"bad_{field.name}", field.name, Check.PARSES, Stage.FORMAT)
        for field in EVENT_FIELDS
        if field.kind is not FieldKind.TEXT
    )


def _required_rules() -> tuple[Rule, ...]:
    return tuple(
        Rule(f"missing_{field.name}", field.name, Check.NOT_NULL, Stage.VALUE)
        for field in EVENT_FIELDS
        if not field.nullable
    )


RULES: tuple[Rule, ...] = (
    *_format_rules(),
    *_required_rules(),
    Rule("unknown_event_type", "event_type", Check.IN_SET, Stage.VALUE, allowed=EVENT_TYPES),
    Rule("price_out_of_range", "price", Check.BETWEEN, Stage.VALUE, minimum=PRICE_MIN, maximum=PRICE_MAX),
    Rule("negative_id", "product_id", Check.BETWEEN, Stage.VALUE, minimum=Decimal(0)),
    Rule("negative_id", "user_id", Check.BETWEEN, Stage.VALUE, minimum=Decimal(0)),
    Rule("event_from_future", "event_time", Check.NOT_IN_FUTURE, Stage.VALUE),
    # A plausible but wrong time (a 2023 purchase inside the 2019 replay) must not move the watermark.
    Rule("event_time_ahead_of_stream", "event_time", Check.NOT_AHEAD_OF_STREAM, Stage.VALUE),
)

FORMAT_RULES = tuple(rule for rule in RULES if rule.stage is Stage.FORMAT)
# Faults of the Kafka record itself, before any field rule can apply.
NOT_AN_EVENT_RECORD = "not_an_event_record"
MISSING_EVENT_ID = "missing_event_id"
# Every reason a record can be quarantined for, each once.
QUARANTINE_REASONS = (*dict.fromkeys(rule.reason for rule in RULES), NOT_AN_EVENT_RECORD, MISSING_EVENT_ID)

# The text forms each typed field must have, shared by every interpreter (Python here, Spark's rlike, the
# expectations' regex) so that all of them accept exactly the same values. A match may still fail to convert
# (a 19-digit number above 2**63-1, 2019-02-30), which every interpreter also checks.
TEXT_PATTERNS: dict[FieldKind, str] = {
    FieldKind.INTEGER: r"-?\d{1,19}",
    FieldKind.DECIMAL: r"-?\d{1,15}(\.\d{0,10})?",
    FieldKind.TIMESTAMP: r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) UTC",
}
_INTEGER, _DECIMAL, _EVENT_TIME = (
    re.compile(TEXT_PATTERNS[kind]) for kind in (FieldKind.INTEGER, FieldKind.DECIMAL, FieldKind.TIMESTAMP)
)


def parse_value(kind: FieldKind, text: str) -> object:
    """The typed value of a field's text; raises ValueError when it does not parse."""
    match kind:
        case FieldKind.TEXT:
            return text
        case FieldKind.INTEGER:
            if not _INTEGER.fullmatch(text) or abs(int(text)) > INT64_MAX:
                raise ValueError(f"not a 64-bit integer: {text[:40]!r}")
            return int(text)
        case FieldKind.DECIMAL:
            if not _DECIMAL.fullmatch(text):
                raise ValueError(f"not a decimal number: {text[:40]!r}")
            return Decimal(text)
        case FieldKind.TIMESTAMP:
            match = _EVENT_TIME.fullmatch(text)
            if not match:
                raise ValueError(f"not a time like {EVENT_TIME_FORMAT!r}: {text[:40]!r}")
            try:
                year, month, day, hour, minute, second = (int(part) for part in match.groups())
                return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            except ValueError as error:
                raise ValueError(f"not a valid time ({error}): {text[:40]!r}") from error


@dataclass(frozen=True)
class Violation:
    rule: Rule
    detail: str


def violations(
    row: Mapping[str, str | None], stages: frozenset[Stage], now: datetime | None = None
) -> list[Violation]:
    """Every rule of the given stages that the row (field name → text, None when empty; with the record's
    event_time_limit, if any) breaks, in rulebook order. A field that fails to parse is checked no further."""
    now = now or datetime.now(UTC)
    limit = _limit(row.get(EVENT_TIME_LIMIT))
    found: list[Violation] = []
    typed: dict[str, object] = {}
    unparsable: set[str] = set()
    for field in EVENT_FIELDS:
        text = row.get(field.name)
        if text is None:
            continue
        try:
            typed[field.name] = parse_value(field.kind, text)
        except ValueError as error:
            unparsable.add(field.name)
            rule = next(r for r in FORMAT_RULES if r.column == field.name)
            if Stage.FORMAT in stages:
                found.append(Violation(rule, str(error)))
    if Stage.VALUE not in stages:
        return found
    for rule in RULES:
        if rule.stage is not Stage.VALUE or rule.column in unparsable:
            continue
        detail = _value_violation(rule, typed.get(rule.column), now, limit)
        if detail:
            found.append(Violation(rule, detail))
    return found


def _limit(text: str | None) -> object:
    """The record's event-time limit; None when it is absent or does not parse (as Spark's try_to_timestamp
    makes it null): the rule then does not apply."""
    try:
        return parse_value(FieldKind.TIMESTAMP, text) if text else None
    except ValueError:
        return None


def _value_violation(rule: Rule, value: object, now: datetime, limit: object) -> str | None:
    if rule.check is Check.NOT_NULL:
        return f"{rule.column} is empty" if value is None else None
    if value is None:
        return None
    match rule.check:
        case Check.IN_SET if value not in rule.allowed:
            return f"{rule.column}={str(value)[:40]!r} is not one of {', '.join(rule.allowed)}"
        case Check.BETWEEN:
            number = Decimal(value) if isinstance(value, int) else value
            assert isinstance(number, Decimal)
            if (rule.minimum is not None and number < rule.minimum) or (
                rule.maximum is not None and number > rule.maximum
            ):
                return f"{rule.column}={value} outside [{rule.minimum}, {rule.maximum}]"
        case Check.NOT_IN_FUTURE:
            assert isinstance(value, datetime)
            if value > now + FUTURE_TOLERANCE:
                return f"{rule.column}={value:%Y-%m-%d %H:%M:%S} is in the future"
        case Check.NOT_AHEAD_OF_STREAM if isinstance(limit, datetime):
            assert isinstance(value, datetime)
            if value > limit:
                return f"{rule.column}={value:%Y-%m-%d %H:%M:%S} is past the stream's limit, {limit:%Y-%m-%d}"
    return None
