"""Back-office catalog pages: who may open and change them, and what a bad input shows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from common.models import AuditEvent
from crm.tests.factories import UserFactory
from orders.catalog.models import AddOn, Allowance, ChargingTier, Device, PricePlan
from orders.inventory.models import DeviceItem
from orders.tests.factories import (
    AddOnFactory,
    AllowanceFactory,
    DeviceFactory,
    DeviceItemFactory,
    PricePlanFactory,
)

ROLES = ["csr", "supervisor", "admin", "reseller_a", "subscriber", "anonymous"]


def sign_in_as(client, request, role):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))


def expected(role, allowed):
    if role == "admin":
        return allowed
    return 302 if role == "anonymous" else 403


@pytest.fixture
def catalog(db):
    """A draft and a published plan, an add-on and a device with one unit."""
    device = DeviceFactory(sku="RTR-5G-200", name="HomeHub 5G router")
    DeviceItemFactory(device=device, serial="HH5G-0001")
    return {
        "draft": PricePlanFactory(code="draft-plan", name="Draft plan", status="draft"),
        "published": PricePlanFactory(code="sim-only-30gb", name="SIM only 30GB"),
        "addon": AddOnFactory(code="boost-1gb", name="Booster 1GB"),
        "device": device,
    }


def url(name, catalog, key=None):
    return reverse(name, args=[catalog[key].public_id]) if key else reverse(name)


def formset(prefix, rows, initial=0):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{field}": value for field, value in row.items()})
    return data


def plan_data(**changes):
    return {
        "name": "SIM only 30GB",
        "payment_type": "postpaid",
        "currency": "GBP",
        "recurring_fee_amount": "18.00",
        "recurring_period": "month",
        "activation_fee_amount": "",
        "proration": "daily",
        "tariff": "",
        "valid_from": "",
        "valid_to": "",
        **changes,
    }


def addon_data(**changes):
    return {
        "name": "EU Roaming 5GB",
        "kind": "roaming_pack",
        "price_amount": "12",
        "currency": "GBP",
        "validity_days": "30",
        "zone": "EU",
        **changes,
    }


def device_data(**changes):
    return {
        "name": "HomeHub 4G router",
        "kind": "router",
        "price_amount": "49",
        "currency": "GBP",
        **changes,
    }


# --- role matrix: pages -------------------------------------------------------------------------

PAGES = [
    ("catalog:home", None),
    ("catalog:plan-create", None),
    ("catalog:plan-detail", "draft"),
    ("catalog:plan-detail", "published"),
    ("catalog:plan-edit", "draft"),
    ("catalog:plan-new-version", "published"),
    ("catalog:plan-publish", "draft"),
    ("catalog:plan-retire", "published"),
    ("catalog:addon-create", None),
    ("catalog:addon-detail", "addon"),
    ("catalog:addon-edit", "addon"),
    ("catalog:addon-retire", "addon"),
    ("catalog:device-create", None),
    ("catalog:device-detail", "device"),
    ("catalog:device-edit", "device"),
    ("catalog:device-stock", "device"),
    ("catalog:device-retire", "device"),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "key"), PAGES, ids=[f"{n}-{k}" for n, k in PAGES])
def test_catalog_pages_open_only_for_back_office_admins(client, request, catalog, role, name, key):
    # given
    sign_in_as(client, request, role)
    # when
    response = client.get(url(name, catalog, key))
    # then
    assert response.status_code == expected(role, 200)
    if role == "anonymous":
        assert response["Location"].startswith("/accounts/login/?next=")


# --- role matrix: changes -----------------------------------------------------------------------


WRITES = {
    "plan-create": (
        "catalog:plan-create",
        None,
        lambda c: plan_data(code="new-plan"),
        lambda c: PricePlan.objects.filter(code="new-plan").exists(),
    ),
    "plan-edit": (
        "catalog:plan-edit",
        "draft",
        lambda c: plan_data(name="Renamed"),
        lambda c: PricePlan.objects.get(pk=c["draft"].pk).name == "Renamed",
    ),
    "plan-allowances": (
        "catalog:plan-allowances",
        "draft",
        lambda c: formset("allowances", [{"service": "sms", "quantity": "100", "scope": "all"}]),
        lambda c: c["draft"].allowances.exists(),
    ),
    "plan-tiers": (
        "catalog:plan-tiers",
        "draft",
        lambda c: formset(
            "tiers", [{"service": "sms", "from_quantity": "0", "unit_price_amount": "0.10"}]
        ),
        lambda c: c["draft"].tiers.exists(),
    ),
    "plan-new-version": (
        "catalog:plan-new-version",
        "published",
        lambda c: {},
        lambda c: PricePlan.objects.filter(code="sim-only-30gb", version=2).exists(),
    ),
    "plan-publish": (
        "catalog:plan-publish",
        "draft",
        lambda c: {},
        lambda c: PricePlan.objects.get(pk=c["draft"].pk).status == "published",
    ),
    "plan-retire": (
        "catalog:plan-retire",
        "published",
        lambda c: {},
        lambda c: PricePlan.objects.get(pk=c["published"].pk).status == "retired",
    ),
    "addon-create": (
        "catalog:addon-create",
        None,
        lambda c: addon_data(code="eu-roam-5gb"),
        lambda c: AddOn.objects.filter(code="eu-roam-5gb").exists(),
    ),
    "addon-edit": (
        "catalog:addon-edit",
        "addon",
        lambda c: addon_data(name="Renamed", kind="data_booster", zone=""),
        lambda c: AddOn.objects.get(pk=c["addon"].pk).name == "Renamed",
    ),
    "addon-allowances": (
        "catalog:addon-allowances",
        "addon",
        lambda c: formset("allowances", [{"service": "data", "quantity": "1024", "scope": "all"}]),
        lambda c: c["addon"].allowances.exists(),
    ),
    "addon-retire": (
        "catalog:addon-retire",
        "addon",
        lambda c: {},
        lambda c: AddOn.objects.get(pk=c["addon"].pk).status == "retired",
    ),
    "device-create": (
        "catalog:device-create",
        None,
        lambda c: device_data(sku="RTR-4G-100"),
        lambda c: Device.objects.filter(sku="RTR-4G-100").exists(),
    ),
    "device-edit": (
        "catalog:device-edit",
        "device",
        lambda c: device_data(name="Renamed"),
        lambda c: Device.objects.get(pk=c["device"].pk).name == "Renamed",
    ),
    "device-stock": (
        "catalog:device-stock",
        "device",
        lambda c: {"serials": "HH5G-0002\nHH5G-0003\n"},
        lambda c: DeviceItem.objects.filter(serial="HH5G-0003").exists(),
    ),
    "device-retire": (
        "catalog:device-retire",
        "device",
        lambda c: {},
        lambda c: Device.objects.get(pk=c["device"].pk).status == "retired",
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("write", list(WRITES))
def test_only_catalog_managers_change_the_catalog(client, request, catalog, role, write):
    # given
    name, key, data, changed = WRITES[write]
    sign_in_as(client, request, role)
    assert not changed(catalog)
    # when
    response = client.post(url(name, catalog, key), data(catalog))
    # then
    assert response.status_code == expected(role, 302)
    assert changed(catalog) is (role == "admin")
    # each change is audited by whoever made it (stock has its own InventoryEvents)
    audited = AuditEvent.objects.filter(actor__email="admin@example.com")
    assert audited.exists() is (role == "admin" and write != "device-stock")
    assert AuditEvent.objects.exclude(actor__email="admin@example.com").count() == 0


@pytest.fixture
def viewer(db):
    """Opens the back office but may not manage the catalog."""
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="access_backoffice"))
    return user


def test_back_office_user_without_catalog_permission_reads_but_cannot_change(
    client, viewer, catalog
):
    # given
    client.force_login(viewer)
    # when
    home = client.get(reverse("catalog:home"))
    detail = client.get(url("catalog:plan-detail", catalog, "published"))
    draft = client.get(url("catalog:plan-detail", catalog, "draft"))
    create = client.get(reverse("catalog:plan-create"))
    retire = client.post(url("catalog:plan-retire", catalog, "published"))
    stock = client.post(url("catalog:device-stock", catalog, "device"), {"serials": "SN-1"})
    # then
    assert (home.status_code, detail.status_code) == (200, 200)
    assert draft.status_code == 404
    assert (create.status_code, retire.status_code, stock.status_code) == (403, 403, 403)
    assert "New plan" not in home.content.decode()
    assert "Retire…" not in detail.content.decode()
    assert 'id="changes"' not in detail.content.decode()  # no audit log permission
    catalog["published"].refresh_from_db()
    assert catalog["published"].status == "published"
    assert not DeviceItem.objects.filter(serial="SN-1").exists()


# --- what the pages show ------------------------------------------------------------------------


def test_catalog_home_lists_plans_by_code_with_versions_add_ons_and_devices(admin_client, catalog):
    # given
    PricePlanFactory(code="sim-only-30gb", version=2, status="draft", name="SIM only 30GB")
    # when
    page = admin_client.get(reverse("catalog:home")).content.decode()
    # then
    assert "SIM only 30GB" in page
    assert page.count("<code>sim-only-30gb</code>") == 1  # one entry, both versions in it
    assert "Version 2" in page
    assert "Version 1" in page
    assert "£18.00" in page
    assert "Booster 1GB" in page
    assert "£5.00" in page
    assert "HomeHub 5G router" in page
    assert "RTR-5G-200" in page


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def test_plan_detail_shows_terms_allowances_and_tiers(admin_client, catalog):
    # given
    plan = catalog["published"]
    plan.activation_fee_amount = Decimal("10")
    plan.save()
    AllowanceFactory(plan=plan, service="voice", quantity=Decimal("3000"), scope="on_net")
    ChargingTier.objects.create(
        plan=plan, service="sms", from_quantity=0, to_quantity=100, unit_price_amount="0.1"
    )
    # when
    page = admin_client.get(url("catalog:plan-detail", catalog, "published")).content.decode()
    # then
    assert "£18.00" in page
    assert "£10.00" in page
    assert "£28.00" in page  # up front: activation and the first period
    assert "3,000" in page
    assert "On-net" in page
    assert "£0.10" in page
    assert "New version…" in page
    assert "Retire…" in page
    assert "Save allowances" not in page  # a published version is not edited


def test_plan_create_page_makes_a_draft_and_opens_it(admin_client, db):
    # when
    response = admin_client.post(reverse("catalog:plan-create"), plan_data(code="new-plan"))
    # then
    plan = PricePlan.objects.get(code="new-plan")
    assert response["Location"] == reverse("catalog:plan-detail", args=[plan.public_id])
    page = admin_client.get(response["Location"]).content.decode()
    assert "was created as draft version 1" in page
    assert "Save allowances" in page
    assert "Save charging tiers" in page


def test_publishing_from_the_page_retires_the_version_on_sale(admin_client, catalog):
    # given
    published = catalog["published"]
    admin_client.post(url("catalog:plan-new-version", catalog, "published"))
    draft = PricePlan.objects.get(code="sim-only-30gb", version=2)
    confirm = admin_client.get(reverse("catalog:plan-publish", args=[draft.public_id]))
    # when
    response = admin_client.post(reverse("catalog:plan-publish", args=[draft.public_id]))
    # then
    assert "Version 1 is retired at the same moment" in confirm.content.decode()
    assert response.status_code == 302
    published.refresh_from_db()
    draft.refresh_from_db()
    assert (published.status, draft.status) == ("retired", "published")


def test_plan_page_shows_the_changes_of_every_version_with_who_made_them(admin_client, catalog):
    # given: version 2 made and published from the pages, which retires version 1
    admin_client.post(url("catalog:plan-new-version", catalog, "published"))
    draft = PricePlan.objects.get(code="sim-only-30gb", version=2)
    admin_client.post(
        reverse("catalog:plan-edit", args=[draft.public_id]), plan_data(recurring_fee_amount="20")
    )
    admin_client.post(reverse("catalog:plan-publish", args=[draft.public_id]))
    # when
    response = admin_client.get(reverse("catalog:plan-detail", args=[draft.public_id]))
    # then
    assert [(e.object_repr, e.action) for e in response.context["audit_trail"]] == [
        ("SIM only 30GB v2", "published"),
        ("SIM only 30GB v1", "retired"),
        ("SIM only 30GB v2", "updated"),
        ("SIM only 30GB v2", "new version"),
    ]
    page = response.content.decode()
    assert "Changes to every version of sim-only-30gb" in page
    assert "recurring fee amount:</span> 18 → 20" in page
    assert "status:</span> published → retired" in page
    assert "Replaced by version 2." in page
    assert "admin@example.com" in page


def test_addon_and_device_pages_show_their_changes(admin_client, catalog):
    # given
    admin_client.post(
        url("catalog:addon-edit", catalog, "addon"),
        addon_data(name="Booster 2GB", kind="data_booster", zone="", price_amount="5"),
    )
    admin_client.post(url("catalog:device-retire", catalog, "device"))
    # when
    addon_page = admin_client.get(url("catalog:addon-detail", catalog, "addon"))
    device_page = admin_client.get(url("catalog:device-detail", catalog, "device"))
    # then
    assert "name:</span> Booster 1GB → Booster 2GB" in addon_page.content.decode()
    assert "status:</span> active → retired" in device_page.content.decode()
    assert [e.action for e in device_page.context["audit_trail"]] == ["retired"]


def test_item_pages_without_changes_say_so(admin_client, catalog):
    # when
    page = admin_client.get(url("catalog:addon-detail", catalog, "addon")).content.decode()
    # then
    assert 'id="changes"' in page
    assert "No changes recorded yet." in page


def test_new_version_page_opens_the_new_draft(admin_client, catalog):
    # when
    response = admin_client.post(url("catalog:plan-new-version", catalog, "published"))
    # then
    draft = PricePlan.objects.get(code="sim-only-30gb", version=2)
    assert response["Location"] == reverse("catalog:plan-detail", args=[draft.public_id])


def test_a_refused_transition_returns_to_the_plan_with_the_reason(admin_client, catalog):
    # when
    response = admin_client.post(url("catalog:plan-publish", catalog, "published"), follow=True)
    # then
    assert "Version 1 of SIM only 30GB is published; it cannot become published." in (
        response.content.decode()
    )
    catalog["published"].refresh_from_db()
    assert catalog["published"].status == "published"


def test_confirmation_of_an_impossible_change_offers_no_button(admin_client, catalog):
    # given
    catalog["addon"].status = "retired"
    catalog["addon"].save()
    # when
    page = admin_client.get(url("catalog:addon-retire", catalog, "addon")).content.decode()
    # then
    assert "Booster 1GB is already retired." in page
    assert 'class="danger">Retire</button>' not in page


def test_device_stock_page_books_pasted_serials(admin_client, catalog):
    # when
    response = admin_client.post(
        url("catalog:device-stock", catalog, "device"),
        {"serials": "hh5g-0002\r\n\r\nHH5G-0003\r\n"},
        follow=True,
    )
    # then
    assert "2 units of HomeHub 5G router in stock." in response.content.decode()
    assert sorted(catalog["device"].items.values_list("serial", flat=True)) == [
        "HH5G-0001",
        "HH5G-0002",
        "HH5G-0003",
    ]


# --- bad input on every form --------------------------------------------------------------------


def errors_of(response, form="form"):
    assert response.status_code == 200
    return {name: list(messages) for name, messages in response.context[form].errors.items()}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"recurring_fee_amount": ""},
            "recurring_fee_amount",
            "A plan needs a price: give its recurring fee (0 for no fee).",
        ),
        (
            {"recurring_fee_amount": "-5"},
            "recurring_fee_amount",
            "The recurring fee cannot be negative.",
        ),
        ({"recurring_fee_amount": "ten"}, "recurring_fee_amount", "Enter a number."),
        (
            {"currency": "JPY"},
            "currency",
            "Select a valid choice. JPY is not one of the available choices.",
        ),
        (
            {"valid_from": "2026-03-01", "valid_to": "2026-02-01"},
            "valid_to",
            "The plan cannot stop being sold (01 Feb 2026) before it starts (01 Mar 2026).",
        ),
        (
            {"valid_from": "31/02/2026"},
            "valid_from",
            "Enter a real date as YYYY-MM-DD, for example 2026-01-31.",
        ),
        ({"code": "sim-only-30gb"}, "code", None),
        (
            {"code": "New Plan"},
            "code",
            "Use lower-case letters, digits and single hyphens, e.g. sim-only-30gb.",
        ),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_plan_create_form_explains_bad_input(admin_client, catalog, changes, field, message):
    # when
    response = admin_client.post(
        reverse("catalog:plan-create"), plan_data(**{"code": "new-plan", **changes})
    )
    # then
    errors = errors_of(response)
    assert field in errors
    if message:
        assert errors[field] == [message]
    assert message is None or message in response.content.decode().replace("&#x27;", "'")
    assert PricePlan.objects.count() == 2


def test_plan_edit_form_explains_bad_input(admin_client, catalog):
    # when
    response = admin_client.post(
        url("catalog:plan-edit", catalog, "draft"),
        plan_data(activation_fee_amount="-1", eligible_channels=["fax"]),
    )
    # then
    assert errors_of(response) == {
        "eligible_channels": ["Select a valid choice. fax is not one of the available choices."]
    }
    response = admin_client.post(
        url("catalog:plan-edit", catalog, "draft"), plan_data(activation_fee_amount="-1")
    )
    assert errors_of(response) == {
        "activation_fee_amount": ["The activation fee cannot be negative."]
    }
    catalog["draft"].refresh_from_db()
    assert catalog["draft"].activation_fee_amount == Decimal("0")


def test_plan_edit_of_a_published_version_is_refused(admin_client, catalog):
    # when
    page = admin_client.get(url("catalog:plan-edit", catalog, "published"), follow=True)
    response = admin_client.post(
        url("catalog:plan-edit", catalog, "published"), plan_data(name="Renamed")
    )
    # then
    assert "only drafts are edited" in page.content.decode()
    assert errors_of(response) == {
        "__all__": [
            "Version 1 of SIM only 30GB is published; plans are edited only on a draft. "
            "Make a new version to change it."
        ]
    }
    catalog["published"].refresh_from_db()
    assert catalog["published"].name == "SIM only 30GB"


def test_plan_allowances_form_marks_the_bad_rows(admin_client, catalog):
    # given
    AllowanceFactory(plan=catalog["draft"], service="sms", quantity=Decimal("100"))
    rows = [
        {"service": "voice", "quantity": "0", "scope": "all"},
        {"service": "data", "quantity": "1024", "scope": "on_net"},
        {"service": "sms", "quantity": "lots", "scope": "all"},
        {"service": "", "quantity": "", "scope": "all"},
    ]
    # when
    response = admin_client.post(
        url("catalog:plan-allowances", catalog, "draft"), formset("allowances", rows)
    )
    # then
    forms = response.context["allowance_formset"].forms
    assert forms[2].errors == {"quantity": ["Enter a number."]}
    response = admin_client.post(
        url("catalog:plan-allowances", catalog, "draft"), formset("allowances", rows[:2])
    )
    forms = response.context["allowance_formset"].forms
    assert forms[0].errors == {"quantity": ["The quantity must be more than 0."]}
    assert forms[1].errors == {"scope": ["On-net and off-net apply to voice and SMS, not data."]}
    assert "The allowances were not saved." in response.content.decode()
    assert list(Allowance.objects.values_list("service", flat=True)) == ["sms"]


def test_plan_tiers_form_names_the_overlapping_tiers(admin_client, catalog):
    # given
    rows = [
        {"service": "sms", "from_quantity": "0", "to_quantity": "100", "unit_price_amount": "0.1"},
        {"service": "sms", "from_quantity": "50", "to_quantity": "", "unit_price_amount": "0.05"},
        {"service": "", "from_quantity": "", "to_quantity": "", "unit_price_amount": ""},
    ]
    # when
    response = admin_client.post(
        url("catalog:plan-tiers", catalog, "draft"), formset("tiers", rows)
    )
    # then
    message = "SMS tiers 1 (0 to 100) and 2 (50 to no limit) overlap."
    assert response.context["tier_errors"] == [message]
    forms = response.context["tier_formset"].forms
    assert forms[0].errors == {"to_quantity": [message]}
    assert forms[1].errors == {"from_quantity": [message]}
    assert message in response.content.decode()
    assert not ChargingTier.objects.exists()


def test_plan_tiers_form_refuses_a_tier_without_price(admin_client, catalog):
    # when
    response = admin_client.post(
        url("catalog:plan-tiers", catalog, "draft"),
        formset("tiers", [{"service": "sms", "from_quantity": "0", "unit_price_amount": ""}]),
    )
    # then
    assert response.context["tier_formset"].forms[0].errors == {
        "unit_price_amount": ["This field is required."]
    }
    assert not ChargingTier.objects.exists()


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"zone": ""},
            {"zone": ["A roaming pack names its zone or country, e.g. EU or US."]},
        ),
        ({"price_amount": "-1"}, {"price_amount": ["The price cannot be negative."]}),
        ({"price_amount": ""}, {"price_amount": ["An add-on needs a price."]}),
        (
            {"validity_days": "0"},
            {"validity_days": ["An add-on lasts between 1 and 365 days."]},
        ),
        (
            {"conflicts_with": ["no-such-pack"]},
            {
                "conflicts_with": [
                    "Select a valid choice. no-such-pack is not one of the available choices."
                ]
            },
        ),
        (
            {"code": "boost-1gb"},
            {"code": ["An add-on with the code 'boost-1gb' already exists."]},
        ),
    ],
)
def test_addon_create_form_explains_bad_input(admin_client, catalog, changes, errors):
    # when
    response = admin_client.post(
        reverse("catalog:addon-create"), addon_data(**{"code": "eu-roam-5gb", **changes})
    )
    # then
    assert errors_of(response) == errors
    assert AddOn.objects.count() == 1


def test_addon_edit_form_explains_bad_input_and_offers_no_self_conflict(admin_client, catalog):
    # when
    page = admin_client.get(url("catalog:addon-edit", catalog, "addon"))
    response = admin_client.post(
        url("catalog:addon-edit", catalog, "addon"),
        addon_data(kind="data_booster", zone="EU", conflicts_with=["boost-1gb"]),
    )
    # then
    choices = [code for code, _ in page.context["form"].fields["conflicts_with"].choices]
    assert "boost-1gb" not in choices
    assert errors_of(response) == {
        "conflicts_with": ["Select a valid choice. boost-1gb is not one of the available choices."]
    }
    response = admin_client.post(
        url("catalog:addon-edit", catalog, "addon"), addon_data(kind="data_booster", zone="EU")
    )
    assert errors_of(response) == {"zone": ["Only roaming packs have a zone."]}
    catalog["addon"].refresh_from_db()
    assert catalog["addon"].name == "Booster 1GB"


def test_addon_allowances_form_explains_bad_input(admin_client, catalog):
    # when
    response = admin_client.post(
        url("catalog:addon-allowances", catalog, "addon"),
        formset("allowances", [{"service": "data", "quantity": "5", "scope": "zone"}]),
    )
    # then
    assert response.context["allowance_formset"].forms[0].errors == {
        "zone": ["Name the zone, e.g. EU or US."]
    }
    assert not Allowance.objects.exists()


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"sku": "RTR-5G-200"}, {"sku": ["A device with the SKU RTR-5G-200 already exists."]}),
        ({"price_amount": "-49"}, {"price_amount": ["The price cannot be negative."]}),
        (
            {"price_amount": ""},
            {"price_amount": ["A device needs a price (0 if only given away)."]},
        ),
        (
            {"kind": "toaster"},
            {"kind": ["Select a valid choice. toaster is not one of the available choices."]},
        ),
    ],
)
def test_device_create_form_explains_bad_input(admin_client, catalog, changes, errors):
    # when
    response = admin_client.post(
        reverse("catalog:device-create"), device_data(**{"sku": "RTR-4G-100", **changes})
    )
    # then
    assert errors_of(response) == errors
    assert Device.objects.count() == 1


def test_device_edit_form_explains_bad_input(admin_client, catalog):
    # when
    response = admin_client.post(
        url("catalog:device-edit", catalog, "device"), device_data(name="", price_amount="1.23456")
    )
    # then
    assert errors_of(response) == {
        "name": ["This field is required."],
        "price_amount": ["Ensure that there are no more than 4 decimal places."],
    }
    catalog["device"].refresh_from_db()
    assert catalog["device"].name == "HomeHub 5G router"


@pytest.mark.parametrize(
    ("serials", "errors"),
    [
        ("", ["Paste at least one serial number, one per line."]),
        ("\n  \n", ["Paste at least one serial number, one per line."]),
        (
            "HH5G-0001\nHH5G-0009\nHH5G-0009",
            ["Pasted more than once: HH5G-0009.", "Already in stock: HH5G-0001."],
        ),
    ],
)
def test_device_stock_form_explains_bad_input(admin_client, catalog, serials, errors):
    # when
    response = admin_client.post(
        url("catalog:device-stock", catalog, "device"), {"serials": serials}
    )
    # then
    assert errors_of(response) == {"serials": errors}
    assert DeviceItem.objects.count() == 1
