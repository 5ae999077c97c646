"""A day of the medallion as frames, built in pandas from raw records the way the stream builds its tables,
for the quality suites' tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from salesinsights.carts.sessions import CartEvent, CartRecord, CartRules, advance, apply_all
from salesinsights.catalog import SILVER_EVENTS
from salesinsights.generator import generate_lines
from salesinsights.producer.reader import FileCounts, RawEvent, read_landing_file
from salesinsights.quality import frames
from salesinsights.quality import suites as S
from salesinsights.rules import Stage, violations
from salesinsights.schema import CSV_HEADER
from salesinsights.spark.tables import spark_schema

NOW = datetime.now(UTC)
INGESTED_AT = NOW - timedelta(hours=1)
CENT = Decimal("0.01")
Frames = dict[str, pd.DataFrame]
Parameters = dict[str, dict[str, object]]
Generated = tuple[Frames, Parameters]


def raw_records(path: Path) -> list[bytes]:
    return [item.value for item in read_landing_file(path, FileCounts()) if isinstance(item, RawEvent)]


def _silver(bronze: pd.DataFrame) -> pd.DataFrame:
    silver = bronze[[name for name in SILVER_EVENTS.column_names if name in bronze.columns]].copy()
    silver["price"] = [price.quantize(CENT, ROUND_HALF_UP) for price in silver["price"]]
    silver["event_date"] = silver["event_time"].dt.date
    silver["kafka_partition"] = 0
    silver["kafka_offset"] = np.arange(len(silver))
    silver["kafka_timestamp"] = INGESTED_AT
    silver["ingested_at"] = INGESTED_AT
    silver["arrived_late"] = False
    return silver[SILVER_EVENTS.column_names].reset_index(drop=True)


def _quarantine(values: list[bytes], reasons: list[list[str]]) -> pd.DataFrame:
    rows = [
        {
            **{
                key: (frames.decode_record(value) or {}).get(key)
                for key in ("event_id", "source_file", "source_line")
            },
            "reason": found[0],
            "reasons": np.array(found, dtype=object),
            "raw_value": value.decode(),
            "ingested_at": INGESTED_AT,
            "ingest_date": INGESTED_AT.date(),
        }
        for value, found in zip(values, reasons, strict=True)
        if found
    ]
    columns = ["event_id", "source_file", "source_line", "reason", "reasons", "raw_value", "ingested_at"]
    return pd.DataFrame(rows, columns=[*columns, "ingest_date"])


def _gold_daily(silver: pd.DataFrame) -> pd.DataFrame:
    kinds = {"units": "purchase", "views": "view", "carts": "cart", "removals": "remove_from_cart"}
    events = silver.assign(
        revenue=[
            price if kind == "purchase" else Decimal(0)
            for price, kind in zip(silver["price"], silver["event_type"], strict=True)
        ],
        **{measure: silver["event_type"] == kind for measure, kind in kinds.items()},
    )
    daily = events.groupby(["event_date", "product_id"], as_index=False)[["revenue", *kinds]].sum()
    return daily.assign(purchases=daily["units"])


def _gold_windows(silver: pd.DataFrame) -> pd.DataFrame:
    purchases = silver[silver["event_type"] == "purchase"].assign(
        window_start=lambda p: p["event_time"].dt.floor("min")
    )
    windows = purchases.groupby(["product_id", "window_start"], as_index=False).agg(
        revenue=("price", lambda prices: sum(prices, Decimal(0))),
        units=("price", "size"),
        buyer_ids=("user_id", lambda users: sorted(set(users))),
    )
    return windows.assign(
        window_end=windows["window_start"] + timedelta(minutes=1),
        window_date=windows["window_start"].dt.date,
        distinct_buyers=windows["buyer_ids"].map(len),
    )


def _clv(silver: pd.DataFrame) -> pd.DataFrame:
    """A snapshot of the CLV table's shape from the purchases (the model's figures are stand-ins)."""
    purchases = silver[silver["event_type"] == "purchase"]
    customers = purchases.groupby("user_id", as_index=False).agg(
        first_purchase=("event_date", "min"),
        last_purchase=("event_date", "max"),
        occasions=("event_date", "nunique"),
        units=("event_id", "size"),
        total_revenue=("price", lambda prices: sum(prices, Decimal(0))),
    )
    frequency = customers["occasions"] - 1
    return customers.assign(
        as_of_date=customers["last_purchase"].max(),
        frequency=frequency,
        recency=[
            (last - first).days
            for first, last in zip(customers["first_purchase"], customers["last_purchase"], strict=True)
        ],
        age=[(customers["last_purchase"].max() - first).days for first in customers["first_purchase"]],
        r_score=3,
        f_score=3,
        m_score=3,
        rfm_segment="regular",
        p_alive=1 / (1 + frequency),
        expected_purchases=frequency * 0.5,
        clv=[float(revenue) * 0.1 for revenue in customers["total_revenue"]],
    )


def medallion(values: list[bytes]) -> Frames:
    """Every suite's frame for the given raw records."""
    bronze = frames.raw_event_frame(values)
    reasons = [
        [v.rule.reason for v in violations(frames.field_texts(record), frozenset(Stage), now=INGESTED_AT)]
        if (record := frames.decode_record(value))
        else ["not_an_event_record"]
        for value in values
    ]
    silver = _silver(bronze[[not found for found in reasons]])
    quarantine = _quarantine(values, reasons)
    daily, windows = _gold_daily(silver), _gold_windows(silver)
    batches = pd.DataFrame(
        {
            "query_id": ["query"],
            "batch_id": [0],
            "kafka_records": [len(values)],
            "silver_new": [len(silver)],
            "replays_collapsed": [0],
            "quarantined": [len(quarantine)],
            "late_events": [0],
        }
    )
    schemas = {
        S.schema_suite_name(table): frames.schema_frame(table, spark_schema(table).jsonValue()["fields"])
        for table in S.SCHEMA_TABLES
    }
    return {
        S.BRONZE: bronze,
        S.SILVER: frames.silver_frame(silver),
        S.QUARANTINE: frames.quarantine_frame(quarantine),
        S.QUARANTINE_SHARE: frames.quarantine_share_frame(len(silver), quarantine["reason"]),
        S.DEAD_LETTERS: frames.dead_letter_frame([]),
        S.GOLD_DAILY: daily,
        S.GOLD_WINDOWS: windows,
        S.RECONCILIATION: frames.reconciliation_frame(silver, daily, windows),
        S.STREAM_BATCHES: frames.stream_batches_frame(batches),
        S.CLV: _clv(silver),
        **_carts(silver),
        **schemas,
    }


