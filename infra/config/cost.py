"""Cost config: the Azure consumption budget on the environment's resource group and DBU prices.

Budget thresholds are the same everywhere (80 % and 100 % of actual cost, 110 % of forecast); the amount,
recipients and (optionally) the start month differ per environment.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import StrictModel, field_problems
from infra.config.types import EmailList


def today() -> dt.date:
    """Today's date in UTC, read when a stack is validated (tests replace it to fix the clock)."""
    return dt.datetime.now(dt.UTC).date()


class BudgetThreshold(StrictModel):
    percent: float = Field(gt=0, le=1000)  # Azure: 0-1000 % of the amount
    """Percentage of the monthly amount at which the budget notifies its contacts."""
    kind: Literal["Actual", "Forecasted"]
    """Whether the threshold compares actual cost (`Actual`) or the forecast for the month (`Forecasted`)."""


DEFAULT_THRESHOLDS = [BudgetThreshold(percent=80, kind="Actual"), BudgetThreshold(percent=100, kind="Actual"),
                      BudgetThreshold(percent=110, kind="Forecasted")]


class BudgetConfig(StrictModel):
    """A monthly Azure cost budget scoped to the environment's resource group."""

    monthly_amount: float = Field(gt=0)  # in the subscription's billing currency
    """Monthly budget for the environment's resource group, in the subscription's billing currency."""
    contact_emails: EmailList
    """Who the budget notifications are e-mailed to (at least one address)."""
    # First day of a month (YYYY-MM-01). Unset: the first of the month in which the budget is created (Azure
    # rejects past start dates outside the current month); later runs leave the created date alone.
    start_date: dt.date | None = None
    """First day of the month the budget starts (YYYY-MM-01); unset, the month in which it is created."""
    thresholds: list[BudgetThreshold] = DEFAULT_THRESHOLDS
    """When the budget notifies (1 to 5 thresholds); default 80 % and 100 % of actual cost and 110 % of forecast."""

    @field_validator("contact_emails")
    @classmethod
    def _recipients(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("has no recipients; allowed: one or more e-mail addresses (a budget alert must "
                             "reach someone)")
        return v

    @field_validator("start_date")
    @classmethod
    def _first_of_month(cls, v: dt.date | None) -> dt.date | None:
        if v is not None and v.day != 1:
            raise ValueError(f"is not the first day of a month (Azure budgets start on one); did you mean "
                             f"'{v.replace(day=1).isoformat()}'?")
        return v

    @field_validator("start_date")
    @classmethod
    def _not_before_this_month(cls, v: dt.date | None) -> dt.date | None:
        # Azure Consumption budgets (BudgetTimePeriod.startDate): a past start date must lie within the
        # time grain period, i.e. for a monthly budget no earlier than the first of the current month.
        first = today().replace(day=1)
        if v is not None and v < first:
            raise ValueError(f"is before the current month; Azure refuses a budget starting in the past; "
                             f"allowed: '{first.isoformat()}' or later")
        return v

    @model_validator(mode="after")
    def _thresholds(self) -> BudgetConfig:
        if not 1 <= len(self.thresholds) <= 5:
            raise field_problems([("thresholds", len(self.thresholds), "notifications; Azure allows 1-5")])
        return self


class DbuPricesConfig(StrictModel):
    """USD per DBU, Azure Databricks premium tier list prices (the seed's 0.55 all-purpose rate)."""

    all_purpose: float = Field(default=0.55, gt=0)
    """USD per DBU of all-purpose (interactive) compute, used by the cost table."""
    jobs: float = Field(default=0.30, gt=0)
    """USD per DBU of jobs compute, used by the cost table."""
    serverless_sql: float = Field(default=0.70, gt=0)
    """USD per DBU of the serverless SQL warehouse, used by the cost table."""


class CostConfig(StrictModel):
    """`mlops-platform:cost`."""

    budget: BudgetConfig
    """The monthly Azure cost budget on the environment's resource group."""
    dbu_prices_usd: DbuPricesConfig = DbuPricesConfig()
    """DBU list prices the cost table multiplies the compute limits by; update them when your contract differs."""
