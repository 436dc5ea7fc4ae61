"""The demo operator's tariffs in GBP, built through the tariff services: payg-standard,
postpaid-standard and postpaid-business, each with one published version.

UK-style destinations (the demo lines' own +4474 range on-net, other 447 mobiles off-net,
landlines 441/442/443, freephone 0800/0808 free, premium 09, international zones EU, US and the
rest of the world by country prefix), voice with connect fees, the first 60 s as one block then
per second, in peak, off-peak, weekend and holiday bands in the operator's time zone; SMS and
MMS per message, data per MB (charged per KB); weekend landline calls capped at a maximum cost,
the rest free.

`tariffs_demo_ensure(actor)` is idempotent: a tariff that already has a published version is
left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db import transaction

from billing.rating.models import TENANT, Category, Tariff, TariffVersion
from billing.rating.plan import (
    ANY,
    MAX_COST_FREE,
    ROUNDING_HALF_UP,
    SECOND,
    Destination,
    DestinationRate,
    Rate,
    RateSlot,
    RatingPlanBinding,
    RatingProfile,
    TariffPlan,
    Timing,
)
from billing.rating.services import (
    tariff_create,
    tariff_version_content_replace,
    tariff_version_draft,
    tariff_version_publish,
)
from common.types import UserLike

# In force from the start of 2025, so the demo's past usage has a tariff too.
VALID_FROM = datetime(2025, 1, 1, tzinfo=UTC)
ACTIVATION = datetime(2020, 1, 1, tzinfo=UTC)
MB = 1_000_000  # decimal, as usage records count data

DESTINATIONS = (
    Destination("GB_ONNET", ("4474",)),
    Destination("GB_MOBILE", ("447",)),
    Destination("GB_LANDLINE", ("441", "442", "443")),
    Destination("GB_NATIONAL", ("44",)),  # other UK numbers (personal, corporate), at landline
    Destination("GB_FREEPHONE", ("44800", "44808")),
    Destination("GB_PREMIUM", ("449",)),
    Destination(
        "INTL_EU",
        (
            "30",
            "31",
            "32",
            "33",
            "34",
            "351",
            "352",
            "353",
            "356",
            "357",
            "358",
            "359",
            "36",
            "370",
            "371",
            "372",
            "385",
            "386",
            "39",
            "40",
            "420",
            "421",
            "43",
            "45",
            "46",
            "48",
            "49",
        ),
    ),
    Destination("INTL_US", ("1",)),
    Destination("INTL_ROW", ("2", "3", "4", "5", "6", "7", "8", "9")),
)

TIMINGS = (
    Timing("OFFPEAK_MORNING", week_days=(1, 2, 3, 4, 5), start_time=""),
    Timing("PEAK", week_days=(1, 2, 3, 4, 5), start_time="08:00:00"),
    Timing("OFFPEAK_EVENING", week_days=(1, 2, 3, 4, 5), start_time="19:00:00"),
    Timing("WEEKEND", week_days=(6, 7), start_time=""),
    Timing("CHRISTMAS", months=(12,), month_days=(25, 26), start_time=""),
    Timing("NEW_YEAR", months=(1,), month_days=(1,), start_time=""),
)


@dataclass(frozen=True)
class Prices:
    """Per-minute prices (GBP) by band, connect fees, and per-message and per-MB prices."""

    onnet: str
    mobile: tuple[str, str, str]  # peak, off-peak, weekend
    landline: tuple[str, str, str]
    premium: str
    premium_connect: str
    eu: str
    us: str
    row: str
    international_connect: str
    sms: str
    mms: str
    data_mb: str
    connect: str = "0"
    landline_weekend_cap: str = "1.00"


def _voice(rate_id: str, per_minute: str, connect: str) -> Rate:
    """The first 60 s as one block, then per second, at `per_minute`."""
    price = Decimal(per_minute)
    return Rate(
        rate_id,
        (
            RateSlot(Decimal(connect), price, 60 * SECOND, 60 * SECOND, 0),
            RateSlot(Decimal("0"), price, 60 * SECOND, SECOND, 60 * SECOND),
        ),
    )


def _per_unit(rate_id: str, price: str, unit: int, increment: int) -> Rate:
    return Rate(rate_id, (RateSlot(Decimal("0"), Decimal(price), unit, increment, 0),))


def _plan(prices: Prices) -> TariffPlan:
    bands = ("PEAK", "OFFPEAK", "WEEKEND")
    rates = [
        _voice("RT_ONNET", prices.onnet, prices.connect),
        _voice("RT_FREE", "0", "0"),
        _voice("RT_PREMIUM", prices.premium, prices.premium_connect),
        _voice("RT_EU", prices.eu, prices.international_connect),
        _voice("RT_US", prices.us, prices.international_connect),
        _voice("RT_ROW", prices.row, prices.international_connect),
        _per_unit("RT_SMS", prices.sms, 1, 1),
        _per_unit("RT_MMS", prices.mms, 1, 1),
        _per_unit("RT_DATA", prices.data_mb, MB, 1000),
    ]
    destination_rates = []
    for index, band in enumerate(bands):
        rates.append(_voice(f"RT_MOBILE_{band}", prices.mobile[index], prices.connect))
        rates.append(_voice(f"RT_LANDLINE_{band}", prices.landline[index], prices.connect))
        dr = f"DR_{band}"
        destination_rates += [
            DestinationRate(dr, "GB_ONNET", "RT_ONNET", ROUNDING_HALF_UP),
            DestinationRate(dr, "GB_MOBILE", f"RT_MOBILE_{band}", ROUNDING_HALF_UP),
            DestinationRate(
                dr,
                "GB_LANDLINE",
                f"RT_LANDLINE_{band}",
                rounding_method=ROUNDING_HALF_UP,
                max_cost=Decimal(prices.landline_weekend_cap) if band == "WEEKEND" else Decimal(0),
                max_cost_strategy=MAX_COST_FREE if band == "WEEKEND" else "",
            ),
            DestinationRate(dr, "GB_NATIONAL", f"RT_LANDLINE_{band}", ROUNDING_HALF_UP),
            DestinationRate(dr, "GB_FREEPHONE", "RT_FREE", ROUNDING_HALF_UP),
            DestinationRate(dr, "GB_PREMIUM", "RT_PREMIUM", ROUNDING_HALF_UP),
            DestinationRate(dr, "INTL_EU", "RT_EU", ROUNDING_HALF_UP),
            DestinationRate(dr, "INTL_US", "RT_US", ROUNDING_HALF_UP),
            DestinationRate(dr, "INTL_ROW", "RT_ROW", ROUNDING_HALF_UP),
        ]
    destination_rates += [
        DestinationRate("DR_SMS", ANY, "RT_SMS", ROUNDING_HALF_UP, 4),
        DestinationRate("DR_MMS", ANY, "RT_MMS", ROUNDING_HALF_UP, 4),
        DestinationRate("DR_DATA", ANY, "RT_DATA", ROUNDING_HALF_UP, 4),
    ]
    weight = Decimal("10")
    holiday = Decimal("20")  # a holiday outweighs the weekday bands it falls on
    rating_plans = [
        RatingPlanBinding("RP_VOICE", "DR_OFFPEAK", "OFFPEAK_MORNING", weight),
        RatingPlanBinding("RP_VOICE", "DR_PEAK", "PEAK", weight),
        RatingPlanBinding("RP_VOICE", "DR_OFFPEAK", "OFFPEAK_EVENING", weight),
        RatingPlanBinding("RP_VOICE", "DR_WEEKEND", "WEEKEND", weight),
        RatingPlanBinding("RP_VOICE", "DR_WEEKEND", "CHRISTMAS", holiday),
        RatingPlanBinding("RP_VOICE", "DR_WEEKEND", "NEW_YEAR", holiday),
        RatingPlanBinding("RP_SMS", "DR_SMS", ANY, weight),
        RatingPlanBinding("RP_MMS", "DR_MMS", ANY, weight),
        RatingPlanBinding("RP_DATA", "DR_DATA", ANY, weight),
    ]
    profiles = tuple(
        RatingProfile(TENANT, category, ANY, ACTIVATION, plan)
        for category, plan in (
            (Category.CALL, "RP_VOICE"),
            (Category.SMS, "RP_SMS"),
            (Category.MMS, "RP_MMS"),
            (Category.DATA, "RP_DATA"),
        )
    )
    return TariffPlan(
        destinations=DESTINATIONS,
        rates=tuple(rates),
        timings=TIMINGS,
        destination_rates=tuple(destination_rates),
        rating_plans=tuple(rating_plans),
        rating_profiles=profiles,
    ).validate()


@dataclass(frozen=True)
class DemoTariff:
    code: str
    name: str
    description: str
    prices: Prices


TARIFFS: tuple[DemoTariff, ...] = (
    DemoTariff(
        "payg-standard",
        "Pay as you go standard",
        "Prepaid usage beyond the allowances: 30p a minute to UK mobiles and landlines at peak.",
        Prices(
            onnet="0.1000",
            mobile=("0.3000", "0.1500", "0.1000"),
            landline=("0.3000", "0.1500", "0.1000"),
            premium="1.5000",
            premium_connect="0.5000",
            eu="0.8000",
            us="0.9000",
            row="2.0000",
            international_connect="0.2500",
            sms="0.2000",
            mms="0.4000",
            data_mb="0.1000",
            connect="0.0500",
        ),
    ),
    DemoTariff(
        "postpaid-standard",
        "Pay monthly standard",
        "Pay monthly usage beyond the allowances: 15p a minute to UK numbers at peak.",
        Prices(
            onnet="0.0500",
            mobile=("0.1500", "0.0800", "0.0500"),
            landline=("0.1500", "0.0800", "0.0500"),
            premium="1.2000",
            premium_connect="0.3500",
            eu="0.5500",
            us="0.6000",
            row="1.5000",
            international_connect="0.1500",
            sms="0.1200",
            mms="0.3000",
            data_mb="0.0500",
            connect="0.0300",
        ),
    ),
    DemoTariff(
        "postpaid-business",
        "Business standard",
        "Business lines: low UK rates, cheaper international, calls to colleagues 2p a minute.",
        Prices(
            onnet="0.0200",
            mobile=("0.1000", "0.0600", "0.0400"),
            landline=("0.0800", "0.0500", "0.0300"),
            premium="1.0000",
            premium_connect="0.2500",
            eu="0.3500",
            us="0.4000",
            row="1.2000",
            international_connect="0.1000",
            sms="0.0800",
            mms="0.2500",
            data_mb="0.0300",
            landline_weekend_cap="0.5000",
        ),
    ),
)


def _tariff_ensure(demo: DemoTariff, actor: UserLike) -> Tariff:
    tariff = Tariff.objects.filter(code=demo.code).first()
    if tariff is None:
        tariff = tariff_create(
            actor=actor,
            code=demo.code,
            name=demo.name,
            currency="GBP",
            description=demo.description,
            reason="Demo data",
        )
    if tariff.versions.filter(status=TariffVersion.Status.PUBLISHED).exists():
        return tariff
    draft = tariff.versions.filter(status=TariffVersion.Status.DRAFT).first()
    if draft is None:
        draft = tariff_version_draft(tariff=tariff, actor=actor, reason="Demo data")
    draft = tariff_version_content_replace(
        version=draft, actor=actor, plan=_plan(demo.prices), summary="Demo tariff plan."
    )
    tariff_version_publish(version=draft, actor=actor, reason="Demo data", valid_from=VALID_FROM)
    return tariff


@transaction.atomic
def tariffs_demo_ensure(actor: UserLike) -> dict[str, Tariff]:
    """The demo tariffs by code, each with a published version (made when missing)."""
    return {demo.code: _tariff_ensure(demo, actor) for demo in TARIFFS}
