from __future__ import annotations

from decimal import Decimal

import pytest

from common.audit import audit_events_for
from common.models import AuditEvent
from crm.models import Account, Customer
from crm.tests.api.conftest import error, invalid, matrix
from crm.tests.factories import AccountFactory

LIST_URL = "/api/v1/accounts/"


def detail_url(account: Account) -> str:
    return f"/api/v1/accounts/{account.public_id}/"


@pytest.fixture
def accounts(line, other_subscriber, bravo_customer) -> dict[str, Account]:
    """Ada's account (with her line), Olive's and Bob Bravo's."""
    olive = Customer.objects.get(owner=other_subscriber)
    return {
        "ada": line.account,
        "olive": AccountFactory(
            customer=olive, payment_type="prepaid", currency="EUR", credit_limit_amount=Decimal("0")
        ),
        "bravo": AccountFactory(customer=bravo_customer, status="suspended"),
    }


# --- list -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    matrix(
        csr=200,
        supervisor=200,
        admin=200,
        reseller_a=200,
        reseller_b=200,
        subscriber=200,
        other_subscriber=200,
        anonymous=401,
        key_full=200,
        key_without=200,
    ),
)
def test_account_list_shows_each_persona_only_their_own(persona, status, api_as, accounts):
    # given
    everyone = {"ada", "olive", "bravo"}
    visible = {
        "csr": everyone,
        "supervisor": everyone,
        "admin": everyone,
        "key_full": everyone,
        "reseller_a": {"ada"},
        "reseller_b": {"bravo"},
        "subscriber": {"ada"},
        "other_subscriber": {"olive"},
        "key_without": set(),
    }
    # when
    response = api_as(persona).get(LIST_URL)
    # then
    assert response.status_code == status
    if status == 200:
        numbers = {row["number"] for row in response.json()["results"]}
        assert numbers == {accounts[name].number for name in visible[persona]}


def test_account_list_carries_money_as_strings_beside_the_currency(api_as, accounts):
    # when
    response = api_as("csr").get(LIST_URL, {"number": accounts["ada"].number})
    # then
    (row,) = response.json()["results"]
    customer = accounts["ada"].customer
    assert row == {
        "public_id": str(accounts["ada"].public_id),
        "number": accounts["ada"].number,
        "customer": {
            "public_id": str(customer.public_id),
            "number": customer.number,
            "display_name": "Ada Lovelace",
        },
        "payment_type": "postpaid",
        "currency": "GBP",
        "bill_cycle_day": 1,
        "credit_limit": {"amount": "100.00", "currency": "GBP"},
        "status": "active",
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"payment_type": "prepaid"}, {"olive"}),
        ({"status": "suspended"}, {"bravo"}),
        ({"currency": "eur"}, {"olive"}),
        ({"currency": "GBP"}, {"ada", "bravo"}),
        ({"number": "acc-does-not-exist"}, set()),
    ],
)
def test_account_list_filters(query, expected, api_as, accounts):
    # when
    response = api_as("csr").get(LIST_URL, query)
    # then
    assert response.status_code == 200
    assert {r["number"] for r in response.json()["results"]} == {
        accounts[name].number for name in expected
    }


def test_account_list_filters_by_customer_and_number(api_as, accounts):
    # given
    client = api_as("csr")
    bravo = accounts["bravo"]
    # when
    by_customer = client.get(LIST_URL, {"customer": str(bravo.customer.public_id)})
    by_number = client.get(LIST_URL, {"number": bravo.number.lower()})
    # then
    assert [r["number"] for r in by_customer.json()["results"]] == [bravo.number]
    assert [r["number"] for r in by_number.json()["results"]] == [bravo.number]


def test_account_list_refuses_a_malformed_customer_filter(api_as, accounts):
    # when
    response = api_as("csr").get(LIST_URL, {"customer": "ada"})
    # then
    assert response.status_code == 400
    assert response.json() == invalid(customer=["Enter a valid UUID."])


# --- detail -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    matrix(
        csr=200,
        supervisor=200,
        admin=200,
        reseller_a=200,
        reseller_b=404,
        subscriber=200,
        other_subscriber=404,
        anonymous=401,
        key_full=200,
        key_without=404,
    ),
)
def test_account_detail_is_scoped(persona, status, api_as, line):
    # when
    response = api_as(persona).get(detail_url(line.account))
    # then
    assert response.status_code == status
    if status == 200:
        assert response.json()["subscribers"] == [
            {"public_id": str(line.public_id), "msisdn": "+447400123456", "status": "active"}
        ]


# --- create -----------------------------------------------------------------------------------


def _new_account(owner: Customer, **changes) -> dict:
    return {
        "customer": str(owner.public_id),
        "payment_type": "postpaid",
        "currency": "GBP",
        "bill_cycle_day": 15,
        "credit_limit": {"amount": "250.00", "currency": "GBP"},
        **changes,
    }


