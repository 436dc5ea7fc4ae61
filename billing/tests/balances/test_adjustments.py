"""CSR adjustments: within the limit at once, above it after a supervisor's approval; audited."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.balances.models import BalanceAdjustment, Bucket
from billing.balances.services import balance_adjust, balance_adjustment_decide, ledger_mismatches
from common.errors import ApplicationError, InvalidTransition
from common.models import AuditEvent

pytestmark = pytest.mark.django_db


def _balance(bucket: Bucket) -> Decimal:
    return Bucket.objects.get(pk=bucket.pk).balance


def test_an_adjustment_within_the_limit_is_applied_and_audited(main_bucket, csr):
    # when
    adjustment = balance_adjust(
        bucket=main_bucket, amount="5.00", actor=csr, reason="Dropped call goodwill"
    )
    # then
    assert adjustment.status == "applied"
    assert _balance(main_bucket) == Decimal("15")
    entry = main_bucket.entries.get(kind="adjustment")
    assert (entry.amount, entry.actor, entry.reason) == (
        Decimal("5"),
        csr,
        "Dropped call goodwill",
    )
    event = AuditEvent.objects.get(object_pk=str(adjustment.pk), action="applied")
    assert (event.actor, event.reason) == (csr, "Dropped call goodwill")


def test_an_adjustment_above_the_limit_waits_for_a_supervisor(
    main_bucket, csr, supervisor, settings
):
    # given
    settings.BALANCE_ADJUSTMENT_APPROVAL_LIMITS = {
        **settings.BALANCE_ADJUSTMENT_APPROVAL_LIMITS,
        "money": 20,
    }
    # when
    adjustment = balance_adjust(bucket=main_bucket, amount="25", actor=csr, reason="Refund")
    # then: nothing moved yet
    assert adjustment.status == "pending"
    assert _balance(main_bucket) == Decimal("10")
    # when: a supervisor approves
    decided = balance_adjustment_decide(
        adjustment=adjustment, approve=True, actor=supervisor, reason="Checked the bill"
    )
    # then
    assert (decided.status, decided.decided_by) == ("applied", supervisor)
    assert _balance(main_bucket) == Decimal("35")
    assert AuditEvent.objects.filter(object_pk=str(adjustment.pk), action="approved").exists()
    assert ledger_mismatches() == []


def test_a_supervisor_may_reject_and_then_nothing_moves(main_bucket, csr, supervisor):
    adjustment = balance_adjust(bucket=main_bucket, amount="-500", actor=csr, reason="Fraud")
    decided = balance_adjustment_decide(
        adjustment=adjustment, approve=False, actor=supervisor, reason="Not fraud"
    )
    assert decided.status == "rejected"
    assert _balance(main_bucket) == Decimal("10")
    with pytest.raises(InvalidTransition):
        balance_adjustment_decide(
            adjustment=adjustment, approve=True, actor=supervisor, reason="Changed my mind"
        )
    assert _balance(main_bucket) == Decimal("10")


def test_nobody_approves_their_own_and_a_csr_cannot_approve(main_bucket, csr, supervisor):
    # given: a supervisor above the limit applies at once (they may approve)
    own = balance_adjust(bucket=main_bucket, amount="30", actor=supervisor, reason="Goodwill")
    assert own.status == "applied"
    pending = balance_adjust(bucket=main_bucket, amount="30", actor=csr, reason="Goodwill")
    other_csr_pending = balance_adjust(bucket=main_bucket, amount="31", actor=csr, reason="x")
    # when / then
    with pytest.raises(ApplicationError) as own_request:
        balance_adjustment_decide(adjustment=pending, approve=True, actor=csr, reason="ok")
    assert own_request.value.code == "permission_denied"
    assert BalanceAdjustment.objects.get(pk=other_csr_pending.pk).status == "pending"
    assert _balance(main_bucket) == Decimal("40")


def test_a_debit_adjustment_beyond_the_balance_is_refused_whole(main_bucket, csr):
    with pytest.raises(ApplicationError) as refused:
        balance_adjust(bucket=main_bucket, amount="-11", actor=csr, reason="Correction")
    assert refused.value.code == "insufficient_balance"
    assert not BalanceAdjustment.objects.exists()
    assert _balance(main_bucket) == Decimal("10")


@pytest.mark.parametrize(("amount", "reason"), [("1.234", "Goodwill"), ("1", ""), ("0", "x")])
def test_bad_adjustments_are_refused_and_write_nothing(main_bucket, csr, amount, reason):
    with pytest.raises(ApplicationError):
        balance_adjust(bucket=main_bucket, amount=amount, actor=csr, reason=reason)
    assert not BalanceAdjustment.objects.exists()
    assert main_bucket.entries.count() == 1
