# Airflow's configuration, derived from the project settings. Source it before running the `airflow` CLI:
#   source scripts/airflow_env.sh && airflow dags list
# scripts/airflow.sh sources it after lib.sh; tests source it through `bash -c`. It reads the SI_* exports
# of `python -m salesinsights.settings` (evaluating them itself when SI_AIRFLOW_HOME is not set yet), so a
# SALESINSIGHTS_* override (e.g. SALESINSIGHTS_DATA_DIR) moves Airflow's home and database along with it.
# Nothing secret is written here: Airflow generates its keys into $AIRFLOW_HOME/airflow.cfg and the admin
# password into $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated, both under the git-ignored data/.
# shellcheck shell=bash

SI_ROOT="${SI_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
if [ -z "${SI_AIRFLOW_HOME:-}" ]; then
  _si_exports="$(cd "$SI_ROOT" && "$SI_ROOT/.venv/bin/python" -m salesinsights.settings)" || {
    echo "error: cannot read the project settings (is .venv set up? run 'make setup')" >&2
    return 1
  }
  eval "$_si_exports"
  unset _si_exports
fi

# Host part of a URL: an IPv6 literal needs brackets.
case "$SI_BIND_HOST" in
  *:*) SI_AIRFLOW_URL="http://[$SI_BIND_HOST]:$SI_AIRFLOW_PORT" ;;
  *) SI_AIRFLOW_URL="http://$SI_BIND_HOST:$SI_AIRFLOW_PORT" ;;
esac
export SI_AIRFLOW_URL

export PATH="$SI_ROOT/.venv/bin:$PATH"
export AIRFLOW_HOME="$SI_AIRFLOW_HOME"

# Where the DAGs and plugins are; nothing else is loaded.
export AIRFLOW__CORE__DAGS_FOLDER="$SI_HOME/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$SI_HOME/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
# New DAGs start paused; `airflow.sh start` unpauses the ones that should run.
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=True

# Metadata: SQLite in the Airflow home unless a database URL is configured (Postgres).
if [ -n "${SI_AIRFLOW_DATABASE_URL:-}" ]; then
  export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="$SI_AIRFLOW_DATABASE_URL"
else
  export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$SI_AIRFLOW_HOME/airflow.db"
fi

# A 2-core box: the LocalExecutor (Airflow 3 runs it on SQLite too; SequentialExecutor is gone) with two
# worker processes, one DAG-parsing process and one API server worker.
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__CORE__PARALLELISM=2
export AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG=2
export AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES=1
export AIRFLOW__API__WORKERS=1
# New or changed DAG files show up within seconds, not the default five minutes.
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=10
export AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL=30
export AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL=0
export AIRFLOW__TRIGGERER__CAPACITY=100

# The API server (UI, REST API and the task execution API) on the configured loopback address only.
export AIRFLOW__API__HOST="$SI_BIND_HOST"
export AIRFLOW__API__PORT="$SI_AIRFLOW_PORT"
export AIRFLOW__API__BASE_URL="$SI_AIRFLOW_URL"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="$SI_AIRFLOW_URL/execution/"
export AIRFLOW__API__EXPOSE_CONFIG=False

# The simple auth manager with one admin; Airflow generates its password at the API server's first start.
export AIRFLOW__CORE__AUTH_MANAGER=airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:ADMIN"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=False
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE="$SI_AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"

# Task code: the project package is installed editable in .venv; jobs/ is imported from the project home.
export PYTHONPATH="$SI_HOME${PYTHONPATH:+:$PYTHONPATH}"
export PYSPARK_PYTHON="$SI_ROOT/.venv/bin/python"
export PYSPARK_DRIVER_PYTHON="$SI_ROOT/.venv/bin/python"
