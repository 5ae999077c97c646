"""Where the cart sessions query's records go (its foreachBatch sink), and the abandonment aggregates.

Each batch's records are merged by id into their fact table (carted → gold.cart_sessions, abandoned and
recovered → gold.cart_abandonment), so a replayed batch or a new checkpoint adds nothing twice; then the
abandonments and recoveries go on the topic sales.cart_abandoned. The days the batches touched are
recomputed over the fact tables into gold.cart_abandonment_daily, _hourly and gold.cart_abandoned_products,
replaced whole (like gold over silver), at most once per interval (CartAggregates). The aggregates are pure
functions over the fact tables' rows.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, date, datetime, timedelta

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from salesinsights.catalog import (
    CART_TABLES,
    GOLD_CART_ABANDONED_PRODUCTS,
    GOLD_CART_ABANDONMENT,
    GOLD_CART_ABANDONMENT_DAILY,
    GOLD_CART_ABANDONMENT_HOURLY,
    GOLD_CART_SESSIONS,
    Table,
)
from salesinsights.settings import Settings
from salesinsights.spark.delta_io import replace_partitions
from salesinsights.spark.steps import StepClock
from salesinsights.spark.tables import SPARK_MONEY, ensure_table

log = logging.getLogger(__name__)

CART_POOL = "carts"
CARTED = "carted"
_TOPIC_TIME = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"


def _millis(name: str) -> Column:
    return F.timestamp_millis(F.col(name))


def table_rows(records: DataFrame, recorded_at: datetime) -> DataFrame:
    """The processor's records (times in epoch milliseconds) in gold.cart_abandonment's shape."""
    return records.select(
        "record_id",
        "kind",
        "user_session",
        "user_id",
        "episode",
        "lines",
        "units",
        "value",
        _millis("first_cart_ms").alias("first_cart_time"),
        _millis("last_event_ms").alias("last_event_time"),
        _millis("event_ms").alias("event_time"),
        F.to_date(_millis("event_ms")).alias("event_date"),
        F.lit(recorded_at).alias("recorded_at"),
    )


def topic_records(rows: DataFrame) -> DataFrame:
    """gold.cart_abandonment's rows as JSON keyed by session, money as decimal strings (as on the gold
    sales topic)."""
    lines = F.transform(
        "lines",
        lambda line: line.withField("price", line["price"].cast("string")).withField(
            "value", line["value"].cast("string")
        ),
    )
    fields = {name: F.col(name) for name in GOLD_CART_ABANDONMENT.column_names}
    fields |= {"lines": lines, "value": F.col("value").cast("string")}
    value = F.to_json(
        F.struct(*[column.alias(name) for name, column in fields.items()]), {"timestampFormat": _TOPIC_TIME}
    )
    return rows.select(F.col("user_session").alias("key"), value.alias("value"))


def _money(column: Column) -> Column:
    return F.coalesce(F.sum(column), F.lit(0)).cast(SPARK_MONEY)


def period_totals(sessions: DataFrame, outcomes: DataFrame, hourly: bool) -> DataFrame:
    """gold.cart_abandonment_daily (or _hourly) rows. The rate is a cohort's: the sessions whose first cart
    event falls in the period, and those of them abandoned (whenever that happened), so it never exceeds 1.
    Units and value, abandoned or recovered, and the recovered sessions count by when they happened."""

    def period(time: str) -> list[Column]:
        day = F.to_date(time).alias("event_date")
        return [F.date_trunc("hour", time).alias("hour_start"), day] if hourly else [day]

    keys = ["hour_start", "event_date"] if hourly else ["event_date"]
    carting = sessions.groupBy(*period("first_cart_time")).agg(
        F.count_distinct("user_session").alias("carting_sessions")
    )
    abandonments = outcomes.where(F.col("kind") == "abandoned")
    abandoned_cohort = abandonments.groupBy(*period("first_cart_time")).agg(
        F.count_distinct("user_session").alias("abandoned_sessions")
    )

    def happened(rows: DataFrame, *figures: Column) -> DataFrame:
        return rows.groupBy(*period("event_time")).agg(*figures)

    at_stake = happened(
        abandonments,
        F.sum("units").cast("long").alias("abandoned_units"),
        _money(F.col("value")).alias("value_at_stake"),
    )
    recovered = happened(
        outcomes.where(F.col("kind") == "recovered"),
        F.count_distinct("user_session").alias("recovered_sessions"),
        F.sum("units").cast("long").alias("recovered_units"),
        _money(F.col("value")).alias("recovered_value"),
    )
    joined = carting
    for figures in (abandoned_cohort, at_stake, recovered):
        joined = joined.join(figures, keys, "full")
    counts = [
        "carting_sessions",
        "abandoned_sessions",
        "abandoned_units",
        "recovered_sessions",
        "recovered_units",
    ]
    filled = joined.fillna(0, subset=counts).select(
        *keys,
        *counts,
        *[
            F.coalesce(F.col(name), F.lit(0).cast(SPARK_MONEY)).alias(name)
            for name in ("value_at_stake", "recovered_value")
        ],
    )
    rate = F.when(F.col("carting_sessions") > 0, F.col("abandoned_sessions") / F.col("carting_sessions"))
    return filled.withColumn("abandonment_rate", rate)


def product_totals(outcomes: DataFrame) -> DataFrame:
    """gold.cart_abandoned_products rows: per day and product, the abandoned carts that held it and the
    abandoned lines of it bought back."""
    lines = outcomes.select("kind", "event_date", F.explode("lines").alias("line")).select(
        "kind", "event_date", "line.*"
    )
    abandoned, recovered = F.col("kind") == "abandoned", F.col("kind") == "recovered"
    return lines.groupBy("event_date", "product_id").agg(
        F.max("brand").alias("brand"),
        F.count_if(abandoned).alias("abandonments"),
        F.coalesce(F.sum(F.when(abandoned, F.col("units"))), F.lit(0)).cast("long").alias("abandoned_units"),
        _money(F.when(abandoned, F.col("value"))).alias("abandoned_value"),
        F.count_if(recovered).alias("recoveries"),
        F.coalesce(F.sum(F.when(recovered, F.col("units"))), F.lit(0)).cast("long").alias("recovered_units"),
        _money(F.when(recovered, F.col("value"))).alias("recovered_value"),
    )


def touched_days(rows: DataFrame) -> list[date]:
    """The days whose aggregates a batch of gold.cart_abandonment-shaped rows changes: those of its records,
    and those on which an abandoned session began carting (its cohort's rate changes)."""
    cohorts = rows.where(F.col("kind") == "abandoned").select(F.to_date("first_cart_time"))
    return sorted(row[0] for row in rows.select("event_date").union(cohorts).distinct().collect())


class CartAggregates:
    """gold.cart_abandonment_daily, _hourly and gold.cart_abandoned_products: the days that batches touched,
    recomputed over the fact tables at most once per `carts.aggregates_interval`, off the batches' path: by
    a thread of their own between `start` and `close` (which flushes once more). Three Delta commits per
    batch were most of a cart batch's time; a day's aggregates now lag its facts by up to the interval.

    Days pending when the application dies are found again at its next start: those of the fact rows
    recorded since an hour before the aggregates' newest update (no batch takes an hour), recomputed once,
    which is harmless: the aggregates are replaced whole."""

    CATCH_UP_SLACK = timedelta(hours=1)

    def __init__(self, spark: SparkSession, settings: Settings) -> None:
        self.spark = spark
        self.paths = {table: table.path(settings) for table in CART_TABLES}
        self.interval = settings.carts.aggregates_interval.total_seconds()
        self._lock = threading.Lock()
        self._pending: set[date] = set()
        self._mark = "catch-up"
        self._due = 0.0
        self._caught_up = False
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cart-aggregates", daemon=True)
        self.failure: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stops the thread, then recomputes what is pending (unless the thread failed); a failure is kept
        in `failure`."""
        self._closing.set()
        if self._thread.is_alive():
            self._thread.join()
        if self.failure is None:
            try:
                self.flush(force=True)
            except Exception as error:
                log.exception("the cart aggregates could not be brought up to date")
                self.failure = error

    def _run(self) -> None:
        while not self._closing.wait(1):
            try:
                self.flush()
            except Exception as error:  # the application sees it and stops (its supervisor restarts it)
                log.exception("the cart aggregates failed")
                self.failure = error
                return

    def touched(self, days: list[date], mark: str) -> None:
        """Days whose facts a batch has committed; `mark` names the batch."""
        with self._lock:
            self._pending.update(days)
            self._mark = mark

    def flush(self, force: bool = False) -> None:
        """Recomputes the pending days, if the interval has passed since the last time (or `force`). A
        failure leaves them pending and raises."""
        self.spark.sparkContext.setLocalProperty("spark.scheduler.pool", CART_POOL)
        if not self._caught_up:
            self.touched(self.stale_days(), self._mark)
            self._caught_up = True
        if not force and time.monotonic() < self._due:
            return
        with self._lock:
            days, mark, self._pending = sorted(self._pending), self._mark, set()
        if not days:
            return
        try:
            self.recompute(days, mark)
        except BaseException:
            self.touched(days, mark)
            raise
        self._due = time.monotonic() + self.interval

    def stale_days(self) -> list[date]:
        """The days of the facts that the aggregates may not count yet (see the class)."""
        daily = self.spark.read.format("delta").load(self.paths[GOLD_CART_ABANDONMENT_DAILY])
        # In epoch seconds: no round trip through Python's local, naive datetimes.
        newest = daily.agg(F.max(F.unix_timestamp("updated_at"))).first()
        facts = self._facts(GOLD_CART_SESSIONS, F.lit(CARTED)).unionByName(
            self._facts(GOLD_CART_ABANDONMENT, F.col("kind"))
        )
        if newest is None or newest[0] is None:
            return touched_days(facts)
        since = F.timestamp_seconds(F.lit(newest[0] - int(self.CATCH_UP_SLACK.total_seconds())))
        return touched_days(facts.where(F.col("recorded_at") >= since))

    def _facts(self, table: Table, kind: Column) -> DataFrame:
        rows = self.spark.read.format("delta").load(self.paths[table])
        return rows.select(kind.alias("kind"), "event_date", "first_cart_time", "recorded_at")

    def _read(self, table: Table, days: list[date]) -> DataFrame:
        return self.spark.read.format("delta").load(self.paths[table]).where(F.col("event_date").isin(days))

    def recompute(self, days: list[date], mark: str) -> None:
        """The aggregates of these days, anew from the fact tables."""
        sessions = self._read(GOLD_CART_SESSIONS, days)
        happened = self._read(GOLD_CART_ABANDONMENT, days)
        # The days' cohorts: abandonments of sessions that began carting on one of them, on whatever day.
        # The range lets Delta skip files by their statistics on first_cart_time (close to their partition's
        # day), so this is no scan of the whole table.
        cohorts = (
            self.spark.read.format("delta")
            .load(self.paths[GOLD_CART_ABANDONMENT])
            .where(F.col("kind") == "abandoned")
            .where(F.col("first_cart_time").between(F.lit(min(days)), F.date_add(F.lit(max(days)), 1)))
            .where(F.to_date("first_cart_time").isin(days))
        )
        outcomes = happened.unionByName(cohorts).dropDuplicates(["record_id"])
        in_days = F.col("event_date").isin(days)
        for table, rows in (
            (GOLD_CART_ABANDONMENT_DAILY, period_totals(sessions, outcomes, hourly=False).where(in_days)),
            (GOLD_CART_ABANDONMENT_HOURLY, period_totals(sessions, outcomes, hourly=True).where(in_days)),
            (GOLD_CART_ABANDONED_PRODUCTS, product_totals(happened)),
        ):
            replace_partitions(rows, self.paths[table], "event_date", days, mark)


class CartRecordWriter:
    """The foreachBatch sink of the cart sessions query: the facts, merged by id, and the topic; the days
    touched go to the aggregates."""

    def __init__(self, spark: SparkSession, settings: Settings, aggregates: CartAggregates) -> None:
        self.spark = spark
        self.settings = settings
        self.aggregates = aggregates
        self.paths = {table: table.path(settings) for table in CART_TABLES}

    def __call__(self, records: DataFrame, batch_id: int) -> None:
        self.spark.sparkContext.setLocalProperty("spark.scheduler.pool", CART_POOL)
        clock = StepClock()
        # Computed once: a second action over the batch would run the stateful operator again.
        rows = table_rows(records, datetime.now(UTC)).persist()
        try:
            with clock.step("sessions"):
                count = rows.count()
            if count == 0:
                return
            with clock.step("days"):
                days = touched_days(rows)
            carted = rows.where(F.col("kind") == CARTED)
            outcomes = rows.where(F.col("kind") != CARTED)
            with clock.step("merge_sessions"):
                self._merge(carted.select(*GOLD_CART_SESSIONS.column_names), GOLD_CART_SESSIONS, days)
            with clock.step("merge_outcomes"):
                self._merge(outcomes, GOLD_CART_ABANDONMENT, days)
            with clock.step("topic"):
                (
                    topic_records(outcomes)
                    .write.format("kafka")
                    .option("kafka.bootstrap.servers", self.settings.kafka.bootstrap_servers)
                    .option("topic", self.settings.kafka.cart_abandoned_topic)
                    .save()
                )
            # The query's id, which Spark gives the batch's thread, and the batch: who last wrote a day.
            query_id = self.spark.sparkContext.getLocalProperty("sql.streaming.queryId")
            self.aggregates.touched(days, f"{query_id}:{batch_id}")
        finally:
            rows.unpersist()
            log.info("cart batch %d: %s", batch_id, clock.seconds)

    def _merge(self, rows: DataFrame, table: Table, days: list[date]) -> None:
        """Inserts the rows whose record id the table lacks (in the batch's days, where they must lie)."""
        dates = ", ".join(f"DATE'{day}'" for day in days)
        (
            DeltaTable.forPath(self.spark, self.paths[table])
            .alias("stored")
            .merge(
                rows.alias("batch"), f"stored.event_date IN ({dates}) AND stored.record_id = batch.record_id"
            )
            .whenNotMatchedInsertAll()
            .execute()
        )


def ensure_cart_tables(spark: SparkSession, settings: Settings) -> None:
    for table in CART_TABLES:
        ensure_table(spark, settings, table)
