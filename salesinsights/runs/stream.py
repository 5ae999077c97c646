"""`salesinsights stream run` (`jobs/streaming_medallion.py`, what the supervisor runs): the streaming
application, Kafka → Delta bronze/silver/gold, live window totals to the gold topic, and abandoned carts.
Three queries on one raw topic, one application (see salesinsights/spark/archive.py, live.py and
cart_sessions.py); when any fails, the application stops, and the platform's supervisor starts it again.

Runs until SIGTERM/SIGINT, then lets the micro-batches in flight finish before it stops. One instance per data
folder: a second start is refused (exit 75) while the first holds the lock."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

from pyspark.sql.streaming import StreamingQuery

from salesinsights.ops import Exit, job_parser, run_service
from salesinsights.settings import Settings, get_settings
from salesinsights.spark.archive import ARCHIVE_QUERY_NAME, start_archive
from salesinsights.spark.cart_sessions import CART_QUERY_NAME, start_cart_sessions
from salesinsights.spark.cart_tables import CartAggregates
from salesinsights.spark.live import LIVE_QUERY_NAME, start_live_sales
from salesinsights.spark.progress import write_health
from salesinsights.spark.reset import STREAMING_LOCK
from salesinsights.spark.session import build_spark
from salesinsights.spark.shutdown import QueryStopper


def report(queries: dict[str, StreamingQuery], run_dir: Path) -> None:
    try:
        write_health(queries, run_dir)
    except (OSError, ValueError, TypeError):  # a health report must never stop the stream
        logging.exception("could not write the health file")


def main(argv: list[str] | None = None) -> int:
    job_parser("salesinsights stream run", __doc__).parse_args(argv)
    settings = get_settings()
    return run_service(settings, STREAMING_LOCK, lambda: run(settings))


def run(settings: Settings) -> int:
    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())

    spark = build_spark(settings, f"salesinsights-{ARCHIVE_QUERY_NAME}")
    if stop_requested.is_set():  # asked to stop while the JVM started: start no query
        spark.stop()
        return Exit.OK
    queries = {
        # The archive query creates the medallion's tables, the cart sessions query its own.
        ARCHIVE_QUERY_NAME: start_archive(spark, settings),
        LIVE_QUERY_NAME: start_live_sales(spark, settings),
    }
    aggregates = CartAggregates(spark, settings) if settings.carts.enabled else None
    if aggregates is not None:
        queries[CART_QUERY_NAME] = start_cart_sessions(spark, settings, aggregates)
        aggregates.start()
    stopper = QueryStopper(queries, settings.spark.stop_grace.total_seconds())
    while any(query.isActive for query in queries.values()):
        stop_requested.wait(0.2 if stopper.requested else 1)
        report(queries, settings.run_dir)
        # Stopping, on request or because one query (or the cart aggregates) failed (the supervisor then
        # restarts the whole application).
        failed = not all(query.isActive for query in queries.values()) or (aggregates and aggregates.failure)
        if stop_requested.is_set() or failed:
            stopper.request()
        stopper.stop_those_between_batches()
    report(queries, settings.run_dir)
    errors = [f"{name}: {query.exception()}" for name, query in queries.items() if query.exception()]
    if aggregates is not None:
        aggregates.close()
        if aggregates.failure is not None:
            errors.append(f"cart aggregates: {aggregates.failure}")
    spark.stop()
    if errors and not stop_requested.is_set():
        logging.error("streaming query failed: %s", "; ".join(errors))
        return Exit.CRASHED
    return Exit.OK
