"""The rules every order keeps: money in the account's currency, stock as the only way in (a
number from the pool or ported in, a SIM from stock), a completion that checks its line again,
one draft per quote form, scheduled jobs that act as the system and go on past a bad order, and
proration by each plan's own period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from billing.balances.models import Bucket
from billing.models import Charge
from common.errors import ApplicationError, CurrencyMismatch
from common.money import Money
from crm.models import Subscriber
from crm.tests.factories import AccountFactory, PartnerFactory, SubscriberFactory
from crm.validators import iccid_build
from orders import services as order_services
from orders.inventory.models import DeviceItem, Msisdn, SimCard
from orders.lines import line_suspend, line_terminate
from orders.models import Order, OrderEvent, SubscriberAddOn
from orders.placing import (
    PortIn,
    order_addon_create,
    order_new_connection_create,
    order_plan_change_create,
    order_service_change_create,
)
from orders.services import order_place, order_quote, order_submit, orders_due_complete
from orders.tests.factories import (
    AddOnFactory,
    AllowanceFactory,
    DeviceFactory,
    DeviceItemFactory,
    PricePlanFactory,
)
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory

APRIL_10 = dt.datetime(2026, 4, 10, 9, tzinfo=dt.UTC)


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


@pytest.fixture
def account(db):
    return AccountFactory(bill_cycle_day=1, payment_type="postpaid", currency="GBP")


@pytest.fixture
def plan(db):
    plan = PricePlanFactory(code="basic", name="Basic", recurring_fee_amount=Decimal("30"))
    AllowanceFactory(plan=plan, service="data", quantity=Decimal("10240"))
    return plan


def _nothing_sold() -> None:
    assert not Order.objects.exists()
    assert not Msisdn.objects.exclude(status="available").exists()
    assert not SimCard.objects.exclude(status="in_stock").exists()
    assert not DeviceItem.objects.exclude(status="in_stock").exists()


# --- money keeps its currency -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("what", "field"),
    [("device", "devices"), ("number", "msisdn"), ("add-on", "addons")],
)
def test_an_item_priced_in_another_currency_is_refused_not_relabelled(
    csr, account, plan, what, field
):
    # given a €100 router, a golden number at €50, a €5 add-on; the account bills in GBP
    number = MsisdnFactory(number="+447777000001", category="golden")
    sim = SimCardFactory()
    extra: dict = {}
    if what == "device":
        router = DeviceFactory(name="5G router", price_amount=Decimal("100"), currency="EUR")
        DeviceItemFactory(device=router)
        extra["devices"] = [router]
    elif what == "number":
        Msisdn.objects.filter(pk=number.pk).update(price_amount=Decimal("50"), currency="EUR")
    else:
        extra["addons"] = [AddOnFactory(name="EU pack", currency="EUR")]
    # when
    with pytest.raises(ApplicationError) as refused:
        order_new_connection_create(
            actor=csr,
            channel="console",
            account=account,
            plan=plan,
            msisdn=number.number,
            iccid=sim.iccid,
            **extra,
        )
    # then it says which currency, on the field at fault, and sells nothing
    assert field in refused.value.fields
    assert "EUR" in refused.value.fields[field][0]
    assert "GBP" in refused.value.fields[field][0]
    _nothing_sold()


def test_a_device_in_another_currency_names_both_currencies_exactly(csr, account, plan):
    # given
    router = DeviceFactory(name="5G router", price_amount=Decimal("100"), currency="EUR")
    DeviceItemFactory(device=router, serial="R-1")
    MsisdnFactory(number="+447500000001")
    # when
    with pytest.raises(CurrencyMismatch) as refused:
        order_new_connection_create(
            actor=csr,
            channel="console",
            account=account,
            plan=plan,
            msisdn="+447500000001",
            iccid=SimCardFactory().iccid,
            devices=[router],
        )
    # then
    assert refused.value.fields == {
        "devices": [
            f"5G router (serial R-1) is priced in EUR; account {account.number} is billed in GBP."
        ]
    }


def test_a_free_item_has_no_currency_to_disagree_with(csr, account, plan):
    # given a router given away, priced 0 in EUR
    router = DeviceFactory(name="Free router", price_amount=Decimal("0"), currency="EUR")
    DeviceItemFactory(device=router)
    MsisdnFactory(number="+447500000002")
    # when
    order = order_new_connection_create(
        actor=csr,
        channel="console",
        account=account,
        plan=plan,
        msisdn="+447500000002",
        iccid=SimCardFactory().iccid,
        devices=[router],
    )
    # then
    assert order.lines.get(kind="device").currency == "GBP"


@time_machine.travel(APRIL_10)
def test_amounts_stay_exact_on_the_order_and_are_rounded_once_when_posted(csr, account):
    # given £25 → £40 on 10 January would be 22/31 days; here a £25.55 plan, 21 of 30 days left
    old = PricePlanFactory(code="old", recurring_fee_amount=Decimal("25.55"))
    new = PricePlanFactory(code="new", recurring_fee_amount=Decimal("40.05"))
    line = SubscriberFactory(account=account, plan=old, plan_started_on=dt.date(2026, 3, 1))
    # when
    order = order_plan_change_create(actor=csr, channel="console", subscriber=line, plan=new)
    quote = order_quote(order=order)
    order_place(order=order, actor=csr)
    # then the order keeps 25.55 × 21 / 30 = 17.885 and 40.05 × 21 / 30 = 28.035 exactly ...
    assert [row.line.one_time_amount for row in quote.proration] == [
        Decimal("-17.8850"),
        Decimal("28.0350"),
    ]
    # ... the quote says what will be charged, and the charges carry exactly that
    assert [row.charged for row in quote.proration] == [gbp("-17.89"), gbp("28.04")]
    assert sorted(Charge.objects.values_list("amount", flat=True)) == [
        Decimal("-17.8900"),
        Decimal("28.0400"),
    ]
    assert quote.due_now == gbp("10.15")


# --- stock is the only way in -------------------------------------------------------------------


def test_a_sim_that_is_not_in_stock_is_refused(csr, account, plan):
    MsisdnFactory(number="+447500000003")
    unknown = iccid_build(777, issuer="99")
    with pytest.raises(ApplicationError) as refused:
        order_new_connection_create(
            actor=csr,
            channel="console",
            account=account,
            plan=plan,
            msisdn="+447500000003",
            iccid=unknown,
        )
    assert refused.value.fields == {"iccid": [f"SIM {unknown} is not in stock."]}
    _nothing_sold()


def test_a_partners_sim_and_number_are_sold_only_through_that_partner(csr, account, plan):
    # given a SIM and a number on Alpha's shelf
    alpha = PartnerFactory(code="alpha-shop", name="Alpha Phones")
    sim = SimCardFactory(status="allocated", partner=alpha)
    number = MsisdnFactory(number="+447500000004", status="allocated", partner=alpha)
    free_sim = SimCardFactory()
    MsisdnFactory(number="+447500000005")
    # when the operator's console tries to sell them
    with pytest.raises(ApplicationError) as sim_refused:
        order_new_connection_create(
            actor=csr,
            channel="console",
            account=account,
            plan=plan,
            msisdn="+447500000005",
            iccid=sim.iccid,
        )
    with pytest.raises(ApplicationError) as number_refused:
        order_new_connection_create(
            actor=csr,
            channel="console",
            account=account,
            plan=plan,
            msisdn=number.number,
            iccid=free_sim.iccid,
        )
    # then both are refused on their field, and stay on Alpha's shelf
    assert sim_refused.value.fields == {
        "iccid": [f"SIM {sim.iccid} is allocated to Alpha Phones; only that partner sells it."]
    }
    assert number_refused.value.fields == {
        "msisdn": ["+44 7500 000004 is allocated to Alpha Phones; only that partner sells it."]
    }
    assert SimCard.objects.get(pk=sim.pk).status == "allocated"
    assert Msisdn.objects.get(pk=number.pk).status == "allocated"
    # and Alpha itself sells them
    order = order_new_connection_create(
        actor=csr,
        channel="partner",
        account=account,
        plan=plan,
        msisdn=number.number,
        iccid=sim.iccid,
        partner=alpha,
    )
    order = order_place(order=order, actor=csr)
    assert order.status == "completed"
    assert Subscriber.objects.get(msisdn=number.number).iccid == sim.iccid


@time_machine.travel(APRIL_10)
def test_a_ported_number_starts_on_its_port_date(csr, account, plan):
    # given the customer brings 07400 555123 from EE, moving over on 14 April
    sim = SimCardFactory()
    # when
    order = order_new_connection_create(
        actor=csr,
        channel="console",
        account=account,
        plan=plan,
        port_in=PortIn(msisdn="07400 555123", donor_operator="EE", port_date=dt.date(2026, 4, 14)),
        iccid=sim.iccid,
    )
    order = order_place(order=order, actor=csr)
    # then it waits for the port date with its SIM held until then; no pool number is touched
    assert (order.status, order.effective_on) == ("submitted", dt.date(2026, 4, 14))
    assert (order.ported_msisdn, order.donor_operator) == ("+447400555123", "EE")
    held = SimCard.objects.get(pk=sim.pk)
    assert held.status == "reserved"
    assert timezone.localtime(held.reserved_until).date() == dt.date(2026, 4, 15)
    assert not Subscriber.objects.exists()
    assert orders_due_complete(on=dt.date(2026, 4, 13)) == 0
    # when the port date comes, the job connects the line as the system
    with time_machine.travel(dt.datetime(2026, 4, 14, 6, tzinfo=dt.UTC)):
        assert orders_due_complete() == 1
    line = Subscriber.objects.get(msisdn="+447400555123")
    assert (line.status, line.iccid, line.plan) == ("active", sim.iccid, plan)
    assert SimCard.objects.get(pk=sim.pk).status == "assigned"
    assert not Msisdn.objects.filter(number="+447400555123").exists()
    completed = OrderEvent.objects.filter(order=order, new_status="completed").get()
    assert completed.actor.email == "system@telecrm.invalid"


@time_machine.travel(APRIL_10)
@pytest.mark.parametrize(
    ("port_in", "field", "message"),
    [
        (("+447500000009", "EE", dt.date(2026, 4, 10)), "port_msisdn", "one of our own numbers"),
        (("+447400123456", "EE", dt.date(2026, 4, 10)), "port_msisdn", "another live line"),
        (("+447400555124", "Acme", dt.date(2026, 4, 10)), "donor_operator", "Choose the operator"),
        (("+447400555124", "EE", dt.date(2026, 4, 9)), "port_date", "in the past"),
        (("+447400555124", "EE", dt.date(2026, 5, 11)), "port_date", "within 30 days"),
        (("02079460000", "EE", dt.date(2026, 4, 10)), "port_msisdn", "not a mobile number"),
    ],
)
def test_a_port_in_that_cannot_happen_is_refused_on_its_field(
    csr, account, plan, port_in, field, message
):
    # given one of our pool's numbers and a live line's number
    MsisdnFactory(number="+447500000009")
    SubscriberFactory(msisdn="+447400123456")
    sim = SimCardFactory()
    # when
    with pytest.raises(ApplicationError) as refused:
        order_new_connection_create(
            actor=csr,
            channel="console",
            account=account,
            plan=plan,
            port_in=PortIn(*port_in),
            iccid=sim.iccid,
        )
    # then
    assert any(message in text for text in refused.value.fields[field]), refused.value.fields
    assert not Order.objects.exists()
    assert SimCard.objects.get(pk=sim.pk).status == "in_stock"


# --- a completion checks its line again ---------------------------------------------------------


def test_an_add_on_quoted_for_an_active_line_fails_once_the_line_is_suspended(csr, account, plan):
    # given an add-on quoted while the line was active
    line = SubscriberFactory(account=account, plan=plan)
    booster = AddOnFactory(name="Booster")
    AllowanceFactory(plan=None, addon=booster, service="data", quantity=Decimal("5120"))
    draft = order_addon_create(actor=csr, channel="console", subscriber=line, addon=booster)
    # and the line suspended since
    line_suspend(subscriber=line, actor=csr, reason="Phone lost", channel="console")
    # when the draft is submitted
    order = order_place(order=draft, actor=csr)
    # then it fails with the reason, and the line got nothing
    assert order.status == "failed"
    assert order.failure_reason == (
        f"Order {order.number} no longer applies: {line.msisdn_display} is suspended."
    )
    assert not SubscriberAddOn.objects.filter(subscriber=line).exists()
    assert not Bucket.objects.filter(subscriber=line).exists()
    assert not Charge.objects.exists()


@time_machine.travel(APRIL_10)
def test_a_plan_change_waiting_for_the_period_end_never_reaches_a_terminated_line(
    supervisor, account, plan
):
    # given a downgrade set for 1 May, then the line terminated on 10 April
    line = SubscriberFactory(account=account, plan=plan)
    waiting = order_plan_change_create(
        actor=supervisor,
        channel="console",
        subscriber=line,
        plan=PricePlanFactory(code="small", name="Small"),
        effective="next_bill_date",
    )
    order_submit(order=waiting, actor=supervisor)
    line_terminate(subscriber=line, actor=supervisor, reason="Moving abroad", channel="console")
    # when 1 May comes
    with time_machine.travel(dt.datetime(2026, 5, 1, 6, tzinfo=dt.UTC)):
        completed = orders_due_complete()
    # then the change was cancelled with the termination and grants the dead line nothing
    waiting.refresh_from_db()
    assert (completed, waiting.status) == (0, "cancelled")
    line.refresh_from_db()
    assert (line.status, line.plan) == ("terminated", plan)
    assert not Bucket.objects.filter(subscriber=line, valid_until__gt=timezone.now())


# --- one draft per quote form -------------------------------------------------------------------


def test_asking_for_the_same_quote_twice_gives_one_draft(csr, account, plan):
    # given a quote form's token
    MsisdnFactory(number="+447500000010")
    MsisdnFactory(number="+447500000011")
    sim = SimCardFactory()
    token = "5b0c6f60-0c5a-4f7c-9a5e-6a4e0a1f2b3c"
    values = {"actor": csr, "channel": "console", "account": account, "plan": plan}
    # when the CSR presses "Get quote" twice
    first = order_new_connection_create(
        **values, number_category="standard", iccid=sim.iccid, quote_token=token
    )
    second = order_new_connection_create(
        **values, number_category="standard", iccid=sim.iccid, quote_token=token
    )
    # then one draft holds one number and one SIM
    assert first.pk == second.pk
    assert Order.objects.count() == 1
    assert Msisdn.objects.filter(status="reserved").count() == 1
    # and another form (another token) is another quote
    other_sim = SimCardFactory()
    third = order_new_connection_create(
        **values,
        number_category="standard",
        iccid=other_sim.iccid,
        quote_token="0f7e6a4b-2d7c-4c1e-8f3a-1b2c3d4e5f60",
    )
    assert third.pk != first.pk


# --- scheduled jobs -----------------------------------------------------------------------------


def test_the_due_orders_job_goes_on_past_an_order_that_breaks(
    supervisor, account, plan, monkeypatch
):
    # given two plan changes due today, the first of which hits an unexpected error
    lines = [SubscriberFactory(account=account, plan=plan) for _ in range(2)]
    small = PricePlanFactory(code="small", name="Small")
    waiting = []
    for line in lines:
        order = order_plan_change_create(
            actor=supervisor,
            channel="console",
            subscriber=line,
            plan=small,
            effective="next_bill_date",
        )
        waiting.append(order_submit(order=order, actor=supervisor))
    real_apply = order_services._apply

    def apply(order, actor):
        if order.pk == waiting[0].pk:
            raise RuntimeError("disk full")
        return real_apply(order, actor)

    monkeypatch.setattr(order_services, "_apply", apply)
    # when
    done = orders_due_complete(on=waiting[0].effective_on)
    # then the broken one failed with a reason, the other completed, both as the system
    first, second = (Order.objects.get(pk=order.pk) for order in waiting)
    assert done == 1
    assert (first.status, first.failure_reason) == ("failed", "Failed on an internal error.")
    assert second.status == "completed"
    assert {
        event.actor.email
        for event in OrderEvent.objects.filter(order__in=waiting)
        .exclude(new_status="submitted")
        .exclude(new_status="draft")
    } == {"system@telecrm.invalid"}
    assert Subscriber.objects.get(pk=lines[1].pk).plan == small
    assert Subscriber.objects.get(pk=lines[0].pk).plan == plan


# --- proration by the plan's own period ---------------------------------------------------------


@time_machine.travel(dt.datetime(2026, 4, 12, 9, tzinfo=dt.UTC))
def test_terminating_a_weekly_plan_credits_the_days_left_of_its_week(supervisor, account):
    # given a £7 weekly plan the line started on Friday 10 April
    weekly = PricePlanFactory(
        code="week", name="Weekly", recurring_fee_amount=Decimal("7"), recurring_period="week"
    )
    line = SubscriberFactory(account=account, plan=weekly, plan_started_on=dt.date(2026, 4, 10))
    # when it ends on Sunday 12 April (12..16 April are left: 5 days)
    order = order_service_change_create(
        actor=supervisor, channel="console", subscriber=line, type="terminate", reason="Done"
    )
    quote = order_quote(order=order)
    order_place(order=order, actor=supervisor)
    # then
    [credit] = quote.proration
    assert credit.line.details["formula"] == "-7 × 5 / 7 days = -5.0000 → -5.00 GBP"
    assert (credit.line.details["period_start"], credit.line.details["period_end"]) == (
        "2026-04-10",
        "2026-04-16",
    )
    assert list(Charge.objects.values_list("amount", flat=True)) == [Decimal("-5.0000")]


@time_machine.travel(dt.datetime(2026, 4, 12, 9, tzinfo=dt.UTC))
def test_a_new_line_on_a_30_day_plan_starts_a_whole_period(csr, account):
    # given a £10 plan on a 30-day period, with 1 GB
    plan = PricePlanFactory(
        code="thirty", name="30 days", recurring_fee_amount=Decimal("10"), recurring_period="30d"
    )
    AllowanceFactory(plan=plan, service="data", quantity=Decimal("1024"))
    MsisdnFactory(number="+447500000012")
    # when
    order = order_new_connection_create(
        actor=csr,
        channel="console",
        account=account,
        plan=plan,
        msisdn="+447500000012",
        iccid=SimCardFactory().iccid,
    )
    quote = order_quote(order=order)
    order = order_place(order=order, actor=csr)
    # then nothing is prorated, and the allowance lasts the 30 days from today
    assert quote.proration == []
    line = order.subscriber
    assert line.plan_started_on == dt.date(2026, 4, 12)
    grant = Bucket.objects.get(subscriber=line)
    assert timezone.localtime(grant.valid_until).date() == dt.date(2026, 5, 12)
