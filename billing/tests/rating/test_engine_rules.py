"""Every rating rule worked out by hand, in exact arithmetic and in CGRateS compatibility mode
(each increment's cost rounded half up at N decimals). The arithmetic is in the comments."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from billing.rating.engine import DATA, SMS, RatingError
from billing.rating.plan import (
    SECOND,
    Destination,
    DestinationRate,
    Rate,
    RatingPlanBinding,
    RatingProfile,
    TariffPlan,
    Timing,
)
from billing.tests.rating.plans import (
    ACTIVE_SINCE,
    TENANT,
    banded_plan,
    call,
    engine,
    one_rate_plan,
    slot,
)

BOTH_MODES = pytest.mark.parametrize("decimals", [None, 5], ids=["exact", "cgrates-5"])


@BOTH_MODES
def test_the_connect_fee_is_charged_once_per_call(decimals):
    # given 0.10 to connect, then 0.60 a minute by the second
    rating = engine(one_rate_plan(slot("0.60", connect_fee="0.10")), decimals)
    # when a 30 s call is rated
    result = rating.rate(call(30 * SECOND))
    # then 0.10 + 30 * 0.60 / 60 = 0.10 + 0.30 = 0.40
    assert result.cost == Decimal("0.4000")
    assert result.connect_fee == Decimal("0.1")


@BOTH_MODES
def test_the_connect_fee_is_not_charged_again_when_the_call_crosses_a_band(decimals):
    # given a band plan whose every rate has a 0.05 connect fee
    plan = banded_plan()
    plan = TariffPlan(
        rates=tuple(
            Rate(r.id, (slot(str(r.slots[0].price), connect_fee="0.05"),)) for r in plan.rates
        ),
        timings=plan.timings,
        destination_rates=plan.destination_rates,
        rating_plans=plan.rating_plans,
        rating_profiles=plan.rating_profiles,
    )
    # when a call runs from 07:59:30 to 08:00:30 on a Monday
    result = engine(plan, decimals).rate(
        call(60 * SECOND, datetime(2019, 3, 11, 7, 59, 30, tzinfo=UTC))
    )
    # then 0.05 once + 30 s off-peak (30 * 0.30 / 60 = 0.15) + 30 s peak (30 * 0.60 / 60 = 0.30)
    assert result.cost == Decimal("0.5000")
    assert [part["timing_id"] for part in result.trace] == ["OFFPEAK_MORNING", "PEAK"]


@BOTH_MODES
def test_usage_is_rounded_up_to_the_rate_increment(decimals):
    # given 0.60 a minute charged by the whole minute
    rating = engine(one_rate_plan(slot("0.60", increment=60 * SECOND)), decimals)
    # when a 61 s call is rated
    result = rating.rate(call(61 * SECOND))
    # then it is rated as 120 s: 2 increments * 0.60 = 1.20
    assert result.cost == Decimal("1.2000")
    assert result.usage_rated == 120 * SECOND
    assert result.trace[0]["increments"] == 2


@BOTH_MODES
@pytest.mark.parametrize(
    ("seconds", "cost", "rated"),
    [
        # 45 s: the first group's 60 s block = 1.20
        (45, "1.2000", 60),
        # 61 s: 1.20 + 1 s at 0.60 a minute (0.01) = 1.21
        (61, "1.2100", 61),
        # 90 s: 1.20 + 30 s * 0.01 = 1.50
        (90, "1.5000", 90),
    ],
)
def test_rate_groups_start_at_their_second_of_the_call(decimals, seconds, cost, rated):
    # given the first 60 s as one block of 1.20, then 0.60 a minute by the second
    rating = engine(
        one_rate_plan(
            slot("1.20", increment=60 * SECOND),
            slot("0.60", increment=SECOND, group_start=60 * SECOND),
        ),
        decimals,
    )
    # when
    result = rating.rate(call(seconds * SECOND))
    # then
    assert result.cost == Decimal(cost)
    assert result.usage_rated == rated * SECOND


@pytest.mark.parametrize(
    ("method", "decimals", "cost"),
    [
        # exact: 25 s * 0.10 / 60 = 0.041666... rounded once at 4 decimals
        ("*up", None, "0.0417"),
        ("*middle", None, "0.0417"),
        ("*down", None, "0.0416"),
        # CGRateS: each 1 s increment costs 0.10 / 60 = 0.0016666... -> 0.00167 (half up at 5),
        # 25 * 0.00167 = 0.04175, then rounded at 4 decimals
        ("*up", 5, "0.0418"),
        ("*middle", 5, "0.0418"),
        ("*down", 5, "0.0417"),
        # CGRateS at 10 decimals: 0.0016666667 * 25 = 0.0416666675
        ("*up", 10, "0.0417"),
        ("*down", 10, "0.0416"),
    ],
)
def test_the_total_is_rounded_by_the_destination_rate_method_and_decimals(method, decimals, cost):
    # given 0.10 a minute by the second, rounded by `method` at 4 decimals
    rating = engine(one_rate_plan(slot("0.10"), rounding_method=method), decimals)
    # when a 25 s call is rated
    result = rating.rate(call(25 * SECOND))
    # then
    assert result.cost == Decimal(cost)


@pytest.mark.parametrize(
    ("method", "cost"), [("*up", "0.0013"), ("*middle", "0.0013"), ("*down", "0.0012")]
)
def test_half_up_rounds_an_exact_half_up(method, cost):
    # given 0.00125 a second: 1 s costs exactly 0.00125, halfway at 4 decimals
    rating = engine(one_rate_plan(slot("0.00125", unit=SECOND), rounding_method=method))
    # when
    result = rating.rate(call(SECOND))
    # then
    assert result.cost == Decimal(cost)


@BOTH_MODES
def test_a_free_maximum_cost_caps_the_cost(decimals):
    # given 0.01 a second, at most 0.62 and the rest is free
    rating = engine(
        one_rate_plan(slot("0.01", unit=SECOND), max_cost="0.62", max_cost_strategy="*free"),
        decimals,
    )
    # when 120 s (1.20) and 30 s (0.30) are rated
    long_call = rating.rate(call(120 * SECOND))
    short_call = rating.rate(call(30 * SECOND))
    # then the long one costs the cap, the short one its own cost
    assert long_call.cost == Decimal("0.6200")
    assert long_call.max_cost_applied is True
    assert long_call.trace[0]["max_cost"]["applied"] is True
    assert short_call.cost == Decimal("0.3000")
    assert short_call.max_cost_applied is False


@BOTH_MODES
def test_a_disconnect_maximum_cost_does_not_cap_the_cost(decimals):
    # given 0.01 a second, disconnect at 0.62
    rating = engine(
        one_rate_plan(slot("0.01", unit=SECOND), max_cost="0.62", max_cost_strategy="*disconnect"),
        decimals,
    )
    # when 120 s are rated
    result = rating.rate(call(120 * SECOND))
    # then the whole 1.20 is charged, and the trace says the limit was reached
    assert result.cost == Decimal("1.2000")
    assert result.max_cost_applied is False
    assert result.max_cost_reached is True


def test_the_free_maximum_cost_includes_the_connect_fee():
    # given 0.50 to connect, 0.01 a second, at most 0.60 and the rest free
    rating = engine(
        one_rate_plan(
            slot("0.01", unit=SECOND, connect_fee="0.50"),
            max_cost="0.60",
            max_cost_strategy="*free",
        )
    )
    # when 20 s are rated: 0.50 + 0.20 = 0.70 >= 0.60
    result = rating.rate(call(20 * SECOND))
    # then
    assert result.cost == Decimal("0.6000")


@pytest.mark.parametrize(("decimals", "cost"), [(None, "0.4000"), (5, "0.5000")])
def test_cgrates_mode_reproduces_the_accumulated_max_cost_so_far(decimals, cost):
    # given 0.01 a second in every band, at most 0.50 and the rest free
    plan = banded_plan(max_cost="0.50", max_cost_strategy="*free")
    plan = TariffPlan(
        rates=tuple(Rate(r.id, (slot("0.60"),)) for r in plan.rates),
        timings=plan.timings,
        destination_rates=plan.destination_rates,
        rating_plans=plan.rating_plans,
        rating_profiles=plan.rating_profiles,
    )
    # when a 40 s call crosses 08:00: 30 s off-peak (0.30) then 10 s peak (0.10)
    result = engine(plan, decimals).rate(
        call(40 * SECOND, datetime(2019, 3, 11, 7, 59, 30, tzinfo=UTC))
    )
    # then exactly 0.40 is under the cap; CGRateS's GetCost adds the running total to
    # MaxCostSoFar at each part (0.30, then 0.30 + 0.40 = 0.70 >= 0.50) and caps at 0.50
    assert result.cost == Decimal(cost)


@BOTH_MODES
@pytest.mark.parametrize(
    ("at", "cost", "timings"),
    [
        # Monday 09:00, all peak: 60 * 0.60 / 60 = 0.60
        (datetime(2019, 3, 11, 9, 0, tzinfo=UTC), "0.6000", ["PEAK"]),
        # Monday 07:59:30: 30 s off-peak (0.15) + 30 s peak (0.30)
        (datetime(2019, 3, 11, 7, 59, 30, tzinfo=UTC), "0.4500", ["OFFPEAK_MORNING", "PEAK"]),
        # Monday 18:59:45: 15 s peak (0.15) + 45 s evening off-peak (0.225)
        (
            datetime(2019, 3, 11, 18, 59, 45, tzinfo=UTC),
            "0.3750",
            ["PEAK", "OFFPEAK_EVENING"],
        ),
        # Friday 23:59:40: 20 s off-peak (0.10) + 40 s weekend (0.08) on Saturday
        (
            datetime(2019, 3, 15, 23, 59, 40, tzinfo=UTC),
            "0.1800",
            ["OFFPEAK_EVENING", "WEEKEND"],
        ),
        # Christmas Day 2019 (a Wednesday) at 10:00: the holiday's weight 20 beats peak's 10
        (datetime(2019, 12, 25, 10, 0, tzinfo=UTC), "0.0600", ["CHRISTMAS"]),
    ],
)
def test_a_call_is_split_at_every_time_band_change(decimals, at, cost, timings):
    # given peak, off-peak, weekend and Christmas bands
    rating = engine(banded_plan(), decimals)
    # when a 60 s call is rated
    result = rating.rate(call(60 * SECOND, at))
    # then
    assert result.cost == Decimal(cost)
    assert [part["timing_id"] for part in result.trace] == timings


def test_time_bands_are_in_the_operators_time_zone():
    # given the bands in London time; 06:59:30 UTC on 1 July is 07:59:30 BST
    rating = engine(banded_plan(), time_zone="Europe/London")
    at = datetime(2019, 7, 1, 6, 59, 30, tzinfo=UTC)
    # when
    result = rating.rate(call(60 * SECOND, at))
    # then 30 s off-peak (0.15) + 30 s peak from 08:00 BST (0.30)
    assert result.cost == Decimal("0.4500")
    assert result.trace[1]["start"] == "2019-07-01T07:00:00+00:00"


def test_among_equal_weights_the_band_that_started_most_recently_wins():
    # given peak from 08:00 and off-peak from 00:00, both weight 10, both active at 13:00
    rating = engine(banded_plan())
    # when
    result = rating.rate(call(60 * SECOND, datetime(2019, 3, 11, 13, 0, tzinfo=UTC)))
    # then peak (started 08:00) beats off-peak (started 00:00)
    assert result.trace[0]["timing_id"] == "PEAK"
    assert result.cost == Decimal("0.6000")


@BOTH_MODES
@pytest.mark.parametrize(
    ("seconds", "rated", "cost"),
    [
        # 23:59:30 + 60 s: the 30 s before midnight round up to one 60 s increment, which
        # covers the 30 s after midnight: 1 increment, 0.60
        (60, 60, "0.6000"),
        # 23:59:30 + 90 s: 30 s -> 60 s (to 00:00:30); the 60 s after midnight lose the 30 s
        # covered and their 30 s round up to 60 s: 120 s, 1.20
        (90, 120, "1.2000"),
    ],
)
def test_a_part_rounded_up_overlaps_the_following_parts(decimals, seconds, rated, cost):
    # given 0.60 a minute by the whole minute
    rating = engine(one_rate_plan(slot("0.60", increment=60 * SECOND)), decimals)
    # when a call crosses midnight (every voice call is split there)
    result = rating.rate(call(seconds * SECOND, datetime(2019, 3, 11, 23, 59, 30, tzinfo=UTC)))
    # then
    assert result.usage_rated == rated * SECOND
    assert result.cost == Decimal(cost)


def _destinations_plan() -> TariffPlan:
    return TariffPlan(
        destinations=(
            Destination("UK", ("44",)),
            Destination("UK_MOBILE", ("447", "4478")),
            Destination("FR", ("33",)),
        ),
        rates=(
            Rate("RT_UK", (slot("0.10"),)),
            Rate("RT_MOBILE", (slot("0.30"),)),
            Rate("RT_WORLD", (slot("1.20"),)),
        ),
        destination_rates=(
            DestinationRate("DR_HOME", "UK", "RT_UK"),
            DestinationRate("DR_HOME", "UK_MOBILE", "RT_MOBILE"),
            DestinationRate("DR_WORLD", "*any", "RT_WORLD"),
            DestinationRate("DR_MOBILE_ONLY", "UK_MOBILE", "RT_MOBILE"),
            DestinationRate("DR_UK_ONLY", "UK", "RT_UK"),
        ),
        rating_plans=(
            RatingPlanBinding("RP_STANDARD", "DR_HOME", "*any"),
            RatingPlanBinding("RP_STANDARD", "DR_WORLD", "*any"),
            RatingPlanBinding("RP_MOBILE", "DR_MOBILE_ONLY", "*any"),
            RatingPlanBinding("RP_UK", "DR_UK_ONLY", "*any"),
        ),
        rating_profiles=(
            RatingProfile(TENANT, "call", "*any", ACTIVE_SINCE, "RP_STANDARD"),
            RatingProfile(TENANT, "call", "mobile", ACTIVE_SINCE, "RP_MOBILE", ("uk", "*any")),
            RatingProfile(TENANT, "call", "uk", ACTIVE_SINCE, "RP_UK"),
            RatingProfile(TENANT, "call", "strict", ACTIVE_SINCE, "RP_MOBILE"),
            RatingProfile(
                TENANT, "call", "new", datetime(2019, 6, 1, tzinfo=UTC), "RP_UK", ("*any",)
            ),
        ),
    ).validate()


@pytest.mark.parametrize(
    ("number", "destination", "prefix", "cost"),
    [
        ("447700900123", "UK_MOBILE", "447", "0.3000"),
        ("4478123", "UK_MOBILE", "4478", "0.3000"),
        ("441632960000", "UK", "44", "0.1000"),
        ("33123456789", "*any", "*any", "1.2000"),  # FR has no rate here: *any rates it
    ],
)
def test_the_longest_prefix_among_rated_destinations_wins(number, destination, prefix, cost):
    # given
    rating = engine(_destinations_plan())
    # when a 60 s call is rated for a subject on the standard plan
    result = rating.rate(call(60 * SECOND, subject="anyone", destination=number))
    # then
    assert (result.destination_id, result.matched_prefix) == (destination, prefix)
    assert result.cost == Decimal(cost)


@pytest.mark.parametrize(
    ("number", "subject_used", "plan", "decimals", "cost"),
    [
        # its own plan rates mobiles: 60 s * 0.30 / 60 = 0.30
        ("447700900123", "mobile", "RP_MOBILE", None, "0.3000"),
        ("447700900123", "mobile", "RP_MOBILE", 5, "0.3000"),
        # the first fallback rates landlines: 60 s * 0.10 / 60 = 0.10; CGRateS rounds each
        # second's 0.0016666... to 0.00167: 60 * 0.00167 = 0.1002
        ("441632960000", "uk", "RP_UK", None, "0.1000"),
        ("441632960000", "uk", "RP_UK", 5, "0.1002"),
        # then *any: 60 s * 1.20 / 60 = 1.20
        ("33123456789", "*any", "RP_STANDARD", None, "1.2000"),
        ("33123456789", "*any", "RP_STANDARD", 5, "1.2000"),
    ],
)
def test_fallback_subjects_are_tried_in_turn(number, subject_used, plan, decimals, cost):
    # given subject "mobile" rating mobiles only, falling back to "uk" then "*any"
    rating = engine(_destinations_plan(), decimals)
    # when
    result = rating.rate(call(60 * SECOND, subject="mobile", destination=number))
    # then
    assert (result.subject, result.rating_plan_id, result.cost) == (
        subject_used,
        plan,
        Decimal(cost),
    )


def test_a_subject_without_a_profile_is_rated_by_the_any_subject():
    # given
    rating = engine(_destinations_plan())
    # when
    result = rating.rate(call(60 * SECOND, subject="nobody", destination="441632960000"))
    # then
    assert (result.subject, result.rating_plan_id) == ("*any", "RP_STANDARD")


def test_a_destination_the_subjects_plan_does_not_rate_is_an_error_not_a_zero_cost():
    # given subject "strict" rates mobiles only and has no fallback (CGRateS does not then
    # try *any: that is only for subjects without a profile)
    rating = engine(_destinations_plan())
    # when / then
    with pytest.raises(RatingError) as error:
        rating.rate(call(60 * SECOND, subject="strict", destination="441632960000"))
    assert error.value.reason == "no_rate_for_destination"
    assert "441632960000" in error.value.message


def test_an_unknown_tenant_or_category_has_no_rating_profile():
    # given
    rating = engine(_destinations_plan())
    # when / then
    with pytest.raises(RatingError) as error:
        rating.rate(call(60 * SECOND, category="video"))
    assert error.value.reason == "no_rating_profile"


def test_the_rating_profile_active_at_the_answer_time_rates_the_call():
    # given subject "new" on RP_UK from 1 June 2019 (falling back to *any), nothing before
    rating = engine(_destinations_plan())
    # when calls are rated in May and in July
    may = rating.rate(call(60 * SECOND, datetime(2019, 5, 1, tzinfo=UTC), subject="new"))
    july = rating.rate(
        call(60 * SECOND, datetime(2019, 7, 1, tzinfo=UTC), subject="new", destination="4416")
    )
    # then before its activation *any rates it; after, its own plan
    assert (may.subject, may.rating_plan_id) == ("*any", "RP_STANDARD")
    assert (july.subject, july.rating_plan_id) == ("new", "RP_UK")


def test_a_rating_profile_activated_during_a_call_rates_the_rest_of_it():
    # given subject "new" switches to RP_UK (0.10 a minute) at midnight on 1 June 2019
    rating = engine(_destinations_plan())
    # when calls run from 23:59:00 for 120 s: the first minute is *any's (subject "new" is not
    # active yet), the second RP_UK's. To a mobile: 60 s at 0.30 (UK_MOBILE on RP_STANDARD),
    # then 60 s at 0.10: RP_UK rates only UK, and 44 is the longest prefix of the number among
    # the destinations RP_UK rates. To a landline: 60 s at 0.10, then 60 s at 0.10.
    mobile = rating.rate(
        call(120 * SECOND, datetime(2019, 5, 31, 23, 59, tzinfo=UTC), subject="new")
    )
    landline = rating.rate(
        call(
            120 * SECOND,
            datetime(2019, 5, 31, 23, 59, tzinfo=UTC),
            subject="new",
            destination="441632960000",
        )
    )
    # then
    assert mobile.cost == Decimal("0.4000")
    assert [p["destination_id"] for p in mobile.trace] == ["UK_MOBILE", "UK"]
    assert [p["rating_plan_id"] for p in landline.trace] == ["RP_STANDARD", "RP_UK"]
    assert [p["subject"] for p in landline.trace] == ["*any", "new"]
    assert landline.cost == Decimal("0.2000")


def _messaging_plan() -> TariffPlan:
    return TariffPlan(
        rates=(
            Rate("RT_SMS", (slot("0.05", unit=1, increment=1),)),
            Rate("RT_DATA", (slot("0.10", unit=1024, increment=1024),)),
        ),
        timings=(Timing("NIGHT", start_time="22:00:00"),),
        destination_rates=(
            DestinationRate("DR_SMS", "*any", "RT_SMS"),
            DestinationRate("DR_DATA", "*any", "RT_DATA"),
        ),
        rating_plans=(
            RatingPlanBinding("RP_SMS", "DR_SMS", "*any"),
            RatingPlanBinding("RP_DATA", "DR_DATA", "*any"),
            RatingPlanBinding("RP_DATA", "DR_SMS", "NIGHT", Decimal(10)),
        ),
        rating_profiles=(
            RatingProfile(TENANT, "sms", "*any", ACTIVE_SINCE, "RP_SMS"),
            RatingProfile(TENANT, "data", "*any", ACTIVE_SINCE, "RP_DATA"),
        ),
    ).validate()


@BOTH_MODES
@pytest.mark.parametrize(("messages", "cost"), [(1, "0.0500"), (3, "0.1500")])
def test_sms_is_rated_per_message(decimals, messages, cost):
    # given 0.05 a message
    rating = engine(_messaging_plan(), decimals)
    # when
    result = rating.rate(call(messages, category="sms", tor=SMS))
    # then messages * 0.05
    assert result.cost == Decimal(cost)


@BOTH_MODES
@pytest.mark.parametrize(
    ("octets", "rated", "cost"), [(2048, 2048, "0.2000"), (1500, 2048, "0.2000")]
)
def test_data_is_rated_per_volume_unit_in_increments(decimals, octets, rated, cost):
    # given 0.10 per 1024 bytes, charged by whole 1024 bytes
    rating = engine(_messaging_plan(), decimals)
    # when
    result = rating.rate(call(octets, destination="", category="data", tor=DATA))
    # then
    assert result.usage_rated == rated
    assert result.cost == Decimal(cost)


def test_data_is_rated_whole_by_the_band_active_at_its_start():
    # given data is 0.10 per 1024 bytes, but 0.05 per byte from 22:00 (weight 10)
    rating = engine(_messaging_plan())
    # when a session starting at 21:59:59 is rated (a data record is not split in time)
    result = rating.rate(
        call(2048, datetime(2019, 3, 11, 21, 59, 59, tzinfo=UTC), category="data", tor=DATA)
    )
    # then
    assert result.cost == Decimal("0.2000")
    assert len(result.trace) == 1


def test_a_time_with_no_band_is_an_error():
    # given only weekday peak and off-peak bands
    plan = banded_plan()
    plan = TariffPlan(
        rates=plan.rates,
        timings=plan.timings,
        destination_rates=plan.destination_rates,
        rating_plans=tuple(b for b in plan.rating_plans if b.timing_id != "WEEKEND"),
        rating_profiles=plan.rating_profiles,
    )
    # when a Sunday call is rated / then
    with pytest.raises(RatingError) as error:
        engine(plan).rate(call(60 * SECOND, datetime(2019, 3, 10, 12, tzinfo=UTC)))
    assert error.value.reason == "no_rate_at_time"


@pytest.mark.parametrize(
    ("usage", "at", "reason"),
    [
        (-1, datetime(2019, 3, 11, tzinfo=UTC), "invalid_usage"),
        (1.5, datetime(2019, 3, 11, tzinfo=UTC), "invalid_usage"),
        (60, datetime(2019, 3, 11), "invalid_answer_time"),  # noqa: DTZ001 (the bad input)
    ],
)
def test_bad_usage_records_are_errors_with_a_reason(usage, at, reason):
    # given
    rating = engine(one_rate_plan(slot("0.60")))
    # when / then
    with pytest.raises(RatingError) as error:
        rating.rate(call(usage, at))
    assert error.value.reason == reason


def test_a_zero_usage_costs_nothing_but_still_needs_a_rate():
    # given
    rating = engine(_destinations_plan())
    # when
    result = rating.rate(call(0, subject="anyone"))
    # then
    assert result.cost == Decimal("0")
    with pytest.raises(RatingError):
        rating.rate(call(0, subject="strict", destination="441632960000"))


def test_rate_many_returns_a_result_or_an_error_for_each_usage():
    # given
    rating = engine(_destinations_plan())
    calls = [
        call(60 * SECOND, subject="anyone"),
        call(60 * SECOND, subject="strict", destination="441632960000"),
        call(-5),
    ]
    # when
    results = rating.rate_many(calls)
    # then
    assert results[0].cost == Decimal("0.3000")
    assert [getattr(r, "reason", None) for r in results[1:]] == [
        "no_rate_for_destination",
        "invalid_usage",
    ]


def test_memoised_results_still_trace_their_own_band():
    # given off-peak morning and evening share one destination rate (same price)
    rating = engine(banded_plan())
    # when the same usage is rated in the morning and in the evening
    morning = rating.rate(call(60 * SECOND, datetime(2019, 3, 11, 6, tzinfo=UTC)))
    evening = rating.rate(call(60 * SECOND, datetime(2019, 3, 11, 20, tzinfo=UTC)))
    # then the cost is shared, the trace is each call's own
    assert morning.cost == evening.cost == Decimal("0.3000")
    assert morning.trace[0]["timing_id"] == "OFFPEAK_MORNING"
    assert evening.trace[0]["timing_id"] == "OFFPEAK_EVENING"
    assert evening.trace[0]["start"] == "2019-03-11T20:00:00+00:00"


def test_the_trace_names_each_part_and_the_cgrates_increment_cost():
    # given
    rating = engine(
        one_rate_plan(
            slot("1.20", increment=60 * SECOND, connect_fee="0.20"),
            slot("1.20", group_start=60 * SECOND),
        ),
        cgrates_decimals=5,
    )
    # when 85 s are rated
    result = rating.rate(call(85 * SECOND)).to_dict()
    # then 0.20 + 1.20 + 25 * 0.02 = 1.90
    assert result["cost"] == "1.9000"
    assert [(p["usage"], p["increments"], p["cost"]) for p in result["trace"]] == [
        (60 * SECOND, 1, "1.2"),
        (25 * SECOND, 25, "0.5"),
    ]
    assert result["trace"][1]["increment_cost"] == "0.02000"
    assert result["tenant"] == TENANT


@BOTH_MODES
def test_a_band_with_an_end_time_ends_before_midnight(decimals):
    # given lunch 12:00-14:00 at 0.06 a minute (weight 20) over all day at 0.60 (weight 10)
    plan = TariffPlan(
        rates=(Rate("RT_DAY", (slot("0.60"),)), Rate("RT_LUNCH", (slot("0.06"),))),
        timings=(Timing("LUNCH", start_time="12:00:00", end_time="14:00:00"),),
        destination_rates=(
            DestinationRate("DR_DAY", "*any", "RT_DAY"),
            DestinationRate("DR_LUNCH", "*any", "RT_LUNCH"),
        ),
        rating_plans=(
            RatingPlanBinding("RP", "DR_DAY", "*any", Decimal(10)),
            RatingPlanBinding("RP", "DR_LUNCH", "LUNCH", Decimal(20)),
        ),
        rating_profiles=(RatingProfile(TENANT, "call", "*any", ACTIVE_SINCE, "RP"),),
    ).validate()
    # when a call runs from 13:59:30 for 60 s
    result = engine(plan, decimals).rate(
        call(60 * SECOND, datetime(2019, 3, 11, 13, 59, 30, tzinfo=UTC))
    )
    # then 30 s at 0.06 a minute (0.03) + 30 s at 0.60 (0.30)
    assert result.cost == Decimal("0.3300")
    assert [part["timing_id"] for part in result.trace] == ["LUNCH", "*any"]


def test_bands_follow_the_clock_across_a_daylight_saving_change():
    # given peak from 08:00 London time; on Sunday 2019-03-31 clocks went forward at 01:00 UTC
    rating = engine(banded_plan(), time_zone="Europe/London")
    # when calls are rated at 07:30 UTC on Monday 1 April (08:30 BST) and on Friday 29 March
    # (07:30 GMT)
    after = rating.rate(call(60 * SECOND, datetime(2019, 4, 1, 7, 30, tzinfo=UTC)))
    before = rating.rate(call(60 * SECOND, datetime(2019, 3, 29, 7, 30, tzinfo=UTC)))
    # then
    assert after.trace[0]["timing_id"] == "PEAK"
    assert before.trace[0]["timing_id"] == "OFFPEAK_MORNING"


@pytest.mark.parametrize("decimals", [None, 2, 5])
@pytest.mark.parametrize("strategy", ["", "*free", "*disconnect"])
def test_the_memoised_quick_path_prices_like_the_general_one(decimals, strategy):
    # given a first-minute block, then 10 s steps from 60 s, then seconds from 300 s
    rating = engine(
        one_rate_plan(
            slot("0.50", increment=60 * SECOND, connect_fee="0.07"),
            slot("0.35", increment=10 * SECOND, group_start=60 * SECOND),
            slot("0.013", unit=SECOND, group_start=300 * SECOND),
            rounding_method="*middle",
            max_cost="2.5",
            max_cost_strategy=strategy,
        ),
        decimals,
    )
    interval = rating._tables["RP"]["*any"].intervals[0]
    for seconds in [*range(0, 400, 7), 3600]:
        # when one usage is priced by both paths
        quick = rating._quick(interval, seconds * SECOND)
        general = rating._price([(0, seconds * SECOND, interval, "", None)] if seconds else [])
        # then they agree on everything a result reports
        assert (
            quick.cost,
            quick.usage_rated,
            quick.max_cost_applied,
            quick.max_cost_reached,
        ) == (
            general.cost,
            general.usage_rated,
            general.max_cost_applied,
            general.max_cost_reached,
        ), seconds
