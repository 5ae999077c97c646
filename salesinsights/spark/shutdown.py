"""Stopping the streaming application's queries between micro-batches, in bounded time.

A query stopped in the middle of a micro-batch leaves that batch to be run again at the next start (harmless,
every write is idempotent) but throws away the work done. Waiting until a query is seen idle is no bound:
under a backlog a query starts its next batch the moment one ends, so it is almost never idle, and a stop
then took the supervisor's whole stop timeout before SIGKILL. So a query is stopped as soon as it is idle,
or as soon as the batch that was in flight when the stop was requested has ended (the next one has barely
begun), and in any case once the grace period is over."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from pyspark.sql.streaming import StreamingQuery


def _finished_batch(query: StreamingQuery) -> int:
    """The id of the query's last finished micro-batch; -1 before its first."""
    progress = query.lastProgress
    return int(progress["batchId"]) if progress else -1


class QueryStopper:
    def __init__(
        self,
        queries: Mapping[str, StreamingQuery],
        grace_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queries = queries
        self.grace_s = grace_s
        self._clock = clock
        self._deadline: float | None = None
        self._finished_at_request: dict[str, int] = {}

    @property
    def requested(self) -> bool:
        return self._deadline is not None

    def request(self) -> None:
        """Notes each query's last finished batch; the first request starts the grace period."""
        if self._deadline is None:
            self._deadline = self._clock() + self.grace_s
            self._finished_at_request = {name: _finished_batch(q) for name, q in self.queries.items()}

    def stop_those_between_batches(self) -> bool:
        """After a request, stops every query that is idle, has ended its batch in flight, or is out of
        time; True once none is active."""
        if self._deadline is None:
            return False
        out_of_time = self._clock() >= self._deadline
        for name, query in self.queries.items():
            if not query.isActive:
                continue
            batch_ended = _finished_batch(query) > self._finished_at_request[name]
            if out_of_time or batch_ended or not query.status["isTriggerActive"]:
                query.stop()
        return not any(query.isActive for query in self.queries.values())
