"""New customer, billing account and the quote for the first line in one form: all written, or
nothing. The line itself comes from stock through a new-connection order, when it is submitted."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from common.forms import DATE_ERROR
from common.roles import permissions_from_names
from crm.models import Account, Address, Customer, Subscriber, SubscriberEvent
from crm.tests.factories import UserFactory
from orders.inventory.models import InventoryEvent, Msisdn, SimCard
from orders.models import Order
from orders.tests.factories import AllowanceFactory, PricePlanFactory
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory

URL = "/console/customers/new/"
# Day 10 of a 30-day bill period for an account billed on the 1st.
APRIL_10 = dt.datetime(2026, 4, 10, 9, tzinfo=dt.UTC)
TODAY = dt.date(2026, 4, 10)


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(APRIL_10, tick=False):
        yield


@pytest.fixture
def plan(db):
    """Basic 10GB: postpaid, GBP, £30 a month, on sale in the console."""
    plan = PricePlanFactory(code="basic", name="Basic 10GB", recurring_fee_amount=Decimal("30"))
    AllowanceFactory(plan=plan, service="data", quantity=Decimal("10240"))
    return plan


@pytest.fixture
def number(db):
    return MsisdnFactory(number="+447500900001")


@pytest.fixture
def sim(db):
    return SimCardFactory()


def _valid(plan, sim, **changes):
    data = {
        "kind": "individual",
        "first_name": "Grace",
        "last_name": "Hopper",
        "date_of_birth": "1990-12-09",
        "email": "Grace@Example.org",
        "phone": "020 7946 0000",
        "address_line1": "1 Navy Way",
        "address_city": "London",
        "address_postcode": "sw1a 1aa",
        "address_country": "GB",
        "payment_type": "postpaid",
        "currency": "GBP",
        "bill_cycle_day": "1",
        "credit_limit_amount": "250.50",
        "plan": str(plan.public_id),
        "msisdn": "next-standard",
        "iccid": sim.iccid,
        "quote_token": str(uuid.uuid4()),
    }
    data.update(changes)
    return data


def _port_in(plan, sim, port_date, **changes):
    return _valid(
        plan,
        sim,
        msisdn="port-in",
        port_msisdn="07400 555111",
        donor_operator="EE",
        port_date=port_date.isoformat(),
        **changes,
    )


def _snapshot() -> dict[str, Any]:
    """Everything creating a customer could write."""
    return {
        "customers": Customer.objects.count(),
        "accounts": Account.objects.count(),
        "addresses": Address.objects.count(),
        "lines": Subscriber.objects.count(),
        "line events": SubscriberEvent.objects.count(),
        "orders": Order.objects.count(),
        "numbers": sorted(Msisdn.objects.values_list("number", "status")),
        "sims": sorted(SimCard.objects.values_list("iccid", "status")),
        "stock events": InventoryEvent.objects.count(),
    }


def _field_errors(response, name):
    return [str(message) for message in response.context["form"].errors.get(name, [])]


def test_url_is_the_one_the_menu_links_to():
    assert reverse("crm:customer-create") == URL


def test_form_offers_every_field(csr_client, plan):
    # when
    response = csr_client.get(URL)
    # then
    html = response.content.decode()
    assert response.status_code == 200
    for name in (
        "kind",
        "first_name",
        "company_name",
        "date_of_birth",
        "address_line1",
        "payment_type",
        "currency",
        "bill_cycle_day",
        "credit_limit_amount",
        "plan",
        "msisdn",
        "port_msisdn",
        "donor_operator",
        "port_date",
        "iccid",
        "quote_token",
    ):
        assert f'name="{name}"' in html
    assert 'name="imsi"' not in html
    assert 'name="activate"' not in html
    assert '<option value="EUR">EUR</option>' in html
    assert 'type="hidden" name="quote_token"' in html
    assert 'name="msisdn" value="next-standard" checked' in html
    assert 'name="msisdn" value="port-in"' in html
    for operator in settings.PORT_IN_DONOR_OPERATORS:
        assert f'<option value="{operator}">{operator}</option>' in html


def test_plans_offered_are_those_on_sale_in_the_console(csr_client, plan):
    # given
    shop_only = PricePlanFactory(name="Shop only", eligible_channels=["partner"])
    retired = PricePlanFactory(name="Old plan", status="retired")
    draft = PricePlanFactory(name="Work in progress", status="draft")
    # when
    html = csr_client.get(URL).content.decode()
    # then
    assert f'<option value="{plan.public_id}">Basic 10GB (postpaid, £30.00 monthly)' in html
    for other in (shop_only, retired, draft):
        assert other.name not in html
        assert str(other.public_id) not in html


def test_create_writes_customer_and_account_and_quotes_the_first_line(
    csr_client, csr, plan, number, sim
):
    # when
    response = csr_client.post(URL, _valid(plan, sim))
    # then: the customer and the account
    customer = Customer.objects.get(last_name="Hopper")
    assert (customer.first_name, customer.email, customer.phone) == (
        "Grace",
        "grace@example.org",
        "+442079460000",
    )
    assert customer.date_of_birth == dt.date(1990, 12, 9)
    address = customer.addresses.get()
    assert (address.line1, address.city, address.postcode, address.country) == (
        "1 Navy Way",
        "London",
        "SW1A 1AA",
        "GB",
    )
    account = customer.accounts.get()
    assert (account.payment_type, account.currency, account.bill_cycle_day) == (
        "postpaid",
        "GBP",
        1,
    )
    assert account.credit_limit_amount == Decimal("250.5000")
    # and a draft new-connection order with the number and SIM reserved, but no line yet
    order = Order.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("orders:order-detail", args=[order.public_id])
    assert (order.type, order.status, order.channel, order.placed_by) == (
        "new_connection",
        "draft",
        "console",
        csr,
    )
    assert (order.customer, order.account, order.plan) == (customer, account, plan)
    assert (order.msisdn, order.sim, order.ported_msisdn) == (number, sim, "")
    assert Msisdn.objects.get(pk=number.pk).status == "reserved"
    assert SimCard.objects.get(pk=sim.pk).status == "reserved"
    assert not Subscriber.objects.exists()
    assert list(
        order.lines.values_list("kind", "one_time_amount", "recurring_amount", "currency")
    ) == [
        ("number", Decimal("0.0000"), Decimal("0.0000"), "GBP"),
        ("sim", Decimal("0.0000"), Decimal("0.0000"), "GBP"),
        ("plan", Decimal("0.0000"), Decimal("30.0000"), "GBP"),
        ("proration_debit", Decimal("21.0000"), Decimal("0.0000"), "GBP"),
    ]
    page = csr_client.get(response.url).content.decode()
    assert (
        f"Grace Hopper is customer {customer.number}, account {account.number}. "
        "The first line is quoted below: submit it to connect the line."
    ) in page
    assert "Number +447500900001 (Standard)" in page


def test_submitting_the_quote_connects_the_line_from_stock(csr_client, csr, plan, number, sim):
    # given
    csr_client.post(URL, _valid(plan, sim))
    order = Order.objects.get()
    # when
    response = csr_client.post(reverse("orders:order-place", args=[order.public_id]))
    # then
    order.refresh_from_db()
    line = Subscriber.objects.get()
    assert response.status_code == 302
    assert order.status == "completed"
    assert order.subscriber == line
    assert (line.account, line.msisdn, line.iccid, line.imsi, line.status, line.plan) == (
        order.account,
        "+447500900001",
        sim.iccid,
        sim.imsi,
        "active",
        plan,
    )
    assert Msisdn.objects.get(pk=number.pk).status == "assigned"
    assert SimCard.objects.get(pk=sim.pk).status == "assigned"
    assert SubscriberEvent.objects.filter(subscriber=line, actor=csr).exists()


def test_next_standard_number_takes_the_first_available(csr_client, plan, sim):
    # given
    MsisdnFactory(number="+447500900003")
    MsisdnFactory(number="+447500900002")
    MsisdnFactory(number="+447500900001", category="golden")
    # when
    csr_client.post(URL, _valid(plan, sim))
    # then
    assert Order.objects.get().msisdn.number == "+447500900002"


def test_create_business_on_prepaid(csr_client, number, sim):
    # given: a prepaid plan, and the hidden individual fields still hold something
    prepaid = PricePlanFactory(name="Pay as you go", payment_type="prepaid")
    data = _valid(
        prepaid,
        sim,
        kind="business",
        company_name="Hopper Compilers Ltd",
        company_number="0123",
        first_name="",
        last_name="",
        date_of_birth="1990-12-09",
        payment_type="prepaid",
        credit_limit_amount="0",
    )
    # when
    response = csr_client.post(URL, data)
    # then
    assert response.status_code == 302
    customer = Customer.objects.get(company_name="Hopper Compilers Ltd")
    assert (customer.kind, customer.company_number, customer.date_of_birth) == (
        "business",
        "0123",
        None,
    )
    assert customer.accounts.get().payment_type == "prepaid"
    order = Order.objects.get()
    assert (order.customer, order.plan, order.status) == (customer, prepaid, "draft")


def test_port_in_today_is_quoted_and_connects_with_the_ported_number(csr_client, plan, number, sim):
    # when
    response = csr_client.post(URL, _port_in(plan, sim, TODAY))
    # then: the ported number is on the order; no number of ours is reserved
    order = Order.objects.get()
    assert response.status_code == 302
    assert (order.status, order.msisdn, order.sim) == ("draft", None, sim)
    assert (order.ported_msisdn, order.donor_operator, order.effective_on) == (
        "+447400555111",
        "EE",
        TODAY,
    )
    assert Msisdn.objects.get(pk=number.pk).status == "available"
    assert SimCard.objects.get(pk=sim.pk).status == "reserved"
    page = csr_client.get(response.url).content.decode()
    assert "Number +44 7400 555111 ported in from EE on 10 Apr 2026" in page
    # when: the CSR submits it
    csr_client.post(reverse("orders:order-place", args=[order.public_id]))
    # then
    order.refresh_from_db()
    assert order.status == "completed"
    assert Subscriber.objects.values_list("msisdn", "iccid", "status").get() == (
        "+447400555111",
        sim.iccid,
        "active",
    )


def test_port_in_on_a_later_date_waits_for_that_day(csr_client, plan, sim):
    # given
    port_date = TODAY + dt.timedelta(days=5)
    csr_client.post(URL, _port_in(plan, sim, port_date))
    order = Order.objects.get()
    # when
    response = csr_client.post(reverse("orders:order-place", args=[order.public_id]))
    # then
    order.refresh_from_db()
    assert (order.ported_msisdn, order.donor_operator, order.effective_on) == (
        "+447400555111",
        "EE",
        port_date,
    )
    assert order.status == "submitted"
    assert not Subscriber.objects.exists()
    sim.refresh_from_db()
    assert sim.status == "reserved"
    assert sim.reserved_until >= dt.datetime(2026, 4, 15, 23, tzinfo=dt.UTC)
    page = csr_client.get(response.url).content.decode()
    assert f"Order {order.number} is submitted. It takes effect on 15 Apr 2026." in page


def test_same_form_sent_twice_makes_one_draft(csr_client, plan, number, sim):
    # given
    data = _valid(plan, sim)
    first = csr_client.post(URL, data)
    # when: a double click, or the browser's back button and send again
    second = csr_client.post(URL, data)
    # then
    order = Order.objects.get()
    assert first.url == second.url == reverse("orders:order-detail", args=[order.public_id])
    assert Customer.objects.count() == 1
    assert Account.objects.count() == 1
    assert Msisdn.objects.filter(status="reserved").count() == 1


def _bad_iccid(iccid):
    return iccid[:-1] + str((int(iccid[-1]) + 1) % 10)


BAD_INPUT = [
    # the customer
    ("impossible date", {"date_of_birth": "2023-02-30"}, "date_of_birth", DATE_ERROR),
    (
        "future date of birth",
        {"date_of_birth": "2026-04-11"},
        "date_of_birth",
        "The date of birth is in the future.",
    ),
    ("missing last name", {"last_name": ""}, "last_name", "An individual needs a last name."),
    (
        "business without a company name",
        {"kind": "business", "company_name": ""},
        "company_name",
        "A business needs its registered company name.",
    ),
    ("bad email", {"email": "grace@"}, "email", "Enter a valid email address."),
    ("bad contact phone", {"phone": "12"}, "phone", "is not a valid phone number"),
    (
        "address without a city",
        {"address_city": ""},
        "address_city",
        "The town or city is required.",
    ),
    ("bad country", {"address_country": "ZZ"}, "address_country", "Select a valid choice"),
    # the account
    ("bill cycle day 31", {"bill_cycle_day": "31"}, "bill_cycle_day", "28"),
    (
        "credit limit on prepaid",
        {"payment_type": "prepaid"},
        "credit_limit_amount",
        "A prepaid account has no credit limit.",
    ),
    # the plan
    ("no plan", {"plan": ""}, "plan", "Choose a plan."),
    ("unknown plan", {"plan": "UNKNOWN_PLAN"}, "plan", "That plan is not in the catalog."),
    ("not a plan id", {"plan": "basic"}, "plan", "That plan is not in the catalog."),
    (
        "plan sold only by partners",
        {"plan": "SHOP_PLAN"},
        "plan",
        "is not on sale to individual postpaid customers in the",
    ),
    (
        "prepaid plan on a postpaid account",
        {"plan": "PREPAID_PLAN"},
        "plan",
        "is not on sale to individual postpaid customers",
    ),
    (
        "plan in another currency",
        {"plan": "EUR_PLAN"},
        "plan",
        "is priced in EUR; the account bills in GBP.",
    ),
    # the number
    (
        "no number choice",
        {"msisdn": ""},
        "msisdn",
        "Choose a number, the next standard number, or a port-in.",
    ),
    (
        "no standard number left",
        {"msisdn": "next-standard", "NO_NUMBERS": True},
        "msisdn",
        "No standard number is available.",
    ),
    (
        "port-in without its number",
        {"msisdn": "port-in", "port_msisdn": ""},
        "port_msisdn",
        "Type the number the customer brings.",
    ),
    (
        "port-in without an operator",
        {"msisdn": "port-in", "donor_operator": ""},
        "donor_operator",
        "Choose the operator the number comes from.",
    ),
    (
        "port-in from an unknown operator",
        {"msisdn": "port-in", "donor_operator": "Acme Telecom"},
        "donor_operator",
        "Select a valid choice.",
    ),
    (
        "port-in without a date",
        {"msisdn": "port-in", "port_date": ""},
        "port_date",
        "Choose the day the number moves over.",
    ),
    (
        "port date in the past",
        {"msisdn": "port-in", "port_date": "2026-04-09"},
        "port_date",
        "The port date is in the past.",
    ),
    (
        "port date too far ahead",
        {"msisdn": "port-in", "port_date": "2026-05-11"},
        "port_date",
        "A number is ported within 30 days from today.",
    ),
    (
        "port-in of an invalid number",
        {"msisdn": "port-in", "port_msisdn": "12345"},
        "port_msisdn",
        "is not a valid phone number",
    ),
    (
        "port-in of a foreign number",
        {"msisdn": "port-in", "port_msisdn": "+33 6 12 34 56 78"},
        "port_msisdn",
        "not of the operator's country",
    ),
    (
        "port-in of a live line's number",
        {"msisdn": "port-in", "port_msisdn": "07400 123456"},
        "port_msisdn",
        "This number belongs to another live line.",
    ),
    (
        "port-in of one of our own numbers",
        {"msisdn": "port-in", "port_msisdn": "07500 900001"},
        "port_msisdn",
        "+44 7500 900001 is one of our own numbers",
    ),
    # the SIM
    ("no SIM", {"iccid": ""}, "iccid", "Type or scan the SIM's ICCID."),
    ("ICCID with a wrong check digit", {"iccid": "BAD_CHECK_DIGIT"}, "iccid", "check digit"),
    ("SIM not in stock", {"iccid": "LINE_ICCID"}, "iccid", "is not in stock."),
    (
        "SIM already in a line",
        {"iccid": "ASSIGNED_SIM"},
        "iccid",
        "is assigned; it cannot become reserved.",
    ),
    (
        "SIM reserved by another sale",
        {"iccid": "RESERVED_SIM"},
        "iccid",
        "is reserved; it cannot become reserved.",
    ),
    (
        "SIM allocated to a partner",
        {"iccid": "PARTNER_SIM"},
        "iccid",
        "is allocated to Alpha Phones; only that partner sells it.",
    ),
]


@pytest.mark.parametrize(
    ("_case", "changes", "field", "message"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT]
)
def test_bad_input_is_shown_on_its_field_and_nothing_is_written(
    _case, changes, field, message, csr_client, line, partner_a, plan, number, sim
):
    # given
    changes = dict(changes)
    if changes.pop("NO_NUMBERS", False):
        Msisdn.objects.update(status="assigned")
    stand_ins = {
        "UNKNOWN_PLAN": lambda: str(uuid.uuid4()),
        "SHOP_PLAN": lambda: str(PricePlanFactory(eligible_channels=["partner"]).public_id),
        "PREPAID_PLAN": lambda: str(PricePlanFactory(payment_type="prepaid").public_id),
        "EUR_PLAN": lambda: str(PricePlanFactory(currency="EUR").public_id),
        "BAD_CHECK_DIGIT": lambda: _bad_iccid(sim.iccid),
        "LINE_ICCID": lambda: line.iccid,
        "ASSIGNED_SIM": lambda: SimCardFactory(status="assigned").iccid,
        "RESERVED_SIM": lambda: SimCardFactory(status="reserved", reservation_ref="ORD-X").iccid,
        "PARTNER_SIM": lambda: SimCardFactory(status="allocated", partner=partner_a).iccid,
    }
    changes = {k: stand_ins[v]() if v in stand_ins else v for k, v in changes.items()}
    data = _port_in(plan, sim, TODAY) if changes.get("msisdn") == "port-in" else _valid(plan, sim)
    data.update(changes)
    before = _snapshot()
    # when
    response = csr_client.post(URL, data)
    # then
    assert response.status_code == 200
    errors = _field_errors(response, field)
    assert any(message in error for error in errors), response.context["form"].errors
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    assert "Nothing was saved." in html
    assert _snapshot() == before
    assert not Customer.objects.filter(last_name="Hopper").exists()


def test_every_field_error_is_reported_at_once(csr_client, plan, sim):
    # given
    data = _port_in(plan, sim, TODAY)
    data.update(last_name="", bill_cycle_day="31", plan="", port_msisdn="", iccid="8944")
    # when
    response = csr_client.post(URL, data)
    # then
    errors = response.context["form"].errors
    assert {"last_name", "bill_cycle_day", "plan", "port_msisdn", "iccid"} <= set(errors)
    assert Customer.objects.count() == 0


def test_customer_and_line_problems_found_by_the_services_are_reported_together(
    csr_client, line, plan, sim
):
    # when: a date of birth the service refuses, and a SIM that is not in stock
    response = csr_client.post(URL, _valid(plan, sim, date_of_birth="2026-04-11", iccid=line.iccid))
    # then
    errors = response.context["form"].errors
    assert "The date of birth is in the future." in errors["date_of_birth"]
    assert any("is not in stock" in error for error in errors["iccid"]), errors
    assert list(Customer.objects.all()) == [line.account.customer]  # nobody new


def test_failed_submit_keeps_what_was_typed(csr_client, line, plan, sim):
    # given: a SIM that is not in stock
    data = _port_in(plan, sim, TODAY, iccid=line.iccid)
    # when
    response = csr_client.post(URL, data)
    # then
    html = response.content.decode()
    assert 'value="Grace"' in html
    assert 'value="1 Navy Way"' in html
    assert f'<option value="{plan.public_id}" selected>' in html
    assert 'name="msisdn" value="port-in" checked' in html
    assert 'value="07400 555111"' in html
    assert '<option value="EE" selected>EE</option>' in html
    assert 'value="2026-04-10"' in html
    assert f'value="{line.iccid}"' in html
    assert f'value="{data["quote_token"]}"' in html


def _console_user(*names: str) -> Any:
    user: Any = UserFactory()
    user.user_permissions.add(
        *permissions_from_names(["crm.access_console", "crm.view_any_customer", *names])
    )
    return user


@pytest.mark.parametrize(
    "held",
    [("crm.manage_customer",), ("orders.place_order",)],
    ids=["without orders.place_order", "without crm.manage_customer"],
)
def test_creating_a_customer_needs_both_permissions(client, held, plan, number, sim):
    # given
    client.force_login(_console_user(*held))
    before = _snapshot()
    # when
    page = client.get(URL)
    response = client.post(URL, _valid(plan, sim))
    # then
    assert page.status_code == 403
    assert response.status_code == 403
    assert _snapshot() == before
