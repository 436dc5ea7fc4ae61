"""CGRateS tariff-plan CSV folders in and out: durations, both rating-profile formats, round
trips, zip uploads, and errors that name the file, the line and the column."""

from __future__ import annotations

import io
import shutil
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from billing.rating.cgrates import (
    parse_duration,
    read_tariff_plan_dir,
    read_tariff_plan_files,
    read_tariff_plan_zip,
    tariff_plan_zip,
    write_tariff_plan_dir,
)
from billing.rating.plan import (
    SECOND,
    Destination,
    DestinationRate,
    PlanError,
    Rate,
    RateSlot,
    RatingPlanBinding,
    RatingProfile,
    TariffPlan,
    Timing,
)

TARIFF_PLANS = Path(__file__).parent / "tariffplans"


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("60s", 60 * SECOND),
        ("1m", 60 * SECOND),
        ("0s", 0),
        ("100ms", 100_000_000),
        ("1m30s", 90 * SECOND),
        ("1.5s", 1_500_000_000),
        ("1h", 3600 * SECOND),
        ("1", 1),  # a plain number is base units: one message
        ("1024", 1024),  # or 1024 bytes
    ],
)
def test_durations_are_read_in_nanoseconds(text, nanoseconds):
    assert parse_duration(text) == nanoseconds


