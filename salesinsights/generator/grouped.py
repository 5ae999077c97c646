"""Operations on arrays sorted into runs of equal values: rows by session, sessions by visit."""

from __future__ import annotations

import numpy as np


def group_starts(groups: np.ndarray) -> np.ndarray:
    """Where each run of equal values begins, for arrays sorted by group."""
    starts = np.ones(len(groups), dtype=bool)
    starts[1:] = groups[1:] != groups[:-1]
    return starts


def elapsed_within(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Running sum of `values` that restarts from zero at each group start (the start's value ignored)."""
    values = np.where(starts, 0, values)
    running = np.cumsum(values)
    return running - np.maximum.accumulate(np.where(starts, running, 0))


def first_occurrences(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """True where a (group, value) pair occurs for the first time."""
    order = np.lexsort((values, groups))
    sorted_groups, sorted_values = groups[order], values[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (sorted_groups[1:] != sorted_groups[:-1]) | (sorted_values[1:] != sorted_values[:-1])
    mask = np.empty_like(first)
    mask[order] = first
    return mask


def rank_within(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal values."""
    positions = np.arange(len(groups))
    return positions - np.maximum.accumulate(np.where(group_starts(groups), positions, 0))
