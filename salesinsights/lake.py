"""Reading the lake without Spark: delta-rs, as the dashboard and users' notebooks do.

from salesinsights.catalog import GOLD_PRODUCT_SALES_DAILY
from salesinsights.lake import read_table
daily = read_table(get_settings(), GOLD_PRODUCT_SALES_DAILY)        # a pandas DataFrame
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from salesinsights.catalog import AUDIT_STREAM_BATCHES, Table, engine_type
from salesinsights.settings import Settings

_PRIMITIVES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "long": pa.int64(),
    "integer": pa.int32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),  # Delta's timestamp: microseconds, UTC
    "binary": pa.binary(),
}


def arrow_type(delta_type: str) -> pa.DataType:
    """The Arrow type of a catalogue type name, as delta-rs reads and writes it."""
    return engine_type(delta_type, _PRIMITIVES, pa.decimal128, pa.list_, pa.map_, pa.struct)


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema([pa.field(c.name, arrow_type(c.type), c.nullable) for c in table.columns])


def read_table(settings: Settings, table: Table, columns: list[str] | None = None) -> pd.DataFrame:
    return DeltaTable(table.path(settings)).to_pandas(columns=columns)


def processed_records(settings: Settings) -> int:
    """Kafka records the streaming medallion has fully processed (0 before its first batch)."""
    try:
        audit = read_table(settings, AUDIT_STREAM_BATCHES)
    except TableNotFoundError:
        return 0
    return int(audit["kafka_records"].sum())
