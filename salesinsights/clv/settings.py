"""The CLV section of the settings (`Settings.clv`; environment: SALESINSIGHTS_CLV__<FIELD>)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

TimeUnit = Literal["day", "week", "month"]
# A month is 1/12 of the average year, for the time unit as for the monthly discounting steps.
DAYS_PER_MONTH = 365.25 / 12
UNIT_DAYS: dict[TimeUnit, float] = {"day": 1.0, "week": 7.0, "month": DAYS_PER_MONTH}


class ClvSettings(BaseModel):
    horizon_months: int = Field(default=12, ge=1, le=120)
    monthly_discount_rate: float = Field(default=0.01, ge=0, lt=1)
    # Recency and age T are day differences divided by the unit's days; weeks as in the literature.
    time_unit: TimeUnit = "week"
    top_customers: int = Field(default=20, ge=1)

    @property
    def unit_days(self) -> float:
        return UNIT_DAYS[self.time_unit]

    @property
    def units_per_month(self) -> float:
        return DAYS_PER_MONTH / self.unit_days
