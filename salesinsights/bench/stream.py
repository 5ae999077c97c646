"""`make bench-stream`: sustained throughput of the streaming medallion and its micro-batch durations, with
the cart sessions query beside it and, as the peer measured in the same run, without it.

Drops a large slice of generated source days, produces it to fresh topics on the configured broker (started
if needed), then runs the streaming application on it from the first offset to the last — twice, on empty
lakes: as `make up` runs it, and with SALESINSIGHTS_CARTS__ENABLED=false — and reads the figures from the
audit table and the health file. Data goes to <data>/bench/stream-<time>, removed afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta

import pandas as pd

from salesinsights.catalog import AUDIT_STREAM_BATCHES, GOLD_CART_ABANDONMENT
from salesinsights.kafka_admin import delete_topics, ensure_topics
from salesinsights.kafka_io import read_topic
from salesinsights.lake import processed_records, read_table
from salesinsights.landing import drop_range
from salesinsights.platform.control import up
from salesinsights.platform.health import status_file
from salesinsights.platform.quiet import queries_caught_up
from salesinsights.platform.watchdog import TopicOffsets, committed_end_offsets
from salesinsights.producer.service import LandingProducer
from salesinsights.settings import Settings, SourceSettings, child_environment, get_settings
from salesinsights.spark.cart_sessions import CART_QUERY_NAME
from salesinsights.spark.progress import STATUS_FILE


def bench_settings(base: Settings, days: int, scale: float) -> Settings:
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    kafka = base.kafka.with_topic_prefix(f"bench-{stamp}")
    source = SourceSettings(
        scale=scale, start=date(2019, 10, 1), end=date(2019, 10, 1) + timedelta(days=days)
    )
    return base.model_copy(
        update={
            "data_dir": base.data / "bench" / f"stream-{stamp}",
            "lake_root": None,
            "checkpoint_root": None,
            "kafka": kafka,
            "source": source,
        }
    )


def batch_figures(audit: pd.DataFrame) -> dict[str, float]:
    audit = audit.sort_values("batch_id")
    durations = (audit["finished_at"] - audit["started_at"]).dt.total_seconds()
    span = (audit["finished_at"].max() - audit["started_at"].min()).total_seconds()
    events = int(audit["kafka_records"].sum())
    return {
        "stream_events": events,
        "stream_batches": len(audit),
        "stream_eps": round(events / span, 1),
        "batch_p50_s": round(float(durations.quantile(0.5)), 2),
        "batch_p95_s": round(float(durations.quantile(0.95)), 2),
        "batch_max_s": round(float(durations.max()), 2),
        "events_per_batch_p50": int(audit["kafka_records"].quantile(0.5)),
    }


def cart_sessions_caught_up(settings: Settings, available: TopicOffsets) -> bool:
    report, _ = status_file(settings, STATUS_FILE)
    return queries_caught_up(report, available).get(CART_QUERY_NAME, False)


def run_stream(base: Settings, settings: Settings, total: int, carts: bool) -> dict[str, float]:
    """The streaming application from an empty lake until the archive (and the cart sessions query, when
    it runs) has every record: the wall seconds from its start, and the cart sessions' figures."""
    log_path = settings.data / "streaming.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    available = committed_end_offsets(settings.kafka, [settings.kafka.raw_topic])
    assert available is not None, "the broker does not answer"
    started = time.monotonic()
    figures: dict[str, float] = {}
    with log_path.open("ab") as log:
        stream = subprocess.Popen(
            [sys.executable, str(base.home / "jobs" / "streaming_medallion.py")],
            env=child_environment(
                settings.data,
                settings.kafka,
                PYSPARK_PYTHON=sys.executable,
                SALESINSIGHTS_CARTS__ENABLED=str(carts).lower(),
            ),
            stdout=log,
            stderr=log,
        )
        try:
            archived = carted = False
            while not (archived and (carted or not carts)):
                if stream.poll() is not None:
                    raise SystemExit(f"the streaming application exited early; see {log_path}")
                done = processed_records(settings)
                print(
                    f"\r  {'with' if carts else 'without'} cart sessions: archived {done:,} / {total:,}",
                    end="",
                )
                if not archived and done >= total:
                    archived, figures["archive_done_s"] = True, round(time.monotonic() - started, 1)
                if carts and not carted and cart_sessions_caught_up(settings, available):
                    carted, figures["carts_done_s"] = True, round(time.monotonic() - started, 1)
                time.sleep(1)
            print()
            figures["all_done_s"] = round(time.monotonic() - started, 1)
        finally:
            stream.send_signal(signal.SIGTERM)
            stream.wait(180)
    if carts:
        records = read_table(settings, GOLD_CART_ABANDONMENT, ["kind"])["kind"].value_counts()
        figures["carts_eps"] = round(total / figures["carts_done_s"], 1)
        figures["abandoned_carts"] = int(records.get("abandoned", 0))
        figures["recovered_lines"] = int(records.get("recovered", 0))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=3, help="source days to replay (from 2019-10-01)")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: real volume, ~135k events a day")
    parser.add_argument("--keep", action="store_true", help="keep the bench data folder")
    args = parser.parse_args(argv)
    # A SIGTERM (or Ctrl-C) still stops the streaming child and cleans up, through the finally blocks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    base = get_settings()
    settings = bench_settings(base, args.days, args.scale)
    # The platform's broker (started under its supervisor unless it runs), with topics of the bench's own.
    if up(base, ["kafka"]) != 0:
        raise SystemExit("the platform's broker did not start; see make logs")
    ensure_topics(settings.kafka)

    drop_range(settings, settings.source.start, settings.source.end - timedelta(days=1))
    producer = LandingProducer(settings, transactional_id=f"bench-{settings.kafka.raw_topic}")
    for path in producer.pending_files():
        producer.produce_file(path)
    total = len(read_topic(settings.kafka, settings.kafka.raw_topic, timeout_s=300))
    print(f"replaying {total:,} events ({args.days} days at scale {args.scale}) through the stream")

    # The same topic twice, on empty lakes: the application as `make up` runs it, then without its cart
    # sessions query (the peer), so the query's cost shows as a ratio measured in the same run.
    with_carts = run_stream(base, settings, total, carts=True)
    without = settings.model_copy(update={"data_dir": settings.data / "without-carts"})
    without_carts = run_stream(base, without, total, carts=False)
    figures = batch_figures(read_table(settings, AUDIT_STREAM_BATCHES)) | with_carts
    peer = batch_figures(read_table(without, AUDIT_STREAM_BATCHES))
    figures |= {
        "stream_eps_without_carts": peer["stream_eps"],
        "batch_p95_s_without_carts": peer["batch_p95_s"],
        "archive_with_carts_ratio": round(figures["stream_eps"] / peer["stream_eps"], 2),
        "all_done_s_without_carts": without_carts["all_done_s"],
    }
    if not args.keep:
        shutil.rmtree(settings.data, ignore_errors=True)
        delete_topics(settings.kafka)
    print(" ".join(f"{key}={value}" for key, value in figures.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
