"""The audit of a staged CLV run: what must hold before the run may be published.

These checks reconcile the snapshot with silver and guard the model's output. The CLV data-quality suites
join them in `job.audit_run` (`salesinsights.runs.clv.gate.suite_checks`), so a failed critical expectation
rejects the run too, and `snapshot.publish` refuses it, whichever way the run was started.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

from pyspark.sql import Column, DataFrame, Row
from pyspark.sql import functions as F

from salesinsights.clv.summary import purchases_until


@dataclass(frozen=True)
class CheckResult:
    check: str
    passed: bool
    detail: str


def results_json(results: list[CheckResult]) -> str:
    return json.dumps([asdict(result) for result in results])


def _invalid(column: str, valid: Column) -> Column:
    value = F.col(column)
    return F.count_if(value.isNull() | F.isnan(value) | ~valid).alias(column)


def _snapshot_checks(snapshot: DataFrame) -> tuple[Row, list[CheckResult]]:
    stats = snapshot.agg(
        F.count(F.lit(1)).alias("rows"),
        F.count_distinct("user_id").alias("customers"),
        F.sum("total_revenue").alias("revenue"),
        F.count_if(
            (F.col("frequency") != F.col("occasions") - 1)
            | (F.col("recency") > F.col("age"))
            | (F.col("units") < F.col("occasions"))
        ).alias("inconsistent"),
        _invalid("p_alive", F.col("p_alive").between(0, 1)),
        _invalid("expected_purchases", F.col("expected_purchases") >= 0),
        _invalid("expected_average_value", F.col("expected_average_value") > 0),
        _invalid("clv", F.col("clv") >= 0),
    ).first()
    assert stats is not None
    results = [
        CheckResult("not_empty", stats["rows"] > 0, f"{stats['rows']} customers"),
        CheckResult(
            "one_row_per_customer",
            stats["rows"] == stats["customers"],
            f"{stats['rows']} rows, {stats['customers']} distinct customers",
        ),
        CheckResult(
            "summary_consistent",
            stats["inconsistent"] == 0,
            f"{stats['inconsistent']} rows where frequency, recency or units contradict occasions and age",
        ),
    ]
    results += [
        CheckResult(
            f"{column}_valid", stats[column] == 0, f"{stats[column]} null, NaN or out-of-range values"
        )
        for column in ("p_alive", "expected_purchases", "expected_average_value", "clv")
    ]
    return stats, results


def _reconciliation(stats: Row, silver_events: DataFrame, run: Row) -> list[CheckResult]:
    """Every purchase in silver up to the as-of date is in the snapshot, and nothing else is."""
    silver = (
        purchases_until(silver_events, run["as_of_date"])
        .agg(F.sum("price").alias("revenue"), F.count_distinct("user_id").alias("customers"))
        .first()
    )
    assert silver is not None
    return [
        CheckResult(
            "revenue_reconciles_with_silver",
            stats["revenue"] == silver["revenue"],
            f"snapshot {stats['revenue']}, silver purchases {silver['revenue']}",
        ),
        CheckResult(
            "customers_reconcile_with_silver",
            stats["customers"] == silver["customers"],
            f"snapshot {stats['customers']}, silver purchasers {silver['customers']}",
        ),
    ]


def _model_checks(run: Row) -> list[CheckResult]:
    purchase_params = json.loads(run["purchase_params"] or "{}")
    parameters = {
        **{f"{run['purchase_model']}_{name}": value for name, value in purchase_params.items()},
        **{name: run[name] for name in ("gg_p", "gg_q", "gg_gamma")},
    }
    finite = bool(purchase_params) and all(
        value is not None and math.isfinite(value) and value > 0 for value in parameters.values()
    )
    return [
        CheckResult(
            "models_converged",
            bool(run["purchase_converged"] and run["gg_converged"]),
            f"{run['purchase_model']} after {run['purchase_iterations']} iterations, Gamma-Gamma after "
            f"{run['gg_iterations']}",
        ),
        CheckResult(
            "parameters_finite_positive", finite, ", ".join(f"{n}={v}" for n, v in parameters.items())
        ),
        # Below 1 the Gamma-Gamma mean spend p·γ/(q-1) does not exist.
        CheckResult("gamma_gamma_mean_exists", finite and run["gg_q"] > 1, f"q={run['gg_q']}"),
    ]


def _trust_check(run: Row) -> CheckResult:
    """With SALESINSIGHTS_CLV__ON_PROVISIONAL=refuse, a provisional run is not published."""
    reasons = json.loads(run["provisional_reasons"] or "[]")
    return CheckResult("not_provisional", not reasons, "; ".join(reasons) or "no guard raised a reason")


def audit_snapshot(
    snapshot: DataFrame, silver_events: DataFrame, run: Row, refuse_provisional: bool = False
) -> list[CheckResult]:
    stats, results = _snapshot_checks(snapshot)
    trust = [_trust_check(run)] if refuse_provisional else []
    return results + _reconciliation(stats, silver_events, run) + _model_checks(run) + trust
