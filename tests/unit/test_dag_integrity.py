"""Every DAG in dags/ imports cleanly and carries what the team relies on: an owner, tags, documentation and
a schedule. A DAG that is deliberately manual-only (schedule=None) says so with the tag ``manual``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from salesinsights.airflow_assets import LAKE_VALIDATED
from salesinsights.airflow_notifier import FailureNotifier
from salesinsights.platform.control import UNPAUSED_DAGS
from tests.support import REPO, parsed_dags

DAGS_FOLDER = REPO / "dags"
MANUAL_TAG = "manual"


@pytest.fixture(scope="module")
def dag_bag(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with parsed_dags(tmp_path_factory.mktemp("airflow_home"), DAGS_FOLDER) as bag:
        yield bag


def test_no_import_errors(dag_bag: Any) -> None:
    assert dag_bag.import_errors == {}, "\n\n".join(
        f"{path}:\n{error}" for path, error in dag_bag.import_errors.items()
    )


def test_every_dag_file_defines_a_dag(dag_bag: Any) -> None:
    files_with_dags = {Path(dag.fileloc).resolve() for dag in dag_bag.dags.values()}
    dag_files = {path.resolve() for path in DAGS_FOLDER.glob("*.py") if not path.name.startswith("_")}
    assert dag_files <= files_with_dags, f"no DAG in {sorted(map(str, dag_files - files_with_dags))}"


def test_expected_dags_present(dag_bag: Any) -> None:
    assert "file_drop" in dag_bag.dag_ids


def test_dags_are_documented_owned_tagged_and_scheduled(dag_bag: Any) -> None:
    problems = []
    for dag_id, dag in sorted(dag_bag.dags.items()):
        if not (dag.doc_md or "").strip():
            problems.append(f"{dag_id}: no doc_md")
        if not dag.tags:
            problems.append(f"{dag_id}: no tags")
        for task in dag.tasks:
            if not task.owner or task.owner.lower() == "airflow":  # "airflow" is Airflow's default
                problems.append(f"{dag_id}.{task.task_id}: no owner")
        if dag.schedule is None and MANUAL_TAG not in dag.tags:
            problems.append(f"{dag_id}: no schedule (tag it '{MANUAL_TAG}' if it is manual-only)")
    assert not problems, "\n".join(problems)


def test_every_task_notifies_its_failure(dag_bag: Any) -> None:
    silent = [
        f"{dag_id}.{task.task_id}"
        for dag_id, dag in sorted(dag_bag.dags.items())
        for task in dag.tasks
        if not any(isinstance(callback, FailureNotifier) for callback in task.on_failure_callback or [])
    ]
    assert not silent, f"tasks without the failure notifier: {silent}"


def test_no_cycles(dag_bag: Any) -> None:
    for dag in dag_bag.dags.values():
        dag.check_cycle()  # raises AirflowDagCycleException


def test_file_drop_shape(dag_bag: Any) -> None:
    dag = dag_bag.dags["file_drop"]
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert set(dag.params.keys()) >= {"replay_from", "replay_to"}
    for name in ("replay_from", "replay_to"):
        param = dag.params.get_param(name)
        assert param.value is None
        assert param.description
    assert [task.task_id for task in dag.tasks] == ["drop"]
    assert all(task.retries >= 1 for task in dag.tasks)


def test_clv_waits_on_the_data_quality_asset(dag_bag: Any) -> None:
    """clv_nightly has no clock: it is scheduled on the asset that only data_quality_nightly's validation
    task updates, and every DAG starts unpaused with `make up`."""
    clv, quality = dag_bag.dags["clv_nightly"], dag_bag.dags["data_quality_nightly"]
    assert clv.schedule == [LAKE_VALIDATED]
    updaters = [
        f"{dag_id}.{task.task_id}"
        for dag_id, dag in dag_bag.dags.items()
        for task in dag.tasks
        if LAKE_VALIDATED in task.outlets
    ]
    assert updaters == ["data_quality_nightly.validate_days"]
    assert quality.schedule == "30 3 * * *" and quality.catchup is False
    assert set(quality.params.keys()) == {"day_from", "day_to"}
    assert sorted(UNPAUSED_DAGS) == sorted(dag_bag.dag_ids)
