"""The customer page lists the customer's orders and offers orders on each account and line."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.tests.factories import AccountFactory, SubscriberFactory
from orders.placing import order_plan_change_create
from orders.services import order_cancel


def _url(customer):
    return reverse("crm:customer-detail", args=[customer.public_id])


def _orders_panel(html):
    return html.split('id="orders"')[1].split("</section>")[0]


def test_customer_page_lists_orders_newest_first_with_links(
    csr_client, csr, line, customer, plan_30, plan_45
):
    # given
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)):
        first = order_plan_change_create(
            actor=csr, channel="console", subscriber=line, plan=plan_30
        )
        order_cancel(order=first, actor=csr, reason="Wrong plan")
    with time_machine.travel(dt.datetime(2026, 3, 5, 11, tzinfo=dt.UTC)):
        second = order_plan_change_create(
            actor=csr, channel="console", subscriber=line, plan=plan_45
        )
    # when
    html = csr_client.get(_url(customer)).content.decode()
    # then
    panel = _orders_panel(html)
    assert panel.index(second.number) < panel.index(first.number)
    assert f'href="{reverse("orders:order-detail", args=[second.public_id])}"' in panel
    row = panel.split(f'id="order-{first.public_id}"')[1].split("</tr>")[0]
    assert "Plan change" in row
    assert 'data-status="cancelled"' in row
    assert "2 Mar 2026" in row


def test_customer_without_orders(csr_client, line, customer):
    # when
    html = csr_client.get(_url(customer)).content.decode()
    # then
    assert "No orders yet." in _orders_panel(html)


def test_csr_gets_order_buttons_on_accounts_and_live_lines(csr_client, line, customer):
    # given
    closed = AccountFactory(customer=customer, status="closed")
    terminated = SubscriberFactory(account=line.account, status="terminated")
    # when
    html = csr_client.get(_url(customer)).content.decode()
    # then
    new_line = reverse("orders:order-new-connection", args=[line.account.public_id])
    assert f'href="{new_line}">New line</a>' in html
    assert reverse("orders:order-new-connection", args=[closed.public_id]) not in html
    row = html.split(f'id="line-{line.public_id}"')[1].split("</tr>")[0]
    for name, label in (
        ("order-plan-change", "Change plan"),
        ("order-addon", "Buy add-on"),
        ("order-sim-swap", "Swap SIM"),
    ):
        assert f'href="{reverse(f"orders:{name}", args=[line.public_id])}">{label}</a>' in row
    # one button per action: suspend is the row's own button; no second "via order" door
    assert 'name="action" value="suspend"' in row
    assert "via order" not in row
    assert reverse("orders:order-terminate", args=[line.public_id]) not in row
    row = html.split(f'id="line-{terminated.public_id}"')[1].split("</tr>")[0]
    assert "Change plan" not in row


def test_supervisor_may_terminate_through_the_terminate_order(supervisor_client, line, customer):
    # when
    html = supervisor_client.get(_url(customer)).content.decode()
    # then the one terminate door is the order page, which shows the credit first
    terminate = reverse("orders:order-terminate", args=[line.public_id])
    assert f'href="{terminate}">Terminate…</a>' in html
    assert 'value="terminate"' not in html


def test_query_count_does_not_grow_with_orders(
    csr_client, csr, line, customer, plan_30, plan_45, django_assert_max_num_queries
):
    # given: one order
    order_plan_change_create(actor=csr, channel="console", subscriber=line, plan=plan_30)
    with CaptureQueriesContext(connection) as baseline:
        assert csr_client.get(_url(customer)).status_code == 200
    # and many more, on more lines
    for _ in range(6):
        other = SubscriberFactory(account=line.account, plan=plan_30)
        order_plan_change_create(actor=csr, channel="console", subscriber=other, plan=plan_45)
    # when / then
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        response = csr_client.get(_url(customer))
    assert response.content.decode().count('id="order-') == 7
