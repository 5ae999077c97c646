"""The producer's event-time reference and the rule that quarantines events too far ahead of it."""

from __future__ import annotations

from datetime import timedelta

from salesinsights.producer.event_time import (
    MIN_EVENTS_FOR_REFERENCE,
    event_time_limit,
    file_reference,
    newest_reference,
)
from salesinsights.rules import Stage, violations
from salesinsights.schema import EVENT_TIME_LIMIT

DAY = timedelta(days=1)


def times(count: int) -> list[str]:
    return [f"2019-10-02 {minute // 60:02d}:{minute % 60:02d}:00 UTC" for minute in range(count)]


def test_a_file_is_accepted_whole_however_long_but_one_wrong_clock_cannot_move_its_reference() -> None:
    day = [*times(MIN_EVENTS_FOR_REFERENCE), "2023-06-01 12:00:00 UTC"]
    assert file_reference(day, DAY) == "2019-10-02 01:39:00 UTC"  # the day's last event, not 2023
    month = [f"2019-10-{day:02d} {hour:02d}:00:00 UTC" for day in range(1, 32) for hour in range(0, 24, 6)]
    assert file_reference(month, DAY) == "2019-10-31 18:00:00 UTC"  # a month's last event: all of it fits
    assert file_reference(["2023-06-01 12:00:00 UTC"], DAY) is None


def test_the_limit_is_the_later_reference_plus_the_lead() -> None:
    assert event_time_limit(None, None, DAY) is None
    assert event_time_limit("2019-10-05 00:00:00 UTC", None, DAY) == "2019-10-06 00:00:00 UTC"
    # A later file (a replay of a later month) moves the reference with it; an earlier one does not.
    assert (
        event_time_limit("2019-10-05 00:00:00 UTC", "2020-02-01 00:00:00 UTC", DAY)
        == "2020-02-02 00:00:00 UTC"
    )
    assert (
        event_time_limit("2019-10-05 00:00:00 UTC", "2019-10-01 00:00:00 UTC", DAY)
        == "2019-10-06 00:00:00 UTC"
    )
    assert (
        newest_reference([None, "2019-10-02 00:00:00 UTC", "2019-10-01 00:00:00 UTC"])
        == "2019-10-02 00:00:00 UTC"
    )


def test_an_event_past_the_limit_is_quarantined_with_its_own_reason() -> None:
    row: dict[str, str | None] = {
        "event_time": "2023-06-01 12:00:00 UTC",
        "event_type": "purchase",
        "product_id": "1",
        "category_id": None,
        "category_code": None,
        "brand": None,
        "price": "2.50",
        "user_id": "7",
        "user_session": "s",
        EVENT_TIME_LIMIT: "2019-10-06 00:00:00 UTC",
    }
    [found] = violations(row, frozenset(Stage))
    assert found.rule.reason == "event_time_ahead_of_stream" and "2019-10-06" in found.detail
    assert violations(row | {EVENT_TIME_LIMIT: None}, frozenset(Stage)) == []
    assert violations(row | {"event_time": "2019-10-05 23:59:59 UTC"}, frozenset(Stage)) == []
    # A limit that does not parse is no limit, as in Spark (try_to_timestamp gives null).
    assert violations(row | {EVENT_TIME_LIMIT: "2019-02-30 00:00:00 UTC"}, frozenset(Stage)) == []
