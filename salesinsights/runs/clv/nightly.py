"""What the clv_nightly DAG runs: one step of a CLV run, as a child process (`jobs/clv_nightly.py --step …`,
through `ops.run_job`). Spark never runs inside an Airflow process."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any


def clv_run_id(dag_run_id: str) -> str:
    """The CLV run of an Airflow DAG run: the same for every retry and clear of that DAG run, so each step
    finds what the previous one left, and a repeated step replaces its own earlier attempt."""
    return f"clv-{hashlib.sha256(dag_run_id.encode()).hexdigest()[:16]}"


def step_arguments(
    step: str, run_id: str, as_of: date | None, horizon_months: int, monthly_discount_rate: float
) -> list[str]:
    """The arguments of `jobs/clv_nightly.py` for one step of a run."""
    arguments = [
        f"--step={step}",
        f"--run-id={run_id}",
        f"--horizon-months={horizon_months}",
        f"--discount-rate={monthly_discount_rate!r}",
    ]
    return arguments + ([f"--as-of={as_of.isoformat()}"] if as_of else [])


def as_of_date(as_of_param: str | None, event_extras: Iterable[Mapping[str, Any]]) -> date | None:
    """The as-of date of a clv_nightly run: the trigger form's, else the newest day that the data-quality
    runs which triggered it validated, else None (the job's default, silver's latest event date)."""
    if as_of_param:
        return date.fromisoformat(as_of_param)
    validated = [str(extra["newest_day"]) for extra in event_extras if extra.get("newest_day")]
    return date.fromisoformat(max(validated)) if validated else None
