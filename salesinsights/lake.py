"""Reading the lake without Spark: delta-rs, as the dashboard and users' notebooks do.

from salesinsights.lake import read_table
from salesinsights.spark.tables import GOLD_PRODUCT_SALES_DAILY
daily = read_table(get_settings(), GOLD_PRODUCT_SALES_DAILY)        # a pandas DataFrame
"""

from __future__ import annotations

import pandas as pd
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from salesinsights.settings import Settings
from salesinsights.spark.tables import AUDIT_STREAM_BATCHES, Table


def read_table(settings: Settings, table: Table, columns: list[str] | None = None) -> pd.DataFrame:
    return DeltaTable(table.path(settings)).to_pandas(columns=columns)


def processed_records(settings: Settings) -> int:
    """Kafka records the streaming medallion has fully processed (0 before its first batch)."""
    try:
        audit = read_table(settings, AUDIT_STREAM_BATCHES)
    except TableNotFoundError:
        return 0
    return int(audit["kafka_records"].sum())
