"""The shop's catalogue: products with id, category, brand and price, and how popular each one is."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from salesinsights.generator import profile
from salesinsights.generator.sampling import (
    cumulative,
    draw,
    from_quantiles,
    stream,
    unique_ids,
    zipf_weights,
)


@dataclass(frozen=True)
class Catalogue:
    # Per product: "product_id,category_id,category_code,brand,price," as it appears in a CSV line.
    text: np.ndarray
    # Cumulative popularity, for drawing products with searchsorted: views favour dearer products than
    # carts, removes and purchases do.
    view_cdf: np.ndarray
    cart_cdf: np.ndarray


def _product_ids(rng: np.random.Generator) -> np.ndarray:
    def draw_ids(count: int) -> np.ndarray:
        low = rng.integers(*profile.LOW_PRODUCT_ID_RANGE, size=count)
        high = from_quantiles(profile.PRODUCT_ID_QUANTILES, rng.random(count))
        return np.where(rng.random(count) < profile.LOW_PRODUCT_ID_SHARE, low, high)

    return unique_ids(draw_ids, profile.PRODUCTS, rng)


def _category_ids(rng: np.random.Generator) -> np.ndarray:
    def draw_ids(count: int) -> np.ndarray:
        block = rng.integers(*profile.CATEGORY_BLOCK_RANGE, size=count, dtype=np.int64)
        spread = rng.integers(*profile.CATEGORY_SPREAD_RANGE, size=count, dtype=np.int64)
        return np.where(rng.random(count) < profile.CATEGORY_BLOCK_SHARE, block, spread)

    return rng.permutation(unique_ids(draw_ids, profile.CATEGORIES, rng))


def _category_codes(category_rows: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Codes for a random set of mid-popularity categories that together hold the measured share of rows."""
    codes = [""] * len(category_rows)
    share = category_rows / category_rows.sum()
    popular_first = np.argsort(-share)
    covered = 0.0
    for number, category in enumerate(rng.permutation(popular_first[20:])):
        if covered >= profile.CATEGORY_CODE_ROW_SHARE:
            break
        codes[category] = profile.CATEGORY_CODES[number % len(profile.CATEGORY_CODES)]
        covered += share[category]
    return codes


def _brand_names(rng: np.random.Generator) -> list[str]:
    """Pronounceable lower-case names; real brand names are not copied from the samples."""
    consonants, vowels = list("bdfgklmnprstvz"), list("aeiou")
    endings = ["", "", "", "ia", "el", "on", "ix", "a.pro", "lab"]
    names: set[str] = set()
    while len(names) < profile.BRANDS:
        syllables = int(rng.integers(2, 4))
        stem = "".join(str(rng.choice(consonants)) + str(rng.choice(vowels)) for _ in range(syllables))
        names.add(stem + str(rng.choice(endings)))
    return sorted(names)


def _prices(premium: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    median = np.where(premium, profile.PREMIUM_PRICE_MEDIAN, profile.EVERYDAY_PRICE_MEDIAN)
    sigma = np.where(premium, profile.PREMIUM_PRICE_SIGMA, profile.EVERYDAY_PRICE_SIGMA)
    prices = median * np.exp(sigma * rng.standard_normal(len(premium)))
    # Redrawing (rather than clipping) keeps a pile of products off the maximum price.
    while (too_dear := prices > profile.PRICE_MAX).any():
        prices[too_dear] = median[too_dear] * np.exp(sigma[too_dear] * rng.standard_normal(too_dear.sum()))
    cents = np.rint(np.maximum(prices, profile.PRICE_MIN) * 100)
    cents[rng.random(len(premium)) < profile.ZERO_PRICE_SHARE] = 0
    return cents / 100


@lru_cache(maxsize=4)
def build_catalogue(seed: int) -> Catalogue:
    """The catalogue of a seed; it does not depend on the scale, which only thins the traffic."""
    rng = stream(seed, "catalogue")
    product_ids = _product_ids(rng)
    popularity = zipf_weights(
        profile.PRODUCTS, profile.PRODUCT_ZIPF_EXPONENT, rng, profile.PRODUCT_ZIPF_OFFSET
    )
    premium = rng.random(profile.PRODUCTS) < profile.PREMIUM_SHARE
    prices = _prices(premium, rng)

    category_weights = zipf_weights(profile.CATEGORIES, profile.CATEGORY_ZIPF_EXPONENT, rng)
    product_category = draw(cumulative(category_weights), rng.random(profile.PRODUCTS))
    category_rows = np.bincount(product_category, weights=popularity, minlength=profile.CATEGORIES)
    category_ids = _category_ids(rng)
    category_codes = _category_codes(category_rows, rng)

    brand_names = _brand_names(rng)
    brand_weights = zipf_weights(profile.BRANDS, profile.BRAND_ZIPF_EXPONENT, rng)
    product_brand = draw(cumulative(brand_weights), rng.random(profile.PRODUCTS))
    branded = rng.random(profile.PRODUCTS) >= profile.PRODUCT_BRAND_NULL_SHARE

    # Once per seed, not per row: the per-product text is what every event row reuses.
    text = np.array(
        [
            f"{product_id},{category_ids[category]},{category_codes[category]},"
            f"{brand_names[brand] if has_brand else ''},{price},"
            for product_id, category, brand, has_brand, price in zip(
                product_ids.tolist(),
                product_category.tolist(),
                product_brand.tolist(),
                branded.tolist(),
                prices.tolist(),
                strict=True,
            )
        ],
        dtype=object,
    )
    # Free products (price 0.0) would get no weight or an infinite one.
    price_weight = np.maximum(prices, 0.5)
    return Catalogue(
        text=text,
        view_cdf=cumulative(popularity * price_weight**profile.VIEW_PRICE_EXPONENT),
        cart_cdf=cumulative(
            popularity
            * price_weight**profile.CART_PRICE_EXPONENT
            * np.where(premium, profile.PREMIUM_CART_FACTOR, 1.0)
        ),
    )
