"""The nightly CLV run: the job (summary, fit, score, write, audit, publish), its command line, its Airflow
steps and its quality gate."""
