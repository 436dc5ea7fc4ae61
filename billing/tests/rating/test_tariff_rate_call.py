"""`manage.py rate_call --tariff CODE`: a stored tariff rated by its version in force at the
answer time; an unknown destination or a time before any version is an error, not a cost."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from billing.rating.services import tariff_version_publish
from billing.tests.rating.tariff_samples import sample_tariff

pytestmark = pytest.mark.django_db


@pytest.fixture
def tariff(admin):
    tariff = sample_tariff(admin)
    tariff_version_publish(
        version=tariff.versions.get(),
        actor=admin,
        reason="Launch",
        valid_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    return tariff


def rate_call(*arguments: str) -> dict:
    out = StringIO()
    call_command("rate_call", "--tariff", "uk-sample", *arguments, stdout=out)
    return json.loads(out.getvalue())


def test_a_stored_tariff_is_rated_by_its_version_in_force(tariff):
    # when
    output = rate_call(
        "--subject", "*any", "--destination", "447700900123",
        "--answer-time", "2026-03-03T10:00:00Z", "--usage", "95s",
    )  # fmt: skip
    # then
    assert (output["cost"], output["currency"]) == ("0.2084", "GBP")
    assert (output["tariff"], output["tariff_version"]) == ("uk-sample", 1)
    assert [part["rate_id"] for part in output["trace"]] == ["RT_MOBILE", "RT_MOBILE"]


@pytest.mark.parametrize(
    ("destination", "answer_time", "reason"),
    [
        ("33612345678", "2026-03-03T10:00:00Z", "no_rate_for_destination"),
        ("447700900123", "2025-12-31T10:00:00Z", "no_tariff_in_force"),
    ],
)
def test_a_stored_tariff_that_cannot_rate_is_an_error_with_its_reason(
    tariff, destination, answer_time, reason
):
    # when
    with pytest.raises(CommandError) as error:
        rate_call(
            "--subject", "*any", "--destination", destination,
            "--answer-time", answer_time, "--usage", "60s",
        )  # fmt: skip
    # then
    assert f"({reason})" in str(error.value)
