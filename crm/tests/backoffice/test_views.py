"""Back office pages: who may open them, the figures they show, and API key issue/revoke."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from common.api_keys import api_key_authenticate, api_key_issue
from common.models import ApiKey
from common.roles import Role
from crm.models import Account, Customer, Subscriber
from crm.tests.factories import (
    AccountFactory,
    CustomerFactory,
    PartnerFactory,
    SubscriberFactory,
    UserFactory,
)

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


def sign_in_as(client, request, role):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))


def expected_status(role, allowed_status):
    if role == "admin":
        return allowed_status
    return 302 if role == "anonymous" else 403


@pytest.fixture
def issued_key(admin):
    key, _secret = api_key_issue(
        actor=admin, name="Mediation 1", permissions=["crm.view_any_customer"]
    )
    return key


# --- role matrix ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "url_name", ["crm:backoffice-home", "crm:backoffice-partner-list", "crm:api-key-list"]
)
def test_back_office_pages_open_only_for_back_office_admins(db, client, request, role, url_name):
    # given
    sign_in_as(client, request, role)
    # when
    response = client.get(reverse(url_name))
    # then
    assert response.status_code == expected_status(role, 200)
    if role == "anonymous":
        assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("role", ROLES)
def test_only_back_office_admins_issue_api_keys(db, client, request, role):
    # given
    sign_in_as(client, request, role)
    url = reverse("crm:api-key-create")
    # when
    form_page = client.get(url)
    response = client.post(url, {"name": "Mediation", "permissions": ["crm.view_any_customer"]})
    # then
    assert form_page.status_code == expected_status(role, 200)
    assert response.status_code == expected_status(role, 200)
    assert ApiKey.objects.filter(name="Mediation").exists() is (role == "admin")


@pytest.mark.parametrize("role", ROLES)
def test_only_back_office_admins_revoke_api_keys(client, request, role, issued_key):
    # given
    sign_in_as(client, request, role)
    url = reverse("crm:api-key-revoke", args=[issued_key.public_id])
    # when
    confirmation = client.get(url)
    response = client.post(url)
    # then
    assert confirmation.status_code == expected_status(role, 200)
    assert response.status_code == expected_status(role, 302)
    issued_key.refresh_from_db()
    assert (issued_key.revoked_at is not None) is (role == "admin")


def test_back_office_user_without_key_permission_sees_figures_but_not_keys(client, issued_key):
    # given: a back-office role that may open the back office but not manage keys
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="access_backoffice"))
    client.force_login(user)
    # when
    home = client.get(reverse("crm:backoffice-home"))
    keys = client.get(reverse("crm:api-key-list"))
    revoke = client.post(reverse("crm:api-key-revoke", args=[issued_key.public_id]))
    # then
    assert home.status_code == 200
    assert "API keys" not in home.content.decode()
    assert (keys.status_code, revoke.status_code) == (403, 403)
    issued_key.refresh_from_db()
    assert issued_key.revoked_at is None


# --- overview and partners -------------------------------------------------------------------


def test_overview_shows_real_figures(client, admin):
    # given
    CustomerFactory.create_batch(3)
    CustomerFactory(
        kind=Customer.Kind.BUSINESS,
        first_name="",
        last_name="",
        company_name="Acme Ltd",
        kyc_status=Customer.KycStatus.VERIFIED,
    )
    AccountFactory(payment_type=Account.PaymentType.PREPAID)
    SubscriberFactory(status=Subscriber.Status.SUSPENDED)
    PartnerFactory.create_batch(2)
    client.force_login(admin)
    # when
    response = client.get(reverse("crm:backoffice-home"))
    # then
    overview = response.context["overview"]
    assert [(r.label, r.count) for r in overview.customers_by_kind.rows] == [
        ("Individual", 5),
        ("Business", 1),
    ]
    assert [(r.label, r.count) for r in overview.customers_by_kyc_status.rows] == [
        ("Pending", 5),
        ("Verified", 1),
        ("Rejected", 0),
    ]
    assert [(r.label, r.count) for r in overview.accounts_by_payment_type.rows] == [
        ("Prepaid", 1),
        ("Postpaid", 1),
    ]
    assert {r.label: r.count for r in overview.subscribers_by_status.rows}["Suspended"] == 1
    assert overview.partner_count == 2
    html = response.content.decode()
    assert '<th scope="row">Business</th><td class="number">1</td>' in html
    assert '<th scope="row">Total</th><td class="number">6</td>' in html


def test_only_a_superuser_gets_a_link_to_django_admin(client, admin):
    # given: the admin role with staff status, and a superuser who also holds it
    superuser = UserFactory(is_staff=True, is_superuser=True, role=Role.ADMIN)
    # when
    client.force_login(admin)
    staff_page = client.get(reverse("crm:backoffice-home")).content.decode()
    client.force_login(superuser)
    superuser_page = client.get(reverse("crm:backoffice-home")).content.decode()
    # then
    assert 'href="/admin/"' not in staff_page
    assert 'href="/admin/"' in superuser_page


def test_partner_list_shows_the_tree_with_customer_counts(client, admin):
    # given: a distributor with a dealer under it, and an unrelated reseller
    distributor = PartnerFactory(code="north", name="North Distribution", kind="distributor")
    dealer = PartnerFactory(code="north-shop", name="North Shop", kind="dealer", parent=distributor)
    PartnerFactory(code="east", name="East Phones")
    CustomerFactory.create_batch(2, partner=dealer)
    CustomerFactory(partner=distributor)
    client.force_login(admin)
    # when
    response = client.get(reverse("crm:backoffice-partner-list"))
    # then
    rows = [
        (r.partner.code, r.depth, r.own_customers, r.subtree_customers)
        for r in response.context["rows"]
    ]
    assert rows == [("east", 0, 0, 0), ("north", 0, 1, 3), ("north-shop", 1, 2, 2)]
    html = response.content.decode()
    assert "North Shop" in html
    assert "Dealer" in html


# --- API keys ---------------------------------------------------------------------------------


def test_issuing_a_key_shows_the_secret_once(client, admin):
    # given
    client.force_login(admin)
    # when
    response = client.post(
        reverse("crm:api-key-create"),
        {"name": "Mediation 2", "permissions": ["crm.view_any_customer", "crm.add_interaction"]},
    )
    # then
    assert response.status_code == 200
    secret = response.context["secret"]
    html = response.content.decode()
    assert secret in html
    assert "It will not be shown again" in html
    assert "no-store" in response["Cache-Control"]
    key = ApiKey.objects.get(name="Mediation 2")
    assert api_key_authenticate(secret) == key
    assert sorted(key.user.get_all_permissions()) == [
        "crm.add_interaction",
        "crm.view_any_customer",
    ]
    listing = client.get(reverse("crm:api-key-list")).content.decode()
    assert "Mediation 2" in listing
    assert key.prefix in listing
    assert secret not in listing


def test_issuing_a_key_without_name_or_permissions_shows_errors_and_issues_nothing(client, admin):
    # given
    client.force_login(admin)
    # when
    response = client.post(reverse("crm:api-key-create"), {"name": "  "})
    # then
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"name", "permissions"}
    assert not ApiKey.objects.exists()


def test_issuing_a_key_with_a_permission_that_is_not_grantable_is_refused(client, admin):
    # given
    client.force_login(admin)
    # when
    response = client.post(
        reverse("crm:api-key-create"),
        {"name": "Sneaky", "permissions": ["common.manage_api_keys"]},
    )
    # then
    assert response.status_code == 200
    assert "permissions" in response.context["form"].errors
    assert not ApiKey.objects.exists()


def test_issuing_a_second_active_key_with_the_same_name_names_the_field(client, admin, issued_key):
    # given
    client.force_login(admin)
    # when
    response = client.post(
        reverse("crm:api-key-create"),
        {"name": "Mediation 1", "permissions": ["crm.view_any_customer"]},
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["An active key already has this name."]
    assert ApiKey.objects.count() == 1


def test_revoke_asks_for_confirmation_before_revoking(client, admin, issued_key):
    # given
    client.force_login(admin)
    # when
    response = client.get(reverse("crm:api-key-revoke", args=[issued_key.public_id]))
    # then
    assert response.status_code == 200
    assert "Revoke key" in response.content.decode()
    issued_key.refresh_from_db()
    assert issued_key.revoked_at is None


def test_revoking_a_key_refuses_it_at_once(client, admin, issued_key):
    # given
    _, secret = api_key_issue(actor=admin, name="Switch", permissions=["crm.add_interaction"])
    key = ApiKey.objects.get(name="Switch")
    client.force_login(admin)
    # when
    response = client.post(reverse("crm:api-key-revoke", args=[key.public_id]), follow=True)
    # then
    assert response.redirect_chain == [(reverse("crm:api-key-list"), 302)]
    assert "was revoked" in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_by == admin
    assert api_key_authenticate(secret) is None
    issued_key.refresh_from_db()
    assert issued_key.revoked_at is None


def test_revoking_a_revoked_key_again_changes_nothing(client, admin, issued_key):
    # given
    other_admin = UserFactory(email="admin2@example.com", role=Role.ADMIN)
    client.force_login(admin)
    client.post(reverse("crm:api-key-revoke", args=[issued_key.public_id]))
    issued_key.refresh_from_db()
    first_revocation = (issued_key.revoked_at, issued_key.revoked_by)
    client.force_login(other_admin)
    # when
    response = client.post(reverse("crm:api-key-revoke", args=[issued_key.public_id]), follow=True)
    # then
    assert "already revoked" in response.content.decode()
    issued_key.refresh_from_db()
    assert (issued_key.revoked_at, issued_key.revoked_by) == first_revocation


def test_unknown_key_answers_404(client, admin):
    # given
    client.force_login(admin)
    # when
    response = client.post(
        reverse("crm:api-key-revoke", args=["00000000-0000-0000-0000-000000000000"])
    )
    # then
    assert response.status_code == 404
