"""A shopping session's cart, event by event: the abandoned-cart rules (the README's contract) as plain
Python, with no engine in sight, so that the streaming query (spark/cart_sessions.py) and the tests run the
same code.

A session's state starts with its first `cart` event (views, removals and purchases before it change no
cart) and holds, per product, the units added minus the units removed, never below zero; a purchase of a
product empties its line. A line's price is that of the product's latest `cart` event. Times are epoch
milliseconds, the unit of Spark's timers.

The session's deadline is its last event plus the idle gap while it is open, and its last event plus the
recovery window once abandoned. When the stream's event time passes the deadline (an event of the session
later than it, or the watermark), an open session with a unit in its cart is abandoned (a record), an open
session with an empty cart closes and an abandoned one closes; a closed session leaves the state. An event
after an abandonment opens the session again, and a purchase of a product of the abandoned cart then is a
recovery (a record per product). A cart, removal or purchase applied once is never applied again, and an
event from before the state began changes nothing (a replayed file); views are not remembered (a replayed
view moves nothing while the session is open, and comes behind the watermark once it is idle).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

RecordKind = Literal["carted", "abandoned", "recovered"]
CART, REMOVE, PURCHASE = "cart", "remove_from_cart", "purchase"


@dataclass(frozen=True)
class CartEvent:
    """One valid event of the session, with what orders events of the same instant: its source line."""

    event_id: str
    event_time: int
    event_type: str
    product_id: int
    price: Decimal
    user_id: int
    brand: str | None
    source_file: str
    source_line: int

    @property
    def order(self) -> tuple[int, str, int]:
        return self.event_time, self.source_file, self.source_line


@dataclass(frozen=True)
class CartLine:
    product_id: int
    brand: str | None
    units: int
    price: Decimal

    @property
    def value(self) -> Decimal:
        return self.units * self.price


@dataclass(frozen=True)
class CartRecord:
    """A session's first cart event since its state began (carted: the denominator of the abandonment
    rate), an abandonment (the cart's lines when the session went idle) or a recovery (one abandoned line,
    bought after the session came back). `event_time` is when it happened: the first cart event, the
    deadline passed, or the purchase."""

    kind: RecordKind
    user_session: str
    user_id: int
    episode: int
    lines: tuple[CartLine, ...]
    first_cart_time: int
    last_event_time: int
    event_time: int

    @property
    def record_id(self) -> str:
        """Stable across replays and restarts: the session, when its state began, the abandonment it belongs
        to, and for a recovery the product."""
        product = str(self.lines[0].product_id) if self.kind == "recovered" else ""
        text = f"{self.user_session}|{self.first_cart_time}|{self.episode}|{self.kind}|{product}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def units(self) -> int:
        return sum(line.units for line in self.lines)

    @property
    def value(self) -> Decimal:
        return sum((line.value for line in self.lines), Decimal(0))


@dataclass(frozen=True)
class CartRules:
    idle_gap_ms: int
    recovery_window_ms: int


@dataclass
class SessionCart:
    user_session: str
    user_id: int
    first_cart_time: int
    last_event_time: int
    # The order (time, source file, line) of the cart event the state began with: an event before it (a
    # replay of what preceded the first cart event) changes nothing, as it did the first time.
    start_order: tuple[int, str, int] = (0, "", 0)
    lines: dict[int, CartLine] = field(default_factory=dict)
    # The carts, removals and purchases applied (event id: event time): no event is applied twice.
    applied: dict[str, int] = field(default_factory=dict)
    # Abandonments so far; the lines of the latest one not yet bought again, while it is idle or back.
    episode: int = 0
    abandoned: dict[int, CartLine] = field(default_factory=dict)
    idle: bool = False

    @property
    def units(self) -> int:
        return sum(line.units for line in self.lines.values())

    def forget_applied_before(self, watermark: int) -> None:
        """Forgets the events older than the stream's watermark: from the next batch on, any copy of them
        comes behind the watermark, and Spark drops it before it reaches the session. So the state holds the
        ids of the last few minutes' events, not of the session's whole life."""
        self.applied = {event: time for event, time in self.applied.items() if time >= watermark}

    def deadline(self, rules: CartRules) -> int:
        wait = rules.recovery_window_ms if self.idle else rules.idle_gap_ms
        return self.last_event_time + wait

    def to_json(self) -> str:
        return json.dumps(
            {
                "user_session": self.user_session,
                "user_id": self.user_id,
                "first_cart_time": self.first_cart_time,
                "last_event_time": self.last_event_time,
                "start_order": list(self.start_order),
                "lines": [_line_json(line) for line in self.lines.values()],
                "applied": sorted(self.applied.items()),
                "episode": self.episode,
                "abandoned": [_line_json(line) for line in self.abandoned.values()],
                "idle": self.idle,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> SessionCart:
        data = json.loads(text)
        return cls(
            user_session=data["user_session"],
            user_id=data["user_id"],
            first_cart_time=data["first_cart_time"],
            last_event_time=data["last_event_time"],
            start_order=tuple(data["start_order"]),
            lines={line.product_id: line for line in map(_line_from_json, data["lines"])},
            applied=dict(data["applied"]),
            episode=data["episode"],
            abandoned={line.product_id: line for line in map(_line_from_json, data["abandoned"])},
            idle=data["idle"],
        )


def _line_json(line: CartLine) -> list[object]:
    return [line.product_id, line.brand, line.units, str(line.price)]


def _line_from_json(item: list[object]) -> CartLine:
    product_id, brand, units, price = item
    assert isinstance(product_id, int) and isinstance(units, int)
    return CartLine(product_id, brand if isinstance(brand, str) else None, units, Decimal(str(price)))


def advance(
    cart: SessionCart | None, now: int, rules: CartRules
) -> tuple[SessionCart | None, list[CartRecord]]:
    """The session as the stream's event time `now` finds it: abandoned, closed, or as it was."""
    records: list[CartRecord] = []
    while cart is not None and cart.deadline(rules) <= now:
        if cart.idle or not cart.units:
            return None, records
        cart.episode += 1
        cart.abandoned = {product: line for product, line in cart.lines.items() if line.units}
        cart.idle = True
        records.append(
            CartRecord(
                "abandoned",
                cart.user_session,
                cart.user_id,
                cart.episode,
                tuple(cart.abandoned[product] for product in sorted(cart.abandoned)),
                cart.first_cart_time,
                cart.last_event_time,
                cart.last_event_time + rules.idle_gap_ms,
            )
        )
    return cart, records


