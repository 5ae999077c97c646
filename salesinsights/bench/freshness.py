"""`make bench-freshness`: seconds from a purchase's landing file to the purchase counted by the API.

Needs the platform running (Kafka, producer, streaming job, dashboard). For `--warmup` + `--duration` seconds
it lands files at a steady event rate (load.py); the files of the last `--duration` seconds each carry
probe purchases with known product ids and prices. It polls /api/sales until each probe is counted in its
window with its exact price; a probe's freshness is the wall-clock time from its file landing to the response
that first shows it.

Two phases, each with targets of its own: `replay`, on the platform as `make up` leaves it (Airflow's file
drop replaying a day of the source a minute), then `quiet`, with the file drop paused (and unpaused after)
and everything landed worked off first. Progress goes to stderr; stdout gets ONE line of key=value figures,
each phase's prefixed, e.g.
    replay_running=true replay_freshness_p50_s=… quiet_settle_s=41 quiet_freshness_p95_s=… target_met=false
Exit status 0 when every probe was counted and each phase's p95 and max are within its targets.
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from functools import partial

import httpx
import pyarrow.compute as pc
from deltalake import DeltaTable

from salesinsights.bench.load import FILE_PREFIX, EventClock, LoadWriter, Probe
from salesinsights.catalog import AUDIT_STREAM_BATCHES
from salesinsights.dashboard.models import Health
from salesinsights.landing import drops_held
from salesinsights.platform.quiet import caught_up, file_drop_paused, file_drop_running, wait_until
from salesinsights.settings import Settings, get_settings


def log(message: str) -> None:
    print(f"bench-freshness: {message}", file=sys.stderr, flush=True)


def nearest_rank(values: list[float], quantile: float) -> float:
    """The smallest value with at least `quantile` of the values at or below it (no interpolation)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(quantile * len(ordered)) - 1, 0)]


class Api:
    def __init__(self, url: str) -> None:
        # Loopback: never through a proxy from the environment.
        self.client = httpx.Client(base_url=url, timeout=10, trust_env=False)

    def health(self) -> Health:
        response = self.client.get("/api/health")
        response.raise_for_status()
        return Health.model_validate(response.json())

    def counted(self, window_start: datetime, probes: list[Probe]) -> dict[int, tuple[Decimal, int]]:
        """product id → (revenue, units) of the probes' products in their window, for those gold has."""
        params: dict[str, str | int | list[int]] = {
            "window_start": window_start.isoformat(),
            "windows": 1,
            "limit": 1000,
            "product_id": [probe.product_id for probe in probes],
        }
        response = self.client.get("/api/sales", params=params)
        response.raise_for_status()
        rows = response.json()["products"]
        return {row["product_id"]: (Decimal(str(row["revenue"])), row["units"]) for row in rows}


@dataclass
class Observations:
    freshness: dict[int, float] = field(default_factory=dict)
    wrong: dict[int, str] = field(default_factory=dict)
    missing: list[Probe] = field(default_factory=list)


class LoadThread(threading.Thread):
    """Lands the files on a fixed schedule (no drift) and hands over the probes that landed."""

    def __init__(self, writer: LoadWriter, warmup_files: int, total_files: int) -> None:
        super().__init__(name="bench-load", daemon=True)
        self.writer = writer
        self.warmup_files = warmup_files
        self.total_files = total_files
        self.landed: list[Probe] = []
        self.lock = threading.Lock()
        self.first_landed = self.last_landed = 0.0
        self.late_ticks = 0

    def run(self) -> None:
        start = time.monotonic()
        for tick in range(self.total_files):
            delay = start + tick * self.writer.interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -self.writer.interval:
                self.late_ticks += 1  # writing cannot keep the rate
            probes = self.writer.write_file(with_probes=tick >= self.warmup_files)
            self.last_landed = time.time()
            self.first_landed = self.first_landed or self.last_landed
            with self.lock:
                self.landed.extend(probes)

    def take_landed(self) -> list[Probe]:
        with self.lock:
            landed, self.landed = self.landed, []
        return landed


