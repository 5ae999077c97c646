"""The cart sessions query: the raw topic's valid events, grouped by session, through the abandoned-cart rules
(carts/sessions.py) in Spark's arbitrary stateful processing (transformWithState over rows, RocksDB state
with changelog checkpointing), to the cart tables and the topic sales.cart_abandoned (cart_tables.py). Rows,
not pandas: a session has a handful of events, and a pandas frame per session in and out cost twice the
Python workers' time (py-spy over one day's backlog).

Each open session is one value in the state (its cart as JSON, and the earliest timer it has registered):
two calls to read and at most one to write per session and micro-batch, because each call to the state
crosses from the Python worker to the JVM. An event-time timer a millisecond before the session's deadline
(its last event plus the idle gap, or plus the recovery window once abandoned) fires when the watermark
passes it; a closed session leaves the state, timers and all. Sessions that have only viewed are never stored.

Each partition of the raw topic is a source of its own with a watermark of its own (its newest event time
less the configured lateness), and the stream's watermark is the least of them (Spark's `min` policy for
several watermarks): the medallion's rule, the oldest partition's newest event. So a batch that reads one
partition further than another — a backlog cut by the batch cap, a new checkpoint re-reading the topic —
never leaves the other's events behind the watermark. Events behind it never reach the sessions: Spark drops
them and counts them (the health file's `state_rows_dropped_by_watermark`).

Exactly once: a record's id is a hash of what it is (the session, when its state began, the abandonment and
the product), so the tables' MERGE takes each record once however often a batch is replayed, and a new
checkpoint, reading the topic again from its start, derives the same records. The topic gets each batch's
records at least once, keyed by session, with the record id in the value for a consumer to drop repeats.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import reduce
from typing import Any

from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StatefulProcessor, StatefulProcessorHandle, StreamingQuery
from pyspark.sql.streaming.stateful_processor import ExpiredTimerInfo, TimerValues

from salesinsights.carts.sessions import (
    CART,
    CartEvent,
    CartRecord,
    CartRules,
    SessionCart,
    advance,
    apply_all,
)
from salesinsights.catalog import CART_LINE, GOLD_CART_ABANDONMENT
from salesinsights.kafka_admin import topic_partitions
from salesinsights.schema import EVENT_ID, SOURCE_FILE, SOURCE_LINE
from salesinsights.settings import Settings
from salesinsights.spark.cart_tables import CART_POOL, CartAggregates, CartRecordWriter, ensure_cart_tables
from salesinsights.spark.events import parse_records
from salesinsights.spark.kafka_source import raw_partition_records, spark_duration

CART_QUERY_NAME = "cart_sessions"
# A checkpoint holds its stateful operator's state: the processor over pandas frames wrote those without this
# word, and the one over rows begins its own (re-reading the topic, which the record ids make harmless).
CHECKPOINT_GENERATION = "rows"
# This query's state store alone: a streaming query takes a copy of the session's configuration when it
# starts (and keeps it in its checkpoint), so the other queries keep theirs.
STATE_STORE_CONF = {
    "spark.sql.streaming.stateStore.providerClass": (
        "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider"
    ),
    "spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled": "true",
}
# What the processor returns per record; times in epoch milliseconds, made timestamps in the sink.
_PROCESSOR_OUTPUT = (
    f"record_id string, kind string, user_session string, user_id long, episode int, "
    f"lines array<{CART_LINE}>, units int, value {GOLD_CART_ABANDONMENT.column('value').type}, "
    "first_cart_ms long, last_event_ms long, event_ms long"
)
_INPUT_COLUMNS = (
    EVENT_ID,
    "event_ms",
    "event_type",
    "product_id",
    "price",
    "user_id",
    "brand",
    SOURCE_FILE,
    SOURCE_LINE,
)


def cart_rules(settings: Settings) -> CartRules:
    carts = settings.carts
    return CartRules(
        idle_gap_ms=int(carts.idle_gap.total_seconds() * 1000),
        recovery_window_ms=int(carts.recovery_window.total_seconds() * 1000),
    )


def session_events(parsed: DataFrame) -> DataFrame:
    """The valid events of a session, as the processor reads them (event time also in milliseconds)."""
    valid = parsed.where((F.size("reasons") == 0) & F.col("user_session").isNotNull())
    return valid.select(
        "user_session",
        "event_time",
        F.unix_millis("event_time").alias("event_ms"),
        *[name for name in _INPUT_COLUMNS if name != "event_ms"],
    )


def _record_row(record: CartRecord) -> Row:
    lines = [
        {
            "product_id": line.product_id,
            "brand": line.brand,
            "units": line.units,
            "price": line.price,
            "value": line.value,
        }
        for line in record.lines
    ]
    return Row(
        record_id=record.record_id,
        kind=record.kind,
        user_session=record.user_session,
        user_id=record.user_id,
        episode=record.episode,
        lines=lines,
        units=record.units,
        value=record.value,
        first_cart_ms=record.first_cart_time,
        last_event_ms=record.last_event_time,
        event_ms=record.event_time,
    )


def cart_events(rows: list[Row]) -> list[CartEvent]:
    """The session's rows as the rules' events."""
    events = []
    for row in rows:
        fields = row.asDict()
        events.append(
            CartEvent(
                event_id=fields[EVENT_ID],
                event_time=fields["event_ms"],
                event_type=fields["event_type"],
                product_id=fields["product_id"],
                price=fields["price"],
                user_id=fields["user_id"],
                brand=fields["brand"],
                source_file=fields[SOURCE_FILE],
                source_line=fields[SOURCE_LINE],
            )
        )
    return events


def has_cart_event(rows: list[Row]) -> bool:
    return any(row["event_type"] == CART for row in rows)


class CartSessionProcessor(StatefulProcessor):
    """The rules of carts/sessions.py over Spark's state: one ValueState per session. Spark calls the
    handlers by keyword, so their parameters keep Spark's names."""

    def __init__(self, rules: CartRules) -> None:
        self.rules = rules

    def init(self, handle: StatefulProcessorHandle) -> None:
        self.handle = handle
        self.session = handle.getValueState("session", "cart string, timer long")

    def handleInputRows(  # noqa: N802 (Spark's names)
        self,
        key: Any,
        rows: Iterator[Row],
        timerValues: TimerValues,  # noqa: N803
    ) -> Iterator[Row]:
        (user_session,) = key
        session_rows = list(rows)
        stored = self.session.exists()
        # Most sessions only view and hold no cart: nothing to keep, and no events built.
        if not stored and not has_cart_event(session_rows):
            return
        cart, timer = self._load(stored)
        cart, records = apply_all(cart, cart_events(session_rows), user_session, self.rules)
        if cart is not None:
            cart.forget_applied_before(timerValues.getCurrentWatermarkInMs())
        self._store(cart, timer)
        if records:
            yield from map(_record_row, records)

    def handleExpiredTimer(  # noqa: N802 (Spark's names)
        self,
        key: Any,
        timerValues: TimerValues,  # noqa: N803
        expiredTimerInfo: ExpiredTimerInfo,  # noqa: N803
    ) -> Iterator[Row]:
        cart, timer = self._load(self.session.exists())
        if cart is None:
            return
        expired = expiredTimerInfo.getExpiryTimeInMs()
        if timer == expired:
            timer = None
        watermark = timerValues.getCurrentWatermarkInMs()
        cart, records = advance(cart, watermark, self.rules)
        if cart is not None:
            cart.forget_applied_before(watermark)
        self._store(cart, timer, not_before=watermark + 1, expired=expired)
        if records:
            yield from map(_record_row, records)

    def _load(self, stored: bool) -> tuple[SessionCart | None, int | None]:
        """The session's cart and timer; `stored`: whether the state holds one (asked first, since a read of a
        missing value logs a warning in Spark)."""
        if not stored:
            return None, None
        value = self.session.get()
        assert value is not None
        cart, timer = value
        return SessionCart.from_json(cart), timer

    def _store(
        self, cart: SessionCart | None, timer: int | None, not_before: int = 0, expired: int | None = None
    ) -> None:
        """Keeps the session, with a timer just before its deadline unless an earlier one is registered (a
        later timer that fires finds the deadline not passed and registers the next); a closed session
        leaves, with its timers but the one firing (`expired`: Spark has removed it, and a deletion of it
        would log a warning). Spark fires a timer once the watermark is past it, the rules once the
        watermark reaches the deadline: hence a millisecond before, and never at a watermark already reached
        (`not_before`)."""
        if cart is None:
            self.session.clear()
            for registered in list(self.handle.listTimers()):
                if registered != expired:
                    self.handle.deleteTimer(registered)
            return
        due = max(cart.deadline(self.rules) - 1, not_before)
        if timer is None or due < timer:
            self.handle.registerTimer(due)
            timer = due
        self.session.update((cart.to_json(), timer))


