"""The stream's event-time reference, as the producer keeps it, and each record's event_time_limit.

A file's reference is where its event times end: from its median upwards, as long as each time follows the
one before by less than the lead, so that a file of any length (a day, a month) is accepted whole while one
wrong clock far ahead of the rest is not (a file needs enough events for this, or it has no reference of
its own). The stream's reference is the newest of the references of the files produced so far (kept in
their done records). A record may be at most the lead ahead of the later of the stream's reference and its
own file's: further ahead, the streaming job quarantines it (rules.Check.NOT_AHEAD_OF_STREAM), so that one
event from 2023 inside the 2019 replay never moves the watermarks or the dashboard's day. Event times compare
as text: the source's format, 2019-10-01 00:00:00 UTC, sorts in time order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from salesinsights.schema import EVENT_TIME_FORMAT

# Fewer events than this give a file no reference of its own (a file of one far-future purchase).
MIN_EVENTS_FOR_REFERENCE = 100


def _moment(text: str) -> datetime:
    return datetime.strptime(text, EVENT_TIME_FORMAT)


def file_reference(event_times: Sequence[str], lead: timedelta) -> str | None:
    """The end of the file's run of event times from its median up (no gap of more than `lead`), or None
    for a file of too few events."""
    if len(event_times) < MIN_EVENTS_FOR_REFERENCE:
        return None
    ordered = sorted(event_times)
    end = ordered[len(ordered) // 2]
    for text in ordered[len(ordered) // 2 + 1 :]:
        if _moment(text) - _moment(end) > lead:
            break
        end = text
    return end


def newest_reference(references: Iterable[str | None]) -> str | None:
    return max((reference for reference in references if reference), default=None)


def event_time_limit(stream_reference: str | None, file_reference: str | None, lead: timedelta) -> str | None:
    """The latest event time accepted for the file's records; None while nothing gives a reference."""
    reference = newest_reference((stream_reference, file_reference))
    if reference is None:
        return None
    return format(_moment(reference) + lead, EVENT_TIME_FORMAT)
