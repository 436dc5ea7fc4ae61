"""The order page: the quote to the cent with its formulas, the history, submit and cancel."""

from __future__ import annotations

from decimal import Decimal

import time_machine
from django.urls import reverse

from billing.models import Charge
from crm.models import Subscriber
from crm.tests.factories import SubscriberFactory
from orders.inventory.models import DeviceItem, Msisdn, SimCard
from orders.models import Order, OrderEvent
from orders.placing import (
    order_new_connection_create,
    order_plan_change_create,
    order_service_change_create,
)

from .conftest import APRIL_10


def _url(order, name="orders:order-detail"):
    return reverse(name, args=[order.public_id])


def _section(html, element_id):
    return html.split(f'id="{element_id}"')[1].split("</section>")[0]


def _new_line(csr, account, plan, number, sim, **extra):
    return order_new_connection_create(
        actor=csr,
        channel="console",
        account=account,
        plan=plan,
        msisdn=number.number,
        iccid=sim.iccid,
        **extra,
    )


@time_machine.travel(APRIL_10)
def test_plan_change_quote_shows_proration_with_days_and_formula(
    csr_client, csr, account, plan_30, plan_45
):
    # given: a line on £30 moving to £45 on day 10 of a 30-day period
    line = SubscriberFactory(account=account, plan=plan_30)
    order = order_plan_change_create(actor=csr, channel="console", subscriber=line, plan=plan_45)
    # when
    response = csr_client.get(_url(order))
    # then
    html = response.content.decode()
    quote = _section(html, "quote")
    assert response.status_code == 200
    assert "<h2" in quote
    assert "Quote" in quote
    assert "Proration credit: Unused 21 days of Basic 10GB" in quote
    assert "Proration debit: 21 days of Max 100GB" in quote
    assert "21 of 30 days in the plan's period 1 Apr to 30 Apr 2026" in quote
    assert "-30 × 21 / 30 days = -21.0000 → -21.00 GBP" in quote
    assert "45 × 21 / 30 days = 31.5000 → 31.50 GBP" in quote
    assert "-£21.00" in quote
    assert "£31.50" in quote
    assert "Proration total" in quote
    assert "£10.50" in quote
    assert "New recurring charge" in quote
    assert "£45.00" in quote
    due_now = quote.split("Due now")[1]
    assert "£10.50" in due_now


@time_machine.travel(APRIL_10)
def test_new_line_quote_lists_one_time_charges_and_due_now(
    csr_client, csr, account, plan_45, golden, sim, router, booster
):
    # given: the router is included with Max 100GB; the golden number costs £50
    order = _new_line(csr, account, plan_45, golden, sim, devices=[router], addons=[booster])
    # when
    html = csr_client.get(_url(order)).content.decode()
    # then
    quote = _section(html, "quote")
    assert "Number +447500977777 (Golden)" in quote
    assert "Activation fee" in quote
    assert "Data booster 5GB (30 days)" in quote
    assert "One-time total" in quote
    assert "£65.00" in quote  # 50 + 10 + 5
    assert "5G router (serial R-0001) — included with the plan" in quote.split("at no charge")[1]
    assert f"SIM {sim.iccid}" in quote
    assert "45 × 21 / 30 days = 31.5000 → 31.50 GBP" in quote
    assert "£96.50" in quote.split("Due now")[1]  # 65 + 31.50
    assert 'action="{}"'.format(_url(order, "orders:order-place")) in html
    assert 'action="{}"'.format(_url(order, "orders:order-cancel")) in html


def test_page_shows_who_did_what_and_why(csr_client, csr, account, plan_45, number, sim):
    # given
    order = _new_line(csr, account, plan_45, number, sim)
    # when
    html = csr_client.get(_url(order)).content.decode()
    # then
    history = _section(html, "history")
    assert "New → Draft" in history
    assert "Placed in the CSR console" in history
    assert "Casey Rep" in history
    assert order.number in html
    assert "New connection" in html
    assert 'data-status="draft"' in html
    assert '<span class="msisdn">+44 7500 900001</span> (new)' in html
    assert f'href="{reverse("crm:customer-detail", args=[account.customer.public_id])}"' in html


@time_machine.travel(APRIL_10)
def test_submit_completes_a_new_line(
    csr_client, csr, account, plan_45, number, sim, router, booster
):
    # given
    order = _new_line(csr, account, plan_45, number, sim, devices=[router], addons=[booster])
    # when
    response = csr_client.post(_url(order, "orders:order-place"), follow=True)
    # then
    html = response.content.decode()
    order.refresh_from_db()
    line = Subscriber.objects.get(msisdn=number.number)
    assert response.redirect_chain == [(_url(order), 302)]
    assert order.status == "completed"
    assert order.subscriber == line
    assert (line.status, line.plan, line.iccid) == ("active", plan_45, sim.iccid)
    assert f"Order {order.number} is completed." in html
    assert 'Line <strong class="msisdn">+44 7500 900001</strong> is active on Max 100GB' in html
    assert f'#line-{line.public_id}"' in html
    assert "Submit order" not in html
    assert "Cancel order" not in html
    assert "Charges" in _section(html, "quote")
    history = _section(html, "history")
    assert history.index("Draft → Submitted") < history.index("In progress → Completed")
    assert Msisdn.objects.get(pk=number.pk).status == "assigned"
    assert DeviceItem.objects.get(serial="R-0001").status == "sold"
    assert sorted(Charge.objects.filter(account=account).values_list("amount", flat=True)) == [
        Decimal("5.00"),
        Decimal("10.00"),
        Decimal("31.50"),
    ]


