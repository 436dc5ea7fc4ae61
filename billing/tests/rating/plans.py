"""Small tariff plans built in code for the rating-rule tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from billing.rating.engine import VOICE, CallDescriptor, RatingEngine
from billing.rating.plan import (
    SECOND,
    DestinationRate,
    Rate,
    RateSlot,
    RatingPlanBinding,
    RatingProfile,
    TariffPlan,
    Timing,
)

TENANT = "operator"
ACTIVE_SINCE = datetime(2018, 1, 1, tzinfo=UTC)


def slot(
    price: str,
    unit: int = 60 * SECOND,
    increment: int = SECOND,
    group_start: int = 0,
    connect_fee: str = "0",
) -> RateSlot:
    return RateSlot(Decimal(connect_fee), Decimal(price), unit, increment, group_start)


def one_rate_plan(
    *slots: RateSlot,
    rounding_method: str = "*up",
    rounding_decimals: int = 4,
    max_cost: str = "0",
    max_cost_strategy: str = "",
    category: str = "call",
) -> TariffPlan:
    """Every number (destination *any) rated by one rate, at all times, for every subject."""
    return TariffPlan(
        rates=(Rate("RT", tuple(slots)),),
        destination_rates=(
            DestinationRate(
                "DR",
                "*any",
                "RT",
                rounding_method=rounding_method,
                rounding_decimals=rounding_decimals,
                max_cost=Decimal(max_cost),
                max_cost_strategy=max_cost_strategy,
            ),
        ),
        rating_plans=(RatingPlanBinding("RP", "DR", "*any", Decimal(10)),),
        rating_profiles=(RatingProfile(TENANT, category, "*any", ACTIVE_SINCE, "RP"),),
    ).validate()


def banded_plan(*, max_cost: str = "0", max_cost_strategy: str = "") -> TariffPlan:
    """Weekday peak from 08:00 (0.60 a minute), weekday off-peak from 00:00 and 19:00 (0.30),
    weekend (0.12), Christmas Day at a higher weight (0.06); all per second, weight 10."""
    rates = (
        Rate("RT_PEAK", (slot("0.60"),)),
        Rate("RT_OFFPEAK", (slot("0.30"),)),
        Rate("RT_WEEKEND", (slot("0.12"),)),
        Rate("RT_HOLIDAY", (slot("0.06"),)),
    )
    rows = tuple(
        DestinationRate(
            f"DR_{band}",
            "*any",
            f"RT_{band}",
            rounding_decimals=4,
            max_cost=Decimal(max_cost),
            max_cost_strategy=max_cost_strategy,
        )
        for band in ("PEAK", "OFFPEAK", "WEEKEND", "HOLIDAY")
    )
    timings = (
        Timing("PEAK", week_days=(1, 2, 3, 4, 5), start_time="08:00:00"),
        Timing("OFFPEAK_MORNING", week_days=(1, 2, 3, 4, 5), start_time="00:00:00"),
        Timing("OFFPEAK_EVENING", week_days=(1, 2, 3, 4, 5), start_time="19:00:00"),
        Timing("WEEKEND", week_days=(6, 7)),
        Timing("CHRISTMAS", months=(12,), month_days=(25,)),
    )
    bindings = (
        RatingPlanBinding("RP", "DR_PEAK", "PEAK", Decimal(10)),
        RatingPlanBinding("RP", "DR_OFFPEAK", "OFFPEAK_MORNING", Decimal(10)),
        RatingPlanBinding("RP", "DR_OFFPEAK", "OFFPEAK_EVENING", Decimal(10)),
        RatingPlanBinding("RP", "DR_WEEKEND", "WEEKEND", Decimal(10)),
        RatingPlanBinding("RP", "DR_HOLIDAY", "CHRISTMAS", Decimal(20)),
    )
    return TariffPlan(
        rates=rates,
        timings=timings,
        destination_rates=rows,
        rating_plans=bindings,
        rating_profiles=(RatingProfile(TENANT, "call", "*any", ACTIVE_SINCE, "RP"),),
    ).validate()


def engine(
    plan: TariffPlan, cgrates_decimals: int | None = None, time_zone: str = "UTC"
) -> RatingEngine:
    return RatingEngine(plan, time_zone=time_zone, cgrates_decimals=cgrates_decimals)


def call(
    usage: int,
    at: datetime = datetime(2019, 3, 11, 9, 0, tzinfo=UTC),  # a Monday
    *,
    subject: str = "1001",
    destination: str = "447700900123",
    category: str = "call",
    tor: str = VOICE,
) -> CallDescriptor:
    return CallDescriptor(TENANT, category, subject, destination, at, usage, tor)
