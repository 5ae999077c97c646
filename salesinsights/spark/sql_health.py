"""The SQL endpoint's health file: which process serves and which tables it has registered. Read by
`make status` without importing Spark."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from salesinsights.files import write_json_atomically

STATUS_FILE = "sql.status.json"


def write_sql_health(run_dir: Path, tables: Iterable[str]) -> None:
    report = {"pid": os.getpid(), "updated_at": datetime.now(UTC).isoformat(), "tables": sorted(tables)}
    write_json_atomically(run_dir / STATUS_FILE, report)
