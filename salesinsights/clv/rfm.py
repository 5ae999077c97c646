"""RFM scores (1-5, quintiles of the customer base) and the customary segments named by R and F."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

QUINTILES = [0.2, 0.4, 0.6, 0.8]
# percentile_approx's accuracy: boundaries within 1/10,000 of the exact rank, in one distributed pass.
ACCURACY = 10_000

# (segment, lowest R, highest R, lowest F, highest F): together they cover every R x F cell exactly once.
SEGMENTS: tuple[tuple[str, int, int, int, int], ...] = (
    ("champions", 5, 5, 4, 5),
    ("loyal_customers", 3, 4, 4, 5),
    ("potential_loyalists", 4, 5, 2, 3),
    ("new_customers", 5, 5, 1, 1),
    ("promising", 4, 4, 1, 1),
    ("need_attention", 3, 3, 3, 3),
    ("about_to_sleep", 3, 3, 1, 2),
    ("cant_lose", 1, 2, 5, 5),
    ("at_risk", 1, 2, 3, 4),
    ("hibernating", 1, 2, 1, 2),
)


def _above(value: Column, boundaries: list[float]) -> Column:
    """How many quintile boundaries the value exceeds: ties share a score, however many customers tie."""
    return sum((F.when(value > F.lit(boundary), 1).otherwise(0) for boundary in boundaries), F.lit(0))


def _segment(r: Column, f: Column) -> Column:
    segment: Column | None = None
    for name, r_low, r_high, f_low, f_high in SEGMENTS:
        condition = r.between(r_low, r_high) & f.between(f_low, f_high)
        segment = F.when(condition, name) if segment is None else segment.when(condition, name)
    assert segment is not None
    return segment


def with_rfm(summary: DataFrame) -> DataFrame:
    """Adds r_score (recent is high), f_score (occasions), m_score (mean value per occasion), rfm_segment.

    Runs one small aggregation for the quintile boundaries; the scores are then a plain projection."""
    mean_value = F.col("total_revenue") / F.col("occasions")
    row = summary.agg(
        F.percentile_approx("days_since_last_purchase", QUINTILES, ACCURACY).alias("r"),
        F.percentile_approx("occasions", QUINTILES, ACCURACY).alias("f"),
        F.percentile_approx(mean_value.cast("double"), QUINTILES, ACCURACY).alias("m"),
    ).first()
    # Without customers the boundaries are null: there is nothing to score.
    boundaries: dict[str, list[float]] = {
        key: list(row[key]) if row is not None and row[key] is not None else [] for key in ("r", "f", "m")
    }
    r_score = (5 - _above(F.col("days_since_last_purchase"), boundaries["r"])).alias("r_score")
    f_score = (1 + _above(F.col("occasions"), boundaries["f"])).alias("f_score")
    m_score = (1 + _above(mean_value, boundaries["m"])).alias("m_score")
    scored = summary.select("*", r_score, f_score, m_score)
    return scored.withColumn("rfm_segment", _segment(F.col("r_score"), F.col("f_score")))
