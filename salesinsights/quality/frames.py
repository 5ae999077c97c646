"""The frames the suites validate, derived from the tables' rows with pandas (no I/O here).

Raw records are decoded and parsed by the rulebook's Python interpreter (`rules.parse_value`,
`rules.violations`), the same rules the producer applies and the streaming job applies in Spark.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from salesinsights.catalog import COUNTED_EVENT_TYPES, Table
from salesinsights.quality.from_rules import converts_column, text_column
from salesinsights.quality.suites import GOLD_MEASURES, schema_column_types, type_text
from salesinsights.rules import (
    MISSING_EVENT_ID,
    NOT_AN_EVENT_RECORD,
    QUARANTINE_REASONS,
    TEXT_PATTERNS,
    Stage,
    parse_value,
    violations,
)
from salesinsights.schema import EVENT_FIELDS, EVENT_ID, EVENT_TIME_LIMIT, SOURCE_FILE, SOURCE_LINE, FieldKind

_FORMS = {kind: re.compile(pattern) for kind, pattern in TEXT_PATTERNS.items()}
MISSING_COLUMN = "(missing)"


def decode_record(value: bytes | str | None) -> dict[str, Any] | None:
    """The raw record in a Kafka value (a JSON object of the producer's fields), or None if it is not one."""
    if value is None:
        return None
    try:
        record = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None


def field_texts(record: dict[str, Any]) -> dict[str, str | None]:
    """The event fields' texts (and the record's event-time limit); empty means missing, as in the source
    files and the streaming job."""
    texts: dict[str, str | None] = {}
    for name in (*(field.name for field in EVENT_FIELDS), EVENT_TIME_LIMIT):
        value = record.get(name)
        texts[name] = None if value is None or value == "" else str(value)
    return texts


def _parsed(kind: FieldKind, text: str | None) -> tuple[object, bool | None]:
    """(the value or None, whether a text of the right form converts; None when there is no such text)."""
    if text is None:
        return None, None
    if kind is FieldKind.TEXT:
        return text, None
    if not _FORMS[kind].fullmatch(text):
        return None, None
    try:
        return parse_value(kind, text), True
    except ValueError:
        return None, False


def raw_event_frame(values: Iterable[bytes | str | None]) -> pd.DataFrame:
    """Raw records (bronze's values, the quarantine's raw_value) in the RAW layout of `from_rules`."""
    rows: list[dict[str, object]] = []
    for value in values:
        record = decode_record(value)
        row: dict[str, object] = {
            "is_event_record": record is not None,
            EVENT_ID: (record or {}).get(EVENT_ID),
            SOURCE_FILE: (record or {}).get(SOURCE_FILE),
            SOURCE_LINE: (record or {}).get(SOURCE_LINE),
        }
        texts = field_texts(record or {})
        for field in EVENT_FIELDS:
            typed, converts = _parsed(field.kind, texts[field.name])
            row[text_column(field.name)] = texts[field.name]
            row[field.name] = typed
            if field.kind is not FieldKind.TEXT:
                row[converts_column(field.name)] = converts
        row[EVENT_TIME_LIMIT] = _parsed(FieldKind.TIMESTAMP, texts[EVENT_TIME_LIMIT])[0]
        rows.append(row)
    frame = pd.DataFrame(rows, columns=_raw_columns())
    for column in ("event_time", EVENT_TIME_LIMIT):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _raw_columns() -> list[str]:
    columns = ["is_event_record", EVENT_ID, SOURCE_FILE, SOURCE_LINE]
    for field in EVENT_FIELDS:
        columns += [text_column(field.name), field.name]
        if field.kind is not FieldKind.TEXT:
            columns.append(converts_column(field.name))
    return [*columns, EVENT_TIME_LIMIT]


def silver_frame(silver: pd.DataFrame) -> pd.DataFrame:
    """Silver rows with the UTC date of each event_time beside event_date."""
    return silver.assign(event_time_date=pd.to_datetime(silver["event_time"], utc=True).dt.date)


def rulebook_reason(value: str | None, checked_at: datetime) -> str | None:
    """The first reason the Python interpreter finds to quarantine a raw record, as the streaming job ranks
    them (faults of the record itself first), judged at the moment the stream judged it."""
    record = decode_record(value)
    if record is None:
        return NOT_AN_EVENT_RECORD
    if record.get(EVENT_ID) is None:
        return MISSING_EVENT_ID
    found = violations(field_texts(record), frozenset(Stage), now=checked_at)
    return found[0].rule.reason if found else None


def quarantine_frame(quarantine: pd.DataFrame) -> pd.DataFrame:
    first = [
        reasons[0] if reasons is not None and len(reasons) else None for reasons in quarantine["reasons"]
    ]
    # `ingested_at` is the start of the micro-batch, a moment before Spark's current_timestamp().
    verdicts = [
        rulebook_reason(value, moment.to_pydatetime())
        for value, moment in zip(
            quarantine["raw_value"], pd.to_datetime(quarantine["ingested_at"], utc=True), strict=True
        )
    ]
    return quarantine.assign(first_of_reasons=first, rulebook_reason=verdicts)


def quarantine_share_frame(silver_rows: int, reasons: Iterable[str | None]) -> pd.DataFrame:
    """One row per quarantine reason (every known one, and any other found): the day's quarantined records
    of that reason and their share of all the day's records (silver's and the quarantine's)."""
    counts = Counter(reason or "" for reason in reasons)
    total = silver_rows + sum(counts.values())
    names = [*QUARANTINE_REASONS, *sorted(set(counts) - set(QUARANTINE_REASONS))]
    return pd.DataFrame(
        {
            "reason": names,
            "rows": [counts[name] for name in names],
            "share": [counts[name] / total if total else 0.0 for name in names],
        }
    )


def cents(amounts: pd.Series) -> pd.Series:
    """Money as whole cents (int64), so that sums compare exactly."""
    return amounts.map(
        lambda amount: 0 if amount is None else int((Decimal(amount) * 100).to_integral_value(ROUND_HALF_UP))
    ).astype("int64")


def _silver_measures(silver: pd.DataFrame) -> pd.DataFrame:
    kinds = {"units": "purchase", **COUNTED_EVENT_TYPES}
    measures = pd.DataFrame({"product_id": silver["product_id"].astype("int64")})
    purchase = silver["event_type"] == "purchase"
    measures["revenue_cents"] = cents(silver["price"]).where(purchase, 0)
    for measure, event_type in kinds.items():
        measures[measure] = (silver["event_type"] == event_type).astype("int64")
    return measures.groupby("product_id").sum()


def reconciliation_frame(silver: pd.DataFrame, daily: pd.DataFrame, windows: pd.DataFrame) -> pd.DataFrame:
    """One row per product of the day: gold.product_sales_daily's measures beside the same measures computed
    from the day's silver events, and the day's window revenue."""
    gold = daily.assign(revenue_cents=cents(daily["revenue"])).astype({"product_id": "int64"})
    gold = gold.groupby("product_id")[list(GOLD_MEASURES)].sum()
    window_cents = (
        windows.assign(windows_revenue_cents=cents(windows["revenue"]))
        .astype({"product_id": "int64"})
        .groupby("product_id")[["windows_revenue_cents"]]
        .sum()
    )
    joined = (
        gold.add_prefix("gold_")
        .join(_silver_measures(silver).add_prefix("silver_"), how="outer")
        .join(window_cents, how="outer")
        .fillna(0)
        .astype("int64")
    )
    return joined.reset_index()


def stream_batches_frame(batches: pd.DataFrame) -> pd.DataFrame:
    unaccounted = batches["kafka_records"] - (
        batches["silver_new"] + batches["replays_collapsed"] + batches["quarantined"]
    )
    return batches.assign(unaccounted=unaccounted)


def schema_frame(table: Table, actual_fields: Sequence[dict[str, Any]] | None) -> pd.DataFrame:
    """One row per column, `name: type` as the table has it, `name: (missing)` for a defined column it
    lacks. None: the table does not exist (every column is missing)."""
    actual = {field["name"]: type_text(field["type"]) for field in actual_fields or ()}
    defined = [entry.split(": ", 1)[0] for entry in schema_column_types(table)]
    rows = [f"{name}: {actual.get(name, MISSING_COLUMN)}" for name in defined]
    rows += [f"{name}: {kind}" for name, kind in actual.items() if name not in defined]
    return pd.DataFrame({"column_type": rows})


def dead_letter_frame(letters: Iterable[bytes]) -> pd.DataFrame:
    """The producer's dead letters (JSON with source_file, source_line, reason, detail, raw), counted by
    reason."""
    counts = Counter(json.loads(letter)["reason"] for letter in letters)
    return pd.DataFrame(
        {"reason": sorted(counts), "rows": [counts[reason] for reason in sorted(counts)]}, dtype=object
    )
