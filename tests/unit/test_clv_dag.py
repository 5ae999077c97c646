"""The clv_nightly DAG's shape (write, audit, publish, report; parameters in the trigger form) and the
command lines its tasks run; the CLI's argument checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from salesinsights.airflow_assets import LAKE_VALIDATED
from salesinsights.clv.snapshot import check_run_id
from salesinsights.runs.clv.cli import _arguments
from salesinsights.runs.clv.nightly import as_of_date, clv_run_id, step_arguments
from tests.support import REPO, parsed_dags


@pytest.fixture(scope="module")
def clv_dag(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    airflow_home = tmp_path_factory.mktemp("airflow_home")
    with parsed_dags(airflow_home, REPO / "dags" / "clv_nightly.py") as bag:
        assert bag.import_errors == {}
        yield bag.dags["clv_nightly"]


def test_dag_runs_write_audit_publish_then_report(clv_dag: Any) -> None:
    assert clv_dag.catchup is False
    assert clv_dag.max_active_runs == 1
    assert clv_dag.schedule == [LAKE_VALIDATED]  # after the data-quality gate, not at a clock time
    order = {task.task_id: {t.task_id for t in task.downstream_list} for task in clv_dag.tasks}
    assert order == {"stage": {"audit"}, "audit": {"publish"}, "publish": {"report"}, "report": set()}
    assert all(task.owner == "salesinsights" and task.retries >= 1 for task in clv_dag.tasks)


def test_dag_parameters_are_in_the_trigger_form(clv_dag: Any) -> None:
    params = clv_dag.params
    assert params.get_param("as_of").value is None
    assert params.get_param("horizon_months").value == 12
    assert params.get_param("discount_rate").value == 0.01
    for name in ("as_of", "horizon_months", "discount_rate"):
        assert params.get_param(name).description


def test_the_arguments_of_a_step() -> None:
    run_id = clv_run_id("scheduled__2026-01-02T02:00:00+00:00")
    assert run_id == clv_run_id("scheduled__2026-01-02T02:00:00+00:00") != clv_run_id("manual__x")
    assert check_run_id(run_id) == run_id
    arguments = step_arguments("audit", run_id, date(2020, 2, 29), 6, 0.02)
    assert arguments == [
        "--step=audit",
        f"--run-id={run_id}",
        "--horizon-months=6",
        "--discount-rate=0.02",
        "--as-of=2020-02-29",
    ]
    args, clv = _arguments(arguments)
    assert (args.step, args.run_id, args.as_of) == ("audit", run_id, date(2020, 2, 29))
    assert (clv.horizon_months, clv.monthly_discount_rate) == (6, 0.02)
    assert "--as-of" not in " ".join(step_arguments("stage", run_id, None, 12, 0.01))


def test_the_as_of_date_comes_from_the_form_else_the_newest_validated_day() -> None:
    events: list[dict[str, Any]] = [
        {"days": ["2019-10-03"], "newest_day": "2019-10-03"},
        {"newest_day": "2019-10-09"},
        {},
    ]
    assert as_of_date(None, events) == date(2019, 10, 9)
    assert as_of_date("2019-10-05", events) == date(2019, 10, 5)
    assert as_of_date(None, []) is None  # by hand: the job's default


@pytest.mark.parametrize(
    "argv",
    [
        ["--step", "publish"],  # a later step needs the run it works on
        ["--discount-rate", "1.5"],
        ["--horizon-months", "0"],
        ["--as-of", "2020-02-30"],
        ["--time-unit", "fortnight"],
    ],
)
def test_cli_rejects_bad_arguments(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _arguments(argv)
    assert exit_info.value.code == 2
