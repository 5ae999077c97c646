"""Gold as the dashboard sees it: Delta tables read with delta-rs (no Spark), each kept open and moved to its
newest version incrementally. Only the newest date partitions are read, and read again only when the table's
version has moved; older days are read on demand with a partition filter."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from salesinsights.catalog import AUDIT_STREAM_BATCHES, GOLD_PRODUCT_SALES, GOLD_PRODUCT_SALES_DAILY
from salesinsights.dashboard.live import LiveWindows
from salesinsights.settings import Settings

log = logging.getLogger(__name__)

# What the dashboard reads of each table: keys, the figures it shows, not the bookkeeping.
WINDOW_COLUMNS = [
    *GOLD_PRODUCT_SALES.keys,
    "window_end",
    "window_date",
    *GOLD_PRODUCT_SALES.measures,
    "buyer_ids",
]
DAILY_COLUMNS = [*GOLD_PRODUCT_SALES_DAILY.keys, *GOLD_PRODUCT_SALES_DAILY.measures]
BATCH_COLUMNS = [
    "batch_id",
    "finished_at",
    "kafka_records",
    "silver_new",
    "quarantined",
    "late_events",
    "max_event_time",
    "watermark",
]
BOOKKEEPING = ["updated_at"]
# The newest day and the one before: a span of windows may cross midnight.
KEPT_DAYS = 2
# Stream batches kept for the status line: those of the last minute before the newest one.
BATCH_LOOKBACK = timedelta(seconds=60)

_HUNDRED = pa.scalar(Decimal(100), pa.decimal128(3, 0))


def to_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas with money as whole cents (int64 `revenue_cents`): exact sums, no Decimal objects."""
    if "revenue" in table.column_names:
        cents = pc.cast(pc.multiply(table["revenue"], _HUNDRED), pa.int64())
        table = table.set_column(table.schema.get_field_index("revenue"), "revenue_cents", cents)
    return table.to_pandas()


def _output_columns(columns: list[str]) -> list[str]:
    return ["revenue_cents" if name == "revenue" else name for name in columns]


class LiveTable:
    """A Delta table kept open, moved to its newest version incrementally (only the new log entries)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._table: DeltaTable | None = None
        self.version: int | None = None

    def _advanced(self) -> DeltaTable | None:
        """The table, when its newest version is not the one read last."""
        if self._table is None:
            if not DeltaTable.is_deltatable(self.path):
                return None  # the streaming job has not created it yet
            self._table = DeltaTable(self.path)
        else:
            self._table.update_incremental()
        return None if self._table.version() == self.version else self._table

    def reopen(self) -> None:
        """Open afresh on the next refresh: after an error, the log state held may be what is wrong."""
        self._table = None
        self.version = None


class DatedTable(LiveTable):
    """A table partitioned by a date column; its newest partitions cached as a frame."""

    def __init__(self, path: str, date_column: str, columns: list[str]) -> None:
        super().__init__(path)
        self.date_column = date_column
        self.columns = columns + BOOKKEEPING
        self.frame = self.empty()
        # The same rows split by day once per version: requests pick a day without filtering.
        self.by_day: dict[date, pd.DataFrame] = {}

    def empty(self) -> pd.DataFrame:
        return pd.DataFrame(columns=_output_columns(self.columns))

    def refresh(self) -> bool:
        """Moves to the newest version; True when it moved (and the cached partitions were read again)."""
        table = self._advanced()
        if table is None:
            return False
        dates = self._newest_dates(table)
        self.frame = self.read(dates)
        self.by_day = {day: self.frame[self.frame[self.date_column] == day] for day in dates}
        self.version = table.version()
        return True

    def _newest_dates(self, table: DeltaTable) -> tuple[date, ...]:
        values = {date.fromisoformat(part[self.date_column]) for part in table.partitions()}
        return tuple(sorted(values)[-KEPT_DAYS:])

    def read(self, dates: Iterable[date]) -> pd.DataFrame:
        wanted = sorted(set(dates))
        if self._table is None or not wanted:
            return self.empty()
        dataset = self._table.to_pyarrow_dataset(file_pruning_predicate=[(self.date_column, "in", wanted)])
        return to_frame(dataset.to_table(columns=self.columns))


class BatchTable(LiveTable):
    """audit.stream_batches; the batches of the last minute before the newest one."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.frame = pd.DataFrame(columns=BATCH_COLUMNS)

    def refresh(self) -> bool:
        table = self._advanced()
        if table is None:
            return False
        self.frame = self._recent(table)
        self.version = table.version()
        return True

    @staticmethod
    def _recent(table: DeltaTable) -> pd.DataFrame:
        """One file per batch and no partitions: the files' statistics find the recent ones unread."""
        actions = pa.table(table.get_add_actions(flatten=True))
        if "max.finished_at" not in actions.column_names:
            return pd.DataFrame(columns=BATCH_COLUMNS)
        newest_finish = pc.max(actions["max.finished_at"]).as_py()
        if newest_finish is None:
            return pd.DataFrame(columns=BATCH_COLUMNS)
        cutoff = newest_finish - BATCH_LOOKBACK
        dataset = table.to_pyarrow_dataset(file_pruning_predicate=[("finished_at", ">=", cutoff)])
        rows = dataset.to_table(columns=BATCH_COLUMNS, filter=pc.field("finished_at") >= cutoff)
        return rows.to_pandas().sort_values("finished_at", ignore_index=True)


