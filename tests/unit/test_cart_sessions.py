"""The abandoned-cart rules (carts/sessions.py) on crafted sessions: adds, removals and purchases in every
order, a partial purchase, a return after the gap and a recovery, a second abandonment, duplicates, an event
older than the session's last, a removal from an empty cart, and the end of an abandoned session's state; and
the streaming processor's input rows as the rules' events."""

from __future__ import annotations

import itertools
from decimal import Decimal

from pyspark.sql import Row

from salesinsights.carts.sessions import (
    CartEvent,
    CartRecord,
    CartRules,
    SessionCart,
    advance,
    apply_all,
)
from salesinsights.spark.cart_sessions import cart_events, has_cart_event

MINUTE = 60_000
RULES = CartRules(idle_gap_ms=30 * MINUTE, recovery_window_ms=24 * 60 * MINUTE)
SESSION = "s-1"
_lines = itertools.count(1)


def event(minute: float, kind: str, product: int = 1, price: str = "2.50", event_id: str = "") -> CartEvent:
    line = next(_lines)
    return CartEvent(
        event_id=event_id or f"e{line}",
        event_time=int(minute * MINUTE),
        event_type=kind,
        product_id=product,
        price=Decimal(price),
        user_id=7,
        brand=f"brand-{product}",
        source_file="f.csv",
        source_line=line,
    )


def run(*events: CartEvent, until: float | None = None) -> tuple[SessionCart | None, list[CartRecord]]:
    """The session after its events, as one batch, and after the stream's event time reaches `until`; its
    abandonments and recoveries (the carted records have a test of their own)."""
    cart, records = apply_all(None, events, SESSION, RULES)
    if until is not None:
        cart, more = advance(cart, int(until * MINUTE), RULES)
        records += more
    return cart, [record for record in records if record.kind != "carted"]


def lines(record: CartRecord) -> list[tuple[int, int, Decimal]]:
    return [(line.product_id, line.units, line.value) for line in record.lines]


def test_an_idle_cart_is_abandoned_once_the_gap_has_passed_with_its_lines_at_the_latest_cart_price() -> None:
    events = (
        event(0, "cart", 1, "2.00"),
        event(1, "cart", 1, "2.50"),
        event(2, "cart", 2, "10.00"),
        event(3, "remove_from_cart", 2),
        event(4, "cart", 3, "1.00"),
        event(5, "view", 9),
    )
    cart, records = run(*events, until=34.99)
    assert records == [] and cart is not None
    cart, records = advance(cart, 35 * MINUTE, RULES)
    (record,) = records
    assert record.kind == "abandoned" and record.episode == 1 and record.user_id == 7
    assert lines(record) == [(1, 2, Decimal("5.00")), (3, 1, Decimal("1.00"))]
    assert (record.units, record.value) == (3, Decimal("6.00"))
    assert (record.first_cart_time, record.last_event_time, record.event_time) == (0, 5 * MINUTE, 35 * MINUTE)
    assert cart is not None and cart.idle


def test_a_removal_from_an_empty_cart_changes_nothing_and_units_never_go_below_zero() -> None:
    assert run(event(0, "remove_from_cart"), event(1, "purchase"), event(2, "view"), until=999) == (None, [])
    _, records = run(
        event(0, "cart"),
        event(1, "remove_from_cart"),
        event(2, "remove_from_cart"),
        event(3, "cart"),
        until=99,
    )
    assert [lines(record) for record in records] == [[(1, 1, Decimal("2.50"))]]


def test_a_purchase_empties_its_line_and_a_partial_purchase_leaves_the_rest_abandoned() -> None:
    _, records = run(
        event(0, "cart", 1), event(1, "cart", 1), event(2, "cart", 2), event(3, "purchase", 1), until=99
    )
    assert [lines(record) for record in records] == [[(2, 1, Decimal("2.50"))]]


