"""CGRateS's own tariff plans rate here as they rate in CGRateS.

`tariffplans/tutorial`: Destinations, Rates, DestinationRates, RatingPlans and Timings are
CGRateS's data/tariffplans/tutorial (its ALWAYS and ASAP timings added, DR_GENERIC left out: its
rate RT_GENERIC_1 is not in that copy), with rating profiles in the pre-0.10 format (a leading
"*out" column) putting subjects 1001-1003 on RP_RETAIL2, as the costs asserted by CGRateS's
general_tests/tutorial_local_test.go (TestTutLocalGetCosts) imply.

`tariffplans/tutorial2`: CGRateS's data/tariffplans/tutorial2 rating files as they are.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from billing.rating.cgrates import read_tariff_plan_dir
from billing.rating.engine import DATA, SMS, VOICE, CallDescriptor, RatingEngine, RatingError
from billing.rating.plan import SECOND

TARIFF_PLANS = Path(__file__).parent / "tariffplans"
MODES = pytest.mark.parametrize("decimals", [None, 10], ids=["exact", "cgrates-10"])


def tutorial(decimals: int | None = None, name: str = "tutorial") -> RatingEngine:
    # CGRateS reads "2014-08-04T13:00:00Z" in UTC and evaluates timings in that zone
    return RatingEngine(
        read_tariff_plan_dir(TARIFF_PLANS / name), time_zone="UTC", cgrates_decimals=decimals
    )


def cgrates_call(
    subject: str,
    destination: str,
    seconds: int,
    at: datetime = datetime(2014, 8, 4, 13, 0, tzinfo=UTC),
    *,
    category: str = "call",
    tor: str = VOICE,
    usage: int | None = None,
) -> CallDescriptor:
    return CallDescriptor(
        "cgrates.org",
        category,
        subject,
        destination,
        at,
        usage if usage is not None else seconds * SECOND,
        tor,
    )


@MODES
@pytest.mark.parametrize(
    ("destination", "seconds", "cost"),
    [
        # RT_20CNT at peak: 0.4 + one 60 s block of 0.2
        ("1002", 20, "0.6"),
        # 0.4 + 0.2 + 25 s at 0.1 a minute (0.041666...) = 0.641666... -> *up 4: 0.6417
        # (CGRateS's test comment: "0.01 first minute, 0.04 25 seconds with RT_20CNT")
        ("1002", 85, "0.6417"),
        # RT_40CNT: 0.8 + 30 s block at 0.4 a minute (0.2)
        ("1003", 20, "1"),
        # 0.8 + 0.4 (first minute by 30 s) + 25 s -> 30 s by 10 s at 0.2 a minute (0.1)
        ("1003", 85, "1.3"),
        # 1004 is DST_FS (prefix 10): RT_40CNT as above
        ("1004", 20, "1"),
        ("1004", 85, "1.3"),
    ],
)
def test_tutorial_costs_match_cgrates_tut_local_get_costs(decimals, destination, seconds, cost):
    # given CGRateS's tutorial, Monday 2014-08-04 13:00 UTC (peak)
    rating = tutorial(decimals)
    # when
    result = rating.rate(cgrates_call("1001", destination, seconds))
    # then the cost CGRateS asserts
    assert result.cost == Decimal(cost)
    assert result.rating_plan_id == "RP_RETAIL2"


def test_cgrates_default_rounding_decimals_round_each_increment_at_five():
    # given CGRateS's default "rounding_decimals": 5
    rating = tutorial(5)
    # when the 85 s call to 1002 is rated
    result = rating.rate(cgrates_call("1001", "1002", 85))
    # then each 1 s increment of 0.1/60 = 0.0016666... costs 0.00167; 25 of them 0.04175;
    # 0.4 + 0.2 + 0.04175 = 0.64175 -> *up 4: 0.6418
    assert result.cost == Decimal("0.6418")
    assert result.trace[1]["increment_cost"] == "0.00167"


@MODES
def test_tutorial_off_peak_uses_the_off_peak_destination_rate(decimals):
    # given Monday 2014-08-04 20:00 UTC: OFFPEAK_EVENING (from 19:00) started after PEAK
    rating = tutorial(decimals)
    # when 1001 calls 1002 for 85 s
    result = rating.rate(cgrates_call("1001", "1002", 85, datetime(2014, 8, 4, 20, 0, tzinfo=UTC)))
    # then RT_10CNT: 0.2 + 0.1 (first minute) + 25 s at 0.05 a minute (0.0208333...) -> 0.3209
    assert result.cost == Decimal("0.3209")
    assert result.destination_rate_id == "DR_1002_10CNT"


@MODES
def test_tutorial_max_cost_free_caps_and_disconnect_does_not(decimals):
    # given DST_1007 at 0.01 a second, max cost 0.62: *free on RP_RETAIL2 (subject 1001),
    # *disconnect on RP_RETAIL1 (the *any subject)
    rating = tutorial(decimals)
    # when 120 s calls to 1007 are rated (1.20 uncapped)
    free = rating.rate(cgrates_call("1001", "1007", 120))
    disconnect = rating.rate(cgrates_call("2000", "1007", 120))
    # then
    assert free.cost == Decimal("0.62")
    assert disconnect.cost == Decimal("1.2")
    assert disconnect.max_cost_reached is True


def test_tutorial_fallback_subject_after_activation():
    # given subject 1006 is on RP_SPECIAL_1002 from 2015-02-28 with fallback *any
    rating = tutorial()
    # when it calls 1002 (rated by its plan: RT_1CNT, 0.01 per started minute) and 1003 (not)
    special = rating.rate(cgrates_call("1006", "1002", 20, datetime(2015, 3, 2, 13, tzinfo=UTC)))
    fallback = rating.rate(cgrates_call("1006", "1003", 20, datetime(2015, 3, 2, 13, tzinfo=UTC)))
    # then 1003 falls back to *any: RP_RETAIL1, DST_FS (prefix 10) at peak: 0.8 + 0.2 = 1.0
    assert (special.cost, special.subject) == (Decimal("0.01"), "1006")
    assert (fallback.cost, fallback.subject, fallback.destination_id) == (
        Decimal("1"),
        "*any",
        "DST_FS",
    )


def test_tutorial_sms_is_rated_per_message():
    # given RP_SMS: 0.01 a message
    rating = tutorial()
    # when 3 messages are rated
    result = rating.rate(cgrates_call("1001", "1002", 0, category="sms", tor=SMS, usage=3))
    # then
    assert result.cost == Decimal("0.03")


@MODES
def test_tutorial2_fallback_pricing_from_any_matches_cgrates_test_tut_get_cost(decimals):
    # given CGRateS's tutorial2; subject 1001's RP_1001 rates only DST_20, falling back to *any
    rating = tutorial(decimals, "tutorial2")
    # when, as in general_tests/tutorial_it_test.go testTutGetCost ("Fallback pricing from
    # *any, Usage will be rounded to 60s"), 1001 calls 1003 for 45 s on 2019-03-11 09:00
    result = rating.rate(cgrates_call("1001", "1003", 45, datetime(2019, 3, 11, 9, 0, tzinfo=UTC)))
    # then RP_DEFAULT's RT_120_20_60: 0.2 + one 60 s block at 1.2 a minute = 1.4
    assert result.cost == Decimal("1.4")
    assert (result.subject, result.rating_plan_id, result.usage_rated) == (
        "*any",
        "RP_DEFAULT",
        60 * SECOND,
    )


@pytest.mark.parametrize(
    ("subject", "destination", "category", "tor", "usage", "cost"),
    [
        # RP_1001 rates DST_20 itself: RT_120_10_60, 0.1 + 1.2 for the first minute
        ("1001", "2001", "call", VOICE, 45 * SECOND, "1.3"),
        # 90 s: RT_120_10_60 has one group of 60 s increments: 2 minutes, 0.1 + 2.4
        ("1001", "2001", "call", VOICE, 90 * SECOND, "2.5"),
        # 1002 has no profile: *any's RP_DEFAULT, DST_20 at RT_180_10_60: 0.1 + 1.8 + 30 s
        # by the second at 1.8 a minute (0.9)
        ("1002", "2001", "call", VOICE, 90 * SECOND, "2.8"),
        # *any destination of RP_DEFAULT: RT_240_30_60, 0.3 + 2.4
        ("1002", "4003", "call", VOICE, 60 * SECOND, "2.7"),
        # SMS to DST_10 at RT_5_1 (0.05 a message), elsewhere RT_10_1 (0.1)
        ("1003", "1002", "sms", SMS, 1, "0.05"),
        ("1003", "2002", "sms", SMS, 2, "0.2"),
        # data: 0.1 per 1024 units in 1024-unit increments: 2048 -> 0.2, 3000 -> 3072 -> 0.3
        ("1001", "", "data", DATA, 2048, "0.2"),
        ("1001", "", "data", DATA, 3000, "0.3"),
        # per-call charge: RT_15_0_1 has a 0.15 connect fee and a zero rate
        ("RPF_SPECIAL_BLC", "1002", "call", VOICE, 300 * SECOND, "0.15"),
    ],
)
def test_tutorial2_costs_worked_by_hand(subject, destination, category, tor, usage, cost):
    # given
    rating = tutorial(None, "tutorial2")
    at = datetime(2019, 3, 11, 9, 0, tzinfo=UTC)
    # when
    result = rating.rate(
        CallDescriptor("cgrates.org", category, subject, destination, at, usage, tor)
    )
    # then
    assert result.cost == Decimal(cost)


def test_tutorial2_unknown_category_is_an_error():
    # given
    rating = tutorial(None, "tutorial2")
    # when / then
    with pytest.raises(RatingError) as error:
        rating.rate(cgrates_call("1001", "1002", 60, category="video"))
    assert error.value.reason == "no_rating_profile"
