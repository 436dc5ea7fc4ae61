"""Inventory back office pages: who may open and change what, and bad input on every form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from crm.tests.factories import PartnerFactory, UserFactory
from crm.validators import iccid_build
from orders.inventory.models import InventoryEvent, Msisdn, SimBatch, SimCard
from orders.tests.inventory_factories import MsisdnFactory, SimBatchFactory, SimCardFactory

ROLES = ["csr", "supervisor", "admin", "reseller_a", "subscriber", "anonymous"]
HTMX = {"HX-Request": "true"}


def sign_in_as(client, request, role):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))


def expected(role, allowed_status):
    if role == "admin":
        return allowed_status
    return 302 if role == "anonymous" else 403


def csv_upload(*lines):
    return SimpleUploadedFile("delivery.csv", ("\n".join(lines) + "\n").encode(), "text/csv")


def sim_line(serial):
    return f"{iccid_build(serial, issuer='60')},23460{serial:010d},{10000000 + serial}"


@pytest.fixture
def reserved(db):
    return MsisdnFactory(
        number="+447500900100",
        status="reserved",
        reserved_until=timezone.now() + timedelta(minutes=10),
        reservation_ref="ORD-7",
    )


@pytest.fixture
def quarantined(db):
    return MsisdnFactory(
        number="+447500900200",
        status="quarantined",
        quarantined_until=timezone.now() + timedelta(days=10),
    )


@pytest.fixture
def sim(db):
    return SimCardFactory(status="assigned")


@pytest.fixture
def stock_keeper(db):
    """May open the back office but not change stock."""
    user = UserFactory(email="viewer@example.com")
    user.user_permissions.add(Permission.objects.get(codename="access_backoffice"))
    return user


# --- who may open what -------------------------------------------------------------------------


PAGES = [
    ("inventory:home", None),
    ("inventory:msisdn-list", None),
    ("inventory:msisdn-detail", "reserved"),
    ("inventory:msisdn-range-import", None),
    ("inventory:sim-list", None),
    ("inventory:sim-detail", "sim"),
    ("inventory:sim-batch-list", None),
    ("inventory:sim-batch-import", None),
    ("inventory:sim-allocate", None),
    ("inventory:msisdn-allocate", None),
]


def _url(request, name, fixture):
    if fixture is None:
        return reverse(name)
    item = request.getfixturevalue(fixture)
    return reverse(name, args=[item.number if isinstance(item, Msisdn) else item.iccid])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "fixture"), PAGES)
def test_inventory_pages_open_only_for_back_office_admins(client, request, role, name, fixture):
    # given
    url = _url(request, name, fixture)
    sign_in_as(client, request, role)
    # when
    response = client.get(url)
    # then
    assert response.status_code == expected(role, 200)
    if role == "anonymous":
        assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(("name", "fixture"), PAGES)
def test_a_viewer_reads_but_cannot_open_the_pages_that_change_stock(
    client, request, stock_keeper, name, fixture
):
    # given
    url = _url(request, name, fixture)
    client.force_login(stock_keeper)
    writes = {
        "inventory:msisdn-range-import",
        "inventory:sim-batch-import",
        "inventory:sim-allocate",
        "inventory:msisdn-allocate",
    }
    # when
    response = client.get(url)
    # then
    assert response.status_code == (403 if name in writes else 200)
    if response.status_code == 200:
        assert b"Import numbers" not in response.content
        assert b'name="reason"' not in response.content


def test_an_unknown_number_or_sim_is_not_found(manager_client):
    # when / then
    assert (
        manager_client.get(reverse("inventory:msisdn-detail", args=["+447500999999"])).status_code
        == 404
    )
    assert manager_client.get(reverse("inventory:sim-detail", args=["894460"])).status_code == 404


# --- who may change what -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_only_inventory_managers_release_a_reservation(client, request, role, reserved):
    # given
    sign_in_as(client, request, role)
    url = reverse("inventory:msisdn-release", args=[reserved.number])
    # when
    response = client.post(url, {"reason": "Sale abandoned"})
    # then
    assert response.status_code == expected(role, 302)
    reserved.refresh_from_db()
    assert (reserved.status == "available") is (role == "admin")
    assert InventoryEvent.objects.filter(msisdn=reserved).exists() is (role == "admin")


@pytest.mark.parametrize("role", ROLES)
def test_only_inventory_managers_end_a_quarantine_early(client, request, role, quarantined):
    # given
    sign_in_as(client, request, role)
    url = reverse("inventory:msisdn-quarantine-end", args=[quarantined.number])
    # when
    response = client.post(url, {"reason": "Customer wants it back"})
    # then
    assert response.status_code == expected(role, 302)
    quarantined.refresh_from_db()
    assert (quarantined.status == "available") is (role == "admin")


@pytest.mark.parametrize("role", ROLES)
def test_only_inventory_managers_import_a_number_range(db, client, request, role):
    # given
    sign_in_as(client, request, role)
    data = {
        "first": "07500 000000",
        "last": "07500 000009",
        "category": "standard",
        "currency": "GBP",
    }
    # when
    response = client.post(reverse("inventory:msisdn-range-import"), data)
    # then
    assert response.status_code == expected(role, 302)
    assert Msisdn.objects.count() == (10 if role == "admin" else 0)


@pytest.mark.parametrize("role", ROLES)
def test_only_inventory_managers_import_a_sim_batch(db, client, request, role):
    # given
    sign_in_as(client, request, role)
    data = {"name": "Delivery 1", "file": csv_upload("iccid,imsi,puk", sim_line(1), sim_line(2))}
    # when
    response = client.post(reverse("inventory:sim-batch-import"), data)
    # then
    assert response.status_code == expected(role, 302)
    assert SimCard.objects.count() == (2 if role == "admin" else 0)


@pytest.mark.parametrize("role", ROLES)
def test_only_inventory_managers_allocate_sims(client, request, role, partner_b):
    # given
    SimCardFactory.create_batch(3)
    sign_in_as(client, request, role)
    # when
    response = client.post(reverse("inventory:sim-allocate"), {"partner": "bravo", "count": 2})
    # then
    assert response.status_code == expected(role, 302)
    allocated = SimCard.objects.filter(partner=partner_b, status="allocated").count()
    assert allocated == (2 if role == "admin" else 0)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("url_name", "status", "target"),
    [
        ("inventory:sim-block", "assigned", "blocked"),
        ("inventory:sim-damaged", "in_stock", "damaged"),
        ("inventory:sim-return", "allocated", "in_stock"),
        ("inventory:sim-release", "reserved", "in_stock"),
    ],
)
def test_only_inventory_managers_change_a_sim(db, client, request, role, url_name, status, target):
    # given
    sim = SimCardFactory(status=status, reservation_ref="ORD-1" if status == "reserved" else "")
    sign_in_as(client, request, role)
    # when
    response = client.post(reverse(url_name, args=[sim.iccid]), {"reason": "Reported by shop"})
    # then
    assert response.status_code == expected(role, 302)
    sim.refresh_from_db()
    assert sim.status == (target if role == "admin" else status)
    assert InventoryEvent.objects.filter(sim=sim).exists() is (role == "admin")


def test_a_viewer_cannot_change_stock(client, stock_keeper, reserved, sim):
    # given
    client.force_login(stock_keeper)
    # when
    release = client.post(
        reverse("inventory:msisdn-release", args=[reserved.number]), {"reason": "x"}
    )
    block = client.post(reverse("inventory:sim-block", args=[sim.iccid]), {"reason": "Stolen"})
    # then
    assert (release.status_code, block.status_code) == (403, 403)
    reserved.refresh_from_db()
    sim.refresh_from_db()
    assert (reserved.status, sim.status) == ("reserved", "assigned")


# --- pages show real data; changes land where a user looks --------------------------------------


def test_home_shows_counts_by_status(manager_client):
    # given
    MsisdnFactory.create_batch(3)
    MsisdnFactory(status="assigned")
    SimCardFactory.create_batch(2)
    # when
    response = manager_client.get(reverse("inventory:home"))
    # then
    counts = response.context["counts"]
    assert {r.value: r.count for r in counts.numbers_by_status.rows}["available"] == 3
    assert counts.sims_by_status.total == 2
    assert b"?status=available&amp;category=golden" in response.content


def test_number_list_filters_and_pages(manager_client):
    # given
    for n in range(60):
        MsisdnFactory(number=f"+4475009{n:05d}")
    MsisdnFactory(number="+447777777777", category="golden")
    # when
    first_page = manager_client.get(reverse("inventory:msisdn-list"), {"status": "available"})
    second_page = manager_client.get(
        reverse("inventory:msisdn-list"), {"status": "available", "page": 2}
    )
    golden = manager_client.get(
        reverse("inventory:msisdn-list"), {"pattern": "7777", "category": "golden"}, headers=HTMX
    )
    # then
    assert first_page.context["page"].paginator.count == 61
    assert len(first_page.context["page"].object_list) == 50
    assert b"status=available&amp;page=2" in first_page.content
    assert len(second_page.context["page"].object_list) == 11
    assert [m.number for m in golden.context["page"]] == ["+447777777777"]
    assert b"<html" not in golden.content  # the htmx partial only


def test_releasing_a_reservation_redirects_to_the_number_with_its_history(manager_client, reserved):
    # when
    response = manager_client.post(
        reverse("inventory:msisdn-release", args=[reserved.number]),
        {"reason": "Sale abandoned"},
        follow=True,
    )
    # then
    assert response.redirect_chain[-1][0] == reverse(
        "inventory:msisdn-detail", args=[reserved.number]
    )
    page = response.content.decode()
    assert "+44 7500 900100 is available again." in page
    assert "Sale abandoned" in page


def test_importing_a_sim_batch_lands_on_its_sims(manager_client):
    # when
    response = manager_client.post(
        reverse("inventory:sim-batch-import"),
        {"name": "Delivery 9", "file": csv_upload("iccid,imsi,puk", sim_line(1))},
        follow=True,
    )
    # then
    batch = SimBatch.objects.get()
    assert (
        response.redirect_chain[-1][0] == f"{reverse('inventory:sim-list')}?batch={batch.public_id}"
    )
    assert "Batch “Delivery 9” imported: 1 SIMs in stock." in response.content.decode()
    assert [s.iccid for s in response.context["page"]] == [iccid_build(1, issuer="60")]


def test_sim_batches_show_what_is_left_in_stock(manager_client, admin):
    # given
    batch = SimBatchFactory(name="Delivery 3", card_count=3, imported_by=admin)
    SimCardFactory.create_batch(2, batch=batch)
    SimCardFactory(batch=batch, status="allocated", partner=PartnerFactory())
    # when
    response = manager_client.get(reverse("inventory:sim-batch-list"))
    # then
    row = response.context["page"].object_list[0]
    assert (row.name, row.in_stock, row.allocated) == ("Delivery 3", 2, 1)


# --- bad input on every form -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "first", "This field is required."),
        ({"first": "07500 12", "last": "07500 000009"}, "first", "is not a valid phone number."),
        ({"first": "07500 000009", "last": "07500 000000"}, "last", "comes before the first."),
        (
            {"first": "07500 000000", "last": "07500 000001", "category": "golden"},
            "price",
            "carries a price",
        ),
        (
            {"first": "07500 000000", "last": "07500 000001", "price": "-1"},
            "price",
            "greater than or equal to 0",
        ),
        (
            {"first": "07500 000000", "last": "07500 000001", "price": "abc"},
            "price",
            "Enter a number.",
        ),
        (
            {"first": "07500 000000", "last": "07500 000001", "currency": "XYZ"},
            "currency",
            "valid choice",
        ),
    ],
)
def test_range_import_form_explains_bad_input(manager_client, data, field, message):
    # given
    data = {"category": "standard", "currency": "GBP", "last": "", **data}
    # when
    response = manager_client.post(reverse("inventory:msisdn-range-import"), data)
    # then
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert "Nothing was saved." in response.content.decode()
    assert Msisdn.objects.count() == 0


def test_range_import_form_shows_a_range_problem_above_the_form(manager_client, settings):
    # given
    settings.MSISDN_RANGE_MAX = 200_000
    data = {
        "first": "+447457599999",
        "last": "+447457700000",
        "category": "standard",
        "currency": "GBP",
    }
    # when
    response = manager_client.post(reverse("inventory:msisdn-range-import"), data)
    # then
    errors = response.context["form"].non_field_errors()
    assert errors[0].startswith("100,000 numbers in this range are not a mobile number of GB")
    assert Msisdn.objects.count() == 0


@pytest.mark.parametrize(
    ("url_name", "fixture", "reason", "message"),
    [
        ("inventory:msisdn-release", "reserved", "", "This field is required."),
        ("inventory:msisdn-release", "quarantined", "Oops", "is quarantined, not reserved."),
        ("inventory:msisdn-quarantine-end", "reserved", "Oops", "is reserved, not quarantined."),
        ("inventory:sim-block", "sim", "x" * 201, "at most 200 characters"),
        ("inventory:sim-return", "sim", "Back", "is assigned, not allocated."),
        ("inventory:sim-release", "sim", "Back", "is assigned, not reserved."),
    ],
)
def test_a_refused_change_shows_why_and_changes_nothing(
    manager_client, request, url_name, fixture, reason, message
):
    # given
    item = request.getfixturevalue(fixture)
    key = item.number if isinstance(item, Msisdn) else item.iccid
    status = item.status
    # when
    response = manager_client.post(reverse(url_name, args=[key]), {"reason": reason})
    # then
    assert response.status_code == 200
    assert message in response.content.decode()
    item.refresh_from_db()
    assert item.status == status
    assert not InventoryEvent.objects.exists()


def test_an_action_that_does_not_apply_to_the_status_is_not_offered(manager_client, reserved, sim):
    # when
    number_page = manager_client.get(reverse("inventory:msisdn-detail", args=[reserved.number]))
    sim_page = manager_client.get(reverse("inventory:sim-detail", args=[sim.iccid]))
    # then
    assert [a.key for a, _, _ in number_page.context["actions"]] == ["release"]
    assert [a.key for a, _, _ in sim_page.context["actions"]] == ["block", "damaged"]


def test_batch_import_lists_every_bad_line_and_writes_nothing(manager_client):
    # given: line 3 has a wrong check digit, line 5 repeats line 2
    good = iccid_build(3, issuer="60")
    wrong = good[:-1] + str((int(good[-1]) + 1) % 10)
    file = csv_upload(
        "iccid,imsi,puk",
        sim_line(2),
        f"{wrong},234600000000003,12345678",
        sim_line(4),
        sim_line(2).replace("234600000000002", "234600000000005"),
    )
    # when
    response = manager_client.post(
        reverse("inventory:sim-batch-import"), {"name": "Delivery", "file": file}
    )
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported: 2 lines are not valid." in page
    assert "Line 3: ICCID: The ICCID&#x27;s check digit is wrong" in page
    assert f"Line 5: ICCID {iccid_build(2, issuer='60')} repeats line 2." in page
    assert SimBatch.objects.count() == SimCard.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "Delivery"}, "file", "This field is required."),
        ({"file": "x"}, "name", "This field is required."),
    ],
)
def test_batch_import_form_needs_a_name_and_a_file(manager_client, data, field, message):
    # given
    if data.get("file"):
        data["file"] = csv_upload("iccid,imsi,puk", sim_line(1))
    # when
    response = manager_client.post(reverse("inventory:sim-batch-import"), data)
    # then
    assert response.context["form"].errors[field] == [message]
    assert SimCard.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"count": ""}, None, "Give a number of SIMs or list their ICCIDs."),
        ({"count": "2", "iccids": "x"}, "iccids", "x: An ICCID has only digits."),
        ({"count": "2", "iccids": "SIMS"}, "iccids", "SIMS: An ICCID has only digits."),
        ({"count": "0"}, "count", "Ensure this value is greater than or equal to 1."),
        ({"count": "9"}, "count", "Only 3 SIMs are in stock; 9 were asked for."),
        ({"partner": "nobody", "count": "1"}, "partner", "Select a valid choice."),
        ({"partner": "gone", "count": "1"}, "partner", "Select a valid choice."),
        ({"iccids": "ICCIDS_UNKNOWN"}, "iccids", "is not in stock."),
    ],
)
def test_allocate_form_explains_bad_input(manager_client, partner_b, data, field, message):
    # given
    PartnerFactory(code="gone", status="suspended")
    SimCardFactory.create_batch(3)
    data = {"partner": "bravo", **data}
    if data.get("iccids") == "ICCIDS_UNKNOWN":
        data["iccids"] = iccid_build(99_999, issuer="60")
    if data.get("iccids") == "SIMS":
        data["iccids"] = "SIMS"
    # when
    response = manager_client.post(reverse("inventory:sim-allocate"), data)
    # then
    assert response.status_code == 200
    errors = response.context["form"].errors.get(field or "__all__", [])
    assert any(message in error for error in errors), errors
    assert SimCard.objects.filter(status="allocated").count() == 0


def test_allocate_by_list_of_iccids(manager_client, partner_b):
    # given
    sims = SimCardFactory.create_batch(3)
    # when
    response = manager_client.post(
        reverse("inventory:sim-allocate"),
        {"partner": "bravo", "iccids": f"{sims[0].iccid}\n{sims[2].iccid}, "},
    )
    # then
    assert response.status_code == 302
    on_shelf = SimCard.objects.filter(partner=partner_b).values_list("iccid", flat=True)
    assert sorted(on_shelf) == sorted([sims[0].iccid, sims[2].iccid])


@pytest.mark.parametrize(
    ("url_name", "query", "field"),
    [
        ("inventory:msisdn-list", {"pattern": "77a"}, "pattern"),
        ("inventory:msisdn-list", {"status": "lost"}, "status"),
        ("inventory:sim-list", {"text": "89x"}, "text"),
        ("inventory:sim-list", {"batch": "not-a-uuid"}, "batch"),
    ],
)
def test_list_filters_explain_bad_input(manager_client, url_name, query, field):
    # given
    MsisdnFactory()
    SimCardFactory()
    # when
    response = manager_client.get(reverse(url_name), query)
    # then
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert list(response.context["page"].object_list) == []
    assert "Correct the filter" in response.content.decode()


# --- numbers on a partner's shelf --------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_only_inventory_managers_allocate_numbers(client, request, role, partner_b):
    # given
    MsisdnFactory.create_batch(3)
    sign_in_as(client, request, role)
    # when
    response = client.post(
        reverse("inventory:msisdn-allocate"),
        {"partner": "bravo", "count": 2, "category": "standard"},
    )
    # then
    assert response.status_code == expected(role, 302)
    allocated = Msisdn.objects.filter(partner=partner_b, status="allocated").count()
    assert allocated == (2 if role == "admin" else 0)
    if role == "admin":
        assert response["Location"] == (
            f"{reverse('inventory:msisdn-list')}?status=allocated&partner=bravo"
        )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"partner": "nobody", "count": "1"}, "partner", "Select a valid choice."),
        ({}, None, "Give how many numbers, or list them."),
        ({"count": "2", "numbers": "07500 000001"}, None, "not both"),
        ({"numbers": "07500 999999"}, "numbers", "is not in the number pool."),
        ({"count": "9", "category": "golden"}, "count", "Only 0 golden numbers are free"),
    ],
)
def test_number_allocation_explains_bad_input_and_allocates_nothing(
    manager_client, partner_b, data, field, message
):
    # given
    MsisdnFactory.create_batch(2)
    # when
    response = manager_client.post(
        reverse("inventory:msisdn-allocate"), {"partner": "bravo", "category": "standard", **data}
    )
    # then
    assert response.status_code == 200
    errors = response.context["form"].errors.get(field or "__all__", [])
    assert any(message in error for error in errors), errors
    assert not Msisdn.objects.filter(status="allocated").exists()


def test_an_allocated_number_is_listed_with_its_partner_and_can_be_taken_back(
    manager_client, admin, partner_b
):
    # given
    number = MsisdnFactory(number="+447500900300", status="allocated", partner=partner_b)
    MsisdnFactory(number="+447500900301")
    # when the list is filtered by the partner
    listing = manager_client.get(reverse("inventory:msisdn-list"), {"partner": "bravo"})
    # then
    assert [m.number for m in listing.context["page"].object_list] == ["+447500900300"]
    assert "Bravo Mobile" in listing.content.decode()
    # when it is taken back
    response = manager_client.post(
        reverse("inventory:msisdn-return", args=[number.number]), {"reason": "Shop closed"}
    )
    # then
    assert response.status_code == 302
    number.refresh_from_db()
    assert (number.status, number.partner) == ("available", None)
    event = InventoryEvent.objects.get(msisdn=number)
    assert (event.old_status, event.new_status, event.actor, event.reason) == (
        "allocated",
        "available",
        admin,
        "Shop closed",
    )
