"""The CLV report renders from small aggregates into one self-contained HTML file with well-formed charts."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from salesinsights.clv.report import REPORT_HISTOGRAM_BINS, ReportData, render_report
from salesinsights.clv.svg import _nice_ceiling, bar_chart


def report_data() -> ReportData:
    run = {
        "run_id": "clv-test",
        "as_of_date": date(2020, 2, 29),
        "status": "published",
        "customers": 1200,
        "repeat_customers": 300,
        "total_revenue": Decimal("45678.90"),
        "horizon_months": 12,
        "monthly_discount_rate": 0.01,
        "time_unit": "week",
        "spend_frequency_correlation": 0.05,
        "purchase_model": "pareto_nbd",
        "purchase_params": json.dumps({"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}),
        "purchase_log_likelihood": -9595.0,
        "purchase_converged": True,
        "purchase_iterations": 24,
        "model_choice": "least purchases_mae on the holdout: pareto_nbd 0.7545, bgnbd 0.7855",
        "provisional": True,
        "provisional_reasons": json.dumps(["the history the models are fitted on is 7 day(s) <short>"]),
        "extrapolated_customers": 3,
        "gg_p": 6.25,
        "gg_q": 3.74,
        "gg_gamma": 15.44,
        "gg_log_likelihood": -4055.9,
        "gg_converged": True,
        "gg_iterations": 17,
        "calibration": json.dumps(
            [{"repeat_purchases": label, "actual": 10, "expected": 9.5} for label in ("0", "1", "2+")]
        ),
        "audit": json.dumps(
            [
                {"check": "not_empty", "passed": True, "detail": "1200 customers"},
                {"check": "clv_valid", "passed": False, "detail": "3 <negative> values"},
            ]
        ),
    }
    histogram = pd.DataFrame({"bin": [0, 1, REPORT_HISTOGRAM_BINS], "count": [900, 250, 50]})
    segments = pd.DataFrame(
        {
            "rfm_segment": ["champions", "hibernating"],
            "customers": [100, 1100],
            "historic_revenue": [20000.0, 25678.9],
            "mean_p_alive": [0.9, 0.4],
            "clv": [15000.0, 3000.0],
        }
    )
    top = pd.DataFrame(
        {"user_id": [42, 7], "rfm_segment": ["champions", "champions"], "clv": [900.5, 850.25]}
    )
    expectation = [
        {"frequency": f, "customers": 10, "actual": 0.5, "predicted": 0.4} for f in ("0", "1", "7+")
    ]
    alive = [{"bucket": "0.9-1.0", "customers": 30, "mean_p_alive": 0.95, "bought_again": 0.4}]
    backtests = pd.DataFrame(
        {
            "model": ["bgnbd", "pareto_nbd"],
            "chosen": [False, True],
            "calibration_end": [date(1997, 9, 30)] * 2,
            "holdout_days": [273] * 2,
            "customers": [2357] * 2,
            "actual_purchases": [1882.0] * 2,
            "predicted_purchases": [1653.4, 1665.5],
            "purchases_mae": [0.7855, 0.7545],
            "purchases_rmse": [1.608, 1.603],
            "spend_mae": [30.4, 29.5],
            "conditional_expectation": [json.dumps(expectation)] * 2,
            "p_alive_calibration": [json.dumps(alive)] * 2,
        }
    )
    return ReportData(run, 12.5, histogram, segments, top, backtests)


def test_report_holds_the_charts_tables_and_audit() -> None:
    html = render_report(report_data())
    assert html.startswith("<!DOCTYPE html>")
    assert "Customer lifetime value as of 2020-02-29" in html
    charts = re.findall(r"<svg.*?</svg>", html, flags=re.DOTALL)
    assert len(charts) == 4
    for chart in charts:
        ET.fromstring(chart)  # well-formed
    conditional, alive, histogram, calibration = charts
    assert "actual vs Pareto/NBD" in conditional and "7+" in conditional
    assert "bought again" in alive
    assert "Calibration" in calibration and "actual" in calibration and "model" in calibration
    assert "≥375" in histogram  # the open-ended last bin: 30 bins of 12.5
    assert 'class="provisional"' in html and "&lt;short&gt;" in html  # the reason, escaped
    # The comparison: both models' predictions beside the actual holdout purchases.
    assert "1,882.00" in html and "1,653.40" in html and "1,665.50" in html
    assert "Low-cost reactivation" in html  # the hibernating segment's suggestion
    assert "<dt>P(alive)</dt>" in html and "<dt>Backtest</dt>" in html
    assert "18,000.00" in html  # CLV of all customers
    assert "<td>42</td>" in html
    assert 'class="fail"' in html and "&lt;negative&gt;" in html  # the failed check, escaped


def test_bar_chart_draws_one_bar_per_category_and_series() -> None:
    chart = bar_chart("t", ["a", "b", "c"], {"x": [1.0, 2.0, 3.0], "y": [0.0, 1.0, 0.5]}, "cat", "n")
    root = ET.fromstring(chart)
    bars = [rect for rect in root.iter("{http://www.w3.org/2000/svg}rect") if rect.find("*") is not None]
    assert len(bars) == 6


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0.0, 1.0), (0.03, 0.05), (7.0, 10.0), (11.0, 20.0), (1411.0, 2000.0), (5e5, 5e5)]
)
def test_axis_ceiling_is_round(value: float, ceiling: float) -> None:
    assert _nice_ceiling(value) == pytest.approx(ceiling)


def test_a_run_from_before_the_backtest_renders_as_not_checked() -> None:
    data = report_data()
    old_run = {key: value for key, value in data.run.items() if not key.startswith("purchase_")}
    for key in ("model_choice", "provisional", "provisional_reasons", "extrapolated_customers"):
        old_run.pop(key)
    old_run |= {"bgnbd_r": 0.24, "bgnbd_alpha": 4.4, "bgnbd_a": 0.79, "bgnbd_b": 2.4}
    html = render_report(
        ReportData(old_run, data.bin_width, data.histogram, data.segments, data.top, data.backtests.iloc[0:0])
    )
    assert "predates the backtest and its guards" in html
    assert "<td>not checked</td>" in html  # customers flagged as extrapolated
    assert "No backtest for this run" in html
