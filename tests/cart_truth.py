"""The abandoned-cart records the README's rules give for a set of landed files, computed here with pandas and
a plain walk through each session's events in time order: written from the rules, not from the streaming
query's code, so that the two can disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd

from salesinsights.verify.ground_truth import valid_events_from_files

CENT = Decimal("0.01")
# (kind, session, episode, ((product, units, value), ...), first cart, last event, event time), times in ms.
Record = tuple[str, str, int, tuple[tuple[int, int, Decimal], ...], int, int, int]


def landed_events(paths: list[Path]) -> pd.DataFrame:
    """The valid events of the files with a session, once each, in time order (then by source line)."""
    events, _ = valid_events_from_files(paths)
    events = events[events["user_session"].notna()].drop_duplicates("event_id").copy()
    times = pd.to_datetime(events["event_time"], format="%Y-%m-%d %H:%M:%S UTC")
    events["ms"] = times.astype("int64") // 10**6
    events["price"] = [Decimal(text).quantize(CENT, ROUND_HALF_UP) for text in events["price"]]
    events["product_id"] = events["product_id"].astype("int64")
    return events.sort_values(["ms", "source_file", "source_line"], kind="stable")


class _Session:
    """One session's walk: its cart (product -> [units, price]) and what its last abandonment put at stake."""

    def __init__(
        self, name: str, gap_ms: int, recovery_ms: int, records: set[Record], starts: set[tuple[str, int]]
    ) -> None:
        self.name, self.gap_ms, self.recovery_ms = name, gap_ms, recovery_ms
        self.records, self.starts = records, starts
        self.reset()

    def reset(self) -> None:
        self.cart: dict[int, list] = {}
        self.at_stake: dict[int, tuple[int, Decimal]] = {}
        self.started: int | None = None
        self.last = 0
        self.episode, self.idle = 0, False

    def pass_time(self, now: int) -> None:
        if self.started is None:
            return
        if not self.idle and now >= self.last + self.gap_ms:
            if not any(units for units, _ in self.cart.values()):
                return self.reset()
            self.episode += 1
            self.idle = True
            self.at_stake = {p: (u, price * u) for p, (u, price) in self.cart.items() if u}
            lines = tuple((p, u, v) for p, (u, v) in sorted(self.at_stake.items()))
            end = self.last + self.gap_ms
            self.records.add(("abandoned", self.name, self.episode, lines, self.started, self.last, end))
        if self.idle and now >= self.last + self.recovery_ms:
            self.reset()

    def take(self, kind: str, product: int, price: Decimal, ms: int) -> None:
        self.pass_time(ms)
        if self.started is None:
            if kind != "cart":
                return
            self.started = self.last = ms
            self.starts.add((self.name, ms))
        self.idle = False
        self.last = max(self.last, ms)
        units = self.cart.get(product, [0])[0]
        if kind == "cart":
            self.cart[product] = [units + 1, price]
        elif kind == "remove_from_cart" and units:
            self.cart[product][0] = units - 1
        elif kind == "purchase":
            self.cart.pop(product, None)
            if product in self.at_stake:
                bought_units, value = self.at_stake.pop(product)
                line = ((product, bought_units, value),)
                self.records.add(("recovered", self.name, self.episode, line, self.started, self.last, ms))


@dataclass(frozen=True)
class CartTruth:
    records: set[Record]  # every abandonment and recovery
    starts: set[tuple[str, int]]  # (session, first cart event) of every start of a session's state
    still_open: set[str]  # the sessions open at the end

    def daily(self) -> dict[str, tuple[int, int, int, Decimal, int, int, Decimal]]:
        """Per day: carting sessions by their start, those of them abandoned, units and value at stake,
        recovered sessions, units and value by when they happened."""
        days: dict[str, list] = {}

        def day(ms: int) -> list:
            key = pd.Timestamp(ms, unit="ms").strftime("%Y-%m-%d")
            return days.setdefault(key, [set(), set(), 0, Decimal(0), set(), 0, Decimal(0)])

        for session, first in self.starts:
            day(first)[0].add(session)
        for kind, session, _, lines, started, _, ms in self.records:
            figures, at = day(ms), 1 if kind == "abandoned" else 4
            (day(started) if kind == "abandoned" else figures)[at].add(session)
            figures[at + 1] += sum(units for _, units, _ in lines)
            figures[at + 2] += sum(value for _, _, value in lines)
        return {
            key: (len(f[0]), len(f[1]), f[2], f[3], len(f[4]), f[5], f[6]) for key, f in sorted(days.items())
        }


def expected_records(
    events: pd.DataFrame, gap: timedelta, recovery: timedelta, watermark_ms: int
) -> CartTruth:
    """What the rules make of the events up to the stream's event time `watermark_ms`; the sessions still
    open then are those idle for less than the gap, or abandoned within the recovery window."""
    gap_ms, recovery_ms = int(gap.total_seconds() * 1000), int(recovery.total_seconds() * 1000)
    records: set[Record] = set()
    starts: set[tuple[str, int]] = set()
    still_open: set[str] = set()
    for name, group in events.groupby("user_session", sort=False):
        session = _Session(str(name), gap_ms, recovery_ms, records, starts)
        for row in group.itertuples():
            session.take(row.event_type, row.product_id, row.price, row.ms)
        session.pass_time(watermark_ms)
        if session.started is not None:
            still_open.add(session.name)
    return CartTruth(records, starts, still_open)


def table_records(rows: pd.DataFrame) -> set[Record]:
    """gold.cart_abandonment's rows in the same shape."""

    def ms(value: pd.Timestamp) -> int:
        return int(pd.Timestamp(value).value // 10**6)

    return {
        (
            row.kind,
            row.user_session,
            int(row.episode),
            tuple(
                (int(line["product_id"]), int(line["units"]), Decimal(line["value"])) for line in row.lines
            ),
            ms(row.first_cart_time),
            ms(row.last_event_time),
            ms(row.event_time),
        )
        for row in rows.itertuples()
    }
