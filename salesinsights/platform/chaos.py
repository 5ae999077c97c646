"""`make chaos`: the faults an operator meets, one after another, against a platform that runs under its
supervisor (`make up`), during a replay of generated days and the real sample; then the lake checked against
the ground truth of every archived file.

The faults: poison files (an undecodable name, an unreadable file, a file copied in place slowly, a far-
future purchase); the producer SIGKILLed mid-file; the broker stopped and started again while a file is mid-
transaction; the streaming application (JVM and driver) SIGKILLed at random moments, frozen with SIGSTOP
until the watchdog restarts it, and SIGKILLed mid-batch and its checkpoint reset (refused while it runs); a
second producer and a second streaming application started (both must be refused); the dashboard SIGKILLed
(back within 30 s). After each fault the recovery time is measured: from the fault until every landing file
is produced and the stream's Kafka lag is back to 0.

It lands files and moves the checkpoint of the platform it runs on: run it on a scratch data folder
(`SALESINSIGHTS_DATA_DIR=/tmp/chaos make up && SALESINSIGHTS_DATA_DIR=/tmp/chaos make chaos`). Airflow's
file_drop DAG is paused meanwhile, so that only the chaos run lands files."""

from __future__ import annotations

import argparse
import gzip
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

from deltalake.exceptions import TableNotFoundError

from salesinsights.catalog import SILVER_EVENTS
from salesinsights.lake import read_table
from salesinsights.ops import Exit
from salesinsights.platform.health import dashboard as dashboard_probe
from salesinsights.platform.health import status_file
from salesinsights.platform.kafka_server import wait_until_answering
from salesinsights.platform.quiet import caught_up, file_drop_paused, wait_until
from salesinsights.platform.supervisor import Supervisor
from salesinsights.producer.service import STATUS_FILE as PRODUCER_STATUS
from salesinsights.schema import CSV_HEADER
from salesinsights.settings import Settings, get_settings
from salesinsights.sources import slice_lines
from salesinsights.verify.lake_check import LakeCheck, check_lake

# The real sample beside the checkout (see its SOURCE.md), when it is there.
REAL_SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "real_sample"
# Landed in event-time order around the generated October days, so that no event is behind the watermark:
# the first hours of 2019-10-01 before them, November and January after them.
SAMPLE_BEFORE = "events_sample_2.csv.gz"
SAMPLES_AFTER = ("events_sample_3.csv.gz", "events_sample_4.csv.gz")
DASHBOARD_BACK_WITHIN_S = 30
RECOVERY_TIMEOUT_S = 900


class ChaosError(RuntimeError):
    """The platform did not behave as it must under a fault."""


@dataclass(frozen=True)
class Recovery:
    fault: str
    seconds: float


