"""The customer page: everything about the customer at once, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from datetime import date
from decimal import Decimal

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.balances.models import Bucket
from billing.balances.services import ledger_post
from common.roles import permissions_from_names
from crm.models import Address, Interaction, KycDocument
from crm.services import account_update
from crm.tests.factories import (
    AccountFactory,
    InteractionFactory,
    SubscriberFactory,
    UserFactory,
)
from orders.lines import line_suspend
from orders.placing import order_new_connection_create
from orders.services import order_place
from orders.tests.factories import AddOnFactory, AllowanceFactory, PricePlanFactory
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory

APRIL_10 = dt.datetime(2026, 4, 10, 9, tzinfo=dt.UTC)


def _url(customer):
    return reverse("crm:customer-detail", args=[customer.public_id])


def test_page_shows_details_accounts_and_lines(csr_client, line, customer):
    # given
    customer.date_of_birth = date(1815, 12, 10)
    customer.phone = "+442079460000"
    customer.save()
    Address.objects.create(
        customer=customer,
        line1="12 St James's Sq",
        city="London",
        postcode="SW1Y 4JH",
        country="GB",
    )
    KycDocument.objects.create(customer=customer, kind="passport", document_number="P123")
    prepaid = AccountFactory(
        customer=customer,
        payment_type="prepaid",
        currency="EUR",
        credit_limit_amount=0,
        bill_cycle_day=9,
    )
    # when
    response = csr_client.get(_url(customer))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h1>Ada Lovelace <span class="muted">' in html
    assert "10 Dec 1815" in html
    assert "ada@example.org" in html
    assert "+44 20 7946 0000" in html
    assert "12 St James&#x27;s Sq, London, SW1Y 4JH, GB" in html
    assert "Alpha Phones" in html
    assert "Passport</strong> P123" in html
    assert line.account.number in html
    assert "£100.00" in html
    assert prepaid.number in html
    assert "None (prepaid)" in html
    assert "+44 7400 123456" in html
    assert line.iccid in html
    assert line.imsi in html
    assert f'id="line-{line.public_id}"' in html


def test_business_shows_company_number_instead_of_birth_date(csr_client):
    # given
    account = AccountFactory(
        customer__kind="business",
        customer__company_name="Initech Ltd",
        customer__company_number="07654321",
        customer__first_name="",
        customer__last_name="",
    )
    # when
    html = csr_client.get(_url(account.customer)).content.decode()
    # then
    assert "Initech Ltd" in html
    assert "07654321" in html
    assert "Date of birth" not in html


def _row(html, line):
    return html.split(f'id="line-{line.public_id}"')[1].split("</tr>")[0]


def test_csr_may_suspend_but_not_terminate(csr_client, line, customer):
    # when
    html = csr_client.get(_url(customer)).content.decode()
    # then
    row = _row(html, line)
    assert 'name="action" value="suspend"' in row
    assert 'value="terminate"' not in row
    assert "Terminate…" not in row
    assert reverse("orders:order-terminate", args=[line.public_id]) not in row
    assert 'name="reason" required' in row


def test_supervisor_may_terminate_through_the_terminate_order_page(
    supervisor_client, line, customer
):
    # when
    html = supervisor_client.get(_url(customer)).content.decode()
    # then: a link to the order page, which shows the credit before it is submitted
    row = _row(html, line)
    assert 'name="action" value="suspend"' in row
    assert 'value="terminate"' not in row
    terminate = reverse("orders:order-terminate", args=[line.public_id])
    assert f'<a class="button danger small" href="{terminate}">Terminate…</a>' in row


def test_status_actions_are_buttons_of_one_inline_htmx_form(csr_client, line, customer):
    # when
    html = csr_client.get(_url(customer)).content.decode()
    # then
    row = _row(html, line)
    status_url = reverse("crm:subscriber-status", args=[line.public_id])
    assert row.count("<form") == 1
    assert f'action="{status_url}"' in row
    assert f'hx-post="{status_url}" hx-target="closest tr" hx-swap="outerHTML"' in row
    assert row.count('<button type="submit" name="action"') == 1
    assert '<button type="submit" name="action" value="suspend"' in row
    assert ">Suspend</button>" in row


def test_line_row_has_no_via_order_links(supervisor_client, supervisor, line, customer):
    # given: one active and one suspended line
    suspended = SubscriberFactory(account=line.account)
    line_suspend(subscriber=suspended, actor=supervisor, reason="Unpaid", channel="console")
    # when
    html = supervisor_client.get(_url(customer)).content.decode()
    # then
    assert "via order" not in html
    for target in (line, suspended):
        for name in ("order-activate", "order-suspend", "order-resume"):
            assert reverse(f"orders:{name}", args=[target.public_id]) not in html


def test_actions_follow_the_line_status(csr_client, csr, line, customer):
    # given
    line_suspend(subscriber=line, actor=csr, reason="Lost phone", channel="console")
    pending = SubscriberFactory(account=line.account, status="pending")
    terminated = SubscriberFactory(account=line.account, status="terminated")
    # when
    html = csr_client.get(_url(customer)).content.decode()
    # then
    row = _row(html, line)
    assert 'value="resume"' in row
    assert 'value="suspend"' not in row
    assert 'value="activate"' not in row
    row = _row(html, pending)
    assert 'value="activate"' in row
    assert 'value="suspend"' not in row
    assert 'value="resume"' not in row
    row = _row(html, terminated)
    assert "<form" not in row
    assert "Terminated" in row


def test_timeline_merges_notes_and_status_changes_newest_first(csr_client, csr, line, customer):
    # given
    InteractionFactory(customer=customer, subject="Called about roaming", body="Wants EU pack")
    line_suspend(subscriber=line, actor=csr, reason="Phone stolen", channel="console")
    # when
    html = csr_client.get(_url(customer)).content.decode()
    # then
    timeline = html.split('id="timeline"')[1]
    assert timeline.index("+44 7400 123456: active → suspended") < timeline.index(
        "Called about roaming"
    )
    assert "Phone stolen" in timeline
    assert "Casey Rep" in timeline


def test_query_count_does_not_grow_with_lines(
    csr_client, csr, customer, django_assert_max_num_queries
):
    # given: one account with one line
    first = SubscriberFactory(account__customer=customer)
    InteractionFactory(customer=customer)
    with CaptureQueriesContext(connection) as baseline:
        assert csr_client.get(_url(customer)).status_code == 200
    # and then many more accounts, lines, events and notes
    for _ in range(3):
        account = AccountFactory(customer=customer)
        for _ in range(4):
            line_suspend(
                channel="console",
                subscriber=SubscriberFactory(account=account),
                actor=csr,
                reason="Test",
            )
    line_suspend(subscriber=first, actor=csr, reason="Test", channel="console")
    InteractionFactory.create_batch(5, customer=customer, author=csr)
    KycDocument.objects.create(customer=customer, kind="passport", document_number="P1")
    # when / then
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        response = csr_client.get(_url(customer))
    assert response.content.decode().count('class="line-row"') == 13


def test_page_of_a_customer_without_accounts(csr_client, customer):
    # when
    html = csr_client.get(_url(customer)).content.decode()
    # then
    assert "No accounts yet." in html
    assert "Nothing on the timeline yet." in html
    assert not Interaction.objects.exists()


def test_terminated_line_offers_no_terminate_link(supervisor_client, line, customer):
    # given
    terminated = SubscriberFactory(account=line.account, status="terminated")
    # when
    html = supervisor_client.get(_url(customer)).content.decode()
    # then
    assert "Terminate…" in _row(html, line)
    assert "Terminate…" not in _row(html, terminated)
    assert reverse("orders:order-terminate", args=[terminated.public_id]) not in html


@time_machine.travel(APRIL_10, tick=False)
def test_line_row_shows_plan_add_ons_and_what_is_left_of_allowances(csr_client, csr, customer):
    # given: a line connected on 10 April on a 10 GB plan with a 5 GB booster, 1 GB used
    plan = PricePlanFactory(name="Basic 10GB", recurring_fee_amount=Decimal("30"))
    AllowanceFactory(plan=plan, service="data", quantity=Decimal("10240"))
    AllowanceFactory(plan=plan, service="voice", quantity=Decimal("500"), scope="on_net")
    booster = AddOnFactory(name="Data booster 5GB")
    AllowanceFactory(plan=None, addon=booster, service="data", quantity=Decimal("5120"))
    order = order_new_connection_create(
        actor=csr,
        channel="console",
        account=AccountFactory(customer=customer),
        plan=plan,
        msisdn=MsisdnFactory().number,
        iccid=SimCardFactory().iccid,
        addons=[booster],
    )
    line = order_place(order=order, actor=csr).subscriber
    data = Bucket.objects.get(subscriber=line, opening_amount=Decimal("10240000000"))
    ledger_post(bucket=data, amount=-1024 * 1_000_000, kind="usage", actor=csr, reason="Data")
    # when
    html = csr_client.get(_url(customer)).content.decode()
    # then
    row = _row(html, line)
    assert "Basic 10GB (v1)" in row
    assert 'Data booster 5GB <span class="muted">until 10 May 2026</span>' in row
    assert (
        'Data: <strong>9,216</strong> of 10,240 MB left <span class="muted">until 1 May 2026'
    ) in row
    assert (
        'Voice on-net: <strong>500</strong> of 500 min left <span class="muted">until 1 May 2026'
    ) in row
    assert (
        'Data: <strong>5,120</strong> of 5,120 MB left <span class="muted">until 10 May 2026'
    ) in row


def test_line_without_a_plan_says_so(csr_client, line, customer):
    # when
    html = csr_client.get(_url(customer)).content.decode()
    # then
    row = _row(html, line)
    assert "No plan" in row
    assert 'aria-label="Allowances"' not in row
    assert 'aria-label="Add-ons"' not in row


def test_status_buttons_are_shown_only_to_those_who_may_use_them(client, line, customer):
    # given: a console user who may change line status but not place orders
    user = UserFactory()
    user.user_permissions.add(
        *permissions_from_names(
            ["crm.access_console", "crm.view_any_customer", "crm.change_subscriber_status"]
        )
    )
    client.force_login(user)
    # when
    html = client.get(_url(customer)).content.decode()
    # then
    assert 'name="action"' not in _row(html, line)


# --- each account's changes (the audit log) ------------------------------------------------------


def test_supervisor_sees_who_changed_each_accounts_credit_limit(
    supervisor_client, supervisor, csr, line, customer
):
    # given
    other = AccountFactory(customer=customer, bill_cycle_day=1)
    account_update(
        account=line.account, actor=supervisor, credit_limit_amount="250", reason="Paid on time"
    )
    account_update(account=other, actor=csr, bill_cycle_day=15)
    # when
    response = supervisor_client.get(_url(customer))
    # then
    blocks = {block.account.pk: block for block in response.context["accounts"]}
    assert [(e.actor, e.changes) for e in blocks[line.account.pk].changes] == [
        (supervisor, {"credit_limit_amount": ["100", "250"]})
    ]
    assert [(e.actor, e.changes) for e in blocks[other.pk].changes] == [
        (csr, {"bill_cycle_day": [1, 15]})
    ]
    html = response.content.decode()
    assert "Changes to this account (1)" in html
    assert "credit limit amount:</span> 100 → 250" in html
    assert "Paid on time" in html
    assert "supervisor@example.com" in html
    assert "bill cycle day:</span> 1 → 15" in html


def test_csr_without_the_audit_log_sees_no_account_changes(csr_client, csr, line, customer):
    # given
    account_update(account=line.account, actor=csr, credit_limit_amount="250")
    # when
    response = csr_client.get(_url(customer))
    # then
    assert [block.changes for block in response.context["accounts"]] == [None]
    assert "Changes to this account" not in response.content.decode()


def test_account_changes_cost_one_query_however_many_accounts(
    supervisor_client, supervisor, customer, django_assert_max_num_queries
):
    # given
    first = AccountFactory(customer=customer)
    account_update(account=first, actor=supervisor, bill_cycle_day=2)
    with CaptureQueriesContext(connection) as baseline:
        assert supervisor_client.get(_url(customer)).status_code == 200
    for day in range(3, 8):
        account_update(
            account=AccountFactory(customer=customer), actor=supervisor, bill_cycle_day=day
        )
    # when / then
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        response = supervisor_client.get(_url(customer))
    assert response.content.decode().count("Changes to this account (1)") == 6
