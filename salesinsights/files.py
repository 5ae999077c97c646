"""Small files that readers see whole or not at all: status reports, the drop ledger, source indexes."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_json_atomically(
    path: Path, value: object, *, indent: int | None = None, default: Callable[[Any], Any] | None = None
) -> None:
    """`value` as JSON at `path`: written under a temporary dot-name of this process's beside it, then renamed
    over it, so that a reader sees the old content or the new, never half of either (nor another writer's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    temporary.write_text(json.dumps(value, indent=indent, sort_keys=indent is not None, default=default))
    temporary.replace(path)
