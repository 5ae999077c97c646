"""The run's report as one self-contained HTML file, for a marketer: what each figure means, how far to trust
it (provisional or not, and why; the backtest of every model beside what happened), the CLV distribution,
the RFM segments with what each suggests doing, the top customers with their history, the fitted parameters
and the audit. Pure: data in, text out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from typing import Any

import pandas as pd

from salesinsights.clv.purchase_models import PURCHASE_MODELS
from salesinsights.clv.svg import bar_chart

REPORT_HISTOGRAM_BINS = 30
PURCHASE_MODEL_TITLES: dict[str, str] = {name: model.title for name, model in PURCHASE_MODELS.items()}

_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 60em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.8em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.fail { color: #b00; font-weight: bold; }
.provisional { border: 2px solid #b00; padding: 0.5em 1em; background: #fff4f4; }
dt { font-weight: bold; margin-top: 0.4em; }
"""

MEANINGS = (
    (
        "P(alive)",
        "the probability that the customer still buys from the shop at all, given when they last did",
    ),
    ("Expected purchases", "how many purchase days the model expects from the customer over the horizon"),
    ("CLV", "the value of those expected purchases, at the customer's expected spend, discounted monthly"),
    (
        "Backtest",
        "the models fitted on the history up to a calibration date predict the holdout after it; the "
        "prediction set beside what the customers then bought says how far to trust the forecast",
    ),
)
# What each RFM segment suggests doing (the customary playbook for R x F segments).
SEGMENT_ACTIONS = {
    "champions": "Reward them; ask for reviews; early access to new products.",
    "loyal_customers": "Upsell higher-value products; a loyalty programme.",
    "potential_loyalists": "Offer membership or a loyalty programme; recommend related products.",
    "new_customers": "Onboard well: a welcome series, a reason for the second purchase.",
    "promising": "Build the habit: a time-limited offer on their next purchase.",
    "need_attention": "Re-engage with personalised recommendations before they slip.",
    "about_to_sleep": "Win them back with popular products and a modest discount.",
    "cant_lose": "Reach out personally: they bought often, but long ago.",
    "at_risk": "A win-back campaign with a strong offer.",
    "hibernating": "Low-cost reactivation only; do not spend much on them.",
}


@dataclass(frozen=True)
class ReportData:
    run: dict[str, Any]  # the run's row of gold.clv_model_runs
    bin_width: float
    histogram: pd.DataFrame  # bin (0..REPORT_HISTOGRAM_BINS, the last open-ended), count
    segments: pd.DataFrame  # rfm_segment, customers, historic_revenue, mean_p_alive, clv
    top: pd.DataFrame  # the customers of highest CLV
    backtests: pd.DataFrame  # the run's rows of gold.clv_backtests (empty: no backtest)


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda value: f"{value:,.2f}", border=0)


def _histogram_chart(data: ReportData) -> str:
    counts = dict(zip(data.histogram["bin"].astype(int), data.histogram["count"], strict=True))
    labels = [f"{index * data.bin_width:,.0f}" for index in range(REPORT_HISTOGRAM_BINS)]
    labels.append(f"≥{REPORT_HISTOGRAM_BINS * data.bin_width:,.0f}")
    values = [float(counts.get(index, 0)) for index in range(REPORT_HISTOGRAM_BINS + 1)]
    return bar_chart(
        "Distribution of CLV (the last bar: above the 99th percentile)",
        labels,
        {"customers": values},
        "CLV over the horizon, discounted (lower edge of the bin)",
        "customers",
    )


def _model_title(run: dict[str, Any]) -> str:
    name = run.get("purchase_model") or "unrecorded"
    return PURCHASE_MODEL_TITLES.get(name, name)


def _calibration_chart(run: dict[str, Any]) -> str:
    rows = json.loads(run["calibration"])
    return bar_chart(
        f"Calibration: customers by repeat purchases, actual vs {_model_title(run)}",
        [row["repeat_purchases"] for row in rows],
        {"actual": [row["actual"] for row in rows], "model": [row["expected"] for row in rows]},
        "repeat purchases up to the as-of date",
        "customers",
    )


def _figure(value: float | None, spec: str, missing: str = "-") -> str:
    """A figure of the run, or `missing` where a run of an earlier release did not record it."""
    return missing if value is None else format(value, spec)


def _parameters(run: dict[str, Any]) -> pd.DataFrame:
    # Runs of an earlier release (BG/NBD only, in columns of their own) have none of the purchase_* columns.
    purchase_params = json.loads(run.get("purchase_params") or "{}")
    return pd.DataFrame(
        [
            (
                _model_title(run),
                ", ".join(purchase_params),
                ", ".join(f"{value:.4g}" for value in purchase_params.values()),
                _figure(run.get("purchase_log_likelihood"), ",.1f"),
                run.get("purchase_converged"),
                run.get("purchase_iterations"),
            ),
            (
                "Gamma-Gamma",
                "p, q, gamma",
                f"{run['gg_p']:.4g}, {run['gg_q']:.4g}, {run['gg_gamma']:.4g}",
                f"{run['gg_log_likelihood']:,.1f}",
                run["gg_converged"],
                run["gg_iterations"],
            ),
        ],
        columns=["model", "parameters", "values", "log-likelihood", "converged", "iterations"],
    )


