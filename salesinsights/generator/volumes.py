"""How many events each day gets: the month's real volume spread by weekday, holidays and a little noise."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from salesinsights.generator import profile
from salesinsights.generator.sampling import stream

_MEAN_MONTHLY_EVENTS = sum(profile.MONTHLY_EVENTS.values()) / len(profile.MONTHLY_EVENTS)


def month_days(year: int, month: int) -> list[date]:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return [first + timedelta(days=offset) for offset in range((following - first).days)]


def _relative_volume(day: date, seed: int) -> float:
    noise = stream(seed, "day-volume", day.toordinal()).lognormal(0.0, profile.DAY_NOISE_SIGMA)
    return profile.WEEKDAY_FACTOR[day.weekday()] * profile.HOLIDAY_FACTOR.get(day, 1.0) * float(noise)


@lru_cache(maxsize=64)
def _month_events(year: int, month: int, seed: int, scale: float) -> dict[date, int]:
    days = month_days(year, month)
    total = profile.MONTHLY_EVENTS.get((year, month), _MEAN_MONTHLY_EVENTS) * scale
    weights = np.array([_relative_volume(day, seed) for day in days])
    # Rounding the running total (not each day) keeps the month's sum exactly round(total).
    running = np.rint(np.cumsum(weights) / weights.sum() * total).astype(np.int64)
    counts = np.diff(running, prepend=0)
    return dict(zip(days, counts.tolist(), strict=True))


def daily_events(day: date, seed: int, scale: float) -> int:
    """The number of events of a day at this scale (1.0: the real data set's volume)."""
    return _month_events(day.year, day.month, seed, scale)[day]


def events_between(start: date, end: date, seed: int, scale: float) -> int:
    """Events of the days [start, end): what the generator writes for them."""
    return sum(
        daily_events(start + timedelta(days=offset), seed, scale) for offset in range((end - start).days)
    )


def hour_shares() -> np.ndarray:
    shares = np.array(profile.HOUR_SHARE_PERCENT)
    return shares / shares.sum()
