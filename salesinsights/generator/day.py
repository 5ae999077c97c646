"""One day of shop traffic as arrays: visits of users, made of sessions, laid out in time.

A day depends only on (day, seed, scale): its random stream is its own, and the catalogue and user pool are
functions of the seed and scale. Everything is drawn per visit or session and expanded to rows with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from salesinsights.generator import profile
from salesinsights.generator.catalogue import build_catalogue
from salesinsights.generator.grouped import elapsed_within, group_starts
from salesinsights.generator.sampling import cumulative, discrete_pareto, draw, stream
from salesinsights.generator.sessions import PURCHASE, Rows, event_counts, session_rows
from salesinsights.generator.users import UserPool, build_user_pool, newcomers, returning_users
from salesinsights.generator.volumes import daily_events, hour_shares
from salesinsights.schema import EVENT_TYPES

SECONDS_PER_DAY = 86_400
# Visits to draw per wanted row, with room for the heavy tails of visit and session sizes; the surplus is cut.
_ROWS_PER_VISIT = 6.0
_VISIT_SIZE_SPREAD = 3.0
_DUPLICATE_PROBABILITY = np.array([profile.DUPLICATE_PROBABILITY[kind] for kind in EVENT_TYPES])


@dataclass(frozen=True)
class DayEvents:
    """Rows in time order; the session_* arrays are per session of the day."""

    second: np.ndarray
    event: np.ndarray
    product: np.ndarray
    session: np.ndarray
    session_user: np.ndarray
    session_has_id: np.ndarray
    # 16 random bytes per session, formatted as a uuid4.
    session_key: np.ndarray


def _visits(pool: UserPool, day: date, wanted_rows: int, rng: np.random.Generator) -> np.ndarray:
    """The owner of each visit: the day's newcomers first, then returning users by activity."""
    first_visits = newcomers(pool, day)
    expected = wanted_rows / _ROWS_PER_VISIT
    count = max(len(first_visits), int(expected * 1.05 + 8 * _VISIT_SIZE_SPREAD * np.sqrt(expected) + 10))
    return np.concatenate([first_visits, returning_users(pool, day, count - len(first_visits), rng)])


def _with_duplicates(rows: Rows, rng: np.random.Generator) -> tuple[Rows, np.ndarray]:
    """Rows written twice (or thrice) as in the real log, and which rows are those copies."""
    doubled = rng.random(len(rows.event)) < _DUPLICATE_PROBABILITY[rows.event]
    copies = 1 + doubled + (doubled & (rng.random(len(doubled)) < profile.TRIPLICATE_SHARE))
    first_copy = np.repeat(np.cumsum(copies) - copies, copies)
    return rows.map(lambda column: np.repeat(column, copies)), np.arange(len(first_copy)) != first_copy


def _timed(rows: Rows, is_copy: np.ndarray, rng: np.random.Generator) -> Rows:
    """Seconds from the session's first row: log-normal gaps, none within an order or between copies."""
    gaps = np.minimum(
        np.maximum(
            1, np.rint(rng.lognormal(np.log(profile.GAP_MEDIAN_SECONDS), profile.GAP_SIGMA, len(is_copy)))
        ),
        profile.GAP_MAX_SECONDS,
    ).astype(np.int64)
    same_order = np.r_[False, (rows.event[1:] == PURCHASE) & (rows.event[:-1] == PURCHASE)]
    gaps[is_copy | same_order] = 0
    offset = elapsed_within(gaps, group_starts(rows.session))
    return Rows(rows.session, rows.event, rows.product, offset)


def _session_starts(visit: np.ndarray, durations: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Start second of each session: a visit starts by the hour-of-day profile, its later sessions follow
    at log-normal spacings. A session that would start after midnight starts that much after the day's
    midnight instead (standing in for the previous evening's visits running into this day), and one that
    would end after midnight is moved earlier to end by then."""
    visits = int(visit[-1]) + 1 if len(visit) else 0
    hours = draw(cumulative(hour_shares()), rng.random(visits))
    visit_starts = hours * 3600 + rng.integers(0, 3600, visits) - profile.VISIT_START_LEAD_SECONDS
    spacing = np.rint(
        rng.lognormal(
            np.log(profile.SESSION_SPACING_MEDIAN_SECONDS), profile.SESSION_SPACING_SIGMA, len(visit)
        )
    ).astype(np.int64)
    starts = (visit_starts[visit] + elapsed_within(spacing, group_starts(visit))) % SECONDS_PER_DAY
    return np.clip(np.minimum(starts, SECONDS_PER_DAY - 1 - durations), 0, None)


def simulate_day(day: date, seed: int, scale: float) -> DayEvents:
    rng = stream(seed, "day", day.toordinal())
    wanted = daily_events(day, seed, scale)
    pool = build_user_pool(seed, scale)
    visitors = _visits(pool, day, wanted, rng)
    sessions_per_visit = np.minimum(
        discrete_pareto(profile.SESSIONS_PER_VISIT_ALPHA, len(visitors), rng), profile.SESSIONS_PER_VISIT_MAX
    )
    visit = np.repeat(np.arange(len(visitors)), sessions_per_visit)
    users = visitors[visit]

    counts = event_counts(pool.shopper[users], pool.basket[users], rng)
    rows, is_copy = _with_duplicates(session_rows(counts, visit, build_catalogue(seed), rng), rng)
    rows = _timed(rows, is_copy, rng)
    # The surplus sessions (and the tail of the last one kept) are cut to the day's volume.
    rows = rows.map(lambda column: column[:wanted])
    durations = np.zeros(len(users), dtype=np.int64)
    np.maximum.at(durations, rows.session, rows.offset)
    starts = _session_starts(visit, durations, rng)

    seconds = np.minimum(starts[rows.session] + rows.offset, SECONDS_PER_DAY - 1)
    order = np.argsort(seconds, kind="stable")
    return DayEvents(
        second=seconds[order],
        event=rows.event[order],
        product=rows.product[order],
        session=rows.session[order],
        session_user=users,
        session_has_id=rng.random(len(users)) >= profile.NULL_SESSION_SHARE,
        session_key=rng.integers(0, 256, size=(len(users), 16), dtype=np.uint8),
    )