def _trust(run: dict[str, Any]) -> str:
    if run.get("provisional") is None:
        return "<p>This run predates the backtest and its guards: how far to trust it was not checked.</p>"
    reasons = json.loads(run.get("provisional_reasons") or "[]")
    if not reasons:
        choice = escape(run.get("model_choice") or "")
        return f"<p>Not provisional: no guard raised a reason. Model: {choice}.</p>"
    items = "".join(f"<li>{escape(reason)}</li>" for reason in reasons)
    return (
        '<div class="provisional"><b>Provisional</b>: treat these figures as indicative only.'
        f"<ul>{items}</ul></div>"
    )


def _comparison(backtests: pd.DataFrame) -> pd.DataFrame:
    frame = backtests.assign(
        model=[PURCHASE_MODEL_TITLES.get(name, name) for name in backtests["model"]],
        error=(backtests["predicted_purchases"] - backtests["actual_purchases"])
        / backtests["actual_purchases"].where(backtests["actual_purchases"] > 0),
    )
    return frame[
        [
            "model",
            "chosen",
            "customers",
            "actual_purchases",
            "predicted_purchases",
            "error",
            "purchases_mae",
            "purchases_rmse",
            "spend_mae",
        ]
    ]


def _backtest(data: ReportData) -> str:
    if data.backtests.empty:
        return "<p>No backtest for this run: see why under model choice above (no holdout to test on).</p>"
    chosen = data.backtests[data.backtests["chosen"]].iloc[0]
    title = PURCHASE_MODEL_TITLES.get(chosen["model"], chosen["model"])
    expectation = json.loads(chosen["conditional_expectation"])
    alive = json.loads(chosen["p_alive_calibration"])
    period = (
        f"<p>Fitted on purchases up to {chosen['calibration_end']}, predicting the {chosen['holdout_days']} "
        f"days after it for the {chosen['customers']:,} customers who had bought by then.</p>"
    )
    return "\n".join(
        [
            period,
            _table(_comparison(data.backtests)),
            bar_chart(
                f"Holdout purchases per customer by calibration repeat purchases: actual vs {title}",
                [row["frequency"] for row in expectation],
                {
                    "actual": [row["actual"] for row in expectation],
                    "model": [row["predicted"] for row in expectation],
                },
                "repeat purchases in the calibration period",
                "mean purchases in the holdout",
            ),
            bar_chart(
                f"P(alive) at the calibration date ({title}) vs the share who bought again",
                [row["bucket"] for row in alive],
                {
                    "P(alive)": [row["mean_p_alive"] for row in alive],
                    "bought again": [row["bought_again"] for row in alive],
                },
                "P(alive) bucket",
                "share of customers",
            ),
        ]
    )


def _meanings() -> str:
    items = "".join(f"<dt>{escape(term)}</dt><dd>{escape(text)}</dd>" for term, text in MEANINGS)
    return f"<dl>{items}</dl>"


def _segments(segments: pd.DataFrame) -> pd.DataFrame:
    return segments.assign(
        suggested_action=[SEGMENT_ACTIONS.get(name, "") for name in segments["rfm_segment"]]
    )


def _audit(run: dict[str, Any]) -> str:
    if not run.get("audit"):
        return "<p>Not audited yet.</p>"
    items = [
        f'<li class="{"" if check["passed"] else "fail"}">{"pass" if check["passed"] else "FAIL"} '
        f"<b>{escape(check['check'])}</b>: {escape(check['detail'])}</li>"
        for check in json.loads(run["audit"])
    ]
    return "<ul>" + "".join(items) + "</ul>"


def render_report(data: ReportData) -> str:
    run = data.run
    title = f"Customer lifetime value as of {run['as_of_date']}"
    facts = pd.DataFrame(
        [
            ("run", f"{run['run_id']} ({run['status']})"),
            ("customers", f"{run['customers']:,} ({run['repeat_customers']:,} with repeat purchases)"),
            ("historic revenue", f"{run['total_revenue']:,}"),
            ("CLV of all customers", f"{data.segments['clv'].sum():,.2f}"),
            (
                "horizon",
                f"{run['horizon_months']} months, discounted {run['monthly_discount_rate']:.2%} a month",
            ),
            ("time unit", run["time_unit"]),
            ("purchase model", _model_title(run)),
            (
                "customers flagged as extrapolated",
                _figure(run.get("extrapolated_customers"), ",", missing="not checked"),
            ),
            (
                "spend-frequency correlation",
                f"{run['spend_frequency_correlation']:.3f} (Gamma-Gamma assumes ~0)",
            ),
        ],
        columns=["", "value"],
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>',
            f"<style>{_STYLE}</style></head><body>",
            f"<h1>{escape(title)}</h1>",
            _trust(run),
            _table(facts),
            "<h2>What the figures mean</h2>",
            _meanings(),
            "<h2>How sure the model is: the backtest</h2>",
            _backtest(data),
            "<h2>CLV distribution</h2>",
            _histogram_chart(data),
            "<h2>Model calibration</h2>",
            _calibration_chart(run),
            _table(_parameters(run)),
            "<h2>RFM segments</h2>",
            _table(_segments(data.segments)),
            f"<h2>Top {len(data.top)} customers by CLV</h2>",
            _table(data.top),
            "<h2>Audit</h2>",
            _audit(run),
            "</body></html>",
        ]
    )
