"""The failure notifier of every DAG, on Airflow's notifier API: when a task fails for good (after its
retries), `salesinsights.alerts` tells the configured target; and the task defaults that carry it. With
`airflow_assets`, the only module of the package that imports Airflow, and only dags/ import it (see
ARCHITECTURE.md)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseNotifier

from salesinsights.alerts import Failure, send
from salesinsights.settings import get_settings

log = logging.getLogger(__name__)

OWNER = "salesinsights"


def failure_of(context: Any) -> Failure:
    """The alert of a failed task, from its Airflow context (whatever part of it is there)."""
    task_instance = context.get("task_instance") or context.get("ti")
    dag = context.get("dag")
    return Failure(
        dag_id=str(getattr(dag, "dag_id", None) or getattr(task_instance, "dag_id", "?")),
        task_id=str(getattr(task_instance, "task_id", "?")),
        run_id=str(context.get("run_id") or getattr(task_instance, "run_id", "?")),
        try_number=int(getattr(task_instance, "try_number", 0) or 0),
        error=repr(context.get("exception") or context.get("reason") or "unknown"),
        log_url=str(getattr(task_instance, "log_url", "") or ""),
    )


class FailureNotifier(BaseNotifier):
    def notify(self, context: Any) -> None:
        failure = failure_of(context)
        try:
            where = send(get_settings(), failure)
        except (OSError, ValueError) as undelivered:  # an alert that cannot go out must not hide the failure
            log.error("could not send the failure alert (%s): %s", undelivered, failure.text())
            return
        log.info("failure alert sent to %s", where)


def task_defaults(retries: int, retry_delay: timedelta | None = None, **more: Any) -> dict[str, Any]:
    """The `default_args` of every DAG of the project: the owner, the failure notifier, and the retries
    (and anything `more`) that the DAG's work calls for."""
    defaults: dict[str, Any] = {
        "owner": OWNER,
        "on_failure_callback": [FailureNotifier()],
        "retries": retries,
    }
    if retry_delay is not None:
        defaults["retry_delay"] = retry_delay
    return defaults | more
