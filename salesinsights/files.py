"""Small files that readers see whole or not at all: status reports, the drop ledger, source indexes, the
venv's spark-defaults.conf."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_text_atomically(path: Path, text: str, *, mode: int = 0o666) -> None:
    """`text` at `path`: written under a temporary dot-name of this process's beside it, then renamed over
    it, so that a reader sees the old content or the new, never half of either (nor another writer's).
    `mode` (less the umask) holds from the file's creation: a secret is never readable by others."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    temporary.unlink(missing_ok=True)
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "w") as file:
        file.write(text)
    temporary.replace(path)


def write_json_atomically(
    path: Path, value: object, *, indent: int | None = None, default: Callable[[Any], Any] | None = None
) -> None:
    """`value` as JSON at `path`, atomically (see write_text_atomically)."""
    text = json.dumps(value, indent=indent, sort_keys=indent is not None, default=default)
    write_text_atomically(path, text)
