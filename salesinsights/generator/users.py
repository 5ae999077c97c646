"""The shop's customers over the five months: who exists on a day, and who opens the day's sessions.

The pool is a function of (seed, scale) alone, so every day can be generated on its own and still meet the
same customers as the days around it: returning customers, buyers who buy again weeks later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from salesinsights.generator import profile
from salesinsights.generator.sampling import cumulative, draw, from_quantiles, stream, unique_ids
from salesinsights.generator.volumes import daily_events

EPOCH_DAYS = (profile.EPOCH_END - profile.EPOCH_START).days


@dataclass(frozen=True)
class UserPool:
    # Customers registered before the epoch first, then the newcomers in order of registration day.
    ids: np.ndarray
    activity: np.ndarray
    shopper: np.ndarray
    # How large the customer's orders run: a factor on the order lines' median, log-normal around 1.
    basket: np.ndarray
    registered_day: np.ndarray
    # first_of_day[d]: index of the first newcomer of epoch day d; first_of_day[EPOCH_DAYS] is the pool size.
    first_of_day: np.ndarray

    @property
    def existing(self) -> int:
        return int(self.first_of_day[0])


def epoch_day(day: date) -> int:
    return (day - profile.EPOCH_START).days


def _id_counter(day: date) -> float:
    anchors = sorted(profile.USER_ID_COUNTER.items())
    return float(np.interp(day.toordinal(), [d.toordinal() for d, _ in anchors], [v for _, v in anchors]))


def _newcomer_ids(day: date, count: int, rng: np.random.Generator) -> np.ndarray:
    """Ids the platform issued that day; the newest ids of the shop belong to its newest customers."""
    first = int(_id_counter(day))
    issued = int(_id_counter(day + timedelta(days=1))) - first
    return first + np.sort(rng.choice(issued, size=count, replace=False))


@lru_cache(maxsize=4)
def build_user_pool(seed: int, scale: float) -> UserPool:
    rng = stream(seed, "users")
    existing = max(1, round(profile.EXISTING_USERS * scale))
    days = [profile.EPOCH_START + timedelta(days=offset) for offset in range(EPOCH_DAYS)]
    newcomers = [round(profile.NEW_USERS_PER_EVENT * daily_events(day, seed, scale)) for day in days]

    def draw_existing_ids(count: int) -> np.ndarray:
        return from_quantiles(profile.EXISTING_USER_ID_QUANTILES, rng.random(count))

    ids = np.concatenate(
        [
            rng.permutation(unique_ids(draw_existing_ids, existing, rng)),
            *(_newcomer_ids(day, count, rng) for day, count in zip(days, newcomers, strict=True)),
        ]
    )
    size = len(ids)
    shopper = rng.random(size) < profile.SHOPPER_SHARE
    activity = rng.lognormal(0.0, profile.ACTIVITY_SIGMA, size)
    activity[shopper] *= profile.SHOPPER_ACTIVITY_FACTOR
    # A stream of its own, so that adding it left every other draw of the pool as it was.
    basket = stream(seed, "baskets").lognormal(0.0, profile.ORDER_LINES_USER_SIGMA, size)
    first_of_day = existing + np.concatenate([[0], np.cumsum(newcomers)])
    registered_day = np.concatenate(
        [np.full(existing, -1), np.repeat(np.arange(EPOCH_DAYS), newcomers)]
    ).astype(np.int32)
    return UserPool(ids, activity, shopper, basket, registered_day, first_of_day)


def newcomers(pool: UserPool, day: date) -> np.ndarray:
    """The customers whose first visit is this day (none outside the epoch)."""
    index = epoch_day(day)
    if not 0 <= index < EPOCH_DAYS:
        return np.empty(0, dtype=np.int64)
    return np.arange(pool.first_of_day[index], pool.first_of_day[index + 1])


def returning_users(pool: UserPool, day: date, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` session owners among the customers registered by this day, by activity; newcomers get a
    boost that fades over their first days."""
    index = epoch_day(day)
    registered = int(pool.first_of_day[int(np.clip(index + 1, 0, EPOCH_DAYS))])
    weights = pool.activity[:registered].copy()
    age = index - pool.registered_day[pool.existing : registered]
    weights[pool.existing :] *= 1.0 + profile.NEWCOMER_BOOST * np.exp(-age / profile.NEWCOMER_DECAY_DAYS)
    return draw(cumulative(weights), rng.random(count))
