"""Resetting a streaming query's checkpoint safely: only while the streaming application is stopped (it
holds the lock), by moving the checkpoint aside rather than deleting it. The next start begins a new
checkpoint after the Kafka offsets that the lake records as archived, and the tables' own keys make any
record read again harmless (see stream.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from salesinsights.locks import single_instance
from salesinsights.settings import Settings

STREAMING_LOCK = "streaming"


def reset_checkpoint(settings: Settings, query: str, now: datetime | None = None) -> Path | None:
    """Moves the query's checkpoint to <checkpoint>.reset-<UTC time> and returns where it went (None when
    there was none). Raises AlreadyRunningError while the streaming application runs."""
    location = settings.checkpoint_path(query)
    if "://" in location:
        raise ValueError(f"{location} is not on this file system: move it aside with the store's own tools")
    checkpoint = Path(location)
    with single_instance(settings.run_dir, STREAMING_LOCK):
        if not checkpoint.exists():
            return None
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        target = checkpoint.with_name(f"{checkpoint.name}.reset-{stamp}")
        checkpoint.rename(target)
        return target
