"""A background refresh: one callable, every `interval` seconds on a daemon thread, until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Refresher:
    def __init__(self, name: str, refresh: Callable[[], object], interval: float) -> None:
        self.name = name
        self.refresh = refresh
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except Exception:  # a failed refresh keeps what the last one found; the next one tries again
                log.exception("%s: refresh failed", self.name)
            self._stop.wait(self.interval)
