"""The event schema and the rulebook as Spark columns: parsing raw Kafka records into typed events, each with
the reasons (if any) it must be quarantined for."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from salesinsights.rules import (
    FUTURE_TOLERANCE,
    MISSING_EVENT_ID,
    NOT_AN_EVENT_RECORD,
    RULES,
    TEXT_PATTERNS,
    Check,
    Rule,
)
from salesinsights.schema import (
    EVENT_FIELDS,
    EVENT_ID,
    EVENT_TIME_LIMIT,
    PRICE_PRECISION,
    PRICE_SCALE,
    RAW_RECORD_FIELDS,
    SOURCE_FILE,
    SOURCE_LINE,
    FieldKind,
)

# What the producer puts in a record's value: every field as the text it had in the source file.
RAW_RECORD_SCHEMA = T.StructType(
    [
        T.StructField(name, T.LongType() if name == SOURCE_LINE else T.StringType())
        for name in RAW_RECORD_FIELDS
    ]
)
SPARK_TIME_PATTERN = "yyyy-MM-dd HH:mm:ss 'UTC'"
# Wide enough for every text the decimal pattern admits; silver stores PRICE_PRECISION/PRICE_SCALE.
_RULE_DECIMAL = T.DecimalType(25, 10)
SILVER_TYPES: dict[FieldKind, T.DataType] = {
    FieldKind.TIMESTAMP: T.TimestampType(),
    FieldKind.INTEGER: T.LongType(),
    FieldKind.DECIMAL: T.DecimalType(PRICE_PRECISION, PRICE_SCALE),
    FieldKind.TEXT: T.StringType(),
}
_LIMIT = f"_{EVENT_TIME_LIMIT}"


def typed_record(value: Column) -> Column:
    """A raw record's fields with the event's cast to their silver types (null where a text does not
    parse): what a plain reader that trusts the producer reads, with no rulebook and no quarantine."""
    record = F.from_json(value.cast("string"), RAW_RECORD_SCHEMA)
    kinds = {field.name: field.kind for field in EVENT_FIELDS}

    def typed(name: str) -> Column:
        if name not in kinds:
            return record[name]
        if kinds[name] is FieldKind.TIMESTAMP:
            return F.try_to_timestamp(record[name], F.lit(SPARK_TIME_PATTERN))
        return record[name].try_cast(SILVER_TYPES[kinds[name]])

    return F.struct(*[typed(field.name).alias(field.name) for field in RAW_RECORD_SCHEMA.fields])


def _text(name: str) -> Column:
    """A raw field's text; an empty string counts as missing, as in the source files."""
    column = F.col(f"record.{name}")
    return F.when(column != "", column)


def _typed_for_rules(kind: FieldKind, text: Column) -> Column:
    """The field's value, or null when its text does not parse — the same acceptance as rules.parse_value."""
    if kind is FieldKind.TEXT:
        return text
    matches = text.rlike(f"^{TEXT_PATTERNS[kind]}$")
    if kind is FieldKind.INTEGER:
        return F.when(matches, text.try_cast(T.LongType()))
    if kind is FieldKind.DECIMAL:
        return F.when(matches, text.try_cast(_RULE_DECIMAL))
    return F.when(matches, F.try_to_timestamp(text, F.lit(SPARK_TIME_PATTERN)))


def _rule_broken(rule: Rule, text: Column, typed: Column) -> Column:
    match rule.check:
        case Check.PARSES:
            return text.isNotNull() & typed.isNull()
        case Check.NOT_NULL:
            return text.isNull()
        case Check.IN_SET:
            return typed.isNotNull() & ~typed.isin(*rule.allowed)
        case Check.BETWEEN:
            too_low = typed < F.lit(rule.minimum) if rule.minimum is not None else F.lit(False)
            too_high = typed > F.lit(rule.maximum) if rule.maximum is not None else F.lit(False)
            return typed.isNotNull() & (too_low | too_high)
        case Check.NOT_IN_FUTURE:
            limit = F.current_timestamp() + F.make_dt_interval(secs=F.lit(FUTURE_TOLERANCE.total_seconds()))
            return typed.isNotNull() & (typed > limit)
        case Check.NOT_AHEAD_OF_STREAM:
            return typed.isNotNull() & F.coalesce(typed > F.col(_LIMIT), F.lit(False))


def parse_records(records: DataFrame) -> DataFrame:
    """Kafka records (value, partition, offset, timestamp, …) → one row each with the typed event fields,
    provenance, and `reasons`: the rulebook's reasons it breaks, in rulebook order (empty when valid)."""
    provenance = [
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_timestamp"),
        F.col("value").cast("string").alias("raw_value"),
    ]
    # Three projections (texts, then values, then reasons), each naming the previous one's columns, so
    # that no expression is copied into every rule that reads it.
    texts = records.select(
        F.from_json(F.col("value").cast("string"), RAW_RECORD_SCHEMA).alias("record"), *provenance
    ).select(
        # from_json is lenient (a malformed value gives a struct of nulls); a JSON object has keys.
        F.json_object_keys("raw_value").isNull().alias("_not_a_record"),
        *[F.col(f"record.{name}").alias(name) for name in (EVENT_ID, SOURCE_FILE, SOURCE_LINE)],
        *[_text(field.name).alias(f"_text_{field.name}") for field in EVENT_FIELDS],
        F.try_to_timestamp(_text(EVENT_TIME_LIMIT), F.lit(SPARK_TIME_PATTERN)).alias(_LIMIT),
        "kafka_partition",
        "kafka_offset",
        "kafka_timestamp",
        "raw_value",
    )
    values = texts.select(
        "*",
        *[
            _typed_for_rules(field.kind, F.col(f"_text_{field.name}")).alias(f"_value_{field.name}")
            for field in EVENT_FIELDS
        ],
    )
    rule_reasons = [
        F.when(
            _rule_broken(rule, F.col(f"_text_{rule.column}"), F.col(f"_value_{rule.column}")),
            F.lit(rule.reason),
        )
        for rule in RULES
    ]
    record_reason = F.when(F.col("_not_a_record"), F.lit(NOT_AN_EVENT_RECORD)).when(
        F.col(EVENT_ID).isNull(), F.lit(MISSING_EVENT_ID)
    )
    reasons = F.when(record_reason.isNotNull(), F.array(record_reason)).otherwise(
        F.filter(F.array(*rule_reasons), lambda reason: reason.isNotNull())
    )
    return values.select(
        EVENT_ID,
        *[
            F.col(f"_value_{field.name}").try_cast(SILVER_TYPES[field.kind]).alias(field.name)
            for field in EVENT_FIELDS
        ],
        SOURCE_FILE,
        SOURCE_LINE,
        "kafka_partition",
        "kafka_offset",
        "kafka_timestamp",
        "raw_value",
        reasons.alias("reasons"),
    )
