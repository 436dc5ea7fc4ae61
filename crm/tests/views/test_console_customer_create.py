"""New customer, account and first line in one form: all written, or nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.forms import DATE_ERROR
from crm.models import Account, Address, Customer, Subscriber, SubscriberEvent
from crm.tests.factories import iccid_for

URL = "/console/customers/new/"


def _valid(**changes):
    data = {
        "kind": "individual",
        "first_name": "Grace",
        "last_name": "Hopper",
        "date_of_birth": "1990-12-09",
        "email": "Grace@Example.org",
        "phone": "020 7946 0000",
        "address_line1": "1 Navy Way",
        "address_city": "London",
        "address_postcode": "sw1a 1aa",
        "address_country": "GB",
        "payment_type": "postpaid",
        "currency": "GBP",
        "bill_cycle_day": "14",
        "credit_limit_amount": "250.50",
        "msisdn": "07400 555111",
        "iccid": iccid_for(424242),
        "imsi": "234159999999999",
        "activate": "on",
    }
    data.update(changes)
    return data


def _counts():
    return (
        Customer.objects.count(),
        Account.objects.count(),
        Subscriber.objects.count(),
        Address.objects.count(),
        SubscriberEvent.objects.count(),
    )


def test_url_is_the_one_the_menu_links_to():
    assert reverse("crm:customer-create") == URL


def test_form_offers_every_field(csr_client):
    # when
    response = csr_client.get(URL)
    # then
    html = response.content.decode()
    assert response.status_code == 200
    for name in (
        "kind",
        "first_name",
        "company_name",
        "date_of_birth",
        "address_line1",
        "payment_type",
        "currency",
        "bill_cycle_day",
        "credit_limit_amount",
        "msisdn",
        "iccid",
        "imsi",
        "activate",
    ):
        assert f'name="{name}"' in html
    assert '<option value="EUR">EUR</option>' in html


def test_create_writes_customer_account_and_active_line(csr_client, csr):
    # when
    response = csr_client.post(URL, _valid())
    # then
    customer = Customer.objects.get(last_name="Hopper")
    assert response.status_code == 302
    assert response.url == reverse("crm:customer-detail", args=[customer.public_id])
    assert (customer.first_name, customer.email, customer.phone) == (
        "Grace",
        "grace@example.org",
        "+442079460000",
    )
    assert str(customer.date_of_birth) == "1990-12-09"
    address = customer.addresses.get()
    assert (address.line1, address.city, address.postcode, address.country) == (
        "1 Navy Way",
        "London",
        "SW1A 1AA",
        "GB",
    )
    account = customer.accounts.get()
    assert (account.payment_type, account.currency, account.bill_cycle_day) == (
        "postpaid",
        "GBP",
        14,
    )
    assert account.credit_limit_amount == Decimal("250.5000")
    line = account.subscribers.get()
    assert (line.msisdn, line.iccid, line.imsi, line.status) == (
        "+447400555111",
        iccid_for(424242),
        "234159999999999",
        "active",
    )
    assert SubscriberEvent.objects.filter(subscriber=line, actor=csr).count() == 2
    page = csr_client.get(response.url).content.decode()
    assert f"Grace Hopper is customer {customer.number}, account {account.number}" in page
    assert "+44 7400 555111" in page


def test_create_business_on_prepaid_with_pending_line(csr_client):
    # given: the hidden individual fields still hold something
    data = _valid(
        kind="business",
        company_name="Hopper Compilers Ltd",
        company_number="0123",
        first_name="",
        last_name="",
        date_of_birth="1990-12-09",
        payment_type="prepaid",
        credit_limit_amount="0",
        activate="",
    )
    # when
    response = csr_client.post(URL, data)
    # then
    assert response.status_code == 302
    customer = Customer.objects.get(company_name="Hopper Compilers Ltd")
    assert (customer.kind, customer.company_number, customer.date_of_birth) == (
        "business",
        "0123",
        None,
    )
    assert customer.accounts.get().payment_type == "prepaid"
    assert customer.accounts.get().subscribers.get().status == "pending"


def _future_date():
    return (timezone.localdate() + timedelta(days=3)).isoformat()


BAD_INPUT = [
    ("invalid MSISDN", {"msisdn": "12345"}, "msisdn", "is not a valid phone number"),
    ("foreign MSISDN", {"msisdn": "+33 6 12 34 56 78"}, "msisdn", "not of the operator's country"),
    (
        "ICCID with a wrong check digit",
        {"iccid": iccid_for(424242)[:-1] + str((int(iccid_for(424242)[-1]) + 1) % 10)},
        "iccid",
        "check digit is wrong",
    ),
    (
        "duplicate MSISDN",
        {"msisdn": "07400 123456"},
        "msisdn",
        "This MSISDN belongs to another live subscriber.",
    ),
    (
        "duplicate ICCID",
        {"iccid": "LINE_ICCID"},
        "iccid",
        "This SIM (ICCID) belongs to another live subscriber.",
    ),
    (
        "duplicate IMSI",
        {"imsi": "LINE_IMSI"},
        "imsi",
        "This IMSI belongs to another live subscriber.",
    ),
    ("impossible date", {"date_of_birth": "2023-02-30"}, "date_of_birth", DATE_ERROR),
    (
        "future date of birth",
        {"date_of_birth": "FUTURE"},
        "date_of_birth",
        "The date of birth is in the future.",
    ),
    ("missing last name", {"last_name": ""}, "last_name", "An individual needs a last name."),
    ("bad email", {"email": "grace@"}, "email", "Enter a valid email address."),
    ("bad contact phone", {"phone": "12"}, "phone", "is not a valid phone number"),
    ("bill cycle day 31", {"bill_cycle_day": "31"}, "bill_cycle_day", "28"),
    (
        "credit limit on prepaid",
        {"payment_type": "prepaid"},
        "credit_limit_amount",
        "A prepaid account has no credit limit.",
    ),
    (
        "address without a city",
        {"address_city": ""},
        "address_city",
        "The town or city is required.",
    ),
    ("bad country", {"address_country": "G1"}, "address_country", "two-letter country code"),
    ("short IMSI", {"imsi": "23415"}, "imsi", "An IMSI has exactly 15 digits."),
]


@pytest.mark.parametrize(
    ("_case", "changes", "field", "message"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT]
)
def test_bad_input_is_shown_on_its_field_and_nothing_is_written(
    _case, changes, field, message, csr_client, line
):
    # given
    replace = {"LINE_ICCID": line.iccid, "LINE_IMSI": line.imsi, "FUTURE": _future_date()}
    data = _valid(**{k: replace.get(v, v) for k, v in changes.items()})
    before = _counts()
    # when
    response = csr_client.post(URL, data)
    # then
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    assert "Nothing was saved." in html
    assert _counts() == before
    assert not Customer.objects.filter(last_name="Hopper").exists()


def test_every_field_error_is_reported_at_once(csr_client):
    # when
    response = csr_client.post(
        URL, _valid(last_name="", msisdn="12345", iccid="8944", imsi="1", currency="GBP")
    )
    # then
    errors = response.context["form"].errors
    assert {"last_name", "msisdn", "iccid", "imsi"} <= set(errors)
    assert Customer.objects.count() == 0


def test_failed_submit_keeps_what_was_typed(csr_client):
    # when
    response = csr_client.post(URL, _valid(msisdn="12345"))
    # then
    html = response.content.decode()
    assert 'value="Grace"' in html
    assert 'value="1 Navy Way"' in html
