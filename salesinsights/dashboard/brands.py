"""Product → brand, for ranking brands: gold has no brand, silver.events has it on every event.

Silver is large, so it is never scanned per request: the map is built once, then refreshed in the background
from the newest partitions only (the replay moves forward in event time, so new products and changed brands
show up there). A product takes the brand of its latest event that names one."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime

import duckdb
import pandas as pd
from deltalake import DeltaTable

log = logging.getLogger(__name__)

_LATEST_BRANDS = """
    SELECT product_id, arg_max(brand, event_time) AS brand, max(event_time) AS seen, max(event_date) AS day
    FROM events
    WHERE brand IS NOT NULL AND brand <> ''
    GROUP BY product_id
"""


class BrandCatalogue:
    def __init__(self, silver_events_path: str) -> None:
        self.path = silver_events_path
        self._table: DeltaTable | None = None
        # An int64 index even when empty: on any other, pandas would look product ids up as positions.
        self._latest = pd.DataFrame(
            columns=["brand", "seen"], index=pd.Index([], dtype="int64", name="product_id")
        )
        self._since: date | None = None
        self.refreshed_at: datetime | None = None
        self._lock = threading.Lock()

    @property
    def brands(self) -> pd.Series:
        """product_id → brand; replaced whole on refresh, so a reader never sees half an update."""
        return self._latest["brand"]

    def refresh(self) -> None:
        with self._lock:
            if self._table is None:
                if not DeltaTable.is_deltatable(self.path):
                    return
                self._table = DeltaTable(self.path)
            else:
                self._table.update_incremental()
            # The newest day seen last time is read again: it may have grown since.
            predicate = [("event_date", ">=", self._since)] if self._since else None
            events = self._table.to_pyarrow_dataset(file_pruning_predicate=predicate)
            with duckdb.connect() as connection:
                connection.execute("SET threads = 1")  # a background job on a shared machine
                connection.register("events", events)
                found = connection.execute(_LATEST_BRANDS).fetch_df().set_index("product_id")
            if not found.empty:
                newest_day = pd.Timestamp(found["day"].max()).date()
                self._since = max(newest_day, self._since or date.min)
                self._latest = self._merge(found[["brand", "seen"]])
            self.refreshed_at = datetime.now(UTC)

    def _merge(self, found: pd.DataFrame) -> pd.DataFrame:
        if self._latest.empty:
            return found
        combined = pd.concat([self._latest, found])
        newest_first = combined.sort_values("seen", ascending=False, kind="stable")
        return newest_first[~newest_first.index.duplicated(keep="first")]
