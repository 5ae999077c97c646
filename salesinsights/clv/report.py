"""The run's report as one self-contained HTML file: the CLV distribution, the calibration of the fit, the
RFM segments, the top customers, the fitted parameters and the audit. Pure: data in, text out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from typing import Any

import pandas as pd

from salesinsights.clv.svg import bar_chart

REPORT_HISTOGRAM_BINS = 30

_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 60em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.8em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.fail { color: #b00; font-weight: bold; }
"""


@dataclass(frozen=True)
class ReportData:
    run: dict[str, Any]  # the run's row of gold.clv_model_runs
    bin_width: float
    histogram: pd.DataFrame  # bin (0..REPORT_HISTOGRAM_BINS, the last open-ended), count
    segments: pd.DataFrame  # rfm_segment, customers, historic_revenue, mean_p_alive, clv
    top: pd.DataFrame  # the customers of highest CLV


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


def _calibration_chart(run: dict[str, Any]) -> str:
    rows = json.loads(run["calibration"])
    return bar_chart(
        "Calibration: customers by repeat purchases, actual vs BG/NBD",
        [row["repeat_purchases"] for row in rows],
        {"actual": [row["actual"] for row in rows], "model": [row["expected"] for row in rows]},
        "repeat purchases up to the as-of date",
        "customers",
    )


def _parameters(run: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (
                "BG/NBD",
                "r, α, a, b",
                f"{run['bgnbd_r']:.4g}, {run['bgnbd_alpha']:.4g}, {run['bgnbd_a']:.4g}, {run['bgnbd_b']:.4g}",
                f"{run['bgnbd_log_likelihood']:,.1f}",
                run["bgnbd_converged"],
                run["bgnbd_iterations"],
            ),
            (
                "Gamma-Gamma",
                "p, q, γ",
                f"{run['gg_p']:.4g}, {run['gg_q']:.4g}, {run['gg_gamma']:.4g}",
                f"{run['gg_log_likelihood']:,.1f}",
                run["gg_converged"],
                run["gg_iterations"],
            ),
        ],
        columns=["model", "parameters", "values", "log-likelihood", "converged", "iterations"],
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
            _table(facts),
            "<h2>CLV distribution</h2>",
            _histogram_chart(data),
            "<h2>Model calibration</h2>",
            _calibration_chart(run),
            _table(_parameters(run)),
            "<h2>RFM segments</h2>",
            _table(data.segments),
            f"<h2>Top {len(data.top)} customers by CLV</h2>",
            _table(data.top),
            "<h2>Audit</h2>",
            _audit(run),
            "</body></html>",
        ]
    )
