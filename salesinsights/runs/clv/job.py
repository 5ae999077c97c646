"""The steps of a CLV run — stage, audit, publish, report — each given a Spark session and the settings.

The CLI runs them in order in one process; the clv_nightly DAG runs each as its own task.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from salesinsights.catalog import SILVER_EVENTS
from salesinsights.clv.audit import CheckResult, audit_snapshot, results_json
from salesinsights.clv.fit import FittedModels, fit_models
from salesinsights.clv.guards import boundary_reasons, calibration_reasons
from salesinsights.clv.progress import Progress
from salesinsights.clv.purchase_models import PURCHASE_MODELS
from salesinsights.clv.report import render_report
from salesinsights.clv.report_data import collect_report_data
from salesinsights.clv.rfm import with_rfm
from salesinsights.clv.run_status import PUBLISHED, report_path
from salesinsights.clv.scoring import score_customers
from salesinsights.clv.snapshot import (
    publish,
    record_audit,
    run_row,
    stage,
    staged_snapshot,
    write_backtest,
)
from salesinsights.clv.summary import customer_summary, purchase_occasions, purchases_until
from salesinsights.runs.clv.evaluation import Evaluation, backtest_rows, evaluate_models
from salesinsights.runs.clv.gate import suite_checks, validate_clv_snapshot
from salesinsights.settings import ClvSettings, Settings


@dataclass(frozen=True)
class RunRequest:
    run_id: str
    as_of: date | None  # None: the latest event date in silver
    clv: ClvSettings


def new_run_id(prefix: str = "clv") -> str:
    return f"{prefix}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid4().hex[:6]}"


class TooLittleHistoryError(LookupError):
    """Silver holds no purchases to value customers on, or too short a history to fit the models on: the
    run has nothing to do yet (not a failure)."""


def _silver(spark: SparkSession, settings: Settings) -> DataFrame:
    path = SILVER_EVENTS.path(settings)
    if not DeltaTable.isDeltaTable(spark, path):
        raise TooLittleHistoryError(f"there is no silver table yet ({path})")
    return spark.read.format("delta").load(path)


def latest_event_date(silver_events: DataFrame) -> date:
    latest = silver_events.agg(F.max("event_date")).first()
    if latest is None or latest[0] is None:
        raise TooLittleHistoryError("silver.events is empty: there is no data to value customers on")
    return latest[0]


def check_history(silver_events: DataFrame, as_of: date, min_days: int) -> int:
    """The days of events up to `as_of`; refuses fewer than `min_days` (a young lake: fits on a few days of
    purchases extrapolate wildly)."""
    first = silver_events.agg(F.min("event_date")).first()
    days = (as_of - first[0]).days + 1 if first is not None and first[0] is not None else 0
    if days < min_days:
        raise TooLittleHistoryError(
            f"silver holds {max(days, 0)} day(s) of events up to {as_of}; a CLV run needs at least "
            f"{min_days} (SALESINSIGHTS_CLV__MIN_HISTORY_DAYS)"
        )
    return days


def _run_record(
    request: RunRequest,
    as_of: date,
    totals: dict[str, Any],
    models: FittedModels,
    evaluation: Evaluation,
    reasons: list[str],
) -> dict[str, Any]:
    purchases, gamma_gamma = models.purchases, models.gamma_gamma
    return {
        "run_id": request.run_id,
        "as_of_date": as_of,
        "time_unit": request.clv.time_unit,
        "horizon_months": request.clv.horizon_months,
        "monthly_discount_rate": request.clv.monthly_discount_rate,
        **totals,
        "purchase_model": purchases.model.name,
        "purchase_params": json.dumps(purchases.parameters),
        "purchase_log_likelihood": purchases.diagnostics.log_likelihood,
        "purchase_converged": purchases.diagnostics.converged,
        "purchase_iterations": purchases.diagnostics.iterations,
        "model_choice": evaluation.choice.reason,
        "calibration_end": evaluation.calibration_end if evaluation.result else None,
        "holdout_error": evaluation.holdout_error,
        "provisional": bool(reasons),
        "provisional_reasons": json.dumps(reasons),
        "gg_p": gamma_gamma.params.p,
        "gg_q": gamma_gamma.params.q,
        "gg_gamma": gamma_gamma.params.gamma,
        "gg_log_likelihood": gamma_gamma.diagnostics.log_likelihood,
        "gg_converged": gamma_gamma.diagnostics.converged,
        "gg_iterations": gamma_gamma.diagnostics.iterations,
        "spend_frequency_correlation": models.spend_frequency_correlation,
        "calibration": json.dumps(models.calibration),
        "fit_seconds": models.fit_seconds,
    }


def _summarise(summary: DataFrame, progress: Progress) -> dict[str, Any]:
    totals_row = summary.agg(
        F.count(F.lit(1)).alias("customers"),
        F.count_if(F.col("frequency") > 0).alias("repeat_customers"),
        F.sum("occasions").alias("occasions"),
        F.sum("units").alias("units"),
        F.sum("total_revenue").alias("total_revenue"),
        F.max("age").alias("longest_age"),
    ).first()
    assert totals_row is not None
    totals = totals_row.asDict()
    progress.note(
        f"{totals['customers']} customers, {totals['repeat_customers']} with repeat purchases, "
        f"{totals['occasions']} occasions, revenue {totals['total_revenue']}"
    )
    return totals


def _backtest(occasions: DataFrame, as_of: date, clv: ClvSettings, progress: Progress) -> Evaluation:
    with progress.step(f"backtesting {', '.join(clv.models)} on the {clv.holdout_days} days before {as_of}"):
        evaluation = evaluate_models(occasions, as_of, clv)
    if evaluation.result is not None:
        for name, model in evaluation.result.results.items():
            progress.note(
                f"{name}: holdout purchases predicted {model.predicted_purchases:,.1f} vs actual "
                f"{model.actual_purchases:,.0f}, MAE {model.purchases_mae:.4f}, "
                f"RMSE {model.purchases_rmse:.4f}"
            )
    progress.note(f"model {evaluation.choice.model}: {evaluation.choice.reason}")
    return evaluation


def backtest_run(
    spark: SparkSession, settings: Settings, request: RunRequest, progress: Progress
) -> Evaluation:
    """The backtest alone (`salesinsights clv backtest`): stored under its run id in gold.clv_backtests;
    nothing is staged or published (the next published run of the date removes it)."""
    silver = _silver(spark, settings)
    as_of = request.as_of or latest_event_date(silver)
    check_history(silver, as_of, request.clv.min_history_days)
    occasions = purchase_occasions(purchases_until(silver, as_of)).persist()
    evaluation = _backtest(occasions, as_of, request.clv, progress)
    write_backtest(spark, settings, request.run_id, backtest_rows(evaluation, request.run_id, request.clv))
    occasions.unpersist()
    return evaluation


def stage_run(spark: SparkSession, settings: Settings, request: RunRequest, progress: Progress) -> date:
    """Backtest and model choice, then summary, fits and scores of every customer, written to staging with
    the backtest; returns the as-of date used."""
    clv = request.clv
    silver = _silver(spark, settings)
    as_of = request.as_of or latest_event_date(silver)
    history_days = check_history(silver, as_of, clv.min_history_days)
    occasions = purchase_occasions(purchases_until(silver, as_of)).persist()
    evaluation = _backtest(occasions, as_of, clv, progress)
    with progress.step(f"summarising silver purchases up to {as_of} ({clv.time_unit}s)"):
        summary = customer_summary(occasions, as_of, clv.unit_days).persist()
        totals = _summarise(summary, progress)
    model = PURCHASE_MODELS[evaluation.choice.model]
    with progress.step(f"fitting {model.title} and Gamma-Gamma"):
        models = fit_models(summary, model)
        progress.note(
            f"{model.title} {models.purchases.parameters}; Gamma-Gamma {asdict(models.gamma_gamma.params)}"
        )
    reasons = (
        calibration_reasons(history_days, clv)
        + evaluation.reasons
        + boundary_reasons(models.purchases, float(totals.pop("longest_age")))
    )
    for reason in reasons:
        progress.note(f"provisional: {reason}")
    with progress.step(f"scoring customers and staging run {request.run_id}"):
        scored = score_customers(with_rfm(summary), models.purchases, models.gamma_gamma.params, clv)
        snapshot = scored.select(
            F.lit(as_of).alias("as_of_date"),
            F.lit(request.run_id).alias("run_id"),
            "*",
            F.lit(bool(reasons)).alias("provisional"),
        ).persist()
        totals["extrapolated_customers"] = snapshot.where("extrapolated").count()
        stage(spark, settings, snapshot, _run_record(request, as_of, totals, models, evaluation, reasons))
        write_backtest(spark, settings, request.run_id, backtest_rows(evaluation, request.run_id, clv))
    snapshot.unpersist()
    summary.unpersist()
    occasions.unpersist()
    return as_of


def audit_run(spark: SparkSession, settings: Settings, run_id: str, progress: Progress) -> list[CheckResult]:
    """Audits a staged run and records the verdict; a published run is not audited again."""
    run = run_row(spark, settings, run_id)
    if run["status"] == PUBLISHED:
        progress.note(f"run {run_id} is already published")
        return [CheckResult("already_published", True, str(run["published_at"]))]
    with progress.step(f"auditing run {run_id}"):
        results = audit_snapshot(
            staged_snapshot(spark, settings, run_id),
            _silver(spark, settings),
            run,
            refuse_provisional=settings.clv.on_provisional == "refuse",
        )
        results += suite_checks(validate_clv_snapshot(settings, run["as_of_date"], run_id))
        record_audit(spark, settings, run_id, all(result.passed for result in results), results_json(results))
    for result in results:
        progress.note(f"{'pass' if result.passed else 'FAIL'}  {result.check}: {result.detail}")
    return results


def publish_run(spark: SparkSession, settings: Settings, run_id: str, progress: Progress) -> date:
    with progress.step(f"publishing run {run_id}"):
        as_of = publish(spark, settings, run_id)
    progress.note(f"gold.customer_lifetime_value as of {as_of} is run {run_id}")
    return as_of


def report_run(
    spark: SparkSession, settings: Settings, run_id: str, clv: ClvSettings, progress: Progress
) -> Path:
    with progress.step(f"writing the report of run {run_id}"):
        data = collect_report_data(spark, settings, run_id, clv.top_customers)
        published = data.run["status"] == PUBLISHED
        path = report_path(settings, data.run["as_of_date"], None if published else run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_report(data), encoding="utf-8")
    progress.note(f"report: {path}")
    return path
