"""Drawing numbers reproducibly: named random streams, and the few distributions the generator draws from."""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

Knots = tuple[tuple[float, int], ...]


def stream(seed: int, name: str, *keys: int) -> np.random.Generator:
    """A generator for one purpose (name) and one item (keys, e.g. a day's ordinal).

    Python's hash() is salted per process, so names are turned into numbers with CRC-32 instead."""
    entropy = [seed % 2**64, zlib.crc32(name.encode()), *(key % 2**64 for key in keys)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def draw(cdf: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Indices drawn from a cumulative distribution (last value 1.0) by uniform numbers in [0, 1)."""
    return np.minimum(np.searchsorted(cdf, uniforms, side="right"), len(cdf) - 1)


def cumulative(weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights)
    return cdf / cdf[-1]


def zipf_weights(count: int, exponent: float, rng: np.random.Generator, offset: float = 0.0) -> np.ndarray:
    """Zipf(-Mandelbrot) popularity with the ranks dealt out at random, independent of id order."""
    return rng.permutation((np.arange(1, count + 1, dtype=np.float64) + offset) ** -exponent)


def from_quantiles(knots: Knots, uniforms: np.ndarray) -> np.ndarray:
    quantiles, values = zip(*knots, strict=True)
    return np.interp(uniforms, quantiles, values).astype(np.int64)


def _distinct(values: np.ndarray) -> np.ndarray:
    # np.unique is ~30 times slower than this on a million integers (numpy 2.4).
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def unique_ids(draw_ids: Callable[[int], np.ndarray], count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` distinct ids from a drawing function that may repeat itself, in increasing order."""
    ids = _distinct(draw_ids(count + count // 10 + 16))
    while len(ids) < count:
        ids = _distinct(np.concatenate([ids, draw_ids(count)]))
    return np.sort(rng.choice(ids, size=count, replace=False))


def discrete_pareto(alpha: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """1, 2, 3, ... with P(n >= k) = k ** -alpha."""
    return np.floor((1.0 - rng.random(size)) ** (-1 / alpha)).astype(np.int64)


def lognormal_counts(
    median: float | np.ndarray, sigma: float, size: int, rng: np.random.Generator
) -> np.ndarray:
    """Whole numbers >= 1, log-normal around `median` (one for all, or one each)."""
    return np.maximum(1, np.rint(rng.lognormal(np.log(median), sigma, size))).astype(np.int64)