@pytest.mark.parametrize(
    ("persona", "status"),
    matrix(
        csr=201,
        supervisor=201,
        admin=201,
        reseller_a=403,
        reseller_b=403,
        subscriber=403,
        other_subscriber=403,
        anonymous=401,
        key_full=201,
        key_without=403,
    ),
)
def test_account_create_needs_manage_customer(persona, status, api_as, customer):
    # when
    response = api_as(persona).post(LIST_URL, _new_account(customer), format="json")
    # then
    assert response.status_code == status
    assert customer.accounts.exists() is (status == 201)
    assert AuditEvent.objects.filter(action="created").exists() is (status == 201)


def test_account_create_answers_the_new_account(api_as, customer):
    # when
    response = api_as("csr").post(LIST_URL, _new_account(customer), format="json")
    # then
    body = response.json()
    account = Account.objects.get(public_id=body["public_id"])
    assert account.customer == customer
    assert (account.bill_cycle_day, account.credit_limit_amount) == (15, Decimal("250.0000"))
    assert body["number"] == account.number
    assert account.number.startswith("ACC-")
    assert body["credit_limit"] == {"amount": "250.00", "currency": "GBP"}
    assert body["subscribers"] == []


def test_account_create_takes_the_credit_limit_currency_when_none_is_given(api_as, customer):
    # given
    payload = _new_account(customer, credit_limit={"amount": "10", "currency": "EUR"})
    del payload["currency"]
    # when
    response = api_as("csr").post(LIST_URL, payload, format="json")
    # then
    assert response.status_code == 201
    assert response.json()["credit_limit"] == {"amount": "10.00", "currency": "EUR"}
    assert customer.accounts.get().currency == "EUR"


# 400: the body does not match the published schema; 422: it does, but a rule refuses it.
AMOUNT_SHAPE = (
    "Write the amount as a string of digits with an optional point and up to 4 decimal "
    'places, e.g. "12.50".'
)


@pytest.mark.parametrize(
    ("changes", "status", "fields"),
    [
        (
            {"payment_type": "prepaid", "credit_limit": {"amount": "50.00", "currency": "GBP"}},
            422,
            {"credit_limit": ["A prepaid account has no credit limit."]},
        ),
        (
            {"currency": "XYZ", "credit_limit": {"amount": "50.00", "currency": "XYZ"}},
            400,
            {
                "currency": ["XYZ is not a currency the operator bills in."],
                "credit_limit.currency": ["XYZ is not a currency the operator bills in."],
            },
        ),
        (
            {"currency": "gbp"},
            400,
            {"currency": ["gbp is not a currency the operator bills in."]},
        ),
        (
            {"bill_cycle_day": 31},
            400,
            {"bill_cycle_day": ["The bill cycle day is between 1 and 28."]},
        ),
        (
            {"bill_cycle_day": 0},
            400,
            {"bill_cycle_day": ["The bill cycle day is between 1 and 28."]},
        ),
        (
            {"credit_limit": {"amount": "-5.00", "currency": "GBP"}},
            400,
            {"credit_limit.amount": [AMOUNT_SHAPE]},
        ),
        (
            {"credit_limit": {"amount": "50.00", "currency": "EUR"}},
            422,
            {"credit_limit": ["Give the credit limit in GBP."]},
        ),
        (
            {"credit_limit": {"amount": "lots", "currency": "GBP"}},
            400,
            {"credit_limit.amount": [AMOUNT_SHAPE]},
        ),
        (
            {"credit_limit": {"amount": "1.00001", "currency": "GBP"}},
            400,
            {"credit_limit.amount": [AMOUNT_SHAPE]},
        ),
        (
            {"credit_limit": {"amount": 50, "currency": "GBP"}},
            400,
            {"credit_limit.amount": [AMOUNT_SHAPE]},
        ),
        (
            {"credit_limit": {"amount": "1_000", "currency": "GBP"}},
            400,
            {"credit_limit.amount": [AMOUNT_SHAPE]},
        ),
        (
            {"credit_limit": {"amount": " 10 ", "currency": "GBP"}},
            400,
            {"credit_limit.amount": [AMOUNT_SHAPE]},
        ),
        (
            {"credit_limit": {"amount": "\u0661\u0660", "currency": "GBP"}},
            400,
            {"credit_limit.amount": [AMOUNT_SHAPE]},
        ),
        (
            {"credit_limit": {"amount": "", "currency": "GBP"}},
            400,
            {"credit_limit.amount": [AMOUNT_SHAPE]},
        ),
        (
            {"credit_limit": {"amount": "1.00", "currency": "£"}},
            400,
            {"credit_limit.currency": ["£ is not a currency the operator bills in."]},
        ),
        ({"payment_type": "credit"}, 400, {"payment_type": ['"credit" is not a valid choice.']}),
        (
            {"customer": "00000000-0000-4000-8000-000000000000"},
            422,
            {"customer": ["There is no customer with this id."]},
        ),
        ({"customer": "ada"}, 400, {"customer": ["Must be a valid UUID."]}),
    ],
    ids=[
        "prepaid-limit",
        "currency",
        "currency-lower-case",
        "cycle-31",
        "cycle-0",
        "negative",
        "limit-currency",
        "amount-not-number",
        "amount-precision",
        "amount-json-number",
        "amount-underscore",
        "amount-spaces",
        "amount-arabic-indic-digits",
        "amount-empty",
        "currency-pattern",
        "payment-type",
        "unknown-customer",
        "malformed-customer",
    ],
)
def test_account_create_refuses_bad_input_and_writes_nothing(
    changes, status, fields, api_as, customer
):
    # when
    response = api_as("csr").post(LIST_URL, _new_account(customer, **changes), format="json")
    # then
    assert response.status_code == status
    assert response.json() == invalid(**fields)
    assert not Account.objects.exists()
    assert not AuditEvent.objects.exists()


