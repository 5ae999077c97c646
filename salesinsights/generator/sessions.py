"""What one session does: how many views, carts, removals and order lines, of which products, in which order.

Sessions are drawn together as arrays (no Python loop per session or row); rows come out grouped by session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from salesinsights.generator import profile
from salesinsights.generator.catalogue import Catalogue
from salesinsights.generator.grouped import first_occurrences, rank_within
from salesinsights.generator.sampling import discrete_pareto, draw, lognormal_counts

VIEW, CART, REMOVE, PURCHASE = range(4)  # the order of schema.EVENT_TYPES
# Keeps a freak draw of the heavy tails from filling a day with one session.
_MAX_ROWS_PER_KIND = 300


@dataclass(frozen=True)
class Rows:
    """Rows grouped by session, with the seconds since their session's start."""

    session: np.ndarray
    event: np.ndarray
    product: np.ndarray
    offset: np.ndarray

    def map(self, change: Callable[[np.ndarray], np.ndarray]) -> Rows:
        """The same change (a reordering, a repetition, a cut) applied to every column."""
        return Rows(*(change(getattr(self, column.name)) for column in fields(self)))


def event_counts(shopper: np.ndarray, basket: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rows of each event type per session, shape (sessions, 4), given whether each session's user is a
    shopper and how large the user's orders run."""
    size = len(shopper)
    buys = rng.random(size) < np.where(
        shopper, profile.SHOPPER_PURCHASE_PROBABILITY, profile.BROWSER_PURCHASE_PROBABILITY
    )
    carts = rng.random(size) < np.where(
        shopper, profile.SHOPPER_CART_PROBABILITY, profile.BROWSER_CART_PROBABILITY
    )
    carts = np.where(buys, rng.random(size) >= profile.PURCHASE_WITHOUT_CART_SHARE, carts)
    removes = rng.random(size) < np.where(carts, profile.REMOVE_GIVEN_CART, profile.REMOVE_WITHOUT_CART)
    # A session that does nothing else views; one that carts or buys often goes straight to the cart.
    views = ~(carts | buys | removes) | (rng.random(size) < profile.VIEW_IN_CART_SESSION_SHARE)
    shopping_views = lognormal_counts(
        profile.CART_SESSION_VIEWS_MEDIAN, profile.CART_SESSION_VIEWS_SIGMA, size, rng
    )
    browsing_views = discrete_pareto(profile.VIEWS_PARETO_ALPHA, size, rng)
    lines = buys * np.minimum(
        lognormal_counts(profile.ORDER_LINES_MEDIAN * basket, profile.ORDER_LINES_ORDER_SIGMA, size, rng),
        profile.ORDER_LINES_MAX,
    )
    # What an order takes from the session's own cart was carted in the session, and a buying session buys
    # what it carted (real orders leave next to nothing of the session's cart behind: see profile).
    carted = np.where(
        buys,
        np.ceil(lines * profile.PURCHASE_FROM_SESSION_CART).astype(np.int64),
        lognormal_counts(profile.CARTS_MEDIAN, profile.CARTS_SIGMA, size, rng),
    )
    counts = np.zeros((size, 4), dtype=np.int64)
    counts[:, VIEW] = views * np.where(carts | buys, shopping_views, browsing_views)
    counts[:, CART] = carts * carted
    counts[:, REMOVE] = removes * lognormal_counts(profile.REMOVES_MEDIAN, profile.REMOVES_SIGMA, size, rng)
    counts[:, PURCHASE] = lines
    return np.minimum(counts, _MAX_ROWS_PER_KIND)


def _cart_rows_removed(session: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each removal, the index of the session's cart row it undoes, or -1 (carted in an earlier
    session). A session's removals undo distinct rows of its own cart and, unless the session is one of the
    few that empty their cart, leave its last row in it: what the real sessions do (see profile)."""
    cart_start = np.cumsum(counts[:, CART]) - counts[:, CART]
    carted = counts[session, CART]
    in_cart = (carted > 0) & (rng.random(len(session)) < profile.REMOVE_FROM_SESSION_CART)
    nth = np.zeros(len(session), dtype=np.int64)
    nth[in_cart] = rank_within(session[in_cart])
    first = rng.integers(0, np.iinfo(np.int64).max, len(counts))[session]
    empties = rng.random(len(counts))[session] < profile.REMOVALS_EMPTY_CART_SHARE
    kept = np.where(empties, carted, carted - 1)
    pick = cart_start[session] + (first + nth) % np.maximum(carted, 1)
    return np.where(in_cart & (nth < kept), pick, -1)


def _cart_rows_bought(session: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """For each order line, the session's cart row it buys, or -1 (carted earlier): an order takes the
    session's carted products first, up to its share of the order."""
    cart_start = np.cumsum(counts[:, CART]) - counts[:, CART]
    from_cart = np.minimum(counts[:, CART], np.ceil(counts[:, PURCHASE] * profile.PURCHASE_FROM_SESSION_CART))
    line = rank_within(session)
    return np.where(line < from_cart[session], cart_start[session] + line, -1)


def _products(
    cdf: np.ndarray,
    row_visit: np.ndarray,
    shortlist: np.ndarray,
    shortlist_share: float,
    featured: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Products of rows: a visit keeps coming back to a few products of its own (its shortlist), the day
    pushes a few featured ones, and the rest are drawn from the whole catalogue."""
    size = len(row_visit)
    anywhere = draw(cdf, rng.random(size))
    listed = shortlist[row_visit, rng.integers(0, shortlist.shape[1], size)]
    promoted = featured[rng.integers(0, len(featured), size)]
    choice = rng.random(size)
    return np.where(
        choice < shortlist_share,
        listed,
        np.where(choice < shortlist_share + profile.FEATURED_SHARE, promoted, anywhere),
    )


def session_rows(
    counts: np.ndarray, visit: np.ndarray, catalogue: Catalogue, rng: np.random.Generator
) -> Rows:
    """Each session's rows with products, in the order they happen (offsets not yet set)."""
    sessions = np.arange(len(counts))
    by_kind = [np.repeat(sessions, counts[:, kind]) for kind in range(4)]

    visits = int(visit[-1]) + 1 if len(visit) else 0
    shortlist = draw(catalogue.view_cdf, rng.random((visits, profile.VISIT_SHORTLIST_PRODUCTS)))
    featured = draw(catalogue.cart_cdf, rng.random(profile.FEATURED_PRODUCTS))
    view_products = _products(
        catalogue.view_cdf, visit[by_kind[VIEW]], shortlist, profile.VIEW_SHORTLIST_SHARE, featured, rng
    )
    cart_products = _products(
        catalogue.cart_cdf, visit[by_kind[CART]], shortlist, profile.CART_SHORTLIST_SHARE, featured, rng
    )
    cart_keys = rng.random(len(cart_products))

    def from_cart_or_catalogue(cart_row: np.ndarray) -> np.ndarray:
        fresh = draw(catalogue.cart_cdf, rng.random(len(cart_row)))
        return np.where(cart_row >= 0, cart_products[cart_row], fresh)

    removed = _cart_rows_removed(by_kind[REMOVE], counts, rng)
    remove_products = from_cart_or_catalogue(removed)
    purchase_products = from_cart_or_catalogue(_cart_rows_bought(by_kind[PURCHASE], counts))
    # An order has one row per product.
    order_line = first_occurrences(by_kind[PURCHASE], purchase_products)
    by_kind[PURCHASE], purchase_products = by_kind[PURCHASE][order_line], purchase_products[order_line]

    # A removal comes after the carting it undoes; the order closes the session.
    remove_keys = rng.random(len(remove_products))
    remove_keys = np.where(
        removed >= 0, cart_keys[removed] + (1 - cart_keys[removed]) * remove_keys, remove_keys
    )
    keys = np.concatenate(
        [rng.random(len(view_products)), cart_keys, remove_keys, np.full(len(purchase_products), 2.0)]
    )
    session = np.concatenate(by_kind)
    order = np.lexsort((keys, session))
    event = np.concatenate([np.full(len(rows), kind, dtype=np.int8) for kind, rows in enumerate(by_kind)])
    product = np.concatenate([view_products, cart_products, remove_products, purchase_products])
    return Rows(session[order], event[order], product[order], np.zeros(len(order), dtype=np.int64))
