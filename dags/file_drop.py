"""
### file_drop — the minute-level file drop

Every minute this DAG writes the next slice of the event source (one source day by default) as a CSV file
into the landing folder, where the producer picks it up and sends it to Kafka. The logic lives in
`salesinsights.landing`; this DAG only wires it to Airflow.

* **Scheduled run**: drops the next slice. A re-run of the same DAG run (a retry, a clear, or
  `airflow dags test file_drop <same logical date>`) drops the same slice again, which changes nothing
  (same file name, same bytes). When the whole source has been dropped, the task is *skipped* with a
  message saying so.
* **Replay** (manual trigger with `replay_from` and `replay_to`): drops every slice of those days,
  inclusive. Slices already landed (or produced) are not written again.

Settings (landing folder, slice length, source scale) come from `salesinsights.settings`
(`SALESINSIGHTS_*` environment variables).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from salesinsights.airflow_notifier import task_defaults

if TYPE_CHECKING:
    from salesinsights.landing import DropResult

log = logging.getLogger(__name__)

DATE_PARAM_SCHEMA: dict[str, Any] = {"type": ["null", "string"], "format": "date"}


def _summary(result: DropResult) -> dict[str, Any]:
    return {
        "file": result.path.name,
        "rows": result.rows,
        "status": result.status,
        "slice_start": result.source_slice.start.isoformat(),
        "slice_end": result.source_slice.end.isoformat(),
    }


def _run_key(context: Mapping[str, Any]) -> str:
    """What identifies the DAG run in the drop ledger: its logical date, unique per DAG and kept when the
    same interval is run again (a scheduled run's id is derived from it, while `airflow dags test` makes a
    new run id each time); the run id for a run without a logical date."""
    logical_date = context["dag_run"].logical_date
    return logical_date.isoformat() if logical_date else str(context["run_id"])


def _replay_range(params: dict[str, Any]) -> tuple[date, date] | None:
    """Both replay dates, or None when neither is given. Bad parameters fail the task without retries."""
    first, last = params.get("replay_from"), params.get("replay_to")
    if not first and not last:
        return None
    if not first or not last:
        raise AirflowFailException(
            f"A replay needs both replay_from and replay_to (got {first!r} and {last!r})."
        )
    try:
        replay = date.fromisoformat(str(first)), date.fromisoformat(str(last))
    except ValueError as error:
        raise AirflowFailException(f"Replay dates must be YYYY-MM-DD: {error}") from error
    if replay[1] < replay[0]:
        raise AirflowFailException(f"The replay range ends ({last}) before it starts ({first}).")
    return replay


@dag(
    dag_id="file_drop",
    description="Drops the next source slice into the landing folder every minute (or replays a range).",
    doc_md=__doc__,
    schedule="* * * * *",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=2),
    tags=["salesinsights", "ingest"],
    # Dropping is idempotent, so retrying is safe; a short delay keeps up with the one-minute schedule.
    default_args=task_defaults(2, retry_delay=timedelta(seconds=15), execution_timeout=timedelta(hours=1)),
    params={
        "replay_from": Param(
            None,
            **DATE_PARAM_SCHEMA,
            title="Replay from",
            description="Manual runs only: first source day to replay (YYYY-MM-DD). Needs replay_to too; "
            "leave both empty to drop the next slice.",
        ),
        "replay_to": Param(
            None,
            **DATE_PARAM_SCHEMA,
            title="Replay to",
            description="Manual runs only: last source day to replay, inclusive (YYYY-MM-DD).",
        ),
    },
)
def file_drop() -> None:
    @task
    def drop() -> dict[str, Any]:
        """Drop the run's slice, or the replay range when both replay dates are given."""
        # Imported here: the DAG file stays cheap to parse; the source generator loads only in the task.
        from salesinsights.landing import drop_next_slice, drop_range
        from salesinsights.settings import get_settings

        context = get_current_context()
        settings = get_settings()
        run_key = _run_key(context)
        replay = _replay_range(dict(context["params"]))

        if replay is not None:
            first, last = replay
            log.info("Replaying source days %s..%s into %s", first, last, settings.landing_dir)
            results = drop_range(settings, first, last)
            if not results:
                raise AirflowSkipException(
                    f"Nothing to replay: {first}..{last} lies outside the source "
                    f"({settings.source.start}..{settings.source.end})."
                )
            for dropped in results:
                log.info("%s: %s (%d rows)", dropped.status, dropped.path, dropped.rows)
            written = sum(dropped.status == "written" for dropped in results)
            log.info(
                "Replay done: %d slices, %d written, %d already landed",
                len(results),
                written,
                len(results) - written,
            )
            return {
                "replay_from": first.isoformat(),
                "replay_to": last.isoformat(),
                "slices": len(results),
                "written": written,
                "rows": sum(dropped.rows for dropped in results),
                "files": [dropped.path.name for dropped in results],
            }

        result = drop_next_slice(settings, run_key)
        if result is None:
            raise AirflowSkipException(
                f"The source is exhausted: every slice up to {settings.source.end} has been dropped. "
                "Nothing to do; replay a range with replay_from/replay_to to drop files again."
            )
        log.info(
            "Run %s: %s %s (%d rows, slice %s..%s)",
            run_key,
            result.status,
            result.path,
            result.rows,
            result.source_slice.start,
            result.source_slice.end,
        )
        return _summary(result)

    drop()


file_drop()