def apply(
    cart: SessionCart | None, event: CartEvent, user_session: str, rules: CartRules
) -> tuple[SessionCart | None, list[CartRecord]]:
    """The session after one more event (events of a batch go in their `order`)."""
    if cart is not None and (event.event_id in cart.applied or event.order < cart.start_order):
        return cart, []
    cart, records = advance(cart, event.event_time, rules)
    if cart is None:
        if event.event_type != CART:
            return None, records
        cart = SessionCart(user_session, event.user_id, event.event_time, event.event_time, event.order)
        records.append(
            CartRecord(
                "carted",
                user_session,
                event.user_id,
                0,
                (),
                event.event_time,
                event.event_time,
                event.event_time,
            )
        )
    cart.idle = False
    cart.last_event_time = max(cart.last_event_time, event.event_time)
    if event.event_type == "view":
        return cart, records
    cart.applied[event.event_id] = event.event_time
    line = cart.lines.get(event.product_id)
    if event.event_type == CART:
        units = line.units + 1 if line else 1
        cart.lines[event.product_id] = CartLine(event.product_id, event.brand, units, event.price)
    elif event.event_type == REMOVE and line is not None:
        if line.units > 1:
            cart.lines[event.product_id] = replace(line, units=line.units - 1)
        else:
            del cart.lines[event.product_id]
    elif event.event_type == PURCHASE:
        cart.lines.pop(event.product_id, None)
        if (bought := cart.abandoned.pop(event.product_id, None)) is not None:
            records.append(
                CartRecord(
                    "recovered",
                    user_session,
                    cart.user_id,
                    cart.episode,
                    (bought,),
                    cart.first_cart_time,
                    cart.last_event_time,
                    event.event_time,
                )
            )
    return cart, records


def apply_all(
    cart: SessionCart | None, events: Iterable[CartEvent], user_session: str, rules: CartRules
) -> tuple[SessionCart | None, list[CartRecord]]:
    """The session after a batch of its events, taken in event-time order (then by source line)."""
    records: list[CartRecord] = []
    for event in sorted(events, key=lambda e: e.order):
        cart, more = apply(cart, event, user_session, rules)
        records.extend(more)
    return cart, records
