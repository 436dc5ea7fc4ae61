"""A tariff plan as data: the shared shape of what rates usage.

The shape follows CGRateS's tariff-plan tables (Destinations, Rates, Timings, DestinationRates,
RatingPlans, RatingProfiles) so a plan moves between CGRateS CSV directories, the database
(`TariffVersion.content`, the JSON of `TariffPlan.to_dict()`) and the rating engine unchanged.

Quantities are integers in the usage's base unit: nanoseconds for voice (as CGRateS), messages
for SMS and MMS, bytes for data. Money is `Decimal`, never a float; in JSON it is a string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

SECOND = 1_000_000_000  # nanoseconds: voice quantities are counted in these, as in CGRateS

ROUNDING_UP = "*up"
ROUNDING_HALF_UP = "*middle"
ROUNDING_DOWN = "*down"
ROUNDING_METHODS = (ROUNDING_UP, ROUNDING_HALF_UP, ROUNDING_DOWN)

MAX_COST_FREE = "*free"
MAX_COST_DISCONNECT = "*disconnect"
MAX_COST_STRATEGIES = ("", MAX_COST_FREE, MAX_COST_DISCONNECT)

ANY = "*any"
ANY_DESTINATION = "*any"  # a destination-rate row may bind to every number

TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]")


class PlanError(ValueError):
    """The plan is inconsistent; `where` names the table and row, `reason` is machine-readable."""

    def __init__(self, message: str, *, where: str = "", reason: str = "invalid_plan") -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Destination:
    """A named set of number prefixes ("GB_MOBILE": 447…); the longest matching prefix wins."""

    id: str
    prefixes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RateSlot:
    """One rate group: from `group_start` units into the usage, `price` per `rate_unit`,
    charged in steps of `rate_increment`. The connect fee of a rate is on its first slot."""

    connect_fee: Decimal
    price: Decimal
    rate_unit: int
    rate_increment: int
    group_start: int = 0


@dataclass(frozen=True, slots=True)
class Rate:
    id: str
    slots: tuple[RateSlot, ...]  # ordered by group_start


@dataclass(frozen=True, slots=True)
class Timing:
    """A time band: when it applies, in the operator's time zone.

    Empty tuples mean any; `week_days` are ISO weekday numbers (Monday 1 … Sunday 7, with 0
    accepted for Sunday as CGRateS does); `start_time` is "HH:MM:SS" or "" (from midnight).
    A holiday is a band limited to its `months` and `month_days` (and `years`, if one-off).
    `end_time` ("HH:MM:SS", exclusive) ends the band before midnight, as CGRateS's
    "start;end" Time column does; "" runs it to midnight.
    """

    id: str
    years: tuple[int, ...] = ()
    months: tuple[int, ...] = ()
    month_days: tuple[int, ...] = ()
    week_days: tuple[int, ...] = ()
    start_time: str = ""
    end_time: str = ""


@dataclass(frozen=True, slots=True)
class DestinationRate:
    """Binds destinations to a rate, with the rounding and the cost cap of the result."""

    id: str
    destination_id: str
    rate_id: str
    rounding_method: str = ROUNDING_UP
    rounding_decimals: int = 4
    max_cost: Decimal = Decimal("0")
    max_cost_strategy: str = ""


@dataclass(frozen=True, slots=True)
class RatingPlanBinding:
    """One row of a rating plan: these destination rates apply in this time band, by weight."""

    rating_plan_id: str
    destination_rates_id: str
    timing_id: str
    weight: Decimal = Decimal("0")


@dataclass(frozen=True, slots=True)
class RatingProfile:
    """Who is rated by which rating plan from when, with the subjects to fall back to."""

    tenant: str
    category: str
    subject: str
    activation_time: datetime
    rating_plan_id: str
    fallback_subjects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TariffPlan:
    destinations: tuple[Destination, ...] = ()
    rates: tuple[Rate, ...] = ()
    timings: tuple[Timing, ...] = ()
    destination_rates: tuple[DestinationRate, ...] = ()
    rating_plans: tuple[RatingPlanBinding, ...] = ()
    rating_profiles: tuple[RatingProfile, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> TariffPlan:
        """Raise PlanError naming the first row that refers to something missing or is
        out of range; return the plan so calls chain."""
        destination_ids = {d.id for d in self.destinations}
        rate_ids = {r.id for r in self.rates}
        timing_ids = {t.id for t in self.timings} | {ANY}
        destination_rate_ids = {d.id for d in self.destination_rates}
        plan_ids = {b.rating_plan_id for b in self.rating_plans}
        for destination in self.destinations:
            for prefix in destination.prefixes:
                if not re.fullmatch(r"\+?[0-9A-Za-z*#]{1,32}", prefix):
                    raise PlanError(
                        f"prefix {prefix!r} is not a number prefix",
                        where=f"Destinations {destination.id}",
                        reason="bad_prefix",
                    )
        for timing in self.timings:
            for value in (timing.start_time, timing.end_time):
                if value and not TIME_OF_DAY.fullmatch(value):
                    raise PlanError(
                        f"time {value!r} is not HH:MM:SS",
                        where=f"Timings {timing.id}",
                        reason="bad_time",
                    )
        for rate in self.rates:
            if not rate.slots:
                raise PlanError("has no rate groups", where=f"Rates {rate.id}")
            for slot in rate.slots:
                if slot.rate_unit <= 0 or slot.rate_increment <= 0:
                    raise PlanError(
                        "rate unit and increment must be positive", where=f"Rates {rate.id}"
                    )
                if slot.price < 0 or slot.connect_fee < 0 or slot.group_start < 0:
                    raise PlanError("amounts cannot be negative", where=f"Rates {rate.id}")
        for row in self.destination_rates:
            where = f"DestinationRates {row.id}"
            if row.destination_id not in destination_ids and row.destination_id != ANY_DESTINATION:
                raise PlanError(f"unknown destination {row.destination_id!r}", where=where)
            if row.rate_id not in rate_ids:
                raise PlanError(f"unknown rate {row.rate_id!r}", where=where)
            if row.rounding_method not in ROUNDING_METHODS:
                raise PlanError(f"unknown rounding method {row.rounding_method!r}", where=where)
            if row.max_cost_strategy not in MAX_COST_STRATEGIES:
                raise PlanError(f"unknown max cost strategy {row.max_cost_strategy!r}", where=where)
            if not 0 <= row.rounding_decimals <= 10 or row.max_cost < 0:
                raise PlanError("rounding decimals or max cost out of range", where=where)
        for binding in self.rating_plans:
            where = f"RatingPlans {binding.rating_plan_id}"
            if binding.destination_rates_id not in destination_rate_ids:
                raise PlanError(
                    f"unknown destination rates {binding.destination_rates_id!r}", where=where
                )
            if binding.timing_id not in timing_ids:
                raise PlanError(f"unknown timing {binding.timing_id!r}", where=where)
        for profile in self.rating_profiles:
            if profile.rating_plan_id not in plan_ids:
                raise PlanError(
                    f"unknown rating plan {profile.rating_plan_id!r}",
                    where=f"RatingProfiles {profile.subject}",
                )
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: money and weights as strings, times as ISO 8601."""
        return {
            "destinations": [{"id": d.id, "prefixes": list(d.prefixes)} for d in self.destinations],
            "rates": [
                {
                    "id": r.id,
                    "slots": [
                        {
                            "connect_fee": str(s.connect_fee),
                            "price": str(s.price),
                            "rate_unit": s.rate_unit,
                            "rate_increment": s.rate_increment,
                            "group_start": s.group_start,
                        }
                        for s in r.slots
                    ],
                }
                for r in self.rates
            ],
            "timings": [
                {
                    "id": t.id,
                    "years": list(t.years),
                    "months": list(t.months),
                    "month_days": list(t.month_days),
                    "week_days": list(t.week_days),
                    "start_time": t.start_time,
                    "end_time": t.end_time,
                }
                for t in self.timings
            ],
            "destination_rates": [
                {
                    "id": d.id,
                    "destination_id": d.destination_id,
                    "rate_id": d.rate_id,
                    "rounding_method": d.rounding_method,
                    "rounding_decimals": d.rounding_decimals,
                    "max_cost": str(d.max_cost),
                    "max_cost_strategy": d.max_cost_strategy,
                }
                for d in self.destination_rates
            ],
            "rating_plans": [
                {
                    "rating_plan_id": b.rating_plan_id,
                    "destination_rates_id": b.destination_rates_id,
                    "timing_id": b.timing_id,
                    "weight": str(b.weight),
                }
                for b in self.rating_plans
            ],
            "rating_profiles": [
                {
                    "tenant": p.tenant,
                    "category": p.category,
                    "subject": p.subject,
                    "activation_time": p.activation_time.isoformat(),
                    "rating_plan_id": p.rating_plan_id,
                    "fallback_subjects": list(p.fallback_subjects),
                }
                for p in self.rating_profiles
            ],
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TariffPlan:
        """Build and validate a plan from `to_dict()` JSON; a wrong shape is a PlanError."""
        try:
            plan = cls(
                destinations=tuple(
                    Destination(id=str(d["id"]), prefixes=tuple(str(p) for p in d["prefixes"]))
                    for d in data.get("destinations", [])
                ),
                rates=tuple(
                    Rate(
                        id=str(r["id"]),
                        slots=tuple(
                            sorted(
                                (
                                    RateSlot(
                                        connect_fee=Decimal(str(s["connect_fee"])),
                                        price=Decimal(str(s["price"])),
                                        rate_unit=int(s["rate_unit"]),
                                        rate_increment=int(s["rate_increment"]),
                                        group_start=int(s.get("group_start", 0)),
                                    )
                                    for s in r["slots"]
                                ),
                                key=lambda slot: slot.group_start,
                            )
                        ),
                    )
                    for r in data.get("rates", [])
                ),
                timings=tuple(
                    Timing(
                        id=str(t["id"]),
                        years=tuple(int(v) for v in t.get("years", [])),
                        months=tuple(int(v) for v in t.get("months", [])),
                        month_days=tuple(int(v) for v in t.get("month_days", [])),
                        week_days=tuple(int(v) for v in t.get("week_days", [])),
                        start_time=str(t.get("start_time", "")),
                        end_time=str(t.get("end_time", "")),
                    )
                    for t in data.get("timings", [])
                ),
                destination_rates=tuple(
                    DestinationRate(
                        id=str(d["id"]),
                        destination_id=str(d["destination_id"]),
                        rate_id=str(d["rate_id"]),
                        rounding_method=str(d.get("rounding_method", ROUNDING_UP)),
                        rounding_decimals=int(d.get("rounding_decimals", 4)),
                        max_cost=Decimal(str(d.get("max_cost", "0"))),
                        max_cost_strategy=str(d.get("max_cost_strategy", "")),
                    )
                    for d in data.get("destination_rates", [])
                ),
                rating_plans=tuple(
                    RatingPlanBinding(
                        rating_plan_id=str(b["rating_plan_id"]),
                        destination_rates_id=str(b["destination_rates_id"]),
                        timing_id=str(b["timing_id"]),
                        weight=Decimal(str(b.get("weight", "0"))),
                    )
                    for b in data.get("rating_plans", [])
                ),
                rating_profiles=tuple(
                    RatingProfile(
                        tenant=str(p["tenant"]),
                        category=str(p["category"]),
                        subject=str(p["subject"]),
                        activation_time=datetime.fromisoformat(str(p["activation_time"])),
                        rating_plan_id=str(p["rating_plan_id"]),
                        fallback_subjects=tuple(str(s) for s in p.get("fallback_subjects", [])),
                    )
                    for p in data.get("rating_profiles", [])
                ),
                extra=dict(data.get("extra", {})),
            )
        except (KeyError, TypeError, ValueError, InvalidOperation) as error:
            if isinstance(error, PlanError):
                raise
            raise PlanError(f"malformed tariff plan: {error!r}", reason="malformed") from error
        return plan.validate()
