"""Progress lines for a long run: each step when it starts and how long it took."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class Progress:
    def __init__(self, out: TextIO = sys.stdout) -> None:
        self._out = out
        self._started = time.perf_counter()

    def note(self, text: str) -> None:
        print(f"[clv {time.perf_counter() - self._started:7.1f}s] {text}", file=self._out, flush=True)

    @contextmanager
    def step(self, text: str) -> Iterator[None]:
        began = time.perf_counter()
        self.note(f"{text} ...")
        yield
        self.note(f"{text}: done in {time.perf_counter() - began:.1f}s")
