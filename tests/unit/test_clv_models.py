"""The purchase models and Gamma-Gamma on CDNOW: the published parameters of Fader, Hardie & Lee (2005)
reproduced from the published summary, and every per-customer prediction of BG/NBD, MBG/NBD and Pareto/NBD
equal to the `lifetimes` package's (no Spark needed)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.special import gammaln

from salesinsights.clv.fit import calibration_table
from salesinsights.clv.gamma_gamma import expected_average_value, fit_gamma_gamma
from salesinsights.clv.pareto_nbd import ParetoNbdParams
from salesinsights.clv.purchase_models import (
    BGNBD,
    MBGNBD,
    PARETO_NBD,
    PURCHASE_MODELS,
    PurchaseFit,
    PurchaseModel,
    fit_purchase_model,
)
from salesinsights.clv.scoring import discounted_clv, extrapolated, score
from salesinsights.settings import ClvSettings
from tests import cdnow
from tests.cdnow import (
    PUBLISHED_BGNBD,
    PUBLISHED_GAMMA_GAMMA,
    PUBLISHED_PARETO_NBD,
    assert_within_one_percent,
)

# Fader, Hardie & Lee (2005): BG/NBD in "Counting your customers the easy way" (table 1 and the text),
# Gamma-Gamma in "RFM and CLV" (the 946 customers with repeat purchases in the 39 calibration weeks).
PUBLISHED_LOG_LIKELIHOOD = -9582.4
# Pareto/NBD's, in "A note on implementing the Pareto/NBD model in MATLAB".
PUBLISHED_PARETO_LOG_LIKELIHOOD = -9595.0


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return cdnow.published_summary()


@pytest.fixture(scope="module")
def repeaters(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[summary["x"] > 0]


def fit(model: PurchaseModel[Any], summary: pd.DataFrame) -> PurchaseFit:
    return fit_purchase_model(model, summary["x"], summary["t_x"], summary["T"])


def lifetimes_reference(fitted: PurchaseFit) -> Any:
    from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

    fitters = {"bgnbd": BetaGeoFitter, "mbgnbd": ModifiedBetaGeoFitter, "pareto_nbd": ParetoNBDFitter}
    reference = fitters[fitted.model.name]()
    reference.params_ = pd.Series(fitted.parameters)
    return reference


def test_bgnbd_reproduces_the_published_fit(summary: pd.DataFrame) -> None:
    fitted = fit(BGNBD, summary)
    assert fitted.diagnostics.converged
    assert fitted.diagnostics.customers == cdnow.CUSTOMERS
    assert_within_one_percent(fitted.params, PUBLISHED_BGNBD)
    assert fitted.diagnostics.log_likelihood == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.1)
    # The published parameters are (to their rounding) the maximum.
    published = BGNBD.log_likelihood(PUBLISHED_BGNBD, summary["x"], summary["t_x"], summary["T"])
    assert fitted.diagnostics.log_likelihood >= published > fitted.diagnostics.log_likelihood - 0.1


def test_pareto_nbd_reproduces_the_published_fit(summary: pd.DataFrame) -> None:
    fitted = fit(PARETO_NBD, summary)
    assert fitted.diagnostics.converged
    assert_within_one_percent(fitted.params, PUBLISHED_PARETO_NBD)
    assert fitted.diagnostics.log_likelihood == pytest.approx(PUBLISHED_PARETO_LOG_LIKELIHOOD, abs=0.1)
    published = PARETO_NBD.log_likelihood(PUBLISHED_PARETO_NBD, summary["x"], summary["t_x"], summary["T"])
    assert fitted.diagnostics.log_likelihood >= published > fitted.diagnostics.log_likelihood - 0.1


@pytest.mark.parametrize("model", [MBGNBD, PARETO_NBD], ids=lambda model: model.name)
def test_fit_equals_that_of_lifetimes(model: PurchaseModel[Any], summary: pd.DataFrame) -> None:
    fitted = fit(model, summary)
    reference = lifetimes_reference(fitted).fit(summary["x"], summary["t_x"], summary["T"])
    theirs_params = model.params_type(**reference.params_)
    assert_within_one_percent(fitted.params, theirs_params)
    # Ours is the maximum: at lifetimes' parameters the likelihood is no higher.
    theirs = model.log_likelihood(theirs_params, summary["x"], summary["t_x"], summary["T"])
    assert fitted.diagnostics.log_likelihood >= theirs - 1e-6


def test_gamma_gamma_reproduces_the_published_fit(repeaters: pd.DataFrame) -> None:
    fitted = fit_gamma_gamma(repeaters["x"], repeaters["zbar"])
    assert fitted.diagnostics.converged
    assert fitted.diagnostics.customers == cdnow.REPEAT_CUSTOMERS
    assert_within_one_percent(fitted.params, PUBLISHED_GAMMA_GAMMA)


@pytest.mark.parametrize("model", PURCHASE_MODELS.values(), ids=lambda model: model.name)
def test_a_fit_on_counted_groups_equals_the_fit_on_customers(
    model: PurchaseModel[Any], summary: pd.DataFrame
) -> None:
    groups = summary.groupby(["x", "t_x", "T"]).size().reset_index(name="customers")
    assert len(groups) < len(summary)
    grouped = fit_purchase_model(model, groups["x"], groups["t_x"], groups["T"], groups["customers"])
    single = fit(model, summary)
    assert grouped.diagnostics.log_likelihood == pytest.approx(single.diagnostics.log_likelihood, abs=1e-6)
    assert_within_one_percent(grouped.params, single.params)


def test_fits_reject_impossible_inputs() -> None:
    for model in PURCHASE_MODELS.values():
        with pytest.raises(ValueError, match="recency"):
            fit_purchase_model(model, [1], [5.0], [3.0])
    with pytest.raises(ValueError, match="repeat buyers"):
        fit_gamma_gamma([0, 2], [0.0, 10.0])


@pytest.mark.parametrize("model", PURCHASE_MODELS.values(), ids=lambda model: model.name)
def test_per_customer_predictions_equal_those_of_lifetimes(
    model: PurchaseModel[Any], summary: pd.DataFrame
) -> None:
    fitted = fit(model, summary)
    reference = lifetimes_reference(fitted)
    x, t_x, age = summary["x"], summary["t_x"], summary["T"]
    np.testing.assert_allclose(
        fitted.probability_alive(x, t_x, age), reference.conditional_probability_alive(x, t_x, age), rtol=1e-9
    )
    for horizon in (1.0, 39.0, 104.0):
        np.testing.assert_allclose(
            fitted.expected_purchases(horizon, x, t_x, age),
            reference.conditional_expected_number_of_purchases_up_to_time(horizon, x, t_x, age),
            rtol=1e-8,
        )
    # The repeat-count distribution: its mean is the model's unconditional expectation, its mass 1.
    ages = np.array([10.0, 38.86, 78.0])
    distribution = fitted.repeat_count_distribution(ages, 400)
    np.testing.assert_allclose(distribution.sum(axis=1), 1.0)
    np.testing.assert_allclose(
        distribution[:, :400] @ np.arange(400),
        [reference.expected_number_of_purchases_up_to_time(t) for t in ages],
        rtol=1e-7,
    )
    if model is not PARETO_NBD:  # lifetimes has P(X(t) = n) for the BG/NBD family only
        expected = [reference.probability_of_n_purchases_up_to_time(38.86, n) for n in range(7)]
        np.testing.assert_allclose(distribution[1, :7], expected, rtol=1e-9)


def test_spend_and_clv_equal_those_of_lifetimes(summary: pd.DataFrame, repeaters: pd.DataFrame) -> None:
    from lifetimes import GammaGammaFitter

    bgnbd = fit(BGNBD, summary)
    gamma_gamma = fit_gamma_gamma(repeaters["x"], repeaters["zbar"]).params
    spend = GammaGammaFitter()
    spend.params_ = pd.Series({"p": gamma_gamma.p, "q": gamma_gamma.q, "v": gamma_gamma.gamma})
    x, t_x, age, m = summary["x"], summary["t_x"], summary["T"], summary["zbar"]
    average = expected_average_value(gamma_gamma, x, m)
    np.testing.assert_allclose(average, spend.conditional_expected_average_profit(x, m), rtol=1e-9)
    # lifetimes counts a month as 4.345 weeks; discounted_clv takes the month's length as an argument.
    reference = lifetimes_reference(bgnbd)
    reference.predict = reference.conditional_expected_number_of_purchases_up_to_time
    np.testing.assert_allclose(
        discounted_clv(bgnbd, average, x, t_x, age, 12, 0.01, 4.345),
        spend.customer_lifetime_value(reference, x, t_x, age, m, time=12, discount_rate=0.01, freq="W"),
        rtol=1e-9,
    )


@pytest.mark.parametrize("model", PURCHASE_MODELS.values(), ids=lambda model: model.name)
def test_calibration_table_sets_actual_counts_beside_the_model(
    model: PurchaseModel[Any], summary: pd.DataFrame
) -> None:
    triples = (
        summary.rename(columns={"x": "frequency", "t_x": "recency", "T": "age"})
        .groupby(["frequency", "recency", "age"])
        .size()
        .reset_index(name="customers")
    )
    fitted = fit_purchase_model(
        model, triples["frequency"], triples["recency"], triples["age"], triples["customers"]
    )
    table = calibration_table(fitted, triples)
    assert [row["repeat_purchases"] for row in table] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert [row["actual"] for row in table][:2] == [
        int((summary["x"] == 0).sum()),
        int((summary["x"] == 1).sum()),
    ]
    assert sum(row["actual"] for row in table) == cdnow.CUSTOMERS
    assert sum(row["expected"] for row in table) == pytest.approx(cdnow.CUSTOMERS, abs=0.01)
    # A good fit (figure 2 of the paper): the 1,411 customers without repeat purchases within 2 %.
    assert table[0]["expected"] == pytest.approx(table[0]["actual"], rel=0.02)


def test_score_adds_the_predictions(summary: pd.DataFrame) -> None:
    bgnbd = PurchaseFit(BGNBD, PUBLISHED_BGNBD, fit(BGNBD, summary).diagnostics)
    gamma_gamma = PUBLISHED_GAMMA_GAMMA
    customers = summary.rename(
        columns={"x": "frequency", "t_x": "recency", "T": "age", "zbar": "monetary_value"}
    ).assign(occasions=lambda frame: frame["frequency"] + 1)
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
    # CDNOW's customers are 27-39 weeks old and the models shrink: no forecast outruns its history.
    assert not scored["extrapolated"].any()


def test_a_forecast_beyond_the_customers_own_rate_is_flagged() -> None:
    # 52 weeks ahead: two occasions in one week of history support two more, not 34; ten in a year, ten;
    # under one purchase nothing is flagged, however old the one-time buyer.
    flags = extrapolated(
        expected=[34.0, 5.0, 12.0, 31.0, 2.5, 0.35],
        occasions=[2, 2, 10, 10, 1, 1],
        age=[1.0, 1.0, 52.0, 52.0, 0.0, 1000.0],
        horizon=52.0,
        factor=3.0,
    )
    assert flags.tolist() == [True, False, False, True, False, False]


@pytest.mark.parametrize("beta", [11.67, 0.5, 0.005])
def test_pareto_nbd_repeat_counts_equal_adaptive_quadrature(beta: float) -> None:
    """lifetimes has no Pareto/NBD P(X(t) = x): the lifetime's integral against scipy's adaptive quad, also
    where β is small beside t and the lifetime's density piles up at 0."""
    from scipy.integrate import quad

    params = ParetoNbdParams(r=0.5, alpha=10.0, s=0.6, beta=beta)
    t = 500.0

    def nbd(u: float, x: int) -> float:
        return float(
            np.exp(gammaln(params.r + x) - gammaln(params.r) - gammaln(x + 1))
            * (params.alpha / (params.alpha + u)) ** params.r
            * (u / (params.alpha + u)) ** x
        )

    def density(u: float) -> float:
        return params.s * params.beta**params.s / (params.beta + u) ** (params.s + 1)

    distribution = PARETO_NBD.repeat_count_distribution(params, np.array([t]), 5)
    for x in range(5):
        integral, _ = quad(lambda u, x=x: nbd(u, x) * density(u), 0, t, points=[beta, 10 * beta], limit=500)
        expected = (beta / (beta + t)) ** params.s * nbd(t, x) + integral
        assert distribution[0, x] == pytest.approx(expected, abs=1e-7), x
