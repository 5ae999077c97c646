# The platform's Airflow configuration in this shell, for the `airflow` CLI by hand:
#   source scripts/airflow_env.sh && airflow dags list
# (salesinsights/platform/airflow_env.py derives it from the settings, so a SALESINSIGHTS_* override such as
# SALESINSIGHTS_DATA_DIR moves Airflow's home and database along with it.)
# shellcheck shell=bash
_si_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_si_exports="$(cd "$_si_root" && "$_si_root/.venv/bin/python" -m salesinsights.platform.airflow_env)" || {
  echo "error: cannot read the project settings (is .venv set up? run 'make setup')" >&2
  unset _si_root _si_exports
  return 1
}
eval "$_si_exports"
unset _si_root _si_exports
