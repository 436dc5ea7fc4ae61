"""Every door to a line change gives the same effects and the same refusals.

The doors: the console (the line row's buttons, the terminate order page), the subscriber API
(`/api/v1/subscribers/{id}/<change>/`), the orders API (place, then submit) and the service a
scheduled job calls (orders.lines). Whichever is used, the change is one order completed by
orders.services, so the line, its number, SIM, allowances, add-ons, charges and events end up
the same.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from billing.balances.models import Bucket
from billing.models import Charge
from billing.services import allowance_grant
from common.actors import system_actor
from common.errors import InvalidTransition
from crm.models import Subscriber, SubscriberEvent
from crm.tests.factories import AccountFactory, SubscriberFactory
from orders.inventory.models import Msisdn, SimCard
from orders.lines import LINE_ACTIONS
from orders.models import Order, SubscriberAddOn
from orders.placing import order_plan_change_create
from orders.services import order_submit
from orders.tests.factories import AddOnFactory, PricePlanFactory
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory

APRIL_16 = dt.datetime(2026, 4, 16, 9, tzinfo=dt.UTC)  # day 16 of a 30-day period: 15 left
DOORS = ["console", "subscriber api", "orders api", "job"]
STATUS_BEFORE = {
    "activate": "pending",
    "suspend": "active",
    "resume": "suspended",
    "terminate": "active",
}
STATUS_AFTER = {
    "activate": "active",
    "suspend": "suspended",
    "resume": "active",
    "terminate": "terminated",
}


@pytest.fixture
def plan(db):
    return PricePlanFactory(
        code="basic", name="Basic 10GB", recurring_fee_amount=Decimal("30"), proration="daily"
    )


@pytest.fixture
def stocked_line(customer, plan):
    """A line of Ada Lovelace on Basic 10GB, its number from the pool and its SIM from stock,
    holding an allowance and an add-on, with a plan change waiting for the period's end."""
    number = MsisdnFactory(number="+447500000123", status="assigned")
    sim = SimCardFactory(status="assigned")
    account = AccountFactory(customer=customer, bill_cycle_day=1)
    line = SubscriberFactory(
        account=account,
        plan=plan,
        msisdn=number.number,
        iccid=sim.iccid,
        imsi=sim.imsi,
        plan_started_on=dt.date(2026, 3, 1),
    )
    return line


def _given(line: Subscriber, change: str, actor: Any) -> None:
    Subscriber.objects.filter(pk=line.pk).update(status=STATUS_BEFORE[change])
    allowance_grant(
        subscriber=line,
        service="data",
        quantity=Decimal("10240"),
        source_key=f"plan:given:{line.pk}",
        description="Basic 10GB",
        actor=actor,
        valid_until=timezone.now() + dt.timedelta(days=14),
    )
    booster: Any = AddOnFactory(name="Booster")
    SubscriberAddOn.objects.create(
        subscriber=line,
        addon=booster,
        order=Order.objects.create(
            number=f"ORD-9{line.pk:07d}",
            type="add_on",
            status="completed",
            channel="console",
            placed_by=actor,
            customer=line.account.customer,
            account=line.account,
            subscriber=line,
        ),
        activated_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(days=20),
    )


def _through(door: str, change: str, line: Subscriber, actor: Any, client: Any) -> tuple[int, str]:
    """Make `change` on `line` through `door`: the outcome as an HTTP status (409 for a change
    the line's state refuses), and what the door said."""
    reason = "Customer asked"
    if door == "console":
        client.force_login(actor)
        if change == "terminate":
            page = reverse("orders:order-terminate", args=[line.public_id])
            placed = client.post(page, {"reason": reason})
            if placed.status_code != 302:  # the form again, with the refusal on it
                return 409, placed.content.decode()
            order = Order.objects.get(type="terminate", subscriber=line)
            done = client.post(reverse("orders:order-place", args=[order.public_id]), follow=True)
            return done.status_code, done.content.decode()
        url = reverse("crm:subscriber-status", args=[line.public_id])
        response = client.post(url, {"action": change, "reason": reason}, follow=True)
        page = response.content.decode()
        return (200 if "is now" in page else 409), page
    api = APIClient()
    api.force_authenticate(actor)
    if door == "subscriber api":
        url = f"/api/v1/subscribers/{line.public_id}/{change}/"
        answer = api.post(url, {"reason": reason}, format="json")
        return answer.status_code, answer.json()["message"] if answer.status_code >= 400 else ""
    if door == "orders api":
        body = {"type": change, "subscriber": str(line.public_id), "reason": reason}
        placed = api.post("/api/v1/orders/", body, format="json")
        if placed.status_code != 201:
            return placed.status_code, placed.json()["message"]
        url = f"/api/v1/orders/{placed.json()['public_id']}/submit/"
        return api.post(url, format="json").status_code, ""
    try:
        LINE_ACTIONS[change](subscriber=line, actor=actor, reason=reason, channel="api")
    except InvalidTransition as exc:
        return 409, exc.message
    return 200, ""


