"""Registering customers and opening accounts: every field checked, nothing half-written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from common.errors import ApplicationError
from common.money import Money
from crm.models import Account, Address, Customer
from crm.services import AddressData, account_create, account_update, customer_create


def test_a_customer_is_registered_with_a_readable_number_and_a_clean_address(csr):
    # when
    customer = customer_create(
        actor=csr,
        kind="individual",
        first_name="Grace",
        last_name="Hopper",
        email="Grace.Hopper@Example.org",
        phone="020 7946 0018",
        address=AddressData(line1="1 High Street", city="Leeds", postcode="ls1 4ap"),
    )
    # then
    assert customer.number.startswith("CUS-")
    assert (customer.email, customer.phone, customer.kyc_status) == (
        "grace.hopper@example.org",
        "+442079460018",
        "pending",
    )
    assert Address.objects.get(customer=customer).postcode == "LS1 4AP"


@time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC))
@pytest.mark.parametrize(
    ("born", "message"),
    [
        (dt.date(2026, 6, 2), "in the future"),
        (dt.date(1899, 12, 31), "before 1900"),
        (dt.date(2010, 6, 2), "at least 16"),
    ],
)
def test_impossible_dates_of_birth_are_refused(csr, born, message):
    with pytest.raises(ApplicationError) as caught:
        customer_create(
            actor=csr, kind="individual", first_name="A", last_name="B", date_of_birth=born
        )
    assert message in caught.value.fields["date_of_birth"][0]
    assert not Customer.objects.exists()


def test_business_needs_company_name(csr):
    with pytest.raises(ApplicationError) as caught:
        customer_create(actor=csr, kind="business", company_name=" ")
    assert "company_name" in caught.value.fields
    assert not Customer.objects.exists()


def test_account_numbers_are_sequential_and_readable(csr):
    customer = customer_create(actor=csr, kind="business", company_name="Acme Ltd")
    first = account_create(customer=customer, actor=csr, payment_type="prepaid")
    second = account_create(customer=customer, actor=csr, payment_type="prepaid")
    assert int(second.number[4:]) == int(first.number[4:]) + 1


def test_a_postpaid_account_keeps_its_credit_limit_exactly(csr):
    customer = customer_create(actor=csr, kind="business", company_name="Acme Ltd")
    account = account_create(
        customer=customer,
        actor=csr,
        payment_type="postpaid",
        currency="EUR",
        bill_cycle_day=5,
        credit_limit_amount="150.50",
    )
    assert (account.currency, account.bill_cycle_day) == ("EUR", 5)
    assert account.credit_limit.amount == Decimal("150.5000")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"bill_cycle_day": 0}, "bill_cycle_day"),
        ({"bill_cycle_day": 29}, "bill_cycle_day"),
        ({"currency": "XYZ"}, "currency"),
        ({"credit_limit_amount": "-5"}, "credit_limit_amount"),
        ({"credit_limit_amount": "1_000"}, "credit_limit_amount"),
        ({"credit_limit_amount": 10.5}, "credit_limit_amount"),
        ({"payment_type": "prepaid", "credit_limit_amount": "10"}, "credit_limit_amount"),
        ({"payment_type": "barter"}, "payment_type"),
    ],
)
def test_a_bad_account_is_refused_on_its_field_and_not_opened(csr, changes, field):
    # given
    customer = customer_create(actor=csr, kind="business", company_name="Acme Ltd")
    values = {"payment_type": "postpaid", "credit_limit_amount": "100", **changes}
    # when
    with pytest.raises(ApplicationError) as caught:
        account_create(customer=customer, actor=csr, **values)
    # then
    assert field in caught.value.fields
    assert not Account.objects.exists()


@pytest.mark.parametrize("day", ["fifteen", "1.5", "", None, True, "٣"])
def test_a_bill_cycle_day_that_is_not_a_whole_number_is_a_field_error_not_a_crash(csr, day):
    customer = customer_create(actor=csr, kind="business", company_name="Acme Ltd")
    with pytest.raises(ApplicationError) as caught:
        account_create(customer=customer, actor=csr, payment_type="prepaid", bill_cycle_day=day)
    assert caught.value.fields["bill_cycle_day"] == [
        "The bill cycle day is a whole number from 1 to 28."
    ]
    assert not Account.objects.exists()


def test_a_credit_limit_in_another_currency_is_refused_by_the_service_itself(csr):
    # given a GBP account (whichever door asks: the service checks, not only the API)
    customer = customer_create(actor=csr, kind="business", company_name="Acme Ltd")
    account = account_create(
        customer=customer, actor=csr, payment_type="postpaid", credit_limit_amount="100"
    )
    # when
    with pytest.raises(ApplicationError) as caught:
        account_update(account=account, actor=csr, credit_limit_amount=Money(Decimal("500"), "EUR"))
    # then
    assert caught.value.fields == {
        "credit_limit_amount": ["The credit limit is in EUR; the account is billed in GBP."]
    }
    account.refresh_from_db()
    assert account.credit_limit_amount == Decimal("100")
    # and in its own currency it is taken
    account_update(account=account, actor=csr, credit_limit_amount=Money(Decimal("500"), "GBP"))
    account.refresh_from_db()
    assert account.credit_limit == Money(Decimal("500"), "GBP")
