"""BG/NBD and Gamma-Gamma on CDNOW: the published parameters of Fader, Hardie & Lee (2005), reproduced from
the published summary, and every prediction equal to the `lifetimes` package's (no Spark needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesinsights.clv.fit import calibration_table
from salesinsights.clv.models import (
    bgnbd_log_likelihood,
    fit_bgnbd,
    fit_gamma_gamma,
)
from salesinsights.clv.predict import (
    discounted_clv,
    expected_average_value,
    expected_purchases,
    probability_alive,
    repeat_count_distribution,
)
from salesinsights.clv.scoring import score
from salesinsights.settings import ClvSettings
from tests import cdnow
from tests.cdnow import PUBLISHED_BGNBD, PUBLISHED_GAMMA_GAMMA, assert_within_one_percent

# Fader, Hardie & Lee (2005): BG/NBD in "Counting your customers the easy way" (table 1 and the text),
# Gamma-Gamma in "RFM and CLV" (the 946 customers with repeat purchases in the 39 calibration weeks).
PUBLISHED_LOG_LIKELIHOOD = -9582.4


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return cdnow.published_summary()


@pytest.fixture(scope="module")
def repeaters(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[summary["x"] > 0]


def test_bgnbd_reproduces_the_published_fit(summary: pd.DataFrame) -> None:
    fit = fit_bgnbd(summary["x"], summary["t_x"], summary["T"])
    assert fit.diagnostics.converged
    assert fit.diagnostics.customers == cdnow.CUSTOMERS
    assert_within_one_percent(fit.params, PUBLISHED_BGNBD)
    assert fit.diagnostics.log_likelihood == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.1)
    # The published parameters are (to their rounding) the maximum.
    published = bgnbd_log_likelihood(PUBLISHED_BGNBD, summary["x"], summary["t_x"], summary["T"])
    assert fit.diagnostics.log_likelihood >= published > fit.diagnostics.log_likelihood - 0.1


def test_gamma_gamma_reproduces_the_published_fit(repeaters: pd.DataFrame) -> None:
    fit = fit_gamma_gamma(repeaters["x"], repeaters["zbar"])
    assert fit.diagnostics.converged
    assert fit.diagnostics.customers == cdnow.REPEAT_CUSTOMERS
    assert_within_one_percent(fit.params, PUBLISHED_GAMMA_GAMMA)


def test_a_fit_on_counted_groups_equals_the_fit_on_customers(summary: pd.DataFrame) -> None:
    groups = summary.groupby(["x", "t_x", "T"]).size().reset_index(name="customers")
    assert len(groups) < len(summary)
    grouped = fit_bgnbd(groups["x"], groups["t_x"], groups["T"], groups["customers"])
    single = fit_bgnbd(summary["x"], summary["t_x"], summary["T"])
    assert grouped.diagnostics.log_likelihood == pytest.approx(single.diagnostics.log_likelihood, abs=1e-6)
    assert_within_one_percent(grouped.params, single.params)


def test_fits_reject_impossible_inputs() -> None:
    with pytest.raises(ValueError, match="recency"):
        fit_bgnbd([1], [5.0], [3.0])
    with pytest.raises(ValueError, match="repeat buyers"):
        fit_gamma_gamma([0, 2], [0.0, 10.0])


def test_predictions_equal_those_of_lifetimes(summary: pd.DataFrame, repeaters: pd.DataFrame) -> None:
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    bgnbd = fit_bgnbd(summary["x"], summary["t_x"], summary["T"]).params
    gamma_gamma = fit_gamma_gamma(repeaters["x"], repeaters["zbar"]).params
    reference = BetaGeoFitter()
    reference.params_ = pd.Series(vars(bgnbd))
    spend = GammaGammaFitter()
    spend.params_ = pd.Series({"p": gamma_gamma.p, "q": gamma_gamma.q, "v": gamma_gamma.gamma})
    x, t_x, age, m = summary["x"], summary["t_x"], summary["T"], summary["zbar"]

    np.testing.assert_allclose(
        probability_alive(bgnbd, x, t_x, age), reference.conditional_probability_alive(x, t_x, age), rtol=1e-9
    )
    np.testing.assert_allclose(
        expected_purchases(bgnbd, 39, x, t_x, age),
        reference.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, age),
        rtol=1e-9,
    )
    average = expected_average_value(gamma_gamma, x, m)
    np.testing.assert_allclose(average, spend.conditional_expected_average_profit(x, m), rtol=1e-9)
    # lifetimes counts a month as 4.345 weeks; discounted_clv takes the month's length as an argument.
    reference.predict = reference.conditional_expected_number_of_purchases_up_to_time
    np.testing.assert_allclose(
        discounted_clv(bgnbd, average, x, t_x, age, 12, 0.01, 4.345),
        spend.customer_lifetime_value(reference, x, t_x, age, m, time=12, discount_rate=0.01, freq="W"),
        rtol=1e-9,
    )
    distribution = repeat_count_distribution(bgnbd, np.array([10.0, 38.86]), 7)
    for row, t in enumerate((10.0, 38.86)):
        expected = [reference.probability_of_n_purchases_up_to_time(t, n) for n in range(7)]
        np.testing.assert_allclose(distribution[row, :7], expected, rtol=1e-9)
    np.testing.assert_allclose(distribution.sum(axis=1), 1.0)


def test_calibration_table_sets_actual_counts_beside_the_model(summary: pd.DataFrame) -> None:
    triples = (
        summary.rename(columns={"x": "frequency", "t_x": "recency", "T": "age"})
        .groupby(["frequency", "recency", "age"])
        .size()
        .reset_index(name="customers")
    )
    fit = fit_bgnbd(triples["frequency"], triples["recency"], triples["age"], triples["customers"])
    table = calibration_table(fit, triples)
    assert [row["repeat_purchases"] for row in table] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert [row["actual"] for row in table][:2] == [
        int((summary["x"] == 0).sum()),
        int((summary["x"] == 1).sum()),
    ]
    assert sum(row["actual"] for row in table) == cdnow.CUSTOMERS
    assert sum(row["expected"] for row in table) == pytest.approx(cdnow.CUSTOMERS, abs=0.01)
    # A good fit (figure 2 of the paper): the 1,411 customers without repeat purchases within 1 %.
    assert table[0]["expected"] == pytest.approx(table[0]["actual"], rel=0.01)


def test_score_adds_the_predictions(summary: pd.DataFrame) -> None:
    bgnbd, gamma_gamma = PUBLISHED_BGNBD, PUBLISHED_GAMMA_GAMMA
    customers = summary.rename(
        columns={"x": "frequency", "t_x": "recency", "T": "age", "zbar": "monetary_value"}
    )
    scored = score(customers, bgnbd, gamma_gamma, ClvSettings(horizon_months=12, monthly_discount_rate=0.01))
    one_time = scored[scored["frequency"] == 0]
    assert (one_time["p_alive"] == 1.0).all()
    population_mean = gamma_gamma.p * gamma_gamma.gamma / (gamma_gamma.q - 1)
    np.testing.assert_allclose(one_time["expected_average_value"], population_mean)
    assert ((scored["p_alive"] > 0) & (scored["p_alive"] <= 1)).all()
    assert (scored["expected_purchases"] >= 0).all()
    # Discounting: CLV is below the undiscounted expected purchases times expected value.
    assert (scored["clv"] <= scored["expected_purchases"] * scored["expected_average_value"] + 1e-9).all()
    longer = score(customers, bgnbd, gamma_gamma, ClvSettings(horizon_months=24))
    assert (longer["clv"] >= scored["clv"]).all()
