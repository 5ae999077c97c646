"""The backtest of a CLV run, from silver: the cohort summarised in Spark, the models compared on it in the
driver (`clv.backtest`), the winner chosen by the configured holdout error, and the rows of
gold.clv_backtests. The nightly run and `salesinsights clv backtest` both go through `evaluate_models`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame

from salesinsights.clv.backtest import Backtest, ModelChoice, backtest, choose_model
from salesinsights.clv.guards import holdout_reasons
from salesinsights.clv.purchase_models import PURCHASE_MODELS
from salesinsights.clv.summary import backtest_cohort
from salesinsights.settings import ClvSettings


@dataclass(frozen=True)
class Evaluation:
    as_of: date
    calibration_end: date
    choice: ModelChoice
    result: Backtest | None  # None: no customer bought before calibration_end
    # Why the figures are not to be trusted: no backtest, or too large an error of the chosen model.
    reasons: list[str] = field(default_factory=list)

    @property
    def holdout_error(self) -> float | None:
        if self.result is None:
            return None
        return self.result.results[self.choice.model].aggregate_purchases_error


def evaluate_models(occasions: DataFrame, as_of: date, clv: ClvSettings) -> Evaluation:
    """Backtests every configured model on the holdout of `clv.holdout_days` before `as_of` and chooses one;
    without a cohort to backtest on, the first configured model, with the reason."""
    calibration_end = as_of - timedelta(days=clv.holdout_days)
    cohort = pd.DataFrame(backtest_cohort(occasions, calibration_end, as_of, clv.unit_days).toPandas())
    if cohort.empty:
        reason = (
            f"no backtest: no customer bought up to {calibration_end}, {clv.holdout_days} days before the "
            f"as-of date (SALESINSIGHTS_CLV__HOLDOUT_DAYS)"
        )
        return Evaluation(as_of, calibration_end, ModelChoice(clv.models[0], reason), None, [reason])
    models = [PURCHASE_MODELS[name] for name in clv.models]
    result = backtest(cohort.drop(columns="user_id"), models, clv.holdout_days / clv.unit_days)
    choice = choose_model(result, clv.selection_metric)
    return Evaluation(
        as_of, calibration_end, choice, result, holdout_reasons(result.results[choice.model], clv)
    )


def backtest_rows(evaluation: Evaluation, run_id: str, clv: ClvSettings) -> list[dict[str, Any]]:
    """One row of gold.clv_backtests per model."""
    if evaluation.result is None:
        return []
    computed_at = datetime.now(UTC)
    return [
        {
            "as_of_date": evaluation.as_of,
            "run_id": run_id,
            "model": name,
            "chosen": name == evaluation.choice.model,
            "calibration_end": evaluation.calibration_end,
            "holdout_days": clv.holdout_days,
            "time_unit": clv.time_unit,
            "parameters": json.dumps(model.fit.parameters),
            "log_likelihood": model.fit.diagnostics.log_likelihood,
            "converged": model.fit.diagnostics.converged,
            "customers": model.customers,
            "actual_purchases": model.actual_purchases,
            "predicted_purchases": model.predicted_purchases,
            "purchases_mae": model.purchases_mae,
            "purchases_rmse": model.purchases_rmse,
            "actual_spend": model.actual_spend,
            "predicted_spend": model.predicted_spend,
            "spend_mae": model.spend_mae,
            "spend_rmse": model.spend_rmse,
            "conditional_expectation": json.dumps(model.conditional_expectation),
            "p_alive_calibration": json.dumps(model.p_alive_calibration),
            "computed_at": computed_at,
        }
        for name, model in evaluation.result.results.items()
    ]
