"""Adding another account to a customer and another line to an account."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from crm.models import Account, Subscriber
from crm.tests.factories import iccid_for


def test_add_postpaid_account(csr_client, customer):
    # when
    response = csr_client.post(
        reverse("crm:account-create", args=[customer.public_id]),
        {
            "payment_type": "postpaid",
            "currency": "EUR",
            "bill_cycle_day": "5",
            "credit_limit_amount": "75.25",
        },
    )
    # then
    account = Account.objects.get(customer=customer)
    assert response.status_code == 302
    assert response.url.endswith(f"#account-{account.public_id}")
    assert (account.currency, account.bill_cycle_day, account.credit_limit_amount) == (
        "EUR",
        5,
        Decimal("75.2500"),
    )
    assert "€75.25" in csr_client.get(response.url).content.decode()


def test_prepaid_account_with_credit_limit_is_refused(csr_client, customer):
    # when
    response = csr_client.post(
        reverse("crm:account-create", args=[customer.public_id]),
        {
            "payment_type": "prepaid",
            "currency": "GBP",
            "bill_cycle_day": "1",
            "credit_limit_amount": "10",
        },
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].errors["credit_limit_amount"] == [
        "A prepaid account has no credit limit."
    ]
    assert not Account.objects.exists()


def test_add_line_to_account(csr_client, line):
    # when
    response = csr_client.post(
        reverse("crm:subscriber-create", args=[line.account.public_id]),
        {
            "msisdn": "+44 7400 222333",
            "iccid": iccid_for(515151),
            "imsi": "234157777777777",
            "activate": "on",
        },
    )
    # then
    new = Subscriber.objects.get(msisdn="+447400222333")
    assert response.status_code == 302
    assert response.url.endswith(f"#line-{new.public_id}")
    assert (new.account, new.status) == (line.account, "active")


def test_line_with_taken_number_is_refused(csr_client, line):
    # when
    response = csr_client.post(
        reverse("crm:subscriber-create", args=[line.account.public_id]),
        {"msisdn": "07400 123456", "iccid": iccid_for(515151), "imsi": "234157777777777"},
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].errors["msisdn"] == [
        "This MSISDN belongs to another live subscriber."
    ]
    assert Subscriber.objects.count() == 1
