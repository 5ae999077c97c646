"""Spark entry point: the streaming medallion, Kafka → Delta bronze/silver/gold (+ gold topic).

Runs until SIGTERM/SIGINT, then lets the micro-batch in flight finish before it stops.
    spark-submit jobs/streaming_medallion.py       or       .venv/bin/python jobs/streaming_medallion.py
"""

from __future__ import annotations

import logging
import signal
import threading

from salesinsights.settings import get_settings
from salesinsights.spark.progress import write_health
from salesinsights.spark.session import build_spark
from salesinsights.spark.stream import QUERY_NAME, start_medallion


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())

    spark = build_spark(settings, f"salesinsights-{QUERY_NAME}")
    query = start_medallion(spark, settings)
    while query.isActive:
        query.awaitTermination(1)
        try:
            write_health(query, settings.run_dir)
        except (OSError, ValueError, TypeError):  # a health report must never stop the stream
            logging.exception("could not write the health file")
        if stop_requested.is_set() and not query.status["isTriggerActive"]:
            query.stop()
    write_health(query, settings.run_dir)
    error = query.exception()
    spark.stop()
    if error is not None and not stop_requested.is_set():
        raise SystemExit(f"streaming query failed: {error}")


if __name__ == "__main__":
    main()