@dataclass(frozen=True)
class GoldSnapshot:
    """What the dashboard shows at one moment: the newest days of both gold tables and the recent batches."""

    windows: pd.DataFrame
    windows_by_day: dict[date, pd.DataFrame]
    daily: pd.DataFrame
    daily_by_day: dict[date, pd.DataFrame]
    batches: pd.DataFrame
    versions: dict[str, int | None]
    read_at: datetime

    @property
    def key(self) -> tuple[int | None, ...]:
        """Identifies the data: equal keys, equal answers (responses are cached by it)."""
        return tuple(self.versions.values())

    @property
    def ready(self) -> bool:
        return not self.windows.empty or not self.daily.empty

    @property
    def days(self) -> list[date]:
        return sorted(set(self.windows_by_day) | set(self.daily_by_day))


def overlay_live(stored: pd.DataFrame, live: pd.DataFrame) -> pd.DataFrame:
    """Window rows of both sources (the same columns), per product and window the one with more units: both
    totals only grow, so the larger is the more advanced; a tie keeps the stored (Delta) row."""
    if live.empty:
        return stored
    if stored.empty:
        return live.reset_index(drop=True)
    # Delta's timestamps come as microseconds in pytz's UTC, the topic's as datetime's: one dtype, or
    # pandas falls back to objects when it puts them together.
    live = live.astype(stored.dtypes.to_dict())
    both = pd.concat([stored.assign(_live=False), live.assign(_live=True)], ignore_index=True)
    newest = both.sort_values(["units", "_live"], ascending=[True, False], kind="stable").drop_duplicates(
        ["product_id", "window_start"], keep="last"
    )
    return newest.drop(columns="_live").sort_values(["window_start", "product_id"], ignore_index=True)


class GoldReader:
    """Thread-safe: requests share one snapshot, refreshed at most every `min_interval` seconds. With `live`,
    the newest windows come from the gold topic as well (see live.py)."""

    def __init__(
        self, settings: Settings, min_interval: float = 0.5, live: LiveWindows | None = None
    ) -> None:
        self.windows = DatedTable(GOLD_PRODUCT_SALES.path(settings), "window_date", WINDOW_COLUMNS)
        self.daily = DatedTable(GOLD_PRODUCT_SALES_DAILY.path(settings), "event_date", DAILY_COLUMNS)
        self.batches = BatchTable(AUDIT_STREAM_BATCHES.path(settings))
        self.live = live
        self.min_interval = min_interval
        self._lock = threading.Lock()
        self._checked = -float("inf")
        self._live_version = 0
        self._snapshot = self._take()

    def _windows(self) -> tuple[pd.DataFrame, dict[date, pd.DataFrame]]:
        """The newest days' windows: Delta's, with the live rows laid over them."""
        stored = self.windows.frame
        if self.live is None:
            return stored, self.windows.by_day
        live = self.live.frame(list(stored.columns))
        days = set(self.windows.by_day) | set(live["window_date"])
        kept = set(sorted(days)[-KEPT_DAYS:])
        frame = overlay_live(stored, live[live["window_date"].isin(kept)])
        return frame, {day: frame[frame["window_date"] == day] for day in sorted(kept)}

    def _take(self) -> GoldSnapshot:
        windows, windows_by_day = self._windows()
        return GoldSnapshot(
            windows=windows,
            windows_by_day=windows_by_day,
            daily=self.daily.frame,
            daily_by_day=self.daily.by_day,
            batches=self.batches.frame,
            versions={
                "gold.product_sales": self.windows.version,
                "gold.product_sales_daily": self.daily.version,
                "audit.stream_batches": self.batches.version,
                "live.gold_topic": self._live_version,
            },
            read_at=datetime.now(UTC),
        )

    def snapshot(self) -> GoldSnapshot:
        with self._lock:
            moved = False
            if time.monotonic() - self._checked >= self.min_interval:
                moved = any([self._refresh(table) for table in (self.windows, self.daily, self.batches)])
                self._checked = time.monotonic()
            # The live rows are in memory already: taken at every request, not every `min_interval`.
            if self.live is not None and self.live.version != self._live_version:
                self._live_version = self.live.version
                moved = True
            if moved:
                self._snapshot = self._take()
            return self._snapshot

    @staticmethod
    def _refresh(table: DatedTable | BatchTable) -> bool:
        """A table that fails to refresh keeps its last rows and is opened afresh next time."""
        try:
            return table.refresh()
        except Exception:
            log.exception("refreshing %s failed; serving its last rows", table.path)
            table.reopen()
            return False

    def windows_on(self, snapshot: GoldSnapshot, days: Iterable[date]) -> pd.DataFrame:
        """Window rows of the given days: from the snapshot when it holds them, else read from the table."""
        wanted = sorted(set(days))
        if all(day in snapshot.windows_by_day for day in wanted):
            frames = [snapshot.windows_by_day[day] for day in wanted]
            return frames[0] if len(frames) == 1 else pd.concat(frames)
        with self._lock:
            return self.windows.read(wanted)

    def daily_on(self, snapshot: GoldSnapshot, day: date) -> pd.DataFrame:
        if day in snapshot.daily_by_day:
            return snapshot.daily_by_day[day]
        with self._lock:
            return self.daily.read([day])
