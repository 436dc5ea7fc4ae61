"""Who may open each console page and do each console action; denied requests change nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from crm.models import Account, Customer, Interaction, KycDocument, Subscriber, SubscriberEvent
from orders.inventory.models import Msisdn, SimCard
from orders.models import Order
from orders.tests.factories import PricePlanFactory
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory

ROLES = [
    ("csr", 200),
    ("supervisor", 200),
    ("admin", 403),
    ("reseller_a", 403),
    ("subscriber", 403),
    (None, 302),
]

PAGES: list[tuple[str, Callable[[Any], list[Any]], str]] = [
    ("crm:console-home", lambda line: [], ""),
    ("crm:customer-search", lambda line: [], "?q=Lovelace"),
    ("crm:customer-create", lambda line: [], ""),
    ("crm:customer-detail", lambda line: [line.account.customer.public_id], ""),
    ("crm:customer-edit", lambda line: [line.account.customer.public_id], ""),
    ("crm:account-create", lambda line: [line.account.customer.public_id], ""),
    ("crm:kyc-document-create", lambda line: [line.account.customer.public_id], ""),
]


def _sign_in(client: Any, request: pytest.FixtureRequest, actor: str | None) -> None:
    if actor is not None:
        client.force_login(request.getfixturevalue(actor))


def _assert_sent_to_sign_in(response: Any) -> None:
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login") + "?next=")


@pytest.mark.parametrize(("name", "args", "query"), PAGES, ids=[p[0] for p in PAGES])
@pytest.mark.parametrize(("actor", "status"), ROLES, ids=[r[0] or "anonymous" for r in ROLES])
def test_console_pages_open_only_to_csrs_and_supervisors(
    name, args, query, actor, status, client, request, line
):
    # given
    _sign_in(client, request, actor)
    # when
    response = client.get(reverse(name, args=args(line)) + query)
    # then
    if status == 302:
        _assert_sent_to_sign_in(response)
    else:
        assert response.status_code == status
    if status == 403:
        assert b"Not allowed" in response.content


def _snapshot() -> dict[str, Any]:
    """Everything a console action could write."""
    return {
        "customers": sorted(Customer.objects.values_list("number", "email", "kyc_status")),
        "accounts": Account.objects.count(),
        "lines": sorted(Subscriber.objects.values_list("msisdn", "status")),
        "events": SubscriberEvent.objects.count(),
        "interactions": Interaction.objects.count(),
        "documents": sorted(KycDocument.objects.values_list("document_number", "status")),
        "orders": sorted(Order.objects.values_list("number", "type", "status")),
        "numbers": sorted(Msisdn.objects.values_list("number", "status")),
        "sims": sorted(SimCard.objects.values_list("iccid", "status")),
    }


def _new_customer(line: Any) -> tuple[str, dict[str, Any]]:
    plan: Any = PricePlanFactory()
    MsisdnFactory()
    return reverse("crm:customer-create"), {
        "kind": "individual",
        "first_name": "Grace",
        "last_name": "Hopper",
        "payment_type": "postpaid",
        "currency": "GBP",
        "bill_cycle_day": "1",
        "credit_limit_amount": "0",
        "plan": str(plan.public_id),
        "msisdn": "next-standard",
        "iccid": SimCardFactory().iccid,
    }


def _edit(line: Any) -> tuple[str, dict[str, Any]]:
    customer = line.account.customer
    return reverse("crm:customer-edit", args=[customer.public_id]), {
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": "ada.new@example.org",
    }


def _note(line: Any) -> tuple[str, dict[str, Any]]:
    url = reverse("crm:interaction-create", args=[line.account.customer.public_id])
    return url, {"kind": "call", "direction": "inbound", "body": "Asked about roaming"}


def _suspend(line: Any) -> tuple[str, dict[str, Any]]:
    url = reverse("crm:subscriber-status", args=[line.public_id])
    return url, {"action": "suspend", "reason": "Phone lost"}


def _account(line: Any) -> tuple[str, dict[str, Any]]:
    url = reverse("crm:account-create", args=[line.account.customer.public_id])
    return url, {
        "payment_type": "postpaid",
        "currency": "EUR",
        "bill_cycle_day": "5",
        "credit_limit_amount": "50",
    }


def _kyc(line: Any) -> tuple[str, dict[str, Any]]:
    url = reverse("crm:kyc-document-create", args=[line.account.customer.public_id])
    return url, {"kind": "passport", "document_number": "P1234567"}


WRITES = [
    ("create customer", _new_customer),
    ("edit customer", _edit),
    ("add note", _note),
    ("suspend line", _suspend),
    ("add account", _account),
    ("add KYC document", _kyc),
]


@pytest.mark.parametrize(("_case", "build"), WRITES, ids=[w[0] for w in WRITES])
@pytest.mark.parametrize(("actor", "status"), ROLES, ids=[r[0] or "anonymous" for r in ROLES])
def test_console_writes_only_by_csrs_and_supervisors(
    _case, build, actor, status, client, request, line
):
    # given
    _sign_in(client, request, actor)
    url, data = build(line)
    before = _snapshot()
    # when
    response = client.post(url, data)
    # then
    if status == 200:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert reverse("account_login") not in response.url
        assert _snapshot() != before
    else:
        if status == 302:
            _assert_sent_to_sign_in(response)
        else:
            assert response.status_code == 403
        assert _snapshot() == before


def _review(line: Any) -> tuple[str, dict[str, Any]]:
    document = KycDocument.objects.create(
        customer=line.account.customer, kind="passport", document_number="P7654321"
    )
    return reverse("crm:kyc-document-review", args=[document.public_id]), {"decision": "accept"}


SUPERVISOR_ROLES = [
    ("csr", 403),
    ("supervisor", 302),
    ("admin", 403),
    ("reseller_a", 403),
    ("subscriber", 403),
    (None, 302),
]


@pytest.mark.parametrize(
    ("actor", "status"), SUPERVISOR_ROLES, ids=[r[0] or "anonymous" for r in SUPERVISOR_ROLES]
)
def test_only_supervisors_review_kyc(actor, status, client, request, line):
    # given
    _sign_in(client, request, actor)
    url, data = _review(line)
    before = _snapshot()
    # when
    response = client.post(url, data)
    # then
    if actor == "supervisor":
        assert response.status_code == 302
        assert reverse("account_login") not in response.url
        assert _snapshot() != before
    else:
        if actor is None:
            _assert_sent_to_sign_in(response)
        else:
            assert response.status_code == status
        assert _snapshot() == before


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("crm:customer-detail", "get"),
        ("crm:customer-edit", "get"),
        ("crm:account-create", "get"),
        ("crm:kyc-document-create", "get"),
        ("crm:interaction-create", "post"),
        ("crm:subscriber-status", "post"),
        ("crm:kyc-document-review", "post"),
    ],
)
def test_unknown_uuid_is_not_found(name, method, supervisor_client, line):
    # given
    client = supervisor_client
    before = _snapshot()
    data = {"action": "suspend", "reason": "x", "body": "x", "decision": "accept"}
    # when
    url = reverse(name, args=[uuid.uuid4()])
    response = client.get(url) if method == "get" else client.post(url, data)
    # then
    assert response.status_code == 404
    assert b"Not found" in response.content
    assert _snapshot() == before


@pytest.mark.parametrize(("actor", "status"), ROLES, ids=[r[0] or "anonymous" for r in ROLES])
def test_no_one_terminates_a_line_from_its_row(actor, status, client, request, line):
    # given: terminating is an order (orders:order-terminate), not a status action
    _sign_in(client, request, actor)
    before = _snapshot()
    # when
    response = client.post(
        reverse("crm:subscriber-status", args=[line.public_id]),
        {"action": "terminate", "reason": "Customer asked to close the line"},
    )
    # then
    if status == 200:  # may change a line's status, but not to terminated
        assert response.status_code == 302
        assert response.url.endswith(f"#line-{line.public_id}")
    elif status == 302:
        _assert_sent_to_sign_in(response)
    else:
        assert response.status_code == 403
    assert _snapshot() == before


def test_console_pages_refuse_other_methods(csr_client, line):
    # when
    response = csr_client.post(
        reverse("crm:customer-detail", args=[line.account.customer.public_id])
    )
    # then
    assert response.status_code == 405
