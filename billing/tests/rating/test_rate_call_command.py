"""`manage.py rate_call`: one JSON object with the cost and the trace; errors on stderr with a
non-zero exit, never a zero cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

TUTORIAL2 = str(Path(__file__).parent / "tariffplans" / "tutorial2")
ROOT = Path(__file__).resolve().parents[3]


def rate_call(*arguments: str) -> dict:
    out = StringIO()
    call_command("rate_call", "--tariff-dir", TUTORIAL2, *arguments, stdout=out)
    return json.loads(out.getvalue())


def test_rate_call_prints_the_cost_and_the_trace():
    # when 1001 calls 1003 for 45 s (CGRateS's testTutGetCost: 1.4)
    output = rate_call(
        "--subject", "1001", "--destination", "1003",
        "--answer-time", "2019-03-11T09:00:00Z", "--usage", "45s",
    )  # fmt: skip
    # then
    assert output["cost"] == "1.40000"
    assert output["subject_used"] == "*any"
    assert (output["destination_id"], output["matched_prefix"]) == ("DST_10", "10")
    assert output["rating_plan_id"] == "RP_DEFAULT"
    assert output["tenant"] == "cgrates.org"  # the plan's only tenant
    assert output["arithmetic"] == "exact"
    assert [part["rate_id"] for part in output["trace"]] == ["RT_120_20_60"]
    assert output["trace"][0]["start"] == "2019-03-11T09:00:00+00:00"


def test_rate_call_with_cgrates_rounding_says_so():
    # when
    output = rate_call(
        "--subject", "1002", "--destination", "2001",
        "--answer-time", "2019-03-11T09:00:00Z", "--usage", "1m25s", "--cgrates-rounding", "5",
    )  # fmt: skip
    # then 0.1 + 1.8 + 25 s * 0.03 = 2.65
    assert output["cost"] == "2.65000"
    assert output["arithmetic"] == "CGRateS rounding at 5 decimals"
    assert output["trace"][1]["increment_cost"] == "0.03000"


def test_rate_call_rates_sms_and_data_by_category():
    # when
    sms = rate_call(
        "--category", "sms", "--subject", "1003", "--destination", "1002",
        "--answer-time", "2019-03-11T09:00:00Z", "--usage", "1",
    )  # fmt: skip
    data = rate_call(
        "--category", "data", "--subject", "1001", "--destination", "*any",
        "--answer-time", "2019-03-11T09:00:00Z", "--usage", "2048",
    )  # fmt: skip
    # then
    assert (sms["tor"], sms["cost"]) == ("*sms", "0.05000")
    assert (data["tor"], data["cost"]) == ("*data", "0.20000")


AT = ("--answer-time", "2019-03-11T09:00:00Z")
FOR = ("--usage", "45s")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ("--category", "video", "--subject", "1001", "--destination", "1003", *AT, *FOR),
            "cannot rate (no_rating_profile)",
        ),
        (
            ("--category", "supplier2", "--subject", "x", "--destination", "2001", *AT, *FOR),
            "cannot rate (no_rate_for_destination)",
        ),
        (("--subject", "1001", "--destination", "1003", *AT, "--usage", "soon"), "--usage"),
        (
            ("--subject", "1001", "--destination", "1003", "--answer-time", "monday", *FOR),
            "--answer-time",
        ),
        (
            ("--subject", "1", "--destination", "1", *AT, *FOR, "--time-zone", "Mars/Base"),
            "--time-zone",
        ),
    ],
)
def test_rate_call_errors_give_the_reason(arguments, message):
    # when / then
    with pytest.raises(CommandError) as error:
        rate_call(*arguments)
    assert message in str(error.value)


def test_rate_call_names_the_bad_file_line_and_column(tmp_path):
    # given a tariff folder with a bad rate unit
    (tmp_path / "Rates.csv").write_text(
        "#Id,ConnectFee,Rate,RateUnit,RateIncrement,GroupIntervalStart\nRT,0,1,sixty,1s,0\n"
    )
    # when / then
    with pytest.raises(CommandError) as error:
        call_command(
            "rate_call", "--tariff-dir", str(tmp_path), "--subject", "1", "--destination", "1",
            "--answer-time", "2019-03-11T09:00:00Z", "--usage", "1s", stdout=StringIO(),
        )  # fmt: skip
    assert "Rates.csv line 2 column RateUnit" in str(error.value)


def test_rate_call_exits_non_zero_with_the_reason_on_stderr():
    # when the command runs as an operator would run it
    completed = subprocess.run(
        [
            sys.executable, "manage.py", "rate_call", "--tariff-dir", TUTORIAL2,
            "--subject", "1001", "--destination", "1003", "--category", "video",
            "--answer-time", "2019-03-11T09:00:00Z", "--usage", "45s",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    # then
    assert completed.returncode != 0
    assert completed.stdout == ""
    assert "no_rating_profile" in completed.stderr
