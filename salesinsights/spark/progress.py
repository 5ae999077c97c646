"""The streaming query's health as a small JSON file, for `make status` and the supervisor DAG."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark.sql.streaming import StreamingQuery

STATUS_FILE = "streaming.status.json"


def kafka_lag(progress: dict[str, Any]) -> int | None:
    """Records in the topic that the query has not yet processed (latest minus end offsets)."""
    total = 0
    for source in progress.get("sources", []):
        latest, end = source.get("latestOffset"), source.get("endOffset")
        if not latest or not end:
            return None
        latest_offsets = json.loads(latest) if isinstance(latest, str) else latest
        end_offsets = json.loads(end) if isinstance(end, str) else end
        for topic, partitions in latest_offsets.items():
            for partition, offset in partitions.items():
                total += max(int(offset) - int(end_offsets.get(topic, {}).get(partition, 0)), 0)
    return total


def health(query: StreamingQuery) -> dict[str, Any]:
    progress: dict[str, Any] = dict(query.lastProgress or {})
    return {
        "updated_at": datetime.now(UTC).isoformat(),
        "active": query.isActive,
        "query_id": str(query.id),
        "message": query.status.get("message"),
        "last_batch_id": progress.get("batchId"),
        "last_progress_at": progress.get("timestamp"),
        "input_rows_per_second": progress.get("inputRowsPerSecond"),
        "processed_rows_per_second": progress.get("processedRowsPerSecond"),
        "batch_duration_ms": (progress.get("durationMs") or {}).get("triggerExecution"),
        "last_batch_rows": progress.get("numInputRows"),
        "kafka_lag": kafka_lag(progress) if progress else None,
    }


def write_health(query: StreamingQuery, run_dir: Path) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    target = run_dir / STATUS_FILE
    temporary = target.with_name(f".{target.name}")
    temporary.write_text(json.dumps(health(query), default=str))
    temporary.replace(target)
