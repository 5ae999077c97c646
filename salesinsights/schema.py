"""The event schema, defined once for the producer, the streaming job, the expectations and the tests."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class FieldKind(Enum):
    TIMESTAMP = "timestamp"
    INTEGER = "integer"
    DECIMAL = "decimal"
    TEXT = "text"


@dataclass(frozen=True)
class EventField:
    name: str
    kind: FieldKind
    nullable: bool
    description: str


EVENT_FIELDS: tuple[EventField, ...] = (
    EventField("event_time", FieldKind.TIMESTAMP, False, "When the event happened, UTC."),
    EventField("event_type", FieldKind.TEXT, False, "view, cart, remove_from_cart or purchase."),
    EventField("product_id", FieldKind.INTEGER, False, "Product identifier."),
    EventField("category_id", FieldKind.INTEGER, True, "Product category identifier."),
    EventField("category_code", FieldKind.TEXT, True, "Category taxonomy, when known (mostly missing)."),
    EventField("brand", FieldKind.TEXT, True, "Brand name in lower case, when known."),
    EventField("price", FieldKind.DECIMAL, False, "Unit price; each purchase row is one unit."),
    EventField("user_id", FieldKind.INTEGER, False, "Permanent customer identifier."),
    EventField("user_session", FieldKind.TEXT, True, "Temporary session identifier."),
)

FIELD_BY_NAME: dict[str, EventField] = {field.name: field for field in EVENT_FIELDS}

# The source files' header: the original data set's column order.
CSV_COLUMNS: tuple[str, ...] = tuple(field.name for field in EVENT_FIELDS)
CSV_HEADER = ",".join(CSV_COLUMNS)

EVENT_TYPES: tuple[str, ...] = ("view", "cart", "remove_from_cart", "purchase")

# As in the original files: 2019-10-01 00:00:00 UTC.
EVENT_TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC"

PRICE_PRECISION = 12
PRICE_SCALE = 2

# Fields that the producer adds to every raw record, beside the source columns.
EVENT_ID = "event_id"
SOURCE_FILE = "source_file"
SOURCE_LINE = "source_line"
# The latest event time the stream accepts for the record (its event-time reference plus the allowed lead),
# as the producer knew it; absent before the stream has a reference.
EVENT_TIME_LIMIT = "event_time_limit"
RAW_RECORD_FIELDS: tuple[str, ...] = (EVENT_ID, SOURCE_FILE, SOURCE_LINE, *CSV_COLUMNS, EVENT_TIME_LIMIT)