def test_a_session_that_bought_everything_closes_without_a_record_and_leaves_the_state() -> None:
    for order in itertools.permutations(["cart", "purchase", "remove_from_cart"]):
        events = [event(minute, kind) for minute, kind in enumerate(order)]
        cart, records = run(*events, until=99)
        if order.index("cart") < order.index("purchase"):
            assert (cart, records) == (None, []), order
        else:  # a purchase before the unit was added leaves it in the cart, unless removed after
            removed_after = order.index("remove_from_cart") > order.index("cart")
            assert (cart is None, len(records)) == (removed_after, 0 if removed_after else 1), order


def test_a_return_after_the_gap_opens_the_session_again_and_a_purchase_of_an_abandoned_line_recovers_it() -> (
    None
):
    cart, records = run(
        event(0, "cart", 1, "4.00"),
        event(1, "cart", 2, "3.00"),
        event(50, "view", 1),  # after the gap: the cart was abandoned at minute 31
        event(52, "purchase", 1, "4.00"),
        event(53, "cart", 5, "1.00"),
        until=53 + 30,
    )
    abandoned, recovered, again = records
    assert (abandoned.kind, abandoned.event_time, abandoned.value) == (
        "abandoned",
        31 * MINUTE,
        Decimal("7.00"),
    )
    assert (recovered.kind, recovered.episode, lines(recovered)) == (
        "recovered",
        1,
        [(1, 1, Decimal("4.00"))],
    )
    assert recovered.event_time == 52 * MINUTE
    assert (again.kind, again.episode, lines(again)) == (
        "abandoned",
        2,
        [(2, 1, Decimal("3.00")), (5, 1, Decimal("1.00"))],
    )
    assert len({record.record_id for record in records}) == 3
    assert cart is not None
    assert advance(cart, (53 + 24 * 60) * MINUTE, RULES) == (None, [])  # the recovery window has passed


def test_a_line_is_recovered_once_and_only_from_the_latest_abandonment() -> None:
    _, records = run(
        event(0, "cart", 1),
        event(40, "purchase", 1),
        event(41, "purchase", 1),
        until=41,
    )
    assert [record.kind for record in records] == ["abandoned", "recovered"]
    # Product 1 left in the first abandoned cart, removed, and only product 2 in the second: buying 1 then
    # recovers nothing.
    _, records = run(
        event(0, "cart", 1),
        event(40, "remove_from_cart", 1),
        event(41, "cart", 2),
        event(80, "purchase", 1),
        event(81, "purchase", 2),
        until=81,
    )
    assert [(r.kind, r.episode, lines(r)) for r in records] == [
        ("abandoned", 1, [(1, 1, Decimal("2.50"))]),
        ("abandoned", 2, [(2, 1, Decimal("2.50"))]),
        ("recovered", 2, [(2, 1, Decimal("2.50"))]),
    ]


def test_duplicated_events_change_nothing() -> None:
    first = (
        event(0, "cart", 1, event_id="a"),
        event(1, "cart", 1, event_id="b"),
        event(2, "remove_from_cart", 1, event_id="c"),
    )
    cart, _ = run(*first)
    cart, records = apply_all(cart, first, SESSION, RULES)  # the same file, replayed
    assert records == [] and cart is not None
    _, records = advance(cart, 99 * MINUTE, RULES)
    assert [lines(record) for record in records] == [[(1, 1, Decimal("2.50"))]]


def test_a_replay_of_events_from_before_the_first_cart_event_changes_nothing() -> None:
    batch = (event(0, "purchase", 1), event(1, "cart", 1), event(2, "cart", 2))
    cart, _ = apply_all(None, batch, SESSION, RULES)
    cart, records = apply_all(cart, batch, SESSION, RULES)  # the same file again, within the lateness
    assert records == [] and cart is not None
    _, records = advance(cart, 99 * MINUTE, RULES)
    assert [lines(record) for record in records] == [[(1, 1, Decimal("2.50")), (2, 1, Decimal("2.50"))]]