def test_account_create_for_a_customer_the_caller_cannot_see_is_refused_as_unknown(
    api_as, issue_key, customer
):
    # given: a key that may create but not see other people's customers
    client = api_as("anonymous")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {issue_key('crm.manage_customer')}")
    # when
    response = client.post(LIST_URL, _new_account(customer), format="json")
    # then
    assert response.status_code == 422
    assert response.json() == invalid(customer=["There is no customer with this id."])
    assert not Account.objects.exists()


# --- update -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    matrix(
        csr=200,
        supervisor=200,
        admin=200,
        reseller_a=403,
        reseller_b=404,
        subscriber=403,
        other_subscriber=404,
        anonymous=401,
        key_full=200,
        key_without=404,
    ),
)
def test_account_update_fetches_in_scope_before_checking_the_permission(
    persona, status, api_as, line
):
    # given
    account = line.account
    payload = {"bill_cycle_day": 20, "credit_limit": {"amount": "500", "currency": "GBP"}}
    # when
    response = api_as(persona).patch(detail_url(account), payload, format="json")
    # then
    assert response.status_code == status
    account.refresh_from_db()
    changed = status == 200
    assert account.bill_cycle_day == (20 if changed else 1)
    assert account.credit_limit_amount == Decimal("500.0000" if changed else "100.0000")
    assert AuditEvent.objects.filter(action="updated").exists() is changed
    if status == 403:
        assert response.json() == error(
            "Your role or API key may not do this.", "permission_denied"
        )
    if status == 404:
        assert response.json() == error("Not found.", "not_found")


def test_account_update_answers_the_changed_account(api_as, line):
    # when
    response = api_as("csr").patch(
        detail_url(line.account),
        {"credit_limit": {"amount": "75.5", "currency": "GBP"}},
        format="json",
    )
    # then
    assert response.status_code == 200
    assert response.json()["credit_limit"] == {"amount": "75.50", "currency": "GBP"}
    assert response.json()["bill_cycle_day"] == 1


@pytest.mark.parametrize(
    ("payload", "status", "fields"),
    [
        (
            {"bill_cycle_day": 31},
            400,
            {"bill_cycle_day": ["The bill cycle day is between 1 and 28."]},
        ),
        (
            {"credit_limit": {"amount": "-1", "currency": "GBP"}},
            400,
            {"credit_limit.amount": [AMOUNT_SHAPE]},
        ),
        (
            {"credit_limit": {"amount": "50", "currency": "USD"}},
            422,
            {"credit_limit": ["Give the credit limit in GBP."]},
        ),
        ({"bill_cycle_day": "soon"}, 400, {"bill_cycle_day": ["A valid integer is required."]}),
    ],
    ids=["cycle-31", "negative", "currency", "cycle-not-number"],
)
def test_account_update_refuses_bad_input_and_changes_nothing(
    payload, status, fields, api_as, line
):
    # when
    response = api_as("csr").patch(detail_url(line.account), payload, format="json")
    # then
    assert response.status_code == status
    assert response.json() == invalid(**fields)
    line.account.refresh_from_db()
    assert (line.account.bill_cycle_day, line.account.credit_limit_amount) == (
        1,
        Decimal("100.0000"),
    )
    assert not AuditEvent.objects.exists()


def test_account_update_is_audited_with_the_caller_the_change_and_the_reason(
    api_as, line, supervisor
):
    # when
    response = api_as("supervisor").patch(
        detail_url(line.account),
        {"credit_limit": {"amount": "250", "currency": "GBP"}, "reason": "Six months paid on time"},
        format="json",
    )
    # then
    assert response.status_code == 200
    [event] = audit_events_for(line.account)
    assert (event.action, event.actor, event.changes, event.reason) == (
        "updated",
        supervisor,
        {"credit_limit_amount": ["100", "250"]},
        "Six months paid on time",
    )


def test_account_update_refuses_a_credit_limit_on_a_prepaid_account(api_as, accounts):
    # given
    olive = accounts["olive"]
    # when
    response = api_as("csr").patch(
        detail_url(olive), {"credit_limit": {"amount": "20", "currency": "EUR"}}, format="json"
    )
    # then
    assert response.status_code == 422
    assert response.json() == invalid(credit_limit=["A prepaid account has no credit limit."])
    olive.refresh_from_db()
    assert olive.credit_limit_amount == Decimal("0")
