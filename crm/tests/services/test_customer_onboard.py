from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from common.errors import ApplicationError
from crm.models import Account, Address, Customer, Subscriber, SubscriberEvent
from crm.services import AddressData, account_create, customer_create, customer_onboard
from crm.tests.factories import SubscriberFactory, iccid_for


def onboard_input(**overrides):
    data = {
        "customer": {
            "kind": "individual",
            "first_name": "Grace",
            "last_name": "Hopper",
            "date_of_birth": dt.date(1980, 12, 9),
            "email": "Grace.Hopper@Example.org",
            "phone": "020 7946 0018",
            "address": AddressData(line1="1 High Street", city="Leeds", postcode="ls1 4ap"),
        },
        "account": {
            "payment_type": "postpaid",
            "currency": "GBP",
            "bill_cycle_day": 5,
            "credit_limit_amount": Decimal("150"),
        },
        "subscriber": {
            "msisdn": "07400 555123",
            "iccid": iccid_for(555),
            "imsi": "234100000000555",
            "activate": True,
        },
    }
    for section, values in overrides.items():
        data[section] = {**data[section], **values}
    return data


def test_onboarding_creates_customer_account_and_active_line(csr):
    # when
    line = customer_onboard(actor=csr, **onboard_input())
    # then
    customer = Customer.objects.get()
    assert customer.number.startswith("CUS-")
    assert customer.email == "grace.hopper@example.org"
    assert customer.phone == "+442079460018"
    assert Address.objects.get(customer=customer).postcode == "LS1 4AP"
    account = Account.objects.get(customer=customer)
    assert account.number.startswith("ACC-")
    assert account.credit_limit_amount == Decimal("150.0000")
    assert (line.msisdn, line.status) == ("+447400555123", Subscriber.Status.ACTIVE)
    assert list(SubscriberEvent.objects.order_by("pk").values_list("old_status", "new_status")) == [
        ("", "pending"),
        ("pending", "active"),
    ]


def test_onboarding_reports_every_bad_field_and_writes_nothing(csr):
    # given
    bad = onboard_input(
        customer={"last_name": "", "date_of_birth": dt.date(2099, 1, 1)},
        account={"payment_type": "prepaid", "credit_limit_amount": Decimal("10")},
        subscriber={"msisdn": "12345", "iccid": iccid_for(555)[:-1] + "0", "imsi": "1"},
    )
    # when
    with pytest.raises(ApplicationError) as caught:
        customer_onboard(actor=csr, **bad)
    # then
    assert set(caught.value.fields) >= {"last_name", "date_of_birth", "msisdn", "iccid", "imsi"}
    assert Customer.objects.count() == Account.objects.count() == Subscriber.objects.count() == 0


def test_bad_account_rolls_back_the_customer(csr):
    with pytest.raises(ApplicationError) as caught:
        customer_onboard(actor=csr, **onboard_input(account={"currency": "XYZ"}))
    assert "currency" in caught.value.fields
    assert not Customer.objects.exists()


def test_duplicate_msisdn_and_iccid_of_a_live_line_are_refused(csr):
    # given
    SubscriberFactory(msisdn="+447400555123", iccid=iccid_for(555))
    # when
    with pytest.raises(ApplicationError) as caught:
        customer_onboard(actor=csr, **onboard_input())
    # then
    assert "MSISDN" in caught.value.fields["msisdn"][0]
    assert "ICCID" in caught.value.fields["iccid"][0]
    assert Customer.objects.count() == 1  # only the factory's


def test_a_terminated_lines_number_can_be_sold_again(csr):
    SubscriberFactory(
        msisdn="+447400555123", iccid=iccid_for(555), status="terminated", imsi="234100000000555"
    )
    line = customer_onboard(actor=csr, **onboard_input())
    assert Subscriber.objects.filter(msisdn=line.msisdn).count() == 2


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


def test_account_numbers_are_sequential_and_readable(csr):
    customer = customer_create(actor=csr, kind="business", company_name="Acme Ltd")
    first = account_create(customer=customer, actor=csr, payment_type="prepaid")
    second = account_create(customer=customer, actor=csr, payment_type="prepaid")
    assert int(second.number[4:]) == int(first.number[4:]) + 1


@pytest.mark.parametrize("day", [0, 29, 31])
def test_bill_cycle_day_outside_1_to_28_is_refused(csr, day):
    customer = customer_create(actor=csr, kind="business", company_name="Acme Ltd")
    with pytest.raises(ApplicationError) as caught:
        account_create(customer=customer, actor=csr, payment_type="postpaid", bill_cycle_day=day)
    assert "bill_cycle_day" in caught.value.fields
    assert not Account.objects.exists()
