"""The Airflow Assets the DAGs pass on: what one DAG's success makes ready for another (data-aware
scheduling, in place of clock times that merely hope the work before them is done)."""

from __future__ import annotations

from airflow.sdk import Asset

# The lake's event days validated by data_quality_nightly with no failed critical expectation. Its events
# carry the days (`days`, ISO dates) and the newest of them (`newest_day`); clv_nightly runs on them.
LAKE_VALIDATED = Asset(name="lake_validated", uri="salesinsights://lake/validated", group="salesinsights")
