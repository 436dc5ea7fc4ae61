"""The order pipeline: quote, submit, complete (all effects once), cancel, and proration."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, connections

from billing.balances.models import Bucket
from billing.models import Charge
from common.errors import ApplicationError, InvalidTransition
from common.money import Money
from crm.models import Subscriber
from crm.tests.factories import AccountFactory, SubscriberFactory, UserFactory
from orders.inventory.models import DeviceItem, Msisdn, SimCard
from orders.models import Order, OrderEvent, SubscriberAddOn
from orders.placing import (
    order_addon_create,
    order_new_connection_create,
    order_plan_change_create,
    order_service_change_create,
    order_sim_swap_create,
)
from orders.services import (
    order_cancel,
    order_complete,
    order_place,
    order_quote,
    order_submit,
    orders_due_complete,
)
from orders.tasks import orders_stale_drafts_cancel_task
from orders.tests.factories import (
    AddOnFactory,
    AllowanceFactory,
    DeviceFactory,
    DeviceItemFactory,
    PricePlanFactory,
)
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory

APRIL_10 = dt.datetime(2026, 4, 10, 9, tzinfo=dt.UTC)  # day 10 of a 30-day bill period


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


@pytest.fixture
def plan_30(db):
    plan = PricePlanFactory(code="basic", name="Basic 10GB", recurring_fee_amount=Decimal("30"))
    AllowanceFactory(plan=plan, service="data", quantity=Decimal("10240"))
    return plan


@pytest.fixture
def plan_45(db):
    plan = PricePlanFactory(
        code="max",
        name="Max 100GB",
        recurring_fee_amount=Decimal("45"),
        activation_fee_amount=Decimal("10"),
    )
    AllowanceFactory(plan=plan, service="data", quantity=Decimal("102400"))
    return plan


@pytest.fixture
def account(db):
    return AccountFactory(bill_cycle_day=1, payment_type="postpaid", currency="GBP")


@time_machine.travel(APRIL_10)
def test_new_connection_with_device_and_add_on_is_quoted_then_applied_once(csr, account, plan_45):
    # given a golden number, a SIM, a router and a booster
    MsisdnFactory(number="+447777000000", category="golden", price_amount=Decimal("50"))
    sim = SimCardFactory()
    router = DeviceFactory(name="5G router", price_amount=Decimal("49"))
    DeviceItemFactory(device=router, serial="R-1")
    booster = AddOnFactory(name="Data booster 5GB", price_amount=Decimal("5"))
    AllowanceFactory(plan=None, addon=booster, service="data", quantity=Decimal("5120"))
    # when the CSR places the order
    order = order_new_connection_create(
        actor=csr,
        channel="console",
        account=account,
        plan=plan_45,
        msisdn="07777 000000",
        iccid=sim.iccid,
        addons=[booster],
        devices=[router],
    )
    quote = order_quote(order=order)
    # then the quote shows every figure, the proration with its formula
    assert quote.one_time_total == gbp(
        "114.00"
    )  # number 50 + activation 10 + router 49 + booster 5
    assert quote.recurring_total == gbp("45.00")
    assert [
        (p.line.kind, p.line.one_time_amount, p.charged, p.line.details["days"])
        for p in quote.proration
    ] == [("proration_debit", Decimal("31.50"), gbp("31.50"), 21)]
    assert quote.proration[0].line.details["formula"] == "45 × 21 / 30 days = 31.5000 → 31.50 GBP"
    assert quote.due_now == gbp("145.50")
    assert Msisdn.objects.get(number="+447777000000").status == "reserved"
    # when it is placed (submitted and, taking effect today, completed at once)
    order = order_place(order=order, actor=csr)
    # then every effect happened
    line = Subscriber.objects.get(msisdn="+447777000000")
    assert (line.status, line.plan, line.iccid) == ("active", plan_45, sim.iccid)
    assert order.status == "completed"
    assert order.subscriber == line
    assert Msisdn.objects.get(number="+447777000000").status == "assigned"
    assert SimCard.objects.get(pk=sim.pk).status == "assigned"
    assert DeviceItem.objects.get(serial="R-1").status == "sold"
    assert SubscriberAddOn.objects.get(subscriber=line).addon == booster
    assert sorted(bucket.quantity for bucket in Bucket.objects.filter(subscriber=line)) == [
        Decimal("5120.00"),
        Decimal("102400.00"),
    ]
    assert sorted(Charge.objects.filter(account=account).values_list("amount", flat=True)) == [
        Decimal("5.00"),
        Decimal("10.00"),
        Decimal("31.50"),
        Decimal("49.00"),
        Decimal("50.00"),
    ]
    assert list(OrderEvent.objects.filter(order=order).values_list("new_status", flat=True)) == [
        "draft",
        "submitted",
        "in_progress",
        "completed",
    ]
    # and it cannot be applied twice
    with pytest.raises(InvalidTransition):
        order_complete(order=order, actor=csr)
    assert Charge.objects.filter(account=account).count() == 5
    assert Subscriber.objects.filter(msisdn="+447777000000").count() == 1


@time_machine.travel(APRIL_10)
def test_upgrade_on_day_10_credits_and_debits_21_days(csr, account, plan_30, plan_45):
    # given a line on the £30 plan
    line = SubscriberFactory(account=account, plan=plan_30)
    # when it moves to £45 now
    order = order_plan_change_create(actor=csr, channel="console", subscriber=line, plan=plan_45)
    # then
    quote = order_quote(order=order)
    assert [(p.line.description, p.line.one_time_amount) for p in quote.proration] == [
        ("Unused 21 days of Basic 10GB", Decimal("-21.00")),
        ("21 days of Max 100GB", Decimal("31.50")),
    ]
    assert quote.proration_total == gbp("10.50")
    assert quote.recurring_total == gbp("45.00")
    order_complete(order=order_submit(order=order, actor=csr), actor=csr)
    line.refresh_from_db()
    assert line.plan == plan_45
    assert sorted(Charge.objects.values_list("kind", "amount")) == [
        ("proration_credit", Decimal("-21.00")),
        ("proration_debit", Decimal("31.50")),
    ]
    live = Bucket.objects.filter(subscriber=line, valid_until__gt=APRIL_10)
    assert [grant.quantity for grant in live] == [Decimal("102400.00")]


@time_machine.travel(APRIL_10)
def test_downgrade_at_the_next_bill_date_waits_and_prorates_nothing(csr, account, plan_30, plan_45):
    # given
    line = SubscriberFactory(account=account, plan=plan_45)
    # when
    order = order_plan_change_create(
        actor=csr, channel="console", subscriber=line, plan=plan_30, effective="next_bill_date"
    )
    order = order_submit(order=order, actor=csr)
    # then
    assert order.effective_on == dt.date(2026, 5, 1)
    assert order_quote(order=order).proration == []
    assert orders_due_complete(on=dt.date(2026, 4, 30)) == 0
    line.refresh_from_db()
    assert line.plan == plan_45
    assert orders_due_complete(on=dt.date(2026, 5, 1)) == 1
    line.refresh_from_db()
    assert line.plan == plan_30
    assert not Charge.objects.exists()


@time_machine.travel(dt.datetime(2026, 4, 16, 9, tzinfo=dt.UTC))
def test_mid_period_termination_credits_15_days_and_rests_the_number(supervisor, account, plan_30):
    # given a line whose number came from the pool
    MsisdnFactory(number="+447500000123", status="assigned")
    line = SubscriberFactory(account=account, plan=plan_30, msisdn="+447500000123")
    # when
    order = order_service_change_create(
        actor=supervisor,
        channel="console",
        subscriber=line,
        type="terminate",
        reason="Moved abroad",
    )
    assert order_quote(order=order).proration_total == gbp("-15.00")
    order_complete(order=order_submit(order=order, actor=supervisor), actor=supervisor)
    # then
    line.refresh_from_db()
    assert line.status == "terminated"
    assert Msisdn.objects.get(number="+447500000123").status == "quarantined"
    assert list(Charge.objects.values_list("amount", flat=True)) == [Decimal("-15.00")]


def test_cancel_returns_number_sim_and_device_to_stock(csr, account, plan_30):
    MsisdnFactory(number="+447500000001")
    sim = SimCardFactory()
    item = DeviceItemFactory()
    order = order_new_connection_create(
        actor=csr,
        channel="console",
        account=account,
        plan=plan_30,
        msisdn="+447500000001",
        iccid=sim.iccid,
        devices=[item.device],
    )
    order_cancel(order=order, actor=csr, reason="Customer changed their mind")
    assert Msisdn.objects.get(number="+447500000001").status == "available"
    assert SimCard.objects.get(pk=sim.pk).status == "in_stock"
    assert DeviceItem.objects.get(pk=item.pk).status == "in_stock"
    with pytest.raises(InvalidTransition):
        order_submit(order=Order.objects.get(pk=order.pk), actor=csr)


def test_draft_cannot_be_completed(csr, account, plan_30, plan_45):
    line = SubscriberFactory(account=account, plan=plan_30)
    order = order_plan_change_create(actor=csr, channel="console", subscriber=line, plan=plan_45)
    with pytest.raises(InvalidTransition):
        order_complete(order=order, actor=csr)
    line.refresh_from_db()
    assert line.plan == plan_30


@pytest.mark.parametrize(
    ("plan_overrides", "field"),
    [
        ({"eligible_channels": ["console"]}, "plan"),  # sold through the partner channel
        ({"payment_type": "prepaid"}, "plan"),  # the account is postpaid
        ({"status": "retired"}, "plan"),
        ({"currency": "EUR"}, "plan"),
    ],
)
def test_plans_not_on_sale_to_this_customer_are_refused(csr, account, plan_overrides, field):
    plan = PricePlanFactory(**plan_overrides)
    MsisdnFactory(number="+447500000002")
    sim = SimCardFactory()
    with pytest.raises(ApplicationError) as caught:
        order_new_connection_create(
            actor=csr,
            channel="partner",
            account=account,
            plan=plan,
            msisdn="+447500000002",
            iccid=sim.iccid,
        )
    assert field in caught.value.fields
    assert not Order.objects.exists()
    assert Msisdn.objects.get(number="+447500000002").status == "available"


def test_conflicting_or_ineligible_add_ons_are_refused(csr, account, plan_30):
    eu_small = AddOnFactory(name="EU 1GB")
    eu_big = AddOnFactory(name="EU 5GB", conflicts=[eu_small])
    other_plan_only = AddOnFactory(name="Max only", plan_codes=["max"])
    line = SubscriberFactory(account=account, plan=plan_30)
    order_complete(
        order=order_submit(
            order=order_addon_create(actor=csr, channel="console", subscriber=line, addon=eu_small),
            actor=csr,
        ),
        actor=csr,
    )
    for addon, message in (
        (eu_big, "cannot be held together"),
        (other_plan_only, "cannot be bought on"),
        (eu_small, "cannot be held twice"),
    ):
        with pytest.raises(ApplicationError) as caught:
            order_addon_create(actor=csr, channel="console", subscriber=line, addon=addon)
        assert message in caught.value.fields["addons"][0]
    assert Order.objects.count() == 1


def test_sim_swap_keeps_the_number_and_blocks_the_old_sim(csr, account, plan_30):
    old = SimCardFactory(status="assigned")
    line = SubscriberFactory(account=account, plan=plan_30, iccid=old.iccid, imsi=old.imsi)
    new = SimCardFactory()
    order = order_sim_swap_create(
        actor=csr, channel="console", subscriber=line, iccid=new.iccid, reason="Phone stolen"
    )
    order_complete(order=order_submit(order=order, actor=csr), actor=csr)
    number = line.msisdn
    line.refresh_from_db()
    assert (line.msisdn, line.iccid, line.imsi) == (number, new.iccid, new.imsi)
    assert SimCard.objects.get(pk=old.pk).status == "blocked"
    assert SimCard.objects.get(pk=new.pk).status == "assigned"


def test_resume_of_an_active_line_is_refused(csr, account):
    line = SubscriberFactory(account=account)
    with pytest.raises(InvalidTransition) as caught:
        order_service_change_create(
            actor=csr, channel="console", subscriber=line, type="resume", reason="x"
        )
    assert caught.value.message == f"{line.msisdn_display} is active; it cannot be resumed."
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("old", "new", "allowed"),
    [
        ("draft", "submitted", True),
        ("draft", "cancelled", True),
        ("draft", "completed", False),
        ("submitted", "in_progress", True),
        ("submitted", "cancelled", True),
        ("in_progress", "completed", True),
        ("in_progress", "cancelled", False),
        ("completed", "cancelled", False),
        ("cancelled", "submitted", False),
        ("failed", "submitted", False),
    ],
)
def test_transition_table(old, new, allowed):
    assert (new in Order.TRANSITIONS[old]) is allowed


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_orders_for_one_number_leave_one_order():
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency needs PostgreSQL")
    actor = UserFactory()
    plan = PricePlanFactory()
    MsisdnFactory(number="+447500000777")
    accounts = [AccountFactory(), AccountFactory()]
    sims = [SimCardFactory(), SimCardFactory()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def sell(index: int) -> None:
        try:
            barrier.wait()
            order_new_connection_create(
                actor=actor,
                channel="console",
                account=accounts[index],
                plan=plan,
                msisdn="+447500000777",
                iccid=sims[index].iccid,
            )
            outcomes.append("placed")
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sell, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 2
    assert outcomes.count("placed") == 1
    assert Order.objects.count() == 1
    assert SimCard.objects.filter(status="reserved").count() == 1


def test_eligible_add_ons_leave_out_what_the_line_holds_and_its_conflicts(csr, account, plan_30):
    # given a line holding the small EU pack
    from rest_framework.test import APIClient

    eu_small = AddOnFactory(name="EU 1GB")
    AddOnFactory(name="EU 5GB", conflicts=[eu_small])
    stackable = AddOnFactory(name="Booster", stackable=True)
    line = SubscriberFactory(account=account, plan=plan_30)
    order = order_addon_create(actor=csr, channel="console", subscriber=line, addon=eu_small)
    order_complete(order=order_submit(order=order, actor=csr), actor=csr)
    client = APIClient()
    client.force_login(csr)
    # when
    response = client.get(f"/api/v1/catalog/subscribers/{line.public_id}/eligible-addons/")
    # then
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == [stackable.name]


def test_a_completion_the_inventory_refuses_fails_the_order_and_releases_the_rest(
    csr, account, plan_30
):
    # given an order whose number was sold elsewhere after its reservation lapsed
    MsisdnFactory(number="+447500000003")
    sim = SimCardFactory()
    order = order_new_connection_create(
        actor=csr,
        channel="console",
        account=account,
        plan=plan_30,
        msisdn="+447500000003",
        iccid=sim.iccid,
    )
    Msisdn.objects.filter(number="+447500000003").update(status="assigned", reservation_ref="")
    # when
    order = order_place(order=order, actor=csr)
    # then nothing was applied and the SIM went back to stock
    assert order.status == "failed"
    assert order.failure_reason
    assert not Subscriber.objects.filter(msisdn="+447500000003").exists()
    assert SimCard.objects.get(pk=sim.pk).status == "in_stock"
    assert not Charge.objects.exists()


def test_a_number_or_sim_already_taken_is_refused_on_its_field(csr, account, plan_30):
    # given a number and a SIM that belong to live lines
    MsisdnFactory(number="+447500000004", status="assigned")
    MsisdnFactory(number="+447500000005")
    used_sim = SimCardFactory(status="assigned")
    free_sim = SimCardFactory()
    # when
    with pytest.raises(ApplicationError) as number_taken:
        order_new_connection_create(
            actor=csr,
            channel="api",
            account=account,
            plan=plan_30,
            msisdn="+447500000004",
            iccid=free_sim.iccid,
        )
    with pytest.raises(ApplicationError) as sim_taken:
        order_new_connection_create(
            actor=csr,
            channel="api",
            account=account,
            plan=plan_30,
            msisdn="+447500000005",
            iccid=used_sim.iccid,
        )
    # then each is bad input naming its field, not a refused transition of the order
    assert not isinstance(number_taken.value, InvalidTransition)
    assert (number_taken.value.code, number_taken.value.fields) == (
        "unavailable",
        {"msisdn": ["+44 7500 000004 is assigned; it cannot become reserved."]},
    )
    assert (sim_taken.value.code, sim_taken.value.fields) == (
        "unavailable",
        {"iccid": [f"SIM {used_sim.iccid} is assigned; it cannot become reserved."]},
    )
    assert not Order.objects.exists()
    assert Msisdn.objects.get(number="+447500000005").status == "available"


def test_a_sim_swap_to_a_sim_in_use_is_refused_on_the_iccid(csr, account, plan_30):
    # given
    line = SubscriberFactory(account=account, plan=plan_30)
    used = SimCardFactory(status="assigned")
    # when
    with pytest.raises(ApplicationError) as caught:
        order_sim_swap_create(
            actor=csr, channel="api", subscriber=line, iccid=used.iccid, reason="Stolen"
        )
    # then
    assert (caught.value.code, list(caught.value.fields)) == ("unavailable", ["iccid"])
    assert not Order.objects.exists()


def test_two_add_ons_that_conflict_are_reported_once(csr, account, plan_30):
    # given
    small = AddOnFactory(name="EU 1GB")
    big = AddOnFactory(name="EU 5GB", conflicts=[small])
    MsisdnFactory(number="+447500000006")
    sim = SimCardFactory()
    # when
    with pytest.raises(ApplicationError) as caught:
        order_new_connection_create(
            actor=csr,
            channel="console",
            account=account,
            plan=plan_30,
            msisdn="+447500000006",
            iccid=sim.iccid,
            addons=[small, big],
        )
    # then
    assert caught.value.fields == {"addons": ["EU 1GB and EU 5GB cannot be held together."]}


def test_a_plan_not_on_sale_says_to_whom_and_where(csr, account):
    # given
    plan = PricePlanFactory(name="Console only", eligible_channels=["console"])
    # when
    with pytest.raises(ApplicationError) as caught:
        order_plan_change_create(
            actor=csr, channel="api", subscriber=SubscriberFactory(account=account), plan=plan
        )
    # then
    assert caught.value.fields == {
        "plan": ["Console only v1 is not on sale to individual postpaid customers in the API."]
    }


def test_unsubmitted_quotes_are_cancelled_once_their_reservations_lapse(csr, account, plan_30):
    # given a draft from an hour ago whose number has since been reserved by another sale
    MsisdnFactory(number="+447500000004")
    sim = SimCardFactory()
    with time_machine.travel(dt.datetime(2026, 4, 10, 9, tzinfo=dt.UTC)):
        stale = order_new_connection_create(
            actor=csr,
            channel="console",
            account=account,
            plan=plan_30,
            msisdn="+447500000004",
            iccid=sim.iccid,
        )
    Msisdn.objects.filter(number="+447500000004").update(reservation_ref="ORD-99999999")
    fresh = order_plan_change_create(
        actor=csr,
        channel="console",
        subscriber=SubscriberFactory(account=account, plan=plan_30),
        plan=PricePlanFactory(),
    )
    # when
    cancelled = orders_stale_drafts_cancel_task.apply().get()
    # then the stale draft is cancelled, its SIM freed, the other sale's hold untouched
    assert cancelled == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, fresh.status) == ("cancelled", "draft")
    assert SimCard.objects.get(pk=sim.pk).status == "in_stock"
    number = Msisdn.objects.get(number="+447500000004")
    assert (number.status, number.reservation_ref) == ("reserved", "ORD-99999999")
