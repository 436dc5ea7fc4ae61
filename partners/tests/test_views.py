"""The partner portal: a reseller sees its own partner subtree's customers, and nothing else."""

from __future__ import annotations

import pytest
from django.urls import reverse

from common.roles import Role
from crm.models import Account, Customer
from crm.tests.factories import (
    AccountFactory,
    CustomerFactory,
    PartnerFactory,
    PartnerUserFactory,
    SubscriberFactory,
    UserFactory,
)
from partners.services import partner_suspend

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


def html_of(response):
    return response.content.decode()


@pytest.fixture
def bravo_customer(partner_b):
    customer = CustomerFactory(partner=partner_b, first_name="Bella", last_name="Bravo")
    SubscriberFactory(account__customer=customer, msisdn="+447400999888")
    return customer


# --- role matrix ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("csr", 403),
        ("supervisor", 403),
        ("admin", 403),
        ("reseller_a", 200),
        ("reseller_b", 200),
        ("subscriber", 403),
        ("other_subscriber", 403),
        ("anonymous", 302),
    ],
)
def test_customer_list_is_for_resellers(client, request, line, bravo_customer, role, status):
    # given
    sign_in_as(client, request, role)
    # when
    response = client.get(reverse("partners:home"))
    # then
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/accounts/login/?next=/partner/")
    if status != 200:
        assert "Lovelace" not in html_of(response)
        assert "Bravo" not in html_of(response)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("csr", 403),
        ("supervisor", 403),
        ("admin", 403),
        ("reseller_a", 200),
        ("reseller_b", 404),
        ("subscriber", 403),
        ("other_subscriber", 403),
        ("anonymous", 302),
    ],
)
def test_customer_page_is_only_for_the_reseller_who_sold(client, request, line, role, status):
    # given: `line` belongs to Ada Lovelace, sold by partner A
    sign_in_as(client, request, role)
    # when
    response = client.get(
        reverse("partners:customer-detail", args=[line.account.customer.public_id])
    )
    # then
    assert response.status_code == status
    assert ("Lovelace" in html_of(response)) is (status == 200)
    assert ("+44 7400 123456" in html_of(response)) is (status == 200)


# --- the list and search ---------------------------------------------------------------------


def test_reseller_sees_only_its_own_customers(client, reseller_a, line, bravo_customer):
    # given
    client.force_login(reseller_a)
    # when
    response = client.get(reverse("partners:home"))
    # then
    assert [c.display_name for c in response.context["page"].object_list] == ["Ada Lovelace"]
    html = html_of(response)
    assert "Ada Lovelace" in html
    assert "+44 7400 123456" in html
    assert "Bella Bravo" not in html


def test_parent_partner_sees_its_dealers_customers_but_not_the_other_way(client, partner_a):
    # given: a dealer under partner A, each with a customer
    dealer = PartnerFactory(code="alpha-shop", name="Alpha Shop", parent=partner_a)
    CustomerFactory(partner=partner_a, first_name="Paula", last_name="Parent")
    CustomerFactory(partner=dealer, first_name="Dan", last_name="Dealer")
    parent_user = PartnerUserFactory(partner=partner_a).user
    dealer_user = PartnerUserFactory(partner=dealer).user
    # when
    client.force_login(parent_user)
    parent_sees = {c.last_name for c in client.get("/partner/").context["page"].object_list}
    client.force_login(dealer_user)
    dealer_sees = {c.last_name for c in client.get("/partner/").context["page"].object_list}
    # then
    assert parent_sees == {"Parent", "Dealer"}
    assert dealer_sees == {"Dealer"}


def test_search_by_name_finds_own_customer(client, reseller_a, line, bravo_customer):
    # given
    client.force_login(reseller_a)
    # when
    found = client.get(reverse("partners:home"), {"q": "lovel"})
    not_mine = client.get(reverse("partners:home"), {"q": "bravo"})
    # then
    assert [c.last_name for c in found.context["page"].object_list] == ["Lovelace"]
    assert not_mine.context["page"].object_list == []
    assert "None of your customers matches “bravo”" in html_of(not_mine)


@pytest.mark.parametrize("typed", ["07400 123456", "+44 7400 123456", "447400123456"])
def test_search_by_msisdn_finds_own_customer_however_typed(client, reseller_a, line, typed):
    # given
    client.force_login(reseller_a)
    # when
    response = client.get(reverse("partners:home"), {"q": typed})
    # then
    assert [c.last_name for c in response.context["page"].object_list] == ["Lovelace"]


