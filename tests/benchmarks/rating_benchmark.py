"""Rating throughput: a million mixed calls and SMS through `RatingEngine.rate_many`.

    .venv/bin/python tests/benchmarks/rating_benchmark.py [--calls 1000000] [--cgrates-rounding 5]

Builds a national operator's tariff (200 destinations with about 1,000 prefixes, peak,
off-peak, weekend and holiday bands, rate groups "first minute then per second", three rating
plans, 500 subjects with fallbacks), then rates --calls usages (85% voice of 1 s to 20 min
answered at random times over a month, 15% SMS) in batches of 100,000. Prints calls per
second and the process's peak memory. Target (issue 8): at least 150,000 calls/s for typical
repeated calls. Needs no database.
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
    rates = []
    destination_rates = []
    for index, destination in enumerate(destinations):
        peak = Decimal(rng.randrange(5, 300)) / 100
        rates.append(
            Rate(
                id=f"RT_{index:03d}_PEAK",
                slots=(
                    RateSlot(Decimal("0.05"), peak, 60 * SECOND, 60 * SECOND, 0),
                    RateSlot(Decimal("0"), peak, 60 * SECOND, SECOND, 60 * SECOND),
                ),
            )
        )
        rates.append(
            Rate(
                id=f"RT_{index:03d}_OFF",
                slots=(RateSlot(Decimal("0"), peak / 2, 60 * SECOND, SECOND, 0),),
            )
        )
        for band in ("PEAK", "OFF"):
            destination_rates.append(
                DestinationRate(
                    id=f"DR_{band}",
                    destination_id=destination.id,
                    rate_id=f"RT_{index:03d}_{band}",
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


def make_calls(rng: random.Random, plan: TariffPlan, count: int) -> list[CallDescriptor]:
    numbers = [
        prefix + str(rng.randrange(100_000, 999_999))
        for destination in plan.destinations
        for prefix in destination.prefixes
    ][:2000]
    subjects = [f"4470{index:07d}" for index in range(500)] + [
        f"4479{index:07d}" for index in range(500)
    ]
    month = datetime(2025, 12, 1, tzinfo=UTC)
    starts = [month + timedelta(seconds=rng.randrange(31 * 86_400)) for _ in range(20_000)]
    calls = []
    for _ in range(count):
        if rng.random() < 0.85:
            usage = int(rng.expovariate(1 / 120)) % 1200 + 1
            calls.append(
                CallDescriptor(
                    "operator",
                    "call",
                    rng.choice(subjects),
                    rng.choice(numbers),
                    rng.choice(starts),
                    usage * SECOND,
                    VOICE,
                )
            )
        else:
            calls.append(
                CallDescriptor(
                    "operator",
                    "sms",
                    rng.choice(subjects),
                    rng.choice(numbers),
                    rng.choice(starts),
                    1,
                    SMS,
                )
            )
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--cgrates-rounding", type=int, default=None)
    parser.add_argument("--seed", type=int, default=8)
    arguments = parser.parse_args()
    rng = random.Random(arguments.seed)
    plan = build_plan(rng)
    engine = RatingEngine(
        plan, time_zone="Europe/London", cgrates_decimals=arguments.cgrates_rounding
    )
    rated = errors = 0
    elapsed = cpu = 0.0
    remaining = arguments.calls
    while remaining:
        calls = make_calls(rng, plan, min(BATCH, remaining))
        started, started_cpu = time.perf_counter(), time.process_time()
        results = engine.rate_many(calls)
        elapsed += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
        errors += sum(1 for result in results if isinstance(result, RatingError))
        rated += len(results)
        remaining -= len(calls)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rated {rated:,} usages ({errors:,} errors) in {elapsed:.2f} s ({cpu:.2f} s of CPU)")
    print(f"{rated / elapsed:,.0f} calls/s, {rated / cpu:,.0f} per CPU second (target 150,000)")
    print(f"peak memory {peak_mib:,.0f} MiB (whole process, calls included)")


if __name__ == "__main__":
    main()