def test_submitting_twice_changes_nothing_the_second_time(
    csr_client, csr, account, plan_45, number, sim
):
    # given
    order = _new_line(csr, account, plan_45, number, sim)
    csr_client.post(_url(order, "orders:order-place"))
    events = OrderEvent.objects.filter(order=order).count()
    # when
    response = csr_client.post(_url(order, "orders:order-place"), follow=True)
    # then
    assert "was not submitted" in response.content.decode()
    assert OrderEvent.objects.filter(order=order).count() == events
    assert Subscriber.objects.filter(msisdn=number.number).count() == 1


def test_cancel_needs_a_reason_and_then_releases_the_number(
    csr_client, csr, account, plan_45, number, sim, router
):
    # given
    order = _new_line(csr, account, plan_45, number, sim, devices=[router])
    assert Msisdn.objects.get(pk=number.pk).status == "reserved"
    # when: no reason
    response = csr_client.post(_url(order, "orders:order-cancel"), {"reason": " "})
    # then
    assert response.status_code == 200
    assert response.context["cancel_form"].errors["reason"] == ["Give a reason."]
    order.refresh_from_db()
    assert order.status == "draft"
    assert Msisdn.objects.get(pk=number.pk).status == "reserved"
    # when: with a reason
    response = csr_client.post(
        _url(order, "orders:order-cancel"), {"reason": "Customer changed their mind"}, follow=True
    )
    # then
    html = response.content.decode()
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert Msisdn.objects.get(pk=number.pk).status == "available"
    assert SimCard.objects.get(pk=sim.pk).status == "in_stock"
    assert DeviceItem.objects.get(serial="R-0001").status == "in_stock"
    assert f"Order {order.number} is cancelled." in html
    assert "Customer changed their mind" in _section(html, "history")
    assert "Submit order" not in html


def test_failed_order_shows_its_reason(csr_client, csr, account, plan_45, number, sim):
    # given: the number was taken out of the order's hands before it was submitted
    order = _new_line(csr, account, plan_45, number, sim)
    Msisdn.objects.filter(pk=number.pk).update(status="available", reservation_ref="")
    Msisdn.objects.filter(pk=number.pk).update(status="assigned")
    # when
    response = csr_client.post(_url(order, "orders:order-place"), follow=True)
    # then
    html = response.content.decode()
    order.refresh_from_db()
    assert order.status == "failed"
    assert order.failure_reason
    assert f"Order {order.number} failed: {order.failure_reason}" in html
    assert "This order failed:" in html
    assert not Subscriber.objects.filter(msisdn=number.number).exists()


@time_machine.travel(APRIL_10)
def test_plan_change_at_the_next_bill_date_waits_after_submit(
    csr_client, csr, account, plan_30, plan_45
):
    # given
    line = SubscriberFactory(account=account, plan=plan_45)
    order = order_plan_change_create(
        actor=csr, channel="console", subscriber=line, plan=plan_30, effective="next_bill_date"
    )
    # when
    html = csr_client.post(_url(order, "orders:order-place"), follow=True).content.decode()
    # then
    order.refresh_from_db()
    line.refresh_from_db()
    assert order.status == "submitted"
    assert line.plan == plan_45
    assert f"Order {order.number} is submitted. It takes effect on 1 May 2026." in html
    assert "Cancel order" in html
    assert "Proration" not in _section(html, "quote")


@time_machine.travel(APRIL_10)
def test_terminate_order_shows_the_credit_and_only_a_supervisor_may_submit_it(
    client, csr, supervisor, account, plan_30
):
    # given
    line = SubscriberFactory(account=account, plan=plan_30)
    order = order_service_change_create(
        actor=supervisor, channel="console", subscriber=line, type="terminate", reason="Moved"
    )
    # when: a CSR looks and tries
    client.force_login(csr)
    html = client.get(_url(order)).content.decode()
    refused = client.post(_url(order, "orders:order-place"))
    # then
    assert "-30 × 21 / 30 days = -21.0000 → -21.00 GBP" in html
    assert "Submit order" not in html
    assert refused.status_code == 403
    line.refresh_from_db()
    assert line.status == "active"
    # when: the supervisor submits
    client.force_login(supervisor)
    client.post(_url(order, "orders:order-place"))
    # then
    line.refresh_from_db()
    assert line.status == "terminated"
    assert Order.objects.get(pk=order.pk).status == "completed"


def test_a_completed_order_cannot_be_cancelled(csr_client, csr, account, plan_45, number, sim):
    # given
    order = _new_line(csr, account, plan_45, number, sim)
    csr_client.post(_url(order, "orders:order-place"))
    # when
    response = csr_client.post(_url(order, "orders:order-cancel"), {"reason": "Too late"})
    # then
    assert response.status_code == 200
    assert "it cannot become cancelled" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "completed"
    assert Msisdn.objects.get(pk=number.pk).status == "assigned"
    assert not OrderEvent.objects.filter(order=order, reason="Too late").exists()