def _carts(silver: pd.DataFrame) -> Frames:
    """gold.cart_abandonment and its daily figures for the day's sessions, by the rules of carts/sessions.py
    with their defaults, every session's time run out."""
    rules = CartRules(idle_gap_ms=30 * 60_000, recovery_window_ms=24 * 3_600_000)
    records: list[CartRecord] = []
    for session, rows in silver[silver["user_session"].notna()].groupby("user_session"):
        events = [
            CartEvent(
                row.event_id,
                int(row.event_time.timestamp() * 1000),
                row.event_type,
                int(row.product_id),
                row.price,
                int(row.user_id),
                row.brand,
                row.source_file,
                int(row.source_line),
            )
            for row in rows.itertuples()
        ]
        cart, found = apply_all(None, events, str(session), rules)
        records += found + advance(cart, 2**62, rules)[1]

    def when(ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, UTC)

    outcomes = pd.DataFrame(
        [
            {
                "record_id": record.record_id,
                "kind": record.kind,
                "user_session": record.user_session,
                "user_id": record.user_id,
                "episode": record.episode,
                "units": record.units,
                "value": record.value,
                "first_cart_time": when(record.first_cart_time),
                "last_event_time": when(record.last_event_time),
                "event_time": when(record.event_time),
                "event_date": when(record.event_time).date(),
                "recorded_at": INGESTED_AT,
            }
            for record in records
            if record.kind != "carted"
        ]
    )
    abandoned = outcomes[outcomes["kind"] == "abandoned"]
    carting = {record.user_session for record in records if record.kind == "carted"}
    daily = pd.DataFrame(
        {
            "event_date": [silver["event_date"].iloc[0]],
            "carting_sessions": [len(carting)],
            "abandoned_sessions": [abandoned["user_session"].nunique()],
            "abandonment_rate": [abandoned["user_session"].nunique() / len(carting)],
            "abandoned_units": [abandoned["units"].sum()],
            "value_at_stake": [sum(abandoned["value"], Decimal(0))],
            "recovered_sessions": [0],
            "recovered_units": [0],
            "recovered_value": [Decimal(0)],
        }
    )
    return {S.CARTS: outcomes, S.CARTS_DAILY: daily}


def write_day(path: Path, day: date) -> Path:
    path.write_text("\n".join([CSV_HEADER, *generate_lines(day, 42, 0.02)]) + "\n")
    return path
