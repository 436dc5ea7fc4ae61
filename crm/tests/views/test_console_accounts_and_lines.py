"""Adding another account to a customer, and where another line comes from: stock, through a
new-connection order (the old "add existing line" page is gone)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from crm.models import Account, Subscriber, SubscriberEvent
from crm.tests.factories import AccountFactory, iccid_for
from orders.models import Order


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


def test_account_offers_a_new_line_through_a_new_connection_order(csr_client, line, customer):
    # when
    html = csr_client.get(
        reverse("crm:customer-detail", args=[customer.public_id])
    ).content.decode()
    # then
    new_line = reverse("orders:order-new-connection", args=[line.account.public_id])
    assert f'<a class="button small" href="{new_line}">New line</a>' in html
    assert f"/console/accounts/{line.account.public_id}/lines/new/" not in html


def test_closed_account_offers_no_new_line(csr_client, customer):
    # given
    closed = AccountFactory(customer=customer, status="closed")
    # when
    html = csr_client.get(
        reverse("crm:customer-detail", args=[customer.public_id])
    ).content.decode()
    # then
    assert closed.number in html
    assert reverse("orders:order-new-connection", args=[closed.public_id]) not in html


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("actor", ["csr", "supervisor"])
def test_old_add_line_page_is_gone(method, actor, client, request, line):
    # given: a line could once be typed in by hand (MSISDN, ICCID, IMSI); now stock is the
    # only way in
    client.force_login(request.getfixturevalue(actor))
    url = f"/console/accounts/{line.account.public_id}/lines/new/"
    data = {
        "msisdn": "+44 7400 222333",
        "iccid": iccid_for(515151),
        "imsi": "234157777777777",
        "activate": "on",
    }
    # when
    response = client.get(url) if method == "get" else client.post(url, data)
    # then
    assert response.status_code == 404
    assert list(Subscriber.objects.values_list("msisdn", flat=True)) == ["+447400123456"]
    assert not SubscriberEvent.objects.exists()
    assert not Order.objects.exists()