@dataclass
class Chaos:
    settings: Settings
    rng: random.Random
    say: Callable[[str], None] = print
    recoveries: list[Recovery] = field(default_factory=list)
    faults: int = 0
    files_landed: int = 0

    real_sample: Path | None = None
    first_day: date = date(2019, 10, 2)

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(self.settings)
        self.days: Iterator[date] = (self.first_day + timedelta(days=n) for n in range(10_000))

    # --- what the platform looks like ------------------------------------------------------------------

    def pid(self, service: str) -> int:
        process = self.supervisor.process(service)
        if process.state != "RUNNING":
            raise ChaosError(f"{service} is {process.state}, not running")
        return process.pid

    def caught_up(self) -> bool:
        return caught_up(self.settings)

    def wait(self, condition: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.5) -> float:
        """Polls until the condition holds; returns the seconds it took."""
        try:
            return wait_until(condition, timeout_s, what, poll_s)
        except TimeoutError as late:
            raise ChaosError(str(late)) from None

    def recovered(self, fault: str, since: float, faults: int = 1) -> None:
        """Waits until the platform has caught up after `faults` faults injected at `since`."""
        self.faults += faults
        self.wait(self.caught_up, RECOVERY_TIMEOUT_S, f"recovery from: {fault}")
        seconds = time.monotonic() - since
        self.recoveries.append(Recovery(fault, seconds))
        self.say(f"  {fault}: recovered in {seconds:.1f} s")

    # --- landing files -----------------------------------------------------------------------------------

    def _name(self, label: str) -> str:
        """Names that sort in landing order, as the ground truth reads the archive."""
        self.files_landed += 1
        return f"events_chaos_{self.files_landed:04d}_{label}.csv.gz"

    def land_bytes(self, name: str, data: bytes) -> Path:
        """Written under a dot-name, then renamed: how the file drop writes."""
        landing = self.settings.landing_dir
        landing.mkdir(parents=True, exist_ok=True)
        temporary = landing / f".{name}"
        temporary.write_bytes(data)
        return temporary.replace(landing / name)

    def next_day(self, hours: int = 24) -> tuple[str, bytes]:
        """The next generated source day (its first `hours`) at the platform's source scale: name, bytes."""
        day = next(self.days)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        lines = slice_lines(self.settings.source, start, start + timedelta(hours=hours))
        text = "\n".join([CSV_HEADER, *lines]) + "\n"
        return self._name(day.isoformat()), gzip.compress(text.encode(), mtime=0)

    def land_day(self, hours: int = 24) -> Path:
        return self.land_bytes(*self.next_day(hours))

    def land_sample(self, sample: str) -> None:
        assert self.real_sample is not None
        began = time.monotonic()
        self.land_bytes(self._name(sample.removesuffix(".csv.gz")), (self.real_sample / sample).read_bytes())
        self.wait(self.caught_up, RECOVERY_TIMEOUT_S, f"the real sample {sample}")
        self.say(f"  {sample} streamed in {time.monotonic() - began:.1f} s")

    def wait_in_flight(self, path: Path) -> None:
        """Until the producer has the file's transaction open."""
        self.wait(
            lambda: (status_file(self.settings, PRODUCER_STATUS)[0] or {}).get("current_file") == path.name,
            60,
            f"the producer to start {path.name}",
            poll_s=0.02,
        )

    # --- the faults --------------------------------------------------------------------------------------

    def poison_files(self) -> None:
        began = time.monotonic()
        landing = self.settings.landing_dir
        (landing / os.fsdecode(b"events_chaos_bad\xffname.csv")).write_text(f"{CSV_HEADER}\n")
        if os.geteuid() == 0:  # root reads any file: a corrupt gzip is what it cannot read
            self.land_bytes(self._name("unreadable"), b"\x1f\x8b\x08\x00 this is no gzip stream")
        else:
            unreadable = self.land_bytes(self._name("unreadable"), gzip.compress(CSV_HEADER.encode()))
            unreadable.chmod(0)
        # A day copied in place, slowly: chunks with pauses shorter than the producer's settle time.
        name, data = self.next_day()
        settle_s = self.settings.producer.settle.total_seconds()
        chunk = len(data) // 8 + 1
        with (landing / name).open("wb") as copy:
            for offset in range(0, len(data), chunk):
                copy.write(data[offset : offset + chunk])
                copy.flush()
                time.sleep(settle_s / 2)
        # One purchase years ahead of the replay.
        future = "2023-06-01 10:00:04 UTC,purchase,5881589,1487580005134238553,,chaos,2.50,42,chaos-future"
        self.land_bytes(self._name("far_future"), gzip.compress(f"{CSV_HEADER}\n{future}\n".encode()))
        self.recovered("poison files (undecodable name, unreadable, copied in place, far future)", began, 4)

    def kill_producer_mid_file(self) -> None:
        path = self.land_day()
        self.wait_in_flight(path)
        began = time.monotonic()
        os.killpg(self.pid("producer"), signal.SIGKILL)
        self.recovered("producer SIGKILLed mid-file", began)

    def restart_broker_mid_transaction(self) -> None:
        path = self.land_day()
        self.wait_in_flight(path)
        began = time.monotonic()
        self.supervisor.stop("kafka")
        time.sleep(self.rng.uniform(1, 5))
        self.supervisor.start("kafka")
        wait_until_answering(self.settings, 120)
        self.recovered("broker stopped and started mid-transaction", began)

    def kill_stream(self) -> None:
        self.land_day()
        time.sleep(self.rng.uniform(1, 8))
        began = time.monotonic()
        os.killpg(self.pid("streaming"), signal.SIGKILL)
        self.recovered("streaming application SIGKILLed", began)

    def freeze_stream(self) -> None:
        frozen = self.pid("streaming")
        began = time.monotonic()
        os.killpg(frozen, signal.SIGSTOP)
        self.land_day(hours=6)
        self.wait(
            lambda: self.supervisor.process("streaming").pid not in (frozen, 0),
            RECOVERY_TIMEOUT_S,
            "the watchdog to restart the frozen stream",
        )
        self.recovered("streaming application frozen (SIGSTOP)", began)

    def stream_reset(self) -> subprocess.CompletedProcess[str]:
        """`salesinsights stream reset`, the operator's documented cure for a corrupt checkpoint."""
        command = [sys.executable, "-m", "salesinsights.cli", "stream", "reset"]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    def reset_checkpoint_mid_batch(self) -> None:
        """The checkpoint moved aside right after the stream died in the middle of a batch (its rows half
        written); the reset is refused while the stream runs."""
        path = self.land_day()
        refused = self.stream_reset()
        if refused.returncode != 1 or "already running" not in refused.stderr:
            raise ChaosError(f"a reset was not refused while the stream runs: exit {refused.returncode}")
        self.wait(lambda: not path.exists(), 120, f"the producer to take {path.name}")
        time.sleep(self.rng.uniform(1, 4))
        began = time.monotonic()
        killed = self.pid("streaming")
        mid_batch = not self.caught_up()
        os.killpg(killed, signal.SIGKILL)
        # The supervisor restarts it at once: stop that restart, reset, start.
        self.wait(
            lambda: self.supervisor.process("streaming").pid not in (killed, 0),
            60,
            "the supervisor to restart the killed stream",
        )
        self.supervisor.stop("streaming")
        reset = self.stream_reset()
        if reset.returncode != 0 or "checkpoint moved to" not in reset.stdout:
            raise ChaosError(f"the reset failed: exit {reset.returncode}\n{reset.stdout}{reset.stderr}")
        self.say(f"  {reset.stdout.strip()} ({'mid-batch' if mid_batch else 'after the batch'})")
        self.supervisor.start("streaming")
        self.recovered("stream SIGKILLed, its checkpoint reset", began)

    def second_instances(self) -> None:
        for service, command in (
            ("producer", [sys.executable, "-m", "salesinsights.producer"]),
            ("streaming", [sys.executable, str(self.settings.home / "jobs" / "streaming_medallion.py")]),
        ):
            began = time.monotonic()
            second = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
            if second.returncode != Exit.ALREADY_RUNNING or "already running" not in second.stderr:
                raise ChaosError(
                    f"a second {service} was not refused: exit {second.returncode}\n{second.stderr}"
                )
            self.recovered(f"second {service} started (refused)", began)

    def kill_dashboard(self) -> None:
        began = time.monotonic()
        os.killpg(self.pid("dashboard"), signal.SIGKILL)
        self.faults += 1

        def answering() -> bool:
            return dashboard_probe(self.settings)[0]

        self.wait(lambda: not answering(), 10, "the killed dashboard to stop answering", poll_s=0.1)
        self.wait(answering, DASHBOARD_BACK_WITHIN_S, "the dashboard to answer again", poll_s=0.2)
        seconds = time.monotonic() - began
        self.recoveries.append(Recovery("dashboard SIGKILLed", seconds))
        self.say(f"  dashboard SIGKILLed: answering again after {seconds:.1f} s")

    # --- the run -----------------------------------------------------------------------------------------

    def run(self) -> LakeCheck:
        self.wait(self.caught_up, RECOVERY_TIMEOUT_S, "the platform to be caught up before the faults")
        steps: list[tuple[str, Callable[[], None]]] = [
            ("poison files", self.poison_files),
            *[("producer SIGKILL", self.kill_producer_mid_file)] * 3,
            *[("broker restart", self.restart_broker_mid_transaction)] * 3,
            *[("streaming SIGKILL", self.kill_stream)] * 3,
            ("streaming SIGSTOP", self.freeze_stream),
            ("checkpoint reset after a SIGKILL", self.reset_checkpoint_mid_batch),
            ("second instances", self.second_instances),
            ("dashboard SIGKILL", self.kill_dashboard),
        ]
        if self.real_sample is not None:
            steps.insert(0, ("real sample", partial(self.land_sample, SAMPLE_BEFORE)))
            steps += [("real sample", partial(self.land_sample, sample)) for sample in SAMPLES_AFTER]
        for number, (name, step) in enumerate(steps, start=1):
            self.say(f"[{number}/{len(steps)}] {name}")
            step()
        self.say("checking the lake against the archived files …")
        return check_lake(self.settings)

    def summary(self, check: LakeCheck) -> str:
        seconds = [recovery.seconds for recovery in self.recoveries]
        return (
            f"faults={self.faults} lost={check.lost} duplicated={check.duplicated} "
            f"exact={str(check.exact).lower()} recovery_p50_s={statistics.median(seconds):.1f} "
            f"recovery_max_s={max(seconds):.1f}"
        )


