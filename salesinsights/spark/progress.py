"""The streaming application's health as a small JSON file, for `make status`, the watchdog and the
`streaming` DAG: whether every query is active, and each query's last progress and Kafka offsets. The
application rewrites it every second; a file that stops changing means a frozen application."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesinsights.files import write_json_atomically

if TYPE_CHECKING:  # the watchdog reads the file without importing Spark
    from pyspark.sql.streaming import StreamingQuery

STATUS_FILE = "streaming.status.json"


def _offsets(value: object) -> dict[str, dict[str, int]]:
    """A progress report's offsets: JSON text or already parsed; absent before the first batch."""
    parsed = json.loads(value) if isinstance(value, str) else value
    return parsed if isinstance(parsed, dict) else {}


def kafka_lag(progress: dict[str, Any]) -> int | None:
    """Records in the topic that the query has not yet processed (latest minus end offsets)."""
    total = 0
    for source in progress.get("sources", []):
        latest, end = _offsets(source.get("latestOffset")), _offsets(source.get("endOffset"))
        if not latest:
            return None
        for topic, partitions in latest.items():
            for partition, offset in partitions.items():
                total += max(int(offset) - int(end.get(topic, {}).get(partition, 0)), 0)
    return total


def end_offsets(progress: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per topic and partition, the offset up to which the last micro-batch read, over all the query's
    sources (the cart sessions query reads each partition of the raw topic as a source of its own)."""
    read: dict[str, dict[str, int]] = {}
    for source in progress.get("sources", []):
        for topic, partitions in _offsets(source.get("endOffset")).items():
            read.setdefault(topic, {}).update(
                {partition: int(offset) for partition, offset in partitions.items()}
            )
    return read


def query_health(query: StreamingQuery) -> dict[str, Any]:
    progress: dict[str, Any] = dict(query.lastProgress or {})
    return {
        "running": query.isActive,
        "query_id": str(query.id),
        "message": query.status.get("message"),
        "last_batch_id": progress.get("batchId"),
        "last_progress_at": progress.get("timestamp"),
        "input_rows_per_second": progress.get("inputRowsPerSecond"),
        "processed_rows_per_second": progress.get("processedRowsPerSecond"),
        "batch_duration_ms": (progress.get("durationMs") or {}).get("triggerExecution"),
        "last_batch_rows": progress.get("numInputRows"),
        "kafka_lag": kafka_lag(progress) if progress else None,
        "end_offsets": end_offsets(progress),
        **state_figures(progress),
    }


def state_figures(progress: dict[str, Any]) -> dict[str, int | None]:
    """What a stateful query keeps (rows, bytes in memory) and the input rows it dropped as behind the
    watermark, over all its stateful operators; None for a query without any."""
    operators = progress.get("stateOperators") or []
    if not operators:
        return {"state_rows": None, "state_memory_bytes": None, "state_rows_dropped_by_watermark": None}

    def total(metric: str) -> int:
        return sum(int(operator.get(metric, 0)) for operator in operators)

    return {
        "state_rows": total("numRowsTotal"),
        "state_memory_bytes": total("memoryUsedBytes"),
        "state_rows_dropped_by_watermark": total("numRowsDroppedByWatermark"),
    }


def health(queries: dict[str, StreamingQuery]) -> dict[str, Any]:
    return {
        "updated_at": datetime.now(UTC).isoformat(),
        # Whose report it is: a restarted application's first seconds must not pass for its predecessor's.
        "pid": os.getpid(),
        "active": all(query.isActive for query in queries.values()),
        "queries": {name: query_health(query) for name, query in queries.items()},
    }


def write_health(queries: dict[str, StreamingQuery], run_dir: Path) -> None:
    write_json_atomically(run_dir / STATUS_FILE, health(queries), default=str)
