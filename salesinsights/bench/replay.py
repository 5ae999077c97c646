"""`make bench-replay`: the whole source (the five months, 20.7 M events at scale 1.0, or the original CSV
files when the source is set to them) from landing files through the producer, Kafka and every streaming
query to gold, on the platform's own processes, and then the lake checked against the files.

The source's day files are landed first (timed apart: that is the file drop's work, not the pipeline's); then
the producer and the streaming application start together, as the supervisor runs them, on the platform's
broker with topics and a data folder of the bench's own. Each stage's time runs from that start until it has
everything: the producer every file, each streaming query every committed record. The whole stack's RSS
(broker, producer, application with its JVM) is sampled each second. The anchor, measured in the same run on
the same topic: a plain Spark Kafka → Delta append with the records parsed into typed columns, so the
medallion's cost shows as a ratio. Data goes to <data>/bench/replay-<time>, removed afterwards unless --keep.
The last line is key=value pairs."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import psutil

from salesinsights.bench.stream import batch_figures
from salesinsights.catalog import AUDIT_STREAM_BATCHES
from salesinsights.kafka_admin import delete_topics, ensure_topics
from salesinsights.lake import read_table
from salesinsights.landing import drop_range
from salesinsights.platform.control import up
from salesinsights.platform.health import status_file
from salesinsights.platform.quiet import queries_caught_up
from salesinsights.platform.supervisor import Supervisor
from salesinsights.platform.watchdog import TopicOffsets, committed_end_offsets
from salesinsights.producer.service import STATUS_FILE as PRODUCER_STATUS
from salesinsights.settings import ENV_PREFIX, Settings, child_environment, get_settings
from salesinsights.spark.progress import STATUS_FILE as STREAMING_STATUS
from salesinsights.verify.replay_check import check_replay

POLL_S = 1.0
# What a user may tune for a run (how the stream batches, the cart sessions query on or off); the data folder
# and the topics stay the bench's own.
PASSED_SETTINGS = (f"{ENV_PREFIX}SPARK__", f"{ENV_PREFIX}CARTS__", f"{ENV_PREFIX}PRODUCER__")


def log(message: str) -> None:
    print(f"bench-replay: {message}", file=sys.stderr, flush=True)


def replay_settings(base: Settings, scale: float | None) -> Settings:
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    source = base.source if scale is None else base.source.model_copy(update={"scale": scale})
    return base.model_copy(
        update={
            "data_dir": base.data / "bench" / f"replay-{stamp}",
            "lake_root": None,
            "checkpoint_root": None,
            "kafka": base.kafka.with_topic_prefix(f"replay-{stamp}"),
            "source": source,
        }
    )


class StackMemory:
    """The summed RSS of some processes and all their descendants, sampled on a thread; its peak."""

    def __init__(self, roots: list[int]) -> None:
        self.roots = roots
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def current_bytes(self) -> int:
        total = 0
        for root in self.roots:
            try:
                parent = psutil.Process(root)
                for process in [parent, *parent.children(recursive=True)]:
                    total += process.memory_info().rss
            except psutil.Error:  # a process that ended between the listing and the reading
                continue
        return total

    def _sample(self) -> None:
        while not self._stop.wait(POLL_S):
            self.peak_bytes = max(self.peak_bytes, self.current_bytes())

    def __enter__(self) -> StackMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Stages:
    """Seconds from the start until each stage had everything (None while it has not); the streaming
    queries are known once the application reports them."""

    producer: float | None = None
    queries: dict[str, float | None] = field(default_factory=dict)

    def done(self) -> bool:
        return self.producer is not None and bool(self.queries) and None not in self.queries.values()

    def finished(self) -> dict[str, float]:
        return {name: seconds for name, seconds in self.queries.items() if seconds is not None}


def producer_done(settings: Settings, pid: int) -> bool:
    """The producer has taken every landing file."""
    report, _ = status_file(settings, PRODUCER_STATUS)
    return bool(
        report
        and report.get("pid") == pid
        and report.get("pending_files") == 0
        and not report.get("current_file")
        and not any(not path.name.startswith(".") for path in settings.landing_dir.iterdir())
    )


def caught_up_queries(settings: Settings, pid: int, available: TopicOffsets) -> dict[str, bool]:
    """For each streaming query: whether it has read every committed record."""
    report, _ = status_file(settings, STREAMING_STATUS)
    if not report or report.get("pid") != pid:
        return {}
    return queries_caught_up(report, available)


def child(settings: Settings, command: list[str], log_name: str) -> subprocess.Popen[bytes]:
    """One of the platform's processes on the bench's data, lake, checkpoints and topics (whatever a .env
    file says), in a session of its own, with a transactional id of its own: the platform's producer, on the
    same broker, would otherwise fence it, and it the platform's."""
    tuned = {key: value for key, value in os.environ.items() if key.startswith(PASSED_SETTINGS)}
    own = {
        f"{ENV_PREFIX}LAKE_ROOT": settings.lake,
        f"{ENV_PREFIX}CHECKPOINT_ROOT": settings.checkpoints,
        f"{ENV_PREFIX}PRODUCER__TRANSACTIONAL_ID": f"bench-{settings.kafka.raw_topic}",
    }
    log_path = settings.log_dir / log_name
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as output:
        return subprocess.Popen(
            command,
            env=child_environment(
                settings.data, settings.kafka, PYSPARK_PYTHON=sys.executable, **tuned | own
            ),
            stdout=output,
            stderr=output,
            start_new_session=True,
        )


