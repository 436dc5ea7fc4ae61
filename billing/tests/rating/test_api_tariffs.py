"""Tariff API: who may read tariffs and ask for a quote, and what a quote answers (cost as a
string with its currency and the trace; an unknown subject or destination a 422 with its
reason, never a zero cost)."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.rating.demo import tariffs_demo_ensure
from billing.rating.services import tariff_version_publish
from billing.tests.rating.tariff_samples import sample_tariff
from crm.tests.api.conftest import matrix
from orders.tests.factories import PricePlanFactory

TARIFFS = "/api/v1/tariffs/"
QUOTE = "/api/v1/rating/quote/"

ADMINS_AND_KEYS = matrix(
    csr=403,
    supervisor=403,
    admin=200,
    reseller_a=403,
    reseller_b=403,
    subscriber=403,
    other_subscriber=403,
    anonymous=401,
    key_full=200,
    key_without=403,
)


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


def _call(**changes):
    body = {
        "tariff_code": "uk-sample",
        "category": "call",
        "destination": "447700900123",
        "answer_time": "2026-03-03T10:00:00Z",
        "usage": {"amount": "95", "unit": "seconds"},
        **changes,
    }
    return {name: value for name, value in body.items() if value is not None}


@pytest.mark.parametrize(("persona", "status"), ADMINS_AND_KEYS)
def test_tariffs_are_read_by_admins_and_keys_granted_them(persona, status, api_as, tariff):
    # when
    listed = api_as(persona).get(TARIFFS)
    one = api_as(persona).get(f"{TARIFFS}{tariff.code}/")
    # then
    assert (listed.status_code, one.status_code) == (status, status)
    if status == 200:
        assert [row["code"] for row in listed.json()["results"]] == ["uk-sample"]
        (version,) = one.json()["versions"]
        assert (version["number"], version["status"]) == (1, "published")
        assert version["counts"]["rating_profiles"] == 2


def test_an_unknown_tariff_code_is_404(api_as, tariff):
    assert api_as("admin").get(f"{TARIFFS}no-such/").status_code == 404


@pytest.mark.parametrize(("persona", "status"), ADMINS_AND_KEYS)
def test_a_quote_is_given_to_admins_and_keys_granted_tariffs(persona, status, api_as, tariff):
    # when
    response = api_as(persona).post(QUOTE, _call(), format="json")
    # then
    assert response.status_code == status


def test_a_quote_gives_the_cost_as_a_string_with_its_currency_and_trace(api_as, tariff):
    # when: 95 s to a mobile: 5p connect, the first minute as a block (10p), then 35 s per
    # second (5.8333p), rounded up to 4 decimals
    body = api_as("admin").post(QUOTE, _call(), format="json").json()
    # then
    assert (body["cost"], body["currency"]) == ("0.2084", "GBP")
    assert (body["destination_id"], body["matched_prefix"], body["version"]) == (
        "GB_MOBILE",
        "447",
        1,
    )
    assert [part["rate_slot"]["group_start"] for part in body["trace"]] == [0, 60_000_000_000]


def test_a_quote_with_cgrates_rounding_is_rated_as_cgrates_does(api_as, tariff):
    # when
    body = api_as("admin").post(QUOTE, _call(cgrates_rounding=2), format="json").json()
    # then
    assert body["currency"] == "GBP"
    assert body["cost"].count(".") == 1


def test_an_unknown_destination_is_a_422_with_its_reason_never_a_zero_cost(api_as, tariff):
    # when
    response = api_as("admin").post(QUOTE, _call(destination="33612345678"), format="json")
    # then
    assert response.status_code == 422
    assert response.json()["code"] == "no_rate_for_destination"


def test_an_unknown_subject_is_a_422_no_rating_profile(api_as, tariff):
    # when
    response = api_as("admin").post(
        QUOTE, _call(category="mms", usage={"amount": "1", "unit": "messages"}), format="json"
    )
    # then
    assert response.status_code == 422
    assert response.json()["code"] == "no_rating_profile"


def test_a_quote_by_plan_code_uses_the_plans_tariff_and_its_code_as_subject(api_as, admin):
    # given
    tariffs = tariffs_demo_ensure(admin)
    PricePlanFactory(code="sim-only-30gb", tariff=tariffs["postpaid-standard"])
    # when
    body = (
        api_as("admin")
        .post(
            QUOTE,
            _call(
                tariff_code=None,
                plan_code="sim-only-30gb",
                category="sms",
                usage={"amount": "2", "unit": "messages"},
            ),
            format="json",
        )
        .json()
    )
    # then
    assert (body["tariff_code"], body["cost"], body["subject_used"]) == (
        "postpaid-standard",
        "0.2400",
        "*any",
    )


def test_a_quote_refuses_a_unit_that_does_not_measure_the_category(api_as, tariff):
    # when
    response = api_as("admin").post(
        QUOTE, _call(usage={"amount": "5", "unit": "mb"}), format="json"
    )
    # then
    assert response.status_code == 422
    assert "usage.unit" in response.json()["extra"]["fields"]


def test_a_quote_needs_exactly_one_of_tariff_and_plan(api_as, tariff):
    # when
    both = api_as("admin").post(QUOTE, _call(plan_code="x"), format="json")
    neither = api_as("admin").post(QUOTE, _call(tariff_code=None), format="json")
    # then
    assert (both.status_code, neither.status_code) == (422, 422)


def test_a_malformed_quote_is_a_400_naming_the_fields(api_as, tariff):
    # when
    response = api_as("admin").post(
        QUOTE, _call(usage={"amount": 95, "unit": "hours"}, answer_time="soon"), format="json"
    )
    # then
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {
        "usage.amount",
        "usage.unit",
        "answer_time",
    }


def test_an_admin_creates_a_tariff_with_an_empty_draft(api_as):
    # when
    response = api_as("admin").post(
        TARIFFS, {"code": "payg-uk", "name": "PAYG UK", "currency": "GBP"}, format="json"
    )
    # then
    assert response.status_code == 201
    body = response.json()
    assert (body["code"], body["name"], body["currency"]) == ("payg-uk", "PAYG UK", "GBP")
    assert [(v["number"], v["status"]) for v in body["versions"]] == [(1, "draft")]


def test_a_tariff_code_taken_or_malformed_is_refused_and_nothing_is_created(api_as, tariff):
    from billing.rating.models import Tariff

    # when
    taken = api_as("admin").post(
        TARIFFS, {"code": "uk-sample", "name": "Again", "currency": "GBP"}, format="json"
    )
    malformed = api_as("admin").post(
        TARIFFS, {"code": "Not A Code", "name": "X", "currency": "GBP"}, format="json"
    )
    # then
    assert taken.status_code == 422
    assert "already exists" in taken.json()["extra"]["fields"]["code"][0]
    assert malformed.status_code == 400
    assert list(Tariff.objects.values_list("code", flat=True)) == ["uk-sample"]


def test_a_tariff_is_renamed_with_a_reason_and_its_code_and_currency_stay(api_as, tariff):
    # when
    missing_reason = api_as("admin").patch(f"{TARIFFS}{tariff.code}/", {"name": "X"}, format="json")
    renamed = api_as("admin").patch(
        f"{TARIFFS}{tariff.code}/", {"name": "UK 2027", "reason": "Rebrand"}, format="json"
    )
    # then
    assert missing_reason.status_code == 400
    assert renamed.status_code == 200
    tariff.refresh_from_db()
    assert (tariff.name, tariff.code, tariff.currency) == ("UK 2027", "uk-sample", "GBP")


@pytest.mark.parametrize("persona", ["csr", "supervisor", "reseller_a", "subscriber"])
def test_only_tariff_managers_change_tariffs_and_nothing_changes_on_a_denial(
    persona, api_as, tariff
):
    from billing.rating.models import Tariff

    # when
    created = api_as(persona).post(
        TARIFFS, {"code": "x-1", "name": "X", "currency": "GBP"}, format="json"
    )
    renamed = api_as(persona).patch(
        f"{TARIFFS}{tariff.code}/", {"name": "Hacked", "reason": "x"}, format="json"
    )
    # then
    assert (created.status_code, renamed.status_code) == (403, 403)
    assert list(Tariff.objects.values_list("code", "name")) == [("uk-sample", "UK sample")]


def test_renaming_an_unknown_tariff_is_404(api_as, tariff):
    response = api_as("admin").patch(f"{TARIFFS}no-such/", {"reason": "x"}, format="json")
    assert response.status_code == 404
