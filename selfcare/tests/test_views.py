"""Self-care: a subscriber sees their own accounts and lines, and the history of each line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from common.roles import Role
from crm.models import Account
from crm.services import subscriber_create
from crm.tests.factories import (
    AccountFactory,
    CustomerFactory,
    SubscriberFactory,
    UserFactory,
    iccid_for,
)
from orders.lines import line_resume, line_suspend

ROLES_AND_HOME_STATUS = [
    ("csr", 403),
    ("supervisor", 403),
    ("admin", 403),
    ("reseller_a", 403),
    ("reseller_b", 403),
    ("subscriber", 200),
    ("other_subscriber", 200),
    ("anonymous", 302),
]


def sign_in_as(client, request, role):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))


def html_of(response):
    return response.content.decode()


# --- role matrix ----------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), ROLES_AND_HOME_STATUS)
def test_my_account_is_for_subscribers_and_shows_only_their_own(
    client, request, line, role, status
):
    # given: `line` is Ada Lovelace's (owned by `subscriber`)
    sign_in_as(client, request, role)
    # when
    response = client.get(reverse("selfcare:home"))
    # then
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/accounts/login/?next=/my/")
    assert ("+44 7400 123456" in html_of(response)) is (role == "subscriber")


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("csr", 403),
        ("supervisor", 403),
        ("admin", 403),
        ("reseller_a", 403),
        ("reseller_b", 403),
        ("subscriber", 200),
        ("other_subscriber", 404),
        ("anonymous", 302),
    ],
)
def test_line_page_is_only_for_the_lines_owner(client, request, line, csr, role, status):
    # given
    line_suspend(subscriber=line, actor=csr, reason="Phone reported lost", channel="console")
    sign_in_as(client, request, role)
    # when
    response = client.get(reverse("selfcare:line-detail", args=[line.public_id]))
    # then
    assert response.status_code == status
    assert ("Phone reported lost" in html_of(response)) is (status == 200)
    line.refresh_from_db()
    assert line.status == "suspended"
    assert line.events.count() == 1


# --- my account ----------------------------------------------------------------------------


def test_my_account_shows_accounts_and_lines(client, subscriber, line):
    # given: a second, prepaid account with a suspended line
    prepaid = AccountFactory(
        customer=line.account.customer,
        number="ACC-00000077",
        payment_type=Account.PaymentType.PREPAID,
        credit_limit_amount="0",
    )
    SubscriberFactory(account=prepaid, msisdn="+447400222333", status="suspended")
    client.force_login(subscriber)
    # when
    response = client.get(reverse("selfcare:home"))
    # then
    html = html_of(response)
    assert "Ada Lovelace" in html
    assert line.account.number in html
    assert "Postpaid" in html
    assert "<dt>Credit limit</dt><dd>£100.00</dd>" in html
    assert "ACC-00000077" in html
    assert "Prepaid" in html
    assert f'href="{reverse("selfcare:line-detail", args=[line.public_id])}"' in html
    assert "+44 7400 123456" in html
    assert '<span class="badge active">Active</span>' in html
    assert "+44 7400 222333" in html
    assert '<span class="badge suspended">Suspended</span>' in html


def test_my_account_never_shows_someone_elses_customer(client, subscriber, other_subscriber, line):
    # given: other_subscriber owns "Olive Other"
    client.force_login(subscriber)
    # when
    response = client.get(reverse("selfcare:home"))
    # then
    assert [c.last_name for c in response.context["customers"]] == ["Lovelace"]
    assert "Olive" not in html_of(response)


def test_subscriber_with_two_customer_records_sees_both(client, subscriber, line):
    # given: the same person also holds a business customer record
    CustomerFactory(
        owner=subscriber, kind="business", first_name="", last_name="", company_name="Ada Ltd"
    )
    client.force_login(subscriber)
    # when
    response = client.get(reverse("selfcare:home"))
    # then
    assert "Ada Lovelace" in html_of(response)
    assert "Ada Ltd" in html_of(response)


def test_subscriber_without_a_customer_record_is_told_what_to_do(client, db):
    # given
    user = UserFactory(email="new@example.com", role=Role.SUBSCRIBER)
    client.force_login(user)
    # when
    response = client.get(reverse("selfcare:home"))
    # then
    assert response.status_code == 200
    assert "could not find a customer record linked to your sign-in" in html_of(response)


# --- the line page -------------------------------------------------------------------------


def test_line_page_shows_status_history_without_naming_staff(client, subscriber, line, csr):
    # given
    with time_machine.travel(datetime(2025, 3, 1, 9, 30, tzinfo=UTC), tick=False):
        line = line_suspend(
            subscriber=line, actor=csr, reason="Phone reported lost", channel="console"
        ).subscriber
    with time_machine.travel(datetime(2025, 3, 4, 14, 0, tzinfo=UTC), tick=False):
        line_resume(subscriber=line, actor=csr, reason="Phone found", channel="console")
    client.force_login(subscriber)
    # when
    response = client.get(reverse("selfcare:line-detail", args=[line.public_id]))
    # then
    history = [(c.at, c.old_label, c.new_label, c.reason) for c in response.context["history"]]
    assert history == [
        (datetime(2025, 3, 4, 14, 0, tzinfo=UTC), "Suspended", "Active", "Phone found"),
        (datetime(2025, 3, 1, 9, 30, tzinfo=UTC), "Active", "Suspended", "Phone reported lost"),
    ]
    html = html_of(response)
    assert "+44 7400 123456" in html
    assert "4 Mar 2025 14:00" in html  # London is on GMT in March before the clocks change
    assert "Phone reported lost" in html
    assert "Casey" not in html
    assert "csr@example.com" not in html


def test_line_created_through_the_service_shows_new_as_its_first_state(client, subscriber, csr):
    # given
    customer = CustomerFactory(owner=subscriber, last_name="Lovelace")
    account = AccountFactory(customer=customer)
    line = subscriber_create(
        account=account,
        actor=csr,
        reason="New connection",
        msisdn="07400 123457",
        iccid=iccid_for(999),
        imsi="234100000000001",
    )
    client.force_login(subscriber)
    # when
    response = client.get(reverse("selfcare:line-detail", args=[line.public_id]))
    # then
    assert [(c.old_label, c.new_label) for c in response.context["history"]] == [("New", "Active")]


def test_line_page_shows_what_is_left_what_is_owed_and_the_latest_changes(
    client, subscriber, line, csr
):
    # given: 5.00 of main balance, 100 minutes of which 30 used, and a debt of 0.40
    from decimal import Decimal

    from billing.balances.models import BalanceDebt
    from billing.balances.services import bucket_open, ledger_post
    from billing.services import allowance_grant

    bucket_open(
        account=line.account, subscriber=line, kind="main", unit="money", currency="GBP",
        amount=Decimal("5"), name="Main balance", source_key="main", actor=csr, reason="Top-up",
    )  # fmt: skip
    minutes = allowance_grant(
        subscriber=line, service="voice", quantity=Decimal("100"), source_key="plan:1",
        description="Talk 100", actor=csr, valid_until=datetime(2099, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    ledger_post(bucket=minutes, amount=-1800, kind="usage", actor=csr, reason="Calls")
    BalanceDebt.objects.create(
        account=line.account, subscriber=line, amount=Decimal("0.40"), currency="GBP",
        reference="usage batch 1", reason="Usage beyond the balance",
    )  # fmt: skip
    client.force_login(subscriber)
    # when
    html = html_of(client.get(reverse("selfcare:line-detail", args=[line.public_id])))
    # then
    assert "£5.00" in html
    assert "<strong>70</strong> of 100 min" in html
    assert "You owe £0.40" in html
    assert "Usage · Talk 100" in html  # the latest changes, newest first
    assert "Casey" not in html  # nor who made them


def test_a_line_without_balances_says_so(client, subscriber, line):
    client.force_login(subscriber)
    html = html_of(client.get(reverse("selfcare:line-detail", args=[line.public_id])))
    assert "No balance or allowances on this line." in html


def test_the_balances_refresh_alone_while_usage_is_charged(client, subscriber, line, csr):
    # given: a balance, then a debit made while the page is open
    from decimal import Decimal

    from billing.balances.services import bucket_open, ledger_post

    main = bucket_open(
        account=line.account, subscriber=line, kind="main", unit="money", currency="GBP",
        amount=Decimal("5"), name="Main balance", source_key="main", actor=csr, reason="Top-up",
    )  # fmt: skip
    client.force_login(subscriber)
    url = reverse("selfcare:line-detail", args=[line.public_id])
    page = html_of(client.get(url))
    assert 'hx-trigger="every 15s"' in page
    ledger_post(bucket=main, amount="-1.25", kind="usage", actor=csr, reason="Call")
    # when: htmx asks for the balances part
    part = html_of(client.get(url, {"part": "balances"}, headers={"HX-Request": "true"}))
    # then: only that section, with the new balance
    assert part.lstrip().startswith('<section id="line-balances"')
    assert "<html" not in part
    assert "£3.75" in part
