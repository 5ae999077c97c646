"""The stream's event-time reference, as the producer keeps it, and each record's event_time_limit.

A file's reference is its median event time, when it holds enough events that one wrong clock cannot move
it; the stream's reference is the newest of the references of the files produced so far (kept in their
done records). A record may be at most the lead ahead of the later of the stream's reference and its own
file's: further ahead, the streaming job quarantines it (rules.Check.NOT_AHEAD_OF_STREAM), so that one event
from 2023 inside the 2019 replay never moves the watermarks or the dashboard's day. Event times compare as
text: the source's format, 2019-10-01 00:00:00 UTC, sorts in time order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from salesinsights.rules import parse_value
from salesinsights.schema import EVENT_TIME_FORMAT, FieldKind

# Fewer events than this give a file no reference of its own (a file of one far-future purchase).
MIN_EVENTS_FOR_REFERENCE = 100


def file_reference(event_times: Sequence[str]) -> str | None:
    """The median of a file's event times (texts that parse), or None for a file of too few."""
    if len(event_times) < MIN_EVENTS_FOR_REFERENCE:
        return None
    return sorted(event_times)[len(event_times) // 2]


def newest_reference(references: Iterable[str | None]) -> str | None:
    return max((reference for reference in references if reference), default=None)


def event_time_limit(stream_reference: str | None, file_reference: str | None, lead: timedelta) -> str | None:
    """The latest event time accepted for the file's records; None while nothing gives a reference."""
    reference = newest_reference((stream_reference, file_reference))
    if reference is None:
        return None
    moment = parse_value(FieldKind.TIMESTAMP, reference)
    assert isinstance(moment, datetime)
    return format(moment + lead, EVENT_TIME_FORMAT)
