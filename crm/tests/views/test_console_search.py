"""The console's one search box: names, numbers typed any way, identifiers and emails."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.tests.factories import CustomerFactory, SubscriberFactory

from .conftest import HTMX


def _search(client, text, **kwargs):
    return client.get(reverse("crm:customer-search"), {"q": text}, **kwargs)


def _detail(customer):
    return reverse("crm:customer-detail", args=[customer.public_id])


@pytest.mark.parametrize("typed", ["+44 7400 123456", "07400 123456", "447400123456"])
def test_msisdn_typed_any_way_finds_the_line_as_you_type(typed, csr_client, line, customer):
    # when
    response = _search(csr_client, typed, headers=HTMX)
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="search-results"' in html
    assert "Ada Lovelace" in html
    assert customer.number in html
    assert "+44 7400 123456" in html
    assert "Matched on mobile number +44 7400 123456" in html
    assert _detail(customer) in html


@pytest.mark.parametrize("typed", ["+44 7400 123456", "07400 123456", "447400123456"])
def test_full_search_for_one_msisdn_opens_the_customer(typed, csr_client, line, customer):
    # when
    response = _search(csr_client, typed)
    # then
    assert response.status_code == 302
    assert response.url == _detail(customer)


@pytest.mark.parametrize(
    ("_case", "text"),
    [
        ("customer number", lambda line: line.account.customer.number),
        ("customer number in lower case", lambda line: line.account.customer.number.lower()),
        ("account number", lambda line: line.account.number),
        ("ICCID", lambda line: line.iccid),
        ("IMSI", lambda line: line.imsi),
        ("email in capitals", lambda line: "ADA@example.org"),
    ],
)
def test_identifiers_lead_straight_to_the_customer(_case, text, csr_client, line, customer):
    # given
    CustomerFactory(first_name="Someone", last_name="Else")
    # when
    response = _search(csr_client, text(line))
    # then
    assert response.status_code == 302
    assert response.url == _detail(customer)


@pytest.mark.parametrize(
    ("_case", "text", "understood"),
    [
        ("ICCID", lambda line: line.iccid, "ICCID"),
        ("IMSI", lambda line: line.imsi, "IMSI"),
        ("account number", lambda line: line.account.number, "the account number"),
        ("email", lambda line: "ada@example.org", "the email address ada@example.org"),
    ],
)
def test_htmx_results_say_what_matched(_case, text, understood, csr_client, line):
    # when
    response = _search(csr_client, text(line), headers=HTMX)
    # then
    html = response.content.decode()
    assert "<html" not in html
    assert "Ada Lovelace" in html
    assert f"Matched on {understood}" in html


def test_name_search_lists_matches_without_jumping(csr_client, line, customer):
    # given
    other = CustomerFactory(first_name="Augusta", last_name="Lovell")
    CustomerFactory(first_name="Charles", last_name="Babbage")
    # when
    response = _search(csr_client, "lov")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert "Ada Lovelace" in html
    assert "Augusta Lovell" in html
    assert "Babbage" not in html
    assert "2 customers matched a name starting “lov”" in html
    assert _detail(other) in html
    assert "KYC pending" in html
    assert "ada@example.org" in html


def test_one_name_match_still_shows_the_list(csr_client, customer):
    # when
    response = _search(csr_client, "Ada Lovelace")
    # then
    assert response.status_code == 200
    assert "1 customer matched" in response.content.decode()


def test_result_shows_every_line_with_its_status(csr_client, line, customer):
    # given
    SubscriberFactory(account=line.account, msisdn="+447400654321", status="suspended")
    # when
    response = _search(csr_client, "Lovelace", headers=HTMX)
    # then
    html = response.content.decode()
    assert "+44 7400 123456" in html
    assert "+44 7400 654321" in html
    assert '<span class="badge suspended">Suspended</span>' in html


def test_nothing_matched_says_what_was_searched(csr_client, line):
    # when
    response = _search(csr_client, "07400 999999", headers=HTMX)
    # then
    html = response.content.decode()
    assert "No customer matched the mobile number +44 7400 999999." in html
    assert "Ada Lovelace" not in html


def test_unknown_name_says_nothing_matched(csr_client, customer):
    # when
    response = _search(csr_client, "Zebedee")
    # then
    assert response.status_code == 200
    assert "No customer matched a name starting “zebedee”." in response.content.decode()


def test_digits_that_are_no_identifier_are_explained(csr_client, line):
    # when
    response = _search(csr_client, "0000", headers=HTMX)
    # then
    html = response.content.decode()
    assert "“0000” is not a mobile number, a SIM number (ICCID) or an IMSI" in html


def test_one_letter_asks_for_more(csr_client, customer):
    # when
    response = _search(csr_client, "L", headers=HTMX)
    # then
    html = response.content.decode()
    assert "Type at least two letters of a name." in html
    assert "Ada Lovelace" not in html


def test_empty_search_explains_what_can_be_typed(csr_client):
    # when
    response = _search(csr_client, "   ", headers=HTMX)
    # then
    assert "Type a name, a mobile number" in response.content.decode()


def test_console_home_has_the_search_box(csr_client):
    # when
    response = csr_client.get(reverse("crm:console-home"))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert f'hx-get="{reverse("crm:customer-search")}"' in html
    assert 'hx-trigger="input changed delay:250ms, search"' in html
    assert f'action="{reverse("crm:customer-search")}"' in html
    assert 'name="q"' in html
