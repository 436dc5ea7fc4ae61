"""Opening an account and changing its bill cycle day or credit limit are audited: who, the
exact before and after, and why; a refused change leaves no row."""

from __future__ import annotations

from decimal import Decimal

import pytest

from common.audit import audit_events_for
from common.errors import ApplicationError
from common.models import AuditEvent
from crm.services import account_create, account_update
from crm.tests.factories import AccountFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_account_create_records_what_the_account_was_opened_with(csr):
    # given
    customer = CustomerFactory()
    # when
    account = account_create(
        customer=customer,
        actor=csr,
        payment_type="postpaid",
        bill_cycle_day=15,
        credit_limit_amount="250.00",
    )
    # then
    [event] = audit_events_for(account)
    assert (event.action, event.actor, event.object_repr) == ("created", csr, account.number)
    assert event.changes == {
        "number": [None, account.number],
        "payment_type": [None, "postpaid"],
        "currency": [None, "GBP"],
        "bill_cycle_day": [None, 15],
        "credit_limit_amount": [None, "250"],
        "status": [None, "active"],
    }


def test_account_update_records_the_credit_limit_before_and_after_with_the_reason(supervisor):
    # given
    account = AccountFactory(credit_limit_amount=Decimal("100.0000"), bill_cycle_day=1)
    # when
    account_update(
        account=account,
        actor=supervisor,
        credit_limit_amount="250",
        bill_cycle_day=1,
        reason="Six months paid on time",
    )
    # then
    [event] = audit_events_for(account)
    assert (event.action, event.actor, event.changes, event.reason) == (
        "updated",
        supervisor,
        {"credit_limit_amount": ["100", "250"]},
        "Six months paid on time",
    )


def test_account_update_records_the_bill_cycle_day(csr):
    # given
    account = AccountFactory(bill_cycle_day=1)
    # when
    account_update(account=account, actor=csr, bill_cycle_day=20)
    # then
    [event] = audit_events_for(account)
    assert (event.actor, event.changes, event.reason) == (csr, {"bill_cycle_day": [1, 20]}, "")


def test_account_update_that_changes_nothing_records_nothing(csr):
    # given
    account = AccountFactory(credit_limit_amount=Decimal("100.0000"))
    # when
    account_update(account=account, actor=csr, credit_limit_amount="100.00")
    # then
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [{"bill_cycle_day": 31}, {"credit_limit_amount": "-5"}, {"credit_limit_amount": "lots"}],
    ids=["cycle-31", "negative", "not-a-number"],
)
def test_a_refused_account_update_records_nothing(csr, changes):
    # given
    account = AccountFactory(credit_limit_amount=Decimal("100.0000"))
    # when
    with pytest.raises(ApplicationError):
        account_update(account=account, actor=csr, **changes)
    # then
    assert not AuditEvent.objects.exists()
    account.refresh_from_db()
    assert (account.bill_cycle_day, account.credit_limit_amount) == (1, Decimal("100.0000"))


def test_a_refused_account_create_records_nothing(csr):
    # when
    with pytest.raises(ApplicationError):
        account_create(
            customer=CustomerFactory(),
            actor=csr,
            payment_type="prepaid",
            credit_limit_amount="50",
        )
    # then
    assert not AuditEvent.objects.exists()