def window_of(moment: datetime, length: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return moment - (moment - epoch) % length


def observe(
    api: Api, load: LoadThread, clock: EventClock, window: timedelta, timeout: float, poll: float
) -> Observations:
    seen = Observations()
    pending: list[Probe] = []
    next_health = 0.0
    while True:
        pending += load.take_landed()
        if time.monotonic() >= next_health:
            newest = api.health().freshness.newest_event_time
            if newest:
                clock.catch_up(newest)
            next_health = time.monotonic() + 1
        by_window: dict[datetime, list[Probe]] = defaultdict(list)
        for probe in pending:
            by_window[window_of(probe.event_time, window)].append(probe)
        for window_start, probes in by_window.items():
            counted = api.counted(window_start, probes)
            answered = time.time()
            for probe in probes:
                if probe.product_id not in counted:
                    continue
                revenue, units = counted[probe.product_id]
                if (revenue, units) != (probe.price, 1):
                    seen.wrong[probe.product_id] = f"expected 1 unit for {probe.price}: {units} for {revenue}"
                seen.freshness[probe.product_id] = answered - probe.landed_at
        pending = [probe for probe in pending if probe.product_id not in seen.freshness]
        if not load.is_alive() and not load.landed:
            if not pending:
                return seen
            if time.time() - load.last_landed > timeout:
                seen.missing = pending
                return seen
        time.sleep(poll)


def processed_rate(settings: Settings, since: float, until: float) -> float | None:
    """Kafka records per second that the streaming job's batches finished between the two wall-clock times."""
    path = AUDIT_STREAM_BATCHES.path(settings)
    if not DeltaTable.is_deltatable(path):
        return None
    start, end = (datetime.fromtimestamp(moment, UTC) for moment in (since, until))
    batches = DeltaTable(path).to_pyarrow_table(
        columns=["kafka_records"], filters=[("finished_at", ">=", start), ("finished_at", "<=", end)]
    )
    return float(pc.sum(batches["kafka_records"]).as_py() or 0) / (until - since)


@dataclass(frozen=True)
class Targets:
    p95_s: float
    max_s: float


def measure(
    settings: Settings, api: Api, options: argparse.Namespace, targets: Targets
) -> tuple[dict[str, object], bool]:
    """One run of the load with its probes: the figures, and whether every probe was counted right within
    the targets."""
    health = api.health()
    # Probes at the newest event time in gold are not late; an empty gold has no watermark yet.
    start_at = (
        health.freshness.newest_event_time
        or health.freshness.newest_window_end
        or datetime.combine(settings.source.start, clock_time(), UTC)
    )
    window = timedelta(seconds=health.window_seconds) if health.window_seconds else settings.spark.window
    if health.stream.last_batch_finished_at is None:
        log("warning: no stream batch in the audit table yet; is the streaming job running?")
    clock = EventClock(start_at)
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    writer = LoadWriter(
        settings.landing_dir,
        clock,
        options.rate,
        options.probes_per_file,
        settings.source.start,
        settings.source.seed,
        drops_held=partial(drops_held, settings),
    )
    warmup_files = round(options.warmup / writer.interval)
    load = LoadThread(writer, warmup_files, warmup_files + round(options.duration / writer.interval))
    log(
        f"{options.rate} events/s for {options.warmup:g}+{options.duration:g} s into {settings.landing_dir}, "
        f"event time from {start_at:%Y-%m-%d %H:%M:%S}, probes checked at {api.client.base_url}"
    )
    load.start()
    seen = observe(api, load, clock, window, options.timeout, options.poll)
    input_eps = writer.events / (load.last_landed - load.first_landed + writer.interval)
    processed = processed_rate(settings, load.first_landed, load.last_landed + writer.interval)
    backlog = sum(1 for path in settings.landing_dir.glob(f"{FILE_PREFIX}*") if path.is_file())

    values = list(seen.freshness.values())
    p50, p95, worst = (nearest_rank(values, q) for q in (0.5, 0.95, 1.0)) if values else (math.nan,) * 3
    met = not seen.missing and not seen.wrong and p95 <= targets.p95_s and worst <= targets.max_s
    for product_id, problem in seen.wrong.items():
        log(f"probe {product_id} counted wrong: {problem}")
    if seen.missing:
        log(f"{len(seen.missing)} probes not counted within {options.timeout:g} s of the last file")
    if load.late_ticks:
        log(f"warning: the writer fell behind its schedule {load.late_ticks} times")
    figures: dict[str, object] = {
        "freshness_count": len(values),
        "freshness_p50_s": f"{p50:.2f}",
        "freshness_p95_s": f"{p95:.2f}",
        "freshness_max_s": f"{worst:.2f}",
        "input_eps": round(input_eps),
        "processed_eps": "nan" if processed is None else round(processed),
        "missing": len(seen.missing),
        "wrong": len(seen.wrong),
        "landing_backlog_files": backlog,
    }
    return figures, met


def run(settings: Settings, options: argparse.Namespace, settled: Callable[[], bool] | None = None) -> int:
    """The phases asked for: `replay`, on the platform as it is (make up's file drop replaying a day a
    minute), then `quiet`, with the file drop paused and all that landed worked off (`settled`, by default
    the supervised platform caught up)."""
    api = Api(options.url or settings.services.dashboard_url)
    try:
        api.health()
    except httpx.HTTPError as error:
        log(f"the dashboard does not answer ({error}): start the platform first (make up)")
        return 2
    figures: dict[str, object] = {}
    met = True
    try:
        if options.phases in ("both", "replay"):
            replaying = file_drop_running(settings)
            if not replaying:
                log("warning: Airflow's file_drop is not running: the replay figures are of a quiet platform")
            phase, phase_met = measure(
                settings, api, options, Targets(options.target_p95, options.target_max)
            )
            figures |= {"replay_running": str(replaying).lower()}
            figures |= {f"replay_{key}": value for key, value in phase.items()}
            met = met and phase_met
        if options.phases in ("both", "quiet"):
            with file_drop_paused(settings, log, options.settle_timeout):
                log("waiting until everything landed is produced and streamed …")
                settle_s = wait_until(
                    settled or partial(caught_up, settings), options.settle_timeout, "the platform to settle"
                )
                quiet = Targets(options.quiet_target_p95, options.quiet_target_max)
                phase, phase_met = measure(settings, api, options, quiet)
            figures |= {"quiet_settle_s": round(settle_s)}
            figures |= {f"quiet_{key}": value for key, value in phase.items()}
            met = met and phase_met
    except TimeoutError as late:
        log(str(late))
        return 2
    figures["target_met"] = str(met).lower()
    print(" ".join(f"{key}={value}" for key, value in figures.items()), flush=True)
    return 0 if met else 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--rate", type=int, default=5000, help="events per second landed (default 5000)")
    add("--duration", type=float, default=60, help="seconds of measured load (default 60)")
    add("--warmup", type=float, default=10, help="seconds of load before probing (default 10)")
    add("--probes-per-file", type=int, default=1, help="probe purchases per file (default 1)")
    add("--timeout", type=float, default=30, help="seconds to wait for the last probes (default 30)")
    add("--poll", type=float, default=0.2, help="seconds between API polls (default 0.2)")
    add(
        "--phases", choices=("both", "replay", "quiet"), default="both", help="what to measure (default both)"
    )
    add("--target-p95", type=float, default=5.0, help="seconds, while the replay runs (default 5)")
    add("--target-max", type=float, default=10.0, help="seconds, while the replay runs (default 10)")
    add("--quiet-target-p95", type=float, default=2.0, help="seconds, quiet (default 2)")
    add("--quiet-target-max", type=float, default=4.0, help="seconds, quiet (default 4)")
    add(
        "--settle-timeout", type=float, default=900, help="seconds to wait for a quiet platform (default 900)"
    )
    add("--url", help="the dashboard's URL (default: from the settings)")
    options = parser.parse_args(argv)
    if options.rate < 1 or options.duration <= 0 or options.warmup < 0 or options.probes_per_file < 1:
        parser.error("--rate, --probes-per-file: at least 1; --duration: positive; --warmup: not negative")
    return options


def main(argv: list[str] | None = None) -> int:
    return run(get_settings(), parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