def test_search_by_msisdn_of_another_partners_customer_finds_nothing(
    client, reseller_a, line, bravo_customer
):
    # given
    client.force_login(reseller_a)
    # when
    response = client.get(reverse("partners:home"), {"q": "07400 999888"})
    # then
    assert response.context["page"].object_list == []
    assert "Bravo" not in html_of(response)


def test_a_one_letter_search_asks_for_more(client, reseller_a, line):
    # given
    client.force_login(reseller_a)
    # when
    response = client.get(reverse("partners:home"), {"q": "l"})
    # then
    assert "Type at least two letters of a name" in html_of(response)


def test_search_as_you_type_returns_only_the_results(client, reseller_a, line):
    # given
    client.force_login(reseller_a)
    # when
    response = client.get(reverse("partners:home"), {"q": "ada"}, headers={"HX-Request": "true"})
    # then
    html = html_of(response)
    assert html.lstrip().startswith('<div id="customer-results">')
    assert "<html" not in html
    assert "Ada Lovelace" in html


def test_customer_list_is_alphabetical_by_surname_or_company(client, reseller_a, partner_a):
    # given
    CustomerFactory(partner=partner_a, first_name="Bob", last_name="brown")
    CustomerFactory(
        partner=partner_a, kind="business", first_name="", last_name="", company_name="Acorn Ltd"
    )
    CustomerFactory(partner=partner_a, first_name="Amy", last_name="Adams")
    client.force_login(reseller_a)
    # when
    response = client.get(reverse("partners:home"))
    # then
    assert [c.display_name for c in response.context["page"].object_list] == [
        "Acorn Ltd",
        "Amy Adams",
        "Bob brown",
    ]


def test_customer_list_is_paginated(client, reseller_a, partner_a):
    # given: 30 customers named Aaa00 … Aaa29
    for n in range(30):
        CustomerFactory(partner=partner_a, first_name="Test", last_name=f"Aaa{n:02d}")
    client.force_login(reseller_a)
    # when
    first = client.get(reverse("partners:home"))
    second = client.get(reverse("partners:home"), {"page": 2})
    # then
    assert len(first.context["page"].object_list) == 25
    assert [c.last_name for c in second.context["page"].object_list] == [
        f"Aaa{n}" for n in range(25, 30)
    ]
    assert "Page 2 of 2" in html_of(second)


def test_customer_list_queries_do_not_grow_with_the_page(
    client, reseller_a, partner_a, django_assert_max_num_queries
):
    # given
    for _ in range(10):
        SubscriberFactory(account__customer=CustomerFactory(partner=partner_a))
    client.force_login(reseller_a)
    # when / then
    with django_assert_max_num_queries(12):
        response = client.get(reverse("partners:home"))
    assert len(response.context["page"].object_list) == 10


def test_reseller_without_a_partner_is_told_so(client, db):
    # given: a reseller login nobody linked to a partner
    user = UserFactory(role=Role.RESELLER)
    CustomerFactory(last_name="Unrelated")
    client.force_login(user)
    # when
    response = client.get(reverse("partners:home"))
    # then
    assert response.status_code == 200
    assert "not linked to a partner" in html_of(response)
    assert "Unrelated" not in html_of(response)


# --- the customer page -----------------------------------------------------------------------


def test_customer_page_shows_details_accounts_and_lines(client, reseller_a, line, csr):
    # given
    customer = line.account.customer
    prepaid = AccountFactory(
        customer=customer, payment_type=Account.PaymentType.PREPAID, number="ACC-00000042"
    )
    SubscriberFactory(account=prepaid, msisdn="+447400555666", status="suspended")
    Customer.objects.filter(pk=customer.pk).update(kyc_status=Customer.KycStatus.VERIFIED)
    client.force_login(reseller_a)
    # when
    response = client.get(reverse("partners:customer-detail", args=[customer.public_id]))
    # then
    html = html_of(response)
    assert "Ada Lovelace" in html
    assert customer.number in html
    assert "ada@example.org" in html
    assert '<span class="badge verified">Verified</span>' in html
    assert line.account.number in html
    assert "£100.00" in html
    assert "ACC-00000042" in html
    assert "Prepaid" in html
    assert "+44 7400 123456" in html
    assert '<span class="badge active">Active</span>' in html
    assert "+44 7400 555666" in html
    assert '<span class="badge suspended">Suspended</span>' in html


def test_users_of_a_suspended_partner_are_told_they_cannot_sell(client, reseller_a, line, admin):
    # given
    partner_suspend(partner=line.account.customer.partner, actor=admin, reason="Unpaid")
    client.force_login(reseller_a)
    # when
    response = client.get(reverse("partners:home"))
    # then
    html = html_of(response)
    assert "Alpha Phones is suspended: you cannot sell" in html
    assert "Ada Lovelace" in html
