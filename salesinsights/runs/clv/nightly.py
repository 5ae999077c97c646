"""What the clv_nightly DAG runs: one step of a CLV run, as a child process (`jobs/clv_nightly.py --step …`,
through `ops.run_job`). Spark never runs inside an Airflow process."""

from __future__ import annotations

import hashlib
from datetime import date


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
