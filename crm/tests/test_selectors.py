from __future__ import annotations

import pytest
from django.http import Http404

from crm.selectors import (
    customer_get_for,
    customer_qs_for,
    customer_search,
    search_query_parse,
    subscriber_qs_for,
)
from crm.tests.factories import CustomerFactory, PartnerFactory, SubscriberFactory, iccid_for


@pytest.mark.parametrize(
    ("typed", "kind", "value"),
    [
        ("+44 7400 123456", "msisdn", "+447400123456"),
        ("07400 123456", "msisdn", "+447400123456"),
        ("447400123456", "msisdn", "+447400123456"),
        ("acc-00001234", "number", "ACC-00001234"),
        ("ACC 1234", "number", "ACC-00001234"),
        ("CUS-00000042", "number", "CUS-00000042"),
        (iccid_for(7), "iccid", iccid_for(7)),
        ("234100000000007", "imsi", "234100000000007"),
        ("Ada@Example.org", "email", "ada@example.org"),
        ("  Ada   Love ", "name", "ada love"),
        ("", "empty", ""),
    ],
)
def test_search_understands_what_was_typed(typed, kind, value):
    query = search_query_parse(typed)
    assert (query.kind, query.value) == (kind, value)


def test_search_finds_customer_by_msisdn_typed_with_spaces(csr, line, customer):
    _query, hits = customer_search(csr, "07400 123456")
    assert [hit.customer for hit in hits] == [customer]
    assert hits[0].subscribers == [line]


def test_search_by_name_prefix_and_full_name(csr, customer):
    CustomerFactory(first_name="Bob", last_name="Lovell")
    assert {h.customer.last_name for h in customer_search(csr, "lov")[1]} == {"Lovelace", "Lovell"}
    assert [h.customer for h in customer_search(csr, "ada love")[1]] == [customer]


def test_search_by_account_number_and_iccid(csr, line, customer):
    assert [h.customer for h in customer_search(csr, line.account.number)[1]] == [customer]
    assert [h.customer for h in customer_search(csr, line.iccid)[1]] == [customer]


def test_reseller_sees_own_subtree_only(reseller_a, reseller_b, customer, partner_a):
    # given a customer of a dealer under partner A
    dealer = PartnerFactory(code="alpha-kiosk", parent=partner_a)
    kiosk_customer = CustomerFactory(partner=dealer)
    # then
    assert set(customer_qs_for(reseller_a)) == {customer, kiosk_customer}
    assert list(customer_qs_for(reseller_b)) == []
    with pytest.raises(Http404):
        customer_get_for(reseller_b, customer.public_id)


def test_subscriber_sees_only_own_lines(subscriber, other_subscriber, line):
    SubscriberFactory()  # someone else's line
    assert list(subscriber_qs_for(subscriber)) == [line]
    assert list(subscriber_qs_for(other_subscriber)) == []
    assert customer_search(other_subscriber, "07400 123456")[1] == []