def cart_checkpoint(settings: Settings, partitions: int) -> str:
    """The query's checkpoint for a raw topic of this many partitions: one source each, and Spark restarts a
    query only on the sources it began with, so another count starts a checkpoint of its own (reading the
    topic from its start, which the record ids make harmless)."""
    return settings.checkpoint_path(f"{CART_QUERY_NAME}.{CHECKPOINT_GENERATION}.{partitions}-partitions")


def stored_sessions(spark: SparkSession, settings: Settings) -> tuple[DataFrame, DataFrame]:
    """What the query's state holds at its last committed batch: one row per session (user_session, its
    cart as JSON) and one per registered timer (user_session, expiry). Read from the checkpoint by Spark's
    state data source, while the query runs or after (with the broker up: the checkpoint is the topic's)."""
    spark.streams.active  # noqa: B018 (the state store's coordinator comes with the query manager)
    checkpoint = cart_checkpoint(settings, len(topic_partitions(settings.kafka, settings.kafka.raw_topic)))
    sessions = spark.read.format("statestore").option("stateVarName", "session").load(checkpoint)
    timers = spark.read.format("statestore").option("readRegisteredTimers", "true").load(checkpoint)
    return (
        sessions.select(F.col("key.user_session").alias("user_session"), F.col("value.cart").alias("cart")),
        timers.select(
            F.col("key.user_session").alias("user_session"), F.col("expiration_timestamp_ms").alias("expiry")
        ),
    )


