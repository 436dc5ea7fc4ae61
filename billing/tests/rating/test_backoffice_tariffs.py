"""Back-office tariff pages: who may open and change them (nothing changes on a denial), a
draft edited row by row over htmx, publish and retire with a reason, CGRateS import and
export, and "What would this cost?"."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse

from billing.rating.models import Tariff, TariffVersion, TariffVersionEvent
from billing.rating.plan import SECOND
from billing.rating.services import tariff_version_publish
from billing.tests.rating.tariff_samples import sample_tariff

pytestmark = pytest.mark.django_db
ROLES = ["csr", "supervisor", "admin", "reseller_a", "subscriber", "anonymous"]
HTMX = {"HX-Request": "true"}


def sign_in_as(client, request, role):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))


def expected(role, allowed):
    if role == "admin":
        return allowed
    return 302 if role == "anonymous" else 403


@pytest.fixture
def tariff(admin):
    return sample_tariff(admin)


@pytest.fixture
def draft(tariff):
    return tariff.versions.get()


def _snapshot():
    return (
        list(Tariff.objects.order_by("pk").values_list("code", "name")),
        list(TariffVersion.objects.order_by("pk").values_list("number", "status", "content")),
        TariffVersionEvent.objects.count(),
    )


@pytest.mark.parametrize("role", ROLES)
def test_only_admins_open_the_tariff_pages(role, request, client, tariff, draft):
    # given
    sign_in_as(client, request, role)
    pages = [
        reverse("tariffs:tariff-list"),
        reverse("tariffs:tariff-detail", args=[tariff.code]),
        reverse("tariffs:version-detail", args=[draft.public_id]),
        reverse("tariffs:quote"),
        reverse("tariffs:version-export", args=[draft.public_id]),
        reverse("tariffs:tariff-create"),
        reverse("tariffs:tariff-edit", args=[tariff.code]),
    ]
    # when
    statuses = [client.get(page).status_code for page in pages]
    # then
    assert statuses == [expected(role, 200)] * len(pages)


@pytest.mark.parametrize("role", ROLES)
def test_only_admins_change_tariffs_and_nothing_changes_on_a_denial(
    role, request, client, tariff, draft
):
    # given
    sign_in_as(client, request, role)
    before = _snapshot()
    posts = [
        (reverse("tariffs:tariff-create"), {"code": "x", "name": "X", "currency": "GBP"}),
        (
            reverse("tariffs:version-row-add", args=[draft.public_id, "destinations"]),
            {"destinations-id": "GB_PREMIUM", "destinations-prefixes": "449"},
        ),
        (
            reverse("tariffs:version-row-remove", args=[draft.public_id, "destinations"]),
            {"key": "GB_LANDLINE"},
        ),
        (reverse("tariffs:version-publish", args=[draft.public_id]), {"reason": "Go"}),
        (reverse("tariffs:version-retire", args=[draft.public_id]), {"reason": "Stop"}),
        (reverse("tariffs:tariff-draft", args=[tariff.code]), {"reason": "Next"}),
        (
            reverse("tariffs:tariff-edit", args=[tariff.code]),
            {"name": "Renamed", "description": "", "reason": "Rebrand"},
        ),
    ]
    # when
    statuses = [client.post(url, data).status_code for url, data in posts]
    # then
    if role == "admin":
        assert _snapshot() != before
    else:
        assert statuses == [expected(role, None)] * len(posts)
        assert _snapshot() == before


def test_a_tariff_is_created_with_an_empty_draft(admin, client):
    # given
    client.force_login(admin)
    # when
    response = client.post(
        reverse("tariffs:tariff-create"),
        {"code": "payg-uk", "name": "PAYG UK", "currency": "GBP", "description": ""},
    )
    # then
    version = TariffVersion.objects.get(tariff__code="payg-uk")
    assert response.headers["Location"] == reverse(
        "tariffs:version-detail", args=[version.public_id]
    )


def test_a_tariff_is_renamed_with_a_reason_and_the_change_is_audited(admin, client, tariff):
    # given
    from common.models import AuditEvent

    client.force_login(admin)
    url = reverse("tariffs:tariff-edit", args=[tariff.code])
    # when: first without a reason, then with one
    refused = client.post(
        url, {"name": "UK mobile 2027", "description": "New prices", "reason": ""}
    )
    saved = client.post(
        url, {"name": "UK mobile 2027", "description": "New prices", "reason": "Rebrand"}
    )
    # then
    assert refused.status_code == 200
    assert saved.headers["Location"] == reverse("tariffs:tariff-detail", args=[tariff.code])
    tariff.refresh_from_db()
    assert (tariff.name, tariff.description, tariff.code) == (
        "UK mobile 2027",
        "New prices",
        "uk-sample",
    )
    event = AuditEvent.objects.filter(action="updated").latest("pk")
    assert event.reason == "Rebrand"
    assert event.changes["name"][1] == "UK mobile 2027"
    page = client.get(reverse("tariffs:tariff-detail", args=[tariff.code])).content.decode()
    assert "UK mobile 2027" in page


def test_a_bad_tariff_code_is_shown_on_the_form(admin, client):
    # given
    client.force_login(admin)
    # when
    response = client.post(
        reverse("tariffs:tariff-create"), {"code": "Not A Slug", "name": "X", "currency": "GBP"}
    )
    # then
    assert response.status_code == 200
    assert "lower-case letters" in response.content.decode()
    assert not Tariff.objects.exists()


def test_a_row_is_added_over_htmx_and_the_sections_come_back(admin, client, draft):
    # given
    client.force_login(admin)
    # when
    response = client.post(
        reverse("tariffs:version-row-add", args=[draft.public_id, "rates"]),
        {
            "rates-id": "RT_PREMIUM",
            "rates-connect_fee": "0.50",
            "rates-g0_start": "0",
            "rates-g0_price": "1.50",
            "rates-g0_unit": "60s",
            "rates-g0_increment": "1s",
        },
        headers=HTMX,
    )
    # then
    assert response.status_code == 200
    assert 'id="sections"' in response.content.decode()
    assert "<html" not in response.content.decode()
    draft.refresh_from_db()
    rate = next(r for r in draft.content["rates"] if r["id"] == "RT_PREMIUM")
    assert rate["slots"] == [
        {
            "connect_fee": "0.50",
            "price": "1.50",
            "rate_unit": 60 * SECOND,
            "rate_increment": SECOND,
            "group_start": 0,
        }
    ]


def test_a_bad_row_shows_its_field_errors_and_saves_nothing(admin, client, draft):
    # given
    client.force_login(admin)
    before = dict(draft.content)
    # when
    response = client.post(
        reverse("tariffs:version-row-add", args=[draft.public_id, "rates"]),
        {
            "rates-id": "RT_X",
            "rates-g0_price": "abc",
            "rates-g0_unit": "1 fortnight",
            "rates-g0_increment": "1s",
        },
        headers=HTMX,
    )
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "not a number" in page
    assert "is not a quantity" in page
    draft.refresh_from_db()
    assert draft.content == before


def test_removing_a_row_still_used_says_what_uses_it(admin, client, draft):
    # given
    client.force_login(admin)
    # when
    response = client.post(
        reverse("tariffs:version-row-remove", args=[draft.public_id, "destinations"]),
        {"key": "GB_MOBILE"},
        headers=HTMX,
    )
    # then
    assert "is still used" in response.content.decode()
    draft.refresh_from_db()
    assert [d["id"] for d in draft.content["destinations"]] == ["GB_MOBILE", "GB_LANDLINE"]


def test_a_row_is_changed_on_its_own_page(admin, client, draft):
    # given
    client.force_login(admin)
    url = reverse("tariffs:version-row-change", args=[draft.public_id, "timings"]) + "?key=PEAK"
    # when
    page = client.get(url)
    response = client.post(url, {"id": "PEAK", "week_days": ["1", "2"], "start_time": "09:00"})
    # then
    assert 'value="08:00"' in page.content.decode()
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.content["timings"][0]["week_days"] == [1, 2]
    assert draft.content["timings"][0]["start_time"] == "09:00:00"


def test_publishing_needs_a_reason_and_then_the_version_is_read_only(admin, client, draft):
    # given
    client.force_login(admin)
    url = reverse("tariffs:version-publish", args=[draft.public_id])
    # when
    refused = client.post(url, {"reason": ""})
    published = client.post(url, {"reason": "Launch", "valid_from": "2026-03-01T00:00"})
    page = client.get(reverse("tariffs:version-detail", args=[draft.public_id]))
    # then
    assert refused.status_code == 200
    assert published.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "published"
    assert draft.valid_from.isoformat() == "2026-03-01T00:00:00+00:00"
    assert "never changes" in page.content.decode()
    assert "version-row-add" not in page.content.decode()
    assert "/add/" not in page.content.decode()


def test_an_export_imports_back_into_the_same_plan(admin, client, tariff, draft):
    # given
    client.force_login(admin)
    tariff_version_publish(version=draft, actor=admin, reason="Launch")
    exported = client.get(reverse("tariffs:version-export", args=[draft.public_id]))
    # when
    upload = io.BytesIO(exported.content)
    upload.name = "uk.zip"
    response = client.post(
        reverse("tariffs:tariff-import", args=[tariff.code]),
        {"reason": "Round trip", "archive": upload},
    )
    # then
    assert exported["Content-Type"] == "application/zip"
    assert "Rates.csv" in zipfile.ZipFile(io.BytesIO(exported.content)).namelist()
    assert response.status_code == 302
    imported = tariff.versions.get(number=2)
    assert imported.status == "draft"
    assert imported.content == draft.content
    assert imported.events.get().action == "imported"


def test_a_file_that_is_not_a_cgrates_zip_is_refused_whole(admin, client, tariff):
    # given
    client.force_login(admin)
    upload = io.BytesIO(b"not a zip")
    upload.name = "rates.zip"
    # when
    response = client.post(
        reverse("tariffs:tariff-import", args=[tariff.code]), {"reason": "Try", "archive": upload}
    )
    # then
    assert response.status_code == 200
    assert "not a zip file" in response.content.decode()
    assert tariff.versions.count() == 1


def _quote(client, **changes):
    data = {
        "tariff": "tariff:uk-sample",
        "category": "call",
        "subject": "",
        "destination": "447700900123",
        "answer_time": "2026-03-03T10:00",
        "usage": "95",
        "unit": "seconds",
        "cgrates_decimals": "",
        **changes,
    }
    return client.post(reverse("tariffs:quote"), data, headers=HTMX).content.decode()


def test_the_quote_shows_the_cost_and_the_trace(admin, client, draft):
    # given
    tariff_version_publish(version=draft, actor=admin, reason="Launch")
    client.force_login(admin)
    # when
    page = _quote(client, answer_time="2099-03-03T10:00")
    # then
    assert "0.2084 GBP" in page
    assert "RT_MOBILE" in page
    assert "0.10 per 60s, in steps of 1s" in page


def test_the_quote_of_an_unknown_destination_says_why_and_shows_no_cost(admin, client, draft):
    # given
    tariff_version_publish(version=draft, actor=admin, reason="Launch")
    client.force_login(admin)
    # when
    page = _quote(client, destination="33612345678", answer_time="2099-03-03T10:00")
    # then
    assert "no_rate_for_destination" in page
    assert "Cost:" not in page


def test_the_quote_before_any_version_says_there_is_no_tariff_in_force(admin, client, draft):
    # given
    client.force_login(admin)
    # when
    page = _quote(client)
    # then
    assert "no_tariff_in_force" in page
