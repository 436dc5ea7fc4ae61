"""Tariff services: drafts edited row by row and checked as a whole plan, published versions
never changed, the timeline choosing the version in force, and every change recorded."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.rating.models import Tariff, TariffVersion, TariffVersionEvent
from billing.rating.plan import SECOND, TariffPlan
from billing.rating.selectors import (
    tariff_timeline,
    tariff_version_in_force,
    tariff_version_tables,
)
from billing.rating.services import (
    tariff_create,
    tariff_version_draft,
    tariff_version_publish,
    tariff_version_retire,
    tariff_version_row_remove,
    tariff_version_row_save,
)
from billing.tests.rating.tariff_samples import sample_tariff
from common.errors import ApplicationError, InvalidTransition

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def _at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=UTC)


def _published(admin, tariff, valid_from):
    version = (
        tariff_version_draft(tariff=tariff, actor=admin)
        if tariff.versions.filter(status="draft").count() == 0
        else tariff.versions.get(status="draft")
    )
    return tariff_version_publish(
        version=version, actor=admin, reason="Prices for spring", valid_from=valid_from
    )


def test_a_new_tariff_starts_with_an_empty_draft_and_records_who_made_it(admin):
    # when
    tariff = tariff_create(actor=admin, code="payg-uk", name="PAYG UK", currency="GBP")
    # then
    version = tariff.versions.get()
    assert (version.number, version.status) == (1, TariffVersion.Status.DRAFT)
    assert version.content == TariffPlan().to_dict()
    assert version.events.get().actor == admin


def test_a_tariff_code_is_unique_and_a_slug(admin):
    # given
    tariff_create(actor=admin, code="payg-uk", name="PAYG UK", currency="GBP")
    # when
    with pytest.raises(ApplicationError) as taken:
        tariff_create(actor=admin, code="payg-uk", name="Again", currency="GBP")
    with pytest.raises(ApplicationError) as bad:
        tariff_create(actor=admin, code="PAYG UK!", name="", currency="XXX")
    # then
    assert "already exists" in taken.value.fields["code"][0]
    assert set(bad.value.fields) == {"code", "name", "currency"}
    assert Tariff.objects.count() == 1


def test_rows_are_saved_in_base_units_and_read_back_as_people_write_them(admin):
    # given
    tariff = sample_tariff(admin)
    version = tariff.versions.get()
    # then
    rate = next(r for r in version.content["rates"] if r["id"] == "RT_MOBILE")
    assert rate["slots"] == [
        {
            "connect_fee": "0.05",
            "price": "0.10",
            "rate_unit": 60 * SECOND,
            "rate_increment": 60 * SECOND,
            "group_start": 0,
        },
        {
            "connect_fee": "0",
            "price": "0.10",
            "rate_unit": 60 * SECOND,
            "rate_increment": SECOND,
            "group_start": 60 * SECOND,
        },
    ]
    tables = tariff_version_tables(version)
    shown = next(r for r in tables["rates"] if r["id"] == "RT_MOBILE")
    assert [s["rate_increment_label"] for s in shown["slots"]] == ["60s", "1s"]
    assert tables["timings"][0]["week_days_label"] == "Mon, Tue, Wed, Thu, Fri"
    assert tables["timings"][0]["start_time"] == "08:00:00"


def test_a_row_that_refers_to_something_missing_is_refused_naming_it(admin):
    # given
    version = sample_tariff(admin).versions.get()
    before = dict(version.content)
    # when
    with pytest.raises(ApplicationError) as refused:
        tariff_version_row_save(
            version=version,
            actor=admin,
            section="destination_rates",
            values={"id": "DR_X", "destination_id": "NOWHERE", "rate_id": "RT_MOBILE"},
        )
    # then
    assert "unknown destination 'NOWHERE'" in refused.value.message
    version.refresh_from_db()
    assert version.content == before


def test_bad_fields_are_all_named_at_once(admin):
    # given
    version = sample_tariff(admin).versions.get()
    # when
    with pytest.raises(ApplicationError) as refused:
        tariff_version_row_save(
            version=version,
            actor=admin,
            section="rates",
            values={
                "id": "bad id",
                "connect_fee": "-1",
                "slots": [{"price": "x", "rate_unit": "0", "rate_increment": "1 fortnight"}],
            },
        )
    # then
    assert set(refused.value.fields) == {
        "id",
        "connect_fee",
        "slots.0.price",
        "slots.0.rate_unit",
        "slots.0.rate_increment",
    }


def test_a_row_still_used_cannot_be_removed(admin):
    # given
    version = sample_tariff(admin).versions.get()
    # when
    with pytest.raises(ApplicationError) as refused:
        tariff_version_row_remove(
            version=version, actor=admin, section="destinations", key="GB_MOBILE"
        )
    tariff_version_row_remove(
        version=version, actor=admin, section="destinations", key="GB_LANDLINE"
    )
    # then
    assert refused.value.code == "row_in_use"
    version.refresh_from_db()
    assert [d["id"] for d in version.content["destinations"]] == ["GB_MOBILE"]


def test_a_row_is_changed_in_place_and_the_change_recorded(admin):
    # given
    version = sample_tariff(admin).versions.get()
    # when
    tariff_version_row_save(
        version=version,
        actor=admin,
        section="destinations",
        values={"id": "GB_MOBILE", "prefixes": "447;4475"},
        original_key="GB_MOBILE",
        reason="Add the 4475 range",
    )
    # then
    version.refresh_from_db()
    assert version.content["destinations"][0] == {"id": "GB_MOBILE", "prefixes": ["447", "4475"]}
    event = version.events.first()
    assert (event.summary, event.reason, event.actor) == (
        "Destinations GB_MOBILE changed.",
        "Add the 4475 range",
        admin,
    )


def test_a_published_version_is_never_changed(admin):
    # given
    tariff = sample_tariff(admin)
    version = tariff_version_publish(
        version=tariff.versions.get(), actor=admin, reason="Launch", valid_from=_at(1)
    )
    content = dict(version.content)
    # when / then
    with pytest.raises(InvalidTransition):
        tariff_version_row_save(
            version=version,
            actor=admin,
            section="destinations",
            values={"id": "GB_X", "prefixes": "449"},
        )
    with pytest.raises(InvalidTransition):
        tariff_version_row_remove(
            version=version, actor=admin, section="destinations", key="GB_LANDLINE"
        )
    with pytest.raises(InvalidTransition):
        tariff_version_publish(version=version, actor=admin, reason="Again")
    version.refresh_from_db()
    assert version.content == content


def test_a_correction_is_a_new_draft_copied_from_the_latest_version(admin):
    # given
    tariff = sample_tariff(admin)
    published = tariff_version_publish(
        version=tariff.versions.get(), actor=admin, reason="Launch", valid_from=_at(1)
    )
    # when
    draft = tariff_version_draft(tariff=tariff, actor=admin, reason="Price rise")
    # then
    assert (draft.number, draft.status) == (2, "draft")
    assert draft.content == published.content
    with pytest.raises(ApplicationError) as second:
        tariff_version_draft(tariff=tariff, actor=admin)
    assert second.value.code == "conflict"


def test_an_incomplete_plan_is_not_published(admin):
    # given
    tariff = tariff_create(actor=admin, code="empty", name="Empty", currency="GBP")
    # when
    with pytest.raises(ApplicationError) as refused:
        tariff_version_publish(version=tariff.versions.get(), actor=admin, reason="Try")
    # then
    assert "rating profile" in refused.value.fields["non_field_errors"][0]
    assert tariff.versions.get().status == "draft"


def test_publishing_and_retiring_need_a_reason_and_are_recorded(admin):
    # given
    version = sample_tariff(admin).versions.get()
    # when
    with pytest.raises(ApplicationError):
        tariff_version_publish(version=version, actor=admin, reason="  ")
    tariff_version_publish(version=version, actor=admin, reason="Launch", valid_from=_at(1))
    tariff_version_retire(version=version, actor=admin, reason="Withdrawn")
    # then
    events = list(
        TariffVersionEvent.objects.filter(version=version, action__in=["published", "retired"])
        .order_by("pk")
        .values_list("old_status", "new_status", "reason")
    )
    assert events == [("draft", "published", "Launch"), ("published", "retired", "Withdrawn")]


def test_the_timeline_picks_the_latest_version_started_at_the_call_time(admin):
    # given: v1 from 1 March, v2 from 10 March, v3 from 20 March then retired
    tariff = sample_tariff(admin)
    v1 = tariff_version_publish(
        version=tariff.versions.get(), actor=admin, reason="Launch", valid_from=_at(1)
    )
    v2 = _published(admin, tariff, _at(10))
    v3 = _published(admin, tariff, _at(20))
    tariff_version_retire(version=v3, actor=admin, reason="Mistake")
    # when / then
    assert tariff_version_in_force(tariff=tariff, at=_at(1, 11)) is None
    assert tariff_version_in_force(tariff=tariff, at=_at(5)) == v1
    assert tariff_version_in_force(tariff=tariff, at=_at(10)) == v2
    assert tariff_version_in_force(tariff=tariff, at=_at(25)) == v2
    assert [(e.version.number, e.valid_until) for e in tariff_timeline(tariff)] == [
        (1, _at(10)),
        (2, None),
    ]


def test_two_versions_cannot_start_at_the_same_moment(admin):
    # given
    tariff = sample_tariff(admin)
    tariff_version_publish(
        version=tariff.versions.get(), actor=admin, reason="Launch", valid_from=_at(1)
    )
    draft = tariff_version_draft(tariff=tariff, actor=admin)
    # when
    with pytest.raises(ApplicationError) as refused:
        tariff_version_publish(version=draft, actor=admin, reason="Same", valid_from=_at(1))
    # then
    assert "valid_from" in refused.value.fields
