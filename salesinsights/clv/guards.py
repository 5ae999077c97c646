"""When a CLV run's figures may not be trusted: the guards against extrapolation. Each returns the reasons
it finds, in words a marketer can read; a run with any reason is provisional (or refused, by setting). A fit
that did not converge is no guard's matter: the audit rejects it (`clv.audit`). Pure: plain values in,
reasons out."""

from __future__ import annotations

from salesinsights.clv.backtest import ModelBacktest
from salesinsights.clv.purchase_models import PurchaseFit
from salesinsights.settings import DAYS_PER_MONTH, ClvSettings

# The parameter that governs dropout: near 0, almost no customer ever drops out, and every forecast is a
# straight line from the customer's own purchases.
DROPOUT_SHAPE = {"bgnbd": "a", "mbgnbd": "a", "pareto_nbd": "s"}
NO_DROPOUT_BELOW = 0.01
# Shape parameters beyond this, or scales beyond it times the longest customer age, are a fit run off to
# infinity: the likelihood is flat there and the figures rest on nothing the data says.
EXPLODED_ABOVE = 1000.0


def calibration_reasons(history_days: int, clv: ClvSettings) -> list[str]:
    """A fit on a history shorter than the configured share of the horizon predicts far beyond its data."""
    needed = clv.min_calibration_share_of_horizon * clv.horizon_months * DAYS_PER_MONTH
    if history_days >= needed:
        return []
    return [
        f"the history the models are fitted on is {history_days} day(s), under "
        f"{clv.min_calibration_share_of_horizon:.0%} of the {clv.horizon_months}-month horizon "
        f"({needed:.0f} days): the forecast extrapolates far beyond the history it was fitted on"
    ]


def boundary_reasons(fit: PurchaseFit, longest_age: float) -> list[str]:
    """A fit at a parameter boundary: dropout vanishing, or a parameter exploding."""
    reasons = []
    dropout = DROPOUT_SHAPE[fit.model.name]
    parameters = fit.parameters
    if parameters[dropout] < NO_DROPOUT_BELOW:
        reasons.append(
            f"{fit.model.title} fitted {dropout} = {parameters[dropout]:.3g}: almost no customer ever drops "
            "out, so P(alive) is near 1 for everyone and forecasts extrapolate each customer's own rate"
        )
    for name, value in parameters.items():
        limit = EXPLODED_ABOVE * max(longest_age, 1.0) if name in fit.model.time_scales else EXPLODED_ABOVE
        if value > limit:
            reasons.append(
                f"{fit.model.title} fitted {name} = {value:.3g}, beyond {limit:.3g}: the fit ran off to a "
                "boundary where the data no longer determines it"
            )
    return reasons


def holdout_reasons(chosen: ModelBacktest, clv: ClvSettings) -> list[str]:
    error = chosen.aggregate_purchases_error
    if error is None:
        return ["no customer bought again in the holdout: there is nothing to check the forecast against"]
    if abs(error) <= clv.max_holdout_error:
        return []
    return [
        f"{chosen.fit.model.title} predicted {chosen.predicted_purchases:,.0f} purchases in the holdout "
        f"against {chosen.actual_purchases:,.0f} that happened ({error:+.0%}, "
        f"beyond ±{clv.max_holdout_error:.0%})"
    ]