def newest_event_day(settings: Settings) -> date | None:
    """The newest event date in silver; None before the first event."""
    try:
        days = read_table(settings, SILVER_EVENTS, columns=["event_date"])["event_date"]
    except TableNotFoundError:
        return None
    return None if days.empty else date.fromisoformat(str(days.max())[:10])


def chaos_after(settings: Settings, seed: int, real_sample: Path, newest: date | None) -> Chaos:
    """The chaos run of a platform whose silver ends at `newest`. The real sample's first hours are
    2019-10-01's: only a platform that has streamed nothing takes them without their being behind its
    watermark. On a platform that has, the generated days follow its newest."""
    fresh = newest is None and (real_sample / SAMPLE_BEFORE).is_file()
    if not fresh:
        print("the real sample is left out: the platform has streamed events already, or it is not there")
    return Chaos(
        settings,
        random.Random(seed),
        real_sample=real_sample if fresh else None,
        first_day=date(2019, 10, 2) if newest is None else newest + timedelta(days=1),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=7, help="the random moments of the faults")
    parser.add_argument("--real-sample", type=Path, default=REAL_SAMPLE, help="folder of the real sample")
    args = parser.parse_args(argv)
    settings = get_settings()
    before = Chaos(settings, random.Random(args.seed))
    if not before.supervisor.answering():
        print("error: the platform is not up (make up)", file=sys.stderr)
        return 1
    try:
        with file_drop_paused(settings, before.say, RECOVERY_TIMEOUT_S):
            # What was landed before the pause (make up's file_drop starts at once) is streamed first, so
            # that the replay's days can follow it: none of them is then behind the watermark.
            before.wait(before.caught_up, RECOVERY_TIMEOUT_S, "the files landed before the chaos run")
            chaos = chaos_after(settings, args.seed, args.real_sample, newest_event_day(settings))
            check = chaos.run()
    except (ChaosError, TimeoutError) as failed:
        print(f"error: {failed}", file=sys.stderr)
        return 1
    for problem in check.problems:
        print(f"  difference: {problem}")
    for recovery in chaos.recoveries:
        print(f"  {recovery.seconds:7.1f} s  {recovery.fault}")
    print(chaos.summary(check))
    return 0 if check.exact else 1


if __name__ == "__main__":
    sys.exit(main())
