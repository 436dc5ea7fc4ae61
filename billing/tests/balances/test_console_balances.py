"""The console's balances page of a line: buckets, ledger, debts; adjustments with approval."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from billing.balances.models import BalanceAdjustment, Bucket, LedgerEntry
from billing.tests.balances.conftest import money_bucket
from crm.tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def main(line: Any, admin: Any) -> Bucket:
    return money_bucket(line, "10.00", admin)


def _page(line: Any) -> str:
    return reverse("crm:line-balances", args=[line.public_id])


def _adjust(line: Any) -> str:
    return reverse("crm:line-balance-adjust", args=[line.public_id])


@pytest.mark.parametrize(
    ("persona", "status"),
    [("csr", 200), ("supervisor", 200), ("admin", 403), ("reseller_a", 403),
     ("subscriber", 403), (None, 302)],
)  # fmt: skip
def test_who_may_open_a_lines_balances(request, client, line, main, persona, status):
    # given
    if persona:
        client.force_login(request.getfixturevalue(persona))
    # when
    response = client.get(_page(line))
    # then
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert f'data-bucket="{main.public_id}"' in body
        assert "£10.00" in body
        assert "Opening balance" in body  # the ledger's opening entry, with its reason


def test_the_customer_page_links_each_line_to_its_balances(client, csr, line):
    client.force_login(csr)
    response = client.get(reverse("crm:customer-detail", args=[line.account.customer.public_id]))
    assert _page(line) in response.content.decode()


def test_a_csr_adjusts_within_the_limit_and_the_ledger_shows_it(client, csr, line, main):
    # given
    client.force_login(csr)
    # when
    response = client.post(
        _adjust(line), {"bucket": main.public_id, "amount": "2.50", "reason": "Dropped call"}
    )
    # then
    assert response.status_code == 302
    assert Bucket.objects.get(pk=main.pk).balance == Decimal("12.5")
    page = client.get(response["Location"]).content.decode()
    assert "£12.50" in page
    assert "Dropped call" in page


def test_above_the_limit_it_waits_and_a_supervisor_approves(client, csr, supervisor, line, main):
    # given: a CSR asks for 50.00 (the limit is 20)
    client.force_login(csr)
    client.post(_adjust(line), {"bucket": main.public_id, "amount": "50", "reason": "Refund"})
    adjustment = BalanceAdjustment.objects.get()
    assert adjustment.status == "pending"
    assert Bucket.objects.get(pk=main.pk).balance == Decimal("10")
    # when: a supervisor sees it on the page and approves it
    client.force_login(supervisor)
    page = client.get(_page(line)).content.decode()
    assert f'data-adjustment="{adjustment.public_id}"' in page
    decide = reverse("crm:adjustment-decide", args=[adjustment.public_id])
    response = client.post(decide, {"decision": "approve", "reason": "Checked"})
    # then
    assert response.status_code == 302
    assert BalanceAdjustment.objects.get().status == "applied"
    assert Bucket.objects.get(pk=main.pk).balance == Decimal("60")


def test_a_csr_cannot_decide(client, csr, supervisor, line, main):
    client.force_login(supervisor)
    client.post(_adjust(line), {"bucket": main.public_id, "amount": "-1", "reason": "x"})
    client.force_login(csr)
    pending = BalanceAdjustment.objects.create(
        bucket=main, amount=Decimal("30"), reason="Big", requested_by=supervisor
    )
    decide = reverse("crm:adjustment-decide", args=[pending.public_id])
    response = client.post(decide, {"decision": "approve", "reason": "ok"})
    assert response.status_code == 403
    assert BalanceAdjustment.objects.get(pk=pending.pk).status == "pending"
    assert Bucket.objects.get(pk=main.pk).balance == Decimal("9")


@pytest.mark.parametrize(
    ("data", "problem"),
    [({"amount": "", "reason": "x"}, "Enter the amount"),
     ({"amount": "1.234", "reason": "x"}, "2 decimal places"),
     ({"amount": "5", "reason": ""}, "Give a reason"),
     ({"amount": "-11", "reason": "Correction"}, "Not enough balance")],
)  # fmt: skip
def test_a_bad_adjustment_says_why_and_changes_nothing(client, csr, line, main, data, problem):
    client.force_login(csr)
    response = client.post(_adjust(line), {"bucket": main.public_id, **data})
    assert response.status_code == 400
    assert problem in response.content.decode()
    assert Bucket.objects.get(pk=main.pk).balance == Decimal("10")
    assert not BalanceAdjustment.objects.exists()
    assert LedgerEntry.objects.count() == 1


def test_another_lines_bucket_answers_404_and_nothing_changes(client, csr, line, main, admin):
    # given: a bucket of a line of another customer
    stranger = SubscriberFactory()
    theirs = money_bucket(stranger, "10.00", admin)
    client.force_login(csr)
    # when: posted through this line's page
    response = client.post(
        _adjust(line), {"bucket": theirs.public_id, "amount": "5", "reason": "x"}
    )
    # then
    assert response.status_code == 404
    assert Bucket.objects.get(pk=theirs.pk).balance == Decimal("10")


def test_a_csr_moves_money_to_another_line_of_the_customer(client, csr, line, main, admin):
    # given: a second line of the same customer with its own balance
    sibling = SubscriberFactory(account=line.account)
    theirs = money_bucket(sibling, "1.00", admin)
    client.force_login(csr)
    page = client.get(_page(line)).content.decode()
    assert "Transfer…" in page
    # when
    response = client.post(
        reverse("crm:line-balance-transfer", args=[line.public_id]),
        {"bucket": main.public_id, "target": theirs.public_id, "amount": "4", "reason": "Son"},
    )
    # then
    assert response.status_code == 302
    assert Bucket.objects.get(pk=main.pk).balance == Decimal("6")
    assert Bucket.objects.get(pk=theirs.pk).balance == Decimal("5")
    assert LedgerEntry.objects.filter(kind="transfer").count() == 2


def test_a_transfer_to_a_stranger_or_beyond_the_balance_moves_nothing(
    client, csr, line, main, admin
):
    stranger = money_bucket(SubscriberFactory(), "1.00", admin)
    sibling = money_bucket(SubscriberFactory(account=line.account), "1.00", admin)
    client.force_login(csr)
    url = reverse("crm:line-balance-transfer", args=[line.public_id])
    to_stranger = client.post(
        url, {"bucket": main.public_id, "target": stranger.public_id, "amount": "1", "reason": "x"}
    )
    too_much = client.post(
        url, {"bucket": main.public_id, "target": sibling.public_id, "amount": "11", "reason": "x"}
    )
    assert to_stranger.status_code == 404
    assert too_much.status_code == 302  # back to the page, which says why
    assert "Not enough balance" in client.get(too_much["Location"]).content.decode()
    assert [Bucket.objects.get(pk=b.pk).balance for b in (main, stranger, sibling)] == [
        Decimal("10"), Decimal("1"), Decimal("1"),
    ]  # fmt: skip
