"""A platform at rest, for the runs that need one (`make chaos`, `make bench-freshness`'s quiet figures):
Airflow's file drop paused, and everything landed produced and read by every streaming query."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from salesinsights.platform.airflow_api import AirflowApi
from salesinsights.platform.health import status_file, supervised_report
from salesinsights.platform.watchdog import TopicOffsets, committed_end_offsets, unread_records
from salesinsights.producer.service import STATUS_FILE as PRODUCER_STATUS
from salesinsights.settings import Settings
from salesinsights.spark.progress import STATUS_FILE as STREAMING_STATUS

FILE_DROP = "file_drop"
# Reports older than this are of a process that no longer writes them.
_REPORT_FRESH_S = 5


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.5) -> float:
    """Polls until the condition holds; returns the seconds it took. TimeoutError names what it waited for."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout_s:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(poll_s)
    return time.monotonic() - began


def queries_caught_up(report: dict[str, Any] | None, available: TopicOffsets) -> dict[str, bool]:
    """For each query in the streaming application's health report: whether it has read every record
    committed to the topics (`available`)."""
    return {
        name: bool(query.get("end_offsets")) and not unread_records(available, query["end_offsets"])
        for name, query in ((report or {}).get("queries") or {}).items()
    }


def caught_up(settings: Settings) -> bool:
    """Every landing file produced, and every committed record read by every streaming query of the
    supervised platform."""
    landing = settings.landing_dir
    if landing.is_dir() and any(not path.name.startswith(".") for path in landing.iterdir()):
        return False
    producer, producer_age = status_file(settings, PRODUCER_STATUS)
    if (
        producer is None
        or producer_age > _REPORT_FRESH_S
        or producer.get("current_file")
        or producer.get("waiting_for_broker")
    ):
        return False
    stream, stream_age = supervised_report(settings, "streaming", STREAMING_STATUS)
    if stream is None or stream_age > _REPORT_FRESH_S or not stream.get("active"):
        return False
    available = committed_end_offsets(settings.kafka, [settings.kafka.raw_topic])
    if available is None:
        return False
    queries = queries_caught_up(stream, available)
    return bool(queries) and all(queries.values())


def _file_drop(settings: Settings) -> tuple[AirflowApi, bool] | None:
    """Airflow's API, logged in, and whether file_drop is paused; None when Airflow does not answer."""
    api = AirflowApi(settings)
    try:
        api.log_in()
        return api, bool(api.dags()[FILE_DROP]["is_paused"])
    except (OSError, ValueError, KeyError):
        return None


@contextmanager
def file_drop_paused(settings: Settings, say: Callable[[str], None], timeout_s: float) -> Iterator[bool]:
    """Airflow's file_drop DAG paused (and the drop under way finished), then unpaused as it was. Yields
    whether Airflow answered: without it, nothing drops files anyway."""
    found = _file_drop(settings)
    if found is None:
        yield False
        return
    api, was_paused = found
    if not was_paused:
        api.call("PATCH", f"/api/v2/dags/{FILE_DROP}", {"is_paused": True})
        say(f"airflow: {FILE_DROP} paused")
    try:
        # A drop already under way still lands its file after the pause (measured: 2019-10-01's landed
        # after the chaos run had found the lake empty and sent the real sample's 2019-10-01 hours, which
        # then fell behind the watermark).
        wait_until(lambda: not api.busy_tasks(FILE_DROP), timeout_s, f"{FILE_DROP}'s drop under way")
        yield True
    finally:
        if not was_paused:
            with suppress(OSError, ValueError):
                api.log_in()
                api.unpause(FILE_DROP)
                say(f"airflow: {FILE_DROP} unpaused")


def file_drop_running(settings: Settings) -> bool:
    """Whether Airflow answers with the file_drop DAG unpaused: a replay is landing files."""
    found = _file_drop(settings)
    return found is not None and not found[1]