def stop_child(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the in-flight work finishes), then after 180 s SIGKILL to its whole session."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(180)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def raw_end_offsets(settings: Settings) -> TopicOffsets | None:
    """The raw topic's committed end offsets, once the broker tells them for every partition."""
    available = committed_end_offsets(settings.kafka, [settings.kafka.raw_topic])
    if not available or not available.get(settings.kafka.raw_topic):
        return None
    return available


def replay(settings: Settings, broker_pid: int, timeout_s: float) -> tuple[Stages, int]:
    """The producer and the streaming application from their start until every stage has everything:
    the stages' seconds and the stack's peak RSS."""
    stages = Stages()
    producer = child(settings, [sys.executable, "-m", "salesinsights.producer"], "producer.log")
    stream = child(
        settings, [sys.executable, str(settings.home / "jobs" / "streaming_medallion.py")], "stream.log"
    )
    started = time.monotonic()
    available: TopicOffsets | None = None
    try:
        with StackMemory([broker_pid, producer.pid, stream.pid]) as memory:
            while not stages.done():
                elapsed = time.monotonic() - started
                if elapsed > timeout_s:
                    raise SystemExit(f"not done after {timeout_s:.0f} s; see {settings.log_dir}")
                for name, process in (("producer", producer), ("streaming application", stream)):
                    if process.poll() is not None:
                        raise SystemExit(f"the {name} exited early; see {settings.log_dir}")
                if stages.producer is None and producer_done(settings, producer.pid):
                    stages.producer = round(elapsed, 1)
                if stages.producer is not None and available is None:
                    available = raw_end_offsets(settings)
                if available is not None:
                    for name, caught_up in caught_up_queries(settings, stream.pid, available).items():
                        if caught_up and stages.queries.get(name) is None:
                            stages.queries[name] = round(elapsed, 1)
                        stages.queries.setdefault(name, None)
                time.sleep(POLL_S)
    finally:
        try:
            stop_child(producer)
        finally:
            stop_child(stream)
    return stages, memory.peak_bytes


