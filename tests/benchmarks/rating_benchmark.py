"""Rating throughput: a million mixed calls and SMS through `RatingEngine.rate_many`.

    .venv/bin/python tests/benchmarks/rating_benchmark.py [--calls 1000000] [--cgrates-rounding 5]

Builds a national operator's tariff (200 destinations with about 1,000 prefixes priced at 20
levels, peak, off-peak, weekend and holiday bands, rate groups "first minute then per second",
a *free maximum cost, three rating plans, 500 subjects with fallbacks), then rates --calls
usages of 10,000 subscribers (85% voice answered at random times over a month, 15% SMS) in
batches of 100,000, then the same usages again (re-rating), then a working set of 10,000
usages over and over (typical repeated calls). Prints calls per second (wall and CPU: the
machine may be shared) and the process's peak memory. Target (issue 8): at least 150,000
calls/s for typical repeated calls. Needs no database.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from billing.rating.engine import SMS, VOICE, CallDescriptor, RatingEngine, RatingError
from billing.rating.plan import (
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

BATCH = 100_000


def build_plan(rng: random.Random) -> TariffPlan:
    destinations = []
    for index in range(200):
        country = str(rng.choice((1, 7, 20, 27, 30, 31, 33, 34, 39, 44, 49, 61, 81, 86, 91)))
        prefixes = tuple(sorted({country + str(rng.randrange(10, 999)) for _ in range(5)}))
        destinations.append(Destination(id=f"DST_{index:03d}", prefixes=prefixes))
    # twenty price levels shared by the destinations, as operators price by zone
    levels = [Decimal(rng.randrange(5, 300)) / 100 for _ in range(20)]
    rates = []
    for level, price in enumerate(levels):
        rates.append(
            Rate(
                id=f"RT_{level:02d}_PEAK",
                slots=(
                    RateSlot(Decimal("0.05"), price, 60 * SECOND, 60 * SECOND, 0),
                    RateSlot(Decimal("0"), price, 60 * SECOND, SECOND, 60 * SECOND),
                ),
            )
        )
        rates.append(
            Rate(
                id=f"RT_{level:02d}_OFF",
                slots=(RateSlot(Decimal("0"), price / 2, 60 * SECOND, SECOND, 0),),
            )
        )
    destination_rates = []
    for index, destination in enumerate(destinations):
        level = index % len(levels)
        for band in ("PEAK", "OFF"):
            destination_rates.append(
                DestinationRate(
                    id=f"DR_{band}",
                    destination_id=destination.id,
                    rate_id=f"RT_{level:02d}_{band}",
                    rounding_decimals=4,
                    max_cost=Decimal("5") if band == "PEAK" else Decimal("0"),
                    max_cost_strategy="*free" if band == "PEAK" else "",
                )
            )
    rates.append(Rate(id="RT_SMS", slots=(RateSlot(Decimal("0"), Decimal("0.05"), 1, 1, 0),)))
    destination_rates.append(DestinationRate(id="DR_SMS", destination_id="*any", rate_id="RT_SMS"))
    timings = (
        Timing(id="PEAK", week_days=(1, 2, 3, 4, 5), start_time="08:00:00"),
        Timing(id="OFFPEAK_MORNING", week_days=(1, 2, 3, 4, 5), start_time="00:00:00"),
        Timing(id="OFFPEAK_EVENING", week_days=(1, 2, 3, 4, 5), start_time="19:00:00"),
        Timing(id="WEEKEND", week_days=(6, 7)),
        Timing(id="CHRISTMAS", months=(12,), month_days=(25,)),
    )
    bindings = []
    for plan_id, weight in (("RP_RETAIL", "10"), ("RP_BUSINESS", "20")):
        bindings += [
            RatingPlanBinding(plan_id, "DR_PEAK", "PEAK", Decimal(weight)),
            RatingPlanBinding(plan_id, "DR_OFF", "OFFPEAK_MORNING", Decimal(weight)),
            RatingPlanBinding(plan_id, "DR_OFF", "OFFPEAK_EVENING", Decimal(weight)),
            RatingPlanBinding(plan_id, "DR_OFF", "WEEKEND", Decimal(weight)),
            RatingPlanBinding(plan_id, "DR_OFF", "CHRISTMAS", Decimal("100")),
        ]
    bindings.append(RatingPlanBinding("RP_SMS", "DR_SMS", "*any", Decimal("0")))
    activation = datetime(2024, 1, 1, tzinfo=UTC)
    profiles = [
        RatingProfile("operator", "call", "*any", activation, "RP_RETAIL"),
        RatingProfile("operator", "sms", "*any", activation, "RP_SMS"),
    ]
    for index in range(500):
        profiles.append(
            RatingProfile(
                "operator", "call", f"4470{index:07d}", activation, "RP_BUSINESS", ("*any",)
            )
        )
    return TariffPlan(
        destinations=tuple(destinations),
        rates=tuple(rates),
        timings=timings,
        destination_rates=tuple(destination_rates),
        rating_plans=tuple(bindings),
        rating_profiles=tuple(profiles),
    ).validate()


class Traffic:
    """10,000 subscribers (500 on a business profile), each calling mostly its own five
    numbers; durations in whole seconds (exponential, mean 2 minutes, at most 1 hour)."""

    def __init__(self, rng: random.Random, plan: TariffPlan) -> None:
        self.rng = rng
        self.numbers = [
            prefix + str(rng.randrange(100_000, 999_999))
            for destination in plan.destinations
            for prefix in destination.prefixes
        ]
        self.subjects = [f"4470{index:07d}" for index in range(10_000)]
        self.favourites = {
            subject: [rng.choice(self.numbers) for _ in range(5)] for subject in self.subjects
        }
        self.month = datetime(2025, 12, 1, tzinfo=UTC)

    def calls(self, count: int) -> list[CallDescriptor]:
        rng = self.rng
        calls = []
        for _ in range(count):
            subject = rng.choice(self.subjects)
            number = (
                rng.choice(self.favourites[subject])
                if rng.random() < 0.8
                else rng.choice(self.numbers)
            )
            at = self.month + timedelta(seconds=rng.randrange(31 * 86_400))
            if rng.random() < 0.85:
                seconds = min(int(rng.expovariate(1 / 120)) + 1, 3600)
                calls.append(
                    CallDescriptor("operator", "call", subject, number, at, seconds * SECOND, VOICE)
                )
            else:
                calls.append(CallDescriptor("operator", "sms", subject, number, at, 1, SMS))
        return calls


def rate_pass(
    engine: RatingEngine, plan: TariffPlan, seed: int, total: int
) -> tuple[int, int, float, float]:
    """Rate `total` usages in batches; the traffic comes from `seed`, so a second pass with
    the same seed rates the very same usages again (re-rating)."""
    traffic = Traffic(random.Random(seed), plan)
    rated = errors = 0
    elapsed = cpu = 0.0
    remaining = total
    while remaining:
        calls = traffic.calls(min(BATCH, remaining))
        started, started_cpu = time.perf_counter(), time.process_time()
        results = engine.rate_many(calls)
        elapsed += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
        errors += sum(1 for result in results if isinstance(result, RatingError))
        rated += len(results)
        remaining -= len(calls)
    return rated, errors, elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--cgrates-rounding", type=int, default=None)
    parser.add_argument("--seed", type=int, default=8)
    arguments = parser.parse_args()
    plan = build_plan(random.Random(arguments.seed))
    engine = RatingEngine(
        plan, time_zone="Europe/London", cgrates_decimals=arguments.cgrates_rounding
    )
    for name in ("first pass (cold caches)", "second pass (the same usages re-rated)"):
        rated, errors, elapsed, cpu = rate_pass(engine, plan, arguments.seed + 1, arguments.calls)
        print(
            f"{name}: {rated:,} usages ({errors:,} errors) in {elapsed:.2f} s, "
            f"{rated / elapsed:,.0f} calls/s ({rated / cpu:,.0f} per CPU second)"
        )
    # typical repeated calls: a working set of 10,000 usages rated again and again
    working_set = Traffic(random.Random(arguments.seed + 1), plan).calls(10_000)
    elapsed = cpu = 0.0
    for _ in range(arguments.calls // len(working_set)):
        started, started_cpu = time.perf_counter(), time.process_time()
        engine.rate_many(working_set)
        elapsed += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
    repeated = arguments.calls // len(working_set) * len(working_set)
    print(
        f"repeated calls (10,000 usages rated {repeated // len(working_set)} times): "
        f"{repeated / elapsed:,.0f} calls/s ({repeated / cpu:,.0f} per CPU second)"
    )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak_mib:,.0f} MiB (whole process, one batch of calls included)")
    print("target (issue 8): 150,000 calls/s for typical repeated calls")


if __name__ == "__main__":
    main()