@pytest.mark.parametrize("text", ["", "6O s", "1x", "s", "1.5ns"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError, match=r"duration|nanoseconds"):
        parse_duration(text)


def test_the_tutorial_is_read_with_its_older_direction_column():
    # given CGRateS's tutorial with "*out" rating profiles
    # when
    plan = read_tariff_plan_dir(TARIFF_PLANS / "tutorial")
    # then
    rates = {rate.id: rate for rate in plan.rates}
    assert rates["RT_20CNT"].slots == (
        RateSlot(Decimal("0.4"), Decimal("0.2"), 60 * SECOND, 60 * SECOND, 0),
        RateSlot(Decimal("0"), Decimal("0.1"), 60 * SECOND, SECOND, 60 * SECOND),
    )
    assert rates["RT_SMS"].slots[0].rate_unit == 1
    timings = {timing.id: timing for timing in plan.timings}
    assert timings["PEAK"] == Timing("PEAK", week_days=(1, 2, 3, 4, 5), start_time="08:00:00")
    assert timings["ASAP"].start_time == ""  # *asap: from midnight
    profile = next(p for p in plan.rating_profiles if p.subject == "1006")
    assert profile.activation_time == datetime(2015, 2, 28, tzinfo=UTC)
    assert profile.fallback_subjects == ("*any",)
    assert {p.tenant for p in plan.rating_profiles} == {"cgrates.org"}


def test_the_current_format_is_read_with_comment_lines_and_empty_columns():
    # given CGRateS's tutorial2 (comment lines inside files, empty connect fees and max costs)
    # when
    plan = read_tariff_plan_dir(TARIFF_PLANS / "tutorial2")
    # then
    rates = {rate.id: rate for rate in plan.rates}
    assert rates["RT_120_20_60"].slots[1] == RateSlot(
        Decimal("0"), Decimal("1.2"), 60 * SECOND, SECOND, 60 * SECOND
    )
    assert [d for d in plan.destination_rates if d.id == "DR_DEFAULT"][2].destination_id == "*any"
    profile = next(p for p in plan.rating_profiles if p.subject == "1001")
    assert profile.fallback_subjects == ("*any",)


@pytest.mark.parametrize("name", ["tutorial", "tutorial2"])
def test_a_written_folder_reads_back_as_the_same_plan(name, tmp_path):
    # given
    plan = read_tariff_plan_dir(TARIFF_PLANS / name)
    # when
    write_tariff_plan_dir(plan, tmp_path / "out")
    # then
    assert read_tariff_plan_dir(tmp_path / "out") == plan


def test_every_field_survives_a_round_trip(tmp_path):
    # given a plan using every field: end times, holidays, ms units, several fallbacks
    plan = TariffPlan(
        destinations=(Destination("UK", ("44", "+44")), Destination("FR", ("33",))),
        rates=(
            Rate(
                "RT",
                (
                    RateSlot(Decimal("0.0500"), Decimal("0.6"), 60 * SECOND, 60 * SECOND, 0),
                    RateSlot(Decimal("0"), Decimal("0.30"), 60 * SECOND, 100_000_000, 60 * SECOND),
                ),
            ),
            Rate("RT_DATA", (RateSlot(Decimal("0"), Decimal("0.1"), 1_048_576, 1024, 0),)),
        ),
        timings=(
            Timing("LUNCH", week_days=(1, 2, 3, 4, 5), start_time="12:00:00", end_time="14:00:00"),
            Timing("MORNING", end_time="08:00:00"),
            Timing("XMAS", years=(2026,), months=(12,), month_days=(25, 26)),
            Timing("SUNDAY", week_days=(0,)),
        ),
        destination_rates=(
            DestinationRate("DR", "UK", "RT", "*middle", 2, Decimal("2.50"), "*free"),
            DestinationRate("DR", "*any", "RT_DATA", "*down", 6, Decimal("0"), ""),
        ),
        rating_plans=(
            RatingPlanBinding("RP", "DR", "LUNCH", Decimal("20")),
            RatingPlanBinding("RP", "DR", "*any", Decimal("10.5")),
        ),
        rating_profiles=(
            RatingProfile(
                "t", "call", "*any", datetime(2020, 1, 1, 0, 0, 30, tzinfo=UTC), "RP", ("a", "b")
            ),
        ),
    ).validate()
    # when
    write_tariff_plan_dir(plan, tmp_path)
    # then
    assert read_tariff_plan_dir(tmp_path) == plan
    assert TariffPlan.from_dict(plan.to_dict()) == plan


def test_a_zip_of_the_folder_reads_like_the_folder():
    # given the tutorial zipped inside a folder, as an operator's upload would be
    folder = TARIFF_PLANS / "tutorial"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in folder.iterdir():
            archive.write(path, f"tariffplans/tutorial/{path.name}")
        archive.writestr("tariffplans/tutorial/Actions.csv", "#not rating data\n")
    buffer.seek(0)
    # when
    plan = read_tariff_plan_zip(buffer)
    # then
    assert plan == read_tariff_plan_dir(folder)


def test_the_plan_zip_for_download_reads_back():
    # given
    plan = read_tariff_plan_dir(TARIFF_PLANS / "tutorial2")
    # when / then
    assert read_tariff_plan_zip(tariff_plan_zip(plan)) == plan


def _broken(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "plan"
    shutil.copytree(TARIFF_PLANS / "tutorial", folder)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("name", "text", "where", "reason"),
    [
        (
            "Rates.csv",
            "#Id,ConnectFee,Rate,RateUnit,RateIncrement,GroupIntervalStart\n"
            "RT_10CNT,0.2,0.1,60s,60s,0s\nRT_20CNT,0.4,0.2,6O s,60s,0s\n",
            "Rates.csv line 3 column RateUnit",
            "bad_value",
        ),
        (
            "Rates.csv",
            "#Id,ConnectFee,Rate,RateUnit,RateIncrement,GroupIntervalStart\nRT_10CNT,0.2,abc,60s,60s,0s\n",
            "Rates.csv line 2 column Rate",
            "bad_value",
        ),
        (
            "Rates.csv",
            "#Id,ConnectFee,Rate,RateUnit,RateIncrement,GroupIntervalStart\nRT_10CNT,0.2,0.1\n",
            "Rates.csv line 2 column RateUnit",
            "missing_column",
        ),
        (
            "DestinationRates.csv",
            "#Id,DestinationId,RatesTag,RoundingMethod,RoundingDecimals,MaxCost,MaxCostStrategy\n"
            "DR_X,DST_NOWHERE,RT_10CNT,*up,4,0,\n",
            "DestinationRates.csv line 2 column DestinationId",
            "unknown",
        ),
        (
            "DestinationRates.csv",
            "#Id,DestinationId,RatesTag,RoundingMethod,RoundingDecimals,MaxCost,MaxCostStrategy\n"
            "DR_X,DST_1002,RT_10CNT,*sideways,4,0,\n",
            "DestinationRates.csv line 2 column RoundingMethod",
            "bad_value",
        ),
        (
            "DestinationRates.csv",
            "#Id,DestinationId,RatesTag,RoundingMethod,RoundingDecimals,MaxCost,MaxCostStrategy\n"
            "DR_X,DST_1002,RT_10CNT,*up,4,1,*maybe\n",
            "DestinationRates.csv line 2 column MaxCostStrategy",
            "bad_value",
        ),
        (
            "Timings.csv",
            "#Tag,Years,Months,MonthDays,WeekDays,Time\nPEAK,*any,*any,*any,1;2;8,08:00:00\n",
            "Timings.csv line 2 column WeekDays",
            "bad_value",
        ),
        (
            "Timings.csv",
            "#Tag,Years,Months,MonthDays,WeekDays,Time\nPEAK,*any,*any,*any,1,8am\n",
            "Timings.csv line 2 column Time",
            "bad_value",
        ),
        (
            "RatingProfiles.csv",
            "#Tenant,Category,Subject,ActivationTime,RatingPlanId,RatesFallbackSubject\n"
            "cgrates.org,call,1001,yesterday,RP_RETAIL2,\n",
            "RatingProfiles.csv line 2 column ActivationTime",
            "bad_value",
        ),
        (
            "RatingProfiles.csv",
            "#Tenant,Category,Subject,ActivationTime,RatingPlanId,RatesFallbackSubject\n"
            "cgrates.org,call,1001,2014-01-14T00:00:00Z,RP_NOPE,\n",
            "RatingProfiles.csv line 2 column RatingPlanId",
            "unknown",
        ),
        (
            "Destinations.csv",
            "#Id,Prefix\nDST_1002,10 02\n",
            "Destinations.csv line 2 column Prefix",
            "bad_prefix",
        ),
    ],
)
def test_errors_name_the_file_line_and_column(tmp_path, name, text, where, reason):
    # given a folder with one broken file
    folder = _broken(tmp_path, name, text)
    # when / then
    with pytest.raises(PlanError) as error:
        read_tariff_plan_dir(folder)
    assert error.value.where == where
    assert error.value.reason == reason
    assert str(error.value).startswith(where + ": ")


def test_a_file_that_is_not_utf8_is_refused_by_name():
    # when / then
    with pytest.raises(PlanError) as error:
        read_tariff_plan_files({"Rates.csv": b"#Id\n\xff\xfe,1\n"})
    assert (error.value.where, error.value.reason) == ("Rates.csv", "bad_encoding")


def test_a_folder_without_rating_files_is_refused(tmp_path):
    # when / then
    with pytest.raises(PlanError) as error:
        read_tariff_plan_dir(tmp_path)
    assert error.value.reason == "no_rating_files"


def test_an_upload_that_is_not_a_zip_is_refused():
    # when / then
    with pytest.raises(PlanError) as error:
        read_tariff_plan_zip(io.BytesIO(b"Destinations.csv"))
    assert error.value.reason == "bad_zip"