def test_a_batch_is_taken_in_event_time_order_and_a_later_batch_with_an_older_event_still_counts() -> None:
    cart, _ = apply_all(
        None, [event(2, "remove_from_cart"), event(1, "cart"), event(0, "cart")], SESSION, RULES
    )
    assert cart is not None and cart.lines[1].units == 1
    cart, _ = apply_all(cart, [event(1.5, "cart", 2)], SESSION, RULES)  # older than the last event
    assert cart is not None and cart.last_event_time == 2 * MINUTE and set(cart.lines) == {1, 2}


def test_after_its_state_has_gone_a_session_starts_afresh_with_records_of_new_ids() -> None:
    day = 24 * 60
    _, records = run(event(0, "cart"), event(day + 60, "cart"), until=2 * day + 60)
    first, second = records
    assert (first.first_cart_time, second.first_cart_time) == (0, (day + 60) * MINUTE)
    assert first.episode == second.episode == 1 and first.record_id != second.record_id


def test_each_start_of_a_sessions_state_is_recorded_once_as_carted() -> None:
    day = 24 * 60
    events = [
        event(0, "view"),
        event(1, "cart"),
        event(2, "cart"),
        event(40, "cart"),
        event(day + 90, "cart"),
    ]
    cart, records = apply_all(None, events, SESSION, RULES)
    carted = [record for record in records if record.kind == "carted"]
    assert [(record.event_time, record.units, record.episode) for record in carted] == [
        (1 * MINUTE, 0, 0),
        ((day + 90) * MINUTE, 0, 0),
    ]
    assert len({record.record_id for record in records}) == len(records)
    _, again = apply_all(cart, events[-1:], SESSION, RULES)  # the last event, replayed
    assert again == []


def test_the_state_survives_its_json() -> None:
    cart, _ = run(event(0, "cart", 1, "2.10"), event(1, "cart", 2), event(2, "remove_from_cart", 2), until=40)
    assert cart is not None and cart.idle and cart.abandoned and cart.applied
    assert SessionCart.from_json(cart.to_json()) == cart


def test_the_state_forgets_the_events_behind_the_watermark_and_still_applies_nothing_twice() -> None:
    """Ids of events older than the watermark leave the state (Spark drops their copies from the next batch
    on); the newer ones stay, so a copy of a recent event in a later batch changes nothing."""
    events = [event(0, "cart", 1), event(5, "cart", 2), event(12, "remove_from_cart", 1)]
    cart, _ = apply_all(None, events, SESSION, RULES)
    assert cart is not None
    cart.forget_applied_before(10 * MINUTE)
    assert set(cart.applied) == {events[2].event_id}
    again, records = apply_all(SessionCart.from_json(cart.to_json()), events[2:], SESSION, RULES)
    assert records == [] and again is not None
    assert {line.product_id: line.units for line in again.lines.values()} == {2: 1}


def test_the_processors_input_rows_become_the_rules_events() -> None:
    """As Spark hands a session's rows to the processor (Rows of the query's columns, a brand missing): the
    events in their order; a session's rows without a cart event are told apart."""
    as_spark = Row(
        "user_session", "event_ms", "event_id", "event_type", "product_id", "price", "user_id", "brand",
        "source_file", "source_line",
    )  # fmt: skip
    rows = [
        as_spark(SESSION, MINUTE * n, f"e{n}", kind, 5, Decimal(price), 7, brand, "f.csv", n)
        for n, (kind, price, brand) in enumerate(
            [("view", "1.00", "b"), ("cart", "2.50", None), ("purchase", "2.50", None)]
        )
    ]
    events = cart_events(rows)
    assert [(event.event_type, event.brand, event.price, event.event_time) for event in events] == [
        ("view", "b", Decimal("1.00"), 0),
        ("cart", None, Decimal("2.50"), MINUTE),
        ("purchase", None, Decimal("2.50"), 2 * MINUTE),
    ]
    assert [event.order for event in events] == [(n * MINUTE, "f.csv", n) for n in range(3)]
    assert has_cart_event(rows) and not has_cart_event([rows[0], rows[2]])