def plain_append_seconds(settings: Settings) -> tuple[float, int]:
    """The anchor: Spark's own Kafka → Delta append of the raw topic, each record's JSON parsed and its
    fields cast to their types (no rulebook, no quarantine, no idempotence), in one availableNow run of a
    session configured as the platform's. The seconds from the query's
    start to its end (the session's start left out), and the rows it wrote."""
    from pyspark.sql import functions as F

    from salesinsights.spark.events import typed_record
    from salesinsights.spark.session import build_spark

    spark = build_spark(settings, "salesinsights-bench-plain-append")
    target = settings.data / "plain_append"
    try:
        records = (
            spark.readStream.format("kafka")
            .option("kafka.bootstrap.servers", settings.kafka.bootstrap_servers)
            .option("kafka.isolation.level", "read_committed")
            .option("subscribe", settings.kafka.raw_topic)
            .option("startingOffsets", "earliest")
            .load()
        )
        typed = records.select(typed_record(F.col("value")).alias("event"), "partition", "offset")
        typed = typed.select("event.*", "partition", "offset")
        began = time.monotonic()
        query = (
            typed.writeStream.format("delta")
            .option("checkpointLocation", str(target / "_checkpoint"))
            .trigger(availableNow=True)
            .start(str(target / "events"))
        )
        query.awaitTermination()
        seconds = time.monotonic() - began
        rows = spark.read.format("delta").load(str(target / "events")).count()
    finally:
        spark.stop()
    return seconds, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scale", type=float, help="the source's scale (default: the platform's source, 1.0)"
    )
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds before giving up")
    parser.add_argument("--keep", action="store_true", help="keep the bench's data folder and topics")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    base = get_settings()
    settings = replay_settings(base, args.scale)
    if up(base, ["kafka"]) != 0:
        raise SystemExit("the platform's broker did not start; see make logs")
    broker_pid = Supervisor(base).process("kafka").pid
    ensure_topics(settings.kafka)
    try:
        figures = run_bench(settings, broker_pid, args.timeout)
    finally:
        if not args.keep:
            shutil.rmtree(settings.data, ignore_errors=True)
            delete_topics(settings.kafka)
    print(" ".join(f"{key}={value}" for key, value in figures.items()))
    return 0 if figures["rows_exact"] == "true" else 1


def run_bench(settings: Settings, broker_pid: int, timeout_s: float) -> dict[str, object]:
    source = settings.source
    log(f"landing {source.kind} source days {source.start}..{source.end} at scale {source.scale:g} ...")
    began = time.monotonic()
    drop_range(settings, source.start, source.end - timedelta(days=1))
    landing_s = time.monotonic() - began
    files = sorted(path for path in settings.landing_dir.iterdir() if not path.name.startswith("."))
    log(f"{len(files)} files landed in {landing_s:.0f} s; producer and streaming application starting")
    stages, peak_rss = replay(settings, broker_pid, timeout_s)
    rejected = list(settings.rejected_dir.iterdir()) if settings.rejected_dir.is_dir() else []
    if rejected:  # the check's truth is the produced files: a rejected one would pass unseen
        raise SystemExit(f"the producer rejected {len(rejected)} files; see {settings.rejected_dir}")
    queries = stages.finished()
    wall_s = max(queries.values())
    log(f"replayed in {wall_s:.0f} s; checking the lake against the files ...")
    began = time.monotonic()
    check = check_replay(settings)
    check_s = time.monotonic() - began
    for problem in check.problems:
        log(f"difference: {problem}")
    archive = batch_figures(read_table(settings, AUDIT_STREAM_BATCHES))
    events = archive["stream_events"]
    log("the anchor: a plain Kafka → Delta append of the same topic ...")
    plain_s, plain_rows = plain_append_seconds(settings)
    plain_eps = plain_rows / plain_s
    figures: dict[str, object] = {
        "events": events,
        "files": len(files),
        "landing_s": round(landing_s, 1),
        "wall_s": wall_s,
        "eps": round(events / wall_s, 1),
        "producer_s": stages.producer,
        "producer_eps": round(events / (stages.producer or 1), 1),
    }
    for name, seconds in queries.items():
        figures[f"{name}_s"] = seconds
        figures[f"{name}_eps"] = round(events / seconds, 1)
    figures |= {
        "archive_batch_eps": archive["stream_eps"],
        "archive_batches": archive["stream_batches"],
        "archive_batch_p95_s": archive["batch_p95_s"],
        "plain_append_s": round(plain_s, 1),
        "plain_append_eps": round(plain_eps, 1),
        "archive_to_plain_ratio": round(archive["stream_eps"] / plain_eps, 2),
        "peak_rss_gb": round(peak_rss / 2**30, 2),
        "check_s": round(check_s, 1),
        "lost": check.lost,
        "duplicated": check.duplicated,
        "rows_exact": str(check.exact).lower(),
    }
    return figures


if __name__ == "__main__":
    raise SystemExit(main())
