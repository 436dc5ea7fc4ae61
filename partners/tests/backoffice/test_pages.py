"""Back-office partner pages: only partner managers open them or change anything; the tree, the
partner's page, and each change with its errors on their fields."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from common.models import AuditEvent
from crm.models import User
from crm.tests.factories import CustomerFactory, PartnerFactory, PartnerUserFactory, UserFactory
from orders.tests.inventory_factories import SimCardFactory
from partners.models import Partner, PartnerUser
from partners.selectors import partner_of
from partners.services import partner_suspend
from partners.tests.conftest import world

ROLES = [
    "csr",
    "supervisor",
    "admin",
    "reseller_a",
    "reseller_b",
    "subscriber",
    "other_subscriber",
    "anonymous",
]


def url(name, *args):
    return reverse(f"partner-backoffice:{name}", args=args)


def sign_in_as(client, request, role):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))


def expected_status(role, allowed_status):
    if role == "admin":
        return allowed_status
    return 302 if role == "anonymous" else 403


def html_of(response):
    return response.content.decode()


@pytest.fixture
def member(east):
    return PartnerUserFactory(
        partner=east,
        user__email="member@example.com",
        user__first_name="Mo",
        user__last_name="Ember",
    ).user


@pytest.fixture
def gone(db):
    return PartnerFactory(code="gone", name="Gone Ltd", status=Partner.Status.SUSPENDED)


@pytest.fixture
def backoffice_only(db):
    """Opens the back office, but may not manage partners."""
    user = UserFactory(email="figures@example.com")
    user.user_permissions.add(Permission.objects.get(codename="access_backoffice"))
    return user


# --- role matrix ----------------------------------------------------------------------------


PAGES = {
    "tree": lambda f: url("partner-list"),
    "create": lambda f: url("partner-create"),
    "detail": lambda f: url("partner-detail", f["east"].public_id),
    "edit": lambda f: url("partner-edit", f["east"].public_id),
    "move": lambda f: url("partner-move", f["east"].public_id),
    "suspend": lambda f: url("partner-suspend", f["east"].public_id),
    "reactivate": lambda f: url("partner-reactivate", f["gone"].public_id),
    "remove user": lambda f: url("partner-user-remove", f["east"].public_id, f["member"].public_id),
    "old tree address": lambda f: reverse("crm:backoffice-partner-list"),
}


@pytest.fixture
def things(north, east, gone, member):
    return {"north": north, "east": east, "gone": gone, "member": member}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_partner_pages_open_only_for_partner_managers(client, request, things, role, page):
    # given
    sign_in_as(client, request, role)
    # when
    response = client.get(PAGES[page](things))
    # then
    assert response.status_code == expected_status(role, 200)
    if role == "anonymous":
        assert response["Location"].startswith("/accounts/login/?next=/backoffice/partners/")
    if role != "admin":
        assert "East Phones" not in html_of(response)


CHANGES = {
    "create": lambda f: (
        url("partner-create"),
        {"code": "west", "name": "West", "kind": "reseller", "parent": "top"},
    ),
    "edit": lambda f: (
        url("partner-edit", f["east"].public_id),
        {"name": "East Renamed", "kind": "dealer"},
    ),
    "move": lambda f: (
        url("partner-move", f["east"].public_id),
        {"parent": str(f["north"].public_id), "reason": "Bought"},
    ),
    "suspend": lambda f: (url("partner-suspend", f["east"].public_id), {"reason": "Fraud"}),
    "reactivate": lambda f: (url("partner-reactivate", f["gone"].public_id), {"reason": "Paid"}),
    "add user": lambda f: (
        url("partner-user-add", f["east"].public_id),
        {"email": "new@example.com", "first_name": "New", "last_name": "Person"},
    ),
    "remove user": lambda f: (
        url("partner-user-remove", f["east"].public_id, f["member"].public_id),
        {"reason": "Left"},
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("change", CHANGES)
def test_only_partner_managers_change_partners(client, request, things, role, change):
    # given
    sign_in_as(client, request, role)
    address, data = CHANGES[change](things)
    before = world()
    # when
    response = client.post(address, data)
    # then
    assert response.status_code == expected_status(role, 302)
    if role == "admin":
        assert response["Location"].startswith("/backoffice/partners/")
        assert world() != before
        assert AuditEvent.objects.get().actor.email == "admin@example.com"
    else:
        assert world() == before


def test_a_back_office_user_without_the_permission_sees_no_partner_pages(
    client, backoffice_only, east
):
    # given
    client.force_login(backoffice_only)
    before = world()
    # when
    home = client.get(reverse("crm:backoffice-home"))
    tree = client.get(url("partner-list"))
    create = client.post(url("partner-create"), {"code": "west", "name": "West", "parent": "top"})
    suspend = client.post(url("partner-suspend", east.public_id), {"reason": "Fraud"})
    # then
    assert home.status_code == 200
    assert url("partner-list") not in html_of(home)
    assert (tree.status_code, create.status_code, suspend.status_code) == (403, 403, 403)
    assert world() == before


# --- the tree -------------------------------------------------------------------------------


def test_tree_shows_each_partner_under_its_parent_with_its_figures(
    client, admin, north_kiosk, east
):
    # given
    shop = Partner.objects.get(code="north-shop")
    CustomerFactory.create_batch(2, partner=north_kiosk)
    CustomerFactory(partner=shop)
    PartnerUserFactory(partner=shop)
    PartnerUserFactory(partner=shop, is_active=False)  # removed: not counted
    SimCardFactory.create_batch(3, status="allocated", partner=shop)
    SimCardFactory(status="assigned", partner=shop)  # sold: not on the shelf
    client.force_login(admin)
    # when
    response = client.get(url("partner-list"))
    # then
    rows = [
        (r.partner.code, r.depth, r.users, r.own_customers, r.subtree_customers, r.sims_on_shelf)
        for r in response.context["rows"]
    ]
    assert rows == [
        ("east", 0, 0, 0, 0, 0),
        ("north", 0, 0, 0, 3, 0),
        ("north-shop", 1, 1, 1, 3, 3),
        ("north-kiosk", 2, 0, 2, 2, 0),
    ]
    html = html_of(response)
    assert f'href="{url("partner-detail", shop.public_id)}"' in html
    assert f'href="{url("partner-create")}?parent={shop.public_id}"' in html


def test_the_old_tree_address_shows_the_same_tree(client, admin, north_shop):
    # given
    client.force_login(admin)
    # when
    response = client.get(reverse("crm:backoffice-partner-list"))
    # then
    assert [r.partner.code for r in response.context["rows"]] == ["north", "north-shop"]


def test_back_office_home_and_menu_lead_to_the_tree(client, admin):
    # given
    client.force_login(admin)
    # when
    html = html_of(client.get(reverse("crm:backoffice-home")))
    # then
    assert f'href="{url("partner-list")}"' in html


# --- create and edit ---------------------------------------------------------------------------


def test_create_under_a_parent_named_in_the_address(client, admin, north):
    # given
    client.force_login(admin)
    # when
    form_page = client.get(url("partner-create"), {"parent": north.public_id})
    response = client.post(
        url("partner-create"),
        {"code": "north-stall", "name": "Stall", "kind": "reseller", "parent": north.public_id},
    )
    # then
    assert form_page.context["form"]["parent"].value() == str(north.public_id)
    stall = Partner.objects.get(code="north-stall")
    assert response["Location"] == url("partner-detail", stall.public_id)
    assert (stall.parent, stall.path) == (north, "north/north-stall/")
    assert "Stall was created." in html_of(client.get(response["Location"]))


def test_create_with_bad_input_names_the_fields_and_writes_nothing(client, admin, north):
    # given
    client.force_login(admin)
    before = world()
    # when
    response = client.post(
        url("partner-create"),
        {"code": "North", "name": "Another North", "kind": "reseller", "parent": "top"},
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "code": ["Another partner already has the code 'north'."]
    }
    assert "Nothing was saved." in html_of(response)
    assert world() == before


def test_create_offers_no_suspended_parent(client, admin, north, gone):
    # given
    client.force_login(admin)
    # when
    response = client.get(url("partner-create"))
    # then
    values = [value for value, _ in response.context["form"].fields["parent"].choices]
    assert values == ["top", str(north.public_id)]


def test_edit_changes_name_and_kind_and_shows_it_in_the_history(client, admin, east):
    # given
    client.force_login(admin)
    # when
    response = client.post(
        url("partner-edit", east.public_id), {"name": "East Mobile", "kind": "dealer"}
    )
    # then
    assert response.status_code == 302
    page = html_of(client.get(response["Location"]))
    assert "East Mobile" in page
    assert "Name: East Phones → East Mobile" in page
    assert "Kind: reseller → dealer" in page


def test_edit_without_a_name_says_so_and_writes_nothing(client, admin, east):
    # given
    client.force_login(admin)
    before = world()
    # when
    response = client.post(url("partner-edit", east.public_id), {"name": "", "kind": "dealer"})
    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["Name the partner."]}
    assert world() == before


# --- move ---------------------------------------------------------------------------------------


def test_move_offers_only_places_the_partner_may_go(client, admin, north_kiosk, east, gone):
    # given: north / north-shop / north-kiosk, east, and gone (suspended)
    shop = Partner.objects.get(code="north-shop")
    client.force_login(admin)
    # when
    response = client.get(url("partner-move", shop.public_id))
    # then: not itself, its kiosk, its current parent or a suspended partner
    choices = [label.strip() for _, label in response.context["form"].fields["parent"].choices]
    assert choices == ["Choose…", "— Top of the tree (no parent) —", "East Phones (east)"]


def test_moving_a_partner_under_its_own_descendant_is_refused_on_the_field(
    client, admin, north_kiosk
):
    # given
    north = Partner.objects.get(code="north")
    client.force_login(admin)
    before = world()
    # when
    response = client.post(url("partner-move", north.public_id), {"parent": north_kiosk.public_id})
    # then
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["parent"]
    assert world() == before


def test_move_takes_the_subtree_along_and_says_where_it_went(client, admin, north_kiosk, east):
    # given
    shop = Partner.objects.get(code="north-shop")
    client.force_login(admin)
    # when
    response = client.post(
        url("partner-move", shop.public_id), {"parent": east.public_id, "reason": "Sold"}
    )
    # then
    assert response["Location"] == url("partner-detail", shop.public_id)
    north_kiosk.refresh_from_db()
    assert north_kiosk.path == "east/north-shop/north-kiosk/"
    page = html_of(client.get(response["Location"]))
    assert "North Shop is now under East Phones." in page
    assert "Reason: Sold" in page


def test_move_to_the_top(client, admin, north_shop):
    # given
    client.force_login(admin)
    # when
    response = client.post(url("partner-move", north_shop.public_id), {"parent": "top"})
    # then
    assert response.status_code == 302
    north_shop.refresh_from_db()
    assert (north_shop.parent, north_shop.path) == (None, "north-shop/")


# --- suspend and reactivate ------------------------------------------------------------------


def test_suspend_needs_a_reason_on_its_field(client, admin, east):
    # given
    client.force_login(admin)
    before = world()
    # when
    response = client.post(url("partner-suspend", east.public_id), {"reason": "  "})
    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": ["Give a reason for the change."]}
    assert world() == before


def test_suspend_then_reactivate_from_the_partner_page(client, admin, east):
    # given
    client.force_login(admin)
    # when
    suspended = client.post(url("partner-suspend", east.public_id), {"reason": "Unpaid"})
    page = html_of(client.get(suspended["Location"]))
    reactivated = client.post(url("partner-reactivate", east.public_id), {"reason": "Paid"})
    # then
    assert "East Phones is suspended: it cannot sell until it is reactivated." in page
    assert '<span class="badge suspended">Suspended</span>' in page
    assert "Reason: Unpaid" in page
    assert url("partner-reactivate", east.public_id) in page
    assert reactivated.status_code == 302
    east.refresh_from_db()
    assert east.status == Partner.Status.ACTIVE


def test_suspending_a_suspended_partner_says_so_and_writes_nothing(client, admin, gone):
    # given
    client.force_login(admin)
    before = world()
    # when
    page = client.get(url("partner-suspend", gone.public_id))
    response = client.post(url("partner-suspend", gone.public_id), {"reason": "Again"})
    # then
    assert "Gone Ltd is already suspended." in html_of(page)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["Gone Ltd is already suspended."]
    assert world() == before


# --- users --------------------------------------------------------------------------------------


def test_partner_page_lists_its_users_and_history(client, admin, east, member):
    # given
    partner_suspend(partner=east, actor=admin, reason="Audit")
    client.force_login(admin)
    # when
    response = client.get(url("partner-detail", east.public_id))
    # then
    html = html_of(response)
    assert "Mo Ember" in html
    assert "member@example.com" in html
    assert url("partner-user-remove", east.public_id, member.public_id) in html
    assert "Status: active → suspended" in html
    assert "Reason: Audit" in html


def test_adding_a_user_over_htmx_swaps_the_users_panel_and_the_history(client, admin, east):
    # given
    client.force_login(admin)
    # when
    response = client.post(
        url("partner-user-add", east.public_id),
        {"email": "new@example.com", "first_name": "Nia", "last_name": "New"},
        headers={"HX-Request": "true"},
    )
    # then
    html = html_of(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="panel" id="users-panel"')
    assert "<html" not in html
    assert "new@example.com can now sign in to the partner portal." in html
    assert 'id="history-panel" aria-labelledby="history-heading" hx-swap-oob="true"' in html
    assert "User: — → new@example.com" in html
    assert partner_of(User.objects.get(email="new@example.com")) == east


def test_adding_a_user_of_another_partner_shows_the_error_on_the_email(
    client, admin, east, reseller_a
):
    # given
    client.force_login(admin)
    before = world()
    # when
    htmx = client.post(
        url("partner-user-add", east.public_id),
        {"email": reseller_a.email},
        headers={"HX-Request": "true"},
    )
    plain = client.post(url("partner-user-add", east.public_id), {"email": reseller_a.email})
    # then
    assert "reseller-a@example.com is already a user of Alpha Phones." in html_of(htmx)
    assert plain.status_code == 200
    assert plain.context["user_form"].errors == {
        "email": ["reseller-a@example.com is already a user of Alpha Phones."]
    }
    assert world() == before


def test_adding_a_user_without_htmx_redirects_to_the_users(client, admin, east):
    # given
    client.force_login(admin)
    # when
    response = client.post(
        url("partner-user-add", east.public_id),
        {"email": "new@example.com", "first_name": "Nia", "last_name": "New"},
    )
    # then
    assert response["Location"] == url("partner-detail", east.public_id) + "#users-panel"
    assert PartnerUser.objects.filter(partner=east, user__email="new@example.com").exists()


def test_removing_a_user_asks_first_then_takes_the_portal_away(client, admin, east, member):
    # given
    client.force_login(admin)
    address = url("partner-user-remove", east.public_id, member.public_id)
    # when
    confirm = client.get(address)
    response = client.post(address, {"reason": "Left the company"})
    # then
    assert "Remove Mo Ember from East Phones" in html_of(confirm)
    assert "will no longer act for East Phones" in html_of(confirm)
    assert response["Location"] == url("partner-detail", east.public_id) + "#users-panel"
    user = User.objects.get(pk=member.pk)
    assert partner_of(user) is None
    assert not user.has_perm("crm.access_partner_portal")
    page = html_of(client.get(url("partner-detail", east.public_id)))
    assert "No users yet." in page
    assert "Reason: Left the company" in page


def test_removing_someone_who_is_not_a_user_of_the_partner_is_not_found(
    client, admin, east, reseller_a
):
    # given
    client.force_login(admin)
    before = world()
    # when
    response = client.post(
        url("partner-user-remove", east.public_id, reseller_a.public_id), {"reason": "x"}
    )
    # then
    assert response.status_code == 404
    assert world() == before