def start_cart_sessions(
    spark: SparkSession, settings: Settings, aggregates: CartAggregates
) -> StreamingQuery:
    """Creates the tables if needed and starts the query in its scheduler pool; returns at once. A new
    checkpoint reads the raw topic from its start (kept forever): the records' ids make that harmless. The
    days its batches touch go to `aggregates`, which the caller flushes."""
    ensure_cart_tables(spark, settings)
    config = settings.carts
    partitions = topic_partitions(settings.kafka, settings.kafka.raw_topic)
    share = -(-config.max_offsets_per_trigger // len(partitions))
    lateness = spark_duration(settings.spark.watermark.total_seconds())
    events = reduce(
        DataFrame.unionByName,
        (
            session_events(
                parse_records(raw_partition_records(spark, settings, partition, share))
            ).withWatermark("event_time", lateness)
            for partition in partitions
        ),
    )
    records = events.groupBy("user_session").transformWithState(
        CartSessionProcessor(cart_rules(settings)), _PROCESSOR_OUTPUT, "append", "eventtime"
    )
    spark.sparkContext.setLocalProperty("spark.scheduler.pool", CART_POOL)
    before: dict[str, str | None] = {name: spark.conf.get(name, None) for name in STATE_STORE_CONF}
    for name, value in STATE_STORE_CONF.items():
        spark.conf.set(name, value)
    try:
        return (
            records.writeStream.queryName(CART_QUERY_NAME)
            .foreachBatch(CartRecordWriter(spark, settings, aggregates))
            .option("checkpointLocation", cart_checkpoint(settings, len(partitions)))
            .trigger(processingTime=spark_duration(config.trigger_interval.total_seconds()))
            .start()
        )
    finally:
        for name, earlier in before.items():
            if earlier is None:
                spark.conf.unset(name)
            else:
                spark.conf.set(name, earlier)
        spark.sparkContext.setLocalProperty("spark.scheduler.pool", None)  # type: ignore[arg-type]