def _effects(line: Subscriber) -> dict[str, Any]:
    """What a change leaves behind, in words that do not depend on the door."""
    line.refresh_from_db()
    now = timezone.now()
    order = Order.objects.exclude(type="add_on").filter(subscriber=line).order_by("pk").last()
    return {
        "status": line.status,
        "order": (order.type, order.status) if order else None,
        "event": list(
            SubscriberEvent.objects.filter(subscriber=line).values_list(
                "old_status", "new_status", "reason"
            )
        ),
        "number": Msisdn.objects.get(number=line.msisdn).status,
        "sim": SimCard.objects.get(iccid=line.iccid).status,
        "live allowances": Bucket.objects.filter(subscriber=line, status="active")
        .exclude(valid_until__lte=now)
        .count(),
        "live add-ons": SubscriberAddOn.objects.filter(subscriber=line, expires_at__gt=now).count(),
        "charges": sorted(Charge.objects.filter(subscriber=line).values_list("kind", "amount")),
        "open orders": Order.objects.filter(
            subscriber=line, status__in=("draft", "submitted")
        ).count(),
    }


EXPECTED = {
    "activate": {
        "status": "active",
        "order": ("activate", "completed"),
        "number": "assigned",
        "sim": "assigned",
        # the plan's allowances start (the one given, plus the plan's own)
        "live add-ons": 1,
        "charges": [],
        "open orders": 1,
    },
    "suspend": {
        "status": "suspended",
        "order": ("suspend", "completed"),
        "number": "assigned",
        "sim": "assigned",
        "live allowances": 1,
        "live add-ons": 1,
        "charges": [],
        "open orders": 1,
    },
    "resume": {
        "status": "active",
        "order": ("resume", "completed"),
        "number": "assigned",
        "sim": "assigned",
        "live allowances": 1,
        "live add-ons": 1,
        "charges": [],
        "open orders": 1,
    },
    "terminate": {
        "status": "terminated",
        "order": ("terminate", "completed"),
        "number": "quarantined",
        "sim": "blocked",
        "live allowances": 0,
        "live add-ons": 0,
        "charges": [("proration_credit", Decimal("-15.0000"))],
        "open orders": 0,  # the waiting plan change was cancelled
    },
}


@time_machine.travel(APRIL_16)
@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("change", ["activate", "suspend", "resume", "terminate"])
def test_every_door_has_the_same_effects(door, change, stocked_line, supervisor, client, plan):
    # given a line with a plan change waiting for the end of its period, then put in the
    # status the change starts from, holding an allowance and an add-on
    actor = system_actor() if door == "job" else supervisor
    waiting = order_plan_change_create(
        actor=supervisor,
        channel="console",
        subscriber=stocked_line,
        plan=PricePlanFactory(code="max", name="Max"),
        effective="next_bill_date",
    )
    order_submit(order=waiting, actor=supervisor)
    _given(stocked_line, change, supervisor)
    # when
    status, _ = _through(door, change, stocked_line, actor, client)
    # then
    assert status == 200
    effects = _effects(stocked_line)
    assert {key: effects[key] for key in EXPECTED[change]} == EXPECTED[change]
    assert effects["event"][-1] == (STATUS_BEFORE[change], STATUS_AFTER[change], "Customer asked")
    event = SubscriberEvent.objects.filter(subscriber=stocked_line).order_by("pk").last()
    assert event.actor == actor
    order = Order.objects.get(type=change, subscriber=stocked_line)
    assert order.placed_by == actor
    if change == "activate":
        assert effects["live allowances"] >= 1
    if change == "terminate":
        waiting.refresh_from_db()
        assert (waiting.status, waiting.events.last().reason) == (
            "cancelled",
            f"Line terminated by order {order.number}",
        )


@time_machine.travel(APRIL_16)
@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(
    ("change", "status_now", "message"),
    [
        ("resume", "active", "+44 7500 000123 is active; it cannot be resumed."),
        ("suspend", "terminated", "+44 7500 000123 is terminated; it cannot be suspended."),
        ("activate", "suspended", "+44 7500 000123 is suspended; it cannot be activated."),
        ("terminate", "terminated", "+44 7500 000123 is terminated; it cannot be terminated."),
    ],
)
def test_every_door_refuses_the_same_changes_and_writes_nothing(
    door, change, status_now, message, stocked_line, supervisor, client
):
    # given
    Subscriber.objects.filter(pk=stocked_line.pk).update(status=status_now)
    actor = system_actor() if door == "job" else supervisor
    before = _effects(stocked_line)
    # when
    status, said = _through(door, change, stocked_line, actor, client)
    # then: the line's state refuses it (409) with the same words, and nothing changes
    assert status == 409
    assert message in said
    assert _effects(stocked_line) == before
    assert not Order.objects.filter(subscriber=stocked_line).exclude(type="add_on").exists()
