"""Who may open each order page and do each order action; denied requests change nothing.

The console is for CSRs and supervisors: admins, resellers and subscribers are refused (403)
and anonymous visitors are sent to sign in. Terminating needs a supervisor. An id nobody may
see answers 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from crm.models import Subscriber
from crm.tests.factories import SubscriberFactory
from orders.inventory.models import Msisdn, SimCard
from orders.models import Order, OrderEvent
from orders.placing import order_new_connection_create
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory

from .conftest import new_line_data

ROLES = [
    ("csr", "ok"),
    ("supervisor", "ok"),
    ("admin", 403),
    ("reseller_a", 403),
    ("subscriber", 403),
    (None, "sign in"),
]


class World:
    """A customer's line on the £30 plan, a second suspended line, the catalog (the £45 plan
    to move to or sell, a booster) and a draft order."""

    def __init__(self, csr: Any, line: Any, current: Any, plan: Any, booster: Any) -> None:
        line.plan = current
        line.save(update_fields=["plan"])
        self.line = line
        self.account = line.account
        self.plan = plan
        self.booster = booster
        self.suspended = SubscriberFactory(account=line.account, status="suspended")
        self.order = order_new_connection_create(
            actor=csr,
            channel="console",
            account=line.account,
            plan=plan,
            msisdn=str(MsisdnFactory().number),
            iccid=str(SimCardFactory().iccid),
        )


@pytest.fixture
def world(csr, line, plan_30, plan_45, booster):
    return World(csr, line, plan_30, plan_45, booster)


def _url(name: str, target: Any) -> str:
    return reverse(f"orders:{name}", args=[target.public_id])


PAGES: list[tuple[str, Callable[[World], Any]]] = [
    ("order-new-connection", lambda w: w.account),
    ("order-detail", lambda w: w.order),
    ("order-plan-change", lambda w: w.line),
    ("order-addon", lambda w: w.line),
    ("order-sim-swap", lambda w: w.line),
    ("order-suspend", lambda w: w.line),
    ("order-resume", lambda w: w.suspended),
    ("order-terminate", lambda w: w.line),
]

# Only supervisors (and admins, who have no console) may terminate lines.
SUPERVISOR_ONLY = {"order-terminate"}


def _expected(name: str, actor: str | None, outcome: Any) -> Any:
    if name in SUPERVISOR_ONLY and actor == "csr":
        return 403
    return outcome


def _sign_in(client: Any, request: pytest.FixtureRequest, actor: str | None) -> None:
    if actor is not None:
        client.force_login(request.getfixturevalue(actor))


def _assert_sent_to_sign_in(response: Any) -> None:
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login") + "?next=")


@pytest.mark.parametrize(("name", "target"), PAGES, ids=[p[0] for p in PAGES])
@pytest.mark.parametrize(("actor", "outcome"), ROLES, ids=[r[0] or "anonymous" for r in ROLES])
def test_order_pages_open_only_to_the_console(name, target, actor, outcome, client, request, world):
    # given
    _sign_in(client, request, actor)
    expected = _expected(name, actor, outcome)
    # when
    response = client.get(_url(name, target(world)))
    # then
    if expected == "sign in":
        _assert_sent_to_sign_in(response)
    elif expected == "ok":
        assert response.status_code == 200
    else:
        assert response.status_code == expected
        assert b"Not allowed" in response.content


def _snapshot() -> dict[str, Any]:
    """Everything an order action could write."""
    return {
        "orders": sorted(Order.objects.values_list("number", "type", "status")),
        "events": OrderEvent.objects.count(),
        "numbers": sorted(Msisdn.objects.values_list("number", "status")),
        "sims": sorted(SimCard.objects.values_list("iccid", "status")),
        "lines": sorted(Subscriber.objects.values_list("msisdn", "status", "plan_id", "iccid")),
    }


def _new_line(w: World) -> tuple[str, dict[str, Any]]:
    data = new_line_data(w.plan, str(MsisdnFactory().number), str(SimCardFactory().iccid))
    return _url("order-new-connection", w.account), data


ACTIONS: list[tuple[str, Callable[[World], tuple[str, dict[str, Any]]]]] = [
    ("new line", _new_line),
    (
        "plan change",
        lambda w: (
            _url("order-plan-change", w.line),
            {"plan": str(w.plan.public_id), "effective": "now"},
        ),
    ),
    ("add-on", lambda w: (_url("order-addon", w.line), {"addon": str(w.booster.public_id)})),
    (
        "SIM swap",
        lambda w: (
            _url("order-sim-swap", w.line),
            {"iccid": SimCardFactory().iccid, "reason": "Lost"},
        ),
    ),
    ("suspend", lambda w: (_url("order-suspend", w.line), {"reason": "Unpaid"})),
    ("resume", lambda w: (_url("order-resume", w.suspended), {"reason": "Paid"})),
    ("terminate", lambda w: (_url("order-terminate", w.line), {"reason": "Moved"})),
    ("submit", lambda w: (_url("order-place", w.order), {})),
    ("cancel", lambda w: (_url("order-cancel", w.order), {"reason": "Changed mind"})),
]


@pytest.mark.parametrize(("action", "build"), ACTIONS, ids=[a[0] for a in ACTIONS])
@pytest.mark.parametrize(("actor", "outcome"), ROLES, ids=[r[0] or "anonymous" for r in ROLES])
def test_order_actions_are_refused_without_changing_anything(
    action, build, actor, outcome, client, request, world
):
    # given
    url, data = build(world)
    _sign_in(client, request, actor)
    expected = 403 if action == "terminate" and actor == "csr" else outcome
    before = _snapshot()
    # when
    response = client.post(url, data)
    # then
    if expected == "ok":
        assert response.status_code == 302
        assert response.url.startswith("/console/orders/")
        assert _snapshot() != before
        return
    if expected == "sign in":
        _assert_sent_to_sign_in(response)
    else:
        assert response.status_code == expected
    assert _snapshot() == before


@pytest.mark.parametrize(("name", "target"), PAGES, ids=[p[0] for p in PAGES])
def test_unknown_ids_answer_404(name, target, supervisor_client, world):
    # given
    unknown = type("Unknown", (), {"public_id": uuid.uuid4()})()
    # when
    response = supervisor_client.get(_url(name, unknown))
    # then
    assert response.status_code == 404


def test_order_urls_sit_under_the_console(world):
    assert _url("order-detail", world.order) == f"/console/orders/{world.order.public_id}/"
