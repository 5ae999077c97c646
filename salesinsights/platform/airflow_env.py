"""Airflow's configuration, derived from the project settings: the environment of every Airflow process the
platform starts, and of the `airflow` CLI by hand (`scripts/airflow_env.sh` exports it into a shell).

Nothing secret is set here: Airflow generates its keys into $AIRFLOW_HOME/airflow.cfg and the admin password
into $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated, both under the git-ignored data/."""

from __future__ import annotations

import os
import shlex
import sys
from datetime import datetime
from pathlib import Path

from salesinsights.settings import Settings, get_settings

ADMIN_USER = "admin"


def passwords_file(settings: Settings) -> Path:
    return settings.airflow_home / "simple_auth_manager_passwords.json.generated"


def airflow_environment(settings: Settings) -> dict[str, str]:
    """The AIRFLOW__* variables and the paths Airflow's processes need."""
    url = settings.services.airflow_url
    venv_bin = str(Path(sys.executable).parent)
    home = str(settings.home)
    database = settings.services.airflow_database_url or f"sqlite:///{settings.airflow_home / 'airflow.db'}"
    return {
        "AIRFLOW_HOME": str(settings.airflow_home),
        "PATH": os.pathsep.join([venv_bin, os.environ.get("PATH", "/usr/bin:/bin")]),
        # Where the DAGs and plugins are; nothing else is loaded. New DAGs start paused: `make up` unpauses
        # the ones that should run.
        "AIRFLOW__CORE__DAGS_FOLDER": f"{home}/dags",
        "AIRFLOW__CORE__PLUGINS_FOLDER": f"{home}/plugins",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        # Metadata: SQLite in the Airflow home unless a database URL is configured (Postgres).
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
        # A 2-core box: the LocalExecutor with two worker processes, one DAG-parsing process and one API
        # server worker.
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "2",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__API__WORKERS": "1",
        # New or changed DAG files show up within seconds, not the default five minutes.
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
        "AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL": "0",
        "AIRFLOW__TRIGGERER__CAPACITY": "100",
        # The API server (UI, REST API and the task execution API) on the configured address only.
        "AIRFLOW__API__HOST": settings.services.bind_host,
        "AIRFLOW__API__PORT": str(settings.services.airflow_port),
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__API__EXPOSE_CONFIG": "False",
        # The simple auth manager with one admin; Airflow generates its password at the first start.
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:ADMIN",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file(settings)),
        # Task code: the package is installed editable in .venv; jobs/ is imported from the project home.
        "PYTHONPATH": os.pathsep.join(filter(None, [home, os.environ.get("PYTHONPATH", "")])),
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    }


# What grows with every run. Not the DAGs themselves (`dag`, `dag_version`): a DAG that has not been parsed
# for a while would lose its pause state and its history's versions.
CLEANED_METADATA = (
    "dag_run",
    "task_instance",
    "task_instance_history",
    "task_reschedule",
    "xcom",
    "log",
    "job",
    "callback",
    "trigger",
    "asset_event",
    "import_error",
)


def db_clean_environment(settings: Settings) -> dict[str, str]:
    """This process's environment with Airflow's real metadata connection: Airflow 3 gives a task's process
    a connection string that refuses the database ("airflow-db-not-allowed:///"), and `airflow db clean`,
    run by the airflow_db_clean task, is the one command that needs it."""
    database = airflow_environment(settings)["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    return os.environ | {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database}


def db_clean_arguments(settings: Settings, now: datetime) -> list[str]:
    """`airflow db clean` of the run metadata older than the retention (Airflow keeps each DAG's newest
    scheduled run)."""
    before = now - settings.services.airflow_metadata_retention
    tables = ",".join(CLEANED_METADATA)
    return [
        "db",
        "clean",
        "--clean-before-timestamp",
        before.isoformat(),
        "--tables",
        tables,
        "--skip-archive",
        "--yes",
    ]


def shell_exports(settings: Settings) -> str:
    return "\n".join(
        f"export {name}={shlex.quote(value)}" for name, value in airflow_environment(settings).items()
    )


if __name__ == "__main__":
    print(shell_exports(get_settings()))
